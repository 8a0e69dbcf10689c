/* test_timing.c — time that cannot be made up (issue 12): the timed ledger entry form and
 * its one parser (ledger/entry.h, PROTOCOL §3), receipts of timed entries. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit/audit.h"
#include "cli/audit/audit_lmdb.h"
#include "crypto/sha256.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/merkle.h"
#include "protocol/receipt.h"
#include "tests/support/testledger.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = wn_test_tmpdir("timing");
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(timing, .init = setup, .fini = teardown, .timeout = 300);

/* ---- the entry parser ---- */

Test(timing, entry_forms_parse_byte_by_byte)
{
    /* timed reading: 0x81, commit time 0x0102030405060708, marks late, payload "abc" */
    const uint8_t timed[] = {0x81, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 'a', 'b', 'c'};
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, timed, sizeof timed), WN_ENTRY_OK);
    cr_assert_eq(v.kind, WN_ENTRY_READING);
    cr_assert_eq(v.type, 0x81);
    cr_assert(v.timed);
    cr_assert_eq(v.commit_ms, 0x0102030405060708ULL);
    cr_assert_eq(v.marks, WN_ENTRY_MARK_LATE);
    cr_assert_eq(v.len, 3);
    cr_assert_eq(v.payload, timed + 10);

    /* untimed (legacy) enrolment */
    const uint8_t untimed[] = {0x02, 'x', 'y'};
    cr_assert_eq(wn_entry_parse(&v, untimed, sizeof untimed), WN_ENTRY_OK);
    cr_assert_eq(v.kind, WN_ENTRY_ENROLMENT);
    cr_assert_not(v.timed);
    cr_assert_eq(v.commit_ms, 0);
    cr_assert_eq(v.len, 2);
    cr_assert_eq(v.payload, untimed + 1);

    /* a timed entry with an empty payload is well-formed (each kind checks its own) */
    cr_assert_eq(wn_entry_parse(&v, timed, 10), WN_ENTRY_OK);
    cr_assert_eq(v.len, 0);

    /* the writer writes exactly the header the parser reads */
    uint8_t h[WN_ENTRY_TIMED_HEADER];
    cr_assert_eq(wn_entry_put_timed_header(h, WN_ENTRY_READING, 0x0102030405060708ULL, WN_ENTRY_MARK_LATE), 10);
    cr_assert_arr_eq(h, timed, 10);
}

Test(timing, entry_parser_refuses_what_it_does_not_know)
{
    wn_entry_view v;
    const uint8_t empty[1] = {0};
    cr_assert_eq(wn_entry_parse(&v, empty, 0), WN_ENTRY_ESHORT, "empty");
    for (size_t n = 1; n < 10; n++) {
        const uint8_t t[10] = {0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        cr_assert_eq(wn_entry_parse(&v, t, n), WN_ENTRY_ESHORT, "a timed entry of %zu bytes", n);
    }
    const uint8_t unknown[][11] = {{0x00, 'p'}, {0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'},
                                   {WN_ENTRY_KIND_MAX + 1, 'p'},
                                   {0x80 | (WN_ENTRY_KIND_MAX + 1), 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'},
                                   {0x7f, 'p'}, {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'}};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        cr_assert_eq(wn_entry_parse(&v, unknown[i], unknown[i][0] & 0x80 ? 11 : 2), WN_ENTRY_ETYPE,
                     "type 0x%02x", unknown[i][0]);
    for (unsigned bit = 1; bit < 8; bit++) {
        const uint8_t t[] = {0x81, 0, 0, 0, 0, 0, 0, 0, 1, (uint8_t)(1u << bit), 'p'};
        cr_assert_eq(wn_entry_parse(&v, t, sizeof t), WN_ENTRY_EMARKS, "marks bit %u", bit);
        cr_assert_eq(v.kind, 0, "nothing is given out of a refused entry");
    }
    cr_assert_eq(wn_entry_kind((const uint8_t[]){0x85, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10), WN_ENTRY_CERTIFICATE);
    cr_assert_eq(wn_entry_kind((const uint8_t[]){0x85, 0, 0}, 3), 0);
}

/* A receipt is for a reading when its leaf is the timed entry's at the receipt's time (late
 * or not) or, before commit times, the untimed entry's; never at another time. */
Test(timing, receipt_leaf_of_a_timed_reading)
{
    const uint8_t reading[] = {1, 2, 3, 4, 5};
    uint8_t entry[10 + sizeof reading];
    wn_receipt rc;
    memset(&rc, 0, sizeof rc);
    rc.time_ms = 1765142910494ULL;
    for (uint8_t marks = 0; marks <= 1; marks++) {
        wn_entry_put_timed_header(entry, WN_ENTRY_READING, rc.time_ms, marks);
        memcpy(entry + 10, reading, sizeof reading);
        wn_merkle_leaf_hash(rc.leaf, entry, sizeof entry);
        uint8_t leaf[32];
        wn_reading_timed_leaf_hash(leaf, reading, sizeof reading, rc.time_ms, marks);
        cr_assert_arr_eq(leaf, rc.leaf, 32);
        cr_assert(wn_receipt_is_for_reading(&rc, reading, sizeof reading));
        rc.time_ms++;
        cr_assert_not(wn_receipt_is_for_reading(&rc, reading, sizeof reading), "another commit time");
        rc.time_ms--;
    }
    wn_reading_leaf_hash(rc.leaf, reading, sizeof reading);
    cr_assert(wn_receipt_is_for_reading(&rc, reading, sizeof reading), "the untimed form");
    entry[9] = 0x02; /* an unknown mark is no entry at all */
    wn_merkle_leaf_hash(rc.leaf, entry, sizeof entry);
    cr_assert_not(wn_receipt_is_for_reading(&rc, reading, sizeof reading));
}

/* ---- the audit of commit times ---- */

/* Audits the ledger of t (closed here) in this process. Returns: the number of problems;
 * the first in *first, the summary in *sum. */
static long audit_of(wn_tl *t, wn_audit_problem *first, wn_audit_summary *sum)
{
    wn_tl_close(t);
    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.notary, t->notary_pub, 32);
    cfg.workers = 2;
    cfg.max_details = 50;
    wn_auditor *a;
    cr_assert_eq(wn_auditor_new(&a, &cfg), WN_AUDIT_OK);
    char why[512];
    cr_assert(wn_audit_lmdb_run(a, t->dir, NULL, NULL, why, sizeof why), "%s", why);
    cr_assert_eq(wn_auditor_finish(a), WN_AUDIT_OK);
    size_t n;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, NULL);
    long total = (long)wn_auditor_summary(a)->problems;
    if (sum) *sum = *wn_auditor_summary(a);
    if (n && first) *first = *p;
    wn_auditor_free(a);
    return total;
}

#define T0 1765142910494ULL

/* Two meters, enrolled and read with timed entries whose commit times step by `step`
 * (from T0); an untimed prefix of `untimed` entries first (a ledger from before). */
static void timed_ledger(wn_tl *t, const char *name, unsigned untimed)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    cr_assert(wn_tl_create(t, dir));
    wn_tl_add_meter(t, 0, "91330400MA0000001X");
    wn_tl_add_meter(t, 1, "91330400MA0000001X");
    unsigned n = 0;
    for (unsigned k = 0; k < 2; k++, n++) {
        t->commit_ms = n < untimed ? 0 : T0 + 1000 * n;
        cr_assert_neq(wn_tl_enrol(t, k, NULL), WN_TL_FAIL);
    }
    for (unsigned i = 0; i < 6; i++, n++) {
        t->commit_ms = n < untimed ? 0 : T0 + 1000 * n;
        cr_assert_neq(wn_tl_reading(t, i % 2, 0), WN_TL_FAIL);
    }
}

Test(timing, audit_passes_timed_and_upgraded_ledgers_and_counts_them)
{
    for (unsigned untimed = 0; untimed <= 3; untimed += 3) {
        wn_tl t;
        char name[32];
        snprintf(name, sizeof name, "l%u", untimed);
        timed_ledger(&t, name, untimed);
        cr_assert_neq(wn_tl_checkpoint(&t, NULL, NULL), WN_TL_FAIL);
        uint64_t ms;
        cr_assert(wn_entry_commit_time_at(t.l, 7, &ms) && ms == T0 + 7000);
        wn_audit_summary sum;
        wn_audit_problem p;
        long np = audit_of(&t, &p, &sum);
        cr_assert_eq(np, 0, "untimed %u: %s %s", untimed, wn_audit_code_name(p.code), p.detail);
        cr_assert_eq(sum.timed, 8 - untimed);
        cr_assert_eq(sum.first_commit_ms, T0 + 1000 * untimed);
        cr_assert_eq(sum.last_commit_ms, T0 + 7000);
        cr_assert_eq(sum.checkpoints_valid, 1);
    }
}

Test(timing, audit_names_untimed_after_timed_and_time_going_back)
{
    wn_tl t;
    timed_ledger(&t, "after", 0);
    t.commit_ms = 0; /* an untimed entry after timed ones */
    uint64_t bad = wn_tl_reading(&t, 0, 0);
    wn_audit_problem p;
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "untimed_after_timed");

    timed_ledger(&t, "back", 0);
    t.commit_ms = T0 + 6999; /* before entry 7's */
    bad = wn_tl_reading(&t, 1, 0);
    t.commit_ms = T0 + 7000; /* the same as the latest: fine */
    wn_tl_reading(&t, 0, 0);
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "commit_time_backwards");

    timed_ledger(&t, "latemark", 0);
    t.commit_ms = T0 + 9000;
    t.marks = WN_ENTRY_MARK_LATE; /* on a revocation: only readings are late */
    bad = wn_tl_revoke(&t, 1);
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "entry_type");
}

/* A checkpoint signed by the notary whose commit-time line is not entry size-1's, or is
 * missing, or is present on an untimed tail. */
static void put_checkpoint(wn_tl *t, int has_time, uint64_t time_ms)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", t->origin);
    cr_assert_eq(wn_ledger_size(t->l, &cp.size), 0);
    cr_assert_eq(wn_ledger_root(t->l, cp.size, cp.root), 0);
    cp.has_time = has_time;
    cp.time_ms = time_ms;
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    cr_assert_eq(wn_checkpoint_sign(&cp, t->notary_sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_ledger_put_checkpoint(t->l, cp.size, note, len), 0);
}

Test(timing, audit_checks_the_checkpoint_commit_time)
{
    struct { int untimed, has_time; uint64_t t; unsigned sub; } c[] = {
        {0, 1, T0 + 7001, 2}, /* a time after the last entry's */
        {0, 1, T0 + 6000, 2}, /* before it */
        {0, 0, 0, 1},         /* none, for a timed tail */
        {8, 1, T0, 0},        /* one, for an untimed ledger */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        wn_tl t;
        char name[32];
        snprintf(name, sizeof name, "cp%zu", i);
        timed_ledger(&t, name, (unsigned)c[i].untimed);
        put_checkpoint(&t, c[i].has_time, c[i].t);
        wn_audit_problem p;
        cr_assert_eq(audit_of(&t, &p, NULL), 1, "case %zu", i);
        cr_assert_eq(p.where, WN_AUDIT_AT_CHECKPOINT);
        cr_assert_eq(p.at, 8);
        cr_assert_str_eq(wn_audit_code_name(p.code), "checkpoint_time", "case %zu: %s", i, p.detail);
        cr_assert_eq(p.sub, c[i].sub, "case %zu: %s", i, p.detail);
    }
    wn_tl t; /* and the right one passes */
    timed_ledger(&t, "cpok", 0);
    put_checkpoint(&t, 1, T0 + 7000);
    cr_assert_eq(audit_of(&t, NULL, NULL), 0);
}

/* ---- the node: readings before enrolment, late marks ---- */

#include <cjson/cJSON.h>
#include <signal.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"

#define DAY 86400000ULL

typedef struct {
    wn_test_node node;
    uint8_t reg_sk[32];
    char reg_hex[65];
    uint8_t sk[32], id[32], prev[32];
    uint64_t seq;
} fixture;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void start(fixture *f, const char *const *extra)
{
    memset(f, 0, sizeof *f);
    wn_test_prng_seed(1212);
    do wn_test_prng_bytes(f->reg_sk, 32); while (!wn_seckey_valid(f->reg_sk));
    uint8_t pub[32];
    cr_assert(wn_seckey_xonly(pub, f->reg_sk));
    wn_hex_encode(f->reg_hex, pub, 32);
    do wn_test_prng_bytes(f->sk, 32); while (!wn_seckey_valid(f->sk));
    cr_assert(wn_seckey_xonly(f->id, f->sk));
    wn_test_node_init(&f->node, tmp);
    const char *args[8] = {"--registrar", f->reg_hex, "--checkpoint-ms", "20"};
    for (int i = 0; extra && extra[i]; i++) args[4 + i] = extra[i];
    cr_assert(wn_test_node_start(&f->node, args), "wn-node did not start");
}

/* Enrols the fixture's meter with the registrar's record dated enrol_ms. */
static void enrol_at(fixture *f, uint64_t enrol_ms)
{
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, f->id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    memcpy(e.pubkey + 1, f->id, 32);
    e.time_ms = enrol_ms;
    e.point = WN_POINT_INTAKE;
    e.tier = 1;
    e.source = WN_SOURCE_TAP;
    strcpy(e.enterprise, "91330400MA2B000000");
    cr_assert_eq(wn_enrolment_sign(&e, f->reg_sk), WN_ENROL_OK);
    char json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_enrolment_to_json(&e, json, sizeof json, &len), WN_ENROL_OK);
    wn_test_resp r;
    cr_assert(wn_test_http(f->node.url, "POST", "/v1/enrolments", "application/json", json, len, &r));
    cr_assert_eq(r.status, 200, "%s", (char *)r.body);
    wn_test_resp_free(&r);
}

/* Posts the meter's next readings at times[0..n) in one binary request. Returns the
 * parsed answer (the caller frees it). */
static cJSON *post_times(fixture *f, const uint64_t *times, size_t n)
{
    uint8_t *batch = malloc(n * (2 + WN_READING_MAX_LEN));
    cr_assert_not_null(batch);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, f->id, 32);
        r.seq = ++f->seq;
        r.time_ms = times[i];
        memcpy(r.prev, f->prev, 32);
        r.count = 1;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, (int64_t)(1000 * f->seq)};
        cr_assert_eq(wn_reading_sign(&r, f->sk), WN_READING_OK);
        size_t rl;
        cr_assert_eq(wn_reading_encode(&r, batch + len + 2, WN_READING_MAX_LEN, &rl), WN_READING_OK);
        wn_put_u16(batch + len, (uint16_t)rl);
        len += 2 + rl;
        wn_reading_digest(&r, f->prev);
    }
    wn_test_resp r;
    cr_assert(wn_test_http(f->node.url, "POST", "/v1/readings", "application/vnd.waternotary.readings", batch, len, &r));
    free(batch);
    cr_assert_eq(r.status, 200, "%.300s", (char *)r.body);
    cJSON *j = cJSON_Parse((char *)r.body);
    wn_test_resp_free(&r);
    cr_assert_not_null(j);
    return j;
}

static cJSON *get_json(fixture *f, const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(f->node.url, "GET", path, NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200, "%s: %s", path, (char *)r.body);
    cJSON *j = cJSON_Parse((char *)r.body);
    wn_test_resp_free(&r);
    cr_assert_not_null(j);
    return j;
}

/* The fraud of issue 12: a meter enrolled today pushes 2,000 readings dated 2020 in one
 * request. Every one is refused, before_enrolment, and nothing reaches the ledger. */
Test(timing, readings_dated_before_the_enrolment_are_refused)
{
    fixture f;
    start(&f, NULL);
    enrol_at(&f, now_ms() - 60000);
    uint64_t *times = malloc(2000 * sizeof *times);
    for (size_t i = 0; i < 2000; i++) times[i] = 1577836800000ULL + i * 3600000ULL; /* 2020-01-01, hourly */
    cJSON *j = post_times(&f, times, 2000);
    free(times);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 2000);
    size_t refused = 0;
    for (const cJSON *e = res->child; e; e = e->next) {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");
        refused += cJSON_IsString(err) && strcmp(err->valuestring, "before_enrolment") == 0 &&
                   strcmp(cJSON_GetObjectItemCaseSensitive(e, "status")->valuestring, "rejected") == 0;
    }
    cr_assert_eq(refused, 2000, "every reading refused before_enrolment");
    cJSON_Delete(j);
    wn_test_resp r;
    cr_assert(wn_test_http(f.node.url, "GET", "/v1/entries/1", NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 404, "nothing but the enrolment is in the ledger: %s", (char *)r.body);
    wn_test_resp_free(&r);
    /* a single reading in JSON: the HTTP status is the error's, 422 */
    wn_reading one;
    memset(&one, 0, sizeof one);
    one.version = 1;
    memcpy(one.meter, f.id, 32);
    one.seq = 1;
    one.time_ms = 1577836800000ULL;
    one.count = 1;
    one.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 1};
    cr_assert_eq(wn_reading_sign(&one, f.sk), WN_READING_OK);
    char json[WN_READING_JSON_MAX];
    size_t jl;
    cr_assert_eq(wn_reading_to_json(&one, json, sizeof json, &jl), WN_READING_OK);
    cr_assert(wn_test_http(f.node.url, "POST", "/v1/readings", "application/json", json, jl, &r));
    cr_assert_eq(r.status, 422, "%s", (char *)r.body);
    cr_assert_not_null(strstr((char *)r.body, "\"error\":\"before_enrolment\""), "%s", (char *)r.body);
    wn_test_resp_free(&r);
    /* the enrolment's time is kept with the meter's state: after a SIGKILL (state loaded as
     * stored) and after the state is deleted (rebuilt from the ledger), the same refusal */
    const char *args[] = {"--registrar", f.reg_hex, "--checkpoint-ms", "20", NULL};
    for (int round = 0; round < 2; round++) {
        wn_test_node_stop(&f.node, SIGKILL);
        if (round == 1) {
            char state[4300];
            snprintf(state, sizeof state, "%s/state", f.node.data);
            wn_test_rmtree(state);
        }
        cr_assert(wn_test_node_start(&f.node, args), "wn-node did not start again");
        cr_assert(wn_test_http(f.node.url, "POST", "/v1/readings", "application/json", json, jl, &r));
        cr_assert_eq(r.status, 422, "round %d: %s", round, (char *)r.body);
        cr_assert_not_null(strstr((char *)r.body, "\"error\":\"before_enrolment\""), "%s", (char *)r.body);
        wn_test_resp_free(&r);
    }
    /* dated at the enrolment time or after: accepted */
    f.seq = 0;
    memset(f.prev, 0, 32);
    uint64_t ok_time = now_ms();
    j = post_times(&f, &ok_time, 1);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "results"),
                                                                         0), "status")->valuestring, "accepted");
    cJSON_Delete(j);
    wn_test_node_stop(&f.node, SIGTERM);
}

/* Late marks: set on exactly the readings measured more than the late window (default 30
 * days) before their commit, in the entry's marks byte and in GET /v1/entries; receipts
 * verify for both; the commit time is the receipt's. */
Test(timing, late_marks_exactly_beyond_the_late_window)
{
    fixture f;
    start(&f, NULL);
    uint64_t now = now_ms();
    enrol_at(&f, now - 90 * DAY);
    /* the window is measured from the commit, a moment after now: leave two minutes' margin */
    uint64_t times[] = {now - 60 * DAY, now - 30 * DAY - 120000, now - 30 * DAY + 120000, now - 3600000, now};
    const int want_late[] = {1, 1, 0, 0, 0};
    cJSON *j = post_times(&f, times, 5);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    uint64_t commit = 0;
    for (int i = 0; i < 5; i++) {
        const cJSON *e = cJSON_GetArrayItem(res, i);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "status")->valuestring, "accepted");
        wn_receipt rc;
        cr_assert(wn_receipt_from_cjson(&rc, cJSON_GetObjectItemCaseSensitive(e, "receipt")));
        char path[64];
        snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)rc.index);
        cJSON *ej = get_json(&f, path);
        const char *b64 = cJSON_GetObjectItemCaseSensitive(ej, "entry")->valuestring;
        uint8_t raw[1024];
        size_t n;
        cr_assert(wn_base64_decode(raw, sizeof raw, &n, b64, strlen(b64)));
        wn_entry_view v;
        cr_assert_eq(wn_entry_parse(&v, raw, n), WN_ENTRY_OK);
        cr_assert(v.timed && v.kind == WN_ENTRY_READING);
        cr_assert_eq(v.commit_ms, rc.time_ms, "the entry's commit time is its receipt's");
        if (i) cr_assert_eq(v.commit_ms, commit, "one commit time for the whole group");
        commit = v.commit_ms;
        cr_assert_eq(v.marks, want_late[i] ? WN_ENTRY_MARK_LATE : 0, "reading %d", i);
        cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ej, "late")), want_late[i], "reading %d", i);
        cr_assert(wn_receipt_is_for_reading(&rc, v.payload, v.len), "the receipt is the reading's (late or not)");
        uint8_t leaf[32];
        wn_reading_timed_leaf_hash(leaf, v.payload, v.len, rc.time_ms, want_late[i] ? 1 : 0);
        cr_assert_arr_eq(leaf, rc.leaf, 32);
        cJSON_Delete(ej);
    }
    cJSON_Delete(j);
    /* the checkpoint states that commit time; it never goes back */
    cr_assert(wn_test_wait_checkpoint(f.node.url, 6, NULL));
    wn_test_resp r;
    cr_assert(wn_test_http(f.node.url, "GET", "/checkpoint", NULL, NULL, 0, &r));
    wn_checkpoint cp;
    cr_assert_eq(wn_checkpoint_parse((char *)r.body, r.len, &cp, NULL), WN_CHECKPOINT_OK);
    wn_test_resp_free(&r);
    cr_assert(cp.has_time);
    cr_assert_eq(cp.time_ms, commit);
    /* metrics count the late ones */
    cr_assert(wn_test_http(f.node.url, "GET", "/metrics", NULL, NULL, 0, &r));
    cr_assert_not_null(strstr((char *)r.body, "wn_readings_late_total 2\n"), "%s", (char *)r.body);
    wn_test_resp_free(&r);
    wn_test_node_stop(&f.node, SIGTERM);
}

/* --late-window-ms sets the window. */
Test(timing, late_window_option)
{
    fixture f;
    const char *extra[] = {"--late-window-ms", "3600000", NULL};
    start(&f, extra);
    uint64_t now = now_ms();
    enrol_at(&f, now - DAY);
    uint64_t times[] = {now - 7200000, now - 1800000};
    cJSON *j = post_times(&f, times, 2);
    cJSON_Delete(j);
    cJSON *e1 = get_json(&f, "/v1/entries/1"), *e2 = get_json(&f, "/v1/entries/2");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e1, "late")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e2, "late")));
    cJSON_Delete(e1);
    cJSON_Delete(e2);
    wn_test_node_stop(&f.node, SIGTERM);
}

/* ---- the checkpoint's commit time through `wn` ---- */

#include "tests/support/proc.h"

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

Test(timing, checkpoint_time_shown_and_tampering_refused_by_wn_verify)
{
    fixture f;
    start(&f, NULL);
    enrol_at(&f, now_ms() - DAY);
    uint64_t t = now_ms();
    cJSON_Delete(post_times(&f, &t, 1));
    cr_assert(wn_test_wait_checkpoint(f.node.url, 2, NULL));
    wn_test_resp r;
    cr_assert(wn_test_http(f.node.url, "GET", "/checkpoint", NULL, NULL, 0, &r));
    char *note = strndup((char *)r.body, r.len);
    wn_test_resp_free(&r);
    cJSON *pk = get_json(&f, "/v1/pubkey");
    char notary[65];
    snprintf(notary, sizeof notary, "%s", cJSON_GetObjectItemCaseSensitive(pk, "notary")->valuestring);
    cJSON_Delete(pk);
    cJSON *e1 = get_json(&f, "/v1/entries/1");
    char want[64];
    snprintf(want, sizeof want, "committed:  %s", cJSON_GetObjectItemCaseSensitive(e1, "commit_time")->valuestring);
    cJSON_Delete(e1);

    char path[4300];
    snprintf(path, sizeof path, "%s/cp.txt", tmp);
    write_text(path, note);
    wn_run_result v = wn_proc_runl(tmp, "wn", "verify", path, "--notary-pub", notary, NULL);
    cr_assert_eq(v.code, 0, "%s %s", v.out, v.err);
    cr_assert_not_null(strstr(v.out, want), "%s (want %s)", v.out, want);
    wn_run_result_free(&v);

    /* a changed time: the signature no longer verifies */
    char *ct = strstr(note, "\ncommit-time ");
    cr_assert_not_null(ct, "%s", note);
    char *digit = strchr(ct + 1, '\n') - 1;
    *digit = *digit == '1' ? '2' : '1';
    write_text(path, note);
    v = wn_proc_runl(tmp, "wn", "verify", path, "--notary-pub", notary, NULL);
    cr_assert_eq(v.code, 1, "%s %s", v.out, v.err);
    cr_assert_not_null(strstr(v.out, "INVALID"), "%s", v.out);
    wn_run_result_free(&v);

    /* an unknown extension line: not a checkpoint we accept */
    *digit = *digit == '1' ? '2' : '1';
    char *rest = strchr(ct + 1, '\n');
    size_t head = (size_t)(rest - note);
    char forged[2048];
    snprintf(forged, sizeof forged, "%.*s\nwitness example.org 1%s", (int)head, note, rest);
    write_text(path, forged);
    v = wn_proc_runl(tmp, "wn", "verify", path, "--notary-pub", notary, NULL);
    cr_assert_eq(v.code, 1, "%s %s", v.out, v.err);
    cr_assert_not_null(strstr(v.out, "extension line"), "%s", v.out);
    wn_run_result_free(&v);
    free(note);
    wn_test_node_stop(&f.node, SIGTERM);
}

/* A reading dated before its meter's enrolment (a ledger from an older node, which let
 * them in) is an audit problem. */
Test(timing, audit_names_a_reading_dated_before_its_enrolment)
{
    wn_tl t;
    timed_ledger(&t, "early", 0);
    wn_reading r;
    t.commit_ms = T0 + 9000;
    /* a fresh meter's first reading, so that only the date is wrong: the enrolment is
     * dated start - 2 h, the reading start - 3 h */
    unsigned k = wn_tl_add_meter(&t, 0, "91330400MA0000001X");
    cr_assert_neq(wn_tl_enrol(&t, k, NULL), WN_TL_FAIL);
    wn_tl_next(&t, k, &r);
    r.time_ms = t.start_ms - 3 * 3600000ULL;
    uint64_t bad = wn_tl_append_reading(&t, k, &r, NULL);
    wn_audit_problem p;
    cr_assert_eq(audit_of(&t, &p, NULL), 1, "%s", p.detail);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "before_enrolment");
}
