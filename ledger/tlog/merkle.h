/* merkle.h — RFC 6962 / RFC 9162 Merkle tree math as pure functions.
 *
 * The shape follows Go's golang.org/x/mod/sumdb/tlog: the tree is never held in memory;
 * a store keeps the hash of every *complete* subtree (level L, index K covers leaves
 * [K*2^L, (K+1)*2^L)), and these functions read the few they need through a callback.
 * A root, an inclusion proof or a consistency proof needs O(log n) reads. The ledger,
 * the CLI and the tests all use this one implementation; it knows nothing of LMDB.
 *
 * Hashing (RFC 6962 §2.1): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r),
 * empty tree = SHA-256(""). Proof element order is RFC 6962's: from the leaf's sibling
 * up to the root's child. */
#ifndef WN_MERKLE_H
#define WN_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h" /* WN_WARN_UNUSED */

#define WN_MERKLE_MAX_PROOF 64 /* enough for any tree of < 2^63 leaves (consistency: 2*log) */

/* Reads the stored hash of complete subtree (level, index) into out.
 * Returns: 1 on success, 0 if it cannot (missing or I/O error). */
typedef int (*wn_hash_reader)(void *ctx, unsigned level, uint64_t index, uint8_t out[32]);

void wn_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len);
void wn_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);
void wn_merkle_empty_root(uint8_t out[32]);

/* Hashes that become complete when leaf number n (0-based) with hash leaf is appended:
 * out[0] = leaf, out[L] = subtree (L, n >> L) for L = 1 .. trailing ones of n.
 * Earlier hashes are read through rd. Returns: the count written (1..64), 0 on read error. */
unsigned wn_merkle_append_hashes(uint8_t out[][32], uint64_t n, const uint8_t leaf[32],
                                 wn_hash_reader rd, void *ctx) WN_WARN_UNUSED;

/* Number of hashes stored for leaf n: 1 + trailing ones of n. */
unsigned wn_merkle_hashes_at(uint64_t n);

/* Root of the tree of the first size leaves (size 0: the empty root). Returns: 1 on success. */
int wn_merkle_root(uint8_t root[32], uint64_t size, wn_hash_reader rd, void *ctx) WN_WARN_UNUSED;

/* Inclusion proof for leaf index in the tree of size leaves.
 * Out: proof[0..*len). Returns: 1 on success; 0 if index >= size or a read failed. */
int wn_merkle_prove_inclusion(uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len, uint64_t index,
                              uint64_t size, wn_hash_reader rd, void *ctx) WN_WARN_UNUSED;

/* Consistency proof from size m to size n (0 < m <= n; m == n gives an empty proof).
 * Returns: 1 on success; 0 for bad sizes or a failed read. */
int wn_merkle_prove_consistency(uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len, uint64_t m,
                                uint64_t n, wn_hash_reader rd, void *ctx) WN_WARN_UNUSED;

/* RFC 9162 §2.1.3.2. Returns: 1 if proof shows leaf at index in the tree of size with root. */
int wn_merkle_verify_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                               const uint8_t (*proof)[32], size_t len, const uint8_t root[32]) WN_WARN_UNUSED;

/* RFC 9162 §2.1.4.2. Returns: 1 if proof shows the tree (m, root1) is a prefix of (n, root2).
 * m == n requires an empty proof and equal roots; m == 0 or m > n is rejected. */
int wn_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t (*proof)[32], size_t len,
                                 const uint8_t root1[32], const uint8_t root2[32]) WN_WARN_UNUSED;

/* An in-memory store of complete-subtree hashes (for verifiers that rebuild a tree, and
 * tests). Grows as leaves are appended; wn_merkle_mem_read is its wn_hash_reader. */
typedef struct {
    uint8_t (*level[64])[32]; /* level[L][K] = hash of subtree (L, K) */
    uint64_t cap[64];
    uint64_t size;            /* leaves appended */
} wn_merkle_mem;

void wn_merkle_mem_init(wn_merkle_mem *m);
void wn_merkle_mem_free(wn_merkle_mem *m);
/* Appends one leaf hash. Returns: 1 on success, 0 if out of memory. */
int wn_merkle_mem_append(wn_merkle_mem *m, const uint8_t leaf[32]) WN_WARN_UNUSED;
int wn_merkle_mem_read(void *mem, unsigned level, uint64_t index, uint8_t out[32]);

#endif
