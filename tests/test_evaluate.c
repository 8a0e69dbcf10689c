/* test_evaluate.c — the savings evaluation as a pure function (savings/evaluate.c) and its
 * inputs (savings/policy.c, savings/claim.c): the shipped Jiaxing policy, strict policy and claim
 * documents, claim signatures, and known answers from synthetic hourly totaliser series —
 * a steel plant whose water per tonne falls from 3.5 to 2.9 m3, a saving just under the
 * threshold, interpolation at boundaries, meter replacement and rollover, gaps,
 * completeness, status flags, certification, thresholds — each refused with its reason. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savings/claim.h"
#include "savings/evaluate.h"
#include "savings/policy.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#define HOUR 3600000ULL
#define DAY (24 * HOUR)
#define T0 1735689600000ULL /* 2025-01-01T00:00:00.000Z */
#define NL_PER_L 1000000000LL
#define M3 (1000 * NL_PER_L)

static wn_policy shipped; /* policies/jiaxing-2024.json as it is */
static wn_policy jiaxing; /* the same with a 30-day baseline, as the synthetic scenarios have */
static uint8_t ent_sk[32], cert_sk[32], reg_sk[32], reg_pk[32];

static void load_policy(void)
{
    size_t len;
    char *text = wn_test_read_file("policies/jiaxing-2024.json", &len);
    cr_assert_not_null(text, "run the tests from the repository root (policies/jiaxing-2024.json)");
    char detail[300] = "";
    cr_assert(wn_policy_parse(&shipped, text, len, detail, sizeof detail), "%s", detail);
    char *at = strstr(text, "\"min_baseline_ms\": 31536000000,");
    cr_assert_not_null(at, "the shipped policy asks for a 12-month baseline");
    memcpy(at, "\"min_baseline_ms\":  2592000000,", strlen("\"min_baseline_ms\": 31536000000,"));
    cr_assert(wn_policy_parse(&jiaxing, text, len, detail, sizeof detail), "%s", detail);
    free(text);
    wn_test_prng_seed(7);
    do wn_test_prng_bytes(ent_sk, 32); while (!wn_seckey_valid(ent_sk));
    do wn_test_prng_bytes(cert_sk, 32); while (!wn_seckey_valid(cert_sk));
    do wn_test_prng_bytes(reg_sk, 32); while (!wn_seckey_valid(reg_sk));
    cr_assert(wn_seckey_xonly(reg_pk, reg_sk));
}

/* ---- synthetic data ---- */

typedef struct {
    wn_eval_reading r[4000];
    size_t n;
} series_buf;

/* n hourly readings from t0, the totaliser starting at v0 (nL) and growing by step nL an hour. */
static void hourly(series_buf *s, uint64_t t0, size_t n, __int128 v0, __int128 step)
{
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        wn_eval_reading *r = &s->r[i];
        memset(r, 0, sizeof *r);
        r->seq = 1 + i;
        r->index = 100 + 2 * i;
        r->time_ms = t0 + i * HOUR;
        r->has_volume = 1;
        r->volume_nl = v0 + step * (__int128)i;
    }
}

static void meter_id(uint8_t id[32], int k)
{
    uint8_t sk[32] = {0};
    sk[31] = (uint8_t)(k + 1);
    sk[0] = 0x42;
    cr_assert(wn_seckey_xonly(id, sk));
}

/* Every synthetic meter is in calibration all along (the shipped policy requires it;
 * test_calibration.c tests the rule). */
static const wn_calibration always_calibrated = {.reference = "CAL-TEST", .body = "test", .calibrated_ms = 0,
                                                 .valid_until_ms = WN_READING_MAX_TIME};

static wn_eval_series series(const series_buf *b, const uint8_t meter[32], unsigned point, unsigned source,
                             uint64_t from, uint64_t to)
{
    wn_eval_series s;
    memset(&s, 0, sizeof s);
    s.found = 1;
    memcpy(s.enrol.meter, meter, 32);
    s.enrol.point = (uint8_t)point;
    s.enrol.source = (uint8_t)source;
    s.enrol.tier = 1;
    strcpy(s.enrol.enterprise, "91330400MA2B000000");
    memcpy(s.enrol.registrar, reg_pk, 32);
    s.enrol_index = 3;
    s.from_ms = from;
    s.to_ms = to;
    s.readings = b->r;
    s.n = b->n;
    s.cals = &always_calibrated;
    s.n_cals = 1;
    strcpy(s.cp.origin, "waternotary/test");
    s.cp.size = 9000;
    memset(s.cp.root, 0x5a, 32);
    return s;
}

/* The steel plant: one tap-water intake meter; baseline January (30 days) at 350 m3/h for
 * 72000 t, reporting March (30 days) at 290 m3/h for 72000 t: 3.5 -> 2.9 m3/t. */
typedef struct {
    wn_claim claim;
    series_buf bb, rb;
    wn_eval_series base[2], rep[2];
    wn_eval_input in;
} scenario;

static void claim_base(wn_claim *c, uint64_t b0, uint64_t b1, uint64_t r0, uint64_t r1)
{
    memset(c, 0, sizeof *c);
    strcpy(c->id, "JX-2025-0042");
    strcpy(c->enterprise, "91330400MA2B000000");
    strcpy(c->project, "Closed-loop cooling for blast furnace No. 2");
    strcpy(c->output_unit, "t crude steel");
    c->investment_fen = 250000000; /* 2,500,000.00 CNY */
    c->baseline = (wn_claim_period){.from_ms = b0, .to_ms = b1, .output = 72000000};
    c->reporting = (wn_claim_period){.from_ms = r0, .to_ms = r1, .output = 72000000};
    /* the registrar's record of the project, commissioned between the periods */
    c->has_project_record = 1;
    wn_project *p = &c->project_record;
    strcpy(p->id, c->project);
    strcpy(p->enterprise, c->enterprise);
    p->investment_fen = c->investment_fen;
    p->commissioned_ms = b1 + (r0 - b1) / 2;
    cr_assert(wn_project_sign(p, reg_sk));
}

static void sign_and_certify(wn_claim *c)
{
    cr_assert(wn_claim_sign(c, ent_sk));
    cr_assert(wn_claim_certify(c, cert_sk, c->reporting.to_ms + 10 * DAY, "ZJ-CMA-2025-117"));
}

static void steel(scenario *s, __int128 base_rate, __int128 rep_rate)
{
    memset(s, 0, sizeof *s);
    uint64_t b0 = T0, b1 = T0 + 30 * DAY, r0 = T0 + 59 * DAY, r1 = r0 + 30 * DAY;
    claim_base(&s->claim, b0, b1, r0, r1);
    uint8_t m[32];
    meter_id(m, 0);
    s->claim.baseline.n_meters = s->claim.reporting.n_meters = 1;
    s->claim.baseline.meters[0] = (wn_claim_meter){.point = WN_POINT_INTAKE, .source = WN_SOURCE_TAP};
    memcpy(s->claim.baseline.meters[0].meter, m, 32);
    s->claim.reporting.meters[0] = s->claim.baseline.meters[0];
    /* readings from one hour before each period to one hour after it */
    hourly(&s->bb, b0 - HOUR, 30 * 24 + 3, 5000 * M3, base_rate);
    hourly(&s->rb, r0 - HOUR, 30 * 24 + 3, 900000 * M3, rep_rate);
    for (size_t i = 0; i < s->rb.n; i++) s->rb.r[i].seq += 2000, s->rb.r[i].index += 8000;
    s->base[0] = series(&s->bb, m, WN_POINT_INTAKE, WN_SOURCE_TAP, b0, b1);
    s->rep[0] = series(&s->rb, m, WN_POINT_INTAKE, WN_SOURCE_TAP, r0, r1);
    sign_and_certify(&s->claim);
    s->in = (wn_eval_input){.claim = &s->claim, .policy = &jiaxing, .baseline = s->base, .reporting = s->rep,
                            .history_given = 1};
    s->in.certifier.found = 1;
    s->in.certifier.enrol.point = WN_POINT_CERTIFIER;
    cr_assert(wn_seckey_xonly(s->in.certifier.enrol.meter, cert_sk));
    strcpy(s->in.certifier.enrol.enterprise, "Zhejiang Water Testing Co.");
    s->in.certifier.enrol_index = 2;
}

static int has_reason(const wn_eval_result *r, const char *code)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        if (strcmp(r->reasons[i].code, code) == 0) return 1;
    return 0;
}

static void show(const wn_eval_result *r)
{
    for (size_t i = 0; i < r->n_reasons; i++) cr_log_info("[%s] %s", r->reasons[i].code, r->reasons[i].detail);
}

TestSuite(evaluate, .init = load_policy);

Test(evaluate, shipped_jiaxing_policy)
{
    cr_assert_eq(jiaxing.min_annual_saving_l, 100000000ULL, "100,000 m3 = 10^8 litres");
    cr_assert_eq(jiaxing.min_investment_fen, 200000000ULL, "2,000,000 CNY in fen");
    cr_assert_eq(jiaxing.subsidy_rate_ppm, 80000ULL, "8 %%");
    cr_assert_not(jiaxing.has_subsidy_cap);
    cr_assert(jiaxing.require_certification);
    cr_assert_eq(jiaxing.disqualifying_flags, WN_FLAG_TAMPER | WN_FLAG_CLOCK_UNSYNC | WN_FLAG_SUBSTITUTE);
    cr_assert_not(jiaxing.subsidy_and_sale);
    cr_assert_str_eq(jiaxing.title, "2024年嘉兴市工业节水提效行动方案（征求意见稿）");
    cr_assert_not(jiaxing.in_force, "a consultation draft");
    cr_assert_eq(jiaxing.effective_from_ms, 0);
    cr_assert_eq(jiaxing.effective_to_ms, 0);
    cr_assert_eq(jiaxing.subsidies_per_project, 1, "one subsidy per project");
    cr_assert_eq(shipped.min_baseline_ms, 365 * DAY, "a 12-month baseline: no cherry-picked season");
    cr_assert_eq(shipped.min_reporting_ms, 30 * DAY);
    cr_assert_eq(shipped.max_commit_delay_ms, 7 * DAY, "a reading counts when committed within a week");
    cr_assert(shipped.require_registered_enterprise);
    cr_assert_not(shipped.require_sensor_attestation);
    cr_assert_str_eq(shipped.accreditation_scope, "water_saving");
    cr_assert_eq(jiaxing.min_baseline_ms, 30 * DAY, "the scenarios' copy");
    /* under the shipped policy the month-long baseline of the scenarios is refused */
    scenario s;
    wn_eval_result r;
    steel(&s, 350 * M3, 290 * M3);
    s.in.policy = &shipped;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "baseline_too_short"));
    cr_assert_not(r.eligible);
    wn_eval_free(&r);
    /* the digest is that of the canonical JSON, which parses back to the same policy */
    char *canon = wn_policy_to_json(&jiaxing);
    wn_policy again;
    char d[300];
    cr_assert(wn_policy_parse(&again, canon, strlen(canon), d, sizeof d), "%s", d);
    cr_assert_eq(memcmp(again.digest, jiaxing.digest, 32), 0);
    free(canon);
}

static void policy_refused(const char *from, const char *to, const char *why)
{
    size_t len;
    char *text = wn_test_read_file("policies/jiaxing-2024.json", &len);
    char *at = strstr(text, from);
    cr_assert_not_null(at, "%s", from);
    char *bad = malloc(len + strlen(to) + 1);
    size_t k = (size_t)(at - text);
    memcpy(bad, text, k);
    strcpy(bad + k, to);
    strcat(bad, at + strlen(from));
    wn_policy p;
    char d[300] = "";
    cr_assert_not(wn_policy_parse(&p, bad, strlen(bad), d, sizeof d), "accepted: %s", why);
    cr_assert(d[0]);
    free(bad);
    free(text);
}

Test(evaluate, policy_strictness)
{
    policy_refused("\"8.0000\"", "\"8.00\"", "a rate with 2 decimals");
    policy_refused("\"8.0000\"", "8", "a rate as a number");
    policy_refused("\"100000.000\"", "\"-100000.000\"", "a negative amount");
    policy_refused("3600000,", "3.6e6,", "an exponent");
    policy_refused("3600000,", "3600000.0,", "a fraction");
    policy_refused("\"subsidy_cap\": null,", "", "a missing member");
    policy_refused("\"subsidy_cap\": null,", "\"subsidy_cap\": null, \"bonus\": 1,", "an unknown member");
    policy_refused("\"subsidy_cap\": null,", "\"subsidy_cap\": null, \"subsidy_cap\": null,", "a repeated member");
    policy_refused("[\"tamper\", \"clock_unsync\", \"substitute\"]", "[\"clock_unsync\", \"tamper\"]", "flags out of order");
    policy_refused("[\"tamper\", \"clock_unsync\", \"substitute\"]", "[\"magnet\"]", "an unknown flag");
    policy_refused("waternotary/policy@v1", "waternotary/policy@v2", "another format");
    policy_refused("\"max_gap_ms\": 86400000", "\"max_gap_ms\": 60000", "a gap shorter than the interval");
}

Test(evaluate, claim_json_and_signatures)
{
    scenario s;
    steel(&s, 350 * M3, 290 * M3);
    s.claim.reporting.meters[0].rollover_l = 100000000000ULL;
    cr_assert(wn_claim_sign(&s.claim, ent_sk));
    cr_assert(wn_claim_certify(&s.claim, cert_sk, s.claim.reporting.to_ms + DAY, "ZJ-CMA-2025-117"));
    cr_assert(wn_claim_verify_enterprise(&s.claim));
    cr_assert(wn_claim_verify_certification(&s.claim));
    char *json = wn_claim_to_json(&s.claim);
    wn_claim back;
    char d[300] = "";
    cr_assert(wn_claim_parse(&back, json, strlen(json), d, sizeof d), "%s\n%s", d, json);
    char *again = wn_claim_to_json(&back);
    cr_assert_str_eq(json, again, "the JSON form round-trips");
    cr_assert(wn_claim_verify_enterprise(&back));
    cr_assert(wn_claim_verify_certification(&back));
    uint8_t d1[32], d2[32];
    wn_claim_digest(&s.claim, d1);
    wn_claim_digest(&back, d2);
    cr_assert_eq(memcmp(d1, d2, 32), 0);

    /* any change to what was signed breaks both signatures */
    back.reporting.output += 1;
    cr_assert_not(wn_claim_verify_enterprise(&back));
    cr_assert_not(wn_claim_verify_certification(&back));
    back.reporting.output -= 1;
    back.investment_fen += 100;
    cr_assert_not(wn_claim_verify_enterprise(&back));
    back.investment_fen -= 100;
    strcpy(back.reference, "ZJ-CMA-2025-118");
    cr_assert(wn_claim_verify_enterprise(&back), "the reference is the certifier's");
    cr_assert_not(wn_claim_verify_certification(&back));
    free(again);

    /* strictness */
    const char *bad[][2] = {
        {"\"72000.000\"", "\"72000.00\""},       /* output needs 3 decimals */
        {"\"2500000.00\"", "2500000"},           /* amounts are strings */
        {"\"intake\"", "\"discharge\""},         /* only intake and recycling meters */
        {"\"tap\"", "\"seawater\""},
        {"\"ZJ-CMA-2025-117\"", "\"\""},
        {"\"rollover\":\tnull", "\"rollover\":\t\"0.000\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *at = strstr(json, bad[i][0]);
        cr_assert_not_null(at, "%s", bad[i][0]);
        char buf[16384];
        size_t k = (size_t)(at - json);
        memcpy(buf, json, k);
        snprintf(buf + k, sizeof buf - k, "%s%s", bad[i][1], at + strlen(bad[i][0]));
        cr_assert_not(wn_claim_parse(&back, buf, strlen(buf), d, sizeof d), "accepted %s", bad[i][1]);
    }
    /* a certification without the enterprise's signature is not a claim */
    char *nosig = strstr(json, "\"enterprise_sig\":");
    cr_assert_not_null(nosig);
    char buf[16384];
    size_t k = (size_t)(nosig - json);
    memcpy(buf, json, k);
    char *end = strchr(nosig, ',');
    snprintf(buf + k, sizeof buf - k, "\"enterprise_sig\":\tnull%s", end);
    cr_assert_not(wn_claim_parse(&back, buf, strlen(buf), d, sizeof d));
    free(json);
}

Test(evaluate, steel_plant_known_answer)
{
    scenario s;
    steel(&s, 350 * M3, 290 * M3);
    wn_eval_result r;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert(r.eligible);
    cr_assert(r.saleable);
    cr_assert_eq(r.baseline.intake_l, 252000000, "350 m3/h x 720 h");
    cr_assert_eq(r.reporting.intake_l, 208800000, "290 m3/h x 720 h");
    cr_assert_eq(r.baseline.per_unit_ml, 3500000, "3.5 m3/t");
    cr_assert_eq(r.reporting.per_unit_ml, 2900000, "2.9 m3/t");
    cr_assert_eq(r.expected_l, 252000000);
    cr_assert_eq(r.saving_l, 43200000, "0.6 m3/t x 72000 t");
    cr_assert_eq(r.annual_l, 525600000, "43200 m3 x 365 / 30");
    cr_assert_eq(r.subsidy_fen, 20000000, "8 %% of 2,500,000.00 CNY = 200,000.00 CNY");
    cr_assert_eq(r.baseline.meters[0].completeness_ppm, 1000000);
    cr_assert_eq(r.baseline.meters[0].n_readings, 721, "one before the start, 720 in the period... and the end");
    cr_assert(r.baseline.meters[0].start.exact && r.baseline.meters[0].end.exact);
    cr_assert_eq(r.cp.size, 9000);

    char *t1 = wn_eval_text(&s.in, &r), *t2 = wn_eval_text(&s.in, &r);
    char *j1 = wn_eval_json(&s.in, &r), *j2 = wn_eval_json(&s.in, &r);
    cr_assert_str_eq(t1, t2);
    cr_assert_str_eq(j1, j2);
    cr_assert_not_null(strstr(t1, "DECISION: ELIGIBLE for the subsidy of 200000.00 CNY (20000000 fen)"), "%s", t1);
    cr_assert_not_null(strstr(t1, "annualised         floor(43200000 L x 31536000000 ms / 2592000000 ms) = 525600000 L"), "%s", t1);
    cJSON *j = cJSON_Parse(j1);
    cr_assert_not_null(j, "the JSON parses: %s", j1);
    cJSON *dec = cJSON_GetObjectItem(j, "decision");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(dec, "eligible")));
    cr_assert_eq(cJSON_GetObjectItem(dec, "subsidy_fen")->valuedouble, 20000000.0);
    cr_assert_eq(cJSON_GetObjectItem(dec, "annual_saving_l")->valuedouble, 525600000.0);
    cJSON_Delete(j);
    free(t1), free(t2), free(j1), free(j2);
    wn_eval_free(&r);
}

Test(evaluate, interpolation_at_unaligned_boundaries)
{
    scenario s;
    steel(&s, 350 * M3, 290 * M3);
    /* periods that start and end on the half hour: the totaliser is interpolated */
    s.claim.baseline.from_ms += HOUR / 2;
    s.claim.baseline.to_ms += HOUR / 2;
    s.claim.reporting.from_ms += HOUR / 2;
    s.claim.reporting.to_ms += HOUR / 2;
    s.base[0].to_ms += HOUR / 2;
    s.rep[0].to_ms += HOUR / 2;
    sign_and_certify(&s.claim);
    wn_eval_result r;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_eq(r.baseline.intake_l, 252000000);
    cr_assert_eq(r.reporting.intake_l, 208800000);
    const wn_eval_meter *m = &r.baseline.meters[0];
    cr_assert_not(m->start.exact);
    cr_assert_eq(m->start.seq_a, 2);
    cr_assert_eq(m->start.seq_b, 3);
    cr_assert_eq(m->end.time_b - m->end.time_a, HOUR);
    wn_eval_free(&r);

    /* an uneven flow: the boundary value is the linear interpolation, floored to 10^-12 m3 */
    s.bb.r[1].volume_nl = 5000 * M3;          /* seq 2 at b0: 5000 m3 */
    for (size_t i = 2; i < s.bb.n; i++) s.bb.r[i].volume_nl = 5000 * M3 + 3 * NL_PER_L + (__int128)(i - 2) * 350 * M3;
    /* seq 3 is 3 L above seq 2: half an hour in, the totaliser reads 1.5 L above it */
    cr_assert(wn_evaluate(&s.in, &r));
    /* intake = value at b1 + 30 min - value at b0 + 30 min = (3 + 720*350000 - 175000) L - 1.5 L */
    cr_assert_eq(r.baseline.meters[0].intake_nl, (__int128)(3 + 719 * 350000 + 175000) * NL_PER_L - (__int128)15 * NL_PER_L / 10);
    cr_assert_eq(r.baseline.intake_l, 3 + 719 * 350000 + 175000 - 2, "floor(x - 1.5) on whole x");
    wn_eval_free(&r);
}

Test(evaluate, just_under_the_threshold)
{
    scenario s;
    /* reporting intake 243,780,822 L: saving 8,219,178 L, annualised 99,999,999 L */
    steel(&s, 350 * M3, (__int128)338584475 * NL_PER_L / 1000);
    wn_eval_result r;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.reporting.intake_l, 243780822);
    cr_assert_eq(r.saving_l, 8219178);
    cr_assert_eq(r.annual_l, 99999999);
    cr_assert_not(r.eligible);
    cr_assert(r.saleable, "the subsidy threshold does not limit a sale");
    cr_assert_eq(r.n_reasons, 1);
    cr_assert_str_eq(r.reasons[0].code, "saving_below_threshold");
    cr_assert(r.reasons[0].subsidy_only);
    cr_assert_not_null(strstr(r.reasons[0].detail, "99999.999 m3"), "%s", r.reasons[0].detail);
    cr_assert_eq(r.subsidy_fen, 0);
    wn_eval_free(&r);

    /* one more litre saved reaches it: 8,219,179 L -> 100,000,011 L */
    steel(&s, 350 * M3, (__int128)(243780821) * NL_PER_L / 720);
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.reporting.intake_l <= 243780821);
    cr_assert(r.annual_l >= 100000000);
    cr_assert(r.eligible);
    wn_eval_free(&r);
}

Test(evaluate, refusals_each_with_its_reason)
{
    scenario s;
    wn_eval_result r;

    /* a gap of 30 hours in the reporting period */
    steel(&s, 350 * M3, 290 * M3);
    for (size_t i = 300; i < s.rb.n; i++) s.rb.r[i].time_ms += 29 * HOUR;
    s.rep[0].to_ms += 29 * HOUR; /* (the readings still cover the period) */
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert(has_reason(&r, "gap"));
    cr_assert_not(r.eligible);
    cr_assert_not(r.saleable);
    cr_assert_not_null(strstr(r.reasons[0].detail, "seq 2300 at 2025-03-13T10:00:00.000Z and seq 2301"), "the gap is located: %s", r.reasons[0].detail);
    wn_eval_free(&r);

    /* a tamper flag */
    steel(&s, 350 * M3, 290 * M3);
    s.rb.r[100].flags = WN_FLAG_TAMPER;
    s.rb.r[101].flags = WN_FLAG_SUBSTITUTE | WN_FLAG_POWER_LOSS;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "flag_tamper"));
    cr_assert(has_reason(&r, "flag_substitute"));
    cr_assert_not(has_reason(&r, "flag_power_loss"), "power loss alone is not disqualifying in this policy");
    cr_assert_not(r.eligible);
    cr_assert_not(r.saleable);
    wn_eval_free(&r);

    /* a missing certifier signature */
    steel(&s, 350 * M3, 290 * M3);
    cr_assert(wn_claim_sign(&s.claim, ent_sk)); /* (signing again drops the certification) */
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_eq(r.n_reasons, 1);
    cr_assert_str_eq(r.reasons[0].code, "no_certification");
    cr_assert_not(r.eligible);
    wn_eval_free(&r);

    /* a forged certification */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.certifier_sig[10] ^= 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "certifier_signature"));
    wn_eval_free(&r);

    /* an unenrolled certifier */
    steel(&s, 350 * M3, 290 * M3);
    s.in.certifier.found = 0;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_eq(r.n_reasons, 1);
    cr_assert_str_eq(r.reasons[0].code, "certifier_not_enrolled");
    wn_eval_free(&r);

    /* a certifier key enrolled as a meter, and a revoked certifier */
    steel(&s, 350 * M3, 290 * M3);
    s.in.certifier.enrol.point = WN_POINT_INTAKE;
    s.in.certifier.revoked = 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "certifier_not_certifier"));
    cr_assert(has_reason(&r, "certifier_revoked"));
    wn_eval_free(&r);

    /* an investment below the threshold: no subsidy, the saving may still be sold */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.investment_fen = 199999999;
    s.claim.project_record.investment_fen = 199999999; /* as the registrar recorded it */
    cr_assert(wn_project_sign(&s.claim.project_record, reg_sk));
    sign_and_certify(&s.claim);
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_eq(r.n_reasons, 1);
    cr_assert_str_eq(r.reasons[0].code, "investment_below_threshold");
    cr_assert_not(r.eligible);
    cr_assert(r.saleable);
    cr_assert_eq(r.subsidy_fen, 0);
    wn_eval_free(&r);

    /* a claim the enterprise did not sign, or signed before a change */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.reporting.output = 80000000;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "enterprise_signature"));
    cr_assert(has_reason(&r, "certifier_signature"));
    wn_eval_free(&r);

    /* the meter belongs to another enterprise, is not tier 1, is enrolled as another source */
    steel(&s, 350 * M3, 290 * M3);
    strcpy(s.rep[0].enrol.enterprise, "91330400MA2B999999");
    s.base[0].enrol.tier = 2;
    s.base[0].enrol.source = WN_SOURCE_GROUNDWATER;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "meter_enterprise"));
    cr_assert(has_reason(&r, "meter_tier"));
    cr_assert(has_reason(&r, "meter_source"));
    wn_eval_free(&r);

    /* equivocation evidence, an unenrolled meter, periods too short, no saving */
    steel(&s, 350 * M3, 350 * M3);
    s.base[0].n_equivocations = 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "equivocation"));
    cr_assert(has_reason(&r, "no_saving"));
    cr_assert_not(r.saleable);
    wn_eval_free(&r);
    steel(&s, 350 * M3, 290 * M3);
    s.rep[0].found = 0;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "meter_not_enrolled"));
    cr_assert_not(r.computed);
    wn_eval_free(&r);
    steel(&s, 350 * M3, 290 * M3);
    s.claim.baseline.to_ms -= DAY;
    s.claim.reporting.from_ms += DAY;
    sign_and_certify(&s.claim);
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "baseline_too_short"));
    cr_assert(has_reason(&r, "reporting_too_short"));
    wn_eval_free(&r);
}

Test(evaluate, completeness_and_boundaries)
{
    scenario s;
    wn_eval_result r;
    /* every 20th reading missing: 36 two-hour intervals, 72 of 720 hours uncovered = 90 % */
    steel(&s, 350 * M3, 290 * M3);
    size_t k = 0;
    for (size_t i = 0; i < s.rb.n; i++) {
        if (i % 20 == 10) continue;
        s.rb.r[k] = s.rb.r[i];
        s.rb.r[k].seq = 2001 + k;
        k++;
    }
    s.rb.n = s.rep[0].n = k;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.reporting.meters[0].completeness_ppm, 900000);
    cr_assert(has_reason(&r, "completeness"));
    cr_assert_not(has_reason(&r, "gap"), "2 hours is no gap for this policy");
    cr_assert_eq(r.reporting.intake_l, 208800000, "missing readings do not change a totaliser's difference");
    wn_eval_free(&r);

    /* no reading yet after the end of the reporting period */
    steel(&s, 350 * M3, 290 * M3);
    s.rb.n -= 2;
    s.rep[0].n = s.rb.n;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "missing_boundary"));
    cr_assert_not(r.computed);
    wn_eval_free(&r);

    /* nothing before the start of the baseline */
    steel(&s, 350 * M3, 290 * M3);
    memmove(&s.bb.r[0], &s.bb.r[2], (s.bb.n - 2) * sizeof s.bb.r[0]);
    s.bb.n -= 2;
    s.base[0].n = s.bb.n;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "missing_boundary"));
    wn_eval_free(&r);
}

Test(evaluate, replacement_and_rollover)
{
    scenario s;
    wn_eval_result r;
    /* the meter body is replaced: its new totaliser restarts from 0 at the flagged reading */
    steel(&s, 350 * M3, 290 * M3);
    for (size_t i = 400; i < s.rb.n; i++) s.rb.r[i].volume_nl = (__int128)(i - 399) * 290 * M3;
    s.rb.r[400].flags = WN_FLAG_METER_REPLACED;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_eq(r.reporting.intake_l, 208800000, "the flagged reading's value is the flow since the restart");
    cr_assert_eq(r.reporting.meters[0].n_restarts, 1);
    wn_eval_free(&r);

    /* a register that wraps at 1,000,000 m3, declared in the claim */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.reporting.meters[0].rollover_l = 1000000000ULL;
    sign_and_certify(&s.claim);
    for (size_t i = 0; i < s.rb.n; i++) {
        __int128 v = 900000 * M3 + (__int128)i * 290 * M3;
        s.rb.r[i].volume_nl = v % (1000000 * M3);
        if (i > 0 && s.rb.r[i].volume_nl < s.rb.r[i - 1].volume_nl) s.rb.r[i].flags = WN_FLAG_METER_REPLACED;
    }
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_eq(r.reporting.meters[0].n_rollovers, 1);
    cr_assert_eq(r.reporting.intake_l, 208800000);
    wn_eval_free(&r);
}

Test(evaluate, sources_and_recycling)
{
    scenario s;
    steel(&s, 350 * M3, 290 * M3);
    /* the reporting period adds reclaimed water (not counted as intake) and a recycling meter */
    series_buf rec, cyc;
    uint8_t m1[32], m2[32];
    meter_id(m1, 1);
    meter_id(m2, 2);
    hourly(&rec, s.claim.reporting.from_ms - HOUR, 30 * 24 + 3, 0, 50 * M3);
    hourly(&cyc, s.claim.reporting.from_ms - HOUR, 30 * 24 + 3, 0, 3000 * M3);
    s.claim.reporting.meters[1] = (wn_claim_meter){.point = WN_POINT_INTAKE, .source = WN_SOURCE_RECLAIMED};
    memcpy(s.claim.reporting.meters[1].meter, m1, 32);
    s.claim.reporting.meters[2] = (wn_claim_meter){.point = WN_POINT_RECYCLING, .source = WN_SOURCE_TAP};
    memcpy(s.claim.reporting.meters[2].meter, m2, 32);
    s.claim.reporting.n_meters = 3;
    sign_and_certify(&s.claim);
    wn_eval_series rep[3] = {s.rep[0],
                             series(&rec, m1, WN_POINT_INTAKE, WN_SOURCE_RECLAIMED, s.claim.reporting.from_ms,
                                    s.claim.reporting.to_ms),
                             series(&cyc, m2, WN_POINT_RECYCLING, WN_SOURCE_TAP, s.claim.reporting.from_ms,
                                    s.claim.reporting.to_ms)};
    s.in.reporting = rep;
    wn_eval_result r;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_eq(r.reporting.nonconv_l, 36000000);
    cr_assert_eq(r.reporting.intake_l, 208800000, "reclaimed water is not intake under this policy");
    cr_assert_eq(r.reporting.recycled_l, 2160000000LL);
    /* R = 2160000 / (2160000 + 208800 + 36000) = 89.8203 % */
    cr_assert_eq(r.reporting.reuse_ppm, 898203);
    cr_assert_eq(r.saving_l, 43200000);
    wn_eval_free(&r);

    wn_policy p = jiaxing;
    p.nonconventional_is_intake = 1;
    s.in.policy = &p;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_eq(r.reporting.intake_l, 208800000 + 36000000);
    cr_assert_eq(r.saving_l, 43200000 - 36000000);
    wn_eval_free(&r);
}

/* One retrofit, one subsidy (docs/THREATS.md, "Money path"): the project record must be the
 * registrar's record of the claim's project, and the project's history must hold fewer
 * subsidies than the policy allows. Each refuses the subsidy only. */
static void project_refused(scenario *s, const char *code)
{
    wn_eval_result r;
    cr_assert(wn_evaluate(&s->in, &r));
    show(&r);
    cr_assert(has_reason(&r, code), "%s", code);
    cr_assert_not(r.eligible, "%s", code);
    cr_assert_eq(r.subsidy_fen, 0);
    cr_assert(r.saleable, "%s refuses the subsidy only", code);
    cr_assert_eq(r.saving_l, 43200000, "the figures stay");
    wn_eval_free(&r);
}

Test(evaluate, project_rules)
{
    scenario s;
    wn_eval_result r;
    steel(&s, 350 * M3, 290 * M3);
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.eligible);
    cr_assert(r.project_checked && r.project_ok);
    cr_assert_eq(r.subsidy_fen, 20000000);
    wn_eval_free(&r);

    steel(&s, 350 * M3, 290 * M3);
    s.claim.has_project_record = 0;
    project_refused(&s, "no_project_record");

    steel(&s, 350 * M3, 290 * M3);
    s.in.history_given = 0;
    project_refused(&s, "project_history_unknown");

    /* signed by another key than the registrar of the meters */
    steel(&s, 350 * M3, 290 * M3);
    cr_assert(wn_project_sign(&s.claim.project_record, ent_sk));
    project_refused(&s, "project_record");

    /* a record tampered with */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.project_record.investment_fen = 900000000;
    project_refused(&s, "project_record");

    /* a claim with a bigger investment than the registrar recorded */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.investment_fen = 900000000;
    sign_and_certify(&s.claim);
    project_refused(&s, "project_record");

    /* the record of another project, or of another enterprise */
    steel(&s, 350 * M3, 290 * M3);
    strcpy(s.claim.project_record.id, "another retrofit");
    cr_assert(wn_project_sign(&s.claim.project_record, reg_sk));
    project_refused(&s, "project_record");
    steel(&s, 350 * M3, 290 * M3);
    strcpy(s.claim.project_record.enterprise, "91330400MA2B999999");
    cr_assert(wn_project_sign(&s.claim.project_record, reg_sk));
    project_refused(&s, "project_record");

    /* commissioned during the baseline: the baseline already holds the retrofit */
    steel(&s, 350 * M3, 290 * M3);
    s.claim.project_record.commissioned_ms = s.claim.baseline.to_ms - DAY;
    cr_assert(wn_project_sign(&s.claim.project_record, reg_sk));
    project_refused(&s, "project_commissioning");

    /* an earlier subsidy of the project; a sale of it, or a subsidy of another, does not count */
    wn_eval_prior prior[3];
    memset(prior, 0, sizeof prior);
    prior[0].index = 7;
    prior[0].c.purpose = WN_PURPOSE_SALE;
    strcpy(prior[0].c.project, s.claim.project);
    prior[1].index = 8;
    prior[1].c.purpose = WN_PURPOSE_SUBSIDY;
    strcpy(prior[1].c.project, "another retrofit");
    prior[2].index = 9;
    prior[2].c.purpose = WN_PURPOSE_SUBSIDY;
    strcpy(prior[2].c.project, s.claim.project);
    steel(&s, 350 * M3, 290 * M3);
    s.in.prior = prior;
    s.in.n_prior = 2;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.eligible, "a sale and another project's subsidy do not count");
    wn_eval_free(&r);
    s.in.n_prior = 3;
    project_refused(&s, "project_already_subsidised");
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_eq(r.n_prior_subsidies, 1);
    cr_assert_eq(r.prior_index[0], 9);
    char *text = wn_eval_text(&s.in, &r);
    cr_assert_not_null(strstr(text, "subsidy certificates the project already holds: 1 (ledger index 9)"), "%s", text);
    free(text);
    wn_eval_free(&r);

    /* a policy that sets no limit needs neither */
    wn_policy p = jiaxing;
    p.subsidies_per_project = 0;
    s.in.policy = &p;
    s.claim.has_project_record = 0;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.eligible);
    cr_assert_not(r.project_checked);
    wn_eval_free(&r);
}

Test(evaluate, policy_effective_dates)
{
    scenario s;
    wn_eval_result r;
    wn_policy p = jiaxing;
    steel(&s, 350 * M3, 290 * M3);
    s.in.policy = &p;
    p.in_force = 1;
    p.effective_from_ms = s.claim.reporting.from_ms;
    p.effective_to_ms = s.claim.reporting.to_ms;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.eligible, "the period lies inside the dates");
    wn_eval_free(&r);
    p.effective_from_ms += 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "policy_not_in_force"));
    cr_assert_not(r.eligible);
    cr_assert_not(r.saleable);
    wn_eval_free(&r);
    p.effective_from_ms -= 1;
    p.effective_to_ms -= 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "policy_not_in_force"));
    wn_eval_free(&r);
}

/* Self-certification (docs/THREATS.md, "Money path"): the certifier must be another
 * organisation than the claimant, and hold another key. */
Test(evaluate, certifier_independent_of_the_claimant)
{
    scenario s;
    wn_eval_result r;
    steel(&s, 350 * M3, 290 * M3);
    strcpy(s.in.certifier.enrol.enterprise, "91330400MA2B000000");
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "certifier_not_independent"));
    cr_assert_not(r.eligible);
    cr_assert_not(r.certifier_ok);
    wn_eval_free(&r);

    steel(&s, 350 * M3, 290 * M3);
    cr_assert(wn_claim_certify(&s.claim, ent_sk, s.claim.reporting.to_ms + 10 * DAY, "SELF-1"));
    cr_assert(wn_seckey_xonly(s.in.certifier.enrol.meter, ent_sk));
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "certifier_not_independent"));
    cr_assert_not(r.eligible);
    wn_eval_free(&r);

    steel(&s, 350 * M3, 290 * M3);
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_not(has_reason(&r, "certifier_not_independent"));
    cr_assert(r.eligible);
    wn_eval_free(&r);
}

/* require_calibration: the readings used, boundary readings included, must lie in the union
 * of the meter's calibration validities; back-to-back records join, a hole refuses the claim
 * naming the uncovered interval, and without the policy member records are not read. */
Test(evaluate, calibration_coverage)
{
    scenario s;
    wn_eval_result r;
    char t[25];
    steel(&s, 350 * M3, 290 * M3);
    const uint64_t B = s.claim.baseline.from_ms, R = s.claim.reporting.from_ms;
    /* two records back to back cover everything: the honest figures */
    wn_calibration two[2] = {{.calibrated_ms = B - DAY, .valid_until_ms = R + 5 * DAY},
                             {.calibrated_ms = R + 5 * DAY, .valid_until_ms = R + 400 * DAY}};
    s.base[0].cals = s.rep[0].cals = two;
    s.base[0].n_cals = s.rep[0].n_cals = 2;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert(r.eligible);
    cr_assert_eq(r.saving_l, 43200000);
    wn_eval_free(&r);
    /* a hole of two days in the reporting period: calibration_lapsed, [R+5d, R+7d) named */
    two[1].calibrated_ms = R + 7 * DAY;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_not(r.eligible);
    cr_assert_not(r.computed);
    cr_assert(has_reason(&r, "calibration_lapsed"));
    cr_assert_not(has_reason(&r, "meter_not_calibrated"));
    int found = 0;
    wn_time_format(t, R + 5 * DAY);
    for (size_t i = 0; i < r.n_reasons; i++)
        if (strcmp(r.reasons[i].code, "calibration_lapsed") == 0) {
            found = 1;
            cr_assert(strstr(r.reasons[i].detail, t), "%s", r.reasons[i].detail);
            wn_time_format(t, R + 7 * DAY);
            cr_assert(strstr(r.reasons[i].detail, t), "%s", r.reasons[i].detail);
            cr_assert(strstr(r.reasons[i].detail, "(reporting)"), "%s", r.reasons[i].detail);
        }
    cr_assert(found);
    wn_eval_free(&r);
    /* the validity is half-open and every reading used counts: from the period's first reading
     * on is enough, a millisecond later leaves that reading uncovered */
    two[0].calibrated_ms = B; /* a reading lies exactly at B: the one before is not used */
    two[1].calibrated_ms = R + 5 * DAY;
    cr_assert(wn_evaluate(&s.in, &r));
    show(&r);
    cr_assert(r.eligible);
    wn_eval_free(&r);
    two[0].calibrated_ms = B + 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "calibration_lapsed"));
    cr_assert_not(r.eligible);
    wn_eval_free(&r);
    two[0].calibrated_ms = B - DAY;
    two[0].valid_until_ms = R + 30 * DAY; /* ends exactly at the last reading used (R+30d): uncovered */
    two[1].calibrated_ms = R + 31 * DAY;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "calibration_lapsed"));
    wn_eval_free(&r);
    two[0].valid_until_ms = R + 30 * DAY + 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(r.eligible);
    wn_eval_free(&r);
    /* no record covering any of it: meter_not_calibrated */
    wn_calibration old = {.calibrated_ms = B - 400 * DAY, .valid_until_ms = B - 300 * DAY};
    s.base[0].cals = s.rep[0].cals = &old;
    s.base[0].n_cals = s.rep[0].n_cals = 1;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert(has_reason(&r, "meter_not_calibrated"));
    cr_assert_not(has_reason(&r, "calibration_lapsed"));
    wn_eval_free(&r);
    /* a policy without require_calibration does not read them */
    wn_policy lax = jiaxing;
    lax.require_calibration = 0;
    s.in.policy = &lax;
    cr_assert(wn_evaluate(&s.in, &r));
    cr_assert_not(has_reason(&r, "meter_not_calibrated"));
    cr_assert_eq(r.saving_l, 43200000);
    wn_eval_free(&r);
}
