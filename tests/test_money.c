/* test_money.c — the money path against a dishonest enterprise (docs/THREATS.md, "Money
 * path"): a real wn-node, the real `wn` programs. One retrofit project is subsidised once,
 * however its time is cut into reporting periods: the second subsidy is refused by the
 * evaluator online and offline (byte for byte the same) and by `wn cert issue`, and a
 * certificate signed by the authority itself is refused by the node; a certificate carries
 * the saving measured in its reporting period, so consecutive sales never add up to more
 * than was saved. Beside each fraud the honest claim keeps its figures. Also the project
 * record and the version-2 certificate codecs. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/certificate.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "savings/claim.h"
#include "savings/project.h"
#include "tests/support/enterprise.h"
#include "tests/support/feeder.h"
#include "tests/support/plant.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testclock.h"
#include "tests/support/testutil.h"

#define HOUR 3600000ULL
#define DAY (24 * HOUR)
#define B0 1735689600000ULL   /* 2025-01-01: baseline, 30 days */
#define R0 (B0 + 59 * DAY)    /* 2025-03-01: first reporting period, 30 days */
#define R1 (R0 + 30 * DAY)    /* 2025-03-31: the next one, 30 days */
#define PERIOD (30 * DAY)
#define ENTERPRISE "91330400MA2B00000L" /* GB 32100-2015: L is its check character */
#define PROJECT "JX-PRJ-2025-007"
/* The Jiaxing policy with a 30-day baseline (the shipped one asks for 12 months), written
 * into the test's folder at setup so the scenarios stay a month long. */
#define POLICY policy_file
static char policy_file[4300];

static char *tmp;
static wn_test_node node;
static uint8_t reg_sk[32], auth_sk[32], ent_sk[32], cert_sk[32];
static char reg_pub[65], auth_pub[65], notary_pub[65], cert_pub[65];
static char ent_key_f[4300], auth_key_f[4300], cert_key_f[4300], reg_key_f[4300];

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

static void key(uint8_t sk[32], char *file, const char *name, char pub[65])
{
    uint8_t x[32];
    snprintf(file, 4300, "%s/%s", tmp, name);
    cr_assert(wn_keyfile_create(file, sk, x));
    if (pub) wn_hex_encode(pub, x, 32);
}

static void setup_keys(void)
{
    wn_test_prng_seed(12);
}

/* Writes the shipped Jiaxing policy with a 30-day baseline to policy_file. */
static void write_policy(void)
{
    size_t len;
    char *text = wn_test_read_file("policies/jiaxing-2024.json", &len);
    cr_assert_not_null(text, "run the tests from the repository root");
    char *at = strstr(text, "\"min_baseline_ms\": 31536000000,");
    cr_assert_not_null(at, "the shipped policy asks for a 12-month baseline");
    snprintf(policy_file, sizeof policy_file, "%s/jiaxing-30-day-baseline.json", tmp);
    FILE *f = fopen(policy_file, "w");
    cr_assert_not_null(f);
    fwrite(text, 1, (size_t)(at - text), f);
    fputs("\"min_baseline_ms\":  2592000000,", f);
    fputs(at + strlen("\"min_baseline_ms\": 31536000000,"), f);
    fclose(f);
    free(text);
}

static void setup(void)
{
    tmp = wn_test_tmpdir("money");
    cr_assert_not_null(tmp);
    write_policy();
    key(reg_sk, reg_key_f, "registrar.key", reg_pub);
    key(auth_sk, auth_key_f, "authority.key", auth_pub);
    key(ent_sk, ent_key_f, "enterprise.key", NULL);
    key(cert_sk, cert_key_f, "certifier.key", cert_pub);
    wn_test_node_init(&node, tmp);
    /* the node commits each day's readings as it ends (testclock.h), from before the baseline */
    cr_assert(wn_test_clock_use(tmp, B0 - 29 * DAY));
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
    /* the claimant's enterprise record: the policy pays only a registered enterprise's keys */
    cr_assert_eq(wn_test_enterprise_post(node.url, reg_sk, ENTERPRISE, 1, &ent_sk, 1, NULL, 0), 200);
    /* the certifier's accreditation: the policy counts only an accredited body's certification */
    cr_assert_eq(wn_test_accreditation_post(node.url, reg_sk, WN_TEST_CERTIFIER_CODE, 1, &cert_sk, 1, "water_saving",
                                            1704067200000ULL, 1798761600000ULL, NULL, 0), 200);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    wn_test_clock_off();
    wn_test_rmtree(tmp);
    free(tmp);
}

/* ---- the node's inputs ---- */

static void post_json(const char *path, const char *json, unsigned want)
{
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "POST", path, "application/json", json, strlen(json), &r));
    cr_assert_eq(r.status, want, "%s", r.body);
    wn_test_resp_free(&r);
}

static void enrol(const uint8_t id[32], unsigned point)
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
    strcpy(e.enterprise, point == WN_POINT_CERTIFIER ? WN_TEST_CERTIFIER_CODE : ENTERPRISE);
    strcpy(e.calibration, point == WN_POINT_CERTIFIER ? "CMA 2023-11-0042" : "CAL-2024-7");
    cr_assert_eq(wn_enrolment_sign(&e, reg_sk), WN_ENROL_OK);
    char json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_enrolment_to_json(&e, json, sizeof json, &len), WN_ENROL_OK);
    post_json("/v1/enrolments", json, 200);
    if (point != WN_POINT_CERTIFIER) /* the policy counts only readings of a calibrated meter */
        cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, id, "JJG162-2024-0031", WN_TEST_CAL_FROM,
                                              WN_TEST_CAL_UNTIL, NULL, 0), 200);
}

typedef wn_test_meter meter;

static void post_day(meter *m, uint64_t from, long first, long hours, int64_t v0, int64_t rate);

/* Hourly readings from `from` for `hours` hours, the totaliser growing by rate mL an hour,
 * posted a day at a time, each day committed a minute after its last reading (testclock.h). */
static void post_hours(meter *m, uint64_t from, long hours, int64_t v0, int64_t rate)
{
    for (long d = 0; d < hours; d += 24) post_day(m, from, d, hours - d < 24 ? hours - d : 24, v0, rate);
}

static void post_day(meter *m, uint64_t from, long first, long hours, int64_t v0, int64_t rate)
{
    cr_assert(wn_test_post_hours(node.url, m, from, first, hours, v0, rate), "readings refused (see stderr)");
}

/* The steel plant of test_claims.c: 350 m3/h in the baseline (January), 290 m3/h from
 * March on, 72000 t in every 30 days; reporting periods March and April (R0, R1). */
static void plant(meter *m)
{
    memset(m, 0, sizeof *m);
    do wn_test_prng_bytes(m->sk, 32); while (!wn_seckey_valid(m->sk));
    cr_assert(wn_seckey_xonly(m->id, m->sk));
    enrol(m->id, WN_POINT_INTAKE);
    uint8_t cid[32];
    cr_assert(wn_seckey_xonly(cid, cert_sk));
    enrol(cid, WN_POINT_CERTIFIER);
    post_hours(m, B0 - HOUR, 30 * 24 + 3, 5000000000LL, 350000000);
    post_hours(m, R0 - HOUR, 60 * 24 + 3, 900000000000LL, 290000000);
}

/* A claim of the plant's project over reporting period [r0, r0 + 30 days), signed and
 * certified, carrying the registrar's project record. */
static void claim_file(char *path, const meter *m, const char *id, uint64_t r0)
{
    wn_claim c;
    memset(&c, 0, sizeof c);
    strcpy(c.id, id);
    strcpy(c.enterprise, ENTERPRISE);
    strcpy(c.project, PROJECT);
    strcpy(c.output_unit, "t crude steel");
    c.investment_fen = 250000000;
    c.baseline = (wn_claim_period){.from_ms = B0, .to_ms = B0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.reporting = (wn_claim_period){.from_ms = r0, .to_ms = r0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.baseline.meters[0] = (wn_claim_meter){.point = WN_POINT_INTAKE, .source = WN_SOURCE_TAP};
    memcpy(c.baseline.meters[0].meter, m->id, 32);
    c.reporting.meters[0] = c.baseline.meters[0];
    c.has_project_record = 1;
    strcpy(c.project_record.id, PROJECT);
    strcpy(c.project_record.enterprise, ENTERPRISE);
    strcpy(c.project_record.description, "Closed-loop cooling for blast furnace No. 2");
    c.project_record.investment_fen = 250000000;
    c.project_record.commissioned_ms = B0 + 45 * DAY;
    cr_assert(wn_project_sign(&c.project_record, reg_sk));
    cr_assert(wn_claim_sign(&c, ent_sk));
    cr_assert(wn_claim_certify(&c, cert_sk, R1 + PERIOD + 10 * DAY, "ZJ-CMA-2025-117"));
    snprintf(path, 4300, "%s/%s.json", tmp, id);
    char *json = wn_claim_to_json(&c);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
}

static result evaluate(const char *claim, int json)
{
    return wn("claim", "evaluate", claim, "--policy", POLICY, "--node", node.url, "--notary-pub", notary_pub,
              json ? "--json" : NULL, NULL);
}

static int has_reason(const char *json, const char *code)
{
    cJSON *j = cJSON_Parse(json);
    cr_assert_not_null(j, "%s", json);
    int found = 0;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "reasons");
    for (const cJSON *e = rs ? rs->child : NULL; e; e = e->next)
        found |= strcmp(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring, code) == 0;
    cJSON_Delete(j);
    return found;
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

/* Issues a certificate valid for a year from now. Returns: its index, or -1 (out kept). */
static long issue(const char *claim, const char *purpose, result *out)
{
    char until[25];
    wn_time_format(until, (uint64_t)time(NULL) * 1000 + 365 * DAY);
    *out = wn("cert", "issue", claim, "--purpose", purpose, "--policy", POLICY, "--authority-key", auth_key_f, "--node",
              node.url, "--notary-pub", notary_pub, "--valid-until", until, "--json", NULL);
    if (out->code != 0) return -1;
    cJSON *j = cJSON_Parse(out->out);
    cr_assert_not_null(j, "%s", out->out);
    long index = (long)cJSON_GetObjectItemCaseSensitive(j, "index")->valuedouble;
    cJSON_Delete(j);
    return index;
}

/* The certificate at index, from the node. */
static wn_certificate fetch_cert(long index)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/certificates/%ld", index);
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200);
    cJSON *j = cJSON_Parse((char *)r.body);
    wn_test_resp_free(&r);
    wn_certificate c;
    char d[256];
    cr_assert_eq(wn_certificate_from_cjson(&c, cJSON_GetObjectItemCaseSensitive(j, "certificate"), d, sizeof d),
                 WN_CERT_OK, "%s", d);
    cJSON_Delete(j);
    return c;
}

/* ---- codecs ---- */

Test(money, project_record_signed_by_the_registrar, .init = setup_keys)
{
    uint8_t sk[32];
    do wn_test_prng_bytes(sk, 32); while (!wn_seckey_valid(sk));
    wn_project p, q;
    memset(&p, 0, sizeof p);
    strcpy(p.id, PROJECT);
    strcpy(p.enterprise, ENTERPRISE);
    strcpy(p.description, "闭式循环冷却");
    p.investment_fen = 250000000;
    p.commissioned_ms = B0 + 45 * DAY;
    cr_assert(wn_project_sign(&p, sk));
    cr_assert(wn_project_verify(&p));
    cJSON *o = wn_project_to_cjson(&p);
    char d[256] = "";
    cr_assert(wn_project_from_cjson(&q, o, d, sizeof d), "%s", d);
    cJSON_Delete(o);
    cr_assert(wn_project_verify(&q));
    cr_assert_eq(memcmp(&p, &q, sizeof p), 0);
    q.investment_fen++; /* a bigger investment, a bigger subsidy: the signature breaks */
    cr_assert_not(wn_project_verify(&q));
    q = p;
    q.commissioned_ms -= DAY;
    cr_assert_not(wn_project_verify(&q));
    q = p;
    strcpy(q.id, "JX-PRJ-2025-008"); /* the same retrofit under a new id */
    cr_assert_not(wn_project_verify(&q));
    q = p;
    q.id[0] = '\0';
    cr_assert_not(wn_project_sign(&q, sk), "an empty id");
}

Test(money, certificate_v2_carries_the_project, .init = setup_keys)
{
    uint8_t sk[32];
    do wn_test_prng_bytes(sk, 32); while (!wn_seckey_valid(sk));
    wn_certificate c, d;
    memset(&c, 0, sizeof c);
    c.purpose = WN_PURPOSE_SUBSIDY;
    c.time_ms = 1746000000000ULL;
    c.valid_until_ms = c.time_ms + 31536000000ULL;
    c.volume_l = 43200000;
    c.subsidy_fen = 20000000;
    cr_assert(wn_seckey_xonly(c.holder, sk));
    c.cp_size = 99;
    c.baseline_from = B0;
    c.baseline_to = B0 + PERIOD;
    c.reporting_from = R0;
    c.reporting_to = R0 + PERIOD;
    c.n_meters = 1;
    cr_assert(wn_seckey_xonly(c.meters[0], sk));
    strcpy(c.enterprise, ENTERPRISE);
    strcpy(c.policy_id, "p");
    strcpy(c.claim_id, "c");
    strcpy(c.project, PROJECT);
    c.project_subsidies = 1;
    cr_assert_eq(wn_certificate_sign(&c, sk), WN_CERT_OK);
    cr_assert_eq(c.version, 2);
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_certificate_encode(&c, buf, sizeof buf, &len), WN_CERT_OK);
    size_t at = 204 + 32 + 3 + strlen(ENTERPRISE) + 2;
    cr_assert_eq(buf[0], 2);
    cr_assert_eq(buf[at], strlen(PROJECT));
    cr_assert_eq(memcmp(buf + at + 1, PROJECT, strlen(PROJECT)), 0);
    cr_assert_eq(buf[at + 1 + strlen(PROJECT)], 1, "the policy's limit per project");
    cr_assert_eq(len, at + 1 + strlen(PROJECT) + 1 + 96);
    cr_assert_eq(wn_certificate_decode(&d, buf, len), WN_CERT_OK);
    cr_assert_eq(wn_certificate_verify(&d), WN_CERT_OK);
    cr_assert_str_eq(d.project, PROJECT);
    buf[at + 1] ^= 1; /* another project */
    cr_assert_eq(wn_certificate_decode(&d, buf, len), WN_CERT_OK);
    cr_assert_eq(wn_certificate_verify(&d), WN_CERT_ESIG);
    char json[WN_CERTIFICATE_JSON_MAX];
    cr_assert_eq(wn_certificate_to_json(&c, json, sizeof json, NULL), WN_CERT_OK);
    cr_assert_not_null(strstr(json, "\"project\":\"" PROJECT "\",\"project_subsidies\":1"), "%s", json);
    cJSON *j = cJSON_Parse(json);
    char det[256];
    cr_assert_eq(wn_certificate_from_cjson(&d, j, det, sizeof det), WN_CERT_OK, "%s", det);
    cJSON_Delete(j);
    cr_assert_eq(wn_certificate_verify(&d), WN_CERT_OK);
    /* a limit per project without a project is refused */
    c.project[0] = '\0';
    c.version = 0;
    cr_assert_eq(wn_certificate_sign(&c, sk), WN_CERT_EFORMAT);
}

/* ---- frauds ---- */

Test(money, repeat_subsidy_refused_online_offline_and_by_the_node, .init = setup, .fini = teardown, .timeout = 180)
{
    meter m;
    plant(&m);
    char march[4300], april[4300];
    claim_file(march, &m, "JX-2025-0042-03", R0);
    claim_file(april, &m, "JX-2025-0042-04", R1);

    /* the honest claim: eligible, the figures of test_claims.c */
    result r = evaluate(march, 1);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert_eq(num(r.out, "saving", "saving_l"), 43200000.0);
    cr_assert_eq(num(r.out, "saving", "annual_l"), 525600000.0);
    cr_assert_eq(num(r.out, "decision", "subsidy_fen"), 20000000.0);
    result_free(&r);
    result out;
    long first = issue(march, "subsidy", &out);
    cr_assert(first > 0, "%s %s", out.out, out.err);
    result_free(&out);
    wn_certificate paid = fetch_cert(first);
    cr_assert_str_eq(paid.project, PROJECT);
    cr_assert_eq(paid.project_subsidies, 1);
    cr_assert_eq(paid.volume_l, 43200000ULL);

    /* the next month of the same retrofit: refused for the subsidy, still saleable (once a
     * checkpoint covers the certificate, so online and offline rest on one tree) */
    cr_assert(wn_test_settle(node.url));
    result online = evaluate(april, 0), onlinej = evaluate(april, 1);
    cr_assert_eq(online.code, 1, "%s", online.out);
    cr_assert(has_reason(onlinej.out, "project_already_subsidised"), "%s", onlinej.out);
    cr_assert_eq(num(onlinej.out, "decision", "subsidy_fen"), 0.0);
    cr_assert(strstr(onlinej.out, "\"saleable\":true"), "%s", onlinej.out);
    cr_assert_not_null(strstr(online.out, "subsidy certificates the project already holds: 1"), "%s", online.out);

    /* offline from bundles and the project's certificates: the same bytes */
    char hex[65], bb[4300], rb[4300], cb[4300], pc[4300];
    wn_hex_encode(hex, m.id, 32);
    snprintf(bb, sizeof bb, "%s/base.bundle", tmp);
    snprintf(rb, sizeof rb, "%s/rep.bundle", tmp);
    snprintf(cb, sizeof cb, "%s/cert.bundle", tmp);
    snprintf(pc, sizeof pc, "%s/project.json", tmp);
    const char *fetches[][4] = {{hex, "2025-01-01T00:00:00.000Z", "2025-01-31T00:00:00.000Z", bb},
                                {hex, "2025-03-31T00:00:00.000Z", "2025-04-30T00:00:00.000Z", rb},
                                {cert_pub, "2025-03-31T00:00:00.000Z", "2025-04-30T00:00:00.000Z", cb}};
    for (int i = 0; i < 3; i++) {
        r = wn("bundle", "--node", node.url, "--meter", fetches[i][0], "--from", fetches[i][1], "--to", fetches[i][2],
               "--out", fetches[i][3], "--notary-pub", notary_pub, NULL);
        cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
        result_free(&r);
    }
    char eb[4300];
    snprintf(eb, sizeof eb, "%s/enterprise.bundle", tmp);
    r = wn("enterprise", "bundle", "--node", node.url, "--code", ENTERPRISE, "--notary-pub", notary_pub, "--out", eb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    char ab[4300]; /* the certifier's accreditation */
    snprintf(ab, sizeof ab, "%s/accreditation.bundle", tmp);
    r = wn("accreditation", "bundle", "--node", node.url, "--code", WN_TEST_CERTIFIER_CODE, "--notary-pub", notary_pub,
           "--out", ab, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    char kb[4300]; /* the meter's calibration records */
    snprintf(kb, sizeof kb, "%s/calibration.bundle", tmp);
    r = wn("calibration", "bundle", "--node", node.url, "--meter", hex, "--notary-pub", notary_pub, "--out", kb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    r = wn("cert", "project", PROJECT, "--node", node.url, "--out", pc, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("claim", "evaluate", april, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc, "--bundle",
           bb, rb, cb, eb, ab, kb, NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert_str_eq(r.out, online.out, "offline and online evaluations differ");
    result_free(&r);
    /* offline without the project's certificates: no subsidy, for want of proof */
    r = wn("claim", "evaluate", april, "--policy", POLICY, "--notary-pub", notary_pub, "--json", "--bundle", bb, rb, cb, eb, ab,
           kb, NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(has_reason(r.out, "project_history_unknown"), "%s", r.out);
    result_free(&r);
    /* a history file that was tampered with is refused whole */
    size_t len;
    char *h = wn_test_read_file(pc, &len);
    char *at = strstr(h, "\"subsidy_fen\":20000000");
    cr_assert_not_null(at, "%s", h);
    at[15] = '1';
    FILE *f = fopen(pc, "w");
    fwrite(h, 1, len, f);
    fclose(f);
    free(h);
    r = wn("claim", "evaluate", april, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc, "--bundle",
           bb, rb, cb, eb, ab, kb, NULL);
    cr_assert_eq(r.code, 1);
    cr_assert_not_null(strstr(r.err, "signature does not verify"), "%s", r.err);
    result_free(&r);

    /* wn cert issue refuses it */
    cr_assert_eq(issue(april, "subsidy", &out), -1);
    cr_assert_not_null(strstr(out.err, "project_already_subsidised"), "%s", out.err);
    result_free(&out);

    /* and the node refuses it even when the authority signs it (no overlap: another period) */
    wn_certificate again = paid;
    again.version = 0;
    again.reporting_from = R1;
    again.reporting_to = R1 + PERIOD;
    strcpy(again.claim_id, "JX-2025-0042-04");
    cr_assert_eq(wn_certificate_sign(&again, auth_sk), WN_CERT_OK);
    char json[WN_CERTIFICATE_JSON_MAX];
    cr_assert_eq(wn_certificate_to_json(&again, json, sizeof json, NULL), WN_CERT_OK);
    wn_test_resp resp;
    cr_assert(wn_test_http(node.url, "POST", "/v1/certificates", "application/json", json, strlen(json), &resp));
    cr_assert_eq(resp.status, 409, "%s", resp.body);
    cr_assert_not_null(strstr((char *)resp.body, "project_already_subsidised"), "%s", resp.body);
    wn_test_resp_free(&resp);
    /* ... also after a rebuild of its certificate state from the ledger */
    cr_assert_neq(wn_test_node_stop(&node, SIGKILL), -1);
    char certs[4300];
    snprintf(certs, sizeof certs, "%s/certs", node.data);
    wn_test_rmtree(certs);
    const char *args[] = {"--registrar", reg_pub, "--authority", auth_pub, "--checkpoint-ms", "20", NULL};
    cr_assert(wn_test_node_start(&node, args));
    cr_assert(wn_test_http(node.url, "POST", "/v1/certificates", "application/json", json, strlen(json), &resp));
    cr_assert_eq(resp.status, 409, "%s", resp.body);
    wn_test_resp_free(&resp);

    /* the April saving may still be sold */
    long sale = issue(april, "sale", &out);
    cr_assert(sale > 0, "%s", out.err);
    result_free(&out);
    result_free(&online);
    result_free(&onlinej);
}

Test(money, stacked_sales_carry_the_measured_saving, .init = setup, .fini = teardown, .timeout = 180)
{
    meter m;
    plant(&m);
    char march[4300], april[4300];
    claim_file(march, &m, "JX-2025-0043-03", R0);
    claim_file(april, &m, "JX-2025-0043-04", R1);
    result out;
    long a = issue(march, "sale", &out);
    cr_assert(a > 0, "%s", out.err);
    result_free(&out);
    long b = issue(april, "sale", &out);
    cr_assert(b > 0, "%s", out.err);
    result_free(&out);
    wn_certificate ca = fetch_cert(a), cb = fetch_cert(b);
    /* 0.6 m3/t x 72000 t in each month: 43,200 m3, not the 525,600 m3 a year annualised */
    cr_assert_eq(ca.volume_l, 43200000ULL);
    cr_assert_eq(cb.volume_l, 43200000ULL);
    /* the two months measured 2 x 43,200 m3 saved; that is all that was certified */
    result ra = evaluate(march, 1), rb = evaluate(april, 1);
    double measured = num(ra.out, "saving", "saving_l") + num(rb.out, "saving", "saving_l");
    cr_assert_eq((double)(ca.volume_l + cb.volume_l), measured);
    cr_assert_eq(num(ra.out, "saving", "annual_l"), 525600000.0, "the annualised figure decides eligibility only");
    result_free(&ra);
    result_free(&rb);
}
