/* ethtx.h — Ethereum transactions: building, signing (recoverable ECDSA over secp256k1),
 * the transaction hash, and recovering the sender from a signed transaction's fields.
 *
 * Two kinds, enough for anchoring (docs/PROTOCOL.md §15) on public Ethereum and on
 * consortium chains that speak its JSON-RPC:
 *   - legacy with EIP-155 replay protection (type 0):
 *       signing hash = Keccak-256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]))
 *       signed       = rlp([nonce, gasPrice, gas, to, value, data, v, r, s]),
 *                      v = chainId * 2 + 35 + y parity
 *     (chain id 0 means a pre-EIP-155 transaction: no chain fields, v = 27 + y parity);
 *   - EIP-1559 (type 2):
 *       signing hash = Keccak-256(0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
 *                      maxFeePerGas, gas, to, value, data, accessList]))
 *       signed       = 0x02 || rlp([... the same 9 fields, yParity, r, s]).
 * The transaction hash is Keccak-256 of the signed bytes. The access list is always
 * empty here: a transaction with entries in it cannot be represented (and is refused).
 *
 * Signatures are deterministic (RFC 6979) and low-S, as Ethereum requires since EIP-2;
 * recovery refuses high-S signatures. One secp256k1 signing context is created on first
 * use and owned here. Functions return 1 on success and 0 on failure; no allocation. */
#ifndef WN_ETHTX_H
#define WN_ETHTX_H

#include <stddef.h>
#include <stdint.h>

#include "chain/keccak.h"

#define WN_ETHTX_DATA_MAX 1024 /* largest data field handled */
#define WN_ETHTX_MAX (WN_ETHTX_DATA_MAX + 256) /* largest encoding (signed or unsigned) */

enum wn_ethtx_type { WN_ETHTX_LEGACY = 0, WN_ETHTX_EIP1559 = 2 };

typedef struct {
    int type;                  /* enum wn_ethtx_type */
    uint64_t chain_id;         /* legacy: 0 = no EIP-155 */
    uint64_t nonce;
    uint64_t gas_price;        /* legacy only */
    uint64_t max_priority_fee; /* EIP-1559: maxPriorityFeePerGas */
    uint64_t max_fee;          /* EIP-1559: maxFeePerGas */
    uint64_t gas_limit;
    int has_to;                /* 0: contract creation (empty `to`) */
    uint8_t to[WN_ETH_ADDR_LEN];
    uint8_t value[32];         /* wei, big-endian */
    const uint8_t *data;       /* data_len bytes (may be NULL when 0), not owned */
    size_t data_len;           /* <= WN_ETHTX_DATA_MAX */
} wn_ethtx;

typedef struct {
    uint8_t r[32], s[32];
    unsigned y_parity; /* 0 or 1: the recovery id */
} wn_ethsig;

/* Out: hash, the Keccak-256 the sender signs. Returns: 0 for an unsupported type or
 * data longer than WN_ETHTX_DATA_MAX. */
int wn_ethtx_signing_hash(const wn_ethtx *tx, uint8_t hash[WN_KECCAK_LEN]) __attribute__((warn_unused_result));

/* Signs tx with seckey. Out: *sig. Returns: 0 for an invalid key or transaction. */
int wn_ethtx_sign(const wn_ethtx *tx, const uint8_t seckey[WN_SECKEY_LEN], wn_ethsig *sig)
    __attribute__((warn_unused_result));

/* Writes the signed transaction (what eth_sendRawTransaction takes) into out[0..cap).
 * Out: *len, and hash (may be NULL), the transaction hash. Returns: 1 on success. */
int wn_ethtx_encode_signed(const wn_ethtx *tx, const wn_ethsig *sig, uint8_t *out, size_t cap, size_t *len,
                           uint8_t hash[WN_KECCAK_LEN]) __attribute__((warn_unused_result));

/* The sender of a signed transaction: recovers the public key from the signing hash and
 * (r, s, y parity) and derives its address. Returns: 1 if the signature is valid (r and s
 * in range, s low) and a key was recovered. */
int wn_ethtx_recover(const wn_ethtx *tx, const wn_ethsig *sig, uint8_t from[WN_ETH_ADDR_LEN]) WN_WARN_UNUSED;

/* Splits a legacy transaction's v into chain id (0 for v = 27/28) and y parity.
 * Returns: 0 for a v that is neither 27/28 nor >= 35. */
int wn_ethtx_legacy_v(uint64_t v, uint64_t *chain_id, unsigned *y_parity) __attribute__((warn_unused_result));

#endif
