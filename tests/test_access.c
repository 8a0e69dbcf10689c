/* test_access.c — who gets what from a real wn-node (docs/PROTOCOL.md §18 "Access",
 * docs/THREATS.md "Access and input"): with --tokens, no route gives entry bytes (entries,
 * inclusion proofs with `extra`, entry tiles, meter status, bundles, monitor answers) to a
 * foreign enterprise's token or to no token, while the owner and the bureau get them and
 * hash-only proofs stay public; without --tokens the monitoring POSTs still need the
 * node's admin token (DIR/admin.token, 0600); JSON bodies obey every lexical rule of §2;
 * only meter points may push readings; evidence per (meter, sequence) and list answers
 * are bounded. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "ledger/entry.h"
#include "ledger/proof_file.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "tests/support/monfeed.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

#define BUREAU "bureau-token-0123456789abcdef"
#define ENTA "enta-token-0123456789abcdef"
#define ENTB "entb-token-0123456789abcdef"
#define MIN 60000ULL

static struct {
    char *tmp;
    wn_test_node node;
    uint8_t reg_sk[32], reg_pk[32];
    wn_mf_meter a, b;
} S;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts the node; with_tokens: with the tokens file (bureau, ENT-A, ENT-B). */
static void start_node(int with_tokens)
{
    char reg[65], tokens[4200];
    wn_hex_encode(reg, S.reg_pk, 32);
    snprintf(tokens, sizeof tokens, "%s/tokens", S.tmp);
    const char *args[] = {"--registrar", reg, "--checkpoint-ms", "50", with_tokens ? "--tokens" : NULL, tokens, NULL};
    if (!wn_test_node_start(&S.node, args)) {
        char *log = wn_test_read_file(S.node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
}

static void setup(void)
{
    memset(&S, 0, sizeof S);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    S.tmp = wn_test_tmpdir("access");
    cr_assert(S.tmp);
    wn_test_node_init(&S.node, S.tmp);
    cr_assert(wn_seckey_generate(S.reg_sk) && wn_seckey_xonly(S.reg_pk, S.reg_sk));
    char path[4200];
    snprintf(path, sizeof path, "%s/tokens", S.tmp);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "%s bureau\n%s enterprise ENT-A\n%s enterprise ENT-B\n", BUREAU, ENTA, ENTB);
    fclose(f);
}

static void teardown(void)
{
    wn_test_node_stop(&S.node, SIGKILL);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(S.tmp);
    free(S.tmp);
    curl_global_cleanup();
}

static wn_mf_resp http(const char *token, const char *method, const char *json, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static wn_mf_resp http(const char *token, const char *method, const char *json, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, method, path, json, &r), "no answer to %s %s", method, path);
    if (!r.body) r.body = calloc(1, 1);
    return r;
}

/* The JSON error code of an answer ("" if none). */
static const char *code_of(const wn_mf_resp *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "detail") : NULL;
    if (cJSON_IsString(e) && cJSON_IsString(d) && d->valuestring[0]) snprintf(buf, cap, "%s", e->valuestring);
    cJSON_Delete(j);
    return buf;
}

static uint64_t ledger_size(void)
{
    wn_mf_resp r = http(NULL, "GET", NULL, "/healthz");
    cJSON *j = cJSON_Parse(r.body);
    cr_assert(j, "%s", r.body);
    uint64_t n = (uint64_t)cJSON_GetObjectItem(j, "size")->valuedouble;
    cJSON_Delete(j);
    free(r.body);
    return n;
}

/* Waits (up to 10 s) for a checkpoint that covers the whole ledger. */
static void wait_checkpoint(void)
{
    uint64_t want = ledger_size();
    for (int i = 0; i < 200; i++) {
        wn_mf_resp r = http(NULL, "GET", NULL, "/v1/checkpoint");
        unsigned long long size = 0;
        const char *nl = r.status == 200 ? strchr(r.body, '\n') : NULL;
        if (nl) size = strtoull(nl + 1, NULL, 10);
        free(r.body);
        if (size >= want) return;
        sleep_ms(50);
    }
    cr_assert_fail("no checkpoint covers size %llu", (unsigned long long)want);
}

/* Enrols A (ENT-A, intake) and B (ENT-B, intake), gives each n readings and A one
 * equivocation evidence entry. */
static void populate(int n)
{
    char err[256];
    cr_assert(wn_mf_meter_new(&S.a) && wn_mf_meter_new(&S.b));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &S.a, "ENT-A", WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &S.b, "ENT-B", WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    uint64_t t0 = now_ms() - (uint64_t)(n + 2) * MIN;
    wn_reading first;
    for (int i = 0; i < n; i++) {
        wn_reading r;
        wn_mf_next(&S.a, &r, t0 + (uint64_t)i * MIN, i ? 1000 : 0, 0, -1);
        if (i == 0) first = r;
        cr_assert(wn_mf_post(S.node.url, &r, 1, NULL, err), "%s", err);
        wn_mf_advance(&S.a, &r);
        wn_mf_next(&S.b, &r, t0 + (uint64_t)i * MIN, i ? 2000 : 0, 0, -1);
        cr_assert(wn_mf_post(S.node.url, &r, 1, NULL, err), "%s", err);
        wn_mf_advance(&S.b, &r);
    }
    /* a second, different reading with A's sequence 1: equivocation evidence */
    wn_mf_meter again = S.a;
    again.seq = 0;
    memset(again.last, 0, 32);
    wn_reading eq;
    wn_mf_next(&again, &eq, first.time_ms + 1, 0, 0, -1);
    wn_mf_resp r;
    cr_assert(wn_mf_post_one(S.node.url, &eq, &r));
    cr_assert_eq(r.status, 409, "%s", r.body);
    free(r.body);
    wait_checkpoint();
}

/* Entry i's bytes, base64, as the bureau gets them; NULL beyond the tree. Also its meter. */
static char *entry_b64(uint64_t i, char meter_hex[65])
{
    wn_mf_resp r = http(BUREAU, "GET", NULL, "/v1/entries/%llu", (unsigned long long)i);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert(j);
    char *b64 = strdup(cJSON_GetObjectItem(j, "entry")->valuestring);
    size_t len;
    uint8_t *bytes = malloc(strlen(b64));
    cr_assert(bytes && wn_base64_decode(bytes, strlen(b64), &len, b64, strlen(b64)));
    /* reading, enrolment, revocation: version, meter; evidence: index, version, meter */
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, bytes, len), WN_ENTRY_OK);
    size_t off = v.kind == WN_ENTRY_EQUIVOCATION ? 9 : 1;
    wn_hex_encode(meter_hex, v.payload + off, 32);
    free(bytes);
    cJSON_Delete(j);
    free(r.body);
    return b64;
}

/* Whether the body holds any 24-character piece of the base64 text b64 (an entry's bytes
 * in any 18-byte aligned window), or the hex of the reading's signature. */
static int leaks(const char *body, const char *b64)
{
    size_t n = strlen(b64);
    for (size_t off = 0; off + 24 <= n; off += 24) {
        char piece[25];
        memcpy(piece, b64 + off, 24);
        piece[24] = '\0';
        if (strstr(body, piece)) return 1;
    }
    return 0;
}

Test(access, no_entry_bytes_to_foreign_tokens_or_none, .init = setup, .fini = teardown)
{
    start_node(1);
    populate(3);
    uint64_t size = ledger_size();
    cr_assert_eq(size, 2 + 6 + 1, "two enrolments, six readings, one evidence entry");
    const char *strangers[] = {NULL, "not-a-token-of-this-node-0000", ENTB};
    int a_entries = 0;
    uint8_t notary[32];
    wn_mf_resp pk = http(NULL, "GET", NULL, "/v1/pubkey");
    cJSON *pj = cJSON_Parse(pk.body);
    cr_assert(pj && wn_hex_decode(notary, 32, cJSON_GetObjectItem(pj, "notary")->valuestring, 64), "%s", pk.body);
    cJSON_Delete(pj);
    free(pk.body);
    for (uint64_t i = 0; i < size; i++) {
        char meter[65], code[64];
        char *b64 = entry_b64(i, meter);
        int of_a = strcmp(meter, S.a.hex) == 0;
        if (!of_a) {
            cr_assert_str_eq(meter, S.b.hex);
            free(b64);
            continue;
        }
        a_entries++;
        for (size_t s = 0; s < sizeof strangers / sizeof *strangers; s++) {
            const char *tok = strangers[s];
            wn_mf_resp r = http(tok, "GET", NULL, "/v1/entries/%llu", (unsigned long long)i);
            cr_assert(r.status == 401 || r.status == 403, "entry %llu to %s: %ld", (unsigned long long)i, tok ? tok : "none",
                      r.status);
            cr_assert(code_of(&r, code, sizeof code)[0], "a JSON reason: %s", r.body);
            cr_assert_not(leaks(r.body, b64));
            free(r.body);
            r = http(tok, "GET", NULL, "/v1/proof/inclusion?index=%llu", (unsigned long long)i);
            cr_assert_eq(r.status, 200, "a hash-only proof stays public: %s", r.body);
            cr_assert(strstr(r.body, "\nindex ") && !strstr(r.body, "\nextra "), "no entry bytes in the proof: %s", r.body);
            cr_assert_not(leaks(r.body, b64), "entry %llu leaks through its proof", (unsigned long long)i);
            /* the hash-only proof still proves the entry to whoever holds it */
            uint8_t bytes[4096];
            size_t blen;
            cr_assert(wn_base64_decode(bytes, sizeof bytes, &blen, b64, strlen(b64)));
            wn_incl_proof pf;
            char why[200];
            cr_assert_eq(wn_incl_proof_parse(&pf, r.body, r.len, why, sizeof why), WN_PROOF_OK, "%s", why);
            cr_assert_eq(wn_incl_proof_verify(&pf, notary, bytes, blen, NULL, why, sizeof why), WN_PROOF_OK, "%s", why);
            bytes[blen - 1] ^= 1;
            cr_assert_neq(wn_incl_proof_verify(&pf, notary, bytes, blen, NULL, why, sizeof why), WN_PROOF_OK,
                          "a different entry does not verify");
            wn_incl_proof_free(&pf);
            free(r.body);
        }
        /* the owner and the bureau get the bytes */
        const char *owners[] = {ENTA, BUREAU};
        for (size_t s = 0; s < 2; s++) {
            wn_mf_resp r = http(owners[s], "GET", NULL, "/v1/entries/%llu", (unsigned long long)i);
            cr_assert_eq(r.status, 200, "%s", r.body);
            cr_assert(strstr(r.body, b64));
            free(r.body);
            r = http(owners[s], "GET", NULL, "/v1/proof/inclusion?index=%llu", (unsigned long long)i);
            cr_assert_eq(r.status, 200, "%s", r.body);
            char line[8192];
            snprintf(line, sizeof line, "\nextra %s\n", b64);
            cr_assert(strstr(r.body, line), "the owner's proof carries the entry: %s", r.body);
            free(r.body);
        }
        free(b64);
    }
    cr_assert_eq(a_entries, 1 + 3 + 1);
    /* the routes that name A: its status, bundle, proofs by sequence, monitor view, tiles */
    char paths[6][256];
    snprintf(paths[0], 256, "/v1/meters/%s", S.a.hex);
    snprintf(paths[1], 256, "/v1/bundle?meter=%s&from=0&to=9999999999999", S.a.hex);
    snprintf(paths[2], 256, "/v1/proof/inclusion?meter=%s&seq=1", S.a.hex);
    snprintf(paths[3], 256, "/v1/monitor/meter?id=%s", S.a.hex);
    snprintf(paths[4], 256, "/tile/entries/000.p/%llu", (unsigned long long)size);
    snprintf(paths[5], 256, "/v1/monitor/alerts?meter=%s", S.a.hex);
    for (size_t p = 0; p < 6; p++) {
        for (size_t s = 0; s < sizeof strangers / sizeof *strangers; s++) {
            char code[64];
            wn_mf_resp r = http(strangers[s], "GET", NULL, "%s", paths[p]);
            if (p == 5 && r.status == 200) { /* a list cut to the token's enterprise */
                cr_assert_null(strstr(r.body, "\"evidence\""), "no alert of A's: %s", r.body);
                free(r.body);
                continue;
            }
            cr_assert(r.status == 401 || r.status == 403, "%s to %s: %ld %s", paths[p],
                      strangers[s] ? strangers[s] : "none", r.status, r.body);
            cr_assert(code_of(&r, code, sizeof code)[0], "%s", r.body);
            free(r.body);
        }
        wn_mf_resp r = http(BUREAU, "GET", NULL, "%s", paths[p]);
        cr_assert_eq(r.status, 200, "the bureau gets %s: %s", paths[p], r.body);
        free(r.body);
        if (p != 4) { /* entry tiles are the bureau's */
            r = http(ENTA, "GET", NULL, "%s", paths[p]);
            cr_assert_eq(r.status, 200, "the owner gets %s: %s", paths[p], r.body);
            free(r.body);
        }
    }
    /* the enterprise's lists hold nothing of another's */
    wn_mf_resp r = http(ENTB, "GET", NULL, "/v1/monitor/alerts");
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, S.a.hex), "B's alert list names none of A's meters: %s", r.body);
    free(r.body);
    /* hash tiles and checkpoints stay public */
    r = http(NULL, "GET", NULL, "/tile/0/000.p/%llu", (unsigned long long)size);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(r.len, 32 * size);
    free(r.body);
    r = http(NULL, "GET", NULL, "/v1/checkpoints");
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
}

Test(access, open_node_serves_proofs_with_entries, .init = setup, .fini = teardown)
{
    start_node(0); /* no --tokens: reads are not controlled */
    populate(1);
    char meter[65];
    char *b64 = entry_b64(0, meter);
    wn_mf_resp r = http(NULL, "GET", NULL, "/v1/proof/inclusion?index=0");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, b64), "%s", r.body);
    free(r.body);
    free(b64);
}

/* The admin token the node wrote. */
static void admin_token(char tok[65])
{
    char path[4300];
    snprintf(path, sizeof path, "%s/admin.token", S.node.data);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "the node wrote %s", path);
    cr_assert_eq(st.st_mode & 0777, 0600, "admin.token is 0600, not %o", (unsigned)(st.st_mode & 0777));
    size_t len;
    char *t = wn_test_read_file(path, &len);
    cr_assert(t && len == 65 && t[64] == '\n', "64 hex and a newline");
    memcpy(tok, t, 64);
    tok[64] = '\0';
    for (int i = 0; i < 64; i++) cr_assert(strchr("0123456789abcdef", tok[i]));
    free(t);
}

Test(access, mutations_need_a_token_without_tokens_file, .init = setup, .fini = teardown)
{
    start_node(0);
    populate(2); /* raises an equivocation alert for A */
    char tok[65], code[64];
    admin_token(tok);
    wn_mf_resp r = http(NULL, "GET", NULL, "/v1/monitor/alerts?kind=equivocation");
    cr_assert_eq(r.status, 200, "reads stay open without --tokens: %s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    free(r.body);
    cJSON *al = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "alerts"), 0);
    cr_assert(al, "an equivocation alert");
    char ack[256], id[64];
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(al, "id")->valuestring);
    cJSON_Delete(j);
    snprintf(ack, sizeof ack, "{\"alert\":\"%s\",\"by\":\"mallory\",\"note\":\"nothing to see\"}", id);
    const char *plan = "{\"enterprise\":\"ENT-A\",\"year\":2026,\"plan_m3\":\"1000000\"}";
    const char *prod = "{\"enterprise\":\"ENT-A\",\"month\":\"2026-01\",\"product\":\"beer\",\"quantity\":\"10\"}";
    const char *set = "{\"imbalance_pct\":50}";
    struct {
        const char *path, *body;
    } muts[] = {{"/v1/monitor/ack", ack}, {"/v1/monitor/plans", plan}, {"/v1/monitor/production", prod},
                {"/v1/monitor/settings", set}};
    for (size_t i = 0; i < 4; i++) {
        const char *bad[] = {NULL, "guessed-token-0123456789abcdef"};
        for (size_t b = 0; b < 2; b++) {
            r = http(bad[b], "POST", muts[i].body, "%s", muts[i].path);
            cr_assert_eq(r.status, 401, "%s without a valid token: %ld %s", muts[i].path, r.status, r.body);
            cr_assert_str_eq(code_of(&r, code, sizeof code), "unauthorized", "%s", r.body);
            free(r.body);
        }
    }
    r = http(NULL, "GET", NULL, "/v1/monitor/alerts?kind=equivocation");
    cr_assert(strstr(r.body, "\"ack\":null"), "the alert is still unacknowledged: %s", r.body);
    free(r.body);
    char bearer[80];
    snprintf(bearer, sizeof bearer, "%s", tok);
    r = http(bearer, "POST", ack, "/v1/monitor/ack");
    cr_assert_eq(r.status, 200, "the admin token acknowledges: %s", r.body);
    free(r.body);
    r = http(bearer, "POST", plan, "/v1/monitor/plans");
    cr_assert_eq(r.status, 200, "the admin token sets plans: %s", r.body);
    free(r.body);
    r = http(bearer, "POST", set, "/v1/monitor/settings");
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    r = http(NULL, "GET", NULL, "/v1/monitor/alerts?kind=equivocation");
    cr_assert(strstr(r.body, "\"role\":\"bureau\""), "acknowledged as the bureau: %s", r.body);
    free(r.body);
    /* the token survives a restart unchanged */
    wn_test_node_stop(&S.node, SIGTERM);
    start_node(0);
    char again[65];
    admin_token(again);
    cr_assert_str_eq(again, tok);
    /* and works with a --tokens file too */
    wn_test_node_stop(&S.node, SIGTERM);
    start_node(1);
    r = http(tok, "GET", NULL, "/v1/monitor/whoami");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"role\":\"bureau\""), "%s", r.body);
    free(r.body);
}

Test(access, admin_token_readable_by_others_is_refused, .init = setup, .fini = teardown)
{
    start_node(0);
    char tok[65], path[4300];
    admin_token(tok);
    wn_test_node_stop(&S.node, SIGTERM);
    snprintf(path, sizeof path, "%s/admin.token", S.node.data);
    cr_assert_eq(chmod(path, 0644), 0);
    char reg[65];
    wn_hex_encode(reg, S.reg_pk, 32);
    const char *args[] = {"--registrar", reg, NULL};
    cr_assert_not(wn_test_node_start(&S.node, args), "the node refuses a world-readable admin token");
    char *log = wn_test_read_file(S.node.log, NULL);
    cr_assert(log && strstr(log, "admin.token"), "the log names the file: %s", log ? log : "");
    free(log);
}

/* ---- input rules ---- */

/* POSTs len bytes (may hold NUL) as JSON. */
static wn_mf_resp post_raw(const char *path, const char *body, size_t len)
{
    wn_mf_resp r = {0, calloc(1, 1), 0};
    char full[1024];
    snprintf(full, sizeof full, "%s%s", S.node.url, path);
    CURL *c = curl_easy_init();
    cr_assert(c);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    FILE *sink = open_memstream(&r.body, &r.len);
    free(r.body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    fclose(sink);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* text with the first occurrence of from replaced by to_len bytes of to. */
static char *respell(const char *text, const char *from, const char *to, size_t to_len, size_t *out_len)
{
    const char *at = strstr(text, from);
    cr_assert(at, "%s holds %s", text, from);
    size_t head = (size_t)(at - text), fl = strlen(from), tl = strlen(at + fl);
    char *s = malloc(head + to_len + tl + 1);
    memcpy(s, text, head);
    memcpy(s + head, to, to_len);
    memcpy(s + head + to_len, at + fl, tl + 1);
    *out_len = head + to_len + tl;
    return s;
}

/* Posts body and expects 400 malformed_json whose detail holds why; the ledger keeps its size. */
static void expect_lexical(const char *path, const char *body, size_t len, const char *why)
{
    uint64_t before = ledger_size();
    wn_mf_resp r = post_raw(path, body, len);
    char code[64];
    cr_assert_eq(r.status, 400, "%s refused: %ld %s", path, r.status, r.body);
    cr_assert_str_eq(code_of(&r, code, sizeof code), "malformed_json", "%s", r.body);
    cr_assert(strstr(r.body, why), "the reason names \"%s\": %s", why, r.body);
    free(r.body);
    cr_assert_eq(ledger_size(), before, "nothing ledgered");
}

Test(access, json_lexical_rules_on_ingest, .init = setup, .fini = teardown)
{
    start_node(0);
    char err[256];
    cr_assert(wn_mf_meter_new(&S.a));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &S.a, "ENT-A", WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    wn_reading rd;
    wn_mf_next(&S.a, &rd, now_ms() - MIN, 0, 0, -1);
    char json[4096];
    size_t jl, len;
    cr_assert_eq(wn_reading_to_json(&rd, json, sizeof json, &jl), WN_READING_OK);
    json[jl] = '\0';
    char meter_field[80];
    snprintf(meter_field, sizeof meter_field, "\"meter\":\"%s\"", S.a.hex);
    char cut[120];
    snprintf(cut, sizeof cut, "\"meter\":\"%s\\u0000junk\"", S.a.hex);
    char nul[80];
    snprintf(nul, sizeof nul, "\"meter\":\"%s", S.a.hex);
    size_t nl = strlen(nul);
    nul[nl++] = '\0'; /* a raw NUL after the id, then the closing quote */
    nul[nl++] = '"';
    struct {
        const char *from, *to;
        size_t to_len;
        const char *why;
    } cases[] = {
        {"\"seq\":1", "\"seq\":1.0", 9, "not a JSON integer: a fraction"},
        {"\"seq\":1", "\"seq\":1e0", 9, "not a JSON integer: an exponent"},
        {"\"seq\":1", "\"seq\":-0", 8, "not a JSON integer: minus zero"},
        {"\"seq\":1", "\"seq\":01", 8, "leading zero"},
        {"\"version\":1", "\"version\":1E0", 13, "not a JSON integer: an exponent"},
        {meter_field, nul, nl, "control character"},
        {"\"version\":1", "\"version\":1\0", 12, "NUL byte"},
        {meter_field, cut, strlen(cut), "\\u0000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = respell(json, cases[i].from, cases[i].to, cases[i].to_len, &len);
        expect_lexical("/v1/readings", body, len, cases[i].why);
        char *batch = malloc(len + 32);
        int bl = snprintf(batch, len + 32, "{\"readings\":[");
        memcpy(batch + bl, body, len);
        memcpy(batch + bl + len, "]}", 3);
        expect_lexical("/v1/readings", batch, (size_t)bl + len + 2, cases[i].why);
        free(batch);
        free(body);
    }
    /* the reading itself, spelled plainly, is accepted */
    wn_mf_resp r = post_raw("/v1/readings", json, jl);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);

    /* enrolments, revocations and certificate bodies obey the same rules */
    wn_mf_meter m2;
    cr_assert(wn_mf_meter_new(&m2));
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, m2.id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    memcpy(e.pubkey + 1, m2.id, 32);
    e.time_ms = 1700000000000ULL;
    e.point = WN_POINT_USE;
    e.tier = 2;
    e.source = WN_SOURCE_TAP;
    snprintf(e.enterprise, sizeof e.enterprise, "ENT-A");
    char ej[WN_ENROLMENT_JSON_MAX];
    cr_assert_eq(wn_enrolment_sign(&e, S.reg_sk), WN_ENROL_OK);
    cr_assert_eq(wn_enrolment_to_json(&e, ej, sizeof ej, &jl), WN_ENROL_OK);
    ej[jl] = '\0';
    char *body = respell(ej, "\"tier\":2", "\"tier\":2.0", 10, &len);
    expect_lexical("/v1/enrolments", body, len, "a fraction");
    free(body);
    body = respell(ej, "\"enterprise\":\"ENT-A", "\"enterprise\":\"ENT-A\\u0000", 25, &len);
    expect_lexical("/v1/enrolments", body, len, "\\u0000");
    free(body);
    expect_lexical("/v1/revocations", "{\"version\":1E0}", 15, "an exponent");
    expect_lexical("/v1/certificates", "{\"version\":1.0}", 15, "a fraction");
    expect_lexical("/v1/transfers", "{\"op\":\"a\\u0000\"}", 16, "\\u0000");
    expect_lexical("/v1/retirements", "{\"n\":-0}", 8, "minus zero");
    r = post_raw("/v1/enrolments", ej, strlen(ej));
    cr_assert_eq(r.status, 200, "the plain enrolment is accepted: %s", r.body);
    free(r.body);
}

Test(access, certifier_keys_cannot_push_readings, .init = setup, .fini = teardown)
{
    start_node(0);
    char err[256];
    wn_mf_meter cert;
    cr_assert(wn_mf_meter_new(&cert));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &cert, "CERT-BODY", WN_POINT_CERTIFIER, 1, WN_SOURCE_TAP, NULL, err),
              "%s", err);
    uint64_t before = ledger_size();
    wn_reading rd;
    wn_mf_next(&cert, &rd, now_ms() - MIN, 0, 0, -1);
    wn_mf_resp r;
    cr_assert(wn_mf_post_one(S.node.url, &rd, &r));
    char code[64];
    cr_assert_eq(r.status, 403, "%s", r.body);
    cr_assert_str_eq(code_of(&r, code, sizeof code), "not_a_meter", "%s", r.body);
    cr_assert(strstr(r.body, "certifier"), "%s", r.body);
    free(r.body);
    /* in a batch, too */
    char json[4096];
    size_t jl;
    cr_assert_eq(wn_reading_to_json(&rd, json, sizeof json, &jl), WN_READING_OK);
    json[jl] = '\0';
    char batch[4200];
    snprintf(batch, sizeof batch, "{\"readings\":[%s]}", json);
    r = post_raw("/v1/readings", batch, strlen(batch));
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"not_a_meter\"") && !strstr(r.body, "\"accepted\""), "%s", r.body);
    free(r.body);
    cr_assert_eq(ledger_size(), before, "nothing ledgered");
    r = http(NULL, "GET", NULL, "/v1/meters/%s", cert.hex);
    cr_assert(strstr(r.body, "\"last_seq\":0"), "%s", r.body);
    free(r.body);
}

/* ---- bounds ---- */

/* Posts readings r[0..n) as one JSON batch; every one must be refused as an equivocation. */
static void post_conflicts(const wn_reading *r, size_t n)
{
    size_t cap = n * 2048 + 64, len = 0;
    char *body = malloc(cap);
    cr_assert(body);
    len += (size_t)snprintf(body, cap, "{\"readings\":[");
    for (size_t i = 0; i < n; i++) {
        size_t jl;
        if (i) body[len++] = ',';
        cr_assert_eq(wn_reading_to_json(&r[i], body + len, cap - len, &jl), WN_READING_OK);
        len += jl;
    }
    len += (size_t)snprintf(body + len, cap - len, "]}");
    wn_mf_resp resp = post_raw("/v1/readings", body, len);
    free(body);
    cr_assert_eq(resp.status, 200, "%.300s", resp.body);
    cJSON *j = cJSON_Parse(resp.body);
    cJSON *res = cJSON_GetObjectItem(j, "results");
    cr_assert_eq((size_t)cJSON_GetArraySize(res), n);
    cJSON *it;
    cJSON_ArrayForEach(it, res)
    {
        cr_assert_str_eq(cJSON_GetObjectItem(it, "error")->valuestring, "equivocation", "%.300s", resp.body);
    }
    cJSON_Delete(j);
    free(resp.body);
}

/* A reading of m with sequence seq that differs from the accepted one (time +salt ms). */
static void conflicting(const wn_mf_meter *m, uint64_t seq, uint64_t time_ms, uint64_t salt, wn_reading *r)
{
    wn_mf_meter at = *m;
    at.seq = seq - 1;
    memset(at.last, seq == 1 ? 0 : 0x5a, 32);
    wn_mf_next(&at, r, time_ms + 1 + salt, 0, 0, -1);
}

Test(access, evidence_per_sequence_is_capped, .init = setup, .fini = teardown)
{
    start_node(0);
    populate(2);
    uint64_t size0 = ledger_size();
    wn_mf_resp r = http(NULL, "GET", NULL, "/v1/meters/%s", S.a.hex);
    size_t status0 = r.len;
    free(r.body);
    /* 4,000 more different readings for A's sequence 1 */
    enum { BATCH = 500, BATCHES = 8 };
    wn_reading *rs = calloc(BATCH, sizeof *rs);
    cr_assert(rs);
    uint64_t t1 = now_ms() - 10 * MIN;
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < BATCH; i++) conflicting(&S.a, 1, t1, 1000 + (uint64_t)(b * BATCH + i), &rs[i]);
        post_conflicts(rs, BATCH);
    }
    free(rs);
    cr_assert_eq(ledger_size(), size0, "no evidence entry beyond the first for one sequence");
    r = http(NULL, "GET", NULL, "/v1/meters/%s", S.a.hex);
    cr_assert_eq(r.status, 200);
    cr_assert_leq(r.len, status0 + 64, "the status stays small: %zu bytes, was %zu", r.len, status0);
    cr_log_info("after %d conflicting readings: ledger %llu entries (was %llu), status %zu bytes (was %zu)",
                BATCH * BATCHES, (unsigned long long)ledger_size(), (unsigned long long)size0, r.len, status0);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")), 1);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "alerts"), 0), "unrecorded")->valuedouble,
                 BATCH * BATCHES, "%s", r.body);
    cr_assert_eq(cJSON_GetObjectItem(j, "equivocations_unrecorded")->valuedouble, BATCH * BATCHES);
    cJSON_Delete(j);
    free(r.body);
    r = http(NULL, "GET", NULL, "/metrics");
    char want[80];
    snprintf(want, sizeof want, "wn_equivocations_unrecorded_total %d\n", BATCH * BATCHES);
    cr_assert(strstr(r.body, want), "%s", r.body);
    free(r.body);
}

Test(access, meter_alerts_are_paginated, .init = setup, .fini = teardown)
{
    start_node(0);
    enum { N = 250 };
    char err[256];
    cr_assert(wn_mf_meter_new(&S.a));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &S.a, "ENT-A", WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    wn_reading *rs = calloc(N, sizeof *rs);
    cr_assert(rs);
    uint64_t t0 = now_ms() - (N + 5) * MIN;
    wn_mf_meter at = S.a;
    for (int i = 0; i < N; i++) {
        wn_mf_next(&at, &rs[i], t0 + (uint64_t)i * MIN, i ? 10 : 0, 0, -1);
        wn_mf_advance(&at, &rs[i]);
    }
    cr_assert(wn_mf_post(S.node.url, rs, N, NULL, err), "%s", err);
    for (int i = 0; i < N; i++) conflicting(&S.a, (uint64_t)i + 1, t0 + (uint64_t)i * MIN, 7, &rs[i]);
    post_conflicts(rs, N);
    free(rs);
    /* walk with the default page and with limit=7: every sequence exactly once */
    const char *limits[] = {"", "&limit=7"};
    for (int l = 0; l < 2; l++) {
        int seen[N + 1] = {0}, pages = 0;
        long next = 0;
        while (next >= 0) {
            wn_mf_resp r = http(NULL, "GET", NULL, "/v1/meters/%s?from=%ld%s", S.a.hex, next, limits[l]);
            cr_assert_eq(r.status, 200, "%s", r.body);
            cJSON *j = cJSON_Parse(r.body);
            cJSON *al = cJSON_GetObjectItem(j, "alerts"), *it;
            cr_assert_leq(cJSON_GetArraySize(al), l ? 7 : 100, "a page holds at most the limit");
            cr_assert_eq(cJSON_GetObjectItem(j, "alerts_total")->valuedouble, N);
            cJSON_ArrayForEach(it, al)
            {
                int seq = (int)cJSON_GetObjectItem(it, "seq")->valuedouble;
                cr_assert(seq >= 1 && seq <= N && !seen[seq]++, "sequence %d once", seq);
            }
            cJSON *nx = cJSON_GetObjectItem(j, "alerts_next");
            next = cJSON_IsNumber(nx) ? (long)nx->valuedouble : -1;
            cJSON_Delete(j);
            free(r.body);
            cr_assert_lt(++pages, 100);
        }
        for (int s = 1; s <= N; s++) cr_assert(seen[s], "sequence %d listed", s);
        cr_assert_eq(pages, l ? (N + 6) / 7 : (N + 99) / 100);
    }
    wn_mf_resp r = http(NULL, "GET", NULL, "/v1/meters/%s?limit=101", S.a.hex);
    cr_assert_eq(r.status, 400, "limit above the maximum: %s", r.body);
    free(r.body);

    /* the monitor's alert list: a cursor walks all N equivocation alerts exactly once */
    char ids[N][33];
    int nid = 0, pages = 0;
    char after[80] = "";
    for (;;) {
        r = http(NULL, "GET", NULL, "/v1/monitor/alerts?kind=equivocation&limit=9%s%s", after[0] ? "&after=" : "", after);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cJSON *j = cJSON_Parse(r.body), *it;
        cr_assert_eq(cJSON_GetObjectItem(j, "total")->valuedouble, N);
        cr_assert_leq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")), 9);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "alerts"))
        {
            const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
            for (int k = 0; k < nid; k++) cr_assert_str_neq(ids[k], id, "alert %s listed twice", id);
            cr_assert_lt(nid, N);
            snprintf(ids[nid++], 33, "%s", id);
        }
        cJSON *nx = cJSON_GetObjectItem(j, "next");
        int more = cJSON_IsString(nx);
        if (more) snprintf(after, sizeof after, "%s", nx->valuestring);
        cJSON_Delete(j);
        free(r.body);
        cr_assert_lt(++pages, 100);
        if (!more) break;
    }
    cr_assert_eq(nid, N, "every alert listed");
    cr_assert_eq(pages, (N + 8) / 9);
    r = http(NULL, "GET", NULL, "/v1/monitor/alerts?limit=1001");
    cr_assert_eq(r.status, 400, "%s", r.body);
    free(r.body);
    r = http(NULL, "GET", NULL, "/v1/monitor/alerts?after=12.zz");
    cr_assert_eq(r.status, 400, "%s", r.body);
    free(r.body);
}

/* Walks path (which takes &from=N&limit=L) and returns how many items of array `key` it
 * saw, asserting each `field` value once. */
static int walk(const char *token, const char *path, const char *key, const char *field, int limit)
{
    char seen[64][80];
    int n = 0, pages = 0;
    long from = 0;
    while (from >= 0) {
        wn_mf_resp r = http(token, "GET", NULL, "%s%cfrom=%ld&limit=%d", path, strchr(path, '?') ? '&' : '?', from, limit);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cJSON *j = cJSON_Parse(r.body), *it;
        cr_assert_leq(cJSON_GetArraySize(cJSON_GetObjectItem(j, key)), limit);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, key))
        {
            char v[80];
            cJSON *f = cJSON_GetObjectItem(it, field);
            if (cJSON_IsString(f)) snprintf(v, sizeof v, "%s", f->valuestring);
            else snprintf(v, sizeof v, "%g", f->valuedouble);
            for (int k = 0; k < n; k++) cr_assert_str_neq(seen[k], v, "%s listed twice", v);
            cr_assert_lt(n, 64);
            snprintf(seen[n++], 80, "%s", v);
        }
        cJSON *nx = cJSON_GetObjectItem(j, "next");
        cr_assert(nx, "a next member: %s", r.body);
        from = cJSON_IsNumber(nx) ? (long)nx->valuedouble : -1;
        cJSON_Delete(j);
        free(r.body);
        cr_assert_lt(++pages, 64);
    }
    return n;
}

Test(access, monitor_lists_are_paginated, .init = setup, .fini = teardown)
{
    start_node(0);
    char tok[65], err[256];
    admin_token(tok);
    enum { E = 13 };
    for (int i = 0; i < E; i++) {
        wn_mf_meter m;
        char ent[32], plan[160];
        snprintf(ent, sizeof ent, "ENT-%02d", i);
        cr_assert(wn_mf_meter_new(&m));
        cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &m, ent, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
        snprintf(plan, sizeof plan, "{\"enterprise\":\"%s\",\"year\":2026,\"plan_m3\":\"%d\"}", ent, 1000 + i);
        wn_mf_resp r = http(tok, "POST", plan, "/v1/monitor/plans");
        cr_assert_eq(r.status, 200, "%s", r.body);
        free(r.body);
    }
    cr_assert_eq(walk(NULL, "/v1/monitor/enterprises", "enterprises", "enterprise", 5), E);
    cr_assert_eq(walk(NULL, "/v1/monitor/enterprises", "enterprises", "enterprise", 1000), E);
    cr_assert_eq(walk(NULL, "/v1/monitor/plans", "plans", "enterprise", 4), E);
    cr_assert_eq(walk(NULL, "/v1/monitor/production", "production", "month", 3), 0);
    wn_mf_resp r = http(NULL, "GET", NULL, "/v1/monitor/plans?limit=1001");
    cr_assert_eq(r.status, 400, "%s", r.body);
    free(r.body);
}
