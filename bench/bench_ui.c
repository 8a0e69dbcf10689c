/* bench_ui.c — how fast the monitoring page's data comes back for a big enterprise: one
 * enterprise of 50 meters (5 intake meters with 7 tier-2 children each, 5 recycling and
 * 5 discharge meters) with a year of 15-minute readings (50 x 35040 = 1.75 million), plus
 * the target: the enterprise page's data in under 200 ms on this machine.
 *
 * The ledger is written directly with the ledger API in a temp dir (enrolments signed by
 * a registrar key; readings chained with real digests but NOT signed, since the node does
 * not verify signatures again when it rebuilds its state from its own ledger, and signing
 * 1.75 million readings would dominate the run). Then a real bin/wn-node starts on it
 * (timed: its state and the monitor's aggregates are built from the ledger) and each
 * request of the page is timed over HTTP on 127.0.0.1 (median of 7, after one warm-up):
 * overview, enterprise year view, alerts of the enterprise, quotas — together the
 * enterprise page — and the water balance and meter views.
 *
 * usage: bench_ui [--days N]   (default 365). The node is $WN_BIN/wn-node (default bin/). */
#include <curl/curl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "crypto/sig.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"

#define METERS 50
#define Q15 (15 * 60000ULL)
#define TARGET_MS 200.0

static char dir[256];
static pid_t node_pid;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void cleanup(void)
{
    if (node_pid > 0) {
        kill(node_pid, SIGKILL);
        waitpid(node_pid, NULL, 0);
        node_pid = 0;
    }
    if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_ui: %s\n", what);
    cleanup();
    exit(1);
}

typedef struct {
    uint8_t sk[32], id[32];
    unsigned point, tier, source;
    int parent;
    uint8_t last[32];
    int64_t vol;
} meter;

static void build_ledger(unsigned days, const uint8_t reg_sk[32], meter *m)
{
    char path[300];
    snprintf(path, sizeof path, "%s/ledger", dir);
    wn_ledger *l;
    if (wn_ledger_open(&l, path, 0) != WN_LEDGER_OK) die("cannot create the ledger");
    /* enrolments */
    uint8_t *buf = malloc((size_t)20000 * 200);
    wn_ledger_item *items = malloc(20000 * sizeof *items);
    if (!buf || !items) die("out of memory");
    for (int i = 0; i < METERS; i++) {
        wn_enrolment e;
        memset(&e, 0, sizeof e);
        memcpy(e.meter, m[i].id, 32);
        e.alg = WN_ALG_BIP340;
        e.pubkey[0] = 0x02;
        memcpy(e.pubkey + 1, m[i].id, 32);
        e.time_ms = 1700000000000ULL;
        e.point = (uint8_t)m[i].point;
        e.tier = (uint8_t)m[i].tier;
        e.source = (uint8_t)m[i].source;
        if (m[i].parent >= 0) memcpy(e.parent, m[m[i].parent].id, 32);
        snprintf(e.enterprise, sizeof e.enterprise, "91430100BENCH0001X");
        snprintf(e.calibration, sizeof e.calibration, "BENCH");
        size_t len;
        buf[i * 600] = WN_ENTRY_ENROLMENT;
        if (wn_enrolment_sign(&e, reg_sk) != WN_ENROL_OK ||
            wn_enrolment_encode(&e, buf + i * 600 + 1, 599, &len) != WN_ENROL_OK)
            die("cannot build an enrolment");
        items[i] = (wn_ledger_item){buf + i * 600, len + 1, NULL, 0};
    }
    if (wn_ledger_append(l, items, METERS, NULL, NULL) != WN_LEDGER_OK) die("cannot append the enrolments");
    /* readings: the year that ends now, meters interleaved in time order */
    uint64_t now = (uint64_t)time(NULL) * 1000, steps = (uint64_t)days * 96;
    uint64_t t0 = (now - steps * Q15) / Q15 * Q15;
    size_t n = 0, off = 0;
    uint64_t x = 7;
    for (uint64_t k = 0; k < steps; k++) {
        uint64_t t = t0 + k * Q15;
        unsigned hour = (unsigned)((t / 3600000 + 8) % 24);
        for (int i = 0; i < METERS; i++) {
            wn_reading r;
            memset(&r, 0, sizeof r);
            r.version = 1;
            memcpy(r.meter, m[i].id, 32);
            r.seq = k + 1;
            r.time_ms = t;
            memcpy(r.prev, m[i].last, 32);
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t inc = (int64_t)(x % 4000) + 500;
            if (hour < 6) inc /= 8;
            if (k) m[i].vol += inc;
            r.count = 2;
            r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m[i].vol};
            r.m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 3, inc * 4};
            if (m[i].point == WN_POINT_RECYCLING || m[i].point == WN_POINT_DISCHARGE) {
                r.count = 4;
                r.m[2] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 700 + (int64_t)(x % 60)};
                r.m[3] = (wn_measurement){WN_Q_TURBIDITY, WN_U_NTU, 2, 150 + (int64_t)(x % 200)};
            }
            r.alg = WN_ALG_BIP340; /* signature left zero: see the file comment */
            size_t len;
            buf[off] = WN_ENTRY_READING;
            if (wn_reading_encode(&r, buf + off + 1, 199, &len) != WN_READING_OK) die("cannot encode a reading");
            wn_reading_digest(&r, m[i].last);
            items[n++] = (wn_ledger_item){buf + off, len + 1, m[i].id, r.seq};
            off += 200;
            if (n == 20000) {
                if (wn_ledger_append(l, items, n, NULL, NULL) != WN_LEDGER_OK) die("cannot append readings");
                n = off = 0;
            }
        }
    }
    if (n && wn_ledger_append(l, items, n, NULL, NULL) != WN_LEDGER_OK) die("cannot append readings");
    wn_ledger_close(l);
    free(buf);
    free(items);
}

static size_t sink(char *p, size_t s, size_t n, void *ctx)
{
    (void)p;
    *(size_t *)ctx += s * n;
    return s * n;
}

static CURL *curl;
static char token_hdr[128], base[64];

/* GET path; returns ms, or a negative value if not 200. */
static double timed_get(const char *path, size_t *bytes)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, token_hdr);
    *bytes = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, bytes);
    double t = mono();
    CURLcode rc = curl_easy_perform(curl);
    t = (mono() - t) * 1000;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return rc == CURLE_OK && status == 200 ? t : -1;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(const char *path, size_t *bytes)
{
    double v[7];
    if (timed_get(path, bytes) < 0) {
        fprintf(stderr, "bench_ui: GET %s failed\n", path);
        cleanup();
        exit(1);
    }
    for (int i = 0; i < 7; i++) v[i] = timed_get(path, bytes);
    qsort(v, 7, sizeof v[0], cmp);
    return v[3];
}

int main(int argc, char **argv)
{
    unsigned days = 365;
    if (argc == 3 && strcmp(argv[1], "--days") == 0) days = (unsigned)atoi(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: bench_ui [--days N]\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/wn-bench-ui-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) die("cannot make a temp dir");
    signal(SIGINT, SIG_DFL);

    uint8_t reg_sk[32];
    char path[400];
    snprintf(path, sizeof path, "%s/registrar.key", dir);
    if (!wn_keyfile_create(path, reg_sk, NULL)) die("cannot create the registrar key");
    uint8_t notary_sk[32]; /* the node refuses a ledger without its notary key (startcheck) */
    snprintf(path, sizeof path, "%s/notary.key", dir);
    if (!wn_keyfile_create(path, notary_sk, NULL)) die("cannot create the notary key");
    meter m[METERS];
    memset(m, 0, sizeof m);
    for (int i = 0; i < METERS; i++) {
        if (!wn_seckey_generate(m[i].sk) || !wn_seckey_xonly(m[i].id, m[i].sk)) die("keys");
        m[i].parent = -1;
        m[i].vol = 100000;
        m[i].source = WN_SOURCE_SURFACE;
        if (i < 40) {
            int fam = i / 8, slot = i % 8;
            m[i].point = slot ? WN_POINT_USE : WN_POINT_INTAKE;
            m[i].tier = slot ? 2 : 1;
            if (slot) m[i].parent = fam * 8;
        } else {
            m[i].point = i < 45 ? WN_POINT_RECYCLING : WN_POINT_DISCHARGE;
            m[i].tier = i < 45 ? 2 : 1;
            if (i < 45) m[i].source = WN_SOURCE_RECLAIMED;
        }
    }
    printf("bench_ui: one enterprise, %d meters, %u days of 15-minute readings (%llu readings)\n", METERS, days,
           (unsigned long long)METERS * days * 96);
    double t = mono();
    build_ledger(days, reg_sk, m);
    printf("  ledger written directly:               %8.1f s\n", mono() - t);

    /* the node, with a bureau token */
    snprintf(path, sizeof path, "%s/tokens", dir);
    FILE *f = fopen(path, "w");
    if (!f) die("tokens file");
    fprintf(f, "bench-bureau-token-0123456789 bureau\n");
    fclose(f);
    snprintf(token_hdr, sizeof token_hdr, "Authorization: Bearer bench-bureau-token-0123456789");
    char bin[600], portfile[400], logf[400];
    const char *wb = getenv("WN_BIN");
    snprintf(bin, sizeof bin, "%s/wn-node", wb ? wb : "bin");
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(logf, sizeof logf, "%s/node.log", dir);
    t = mono();
    node_pid = fork();
    if (node_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!freopen(logf, "w", stderr)) _exit(127);
        execl(bin, bin, "--data", dir, "--listen", "127.0.0.1:0", "--port-file", portfile, "--tokens", path, (char *)NULL);
        _exit(127);
    }
    unsigned port = 0;
    for (int i = 0; i < 6000 && !port; i++) {
        if (waitpid(node_pid, NULL, WNOHANG) == node_pid) {
            node_pid = 0;
            die("wn-node exited (see its log)");
        }
        FILE *pf = fopen(portfile, "r");
        if (pf) {
            if (fscanf(pf, "%u", &port) != 1) port = 0;
            fclose(pf);
        }
        if (!port) usleep(100000);
    }
    if (!port) die("wn-node did not start in 10 minutes");
    printf("  node start (state + aggregates built):  %8.1f s\n", mono() - t);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();

    size_t b1, b2, b3, b4;
    double ov = median_ms("/v1/monitor/overview", &b1);
    double ent = median_ms("/v1/monitor/enterprise?id=91430100BENCH0001X", &b2);
    double al = median_ms("/v1/monitor/alerts?status=open&limit=50&enterprise=91430100BENCH0001X", &b3);
    double qu = median_ms("/v1/monitor/quotas", &b4);
    double page = ent + al + qu;
    printf("  GET overview                           %8.2f ms  (%zu bytes)\n", ov, b1);
    printf("  GET enterprise (this year, by day)     %8.2f ms  (%zu bytes)\n", ent, b2);
    printf("  GET alerts of the enterprise           %8.2f ms  (%zu bytes)\n", al, b3);
    printf("  GET quotas                             %8.2f ms  (%zu bytes)\n", qu, b4);
    char p2[300];
    char hex[65];
    wn_hex_encode(hex, m[0].id, 32);
    double bal = median_ms("/v1/monitor/balance?enterprise=91430100BENCH0001X", &b1);
    printf("  GET balance (yesterday, 5 families)    %8.2f ms\n", bal);
    uint64_t now = (uint64_t)time(NULL) * 1000;
    snprintf(p2, sizeof p2, "/v1/monitor/balance?enterprise=91430100BENCH0001X&from=%llu&to=%llu",
             (unsigned long long)(now - (uint64_t)days * 86400000ULL), (unsigned long long)now);
    double baly = median_ms(p2, &b1);
    printf("  GET balance (the whole period)         %8.2f ms\n", baly);
    snprintf(p2, sizeof p2, "/v1/monitor/meter?id=%s", hex);
    double mv = median_ms(p2, &b1);
    printf("  GET meter (48 h by hour)               %8.2f ms  (%zu bytes)\n", mv, b1);
    snprintf(p2, sizeof p2, "/v1/monitor/meter?id=%s&from=%llu&to=%llu&bucket=day", hex,
             (unsigned long long)(now - (uint64_t)days * 86400000ULL), (unsigned long long)now);
    double mvy = median_ms(p2, &b1);
    printf("  GET meter (the period by day)          %8.2f ms  (%zu bytes)\n", mvy, b1);
    double ecsv = median_ms("/v1/monitor/export?view=enterprise&id=91430100BENCH0001X&format=csv", &b1);
    printf("  GET export enterprise days (CSV)       %8.2f ms  (%zu bytes)\n", ecsv, b1);
    double exl = median_ms("/v1/monitor/export?view=enterprise&id=91430100BENCH0001X&format=xlsx", &b1);
    printf("  GET export enterprise (xlsx)           %8.2f ms  (%zu bytes)\n", exl, b1);
    printf("  enterprise page data (enterprise + alerts + quotas): %.2f ms, target < %.0f ms: %s\n", page, TARGET_MS,
           page < TARGET_MS ? "met" : "NOT MET");
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    cleanup();
    return page < TARGET_MS ? 0 : 1;
}
