/* bench_meter.c — how fast a meter makes durable readings (sign + one write + fdatasync),
 * records receipts, reopens (recovering its state from a log of many readings) and
 * compacts; then whether that stays flat as the log grows: one meter's log filled to
 * 1,000, 100,000 and 1,000,000 readings (--max N to change the last), and at each size the
 * open (`wn-meter read` opens the meter every call), readings made one per fdatasync, and
 * readings made in groups of 64 per fdatasync (`wn-meter read --count`), target >= 1,000
 * durable readings/s. The fill between sizes uses the library's group commit with groups of
 * 4,096 (wn_meter_read_many: every reading signed, verified and chained as usual, one
 * fdatasync per group), which is faster only by syncing less often.
 * Runs in a temp directory on the disk that holds $TMPDIR (or /tmp). */
#include "protocol/receipt.h"
#include "device/meter.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
    (void)s; (void)f; (void)w;
    return remove(p);
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "bench_meter: %s: %s\n", what, wn_meter_strerror(err));
    exit(1);
}

static void bench(const char *base, uint8_t alg, int n)
{
    char dir[4200];
    uint8_t nsk[32], notary[32], b[WN_READING_MAX_LEN];
    size_t len;
    wn_meter m;
    int err;
    snprintf(dir, sizeof dir, "%s/%s", base, alg == WN_ALG_ECDSA ? "ecdsa" : "bip340");
    memset(nsk, 0x42, 32);
    if (!wn_seckey_xonly(notary, nsk)) exit(1);
    if ((err = wn_meter_create(dir, alg, NULL, NULL)) || (err = wn_meter_open(&m, dir))) fail("create", err);

    double t = now();
    for (int i = 1; i <= n; i++) {
        wn_measurement ms[3] = {{WN_Q_VOLUME, WN_U_M3, 3, 1000 * i}, {WN_Q_FLOW, WN_U_M3_PER_H, 3, 12345},
                                {WN_Q_PH, WN_U_PH, 2, 721}};
        if ((err = wn_meter_read(&m, 1795000000000ULL + (uint64_t)i * 900000, 0, ms, 3, b, &len, NULL))) fail("read", err);
    }
    double dt = now() - t;
    printf("%-7s durable readings (sign, write, fdatasync): %7.0f /s  (%.3f ms each)\n",
           alg == WN_ALG_ECDSA ? "ecdsa" : "bip340", n / dt, dt * 1000 / n);

    t = now();
    wn_meter_iter it;
    uint64_t seq;
    int acks = 0;
    wn_meter_pending_begin(&m, &it);
    while (acks < n / 2 && wn_meter_next(&m, &it, b, &len, &seq) == WN_METER_OK) {
        wn_receipt rc = {.index = seq, .time_ms = 1};
        wn_reading_leaf_hash(rc.leaf, b, len);
        if (!wn_receipt_sign(&rc, nsk)) exit(1);
        if ((err = wn_meter_ack(&m, seq, &rc, notary))) fail("ack", err);
        acks++;
    }
    dt = now() - t;
    printf("%-7s receipts verified and logged:            %7.0f /s\n", "", acks / dt);
    wn_meter_close(&m);

    t = now();
    if ((err = wn_meter_open(&m, dir))) fail("open", err);
    dt = now() - t;
    printf("%-7s open (recover %d readings, %d receipts):  %7.1f ms\n", "", n, acks, dt * 1000);
    t = now();
    if ((err = wn_meter_compact(&m))) fail("compact", err);
    dt = now() - t;
    wn_meter_counts c;
    wn_meter_get_counts(&m, &c);
    printf("%-7s compact to %llu pending readings:         %7.1f ms\n", "", (unsigned long long)c.pending, dt * 1000);
    wn_meter_close(&m);
}

static wn_measurement g_ms[2];

static void fill_inputs(wn_meter_input *in, size_t n, uint64_t *t, int64_t *vol)
{
    for (size_t i = 0; i < n; i++) {
        *vol += 7;
        *t += 1000;
        in[i] = (wn_meter_input){*t, 0, NULL, 2};
    }
}

/* Makes n readings in groups of g (g = 1: wn_meter_read, one fdatasync each). Returns: seconds. */
static double make(wn_meter *m, size_t n, size_t g, uint64_t *t, int64_t *vol)
{
    static wn_meter_input in[WN_METER_MANY_MAX];
    static wn_measurement ms[WN_METER_MANY_MAX][2];
    double t0 = now();
    for (size_t done = 0; done < n;) {
        size_t k = n - done < g ? n - done : g;
        fill_inputs(in, k, t, vol);
        for (size_t i = 0; i < k; i++) {
            ms[i][0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, *vol - (int64_t)(7 * (k - 1 - i))};
            ms[i][1] = g_ms[1];
            in[i].ms = ms[i];
        }
        int err = k == 1 && g == 1 ? wn_meter_read(m, in[0].time_ms, 0, ms[0], 2, NULL, NULL, NULL)
                                   : wn_meter_read_many(m, in, k, NULL, NULL, NULL, NULL);
        if (err) fail("read", err);
        done += k;
    }
    return now() - t0;
}

static void scaling(const char *base, uint64_t max)
{
    char dir[4200];
    wn_meter m;
    int err;
    snprintf(dir, sizeof dir, "%s/scale", base);
    g_ms[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 721};
    if ((err = wn_meter_create(dir, WN_ALG_BIP340, NULL, NULL)) || (err = wn_meter_open(&m, dir))) fail("create", err);
    uint64_t t = 1600000000000ULL, size = 0;
    int64_t vol = 1000;
    const uint64_t sizes[] = {1000, 100000, 1000000};
    printf("one meter as its log grows (bip340; target >= 1,000 durable readings/s, flat):\n"
           "  log size    fill s  open ms   one per fdatasync /s   64 per fdatasync /s\n");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t want = sizes[i] < max ? sizes[i] : max;
        if (want <= size) continue;
        double fill = make(&m, want - size, WN_METER_MANY_MAX, &t, &vol);
        wn_meter_close(&m);
        double t0 = now();
        if ((err = wn_meter_open(&m, dir))) fail("open", err);
        double open_ms = (now() - t0) * 1e3;
        double one = make(&m, 30, 1, &t, &vol);
        double grp = make(&m, 64 * 20, 64, &t, &vol);
        size = want + 30 + 64 * 20;
        printf("  %9llu  %7.1f  %7.2f  %21.0f  %20.0f%s\n", (unsigned long long)want, fill, open_ms, 30 / one,
               64 * 20 / grp, 64 * 20 / grp >= 1000 ? "" : "   (below target)");
        fflush(stdout);
    }
    wn_meter_close(&m);
}

int main(int argc, char **argv)
{
    uint64_t max = 1000000;
    if (argc == 3 && strcmp(argv[1], "--max") == 0) max = strtoull(argv[2], NULL, 10);
    const char *tmp = getenv("TMPDIR");
    char base[4096];
    snprintf(base, sizeof base, "%s/wn-bench-meter-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) return 1;
    bench(base, WN_ALG_BIP340, 2000);
    bench(base, WN_ALG_ECDSA, 2000);
    scaling(base, max);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
