/* test_page.c — the bureau's page for daily use, through a real wn-node's API (PROTOCOL §18):
 *   - one zone (--zone, default +08:00) cuts the stored day buckets: readings just before
 *     and after local midnight land in their local days; the same ledger under --zone
 *     +00:00 is rebuilt (the log says so) and the same readings fall in one UTC day;
 *   - labels of meters and enterprises: set by the bureau only, shown beside the ids in
 *     every answer that names them, bounded, every change logged (who, when, old -> new),
 *     the log the bureau's only, and kept across a restart;
 *   - the overview says the node does not anchor only when it does not (anchor null). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/enrolment.h"
#include "tests/support/monfeed.h"
#include "tests/support/monnode.h"
#include "tests/support/testutil.h"

#define ENT_TOKEN "enterprise-token-page-0123456789"
#define ENT "91330100PAGE00001X"

static wn_mn S;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void start(const char *const *extra)
{
    if (!wn_mn_start(&S, extra)) {
        char *log = wn_test_read_file(S.node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr_assert(wn_mn_init(&S, "page"));
    char path[4200];
    snprintf(path, sizeof path, "%s/tokens", S.tmp);
    FILE *f = fopen(path, "a");
    cr_assert(f);
    fprintf(f, "%s enterprise %s\n", ENT_TOKEN, ENT);
    fclose(f);
}

static void teardown(void)
{
    wn_mn_free(&S);
    curl_global_cleanup();
}

/* POST with a token; returns the status (the body is freed). */
static long post(const char *token, const char *path, const char *json, char *body, size_t cap)
{
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, "POST", path, json, &r), "no answer to POST %s", path);
    if (body) snprintf(body, cap, "%s", r.body ? r.body : "");
    free(r.body);
    return r.status;
}

static long get_status(const char *token, const char *path)
{
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, "GET", path, NULL, &r));
    free(r.body);
    return r.status;
}

/* The intake of day (YYYY-MM-DD) in the enterprise view of [from, to), or NULL if no row. */
static const char *day_intake(const cJSON *e, const char *day)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(e, "days"))
        if (strcmp(wn_mn_str(d, "day"), day) == 0) return wn_mn_str(d, "intake_total");
    return NULL;
}

static void civil(uint32_t day, char out[11])
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

Test(page, readings_around_local_midnight_land_in_their_local_day, .init = setup, .fini = teardown, .timeout = 120)
{
    start(NULL);
    wn_mf_meter p;
    char err[256];
    cr_assert(wn_mf_meter_new(&p));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &p, ENT, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    /* local (+08:00) day D: readings at 22:00 (the first: counts 0) and 23:59; then 00:01 on D+1 */
    uint32_t D = wn_mf_cst_day(now_ms()) - 3;
    uint64_t mid = wn_mf_cst_day_start(D + 1); /* local midnight, as UTC ms */
    wn_reading r[3];
    uint64_t t[3] = {mid - 2 * 3600000ULL, mid - 60000ULL, mid + 60000ULL};
    int64_t inc[3] = {0, 5000, 7000}; /* 10^-3 m3 */
    for (int i = 0; i < 3; i++) {
        wn_mf_next(&p, &r[i], t[i], inc[i], 0, -1);
        wn_mf_advance(&p, &r[i]);
    }
    cr_assert(wn_mf_post(S.node.url, r, 3, NULL, err), "%s", err);

    char d0[11], d1[11], d2[11], path[256];
    civil(D, d0);
    civil(D + 1, d1);
    civil(D + 2, d2);
    long st;
    cJSON *who = wn_mn_get(&S, "/v1/monitor/whoami", &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(wn_mn_str(who, "zone"), "+08:00", "the default zone");
    cr_assert_str_eq(wn_mn_str(who, "zone_ms"), "28800000");
    cJSON_Delete(who);
    snprintf(path, sizeof path, "/v1/monitor/enterprise?id=%s&from=%s&to=%s", ENT, d0, d2);
    cJSON *e = wn_mn_get(&S, path, &st);
    cr_assert_eq(st, 200);
    cr_assert(day_intake(e, d0) && day_intake(e, d1), "both local days listed");
    cr_assert_str_eq(day_intake(e, d0), "5", "23:59 belongs to day D");
    cr_assert_str_eq(day_intake(e, d1), "7", "00:01 belongs to day D+1");
    cJSON_Delete(e);
    /* the meter's day buckets begin at local midnight (UTC 16:00 of the day before) */
    snprintf(path, sizeof path, "/v1/monitor/meter?id=%s&from=%llu&to=%llu&bucket=day", p.hex,
             (unsigned long long)(mid - 86400000ULL), (unsigned long long)(mid + 86400000ULL));
    cJSON *m = wn_mn_get(&S, path, &st);
    cr_assert_eq(st, 200);
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(m, "series");
    cr_assert_eq(cJSON_GetArraySize(series), 2);
    char want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)(mid - 86400000ULL));
    cr_assert_str_eq(wn_mn_str(cJSON_GetArrayItem(series, 0), "t"), want);
    cr_assert_str_eq(wn_mn_str(cJSON_GetArrayItem(series, 0), "volume"), "5");
    cr_assert_str_eq(wn_mn_str(cJSON_GetArrayItem(series, 1), "volume"), "7");
    cJSON_Delete(m);

    /* the operator changes the zone: the stored buckets are rebuilt in it */
    cr_assert_eq(wn_test_node_stop(&S.node, SIGTERM), 0, "a clean stop");
    char conf[4300];
    snprintf(conf, sizeof conf, "%s/wn-node.conf", S.tmp);
    FILE *cf = fopen(conf, "w");
    cr_assert(cf);
    fputs("# the zone, as an operator writes it in the configuration file\nzone = +00:00\n", cf);
    fclose(cf);
    const char *utc[] = {"--config", conf, NULL};
    start(utc);
    char *log = wn_test_read_file(S.node.log, NULL);
    cr_assert(log && strstr(log, "cut in zone +08:00, and the node's zone is now +00:00"), "the rebuild is logged: %s",
              log ? log : "");
    free(log);
    who = wn_mn_get(&S, "/v1/monitor/whoami", &st);
    cr_assert_str_eq(wn_mn_str(who, "zone"), "+00:00");
    cJSON_Delete(who);
    /* in UTC, 23:59 and 00:01 of +08:00 are 15:59 and 16:01 of one day (D) */
    snprintf(path, sizeof path, "/v1/monitor/enterprise?id=%s&from=%s&to=%s", ENT, d0, d2);
    e = wn_mn_get(&S, path, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(day_intake(e, d0), "12", "one UTC day holds both");
    cr_assert(!day_intake(e, d1) || strcmp(day_intake(e, d1), "0") == 0, "nothing on D+1 in UTC");
    cJSON_Delete(e);

    /* a malformed zone stops the node before it starts */
    cr_assert_eq(wn_test_node_stop(&S.node, SIGTERM), 0, "a clean stop");
    const char *bad[] = {"--zone", "+8", NULL};
    cr_assert(!wn_mn_start(&S, bad), "--zone +8 is refused");
}

Test(page, labels_are_the_bureaus_logged_bounded_and_shown_with_ids, .init = setup, .fini = teardown, .timeout = 120)
{
    start(NULL);
    wn_mf_meter p;
    char err[256], body[2048], json[1024];
    cr_assert(wn_mf_meter_new(&p));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &p, ENT, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    wn_reading r;
    wn_mf_next(&p, &r, now_ms() - 60000, 0, WN_FLAG_TAMPER, -1);
    wn_mf_advance(&p, &r);
    cr_assert(wn_mf_post(S.node.url, &r, 1, NULL, err), "%s", err);

    /* the bureau names the enterprise and the meter */
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"name\":\"杭州示范印染有限公司\",\"county\":\"萧山区\",\"park\":\"临江园区\",\"by\":\"王科长\"}", ENT);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 200, "%s", body);
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"QS-01\",\"location\":\"一号取水口\",\"purpose\":\"生产取水\",\"by\":\"王科长\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 200, "%s", body);
    /* an enterprise may not label, not even itself */
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"name\":\"别的名字\",\"by\":\"x\"}", ENT);
    cr_assert_eq(post(ENT_TOKEN, "/v1/monitor/labels", json, body, sizeof body), 403, "%s", body);
    /* bounded and well-formed */
    char big[200];
    memset(big, 'x', 97);
    big[97] = '\0';
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"%s\",\"by\":\"a\"}", p.hex, big);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 400, "a field above 96 bytes: %s", body);
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"A\\u0007\",\"by\":\"a\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 400, "a control character");
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"A\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 400, "no by");
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"colour\":\"red\",\"by\":\"a\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 400, "an unknown member");
    /* a change: only the number; the rest is kept */
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"QS-02\",\"by\":\"李工\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 200, "%s", body);

    /* shown beside the ids */
    long st;
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/enterprise?id=%s", ENT);
    cJSON *e = wn_mn_get(&S, path, &st);
    cr_assert_eq(st, 200);
    cr_assert_str_eq(wn_mn_str(e, "enterprise"), ENT);
    cr_assert_str_eq(wn_mn_str(e, "enterprise_name"), "杭州示范印染有限公司");
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "meters"), 0);
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(m0, "label");
    cr_assert_str_eq(wn_mn_str(m0, "meter"), p.hex);
    cr_assert_str_eq(wn_mn_str(lab, "number"), "QS-02");
    cr_assert_str_eq(wn_mn_str(lab, "location"), "一号取水口", "kept");
    cJSON_Delete(e);
    cJSON *al = wn_mn_get(&S, "/v1/monitor/alerts?kind=tamper", &st);
    const cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(al, "alerts"), 0);
    cr_assert(a0, "the tamper alert");
    cr_assert_str_eq(wn_mn_str(a0, "enterprise_name"), "杭州示范印染有限公司");
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(a0, "label"), "number"), "QS-02");
    cJSON_Delete(al);
    cJSON *en = wn_mn_get(&S, "/v1/monitor/enterprises", &st);
    cr_assert_str_eq(wn_mn_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(en, "enterprises"), 0), "enterprise_name"),
                     "杭州示范印染有限公司");
    cJSON_Delete(en);

    /* the log: who, when, old -> new; the bureau's only */
    cr_assert_eq(get_status(ENT_TOKEN, "/v1/monitor/label_log"), 403);
    cr_assert_eq(get_status(NULL, "/v1/monitor/label_log"), 401);
    cJSON *lg = wn_mn_get(&S, "/v1/monitor/label_log?limit=2", &st);
    cr_assert_eq(st, 200);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(lg, "changes");
    cr_assert_eq(cJSON_GetArraySize(ch), 2, "a page of two");
    cr_assert_str_eq(wn_mn_str(lg, "next"), "2");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ch, 0), "old")), "a new label has no old");
    cJSON_Delete(lg);
    lg = wn_mn_get(&S, "/v1/monitor/label_log?from=2", &st);
    ch = cJSON_GetObjectItemCaseSensitive(lg, "changes");
    cr_assert_eq(cJSON_GetArraySize(ch), 1, "refused changes are not logged");
    const cJSON *c = cJSON_GetArrayItem(ch, 0);
    cr_assert_str_eq(wn_mn_str(c, "by"), "李工");
    cr_assert_str_eq(wn_mn_str(c, "role"), "bureau");
    cr_assert_str_eq(wn_mn_str(c, "meter"), p.hex);
    cr_assert(wn_mn_str(c, "time"));
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(c, "old"), "number"), "QS-01");
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(c, "new"), "number"), "QS-02");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lg, "next")));
    cJSON_Delete(lg);

    /* an enterprise sees its own labels, through its own token */
    wn_mf_resp rr;
    cr_assert(wn_mf_http(S.node.url, ENT_TOKEN, "GET", "/v1/monitor/labels?kind=enterprise", NULL, &rr));
    cr_assert_eq(rr.status, 200);
    cr_assert(strstr(rr.body, "杭州示范印染有限公司"), "%s", rr.body);
    free(rr.body);

    /* kept across a restart; emptied fields delete the label (logged too) */
    cr_assert_neq(wn_test_node_stop(&S.node, SIGKILL), -1);
    start(NULL);
    cJSON *ls = wn_mn_get(&S, "/v1/monitor/labels?kind=meter", &st);
    cr_assert_str_eq(wn_mn_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ls, "labels"), 0), "label"), "number"),
                     "QS-02", "kept across SIGKILL");
    cJSON_Delete(ls);
    snprintf(json, sizeof json, "{\"meter\":\"%s\",\"number\":\"\",\"location\":\"\",\"purpose\":\"\",\"by\":\"李工\"}", p.hex);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/labels", json, body, sizeof body), 200, "%s", body);
    ls = wn_mn_get(&S, "/v1/monitor/labels?kind=meter", &st);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ls, "labels")), 0, "deleted");
    cJSON_Delete(ls);
    lg = wn_mn_get(&S, "/v1/monitor/label_log?from=3", &st);
    c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lg, "changes"), 0);
    cr_assert(c && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "new")), "the deletion is logged");
    cJSON_Delete(lg);

    /* this node does not anchor: the overview says so (null), and only then */
    cJSON *ov = wn_mn_get(&S, "/v1/monitor/overview", &st);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ov, "anchor")));
    cr_assert_str_eq(wn_mn_str(ov, "zone"), "+08:00");
    cJSON_Delete(ov);
}

/* ---- exports ---- */

/* GET path with token: status, body (malloc'd) and length. */
static long fetch(const char *token, const char *path, char **body, size_t *len)
{
    wn_mf_resp r;
    cr_assert(wn_mf_http(S.node.url, token, "GET", path, NULL, &r), "no answer to %s", path);
    *body = r.body;
    *len = r.len;
    return r.status;
}

/* The field col of the CSV record whose first field is key (no quoted fields expected there). */
static int csv_cell(const char *csv, const char *key, int col, char *out, size_t cap)
{
    size_t kl = strlen(key);
    if (strncmp(csv, "\xEF\xBB\xBF", 3) == 0) csv += 3; /* the BOM */
    for (const char *line = csv; line && *line; line = strstr(line, "\r\n") ? strstr(line, "\r\n") + 2 : NULL) {
        if (strncmp(line, key, kl) != 0 || line[kl] != ',') continue;
        const char *p = line;
        for (int c = 0; c < col; c++) {
            p = strchr(p, ',');
            if (!p) return 0;
            p++;
        }
        if (*p == '"') { /* quoted (no quotes inside expected) */
            const char *e = strchr(p + 1, '"');
            if (!e) return 0;
            snprintf(out, cap, "%.*s", (int)((size_t)(e - p - 1) < cap ? (size_t)(e - p - 1) : cap - 1), p + 1);
            return 1;
        }
        size_t n = strcspn(p, ",\r\n");
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
        return 1;
    }
    return 0;
}

Test(page, exports_state_their_provenance_and_match_wn_export, .init = setup, .fini = teardown, .timeout = 120)
{
    start(NULL);
    wn_mf_meter p;
    char err[256];
    cr_assert(wn_mf_meter_new(&p));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &p, ENT, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    uint32_t D = wn_mf_cst_day(now_ms()) - 3;
    wn_reading r[6];
    int64_t inc[6] = {0, 1234, 5000, 1, 999999, 7};
    for (int i = 0; i < 6; i++) {
        wn_mf_next(&p, &r[i], wn_mf_cst_day_start(D) + (uint64_t)i * 7 * 3600000ULL, inc[i], 0, -1);
        wn_mf_advance(&p, &r[i]);
    }
    cr_assert(wn_mf_post(S.node.url, r, 6, NULL, err), "%s", err);
    char d0[11], d3[11], path[512];
    civil(D, d0);
    civil(D + 3, d3);
    /* the checkpoint covers the readings */
    for (int i = 0; i < 100; i++) {
        long st;
        cJSON *ov = wn_mn_get(&S, "/v1/monitor/overview", &st);
        const cJSON *cp = cJSON_GetObjectItemCaseSensitive(ov, "checkpoint");
        int done = cp && !cJSON_IsNull(cp) && strcmp(wn_mn_str(cp, "behind"), "0") == 0;
        cJSON_Delete(ov);
        if (done) break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }

    char *body;
    size_t len;
    snprintf(path, sizeof path, "/v1/monitor/export?view=enterprise&id=%s&from=%s&to=%s&format=csv", ENT, d0, d3);
    cr_assert_eq(fetch(WN_MN_BUREAU, path, &body, &len), 200, "%s", body);
    cr_assert(len > 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0, "a UTF-8 BOM for Excel");
    char cell[128];
    cr_assert(csv_cell(body, "账本范围 (ledger entries)", 1, cell, sizeof cell), "%s", body);
    cr_assert_str_eq(cell, "[0, 7)", "one enrolment and six readings: %s", body);
    cr_assert(csv_cell(body, "检查点大小 (checkpoint size)", 1, cell, sizeof cell));
    cr_assert_str_eq(cell, "7");
    cr_assert(csv_cell(body, "检查点根哈希 (root hash in base64)", 1, cell, sizeof cell) && strlen(cell) == 44, "%s", cell);
    cr_assert(csv_cell(body, "时区 (zone)", 1, cell, sizeof cell));
    cr_assert_str_eq(cell, "+08:00");
    cr_assert(strstr(body, "\r\n日期,取水量合计 (m³),"), "the header");
    cr_assert(csv_cell(body, "合计", 1, cell, sizeof cell));
    char total[128];
    snprintf(total, sizeof total, "%s", cell);
    free(body);

    /* `wn export` of the same window: the sum of the increments */
    char ledger[4300], from[40], to[40];
    snprintf(ledger, sizeof ledger, "%s/ledger", S.node.data);
    snprintf(from, sizeof from, "%sT00:00:00+08:00", d0);
    snprintf(to, sizeof to, "%sT00:00:00+08:00", d3);
    char cmd[9000], out[4400];
    snprintf(out, sizeof out, "%s/export.csv", S.tmp);
    char *wn = wn_test_bin("wn");
    snprintf(cmd, sizeof cmd, "'%s' export --ledger '%s' --enterprise %s --from %s --to %s --format csv --tz +08:00 --out '%s'", wn,
             ledger, ENT, from, to, out);
    free(wn);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *csv = wn_test_read_file(out, NULL);
    cr_assert(csv);
    __int128 sum = 0, last = 0;
    int have = 0;
    for (char *line = strtok(csv, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char *f[9];
        int nf = 0;
        for (char *q = line; q && nf < 9; nf++) {
            f[nf] = q;
            q = strchr(q, ',');
            if (q) *q++ = '\0';
        }
        if (nf < 6 || strcmp(f[3], "volume") != 0) continue;
        __int128 v;
        cr_assert(wn_mn_dec_parse(f[5], &v), "%s", f[5]);
        if (have) sum += v - last;
        last = v;
        have = 1;
    }
    free(csv);
    char want[48];
    wn_mn_dec_format(want, sum);
    cr_assert_str_eq(total, want, "the export's total equals the sum of wn export's increments");
    cr_assert_str_eq(total, "1006.241", "and both are what was sent");

    /* the monthly report of D's month and the same as a workbook */
    snprintf(path, sizeof path, "/v1/monitor/export?view=report&enterprise=%s&month=%.7s&format=csv", ENT, d0);
    cr_assert_eq(fetch(WN_MN_BUREAU, path, &body, &len), 200, "%s", body);
    cr_assert(csv_cell(body, "文件", 1, cell, sizeof cell));
    char title[64];
    snprintf(title, sizeof title, "用水统计月报 %.7s", d0);
    cr_assert_str_eq(cell, title);
    cr_assert(csv_cell(body, d0, 1, cell, sizeof cell), "day D in its month's report");
    cr_assert_str_eq(cell, "6.235", "day D: 1.234 + 5 + 0.001 (the first reading counts 0)");
    free(body);
    snprintf(path, sizeof path, "/v1/monitor/export?view=report&enterprise=%s&month=%.7s&format=xlsx", ENT, d0);
    cr_assert_eq(fetch(WN_MN_BUREAU, path, &body, &len), 200);
    cr_assert(len > 1000 && memcmp(body, "PK\x03\x04", 4) == 0, "an .xlsx (a zip) of %zu bytes", len);
    free(body);
    /* the meter's series by day, and the enterprise's meters */
    snprintf(path, sizeof path, "/v1/monitor/export?view=meter&id=%s&from=%llu&to=%llu&bucket=day&format=csv", p.hex,
             (unsigned long long)wn_mf_cst_day_start(D), (unsigned long long)wn_mf_cst_day_start(D + 3));
    cr_assert_eq(fetch(WN_MN_BUREAU, path, &body, &len), 200, "%s", body);
    char dstart[32];
    snprintf(dstart, sizeof dstart, "%s 00:00:00", d0);
    cr_assert(csv_cell(body, dstart, 2, cell, sizeof cell), "day D's row: %s", body);
    cr_assert_str_eq(cell, "6.235", "the meter's volume of day D");
    free(body);
    snprintf(path, sizeof path, "/v1/monitor/export?view=enterprise&id=%s&part=meters&format=csv", ENT);
    cr_assert_eq(fetch(WN_MN_BUREAU, path, &body, &len), 200, "%s", body);
    cr_assert(strstr(body, p.hex), "the meter listed");
    free(body);
    cr_assert_eq(fetch(WN_MN_BUREAU, "/v1/monitor/export?view=alerts&format=csv", &body, &len), 200);
    cr_assert(strstr(body, "告警编号,开始时间"), "the alert list's header");
    free(body);

    /* refused as the routes refuse */
    cr_assert_eq(fetch(WN_MN_BUREAU, "/v1/monitor/export?view=enterprises&format=pdf", &body, &len), 400);
    free(body);
    cr_assert_eq(fetch(WN_MN_BUREAU, "/v1/monitor/export?view=report&enterprise=X&month=2026-13", &body, &len), 400);
    free(body);
    cr_assert_eq(fetch(NULL, "/v1/monitor/export?view=enterprises", &body, &len), 401);
    free(body);
    snprintf(path, sizeof path, "/v1/monitor/export?view=enterprise&id=%s&format=csv", "91330100OTHER0001X");
    cr_assert_eq(fetch(ENT_TOKEN, path, &body, &len), 403, "another enterprise's export: %s", body);
    free(body);
    snprintf(path, sizeof path, "/v1/monitor/export?view=enterprise&id=%s&format=csv", ENT);
    cr_assert_eq(fetch(ENT_TOKEN, path, &body, &len), 200, "its own: %s", body);
    free(body);
}

/* ---- indicators ---- */

Test(page, value_added_plan_by_month_and_quota_by_province, .init = setup, .fini = teardown, .timeout = 120)
{
    start(NULL);
    const char *zj = ENT; /* 91 33 0100...: a Zhejiang credit code */
    wn_mf_meter p;
    char err[256], body[1024], json[512];
    cr_assert(wn_mf_meter_new(&p));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &p, zj, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    uint64_t now = now_ms();
    wn_reading r[3];
    int64_t inc[3] = {0, 40000, 60000}; /* 100 m3 after the first */
    for (int i = 0; i < 3; i++) {
        wn_mf_next(&p, &r[i], now - (uint64_t)(3 - i) * 60000, inc[i], 0, -1);
        wn_mf_advance(&p, &r[i]);
    }
    cr_assert(wn_mf_post(S.node.url, r, 3, NULL, err), "%s", err);
    time_t tt = (time_t)((now + 8 * 3600000ULL) / 1000);
    struct tm tm;
    gmtime_r(&tt, &tm);
    int year = tm.tm_year + 1900;
    char month[8];
    strftime(month, sizeof month, "%Y-%m", &tm);

    /* value added: the bureau's figure, 400 for nonsense, 403 for an enterprise */
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"year\":%d,\"value_added_10k_cny\":\"25\",\"by\":\"统计科\"}", zj, year);
    cr_assert_eq(post(ENT_TOKEN, "/v1/monitor/value_added", json, body, sizeof body), 403);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/value_added", json, body, sizeof body), 200, "%s", body);
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"year\":%d,\"value_added_10k_cny\":\"0\",\"by\":\"x\"}", zj, year);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/value_added", json, body, sizeof body), 400, "zero value added");
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"year\":%d,\"plan_m3\":\"400\"}", zj, year);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/plans", json, body, sizeof body), 200, "%s", body);
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"month\":\"%s\",\"product\":\"crude_steel\",\"quantity\":\"10\"}", zj, month);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/production", json, body, sizeof body), 200, "%s", body);

    long st;
    char path[256];
    snprintf(path, sizeof path, "/v1/monitor/enterprise?id=%s", zj);
    cJSON *e = wn_mn_get(&S, path, &st);
    cr_assert_eq(st, 200);
    const cJSON *va = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "value_added"), 0);
    cr_assert(va, "the value added is shown");
    cr_assert_str_eq(wn_mn_str(va, "intake_m3"), "100");
    cr_assert_str_eq(wn_mn_str(va, "value_added_10k_cny"), "25");
    cr_assert_str_eq(wn_mn_str(va, "m3_per_10k_cny"), "4", "100 m3 / 25 x 10,000 CNY");
    cr_assert_str_eq(wn_mn_str(va, "by"), "统计科");
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(e, "plan_months");
    cr_assert_eq(cJSON_GetArraySize(pm), tm.tm_mon + 1, "January to this month");
    const cJSON *last = cJSON_GetArrayItem(pm, tm.tm_mon);
    cr_assert_str_eq(wn_mn_str(last, "month"), month);
    cr_assert_str_eq(wn_mn_str(last, "cumulative_m3"), "100");
    cr_assert_str_eq(wn_mn_str(last, "plan_pct"), "25");
    /* a Zhejiang enterprise is not judged by Hunan's quota */
    const cJSON *pr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "production"), 0);
    cr_assert(pr);
    cr_assert_str_eq(wn_mn_str(pr, "province"), "33");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pr, "quota")), "no Zhejiang table: no quota");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pr, "quota_source")));
    cr_assert_str_eq(wn_mn_str(pr, "m3_per_unit"), "10", "water per unit product still shown");
    cJSON_Delete(e);
}

/* Quota tables are data: a table for province 33 in the page's quotas/ applies to a Zhejiang
 * enterprise with its source; a malformed table stops the node before it starts. */
Test(page, quota_tables_are_data_files_chosen_by_province, .init = setup, .fini = teardown, .timeout = 120)
{
    char web[4300], path[4400], cwd[4096], cmd[13000];
    cr_assert(getcwd(cwd, sizeof cwd));
    snprintf(web, sizeof web, "%s/web", S.tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/quotas' && cp '%s/web/quotas/43.json' '%s/quotas/'", web, cwd, web);
    cr_assert_eq(system(cmd), 0, "run from the repository root");
    snprintf(path, sizeof path, "%s/quotas/33.json", web);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("{\"province\":\"33\",\"name\":\"测试省\",\"source\":\"a test table, not a real quota\","
          "\"quotas\":{\"crude_steel\":2.5}}\n", f);
    fclose(f);
    const char *args[] = {"--web", web, NULL};
    start(args);
    wn_mf_meter p;
    char err[256], body[1024], json[512];
    cr_assert(wn_mf_meter_new(&p));
    cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &p, ENT, WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    uint64_t now = now_ms();
    time_t tt = (time_t)((now + 8 * 3600000ULL) / 1000);
    struct tm tm;
    gmtime_r(&tt, &tm);
    char month[8];
    strftime(month, sizeof month, "%Y-%m", &tm);
    snprintf(json, sizeof json, "{\"enterprise\":\"%s\",\"month\":\"%s\",\"product\":\"crude_steel\",\"quantity\":\"10\"}", ENT, month);
    cr_assert_eq(post(WN_MN_BUREAU, "/v1/monitor/production", json, body, sizeof body), 200, "%s", body);
    long st;
    char q[256];
    snprintf(q, sizeof q, "/v1/monitor/enterprise?id=%s", ENT);
    cJSON *e = wn_mn_get(&S, q, &st);
    const cJSON *pr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "production"), 0);
    cr_assert(pr);
    cr_assert_str_eq(wn_mn_str(pr, "quota"), "2.5", "province 33's table");
    cr_assert_str_eq(wn_mn_str(pr, "quota_source"), "a test table, not a real quota");
    cJSON_Delete(e);
    cJSON *qs = wn_mn_get(&S, "/v1/monitor/quotas", &st);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(qs, "tables")), 2, "43 and 33");
    cJSON_Delete(qs);
    cr_assert_eq(wn_test_node_stop(&S.node, SIGTERM), 0);

    /* a product not in the catalogue: refused at start, the file named */
    f = fopen(path, "w");
    cr_assert(f);
    fputs("{\"province\":\"33\",\"name\":\"测试省\",\"source\":\"x\",\"quotas\":{\"crude_stele\":2.5}}\n", f);
    fclose(f);
    cr_assert(!wn_mn_start(&S, args), "a malformed quota table stops the start");
    char *log = wn_test_read_file(S.node.log, NULL);
    cr_assert(log && strstr(log, "33.json: crude_stele is not a product of the catalogue"), "%s", log ? log : "");
    free(log);
}
