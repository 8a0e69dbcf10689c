/* bench_ledger.c — how fast the notary's hot paths are, and what the ledger costs on disk.
 *
 * One run prints: BIP-340 verifications/s on one core; durable appends/s for batches of
 * 1, 100 and 10,000 realistic reading entries (0x01 || a 182-byte, 3-measurement reading,
 * indexed by (meter, seq), 1000 meters round-robin); inclusion proofs built/s on a
 * 1,000,000-entry ledger (random indices, full size); bytes on disk per entry (file size
 * and LMDB's own page usage); and each figure against its target. The ledger lives in a
 * temp dir under /tmp (or $TMPDIR), removed at the end. */
#include "crypto/sig.h"
#include "crypto/sha256.h"
#include "ledger/ledger.h"

#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define METERS 1000
#define ENTRY_LEN (1 + 149 + 3 * 11) /* type byte + reading with 3 measurements */
#define BIG 1000000u

#define TARGET_APPEND100 100000.0 /* entries/s, durable, batches of 100 */
#define TARGET_PROOFS 100000.0    /* inclusion proofs/s, 1M-entry ledger */
#define TARGET_BYTES 400.0        /* bytes on disk per entry, all included */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static char g_dir[4096]; /* the temp ledger, removed on every exit path */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_dir(void)
{
    if (g_dir[0]) nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    g_dir[0] = 0;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_ledger: %s: %s\n", what, wn_ledger_strerror(err));
    remove_dir();
    exit(1);
}

/* The machine's load, printed so that numbers from a busy machine are read as such. */
static void print_load(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) strcpy(buf, "?\n");
        fclose(f);
    }
    printf("load average %s: %s", when, buf);
}

/* ---- Schnorr ------------------------------------------------------------------------ */

static double bench_schnorr(void)
{
    enum { N = 256 };
    static uint8_t sig[N][64], dig[N][32], pub[N][32];
    for (int i = 0; i < N; i++) {
        uint8_t sk[32];
        if (!wn_seckey_generate(sk) || !wn_seckey_xonly(pub[i], sk)) die("keygen", 0);
        for (int j = 0; j < 32; j++) dig[i][j] = (uint8_t)rng();
        if (!wn_schnorr_sign(sig[i], sk, dig[i], NULL)) die("sign", 0);
    }
    long n = 0, bad = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < N; i++) bad += !wn_schnorr_verify(sig[i], dig[i], pub[i]);
        n += N;
        t = now() - t0;
    } while (t < 1.5);
    if (bad) die("a prepared signature did not verify", 0);
    return (double)n / t;
}

/* ---- entries ------------------------------------------------------------------------ */

static uint8_t meter_ids[METERS][32];
static uint64_t next_item; /* global item counter: meter = k % METERS, seq = k / METERS + 1 */

/* A reading-shaped entry: 0x01 || version, meter, seq, time, prev, flags, n = 3,
 * 3 measurements, alg, signature (random bytes where a real one would be). */
static void make_entry(uint8_t e[ENTRY_LEN], uint64_t k)
{
    const uint8_t *meter = meter_ids[k % METERS];
    uint64_t seq = k / METERS + 1, t = 1795000000000ULL + k * 900;
    uint8_t *p = e;
    *p++ = 0x01;
    *p++ = 0x01;
    memcpy(p, meter, 32), p += 32;
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(seq >> (8 * i));
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(t >> (8 * i));
    for (int i = 0; i < 32; i++) *p++ = (uint8_t)rng(); /* previous digest */
    *p++ = 0, *p++ = 0;                                 /* flags */
    *p++ = 3;
    static const uint8_t qu[3][3] = {{1, 1, 3}, {2, 3, 3}, {3, 5, 2}};
    for (int m = 0; m < 3; m++) {
        uint64_t v = (uint64_t)(rng() % 100000000);
        *p++ = qu[m][0], *p++ = qu[m][1], *p++ = qu[m][2];
        for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(v >> (8 * i));
    }
    *p++ = 1;
    for (int i = 0; i < 64; i++) *p++ = (uint8_t)rng();
}

/* Appends `batches` batches of `per` entries; returns entries per second. */
static double bench_append(wn_ledger *l, size_t per, size_t batches)
{
    uint8_t (*data)[ENTRY_LEN] = malloc(per * ENTRY_LEN);
    wn_ledger_item *items = malloc(per * sizeof *items);
    double spent = 0;
    for (size_t b = 0; b < batches; b++) {
        for (size_t i = 0; i < per; i++) {
            uint64_t k = next_item + i;
            make_entry(data[i], k);
            items[i] = (wn_ledger_item){data[i], ENTRY_LEN, meter_ids[k % METERS], k / METERS + 1};
        }
        double t0 = now();
        int err = wn_ledger_append(l, items, per, NULL, NULL);
        spent += now() - t0;
        if (err) die("append", err);
        next_item += per;
    }
    free(data);
    free(items);
    return (double)(per * batches) / spent;
}

/* ---- proofs ------------------------------------------------------------------------- */

struct proof_job {
    wn_ledger *l;
    uint64_t size, seed;
    double seconds;
    long done;
};

static void *proof_worker(void *arg)
{
    struct proof_job *j = arg;
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t len;
    uint64_t x = j->seed;
    long n = 0;
    double t0 = now();
    do {
        for (int i = 0; i < 1000; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int err = wn_ledger_prove_inclusion(j->l, x % j->size, j->size, proof, &len);
            if (err) die("prove_inclusion", err);
        }
        n += 1000;
    } while (now() - t0 < j->seconds);
    j->seconds = now() - t0;
    j->done = n;
    return NULL;
}

static double bench_proofs(wn_ledger *l, uint64_t size, int threads)
{
    pthread_t th[8];
    struct proof_job job[8];
    double rate = 0;
    for (int t = 0; t < threads; t++) {
        job[t] = (struct proof_job){l, size, 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1), 1.5, 0};
        pthread_create(&th[t], NULL, proof_worker, &job[t]);
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        rate += (double)job[t].done / job[t].seconds;
    }
    return rate;
}

/* Checks one proof per 1000 random indices against the root, so the bench cannot be
 * fast by being wrong. */
static void spot_check(wn_ledger *l, uint64_t size)
{
    uint8_t root[32], leaf[32], proof[WN_MERKLE_MAX_PROOF][32], buf[ENTRY_LEN];
    size_t len, elen;
    int err = wn_ledger_root(l, size, root);
    if (err) die("root", err);
    for (int i = 0; i < 100; i++) {
        uint64_t idx = rng() % size;
        if ((err = wn_ledger_prove_inclusion(l, idx, size, proof, &len))) die("prove", err);
        if ((err = wn_ledger_get(l, idx, buf, sizeof buf, &elen, leaf, NULL))) die("get", err);
        uint8_t again[32];
        wn_merkle_leaf_hash(again, buf, elen);
        if (memcmp(again, leaf, 32) != 0 || !wn_merkle_verify_inclusion(leaf, idx, size, (const uint8_t(*)[32])proof, len, root)) {
            fprintf(stderr, "bench_ledger: proof of %llu does not verify\n", (unsigned long long)idx);
            exit(1);
        }
    }
}

/* ---- disk --------------------------------------------------------------------------- */

struct disk {
    double file_bytes, alloc_bytes, used_pages, last_pgno, psize;
    double db_pages[7];
};

#define NDB 6
static const char *db_names[NDB] = {"entries", "heads", "meters", "mseq", "checkpoints", "meta"};

static double stat_pages(const MDB_stat *s)
{
    return (double)(s->ms_branch_pages + s->ms_leaf_pages + s->ms_overflow_pages);
}

/* Measures with LMDB directly (the ledger must be closed: one env per file per process). */
static void measure_disk(const char *dir, struct disk *d)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) die("stat data.mdb", WN_LEDGER_EIO);
    d->file_bytes = (double)sb.st_size;
    d->alloc_bytes = (double)sb.st_blocks * 512.0;

    MDB_env *env;
    MDB_txn *txn;
    MDB_stat st;
    MDB_envinfo info;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
        mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0) || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
        die("open env for stats", WN_LEDGER_EIO);
    mdb_env_info(env, &info);
    mdb_env_stat(env, &st); /* the main DB, which holds the named DB records */
    d->psize = st.ms_psize;
    d->last_pgno = (double)info.me_last_pgno + 1;
    d->used_pages = stat_pages(&st) + 2; /* + the two meta pages */
    d->db_pages[NDB] = stat_pages(&st);
    for (int i = 0; i < NDB; i++) {
        MDB_dbi dbi;
        if (mdb_dbi_open(txn, db_names[i], 0, &dbi) || mdb_stat(txn, dbi, &st))
            die("stat db", WN_LEDGER_EIO);
        d->db_pages[i] = stat_pages(&st);
        d->used_pages += d->db_pages[i];
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

static void print_disk(const char *when, const struct disk *d, double entries)
{
    printf("  %s (%.0f entries, page size %.0f):\n", when, entries, d->psize);
    printf("    data.mdb file size / entry          %8.1f bytes  (%.1f MB)\n", d->file_bytes / entries, d->file_bytes / 1e6);
    printf("    data.mdb blocks allocated / entry   %8.1f bytes\n", d->alloc_bytes / entries);
    printf("    pages below last_pgno / entry       %8.1f bytes  (incl. free pages)\n", d->last_pgno * d->psize / entries);
    printf("    LMDB pages in use / entry           %8.1f bytes\n", d->used_pages * d->psize / entries);
    printf("      of which:");
    for (int i = 0; i <= NDB; i++)
        printf(" %s %.2f%s", i < NDB ? db_names[i] : "main", d->db_pages[i] * d->psize / entries, i < NDB ? "," : "\n");
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/wn-bench-ledger-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) die("mkdtemp", WN_LEDGER_EIO);
    strcpy(g_dir, dir);
    for (int m = 0; m < METERS; m++)
        for (int i = 0; i < 32; i++) meter_ids[m][i] = (uint8_t)rng();

    printf("WaterNotary ledger benchmark (entries of %d bytes, %d meters round-robin, ledger in %s)\n",
           ENTRY_LEN, METERS, dir);
    print_load("at start");

    double schnorr = bench_schnorr();
    printf("BIP-340 Schnorr verify, 1 core:          %10.0f verifications/s\n", schnorr);

    wn_ledger *l;
    int err = wn_ledger_open(&l, dir, 0);
    if (err) die("open", err);

    /* Build the 1M-entry ledger in batches of 10,000: that is the batch-10,000 figure. */
    double t0 = now();
    double a10k = bench_append(l, 10000, BIG / 10000);
    double build = now() - t0;
    printf("durable append, batches of 10,000:       %10.0f entries/s  (%u entries built in %.1f s)\n", a10k, BIG, build);

    uint64_t size;
    if ((err = wn_ledger_size(l, &size))) die("size", err);
    spot_check(l, size);
    double proofs1 = bench_proofs(l, size, 1);
    double proofs2 = bench_proofs(l, size, 2);
    printf("inclusion proofs, %llu entries, 1 thread: %10.0f proofs/s\n", (unsigned long long)size, proofs1);
    printf("inclusion proofs, %llu entries, 2 threads:%10.0f proofs/s\n", (unsigned long long)size, proofs2);

    wn_ledger_close(l);
    struct disk d1;
    measure_disk(dir, &d1);
    if ((err = wn_ledger_open(&l, dir, 0))) die("reopen", err);

    double a100 = bench_append(l, 100, 500);
    printf("durable append, batches of 100:          %10.0f entries/s  (%.0f commits/s)\n", a100, a100 / 100);
    double a1 = bench_append(l, 1, 1000);
    printf("durable append, batches of 1:            %10.0f entries/s\n", a1);
    if ((err = wn_ledger_size(l, &size))) die("size", err);
    spot_check(l, size);
    wn_ledger_close(l);

    struct disk d2;
    measure_disk(dir, &d2);
    printf("bytes on disk per entry (entry itself: %d bytes):\n", ENTRY_LEN);
    print_disk("after building in batches of 10,000", &d1, BIG);
    print_disk("after 50,000 more in batches of 100 and 1,000 single appends", &d2, (double)size);

    double disk = d2.file_bytes / (double)size;
    printf("ratios:\n");
    printf("  batch-100 appends / target (%.0f/s)      %6.2f  %s\n", TARGET_APPEND100, a100 / TARGET_APPEND100, a100 >= TARGET_APPEND100 ? "met" : "MISSED");
    printf("  proofs (1 thread) / target (%.0f/s)      %6.2f  %s\n", TARGET_PROOFS, proofs1 / TARGET_PROOFS, proofs1 >= TARGET_PROOFS ? "met" : "MISSED");
    printf("  bytes per entry (file) / target (%.0f)     %6.2f  %s\n", TARGET_BYTES, disk / TARGET_BYTES, disk <= TARGET_BYTES ? "met" : "MISSED");
    printf("  batch-100 appends / Schnorr verifies (1 core) %6.2f\n", a100 / schnorr);
    printf("  batch-10,000 / batch-100 / batch-1 appends    %.1f : %.1f : 1\n", a10k / a1, a100 / a1);

    print_load("at end");
    remove_dir();
    return 0;
}
