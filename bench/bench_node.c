/* bench_node.c — end-to-end throughput of the notary node over HTTP on 127.0.0.1, with the
 * node in this process (node/node.h) and libcurl clients on keep-alive connections:
 *   1. one client, one JSON reading per request (latency: a durable commit per request);
 *   2. 64 clients, one JSON reading per request (group commit shares the fsyncs);
 *   3. 8 clients, binary batches of 100 readings.
 * Readings are signed before the clock starts. Prints readings/s, requests/s and the mean
 * number of entries per ledger transaction, read from the node's own /metrics. The data
 * directory is a temp dir under $TMPDIR (or /tmp), removed at the end. */
#include "crypto/encoding.h"
#include "crypto/enrolment.h"
#include "crypto/reading.h"
#include "node/log.h"
#include "node/node.h"

#include <curl/curl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint8_t sk[32], id[32];
    char **json;     /* pre-signed readings as JSON */
    uint8_t *bin;    /* or as binary batches */
    size_t *batch_off, *batch_len;
    int n;           /* readings (or batches) */
    int done;
} client;

static unsigned port;
static uint8_t reg_sk[32];

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t sink(char *p, size_t s, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return s * n;
}

static size_t keep(char *p, size_t s, size_t n, void *ctx)
{
    char **out = ctx;
    size_t old = *out ? strlen(*out) : 0;
    *out = realloc(*out, old + s * n + 1);
    memcpy(*out + old, p, s * n);
    (*out)[old + s * n] = '\0';
    return s * n;
}

static long post(CURL *c, const char *path, const char *type, const void *body, size_t len, char **answer)
{
    char url[128], ct[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    snprintf(ct, sizeof ct, "Content-Type: %s", type);
    struct curl_slist *h = curl_slist_append(NULL, ct);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer ? keep : sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

static void make_client(client *cl, int n, int batch)
{
    memset(cl, 0, sizeof *cl);
    if (!wn_seckey_generate(cl->sk) || !wn_seckey_xonly(cl->id, cl->sk)) exit(1);
    /* enrol */
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, cl->id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 2;
    memcpy(e.pubkey + 1, cl->id, 32);
    e.time_ms = wn_now_ms();
    e.point = 1, e.tier = 1, e.source = 1;
    strcpy(e.enterprise, "BENCH");
    char ej[2048];
    size_t el;
    if (wn_enrolment_sign(&e, reg_sk) || wn_enrolment_to_json(&e, ej, sizeof ej, &el)) exit(1);
    CURL *c = curl_easy_init();
    if (post(c, "/v1/enrolments", "application/json", ej, el, NULL) != 200) {
        fprintf(stderr, "bench: enrolment failed\n");
        exit(1);
    }
    curl_easy_cleanup(c);
    /* readings */
    int total = batch ? n * batch : n;
    uint8_t prev[32] = {0};
    uint64_t t0 = wn_now_ms() - 1000;
    if (batch) {
        cl->bin = malloc((size_t)total * (2 + WN_READING_MAX_LEN));
        cl->batch_off = calloc((size_t)n, sizeof *cl->batch_off);
        cl->batch_len = calloc((size_t)n, sizeof *cl->batch_len);
    } else {
        cl->json = calloc((size_t)n, sizeof *cl->json);
    }
    size_t off = 0;
    for (int i = 0; i < total; i++) {
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, cl->id, 32);
        r.seq = (uint64_t)i + 1;
        r.time_ms = t0 + (uint64_t)i / 100;
        memcpy(r.prev, prev, 32);
        r.count = 3;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 1000 + 10 * i};
        r.m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 2, 1250};
        r.m[2] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 721};
        if (wn_reading_sign(&r, cl->sk)) exit(1);
        wn_reading_digest(&r, prev);
        if (batch) {
            if (i % batch == 0) cl->batch_off[i / batch] = off;
            size_t len;
            wn_reading_encode(&r, cl->bin + off + 2, WN_READING_MAX_LEN, &len);
            wn_put_u16(cl->bin + off, (uint16_t)len);
            off += 2 + len;
            cl->batch_len[i / batch] = off - cl->batch_off[i / batch];
        } else {
            cl->json[i] = malloc(2048);
            size_t len;
            wn_reading_to_json(&r, cl->json[i], 2048, &len);
        }
    }
    cl->n = n;
}

static void free_client(client *cl)
{
    if (cl->json)
        for (int i = 0; i < cl->n; i++) free(cl->json[i]);
    free(cl->json);
    free(cl->bin);
    free(cl->batch_off);
    free(cl->batch_len);
}

static void *run_client(void *arg)
{
    client *cl = arg;
    CURL *c = curl_easy_init();
    for (int i = 0; i < cl->n; i++) {
        long st = cl->json ? post(c, "/v1/readings", "application/json", cl->json[i], strlen(cl->json[i]), NULL)
                           : post(c, "/v1/readings", WN_BINARY_TYPE, cl->bin + cl->batch_off[i], cl->batch_len[i], NULL);
        if (st != 200) {
            fprintf(stderr, "bench: request answered %ld\n", st);
            break;
        }
        cl->done++;
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* Reads a metric's value from /metrics. */
static double metric(const char *name)
{
    char url[128], *text = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &text);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    double v = 0;
    size_t nl = strlen(name);
    for (char *p = text; p && *p;) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
            v = atof(p + nl + 1);
            break;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    free(text);
    return v;
}

static void scenario(const char *title, int clients, int per_client, int batch)
{
    client *cl = calloc((size_t)clients, sizeof *cl);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    for (int i = 0; i < clients; i++) make_client(&cl[i], per_client, batch);
    double commits0 = metric("wn_commit_entries_count"), entries0 = metric("wn_commit_entries_sum");
    double t = now_s();
    for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, run_client, &cl[i]);
    long requests = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        requests += cl[i].done;
    }
    t = now_s() - t;
    double commits = metric("wn_commit_entries_count") - commits0, entries = metric("wn_commit_entries_sum") - entries0;
    long readings = batch ? requests * batch : requests;
    printf("%-44s %8.0f readings/s %8.0f requests/s  %6.1f entries per commit  (%ld readings, %.2f s)\n", title,
           (double)readings / t, (double)requests / t, commits > 0 ? entries / commits : 0, readings, t);
    for (int i = 0; i < clients; i++) free_client(&cl[i]);
    free(cl);
    free(th);
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
    (void)s, (void)f, (void)w;
    return remove(p);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/wn-bench-node-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!wn_seckey_generate(reg_sk)) return 1;
    uint8_t reg_pk[32];
    char reg_hex[65];
    if (!wn_seckey_xonly(reg_pk, reg_sk)) return 1;
    wn_hex_encode(reg_hex, reg_pk, 32);
    wn_node_config cfg = {.data_dir = dir, .listen = "127.0.0.1:0", .registrar_hex = reg_hex,
                          .max_body = WN_NODE_DEFAULT_MAX_BODY, .skew_ms = WN_NODE_DEFAULT_SKEW_MS,
                          .checkpoint_every = WN_NODE_DEFAULT_CP_EVERY, .checkpoint_ms = WN_NODE_DEFAULT_CP_MS};
    wn_node *node;
    if (!wn_node_open(&node, &cfg)) return 1;
    port = node->port;
    printf("bench_node: node on 127.0.0.1:%u, data in %s\n", port, dir);
    scenario("1 client, 1 JSON reading per request", 1, 300, 0);
    scenario("64 clients, 1 JSON reading per request", 64, 150, 0);
    scenario("8 clients, binary batches of 100", 8, 40, 100);
    wn_node_close(node);
    curl_global_cleanup();
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
