/* test_audit.c — `wn audit` and its core (cli/audit/audit.h) on real LMDB ledgers built with the
 * ledger and crypto APIs: a clean ledger passes with the right counts; every logical kind
 * of damage (bad signature, gap, broken chain, unenrolled or revoked meter, wrong or
 * foreign checkpoint, ...) fails naming the first bad entry; every stored byte changed
 * through LMDB (entries, checkpoints, meters, heads, meta) and bytes flipped directly in
 * data.mdb are caught or refused, never passed; results are deterministic. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/audit/audit.h"
#include "cli/audit/audit_lmdb.h"
#include "protocol/certificate.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "crypto/verifier.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "tests/support/testledger.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = wn_test_tmpdir("audit");
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 240);

static char *path_in(const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", tmp, name);
    return p;
}

/* ---- running wn ---------------------------------------------------------------------- */

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

/* `wn audit --json` on dir; the parsed summary (exit code in *code). */
static cJSON *audit_json(const char *dir, const char *notary_hex, int *code, const char *extra, const char *extra_val)
{
    result r = extra ? wn("audit", "--ledger", dir, "--notary-pub", notary_hex, "--json", extra, extra_val, NULL)
                     : wn("audit", "--ledger", dir, "--notary-pub", notary_hex, "--json", NULL);
    *code = r.code;
    cr_assert(r.code == 0 || r.code == 1, "wn audit exit %d: %s", r.code, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert_not_null(j, "not JSON: %s", r.out);
    result_free(&r);
    return j;
}

static double jnum(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    cr_assert(cJSON_IsNumber(x), "%s.%s is not a number", a, b ? b : "");
    return x->valuedouble;
}

/* The first problem of a JSON summary: where, position and code. */
static void first_problem(const cJSON *j, const char **where, uint64_t *at, const char **code)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "problems"), "first");
    cr_assert(cJSON_IsObject(f), "no first problem");
    *where = cJSON_GetObjectItemCaseSensitive(f, "where")->valuestring;
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(f, !strcmp(*where, "checkpoint") ? "size" : "index");
    *at = cJSON_IsNumber(i) ? (uint64_t)i->valuedouble : UINT64_MAX;
    *code = cJSON_GetObjectItemCaseSensitive(f, "code")->valuestring;
}

/* Asserts that auditing t's (closed) ledger fails with the first problem at entry `index`
 * with `code` (NULL: any code). */
static void expect_first(wn_tl *t, const char *where_want, uint64_t at_want, const char *code_want)
{
    wn_tl_close(t);
    int code;
    cJSON *j = audit_json(t->dir, t->notary_hex, &code, NULL, NULL);
    cr_assert_eq(code, 1, "the audit passed a damaged ledger");
    const char *where, *c;
    uint64_t at;
    first_problem(j, &where, &at, &c);
    cr_assert_str_eq(where, where_want);
    cr_assert_eq(at, at_want, "first problem at %s %llu (%s), expected %llu", where, (unsigned long long)at, c,
                 (unsigned long long)at_want);
    if (code_want) cr_assert_str_eq(c, code_want);
    cJSON_Delete(j);
}

/* ---- in-process audits ----------------------------------------------------------------- */

/* Audits dir in this process. Returns: -1 unreadable, else the number of problems; the first
 * is copied to *first (if any). */
static long audit_here(const char *dir, const uint8_t notary[32], wn_audit_problem *first)
{
    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.notary, notary, 32);
    cfg.workers = 2;
    cfg.max_details = 50;
    wn_auditor *a;
    cr_assert_eq(wn_auditor_new(&a, &cfg), WN_AUDIT_OK);
    char why[512];
    if (!wn_audit_lmdb_run(a, dir, NULL, NULL, why, sizeof why)) {
        wn_auditor_free(a);
        return -1;
    }
    cr_assert_eq(wn_auditor_finish(a), WN_AUDIT_OK);
    size_t n;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, NULL);
    long total = (long)wn_auditor_summary(a)->problems;
    if (n && first) *first = p[0];
    wn_auditor_free(a);
    return total;
}

/* ---- the clean ledger -------------------------------------------------------------------- */

Test(audit, clean_ledger_passes_with_the_right_counts)
{
    wn_tl t;
    char *dir = path_in("ledger");
    cr_assert(wn_tl_standard(&t, dir));
    wn_tl_close(&t);
    int code;
    cJSON *j = audit_json(dir, t.notary_hex, &code, NULL, NULL);
    cr_assert_eq(code, 0, "%s", cJSON_PrintUnformatted(j));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "valid")));
    cr_assert_eq(jnum(j, "entries", "total"), WN_TL_STD_ENTRIES);
    cr_assert_eq(jnum(j, "entries", "reading"), 32);
    cr_assert_eq(jnum(j, "entries", "enrolment"), 4);
    cr_assert_eq(jnum(j, "entries", "revocation"), 1);
    cr_assert_eq(jnum(j, "entries", "equivocation"), 1);
    cr_assert_eq(jnum(j, "entries", "unknown"), 0);
    cr_assert_eq(jnum(j, "meters", "enrolled"), 4);
    cr_assert_eq(jnum(j, "meters", "with_readings"), 4);
    cr_assert_eq(jnum(j, "meters", "revoked"), 1);
    cr_assert_eq(jnum(j, "checkpoints", "stored"), WN_TL_STD_CHECKPOINTS);
    cr_assert_eq(jnum(j, "checkpoints", "verified"), WN_TL_STD_CHECKPOINTS);
    cr_assert_eq(jnum(j, "checkpoints", "latest_size"), WN_TL_STD_ENTRIES);
    cr_assert_eq(jnum(j, "gaps", "count"), 0);
    cr_assert_eq(jnum(j, "alerts", "equivocation"), 1);
    cr_assert_eq(jnum(j, "alerts", "tamper"), 1);
    cr_assert_eq(jnum(j, "alerts", "substitute"), 1);
    cr_assert_eq(jnum(j, "alerts", "clock_unsync"), 1);
    cr_assert_eq(jnum(j, "problems", "total"), 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "registrar")->valuestring, t.registrar_hex);

    /* The recomputed root is the ledger's own. */
    wn_ledger *l;
    cr_assert_eq(wn_ledger_open(&l, dir, WN_LEDGER_RDONLY), 0);
    uint8_t root[32];
    cr_assert_eq(wn_ledger_root(l, WN_TL_STD_ENTRIES, root), 0);
    wn_ledger_close(l);
    char b64[45];
    wn_base64_encode(b64, root, 32);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "root")->valuestring, b64);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "checkpoints"), "latest_root")
                         ->valuestring,
                     b64);
    cJSON_Delete(j);

    /* Text form, and the registrar given explicitly. */
    result r = wn("audit", "--ledger", dir, "--notary-pub", t.notary_hex, "--registrar", t.registrar_hex, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "AUDIT PASSED: 38 entries"), "%s", r.out);
    cr_assert(strstr(r.out, "entries: 38 (32 readings, 4 enrolments, 1 revocations, 1 equivocation evidence)"), "%s",
              r.out);
    cr_assert(strstr(r.out, "ALERT tamper: entry "), "%s", r.out);
    cr_assert(strstr(r.out, "ALERT equivocation: entry "), "%s", r.out);
    cr_assert_eq(strlen(r.err), 0, "quiet when stderr is not a terminal: %s", r.err);
    result_free(&r);
    free(dir);
}

Test(audit, usage_and_unreadable_ledgers_exit_2)
{
    wn_tl t;
    char *dir = path_in("ledger");
    cr_assert(wn_tl_standard(&t, dir));
    wn_tl_close(&t);
    result r = wn("audit", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:"));
    result_free(&r);
    r = wn("audit", "--ledger", dir, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("audit", "--ledger", dir, "--notary-pub", "abcd", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    char *none = path_in("nothing-here");
    r = wn("audit", "--ledger", none, "--notary-pub", t.notary_hex, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "not a directory"), "%s", r.err);
    result_free(&r);
    mkdir(none, 0755);
    r = wn("audit", "--ledger", none, "--notary-pub", t.notary_hex, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "data.mdb"), "%s", r.err);
    result_free(&r);
    /* A data.mdb that is not LMDB at all. */
    char p[4300];
    snprintf(p, sizeof p, "%s/data.mdb", none);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    for (int i = 0; i < 20000; i++) fputc(i * 7 & 0xff, f);
    fclose(f);
    r = wn("audit", "--ledger", none, "--notary-pub", t.notary_hex, NULL);
    cr_assert_eq(r.code, 2, "%s", r.err);
    result_free(&r);
    free(none);
    free(dir);
}

Test(audit, wrong_notary_key_or_registrar_is_named)
{
    wn_tl t;
    char *dir = path_in("ledger");
    cr_assert(wn_tl_standard(&t, dir));
    wn_tl_close(&t);
    uint8_t sk[32], other[32];
    char other_hex[65];
    cr_assert(wn_seckey_generate(sk) && wn_seckey_xonly(other, sk));
    wn_hex_encode(other_hex, other, 32);
    int code;
    const char *where, *c;
    uint64_t at;
    cJSON *j = audit_json(dir, other_hex, &code, NULL, NULL);
    cr_assert_eq(code, 1);
    first_problem(j, &where, &at, &c);
    cr_assert_str_eq(where, "checkpoint");
    cr_assert_eq(at, 4);
    cr_assert_str_eq(c, "checkpoint_signature");
    cr_assert_eq(jnum(j, "problems", "total"), WN_TL_STD_CHECKPOINTS);
    cJSON_Delete(j);

    j = audit_json(dir, t.notary_hex, &code, "--registrar", other_hex);
    cr_assert_eq(code, 1);
    first_problem(j, &where, &at, &c);
    cr_assert_str_eq(where, "entry");
    cr_assert_eq(at, 0);
    cr_assert_str_eq(c, "registrar_key");
    cr_assert_eq(jnum(j, "problems", "total"), 5, "4 enrolments and 1 revocation name the registrar");
    cJSON_Delete(j);
    free(dir);
}

/* ---- each logical kind of damage ---------------------------------------------------------- */

static void std_ledger(wn_tl *t, const char *name)
{
    char *dir = path_in(name);
    cr_assert(wn_tl_standard(t, dir));
    free(dir);
}

Test(audit, reading_with_a_bad_signature)
{
    wn_tl t;
    std_ledger(&t, "l");
    uint8_t sk[32];
    cr_assert(wn_seckey_generate(sk));
    wn_reading r;
    wn_tl_next(&t, 1, &r);
    uint64_t bad = wn_tl_append_reading(&t, 1, &r, sk);
    wn_tl_reading(&t, 1, 0);
    wn_tl_checkpoint(&t, NULL, NULL);
    expect_first(&t, "entry", bad, "bad_signature");
}

Test(audit, ecdsa_meter_reading_signed_with_bip340)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_reading r;
    wn_tl_next(&t, 3, &r);
    cr_assert_eq(wn_reading_sign(&r, t.m[3].sk), 0); /* a valid BIP-340 signature, but enrolled for ECDSA */
    uint8_t buf[400];
    size_t len;
    buf[0] = WN_ENTRY_READING;
    cr_assert_eq(wn_reading_encode(&r, buf + 1, sizeof buf - 1, &len), 0);
    wn_ledger_item it = {buf, len + 1, r.meter, r.seq};
    uint64_t bad;
    cr_assert_eq(wn_ledger_append(t.l, &it, 1, &bad, NULL), 0);
    expect_first(&t, "entry", bad, "alg_mismatch");
}

Test(audit, sequence_gap)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_reading r;
    wn_tl_next(&t, 0, &r);
    r.seq += 2;
    uint64_t bad = wn_tl_append_reading(&t, 0, &r, NULL);
    expect_first(&t, "entry", bad, "sequence_gap");
}

Test(audit, broken_prev_chain)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_reading r;
    wn_tl_next(&t, 3, &r); /* the ECDSA meter */
    r.prev[5] ^= 0x40;
    uint64_t bad = wn_tl_append_reading(&t, 3, &r, NULL);
    expect_first(&t, "entry", bad, "chain_mismatch");
}

Test(audit, reading_from_an_unenrolled_meter)
{
    wn_tl t;
    std_ledger(&t, "l");
    unsigned k = wn_tl_add_meter(&t, 0, "Ghost");
    uint64_t bad = wn_tl_reading(&t, k, 0);
    wn_tl_reading(&t, k, 0);
    expect_first(&t, "entry", bad, "not_enrolled");
}

Test(audit, reading_after_revocation)
{
    wn_tl t;
    std_ledger(&t, "l");
    uint64_t bad = wn_tl_reading(&t, 2, 0); /* meter 2 is revoked in the standard ledger */
    expect_first(&t, "entry", bad, "revoked");
}

Test(audit, time_travel_and_volume_going_down)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_reading r;
    wn_tl_next(&t, 0, &r);
    r.time_ms = t.m[0].time - 1;
    uint64_t bad = wn_tl_append_reading(&t, 0, &r, NULL);
    expect_first(&t, "entry", bad, "time_travel");

    std_ledger(&t, "l2");
    wn_tl_next(&t, 1, &r);
    r.m[0].value = t.m[1].litres - 1;
    r.flags = WN_FLAG_METER_REPLACED; /* allowed with the flag */
    cr_assert_neq(wn_tl_append_reading(&t, 1, &r, NULL), WN_TL_FAIL);
    wn_tl_next(&t, 1, &r);
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 0, t.m[1].litres - 1}; /* in litres now, one litre less */
    bad = wn_tl_append_reading(&t, 1, &r, NULL);
    expect_first(&t, "entry", bad, "volume_decreased");
}

Test(audit, checkpoint_with_a_wrong_root)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_tl_reading(&t, 0, 0);
    uint8_t root[32] = {1, 2, 3};
    uint64_t size = wn_tl_checkpoint(&t, NULL, root);
    expect_first(&t, "checkpoint", size, "checkpoint_root");
}

Test(audit, checkpoint_signed_by_another_key)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_tl_reading(&t, 1, 0);
    uint8_t sk[32];
    cr_assert(wn_seckey_generate(sk));
    uint64_t size = wn_tl_checkpoint(&t, sk, NULL);
    expect_first(&t, "checkpoint", size, "checkpoint_signature");
}

Test(audit, enrolment_by_another_registrar_is_reported_with_both_keys)
{
    wn_tl t;
    std_ledger(&t, "l");
    uint8_t sk[32];
    cr_assert(wn_seckey_generate(sk));
    unsigned k = wn_tl_add_meter(&t, 0, "Other");
    uint64_t bad = wn_tl_enrol(&t, k, sk);
    wn_tl_close(&t);
    int code;
    cJSON *j = audit_json(t.dir, t.notary_hex, &code, NULL, NULL);
    cr_assert_eq(code, 1);
    const char *where, *c;
    uint64_t at;
    first_problem(j, &where, &at, &c);
    cr_assert_eq(at, bad);
    cr_assert_str_eq(c, "registrar_key");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "registrars")), 2);
    cJSON_Delete(j);
}

Test(audit, bad_evidence_and_unknown_types)
{
    wn_tl t;
    std_ledger(&t, "l");
    uint64_t bad = wn_tl_evidence(&t, 1, 1, 0); /* names entry 0, an enrolment */
    expect_first(&t, "entry", bad, "evidence_reference");

    /* The same conflicting reading recorded twice. */
    std_ledger(&t, "l2");
    uint8_t buf[600];
    size_t len;
    cr_assert_eq(wn_ledger_get(t.l, 24, buf, sizeof buf, &len, NULL, NULL), 0);
    cr_assert_eq(buf[0], WN_ENTRY_EQUIVOCATION, "entry 24 of the standard ledger is the evidence");
    bad = wn_tl_append_raw(&t, buf, len);
    expect_first(&t, "entry", bad, "evidence_duplicate");

    std_ledger(&t, "l3");
    uint8_t junk[] = {0x7f, 1, 2, 3}; /* a kind nobody defines (0x08, 0x09 are identity records) */
    bad = wn_tl_append_raw(&t, junk, sizeof junk);
    expect_first(&t, "entry", bad, "entry_type");
}

Test(audit, many_problems_are_all_listed_in_order)
{
    wn_tl t;
    std_ledger(&t, "l");
    uint8_t sk[32];
    cr_assert(wn_seckey_generate(sk));
    uint64_t first = 0;
    for (int i = 0; i < 150; i++) {
        wn_reading r;
        wn_tl_next(&t, i % 2, &r);
        uint64_t idx = wn_tl_append_reading(&t, i % 2, &r, sk); /* forged: bad signature each */
        if (i == 0) first = idx;
        t.m[i % 2].seq = r.seq; /* keep the chain going so the signature is the only fault */
        t.m[i % 2].time = r.time_ms;
        wn_reading_digest(&r, t.m[i % 2].prev);
    }
    wn_tl_close(&t);
    result r1 = wn("audit", "--ledger", t.dir, "--notary-pub", t.notary_hex, NULL);
    cr_assert_eq(r1.code, 1);
    size_t lines = 0;
    for (const char *p = r1.out; (p = strstr(p, "\nPROBLEM entry ")); p++) lines++;
    cr_assert_eq(lines, 150, "every problem listed");
    char want[128];
    snprintf(want, sizeof want, "AUDIT FAILED: 150 problems; the first at entry %llu [bad_signature]",
             (unsigned long long)first);
    cr_assert(strstr(r1.out, want), "%s", r1.out);
    /* Deterministic: the same bytes every run, whatever the threads did. */
    result r2 = wn("audit", "--ledger", t.dir, "--notary-pub", t.notary_hex, "--workers", "3", NULL);
    cr_assert_str_eq(r1.out, r2.out);
    result_free(&r1);
    result_free(&r2);
}

/* ---- the core without LMDB ------------------------------------------------------------------ */

Test(audit, core_keeps_the_earliest_problems_and_refuses_misuse)
{
    uint8_t reg_sk[32], notary[32], msk[32];
    cr_assert(wn_seckey_generate(reg_sk) && wn_seckey_generate(msk) && wn_seckey_xonly(notary, reg_sk));
    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.notary, notary, 32);
    cfg.workers = 2;
    cfg.max_details = 10;
    wn_auditor *a;
    cr_assert_eq(wn_auditor_new(&a, &cfg), 0);

    wn_enrolment e;
    memset(&e, 0, sizeof e);
    cr_assert(wn_seckey_xonly(e.meter, msk));
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 2;
    memcpy(e.pubkey + 1, e.meter, 32);
    e.point = 4, e.tier = 1, e.source = 1;
    strcpy(e.enterprise, "X");
    cr_assert_eq(wn_enrolment_sign(&e, reg_sk), 0);
    uint8_t buf[1000];
    size_t len;
    buf[0] = WN_ENTRY_ENROLMENT;
    cr_assert_eq(wn_enrolment_encode(&e, buf + 1, sizeof buf - 1, &len), 0);
    cr_assert_eq(wn_auditor_entry(a, 0, buf, len + 1, NULL), 0);
    cr_assert_eq(wn_auditor_entry(a, 5, buf, len + 1, NULL), WN_AUDIT_EINVAL, "entries come in order");

    uint8_t prev[32] = {0};
    for (uint64_t s = 1; s <= 2000; s++) {
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, e.meter, 32);
        r.seq = s;
        r.time_ms = 1000 * s;
        memcpy(r.prev, prev, 32);
        r.count = 1;
        r.m[0] = (wn_measurement){WN_Q_FLOW, WN_U_L_PER_S, 0, 5};
        cr_assert_eq(wn_reading_sign(&r, msk), 0);
        if (s % 3 == 0) r.sig[10] ^= 1; /* every third signature broken */
        buf[0] = WN_ENTRY_READING;
        cr_assert_eq(wn_reading_encode(&r, buf + 1, sizeof buf - 1, &len), 0);
        wn_reading_digest(&r, prev);
        cr_assert_eq(wn_auditor_entry(a, s, buf, len + 1, NULL), 0);
    }
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "test");
    cp.size = 5;
    char note[WN_CHECKPOINT_MAX];
    size_t nlen;
    cr_assert_eq(wn_checkpoint_sign(&cp, reg_sk, note, sizeof note, &nlen), 0);
    cr_assert_eq(wn_auditor_checkpoint(a, 5, note, nlen), WN_AUDIT_EINVAL, "too late for a checkpoint of size 5");
    cr_assert_eq(wn_auditor_finish(a), 0);
    const wn_audit_summary *s = wn_auditor_summary(a);
    size_t n;
    int trunc;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, &trunc);
    cr_assert_eq(s->problems, 666, "every third of 2000 signatures is bad");
    cr_assert_eq(n, 10);
    cr_assert(trunc);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(p[i].where, WN_AUDIT_AT_ENTRY);
        cr_assert_eq(p[i].at, 3 * (i + 1), "problem %zu at entry %llu", i, (unsigned long long)p[i].at);
        cr_assert_eq(p[i].code, WN_AC_BAD_SIGNATURE);
    }
    cr_assert_eq(s->readings, 2000);
    wn_auditor_free(a);
}

Test(audit, every_problem_code_has_its_own_name)
{
    for (int c = 0; c < WN_AC_COUNT; c++) {
        const char *n = wn_audit_code_name(c);
        cr_assert_str_neq(n, "unknown", "code %d has no name", c);
        for (int d = 0; d < c; d++) cr_assert_str_neq(n, wn_audit_code_name(d));
    }
    cr_assert_str_eq(wn_audit_code_name(WN_AC_COUNT), "unknown");
}

Test(audit, prepared_keys_verify_exactly_like_sig_h)
{
    for (int i = 0; i < 20; i++) {
        uint8_t sk[32], x[32], p33[33], d[32], sig[64], esig[64];
        cr_assert(wn_seckey_generate(sk) && wn_seckey_xonly(x, sk) && wn_seckey_pub33(p33, sk));
        wn_test_prng_bytes(d, 32);
        cr_assert(wn_schnorr_sign(sig, sk, d, NULL) && wn_ecdsa_sign(esig, sk, d));
        wn_verifier vb, ve;
        cr_assert(wn_verifier_bip340(&vb, x) && wn_verifier_ecdsa(&ve, p33));
        cr_assert(wn_verifier_verify(&vb, sig, d));
        cr_assert(wn_verifier_verify(&ve, esig, d));
        cr_assert(!wn_verifier_verify(&vb, esig, d), "algorithms do not mix");
        cr_assert(!wn_verifier_verify(&ve, sig, d));
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[i] ^= 1;
        cr_assert_eq(wn_verifier_verify(&vb, bad, d), wn_schnorr_verify(bad, d, x));
        /* high-S twin of the ECDSA signature: s' = n - s is rejected by both */
        static const uint8_t n_order[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                            0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
        memcpy(bad, esig, 64);
        int borrow = 0;
        for (int k = 31; k >= 0; k--) {
            int v = n_order[k] - esig[32 + k] - borrow;
            borrow = v < 0;
            bad[32 + k] = (uint8_t)(v + (borrow ? 256 : 0));
        }
        cr_assert(!wn_verifier_verify(&ve, bad, d));
        cr_assert(!wn_ecdsa_verify(bad, d, p33, 33));
        /* the other parity of the same x is another key */
        p33[0] ^= 1;
        cr_assert(wn_verifier_ecdsa(&ve, p33));
        cr_assert(!wn_verifier_verify(&ve, esig, d));
    }
    uint8_t p33[33] = {0x04, 1};
    wn_verifier v;
    cr_assert(!wn_verifier_ecdsa(&v, p33), "only compressed keys");
    uint8_t big[32];
    memset(big, 0xff, 32); /* above the field size: not an x coordinate */
    cr_assert(!wn_verifier_bip340(&v, big));
}

/* ---- storage changed through LMDB ----------------------------------------------------------- */

typedef struct {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
} rw;

static void rw_open(rw *w, const char *dir, const char *db)
{
    cr_assert_eq(mdb_env_create(&w->env), 0);
    mdb_env_set_maxdbs(w->env, 8);
    mdb_env_set_mapsize(w->env, (size_t)1 << 30);
    cr_assert_eq(mdb_env_open(w->env, dir, MDB_NOSYNC, 0644), 0);
    cr_assert_eq(mdb_txn_begin(w->env, NULL, 0, &w->txn), 0);
    cr_assert_eq(mdb_dbi_open(w->txn, db, 0, &w->dbi), 0);
}

static void rw_close(rw *w)
{
    cr_assert_eq(mdb_txn_commit(w->txn), 0);
    mdb_env_close(w->env);
}

/* Reads the value under key into out. */
static size_t get_value(const char *dir, const char *db, const void *key, size_t klen, uint8_t *out, size_t cap)
{
    rw w;
    rw_open(&w, dir, db);
    MDB_val k = {klen, (void *)key}, v;
    cr_assert_eq(mdb_get(w.txn, w.dbi, &k, &v), 0, "no such record in %s", db);
    cr_assert(v.mv_size <= cap);
    memcpy(out, v.mv_data, v.mv_size);
    rw_close(&w);
    return v.mv_size;
}

static void put_value(const char *dir, const char *db, const void *key, size_t klen, const uint8_t *val, size_t vlen)
{
    rw w;
    rw_open(&w, dir, db);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    cr_assert_eq(mdb_put(w.txn, w.dbi, &k, &v, 0), 0);
    rw_close(&w);
}

/* Flips every byte (with step) of the value under key in db, one at a time; each time
 * the in-process audit must find problems, the first at (where, at). */
static void flip_each(const char *dir, const uint8_t notary[32], const char *db, const void *key, size_t klen,
                      unsigned step, int npat, int where, uint64_t at)
{
    uint8_t orig[8192], v[8192];
    size_t n = get_value(dir, db, key, klen, orig, sizeof orig);
    for (size_t off = 0; off < n; off += step) {
        for (int pat = 0; pat < npat; pat++) {
            memcpy(v, orig, n);
            v[off] ^= pat ? 0xff : 0x01;
            put_value(dir, db, key, klen, v, n);
            wn_audit_problem first;
            long np = audit_here(dir, notary, &first);
            cr_assert_neq(np, 0, "%s: byte %zu of the value flipped (^%02x) and the audit passed", db, off,
                          pat ? 0xff : 1);
            if (np > 0) {
                cr_assert(first.where == where && first.at == at,
                          "%s byte %zu: first problem at %d/%llu (%s: %s), expected %d/%llu", db, off, first.where,
                          (unsigned long long)first.at, wn_audit_code_name(first.code), first.detail, where,
                          (unsigned long long)at);
            }
        }
    }
    put_value(dir, db, key, klen, orig, n);
    cr_assert_eq(audit_here(dir, notary, NULL), 0, "restored");
}

Test(audit, every_byte_of_stored_entries_changed_through_lmdb_is_caught)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_tl_close(&t);
    cr_assert_eq(audit_here(t.dir, t.notary_pub, NULL), 0);
    /* An enrolment (1 hash), an enrolment completing 2 subtrees, readings with 3 and 4
     * subtrees, the ECDSA meter's reading, the evidence and the revocation at the end. */
    const uint64_t which[] = {0, 3, 7, 15, 11, 24, 37};
    for (size_t w = 0; w < sizeof which / sizeof which[0]; w++) {
        uint8_t key[8];
        wn_put_u64(key, which[w]);
        /* Every byte of entry 7 both ways (^01, ^ff); every other byte or every 4th of the rest. */
        flip_each(t.dir, t.notary_pub, "entries", key, 8, which[w] == 7 ? 1 : w < 2 ? 2 : 4, which[w] == 7 ? 2 : 1,
                  WN_AUDIT_AT_ENTRY, which[w]);
    }
}

Test(audit, checkpoints_meters_heads_and_meta_changed_through_lmdb_are_caught)
{
    wn_tl t;
    std_ledger(&t, "l");
    wn_tl_close(&t);
    uint8_t key[8];
    wn_put_u64(key, 20);
    flip_each(t.dir, t.notary_pub, "checkpoints", key, 8, 1, 2, WN_AUDIT_AT_CHECKPOINT, 20);

    /* Each meter's number; the first entry indexed for it is its first reading. */
    for (unsigned k = 0; k < 4; k++)
        flip_each(t.dir, t.notary_pub, "meters", t.m[k].id, 32, 1, 2, WN_AUDIT_AT_ENTRY, 4 + k);
    /* Each head: meter number k+1 -> its last reading. */
    for (unsigned k = 0; k < 4; k++) {
        uint8_t num[4];
        wn_put_u32(num, k + 1);
        uint64_t last = 33 + k;
        flip_each(t.dir, t.notary_pub, "heads", num, 4, 1, 2, WN_AUDIT_AT_ENTRY, last);
    }
    flip_each(t.dir, t.notary_pub, "meta", "meters", 6, 1, 2, WN_AUDIT_AT_LEDGER, 0);

    /* A checkpoint moved to another key; one deleted entry at the end. */
    uint8_t note[2048];
    size_t n = get_value(t.dir, "checkpoints", key, 8, note, sizeof note);
    uint8_t key2[8];
    wn_put_u64(key2, 21);
    put_value(t.dir, "checkpoints", key2, 8, note, n);
    wn_audit_problem first;
    cr_assert_gt(audit_here(t.dir, t.notary_pub, &first), 0);
    cr_assert_eq(first.code, WN_AC_CHECKPOINT_SIZE);
    rw w;
    rw_open(&w, t.dir, "checkpoints");
    MDB_val k = {8, key2};
    cr_assert_eq(mdb_del(w.txn, w.dbi, &k, NULL), 0);
    rw_close(&w);
    cr_assert_eq(audit_here(t.dir, t.notary_pub, NULL), 0);

    rw_open(&w, t.dir, "entries");
    uint8_t last[8];
    wn_put_u64(last, WN_TL_STD_ENTRIES - 1);
    k = (MDB_val){8, last};
    cr_assert_eq(mdb_del(w.txn, w.dbi, &k, NULL), 0);
    rw_close(&w);
    cr_assert_gt(audit_here(t.dir, t.notary_pub, NULL), 0, "a deleted entry is caught");
}

/* ---- bytes flipped in data.mdb --------------------------------------------------------------- */

typedef struct {
    size_t lo, hi;
} range;

/* Where this process mapped dir/data.mdb (file offset 0), from /proc/self/maps. */
static const uint8_t *map_base(const char *dir)
{
    char path[4300], line[4600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    cr_assert_eq(stat(path, &sb), 0);
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    unsigned long long base = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b, off, ino;
        if (sscanf(line, "%llx-%llx %*s %llx %*x:%*x %llu", &a, &b, &off, &ino) == 4 && ino == sb.st_ino && off == 0)
            base = a;
    }
    fclose(f);
    cr_assert_neq(base, 0, "data.mdb is mapped");
    return (const uint8_t *)(uintptr_t)base;
}

/* File offsets of every key and value of the ledger's tables in data.mdb. */
static range *stored_ranges(const char *dir, size_t *n)
{
    MDB_env *env;
    MDB_txn *txn;
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    cr_assert_eq(mdb_env_open(env, dir, MDB_RDONLY, 0644), 0);
    const uint8_t *base = map_base(dir);
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    static const char *const dbs[] = {"meta", "entries", "meters", "heads", "mseq", "checkpoints"};
    range *r = NULL;
    size_t cnt = 0, cap = 0;
    for (size_t d = 0; d < 6; d++) {
        MDB_dbi dbi;
        MDB_cursor *c;
        MDB_val k, v;
        cr_assert_eq(mdb_dbi_open(txn, dbs[d], 0, &dbi), 0);
        cr_assert_eq(mdb_cursor_open(txn, dbi, &c), 0);
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (cnt + 2 > cap) {
                cap = cap ? cap * 2 : 256;
                r = realloc(r, cap * sizeof *r);
            }
            size_t ko = (size_t)((const uint8_t *)k.mv_data - base), vo = (size_t)((const uint8_t *)v.mv_data - base);
            r[cnt++] = (range){ko, ko + k.mv_size};
            r[cnt++] = (range){vo, vo + v.mv_size};
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    *n = cnt;
    return r;
}

static int in_ranges(const range *r, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++)
        if (off >= r[i].lo && off < r[i].hi) return 1;
    return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    char *p = wn_test_read_file(path, len);
    cr_assert_not_null(p, "%s", path);
    return (uint8_t *)p;
}

static void write_all(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* Writes data with byte off flipped to copy/data.mdb and runs wn audit on the copy.
 * Returns: the exit code (a crash fails the test). Out: the first problem's entry index if
 * the audit found problems at an entry (UINT64_MAX otherwise). */
static int audit_flipped(const char *copy, const uint8_t *data, size_t len, size_t off, uint8_t mask, const char *pub,
                         uint64_t *first_entry)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/data.mdb", copy);
    uint8_t *d = malloc(len);
    memcpy(d, data, len);
    d[off] ^= mask;
    write_all(p, d, len);
    free(d);
    snprintf(p, sizeof p, "%s/lock.mdb", copy);
    unlink(p);
    result r = wn("audit", "--ledger", copy, "--notary-pub", pub, "--json", NULL);
    cr_assert(r.code >= 0, "wn audit was killed by signal %d with byte %zu of data.mdb flipped: %s", -r.code, off, r.err);
    cr_assert(r.code <= 2, "exit %d", r.code);
    *first_entry = UINT64_MAX;
    if (r.code == 1) {
        cJSON *j = cJSON_Parse(r.out);
        cr_assert_not_null(j);
        const char *where, *c;
        uint64_t at;
        first_problem(j, &where, &at, &c);
        if (!strcmp(where, "entry")) *first_entry = at;
        cJSON_Delete(j);
    }
    result_free(&r);
    return r.code;
}

Test(audit, bytes_flipped_in_data_mdb_are_caught_or_refused_never_passed)
{
    wn_tl t;
    std_ledger(&t, "l");
    /* The entry to find in the file: meter 2's 3rd reading. */
    uint8_t entry[600];
    size_t elen;
    uint64_t target = 14;
    cr_assert_eq(wn_ledger_get(t.l, target, entry, sizeof entry, &elen, NULL, NULL), 0);
    cr_assert_eq(entry[0], WN_ENTRY_READING);
    wn_tl_close(&t);
    char p[4300];
    snprintf(p, sizeof p, "%s/data.mdb", t.dir);
    size_t len;
    uint8_t *data = read_all(p, &len);
    size_t nr;
    range *r = stored_ranges(t.dir, &nr);
    /* The entry's bytes may also lie in pages LMDB no longer uses (copy on write): take
     * the copy inside a stored value. */
    size_t at = SIZE_MAX;
    for (uint8_t *hit = data; (hit = memmem(hit, len - (size_t)(hit - data), entry, elen)); hit++)
        if (in_ranges(r, nr, (size_t)(hit - data))) {
            cr_assert_eq(at, SIZE_MAX, "the entry is stored once");
            at = (size_t)(hit - data);
        }
    cr_assert_neq(at, SIZE_MAX, "the entry's bytes are in data.mdb");

    char *copy = path_in("copy");
    cr_assert(wn_tl_copy_dir(t.dir, copy));
    uint64_t first;
    for (size_t off = 0; off < elen; off += 3) {
        int code = audit_flipped(copy, data, len, at + off, 0x10, t.notary_hex, &first);
        cr_assert(code == 2 || (code == 1 && first == target), "byte %zu of entry %llu flipped: exit %d, first %llu",
                  off, (unsigned long long)target, code, (unsigned long long)first);
    }

    /* Random offsets inside stored keys and values: caught or refused. Random offsets
     * anywhere: no crash, and a pass only where no stored key or value lies (free space,
     * page headers, the older meta page). */
    size_t stored = 0;
    for (size_t i = 0; i < nr; i++) stored += r[i].hi - r[i].lo;
    cr_assert_gt(stored, 5000);
    wn_test_prng_seed(0x5eed);
    int passes = 0, refused = 0, caught = 0;
    for (int i = 0; i < 240; i++) {
        size_t off;
        if (i % 2 == 0) { /* inside a stored key or value */
            size_t pick = (size_t)(wn_test_prng() % stored);
            size_t k = 0;
            while (pick >= r[k].hi - r[k].lo) pick -= r[k].hi - r[k].lo, k++;
            off = r[k].lo + pick;
        } else {
            off = (size_t)(wn_test_prng() % len);
        }
        uint8_t mask = (uint8_t)(1u << (wn_test_prng() % 8));
        int code = audit_flipped(copy, data, len, off, mask, t.notary_hex, &first);
        if (code == 0) {
            cr_assert(!in_ranges(r, nr, off), "byte %zu (inside a stored key or value) flipped and the audit passed", off);
            passes++;
        }
        if (code == 1) caught++;
        if (code == 2) refused++;
    }
    cr_assert_gt(caught, 100, "caught %d, refused %d, passed %d (outside stored data)", caught, refused, passes);
    free(r);
    free(data);
    free(copy);
}

/* ---- savings certificates ------------------------------------------------------------------- */

typedef struct {
    uint8_t holder_sk[32], holder[32], buyer_sk[32], buyer[32];
    uint64_t cert; /* index of the certificate */
} cert_keys;

/* A certificate over meters 0 and 1 resting on the tree of `cp_size` entries, signed by
 * authority_sk (NULL: the registrar). */
static uint64_t add_cert(wn_tl *t, const cert_keys *k, int purpose, uint64_t cp_size, const uint8_t *root_override,
                         const uint8_t *authority_sk)
{
    wn_certificate c;
    memset(&c, 0, sizeof c);
    c.purpose = (uint8_t)purpose;
    c.flags = WN_CERT_FLAG_SUBSIDY_AND_SALE; /* one subsidy and one sale may share a period */
    c.time_ms = t->start_ms + 40 * 3600000ULL;
    c.valid_until_ms = c.time_ms + 365 * 86400000ULL;
    c.volume_l = 1000;
    c.subsidy_fen = purpose == WN_PURPOSE_SUBSIDY ? 50000 : 0;
    memset(c.claim_digest, 0x11, 32);
    memset(c.policy_digest, 0x22, 32);
    memcpy(c.holder, k->holder, 32);
    c.cp_size = cp_size;
    cr_assert_eq(wn_ledger_root(t->l, cp_size, c.cp_root), 0);
    if (root_override) memcpy(c.cp_root, root_override, 32);
    c.baseline_from = t->start_ms - 100 * 3600000ULL;
    c.baseline_to = t->start_ms;
    c.reporting_from = t->start_ms;
    c.reporting_to = t->start_ms + 10 * 3600000ULL;
    int lo = memcmp(t->m[0].id, t->m[1].id, 32) > 0;
    memcpy(c.meters[0], t->m[lo].id, 32);
    memcpy(c.meters[1], t->m[!lo].id, 32);
    c.n_meters = 2;
    strcpy(c.enterprise, "ACME-1");
    strcpy(c.policy_id, "jiaxing-2024");
    strcpy(c.claim_id, "claim-1");
    cr_assert_eq(wn_certificate_sign(&c, authority_sk ? authority_sk : t->registrar_sk), 0);
    uint8_t buf[1 + WN_CERTIFICATE_MAX_LEN];
    size_t len;
    buf[0] = WN_ENTRY_CERTIFICATE;
    cr_assert_eq(wn_certificate_encode(&c, buf + 1, sizeof buf - 1, &len), 0);
    return wn_tl_append_raw(t, buf, len + 1);
}

static uint64_t add_op(wn_tl *t, int retirement, uint64_t cert, uint64_t op, uint64_t volume, const uint8_t *from_sk,
                       const uint8_t *to)
{
    wn_cert_op o;
    memset(&o, 0, sizeof o);
    o.is_retirement = retirement;
    o.cert_index = cert;
    o.op = op;
    o.time_ms = t->start_ms + (40 + op) * 3600000ULL;
    o.volume_l = volume;
    cr_assert(wn_seckey_xonly(o.from, from_sk));
    if (!retirement) memcpy(o.to, to, 32);
    cr_assert_eq(wn_cert_op_sign(&o, from_sk), 0);
    uint8_t buf[WN_TRANSFER_LEN + 1];
    size_t len;
    buf[0] = retirement ? WN_ENTRY_RETIREMENT : WN_ENTRY_TRANSFER;
    cr_assert_eq(wn_cert_op_encode(&o, buf + 1, sizeof buf - 1, &len), 0);
    return wn_tl_append_raw(t, buf, len + 1);
}

/* The standard ledger, a sale certificate of 1000 L on the tree of 17 entries (not a
 * checkpoint size: its root comes from the stored hashes), a transfer of 400 L to a buyer,
 * the buyer retiring 100 L and the holder 600 L. */
static void cert_ledger(wn_tl *t, const char *name, cert_keys *k)
{
    std_ledger(t, name);
    cr_assert(wn_seckey_generate(k->holder_sk) && wn_seckey_xonly(k->holder, k->holder_sk));
    cr_assert(wn_seckey_generate(k->buyer_sk) && wn_seckey_xonly(k->buyer, k->buyer_sk));
    k->cert = add_cert(t, k, WN_PURPOSE_SALE, 17, NULL, NULL);
    add_op(t, 0, k->cert, 1, 400, k->holder_sk, k->buyer);
    add_op(t, 1, k->cert, 2, 100, k->buyer_sk, NULL);
    add_op(t, 1, k->cert, 3, 600, k->holder_sk, NULL);
}

Test(audit, certificates_transfers_and_retirements)
{
    wn_tl t;
    cert_keys k;
    cert_ledger(&t, "ok", &k);
    wn_tl_checkpoint(&t, NULL, NULL);
    wn_tl_close(&t);
    int code;
    cJSON *j = audit_json(t.dir, t.notary_hex, &code, NULL, NULL);
    cr_assert_eq(code, 0, "%s", cJSON_PrintUnformatted(j));
    cr_assert_eq(jnum(j, "entries", "certificate"), 1);
    cr_assert_eq(jnum(j, "entries", "transfer"), 1);
    cr_assert_eq(jnum(j, "entries", "retirement"), 2);
    cJSON_Delete(j);

    static const char *const want[] = {"stale_operation", "insufficient_balance", "double_counting",
                                       "unknown_checkpoint", "authority_key", "not_transferable", "not_holder",
                                       "bad_holder_signature"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        char name[16];
        snprintf(name, sizeof name, "bad%zu", w);
        cert_ledger(&t, name, &k);
        uint64_t bad = 0;
        uint8_t root[32] = {9}, other[32];
        cr_assert(wn_seckey_generate(other));
        switch (w) {
        case 0: bad = add_op(&t, 0, k.cert, 3, 1, k.buyer_sk, k.holder); break;   /* the next is 4 */
        case 1: bad = add_op(&t, 1, k.cert, 4, 301, k.buyer_sk, NULL); break;     /* holds 300 */
        case 2: bad = add_cert(&t, &k, WN_PURPOSE_SALE, 20, NULL, NULL); break;   /* same meters and period */
        case 3: bad = add_cert(&t, &k, WN_PURPOSE_SUBSIDY, 20, root, NULL); break;
        case 4: bad = add_cert(&t, &k, WN_PURPOSE_SUBSIDY, 20, NULL, other); break;
        case 5: {
            uint64_t sub = add_cert(&t, &k, WN_PURPOSE_SUBSIDY, 4, NULL, NULL);
            bad = add_op(&t, 0, sub, 1, 10, k.holder_sk, k.buyer);
            break;
        }
        case 6: bad = add_op(&t, 1, k.cert, 4, 1, other, NULL); break;           /* holds nothing */
        case 7: {                                                                 /* forged signature */
            uint8_t buf[200];
            size_t len;
            uint64_t good = add_op(&t, 1, k.cert, 4, 1, k.buyer_sk, NULL);
            cr_assert_eq(wn_ledger_get(t.l, good, buf, sizeof buf, &len, NULL, NULL), 0);
            buf[len - 1] ^= 1;
            bad = wn_tl_append_raw(&t, buf, len); /* op 4 again (stale too) with a bad signature */
            break;
        }
        }
        cr_assert_neq(bad, WN_TL_FAIL);
        wn_tl_close(&t);
        j = audit_json(t.dir, t.notary_hex, &code, NULL, NULL);
        cr_assert_eq(code, 1, "%s passed", want[w]);
        const char *where, *c;
        uint64_t at;
        first_problem(j, &where, &at, &c);
        cr_assert_eq(at, bad, "%s: first problem at %llu (%s)", want[w], (unsigned long long)at, c);
        int found = 0;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "problems"), "list"),
                    *p;
        cJSON_ArrayForEach(p, list) found |= !strcmp(cJSON_GetObjectItemCaseSensitive(p, "code")->valuestring, want[w]);
        cr_assert(found, "no %s problem: %s", want[w], cJSON_PrintUnformatted(j));
        cJSON_Delete(j);
    }
}

/* A second subsidy of one project (docs/THREATS.md, "Money path"): another reporting period,
 * so no (meter, period) overlap, but its policy subsidises a project once. */
static uint64_t add_project_subsidy(wn_tl *t, const cert_keys *k, uint64_t from_h, const char *project)
{
    wn_certificate c;
    memset(&c, 0, sizeof c);
    c.purpose = WN_PURPOSE_SUBSIDY;
    c.time_ms = t->start_ms + 40 * 3600000ULL;
    c.valid_until_ms = c.time_ms + 365 * 86400000ULL;
    c.volume_l = 1000;
    c.subsidy_fen = 50000;
    memset(c.claim_digest, 0x11, 32);
    memset(c.policy_digest, 0x22, 32);
    memcpy(c.holder, k->holder, 32);
    c.cp_size = 4;
    cr_assert_eq(wn_ledger_root(t->l, 4, c.cp_root), 0);
    c.baseline_from = t->start_ms - 100 * 3600000ULL;
    c.baseline_to = t->start_ms;
    c.reporting_from = t->start_ms + from_h * 3600000ULL;
    c.reporting_to = c.reporting_from + 10 * 3600000ULL;
    memcpy(c.meters[0], t->m[0].id, 32);
    c.n_meters = 1;
    strcpy(c.enterprise, "ACME-1");
    strcpy(c.policy_id, "jiaxing-2024");
    strcpy(c.claim_id, "claim-p");
    strcpy(c.project, project);
    c.project_subsidies = 1;
    cr_assert_eq(wn_certificate_sign(&c, t->registrar_sk), 0);
    uint8_t buf[1 + WN_CERTIFICATE_MAX_LEN];
    size_t len;
    buf[0] = WN_ENTRY_CERTIFICATE;
    cr_assert_eq(wn_certificate_encode(&c, buf + 1, sizeof buf - 1, &len), 0);
    return wn_tl_append_raw(t, buf, len + 1);
}

Test(audit, project_subsidised_once)
{
    wn_tl t;
    cert_keys k;
    std_ledger(&t, "project");
    cr_assert(wn_seckey_generate(k.holder_sk) && wn_seckey_xonly(k.holder, k.holder_sk));
    add_project_subsidy(&t, &k, 0, "JX-PRJ-1");
    add_project_subsidy(&t, &k, 20, "JX-PRJ-2"); /* another project: fine */
    uint64_t bad = add_project_subsidy(&t, &k, 40, "JX-PRJ-1");
    wn_tl_close(&t);
    int code;
    cJSON *j = audit_json(t.dir, t.notary_hex, &code, NULL, NULL);
    cr_assert_eq(code, 1, "the second subsidy of JX-PRJ-1 passed");
    const char *where, *c;
    uint64_t at;
    first_problem(j, &where, &at, &c);
    cr_assert_eq(at, bad, "first problem at %llu (%s)", (unsigned long long)at, c);
    cr_assert_str_eq(c, "project_already_subsidised");
    cJSON_Delete(j);
}
