/* test_monitor_restart.c — the monitor's aggregates survive restarts of a real wn-node
 * exactly. Five meters of two enterprises with different flows report every 10 minutes;
 * the node is stopped with SIGTERM and later killed with SIGKILL in the middle of an hour
 * and of a day, restarted each time, and fed on. Then every hourly and daily volume of
 * every meter and every daily and total figure of each enterprise that /v1/monitor/...
 * shows must equal, as decimal text, the sums of the increments in the CSV that
 * `wn export` writes from the node's ledger (PROTOCOL §12, §18). Before the fix each
 * meter took meter #0's current hour and day at start. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "protocol/enrolment.h"
#include "tests/support/monfeed.h"
#include "tests/support/monnode.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#define Q10 (10 * 60000ULL)
enum { A, D, B, C, F, NMR }; /* ENT-R: intake A (surface) and its sub-meter D, intake B (groundwater), discharge C; ENT-S: intake F */

static wn_mn S;
static wn_mf_meter M[NMR];
static uint64_t T0;
static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;

static int64_t prng(int64_t mod)
{
    prng_state ^= prng_state << 13;
    prng_state ^= prng_state >> 7;
    prng_state ^= prng_state << 17;
    return (int64_t)(prng_state % (uint64_t)mod);
}

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
    cr_assert(wn_mn_init(&S, "monrestart"));
    start();
}

static void teardown(void)
{
    wn_mn_free(&S);
    curl_global_cleanup();
}

static void enrol(void)
{
    static const struct {
        const char *ent;
        unsigned point, tier, source;
        int parent;
    } facts[NMR] = {
        [A] = {"ENT-R", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, -1},
        [D] = {"ENT-R", WN_POINT_USE, 2, WN_SOURCE_SURFACE, A},
        [B] = {"ENT-R", WN_POINT_INTAKE, 1, WN_SOURCE_GROUNDWATER, -1},
        [C] = {"ENT-R", WN_POINT_DISCHARGE, 1, WN_SOURCE_SURFACE, -1},
        [F] = {"ENT-S", WN_POINT_INTAKE, 1, WN_SOURCE_SURFACE, -1},
    };
    char err[256];
    for (int i = 0; i < NMR; i++) {
        cr_assert(wn_mf_meter_new(&M[i]));
        cr_assert(wn_mf_enrol(S.node.url, S.reg_sk, &M[i], facts[i].ent, facts[i].point, facts[i].tier, facts[i].source,
                              facts[i].parent >= 0 ? &M[facts[i].parent] : NULL, err),
                  "%s", err);
    }
}

/* Readings k in [k0, k1) of every meter at T0 + k * 10 min, each meter its own flow. */
static void feed(int k0, int k1)
{
    static const int64_t base[NMR] = {[A] = 4000, [D] = 1500, [B] = 2500, [C] = 3000, [F] = 6000};
    wn_reading batch[NMR * 8];
    size_t nb = 0;
    char err[256];
    for (int k = k0; k < k1; k++) {
        for (int i = 0; i < NMR; i++) {
            int64_t inc = k == 0 ? 0 : base[i] + prng(base[i]);
            wn_mf_next(&M[i], &batch[nb], T0 + (uint64_t)k * Q10, inc, 0, -1);
            wn_mf_advance(&M[i], &batch[nb]);
            nb++;
        }
        if (nb == sizeof batch / sizeof batch[0] || k == k1 - 1) {
            cr_assert(wn_mf_post(S.node.url, batch, nb, NULL, err), "%s", err);
            nb = 0;
        }
    }
}

/* ---- what the CSV says ---- */

typedef struct {
    char label[16]; /* "YYYY-MM-DDTHH" or "YYYY-MM-DD" (CST) */
    int meter;
    __int128 sum;
    int seen;
} cell;

static cell cells[4096];
static size_t ncells;

static cell *cell_at(const char *label, int meter)
{
    for (size_t i = 0; i < ncells; i++)
        if (cells[i].meter == meter && strcmp(cells[i].label, label) == 0) return &cells[i];
    cr_assert(ncells < sizeof cells / sizeof cells[0]);
    cell *c = &cells[ncells++];
    memset(c, 0, sizeof *c);
    snprintf(c->label, sizeof c->label, "%s", label);
    c->meter = meter;
    return c;
}

/* Reads `wn export --enterprise ent --tz +08:00`: per meter, each reading's totaliser minus
 * the previous one (0 for the first) into its CST hour and day. */
static void read_csv(const char *ent)
{
    char ledger[4300];
    snprintf(ledger, sizeof ledger, "%s/ledger", S.node.data);
    wn_run_result r = wn_proc_runl(S.tmp, "wn", "export", "--ledger", ledger, "--enterprise", ent, "--format", "csv",
                                   "--tz", "+08:00", NULL);
    cr_assert_eq(r.code, 0, "wn export: %s", r.err);
    __int128 last[NMR];
    int have[NMR] = {0};
    size_t rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(r.out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        if (strncmp(line, "meter,", 6) == 0) continue;
        char *f[9];
        int nf = 0;
        for (char *p = line; nf < 9; nf++) {
            f[nf] = p;
            char *comma = strchr(p, ',');
            if (!comma) {
                nf++;
                break;
            }
            *comma = '\0';
            p = comma + 1;
        }
        cr_assert_eq(nf, 9, "a CSV record of 9 fields");
        if (strcmp(f[3], "volume") != 0) continue;
        int mi = -1;
        for (int i = 0; i < NMR; i++)
            if (strcmp(M[i].hex, f[0]) == 0) mi = i;
        cr_assert(mi >= 0, "unknown meter %s in the export", f[0]);
        __int128 v;
        cr_assert(wn_mn_dec_parse(f[5], &v), "value %s", f[5]);
        __int128 inc = have[mi] ? v - last[mi] : 0;
        last[mi] = v;
        have[mi] = 1;
        char hour[16], day[16];
        cr_assert(strlen(f[2]) > 13 && strcmp(f[2] + strlen(f[2]) - 6, "+08:00") == 0, "time %s", f[2]);
        snprintf(hour, sizeof hour, "%.13s", f[2]);
        snprintf(day, sizeof day, "%.10s", f[2]);
        cell_at(hour, mi)->sum += inc;
        cell_at(day, mi)->sum += inc;
        rows++;
    }
    cr_assert(rows > 0, "the export holds readings");
    wn_run_result_free(&r);
}

/* ---- what the monitor says ---- */

static void cst_label(char *out, size_t cap, const char *ms, int days)
{
    time_t t = (time_t)(strtoull(ms, NULL, 10) / 1000 + 8 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, days ? "%Y-%m-%d" : "%Y-%m-%dT%H", &tm);
}

static size_t count_cells(int meter, int days)
{
    size_t n = 0;
    for (size_t i = 0; i < ncells; i++) n += cells[i].meter == meter && (strlen(cells[i].label) == 10) == days;
    return n;
}

static void check_meter(int mi, int days)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/monitor/meter?id=%s&from=%llu&to=%llu&bucket=%s", M[mi].hex,
             (unsigned long long)(T0 - 86400000ULL), (unsigned long long)(T0 + 3 * 86400000ULL), days ? "day" : "hour");
    long st;
    cJSON *j = wn_mn_get(&S, path, &st);
    cr_assert(j && st == 200, "GET %s: %ld", path, st);
    size_t n = 0;
    for (const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "series")->child; b; b = b->next, n++) {
        char label[16], want[48];
        cst_label(label, sizeof label, wn_mn_str(b, "t"), days);
        cell *c = cell_at(label, mi);
        wn_mn_dec_format(want, c->sum);
        cr_assert_str_eq(wn_mn_str(b, "volume"), want, "meter %d, %s %s: the monitor shows %s m3, the CSV sums to %s m3",
                         mi, days ? "day" : "hour", label, wn_mn_str(b, "volume"), want);
    }
    cr_assert_eq(n, count_cells(mi, days), "meter %d: %zu %s buckets shown, the CSV has %zu", mi, n,
                 days ? "day" : "hour", count_cells(mi, days));
    cJSON_Delete(j);
}

static void day_str(char out[11], uint32_t day)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ENT-R's days: surface intake = A, groundwater = B, total = A + B (D is a sub-meter),
 * discharge = C; ENT-S: surface = F. And the totals of the window. */
static void check_enterprise(const char *ent)
{
    int is_r = strcmp(ent, "ENT-R") == 0;
    uint32_t d0 = wn_mf_cst_day(T0);
    char from[11], to[11], path[256];
    day_str(from, d0 - 1);
    day_str(to, d0 + 3);
    snprintf(path, sizeof path, "/v1/monitor/enterprise?id=%s&from=%s&to=%s", ent, from, to);
    long st;
    cJSON *j = wn_mn_get(&S, path, &st);
    cr_assert(j && st == 200, "GET %s: %ld", path, st);
    __int128 tot[NMR] = {0};
    size_t ndays = 0;
    for (const cJSON *row = cJSON_GetObjectItemCaseSensitive(j, "days")->child; row; row = row->next) {
        const char *day = wn_mn_str(row, "day");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(row, "intake");
        __int128 a = 0, b = 0, c = 0, f = 0;
        for (size_t i = 0; i < ncells; i++) {
            if (strcmp(cells[i].label, day) != 0) continue;
            if (cells[i].meter == A) a = cells[i].sum;
            if (cells[i].meter == B) b = cells[i].sum;
            if (cells[i].meter == C) c = cells[i].sum;
            if (cells[i].meter == F) f = cells[i].sum;
        }
        if (a || b || c || f) ndays++;
        char want[48];
        wn_mn_dec_format(want, is_r ? a : f);
        cr_assert_str_eq(wn_mn_str(in, "surface"), want, "%s %s surface intake", ent, day);
        wn_mn_dec_format(want, is_r ? b : 0);
        cr_assert_str_eq(wn_mn_str(in, "groundwater"), want, "%s %s groundwater intake", ent, day);
        wn_mn_dec_format(want, is_r ? a + b : f);
        cr_assert_str_eq(wn_mn_str(row, "intake_total"), want, "%s %s intake total", ent, day);
        wn_mn_dec_format(want, is_r ? c : 0);
        cr_assert_str_eq(wn_mn_str(row, "discharge"), want, "%s %s discharge", ent, day);
        tot[A] += a, tot[B] += b, tot[C] += c, tot[F] += f;
    }
    cr_assert_geq(ndays, 2, "the readings span two CST days");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "totals");
    char want[48];
    wn_mn_dec_format(want, is_r ? tot[A] + tot[B] : tot[F]);
    cr_assert_str_eq(wn_mn_str(t, "intake_total"), want, "%s total intake", ent);
    wn_mn_dec_format(want, is_r ? tot[C] : 0);
    cr_assert_str_eq(wn_mn_str(t, "discharge"), want, "%s total discharge", ent);
    cJSON_Delete(j);
}

/* Everything the monitor shows against the CSV of the ledger as it is now (the node is
 * stopped for the export and started again). */
static void check_all(void)
{
    int status = wn_test_node_stop(&S.node, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wn-node did not stop cleanly");
    ncells = 0;
    read_csv("ENT-R");
    read_csv("ENT-S");
    start();
    for (int i = 0; i < NMR; i++) {
        check_meter(i, 0);
        check_meter(i, 1);
    }
    check_enterprise("ENT-R");
    check_enterprise("ENT-S");
}

Test(monitor_restart, totals_equal_the_csv_after_sigterm_and_sigkill, .init = setup, .fini = teardown, .timeout = 180)
{
    /* from 20:00 CST two days ago; every stop falls inside an hour and a day that go on after it */
    T0 = wn_mf_cst_day_start(wn_mf_cst_day(now_ms()) - 2) + 20 * 3600000ULL;
    enrol();
    feed(0, 27); /* to 00:20 */
    int status = wn_test_node_stop(&S.node, SIGTERM);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wn-node did not stop cleanly");
    start();
    feed(27, 67); /* 00:30 to 07:00 */
    wn_test_node_stop(&S.node, SIGKILL);
    start();
    feed(67, 110); /* 07:10 to 14:10 */
    wn_test_node_stop(&S.node, SIGKILL);
    start();
    feed(110, 113);
    check_all();
    /* and once more after a restart with nothing new */
    check_all();
}
