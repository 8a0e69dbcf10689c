/* test_claims.c — savings claims and certificates end to end: a real wn-node fed with signed
 * hourly readings over a baseline and a reporting period (the scenarios have known
 * answers), the real `wn claim` and `wn cert` programs. The steel plant whose water per
 * tonne falls from 3.5 to 2.9 m3 gets exactly the expected saving and subsidy, online and
 * from bundle files byte for byte; a plant just under 100,000 m3 a year, a gap, a tamper
 * flag, a missing certification, an unenrolled certifier, an investment below the
 * threshold and a tampered bundle are each refused with their reason; double subsidy,
 * double sale, transfers above the balance, by a non-holder, replayed or of a subsidy are
 * refused; balances survive a restart and a rebuild of the node's certificate state. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "savings/claim.h"
#include "protocol/certificate.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "tests/support/enterprise.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testclock.h"
#include "tests/support/testutil.h"

#define HOUR 3600000ULL
#define DAY (24 * HOUR)
#define B0 1735689600000ULL   /* 2025-01-01T00:00:00.000Z: baseline, 30 days */
#define R0 (B0 + 59 * DAY)    /* 2025-03-01T00:00:00.000Z: reporting, 30 days */
#define PERIOD (30 * DAY)
#define ENTERPRISE "91330400MA2B00000L" /* GB 32100-2015: L is its check character */
/* The Jiaxing policy with a 30-day baseline (the shipped one asks for 12 months), written
 * into the test's folder at setup so the scenarios stay a month long. */
#define POLICY policy_file
static char policy_file[4300];

static char *tmp;
static wn_test_node node;
static uint8_t reg_sk[32], auth_sk[32], ent_sk[32], cert_sk[32], buyer_sk[32], other_sk[32];
static char reg_pub[65], auth_pub[65], notary_pub[65], cert_pub[65], buyer_pub[65], other_pub[65];
static char ent_key_f[4300], auth_key_f[4300], cert_key_f[4300], buyer_key_f[4300], other_key_f[4300], reg_key_f[4300];

/* ---- processes ---- */

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wnv(args) wn_proc_run(tmp, "wn", args)
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)


static void key(uint8_t sk[32], char *file, const char *name, char pub[65])
{
    uint8_t x[32];
    snprintf(file, 4300, "%s/%s", tmp, name);
    cr_assert(wn_keyfile_create(file, sk, x));
    if (pub) wn_hex_encode(pub, x, 32);
}

static void start_node(void)
{
    const char *args[] = {"--registrar", reg_pub, "--authority", auth_pub, "--checkpoint-ms", "20", NULL};
    if (!wn_test_node_start(&node, args)) {
        char *log = wn_test_read_file(node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
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

/* Saves the enterprise's records (who may sign for it) to eb and the certifier's
 * accreditation to ab, as bundles from the node: an offline evaluation needs both. */
static void fetch_identity_bundles(char eb[4300], char ab[4300])
{
    snprintf(eb, 4300, "%s/enterprise.bundle", tmp);
    result r = wn("enterprise", "bundle", "--node", node.url, "--code", ENTERPRISE, "--notary-pub", notary_pub, "--out",
                  eb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    snprintf(ab, 4300, "%s/accreditation.bundle", tmp);
    r = wn("accreditation", "bundle", "--node", node.url, "--code", WN_TEST_CERTIFIER_CODE, "--notary-pub", notary_pub,
           "--out", ab, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
}

static void setup(void)
{
    tmp = wn_test_tmpdir("claims");
    cr_assert_not_null(tmp);
    write_policy();
    key(reg_sk, reg_key_f, "registrar.key", reg_pub);
    key(auth_sk, auth_key_f, "authority.key", auth_pub);
    key(ent_sk, ent_key_f, "enterprise.key", NULL);
    key(cert_sk, cert_key_f, "certifier.key", cert_pub);
    key(buyer_sk, buyer_key_f, "buyer.key", buyer_pub);
    key(other_sk, other_key_f, "other.key", other_pub);
    wn_test_node_init(&node, tmp);
    /* the node commits each day's readings as it ends (testclock.h), from before the baseline */
    cr_assert(wn_test_clock_use(tmp, B0 - 29 * DAY));
    start_node();
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

TestSuite(claims, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the node's inputs ---- */

static void enrol(const uint8_t id[32], unsigned point, unsigned source)
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
    e.source = (uint8_t)source;
    strcpy(e.enterprise, point == WN_POINT_CERTIFIER ? WN_TEST_CERTIFIER_CODE : ENTERPRISE);
    strcpy(e.calibration, point == WN_POINT_CERTIFIER ? "CMA 2023-11-0042" : "CAL-2024-7");
    cr_assert_eq(wn_enrolment_sign(&e, reg_sk), WN_ENROL_OK);
    char json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_enrolment_to_json(&e, json, sizeof json, &len), WN_ENROL_OK);
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "POST", "/v1/enrolments", "application/json", json, len, &r));
    cr_assert_eq(r.status, 200, "%s", r.body);
    wn_test_resp_free(&r);
    if (point != WN_POINT_CERTIFIER) /* the policy counts only readings of a calibrated meter */
        cr_assert_eq(wn_test_calibration_post(node.url, reg_sk, id, "JJG162-2024-0031", WN_TEST_CAL_FROM,
                                              WN_TEST_CAL_UNTIL, NULL, 0), 200);
}

typedef struct {
    uint8_t sk[32], id[32];
    uint64_t seq;
    uint8_t prev[32];
} meter;

static void new_meter(meter *m, unsigned point, unsigned source)
{
    memset(m, 0, sizeof *m);
    do wn_test_prng_bytes(m->sk, 32); while (!wn_seckey_valid(m->sk));
    cr_assert(wn_seckey_xonly(m->id, m->sk));
    enrol(m->id, point, source);
}

/* What to post: hourly readings from `from` for `hours` hours (the reading at from + h*HOUR
 * holds v0 + h*rate millilitres), except the hours in [skip_from, skip_to); the reading of
 * hour `tamper` (if >= 0) carries the tamper flag. */
typedef struct {
    uint64_t from;
    long hours;
    int64_t v0, rate;
    long skip_from, skip_to, tamper;
} series;

/* Posts hours [first, first + hours) of s, committed a minute after the last one
 * (testclock.h): honest data, committed as measured. */
static void post_day(meter *m, const series *s, long first, long hours)
{
    size_t cap = 2 * (size_t)hours * (2 + WN_READING_MAX_LEN), len = 0;
    uint8_t *batch = malloc(cap);
    cr_assert_not_null(batch);
    cr_assert(wn_test_clock_set(s->from + (uint64_t)(first + hours - 1) * HOUR + 60000));
    for (long h = first; h < first + hours; h++) {
        if (h >= s->skip_from && h < s->skip_to) continue;
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, m->id, 32);
        r.seq = ++m->seq;
        r.time_ms = s->from + (uint64_t)h * HOUR;
        memcpy(r.prev, m->prev, 32);
        r.flags = h == s->tamper ? WN_FLAG_TAMPER : 0;
        r.count = 1;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 3, s->v0 + (int64_t)h * s->rate};
        cr_assert_eq(wn_reading_sign(&r, m->sk), WN_READING_OK);
        size_t n;
        cr_assert_eq(wn_reading_encode(&r, batch + len + 2, cap - len - 2, &n), WN_READING_OK);
        wn_put_u16(batch + len, (uint16_t)n);
        len += 2 + n;
        wn_reading_digest(&r, m->prev);
    }
    if (!len) { /* the whole day skipped */
        free(batch);
        return;
    }
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "POST", "/v1/readings", "application/vnd.waternotary.readings", batch, len, &r));
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cr_assert_null(strstr((char *)r.body, "\"rejected\""), "%.500s", r.body);
    wn_test_resp_free(&r);
    free(batch);
}

/* A plant with one tap-water intake meter reporting hourly from an hour before each period
 * to an hour after it: base_rate and rep_rate in millilitres per hour. */
typedef struct {
    meter intake;
    series base, rep;
} plant;

static void plant_init(plant *p, int64_t base_rate, int64_t rep_rate)
{
    new_meter(&p->intake, WN_POINT_INTAKE, WN_SOURCE_TAP);
    p->base = (series){.from = B0 - HOUR, .hours = 30 * 24 + 3, .v0 = 5000000000LL, .rate = base_rate,
                       .skip_from = -1, .skip_to = -1, .tamper = -1};
    p->rep = (series){.from = R0 - HOUR, .hours = 30 * 24 + 3, .v0 = 900000000000LL, .rate = rep_rate,
                      .skip_from = -1, .skip_to = -1, .tamper = -1};
}

/* Posts the plants' baselines, then their reporting periods: the ledger's commit times
 * follow the data's (no baseline is committed after a reporting period began). */
static void plants_post(plant *const *p, size_t n)
{
    for (int rep = 0; rep <= 1; rep++)
        for (long d = 0; d < p[0]->base.hours; d += 24) /* day by day, every plant's day d */
            for (size_t i = 0; i < n; i++) {
                const series *s = rep ? &p[i]->rep : &p[i]->base;
                if (d < s->hours) post_day(&p[i]->intake, s, d, s->hours - d < 24 ? s->hours - d : 24);
            }
}

static void plant_post(plant *p) { plants_post(&p, 1); }

static void claim_file(char *path, const plant *p, uint64_t investment_fen, int sign, int certify, const uint8_t *certifier_sk)
{
    wn_claim c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "JX-2025-%02x%02x", p->intake.id[0], p->intake.id[1]);
    strcpy(c.enterprise, ENTERPRISE);
    /* one project per plant, recorded by the registrar (commissioned between the periods) */
    snprintf(c.project, sizeof c.project, "JX-PRJ-%02x%02x closed-loop cooling for blast furnace No. 2",
             p->intake.id[0], p->intake.id[1]);
    c.has_project_record = 1;
    snprintf(c.project_record.id, sizeof c.project_record.id, "%s", c.project);
    strcpy(c.project_record.enterprise, ENTERPRISE);
    c.project_record.investment_fen = investment_fen;
    c.project_record.commissioned_ms = B0 + 45 * DAY;
    cr_assert(wn_project_sign(&c.project_record, reg_sk));
    strcpy(c.output_unit, "t crude steel");
    c.investment_fen = investment_fen;
    c.baseline = (wn_claim_period){.from_ms = B0, .to_ms = B0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.reporting = (wn_claim_period){.from_ms = R0, .to_ms = R0 + PERIOD, .output = 72000000, .n_meters = 1};
    c.baseline.meters[0] = (wn_claim_meter){.point = WN_POINT_INTAKE, .source = WN_SOURCE_TAP};
    memcpy(c.baseline.meters[0].meter, p->intake.id, 32);
    c.reporting.meters[0] = c.baseline.meters[0];
    cr_assert(wn_seckey_xonly(c.enterprise_key, ent_sk));
    if (sign) cr_assert(wn_claim_sign(&c, ent_sk));
    if (certify) cr_assert(wn_claim_certify(&c, certifier_sk, R0 + PERIOD + 10 * DAY, "ZJ-CMA-2025-117"));
    snprintf(path, 4300, "%s/claim-%02x%02x.json", tmp, p->intake.id[0], p->intake.id[1]);
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

static cJSON *decision(const result *r)
{
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "not JSON: %s / %s", r->out, r->err);
    return j;
}

static double num(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, a), b);
    cr_assert(cJSON_IsNumber(x), "%s.%s", a, b);
    return x->valuedouble;
}

/* ---- scenarios ---- */

Test(claims, steel_plant_online_equals_offline)
{
    meter certifier;
    memset(&certifier, 0, sizeof certifier);
    memcpy(certifier.sk, cert_sk, 32);
    cr_assert(wn_seckey_xonly(certifier.id, cert_sk));
    enrol(certifier.id, WN_POINT_CERTIFIER, WN_SOURCE_SURFACE);
    plant p;
    plant_init(&p, 350000000, 290000000); /* 350 and 290 m3 an hour */
    plant_post(&p);

    /* the enterprise signs and the certifier certifies with the real commands */
    char claim[4300];
    claim_file(claim, &p, 250000000, 0, 0, NULL);
    result r = wn("claim", "sign", claim, "--enterprise-key", ent_key_f, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("claim", "certify", claim, "--certifier-key", cert_key_f, "--reference", "ZJ-CMA-2025-117", "--time",
           "2025-04-10T00:00:00.000Z", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);

    cr_assert(wn_test_settle(node.url)); /* online and offline rest on one tree */
    result text = evaluate(claim, 0);
    cr_assert_eq(text.code, 0, "eligible: %s\n%s", text.out, text.err);
    cr_assert_not_null(strstr(text.out, "DECISION: ELIGIBLE for the subsidy of 200000.00 CNY (20000000 fen)"), "%s", text.out);
    cr_assert_not_null(strstr(text.out, "water per unit product   3.500000 m3 per t crude steel"), "%s", text.out);
    cr_assert_not_null(strstr(text.out, "water per unit product   2.900000 m3 per t crude steel"), "%s", text.out);
    result js = evaluate(claim, 1);
    cr_assert_eq(js.code, 0);
    cJSON *j = decision(&js);
    cr_assert_eq(num(j, "baseline", "intake_l"), 252000000.0);
    cr_assert_eq(num(j, "reporting", "intake_l"), 208800000.0);
    cr_assert_eq(num(j, "saving", "saving_l"), 43200000.0, "0.6 m3/t x 72000 t");
    cr_assert_eq(num(j, "saving", "annual_l"), 525600000.0);
    cr_assert_eq(num(j, "decision", "subsidy_fen"), 20000000.0, "8 %% of 2,500,000.00 CNY");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "certification"), "valid")));
    cJSON_Delete(j);

    /* the same from bundle files: byte for byte */
    size_t len0;
    char hex[65], bb[4300], rb[4300], cb[4300];
    wn_hex_encode(hex, p.intake.id, 32);
    snprintf(bb, sizeof bb, "%s/base.bundle", tmp);
    snprintf(rb, sizeof rb, "%s/rep.bundle", tmp);
    snprintf(cb, sizeof cb, "%s/cert.bundle", tmp);
    const char *fetches[][4] = {{hex, "2025-01-01T00:00:00.000Z", "2025-01-31T00:00:00.000Z", bb},
                                {hex, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", rb},
                                {cert_pub, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", cb}};
    for (int i = 0; i < 3; i++) {
        r = wn("bundle", "--node", node.url, "--meter", fetches[i][0], "--from", fetches[i][1], "--to", fetches[i][2],
               "--out", fetches[i][3], "--notary-pub", notary_pub, NULL);
        cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
        result_free(&r);
    }
    char eb[4300], ab[4300];
    fetch_identity_bundles(eb, ab);
    char kb[4300]; /* the intake meter's calibration records */
    snprintf(kb, sizeof kb, "%s/calibration.bundle", tmp);
    r = wn("calibration", "bundle", "--node", node.url, "--meter", hex, "--notary-pub", notary_pub, "--out", kb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    /* and the project's certificates, as the node lists them */
    char pc[4300];
    snprintf(pc, sizeof pc, "%s/project-certs.json", tmp);
    wn_claim parsed;
    char *ctext = wn_test_read_file(claim, &len0), det[300];
    cr_assert(wn_claim_parse(&parsed, ctext, len0, det, sizeof det), "%s", det);
    free(ctext);
    r = wn("cert", "project", parsed.project, "--node", node.url, "--out", pc, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    result off = wn("claim", "evaluate", claim, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc,
                    "--bundle", cb, bb, kb, rb, eb, ab, NULL);
    cr_assert_eq(off.code, 0, "%s", off.err);
    cr_assert_str_eq(off.out, text.out, "offline and online evaluations differ");
    result offj = wn("claim", "evaluate", claim, "--policy", POLICY, "--notary-pub", notary_pub, "--json",
                     "--certificates", pc, "--bundle", rb, bb, cb, eb, ab, kb, NULL);
    cr_assert_str_eq(offj.out, js.out);
    result_free(&off);
    result_free(&offj);

    /* a bundle file changed by one byte is refused: nothing is evaluated from it */
    size_t len;
    char *bundle = wn_test_read_file(rb, &len);
    char *at = strstr(bundle, "\"readings\":[{\"index\":");
    cr_assert_not_null(at);
    at = strstr(at, "\"entry\":\"") + 9 + 120; /* inside the first reading's base64 */
    *at = *at == 'A' ? 'B' : 'A';
    FILE *f = fopen(rb, "w");
    fwrite(bundle, 1, len, f);
    fclose(f);
    free(bundle);
    r = wn("claim", "evaluate", claim, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc, "--bundle",
           bb, rb, cb, NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "INVALID proof bundle"), "%s", r.err);
    cr_assert_eq(r.out[0], '\0');
    result_free(&r);
    /* and a missing one is a usage error naming what to fetch */
    r = wn("claim", "evaluate", claim, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc, "--bundle",
           bb, cb, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert_not_null(strstr(r.err, "wn bundle"), "%s", r.err);
    result_free(&r);
    result_free(&text);
    result_free(&js);
}

/* Evaluates a plant's claim and expects exit 1 with reason `code`. */
static void refused(const char *claim, const char *code)
{
    result r = evaluate(claim, 1);
    cr_assert_eq(r.code, 1, "%s: %s %s", code, r.out, r.err);
    cJSON *j = decision(&r);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(j, "reasons");
    int found = 0;
    for (const cJSON *e = reasons ? reasons->child : NULL; e; e = e->next)
        found |= strcmp(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring, code) == 0;
    cr_assert(found, "no reason %s in %s", code, r.out);
    cr_assert_not(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "decision"), "eligible")));
    cr_assert_eq(num(j, "decision", "subsidy_fen"), 0.0);
    cJSON_Delete(j);
    result_free(&r);
}

Test(claims, refusals_each_with_its_reason)
{
    meter certifier;
    cr_assert(wn_seckey_xonly(certifier.id, cert_sk));
    enrol(certifier.id, WN_POINT_CERTIFIER, WN_SOURCE_SURFACE);
    char claim[4300];
    plant p, pg, pt, pc;
    /* four plants: just under the threshold, a gap, a tamper flag, then certification
     * refusals; their data posted as measured, every baseline before any reporting period */
    plant_init(&p, 350000000, 338584475);
    plant_init(&pg, 350000000, 290000000);
    pg.rep.skip_from = 300;
    pg.rep.skip_to = 330;
    plant_init(&pt, 350000000, 290000000);
    pt.rep.tamper = 100;
    plant_init(&pc, 350000000, 290000000);
    plants_post((plant *const[]){&p, &pg, &pt, &pc}, 4);

    /* just under 100,000 m3 a year: 243,780,822 L in the reporting period saves 8,219,178 L,
     * 99,999,999 L a year */
    claim_file(claim, &p, 250000000, 1, 1, cert_sk);
    refused(claim, "saving_below_threshold");
    result r = evaluate(claim, 0);
    cr_assert_not_null(strstr(r.out, "the annualised saving of 99999.999 m3 is below the policy's 100000.000 m3"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "WATER RIGHTS: the saving of 99999.999 m3 a year may be certified for sale"));
    result_free(&r);

    /* a 30-hour gap in the reporting period */
    claim_file(claim, &pg, 250000000, 1, 1, cert_sk);
    refused(claim, "gap");

    /* a tamper flag */
    claim_file(claim, &pt, 250000000, 1, 1, cert_sk);
    refused(claim, "flag_tamper");

    /* no certifier's signature */
    p = pc;
    claim_file(claim, &p, 250000000, 1, 0, NULL);
    refused(claim, "no_certification");

    /* a certifier the registrar never enrolled */
    claim_file(claim, &p, 250000000, 1, 1, other_sk);
    refused(claim, "certifier_not_enrolled");

    /* an investment below 2,000,000 CNY */
    claim_file(claim, &p, 199999999, 1, 1, cert_sk);
    refused(claim, "investment_below_threshold");

    /* and the same plant, with everything in order, is eligible */
    claim_file(claim, &p, 250000000, 1, 1, cert_sk);
    r = evaluate(claim, 0);
    cr_assert_eq(r.code, 0, "%s", r.out);
    result_free(&r);
}

/* ---- certificates ---- */

/* Issues a certificate valid for a year from now (the 2025 periods' default term, a year
 * after the reporting period, may be over already). Returns: its index, or -1. */
static long issue(const char *claim, const char *purpose, const char *policy, const char *key_file, result *out)
{
    char until[25];
    wn_time_format(until, (uint64_t)time(NULL) * 1000 + 365 * DAY);
    *out = wn("cert", "issue", claim, "--purpose", purpose, "--policy", policy, "--authority-key", key_file, "--node",
              node.url, "--notary-pub", notary_pub, "--valid-until", until, "--json", NULL);
    if (out->code != 0) return -1;
    cJSON *j = cJSON_Parse(out->out);
    cr_assert_not_null(j, "%s", out->out);
    long index = (long)cJSON_GetObjectItemCaseSensitive(j, "index")->valuedouble;
    cJSON_Delete(j);
    return index;
}

static cJSON *show(long index)
{
    char n[32];
    snprintf(n, sizeof n, "%ld", index);
    result r = wn("cert", "show", n, "--node", node.url, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cJSON *j = cJSON_Parse(r.out);
    result_free(&r);
    return j;
}

static double holding(cJSON *status, const char *pub)
{
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(status, "holders");
    for (const cJSON *h = hs ? hs->child : NULL; h; h = h->next)
        if (strcmp(cJSON_GetObjectItemCaseSensitive(h, "key")->valuestring, pub) == 0)
            return cJSON_GetObjectItemCaseSensitive(h, "balance_l")->valuedouble;
    return -1;
}

static void expect_refused(result r, const char *code)
{
    cr_assert_eq(r.code, 1, "%s: %s %s", code, r.out, r.err);
    cr_assert_not_null(strstr(r.err, code), "%s: %s", code, r.err);
    result_free(&r);
}

Test(claims, certificates_double_counting_transfers_and_balances)
{
    meter certifier;
    cr_assert(wn_seckey_xonly(certifier.id, cert_sk));
    enrol(certifier.id, WN_POINT_CERTIFIER, WN_SOURCE_SURFACE);
    char claim[4300], claim2[4300], ent_pub[65];
    uint8_t ex[32];
    cr_assert(wn_seckey_xonly(ex, ent_sk));
    wn_hex_encode(ent_pub, ex, 32);
    plant p, q, t; /* three plants, posted as measured: every baseline before any reporting period */
    plant_init(&p, 350000000, 290000000);
    plant_init(&q, 350000000, 290000000);
    plant_init(&t, 350000000, 290000000);
    plants_post((plant *const[]){&p, &q, &t}, 3);
    claim_file(claim, &p, 250000000, 1, 1, cert_sk);

    /* a term that is over: nothing to issue */
    result r = wn("cert", "issue", claim, "--purpose", "sale", "--policy", POLICY, "--authority-key", auth_key_f,
                  "--node", node.url, "--notary-pub", notary_pub, "--valid-until", "2025-06-01T00:00:00.000Z", NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "term would already be over"), "%s", r.err);
    result_free(&r);

    /* only the node's authority may issue */
    cr_assert_eq(issue(claim, "subsidy", POLICY, other_key_f, &r), -1);
    expect_refused(r, "bad_authority_signature");

    /* a subsidy; then neither a second subsidy nor a sale of the same litres */
    long sub = issue(claim, "subsidy", POLICY, auth_key_f, &r);
    cr_assert(sub > 0, "%s %s", r.out, r.err);
    result_free(&r);
    cr_assert_eq(issue(claim, "subsidy", POLICY, auth_key_f, &r), -1);
    expect_refused(r, "project_already_subsidised"); /* the evaluator sees the project's subsidy first */
    cr_assert_eq(issue(claim, "sale", POLICY, auth_key_f, &r), -1);
    expect_refused(r, "double_counting");
    cJSON *st = show(sub);
    cr_assert_eq(num(st, "certificate", "volume_l"), 43200000.0, "the saving measured in the reporting period");
    cr_assert_eq(num(st, "certificate", "subsidy_fen"), 20000000.0);
    cJSON_Delete(st);

    /* a subsidy certificate cannot be sold */
    char idx[32];
    snprintf(idx, sizeof idx, "%ld", sub);
    expect_refused(wn("cert", "transfer", idx, "--node", node.url, "--holder-key", ent_key_f, "--to", buyer_pub,
                      "--volume", "1000", NULL),
                   "not_transferable");

    /* under a policy that lets one subsidy and one sale share a saving: both, but one sale */
    char both[4300];
    snprintf(both, sizeof both, "%s/both.json", tmp);
    size_t len;
    char *pol = wn_test_read_file(POLICY, &len);
    char *at = strstr(pol, "\"subsidy_and_sale\": false");
    cr_assert_not_null(at);
    memcpy(at, "\"subsidy_and_sale\":  true", 25);
    FILE *f = fopen(both, "w");
    fwrite(pol, 1, len, f);
    fclose(f);
    free(pol);
    claim_file(claim2, &q, 250000000, 1, 1, cert_sk);
    long sub2 = issue(claim2, "subsidy", both, auth_key_f, &r);
    cr_assert(sub2 > 0, "%s", r.err);
    result_free(&r);
    long sale = issue(claim2, "sale", both, auth_key_f, &r);
    cr_assert(sale > 0, "%s", r.err);
    result_free(&r);
    cr_assert_eq(issue(claim2, "sale", both, auth_key_f, &r), -1);
    expect_refused(r, "double_counting");

    /* transfers: a split to the buyer, above the balance, by a non-holder, onwards, retirement */
    snprintf(idx, sizeof idx, "%ld", sale);
    r = wn("cert", "transfer", idx, "--node", node.url, "--holder-key", ent_key_f, "--to", buyer_pub, "--volume",
           "10000", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "the holder keeps 33200.000 m3"), "%s", r.out);
    result_free(&r);
    expect_refused(wn("cert", "transfer", idx, "--node", node.url, "--holder-key", buyer_key_f, "--to", other_pub,
                      "--volume", "10000.001", NULL),
                   "insufficient_balance");
    expect_refused(wn("cert", "transfer", idx, "--node", node.url, "--holder-key", other_key_f, "--to", buyer_pub,
                      "--volume", "1", NULL),
                   "not_holder");
    r = wn("cert", "transfer", idx, "--node", node.url, "--holder-key", buyer_key_f, "--to", other_pub, "--volume",
           "4000.5", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("cert", "retire", idx, "--node", node.url, "--holder-key", other_key_f, "--volume", "4000.5", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    expect_refused(wn("cert", "retire", idx, "--node", node.url, "--holder-key", other_key_f, "--volume", "1", NULL),
                   "not_holder"); /* it sold or retired all it held */
    expect_refused(wn("cert", "retire", idx, "--node", node.url, "--holder-key", buyer_key_f, "--volume", "6000", NULL),
                   "insufficient_balance");

    /* a signed transfer posted again is refused: its operation number is used */
    cJSON *before = show(sale);
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(before, "operations");
    long first_op = (long)cJSON_GetObjectItemCaseSensitive(ops->child, "index")->valuedouble;
    char path[64];
    snprintf(path, sizeof path, "/v1/entries/%ld", first_op);
    wn_test_resp er;
    cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &er));
    cr_assert_eq(er.status, 200);
    cJSON *entry = cJSON_Parse((char *)er.body);
    wn_test_resp_free(&er);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(entry, "type")->valuestring, "transfer");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(entry, "transfer"), "op")->valuedouble, 1.0);
    const char *b64 = cJSON_GetObjectItemCaseSensitive(entry, "entry")->valuestring;
    uint8_t raw[512];
    size_t rawlen;
    cr_assert(wn_base64_decode(raw, sizeof raw, &rawlen, b64, strlen(b64)));
    cJSON_Delete(entry);
    cr_assert_eq(raw[0], 0x86, "a timed transfer entry");
    wn_cert_op op;
    cr_assert_eq(wn_cert_op_decode(&op, 0, raw + 10, rawlen - 10), WN_CERT_OK);
    char body[WN_TRANSFER_JSON_MAX];
    cr_assert_eq(wn_cert_op_to_json(&op, body, sizeof body, NULL), WN_CERT_OK);
    cr_assert(wn_test_http(node.url, "POST", "/v1/transfers", "application/json", body, strlen(body), &er));
    cr_assert_eq(er.status, 409, "%s", er.body);
    cr_assert_not_null(strstr((char *)er.body, "stale_operation"));
    wn_test_resp_free(&er);

    /* a certificate whose term is over can be neither sold nor retired */
    char claim3[4300], until[25];
    claim_file(claim3, &t, 250000000, 1, 1, cert_sk);
    /* long enough that `wn cert issue` finishes inside it even under the sanitizers */
    uint64_t until_ms = (uint64_t)time(NULL) * 1000 + 8000;
    wn_time_format(until, until_ms);
    r = wn("cert", "issue", claim3, "--purpose", "sale", "--policy", POLICY, "--authority-key", auth_key_f, "--node",
           node.url, "--notary-pub", notary_pub, "--valid-until", until, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cJSON *ij = cJSON_Parse(r.out);
    long short_term = (long)cJSON_GetObjectItemCaseSensitive(ij, "index")->valuedouble;
    cJSON_Delete(ij);
    result_free(&r);
    struct timespec pause = {0, 200000000};
    while ((uint64_t)time(NULL) * 1000 <= until_ms + 1000) nanosleep(&pause, NULL); /* the term is over */
    char sidx[32];
    snprintf(sidx, sizeof sidx, "%ld", short_term);
    expect_refused(wn("cert", "transfer", sidx, "--node", node.url, "--holder-key", ent_key_f, "--to", buyer_pub,
                      "--volume", "1", NULL),
                   "outside_term");
    expect_refused(wn("cert", "retire", sidx, "--node", node.url, "--holder-key", ent_key_f, "--volume", "1", NULL),
                   "outside_term");
    cJSON *expired = show(short_term);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(expired, "expired")));
    cJSON_Delete(expired);

    /* the balances */
    cr_assert_eq(holding(before, ent_pub), 33200000.0);
    cr_assert_eq(holding(before, buyer_pub), 5999500.0);
    cr_assert_eq(holding(before, other_pub), 0.0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(before, "retired_l")->valuedouble, 4000500.0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(before, "balance_l")->valuedouble, 39199500.0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(before, "next_op")->valuedouble, 4.0);
    char *want = cJSON_PrintUnformatted(before);

    /* they survive a restart, and a rebuild of the node's certificate state from the ledger */
    cr_assert_neq(wn_test_node_stop(&node, SIGTERM), -1);
    start_node();
    cJSON *after = show(sale);
    char *got = cJSON_PrintUnformatted(after);
    cr_assert_str_eq(got, want);
    free(got);
    cJSON_Delete(after);
    cr_assert_neq(wn_test_node_stop(&node, SIGKILL), -1);
    char certs[4300];
    snprintf(certs, sizeof certs, "%s/certs", node.data);
    wn_test_rmtree(certs);
    start_node();
    after = show(sale);
    got = cJSON_PrintUnformatted(after);
    cr_assert_str_eq(got, want, "rebuilt from the ledger");
    free(got);
    cJSON_Delete(after);
    cr_assert_eq(issue(claim2, "sale", both, auth_key_f, &r), -1, "still no double sale after the rebuild");
    expect_refused(r, "double_counting");

    /* holders and operations come in pages: limit=1 walks each exactly once */
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(before, "holders");
    int nh = cJSON_GetArraySize(hs), no = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(before, "operations"));
    cr_assert_geq(nh, 2);
    for (int k = 0; k < nh || k < no; k++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/certificates/%ld?from=%d&limit=1", sale, k);
        wn_test_resp pr;
        cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &pr));
        cr_assert_eq(pr.status, 200, "%s", (const char *)pr.body);
        cJSON *pj = cJSON_Parse((const char *)pr.body);
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(pj, "holders");
        cr_assert_eq(cJSON_GetArraySize(ph), k < nh ? 1 : 0);
        if (k < nh)
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ph->child, "key")->valuestring,
                             cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(hs, k), "key")->valuestring);
        const cJSON *hn = cJSON_GetObjectItemCaseSensitive(pj, "holders_next");
        if (k + 1 < nh) cr_assert(cJSON_IsNumber(hn) && hn->valuedouble == k + 1, "%s", (const char *)pr.body);
        else cr_assert(cJSON_IsNull(hn), "%s", (const char *)pr.body);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pj, "operations")), k < no ? 1 : 0);
        cJSON_Delete(pj);
        wn_test_resp_free(&pr);
    }
    free(want);
    cJSON_Delete(before);
}

/* Marks byte (PROTOCOL §3) of the first reading of a bundle file: 1 late, 0 not. */
static int first_reading_late(const char *bundle_file)
{
    char *text = wn_test_read_file(bundle_file, NULL);
    cr_assert_not_null(text);
    cJSON *b = cJSON_Parse(text);
    free(text);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "readings"), 1);
    const char *b64 = cJSON_GetObjectItemCaseSensitive(first, "entry")->valuestring;
    uint8_t raw[1024];
    size_t n;
    cr_assert(wn_base64_decode(raw, sizeof raw, &n, b64, strlen(b64)));
    cJSON_Delete(b);
    cr_assert(n > 10 && raw[0] == 0x81, "a timed reading entry");
    return raw[9];
}

/* The back-dated baseline of issue 12: a plant whose meter enrolment the registrar dated
 * before the baseline pushes a month of high-use "baseline" readings in one request once
 * the reporting period is over. The node accepts them, marked late; the evaluator refuses
 * them, online and offline byte for byte: committed long after they were measured, and
 * after the reporting period began. The honest plant beside it, posting as it measures,
 * stays eligible with the same figures as before. */
Test(claims, back_dated_baseline_refused_online_and_offline)
{
    meter certifier;
    cr_assert(wn_seckey_xonly(certifier.id, cert_sk));
    enrol(certifier.id, WN_POINT_CERTIFIER, WN_SOURCE_SURFACE);
    plant honest, fraud;
    plant_init(&honest, 350000000, 290000000);
    plant_init(&fraud, 350000000, 290000000);
    plants_post((plant *const[]){&honest}, 1);
    /* after the reporting period: the whole baseline, then the reporting month, each in one request */
    post_day(&fraud.intake, &fraud.base, 0, fraud.base.hours);
    post_day(&fraud.intake, &fraud.rep, 0, fraud.rep.hours);

    char claim[4300], fclaim[4300];
    claim_file(claim, &honest, 250000000, 1, 1, cert_sk);
    claim_file(fclaim, &fraud, 250000000, 1, 1, cert_sk);
    result r = evaluate(claim, 0);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, "DECISION: ELIGIBLE for the subsidy of 200000.00 CNY (20000000 fen)"), "%s", r.out);
    result_free(&r);
    refused(fclaim, "late_commit");
    refused(fclaim, "baseline_committed_late");
    cr_assert(wn_test_settle(node.url));
    result online = evaluate(fclaim, 0);
    cr_assert_eq(online.code, 1);
    cr_assert_not_null(strstr(online.out, "committed at or after the reporting period's start 2025-03-01T00:00:00.000Z"),
                       "%s", online.out);

    /* offline, from bundles: the same bytes */
    char hex[65], fhex[65], bb[4300], rb[4300], cb[4300], hb[4300], pc[4300];
    wn_hex_encode(fhex, fraud.intake.id, 32);
    wn_hex_encode(hex, honest.intake.id, 32);
    snprintf(bb, sizeof bb, "%s/fraud-base.bundle", tmp);
    snprintf(rb, sizeof rb, "%s/fraud-rep.bundle", tmp);
    snprintf(cb, sizeof cb, "%s/cert.bundle", tmp);
    snprintf(hb, sizeof hb, "%s/honest-base.bundle", tmp);
    const char *fetches[][4] = {{fhex, "2025-01-01T00:00:00.000Z", "2025-01-31T00:00:00.000Z", bb},
                                {fhex, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", rb},
                                {cert_pub, "2025-03-01T00:00:00.000Z", "2025-03-31T00:00:00.000Z", cb},
                                {hex, "2025-01-01T00:00:00.000Z", "2025-01-31T00:00:00.000Z", hb}};
    for (int i = 0; i < 4; i++) {
        r = wn("bundle", "--node", node.url, "--meter", fetches[i][0], "--from", fetches[i][1], "--to", fetches[i][2],
               "--out", fetches[i][3], "--notary-pub", notary_pub, NULL);
        cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
        result_free(&r);
    }
    /* the node marked the back-dated readings late (measured more than 30 days before their
     * commit), and not the honest ones */
    cr_assert_eq(first_reading_late(bb), 1);
    cr_assert_eq(first_reading_late(hb), 0);
    wn_claim parsed;
    size_t len0;
    char *ctext = wn_test_read_file(fclaim, &len0), det[300];
    cr_assert(wn_claim_parse(&parsed, ctext, len0, det, sizeof det), "%s", det);
    free(ctext);
    snprintf(pc, sizeof pc, "%s/fraud-project-certs.json", tmp);
    r = wn("cert", "project", parsed.project, "--node", node.url, "--out", pc, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    char eb[4300], ab[4300], kb[4300];
    fetch_identity_bundles(eb, ab);
    snprintf(kb, sizeof kb, "%s/fraud-calibration.bundle", tmp); /* the meter's calibration records */
    r = wn("calibration", "bundle", "--node", node.url, "--meter", fhex, "--notary-pub", notary_pub, "--out", kb, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    result off = wn("claim", "evaluate", fclaim, "--policy", POLICY, "--notary-pub", notary_pub, "--certificates", pc,
                    "--bundle", cb, bb, rb, eb, ab, kb, NULL);
    cr_assert_eq(off.code, 1, "%s", off.err);
    cr_assert_str_eq(off.out, online.out, "offline and online evaluations differ");
    result_free(&off);
    result_free(&online);
    /* and the node will not certify it */
    r = wn("cert", "issue", fclaim, "--purpose", "subsidy", "--policy", POLICY, "--authority-key", auth_key_f, "--node",
           node.url, "--notary-pub", notary_pub, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert_not_null(strstr(r.err, "baseline_committed_late"), "%s", r.err);
    result_free(&r);
}
