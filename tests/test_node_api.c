/* test_node_api.c — the notary node end to end: a real bin/wn-node process on 127.0.0.1
 * (--listen 127.0.0.1:0 --port-file) over a temp data dir, driven with libcurl. Covers
 * enrolment, receipts (signature, leaf), idempotent resend, every rejection with its code
 * and status, JSON and binary batches, checkpoints, inclusion and consistency proofs,
 * metrics, concurrency (group commit), and restarts after SIGTERM and SIGKILL. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/proof_file.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

/* ---- the node process ---- */

typedef struct {
    wn_test_node proc;
    unsigned port;
    char *tmp;            /* test temp dir */
    char *data, *log;     /* the node's data dir and stderr log */
    uint8_t reg_sk[32], reg_pk[32];
    uint8_t notary_pk[32];
    char origin[300];
} node_t;

static node_t N;

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

/* Starts wn-node with this test's registrar, fast checkpoints and extra options. */
static void node_spawn(const char *const *extra)
{
    char reg[65];
    wn_hex_encode(reg, N.reg_pk, 32);
    const char *args[32] = {"--registrar", reg, "--checkpoint-ms", "50"};
    int a = 4;
    for (int i = 0; extra && extra[i] && a < 31; i++) args[a++] = extra[i];
    args[a] = NULL;
    if (!wn_test_node_start(&N.proc, args)) {
        char *log = wn_test_read_file(N.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
    N.port = N.proc.port;
}

static void node_kill(int sig)
{
    int status = wn_test_node_stop(&N.proc, sig);
    if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        size_t len = 0;
        char *log = wn_test_read_file(N.log, &len);
        cr_expect_fail("wn-node did not stop cleanly (%s %d); its log ends:\n%s",
                       WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                       log ? log + (len > 3000 ? len - 3000 : 0) : "(no log)");
        free(log);
    }
}

static void setup(void)
{
    memset(&N, 0, sizeof N);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    N.tmp = wn_test_tmpdir("node");
    cr_assert(N.tmp);
    wn_test_node_init(&N.proc, N.tmp);
    N.data = N.proc.data;
    N.log = N.proc.log;
    cr_assert(wn_seckey_generate(N.reg_sk));
    cr_assert(wn_seckey_xonly(N.reg_pk, N.reg_sk));
}

static void teardown(void)
{
    wn_test_node_stop(&N.proc, SIGKILL);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(N.tmp);
    free(N.tmp);
    curl_global_cleanup();
}

/* ---- HTTP ---- */

typedef struct {
    long status;
    char *body;
    size_t len;
} resp_t;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    resp_t *r = ctx;
    size_t add = size * n;
    r->body = realloc(r->body, r->len + add + 1);
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

static resp_t http(const char *method, const char *path, const char *ctype, const void *body, size_t len)
{
    resp_t r = {0, calloc(1, 1), 0};
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", N.port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ct[200];
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

static resp_t get(const char *path) { return http("GET", path, NULL, NULL, 0); }
static resp_t post_json(const char *path, const char *json) { return http("POST", path, "application/json", json, strlen(json)); }

static cJSON *json_of(const resp_t *r)
{
    cJSON *j = cJSON_Parse(r->body);
    cr_assert(j, "response is not JSON (status %ld): %s", r->status, r->body);
    return j;
}

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(cJSON_IsNumber(v), "field %s is not a number", k);
    return v->valuedouble;
}

/* Asserts an error body {"error":code,...} with the status. */
static void expect_error(resp_t r, long status, const char *code)
{
    cr_assert_eq(r.status, status, "expected %ld %s, got %ld: %s", status, code, r.status, r.body);
    cJSON *j = json_of(&r);
    cr_assert_str_eq(str_at(j, "error"), code, "body: %s", r.body);
    cr_assert(str_at(j, "detail"), "no detail: %s", r.body);
    cJSON_Delete(j);
    free(r.body);
}

static void fetch_pubkey(void)
{
    resp_t r = get("/v1/pubkey");
    cr_assert_eq(r.status, 200);
    cJSON *j = json_of(&r);
    cr_assert(wn_hex_decode(N.notary_pk, 32, str_at(j, "notary"), 64));
    snprintf(N.origin, sizeof N.origin, "%s", str_at(j, "origin"));
    char reg[65];
    wn_hex_encode(reg, N.reg_pk, 32);
    cr_assert_str_eq(str_at(j, "registrar"), reg);
    cJSON_Delete(j);
    free(r.body);
}

static void start(const char *const *extra)
{
    node_spawn(extra);
    fetch_pubkey();
}

/* ---- meters, enrolments, readings ---- */

typedef struct {
    uint8_t sk[32], id[32], pub33[33];
    int ecdsa;
    uint64_t seq;         /* last accepted */
    uint8_t last[32];     /* its digest */
    uint64_t time;        /* its time */
    int64_t vol;          /* its volume in litres (m3, scale 3) */
} meter_t;

static void meter_new(meter_t *m, int ecdsa)
{
    memset(m, 0, sizeof *m);
    cr_assert(wn_seckey_generate(m->sk));
    cr_assert(wn_seckey_pub33(m->pub33, m->sk));
    memcpy(m->id, m->pub33 + 1, 32);
    m->ecdsa = ecdsa;
    m->vol = 1000;
}

static void enrolment_of(wn_enrolment *e, const meter_t *m)
{
    memset(e, 0, sizeof *e);
    memcpy(e->meter, m->id, 32);
    e->alg = m->ecdsa ? WN_ALG_ECDSA : WN_ALG_BIP340;
    if (m->ecdsa) memcpy(e->pubkey, m->pub33, 33);
    else e->pubkey[0] = 0x02, memcpy(e->pubkey + 1, m->id, 32);
    e->time_ms = now_ms();
    e->point = WN_POINT_INTAKE;
    e->tier = 1;
    e->source = WN_SOURCE_GROUNDWATER;
    snprintf(e->enterprise, sizeof e->enterprise, "91620700MA000000XX");
    snprintf(e->calibration, sizeof e->calibration, "CAL-2026-0001");
}

static char *enrolment_json(wn_enrolment *e, const uint8_t *sk)
{
    cr_assert_eq(wn_enrolment_sign(e, sk), WN_ENROL_OK);
    char *out = malloc(2048);
    size_t len;
    cr_assert_eq(wn_enrolment_to_json(e, out, 2048, &len), WN_ENROL_OK);
    return out;
}

/* Enrols m; returns the entry index. */
static uint64_t enrol(const meter_t *m)
{
    wn_enrolment e;
    enrolment_of(&e, m);
    char *j = enrolment_json(&e, N.reg_sk);
    resp_t r = post_json("/v1/enrolments", j);
    cr_assert_eq(r.status, 200, "enrol: %ld %s", r.status, r.body);
    cJSON *o = json_of(&r);
    uint64_t idx = (uint64_t)num_at(o, "index");
    /* leaf = SHA-256(0x00 || 0x82 || u64 commit time || marks 0x00 || record): the timed
     * enrolment entry, committed at the time the answer names */
    uint8_t rec[WN_ENROLMENT_MAX_LEN + 11], leaf[32], got[32];
    size_t len;
    uint64_t commit_ms = 0;
    const char *ct = str_at(o, "commit_time");
    cr_assert(wn_time_parse(ct, strlen(ct), &commit_ms), "commit_time %s", ct);
    cr_assert_geq(commit_ms + 60000, (uint64_t)time(NULL) * 1000, "the commit time is now");
    rec[0] = 0x00, rec[1] = 0x82;
    for (int i = 0; i < 8; i++) rec[2 + i] = (uint8_t)(commit_ms >> (56 - 8 * i));
    rec[10] = 0x00;
    cr_assert_eq(wn_enrolment_encode(&e, rec + 11, sizeof rec - 11, &len), WN_ENROL_OK);
    wn_sha256(leaf, rec, len + 11);
    cr_assert(wn_hex_decode(got, 32, str_at(o, "leaf"), 64));
    cr_assert(memcmp(leaf, got, 32) == 0, "enrolment leaf hash");
    cJSON_Delete(o);
    free(r.body);
    free(j);
    return idx;
}

static char *revocation_json(const meter_t *m, const uint8_t *sk)
{
    wn_revocation rv = {.time_ms = now_ms(), .reason = WN_REVOKE_COMPROMISED};
    memcpy(rv.meter, m->id, 32);
    cr_assert_eq(wn_revocation_sign(&rv, sk), WN_ENROL_OK);
    char *out = malloc(1024);
    size_t len;
    cr_assert_eq(wn_revocation_to_json(&rv, out, 1024, &len), WN_ENROL_OK);
    return out;
}

/* The meter's next reading: seq+1, chained, time now, volume +10 L, signed. */
static wn_reading next_reading(const meter_t *m)
{
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    memcpy(r.meter, m->id, 32);
    r.seq = m->seq + 1;
    r.time_ms = now_ms() > m->time ? now_ms() : m->time;
    memcpy(r.prev, m->last, 32);
    r.count = 2;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->vol + 10};
    r.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 721};
    return r;
}

static void sign(wn_reading *r, const meter_t *m)
{
    int rc = m->ecdsa ? wn_reading_sign_ecdsa(r, m->sk) : wn_reading_sign(r, m->sk);
    cr_assert_eq(rc, WN_READING_OK, "signing: %s", wn_reading_strerror(rc));
}

static void advance(meter_t *m, const wn_reading *r)
{
    m->seq = r->seq;
    wn_reading_digest(r, m->last);
    m->time = r->time_ms;
    m->vol = r->m[0].value;
}

static char *reading_json(const wn_reading *r)
{
    char *out = malloc(4096);
    size_t len;
    int rc = wn_reading_to_json(r, out, 4096, &len);
    cr_assert_eq(rc, WN_READING_OK, "reading to JSON: %s (seq %llu)", wn_reading_strerror(rc), (unsigned long long)r->seq);
    return out;
}

static size_t reading_bytes(const wn_reading *r, uint8_t *out)
{
    size_t len;
    cr_assert_eq(wn_reading_encode(r, out, WN_READING_MAX_LEN, &len), WN_READING_OK);
    return len;
}

/* Checks one result object: its receipt verifies with the notary key and its leaf is that
 * of the timed reading entry committed at the receipt's time, not marked late:
 * SHA-256(0x00 || 0x81 || u64 time || 0x00 || reading). Out: *rc. */
static void check_receipt(const cJSON *res, const wn_reading *r, wn_receipt *rc)
{
    const cJSON *rj = cJSON_GetObjectItemCaseSensitive(res, "receipt");
    cr_assert(cJSON_IsObject(rj), "no receipt");
    cr_assert(wn_receipt_from_cjson(rc, rj), "receipt JSON");
    cr_assert(wn_receipt_verify(rc, N.notary_pk), "receipt signature");
    uint8_t b[WN_READING_MAX_LEN], leaf[32];
    size_t len = reading_bytes(r, b);
    wn_reading_timed_leaf_hash(leaf, b, len, rc->time_ms, 0);
    cr_assert(memcmp(leaf, rc->leaf, 32) == 0, "receipt leaf is not SHA-256(0x00||0x81||time||0x00||reading)");
    uint8_t pre[11 + WN_READING_MAX_LEN] = {0x00, 0x81};
    for (int i = 0; i < 8; i++) pre[2 + i] = (uint8_t)(rc->time_ms >> (56 - 8 * i));
    pre[10] = 0x00;
    memcpy(pre + 11, b, len);
    wn_sha256(leaf, pre, len + 11);
    cr_assert(memcmp(leaf, rc->leaf, 32) == 0);
}

/* Posts one reading as a bare JSON object. Returns the response (caller frees). */
static resp_t post_reading(const wn_reading *r)
{
    char *j = reading_json(r);
    resp_t resp = post_json("/v1/readings", j);
    free(j);
    return resp;
}

/* The single result of a one-reading response. */
static cJSON *only_result(cJSON *o)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "results");
    cr_assert(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 1, "results");
    return cJSON_GetArrayItem(arr, 0);
}

/* Posts the meter's next reading, expects it accepted, advances the meter. */
static wn_receipt accept_next(meter_t *m)
{
    wn_reading r = next_reading(m);
    sign(&r, m);
    resp_t resp = post_reading(&r);
    cr_assert_eq(resp.status, 200, "reading: %ld %s", resp.status, resp.body);
    cJSON *o = json_of(&resp);
    cJSON *res = only_result(o);
    cr_assert_str_eq(str_at(res, "status"), "accepted", "%s", resp.body);
    wn_receipt rc;
    check_receipt(res, &r, &rc);
    cJSON_Delete(o);
    free(resp.body);
    advance(m, &r);
    return rc;
}

/* Posts r (a single reading) and expects it rejected with code and status. */
static void expect_rejected(const wn_reading *r, long status, const char *code)
{
    resp_t resp = post_reading(r);
    cr_assert_eq(resp.status, status, "expected %ld %s, got %ld: %s", status, code, resp.status, resp.body);
    cJSON *o = json_of(&resp);
    cr_assert_str_eq(str_at(o, "error"), code, "%s", resp.body);
    cJSON *res = only_result(o);
    cr_assert_str_eq(str_at(res, "status"), "rejected");
    cr_assert_str_eq(str_at(res, "error"), code);
    cr_assert(str_at(res, "detail"));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(res, "receipt"));
    cJSON_Delete(o);
    free(resp.body);
}

static uint64_t ledger_size(void)
{
    resp_t r = get("/healthz");
    cr_assert_eq(r.status, 200);
    cJSON *o = json_of(&r);
    cr_assert_str_eq(str_at(o, "status"), "ok");
    uint64_t n = (uint64_t)num_at(o, "size");
    cJSON_Delete(o);
    free(r.body);
    return n;
}

/* Waits until the latest checkpoint covers at least size entries; returns its text. */
static char *wait_checkpoint(uint64_t size, wn_checkpoint *cp)
{
    for (int i = 0; i < 3000; i++) {
        resp_t r = get("/v1/checkpoint");
        if (r.status == 200) {
            int rc = wn_checkpoint_verify(r.body, r.len, N.origin, N.notary_pk, cp);
            cr_assert_eq(rc, WN_CHECKPOINT_OK, "checkpoint does not verify: %s\n%s", wn_checkpoint_strerror(rc), r.body);
            if (cp->size >= size) return r.body;
        }
        free(r.body);
        sleep_ms(10);
    }
    cr_assert_fail("no checkpoint of size >= %llu", (unsigned long long)size);
    return NULL;
}

/* ---- tests ---- */

TestSuite(node_api, .init = setup, .fini = teardown, .timeout = 120);

Test(node_api, enrolment_good_bad_duplicate)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    cr_assert_eq(enrol(&m), 0);
    cr_assert_eq(ledger_size(), 1);

    /* the same enrolment again (even re-signed): already_enrolled */
    wn_enrolment e;
    enrolment_of(&e, &m);
    char *j = enrolment_json(&e, N.reg_sk);
    expect_error(post_json("/v1/enrolments", j), 409, "already_enrolled");
    free(j);

    /* signed by another key */
    meter_t m2;
    meter_new(&m2, 0);
    uint8_t other[32];
    cr_assert(wn_seckey_generate(other));
    enrolment_of(&e, &m2);
    j = enrolment_json(&e, other);
    expect_error(post_json("/v1/enrolments", j), 403, "bad_registrar_signature");
    free(j);

    /* the registrar's key but a tampered signature */
    enrolment_of(&e, &m2);
    j = enrolment_json(&e, N.reg_sk);
    char *sig = strstr(j, "\"sig\":\"") + 7;
    sig[10] = sig[10] == 'a' ? 'b' : 'a';
    expect_error(post_json("/v1/enrolments", j), 403, "bad_registrar_signature");
    free(j);

    /* a tampered field under a valid signature */
    enrolment_of(&e, &m2);
    j = enrolment_json(&e, N.reg_sk);
    char *tier = strstr(j, "\"tier\":1");
    cr_assert(tier);
    tier[7] = '2';
    expect_error(post_json("/v1/enrolments", j), 403, "bad_registrar_signature");
    free(j);

    expect_error(post_json("/v1/enrolments", "{\"version\":1"), 400, "malformed_json");
    expect_error(post_json("/v1/enrolments", "{\"version\":1}"), 400, "malformed_record");
    expect_error(http("POST", "/v1/enrolments", "text/plain", "x", 1), 415, "unsupported_media_type");
    expect_error(get("/v1/enrolments"), 405, "method_not_allowed");
    cr_assert_eq(ledger_size(), 1, "nothing rejected was appended");

    /* revocation: good, again, unknown meter, wrong registrar */
    j = revocation_json(&m, other);
    expect_error(post_json("/v1/revocations", j), 403, "bad_registrar_signature");
    free(j);
    j = revocation_json(&m, N.reg_sk);
    resp_t r = post_json("/v1/revocations", j);
    cr_assert_eq(r.status, 200, "%s", r.body);
    free(r.body);
    free(j);
    j = revocation_json(&m, N.reg_sk);
    expect_error(post_json("/v1/revocations", j), 409, "already_revoked");
    free(j);
    j = revocation_json(&m2, N.reg_sk);
    expect_error(post_json("/v1/revocations", j), 403, "unknown_meter");
    free(j);
    /* a revoked meter id cannot be enrolled again */
    enrolment_of(&e, &m);
    j = enrolment_json(&e, N.reg_sk);
    expect_error(post_json("/v1/enrolments", j), 409, "already_enrolled");
    free(j);
    cr_assert_eq(ledger_size(), 2);

    /* the entries read back */
    r = get("/v1/entries/0");
    cr_assert_eq(r.status, 200);
    cJSON *o = json_of(&r);
    cr_assert_str_eq(str_at(o, "type"), "enrolment");
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "enrolment")));
    cJSON_Delete(o);
    free(r.body);
    r = get("/v1/entries/1");
    o = json_of(&r);
    cr_assert_str_eq(str_at(o, "type"), "revocation");
    cJSON_Delete(o);
    free(r.body);
    expect_error(get("/v1/entries/2"), 404, "not_found");
    expect_error(get("/v1/entries/01"), 400, "bad_request");
    node_kill(SIGTERM);
}

Test(node_api, receipts_and_idempotent_resend)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    wn_receipt r1 = accept_next(&m);
    cr_assert_eq(r1.index, 1);
    wn_receipt r2 = accept_next(&m);
    cr_assert_eq(r2.index, 2);

    /* a reading sent twice, byte for byte: duplicate, replay, the identical receipt */
    resp_t first;
    {
        wn_reading r = next_reading(&m);
        sign(&r, &m);
        first = post_reading(&r);
        cr_assert_eq(first.status, 200);
        resp_t second = post_reading(&r);
        cr_assert_eq(second.status, 200, "%s", second.body);
        cJSON *a = json_of(&first), *b = json_of(&second);
        cJSON *ra = only_result(a), *rb = only_result(b);
        cr_assert_str_eq(str_at(ra, "status"), "accepted");
        cr_assert_str_eq(str_at(rb, "status"), "duplicate");
        cr_assert_str_eq(str_at(rb, "error"), "replay");
        char *ja = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ra, "receipt"));
        char *jb = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rb, "receipt"));
        cr_assert_str_eq(ja, jb, "the resend must get the identical receipt");
        wn_receipt rc;
        check_receipt(rb, &r, &rc);
        cr_assert_eq(rc.index, 3);
        free(ja);
        free(jb);
        cJSON_Delete(a);
        cJSON_Delete(b);
        free(second.body);
        advance(&m, &r);
    }
    free(first.body);
    cr_assert_eq(ledger_size(), 4, "a duplicate is not appended again");

    /* meter status */
    char path[200], hex[65];
    wn_hex_encode(hex, m.id, 32);
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    resp_t s = get(path);
    cr_assert_eq(s.status, 200);
    cJSON *o = json_of(&s);
    cr_assert_str_eq(str_at(o, "meter"), hex);
    cr_assert_eq(num_at(o, "last_seq"), 3);
    cr_assert_eq(num_at(o, "last_index"), 3);
    cr_assert_eq(num_at(o, "enrolment_index"), 0);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "revoked")));
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "enrolment")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "alerts")), 0);
    cJSON_Delete(o);
    free(s.body);
    meter_t unknown;
    meter_new(&unknown, 0);
    wn_hex_encode(hex, unknown.id, 32);
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    expect_error(get(path), 404, "not_found");
    expect_error(get("/v1/meters/XYZ"), 400, "bad_request");

    /* entry 1 is reading 1 */
    s = get("/v1/entries/1");
    o = json_of(&s);
    cr_assert_str_eq(str_at(o, "type"), "reading");
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "reading")));
    char leaf[65];
    wn_hex_encode(leaf, r1.leaf, 32);
    cr_assert_str_eq(str_at(o, "leaf"), leaf);
    cJSON_Delete(o);
    free(s.body);
    node_kill(SIGTERM);
}

Test(node_api, every_rejection_has_its_code_and_status)
{
    const char *extra[] = {"--max-body", "4000", NULL};
    start(extra);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    accept_next(&m);
    accept_next(&m);
    uint64_t size0 = ledger_size();

    wn_reading r = next_reading(&m);
    r.seq = m.seq + 2; /* gap */
    sign(&r, &m);
    expect_rejected(&r, 409, "sequence_gap");

    r = next_reading(&m);
    r.prev[0] ^= 1; /* chain mismatch */
    sign(&r, &m);
    expect_rejected(&r, 409, "chain_mismatch");

    r = next_reading(&m);
    r.time_ms = m.time - 1; /* time travel */
    sign(&r, &m);
    expect_rejected(&r, 422, "time_travel");

    r = next_reading(&m);
    r.time_ms = now_ms() + 3600 * 1000; /* an hour ahead, skew is 5 minutes */
    sign(&r, &m);
    expect_rejected(&r, 422, "future_time");

    r = next_reading(&m);
    r.m[0].value = m.vol - 1; /* totaliser down */
    sign(&r, &m);
    expect_rejected(&r, 422, "volume_decreased");

    r = next_reading(&m);
    r.m[1].value = 1500; /* pH 15.00 */
    sign(&r, &m);
    expect_rejected(&r, 422, "out_of_range");

    r = next_reading(&m);
    sign(&r, &m);
    r.sig[5] ^= 1; /* bad signature */
    expect_rejected(&r, 400, "bad_signature");

    r = next_reading(&m);
    sign(&r, &m);
    {
        /* sequence 0 breaks a rule of §2 */
        char *j = reading_json(&r), *seq = strstr(j, "\"seq\":");
        cr_assert(seq);
        seq += 6;
        size_t digits = strspn(seq, "0123456789");
        memmove(seq + 1, seq + digits, strlen(seq + digits) + 1);
        seq[0] = '0';
        resp_t resp = post_json("/v1/readings", j);
        free(j);
        cr_assert_eq(resp.status, 400, "%s", resp.body);
        cJSON *o = json_of(&resp);
        cr_assert_str_eq(str_at(o, "error"), "malformed_reading");
        cr_assert(strstr(str_at(o, "detail"), "bad_sequence"), "%s", resp.body);
        cr_assert_eq(num_at(only_result(o), "seq"), 0);
        cJSON_Delete(o);
        free(resp.body);
    }

    /* unknown meter */
    meter_t stranger;
    meter_new(&stranger, 0);
    r = next_reading(&stranger);
    sign(&r, &stranger);
    expect_rejected(&r, 403, "unknown_meter");

    /* malformed bodies */
    expect_error(post_json("/v1/readings", "{\"version\":1,"), 400, "malformed_json");
    expect_error(post_json("/v1/readings", "[1,2]"), 400, "malformed_json");
    expect_error(post_json("/v1/readings", "{} x"), 400, "malformed_json");
    expect_error(post_json("/v1/readings", "{\"readings\":{}}"), 400, "malformed_json");
    expect_error(http("POST", "/v1/readings", "text/csv", "a,b", 3), 415, "unsupported_media_type");
    char *big = malloc(5000);
    memset(big, ' ', 5000);
    big[0] = '{', big[4999] = '}';
    expect_error(http("POST", "/v1/readings", "application/json", big, 5000), 413, "body_too_large");
    free(big);
    expect_error(get("/v1/readings"), 405, "method_not_allowed");
    expect_error(get("/nothing/here"), 404, "not_found");

    /* totaliser down is fine with meter_replaced */
    r = next_reading(&m);
    r.m[0].value = 5;
    r.flags = WN_FLAG_METER_REPLACED;
    sign(&r, &m);
    resp_t ok = post_reading(&r);
    cr_assert_eq(ok.status, 200, "%s", ok.body);
    free(ok.body);
    advance(&m, &r);
    cr_assert_eq(ledger_size(), size0 + 1, "only the good reading was appended");

    /* equivocation: reading seq m.seq re-signed (BIP-340 signatures are randomised,
     * so the bytes differ) */
    {
        wn_reading e = r; /* the last accepted reading, signed anew */
        sign(&e, &m);
        cr_assert(memcmp(e.sig, r.sig, 64) != 0);
        expect_rejected(&e, 409, "equivocation");
        /* the same conflicting reading again: still equivocation, no second evidence entry */
        uint64_t s1 = ledger_size();
        expect_rejected(&e, 409, "equivocation");
        cr_assert_eq(ledger_size(), s1);
        cr_assert_eq(s1, size0 + 2, "one evidence entry");
        /* the alert is in the meter status; the evidence entry reads back */
        char path[200], hex[65];
        wn_hex_encode(hex, m.id, 32);
        snprintf(path, sizeof path, "/v1/meters/%s", hex);
        resp_t s = get(path);
        cJSON *o = json_of(&s);
        cJSON *alerts = cJSON_GetObjectItemCaseSensitive(o, "alerts");
        cr_assert_eq(cJSON_GetArraySize(alerts), 1, "%s", s.body);
        cJSON *a = cJSON_GetArrayItem(alerts, 0);
        cr_assert_str_eq(str_at(a, "type"), "equivocation");
        cr_assert_eq(num_at(a, "seq"), (double)m.seq);
        cr_assert_eq(num_at(a, "evidence_index"), (double)(s1 - 1));
        cJSON_Delete(o);
        free(s.body);
        snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)(s1 - 1));
        s = get(path);
        o = json_of(&s);
        cr_assert_str_eq(str_at(o, "type"), "equivocation");
        cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "equivocation");
        cr_assert_eq(num_at(ev, "original_index"), (double)(size0));
        cJSON_Delete(o);
        free(s.body);
    }

    /* revoked key */
    char *j = revocation_json(&m, N.reg_sk);
    resp_t rv = post_json("/v1/revocations", j);
    cr_assert_eq(rv.status, 200);
    free(rv.body);
    free(j);
    r = next_reading(&m);
    sign(&r, &m);
    expect_rejected(&r, 403, "revoked_meter");
    node_kill(SIGTERM);
}

Test(node_api, replay_of_an_old_reading)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    wn_reading first = next_reading(&m);
    sign(&first, &m);
    resp_t a = post_reading(&first);
    cr_assert_eq(a.status, 200);
    advance(&m, &first);
    accept_next(&m);
    accept_next(&m);
    /* reading 1 again, two readings later */
    resp_t b = post_reading(&first);
    cr_assert_eq(b.status, 200, "%s", b.body);
    cJSON *ja = json_of(&a), *jb = json_of(&b);
    cJSON *rb = only_result(jb);
    cr_assert_str_eq(str_at(rb, "status"), "duplicate");
    cr_assert_str_eq(str_at(rb, "error"), "replay");
    char *ra = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(only_result(ja), "receipt"));
    char *rbs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rb, "receipt"));
    cr_assert_str_eq(ra, rbs);
    free(ra);
    free(rbs);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    free(a.body);
    free(b.body);
    cr_assert_eq(ledger_size(), 4);
    node_kill(SIGTERM);
}

Test(node_api, json_and_binary_batches)
{
    start(NULL);
    meter_t m, m2;
    meter_new(&m, 0);
    meter_new(&m2, 0);
    enrol(&m);
    enrol(&m2);
    /* JSON batch: good, good, gap, good (other meter), malformed, duplicate of the first */
    wn_reading r1 = next_reading(&m);
    sign(&r1, &m);
    meter_t t = m;
    advance(&t, &r1);
    wn_reading r2 = next_reading(&t);
    sign(&r2, &t);
    wn_reading gap = next_reading(&t);
    gap.seq += 5;
    sign(&gap, &t);
    wn_reading o1 = next_reading(&m2);
    sign(&o1, &m2);
    char *j1 = reading_json(&r1), *j2 = reading_json(&r2), *j3 = reading_json(&gap), *j4 = reading_json(&o1);
    char *body = malloc(20000);
    snprintf(body, 20000, "{\"readings\":[%s,%s,%s,%s,{\"meter\":\"zz\",\"seq\":7},%s]}", j1, j2, j3, j4, j1);
    resp_t r = post_json("/v1/readings", body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *o = json_of(&r);
    cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 6);
    const char *want_status[] = {"accepted", "accepted", "rejected", "accepted", "rejected", "duplicate"};
    const char *want_error[] = {NULL, NULL, "sequence_gap", NULL, "malformed_reading", "replay"};
    for (int i = 0; i < 6; i++) {
        cJSON *it = cJSON_GetArrayItem(res, i);
        cr_assert_str_eq(str_at(it, "status"), want_status[i], "result %d: %s", i, r.body);
        if (want_error[i]) cr_assert_str_eq(str_at(it, "error"), want_error[i], "result %d", i);
    }
    wn_receipt a, d;
    check_receipt(cJSON_GetArrayItem(res, 0), &r1, &a);
    check_receipt(cJSON_GetArrayItem(res, 5), &r1, &d);
    cr_assert_eq(a.index, d.index);
    uint8_t ea[WN_RECEIPT_MAX_LEN], ed[WN_RECEIPT_MAX_LEN];
    size_t la = wn_receipt_encode(&a, ea);
    cr_assert(la == wn_receipt_encode(&d, ed) && memcmp(ea, ed, la) == 0,
              "a duplicate in the same batch gets the same receipt");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(res, 4), "meter")));
    cr_assert_eq(num_at(cJSON_GetArrayItem(res, 4), "seq"), 7);
    cJSON_Delete(o);
    free(r.body);
    advance(&m, &r1);
    advance(&m, &r2);
    advance(&m2, &o1);
    cr_assert_eq(ledger_size(), 5);

    /* binary batch: three good readings of m, one bad signature of m2 */
    uint8_t bin[4 * (2 + WN_READING_MAX_LEN)];
    size_t off = 0;
    wn_reading br[3];
    for (int i = 0; i < 3; i++) {
        br[i] = next_reading(&m);
        sign(&br[i], &m);
        size_t len = reading_bytes(&br[i], bin + off + 2);
        wn_put_u16(bin + off, (uint16_t)len);
        off += 2 + len;
        advance(&m, &br[i]);
    }
    wn_reading bad = next_reading(&m2);
    sign(&bad, &m2);
    bad.sig[0] ^= 0x80;
    size_t len = reading_bytes(&bad, bin + off + 2);
    wn_put_u16(bin + off, (uint16_t)len);
    off += 2 + len;
    r = http("POST", "/v1/readings", "application/vnd.waternotary.readings", bin, off);
    cr_assert_eq(r.status, 200, "%s", r.body);
    o = json_of(&r);
    res = cJSON_GetObjectItemCaseSensitive(o, "results");
    cr_assert_eq(cJSON_GetArraySize(res), 4);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(str_at(cJSON_GetArrayItem(res, i), "status"), "accepted");
        wn_receipt rc;
        check_receipt(cJSON_GetArrayItem(res, i), &br[i], &rc);
        cr_assert_eq(rc.index, 5 + (uint64_t)i);
    }
    cr_assert_str_eq(str_at(cJSON_GetArrayItem(res, 3), "error"), "bad_signature");
    cJSON_Delete(o);
    free(r.body);

    /* broken framing: a length beyond the body */
    uint8_t broken[10] = {0x01, 0x00, 1, 2, 3};
    expect_error(http("POST", "/v1/readings", "application/vnd.waternotary.readings", broken, 5), 400,
                 "malformed_reading");
    cr_assert_eq(ledger_size(), 8);
    free(body);
    free(j1), free(j2), free(j3), free(j4);
    node_kill(SIGTERM);
}

Test(node_api, checkpoints_and_proofs)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    wn_receipt rc[5];
    wn_reading rd[5];
    for (int i = 0; i < 5; i++) {
        rd[i] = next_reading(&m);
        sign(&rd[i], &m);
        resp_t r = post_reading(&rd[i]);
        cr_assert_eq(r.status, 200);
        cJSON *o = json_of(&r);
        check_receipt(only_result(o), &rd[i], &rc[i]);
        cJSON_Delete(o);
        free(r.body);
        advance(&m, &rd[i]);
    }
    wn_checkpoint cp1;
    char *note1 = wait_checkpoint(6, &cp1);
    cr_assert_eq(cp1.size, 6);
    cr_assert_str_eq(cp1.origin, N.origin);

    /* the stored checkpoint of that size */
    resp_t r = get("/v1/checkpoint?size=6");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, note1);
    free(r.body);
    /* a size never checkpointed (the tree is smaller; a slow machine may have had the
     * timer checkpoint any size up to 6, so none of those is sure to be absent) */
    expect_error(get("/v1/checkpoint?size=1000"), 404, "not_found");
    expect_error(get("/v1/checkpoint?size=x"), 400, "bad_request");

    /* more entries and a later checkpoint */
    for (int i = 0; i < 4; i++) accept_next(&m);
    wn_checkpoint cp2;
    char *note2 = wait_checkpoint(10, &cp2);
    cr_assert_eq(cp2.size, 10);

    /* inclusion proof for receipt 2 (index 3) against the later checkpoint */
    char path[300];
    snprintf(path, sizeof path, "/v1/proof/inclusion?index=%llu", (unsigned long long)rc[2].index);
    r = get(path);
    cr_assert_eq(r.status, 200, "%s", r.body);
    wn_incl_proof p;
    char detail[200];
    cr_assert_eq(wn_incl_proof_parse(&p, r.body, r.len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    wn_checkpoint vcp;
    cr_assert_eq(wn_incl_proof_verify(&p, N.notary_pk, NULL, 0, &vcp, detail, sizeof detail), WN_PROOF_OK, "%s",
                 detail);
    cr_assert_eq(p.index, rc[2].index);
    cr_assert_eq(vcp.size, 10);
    uint8_t leaf[32];
    wn_merkle_leaf_hash(leaf, p.extra, p.extra_len);
    cr_assert(memcmp(leaf, rc[2].leaf, 32) == 0, "the proof is for the receipt's leaf");
    /* and it fails against another entry's bytes */
    uint8_t other[1 + WN_READING_MAX_LEN] = {0x01};
    size_t olen = reading_bytes(&rd[1], other + 1);
    cr_assert_neq(wn_incl_proof_verify(&p, N.notary_pk, other, olen + 1, NULL, detail, sizeof detail), WN_PROOF_OK);
    wn_incl_proof_free(&p);
    free(r.body);

    /* by meter and sequence, against the older checkpoint */
    char hex[65];
    wn_hex_encode(hex, m.id, 32);
    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=3&size=6", hex);
    r = get(path);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(wn_incl_proof_parse(&p, r.body, r.len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(wn_incl_proof_verify(&p, N.notary_pk, NULL, 0, &vcp, detail, sizeof detail), WN_PROOF_OK, "%s",
                 detail);
    cr_assert_eq(p.index, rc[2].index);
    cr_assert_eq(vcp.size, 6);
    wn_incl_proof_free(&p);
    free(r.body);

    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=99", hex);
    expect_error(get(path), 404, "not_found");
    expect_error(get("/v1/proof/inclusion?index=8&size=6"), 404, "not_checkpointed");
    expect_error(get("/v1/proof/inclusion?index=500"), 404, "not_found");
    expect_error(get("/v1/proof/inclusion"), 400, "bad_request");
    expect_error(get("/v1/proof/inclusion?index=1&seq=2"), 400, "bad_request");

    /* consistency 6 -> 10 */
    r = get("/v1/proof/consistency?from=6&to=10");
    cr_assert_eq(r.status, 200, "%s", r.body);
    wn_cons_proof cp;
    cr_assert_eq(wn_cons_proof_parse(&cp, r.body, r.len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    wn_checkpoint o1, o2;
    cr_assert_eq(wn_cons_proof_verify(&cp, N.notary_pk, &o1, &o2, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(o1.size, 6);
    cr_assert_eq(o2.size, 10);
    free(r.body);
    /* default "to": the latest */
    r = get("/v1/proof/consistency?from=6");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(wn_cons_proof_parse(&cp, r.body, r.len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(wn_cons_proof_verify(&cp, N.notary_pk, &o1, &o2, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    free(r.body);
    expect_error(get("/v1/proof/consistency?from=0"), 400, "bad_request");
    expect_error(get("/v1/proof/consistency?from=10&to=6"), 400, "bad_request");
    /* from a size with no stored checkpoint: the node signs one for that size on the spot */
    r = get("/v1/proof/consistency?from=7");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(wn_cons_proof_parse(&cp, r.body, r.len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(wn_cons_proof_verify(&cp, N.notary_pk, &o1, &o2, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(o1.size, 7);
    free(r.body);
    expect_error(get("/v1/proof/consistency?from=7&to=11"), 404, "not_found"); /* no tree of size 11 */
    free(note1);
    free(note2);
    node_kill(SIGTERM);
}

Test(node_api, not_checkpointed_before_the_first_checkpoint)
{
    const char *extra[] = {"--checkpoint-ms", "600000", "--checkpoint-every", "1000", NULL};
    start(extra);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    expect_error(get("/v1/checkpoint"), 404, "not_found");
    expect_error(get("/v1/proof/inclusion?index=0"), 404, "not_checkpointed");
    /* a clean stop signs the last entries */
    node_kill(SIGTERM);
    start(extra);
    resp_t r = get("/v1/checkpoint");
    cr_assert_eq(r.status, 200, "%s", r.body);
    wn_checkpoint cp;
    cr_assert_eq(wn_checkpoint_verify(r.body, r.len, N.origin, N.notary_pk, &cp), WN_CHECKPOINT_OK);
    cr_assert_eq(cp.size, 1);
    free(r.body);
    node_kill(SIGTERM);
}

Test(node_api, ecdsa_meter)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 1);
    enrol(&m);
    accept_next(&m);
    accept_next(&m);
    /* a BIP-340 signature from the ECDSA-enrolled meter is refused */
    wn_reading r = next_reading(&m);
    cr_assert_eq(wn_reading_sign(&r, m.sk), WN_READING_OK);
    expect_rejected(&r, 400, "bad_signature");
    node_kill(SIGTERM);
}

Test(node_api, health_and_metrics)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    accept_next(&m);
    accept_next(&m);
    wn_reading r = next_reading(&m);
    r.seq += 3;
    sign(&r, &m);
    expect_rejected(&r, 409, "sequence_gap");
    resp_t x = get("/metrics");
    cr_assert_eq(x.status, 200);
    cr_assert(strstr(x.body, "wn_readings_accepted_total 2\n"), "%s", x.body);
    cr_assert(strstr(x.body, "wn_readings_rejected_total{reason=\"sequence_gap\"} 1\n"), "%s", x.body);
    cr_assert(strstr(x.body, "wn_ledger_entries 3\n"), "%s", x.body);
    cr_assert(strstr(x.body, "# TYPE wn_commit_seconds histogram\n"));
    cr_assert(strstr(x.body, "wn_commit_entries_count 3\n"), "%s", x.body);
    cr_assert(strstr(x.body, "wn_request_readings_bucket{le=\"+Inf\"} 3\n"), "%s", x.body);
    cr_assert(strstr(x.body, "wn_enrolments_total 1\n"));
    cr_assert(strstr(x.body, "wn_checkpoint_size "));
    free(x.body);
    cr_assert_eq(ledger_size(), 3);
    node_kill(SIGTERM);
}

Test(node_api, large_binary_batch_of_one_meter)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    enum { K = 300 };
    uint8_t *bin = malloc(K * (2 + WN_READING_MAX_LEN));
    wn_reading *rs = malloc(K * sizeof *rs);
    size_t off = 0;
    for (int i = 0; i < K; i++) {
        rs[i] = next_reading(&m);
        sign(&rs[i], &m);
        size_t len = reading_bytes(&rs[i], bin + off + 2);
        wn_put_u16(bin + off, (uint16_t)len);
        off += 2 + len;
        advance(&m, &rs[i]);
    }
    /* one bad signature in the second half (verified on the other thread) breaks the chain after it */
    rs[200].sig[3] ^= 1;
    size_t pos = 0;
    for (int i = 0; i < 200; i++) pos += 2 + wn_get_u16(bin + pos);
    bin[pos + 2 + wn_get_u16(bin + pos) - 64 + 3] ^= 1;
    resp_t r = http("POST", "/v1/readings", "application/vnd.waternotary.readings", bin, off);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *o = json_of(&r);
    cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "results");
    cr_assert_eq(cJSON_GetArraySize(res), K);
    for (int i = 0; i < K; i++) {
        cJSON *it = cJSON_GetArrayItem(res, i);
        if (i < 200) {
            cr_assert_str_eq(str_at(it, "status"), "accepted", "reading %d", i);
            wn_receipt rc;
            check_receipt(it, &rs[i], &rc);
            cr_assert_eq(rc.index, 1 + (uint64_t)i);
        } else {
            cr_assert_str_eq(str_at(it, "error"), i == 200 ? "bad_signature" : "sequence_gap", "reading %d", i);
        }
    }
    cJSON_Delete(o);
    free(r.body);
    cr_assert_eq(ledger_size(), 201);
    free(bin);
    free(rs);
    node_kill(SIGTERM);
}

Test(node_api, starts_with_only_data_and_refuses_bad_options)
{
    /* only --data (and the test's listen/port file): keys are created, the registrar's is used */
    if (!wn_test_node_start(&N.proc, NULL)) cr_assert_fail("wn-node did not start with defaults");
    N.port = N.proc.port;
    char p[4300];
    struct stat st;
    snprintf(p, sizeof p, "%s/notary.key", N.data);
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "the notary key is private");
    uint8_t sk[32], pk[32];
    cr_assert(wn_keyfile_read(p, sk));
    cr_assert(wn_seckey_xonly(pk, sk));
    snprintf(p, sizeof p, "%s/registrar.key", N.data);
    cr_assert(wn_keyfile_read(p, N.reg_sk), "a demo registrar key was created");
    cr_assert(wn_seckey_xonly(N.reg_pk, N.reg_sk));
    fetch_pubkey(); /* checks the registrar it reports */
    cr_assert(memcmp(N.notary_pk, pk, 32) == 0);
    char hex[65], origin[64];
    wn_hex_encode(hex, pk, 32);
    snprintf(origin, sizeof origin, "waternotary/%.16s", hex);
    cr_assert_str_eq(N.origin, origin);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    accept_next(&m);
    node_kill(SIGTERM);
    char *log = wn_test_read_file(N.log, NULL);
    cr_assert(log && strstr(log, "registrar") && strstr(log, "listening on"), "%s", log);
    free(log);

    /* bad options: refused before anything is created */
    wn_test_node bad;
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/bad", N.tmp);
    cr_assert_eq(mkdir(dir, 0700), 0);
    wn_test_node_init(&bad, dir);
    const char *a1[] = {"--registrar", "abcd", NULL};
    cr_assert_not(wn_test_node_start(&bad, a1));
    const char *a2[] = {"--origin", "two words", NULL};
    cr_assert_not(wn_test_node_start(&bad, a2));
    const char *a3[] = {"--max-body", "0", NULL};
    cr_assert_not(wn_test_node_start(&bad, a3));
    cr_assert_neq(stat(bad.data, &st), 0, "nothing was created");
}

/* ---- concurrency ---- */

typedef struct {
    meter_t m;
    int n, ok;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        wn_reading r = next_reading(&w->m);
        if (wn_reading_sign(&r, w->m.sk) != WN_READING_OK) return NULL;
        char j[4096];
        size_t len;
        if (wn_reading_to_json(&r, j, sizeof j, &len) != WN_READING_OK) return NULL;
        resp_t resp = post_json("/v1/readings", j);
        int good = resp.status == 200 && strstr(resp.body, "\"status\":\"accepted\"");
        free(resp.body);
        if (!good) return NULL;
        advance(&w->m, &r);
        w->ok++;
    }
    return NULL;
}

Test(node_api, concurrent_meters_all_accepted_in_order)
{
    start(NULL);
    enum { T = 8, R = 25 };
    worker_t w[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        meter_new(&w[i].m, 0);
        w[i].n = R;
        w[i].ok = 0;
        enrol(&w[i].m);
    }
    for (int i = 0; i < T; i++) cr_assert_eq(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < T; i++) cr_assert_eq(w[i].ok, R, "worker %d: %d of %d accepted", i, w[i].ok, R);
    cr_assert_eq(ledger_size(), T + T * R);
    /* every meter's chain is whole */
    for (int i = 0; i < T; i++) accept_next(&w[i].m);
    wn_checkpoint cp;
    free(wait_checkpoint(T + T * R + T, &cp));
    node_kill(SIGTERM);
}

/* ---- restarts ---- */

static void restart_round(meter_t *m, wn_receipt *old, const wn_reading *old_r, int sig)
{
    node_kill(sig);
    start(NULL);
    /* the meter is still known with its last sequence */
    char path[200], hex[65];
    wn_hex_encode(hex, m->id, 32);
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    resp_t s = get(path);
    cr_assert_eq(s.status, 200, "%s", s.body);
    cJSON *o = json_of(&s);
    cr_assert_eq(num_at(o, "last_seq"), (double)m->seq, "%s", s.body);
    cJSON_Delete(o);
    free(s.body);
    /* an old reading resent: the identical receipt */
    resp_t r = post_reading(old_r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    o = json_of(&r);
    cJSON *res = only_result(o);
    cr_assert_str_eq(str_at(res, "status"), "duplicate");
    wn_receipt rc;
    check_receipt(res, old_r, &rc);
    cr_assert_eq(rc.index, old->index);
    cr_assert_eq(rc.time_ms, old->time_ms);
    uint8_t e1[WN_RECEIPT_MAX_LEN], e2[WN_RECEIPT_MAX_LEN];
    size_t l1 = wn_receipt_encode(&rc, e1);
    cr_assert(l1 == wn_receipt_encode(old, e2) && memcmp(e1, e2, l1) == 0, "identical receipt after restart");
    cJSON_Delete(o);
    free(r.body);
    /* the chain continues */
    accept_next(m);
    accept_next(m);
}

Test(node_api, restart_after_sigterm_and_sigkill)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    wn_reading first = next_reading(&m);
    sign(&first, &m);
    resp_t a = post_reading(&first);
    cr_assert_eq(a.status, 200);
    cJSON *o = json_of(&a);
    wn_receipt rc0;
    check_receipt(only_result(o), &first, &rc0);
    cJSON_Delete(o);
    free(a.body);
    advance(&m, &first);
    for (int i = 0; i < 5; i++) accept_next(&m);
    wn_checkpoint cp;
    free(wait_checkpoint(7, &cp));
    uint64_t before = ledger_size();

    restart_round(&m, &rc0, &first, SIGTERM);
    cr_assert_eq(ledger_size(), before + 2);
    char *log = wn_test_read_file(N.log, NULL);
    cr_assert(log && !strstr(log, "rebuilding"), "after a clean stop the node state must load as it is:\n%s", log);
    free(log);
    restart_round(&m, &rc0, &first, SIGKILL);
    cr_assert_eq(ledger_size(), before + 4);

    /* SIGKILL right after answers, many times over: nothing accepted is ever lost */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++) accept_next(&m);
        node_kill(SIGKILL);
        start(NULL);
    }
    cr_assert_eq(ledger_size(), before + 4 + 9);
    accept_next(&m);
    char *note = wait_checkpoint(before + 14, &cp);
    cr_assert_eq(cp.size, before + 14);
    /* a proof from before the restarts is consistent with now */
    char path[100];
    snprintf(path, sizeof path, "/v1/proof/consistency?from=%llu", (unsigned long long)before);
    resp_t r = get(path);
    if (r.status == 200) {
        wn_cons_proof p;
        char detail[200];
        wn_checkpoint o1, o2;
        cr_assert_eq(wn_cons_proof_parse(&p, r.body, r.len, detail, sizeof detail), WN_PROOF_OK);
        cr_assert_eq(wn_cons_proof_verify(&p, N.notary_pk, &o1, &o2, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    }
    free(r.body);
    free(note);
    node_kill(SIGTERM);
}

Test(node_api, state_rebuilt_when_lost)
{
    start(NULL);
    meter_t m;
    meter_new(&m, 0);
    enrol(&m);
    for (int i = 0; i < 4; i++) accept_next(&m);
    node_kill(SIGTERM);
    /* throw the node state away: it is rebuilt from the ledger */
    char p[4300];
    snprintf(p, sizeof p, "%s/state/data.mdb", N.data);
    cr_assert_eq(unlink(p), 0);
    start(NULL);
    accept_next(&m);
    cr_assert_eq(ledger_size(), 6);
    node_kill(SIGTERM);
}

/* ---- binary readings: the decode order and keys parsed once ---- */

/* Appends u16 length || bytes to a binary batch. */
static void bin_add(uint8_t *bin, size_t *off, const uint8_t *bytes, size_t len)
{
    wn_put_u16(bin + *off, (uint16_t)len);
    memcpy(bin + *off + 2, bytes, len);
    *off += 2 + len;
}

/* Expects result i to be status with error code (NULL: none) and a detail starting with prefix. */
static void expect_result(const cJSON *res, int i, const char *status, const char *code, const char *prefix)
{
    const cJSON *it = cJSON_GetArrayItem(res, i);
    cr_assert_str_eq(str_at(it, "status"), status, "result %d: %s %s", i, str_at(it, "error"), str_at(it, "detail"));
    if (!code) return;
    cr_assert_str_eq(str_at(it, "error"), code, "result %d: %s", i, str_at(it, "detail"));
    if (prefix)
        cr_assert(strncmp(str_at(it, "detail"), prefix, strlen(prefix)) == 0, "result %d: %s", i, str_at(it, "detail"));
}

/* The node decodes the readings of enrolled meters without the meter id's point check
 * and verifies them with keys parsed once: at enrolment, when its state loads, when it
 * is rebuilt from the ledger. Every result must be what the full checks give, in the
 * order of PROTOCOL §9: an id that is not a key is bad_meter_id before anything else. */
Test(node_api, binary_decode_order_and_keys_parsed_once)
{
    start(NULL);
    meter_t b, e, stranger;
    meter_new(&b, 0);
    meter_new(&e, 1);
    meter_new(&stranger, 0);
    enrol(&b);
    enrol(&e);
    uint8_t no_key[32];
    memset(no_key, 0xff, 32); /* x >= p: not a curve point */
    for (int round = 0; round < 3; round++) {
        if (round == 1) { /* keys from the state env */
            node_kill(SIGTERM);
            start(NULL);
        } else if (round == 2) { /* keys from the ledger, the state rebuilt */
            node_kill(SIGKILL);
            char p[4300];
            snprintf(p, sizeof p, "%s/state/data.mdb", N.data);
            cr_assert_eq(unlink(p), 0);
            start(NULL);
        }
        uint8_t bin[10 * (2 + WN_READING_MAX_LEN)], one[WN_READING_MAX_LEN];
        size_t off = 0, len;
        wn_reading rb = next_reading(&b), re = next_reading(&e), x;
        sign(&rb, &b);
        sign(&re, &e);
        meter_t b1 = b, e1 = e; /* as after rb and re */
        advance(&b1, &rb);
        advance(&e1, &re);
        bin_add(bin, &off, one, len = reading_bytes(&rb, one));           /* 0 accepted (BIP-340) */
        bin_add(bin, &off, one, len = reading_bytes(&re, one));           /* 1 accepted (ECDSA) */
        x = next_reading(&b1), sign(&x, &b);
        len = reading_bytes(&x, one);
        wn_put_u64(one + 33, 0);
        bin_add(bin, &off, one, len);                                     /* 2 enrolled id, bad_sequence */
        memcpy(one + 1, no_key, 32);
        bin_add(bin, &off, one, len);                                     /* 3 no key and seq 0: bad_meter_id */
        wn_put_u64(one + 33, x.seq);
        bin_add(bin, &off, one, len);                                     /* 4 no key: bad_meter_id */
        x = next_reading(&stranger), sign(&x, &stranger);
        bin_add(bin, &off, one, len = reading_bytes(&x, one));            /* 5 unknown_meter */
        x = next_reading(&b1), sign(&x, &b), x.sig[7] ^= 1;
        bin_add(bin, &off, one, len = reading_bytes(&x, one));            /* 6 bad_signature (BIP-340) */
        x = next_reading(&e1), sign(&x, &e), x.sig[40] ^= 1;
        bin_add(bin, &off, one, len = reading_bytes(&x, one));            /* 7 bad_signature (ECDSA) */
        x = next_reading(&e1);
        cr_assert_eq(wn_reading_sign(&x, e.sk), WN_READING_OK);
        bin_add(bin, &off, one, len = reading_bytes(&x, one));            /* 8 BIP-340 from an ECDSA meter */
        resp_t r = http("POST", "/v1/readings", "application/vnd.waternotary.readings", bin, off);
        cr_assert_eq(r.status, 200, "round %d: %s", round, r.body);
        cJSON *o = json_of(&r);
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "results");
        cr_assert_eq(cJSON_GetArraySize(res), 9, "%s", r.body);
        expect_result(res, 0, "accepted", NULL, NULL);
        expect_result(res, 1, "accepted", NULL, NULL);
        expect_result(res, 2, "rejected", "malformed_reading", "bad_sequence");
        expect_result(res, 3, "rejected", "malformed_reading", "bad_meter_id");
        expect_result(res, 4, "rejected", "malformed_reading", "bad_meter_id");
        expect_result(res, 5, "rejected", "unknown_meter", NULL);
        expect_result(res, 6, "rejected", "bad_signature", NULL);
        expect_result(res, 7, "rejected", "bad_signature", NULL);
        expect_result(res, 8, "rejected", "bad_signature", NULL);
        wn_receipt rc;
        check_receipt(cJSON_GetArrayItem(res, 0), &rb, &rc);
        check_receipt(cJSON_GetArrayItem(res, 1), &re, &rc);
        cJSON_Delete(o);
        free(r.body);
        b = b1, e = e1;
        accept_next(&b); /* and as JSON */
        accept_next(&e);
    }
    cr_assert_eq(ledger_size(), 2 + 3 * 4);
    node_kill(SIGTERM);
}
