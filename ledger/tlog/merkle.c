/* merkle.c — RFC 6962 tree hashes and proofs over a store of complete-subtree hashes.
 * See merkle.h for the model. Proof building follows RFC 6962 §2.1.1/§2.1.2 (PATH and
 * SUBPROOF); verification follows RFC 9162 §2.1.3.2/§2.1.4.2 literally. */
#include "ledger/tlog/merkle.h"
#include "crypto/sha256.h"

#include <stdlib.h>
#include <string.h>

void wn_merkle_leaf_hash(uint8_t out[32], const void *data, size_t len)
{
    static const uint8_t zero = 0x00;
    wn_sha256_2(out, &zero, 1, data, len);
}

void wn_merkle_node_hash(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    uint8_t buf[65];
    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    wn_sha256(out, buf, sizeof buf);
}

void wn_merkle_empty_root(uint8_t out[32]) { wn_sha256(out, "", 0); }

unsigned wn_merkle_hashes_at(uint64_t n)
{
    unsigned c = 1;
    while (n & 1) { c++; n >>= 1; }
    return c;
}

unsigned wn_merkle_append_hashes(uint8_t out[][32], uint64_t n, const uint8_t leaf[32],
                                 wn_hash_reader rd, void *ctx)
{
    unsigned count = wn_merkle_hashes_at(n);
    memcpy(out[0], leaf, 32);
    for (unsigned l = 1; l < count; l++) {
        uint8_t left[32];
        if (!rd(ctx, l - 1, (n >> (l - 1)) - 1, left)) return 0;
        wn_merkle_node_hash(out[l], left, out[l - 1]);
    }
    return count;
}

/* Largest power of two strictly less than n (n >= 2). Written as k < n - k, not 2k < n,
 * so that sizes above 2^63 cannot overflow k to 0 and loop forever. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) k <<= 1;
    return k;
}

static int is_pow2(uint64_t n) { return n && !(n & (n - 1)); }

static unsigned log2_exact(uint64_t n)
{
    unsigned l = 0;
    while (n > 1) { n >>= 1; l++; }
    return l;
}

/* Hash of leaves [lo, lo+n), where lo is a multiple of the largest power of two <= n
 * (true of every range the RFC 6962 recursion visits). Reads popcount(n) hashes. */
static int range_hash(uint8_t out[32], uint64_t lo, uint64_t n, wn_hash_reader rd, void *ctx)
{
    if (is_pow2(n)) {
        unsigned l = log2_exact(n);
        return rd(ctx, l, lo >> l, out);
    }
    uint64_t k = split_point(n);
    uint8_t left[32], right[32];
    if (!range_hash(left, lo, k, rd, ctx) || !range_hash(right, lo + k, n - k, rd, ctx)) return 0;
    wn_merkle_node_hash(out, left, right);
    return 1;
}

int wn_merkle_root(uint8_t root[32], uint64_t size, wn_hash_reader rd, void *ctx)
{
    if (size == 0) { wn_merkle_empty_root(root); return 1; }
    return range_hash(root, 0, size, rd, ctx);
}

int wn_merkle_prove_inclusion(uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len, uint64_t index,
                              uint64_t size, wn_hash_reader rd, void *ctx)
{
    /* Walk down from the root, collecting siblings top-down, then reverse. */
    uint8_t tmp[WN_MERKLE_MAX_PROOF][32];
    size_t n = 0;
    uint64_t lo = 0, sz = size;
    if (index >= size) return 0;
    while (sz > 1) {
        uint64_t k = split_point(sz);
        if (index - lo < k) {
            if (!range_hash(tmp[n++], lo + k, sz - k, rd, ctx)) return 0;
            sz = k;
        } else {
            if (!range_hash(tmp[n++], lo, k, rd, ctx)) return 0;
            lo += k;
            sz -= k;
        }
    }
    for (size_t i = 0; i < n; i++) memcpy(proof[i], tmp[n - 1 - i], 32);
    *len = n;
    return 1;
}

int wn_merkle_prove_consistency(uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len, uint64_t m,
                                uint64_t n, wn_hash_reader rd, void *ctx)
{
    uint8_t tmp[WN_MERKLE_MAX_PROOF][32];
    size_t cnt = 0;
    uint64_t lo = 0, sz = n;
    int whole = 1; /* SUBPROOF's b: the old tree is the whole current subtree */
    if (m == 0 || m > n) return 0;
    while (m != sz) {
        uint64_t k = split_point(sz);
        if (cnt + 2 > WN_MERKLE_MAX_PROOF) return 0; /* only above 2^63 leaves: refuse, never overflow */
        if (m <= k) {
            if (!range_hash(tmp[cnt++], lo + k, sz - k, rd, ctx)) return 0;
            sz = k;
        } else {
            if (!range_hash(tmp[cnt++], lo, k, rd, ctx)) return 0;
            lo += k;
            sz -= k;
            m -= k;
            whole = 0;
        }
    }
    if (!whole && !range_hash(tmp[cnt++], lo, sz, rd, ctx)) return 0;
    for (size_t i = 0; i < cnt; i++) memcpy(proof[i], tmp[cnt - 1 - i], 32);
    *len = cnt;
    return 1;
}

int wn_merkle_verify_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                               const uint8_t (*proof)[32], size_t len, const uint8_t root[32])
{
    if (index >= size) return 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            wn_merkle_node_hash(r, proof[i], r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            wn_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

int wn_merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t (*proof)[32], size_t len,
                                 const uint8_t root1[32], const uint8_t root2[32])
{
    if (m == 0 || m > n) return 0;
    if (m == n) return len == 0 && memcmp(root1, root2, 32) == 0;
    if (len == 0) return 0;
    /* If m is a power of two the old root is itself the first element of the path. */
    const uint8_t *first = is_pow2(m) ? root1 : proof[0];
    size_t i = is_pow2(m) ? 0 : 1;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) { fn >>= 1; sn >>= 1; }
    uint8_t fr[32], sr[32];
    memcpy(fr, first, 32);
    memcpy(sr, first, 32);
    for (; i < len; i++) {
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            wn_merkle_node_hash(fr, proof[i], fr);
            wn_merkle_node_hash(sr, proof[i], sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            wn_merkle_node_hash(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root1, 32) == 0 && memcmp(sr, root2, 32) == 0;
}

void wn_merkle_mem_init(wn_merkle_mem *m) { memset(m, 0, sizeof *m); }

void wn_merkle_mem_free(wn_merkle_mem *m)
{
    for (int l = 0; l < 64; l++) free(m->level[l]);
    memset(m, 0, sizeof *m);
}

int wn_merkle_mem_read(void *mem, unsigned level, uint64_t index, uint8_t out[32])
{
    wn_merkle_mem *m = mem;
    if (level >= 64 || index >= (m->size >> level)) return 0;
    memcpy(out, m->level[level][index], 32);
    return 1;
}

int wn_merkle_mem_append(wn_merkle_mem *m, const uint8_t leaf[32])
{
    uint8_t h[64][32];
    uint64_t n = m->size;
    unsigned c = wn_merkle_append_hashes(h, n, leaf, wn_merkle_mem_read, m);
    if (c == 0) return 0;
    for (unsigned l = 0; l < c; l++) {
        uint64_t k = n >> l;
        if (k >= m->cap[l]) {
            uint64_t cap = m->cap[l] ? m->cap[l] * 2 : 64;
            void *p = realloc(m->level[l], cap * 32);
            if (!p) return 0;
            m->level[l] = p;
            m->cap[l] = cap;
        }
        memcpy(m->level[l][k], h[l], 32);
    }
    m->size = n + 1;
    return 1;
}
