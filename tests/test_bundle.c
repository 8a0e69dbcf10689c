/* test_bundle.c — proof bundles, offline verification and consistency, end to end: a real
 * bin/wn-node on 127.0.0.1 fed by bin/wn-meter simulate; `wn bundle` fetches bundles that
 * verify; every kind of tampering (a reading's value, a signature, a proof element, the
 * checkpoint's text and signature, a removed reading, a swapped order, an enrolment of
 * another key, the wrong notary key, ...) is caught with its reason code; bundles built
 * by hand from a local ledger show that readings after a revocation or before an
 * enrolment are invalid; receipts from the meters' state dirs verify with `wn verify`;
 * `wn consistency` passes against an older saved checkpoint and reports forks — a forged
 * checkpoint, and a second node with the same notary key fed other readings. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/proofs/bundle.h"
#include "cli/proofs/report.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sig.h"
#include "device/meter.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define START "2026-03-01T00:00:00.000Z"

static char *tmp;
static wn_test_node node;
static char notary_hex[65], reg_key[4400], notary_key[4400], fleet[4400];
static uint8_t notary[32];

/* ---- running programs ---- */

typedef wn_run_result result;
#define result_free wn_run_result_free
#define run(prog, args) wn_proc_run(tmp, prog, args)
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

static void simulate(const wn_test_node *nd, const char *regkey, const char *state, const char *meters,
                     const char *readings)
{
    const char *args[] = {"simulate", "--node", nd->url, "--registrar-key", regkey, "--meters", meters, "--readings",
                          readings, "--state", state, "--start", START, "--batch", "64", "--quiet", NULL};
    result r = run("wn-meter", args);
    cr_assert_eq(r.code, 0, "simulate: %s %s", r.out, r.err);
    result_free(&r);
}

static void start_node(wn_test_node *nd, const char *dir, const char *const *args)
{
    wn_test_node_init(nd, dir);
    if (!wn_test_node_start(nd, args)) {
        char *log = wn_test_read_file(nd->log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("bundle");
    cr_assert_not_null(tmp);
    const char *args[] = {"--checkpoint-ms", "20", NULL};
    start_node(&node, tmp, args);
    snprintf(notary_key, sizeof notary_key, "%s/notary.key", node.data);
    snprintf(reg_key, sizeof reg_key, "%s/registrar.key", node.data);
    uint8_t sk[32];
    cr_assert(wn_keyfile_read(notary_key, sk));
    cr_assert(wn_seckey_xonly(notary, sk));
    wn_hex_encode(notary_hex, notary, 32);
    snprintf(fleet, sizeof fleet, "%s/fleet", tmp);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(bundle, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---- */

static void meter_hex(const char *state, unsigned i, char hex[65])
{
    char dir[4500];
    wn_meter m;
    snprintf(dir, sizeof dir, "%s/meter-%05u", state, i);
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

/* `wn bundle` for the meter over [from, to) into tmp/name; returns the file's text. */
static char *fetch_bundle(const char *hex, const char *from, const char *to, const char *name, size_t *len)
{
    char *file = path_in(name);
    result r = wn("bundle", "--node", node.url, "--meter", hex, "--from", from, "--to", to, "--out", file,
                  "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 0, "wn bundle: %s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID"), "%s", r.out);
    result_free(&r);
    char *text = wn_test_read_file(file, len);
    cr_assert_not_null(text);
    free(file);
    return text;
}

/* Parses and verifies text in-process. Returns the report (caller frees). */
static wn_report check(const char *text, const uint8_t key[32], const uint8_t *registrar)
{
    wn_bundle b;
    char detail[256] = "";
    cr_assert(wn_bundle_parse(&b, text, strlen(text), detail, sizeof detail), "parse: %s", detail);
    wn_report rep;
    wn_report_init(&rep, "bundle");
    wn_bundle_verify(&b, key, registrar, &rep);
    wn_bundle_free(&b);
    return rep;
}

static size_t n_code(const wn_report *r, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_reasons; i++) n += strcmp(r->reasons[i].code, code) == 0;
    return n;
}

static char *codes(const wn_report *r)
{
    static char buf[4096];
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_reasons && strlen(buf) < 3500; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "[%s] %s\n", r->reasons[i].code, r->reasons[i].detail);
    return buf;
}

static uint64_t count_of(const wn_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_counts; i++)
        if (strcmp(r->counts[i].name, name) == 0) return r->counts[i].value;
    cr_assert_fail("no count %s", name);
    return 0;
}

/* Decodes member "entry" of o into buf. Returns its length. */
static size_t entry_of(const cJSON *o, uint8_t *buf, size_t cap)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "entry");
    size_t n;
    cr_assert(cJSON_IsString(e) && wn_base64_decode(buf, cap, &n, e->valuestring, strlen(e->valuestring)));
    return n;
}

static void set_b64(cJSON *o, const char *member, const uint8_t *b, size_t n)
{
    char *s = malloc(WN_B64_LEN(n) + 1);
    wn_base64_encode(s, b, n);
    cJSON_ReplaceItemInObjectCaseSensitive(o, member, cJSON_CreateString(s));
    free(s);
}

/* XORs byte `off` of an entry (negative: from the end). */
static void flip_entry(cJSON *o, long off, uint8_t x)
{
    uint8_t buf[2048];
    size_t n = entry_of(o, buf, sizeof buf);
    buf[off < 0 ? (long)n + off : off] ^= x;
    set_b64(o, "entry", buf, n);
}

static uint64_t seq_of(const cJSON *o)
{
    uint8_t buf[2048];
    size_t n = entry_of(o, buf, sizeof buf);
    wn_reading r;
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, buf, n), WN_ENTRY_OK);
    cr_assert_eq(wn_reading_decode(&r, v.payload, v.len), WN_READING_OK);
    return r.seq;
}

static uint64_t time_of(const cJSON *o)
{
    uint8_t buf[2048];
    size_t n = entry_of(o, buf, sizeof buf);
    wn_reading r;
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, buf, n), WN_ENTRY_OK);
    cr_assert_eq(wn_reading_decode(&r, v.payload, v.len), WN_READING_OK);
    return r.time_ms;
}

static char *print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cr_assert_not_null(s);
    return s;
}

static cJSON *readings_of(cJSON *b) { return cJSON_GetObjectItemCaseSensitive(b, "readings"); }

/* Writes text to tmp/name and runs `wn verify` on it (with --json if json). */
static result verify_file(const char *name, const char *text, const char *key_hex, int json)
{
    char *file = path_in(name);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    result r = json ? wn("verify", file, "--notary-pub", key_hex, "--json", NULL)
                    : wn("verify", file, "--notary-pub", key_hex, NULL);
    free(file);
    return r;
}

/* A fleet of 6 (meter 3 is the ECDSA one) with 30 readings each, and the whole-history
 * bundle of meter i. */
static char *fleet_and_bundle(unsigned i, char hex[65])
{
    simulate(&node, reg_key, fleet, "6", "30");
    meter_hex(fleet, i, hex);
    return fetch_bundle(hex, "0", "9999-01-01T00:00:00.000Z", "all.json", NULL);
}

/* ---- bundles from a real node ---- */

Test(bundle, bundles_from_a_real_node_verify)
{
    char hex[65];
    char *all = fleet_and_bundle(0, hex);
    wn_report rep = check(all, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "readings"), 30);
    cr_assert_eq(count_of(&rep, "in_period"), 30);
    cr_assert_eq(count_of(&rep, "boundary"), 0);
    cr_assert_eq(count_of(&rep, "valid_readings"), 30);
    cr_assert_eq(rep.n_warnings, 1, "only open_end");
    cr_assert_str_eq(rep.warnings[0].code, "open_end");
    wn_report_free(&rep);

    /* a period inside: seq 10..19 with the boundaries seq 9 and seq 20 */
    cJSON *b = cJSON_Parse(all);
    cJSON *rs = readings_of(b);
    char from[25], to[25];
    wn_time_format(from, time_of(cJSON_GetArrayItem(rs, 9)));
    wn_time_format(to, time_of(cJSON_GetArrayItem(rs, 19)));
    cJSON_Delete(b);
    size_t len;
    char *part = fetch_bundle(hex, from, to, "part.json", &len);
    b = cJSON_Parse(part);
    rs = readings_of(b);
    cr_assert_eq(cJSON_GetArraySize(rs), 12);
    cr_assert_eq(seq_of(cJSON_GetArrayItem(rs, 0)), 9);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rs, 0), "boundary")->valuestring, "before");
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(rs, 1), "boundary"));
    cr_assert_eq(seq_of(cJSON_GetArrayItem(rs, 11)), 20);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(rs, 11), "boundary")->valuestring, "after");
    cJSON_Delete(b);
    rep = check(part, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "in_period"), 10);
    cr_assert_eq(count_of(&rep, "boundary"), 2);
    cr_assert_eq(rep.n_warnings, 0);
    wn_report_free(&rep);

    /* wn verify on the file: exit 0, and the JSON report */
    char *file = path_in("part.json");
    result r = wn("verify", file, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: 10 readings in the period"), "%s", r.out);
    cr_assert(strstr(r.out, "before:        seq 9"), "%s", r.out);
    result_free(&r);
    r = wn("verify", file, "--notary-pub", notary_hex, "--json", NULL);
    cr_assert_eq(r.code, 0);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert_not_null(j, "%s", r.out);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "kind")->valuestring, "bundle");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "valid")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reasons")), 0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "gaps")), 0);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "counts"), "in_period")->valueint, 10);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "meter")->valuestring, hex);
    cJSON_Delete(j);
    result_free(&r);
    /* the registrar pinned: the right one passes, another fails */
    uint8_t rsk[32], rpk[32];
    char rhex[65];
    cr_assert(wn_keyfile_read(reg_key, rsk));
    cr_assert(wn_seckey_xonly(rpk, rsk));
    wn_hex_encode(rhex, rpk, 32);
    r = wn("verify", file, "--notary-pub", notary_hex, "--registrar-pub", rhex, NULL);
    cr_assert_eq(r.code, 0, "%s", r.out);
    result_free(&r);
    r = wn("verify", file, "--notary-pub", notary_hex, "--registrar-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "INVALID [enrolment]"), "%s", r.out);
    result_free(&r);

    /* a period before the first reading: only the after boundary; after the last: only before */
    char *early = fetch_bundle(hex, "2020-01-01", "2020-02-01", "early.json", NULL);
    rep = check(early, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "readings"), 1);
    cr_assert_eq(count_of(&rep, "in_period"), 0);
    wn_report_free(&rep);
    char *late = fetch_bundle(hex, "2030-01-01", "2030-02-01", "late.json", NULL);
    rep = check(late, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "readings"), 1);
    cr_assert_str_eq(rep.warnings[0].code, "open_end");
    wn_report_free(&rep);

    /* the ECDSA meter's bundle verifies with its enrolled 33-byte key */
    char ehex[65];
    meter_hex(fleet, 3, ehex);
    char *ecdsa = fetch_bundle(ehex, from, to, "ecdsa.json", NULL);
    rep = check(ecdsa, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "valid_readings"), 12);
    wn_report_free(&rep);

    free(file);
    free(all);
    free(part);
    free(early);
    free(late);
    free(ecdsa);
}

/* ---- tampering ---- */

/* Applies one tampering to a copy of the bundle and verifies it. */
static wn_report tampered(const char *text, void (*fn)(cJSON *b, void *arg), void *arg, const uint8_t key[32])
{
    cJSON *b = cJSON_Parse(text);
    cr_assert_not_null(b);
    fn(b, arg);
    char *s = print(b);
    cJSON_Delete(b);
    wn_report rep = check(s, key, NULL);
    free(s);
    return rep;
}

static void t_value(cJSON *b, void *arg)
{
    (void)arg; /* the last byte of the first measurement's value of reading 3 */
    flip_entry(cJSON_GetArrayItem(readings_of(b), 3), WN_ENTRY_TIMED_HEADER + 84 + 3 + 7, 0x01);
}
static void t_sig(cJSON *b, void *arg)
{
    (void)arg;
    flip_entry(cJSON_GetArrayItem(readings_of(b), 4), -5, 0x40);
}
static void t_proof(cJSON *b, void *arg)
{
    (void)arg;
    cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(readings_of(b), 6), "proof");
    cJSON *h = cJSON_GetArrayItem(p, 1);
    uint8_t x[32];
    size_t n;
    cr_assert(wn_base64_decode(x, 32, &n, h->valuestring, strlen(h->valuestring)));
    x[0] ^= 1;
    char s[WN_B64_LEN(32) + 1];
    wn_base64_encode(s, x, 32);
    cJSON_ReplaceItemInArray(p, 1, cJSON_CreateString(s));
}
/* Rewrites the checkpoint: the size line +1 (what = 0), or one character of the signature (1). */
static void t_checkpoint(cJSON *b, void *arg)
{
    int sig = *(int *)arg;
    char *cp = strdup(cJSON_GetObjectItem(b, "checkpoint")->valuestring);
    if (sig) {
        char *line = strstr(cp, "\n\n") + 2;
        char *at = line + strlen(line) - 10;
        *at = *at == 'A' ? 'B' : 'A';
        cJSON_ReplaceItemInObjectCaseSensitive(b, "checkpoint", cJSON_CreateString(cp));
    } else {
        char *nl = strchr(cp, '\n');
        unsigned long long size = strtoull(nl + 1, NULL, 10);
        char *rest = strchr(nl + 1, '\n');
        char *out = malloc(strlen(cp) + 32);
        sprintf(out, "%.*s%llu%s", (int)(nl + 1 - cp), cp, size + 1, rest);
        cJSON_ReplaceItemInObjectCaseSensitive(b, "checkpoint", cJSON_CreateString(out));
        free(out);
    }
    free(cp);
}
/* Removes `n` readings from position 5. */
static void t_remove(cJSON *b, void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++) cJSON_DeleteItemFromArray(readings_of(b), 5);
}
static void t_swap(cJSON *b, void *arg)
{
    (void)arg;
    cJSON *rs = readings_of(b);
    cJSON *a = cJSON_Duplicate(cJSON_GetArrayItem(rs, 7), 1), *c = cJSON_Duplicate(cJSON_GetArrayItem(rs, 8), 1);
    cJSON_ReplaceItemInArray(rs, 7, c);
    cJSON_ReplaceItemInArray(rs, 8, a);
}
/* Replaces the enrolment by the (proved) enrolment object given. */
static void t_enrolment(cJSON *b, void *arg)
{
    cJSON_ReplaceItemInObjectCaseSensitive(b, "enrolment", cJSON_Duplicate(arg, 1));
}
static void t_enrolment_bytes(cJSON *b, void *arg)
{
    cJSON *e = cJSON_GetObjectItem(b, "enrolment");
    const struct { uint8_t *p; size_t n; } *x = arg;
    set_b64(e, "entry", x->p, x->n);
}
static void t_other_meter(cJSON *b, void *arg)
{
    cJSON_ReplaceItemInArray(readings_of(b), 4, cJSON_Duplicate(arg, 1));
}
static void t_drop_before(cJSON *b, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromArray(readings_of(b), 0);
}
static void t_unmark_before(cJSON *b, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromObject(cJSON_GetArrayItem(readings_of(b), 0), "boundary");
}

Test(bundle, every_tampering_is_detected_with_its_reason)
{
    char hex[65];
    char *all = fleet_and_bundle(0, hex);
    wn_report rep;

    /* a reading's value: its signature fails, its leaf is not in the tree, and the next
     * reading no longer chains to it */
    rep = tampered(all, t_value, NULL, notary);
    cr_assert_eq(n_code(&rep, "reading_signature"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "inclusion"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "chain"), 1, "%s", codes(&rep));
    cr_assert_eq(rep.n_reasons, 3, "%s", codes(&rep));
    cr_assert(strstr(rep.reasons[0].detail, "seq 4"), "%s", codes(&rep));
    cr_assert(strstr(codes(&rep), "reading seq 5 does not carry the digest of seq 4"), "%s", codes(&rep));
    wn_report_free(&rep);

    /* a signature byte: the same three */
    rep = tampered(all, t_sig, NULL, notary);
    cr_assert_eq(n_code(&rep, "reading_signature"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "inclusion"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "chain"), 1, "%s", codes(&rep));
    cr_assert_eq(rep.n_reasons, 3, "%s", codes(&rep));
    wn_report_free(&rep);

    /* a proof element: that proof alone fails */
    rep = tampered(all, t_proof, NULL, notary);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "inclusion"), 1, "%s", codes(&rep));
    cr_assert(strstr(rep.reasons[0].detail, "reading seq 7"), "%s", codes(&rep));
    wn_report_free(&rep);

    /* the checkpoint's text: the signature fails (and the proofs, against another size) */
    int what = 0;
    rep = tampered(all, t_checkpoint, &what, notary);
    cr_assert_eq(n_code(&rep, "checkpoint"), 1, "%s", codes(&rep));
    wn_report_free(&rep);
    /* the checkpoint's signature: only that */
    what = 1;
    rep = tampered(all, t_checkpoint, &what, notary);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "checkpoint"), 1, "%s", codes(&rep));
    wn_report_free(&rep);

    /* a reading removed in the middle: a gap with its exact range and times, nothing else */
    cJSON *b = cJSON_Parse(all);
    uint64_t t4 = time_of(cJSON_GetArrayItem(readings_of(b), 4)), t6 = time_of(cJSON_GetArrayItem(readings_of(b), 6));
    uint64_t t8 = time_of(cJSON_GetArrayItem(readings_of(b), 8));
    cJSON_Delete(b);
    int n = 1;
    rep = tampered(all, t_remove, &n, notary);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "gap"), 1, "%s", codes(&rep));
    cr_assert_eq(rep.n_gaps, 1);
    cr_assert_eq(rep.gaps[0].first_seq, 6);
    cr_assert_eq(rep.gaps[0].last_seq, 6);
    cr_assert(rep.gaps[0].has_after && rep.gaps[0].has_before);
    cr_assert_eq(rep.gaps[0].after_time, t4);
    cr_assert_eq(rep.gaps[0].before_time, t6);
    cr_assert_eq(count_of(&rep, "missing"), 1);
    wn_report_free(&rep);
    n = 3;
    rep = tampered(all, t_remove, &n, notary);
    cr_assert_eq(rep.n_gaps, 1);
    cr_assert_eq(rep.gaps[0].first_seq, 6);
    cr_assert_eq(rep.gaps[0].last_seq, 8);
    cr_assert_eq(rep.gaps[0].before_time, t8);
    wn_report_free(&rep);
    /* ... and wn verify says so: exit 1, the range and times in words and in JSON */
    b = cJSON_Parse(all);
    for (int i = 0; i < 3; i++) cJSON_DeleteItemFromArray(readings_of(b), 5);
    char *s = print(b);
    cJSON_Delete(b);
    char t4s[25], t8s[25], want[200];
    wn_time_format(t4s, t4);
    wn_time_format(t8s, t8);
    snprintf(want, sizeof want, "GAP: missing seq 6..8 (3 readings), between %s (seq 5) and %s (seq 9)", t4s, t8s);
    result r = verify_file("gap.json", s, notary_hex, 0);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, want), "want '%s' in:\n%s", want, r.out);
    cr_assert(strstr(r.out, "INVALID: 1 problem found"), "%s", r.out);
    result_free(&r);
    r = verify_file("gap.json", s, notary_hex, 1);
    cr_assert_eq(r.code, 1);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert_not_null(j, "%s", r.out);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "valid")));
    const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "gaps"), 0);
    cr_assert_eq(cJSON_GetObjectItem(g, "first_seq")->valueint, 6);
    cr_assert_eq(cJSON_GetObjectItem(g, "last_seq")->valueint, 8);
    cr_assert_str_eq(cJSON_GetObjectItem(g, "after_time")->valuestring, t4s);
    cr_assert_str_eq(cJSON_GetObjectItem(g, "before_time")->valuestring, t8s);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "reasons"), 0), "code")->valuestring,
                     "gap");
    cJSON_Delete(j);
    result_free(&r);
    free(s);

    /* a swapped order: reported as order, not as gaps or a broken chain */
    rep = tampered(all, t_swap, NULL, notary);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "order"), 1, "%s", codes(&rep));
    cr_assert_eq(rep.n_gaps, 0);
    wn_report_free(&rep);

    /* the enrolment of another meter (proved in the same tree) */
    char hex1[65];
    meter_hex(fleet, 1, hex1);
    char *other = fetch_bundle(hex1, "0", "9999-01-01T00:00:00.000Z", "other.json", NULL);
    cJSON *ob = cJSON_Parse(other);
    rep = tampered(all, t_enrolment, cJSON_GetObjectItem(ob, "enrolment"), notary);
    cr_assert_geq(n_code(&rep, "enrolment"), 1, "%s", codes(&rep));
    cr_assert(strstr(codes(&rep), "is for meter"), "%s", codes(&rep));
    wn_report_free(&rep);
    /* a reading of that other meter in place of one of ours */
    rep = tampered(all, t_other_meter, cJSON_GetArrayItem(readings_of(ob), 4), notary);
    cr_assert_eq(n_code(&rep, "reading_meter"), 1, "%s", codes(&rep));
    wn_report_free(&rep);
    cJSON_Delete(ob);
    free(other);

    /* the wrong notary key */
    uint8_t wrong[32], wsk[32];
    cr_assert(wn_seckey_generate(wsk));
    cr_assert(wn_seckey_xonly(wrong, wsk));
    rep = check(all, wrong, NULL);
    cr_assert_eq(n_code(&rep, "checkpoint"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "notary_key_id"), 1, "%s", codes(&rep));
    wn_report_free(&rep);
    char whex[65];
    wn_hex_encode(whex, wrong, 32);
    r = verify_file("all.json", all, whex, 0);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.out, "INVALID [checkpoint]"), "%s", r.out);
    result_free(&r);

    /* boundaries: a period bundle without its before reading, or with it unmarked */
    b = cJSON_Parse(all);
    char from[25], to[25];
    wn_time_format(from, time_of(cJSON_GetArrayItem(readings_of(b), 9)));
    wn_time_format(to, time_of(cJSON_GetArrayItem(readings_of(b), 19)));
    cJSON_Delete(b);
    char *part = fetch_bundle(hex, from, to, "part.json", NULL);
    rep = tampered(part, t_drop_before, NULL, notary);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "missing_boundary"), 1, "%s", codes(&rep));
    cr_assert_eq(rep.gaps[0].first_seq, 9);
    wn_report_free(&rep);
    rep = tampered(part, t_unmark_before, NULL, notary);
    cr_assert_eq(n_code(&rep, "boundary"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "missing_boundary"), 1, "%s", codes(&rep));
    wn_report_free(&rep);
    free(part);
    free(all);
}

Test(bundle, an_enrolment_of_another_key_fails_the_readings)
{
    /* meter 3 is ECDSA: enrol "it" with the other parity's key, signed by a registrar of
     * our own. The forged entry is not in the tree, so it enrols nothing (PROTOCOL §13,
     * the accepted enrolment): the report blames the enrolment, not the readings (which
     * the meter id's key does verify), and no reading is valid. */
    char hex[65];
    char *all = fleet_and_bundle(3, hex);
    cJSON *b = cJSON_Parse(all);
    uint8_t e[2048];
    size_t n = entry_of(cJSON_GetObjectItem(b, "enrolment"), e, sizeof e);
    cJSON_Delete(b);
    wn_enrolment en;
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, e, n), WN_ENTRY_OK);
    cr_assert(v.timed, "the node writes timed entries");
    cr_assert_eq(wn_enrolment_decode(&en, v.payload, v.len), WN_ENROL_OK);
    cr_assert_eq(en.alg, WN_ALG_ECDSA);
    en.pubkey[0] ^= 0x01; /* 0x02 <-> 0x03: same x, the other point */
    uint8_t fake_reg[32];
    cr_assert(wn_seckey_generate(fake_reg));
    cr_assert_eq(wn_enrolment_sign(&en, fake_reg), WN_ENROL_OK);
    size_t len;
    cr_assert_eq(wn_enrolment_encode(&en, e + WN_ENTRY_TIMED_HEADER, sizeof e - WN_ENTRY_TIMED_HEADER, &len),
                 WN_ENROL_OK); /* the same header: only the record is forged */
    struct { uint8_t *p; size_t n; } x = {e, len + WN_ENTRY_TIMED_HEADER};
    wn_report rep = tampered(all, t_enrolment_bytes, &x, notary);
    cr_assert_eq(n_code(&rep, "inclusion"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "reading_signature"), 0, "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "valid_readings"), 0);
    wn_report_free(&rep);
    free(all);
}

/* ---- bundles built by hand from a local ledger ---- */

typedef struct {
    wn_ledger *l;
    uint8_t notary_sk[32], notary_pk[32], reg_sk[32], meter_sk[32], meter[32];
    wn_reading last;
    uint64_t seq;
} handmade;

static uint64_t append(handmade *h, uint8_t type, const uint8_t *p, size_t n, const uint8_t *meter, uint64_t seq)
{
    uint8_t e[1024];
    e[0] = type;
    memcpy(e + 1, p, n);
    wn_ledger_item it = {e, n + 1, meter, seq};
    uint64_t first;
    cr_assert_eq(wn_ledger_append(h->l, &it, 1, &first, NULL), WN_LEDGER_OK);
    return first;
}

static uint64_t add_reading(handmade *h)
{
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    memcpy(r.meter, h->meter, 32);
    r.seq = ++h->seq;
    r.time_ms = 1772323200000ULL + r.seq * 900000ULL;
    if (r.seq > 1) wn_reading_digest(&h->last, r.prev);
    r.count = 1;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, (int64_t)(1000 * r.seq)};
    cr_assert_eq(wn_reading_sign(&r, h->meter_sk), WN_READING_OK);
    uint8_t b[WN_READING_MAX_LEN];
    size_t n;
    cr_assert_eq(wn_reading_encode(&r, b, sizeof b, &n), WN_READING_OK);
    h->last = r;
    return append(h, WN_ENTRY_READING, b, n, h->meter, r.seq);
}

static uint64_t add_enrolment(handmade *h)
{
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, h->meter, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    memcpy(e.pubkey + 1, h->meter, 32);
    e.time_ms = 1772323200000ULL;
    e.point = WN_POINT_INTAKE;
    e.tier = 1;
    e.source = WN_SOURCE_SURFACE;
    strcpy(e.enterprise, "91330400MA0000001X");
    cr_assert_eq(wn_enrolment_sign(&e, h->reg_sk), WN_ENROL_OK);
    uint8_t b[WN_ENROLMENT_MAX_LEN];
    size_t n;
    cr_assert_eq(wn_enrolment_encode(&e, b, sizeof b, &n), WN_ENROL_OK);
    return append(h, WN_ENTRY_ENROLMENT, b, n, NULL, 0);
}

static uint64_t add_revocation(handmade *h)
{
    wn_revocation r;
    memset(&r, 0, sizeof r);
    memcpy(r.meter, h->meter, 32);
    r.time_ms = 1772323200000ULL + 100000000ULL;
    r.reason = WN_REVOKE_COMPROMISED;
    cr_assert_eq(wn_revocation_sign(&r, h->reg_sk), WN_ENROL_OK);
    uint8_t b[WN_REVOCATION_LEN];
    cr_assert_eq(wn_revocation_encode(&r, b), WN_ENROL_OK);
    return append(h, WN_ENTRY_REVOCATION, b, sizeof b, NULL, 0);
}

static void handmade_open(handmade *h, const char *name)
{
    memset(h, 0, sizeof *h);
    char *dir = path_in(name);
    cr_assert_eq(wn_ledger_open(&h->l, dir, 0), WN_LEDGER_OK);
    free(dir);
    cr_assert(wn_seckey_generate(h->notary_sk) && wn_seckey_xonly(h->notary_pk, h->notary_sk));
    cr_assert(wn_seckey_generate(h->reg_sk));
    cr_assert(wn_seckey_generate(h->meter_sk) && wn_seckey_xonly(h->meter, h->meter_sk));
}

static cJSON *proved(handmade *h, uint64_t index, uint64_t size)
{
    uint8_t e[1024], proof[WN_MERKLE_MAX_PROOF][32];
    size_t n, plen;
    cr_assert_eq(wn_ledger_get(h->l, index, e, sizeof e, &n, NULL, NULL), WN_LEDGER_OK);
    cr_assert_eq(wn_ledger_prove_inclusion(h->l, index, size, proof, &plen), WN_LEDGER_OK);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddStringToObject(o, "entry", "");
    set_b64(o, "entry", e, n);
    cJSON *p = cJSON_AddArrayToObject(o, "proof");
    for (size_t i = 0; i < plen; i++) {
        char s[WN_B64_LEN(32) + 1];
        wn_base64_encode(s, proof[i], 32);
        cJSON_AddItemToArray(p, cJSON_CreateString(s));
    }
    return o;
}

/* The bundle of every reading index given, against a checkpoint of the whole ledger, as
 * §13 describes it (built here without the node). */
static char *handmade_bundle(handmade *h, uint64_t enrol, int64_t revoc, const uint64_t *readings, size_t n)
{
    uint64_t size;
    cr_assert_eq(wn_ledger_size(h->l, &size), WN_LEDGER_OK);
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "example.org/handmade");
    cp.size = size;
    cr_assert_eq(wn_ledger_root(h->l, size, cp.root), WN_LEDGER_OK);
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nl;
    cr_assert_eq(wn_checkpoint_sign(&cp, h->notary_sk, note, sizeof note, &nl), WN_CHECKPOINT_OK);
    uint8_t id[4];
    char idhex[9], mhex[65];
    wn_note_keyid(id, cp.origin, h->notary_pk);
    wn_hex_encode(idhex, id, 4);
    wn_hex_encode(mhex, h->meter, 32);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "format", "waternotary/bundle@v1");
    cJSON_AddStringToObject(b, "notary_key_id", idhex);
    cJSON_AddStringToObject(b, "meter", mhex);
    cJSON_AddStringToObject(b, "from", "2026-01-01T00:00:00.000Z");
    cJSON_AddStringToObject(b, "to", "2027-01-01T00:00:00.000Z");
    cJSON_AddStringToObject(b, "checkpoint", note);
    cJSON_AddItemToObject(b, "enrolment", proved(h, enrol, size));
    if (revoc >= 0) cJSON_AddItemToObject(b, "revocation", proved(h, (uint64_t)revoc, size));
    else cJSON_AddNullToObject(b, "revocation");
    cJSON *rs = cJSON_AddArrayToObject(b, "readings");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(rs, proved(h, readings[i], size));
    cJSON_AddArrayToObject(b, "equivocations");
    char *s = print(b);
    cJSON_Delete(b);
    return s;
}

Test(bundle, readings_after_a_revocation_or_before_the_enrolment_are_invalid)
{
    handmade h;
    handmade_open(&h, "ledger1");
    uint64_t idx[8];
    uint64_t enrol = add_enrolment(&h);
    for (int i = 0; i < 4; i++) idx[i] = add_reading(&h);
    uint64_t revoc = add_revocation(&h);
    for (int i = 4; i < 6; i++) idx[i] = add_reading(&h); /* the ledger records; a node would refuse */

    /* the honest part: valid, with the revocation as a warning */
    char *s = handmade_bundle(&h, enrol, (int64_t)revoc, idx, 4);
    wn_report rep = check(s, h.notary_pk, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(rep.n_warnings, 2); /* revoked_meter, open_end */
    cr_assert_str_eq(rep.warnings[0].code, "revoked_meter");
    wn_report_free(&rep);
    free(s);

    /* with the two readings after the revocation: exactly those are invalid */
    s = handmade_bundle(&h, enrol, (int64_t)revoc, idx, 6);
    rep = check(s, h.notary_pk, NULL);
    cr_assert_eq(rep.n_reasons, 2, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "revoked"), 2, "%s", codes(&rep));
    cr_assert(strstr(rep.reasons[0].detail, "seq 5"), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "valid_readings"), 4);
    wn_report_free(&rep);
    free(s);
    wn_ledger_close(h.l);

    /* a reading before the enrolment */
    handmade_open(&h, "ledger2");
    idx[0] = add_reading(&h);
    enrol = add_enrolment(&h);
    idx[1] = add_reading(&h);
    idx[2] = add_reading(&h);
    s = handmade_bundle(&h, enrol, -1, idx, 3);
    rep = check(s, h.notary_pk, NULL);
    cr_assert_eq(rep.n_reasons, 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "not_enrolled"), 1, "%s", codes(&rep));
    cr_assert(strstr(rep.reasons[0].detail, "seq 1"), "%s", codes(&rep));
    wn_report_free(&rep);
    free(s);
    wn_ledger_close(h.l);
}

/* ---- equivocation evidence from the node ---- */

static long post_json(const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", node.url, path);
    CURL *c = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    long status;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    fclose(devnull);
    return status;
}

static void t_evidence(cJSON *b, void *arg)
{
    (void)arg; /* a byte of the conflicting reading's value */
    flip_entry(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "equivocations"), 0), WN_ENTRY_TIMED_HEADER + 8 + 84 + 3 + 7,
               0x01);
}

Test(bundle, equivocation_evidence_is_carried_and_checked)
{
    char hex[65];
    char *all = fleet_and_bundle(0, hex);
    /* the meter signs a second, different reading with sequence 5 */
    cJSON *b = cJSON_Parse(all);
    uint8_t e[2048];
    size_t n = entry_of(cJSON_GetArrayItem(readings_of(b), 4), e, sizeof e);
    cJSON_Delete(b);
    wn_reading r;
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, e, n), WN_ENTRY_OK);
    cr_assert_eq(wn_reading_decode(&r, v.payload, v.len), WN_READING_OK);
    cr_assert_eq(r.seq, 5);
    r.m[0].value += 7;
    char keyfile[4600];
    uint8_t sk[32];
    snprintf(keyfile, sizeof keyfile, "%s/meter-00000/meter.key", fleet);
    cr_assert(wn_keyfile_read(keyfile, sk));
    cr_assert_eq(wn_reading_sign(&r, sk), WN_READING_OK);
    char json[WN_READING_JSON_MAX];
    size_t jl;
    cr_assert_eq(wn_reading_to_json(&r, json, sizeof json, &jl), WN_READING_OK);
    cr_assert_eq(post_json("/v1/readings", json), 409);
    free(all);

    all = fetch_bundle(hex, "0", "9999-01-01T00:00:00.000Z", "all2.json", NULL);
    wn_report rep = check(all, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_eq(count_of(&rep, "equivocations"), 1);
    int warned = 0;
    for (size_t i = 0; i < rep.n_warnings; i++) warned |= strcmp(rep.warnings[i].code, "equivocations") == 0;
    cr_assert(warned);
    wn_report_free(&rep);
    rep = tampered(all, t_evidence, NULL, notary);
    cr_assert_eq(n_code(&rep, "equivocation"), 1, "%s", codes(&rep));
    cr_assert_eq(n_code(&rep, "inclusion"), 1, "%s", codes(&rep));
    wn_report_free(&rep);
    free(all);
}

/* ---- revocation through the node ---- */

Test(bundle, a_revoked_meter_bundle_names_its_revocation)
{
    char hex[65];
    free(fleet_and_bundle(1, hex));
    result r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", hex, "--reason",
                  "decommissioned", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    char *all = fetch_bundle(hex, "0", "9999-01-01T00:00:00.000Z", "rev.json", NULL);
    wn_report rep = check(all, notary, NULL);
    cr_assert(wn_report_valid(&rep), "%s", codes(&rep));
    cr_assert_str_eq(rep.warnings[0].code, "revoked_meter");
    wn_report_free(&rep);
    r = verify_file("rev.json", all, notary_hex, 0);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "(decommissioned)"), "%s", r.out);
    result_free(&r);
    free(all);
}

/* ---- receipts, proofs and checkpoints with wn verify ---- */

static char *get_text(const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", node.url, path);
    char *file = path_in("get.out");
    FILE *f = fopen(file, "w");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    long status;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    fclose(f);
    char *text = wn_test_read_file(file, NULL);
    cr_assert_eq(status, 200, "GET %s: %ld %s", path, status, text);
    free(file);
    return text;
}

Test(bundle, receipts_from_meter_state_verify)
{
    simulate(&node, reg_key, fleet, "4", "12");
    char dir[4500];
    snprintf(dir, sizeof dir, "%s/meter-00003", fleet);
    result r = wn("verify", dir, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: 12 receipts signed by the notary (12 compared"), "%s", r.out);
    result_free(&r);

    /* one receipt as JSON, with its reading as the entry */
    wn_meter m;
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    wn_receipt rc, rc2;
    uint8_t rb[WN_READING_MAX_LEN];
    size_t rl;
    cr_assert_eq(wn_meter_receipt(&m, 7, &rc), WN_METER_OK);
    cr_assert_eq(wn_meter_receipt(&m, 8, &rc2), WN_METER_OK);
    cr_assert_eq(wn_meter_get(&m, 7, rb, &rl), WN_METER_OK);
    wn_meter_close(&m);
    char rj[WN_RECEIPT_JSON_MAX], readj[WN_READING_JSON_MAX];
    cr_assert(wn_receipt_to_json(&rc, rj, sizeof rj));
    wn_reading rd;
    size_t jl;
    cr_assert_eq(wn_reading_decode(&rd, rb, rl), WN_READING_OK);
    cr_assert_eq(wn_reading_to_json(&rd, readj, sizeof readj, &jl), WN_READING_OK);
    char *rfile = path_in("receipt.json"), *efile = path_in("reading.json"), *bfile = path_in("entry.bin");
    FILE *f = fopen(rfile, "w");
    fputs(rj, f);
    fclose(f);
    f = fopen(efile, "w");
    fputs(readj, f);
    fclose(f);
    /* the raw entry: timed, committed at the receipt's time, marked late exactly when the
     * reading was measured more than the node's late window (30 days) before */
    f = fopen(bfile, "w");
    uint8_t hdr[WN_ENTRY_TIMED_HEADER];
    wn_entry_put_timed_header(hdr, WN_ENTRY_READING, rc.time_ms,
                              rd.time_ms + 30ULL * 86400000ULL < rc.time_ms ? WN_ENTRY_MARK_LATE : 0);
    fwrite(hdr, 1, sizeof hdr, f);
    fwrite(rb, 1, rl, f);
    fclose(f);
    r = wn("verify", rfile, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    r = wn("verify", rfile, "--notary-pub", notary_hex, "--entry", efile, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "its leaf is the receipt's"), "%s", r.out);
    result_free(&r);
    r = wn("verify", rfile, "--notary-pub", notary_hex, "--entry", bfile, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "\"kind\":\"receipt\",\"valid\":true"), "%s", r.out);
    result_free(&r);
    /* the receipt of another reading */
    cr_assert(wn_receipt_to_json(&rc2, rj, sizeof rj));
    r = verify_file("receipt2.json", rj, notary_hex, 0);
    cr_assert_eq(r.code, 0);
    result_free(&r);
    char *r2 = path_in("receipt2.json");
    r = wn("verify", r2, "--notary-pub", notary_hex, "--entry", efile, NULL);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "INVALID [receipt_leaf]"), "%s", r.out);
    result_free(&r);
    free(r2);
    /* a tampered receipt, the wrong key */
    cr_assert_eq(rc.version, 2, "the node answers with version 2 receipts");
    wn_receipt keep = rc;
    rc.index ^= 1; /* another place in the commit: the path no longer leads to the signed root */
    cr_assert(wn_receipt_to_json(&rc, rj, sizeof rj));
    r = verify_file("receipt3.json", rj, notary_hex, 0);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "INVALID [receipt_path]") || strstr(r.out, "INVALID [receipt_head]"), "%s", r.out);
    result_free(&r);
    rc = keep;
    rc.head.time_ms++; /* a head field the signature covers */
    rc.time_ms++;
    cr_assert(wn_receipt_to_json(&rc, rj, sizeof rj));
    r = verify_file("receipt4.json", rj, notary_hex, 0);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "INVALID [receipt_signature]"), "%s", r.out);
    result_free(&r);
    r = wn("verify", rfile, "--notary-pub", "0000000000000000000000000000000000000000000000000000000000000001", NULL);
    cr_assert_eq(r.code, 1);
    result_free(&r);

    /* a damaged record in the middle of a copy of the receipts log */
    char src[4600];
    snprintf(src, sizeof src, "%s/receipts.log", dir);
    size_t n;
    char *log = wn_test_read_file(src, &n);
    size_t off = 8; /* the fourth record: u16 len || u64 seq || receipt || check4 */
    for (int k = 0; k < 3; k++) off += 14 + (((size_t)(uint8_t)log[off] << 8) | (uint8_t)log[off + 1]);
    cr_assert_lt(off + 60, n);
    log[off + 50] ^= 1;
    char *copy = path_in("receipts.log");
    f = fopen(copy, "w");
    fwrite(log, 1, n, f);
    fclose(f);
    r = wn("verify", copy, "--notary-pub", notary_hex, "--json", NULL);
    cr_assert_eq(r.code, 1, "%s", r.out);
    cr_assert(strstr(r.out, "\"code\":\"receipts_log\""), "%s", r.out);
    result_free(&r);
    free(log);
    free(copy);

    /* an inclusion proof file and a checkpoint from the node */
    char *proof = get_text("/v1/proof/inclusion?index=5");
    r = verify_file("e5.tlog-proof", proof, notary_hex, 0);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: entry 5"), "%s", r.out);
    result_free(&r);
    r = verify_file("e5.tlog-proof", proof, notary_hex, 1);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "\"kind\":\"inclusion-proof\",\"valid\":true"), "%s", r.out);
    result_free(&r);
    free(proof);
    char *cp = get_text("/v1/checkpoint");
    r = verify_file("cp.txt", cp, notary_hex, 0);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: the notary signed tree size"), "%s", r.out);
    result_free(&r);
    cp[strlen(cp) - 5] ^= 1;
    r = verify_file("cp.txt", cp, notary_hex, 0);
    cr_assert_eq(r.code, 1, "%s", r.out);
    result_free(&r);
    free(cp);
    /* something else: exit 2 */
    r = verify_file("junk.txt", "hello\n", notary_hex, 0);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = verify_file("junk.json", "{\"format\":\"waternotary/bundle@v1\"}", notary_hex, 1);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.out, "\"code\":\"malformed\""), "%s", r.out);
    result_free(&r);
    free(rfile);
    free(efile);
    free(bfile);
}

/* ---- consistency ---- */

/* A checkpoint note signed with sk for (origin, size, root). */
static void forge_checkpoint(const char *name, const char *origin, uint64_t size, const uint8_t root[32],
                             const uint8_t sk[32])
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", origin);
    cp.size = size;
    memcpy(cp.root, root, 32);
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    char *file = path_in(name);
    FILE *f = fopen(file, "w");
    fwrite(note, 1, len, f);
    fclose(f);
    free(file);
}

/* Waits until nd's latest checkpoint has `size` entries and saves it to file. */
static void save_checkpoint(const wn_test_node *nd, unsigned size, const char *file)
{
    char want[32];
    snprintf(want, sizeof want, "\"size\":%u,", size);
    for (int i = 0; i < 500; i++) {
        result r = wn("checkpoint", "--node", nd->url, "--notary-pub", notary_hex, "--out", file, "--json", NULL);
        cr_assert(r.code == 0 || (r.code == 3 && strstr(r.err, "no checkpoint has been signed yet")), "%s %s", r.out,
                  r.err);
        int done = r.code == 0 && strstr(r.out, want) != NULL;
        result_free(&r);
        if (done) return;
        usleep(20000);
    }
    cr_assert_fail("no checkpoint of size %u", size);
}

Test(bundle, consistency_with_a_saved_checkpoint_and_forks)
{
    simulate(&node, reg_key, fleet, "3", "5");
    char *cp1 = path_in("cp1.txt"), *cp2 = path_in("cp2.txt");
    result r;
    save_checkpoint(&node, 18, cp1); /* 3 enrolments, 15 readings */
    simulate(&node, reg_key, fleet, "3", "4");
    save_checkpoint(&node, 30, cp2); /* (wait for the node's checkpoint to catch up) */
    /* the node's latest checkpoint catches up by itself; consistency from the saved one */
    r = wn("consistency", "--node", node.url, "--from-checkpoint", cp1, "--notary-pub", notary_hex, "--save", cp2, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "old tree:   size 18"), "%s", r.out);
    cr_assert(strstr(r.out, "VALID"), "%s", r.out);
    result_free(&r);
    char *note2 = wn_test_read_file(cp2, NULL);
    cr_assert_not_null(note2);
    wn_checkpoint c2;
    cr_assert_eq(wn_checkpoint_verify(note2, strlen(note2), NULL, notary, &c2), WN_CHECKPOINT_OK);
    cr_assert_gt(c2.size, 18);
    /* from the new one to itself (or later): still fine */
    r = wn("consistency", "--node", node.url, "--from-checkpoint", cp2, "--notary-pub", notary_hex, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "\"consistent\":true,\"fork\":false"), "%s", r.out);
    result_free(&r);

    /* a forged checkpoint: another root signed by another key — an invalid signature, no fork */
    uint8_t other_sk[32], root[32];
    cr_assert(wn_seckey_generate(other_sk));
    memset(root, 0x5a, 32);
    forge_checkpoint("forged1.txt", c2.origin, 10, root, other_sk);
    char *f1 = path_in("forged1.txt");
    r = wn("consistency", "--node", node.url, "--from-checkpoint", f1, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "is not signed by the notary key"), "%s", r.out);
    cr_assert_null(strstr(r.err, "FORK"), "%s", r.err);
    result_free(&r);

    /* the notary key itself signed another root for size 10: a fork, both roots shown */
    uint8_t nsk[32];
    cr_assert(wn_keyfile_read(notary_key, nsk));
    forge_checkpoint("forged2.txt", c2.origin, 10, root, nsk);
    char *f2 = path_in("forged2.txt");
    r = wn("consistency", "--node", node.url, "--from-checkpoint", f2, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    char rb64[WN_B64_LEN(32) + 1];
    wn_base64_encode(rb64, root, 32);
    cr_assert(strstr(r.err, "FORK: the node signed another root for the saved checkpoint's size"), "%s", r.err);
    cr_assert(strstr(r.err, rb64), "the saved root is shown: %s", r.err);
    cr_assert(strstr(r.err, "size 10, root"), "%s", r.err);
    result_free(&r);
    /* ... and for a size beyond the node's tree: the tree "shrank" */
    forge_checkpoint("forged3.txt", c2.origin, 100000, root, nsk);
    char *f3 = path_in("forged3.txt");
    r = wn("consistency", "--node", node.url, "--from-checkpoint", f3, "--notary-pub", notary_hex, "--json", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "FORK:"), "%s", r.err);
    cr_assert(strstr(r.out, "\"fork\":true"), "%s", r.out);
    result_free(&r);

    free(cp1);
    free(cp2);
    free(note2);
    free(f1);
    free(f2);
    free(f3);
}

Test(bundle, a_second_node_with_the_same_key_is_a_fork)
{
    simulate(&node, reg_key, fleet, "2", "6");
    /* node B: the same notary key (so the same origin), its own registrar and meters */
    wn_test_node b;
    char bdir[4500], breg[4600], bfleet[4600];
    snprintf(bdir, sizeof bdir, "%s/nodeb", tmp);
    cr_assert_eq(mkdir(bdir, 0700), 0);
    const char *args[] = {"--key", notary_key, "--checkpoint-ms", "20", NULL};
    start_node(&b, bdir, args);
    snprintf(breg, sizeof breg, "%s/registrar.key", b.data);
    snprintf(bfleet, sizeof bfleet, "%s/fleet", bdir);
    simulate(&b, breg, bfleet, "1", "9");
    char *cpb = path_in("cpb.txt");
    result r;
    save_checkpoint(&b, 10, cpb); /* B's checkpoint verifies with A's key */
    char *cpa0 = path_in("cpa0.txt");
    save_checkpoint(&node, 14, cpa0);
    free(cpa0);
    /* B's checkpoint of size 10 against A (14 entries): A's own checkpoint of size 10 (stored,
     * or signed on the spot) has another root */
    r = wn("consistency", "--node", node.url, "--from-checkpoint", cpb, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "FORK:"), "%s", r.err);
    cr_assert(strstr(r.out, "INVALID: FORK"), "%s", r.out);
    result_free(&r);
    /* and A's latest against B */
    char *cpa = path_in("cpa.txt");
    r = wn("checkpoint", "--node", node.url, "--notary-pub", notary_hex, "--out", cpa, NULL);
    cr_assert_eq(r.code, 0);
    result_free(&r);
    r = wn("consistency", "--node", b.url, "--from-checkpoint", cpa, "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "FORK:"), "%s", r.err);
    result_free(&r);
    wn_test_node_stop(&b, SIGKILL);
    free(cpb);
    free(cpa);
}

/* ---- the endpoint and the commands' edges ---- */

static long get_status(const char *path, char **body)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", node.url, path);
    char *file = path_in("status.out");
    FILE *f = fopen(file, "w");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    long status;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    fclose(f);
    *body = wn_test_read_file(file, NULL);
    free(file);
    return status;
}

static void expect(const char *path, long status, const char *code)
{
    char *body;
    long s = get_status(path, &body);
    cr_assert_eq(s, status, "%s: %ld %s", path, s, body);
    char want[64];
    snprintf(want, sizeof want, "\"error\":\"%s\"", code);
    cr_assert(strstr(body, want), "%s: %s", path, body);
    free(body);
}

Test(bundle, endpoint_errors_and_command_usage)
{
    char m[65];
    memset(m, 'a', 64);
    m[64] = '\0';
    char path[256];
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=0&to=1000", m);
    expect(path, 404, "not_found"); /* never enrolled (checkpoint or not) */
    simulate(&node, reg_key, fleet, "1", "3");
    char hex[65];
    meter_hex(fleet, 0, hex);
    expect(path, 404, "not_found");
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=1000&to=1000", hex);
    expect(path, 400, "bad_request");
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=2026-03-01T00:00:00Z&to=1000", hex);
    expect(path, 400, "bad_request");
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&to=1000", hex);
    expect(path, 400, "bad_request");
    expect("/v1/bundle?meter=xyz&from=0&to=1", 400, "bad_request");
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=2026-03-01T00:00:00.000Z&to=99999999999999", hex);
    char *body;
    long status;
    for (int i = 0; i < 500 && (status = get_status(path, &body)) == 404; i++) {
        free(body); /* not_checkpointed until the checkpointer catches up */
        usleep(10000);
    }
    cr_assert_eq(status, 200, "%s", body);
    free(body);

    result r = wn("bundle", "--node", node.url, "--meter", m, "--from", "0", "--to", "1", "--out", "x", "--notary-pub",
                  notary_hex, NULL);
    cr_assert_eq(r.code, 3, "%s", r.err);
    cr_assert(strstr(r.err, "not_found"), "%s", r.err);
    result_free(&r);
    r = wn("bundle", "--node", node.url, "--meter", hex, "--from", "5", "--to", "5", "--out", "x", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("bundle", "--node", node.url, "--meter", hex, "--from", "yesterday", "--to", "5", "--out", "x", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("bundle", "--node", node.url, "--meter", hex, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify", "x.json", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("consistency", "--node", node.url, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    /* trust on first use is announced */
    char *out = path_in("tofu.json");
    r = wn("bundle", "--node", node.url, "--meter", hex, "--from", "0", "--to", "2030-01-01", "--out", out, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "trust on first use"), "%s", r.err);
    result_free(&r);
    free(out);
    /* an unreachable node */
    r = wn("bundle", "--node", "http://127.0.0.1:1", "--meter", hex, "--from", "0", "--to", "1", "--out", "x",
           "--notary-pub", notary_hex, NULL);
    cr_assert_eq(r.code, 3);
    result_free(&r);

    const char *cmds[] = {"verify", "bundle", "consistency"};
    for (size_t i = 0; i < 3; i++) {
        r = wn(cmds[i], "--help", NULL);
        cr_assert_eq(r.code, 0);
        cr_assert(strstr(r.out, "example"), "%s --help has an example: %s", cmds[i], r.out);
        cr_assert(strstr(r.out, "exit codes"), "%s", r.out);
        result_free(&r);
    }
}

Test(bundle, not_checkpointed_until_a_checkpoint_covers_the_bundle)
{
    /* a node that checkpoints only when asked to stop */
    wn_test_node_stop(&node, SIGKILL);
    wn_test_node slow;
    char dir[4500];
    snprintf(dir, sizeof dir, "%s/slow", tmp);
    cr_assert_eq(mkdir(dir, 0700), 0);
    const char *args[] = {"--checkpoint-ms", "600000", "--checkpoint-every", "1000000", NULL};
    start_node(&slow, dir, args);
    char sreg[4600], sfleet[4600];
    snprintf(sreg, sizeof sreg, "%s/registrar.key", slow.data);
    snprintf(sfleet, sizeof sfleet, "%s/fleet", dir);
    simulate(&slow, sreg, sfleet, "1", "3");
    char hex[65];
    meter_hex(sfleet, 0, hex);
    result r = wn("bundle", "--node", slow.url, "--meter", hex, "--from", "0", "--to", "2030-01-01", "--out", "x",
                  "--wait", "0", NULL);
    cr_assert_eq(r.code, 3, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "not_checkpointed"), "%s", r.err);
    result_free(&r);
    /* a clean stop signs the last checkpoint; after a restart the bundle is there */
    cr_assert(WIFEXITED(wn_test_node_stop(&slow, SIGTERM)));
    start_node(&slow, dir, args);
    r = wn("bundle", "--node", slow.url, "--meter", hex, "--from", "0", "--to", "2030-01-01", "--out", "-", "--wait",
           "0", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "\"format\":\"waternotary/bundle@v1\""), "the bundle on stdout: %s", r.out);
    cr_assert(strstr(r.err, "VALID"), "the report on stderr: %s", r.err);
    result_free(&r);
    wn_test_node_stop(&slow, SIGKILL);
}
