/* test_meter_state.c — the meter's state record (device/meter_state.c): a hint that makes
 * opening a meter O(1), never trusted over the logs. An old record (readings and receipts
 * appended after it was written) gives the state a full scan gives; a record that lies
 * (any field changed, check bytes fixed up) is refused and the full scan decides; a
 * record left from before a compaction is not used. */
#include <criterion/criterion.h>

#include "crypto/sha256.h"
#include "device/meter.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "tests/support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1795000000000ULL

static char *g_dir;
static char g_meter[4096];
static uint8_t g_nsk[32], g_notary[32];

static void setup(void)
{
    g_dir = wn_test_tmpdir("meterstate");
    cr_assert(g_dir);
    snprintf(g_meter, sizeof g_meter, "%s/m", g_dir);
    wn_test_prng_seed(77);
    wn_test_prng_bytes(g_nsk, 32);
    g_nsk[0] = 0x12;
    cr_assert(wn_seckey_xonly(g_notary, g_nsk));
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
}

static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
}

TestSuite(meter_state, .init = setup, .fini = teardown);

static char *path(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", g_meter, name);
    return p;
}

static void open_ok(wn_meter *m)
{
    int err = wn_meter_open(m, g_meter);
    cr_assert_eq(err, WN_METER_OK, "open: %s", wn_meter_strerror(err));
}

/* Readings k = from..to, each acked (with a v1 receipt) if ack(k). */
static void readings(wn_meter *m, uint64_t from, uint64_t to, int (*ack)(uint64_t))
{
    for (uint64_t k = from; k <= to; k++) {
        uint8_t b[WN_READING_MAX_LEN];
        size_t l;
        uint64_t seq;
        wn_measurement v = {WN_Q_VOLUME, WN_U_M3, 3, (int64_t)(1000 * k)};
        cr_assert_eq(wn_meter_read(m, T0 + 1000 * k, 0, &v, 1, b, &l, &seq), WN_METER_OK);
        cr_assert_eq(seq, k);
        if (!ack(k)) continue;
        wn_receipt rc;
        memset(&rc, 0, sizeof rc);
        rc.index = 100 + k;
        wn_reading_leaf_hash(rc.leaf, b, l);
        rc.time_ms = T0;
        cr_assert(wn_receipt_sign(&rc, g_nsk));
        cr_assert_eq(wn_meter_ack(m, k, &rc, g_notary), WN_METER_OK);
    }
}

static int odd(uint64_t k) { return k % 2; }
static int all(uint64_t k) { (void)k; return 1; }
static int none(uint64_t k) { (void)k; return 0; }

/* The counts and chain state an open gives. */
typedef struct {
    wn_meter_counts c;
    uint8_t prev[32];
    uint64_t acked, ack_off, log_end, rcpt_end;
} snap;

static snap snap_of(wn_meter *m)
{
    snap s;
    memset(&s, 0, sizeof s);
    wn_meter_get_counts(m, &s.c);
    memcpy(s.prev, m->prev, 32);
    s.acked = m->acked;
    s.ack_off = m->ack_off;
    s.log_end = m->log_end;
    s.rcpt_end = m->rcpt_end;
    return s;
}

static void same(const snap *a, const snap *b, const char *what)
{
    cr_assert(memcmp(&a->c, &b->c, sizeof a->c) == 0, "%s: counts differ", what);
    cr_assert(memcmp(a->prev, b->prev, 32) == 0, "%s: chain differs", what);
    cr_assert(a->acked == b->acked && a->ack_off == b->ack_off && a->log_end == b->log_end &&
                  a->rcpt_end == b->rcpt_end,
              "%s: positions differ", what);
}

/* The state a full scan gives: open without the record. */
static snap full_scan(void)
{
    unlink(path("meter.state"));
    wn_meter m;
    open_ok(&m);
    snap s = snap_of(&m);
    m.failed = 1; /* close without writing a record */
    wn_meter_close(&m);
    return s;
}

static char *read_state(size_t *n)
{
    char *s = wn_test_read_file(path("meter.state"), n);
    cr_assert(s, "no meter.state after close");
    return s;
}

static void write_state(const void *d, size_t n)
{
    FILE *f = fopen(path("meter.state"), "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

Test(meter_state, written_at_close_and_used_with_the_same_result)
{
    wn_meter m;
    open_ok(&m);
    readings(&m, 1, 50, odd);
    snap live = snap_of(&m);
    wn_meter_close(&m);
    size_t n;
    free(read_state(&n));
    open_ok(&m);
    snap hinted = snap_of(&m);
    wn_meter_close(&m);
    same(&live, &hinted, "reopened with the record");
    snap scanned = full_scan();
    same(&live, &scanned, "full scan");
    /* and the meter continues the chain from it */
    open_ok(&m);
    readings(&m, 51, 52, all);
    wn_meter_close(&m);
}

/* A record left behind (a crash, a SIGKILL) is old: readings and receipts appended since
 * are read from the logs' tails. */
Test(meter_state, an_old_record_plus_the_tails_gives_the_full_scan_state)
{
    wn_meter m;
    open_ok(&m);
    readings(&m, 1, 20, none);
    wn_meter_close(&m);
    size_t n;
    char *old = read_state(&n);
    open_ok(&m);
    readings(&m, 21, 40, odd);
    /* receipts for older readings too, out of order */
    for (uint64_t k = 20; k >= 2; k -= 2) {
        uint8_t b[WN_READING_MAX_LEN];
        size_t l;
        cr_assert_eq(wn_meter_get(&m, k, b, &l), WN_METER_OK);
        wn_receipt rc;
        memset(&rc, 0, sizeof rc);
        rc.index = k;
        wn_reading_leaf_hash(rc.leaf, b, l);
        rc.time_ms = T0;
        cr_assert(wn_receipt_sign(&rc, g_nsk));
        cr_assert_eq(wn_meter_ack(&m, k, &rc, g_notary), WN_METER_OK);
    }
    snap live = snap_of(&m);
    m.failed = 1; /* as if killed: no record written at close */
    wn_meter_close(&m);
    write_state(old, n);
    open_ok(&m);
    snap hinted = snap_of(&m);
    wn_meter_close(&m);
    same(&live, &hinted, "old record + tails");
    snap scanned = full_scan();
    same(&live, &scanned, "full scan");
    free(old);
}

/* Every field of the record changed (check bytes fixed up so that only the log can tell):
 * the open still ends in the full scan's state. */
Test(meter_state, a_lying_record_is_not_trusted_over_the_log)
{
    wn_meter m;
    open_ok(&m);
    readings(&m, 1, 30, odd);
    wn_meter_close(&m);
    snap truth = full_scan();
    open_ok(&m);
    wn_meter_close(&m);
    size_t n;
    char *good = read_state(&n);
    size_t refused = 0;
    /* bytes 107..115 are rcpt_count, a cached counter nothing is decided on (meter_state.c) */
    for (size_t i = 8; i + 4 < n; i++) {
        if (i >= 107 && i < 115) continue;
        char *bad = malloc(n);
        memcpy(bad, good, n);
        bad[i] ^= 0x01;
        uint8_t h[32];
        wn_sha256(h, (uint8_t *)bad, n - 4);
        memcpy(bad + n - 4, h, 4);
        write_state(bad, n);
        open_ok(&m);
        snap got = snap_of(&m);
        m.failed = 1;
        wn_meter_close(&m);
        char what[64];
        snprintf(what, sizeof what, "record byte %zu changed", i);
        /* a change the log cannot refute must not matter: the state is the same */
        same(&truth, &got, what);
        refused++;
        free(bad);
    }
    cr_assert_gt(refused, 100);
    /* torn or foreign records */
    write_state(good, n - 1);
    open_ok(&m);
    snap got = snap_of(&m);
    m.failed = 1;
    wn_meter_close(&m);
    same(&truth, &got, "torn record");
    free(good);
}

/* A record from before a compaction names offsets of the old log: not used. */
Test(meter_state, a_record_from_before_compaction_is_not_used)
{
    wn_meter m;
    open_ok(&m);
    readings(&m, 1, 40, all);
    readings(&m, 41, 45, none);
    wn_meter_close(&m);
    size_t n;
    char *old = read_state(&n);
    open_ok(&m);
    cr_assert_eq(wn_meter_compact(&m), WN_METER_OK);
    snap live = snap_of(&m);
    m.failed = 1;
    wn_meter_close(&m);
    write_state(old, n);
    open_ok(&m);
    snap got = snap_of(&m);
    wn_meter_close(&m);
    same(&live, &got, "old record after compaction");
    free(old);
}

/* Group commit (wn_meter_read_many, `wn-meter read --count`): one write and one sync for
 * the group, chained as single readings; a reading failing a check writes nothing. */
Test(meter_state, read_many_chains_and_writes_all_or_nothing)
{
    wn_meter m;
    open_ok(&m);
    readings(&m, 1, 3, none);
    wn_measurement v[10];
    wn_meter_input in[10];
    for (int i = 0; i < 10; i++) {
        v[i] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 10000 + i};
        in[i] = (wn_meter_input){T0 + 10000 + (uint64_t)i, 0, &v[i], 1};
    }
    /* reading 6 of the group goes back in time: nothing of the group is written */
    in[5].time_ms = T0;
    snap before = snap_of(&m);
    size_t at = 99;
    cr_assert_eq(wn_meter_read_many(&m, in, 10, NULL, NULL, NULL, &at), WN_METER_ETIME);
    cr_assert_eq(at, 5);
    snap after = snap_of(&m);
    same(&before, &after, "a refused group");
    in[5].time_ms = T0 + 10005;
    static uint8_t out[10][WN_READING_MAX_LEN];
    size_t lens[10];
    uint64_t first;
    cr_assert_eq(wn_meter_read_many(&m, in, 10, &out[0][0], lens, &first, NULL), WN_METER_OK);
    cr_assert_eq(first, 4);
    /* each returned reading is the logged one, chained to the one before */
    for (int i = 0; i < 10; i++) {
        uint8_t b[WN_READING_MAX_LEN];
        size_t l;
        cr_assert_eq(wn_meter_get(&m, 4 + (uint64_t)i, b, &l), WN_METER_OK);
        cr_assert(l == lens[i] && memcmp(b, out[i], l) == 0);
        wn_reading r;
        cr_assert_eq(wn_reading_decode(&r, b, l), WN_READING_OK);
        if (i) {
            uint8_t d[32];
            wn_sha256(d, out[i - 1], lens[i - 1]);
            cr_assert(memcmp(r.prev, d, 32) == 0, "reading %d does not chain", i);
        }
    }
    readings(&m, 14, 15, all);
    snap live = snap_of(&m);
    wn_meter_close(&m);
    snap scanned = full_scan();
    same(&live, &scanned, "after a group");
}
