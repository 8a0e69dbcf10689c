/* test_node_state.c — the node's per-meter rules (node/ingest/meter.c) and its state view of the
 * ledger (node/ingest/state.c) without HTTP: every rule at its boundary, totalisers compared
 * across units and scales, and the state env surviving a reopen (records with alerts and
 * receipt times intact), catching up with entries appended behind its back, and being
 * rebuilt when it does not match the ledger. Real LMDB files in temp dirs. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "node/http/errors.h"
#include "node/ingest/meter.h"
#include "node/ingest/state.h"
#include "tests/support/testutil.h"

static wn_reading base_reading(uint64_t seq, uint64_t time_ms)
{
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    memset(r.meter, 0x11, 32);
    r.seq = seq;
    r.time_ms = time_ms;
    r.count = 1;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 1000}; /* 1.000 m3 */
    r.alg = WN_ALG_BIP340;
    return r;
}

static wn_meter meter_after(const wn_reading *r)
{
    wn_meter m;
    memset(&m, 0, sizeof m);
    uint8_t d[32];
    memset(d, 0xab, 32);
    wn_meter_advance(&m, r, d, 7);
    return m;
}

static int check(const wn_meter *m, const wn_reading *r)
{
    char detail[200] = "";
    int e = wn_meter_check(m, r, 1000000, 1000, detail, sizeof detail);
    if (e != WN_NE_OK) cr_assert(detail[0], "every rejection explains itself");
    return e;
}

Test(node_rules, sequence_chain_and_time)
{
    wn_reading r1 = base_reading(1, 5000);
    wn_meter empty;
    memset(&empty, 0, sizeof empty);
    cr_assert_eq(check(&empty, &r1), WN_NE_OK, "a first reading needs seq 1 and a zero prev");
    wn_reading r3 = base_reading(3, 5000);
    cr_assert_eq(check(&empty, &r3), WN_NE_SEQUENCE_GAP);

    wn_meter m = meter_after(&r1);
    cr_assert_eq(m.last_seq, 1);
    cr_assert_eq(m.last_index, 7);
    wn_reading r2 = base_reading(2, 5000);
    cr_assert_eq(check(&m, &r2), WN_NE_CHAIN_MISMATCH, "prev must be the last digest");
    memset(r2.prev, 0xab, 32);
    cr_assert_eq(check(&m, &r2), WN_NE_OK, "the same time as the previous reading is fine");
    r2.time_ms = 4999;
    cr_assert_eq(check(&m, &r2), WN_NE_TIME_TRAVEL);
    r2.time_ms = 1000000 + 1000;
    cr_assert_eq(check(&m, &r2), WN_NE_OK, "exactly the skew ahead is fine");
    r2.time_ms = 1000000 + 1001;
    cr_assert_eq(check(&m, &r2), WN_NE_FUTURE_TIME);
    r2.seq = 4;
    cr_assert_eq(check(&m, &r2), WN_NE_SEQUENCE_GAP, "the sequence is checked first");
}

Test(node_rules, totaliser_across_units_and_scales)
{
    wn_reading r1 = base_reading(1, 5000); /* 1.000 m3 */
    wn_meter m = meter_after(&r1);
    wn_reading r2 = base_reading(2, 6000);
    memset(r2.prev, 0xab, 32);
    r2.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 0, 1000}; /* 1000 L = 1 m3 */
    cr_assert_eq(check(&m, &r2), WN_NE_OK);
    r2.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 1, 9999}; /* 999.9 L */
    cr_assert_eq(check(&m, &r2), WN_NE_VOLUME_DECREASED);
    r2.flags = WN_FLAG_METER_REPLACED;
    cr_assert_eq(check(&m, &r2), WN_NE_OK, "a replaced meter may restart its totaliser");
    r2.flags = 0;
    r2.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 9, 999999999}; /* 0.999999999 m3 */
    cr_assert_eq(check(&m, &r2), WN_NE_VOLUME_DECREASED);
    r2.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 0, INT64_MAX};
    cr_assert_eq(check(&m, &r2), WN_NE_OK, "the largest totaliser does not overflow");
    /* a reading without a volume leaves the last one in place */
    r2.m[0] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 1, 55};
    cr_assert_eq(check(&m, &r2), WN_NE_OK);
    uint8_t d[32] = {0};
    wn_meter_advance(&m, &r2, d, 8);
    cr_assert(m.has_volume);
    wn_reading r3 = base_reading(3, 7000);
    r3.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 999};
    cr_assert_eq(check(&m, &r3), WN_NE_VOLUME_DECREASED, "still compared with 1.000 m3");
}

Test(node_rules, sane_ranges)
{
    char d[200];
    wn_reading r = base_reading(1, 1);
    r.count = 2;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 0, 0};
    r.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 1400};
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OK, "pH 14.00");
    r.m[1].value = 1401;
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OUT_OF_RANGE, "pH 14.01");
    cr_assert(strstr(d, "14.01"), "%s", d);
    r.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 9, 14000000000LL};
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OK, "pH 14.000000000");
    r.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 0, -1};
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OUT_OF_RANGE);
    static const uint8_t never_negative[][2] = {
        {WN_Q_VOLUME, WN_U_M3}, {WN_Q_FLOW, WN_U_L_PER_S}, {WN_Q_CONDUCTIVITY, WN_U_US_PER_CM},
        {WN_Q_TURBIDITY, WN_U_NTU}};
    for (size_t i = 0; i < 4; i++) {
        r.count = 1;
        r.m[0] = (wn_measurement){never_negative[i][0], never_negative[i][1], 3, -1};
        cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OUT_OF_RANGE, "quantity %u", never_negative[i][0]);
    }
    r.m[0] = (wn_measurement){WN_Q_PRESSURE, WN_U_KPA, 1, -5};
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OK, "gauge pressure may be negative");
    r.m[0] = (wn_measurement){WN_Q_TEMPERATURE, WN_U_DEGC, 1, -5};
    cr_assert_eq(wn_meter_check_ranges(&r, d, sizeof d), WN_NE_OK);
}

/* ---- state ---- */

static char *tmp;
static wn_ledger *ledger;
static uint8_t reg_sk[32], meter_sk[32], meter_id[32];

static void setup(void)
{
    tmp = wn_test_tmpdir("nstate");
    cr_assert(tmp);
    char p[4200];
    snprintf(p, sizeof p, "%s/ledger", tmp);
    cr_assert_eq(wn_ledger_open(&ledger, p, 0), WN_LEDGER_OK);
    wn_test_prng_seed(42);
    wn_test_prng_bytes(reg_sk, 32);
    wn_test_prng_bytes(meter_sk, 32);
    cr_assert(wn_seckey_xonly(meter_id, meter_sk));
}

static void teardown(void)
{
    if (ledger) wn_ledger_close(ledger);
    wn_test_rmtree(tmp);
    free(tmp);
}

static void append(uint8_t type, const uint8_t *prefix8, const uint8_t *payload, size_t len, const uint8_t *meter,
                   uint64_t seq)
{
    uint8_t e[1 + 8 + WN_ENROLMENT_MAX_LEN];
    size_t n = 0;
    e[n++] = type;
    if (prefix8) memcpy(e + n, prefix8, 8), n += 8;
    memcpy(e + n, payload, len), n += len;
    wn_ledger_item it = {e, n, meter, seq};
    cr_assert_eq(wn_ledger_append(ledger, &it, 1, NULL, NULL), WN_LEDGER_OK);
}

static void append_enrolment(void)
{
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, meter_id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 2;
    memcpy(e.pubkey + 1, meter_id, 32);
    e.time_ms = 1000;
    e.point = 1, e.tier = 1, e.source = 1;
    strcpy(e.enterprise, "E");
    cr_assert_eq(wn_enrolment_sign(&e, reg_sk), WN_ENROL_OK);
    uint8_t b[WN_ENROLMENT_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_enrolment_encode(&e, b, sizeof b, &len), WN_ENROL_OK);
    append(WN_ENTRY_ENROLMENT, NULL, b, len, NULL, 0);
}

/* Appends the meter's reading seq (chained on prev), returns it. */
static wn_reading append_reading(uint64_t seq, const uint8_t prev[32], int64_t litres)
{
    wn_reading r = base_reading(seq, 1000 + seq);
    memcpy(r.meter, meter_id, 32);
    if (prev) memcpy(r.prev, prev, 32);
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 0, litres};
    cr_assert_eq(wn_reading_sign(&r, meter_sk), WN_READING_OK);
    uint8_t b[WN_READING_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_reading_encode(&r, b, sizeof b, &len), WN_READING_OK);
    append(WN_ENTRY_READING, NULL, b, len, meter_id, seq);
    return r;
}

static wn_state *open_state(void)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/state", tmp);
    wn_state *s = NULL;
    cr_assert(wn_state_open(&s, p, ledger));
    return s;
}

TestSuite(node_state, .init = setup, .fini = teardown, .timeout = 60);

Test(node_state, built_from_the_ledger_and_kept_across_reopen)
{
    append_enrolment();                                    /* 0 */
    wn_reading r1 = append_reading(1, NULL, 10);           /* 1 */
    uint8_t d1[32], d2[32];
    wn_reading_digest(&r1, d1);
    wn_reading r2 = append_reading(2, d1, 20);             /* 2 */
    wn_reading_digest(&r2, d2);
    wn_reading conflict = r2;                              /* re-signed: other bytes */
    cr_assert_eq(wn_reading_sign(&conflict, meter_sk), WN_READING_OK);
    uint8_t b[WN_READING_MAX_LEN], orig[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    size_t len;
    cr_assert_eq(wn_reading_encode(&conflict, b, sizeof b, &len), WN_READING_OK);
    append(WN_ENTRY_EQUIVOCATION, orig, b, len, NULL, 0);  /* 3 */

    wn_state *s = open_state();
    cr_assert_eq(wn_state_applied(s), 4);
    cr_assert_eq(wn_state_count(s), 1);
    wn_meter m;
    wn_alert al[4];
    cr_assert(wn_state_get(s, meter_id, &m, al, 4));
    cr_assert_eq(m.enrol_index, 0);
    cr_assert_eq(m.last_seq, 2);
    cr_assert_eq(m.last_index, 2);
    cr_assert_eq(m.last_time, r2.time_ms);
    cr_assert(memcmp(m.last_digest, d2, 32) == 0);
    cr_assert(m.has_volume);
    cr_assert_eq(m.n_alerts, 1);
    cr_assert_eq(al[0].seq, 2);
    cr_assert_eq(al[0].original_index, 2);
    cr_assert_eq(al[0].evidence_index, 3);
    uint8_t unknown[32] = {1};
    cr_assert_not(wn_state_get(s, unknown, &m, NULL, 0));

    /* a commit as the committer makes it: revoked at a new entry 4, accepted at time 777 */
    const wn_meter *cur = wn_state_find(s, meter_id);
    wn_meter rec;
    cr_assert(wn_meter_copy(&rec, cur));
    uint8_t rv[WN_REVOCATION_LEN];
    wn_revocation r = {.time_ms = 2000, .reason = 1};
    memcpy(r.meter, meter_id, 32);
    cr_assert_eq(wn_revocation_sign(&r, reg_sk), WN_ENROL_OK);
    cr_assert_eq(wn_revocation_encode(&r, rv), WN_ENROL_OK);
    append(WN_ENTRY_REVOCATION, NULL, rv, sizeof rv, NULL, 0);
    rec.revoked = 1;
    rec.revoke_index = 4;
    uint8_t chain[32], tmpb[300];
    cr_assert_eq(wn_ledger_get(ledger, 4, tmpb, sizeof tmpb, &len, NULL, chain), WN_LEDGER_OK);
    cr_assert(wn_state_commit(s, &rec, 1, 4, 5, 777, chain));
    uint64_t t;
    cr_assert(wn_state_receipt_time(s, 4, &t));
    cr_assert_eq(t, 777);
    cr_assert_not(wn_state_receipt_time(s, 3, &t), "entries replayed from the ledger have no time");
    wn_state_put_time(s, 1, 555);
    wn_state_close(s);

    /* reopened: loaded as stored (times survive; a rebuild would have lost them) */
    s = open_state();
    cr_assert(wn_state_receipt_time(s, 4, &t));
    cr_assert_eq(t, 777);
    cr_assert(wn_state_receipt_time(s, 1, &t));
    cr_assert_eq(t, 555);
    cr_assert_not(wn_state_receipt_time(s, 2, &t));
    cr_assert(wn_state_get(s, meter_id, &m, al, 4));
    cr_assert(m.revoked);
    cr_assert_eq(m.revoke_index, 4);
    cr_assert_eq(m.n_alerts, 1);
    cr_assert_eq(al[0].evidence_index, 3);
    cr_assert(memcmp(m.last_digest, d2, 32) == 0);

    /* entries appended while the state was closed are replayed */
    wn_state_close(s);
    wn_reading r3 = append_reading(3, d2, 30); /* 5 (the ledger does not judge) */
    (void)r3;
    s = open_state();
    cr_assert_eq(wn_state_applied(s), 6);
    cr_assert(wn_state_get(s, meter_id, &m, NULL, 0));
    cr_assert_eq(m.last_seq, 3);
    cr_assert_eq(m.last_index, 5);
    cr_assert(wn_state_receipt_time(s, 4, &t), "catching up keeps what was stored");
    wn_state_close(s);
}

Test(node_state, rebuilt_when_it_does_not_match_the_ledger)
{
    append_enrolment();
    uint8_t d1[32];
    wn_reading r1 = append_reading(1, NULL, 10);
    wn_reading_digest(&r1, d1);
    wn_state *s = open_state();
    wn_state_put_time(s, 1, 999);
    wn_state_close(s);

    /* a different ledger under the same state: chain hashes differ */
    wn_ledger_close(ledger);
    char p[4200];
    snprintf(p, sizeof p, "%s/ledger", tmp);
    wn_test_rmtree(p);
    cr_assert_eq(wn_ledger_open(&ledger, p, 0), WN_LEDGER_OK);
    append_enrolment();
    append_reading(1, NULL, 11);
    append_reading(2, d1, 12); /* not chained to the new reading 1: the ledger does not judge */
    s = open_state();
    cr_assert_eq(wn_state_applied(s), 3);
    uint64_t t;
    cr_assert_not(wn_state_receipt_time(s, 1, &t), "the old state was thrown away");
    wn_meter m;
    cr_assert(wn_state_get(s, meter_id, &m, NULL, 0));
    cr_assert_eq(m.last_seq, 2);
    wn_state_close(s);

    /* a state ahead of its ledger is rebuilt too */
    wn_ledger_close(ledger);
    wn_test_rmtree(p);
    cr_assert_eq(wn_ledger_open(&ledger, p, 0), WN_LEDGER_OK);
    append_enrolment();
    s = open_state();
    cr_assert_eq(wn_state_applied(s), 1);
    cr_assert(wn_state_get(s, meter_id, &m, NULL, 0));
    cr_assert_eq(m.last_seq, 0);
    wn_state_close(s);
}
