/* bench_datadir.c — what the node's start-up checks of its data directory cost
 * (node/datadir/startcheck.h, ledger/lmdb_file.h): on ledgers of 10,000, 100,000 and 1,000,000
 * entries (183-byte entries, not indexed), with the newest signed checkpoint 500 entries
 * before the end, it prints the milliseconds of the LMDB length check of data.mdb and of
 * the whole agreement check (signature, root at the signed size, re-hash of the last
 * WN_STARTCHECK_TAIL entries before it and every entry after it), warm page cache, the
 * best of 5 runs. The ledgers live in a temp dir under /tmp (or $TMPDIR), removed at the
 * end. */
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/lmdb_file.h"
#include "node/datadir/datadir.h"
#include "node/datadir/startcheck.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_LEN 183
#define UNSIGNED_TAIL 500
#define BATCH 10000

static char g_dir[4096];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static void die(const char *what)
{
    fprintf(stderr, "bench_datadir: %s\n", what);
    remove_dir();
    exit(1);
}

/* Appends entries up to size n (from the ledger's current size). */
static void fill(wn_ledger *l, uint64_t have, uint64_t n)
{
    static uint8_t data[BATCH][ENTRY_LEN];
    static wn_ledger_item items[BATCH];
    while (have < n) {
        size_t per = n - have > BATCH ? BATCH : (size_t)(n - have);
        for (size_t i = 0; i < per; i++) {
            uint64_t k = have + i;
            memset(data[i], (int)(k & 0xff), ENTRY_LEN);
            memcpy(data[i] + 1, &k, 8);
            data[i][0] = 0x01;
            items[i] = (wn_ledger_item){.data = data[i], .len = ENTRY_LEN};
        }
        if (wn_ledger_append(l, items, per, NULL, NULL)) die("append");
        have += per;
    }
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/wn-bench-datadir-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) die("mkdtemp");
    char ldir[4200];
    snprintf(ldir, sizeof ldir, "%s/ledger", g_dir);
    uint8_t sk[32], pk[32];
    if (!wn_seckey_generate(sk) || !wn_seckey_xonly(pk, sk)) die("key");
    wn_ledger *l;
    if (wn_ledger_open(&l, ldir, 0)) die("open");
    static const uint64_t sizes[] = {10000, 100000, 1000000};
    uint64_t have = 0;
    printf("start-up checks of the data directory (best of 5, warm cache; signed checkpoint %u entries before the "
           "end, %u entries re-hashed before it)\n",
           UNSIGNED_TAIL, WN_STARTCHECK_TAIL);
    printf("%10s %14s %16s %14s\n", "entries", "length ms", "agreement ms", "re-hashed");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t n = sizes[s];
        fill(l, have, n);
        have = n;
        wn_checkpoint cp;
        memset(&cp, 0, sizeof cp);
        snprintf(cp.origin, sizeof cp.origin, "bench/datadir");
        cp.size = n - UNSIGNED_TAIL;
        if (wn_ledger_root(l, cp.size, cp.root)) die("root");
        char note[WN_CHECKPOINT_MAX + 1];
        size_t len;
        if (wn_checkpoint_sign(&cp, sk, note, sizeof note, &len) || wn_ledger_put_checkpoint(l, cp.size, note, len) ||
            !wn_datadir_save_checkpoint(g_dir, note, len))
            die("checkpoint");
        double best_len = 1e9, best_all = 1e9;
        wn_startcheck_result r;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now();
            if (wn_lmdb_file_check(ldir, NULL, NULL) != WN_LMDB_FILE_OK) die("length check");
            double t1 = now();
            if (!wn_startcheck_run(g_dir, l, pk, "bench.key", 0, &r)) die("start check refused");
            double t2 = now();
            if (t1 - t0 < best_len) best_len = t1 - t0;
            if (t2 - t1 < best_all) best_all = t2 - t1;
        }
        printf("%10llu %14.3f %16.2f %14llu\n", (unsigned long long)n, best_len * 1e3, best_all * 1e3,
               (unsigned long long)(r.to - r.from));
    }
    wn_ledger_close(l);
    remove_dir();
    return 0;
}
