/* port.h — what the freestanding meter core (device/core/) needs from the board it runs
 * on, as one table of function pointers the port fills: flash pages (read, erase,
 * program), a clock, entropy, SHA-256, and a signer (the key handle: a software key or a
 * secure element). The core calls nothing else: no libc beyond memcpy/memset/memcmp, no
 * heap, no POSIX, no OpenSSL. Ports: device/port/posix/ (a file stands in for flash;
 * tests and host tools) and device/port/mps2/ (the firmware for QEMU's mps2-an385).
 * docs/FIRMWARE.md describes each hook and its rules.
 *
 * Every hook returns 1 on success and 0 on failure unless it says otherwise. */
#ifndef WN_CORE_PORT_H
#define WN_CORE_PORT_H

#include <stddef.h>
#include <stdint.h>

/* One piece of a message hashed in pieces (no copy into one buffer). */
typedef struct {
    const void *p;
    size_t n;
} wn_port_buf;

/* The key handle. The secret key never leaves it: the core asks it for the public key
 * and for signatures of 32-byte digests (PROTOCOL §1: the tagged hash of a reading). */
typedef struct {
    void *ctx;
    uint8_t alg; /* PROTOCOL §1 algorithm code: 1 BIP-340, 2 ECDSA-secp256k1, 3 P-256, 4 SM2 */
    /* Out: id32 the meter id, pub33 the compressed public key (what an enrolment holds). */
    int (*pubkey)(void *ctx, uint8_t id32[32], uint8_t pub33[33]);
    /* Signs digest32 (the tagged hash) with the meter key. Out: sig64. */
    int (*sign)(void *ctx, const uint8_t digest32[32], uint8_t sig64[64]);
    /* Verifies sig64 over digest32 with the meter's own key (a fault during signing must
     * not put a bad signature into the chain for good). */
    int (*verify_own)(void *ctx, const uint8_t digest32[32], const uint8_t sig64[64]);
} wn_port_signer;

typedef struct {
    void *ctx;

    /* Flash: page_count pages of page_size bytes, addresses 0 .. page_count*page_size.
     * Erase sets a page to 0xff; program writes bytes that are 0xff since the last erase,
     * at an address and length that are multiples of prog_align (a power of two, 1..64;
     * 8 on STM32L4's double-word flash). A power cut may leave an erase or a program
     * partly done: the core's log is built for that (docs/FIRMWARE.md). */
    uint32_t page_size, page_count, prog_align;
    int (*flash_read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
    int (*flash_erase)(void *ctx, uint32_t page);
    int (*flash_program)(void *ctx, uint32_t addr, const void *buf, uint32_t len);

    /* Wall clock in ms since the Unix epoch; 0 when the port has no synchronised time. */
    uint64_t (*now_ms)(void *ctx);

    /* Fills out with n unpredictable bytes (key generation, BIP-340 auxiliary input). */
    int (*entropy)(void *ctx, uint8_t *out, size_t n);

    /* out = SHA-256 of the concatenation of parts[0..nparts). Cannot fail. */
    void (*sha256)(void *ctx, uint8_t out[32], const wn_port_buf *parts, size_t nparts);

    /* Verifies a BIP-340 signature (receipts: the notary's key). Returns 1 if valid. */
    int (*verify_bip340)(void *ctx, const uint8_t sig64[64], const uint8_t msg32[32], const uint8_t xonly32[32]);

    const wn_port_signer *signer;
} wn_port;

#endif
