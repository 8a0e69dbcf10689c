/* test_ui.c — the monitoring page in a real browser: headless Chromium (Debian's
 * `chromium`, installed by scripts/install-deps.sh) loads /ui/ from a wn-node fed by
 * `wn-meter simulate` plus one enterprise of the test's own whose meters show a tamper
 * flag, an imbalance and a silence. The rendered DOM (--dump-dom) must show the right
 * counts on the overview, the induced alerts on the alerts view, and Chinese labels by
 * default and English ones after switching language. Screenshots are kept in
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
             "timeout 120 %s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage "
             "--user-data-dir='%s/%s' --window-size=1280,1800 --virtual-time-budget=15000 %s%s '%s' >'%s' 2>/dev/null",
             chromium_path(), tmp, profile, shot ? "--screenshot=" : "--dump-dom", shot ? shot : "", url, out);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "chromium failed (%d): %s", rc, cmd);
    return shot ? NULL : wn_test_read_file(out, NULL);
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
    uint32_t day0 = wn_mf_cst_day(now_ms()) - 4;
    wn_reading *r = calloc(2 * 289, sizeof *r);
    cr_assert(r);
    size_t n = 0;
    for (int k = 0; k <= 2 * 96; k++) {
        uint64_t t = wn_mf_cst_day_start(day0) + (uint64_t)k * Q15;
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
             "timeout 120 %s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync --user-data-dir='%s/zh' --window-size=768,1024 --virtual-time-budget=15000 "
             "--screenshot='%s' '%s' >/dev/null 2>&1", chromium_path(), tmp, shot, url);
    cr_assert_eq(system(tcmd), 0);
    struct stat st;
    cr_assert(stat(shot, &st) == 0 && st.st_size > 10000, "screenshot %s", shot);
}
