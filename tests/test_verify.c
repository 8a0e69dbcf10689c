/* test_verify.c — the outside verifier's view of docs/PROTOCOL.md (§13 and the "JSON
 * integer" of the conventions), on bundles made by a real bin/wn-node fed by bin/wn-meter
 * simulate: `wn verify` refuses, with a named reason, a bundle whose index is written 5.0,
 * 5e0 or 05 (and a receipt whose index is); the shared lexical rule itself
 * (crypto/strict_json.h) on every number form; the order of §13's checks where it matters
 * (an enrolment that is not in the log, or is by another registrar, enrols nothing: no
 * reading counts as valid); a missing boundary counted as one gap of one reading; and the
 * limits §13 states — a bundle with its revocation or its equivocation evidence dropped
 * still verifies offline, while the node's GET /v1/meters/ID (the online check) shows them. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "cli/proofs/bundle.h"
#include "cli/proofs/report.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "device/meter.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define START "2026-03-01T00:00:00.000Z"
#define ALL_FROM "0"
#define ALL_TO "9999-01-01T00:00:00.000Z"

static char *tmp;
static wn_test_node node;
static char notary_hex[65], reg_key[4400], fleet[4400];
static uint8_t notary[32], notary_sk[32];

typedef wn_run_result result;
#define result_free wn_run_result_free
#define run(prog, args) wn_proc_run(tmp, prog, args)
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("verify");
    cr_assert_not_null(tmp);
    const char *args[] = {"--checkpoint-ms", "20", NULL};
    wn_test_node_init(&node, tmp);
    if (!wn_test_node_start(&node, args)) {
        char *log = wn_test_read_file(node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
    char notary_key[4400];
    snprintf(notary_key, sizeof notary_key, "%s/notary.key", node.data);
    snprintf(reg_key, sizeof reg_key, "%s/registrar.key", node.data);
    cr_assert(wn_keyfile_read(notary_key, notary_sk));
    cr_assert(wn_seckey_xonly(notary, notary_sk));
    wn_hex_encode(notary_hex, notary, 32);
    snprintf(fleet, sizeof fleet, "%s/fleet", tmp);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(verify, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---- */

/* A fleet of `meters` meters with `readings` readings each (meter 0 is BIP-340). Out: meter
 * i's id in hex. */
static void fleet_of(const char *meters, const char *readings, unsigned i, char hex[65])
{
    const char *args[] = {"simulate", "--node", node.url, "--registrar-key", reg_key, "--meters", meters, "--readings",
                          readings, "--state", fleet, "--start", START, "--batch", "64", "--quiet", NULL};
    result r = run("wn-meter", args);
    cr_assert_eq(r.code, 0, "simulate: %s %s", r.out, r.err);
    result_free(&r);
    char dir[4500];
    wn_meter m;
    snprintf(dir, sizeof dir, "%s/meter-%05u", fleet, i);
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK, "%s", dir);
    wn_hex_encode(hex, wn_meter_id(&m), 32);
    wn_meter_close(&m);
}

static char *path_in(const char *name)
{
    char *p = malloc(4500);
    snprintf(p, 4500, "%s/%s", tmp, name);
    return p;
}

/* `wn bundle` from the node (checked VALID by wn itself); returns the file's text. */
static char *fetch_bundle(const char *hex, const char *from, const char *to, const char *name)
{
    char *file = path_in(name);
    result r = wn("bundle", "--node", node.url, "--meter", hex, "--from", from, "--to", to, "--out", file,
                  "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 0, "wn bundle: %s %s", r.out, r.err);
    result_free(&r);
    char *text = wn_test_read_file(file, NULL);
    cr_assert_not_null(text);
    free(file);
    return text;
}

static void save(const char *name, const char *text)
{
    char *file = path_in(name);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    free(file);
}

/* `wn verify --json` on text saved as tmp/name. Out: the parsed report (NULL if none). */
static result verify_json(const char *name, const char *text, cJSON **report)
{
    save(name, text);
    char *file = path_in(name);
    result r = wn("verify", file, "--notary-pub", notary_hex, "--json", NULL);
    free(file);
    *report = cJSON_Parse(r.out);
    return r;
}

static const char *first_reason(const cJSON *rep, const char **detail)
{
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(rep, "reasons");
    const cJSON *r0 = cJSON_GetArrayItem(rs, 0);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(r0, "code");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r0, "detail");
    if (detail) *detail = cJSON_IsString(d) ? d->valuestring : "";
    return cJSON_IsString(code) ? code->valuestring : "";
}

static uint64_t count(const cJSON *rep, const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "counts"), name);
    cr_assert(cJSON_IsNumber(c), "no count %s", name);
    return (uint64_t)c->valuedouble;
}

static size_t n_code(const cJSON *rep, const char *code)
{
    size_t n = 0;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(rep, "reasons");
    for (const cJSON *r = rs ? rs->child : NULL; r; r = r->next)
        n += strcmp(cJSON_GetObjectItemCaseSensitive(r, "code")->valuestring, code) == 0;
    return n;
}

/* text with the first occurrence of `find` replaced by `repl` (malloc'd). */
static char *replace_once(const char *text, const char *find, const char *repl)
{
    const char *p = strstr(text, find);
    cr_assert_not_null(p, "\"%s\" is not in the bundle", find);
    size_t a = (size_t)(p - text), fl = strlen(find), rl = strlen(repl), n = strlen(text);
    char *out = malloc(n - fl + rl + 1);
    memcpy(out, text, a);
    memcpy(out + a, repl, rl);
    memcpy(out + a + rl, p + fl, n - a - fl + 1);
    return out;
}

/* ---- the JSON integer ---- */

Test(verify, the_json_integer_rule_names_each_form)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"{\"index\":5.0}", "not a JSON integer: a fraction"},
        {"{\"index\":5e0}", "not a JSON integer: an exponent"},
        {"{\"index\":5E+0}", "not a JSON integer: an exponent"},
        {"{\"index\":05}", "not a JSON integer: a leading zero"},
        {"{\"index\":00}", "not a JSON integer: a leading zero"},
        {"{\"index\":-0}", "not a JSON integer: minus zero"},
        {"{\"index\":-}", "malformed number"},
        {"[1,2.50]", "not a JSON integer: a fraction"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 999;
        const char *why = wn_json_lexical_problem_at(bad[i].text, strlen(bad[i].text), &at);
        cr_assert(why && strcmp(why, bad[i].why) == 0, "%s: %s", bad[i].text, why ? why : "(accepted)");
        cr_assert(at < strlen(bad[i].text) && strchr("-0123456789", bad[i].text[at]), "%s: at %zu", bad[i].text, at);
        char detail[200] = "";
        cr_assert_null(wn_json_parse_strict(bad[i].text, strlen(bad[i].text), detail, sizeof detail));
        cr_assert(strstr(detail, bad[i].why), "%s: %s", bad[i].text, detail);
    }
    static const char *const good[] = {"{\"index\":0}", "{\"index\":5}", "{\"index\":-5}", "[9007199254740991]",
                                        "{\"s\":\"5.0 05 5e0 -0\"}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert_null(wn_json_lexical_problem(good[i], strlen(good[i])), "%s", good[i]);
        cJSON *j = wn_json_parse_strict(good[i], strlen(good[i]), NULL, 0);
        cr_assert_not_null(j, "%s", good[i]);
        cJSON_Delete(j);
    }
    /* the range: 0 ..= max, and never beyond 2^53-1 */
    static const struct {
        const char *text;
        uint64_t max;
        int ok;
        uint64_t value;
    } range[] = {
        {"[0]", 10, 1, 0},
        {"[10]", 10, 1, 10},
        {"[11]", 10, 0, 0},
        {"[-1]", 10, 0, 0},
        {"[9007199254740991]", UINT64_MAX, 1, 9007199254740991ull},
        {"[9007199254740992]", UINT64_MAX, 0, 0},
        {"[9007199254740993]", UINT64_MAX, 0, 0},
        {"[\"5\"]", 10, 0, 0},
    };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        cJSON *j = wn_json_parse_strict(range[i].text, strlen(range[i].text), NULL, 0);
        cr_assert_not_null(j);
        uint64_t v = 12345;
        int ok = wn_json_uint(cJSON_GetArrayItem(j, 0), range[i].max, &v);
        cr_assert_eq(ok, range[i].ok, "%s", range[i].text);
        if (ok) cr_assert_eq(v, range[i].value, "%s", range[i].text);
        cJSON_Delete(j);
    }
    /* bytes after the value */
    char detail[200] = "";
    cr_assert_null(wn_json_parse_strict("{} {}", 5, detail, sizeof detail));
    cr_assert(strstr(detail, "bytes after"), "%s", detail);
}

Test(verify, a_bundle_index_that_is_not_a_json_integer_is_refused)
{
    char hex[65];
    fleet_of("1", "6", 0, hex);
    char *all = fetch_bundle(hex, ALL_FROM, ALL_TO, "all.json");
    cJSON *rep;
    result r = verify_json("ok.json", all, &rep);
    cr_assert_eq(r.code, 0, "the untouched bundle: %s %s", r.out, r.err);
    result_free(&r);
    cJSON_Delete(rep);

    /* the index of the 3rd reading (the enrolment is entry 0: readings are at 1..6) */
    cJSON *b = cJSON_Parse(all);
    const cJSON *third = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "readings"), 2);
    uint64_t idx = (uint64_t)cJSON_GetObjectItemCaseSensitive(third, "index")->valuedouble;
    cJSON_Delete(b);
    char find[64];
    snprintf(find, sizeof find, "{\"index\":%llu,", (unsigned long long)idx);
    static const struct {
        const char *fmt, *why;
    } forms[] = {
        {"{\"index\":%llu.0,", "not a JSON integer: a fraction"},
        {"{\"index\":%llue0,", "not a JSON integer: an exponent"},
        {"{\"index\":0%llu,", "not a JSON integer: a leading zero"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char repl[64];
        snprintf(repl, sizeof repl, forms[i].fmt, (unsigned long long)idx);
        char *bad = replace_once(all, find, repl);
        /* the same value to cJSON: only the lexical rule can tell */
        cJSON *same = cJSON_Parse(bad);
        cr_assert_not_null(same, "%s", repl);
        cr_assert_eq((uint64_t)cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(same, "readings"), 2), "index")->valuedouble,
                     idx);
        cJSON_Delete(same);
        r = verify_json("bad.json", bad, &rep);
        cr_assert_eq(r.code, 2, "%s: refused as malformed (exit 2), got %d: %s %s", repl, r.code, r.out, r.err);
        const char *detail;
        cr_assert_str_eq(first_reason(rep, &detail), "malformed", "%s: %s", repl, r.out);
        cr_assert(strstr(detail, forms[i].why), "%s: %s", repl, detail);
        cr_assert(strstr(r.err, forms[i].why), "%s: %s", repl, r.err);
        cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(rep, "valid")));
        cJSON_Delete(rep);
        result_free(&r);
        free(bad);
    }
    /* minus zero for the enrolment's index 0 */
    char *bad = replace_once(all, "\"enrolment\":{\"index\":0,", "\"enrolment\":{\"index\":-0,");
    r = verify_json("bad.json", bad, &rep);
    cr_assert_eq(r.code, 2, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "minus zero"), "%s", r.err);
    cJSON_Delete(rep);
    result_free(&r);
    free(bad);
    free(all);
}

Test(verify, a_receipt_index_that_is_not_a_json_integer_is_refused)
{
    wn_receipt rc = {.index = 7, .time_ms = 1772323200000ull};
    memset(rc.leaf, 0x5a, 32);
    cr_assert_eq(wn_receipt_sign(&rc, notary_sk), 1);
    char json[400];
    cr_assert(wn_receipt_to_json(&rc, json, sizeof json));
    cJSON *rep;
    result r = verify_json("receipt.json", json, &rep);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cJSON_Delete(rep);
    result_free(&r);
    static const char *const forms[] = {"{\"index\":7.0,", "{\"index\":7e0,", "{\"index\":07,"};
    for (size_t i = 0; i < 3; i++) {
        char *bad = replace_once(json, "{\"index\":7,", forms[i]);
        r = verify_json("receipt-bad.json", bad, &rep);
        cr_assert_eq(r.code, 2, "%s: %s %s", forms[i], r.out, r.err);
        const char *detail;
        cr_assert_str_eq(first_reason(rep, &detail), "malformed");
        cr_assert(strstr(detail, "not a JSON integer"), "%s: %s", forms[i], detail);
        cJSON_Delete(rep);
        result_free(&r);
        free(bad);
    }
}

/* ---- §13: the order of the checks, a missing boundary, what offline cannot see ---- */

/* Replaces the first hash of the proved entry's proof by 32 zero bytes. */
static void break_proof(cJSON *o)
{
    cJSON *proof = cJSON_GetObjectItemCaseSensitive(o, "proof");
    cr_assert(cJSON_GetArraySize(proof) > 0);
    cJSON_ReplaceItemInArray(proof, 0, cJSON_CreateString("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
}

Test(verify, an_enrolment_outside_the_log_or_by_another_registrar_enrols_nothing)
{
    char hex[65];
    fleet_of("2", "5", 0, hex);
    char *all = fetch_bundle(hex, ALL_FROM, ALL_TO, "all.json");
    cJSON *rep;
    result r = verify_json("ok.json", all, &rep);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert_eq(count(rep, "valid_readings"), 5);
    cJSON_Delete(rep);
    result_free(&r);

    /* the enrolment's inclusion proof broken: its registrar signature still verifies, but
     * an enrolment the log does not hold enrols nothing — no reading is valid */
    cJSON *b = cJSON_Parse(all);
    break_proof(cJSON_GetObjectItemCaseSensitive(b, "enrolment"));
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    r = verify_json("enrol-proof.json", s, &rep);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert_eq(n_code(rep, "inclusion"), 1, "%s", r.out);
    cr_assert_str_eq(first_reason(rep, NULL), "inclusion", "the inclusion proof is checked first: %s", r.out);
    cr_assert_eq(count(rep, "valid_readings"), 0, "%s", r.out);
    cr_assert_eq(n_code(rep, "reading_signature"), 0, "the meter id's key still verifies the readings: %s", r.out);
    cJSON_Delete(rep);
    result_free(&r);
    free(s);

    /* another registrar required: the enrolment is not accepted, no reading is valid */
    save("reg.json", all);
    char *file = path_in("reg.json");
    r = wn("verify", file, "--notary-pub", notary_hex, "--registrar-pub", notary_hex, "--json", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    rep = cJSON_Parse(r.out);
    cr_assert_str_eq(first_reason(rep, NULL), "enrolment", "%s", r.out);
    cr_assert_eq(count(rep, "valid_readings"), 0, "%s", r.out);
    cJSON_Delete(rep);
    result_free(&r);
    free(file);
    free(all);
}

Test(verify, a_missing_boundary_is_one_gap_of_one_reading)
{
    char hex[65];
    fleet_of("1", "12", 0, hex);
    char *all = fetch_bundle(hex, ALL_FROM, ALL_TO, "all.json");
    cJSON *b = cJSON_Parse(all);
    cJSON *rs = cJSON_GetObjectItemCaseSensitive(b, "readings");
    /* keep seq 4..12, as if the period began at seq 4's time but seq 3 (before) was dropped */
    for (int i = 0; i < 3; i++) cJSON_DeleteItemFromArray(rs, 0);
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    cJSON *rep;
    result r = verify_json("noboundary.json", s, &rep);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert_eq(n_code(rep, "missing_boundary"), 1, "%s", r.out);
    cr_assert_eq(n_code(rep, "gap"), 0, "a missing boundary is not also a gap failure: %s", r.out);
    cr_assert_eq(count(rep, "gaps"), 1);
    cr_assert_eq(count(rep, "missing"), 1);
    const cJSON *gaps = cJSON_GetObjectItemCaseSensitive(rep, "gaps");
    cr_assert_eq(cJSON_GetArraySize(gaps), 1);
    const cJSON *g = cJSON_GetArrayItem(gaps, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(g, "first_seq")->valuedouble, 3);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(g, "last_seq")->valuedouble, 3);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(g, "after_time")));
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(g, "before_time")));
    cJSON_Delete(rep);
    result_free(&r);
    free(s);
    free(all);
}

static long post_json(const char *path, const char *body)
{
    wn_test_resp resp;
    cr_assert(wn_test_http(node.url, "POST", path, "application/json", body, strlen(body), &resp));
    long st = resp.status;
    wn_test_resp_free(&resp);
    return st;
}

static cJSON *meter_state(const char *hex)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    wn_test_resp resp;
    cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &resp));
    cr_assert_eq(resp.status, 200, "%s", (char *)resp.body);
    cJSON *j = cJSON_Parse((char *)resp.body);
    wn_test_resp_free(&resp);
    cr_assert_not_null(j);
    return j;
}

Test(verify, dropped_revocation_and_evidence_cannot_be_seen_offline)
{
    char hex[65];
    fleet_of("1", "6", 0, hex);
    /* the meter equivocates on seq 5 (evidence appended), then is revoked */
    char *all = fetch_bundle(hex, ALL_FROM, ALL_TO, "all.json");
    cJSON *b = cJSON_Parse(all);
    const cJSON *fifth = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "readings"), 4);
    uint8_t e[2048];
    size_t n;
    const char *e64 = cJSON_GetObjectItemCaseSensitive(fifth, "entry")->valuestring;
    cr_assert(wn_base64_decode(e, sizeof e, &n, e64, strlen(e64)));
    cJSON_Delete(b);
    free(all);
    wn_reading rd;
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, e, n), WN_ENTRY_OK);
    cr_assert_eq(wn_reading_decode(&rd, v.payload, v.len), WN_READING_OK);
    rd.m[0].value += 3;
    char keyfile[4600];
    uint8_t sk[32];
    snprintf(keyfile, sizeof keyfile, "%s/meter-00000/meter.key", fleet);
    cr_assert(wn_keyfile_read(keyfile, sk));
    cr_assert_eq(wn_reading_sign(&rd, sk), WN_READING_OK);
    char json[WN_READING_JSON_MAX];
    size_t jl;
    cr_assert_eq(wn_reading_to_json(&rd, json, sizeof json, &jl), WN_READING_OK);
    cr_assert_eq(post_json("/v1/readings", json), 409);
    result r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", hex, "--reason", "compromised",
                  NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);

    all = fetch_bundle(hex, ALL_FROM, ALL_TO, "all2.json");
    cJSON *rep;
    r = verify_json("full.json", all, &rep);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert_eq(count(rep, "equivocations"), 1);
    cr_assert(strstr(r.out, "revoked_meter") && strstr(r.out, "\"equivocations\""), "both warned: %s", r.out);
    cJSON_Delete(rep);
    result_free(&r);

    /* both dropped by whoever hands the bundle on: offline, it still verifies */
    b = cJSON_Parse(all);
    cJSON_ReplaceItemInObjectCaseSensitive(b, "revocation", cJSON_CreateNull());
    cJSON_ReplaceItemInObjectCaseSensitive(b, "equivocations", cJSON_CreateArray());
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    r = verify_json("dropped.json", s, &rep);
    cr_assert_eq(r.code, 0, "PROTOCOL §13 says this cannot be seen offline: %s %s", r.out, r.err);
    cr_assert_null(strstr(r.out, "revoked_meter"), "%s", r.out);
    cr_assert_eq(count(rep, "equivocations"), 0);
    cJSON_Delete(rep);
    result_free(&r);
    free(s);

    /* the online check §13 names: the node's record of the meter shows both */
    cJSON *m = meter_state(hex);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "revoked")));
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "revocation_index")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "alerts")), 1);
    cJSON_Delete(m);
    free(all);
}
