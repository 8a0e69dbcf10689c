/* test_ui.c — the monitoring page in a real browser: headless Chromium (Debian's
 * `chromium`, installed by scripts/install-deps.sh) loads /ui/ from a wn-node fed by
 * `wn-meter simulate` plus one enterprise of the test's own whose meters show a tamper
 * flag, an imbalance and a silence. The rendered DOM (--dump-dom) must show the right
 * counts on the overview, the induced alerts on the alerts view, and Chinese labels by
 * default and English ones after switching language; the bureau's labels (enterprise name,
 * meter number) beside the ids; times in the node's zone (+08:00) although the browser runs
 * in Los Angeles; no English word on the Chinese page outside ids and units. Screenshots are kept in
 * build/artifacts/ (or $WN_ARTIFACTS). Skips, saying why, when chromium is missing. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/sig.h"
#include "tests/support/monfeed.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

#define TOKEN "ui-bureau-token-0123456789abcdef"
#define Q15 (15 * 60000ULL)

static char *tmp;
static wn_test_node node;
static uint64_t tamper_time; /* the tamper reading's time */
static char p_hex[65];       /* meter P */
static uint32_t test_day0;   /* the first local day of P's readings */
static uint32_t day0_of_test(void) { return test_day0; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *chromium_path(void)
{
    static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], X_OK) == 0) return paths[i];
    return NULL;
}

static void artifacts_dir(char *out, size_t cap)
{
    const char *env = getenv("WN_ARTIFACTS");
    snprintf(out, cap, "%s", env ? env : "build/artifacts");
    mkdir("build", 0755);
    mkdir(out, 0755);
}

/* Runs chromium on url; with shot set, writes a screenshot there, else returns the DOM. */
static char *browse(const char *url, const char *shot, const char *profile)
{
    char cmd[8192], out[4200];
    snprintf(out, sizeof out, "%s/dom.html", tmp);
    snprintf(cmd, sizeof cmd,
             "TZ=America/Los_Angeles timeout 120 %s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage "
             "--user-data-dir='%s/%s' --window-size=1280,1800 --virtual-time-budget=15000 %s%s '%s' >'%s' 2>/dev/null",
             chromium_path(), tmp, profile, shot ? "--screenshot=" : "--dump-dom", shot ? shot : "", url, out);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "chromium failed (%d): %s", rc, cmd);
    return shot ? NULL : wn_test_read_file(out, NULL);
}

/* The Chinese page shows no English word outside ids and units: the text between tags
 * (scripts, styles and attributes left out) holds no run of two or more Latin letters
 * but the allowed ones; runs with digits (ids, credit codes, hex keys) are allowed. */
static void assert_no_english(const char *dom)
{
    static const char *const allowed[] = {"English", "WaterNotary", "pH", "NTU", "kPa", "RFU", "UTC", "cm", "kL", "kWh",
                                         "CSV", "Excel", NULL}; /* the language button, the product, units, file formats */
    const char *p = strstr(dom, "<body");
    cr_assert(p);
    int in_tag = 0, skip = 0;
    for (; *p; p++) {
        if (*p == '<') {
            in_tag = 1;
            if (strncmp(p, "<script", 7) == 0 || strncmp(p, "<style", 6) == 0) skip = 1;
            if (strncmp(p, "</script", 8) == 0 || strncmp(p, "</style", 7) == 0) skip = 0;
            continue;
        }
        if (*p == '>') {
            in_tag = 0;
            continue;
        }
        if (in_tag || skip) continue;
        if (*p == '&') { /* an entity */
            while (*p && *p != ';' && *p != '<') p++;
            if (!*p) break;
            continue;
        }
        int alnum = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        if (!alnum) continue; /* a token: letters, digits, '-' and '_' */
        const char *w = p;
        int digits = 0;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
            digits |= *p >= '0' && *p <= '9';
            p++;
        }
        size_t n = (size_t)(p - w);
        p--;
        if (n < 2 || digits) continue;
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++) ok = strlen(allowed[i]) == n && strncmp(allowed[i], w, n) == 0;
        cr_assert(ok, "an English word on the Chinese page: \"%.*s\" in ...%.80s...", (int)n, w, w > dom + 40 ? w - 40 : dom);
    }
}

/* The text of the element with id in dom ("" if absent). */
static void text_of(const char *dom, const char *id, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "id=\"%s\"", id);
    out[0] = '\0';
    const char *p = strstr(dom, pat);
    if (!p || !(p = strchr(p, '>'))) return;
    p++;
    size_t n = 0;
    while (p[n] && p[n] != '<' && n + 1 < cap) n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static cJSON *api(const char *path)
{
    wn_mf_resp r;
    cr_assert(wn_mf_http(node.url, TOKEN, "GET", path, NULL, &r));
    cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    free(r.body);
    cr_assert(j);
    return j;
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("ui");
    cr_assert(tmp);
    wn_test_node_init(&node, tmp);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}

/* An enterprise of three meters: an intake P and its child C whose volumes disagree by a
 * third (an imbalance), P's tamper switch at one reading, and a meter S that reads every
 * second and then falls silent. */
static void induce(const uint8_t reg_sk[32])
{
    wn_mf_meter p, c, s;
    char err[256];
    cr_assert(wn_mf_meter_new(&p) && wn_mf_meter_new(&c) && wn_mf_meter_new(&s));
    cr_assert(wn_mf_enrol(node.url, reg_sk, &p, "91430100TEST00001U", WN_POINT_INTAKE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    cr_assert(wn_mf_enrol(node.url, reg_sk, &c, "91430100TEST00001U", WN_POINT_USE, 2, WN_SOURCE_TAP, &p, err), "%s", err);
    cr_assert(wn_mf_enrol(node.url, reg_sk, &s, "91430100TEST00001U", WN_POINT_DISCHARGE, 1, WN_SOURCE_TAP, NULL, err), "%s", err);
    memcpy(p_hex, p.hex, 65);
    wn_mf_resp lr;
    char lj[512];
    snprintf(lj, sizeof lj, "{\"enterprise\":\"91430100TEST00001U\",\"name\":\"长沙试验化工有限公司\",\"county\":\"望城区\",\"park\":\"铜官园区\",\"by\":\"测试\"}");
    cr_assert(wn_mf_http(node.url, TOKEN, "POST", "/v1/monitor/labels", lj, &lr));
    cr_assert_eq(lr.status, 200, "%s", lr.body);
    free(lr.body);
    snprintf(lj, sizeof lj, "{\"meter\":\"%s\",\"number\":\"QS-07\",\"location\":\"北门取水口\",\"purpose\":\"生产取水\",\"by\":\"测试\"}", p.hex);
    cr_assert(wn_mf_http(node.url, TOKEN, "POST", "/v1/monitor/labels", lj, &lr));
    cr_assert_eq(lr.status, 200, "%s", lr.body);
    free(lr.body);
    uint32_t day0 = wn_mf_cst_day(now_ms()) - 4;
    test_day0 = day0;
    wn_reading *r = calloc(2 * 289, sizeof *r);
    cr_assert(r);
    size_t n = 0;
    for (int k = 0; k <= 2 * 96; k++) {
        uint64_t t = wn_mf_cst_day_start(day0) + (uint64_t)k * Q15;
        if (k == 100) tamper_time = t;
        wn_mf_next(&p, &r[n], t, k ? 3000 : 0, k == 100 ? WN_FLAG_TAMPER : 0, -1);
        wn_mf_advance(&p, &r[n++]);
        wn_mf_next(&c, &r[n], t, k ? 2000 : 0, 0, -1);
        wn_mf_advance(&c, &r[n++]);
    }
    cr_assert(wn_mf_post(node.url, r, n, NULL, err), "%s", err);
    wn_mf_resp resp;
    cr_assert(wn_mf_http(node.url, TOKEN, "POST", "/v1/monitor/settings", "{\"silent_min_ms\":0}", &resp));
    cr_assert_eq(resp.status, 200, "%s", resp.body);
    free(resp.body);
    uint64_t t0 = now_ms() - 6000;
    for (int i = 0; i < 5; i++) {
        wn_mf_next(&s, &r[i], t0 + (uint64_t)i * 1000, 10, 0, -1);
        wn_mf_advance(&s, &r[i]);
    }
    cr_assert(wn_mf_post(node.url, r, 5, NULL, err), "%s", err);
    free(r);
    /* wait for the node's check to find S silent */
    for (int tries = 0; tries < 150; tries++) {
        cJSON *j = api("/v1/monitor/alerts?kind=silent&status=ongoing");
        int found = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "alerts")) > 0;
        cJSON_Delete(j);
        if (found) return;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    cr_assert_fail("the silent meter raised no alert");
}

/* The enterprise view from day0 to tomorrow offers a CSV export (id export-ent-csv); its 合计
 * intake equals the sum of meter P's increments in `wn export` (P is the enterprise's only
 * parentless intake meter). */
static void check_export(uint32_t day0)
{
    char url[1024], from[11], to[11];
    time_t t0 = (time_t)day0 * 86400, t1 = (time_t)(wn_mf_cst_day(now_ms()) + 1) * 86400;
    struct tm tm;
    gmtime_r(&t0, &tm);
    strftime(from, sizeof from, "%Y-%m-%d", &tm);
    gmtime_r(&t1, &tm);
    strftime(to, sizeof to, "%Y-%m-%d", &tm);
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=zh#/enterprise/91430100TEST00001U?from=%s&to=%s", node.url, TOKEN, from, to);
    char *dom = browse(url, NULL, "zh");
    cr_assert(strstr(dom, "长沙试验化工有限公司"), "the enterprise's name as the title");
    const char *a = strstr(dom, "id=\"export-ent-csv\"");
    cr_assert(a, "the page offers a CSV export");
    const char *h = strstr(a, "href=\"");
    cr_assert(h);
    h += 6;
    char href[1024];
    size_t n = 0;
    for (; *h && *h != '"' && n + 1 < sizeof href; h++) {
        if (strncmp(h, "&amp;", 5) == 0) {
            href[n++] = '&';
            h += 4;
        } else {
            href[n++] = *h;
        }
    }
    href[n] = '\0';
    assert_no_english(dom);
    free(dom);
    wn_mf_resp r;
    cr_assert(wn_mf_http(node.url, TOKEN, "GET", href, NULL, &r));
    cr_assert_eq(r.status, 200, "%s: %s", href, r.body);
    const char *tot = strstr(r.body, "\r\n合计,");
    cr_assert(tot, "a total row: %s", r.body);
    char total[64];
    snprintf(total, sizeof total, "%.*s", (int)strcspn(tot + 9, ",\r\n"), tot + 9);
    free(r.body);

    char cmd[9000], out[4400], ledger[4300];
    snprintf(ledger, sizeof ledger, "%s/ledger", node.data);
    snprintf(out, sizeof out, "%s/p.csv", tmp);
    char *wn = wn_test_bin("wn");
    snprintf(cmd, sizeof cmd, "'%s' export --ledger '%s' --meter %s --format csv --out '%s'", wn, ledger, p_hex, out);
    free(wn);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *csv = wn_test_read_file(out, NULL);
    cr_assert(csv);
    double sum = 0, last = 0;
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
        double v = strtod(f[5], NULL);
        if (have) sum += v - last;
        last = v;
        have = 1;
    }
    free(csv);
    char want[64];
    snprintf(want, sizeof want, "%.0f", sum); /* whole m3 here: 3 m3 a reading */
    cr_assert_str_eq(total, want, "the page's export total equals wn export's");
}

Test(ui, page_in_headless_chromium, .init = setup, .fini = teardown, .timeout = 300)
{
    if (!chromium_path()) cr_skip_test("chromium is not installed (scripts/install-deps.sh installs it): browser test skipped");
    char path[8400], web[4200], cwd[4096];
    cr_assert(getcwd(cwd, sizeof cwd));
    snprintf(web, sizeof web, "%s/web", cwd);
    snprintf(path, sizeof path, "%s/web/index.html", cwd);
    cr_assert_eq(access(path, R_OK), 0, "run the test from the repository root (web/ not found)");
    snprintf(path, sizeof path, "%s/tokens", tmp);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "%s bureau\n", TOKEN);
    fclose(f);
    const char *args[] = {"--tokens", path, "--web", web, "--checkpoint-ms", "100", NULL};
    if (!wn_test_node_start(&node, args)) cr_assert_fail("wn-node did not start: %s", wn_test_read_file(node.log, NULL));

    /* the fleet: two simulated enterprises of six meters */
    char *meter = wn_test_bin("wn-meter"), cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' simulate --node %s --registrar-key '%s/registrar.key' --meters 12 --readings 150 "
             "--state '%s/fleet' --quiet >'%s/sim.log' 2>&1", meter, node.url, node.data, tmp, tmp);
    free(meter);
    cr_assert_eq(system(cmd), 0, "wn-meter simulate failed (see %s/sim.log)", tmp);
    uint8_t reg_sk[32];
    snprintf(path, sizeof path, "%s/registrar.key", node.data);
    char *hex = wn_test_read_file(path, NULL);
    cr_assert(hex && wn_hex_decode(reg_sk, 32, hex, 64));
    free(hex);
    induce(reg_sk);

    cJSON *ov = api("/v1/monitor/overview");
    const cJSON *meters = cJSON_GetObjectItemCaseSensitive(ov, "meters");
    int online = cJSON_GetObjectItemCaseSensitive(meters, "online")->valueint;
    int today = cJSON_GetObjectItemCaseSensitive(ov, "readings_today")->valueint;
    int open = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ov, "alerts"), "open")->valueint;
    cJSON_Delete(ov);
    cr_assert_eq(online, 12, "the simulated meters are online; the test's three are not");

    char art[4200], url[1024], shot[4400], txt[256];
    artifacts_dir(art, sizeof art);
    /* overview, Chinese by default */
    snprintf(url, sizeof url, "%s/ui/?token=%s#/overview", node.url, TOKEN);
    char *dom = browse(url, NULL, "zh");
    cr_assert(dom && strstr(dom, "data-ready=\"1\""), "the page did not finish: %.500s", dom ? dom : "");
    text_of(dom, "ov-enterprises", txt, sizeof txt);
    cr_assert_str_eq(txt, "3", "enterprises shown");
    text_of(dom, "ov-meters", txt, sizeof txt);
    cr_assert_str_eq(txt, "15", "meters shown");
    text_of(dom, "ov-online", txt, sizeof txt);
    cr_assert_str_eq(txt, "12");
    text_of(dom, "ov-offline", txt, sizeof txt);
    cr_assert_str_eq(txt, "3");
    char want[32];
    snprintf(want, sizeof want, "%d", today);
    text_of(dom, "ov-readings-today", txt, sizeof txt);
    if (today < 1000) cr_assert_str_eq(txt, want, "readings today");
    snprintf(want, sizeof want, "%d", open);
    text_of(dom, "ov-open-alerts", txt, sizeof txt);
    cr_assert_str_eq(txt, want, "open alerts");
    text_of(dom, "ov-anchor", txt, sizeof txt);
    cr_assert_str_eq(txt, "未锚定", "no anchoring: \"not anchored\"");
    assert_no_english(dom);
    text_of(dom, "nav-overview", txt, sizeof txt);
    cr_assert_str_eq(txt, "总览", "Chinese by default");
    cr_assert(strstr(dom, "data-kind=\"silent\""), "the silent meter's alert is on the overview");
    free(dom);
    snprintf(shot, sizeof shot, "%s/ui-overview-zh.png", art);
    browse(url, shot, "zh");

    /* the alerts view lists every induced alert */
    snprintf(url, sizeof url, "%s/ui/?token=%s#/alerts?status=all", node.url, TOKEN);
    dom = browse(url, NULL, "zh");
    cr_assert(strstr(dom, "data-kind=\"tamper\""), "tamper alert shown");
    cr_assert(strstr(dom, "data-kind=\"silent\""), "silent alert shown");
    cr_assert(strstr(dom, "data-kind=\"imbalance\""), "imbalance alert shown");
    cr_assert(strstr(dom, "防拆报警") && strstr(dom, "水量不平衡"), "kinds named in Chinese");
    cr_assert(strstr(dom, "超时未上报"), "meter silence named 「超时未上报」");
    /* names beside the ids */
    cr_assert(strstr(dom, "长沙试验化工有限公司"), "the enterprise's name shown");
    cr_assert(strstr(dom, "QS-07 · 北门取水口"), "the meter's number and location shown");
    cr_assert(strstr(dom, "href=\"#/enterprise/91430100TEST00001U\""), "the enterprise id one click away");
    char mlink[128];
    snprintf(mlink, sizeof mlink, "href=\"#/meter/%s\"", p_hex);
    cr_assert(strstr(dom, mlink), "the meter id one click away");
    /* the tamper alert's time in +08:00 although the browser is in Los Angeles */
    char tt[32];
    time_t ts = (time_t)((tamper_time + 8 * 3600000ULL) / 1000);
    struct tm tmv;
    gmtime_r(&ts, &tmv);
    strftime(tt, sizeof tt, "%Y-%m-%d %H:%M", &tmv);
    cr_assert(strstr(dom, tt), "the tamper alert at %s (+08:00)", tt);
    assert_no_english(dom);
    free(dom);
    snprintf(shot, sizeof shot, "%s/ui-alerts-zh.png", art);
    browse(url, shot, "zh");

    /* switching language: the same view in English */
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=en#/alerts?status=all", node.url, TOKEN);
    dom = browse(url, NULL, "zh");
    text_of(dom, "nav-overview", txt, sizeof txt);
    cr_assert_str_eq(txt, "Overview", "English after switching");
    text_of(dom, "nav-alerts", txt, sizeof txt);
    cr_assert_str_eq(txt, "Alerts");
    cr_assert(strstr(dom, ">Tamper<") && strstr(dom, ">Imbalance<"), "kinds named in English");
    cr_assert_null(strstr(dom, "防拆报警"), "no Chinese kind names left");
    free(dom);
    snprintf(shot, sizeof shot, "%s/ui-alerts-en.png", art);
    browse(url, shot, "zh");

    /* the meter P in Chinese: its label, its id, its times in +08:00, no English */
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=zh#/meter/%s", node.url, TOKEN, p_hex);
    dom = browse(url, NULL, "zh");
    cr_assert(strstr(dom, "data-ready=\"1\""));
    text_of(dom, "meter-id", txt, sizeof txt);
    cr_assert_str_eq(txt, p_hex, "the meter's key shown");
    cr_assert(strstr(dom, "QS-07 · 北门取水口") && strstr(dom, "生产取水"), "the label shown");
    cr_assert(strstr(dom, "UTC+08:00"), "the zone said");
    assert_no_english(dom);
    free(dom);
    snprintf(shot, sizeof shot, "%s/ui-meter-zh.png", art);
    browse(url, shot, "zh");

    /* the enterprise's export, from the link the page offers, against `wn export` */
    check_export(day0_of_test());

    /* more views, for people to look at */
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=zh#/enterprise/91430100TEST00001U", node.url, TOKEN);
    snprintf(shot, sizeof shot, "%s/ui-enterprise-zh.png", art);
    browse(url, shot, "zh");
    snprintf(url, sizeof url, "%s/ui/?token=%s#/balance", node.url, TOKEN);
    snprintf(shot, sizeof shot, "%s/ui-balance-zh.png", art);
    browse(url, shot, "zh");
    cJSON *ents = api("/v1/monitor/enterprises");
    const char *ent = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ents, "enterprises"), 0), "enterprise")->valuestring;
    snprintf(url, sizeof url, "%s/ui/?token=%s#/enterprise/%s", node.url, TOKEN, ent);
    snprintf(shot, sizeof shot, "%s/ui-enterprise-sim-zh.png", art);
    browse(url, shot, "zh");
    char q[256];
    snprintf(q, sizeof q, "/v1/monitor/enterprise?id=%s", ent);
    cJSON *e = api(q);
    const char *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "meters"), 4), "meter")->valuestring;
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=en#/meter/%s", node.url, TOKEN, m);
    snprintf(shot, sizeof shot, "%s/ui-meter-en.png", art);
    browse(url, shot, "en");
    cJSON_Delete(e);
    cJSON_Delete(ents);
    /* a tablet */
    snprintf(url, sizeof url, "%s/ui/?token=%s&lang=zh#/overview", node.url, TOKEN);
    snprintf(shot, sizeof shot, "%s/ui-overview-tablet.png", art);
    char tcmd[8192];
    snprintf(tcmd, sizeof tcmd,
             "TZ=America/Los_Angeles timeout 120 %s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync --user-data-dir='%s/zh' --window-size=768,1024 --virtual-time-budget=15000 "
             "--screenshot='%s' '%s' >/dev/null 2>&1", chromium_path(), tmp, shot, url);
    cr_assert_eq(system(tcmd), 0);
    struct stat st;
    cr_assert(stat(shot, &st) == 0 && st.st_size > 10000, "screenshot %s", shot);
}
