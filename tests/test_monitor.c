/* test_monitor.c — the monitoring API (docs/PROTOCOL.md §18) of a real wn-node fed with
 * readings whose every value the test chose: per-day totals by source, reuse rate,
 * non-conventional share, the water balance and its imbalance are recomputed here from
 * the same readings and must equal the node's; the alerts the scenario provokes (leak →
 * imbalance, and no night flow on two days of history; tamper flag, pH out of range, sequence gap, equivocation,
 * over plan, a silent meter) appear with the right evidence; acknowledgements are kept
 * with who made them; a rebuild of the aggregates from the ledger gives the same answers;
 * and the bearer-token rules hold (401 without or with a wrong token, 403 for another
 * enterprise's data, public routes stay public). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/sig.h"
#include "tests/support/monfeed.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

#define BUREAU "bureau-token-0123456789abcdef"
#define ENTA "enta-token-0123456789abcdef"
#define ENTB "entb-token-0123456789abcdef"
#define K 289 /* readings per meter: 3 days of 15 minutes and the midnight after */
#define Q15 (15 * 60000ULL)

enum { P, C1, C2, QM, RM, DM, MB, NM }; /* intake, 2 children, reclaimed intake, recycling, discharge; ENT-B */

static struct {
    char *tmp;
    wn_test_node node;
    uint8_t reg_sk[32], reg_pk[32];
    wn_mf_meter m[NM];
    uint32_t day0;
    uint64_t t[K];
    int64_t inc[NM][K];
    uint64_t idx[NM][K];
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

static void start_node(void)
{
    char reg[65], tokens[4200];
    wn_hex_encode(reg, S.reg_pk, 32);
    snprintf(tokens, sizeof tokens, "%s/tokens", S.tmp);
    const char *args[] = {"--registrar", reg, "--checkpoint-ms", "50", "--tokens", tokens, NULL};
    if (!wn_test_node_start(&S.node, args)) {
        char *log = wn_test_read_file(S.node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
}

static void setup(void)
{
    memset(&S, 0, sizeof S);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    S.tmp = wn_test_tmpdir("monitor");
    cr_assert(S.tmp);
    wn_test_node_init(&S.node, S.tmp);
    cr_assert(wn_seckey_generate(S.reg_sk) && wn_seckey_xonly(S.reg_pk, S.reg_sk));
    char path[4200];
    snprintf(path, sizeof path, "%s/tokens", S.tmp);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "# monitoring tokens\n%s bureau\n%s enterprise ENT-A\n\n%s enterprise ENT-B\n", BUREAU, ENTA, ENTB);
    fclose(f);
    start_node();
}

static void teardown(void)
{
    wn_test_node_stop(&S.node, SIGKILL);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(S.tmp);
    free(S.tmp);
    curl_global_cleanup();
}

/* ---- HTTP and JSON ---- */

static cJSON *get_json(const char *token, long status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cJSON *get_json(const char *token, long status, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, "GET", path, NULL, &r), "no answer to %s", path);
    cr_assert_eq(r.status, status, "GET %s: expected %ld, got %ld: %s", path, status, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert(j, "GET %s: not JSON: %s", path, r.body);
    free(r.body);
    return j;
}

static long post_status(const char *token, const char *path, const char *json, char *code, size_t cap)
{
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, "POST", path, json, &r));
    if (code) {
        cJSON *j = cJSON_Parse(r.body);
        const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
        snprintf(code, cap, "%s", cJSON_IsString(e) ? e->valuestring : "");
        cJSON_Delete(j);
    }
    free(r.body);
    return r.status;
}

static void expect_error(const char *token, const char *path, long status, const char *code)
{
    cJSON *j = get_json(token, status, "%s", path);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    cr_assert(cJSON_IsString(e) && strcmp(e->valuestring, code) == 0, "GET %s: expected error %s", path, code);
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "detail")));
    cJSON_Delete(j);
}

static const cJSON *at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(v, "no member %s", k);
    return v;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = at(o, k);
    cr_assert(cJSON_IsNumber(v), "member %s is not a number", k);
    return v->valuedouble;
}

static void expect_near(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-6 * (fabs(want) > 1 ? fabs(want) : 1), "%s: node says %.9f, the readings give %.9f",
              what, got, want);
}

static void day_str(char out[11], uint32_t day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the scenario ---- */

static uint64_t prng_state = 42;
static int64_t prng(int64_t mod)
{
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return (int64_t)(prng_state % (uint64_t)mod);
}

static void enrol_all(void)
{
    static const struct {
        const char *ent;
        unsigned point, tier, source;
        int parent;
    } facts[NM] = {
        [P] = {"ENT-A", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, -1},
        [C1] = {"ENT-A", WN_POINT_USE, 2, WN_SOURCE_SURFACE, P},
        [C2] = {"ENT-A", WN_POINT_USE, 2, WN_SOURCE_SURFACE, P},
        [QM] = {"ENT-A", WN_POINT_INTAKE, 1, WN_SOURCE_RECLAIMED, -1},
        [RM] = {"ENT-A", WN_POINT_RECYCLING, 2, WN_SOURCE_RECLAIMED, -1},
        [DM] = {"ENT-A", WN_POINT_DISCHARGE, 1, WN_SOURCE_SURFACE, -1},
        [MB] = {"ENT-B", WN_POINT_INTAKE, 1, WN_SOURCE_GROUNDWATER, -1},
    };
    char err[256];
    for (int i = 0; i < NM; i++) {
        cr_assert(wn_mf_meter_new(&S.m[i]));
        cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &S.m[i], facts[i].ent, facts[i].point, facts[i].tier,
                              facts[i].source, facts[i].parent >= 0 ? &S.m[facts[i].parent] : NULL, err),
                  "%s", err);
    }
}

/* Three CST days from day0 (eight days ago) and the midnight after, every 15 minutes: a
 * working pattern with quiet nights; a leak in the intake on day 2 that its children do
 * not see; the discharge meter's tamper switch at k = 150; the recycled water's pH 10.5
 * at k = 100. */
static void feed(int nk)
{
    S.day0 = wn_mf_cst_day(now_ms()) - 8;
    wn_reading *batch = calloc(64 * NM, sizeof *batch);
    uint64_t *bidx = calloc(64 * NM, sizeof *bidx);
    cr_assert(batch && bidx);
    size_t nb = 0;
    int kfirst = 0;
    char err[256];
    for (int k = 0; k < nk; k++) {
        S.t[k] = wn_mf_cst_day_start(S.day0) + (uint64_t)k * Q15;
        unsigned local_hour = (unsigned)((S.t[k] + 8 * 3600000ULL) / 3600000ULL % 24);
        int64_t base = 1000 + prng(4000);
        if (local_hour < 6) base /= 10;
        int leak = wn_mf_cst_day(S.t[k]) == S.day0 + 2;
        int64_t inc[NM] = {[P] = base + (leak ? 2500 : 0), [C1] = base * 40 / 100, [C2] = base * 58 / 100,
                           [QM] = 200 + prng(300), [RM] = 3 * base, [DM] = base * 60 / 100, [MB] = 500 + prng(500)};
        for (int i = 0; i < NM; i++) {
            S.inc[i][k] = k == 0 ? 0 : inc[i]; /* a first reading counts no increment */
            unsigned flags = i == DM && k == 150 ? WN_FLAG_TAMPER : 0;
            int ph = i == RM ? (k == 100 ? 1050 : 720) : -1;
            wn_mf_next(&S.m[i], &batch[nb], S.t[k], k == 0 ? 0 : inc[i], flags, ph);
            wn_mf_advance(&S.m[i], &batch[nb]);
            nb++;
        }
        if (nb == 64 * NM || k == nk - 1) {
            cr_assert(wn_mf_post(S.node.url, batch, nb, bidx, err), "%s", err);
            for (size_t j = 0; j < nb; j++) S.idx[j % NM][kfirst + (int)(j / NM)] = bidx[j];
            kfirst = k + 1;
            nb = 0;
        }
    }
    for (int i = 0; i < NM; i++) S.m[i].index = S.idx[i][nk - 1];
    free(batch);
    free(bidx);
}

/* The increments of meter i with reading time in [from, to). */
static int64_t sum(int i, uint64_t from, uint64_t to)
{
    int64_t s = 0;
    for (int k = 0; k < K; k++)
        if (S.t[k] >= from && S.t[k] < to) s += S.inc[i][k];
    return s;
}

static const cJSON *find_row(const cJSON *arr, const char *key, const char *val)
{
    for (const cJSON *r = arr->child; r; r = r->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, val) == 0) return r;
    }
    return NULL;
}

/* Alerts of a kind for a meter (NULL: any), as an array the caller frees with the root. */
static const cJSON *find_alert(const cJSON *alerts, const char *kind, const char *meter, int nth)
{
    for (const cJSON *a = alerts->child; a; a = a->next) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(a, "kind"), *m = cJSON_GetObjectItemCaseSensitive(a, "meter");
        if (strcmp(k->valuestring, kind) != 0) continue;
        if (meter && (!cJSON_IsString(m) || strcmp(m->valuestring, meter) != 0)) continue;
        if (nth-- == 0) return a;
    }
    return NULL;
}

static uint64_t ev(const cJSON *alert, int i)
{
    const cJSON *e = cJSON_GetArrayItem(at(alert, "evidence"), i);
    cr_assert(cJSON_IsNumber(e), "evidence %d missing", i);
    return (uint64_t)e->valuedouble;
}

/* ---- checks ---- */

static void check_days(const char *token)
{
    char from[11], to[11];
    day_str(from, S.day0);
    day_str(to, S.day0 + 4);
    cJSON *j = get_json(token, 200, "/v1/monitor/enterprise?id=ENT-A&from=%s&to=%s", from, to);
    const cJSON *days = at(j, "days");
    for (uint32_t d = S.day0; d < S.day0 + 4; d++) {
        char ds[11];
        day_str(ds, d);
        const cJSON *row = find_row(days, "day", ds);
        cr_assert(row, "no row for %s", ds);
        uint64_t a = wn_mf_cst_day_start(d), b = wn_mf_cst_day_start(d + 1);
        double p = sum(P, a, b) / 1000.0, q = sum(QM, a, b) / 1000.0, r = sum(RM, a, b) / 1000.0, dis = sum(DM, a, b) / 1000.0;
        const cJSON *in = at(row, "intake");
        expect_near(num(in, "surface"), p, "intake from surface water");
        expect_near(num(in, "reclaimed"), q, "intake of reclaimed water");
        expect_near(num(in, "groundwater"), 0, "intake of groundwater (ENT-B's only)");
        expect_near(num(row, "intake_total"), p + q, "intake total (sub-meters not counted twice)");
        expect_near(num(row, "nonconventional"), q, "non-conventional intake");
        expect_near(num(row, "recycled"), r, "recycled");
        expect_near(num(row, "discharge"), dis, "discharge");
        if (p + q + r > 0) expect_near(num(row, "reuse_rate"), r / (r + p + q) * 100, "R = Vr/(Vr+Vf)");
        if (p + q > 0) expect_near(num(row, "nonconventional_share"), q / (p + q) * 100, "non-conventional share");
    }
    const cJSON *tot = at(j, "totals");
    uint64_t a = wn_mf_cst_day_start(S.day0), b = wn_mf_cst_day_start(S.day0 + 4);
    expect_near(num(tot, "intake_total"), (sum(P, a, b) + sum(QM, a, b)) / 1000.0, "window intake");
    expect_near(num(tot, "recycled"), sum(RM, a, b) / 1000.0, "window recycled");
    cr_assert_eq(cJSON_GetArraySize(at(j, "meters")), 6, "ENT-A has six meters");
    cJSON_Delete(j);
}

static void check_balance(uint64_t from, uint64_t to)
{
    cJSON *j = get_json(BUREAU, 200, "/v1/monitor/balance?enterprise=ENT-A&from=%llu&to=%llu", (unsigned long long)from,
                        (unsigned long long)to);
    const cJSON *rows = at(j, "rows");
    cr_assert_eq(cJSON_GetArraySize(rows), 1, "one meter of ENT-A has children");
    const cJSON *row = rows->child;
    cr_assert_str_eq(at(row, "meter")->valuestring, S.m[P].hex);
    double p = sum(P, from, to) / 1000.0, c = (sum(C1, from, to) + sum(C2, from, to)) / 1000.0;
    expect_near(num(row, "volume"), p, "tier-1 volume");
    expect_near(num(row, "children_sum"), c, "sum of the tier-2 children");
    expect_near(num(row, "imbalance_m3"), p - c, "imbalance m3");
    double pct = (p - c) / p * 100;
    expect_near(num(row, "imbalance_pct"), pct, "imbalance %");
    cr_assert_eq(cJSON_IsTrue(at(row, "flagged")), fabs(pct) > 5, "flagged iff above the 5 %% threshold (%.3f %%)", pct);
    cr_assert_eq(cJSON_GetArraySize(at(row, "children")), 2);
    cJSON_Delete(j);
}

static void check_alerts(cJSON **out)
{
    cJSON *j = get_json(BUREAU, 200, "/v1/monitor/alerts?status=all");
    const cJSON *al = at(j, "alerts");
    char d1[11], d2[11];
    day_str(d1, S.day0 + 1);
    day_str(d2, S.day0 + 2);
    /* the leak: day 2 out of balance (day 1 within 5 %), evidence the intake's last reading of day 2 */
    const cJSON *imb = find_alert(al, "imbalance", S.m[P].hex, 0);
    cr_assert(imb, "no imbalance alert");
    cr_assert_str_eq(at(at(imb, "detail"), "day")->valuestring, d2);
    cr_assert_null(find_alert(al, "imbalance", S.m[P].hex, 1), "only day 2 is out of balance");
    int last_k_day2 = 2 * 96 + 95;
    cr_assert_eq(ev(imb, 0), S.idx[P][last_k_day2], "imbalance evidence: the intake's last reading of the day");
    uint64_t a = wn_mf_cst_day_start(S.day0 + 2), b = wn_mf_cst_day_start(S.day0 + 3);
    double p = sum(P, a, b) / 1000.0, c = (sum(C1, a, b) + sum(C2, a, b)) / 1000.0;
    expect_near(num(at(imb, "detail"), "parent_m3"), p, "imbalance alert parent m3");
    expect_near(num(at(imb, "detail"), "children_m3"), c, "imbalance alert children m3");
    /* at night too, but two days of history are not the 7 comparable nights a night is
     * judged against (test_monitor_alerts.c tests night flow) */
    cr_assert_null(find_alert(al, "night_flow", S.m[P].hex, 0), "a night judged against too few comparable nights");
    cr_assert_null(find_alert(al, "night_flow", S.m[C1].hex, 0), "the children have quiet nights");
    /* tamper flag and pH, with the flagged readings' indices */
    const cJSON *tam = find_alert(al, "tamper", S.m[DM].hex, 0);
    cr_assert(tam, "no tamper alert");
    cr_assert_eq(ev(tam, 0), S.idx[DM][150]);
    const cJSON *ph = find_alert(al, "quality", S.m[RM].hex, 0);
    cr_assert(ph, "no water-quality alert");
    cr_assert_str_eq(at(ph, "quantity")->valuestring, "ph");
    cr_assert_eq(ev(ph, 0), S.idx[RM][100]);
    expect_near(num(ph, "value"), 10.5, "pH value");
    cr_assert_null(find_alert(al, "silent", NULL, 0), "no meter has been silent");
    cr_assert_null(find_alert(al, "quality", S.m[DM].hex, 0));
    if (out) *out = j;
    else cJSON_Delete(j);
}

Test(monitor, numbers_alerts_and_rebuild, .init = setup, .fini = teardown, .timeout = 120)
{
    enrol_all();
    feed(K);
    check_days(BUREAU);
    check_days(ENTA);
    /* balance over whole days (day buckets) and over hours that straddle days */
    check_balance(wn_mf_cst_day_start(S.day0 + 1), wn_mf_cst_day_start(S.day0 + 3));
    check_balance(wn_mf_cst_day_start(S.day0 + 1) + 6 * 3600000ULL, wn_mf_cst_day_start(S.day0 + 2) + 18 * 3600000ULL);
    check_balance(wn_mf_cst_day_start(S.day0 + 2) + 3 * 3600000ULL, wn_mf_cst_day_start(S.day0 + 2) + 9 * 3600000ULL);
    check_alerts(NULL);

    /* the meter view: hourly volumes of day 2 add up to the day */
    {
        uint64_t a = wn_mf_cst_day_start(S.day0 + 2), b = wn_mf_cst_day_start(S.day0 + 3);
        cJSON *j = get_json(BUREAU, 200, "/v1/monitor/meter?id=%s&from=%llu&to=%llu", S.m[P].hex,
                            (unsigned long long)a, (unsigned long long)b);
        double s = 0;
        int n = 0;
        for (const cJSON *r = at(j, "series")->child; r; r = r->next, n++) s += num(r, "volume");
        cr_assert_eq(n, 24, "24 hourly buckets");
        expect_near(s, sum(P, a, b) / 1000.0, "hourly volumes of a day");
        cr_assert_eq((uint64_t)num(j, "last_seq"), (uint64_t)K);
        cr_assert_eq(cJSON_GetArraySize(at(j, "recent")), 20);
        cr_assert(strstr(at(j, "bundle")->valuestring, "/v1/bundle?meter="), "link to the proof bundle");
        cJSON_Delete(j);
    }

    /* ENT-B's meter: a sequence gap, then an equivocation */
    wn_mf_meter *mb = &S.m[MB];
    wn_reading r;
    wn_mf_resp resp;
    wn_mf_meter skip = *mb;
    skip.seq++;
    wn_mf_next(&skip, &r, mb->time + Q15, 100, 0, -1);
    cr_assert(wn_mf_post_one(S.node.url, &r, &resp));
    cr_assert_eq(resp.status, 409, "%s", resp.body);
    free(resp.body);
    wn_mf_meter again = *mb;
    again.seq--; /* a different reading with the last sequence */
    wn_mf_next(&again, &r, mb->time, 7, 0, -1);
    cr_assert(wn_mf_post_one(S.node.url, &r, &resp));
    cr_assert_eq(resp.status, 409, "%s", resp.body);
    cr_assert(strstr(resp.body, "equivocation"), "%s", resp.body);
    free(resp.body);
    {
        cJSON *j = get_json(ENTB, 200, "/v1/monitor/alerts");
        const cJSON *gap = find_alert(at(j, "alerts"), "sequence_gap", mb->hex, 0);
        cr_assert(gap, "no sequence-gap alert");
        cr_assert_eq((uint64_t)num(at(gap, "detail"), "expected_seq"), mb->seq + 1);
        cr_assert_eq((uint64_t)num(at(gap, "detail"), "received_seq"), mb->seq + 2);
        cr_assert_eq(ev(gap, 0), mb->index, "evidence: the last accepted reading");
        const cJSON *eq = find_alert(at(j, "alerts"), "equivocation", mb->hex, 0);
        cr_assert(eq, "no equivocation alert");
        cr_assert_eq(ev(eq, 0), mb->index, "the original reading");
        cr_assert(ev(eq, 1) > mb->index, "the evidence entry");
        cr_assert_null(find_alert(at(j, "alerts"), "tamper", NULL, 0), "ENT-B sees none of ENT-A's alerts");
        cJSON_Delete(j);
    }

    /* over plan: a plan below what ENT-A took in that year */
    time_t yt = (time_t)(S.day0 + 1) * 86400;
    struct tm tm;
    gmtime_r(&yt, &tm);
    int year = tm.tm_year + 1900;
    char body[256], code[64];
    snprintf(body, sizeof body, "{\"enterprise\":\"ENT-A\",\"year\":%d,\"plan_m3\":\"10.5\"}", year);
    cr_assert_eq(post_status(ENTA, "/v1/monitor/plans", body, code, sizeof code), 403, "only the bureau sets plans");
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/plans", body, code, sizeof code), 200, "%s", code);
    {
        cJSON *j = get_json(BUREAU, 200, "/v1/monitor/alerts?kind=over_plan");
        const cJSON *op = find_alert(at(j, "alerts"), "over_plan", NULL, 0);
        cr_assert(op, "no over-plan alert");
        cr_assert_str_eq(at(op, "enterprise")->valuestring, "ENT-A");
        cJSON_Delete(j);
        j = get_json(ENTA, 200, "/v1/monitor/plans");
        const cJSON *pl = at(j, "plans")->child;
        cr_assert(pl);
        int64_t used = 0;
        for (int k = 0; k < K; k++) {
            time_t tt = (time_t)((S.t[k] + 8 * 3600000ULL) / 1000);
            struct tm t2;
            gmtime_r(&tt, &t2);
            if (t2.tm_year + 1900 == year) used += S.inc[P][k] + S.inc[QM][k];
        }
        expect_near(num(pl, "used_m3"), used / 1000.0, "intake used in the plan year");
        expect_near(num(pl, "plan_m3"), 10.5, "plan");
        expect_near(num(pl, "over_pct"), (used / 1000.0 - 10.5) / 10.5 * 100, "over-plan share");
        cJSON_Delete(j);
    }

    /* production against the quota */
    char month[8];
    strftime(month, sizeof month, "%Y-%m", &tm);
    snprintf(body, sizeof body, "{\"enterprise\":\"ENT-A\",\"month\":\"%s\",\"product\":\"crude_steel\",\"quantity\":\"100\"}", month);
    cr_assert_eq(post_status(ENTB, "/v1/monitor/production", body, code, sizeof code), 403);
    cr_assert_eq(post_status(ENTA, "/v1/monitor/production", body, code, sizeof code), 200, "%s", code);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/production",
                             "{\"enterprise\":\"ENT-A\",\"month\":\"2026-13\",\"product\":\"crude_steel\",\"quantity\":\"1\"}",
                             code, sizeof code), 400);
    {
        char from[11];
        day_str(from, S.day0);
        cJSON *j = get_json(ENTA, 200, "/v1/monitor/enterprise?id=ENT-A&from=%s", from);
        const cJSON *pr = at(j, "production")->child;
        cr_assert(pr, "no production row");
        expect_near(num(pr, "quota"), 3.5, "Hunan crude steel quota");
        expect_near(num(pr, "m3_per_unit"), num(pr, "intake_m3") / 100, "water per unit product");
        cJSON_Delete(j);
    }

    /* acknowledging: recorded with who did it, once */
    cJSON *before;
    check_alerts(&before);
    const char *tamper_id = at(find_alert(at(before, "alerts"), "tamper", S.m[DM].hex, 0), "id")->valuestring;
    snprintf(body, sizeof body, "{\"alert\":\"%s\",\"by\":\"王工\",\"note\":\"现场检查\"}", tamper_id);
    cr_assert_eq(post_status(ENTA, "/v1/monitor/ack", body, code, sizeof code), 403);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/ack", body, code, sizeof code), 200, "%s", code);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/ack", body, code, sizeof code), 409);
    cr_assert_str_eq(code, "already_acknowledged");
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/ack", "{\"alert\":\"00000000000000000000000000000000\",\"by\":\"x\"}", code,
                             sizeof code), 404);
    {
        cJSON *j = get_json(BUREAU, 200, "/v1/monitor/alerts?status=acknowledged");
        const cJSON *a = find_alert(at(j, "alerts"), "tamper", S.m[DM].hex, 0);
        cr_assert(a && cJSON_IsObject(at(a, "ack")), "the acknowledgement is listed");
        cr_assert_str_eq(at(at(a, "ack"), "by")->valuestring, "王工");
        cr_assert_str_eq(at(at(a, "ack"), "role")->valuestring, "bureau");
        cr_assert_str_eq(at(at(a, "ack"), "note")->valuestring, "现场检查");
        cJSON_Delete(j);
    }

    /* a rebuild from the ledger answers the same */
    int status = wn_test_node_stop(&S.node, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wn-node did not stop cleanly");
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/state'", S.node.data);
    cr_assert_eq(system(cmd), 0);
    start_node();
    char *log = wn_test_read_file(S.node.log, NULL);
    cr_assert(log && strstr(log, "monitor: applied ledger entries 0.."), "the aggregates were rebuilt");
    free(log);
    check_days(BUREAU);
    check_balance(wn_mf_cst_day_start(S.day0 + 1), wn_mf_cst_day_start(S.day0 + 3));
    cJSON *after = get_json(BUREAU, 200, "/v1/monitor/alerts?status=all");
    cr_assert_eq(num(after, "total"), num(before, "total"), "the same alerts");
    for (const cJSON *a = at(before, "alerts")->child; a; a = a->next) {
        const char *id = at(a, "id")->valuestring;
        const cJSON *b = NULL;
        for (b = at(after, "alerts")->child; b && strcmp(at(b, "id")->valuestring, id) != 0; b = b->next) {}
        cr_assert(b, "alert %s (%s) lost in the rebuild", id, at(a, "kind")->valuestring);
        cr_assert_eq(cJSON_IsObject(at(b, "ack")), strcmp(id, tamper_id) == 0, "acknowledgements survive");
    }
    cJSON_Delete(before);
    cJSON_Delete(after);

    /* a silent meter: ENT-B's meter reads every second, then stops */
    snprintf(body, sizeof body, "{\"silent_min_ms\":0}");
    cr_assert_eq(post_status(ENTB, "/v1/monitor/settings", body, code, sizeof code), 403);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/settings", body, code, sizeof code), 200, "%s", code);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/settings", "{\"ph_min\":\"x\"}", code, sizeof code), 400);
    uint64_t t0 = now_ms() - 6000;
    wn_reading rs[5];
    for (int i = 0; i < 5; i++) {
        wn_mf_next(mb, &rs[i], t0 + (uint64_t)i * 1000, 10, 0, -1);
        wn_mf_advance(mb, &rs[i]);
    }
    char err[256];
    cr_assert(wn_mf_post(S.node.url, rs, 5, NULL, err), "%s", err);
    const cJSON *silent = NULL;
    cJSON *j = NULL;
    for (int tries = 0; tries < 100 && !silent; tries++) {
        sleep_ms(200);
        cJSON_Delete(j);
        j = get_json(BUREAU, 200, "/v1/monitor/alerts?status=ongoing&kind=silent");
        silent = find_alert(at(j, "alerts"), "silent", mb->hex, 0);
    }
    cr_assert(silent, "the silent meter raised no alert");
    cr_assert(cJSON_IsTrue(at(silent, "ongoing")));
    cJSON_Delete(j);
    j = get_json(BUREAU, 200, "/v1/monitor/overview");
    cr_assert_eq(num(at(j, "meters"), "total"), NM);
    cr_assert_eq(num(at(j, "meters"), "online"), 0, "the silent meter, and ENT-A's whose last readings are days old");
    cr_assert_eq(num(at(j, "meters"), "offline"), NM);
    cJSON_Delete(j);
}

Test(monitor, access_rules, .init = setup, .fini = teardown, .timeout = 60)
{
    enrol_all();
    feed(8);
    char path[512], code[64];
    /* no token, a wrong token, a malformed header: 401 with a reason */
    expect_error(NULL, "/v1/monitor/overview", 401, "unauthorized");
    expect_error("not-a-valid-token-at-all", "/v1/monitor/overview", 401, "unauthorized");
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, NULL, "GET", "/v1/monitor/alerts", NULL, &r));
    cr_assert_eq(r.status, 401);
    free(r.body);
    snprintf(path, sizeof path, "/v1/meters/%s", S.m[P].hex);
    expect_error(NULL, path, 401, "unauthorized");
    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=1", S.m[P].hex);
    expect_error(NULL, path, 401, "unauthorized");
    snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)S.idx[P][0]);
    expect_error(NULL, path, 401, "unauthorized");

    /* public: health, keys, checkpoints, proofs by index, the page's files */
    cJSON *j = get_json(NULL, 200, "/healthz");
    cJSON_Delete(j);
    j = get_json(NULL, 200, "/v1/pubkey");
    cJSON_Delete(j);
    for (int tries = 0; tries < 100; tries++) {
        cr_assert(wn_mf_http(S.node.url, NULL, "GET", "/v1/proof/inclusion?index=0", NULL, &r));
        long st = r.status;
        free(r.body);
        if (st == 200) break;
        cr_assert_eq(st, 404, "a proof by index needs no token");
        sleep_ms(50);
    }
    cr_assert(wn_mf_http(S.node.url, NULL, "GET", "/v1/checkpoint", NULL, &r));
    cr_assert_eq(r.status, 200);
    free(r.body);
    cr_assert(wn_mf_http(S.node.url, NULL, "GET", "/ui/", NULL, &r));
    cr_assert(r.status == 200 || r.status == 404, "the page itself holds no data: no token needed (%ld)", r.status);
    free(r.body);

    /* an enterprise sees its own enterprise, meters and entries only */
    j = get_json(ENTA, 200, "/v1/monitor/overview");
    cr_assert_eq(num(j, "enterprises"), 1);
    cr_assert_eq(num(at(j, "meters"), "total"), 6);
    cJSON_Delete(j);
    j = get_json(BUREAU, 200, "/v1/monitor/overview");
    cr_assert_eq(num(j, "enterprises"), 2);
    cr_assert_eq(num(at(j, "meters"), "total"), NM);
    cJSON_Delete(j);
    j = get_json(ENTA, 200, "/v1/monitor/enterprises");
    cr_assert_eq(cJSON_GetArraySize(at(j, "enterprises")), 1);
    cJSON_Delete(j);
    j = get_json(ENTA, 200, "/v1/monitor/whoami");
    cr_assert_str_eq(at(j, "role")->valuestring, "enterprise");
    cr_assert_str_eq(at(j, "enterprise")->valuestring, "ENT-A");
    cJSON_Delete(j);
    expect_error(ENTA, "/v1/monitor/enterprise?id=ENT-B", 403, "forbidden");
    expect_error(ENTA, "/v1/monitor/balance?enterprise=ENT-B", 403, "forbidden");
    expect_error(ENTA, "/v1/monitor/alerts?enterprise=ENT-B", 403, "forbidden");
    snprintf(path, sizeof path, "/v1/monitor/meter?id=%s", S.m[MB].hex);
    expect_error(ENTA, path, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/meters/%s", S.m[MB].hex);
    expect_error(ENTA, path, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)S.idx[MB][3]);
    expect_error(ENTA, path, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=0&to=9999999999999", S.m[MB].hex);
    expect_error(ENTA, path, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=1", S.m[MB].hex);
    expect_error(ENTA, path, 403, "forbidden");
    snprintf(path, sizeof path, "/v1/meters/%s", S.m[P].hex);
    j = get_json(ENTA, 200, "%s", path);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)S.idx[P][3]);
    j = get_json(ENTA, 200, "%s", path);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/v1/monitor/meter?id=%s", S.m[P].hex);
    j = get_json(ENTA, 200, "%s", path);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/v1/meters/%s", S.m[MB].hex);
    j = get_json(BUREAU, 200, "%s", path); /* the bureau sees everything */
    cJSON_Delete(j);
    j = get_json(ENTB, 200, "/v1/monitor/balance");
    cr_assert_eq(cJSON_GetArraySize(at(j, "rows")), 0, "ENT-B has no family to balance and sees not ENT-A's");
    cJSON_Delete(j);
    /* the bureau's writes */
    cr_assert_eq(post_status(ENTA, "/v1/monitor/settings", "{\"imbalance_pct\":10}", code, sizeof code), 403);
    cr_assert_str_eq(code, "forbidden");
    cr_assert_eq(post_status(NULL, "/v1/monitor/plans", "{}", code, sizeof code), 401);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/settings", "{\"imbalance_pct\":10,\"nonsense\":1}", code, sizeof code), 400);
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/settings", "{\"imbalance_pct\":10}", code, sizeof code), 200);
    j = get_json(ENTA, 200, "/v1/monitor/settings");
    expect_near(num(j, "imbalance_pct"), 10, "setting stored");
    cJSON_Delete(j);
    /* meters and the registrar are not asked for tokens */
    wn_reading rd;
    wn_mf_next(&S.m[P], &rd, S.m[P].time + Q15, 5, 0, -1);
    char err[256];
    cr_assert(wn_mf_post(S.node.url, &rd, 1, NULL, err), "%s", err);
    /* unknown monitor names and methods */
    expect_error(BUREAU, "/v1/monitor/nothing", 404, "not_found");
    cr_assert_eq(post_status(BUREAU, "/v1/monitor/overview", "{}", code, sizeof code), 405);
}

Test(monitor, tokens_file_is_checked, .init = setup, .fini = teardown)
{
    static const char *const bad[] = {
        "short bureau\n",                                    /* too short */
        "bureau-token-0123456789abcdef boss\n",              /* unknown role */
        "bureau-token-0123456789abcdef enterprise\n",        /* enterprise without its id */
        "bureau-token-0123456789abcdef bureau\nbureau-token-0123456789abcdef bureau\n", /* twice */
        "# nothing\n",                                       /* no token */
    };
    wn_test_node_stop(&S.node, SIGKILL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/bad-tokens", S.tmp);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fputs(bad[i], f);
        fclose(f);
        wn_test_node n2;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/n%zu", S.tmp, i);
        cr_assert_eq(mkdir(dir, 0700), 0);
        wn_test_node_init(&n2, dir);
        const char *args[] = {"--tokens", path, NULL};
        cr_assert_not(wn_test_node_start(&n2, args), "wn-node started with tokens file %zu", i);
        char *log = wn_test_read_file(n2.log, NULL);
        cr_assert(log && strstr(log, "--tokens"), "the log names the problem: %s", log ? log : "");
        free(log);
        cr_assert(access(n2.data, F_OK) != 0, "nothing was created before the check");
    }
}
