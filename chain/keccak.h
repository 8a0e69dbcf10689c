/* keccak.h — Keccak-256 as Ethereum uses it, and Ethereum addresses.
 *
 * Ethereum hashes with the original Keccak submission (padding byte 0x01), not NIST SHA-3
 * (padding 0x06): the two differ in every output. nettle 3.8 only offers SHA-3, so this
 * module drives nettle's Keccak-f[1600] permutation (sha3_permute) itself with rate 136
 * bytes and Keccak padding. Known answer: Keccak-256("") =
 * c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
 *
 * An Ethereum address is the last 20 bytes of Keccak-256 of the 64-byte uncompressed
 * public key without its 0x04 prefix. Addresses are written as "0x" and 40 hex digits in
 * the EIP-55 mixed-case checksum spelling; readers take all-lowercase, all-uppercase or a
 * correct EIP-55 spelling and refuse a mixed case whose checksum is wrong.
 *
 * Functions return 1 on success and 0 on failure; no allocation. */
#ifndef WN_KECCAK_H
#define WN_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_KECCAK_LEN 32
#define WN_ETH_ADDR_LEN 20
#define WN_ETH_ADDR_TEXT 43 /* "0x" + 40 hex + NUL */

/* Incremental Keccak-256. */
typedef struct {
    uint64_t a[25];
    uint8_t buf[136];
    size_t n; /* bytes in buf */
} wn_keccak_ctx;

void wn_keccak256_init(wn_keccak_ctx *c);
void wn_keccak256_update(wn_keccak_ctx *c, const void *data, size_t len);
/* Out: out, the digest; c must be initialised again before reuse. */
void wn_keccak256_final(wn_keccak_ctx *c, uint8_t out[WN_KECCAK_LEN]);

/* One-shot Keccak-256 of data[0..len). */
void wn_keccak256(uint8_t out[WN_KECCAK_LEN], const void *data, size_t len);

/* Address of a public key given as 64 bytes x || y (the uncompressed key without 0x04). */
void wn_eth_address_of_pub64(uint8_t addr[WN_ETH_ADDR_LEN], const uint8_t pub64[64]);

/* Address of a secret key. Returns: 1; 0 for an invalid secret key. */
int wn_eth_address_of_seckey(uint8_t addr[WN_ETH_ADDR_LEN], const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Writes the EIP-55 checksummed text "0x..." (42 characters and a NUL). */
void wn_eth_address_format(char out[WN_ETH_ADDR_TEXT], const uint8_t addr[WN_ETH_ADDR_LEN]);

/* Parses "0x" + 40 hex digits (the "0x" is optional): all lowercase, all uppercase, or
 * mixed case with a valid EIP-55 checksum. Returns: 1 on success. */
int wn_eth_address_parse(uint8_t addr[WN_ETH_ADDR_LEN], const char *text) WN_WARN_UNUSED;

#endif
