/* bench_meter.c — how fast a meter makes durable readings (sign + one write + fdatasync),
 * records receipts, reopens (recovering its state from a log of many readings) and
 * compacts. Runs in a temp directory on the disk that holds $TMPDIR (or /tmp). */
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

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char base[4096];
    snprintf(base, sizeof base, "%s/wn-bench-meter-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base)) return 1;
    bench(base, WN_ALG_BIP340, 2000);
    bench(base, WN_ALG_ECDSA, 2000);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
