/* test_calibration.c — meter calibration on the money path (docs/THREATS.md, "Money path",
 * "Uncalibrated meter"): a real wn-node, the real `wn` programs. The registrar records each
 * meter's 检定/校准 certificate and validity as a calibration record (ledger entry 0x0A); under
 * the Jiaxing policy (require_calibration) a claim whose readings fall outside every
 * validity of their meter is refused, online and offline byte for byte the same; a
 * re-calibration record makes it eligible again with the honest figures. The node refuses
 * records of unknown meters, signed by another key than the registrar's, or with an empty
 * validity. Also the record's codec: round trip, tampering, strict JSON. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "protocol/calibration.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "savings/claim.h"
#include "tests/support/enterprise.h"
#include "tests/support/feeder.h"
#include "tests/support/plant.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testclock.h"
#include "tests/support/testutil.h"

#define HOUR 3600000ULL
#define DAY (24 * HOUR)
#define B0 1735689600000ULL /* 2025-01-01: baseline, 30 days */
#define R0 (B0 + 59 * DAY)  /* 2025-03-01: reporting, 30 days */
#define PERIOD (30 * DAY)
#define ENT_A "91330400MA2B00000L"
#define CERT_ORG WN_TEST_CERTIFIER_CODE
#define ACC_FROM 1704067200000ULL /* 2024-01-01 */
#define ACC_TO 1798761600000ULL   /* 2027-01-01 */

static char *tmp;
static wn_test_node node;
static uint8_t reg_sk[32], auth_sk[32], a_sk[32], cert_sk[32], other_sk[32];
static char reg_pub[65], auth_pub[65], notary_pub[65], cert_pub[65];
static char auth_key_f[4300], policy_file[4300];

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

typedef wn_test_meter meter;

static void key(uint8_t sk[32], char *file, const char *name, char pub[65])
{
    uint8_t x[32];
    char f[4300];
    snprintf(f, sizeof f, "%s/%s", tmp, name);
    cr_assert(wn_keyfile_create(f, sk, x));
    if (file) snprintf(file, 4300, "%s", f);
    if (pub) wn_hex_encode(pub, x, 32);
}


/* The shipped Jiaxing policy (require_calibration true) with a 30-day baseline. */
static void write_policy(void)
{
    size_t len;
    char *text = wn_test_read_file("policies/jiaxing-2024.json", &len);
    cr_assert_not_null(text, "run the tests from the repository root");
    cr_assert(strstr(text, "\"require_calibration\": true,"), "the shipped policy requires calibration");
    const char *base = "\"min_baseline_ms\": 31536000000,";
    char *at = strstr(text, base);
    cr_assert_not_null(at);
    snprintf(policy_file, sizeof policy_file, "%s/jiaxing.json", tmp);
    FILE *f = fopen(policy_file, "w");
    cr_assert_not_null(f);
    fwrite(text, 1, (size_t)(at - text), f);
    fputs("\"min_baseline_ms\":  2592000000,", f);
    fputs(at + strlen(base), f);
    fclose(f);
    free(text);
}

static void setup(void)
{
    wn_test_prng_seed(23);
    tmp = wn_test_tmpdir("calibration");
    cr_assert_not_null(tmp);
    write_policy();
    key(reg_sk, NULL, "registrar.key", reg_pub);
    key(auth_sk, auth_key_f, "authority.key", auth_pub);
    key(a_sk, NULL, "a.key", NULL);
    key(cert_sk, NULL, "certifier.key", cert_pub);
    key(other_sk, NULL, "other.key", NULL);
    /* the node commits each day's readings as it ends (testclock.h), from before the baseline */
    cr_assert(wn_test_clock_use(tmp, B0 - 29 * DAY));
    wn_test_node_init(&node, tmp);
    const char *args[] = {"--registrar", reg_pub, "--authority", auth_pub, "--checkpoint-ms", "20", NULL};
    if (!wn_test_node_start(&node, args)) {
        char *log = wn_test_read_file(node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
    char nk[4300];
    snprintf(nk, sizeof nk, "%s/notary.key", node.data);
    uint8_t sk[32], pk[32];
    cr_assert(wn_keyfile_read(nk, sk));
    cr_assert(wn_seckey_xonly(pk, sk));
    wn_hex_encode(notary_pub, pk, 32);
    cr_assert_eq(wn_test_enterprise_post(node.url, reg_sk, ENT_A, 1, &a_sk, 1, NULL, 0), 200);
    cr_assert_eq(wn_test_accreditation_post(node.url, reg_sk, CERT_ORG, 1, &cert_sk, 1, "water_saving", ACC_FROM, ACC_TO,
                                            NULL, 0), 200);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    wn_test_clock_off();
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(calibration, .timeout = 180);

static void enrol(const uint8_t id[32], unsigned point, const char *enterprise, const char *gateway)
{
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    memcpy(e.pubkey + 1, id, 32);
    e.time_ms = B0 - 30 * DAY;
    e.point = (uint8_t)point;
    e.tier = 1;
    e.source = WN_SOURCE_TAP;
    strcpy(e.enterprise, enterprise);
    strcpy(e.calibration, point == WN_POINT_CERTIFIER ? "CMA 2023-11-0042" : "CAL-2024-7");
    if (gateway) {
        e.attestation = WN_ATTEST_GATEWAY;
        strcpy(e.gateway, gateway);
    }
    cr_assert_eq(wn_enrolment_sign(&e, reg_sk), WN_ENROL_OK);
    char json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_enrolment_to_json(&e, json, sizeof json, &len), WN_ENROL_OK);
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "POST", "/v1/enrolments", "application/json", json, len, &r));
    cr_assert_eq(r.status, 200, "%s", r.body);
    wn_test_resp_free(&r);
}

/* Hours first .. first+hours-1 of a period from `from`, the totaliser at v0 + h * rate,
 * posted as one batch committed a minute after its last reading (testclock.h): honest data,
 * committed as measured. */
static void post_hours(meter *m, uint64_t from, long first, long hours, int64_t v0, int64_t rate)
{
    cr_assert(wn_test_post_hours(node.url, m, from, first, hours, v0, rate), "readings refused (see stderr)");
}

/* The steel plant of test_money.c: 350 m3/h in January, 290 m3/h from March on, 72000 t a
 * month: a saving of 43,200 m3 in March. Not calibrated: the tests register the records. */
static void plant(meter *m)
{
    memset(m, 0, sizeof *m);
    do wn_test_prng_bytes(m->sk, 32); while (!wn_seckey_valid(m->sk));
    cr_assert(wn_seckey_xonly(m->id, m->sk));
    enrol(m->id, WN_POINT_INTAKE, ENT_A, NULL);
    const long hours = 30 * 24 + 3; /* each day committed as it ends, as in test_identity.c */
    for (long d = 0; d < hours; d += 24)
        post_hours(m, B0 - HOUR, d, hours - d < 24 ? hours - d : 24, 5000000000LL, 350000000);
    for (long d = 0; d < hours; d += 24)
        post_hours(m, R0 - HOUR, d, hours - d < 24 ? hours - d : 24, 900000000000LL, 290000000);
}

static void enrol_certifier(void)
{
    uint8_t id[32];
    cr_assert(wn_seckey_xonly(id, cert_sk));
    enrol(id, WN_POINT_CERTIFIER, CERT_ORG, NULL);
}

/* A claim naming `enterprise` over meter m, signed with ent_sk and certified with csk. */
static void claim_file(char *path, const char *name, const meter *m, const char *enterprise, const uint8_t ent_sk[32],
                       const uint8_t csk[32])
{
    wn_claim c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "JX-%s", name);
    strcpy(c.enterprise, enterprise);
    strcpy(c.project, "JX-PRJ-2025-007");
    strcpy(c.output_unit, "t crude steel");
    c.investment_fen = 250000000;
    c.baseline = (wn_claim_period){.from_ms = B0, .to_ms = B0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.reporting = (wn_claim_period){.from_ms = R0, .to_ms = R0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.baseline.meters[0] = (wn_claim_meter){.point = WN_POINT_INTAKE, .source = WN_SOURCE_TAP};
    memcpy(c.baseline.meters[0].meter, m->id, 32);
    c.reporting.meters[0] = c.baseline.meters[0];
    c.has_project_record = 1;
    strcpy(c.project_record.id, c.project);
    strcpy(c.project_record.enterprise, enterprise);
    strcpy(c.project_record.description, "Closed-loop cooling");
    c.project_record.investment_fen = 250000000;
    c.project_record.commissioned_ms = B0 + 45 * DAY;
    cr_assert(wn_project_sign(&c.project_record, reg_sk));
    cr_assert(wn_claim_sign(&c, ent_sk));
    cr_assert(wn_claim_certify(&c, csk, R0 + PERIOD + 10 * DAY, "ZJ-CMA-2025-117"));
    snprintf(path, 4300, "%s/%s.json", tmp, name);
    char *json = wn_claim_to_json(&c);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
}

static result evaluate(const char *claim, const char *policy, int json)
{
    return wn("claim", "evaluate", claim, "--policy", policy, "--node", node.url, "--notary-pub", notary_pub,
              json ? "--json" : NULL, NULL);
}

/* The detail of the first reason `code` in an evaluation's JSON (malloc'd), or NULL. */
static char *reason_detail(const char *json, const char *code)
{
    cJSON *j = cJSON_Parse(json);
    cr_assert_not_null(j, "%s", json);
    char *d = NULL;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "reasons");
    for (const cJSON *e = rs ? rs->child : NULL; e && !d; e = e->next)
        if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring, code) == 0)
            d = strdup(cJSON_GetObjectItemCaseSensitive(e, "detail")->valuestring);
    cJSON_Delete(j);
    return d;
}

static double num(const char *json, const char *a, const char *b)
{
    cJSON *j = cJSON_Parse(json);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, a), b);
    cr_assert(cJSON_IsNumber(x), "%s.%s in %s", a, b, json);
    double v = x->valuedouble;
    cJSON_Delete(j);
    return v;
}

/* The honest figures of test_money.c: 43,200 m3 saved in March, 525,600 m3 a year, 200,000 CNY. */
static void honest_figures(const char *json)
{
    cr_assert(strstr(json, "\"eligible\":true"), "%s", json);
    cr_assert_eq(num(json, "saving", "saving_l"), 43200000.0);
    cr_assert_eq(num(json, "saving", "annual_l"), 525600000.0);
    cr_assert_eq(num(json, "decision", "subsidy_fen"), 20000000.0);
}

static void settle(void) { cr_assert(wn_test_settle(node.url), "no checkpoint covers the ledger after 30 s"); }

/* Evaluates claim online and offline from bundle files (with the meter's calibration
 * bundle when the node has one); both must give the same bytes. Returns: the online JSON. */
static result evaluate_both(const char *claim, const meter *m)
{
    settle();
    result on = evaluate(claim, policy_file, 0), onj = evaluate(claim, policy_file, 1);
    char hex[65], bb[4300], rb[4300], cb[4300], eb[4300], ab[4300], kb[4300], pc[4300];
    wn_hex_encode(hex, m->id, 32);
    snprintf(bb, sizeof bb, "%s/base.bundle", tmp);
    snprintf(rb, sizeof rb, "%s/rep.bundle", tmp);
    snprintf(cb, sizeof cb, "%s/cert.bundle", tmp);
    snprintf(eb, sizeof eb, "%s/ent.bundle", tmp);
    snprintf(ab, sizeof ab, "%s/acc.bundle", tmp);
    snprintf(kb, sizeof kb, "%s/cal.bundle", tmp);
    snprintf(pc, sizeof pc, "%s/project-certs.json", tmp);
    const char *f[][4] = {{hex, "2025-01-01T00:00:00.000Z", "2025-01-31T00:00:00.000Z", bb},
                          {hex, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", rb},
                          {cert_pub, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", cb}};
    for (int i = 0; i < 3; i++) {
        result r = wn("bundle", "--node", node.url, "--meter", f[i][0], "--from", f[i][1], "--to", f[i][2], "--out",
                      f[i][3], "--notary-pub", notary_pub, NULL);
        cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
        result_free(&r);
    }
    result r = wn("enterprise", "bundle", "--node", node.url, "--code", ENT_A, "--notary-pub", notary_pub, "--out", eb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    r = wn("accreditation", "bundle", "--node", node.url, "--code", CERT_ORG, "--notary-pub", notary_pub, "--out", ab, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    r = wn("calibration", "bundle", "--node", node.url, "--meter", hex, "--notary-pub", notary_pub, "--out", kb, NULL);
    int have_cal = r.code == 0;
    result_free(&r);
    r = wn("cert", "project", "JX-PRJ-2025-007", "--node", node.url, "--out", pc, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    result off = wn("claim", "evaluate", claim, "--policy", policy_file, "--notary-pub", notary_pub, "--certificates", pc,
                    "--bundle", eb, rb, ab, cb, bb, have_cal ? kb : NULL, NULL);
    result offj = wn("claim", "evaluate", claim, "--policy", policy_file, "--notary-pub", notary_pub, "--json",
                     "--certificates", pc, "--bundle", bb, rb, cb, eb, ab, have_cal ? kb : NULL, NULL);
    cr_assert_eq(off.code, on.code, "%s %s", off.out, off.err);
    cr_assert_str_eq(off.out, on.out, "offline and online evaluations differ");
    cr_assert_str_eq(offj.out, onj.out, "offline and online evaluations differ (JSON)");
    result_free(&on);
    result_free(&off);
    result_free(&offj);
    return onj;
}

/* ---- the record's codec ---- */

static wn_calibration sample(void)
{
    wn_calibration c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 32; i++) c.meter[i] = (uint8_t)(0x11 * (i % 15) + 1);
    strcpy(c.reference, "浙计检字 2025-0117 号");
    strcpy(c.body, "嘉兴市计量检定测试院");
    c.calibrated_ms = B0;
    c.valid_until_ms = B0 + 365 * DAY;
    return c;
}

Test(calibration_codec, round_trip_binary_and_json)
{
    wn_calibration c = sample(), d;
    uint8_t sk[32] = {7};
    cr_assert_eq(wn_calibration_sign(&c, sk), WN_ENT_OK);
    cr_assert_eq(wn_calibration_verify(&c), WN_ENT_OK);
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_calibration_encode(&c, buf, sizeof buf, &len), WN_ENT_OK);
    cr_assert_eq(len, 1 + 32 + 1 + strlen(c.reference) + 1 + strlen(c.body) + 16 + 32 + 64);
    cr_assert_eq(buf[0], 1);
    cr_assert_eq(memcmp(buf + 1, c.meter, 32), 0);
    cr_assert_eq(wn_calibration_decode(&d, buf, len), WN_ENT_OK);
    cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
    char json[WN_CALIBRATION_JSON_MAX];
    cr_assert_eq(wn_calibration_to_json(&c, json, sizeof json, &len), WN_ENT_OK);
    cr_assert(strstr(json, "\"calibrated_at\":\"2025-01-01T00:00:00.000Z\""), "%s", json);
    char detail[256];
    cJSON *j = wn_json_parse_strict(json, len, detail, sizeof detail);
    cr_assert_not_null(j, "%s", detail);
    cr_assert_eq(wn_calibration_from_cjson(&d, j, detail, sizeof detail), WN_ENT_OK, "%s", detail);
    cJSON_Delete(j);
    cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
    cr_assert_eq(wn_calibration_verify(&d), WN_ENT_OK);
    cr_assert(wn_calibration_covers(&c, B0) && !wn_calibration_covers(&c, B0 + 365 * DAY) && !wn_calibration_covers(&c, B0 - 1));
}

Test(calibration_codec, tampering_and_strictness)
{
    wn_calibration c = sample(), d;
    uint8_t sk[32] = {7};
    cr_assert_eq(wn_calibration_sign(&c, sk), WN_ENT_OK);
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_calibration_encode(&c, buf, sizeof buf, &len), WN_ENT_OK);
    for (size_t i = 0; i < len; i++) { /* every byte flipped: refused by the decoder or the signature */
        buf[i] ^= 0x01;
        int rc = wn_calibration_decode(&d, buf, len);
        cr_assert(rc != WN_ENT_OK || wn_calibration_verify(&d) != WN_ENT_OK, "byte %zu flipped was accepted", i);
        buf[i] ^= 0x01;
    }
    cr_assert_eq(wn_calibration_decode(&d, buf, len - 1), WN_ENT_EFORMAT);
    buf[len] = 0;
    cr_assert_eq(wn_calibration_decode(&d, buf, len + 1), WN_ENT_EFORMAT);
    /* rules: an empty validity, control characters, an empty reference */
    wn_calibration e = sample();
    e.valid_until_ms = e.calibrated_ms;
    cr_assert_eq(wn_calibration_sign(&e, sk), WN_ENT_EFORMAT);
    e = sample();
    strcpy(e.reference, "CAL\n7");
    cr_assert_eq(wn_calibration_sign(&e, sk), WN_ENT_EFORMAT);
    e = sample();
    e.reference[0] = 0;
    cr_assert_eq(wn_calibration_sign(&e, sk), WN_ENT_EFORMAT);
    /* JSON: unknown and missing members */
    char json[WN_CALIBRATION_JSON_MAX], detail[256];
    cr_assert_eq(wn_calibration_to_json(&c, json, sizeof json, &len), WN_ENT_OK);
    char extra[WN_CALIBRATION_JSON_MAX + 32];
    snprintf(extra, sizeof extra, "{\"extra\":1,%s", json + 1);
    cJSON *j = cJSON_Parse(extra);
    cr_assert_eq(wn_calibration_from_cjson(&d, j, detail, sizeof detail), WN_ENT_EJSON);
    cJSON_DeleteItemFromObject(j, "extra");
    cJSON_DeleteItemFromObject(j, "body");
    cr_assert_eq(wn_calibration_from_cjson(&d, j, detail, sizeof detail), WN_ENT_EJSON);
    cJSON_Delete(j);
}

/* ---- the node ---- */

/* `wn claim evaluate` offline with a tampered calibration bundle: refused whole. */
static void meter_claim_offline_refuses_tampered(const meter *m, const char *kb)
{
    char claim[4300];
    claim_file(claim, "tampered", m, ENT_A, a_sk, cert_sk);
    result r = wn("claim", "evaluate", claim, "--policy", policy_file, "--notary-pub", notary_pub, "--bundle", kb, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert_not_null(strstr(r.err, "INVALID calibration bundle"), "%s", r.err);
    result_free(&r);
}

static void post_raw(const char *json, unsigned want, const char *error)
{
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "POST", "/v1/calibrations", "application/json", json, strlen(json), &r));
    cr_assert_eq(r.status, want, "%.400s", r.body);
    if (error) cr_assert(strstr((char *)r.body, error), "%.400s", r.body);
    wn_test_resp_free(&r);
}

Test(calibration, node_refuses_foreign_signer_unknown_meter_empty_validity, .init = setup, .fini = teardown)
{
    meter m;
    memset(&m, 0, sizeof m);
    do wn_test_prng_bytes(m.sk, 32); while (!wn_seckey_valid(m.sk));
    cr_assert(wn_seckey_xonly(m.id, m.sk));
    char body[1024];
    /* not enrolled yet */
    cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, m.id, "CAL-1", B0, B0 + DAY, body, sizeof body), 403);
    cr_assert(strstr(body, "\"unknown_meter\""), "%s", body);
    enrol(m.id, WN_POINT_INTAKE, ENT_A, NULL);
    /* signed by a key that is not the registrar's */
    cr_assert_eq(wn_test_calibration_post(node.url, other_sk, m.id, "CAL-1", B0, B0 + DAY, body, sizeof body), 403);
    cr_assert(strstr(body, "\"bad_registrar_signature\""), "%s", body);
    /* the registrar's key named, another key's signature */
    wn_calibration c;
    memset(&c, 0, sizeof c);
    memcpy(c.meter, m.id, 32);
    strcpy(c.reference, "CAL-1");
    strcpy(c.body, "Jiaxing Institute of Metrology");
    c.calibrated_ms = B0;
    c.valid_until_ms = B0 + DAY;
    cr_assert_eq(wn_calibration_sign(&c, other_sk), WN_ENT_OK);
    cr_assert(wn_seckey_xonly(c.registrar, reg_sk));
    char json[WN_CALIBRATION_JSON_MAX];
    cr_assert_eq(wn_calibration_to_json(&c, json, sizeof json, NULL), WN_ENT_OK);
    post_raw(json, 403, "\"bad_registrar_signature\"");
    /* valid_until not after calibrated_at: a properly signed record edited */
    cr_assert_eq(wn_calibration_sign(&c, reg_sk), WN_ENT_OK);
    cr_assert_eq(wn_calibration_to_json(&c, json, sizeof json, NULL), WN_ENT_OK);
    char *u = strstr(json, "\"valid_until\":\"2025-01-02");
    cr_assert_not_null(u, "%s", json);
    memcpy(u + strlen("\"valid_until\":\""), "2024-12-31", 10);
    post_raw(json, 400, "\"malformed_record\"");
    /* the honest record is accepted, a second one with the same certificate is not */
    cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, m.id, "CAL-1", B0, B0 + DAY, body, sizeof body), 200, "%s", body);
    cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, m.id, "CAL-1", B0, B0 + 2 * DAY, body, sizeof body), 409);
    cr_assert(strstr(body, "\"stale_record\""), "%s", body);
    /* the ledger holds it as entry kind 0x0A, which `wn audit` re-checks */
    settle();
    char hex[65], path[128];
    wn_hex_encode(hex, m.id, 32);
    snprintf(path, sizeof path, "/v1/calibrations/bundle?meter=%s", hex);
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cr_assert(strstr((char *)r.body, "waternotary/calibration-bundle@v1"));
    wn_test_resp_free(&r);
    result a = wn("audit", "--node", node.url, "--notary-pub", notary_pub, "--registrar", reg_pub, "--authority", auth_pub,
                  NULL);
    cr_assert_eq(a.code, 0, "%s %s", a.out, a.err);
    cr_assert_not_null(strstr(a.out, "1 calibration records"), "%s", a.out);
    result_free(&a);
    /* and an offline bundle changed by one byte is refused whole */
    char kb[4300];
    snprintf(kb, sizeof kb, "%s/cal.bundle", tmp);
    a = wn("calibration", "bundle", "--node", node.url, "--meter", hex, "--notary-pub", notary_pub, "--out", kb, NULL);
    cr_assert_eq(a.code, 0, "%s", a.err);
    result_free(&a);
    size_t len;
    char *t = wn_test_read_file(kb, &len), *at = strstr(t, "\"entry\":\"") + 9 + 60;
    *at = *at == 'A' ? 'B' : 'A';
    FILE *f = fopen(kb, "w");
    fwrite(t, 1, len, f);
    fclose(f);
    free(t);
    meter_claim_offline_refuses_tampered(&m, kb);
}

Test(calibration, lapse_refused_then_recalibration_eligible, .init = setup, .fini = teardown)
{
    meter m;
    plant(&m);
    enrol_certifier();
    char claim[4300], body[1024];
    claim_file(claim, "lapse", &m, ENT_A, a_sk, cert_sk);

    /* no record at all: meter_not_calibrated, the meter named */
    result r = evaluate_both(claim, &m);
    cr_assert(strstr(r.out, "\"eligible\":false"), "%s", r.out);
    char *d = reason_detail(r.out, "meter_not_calibrated");
    cr_assert_not_null(d, "%s", r.out);
    char hex[65];
    wn_hex_encode(hex, m.id, 8);
    cr_assert(strstr(d, hex), "%s", d);
    free(d);
    result_free(&r);

    /* calibrated from before the baseline to 10 days into the reporting period: lapsed */
    cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, m.id, "JJG162-2024-0031", B0 - 60 * DAY, R0 + 10 * DAY, body,
                                          sizeof body), 200, "%s", body);
    r = evaluate_both(claim, &m);
    cr_assert(strstr(r.out, "\"eligible\":false"), "%s", r.out);
    cr_assert_null(reason_detail(r.out, "meter_not_calibrated"), "%s", r.out);
    d = reason_detail(r.out, "calibration_lapsed");
    cr_assert_not_null(d, "%s", r.out);
    cr_assert(strstr(d, "during [2025-03-11T00:00:00.000Z, "), "%s", d); /* the uncovered interval starts at the lapse */
    cr_assert(strstr(d, "(reporting)"), "%s", d);
    free(d);
    result_free(&r);

    /* the certificate is refused too: `wn cert issue` evaluates first */
    char until[25];
    wn_time_format(until, (uint64_t)time(NULL) * 1000 + 365 * DAY);
    result ci = wn("cert", "issue", claim, "--purpose", "subsidy", "--policy", policy_file, "--authority-key", auth_key_f,
                   "--node", node.url, "--notary-pub", notary_pub, "--valid-until", until, NULL);
    cr_assert_neq(ci.code, 0, "%s", ci.out);
    result_free(&ci);

    /* re-calibration: a new record from the lapse on; the honest figures come back */
    cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, m.id, "JJG162-2025-0412", R0 + 10 * DAY, R0 + 375 * DAY, body,
                                          sizeof body), 200, "%s", body);
    r = evaluate_both(claim, &m);
    honest_figures(r.out);
    result_free(&r);
}
