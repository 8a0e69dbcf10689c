/* test_ledger_crash.c — a writer killed with SIGKILL at random moments loses nothing it
 * was told was written, and never leaves part of a batch.
 *
 * Each round forks a child that opens the ledger and appends deterministic batches
 * (1..300 entries, some indexed by (meter, seq), some not) in a loop; after each
 * wn_ledger_append returns OK it writes the batch number to a pipe. The parent kills it
 * with SIGKILL after a random delay, reopens the ledger and checks: every batch the child
 * reported is there with the right bytes; the size is a whole number of batches (the one
 * in flight is wholly present or wholly absent); chain hashes are SHA-256(prev || leaf);
 * the root equals the root recomputed from the expected entries; sampled inclusion proofs
 * and a consistency proof from the previous round's tree verify; the meter index finds
 * what was appended. The next round continues appending to the same files. A process
 * kill does not lose the page cache, so this tests atomicity and LMDB's recovery of a
 * writer that died holding its lock, not power loss. Rounds and delays are fixed by a
 * seed, so the test is bounded and stops by itself. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/sha256.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"
#include "tests/support/testutil.h"

#define CHECK(cond, ...) do { if (!(cond)) cr_assert_fail(__VA_ARGS__); } while (0)
#define OK(call) do { int e_ = (call); CHECK(e_ == WN_LEDGER_OK, "%s: %s", #call, wn_ledger_strerror(e_)); } while (0)

#define ROUNDS 12
#define MAXBATCH 300
#define METERS 4
#define ENTRY_MAX 240

typedef uint8_t hash_t[32];

/* ---------- the deterministic workload ---------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static size_t batch_size(uint64_t b) { return 1 + (size_t)(mix(b * 2 + 1) % MAXBATCH); }

static void meter_of(int k, uint8_t id[32])
{
    for (int i = 0; i < 32; i++) id[i] = (uint8_t)(mix((uint64_t)k * 64 + (uint64_t)i) >> 7);
}

/* Entry i of batch b: its bytes (into buf) and length. The first METERS entries of every
 * batch (fewer if the batch is smaller) are readings of meters 0.. with seq = b + 1; the
 * rest are not indexed. */
static size_t entry_of(uint64_t b, size_t i, uint8_t *buf)
{
    uint64_t r = mix(b * 1000003 + i);
    size_t len = 1 + (size_t)(r % ENTRY_MAX);
    for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)(mix(r + j) >> 11);
    buf[0] = (uint8_t)b;
    return len;
}

static size_t make_batch(uint64_t b, uint8_t bufs[][ENTRY_MAX], uint8_t meters[METERS][32], wn_ledger_item *items)
{
    size_t n = batch_size(b);
    for (size_t i = 0; i < n; i++) {
        size_t len = entry_of(b, i, bufs[i]);
        int indexed = i < METERS; /* meter i, if the batch has an entry i */
        items[i] = (wn_ledger_item){bufs[i], len, indexed ? meters[i] : NULL, indexed ? b + 1 : 0};
    }
    return n;
}

/* The child: append batches from `start` on, forever, reporting each one done. */
static void child(const char *dir, uint64_t start, int fd)
{
    static uint8_t bufs[MAXBATCH][ENTRY_MAX];
    static wn_ledger_item items[MAXBATCH];
    uint8_t meters[METERS][32];
    for (int k = 0; k < METERS; k++) meter_of(k, meters[k]);
    wn_ledger *l;
    if (wn_ledger_open(&l, dir, 0) != WN_LEDGER_OK) _exit(2);
    for (uint64_t b = start;; b++) {
        size_t n = make_batch(b, bufs, meters, items);
        uint64_t first;
        int err = wn_ledger_append(l, items, n, &first, NULL);
        if (err != WN_LEDGER_OK) _exit(3);
        if (write(fd, &b, sizeof b) != (ssize_t)sizeof b) _exit(4);
    }
}

/* ---------- the parent's model and checks ---------- */

typedef struct {
    uint64_t batches, entries;
    uint64_t *batch_first; /* index of the first entry of each batch */
    hash_t *leaf;
    wn_merkle_mem mem;
} expect;

static void expect_grow(expect *e, uint64_t batches)
{
    static uint8_t bufs[MAXBATCH][ENTRY_MAX];
    static wn_ledger_item items[MAXBATCH];
    uint8_t meters[METERS][32];
    for (int k = 0; k < METERS; k++) meter_of(k, meters[k]);
    e->batch_first = realloc(e->batch_first, (batches + 1) * sizeof *e->batch_first);
    for (uint64_t b = e->batches; b < batches; b++) {
        size_t n = make_batch(b, bufs, meters, items);
        e->batch_first[b] = e->entries;
        e->leaf = realloc(e->leaf, (e->entries + n) * sizeof *e->leaf);
        for (size_t i = 0; i < n; i++) {
            wn_merkle_leaf_hash(e->leaf[e->entries + i], items[i].data, items[i].len);
            CHECK(wn_merkle_mem_append(&e->mem, e->leaf[e->entries + i]), "mem append");
        }
        e->entries += n;
    }
    e->batches = batches;
    e->batch_first[batches] = e->entries;
}

/* Total entries in batches [0, b), computed without growing the model. */
static uint64_t entries_before(uint64_t b)
{
    uint64_t t = 0;
    for (uint64_t i = 0; i < b; i++) t += batch_size(i);
    return t;
}

typedef struct {
    const expect *e;
    uint64_t batch, in_batch;
    hash_t chain;
    int bad;
} walk;

static int visit(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32], const uint8_t chain[32])
{
    walk *w = ctx;
    uint8_t want[ENTRY_MAX];
    while (w->e->batch_first[w->batch + 1] <= index) w->batch++;
    size_t wl = entry_of(w->batch, (size_t)(index - w->e->batch_first[w->batch]), want);
    if (wl != len || memcmp(want, entry, len) != 0) return w->bad = 1;
    hash_t l2, c2;
    wn_merkle_leaf_hash(l2, entry, len);
    if (memcmp(l2, leaf, 32) != 0 || memcmp(l2, w->e->leaf[index], 32) != 0) return w->bad = 2;
    wn_sha256_2(c2, w->chain, 32, leaf, 32);
    if (memcmp(c2, chain, 32) != 0) return w->bad = 3;
    memcpy(w->chain, chain, 32);
    return 0;
}

/* Returns 1 if the batch in flight at the kill (unreported) turned out committed. */
static int check_ledger(const char *dir, expect *e, uint64_t reported_max, int any_reported,
                        uint64_t *prev_size, hash_t prev_root, uint64_t round)
{
    wn_ledger *l;
    uint64_t size;
    OK(wn_ledger_open(&l, dir, 0));
    OK(wn_ledger_size(l, &size));

    /* a whole number of batches, including every reported one and at most one more */
    uint64_t lo = any_reported ? reported_max + 1 : e->batches, k = lo;
    while (entries_before(k) < size && k < lo + 2) k++;
    CHECK(entries_before(k) == size, "round %llu: size %llu is not a whole number of batches (>= %llu batches)",
          (unsigned long long)round, (unsigned long long)size, (unsigned long long)lo);
    CHECK(k >= lo, "round %llu: a reported batch is missing", (unsigned long long)round);
    CHECK(k >= e->batches, "round %llu: batches committed earlier disappeared", (unsigned long long)round);
    expect_grow(e, k);

    walk w = {e, 0, 0, {0}, 0};
    int rc = wn_ledger_iterate(l, 0, size, visit, &w);
    CHECK(rc == 0 && w.bad == 0, "round %llu: entries or chain hashes differ (iterate %d, check %d)",
          (unsigned long long)round, rc, w.bad);

    hash_t root, want;
    OK(wn_ledger_root(l, size, root));
    CHECK(wn_merkle_root(want, size, wn_merkle_mem_read, &e->mem), "mem root");
    CHECK(memcmp(root, want, 32) == 0, "round %llu: root differs from the recomputed one", (unsigned long long)round);
    for (int t = 0; t < 64 && size; t++) {
        uint64_t i = mix(round * 977 + (uint64_t)t) % size;
        hash_t proof[WN_MERKLE_MAX_PROOF];
        size_t len;
        OK(wn_ledger_prove_inclusion(l, i, size, proof, &len));
        CHECK(wn_merkle_verify_inclusion(e->leaf[i], i, size, (const uint8_t (*)[32])proof, len, root),
              "round %llu: inclusion proof of %llu fails", (unsigned long long)round, (unsigned long long)i);
    }
    if (*prev_size && *prev_size <= size) {
        hash_t proof[WN_MERKLE_MAX_PROOF];
        size_t len;
        OK(wn_ledger_prove_consistency(l, *prev_size, size, proof, &len));
        CHECK(wn_merkle_verify_consistency(*prev_size, size, (const uint8_t (*)[32])proof, len, prev_root, root),
              "round %llu: the new tree does not extend the previous round's", (unsigned long long)round);
    }

    /* the meter index: last = the last batch, and a sample of finds */
    uint8_t meters[METERS][32];
    for (int m = 0; m < METERS; m++) {
        meter_of(m, meters[m]);
        uint64_t seq, idx, last = k;
        while (last > 0 && batch_size(last - 1) <= (size_t)m) last--; /* meter m's last batch + 1 */
        if (last == 0) {
            CHECK(wn_ledger_meter_last(l, meters[m], &seq, &idx) == WN_LEDGER_ENOTFOUND, "meter %d unknown yet", m);
            continue;
        }
        OK(wn_ledger_meter_last(l, meters[m], &seq, &idx));
        CHECK(seq == last && idx == e->batch_first[last - 1] + (uint64_t)m, "round %llu: meter %d last is (%llu, %llu)",
              (unsigned long long)round, m, (unsigned long long)seq, (unsigned long long)idx);
        for (int t = 0; t < 16; t++) {
            uint64_t b = mix(round * 31 + (uint64_t)t * 7 + (uint64_t)m) % k;
            int err = wn_ledger_find(l, meters[m], b + 1, &idx);
            if (batch_size(b) <= (size_t)m) {
                CHECK(err == WN_LEDGER_ENOTFOUND, "round %llu: meter %d was not in batch %llu", (unsigned long long)round,
                      m, (unsigned long long)b);
                continue;
            }
            CHECK(err == WN_LEDGER_OK && idx == e->batch_first[b] + (uint64_t)m,
                  "round %llu: find (meter %d, seq %llu) gave %s, %llu", (unsigned long long)round, m,
                  (unsigned long long)b + 1, wn_ledger_strerror(err), (unsigned long long)idx);
        }
    }
    *prev_size = size;
    memcpy(prev_root, root, 32);
    wn_ledger_close(l);
    return k > lo;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

Test(ledger_crash, sigkill_loses_no_reported_batch_and_no_batch_is_partial, .timeout = 180)
{
    char *dir = wn_test_tmpdir("ledger-crash");
    cr_assert(dir);
    expect e;
    memset(&e, 0, sizeof e);
    wn_merkle_mem_init(&e.mem);
    expect_grow(&e, 0);
    uint64_t prev_size = 0;
    hash_t prev_root = {0};
    int unreported_present = 0, progress = 0;

    for (uint64_t round = 0; round < ROUNDS; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        uint64_t start = e.batches;
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork");
        if (pid == 0) {
            close(fds[0]);
            child(dir, start, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* kill after 1 .. 120 ms; early rounds include kills during open and first commits */
        long delay = 1000 + (long)(mix(round + 99) % 120000);
        sleep_us(delay);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "the child stopped by itself (status %d): it failed before the kill", status);

        uint64_t b, max = 0;
        int any = 0;
        ssize_t r;
        uint64_t expect_next = start;
        while ((r = read(fds[0], &b, sizeof b)) == (ssize_t)sizeof b) {
            cr_assert_eq(b, expect_next, "the child reported batches out of order");
            expect_next++;
            max = b;
            any = 1;
        }
        close(fds[0]);
        progress += any;
        unreported_present += check_ledger(dir, &e, max, any, &prev_size, prev_root, round);
    }
    cr_assert_gt(e.batches, 0, "no round appended anything before its kill");
    cr_log_info("%d rounds, %d with reported batches, %d with the in-flight batch committed; "
                "%llu batches, %llu entries in the end", ROUNDS, progress, unreported_present,
                (unsigned long long)e.batches, (unsigned long long)e.entries);

    free(e.batch_first);
    free(e.leaf);
    wn_merkle_mem_free(&e.mem);
    wn_test_rmtree(dir);
    free(dir);
}
