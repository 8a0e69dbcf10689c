/* test_monitor_alerts.c — alerts of a real wn-node that depend on more than one reading
 * (PROTOCOL §18): an imbalance alert raised while a sub-meter's readings were still held
 * back by store-and-forward is revised when they arrive (updated while it still holds,
 * cleared with the reason when it no longer does) and then agrees with the balance page,
 * across a restart and a rebuild; night-flow alerts need 7 comparable reference nights
 * (same kind of day: working day or weekend) and flag only a night that really exceeds
 * them. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "protocol/enrolment.h"
#include "tests/support/monfeed.h"
#include "tests/support/monnode.h"
#include "tests/support/testutil.h"

#define HOUR 3600000ULL
#define DAY 86400000ULL

static wn_mn S;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void start(void)
{
    if (!wn_mn_start(&S, NULL)) {
        char *log = wn_test_read_file(S.node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr_assert(wn_mn_init(&S, "monalerts"));
    start();
}

static void teardown(void)
{
    wn_mn_free(&S);
    curl_global_cleanup();
}

static cJSON *get(const char *path)
{
    long st;
    cJSON *j = wn_mn_get(&S, path, &st);
    cr_assert(j && st == 200, "GET %s: %ld", path, st);
    return j;
}

static void day_str(char out[11], uint32_t day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Readings of m at t0, t0 + step, ... (n of them), each adding inc[i] (10^-3 m3). */
static void feed(wn_mf_meter *m, uint64_t t0, uint64_t step, size_t n, const int64_t *inc)
{
    wn_reading batch[48];
    size_t nb = 0;
    char err[256];
    for (size_t i = 0; i < n; i++) {
        wn_mf_next(m, &batch[nb], t0 + i * step, inc[i], 0, -1);
        wn_mf_advance(m, &batch[nb]);
        if (++nb == 48 || i == n - 1) {
            cr_assert(wn_mf_post(S.node.url, batch, nb, NULL, err), "%s", err);
            nb = 0;
        }
    }
}

/* The alert of kind for meter hex whose detail.day is day, or NULL. */
static const cJSON *alert_of_day(const cJSON *list, const char *kind, const char *hex, const char *day)
{
    for (const cJSON *a = cJSON_GetObjectItemCaseSensitive(list, "alerts")->child; a; a = a->next) {
        const char *k = wn_mn_str(a, "kind"), *mt = wn_mn_str(a, "meter");
        const char *d = wn_mn_str(cJSON_GetObjectItemCaseSensitive(a, "detail"), "day");
        if (k && strcmp(k, kind) == 0 && mt && strcmp(mt, hex) == 0 && d && strcmp(d, day) == 0) return a;
    }
    return NULL;
}

static size_t count_kind(const cJSON *list, const char *kind, const char *hex)
{
    size_t n = 0;
    for (const cJSON *a = cJSON_GetObjectItemCaseSensitive(list, "alerts")->child; a; a = a->next) {
        const char *k = wn_mn_str(a, "kind"), *mt = wn_mn_str(a, "meter");
        n += k && strcmp(k, kind) == 0 && mt && strcmp(mt, hex) == 0;
    }
    return n;
}

/* ---- imbalance revised by a sub-meter's late readings ---- */

static struct {
    wn_mf_meter p, k;
    uint32_t d0;
    char day1[11], day2[11];
    char id1[40], id2[40];
} I;

/* The alert of day1 agrees with the balance page over that day, figure by figure. */
static void check_day1_matches_balance(const char *pct_expected_prefix)
{
    cJSON *al = get("/v1/monitor/alerts?kind=imbalance");
    const cJSON *a = alert_of_day(al, "imbalance", I.p.hex, I.day1);
    cr_assert(a, "the imbalance alert of %s is gone", I.day1);
    cr_assert_str_eq(wn_mn_str(a, "id"), I.id1, "revised in place: the same alert id");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "cleared")), "33 %% still breaks the 5 %% rule");
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(a, "revised");
    cr_assert(cJSON_IsObject(rev), "the alert says it was revised");
    cr_assert(strstr(wn_mn_str(rev, "note"), "updated"), "%s", wn_mn_str(rev, "note"));
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(a, "detail");
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/balance?enterprise=ENT-L&from=%llu&to=%llu",
             (unsigned long long)wn_mf_cst_day_start(I.d0 + 1), (unsigned long long)wn_mf_cst_day_start(I.d0 + 2));
    cJSON *bal = get(path);
    const cJSON *row = cJSON_GetObjectItemCaseSensitive(bal, "rows")->child;
    cr_assert(row && strcmp(wn_mn_str(row, "meter"), I.p.hex) == 0);
    cr_assert_str_eq(wn_mn_str(det, "parent_m3"), wn_mn_str(row, "volume"), "parent volume: alert and balance page");
    cr_assert_str_eq(wn_mn_str(det, "children_m3"), wn_mn_str(row, "children_sum"), "children: alert and balance page");
    cr_assert_str_eq(wn_mn_str(det, "imbalance_pct"), wn_mn_str(row, "imbalance_pct"), "%%: alert and balance page");
    cr_assert_str_eq(wn_mn_str(det, "parent_m3"), "288");
    cr_assert_str_eq(wn_mn_str(det, "children_m3"), "192");
    cr_assert(strncmp(wn_mn_str(det, "imbalance_pct"), pct_expected_prefix, strlen(pct_expected_prefix)) == 0, "%s",
              wn_mn_str(det, "imbalance_pct"));
    cJSON_Delete(bal);

    /* day 2 is balanced now: cleared, with the reason, and no longer open */
    const cJSON *b = alert_of_day(al, "imbalance", I.p.hex, I.day2);
    cr_assert(b, "the alert of %s must stay listed (cleared), not vanish", I.day2);
    cr_assert_str_eq(wn_mn_str(b, "id"), I.id2);
    cr_assert_str_eq(wn_mn_str(b, "cleared"), "balanced");
    const char *note = wn_mn_str(cJSON_GetObjectItemCaseSensitive(b, "revised"), "note");
    cr_assert(note && strstr(note, "cleared") && strstr(note, I.day2) && strstr(note, "late"), "note: %s", note ? note : "");
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(b, "detail"), "imbalance_pct"), "0");
    cJSON_Delete(al);
    al = get("/v1/monitor/alerts?status=open&kind=imbalance");
    cr_assert_null(alert_of_day(al, "imbalance", I.p.hex, I.day2), "a cleared alert is not open");
    cr_assert(alert_of_day(al, "imbalance", I.p.hex, I.day1), "the revised one still is");
    cJSON_Delete(al);
}

Test(monitor_alerts, imbalance_revised_by_late_readings, .init = setup, .fini = teardown, .timeout = 120)
{
    char err[256];
    cr_assert(wn_mf_meter_new(&I.p) && wn_mf_meter_new(&I.k));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &I.p, "ENT-L", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &I.k, "ENT-L", WN_POINT_USE, 2, WN_SOURCE_SURFACE, &I.p, err), "%s", err);
    I.d0 = wn_mf_cst_day(now_ms()) - 5;
    day_str(I.day1, I.d0 + 1);
    day_str(I.day2, I.d0 + 2);
    uint64_t t0 = wn_mf_cst_day_start(I.d0);
    int64_t pinc[96], kinc[96];
    for (int h = 0; h < 96; h++) {
        pinc[h] = h ? 12000 : 0;                         /* 12 m3 an hour: 288 m3 a day */
        kinc[h] = h == 0 ? 0 : h < 48 ? 8000 : 12000;    /* the sub-meter: 192 m3 on day 1, 288 on day 2 */
    }
    /* day 0 both report; then only the parent (the sub-meter stores and forwards later) */
    feed(&I.p, t0, HOUR, 24, pinc);
    feed(&I.k, t0, HOUR, 24, kinc);
    feed(&I.p, t0 + 24 * HOUR, HOUR, 72, pinc + 24);

    cJSON *al = get("/v1/monitor/alerts?kind=imbalance");
    const cJSON *a1 = alert_of_day(al, "imbalance", I.p.hex, I.day1), *a2 = alert_of_day(al, "imbalance", I.p.hex, I.day2);
    cr_assert(a1 && a2, "days 1 and 2 judged without the sub-meter: out of balance");
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(a1, "detail"), "children_m3"), "0");
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(a1, "detail"), "imbalance_pct"), "100");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a1, "revised")));
    snprintf(I.id1, sizeof I.id1, "%s", wn_mn_str(a1, "id"));
    snprintf(I.id2, sizeof I.id2, "%s", wn_mn_str(a2, "id"));
    cJSON_Delete(al);

    /* the sub-meter's backlog: days 1 to 3 */
    feed(&I.k, t0 + 24 * HOUR, HOUR, 72, kinc + 24);
    check_day1_matches_balance("33.33333");

    /* kept across a kill and a restart, and a rebuild from the ledger says the same */
    wn_test_node_stop(&S.node, SIGKILL);
    start();
    check_day1_matches_balance("33.33333");
    int status = wn_test_node_stop(&S.node, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/state'", S.node.data);
    cr_assert_eq(system(cmd), 0);
    start();
    check_day1_matches_balance("33.33333");
    al = get("/v1/monitor/alerts?kind=imbalance");
    cr_assert_eq(count_kind(al, "imbalance", I.p.hex), 2, "no other imbalance alert");
    cJSON_Delete(al);
}

/* ---- night flow against comparable nights ---- */

enum { WORK_DAY_FLOW, WORK_NIGHT, REST_FLOW, REST_NIGHT };

/* Hourly readings of m for days [d_from, d_to): the reading at HH:00 adds flow(day, HH) m3
 * (x1000), from a table per kind of day; leak_day's night hours add leak instead. */
typedef struct {
    int64_t work_day, work_night, rest_day, rest_night; /* 10^-3 m3 per hour */
    uint32_t odd_rest_day;                              /* a one-off rest day run like a working day (0: none) */
    uint32_t leak_from, leak_to;                        /* nights [from, to) at leak */
    int64_t leak;
} pattern;

static int is_rest(uint32_t day)
{
    unsigned wd = (day + 4) % 7;
    return wd == 0 || wd == 6;
}

static void feed_days(wn_mf_meter *m, uint32_t d_from, uint32_t d_to, const pattern *p)
{
    size_t n = (size_t)(d_to - d_from) * 24;
    int64_t *inc = calloc(n, sizeof *inc);
    cr_assert(inc);
    for (size_t i = 0; i < n; i++) {
        uint32_t d = d_from + (uint32_t)(i / 24);
        unsigned h = (unsigned)(i % 24);
        int night = h < 6, rest = is_rest(d) && d != p->odd_rest_day;
        inc[i] = rest ? (night ? p->rest_night : p->rest_day) : (night ? p->work_night : p->work_day);
        if (d == p->odd_rest_day) inc[i] = p->rest_night * 50; /* the one-off: round the clock, nights too */
        if (night && d >= p->leak_from && d < p->leak_to) inc[i] = p->leak;
    }
    if (m->seq == 0) inc[0] = 0;
    feed(m, wn_mf_cst_day_start(d_from), HOUR, n, inc);
    free(inc);
}

static void night_alerts(const char *hex, char days[][11], size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/alerts?kind=night_flow&meter=%s", hex);
    cJSON *al = get(path);
    *n = 0;
    for (const cJSON *a = cJSON_GetObjectItemCaseSensitive(al, "alerts")->child; a; a = a->next)
        snprintf(days[(*n)++], 11, "%s", wn_mn_str(cJSON_GetObjectItemCaseSensitive(a, "detail"), "day"));
    cJSON_Delete(al);
}

Test(monitor_alerts, night_flow_needs_seven_comparable_nights, .init = setup, .fini = teardown, .timeout = 120)
{
    char err[256], days[64][11], want[11];
    size_t n;
    uint32_t td = wn_mf_cst_day(now_ms());
    uint32_t b = td - 36;
    while ((b + 4) % 7 != 1) b--; /* a Monday at least 36 days ago */
    wn_mf_meter six, wk, rs;
    cr_assert(wn_mf_meter_new(&six) && wn_mf_meter_new(&wk) && wn_mf_meter_new(&rs));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &six, "ENT-N", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &wk, "ENT-N", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &rs, "ENT-N", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, NULL, err), "%s", err);

    /* six: from Sunday b-1 (its first, partial day); working days b..b+4 and b+7 are six
     * comparable nights at 2 m3/h; a leak of 6 m3/h from the night of Tuesday b+8 */
    pattern p6 = {.work_day = 10000, .work_night = 2000, .rest_day = 200, .rest_night = 200, .leak_from = b + 8,
                  .leak_to = b + 10, .leak = 6000};
    feed_days(&six, b - 1, b + 9, &p6);
    night_alerts(six.hex, days, &n);
    cr_assert_eq(n, 0, "six comparable nights are too few to judge a night (got an alert for %s)", n ? days[0] : "");
    /* the seventh: the night of Wednesday b+9 (references b..b+4, b+7, b+8: median 2) */
    feed_days(&six, b + 9, b + 10, &p6);
    night_alerts(six.hex, days, &n);
    day_str(want, b + 9);
    cr_assert_eq(n, 1, "with seven comparable nights the leak is flagged (%zu alerts)", n);
    cr_assert_str_eq(days[0], want);

    /* wk: a factory that works 06-22 with 3 m3/h at night on working days and is closed at
     * weekends (0.2 m3/h), except one weekend day run round the clock at 10 m3/h: no night
     * is out of the ordinary for its kind of day, so no alert (the old rule, half the mean
     * hourly volume of the week before, flagged every working night after a weekend) */
    pattern pw = {.work_day = 10000, .work_night = 3000, .rest_day = 200, .rest_night = 200, .odd_rest_day = b + 13};
    feed_days(&wk, b - 1, b + 22, &pw);
    night_alerts(wk.hex, days, &n);
    cr_assert_eq(n, 0, "no night-flow alert for a normal pattern (got %zu, first %s)", n, n ? days[0] : "");

    /* rs: weekend nights are always busy (10 m3/h: cleaning), working nights 3 m3/h; with
     * seven comparable weekend nights and more, neither kind is flagged against its own
     * kind; a real leak (8 m3/h) on the night of Tuesday b+29 is */
    pattern pr = {.work_day = 10000, .work_night = 3000, .rest_day = 10000, .rest_night = 10000, .leak_from = b + 29,
                  .leak_to = b + 30, .leak = 8000};
    feed_days(&rs, b - 1, b + 31, &pr);
    night_alerts(rs.hex, days, &n);
    day_str(want, b + 29);
    cr_assert_eq(n, 1, "exactly the leak night is flagged (got %zu, first %s)", n, n ? days[0] : "");
    cr_assert_str_eq(days[0], want);

    /* what the alert says */
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/alerts?kind=night_flow&meter=%s", rs.hex);
    cJSON *al = get(path);
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(al, "alerts")->child, "detail");
    cr_assert_str_eq(wn_mn_str(det, "min_m3h"), "8");
    cr_assert_str_eq(wn_mn_str(det, "reference_m3h"), "3", "the median of the comparable (working) nights");
    cr_assert_str_eq(wn_mn_str(det, "reference_nights"), "14", "the latest 14 comparable nights");
    cr_assert_str_eq(wn_mn_str(det, "day_kind"), "working");
    cJSON_Delete(al);
}

/* ---- what one meter can make the monitor keep ---- */

static void tamper_toggles(wn_mf_meter *m, uint64_t t0, int n)
{
    wn_reading batch[48];
    size_t nb = 0;
    char err[256];
    for (int i = 0; i < n; i++) {
        /* flagged, unflagged, flagged, ...: every flagged reading begins an episode */
        wn_mf_next(m, &batch[nb], t0 + (uint64_t)i * 60000, m->seq ? 10 : 0, i % 2 == 0 ? WN_FLAG_TAMPER : 0, -1);
        wn_mf_advance(m, &batch[nb]);
        if (++nb == 48 || i == n - 1) {
            cr_assert(wn_mf_post(S.node.url, batch, nb, NULL, err), "%s", err);
            nb = 0;
        }
    }
}

/* The meter's tamper alerts: how many, and how many episodes they count (1 + folded each). */
static void tamper_tally(const char *hex, size_t *alerts, size_t *episodes, size_t *all, char *folded_id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/alerts?meter=%s&limit=1000", hex);
    cJSON *al = get(path);
    *alerts = *episodes = *all = 0;
    for (const cJSON *a = cJSON_GetObjectItemCaseSensitive(al, "alerts")->child; a; a = a->next) {
        (*all)++;
        if (strcmp(wn_mn_str(a, "kind"), "tamper") != 0) continue;
        unsigned long folded = strtoul(wn_mn_str(a, "folded"), NULL, 10);
        (*alerts)++;
        *episodes += 1 + folded;
        if (folded && folded_id) snprintf(folded_id, 40, "%s", wn_mn_str(a, "id"));
    }
    cJSON_Delete(al);
}

static long ack(const char *id)
{
    char body[200];
    snprintf(body, sizeof body, "{\"alert\":\"%s\",\"by\":\"tester\",\"note\":\"seen\"}", id);
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, WN_MN_BUREAU, "POST", "/v1/monitor/ack", body, &r));
    free(r.body);
    return r.status;
}

static int is_open(const char *hex, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/alerts?status=open&meter=%s&limit=1000", hex);
    cJSON *al = get(path);
    int found = 0;
    for (const cJSON *a = cJSON_GetObjectItemCaseSensitive(al, "alerts")->child; a; a = a->next)
        found |= strcmp(wn_mn_str(a, "id"), id) == 0;
    cJSON_Delete(al);
    return found;
}

static size_t gaps_of(const char *hex)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/meter?id=%s", hex);
    cJSON *j = get(path);
    size_t n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "sequence_gaps"));
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/v1/monitor/alerts?kind=sequence_gap&meter=%s&limit=1000", hex);
    j = get(path);
    cr_assert_eq((size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "alerts")), n,
                 "the meter view and the alert list show the same gaps");
    cJSON_Delete(j);
    return n;
}

Test(monitor_alerts, one_meter_cannot_grow_alerts_or_gaps_without_bound, .init = setup, .fini = teardown,
     .timeout = 180)
{
    char err[256], folded_id[40] = "";
    wn_mf_meter t, g;
    cr_assert(wn_mf_meter_new(&t) && wn_mf_meter_new(&g));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &t, "ENT-T", WN_POINT_USE, 2, WN_SOURCE_SURFACE, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &g, "ENT-T", WN_POINT_USE, 2, WN_SOURCE_SURFACE, NULL, err), "%s", err);
    uint64_t t0 = now_ms() - 2 * DAY;

    /* 300 tamper episodes, a kill, 100 more: at most 256 alerts, every episode counted */
    tamper_toggles(&t, t0, 600);
    wn_test_node_stop(&S.node, SIGKILL);
    start();
    tamper_toggles(&t, t0 + 600 * 60000ULL, 200);
    size_t na, ne, all;
    tamper_tally(t.hex, &na, &ne, &all, folded_id);
    cr_assert_leq(all, 256 + 2, "one meter's alerts are capped (%zu)", all);
    cr_assert_eq(ne, 400, "every episode is counted: %zu in %zu alerts", ne, na);
    cr_assert(folded_id[0], "past the cap the latest tamper alert counts the new episodes");

    /* acknowledging it covers what it counts so far; a new episode folded in opens it again */
    cr_assert_eq(ack(folded_id), 200);
    cr_assert_not(is_open(t.hex, folded_id));
    cr_assert_eq(ack(folded_id), 409, "nothing new since the acknowledgement");
    tamper_toggles(&t, t0 + 800 * 60000ULL, 2);
    cr_assert(is_open(t.hex, folded_id), "an episode after the acknowledgement is not hidden by it");
    cr_assert_eq(ack(folded_id), 200, "and can be acknowledged again");

    /* sequence gaps: a meter that skips a sequence 40 times keeps 32 gap alerts */
    {
        wn_reading r;
        wn_mf_next(&g, &r, t0 - 60000, 0, 0, -1);
        wn_mf_advance(&g, &r);
        cr_assert(wn_mf_post(S.node.url, &r, 1, NULL, err), "%s", err);
    }
    for (int i = 0; i < 40; i++) {
        wn_reading r;
        wn_mf_resp resp;
        wn_mf_meter skip = g;
        skip.seq++;
        wn_mf_next(&skip, &r, t0 + (uint64_t)i * 60000, 5, 0, -1);
        cr_assert(wn_mf_post_one(S.node.url, &r, &resp));
        cr_assert_eq(resp.status, 409, "%s", resp.body);
        cr_assert(strstr(resp.body, "sequence_gap"), "%s", resp.body);
        free(resp.body);
        wn_mf_next(&g, &r, t0 + (uint64_t)i * 60000 + 1000, 5, 0, -1);
        wn_mf_advance(&g, &r);
        cr_assert(wn_mf_post(S.node.url, &r, 1, NULL, err), "%s", err);
    }
    cr_assert_eq(gaps_of(g.hex), 32, "the oldest ended gaps go");

    /* the same after a kill, and after a rebuild of the aggregates from the ledger */
    wn_test_node_stop(&S.node, SIGKILL);
    start();
    cr_assert_eq(gaps_of(g.hex), 32);
    tamper_tally(t.hex, &na, &ne, &all, NULL);
    cr_assert_eq(ne, 401);
    cr_assert_leq(all, 256 + 2);
    int status = wn_test_node_stop(&S.node, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/state'", S.node.data);
    cr_assert_eq(system(cmd), 0);
    start();
    size_t na2, ne2, all2;
    tamper_tally(t.hex, &na2, &ne2, &all2, NULL);
    cr_assert_eq(na2, na, "a rebuild raises the same alerts");
    cr_assert_eq(ne2, 401);
    cr_assert_eq(gaps_of(g.hex), 32);
    cr_assert_not(is_open(t.hex, folded_id), "the second acknowledgement still covers it");
}
