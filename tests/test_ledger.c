/* test_ledger.c — the LMDB ledger (ledger/ledger.h) on real LMDB files in temp dirs.
 *
 * Trees of every size 1..300 and of 1000, 4097, 65536 and 100000 entries, appended in
 * random batch sizes, are checked against roots recomputed independently here (an
 * in-memory wn_merkle_mem over the same leaf hashes, and for small trees a naive recursive
 * RFC 6962 MTH); inclusion and consistency proofs must verify and equal the in-memory
 * proofs, and every tampered proof must be rejected. Chain hashes, entry bytes, the
 * (meter, seq) index (with gaps, out-of-order and duplicate sequences), checkpoints,
 * reopening, read-only copies, format versions, corrupt values and concurrent readers
 * with one writer are covered too. */
#include <criterion/criterion.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"
#include "tests/support/testutil.h"

/* Fails the test with a message only when cond is false (cheap in hot loops). */
#define CHECK(cond, ...) do { if (!(cond)) cr_assert_fail(__VA_ARGS__); } while (0)
#define OK(call) do { int e_ = (call); CHECK(e_ == WN_LEDGER_OK, "%s: %s", #call, wn_ledger_strerror(e_)); } while (0)
#define ERR(want, call) do { int e_ = (call); CHECK(e_ == (want), "%s: got \"%s\", want \"%s\"", #call, \
                                                  wn_ledger_strerror(e_), wn_ledger_strerror(want)); } while (0)

typedef uint8_t hash_t[32];

/* ---------- a model of what was appended ---------- */

typedef struct {
    uint8_t **data;
    size_t *len;
    hash_t *leaf;
    uint64_t n, cap;
    wn_merkle_mem mem;
} model;

static void model_init(model *m)
{
    memset(m, 0, sizeof *m);
    wn_merkle_mem_init(&m->mem);
}

static void model_free(model *m)
{
    for (uint64_t i = 0; i < m->n; i++) free(m->data[i]);
    free(m->data);
    free(m->len);
    free(m->leaf);
    wn_merkle_mem_free(&m->mem);
}

static void model_add(model *m, const uint8_t *data, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->data = realloc(m->data, m->cap * sizeof *m->data);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
        m->leaf = realloc(m->leaf, m->cap * sizeof *m->leaf);
    }
    m->data[m->n] = malloc(len);
    memcpy(m->data[m->n], data, len);
    m->len[m->n] = len;
    wn_merkle_leaf_hash(m->leaf[m->n], data, len);
    CHECK(wn_merkle_mem_append(&m->mem, m->leaf[m->n]), "mem append");
    m->n++;
}

/* Random entry bytes: mostly short, sometimes 1 byte, sometimes big (overflow pages). */
static size_t random_entry(uint8_t *buf, size_t cap)
{
    uint64_t r = wn_test_prng();
    size_t len = r % 97 == 0 ? 1 : r % 211 == 0 ? 3000 + r % 5000 : 1 + (r >> 8) % 200;
    if (len > cap) len = cap;
    wn_test_prng_bytes(buf, len);
    return len;
}

/* Appends random entries (not indexed by meter) in random batches of 1..maxbatch until
 * the ledger holds target entries, checking the index given to each batch. */
static void grow(wn_ledger *l, model *m, uint64_t target, size_t maxbatch)
{
    static uint8_t bufs[512][8192];
    wn_ledger_item items[512];
    if (maxbatch > 512) maxbatch = 512;
    while (m->n < target) {
        size_t k = 1 + wn_test_prng() % maxbatch;
        if (k > target - m->n) k = (size_t)(target - m->n);
        for (size_t i = 0; i < k; i++) {
            size_t len = random_entry(bufs[i], sizeof bufs[i]);
            items[i] = (wn_ledger_item){bufs[i], len, NULL, 0};
        }
        uint64_t first = UINT64_MAX;
        OK(wn_ledger_append(l, items, k, &first, NULL));
        CHECK(first == m->n, "batch got index %llu, want %llu", (unsigned long long)first, (unsigned long long)m->n);
        for (size_t i = 0; i < k; i++) model_add(m, bufs[i], items[i].len);
    }
}

/* ---------- independent tree math ---------- */

/* RFC 6962 §2.1 MTH, recursively, straight from the definition. */
static void naive_mth(hash_t out, const hash_t *leaves, uint64_t n)
{
    if (n == 0) { wn_sha256(out, "", 0); return; }
    if (n == 1) { memcpy(out, leaves[0], 32); return; }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    hash_t left, right;
    naive_mth(left, leaves, k);
    naive_mth(right, leaves + k, n - k);
    uint8_t buf[65];
    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    wn_sha256(out, buf, sizeof buf);
}

static void mem_root(model *m, uint64_t size, hash_t out)
{
    CHECK(wn_merkle_root(out, size, wn_merkle_mem_read, &m->mem), "mem root %llu", (unsigned long long)size);
}

/* ---------- proof checks ---------- */

static void check_root(wn_ledger *l, model *m, uint64_t size, int naive)
{
    hash_t got, want;
    OK(wn_ledger_root(l, size, got));
    mem_root(m, size, want);
    CHECK(memcmp(got, want, 32) == 0, "root of size %llu differs from the in-memory tree", (unsigned long long)size);
    if (naive) {
        naive_mth(want, (const hash_t *)m->leaf, size);
        CHECK(memcmp(got, want, 32) == 0, "root of size %llu differs from the naive MTH", (unsigned long long)size);
    }
}

static void flip(uint8_t *p, unsigned bit) { p[bit / 8] ^= (uint8_t)(1u << (bit % 8)); }

/* The sequence of hashing steps RFC 9162 §2.1.3.2 performs for a proof of len elements
 * at (idx, size): one letter per element, L (element on the left) or R, or "" if the
 * verifier rejects the shape. A size can only be told from another by the proof if the
 * steps differ: e.g. the tree of size 3 hashes like one of size 4 whose last subtree is
 * leaf 2, so a proof for (0, 3) also checks as (0, 4) against the same root. What binds
 * the size is the signed checkpoint; here we require rejection whenever steps differ. */
static void inclusion_steps(uint64_t idx, uint64_t size, size_t len, char *out)
{
    uint64_t fn = idx, sn = size - 1;
    out[0] = 0;
    if (idx >= size) return;
    for (size_t i = 0; i < len; i++) {
        if (sn == 0) { out[0] = 0; return; }
        if ((fn & 1) || fn == sn) {
            out[i] = 'L';
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            out[i] = 'R';
        }
        fn >>= 1;
        sn >>= 1;
    }
    out[len] = 0;
    if (sn != 0) out[0] = 0;
}

/* The same for RFC 9162 §2.1.4.2 consistency: whether m is a power of two, then for each
 * element B (both hashes) or R (new hash only, element on the right). */
static int is_pow2(uint64_t n) { return n && !(n & (n - 1)); }

static void consistency_steps(uint64_t m, uint64_t n, size_t len, char *out)
{
    out[0] = 0;
    if (m == 0 || m > n || m == n || len == 0) return;
    size_t i = is_pow2(m) ? 0 : 1, o = 0;
    out[o++] = is_pow2(m) ? 'P' : 'N';
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) { fn >>= 1; sn >>= 1; }
    for (; i < len; i++) {
        if (sn == 0) { out[0] = 0; return; }
        if ((fn & 1) || fn == sn) {
            out[o++] = 'B';
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            out[o++] = 'R';
        }
        fn >>= 1;
        sn >>= 1;
    }
    out[o] = 0;
    if (sn != 0) out[0] = 0;
}

/* Every way of spoiling a valid inclusion proof must be rejected. */
static void tamper_inclusion(const hash_t leaf, uint64_t idx, uint64_t size, hash_t *proof, size_t len,
                             const hash_t root)
{
    const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;
    for (size_t e = 0; e < len; e++)
        for (unsigned b = 0; b < 256; b++) {
            flip(proof[e], b);
            CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p, len, root), "bit %u of element %zu flipped: accepted", b, e);
            flip(proof[e], b);
        }
    for (uint64_t j = 0; j < size; j += 1 + size / 16)
        if (j != idx) CHECK(!wn_merkle_verify_inclusion(leaf, j, size, p, len, root), "wrong index %llu accepted", (unsigned long long)j);
    char want[WN_MERKLE_MAX_PROOF + 2], other[WN_MERKLE_MAX_PROOF + 2];
    inclusion_steps(idx, size, len, want);
    CHECK(want[0] || len == 0, "the honest proof has no valid shape");
    uint64_t wrong[] = {size - 1, size + 1, size + 2, size * 2, size * 2 + 1, size + 1000};
    int rejected = 0;
    for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
        if (wrong[w] == 0) continue;
        inclusion_steps(idx, wrong[w], len, other);
        int same = (other[0] || len == 0) && strcmp(want, other) == 0 && idx < wrong[w];
        int ok = wn_merkle_verify_inclusion(leaf, idx, wrong[w], p, len, root);
        CHECK(ok == same, "size %llu instead of %llu: %s (steps %s vs %s)", (unsigned long long)wrong[w],
              (unsigned long long)size, ok ? "accepted" : "rejected", other, want);
        rejected += !ok;
    }
    CHECK(rejected > 0, "no wrong size was rejected");
    if (len) CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p, len - 1, root), "truncated proof accepted");
    if (len) CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p + 1, len - 1, root), "proof without first element accepted");
    memcpy(proof[len], leaf, 32);
    CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p, len + 1, root), "extended proof accepted");
    memset(proof[len], 0, 32);
    CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p, len + 1, root), "zero-extended proof accepted");
    hash_t bad;
    memcpy(bad, leaf, 32);
    bad[31] ^= 1;
    CHECK(!wn_merkle_verify_inclusion(bad, idx, size, p, len, root), "wrong leaf accepted");
    memcpy(bad, root, 32);
    bad[0] ^= 0x80;
    CHECK(!wn_merkle_verify_inclusion(leaf, idx, size, p, len, bad), "wrong root accepted");
}

static void check_inclusion(wn_ledger *l, model *m, uint64_t idx, uint64_t size, const hash_t root, int tamper)
{
    hash_t proof[WN_MERKLE_MAX_PROOF + 1], want[WN_MERKLE_MAX_PROOF];
    size_t len = 99, wlen = 0;
    OK(wn_ledger_prove_inclusion(l, idx, size, proof, &len));
    CHECK(wn_merkle_prove_inclusion(want, &wlen, idx, size, wn_merkle_mem_read, &m->mem), "mem proof");
    CHECK(len == wlen && memcmp(proof, want, 32 * len) == 0, "inclusion proof %llu/%llu differs from the in-memory one",
          (unsigned long long)idx, (unsigned long long)size);
    CHECK(wn_merkle_verify_inclusion(m->leaf[idx], idx, size, (const uint8_t (*)[32])proof, len, root),
          "inclusion proof of %llu in %llu does not verify", (unsigned long long)idx, (unsigned long long)size);
    if (tamper) tamper_inclusion(m->leaf[idx], idx, size, proof, len, root);
}

static void check_consistency(wn_ledger *l, model *m, uint64_t a, uint64_t b, int tamper)
{
    hash_t proof[WN_MERKLE_MAX_PROOF + 1], want[WN_MERKLE_MAX_PROOF], ra, rb;
    size_t len = 99, wlen = 0;
    OK(wn_ledger_prove_consistency(l, a, b, proof, &len));
    CHECK(wn_merkle_prove_consistency(want, &wlen, a, b, wn_merkle_mem_read, &m->mem), "mem proof");
    CHECK(len == wlen && memcmp(proof, want, 32 * len) == 0, "consistency proof %llu->%llu differs",
          (unsigned long long)a, (unsigned long long)b);
    OK(wn_ledger_root(l, a, ra));
    OK(wn_ledger_root(l, b, rb));
    const uint8_t (*p)[32] = (const uint8_t (*)[32])proof;
    CHECK(wn_merkle_verify_consistency(a, b, p, len, ra, rb), "consistency %llu->%llu does not verify",
          (unsigned long long)a, (unsigned long long)b);
    if (!tamper) return;
    for (size_t e = 0; e < len; e++)
        for (unsigned bit = 0; bit < 256; bit += 7) {
            flip(proof[e], bit);
            CHECK(!wn_merkle_verify_consistency(a, b, p, len, ra, rb), "flipped bit %u of element %zu accepted", bit, e);
            flip(proof[e], bit);
        }
    if (len) CHECK(!wn_merkle_verify_consistency(a, b, p, len - 1, ra, rb), "truncated consistency proof accepted");
    memcpy(proof[len], ra, 32);
    CHECK(!wn_merkle_verify_consistency(a, b, p, len + 1, ra, rb), "extended consistency proof accepted");
    char steps[WN_MERKLE_MAX_PROOF + 3], other[WN_MERKLE_MAX_PROOF + 3];
    consistency_steps(a, b, len, steps);
    uint64_t wa[] = {a - 1, a + 1, a, a, a * 2}, wb[] = {b, b, b + 1, b * 2 + 1, b * 2};
    for (size_t w = 0; w < sizeof wa / sizeof wa[0]; w++) {
        if (wa[w] == 0 || wa[w] > wb[w]) continue;
        consistency_steps(wa[w], wb[w], len, other);
        int same = steps[0] && strcmp(steps, other) == 0;
        int ok = wn_merkle_verify_consistency(wa[w], wb[w], p, len, ra, rb);
        CHECK(ok == same, "sizes %llu->%llu instead of %llu->%llu: %s", (unsigned long long)wa[w],
              (unsigned long long)wb[w], (unsigned long long)a, (unsigned long long)b, ok ? "accepted" : "rejected");
    }
    if (a < b) {
        CHECK(!wn_merkle_verify_consistency(a, b, p, len, rb, ra), "swapped roots accepted");
        CHECK(!wn_merkle_verify_consistency(b, a, p, len, rb, ra), "swapped sizes accepted");
    }
}

/* Stored entry bytes, leaf and chain hashes of every entry in [0, n). */
static void check_entries(wn_ledger *l, model *m, uint64_t n)
{
    hash_t chain = {0};
    static uint8_t buf[8192];
    for (uint64_t i = 0; i < n; i++) {
        hash_t leaf, ch, want;
        size_t len = 0;
        OK(wn_ledger_get(l, i, buf, sizeof buf, &len, leaf, ch));
        CHECK(len == m->len[i] && memcmp(buf, m->data[i], len) == 0, "entry %llu bytes differ", (unsigned long long)i);
        CHECK(memcmp(leaf, m->leaf[i], 32) == 0, "entry %llu leaf differs", (unsigned long long)i);
        wn_sha256_2(want, chain, 32, m->leaf[i], 32);
        CHECK(memcmp(ch, want, 32) == 0, "chain hash of %llu is not SHA-256(prev || leaf)", (unsigned long long)i);
        memcpy(chain, ch, 32);
    }
}

static wn_ledger *open_new(char **dir, const char *tag)
{
    wn_ledger *l = NULL;
    *dir = wn_test_tmpdir(tag);
    cr_assert(*dir);
    OK(wn_ledger_open(&l, *dir, 0));
    return l;
}

static void cleanup(wn_ledger *l, char *dir)
{
    wn_ledger_close(l);
    wn_test_rmtree(dir);
    free(dir);
}

/* ---------- trees of many sizes ---------- */

Test(ledger, every_size_1_to_300)
{
    static const size_t maxbatch[] = {1, 7, 40, 300};
    for (int v = 0; v < 4; v++) {
        char *dir;
        wn_ledger *l = open_new(&dir, "ledger-small");
        model m;
        model_init(&m);
        wn_test_prng_seed(1000 + (uint64_t)v);
        hash_t root;
        OK(wn_ledger_root(l, 0, root));
        hash_t empty;
        wn_sha256(empty, "", 0);
        cr_assert(memcmp(root, empty, 32) == 0, "empty tree root is SHA-256(\"\")");
        /* grow in random batches, checking the current root after each batch */
        while (m.n < 300) {
            uint64_t target = m.n + 1 + wn_test_prng() % maxbatch[v];
            grow(l, &m, target > 300 ? 300 : target, maxbatch[v]);
            uint64_t size;
            OK(wn_ledger_size(l, &size));
            cr_assert_eq(size, m.n);
            check_root(l, &m, m.n, 1);
        }
        if (v == 0) {
            /* every prefix size, every index */
            for (uint64_t s = 1; s <= 300; s++) {
                check_root(l, &m, s, 1);
                OK(wn_ledger_root(l, s, root));
                for (uint64_t i = 0; i < s; i++) check_inclusion(l, &m, i, s, root, s % 37 == 0 && i % 23 == 0);
            }
            for (uint64_t b = 1; b <= 300; b++)
                for (uint64_t a = 1; a <= b; a++)
                    if (b <= 64 || wn_test_prng() % 16 == 0) check_consistency(l, &m, a, b, b % 29 == 0 && a % 3 == 0);
            check_entries(l, &m, 300);
        } else {
            check_entries(l, &m, 300);
            OK(wn_ledger_root(l, 300, root));
            for (int k = 0; k < 300; k++) check_inclusion(l, &m, wn_test_prng() % 300, 300, root, 0);
        }
        model_free(&m);
        cleanup(l, dir);
    }
}

Test(ledger, big_sizes, .timeout = 120)
{
    static const uint64_t sizes[] = {1000, 4097, 65536, 100000};
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-big");
    model m;
    model_init(&m);
    wn_test_prng_seed(42);
    for (int s = 0; s < 4; s++) {
        grow(l, &m, sizes[s], s < 2 ? 64 : 512);
        check_root(l, &m, sizes[s], sizes[s] <= 4097);
        hash_t root;
        OK(wn_ledger_root(l, sizes[s], root));
        for (int k = 0; k < 200; k++) check_inclusion(l, &m, wn_test_prng() % sizes[s], sizes[s], root, k < 2);
        check_inclusion(l, &m, 0, sizes[s], root, 0);
        check_inclusion(l, &m, sizes[s] - 1, sizes[s], root, 1);
        for (int k = 0; k < 50; k++) {
            uint64_t b = 1 + wn_test_prng() % sizes[s], a = 1 + wn_test_prng() % b;
            check_consistency(l, &m, a, b, k < 2);
        }
        check_consistency(l, &m, 1, sizes[s], 0);
        if (s > 0) check_consistency(l, &m, sizes[s - 1], sizes[s], 1);
    }
    /* earlier sizes still prove the same after the tree grew (and the cache filled) */
    for (int s = 0; s < 4; s++) {
        hash_t root;
        check_root(l, &m, sizes[s], 0);
        OK(wn_ledger_root(l, sizes[s], root));
        for (int k = 0; k < 50; k++) check_inclusion(l, &m, wn_test_prng() % sizes[s], sizes[s], root, 0);
    }
    /* every entry read back by iteration */
    check_entries(l, &m, 4097);
    model_free(&m);
    cleanup(l, dir);
}

/* ---------- bounds and arguments ---------- */

Test(ledger, ranges_and_arguments)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-args");
    model m;
    model_init(&m);
    wn_test_prng_seed(7);
    hash_t root, proof[WN_MERKLE_MAX_PROOF];
    size_t len;
    uint8_t buf[16];
    ERR(WN_LEDGER_ERANGE, wn_ledger_root(l, 1, root));
    ERR(WN_LEDGER_ERANGE, wn_ledger_prove_inclusion(l, 0, 0, proof, &len));
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_get(l, 0, buf, sizeof buf, &len, NULL, NULL));
    grow(l, &m, 10, 3);
    ERR(WN_LEDGER_ERANGE, wn_ledger_root(l, 11, root));
    ERR(WN_LEDGER_ERANGE, wn_ledger_prove_inclusion(l, 10, 10, proof, &len));
    ERR(WN_LEDGER_ERANGE, wn_ledger_prove_inclusion(l, 3, 11, proof, &len));
    ERR(WN_LEDGER_ERANGE, wn_ledger_prove_consistency(l, 3, 11, proof, &len));
    ERR(WN_LEDGER_EINVAL, wn_ledger_prove_consistency(l, 0, 5, proof, &len));
    ERR(WN_LEDGER_EINVAL, wn_ledger_prove_consistency(l, 6, 5, proof, &len));
    OK(wn_ledger_prove_consistency(l, 5, 5, proof, &len));
    cr_assert_eq(len, 0);
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_get(l, 10, buf, sizeof buf, &len, NULL, NULL));
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_get(l, UINT64_MAX, buf, sizeof buf, &len, NULL, NULL));

    /* a buffer too small: ESPACE with the needed length */
    uint64_t big = 0;
    for (uint64_t i = 0; i < 10; i++) if (m.len[i] > 1) { big = i; break; }
    len = 0;
    ERR(WN_LEDGER_ESPACE, wn_ledger_get(l, big, buf, m.len[big] - 1 < sizeof buf ? m.len[big] - 1 : sizeof buf, &len, NULL, NULL));
    cr_assert_eq(len, m.len[big]);
    ERR(WN_LEDGER_ESPACE, wn_ledger_get(l, big, NULL, 0, &len, NULL, NULL));
    cr_assert_eq(len, m.len[big]);

    /* bad batches write nothing */
    uint8_t one = 1;
    static uint8_t huge[WN_LEDGER_MAX_ENTRY + 1];
    wn_ledger_item ok_item = {&one, 1, NULL, 0};
    wn_ledger_item items[2] = {ok_item, {&one, 0, NULL, 0}};
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(l, items, 0, NULL, NULL));
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(l, NULL, 1, NULL, NULL));
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(l, items, 2, NULL, NULL));
    items[1] = (wn_ledger_item){NULL, 1, NULL, 0};
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(l, items, 2, NULL, NULL));
    items[1] = (wn_ledger_item){huge, sizeof huge, NULL, 0};
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(l, items, 2, NULL, NULL));
    uint64_t size;
    OK(wn_ledger_size(l, &size));
    cr_assert_eq(size, 10);
    /* the largest entry allowed goes in and comes back */
    items[1] = (wn_ledger_item){huge, WN_LEDGER_MAX_ENTRY, NULL, 0};
    wn_test_prng_bytes(huge, WN_LEDGER_MAX_ENTRY);
    OK(wn_ledger_append(l, items, 2, NULL, NULL));
    model_add(&m, &one, 1);
    model_add(&m, huge, WN_LEDGER_MAX_ENTRY);
    static uint8_t back[WN_LEDGER_MAX_ENTRY];
    hash_t leaf;
    OK(wn_ledger_get(l, 11, back, sizeof back, &len, leaf, NULL));
    cr_assert(len == WN_LEDGER_MAX_ENTRY && memcmp(back, huge, len) == 0 && memcmp(leaf, m.leaf[11], 32) == 0);
    check_root(l, &m, 12, 1);

    wn_ledger *l2 = NULL;
    ERR(WN_LEDGER_EINVAL, wn_ledger_open(&l2, dir, 0x80));
    ERR(WN_LEDGER_EINVAL, wn_ledger_open(&l2, NULL, 0));
    ERR(WN_LEDGER_EINVAL, wn_ledger_append(NULL, items, 1, NULL, NULL));
    model_free(&m);
    cleanup(l, dir);
}

Test(ledger, strerror_names_every_code)
{
    const char *seen[16];
    for (int e = WN_LEDGER_OK; e <= WN_LEDGER_ERDONLY; e++) {
        seen[e] = wn_ledger_strerror(e);
        cr_assert(seen[e] && *seen[e]);
        for (int f = 0; f < e; f++) cr_assert(strcmp(seen[e], seen[f]) != 0, "codes %d and %d share a name", e, f);
    }
    cr_assert(wn_ledger_strerror(-1) && wn_ledger_strerror(999));
}

/* ---------- iteration ---------- */

typedef struct {
    model *m;
    uint64_t next, stop_at;
    hash_t chain;
    int have_chain; /* chain holds the previous entry's chain hash */
} walk_ctx;

static int visit(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32], const uint8_t chain[32])
{
    walk_ctx *w = ctx;
    if (index != w->next) return 1000;
    if (len != w->m->len[index] || memcmp(entry, w->m->data[index], len) != 0) return 1001;
    if (memcmp(leaf, w->m->leaf[index], 32) != 0) return 1002;
    hash_t want;
    if (w->have_chain) {
        wn_sha256_2(want, w->chain, 32, leaf, 32);
        if (memcmp(want, chain, 32) != 0) return 1003;
    }
    memcpy(w->chain, chain, 32);
    w->have_chain = 1;
    w->next++;
    return index + 1 == w->stop_at ? 77 : 0;
}

Test(ledger, iterate)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-iter");
    model m;
    model_init(&m);
    wn_test_prng_seed(99);
    grow(l, &m, 500, 50);
    walk_ctx w = {&m, 0, UINT64_MAX, {0}, 0};
    OK(wn_ledger_iterate(l, 0, 500, visit, &w));
    cr_assert_eq(w.next, 500);
    w = (walk_ctx){&m, 123, UINT64_MAX, {0}, 0};
    OK(wn_ledger_iterate(l, 123, 321, visit, &w));
    cr_assert_eq(w.next, 321);
    w = (walk_ctx){&m, 10, 20, {0}, 0};
    cr_assert_eq(wn_ledger_iterate(l, 10, 500, visit, &w), 77, "a non-zero return stops the walk and is returned");
    cr_assert_eq(w.next, 20);
    w = (walk_ctx){&m, 5, UINT64_MAX, {0}, 0};
    OK(wn_ledger_iterate(l, 5, 5, visit, &w));
    cr_assert_eq(w.next, 5);
    ERR(WN_LEDGER_ERANGE, wn_ledger_iterate(l, 0, 501, visit, &w));
    ERR(WN_LEDGER_ERANGE, wn_ledger_iterate(l, 10, 9, visit, &w));
    ERR(WN_LEDGER_EINVAL, wn_ledger_iterate(l, 0, 1, NULL, &w));
    model_free(&m);
    cleanup(l, dir);
}

/* ---------- the (meter, seq) index ---------- */

#define NMETERS 12

static uint8_t meter_id[NMETERS][32];

static void make_meters(void)
{
    for (int i = 0; i < NMETERS; i++) wn_test_prng_bytes(meter_id[i], 32);
}

/* An index model: for each meter, which seq went to which index. */
typedef struct {
    uint64_t seq, index;
} pair;

typedef struct {
    pair *p[NMETERS];
    size_t n[NMETERS], cap[NMETERS];
    uint64_t max_seq[NMETERS], max_idx[NMETERS];
} imodel;

static void im_add(imodel *im, int meter, uint64_t seq, uint64_t index)
{
    if (im->n[meter] == im->cap[meter]) {
        im->cap[meter] = im->cap[meter] ? 2 * im->cap[meter] : 64;
        im->p[meter] = realloc(im->p[meter], im->cap[meter] * sizeof(pair));
    }
    im->p[meter][im->n[meter]++] = (pair){seq, index};
    if (im->n[meter] == 1 || seq > im->max_seq[meter]) {
        im->max_seq[meter] = seq;
        im->max_idx[meter] = index;
    }
}

static int im_has(const imodel *im, int meter, uint64_t seq)
{
    for (size_t i = 0; i < im->n[meter]; i++)
        if (im->p[meter][i].seq == seq) return 1;
    return 0;
}

static void im_free(imodel *im)
{
    for (int i = 0; i < NMETERS; i++) free(im->p[i]);
}

static void check_index(wn_ledger *l, const imodel *im)
{
    for (int k = 0; k < NMETERS; k++) {
        uint64_t seq, idx;
        if (im->n[k] == 0) {
            ERR(WN_LEDGER_ENOTFOUND, wn_ledger_meter_last(l, meter_id[k], &seq, &idx));
            ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, meter_id[k], 1, &idx));
            continue;
        }
        OK(wn_ledger_meter_last(l, meter_id[k], &seq, &idx));
        CHECK(seq == im->max_seq[k] && idx == im->max_idx[k], "meter %d last (%llu, %llu), want (%llu, %llu)", k,
              (unsigned long long)seq, (unsigned long long)idx, (unsigned long long)im->max_seq[k],
              (unsigned long long)im->max_idx[k]);
        for (size_t i = 0; i < im->n[k]; i++) {
            OK(wn_ledger_find(l, meter_id[k], im->p[k][i].seq, &idx));
            CHECK(idx == im->p[k][i].index, "meter %d seq %llu found at %llu, want %llu", k,
                  (unsigned long long)im->p[k][i].seq, (unsigned long long)idx, (unsigned long long)im->p[k][i].index);
        }
        /* sequences never appended are not found */
        for (int t = 0; t < 20; t++) {
            uint64_t s = wn_test_prng() % (im->max_seq[k] + 3);
            if (!im_has(im, k, s)) ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, meter_id[k], s, &idx));
        }
        ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, meter_id[k], im->max_seq[k] + 1, &idx));
        ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, meter_id[k], UINT64_MAX, &idx));
    }
}

/* Appends a batch of indexed (and some unindexed) items following the node's rule
 * (seq = last + 1), with occasional gaps. */
static void index_batch(wn_ledger *l, model *m, imodel *im, uint64_t next_seq[NMETERS], size_t k, int gaps)
{
    uint8_t data[64][40];
    wn_ledger_item items[64];
    int who[64];
    uint64_t seqs[64];
    for (size_t i = 0; i < k; i++) {
        wn_test_prng_bytes(data[i], sizeof data[i]);
        who[i] = (int)(wn_test_prng() % (NMETERS + 1)) - 1; /* -1: not indexed */
        if (who[i] >= 0) {
            seqs[i] = next_seq[who[i]];
            next_seq[who[i]] += gaps && wn_test_prng() % 4 == 0 ? 2 + wn_test_prng() % 1000 : 1;
            items[i] = (wn_ledger_item){data[i], sizeof data[i], meter_id[who[i]], seqs[i]};
        } else {
            items[i] = (wn_ledger_item){data[i], sizeof data[i], NULL, 0};
        }
    }
    uint64_t first;
    OK(wn_ledger_append(l, items, k, &first, NULL));
    for (size_t i = 0; i < k; i++) {
        model_add(m, data[i], sizeof data[i]);
        if (who[i] >= 0) im_add(im, who[i], seqs[i], first + i);
    }
}

Test(ledger, meter_index)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-index");
    model m;
    imodel im;
    model_init(&m);
    memset(&im, 0, sizeof im);
    wn_test_prng_seed(2024);
    make_meters();
    uint64_t next_seq[NMETERS];
    for (int k = 0; k < NMETERS; k++) next_seq[k] = 1;
    check_index(l, &im);
    for (int b = 0; b < 300; b++) index_batch(l, &m, &im, next_seq, 1 + wn_test_prng() % 40, b >= 150);
    check_index(l, &im);
    check_entries(l, &m, m.n);
    check_root(l, &m, m.n, 0);

    /* reopen: same index, and new meters get fresh numbers */
    wn_ledger_close(l);
    OK(wn_ledger_open(&l, dir, 0));
    check_index(l, &im);
    uint8_t fresh[32];
    wn_test_prng_bytes(fresh, 32);
    uint8_t e = 0x42;
    wn_ledger_item it = {&e, 1, fresh, 5};
    uint64_t first, seq, idx;
    OK(wn_ledger_append(l, &it, 1, &first, NULL));
    model_add(&m, &e, 1);
    OK(wn_ledger_meter_last(l, fresh, &seq, &idx));
    cr_assert(seq == 5 && idx == first);
    OK(wn_ledger_find(l, fresh, 5, &idx));
    cr_assert_eq(idx, first);
    check_index(l, &im);
    im_free(&im);
    model_free(&m);
    cleanup(l, dir);
}

Test(ledger, long_chain_finds_every_sequence)
{
    /* One meter with thousands of readings interleaved with others: every seq is found
     * by walking the chain (jumps and prev links), including after gaps. */
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-chain");
    wn_test_prng_seed(5);
    uint8_t a[32], b[32];
    wn_test_prng_bytes(a, 32);
    wn_test_prng_bytes(b, 32);
    enum { N = 5000 };
    static uint64_t seq_of[N], idx_of[N];
    uint64_t s = 1;
    static uint8_t data[N][8];
    for (int i = 0; i < N; i += 50) {
        wn_ledger_item items[100];
        size_t k = 0;
        for (int j = i; j < i + 50; j++) {
            memset(data[j], 0, 8);
            memcpy(data[j], &j, sizeof j);
            seq_of[j] = s;
            s += j % 97 == 0 ? 1000 : 1;
            items[k++] = (wn_ledger_item){data[j], 8, a, seq_of[j]};
            if (j % 3 == 0) items[k++] = (wn_ledger_item){data[j], 4, b, (uint64_t)j + 1};
            if (j % 7 == 0) items[k++] = (wn_ledger_item){data[j], 2, NULL, 0};
        }
        uint64_t first;
        OK(wn_ledger_append(l, items, k, &first, NULL));
        for (size_t t = 0, j = (size_t)i; t < k; t++)
            if (items[t].meter == a) idx_of[j++] = first + t;
    }
    for (int j = 0; j < N; j++) {
        uint64_t idx;
        OK(wn_ledger_find(l, a, seq_of[j], &idx));
        CHECK(idx == idx_of[j], "seq %llu: index %llu, want %llu", (unsigned long long)seq_of[j],
              (unsigned long long)idx, (unsigned long long)idx_of[j]);
        if (j + 1 < N && seq_of[j] + 1 != seq_of[j + 1])
            ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, a, seq_of[j] + 1, &idx));
    }
    uint64_t idx;
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_find(l, a, 0, &idx));
    for (int j = 0; j < N; j += 3) {
        OK(wn_ledger_find(l, b, (uint64_t)j + 1, &idx));
    }
    cleanup(l, dir);
}

/* Everything the ledger shows; used to prove a refused append changed nothing. */
typedef struct {
    uint64_t size;
    hash_t root;
    uint64_t last_seq[NMETERS], last_idx[NMETERS];
    int known[NMETERS];
} snapshot;

static void snap(wn_ledger *l, snapshot *s)
{
    memset(s, 0, sizeof *s);
    OK(wn_ledger_size(l, &s->size));
    OK(wn_ledger_root(l, s->size, s->root));
    for (int k = 0; k < NMETERS; k++)
        s->known[k] = wn_ledger_meter_last(l, meter_id[k], &s->last_seq[k], &s->last_idx[k]) == WN_LEDGER_OK;
}

static void same_snapshot(wn_ledger *l, const snapshot *before)
{
    snapshot now;
    snap(l, &now);
    cr_assert(memcmp(&now, before, sizeof now) == 0, "a refused append changed the ledger");
}

Test(ledger, duplicates_refused_and_nothing_written)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-dup");
    model m;
    imodel im;
    model_init(&m);
    memset(&im, 0, sizeof im);
    wn_test_prng_seed(77);
    make_meters();
    uint64_t next_seq[NMETERS];
    for (int k = 0; k < NMETERS; k++) next_seq[k] = 1;
    for (int b = 0; b < 40; b++) index_batch(l, &m, &im, next_seq, 1 + wn_test_prng() % 30, b % 2);

    uint8_t x = 9, y = 10;
    snapshot before;
    snap(l, &before);
    for (int k = 0; k < NMETERS; k++) {
        if (im.n[k] == 0) continue;
        /* an already indexed seq (from the middle and the head), at various positions */
        uint64_t old = im.p[k][wn_test_prng() % im.n[k]].seq;
        uint64_t probes[2] = {old, im.max_seq[k]};
        for (int p = 0; p < 2; p++) {
            wn_ledger_item items[5] = {
                {&x, 1, NULL, 0}, {&x, 1, meter_id[(k + 1) % NMETERS], next_seq[(k + 1) % NMETERS]},
                {&y, 1, meter_id[k], probes[p]}, {&x, 1, NULL, 0}, {&y, 1, meter_id[k], next_seq[k]}};
            size_t bad = 99;
            uint64_t first = 12345;
            ERR(WN_LEDGER_EEXISTS, wn_ledger_append(l, items, 5, &first, &bad));
            cr_assert_eq(bad, 2, "bad names the offending item");
            ERR(WN_LEDGER_EEXISTS, wn_ledger_append(l, items + 2, 1, NULL, NULL)); /* bad may be NULL */
            same_snapshot(l, &before);
        }
        /* a duplicate inside one batch of new sequences */
        wn_ledger_item twice[3] = {{&x, 1, meter_id[k], next_seq[k] + 5}, {&y, 1, NULL, 0},
                                   {&y, 1, meter_id[k], next_seq[k] + 5}};
        size_t bad = 99;
        ERR(WN_LEDGER_EEXISTS, wn_ledger_append(l, twice, 3, NULL, &bad));
        cr_assert_eq(bad, 2);
        same_snapshot(l, &before);
    }
    /* a new meter twice in one batch */
    uint8_t nm[32];
    wn_test_prng_bytes(nm, 32);
    wn_ledger_item twice[2] = {{&x, 1, nm, 1}, {&y, 1, nm, 1}};
    size_t bad = 99;
    ERR(WN_LEDGER_EEXISTS, wn_ledger_append(l, twice, 2, NULL, &bad));
    cr_assert_eq(bad, 1);
    same_snapshot(l, &before);
    uint64_t seq, idx;
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_meter_last(l, nm, &seq, &idx));

    /* out-of-order but new sequences are recorded (loose), and duplicates of them refused */
    for (int k = 0; k < NMETERS; k++) {
        if (im.n[k] == 0 || im.max_seq[k] < 3) continue;
        for (uint64_t s = 0; s < im.max_seq[k]; s++) {
            if (im_has(&im, k, s)) continue;
            wn_ledger_item it = {&x, 1, meter_id[k], s};
            uint64_t first;
            OK(wn_ledger_append(l, &it, 1, &first, NULL));
            model_add(&m, &x, 1);
            im_add(&im, k, s, first);
            ERR(WN_LEDGER_EEXISTS, wn_ledger_append(l, &it, 1, NULL, &bad));
            cr_assert_eq(bad, 0);
            break;
        }
    }
    check_index(l, &im);
    check_root(l, &m, m.n, 0);
    check_entries(l, &m, m.n);
    /* the chain of new heads continues after loose entries */
    for (int b = 0; b < 10; b++) index_batch(l, &m, &im, next_seq, 1 + wn_test_prng() % 30, 0);
    check_index(l, &im);
    im_free(&im);
    model_free(&m);
    cleanup(l, dir);
}

/* ---------- checkpoints ---------- */

typedef struct {
    uint64_t sizes[16];
    int n;
} cp_walk;

static int cp_visit(void *ctx, uint64_t size, const char *note, size_t len)
{
    cp_walk *w = ctx;
    char want[64];
    snprintf(want, sizeof want, "note for %llu\n", (unsigned long long)size);
    if (len != strlen(want) || memcmp(note, want, len) != 0) return 500;
    w->sizes[w->n++] = size;
    return w->n == 99 ? 1 : 0;
}

Test(ledger, checkpoints)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-cp");
    model m;
    model_init(&m);
    wn_test_prng_seed(3);
    char buf[128], note[64];
    size_t len;
    uint64_t found;
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_get_checkpoint(l, 0, buf, sizeof buf, &len, &found));
    grow(l, &m, 50, 10);
    static const uint64_t sizes[] = {10, 3, 50, 20};
    for (int i = 0; i < 4; i++) {
        snprintf(note, sizeof note, "note for %llu\n", (unsigned long long)sizes[i]);
        OK(wn_ledger_put_checkpoint(l, sizes[i], note, strlen(note)));
        OK(wn_ledger_put_checkpoint(l, sizes[i], note, strlen(note))); /* same text again: fine */
    }
    ERR(WN_LEDGER_EEXISTS, wn_ledger_put_checkpoint(l, 10, "other text\n", 11));
    ERR(WN_LEDGER_EEXISTS, wn_ledger_put_checkpoint(l, 10, "note for 10\n ", 13));
    ERR(WN_LEDGER_EEXISTS, wn_ledger_put_checkpoint(l, 10, "note for 10", 11));
    ERR(WN_LEDGER_ERANGE, wn_ledger_put_checkpoint(l, 51, "x\n", 2));
    ERR(WN_LEDGER_EINVAL, wn_ledger_put_checkpoint(l, 5, "x\n", 0));
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_get_checkpoint(l, 11, buf, sizeof buf, &len, &found));

    OK(wn_ledger_get_checkpoint(l, 0, buf, sizeof buf, &len, &found));
    cr_assert(found == 50 && len == strlen("note for 50\n") && strcmp(buf, "note for 50\n") == 0, "latest is the largest size");
    OK(wn_ledger_get_checkpoint(l, 20, buf, sizeof buf, &len, NULL));
    cr_assert_str_eq(buf, "note for 20\n");
    OK(wn_ledger_get_checkpoint(l, 3, buf, 12, &len, &found)); /* exactly len + 1 */
    cr_assert(found == 3 && len == 11 && strcmp(buf, "note for 3\n") == 0);
    ERR(WN_LEDGER_ESPACE, wn_ledger_get_checkpoint(l, 10, buf, 12, &len, NULL)); /* needs 13 */
    cr_assert_eq(len, 12);

    cp_walk w = {{0}, 0};
    OK(wn_ledger_iterate_checkpoints(l, cp_visit, &w));
    cr_assert(w.n == 4 && w.sizes[0] == 3 && w.sizes[1] == 10 && w.sizes[2] == 20 && w.sizes[3] == 50, "ascending order");

    /* survives reopening */
    wn_ledger_close(l);
    OK(wn_ledger_open(&l, dir, 0));
    OK(wn_ledger_get_checkpoint(l, 0, buf, sizeof buf, &len, &found));
    cr_assert_eq(found, 50);
    grow(l, &m, 60, 10);
    snprintf(note, sizeof note, "note for 60\n");
    OK(wn_ledger_put_checkpoint(l, 60, note, strlen(note)));
    OK(wn_ledger_get_checkpoint(l, 0, buf, sizeof buf, &len, &found));
    cr_assert_eq(found, 60);
    model_free(&m);
    cleanup(l, dir);
}

/* ---------- persistence, read-only copies, versions, corruption ---------- */

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = wn_test_read_file(from, &len);
    cr_assert(data, "read %s", from);
    FILE *f = fopen(to, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    free(data);
}

Test(ledger, reopen_and_read_only_copy)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-reopen");
    model m;
    model_init(&m);
    wn_test_prng_seed(11);
    grow(l, &m, 777, 33);
    OK(wn_ledger_put_checkpoint(l, 777, "cp\n", 3));
    hash_t roots[4], r;
    static const uint64_t at[4] = {1, 100, 512, 777};
    for (int i = 0; i < 4; i++) OK(wn_ledger_root(l, at[i], roots[i]));
    wn_ledger_close(l);

    OK(wn_ledger_open(&l, dir, 0));
    uint64_t size;
    OK(wn_ledger_size(l, &size));
    cr_assert_eq(size, 777);
    for (int i = 0; i < 4; i++) {
        OK(wn_ledger_root(l, at[i], r));
        cr_assert(memcmp(r, roots[i], 32) == 0, "root of %llu changed on reopen", (unsigned long long)at[i]);
        for (int k = 0; k < 30; k++) check_inclusion(l, &m, wn_test_prng() % at[i], at[i], r, 0);
    }
    /* appending continues the chain */
    grow(l, &m, 900, 33);
    check_entries(l, &m, 900);
    check_root(l, &m, 900, 1);
    wn_ledger_close(l);

    /* a copy of data.mdb alone, opened read-only */
    char *copy = wn_test_tmpdir("ledger-copy");
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/data.mdb", dir);
    snprintf(to, sizeof to, "%s/data.mdb", copy);
    copy_file(from, to);
    OK(wn_ledger_open(&l, copy, WN_LEDGER_RDONLY));
    OK(wn_ledger_size(l, &size));
    cr_assert_eq(size, 900);
    check_root(l, &m, 900, 0);
    check_root(l, &m, 777, 0);
    check_entries(l, &m, 900);
    hash_t root;
    OK(wn_ledger_root(l, 900, root));
    for (int k = 0; k < 100; k++) check_inclusion(l, &m, wn_test_prng() % 900, 900, root, 0);
    check_consistency(l, &m, 777, 900, 0);
    char buf[16];
    size_t len;
    OK(wn_ledger_get_checkpoint(l, 0, buf, sizeof buf, &len, NULL));
    cr_assert_str_eq(buf, "cp\n");
    uint8_t one = 1;
    wn_ledger_item it = {&one, 1, NULL, 0};
    ERR(WN_LEDGER_ERDONLY, wn_ledger_append(l, &it, 1, NULL, NULL));
    ERR(WN_LEDGER_ERDONLY, wn_ledger_put_checkpoint(l, 900, "x\n", 2));
    wn_ledger_close(l);

    /* read-only on nothing: not found, and nothing created */
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/nope", copy);
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_open(&l, missing, WN_LEDGER_RDONLY));
    struct stat sb;
    cr_assert(stat(missing, &sb) != 0, "a read-only open created a directory");
    cr_assert_eq(mkdir(missing, 0700), 0);
    ERR(WN_LEDGER_ENOTFOUND, wn_ledger_open(&l, missing, WN_LEDGER_RDONLY));
    /* a writable open creates the directory */
    snprintf(missing, sizeof missing, "%s/new", copy);
    OK(wn_ledger_open(&l, missing, 0));
    OK(wn_ledger_size(l, &size));
    cr_assert_eq(size, 0);
    wn_ledger_close(l);

    wn_test_rmtree(copy);
    free(copy);
    model_free(&m);
    wn_test_rmtree(dir);
    free(dir);
}

/* Raw LMDB access to the ledger's files, to plant bad data (ledger closed). */
static void raw_put(const char *dir, const char *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

Test(ledger, format_version_checked)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-version");
    wn_ledger_close(l);
    uint8_t v2[4] = {0, 0, 0, 2};
    raw_put(dir, "meta", "format", 6, v2, 4);
    ERR(WN_LEDGER_EVERSION, wn_ledger_open(&l, dir, 0));
    ERR(WN_LEDGER_EVERSION, wn_ledger_open(&l, dir, WN_LEDGER_RDONLY));
    uint8_t v1[4] = {0, 0, 0, 1};
    raw_put(dir, "meta", "format", 6, v1, 4);
    OK(wn_ledger_open(&l, dir, 0));
    wn_ledger_close(l);
    raw_put(dir, "meta", "format", 6, v1, 3);
    ERR(WN_LEDGER_EVERSION, wn_ledger_open(&l, dir, 0));
    wn_test_rmtree(dir);
    free(dir);

    /* an LMDB environment holding something else is not adopted */
    dir = wn_test_tmpdir("ledger-other");
    raw_put(dir, "stuff", "k", 1, "v", 1);
    ERR(WN_LEDGER_EVERSION, wn_ledger_open(&l, dir, 0));
    wn_test_rmtree(dir);
    free(dir);
}

Test(ledger, corrupt_values_reported_not_crashed)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-corrupt");
    model m;
    model_init(&m);
    wn_test_prng_seed(13);
    make_meters();
    uint8_t e[20] = {1};
    wn_ledger_item items[8];
    for (int i = 0; i < 8; i++) {
        items[i] = (wn_ledger_item){e, sizeof e, meter_id[0], (uint64_t)i + 1};
        model_add(&m, e, sizeof e);
    }
    OK(wn_ledger_append(l, items, 8, NULL, NULL));
    wn_ledger_close(l);

    /* entry 5 (h = 2) cut to its chain hash plus one hash */
    uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 5}, shortval[64] = {0};
    raw_put(dir, "entries", key, 8, shortval, sizeof shortval);
    OK(wn_ledger_open(&l, dir, 0));
    uint8_t buf[64];
    size_t len;
    hash_t root, proof[WN_MERKLE_MAX_PROOF];
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_get(l, 5, buf, sizeof buf, &len, NULL, NULL));
    OK(wn_ledger_get(l, 4, buf, sizeof buf, &len, NULL, NULL));
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_root(l, 6, root)); /* needs subtree (1, 2), stored in entry 5 */
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_prove_inclusion(l, 4, 8, proof, &len)); /* needs leaf 5 */
    OK(wn_ledger_root(l, 8, root));
    OK(wn_ledger_root(l, 5, root));
    uint64_t idx;
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_find(l, meter_id[0], 6, &idx)); /* the chain passes through 5 */
    walk_ctx w = {&m, 0, UINT64_MAX, {0}, 0};
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_iterate(l, 0, 8, visit, &w));
    cr_assert_eq(w.next, 5, "entries before the bad one were visited");
    wn_ledger_item more = {e, 1, meter_id[0], 9};
    OK(wn_ledger_append(l, &more, 1, NULL, NULL)); /* the head (7) and its jump are intact */
    wn_ledger_close(l);

    /* a meter record of the wrong length */
    uint8_t three[3] = {0, 0, 1};
    raw_put(dir, "meters", meter_id[0], 32, three, 3);
    OK(wn_ledger_open(&l, dir, 0));
    uint64_t seq;
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_find(l, meter_id[0], 1, &idx));
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_meter_last(l, meter_id[0], &seq, &idx));
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_append(l, items, 1, NULL, NULL));
    wn_ledger_close(l);

    /* a missing entry key: the count no longer matches the last key */
    uint8_t k100[8] = {0, 0, 0, 0, 0, 0, 0, 100};
    raw_put(dir, "entries", k100, 8, shortval, sizeof shortval);
    ERR(WN_LEDGER_ECORRUPT, wn_ledger_open(&l, dir, 0));
    model_free(&m);
    wn_test_rmtree(dir);
    free(dir);
}

/* ---------- the public hash reader ---------- */

Test(ledger, hash_reader)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-reader");
    model m;
    model_init(&m);
    wn_test_prng_seed(17);
    grow(l, &m, 1234, 100);
    wn_ledger_reader *r;
    OK(wn_ledger_reader_begin(l, &r));
    grow(l, &m, 1300, 100); /* the reader keeps its snapshot */
    hash_t a, b, h;
    cr_assert(wn_merkle_root(a, 1234, wn_ledger_reader_hash, r));
    mem_root(&m, 1234, b);
    cr_assert(memcmp(a, b, 32) == 0);
    cr_assert(!wn_merkle_root(a, 1300, wn_ledger_reader_hash, r), "entries after the snapshot are not visible");
    cr_assert(wn_ledger_reader_hash(r, 0, 1233, h) && memcmp(h, m.leaf[1233], 32) == 0);
    cr_assert(wn_ledger_reader_hash(r, 10, 0, h));
    cr_assert(!wn_ledger_reader_hash(r, 10, 1, h), "subtree (10, 1) is not complete at 1234");
    cr_assert(!wn_ledger_reader_hash(r, 0, 1234, h));
    cr_assert(!wn_ledger_reader_hash(r, 64, 0, h));
    cr_assert(!wn_ledger_reader_hash(r, 3, UINT64_MAX, h));
    wn_ledger_reader_end(r);
    OK(wn_ledger_reader_begin(l, &r));
    cr_assert(wn_merkle_root(a, 1300, wn_ledger_reader_hash, r));
    mem_root(&m, 1300, b);
    cr_assert(memcmp(a, b, 32) == 0);
    wn_ledger_reader_end(r);
    model_free(&m);
    cleanup(l, dir);
}

/* ---------- concurrency: readers while one writer appends ---------- */

typedef struct {
    wn_ledger *l;
    int done;   /* all three accessed with __atomic builtins */
    long proofs;
    int failed;
} shared;

static int get_flag(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void set_flag(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static void *writer(void *arg)
{
    shared *s = arg;
    uint8_t data[64][32];
    wn_ledger_item items[64];
    uint64_t x = 12345;
    for (int b = 0; b < 400 && !get_flag(&s->failed); b++) {
        size_t k = 1 + (size_t)(x % 64);
        for (size_t i = 0; i < k; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(data[i], &x, sizeof x);
            memset(data[i] + 8, (int)i, 24);
            items[i] = (wn_ledger_item){data[i], 32, NULL, 0};
        }
        if (wn_ledger_append(s->l, items, k, NULL, NULL) != WN_LEDGER_OK) set_flag(&s->failed, 1);
    }
    set_flag(&s->done, 1);
    return NULL;
}

static void *reader(void *arg)
{
    shared *s = arg;
    uint64_t x = (uint64_t)(uintptr_t)&x | 1;
    uint64_t prev_size = 0;
    hash_t prev_root;
    while (!get_flag(&s->done) && !get_flag(&s->failed)) {
        uint64_t size;
        hash_t root, leaf, proof[WN_MERKLE_MAX_PROOF];
        size_t len;
        uint8_t buf[64];
        if (wn_ledger_size(s->l, &size) || size == 0) continue;
        if (wn_ledger_root(s->l, size, root)) { set_flag(&s->failed, 2); break; }
        for (int k = 0; k < 20; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t i = x % size;
            if (wn_ledger_prove_inclusion(s->l, i, size, proof, &len) ||
                wn_ledger_get(s->l, i, buf, sizeof buf, &len, leaf, NULL)) { set_flag(&s->failed, 3); break; }
            if (wn_ledger_prove_inclusion(s->l, i, size, proof, &len) ||
                !wn_merkle_verify_inclusion(leaf, i, size, (const uint8_t (*)[32])proof, len, root)) { set_flag(&s->failed, 4); break; }
            __atomic_add_fetch(&s->proofs, 1, __ATOMIC_RELAXED);
        }
        if (prev_size) {
            if (wn_ledger_prove_consistency(s->l, prev_size, size, proof, &len) ||
                !wn_merkle_verify_consistency(prev_size, size, (const uint8_t (*)[32])proof, len, prev_root, root)) {
                set_flag(&s->failed, 5);
                break;
            }
        }
        prev_size = size;
        memcpy(prev_root, root, 32);
    }
    return NULL;
}

Test(ledger, readers_with_one_writer, .timeout = 120)
{
    char *dir;
    wn_ledger *l = open_new(&dir, "ledger-threads");
    shared s = {l, 0, 0, 0};
    pthread_t w, r[3];
    for (int i = 0; i < 3; i++) pthread_create(&r[i], NULL, reader, &s);
    pthread_create(&w, NULL, writer, &s);
    pthread_join(w, NULL);
    for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
    cr_assert_eq(s.failed, 0, "a reader or the writer failed (code %d)", s.failed);
    cr_assert_gt(s.proofs, 0);
    uint64_t size;
    OK(wn_ledger_size(l, &size));
    cr_assert_gt(size, 400);
    cleanup(l, dir);
}
