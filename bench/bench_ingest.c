/* bench_ingest.c — the node's CPU per accepted reading on the batch path, for comparing two
 * builds of wn-node on a shared machine: CPU time is not taken by other processes, so the
 * figure moves only with the node's own work. One run:
 *   - meters of one algorithm (--alg bip340|p256|sm2) and their readings signed in this
 *     process before the node starts (the meters' time lies in the past);
 *   - $WN_BIN/wn-node started on a temporary data directory (127.0.0.1:0), the meters
 *     enrolled (POST /v1/enrolments, signed with the node's DIR/registrar.key), the
 *     readings pushed as binary batches of 100 from --clients kept-alive connections;
 *   - the node's CPU seconds (/proc/PID/stat, user + system) over the push, divided by the
 *     readings accepted, beside the CPU time of one verification with a prepared key
 *     measured here (one thread), and their ratio: the CPU-time form of bench_node's (iii).
 * Every answer must accept all 100 readings, else the run fails (exit 1).
 *
 * usage: bench_ingest [--alg bip340|p256|sm2] [--readings N] [--meters N] [--clients N]
 *        (defaults bip340, 20000, 200, 4). Run it several times, alternating the two
 *        builds (WN_BIN=...), and compare the medians. */
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "crypto/verifier.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "tests/support/procstat.h"

#define BATCH 100

static char g_dir[4096], g_url[64];
static pid_t g_node;

static __attribute__((noreturn)) void die(const char *what)
{
    fprintf(stderr, "bench_ingest: %s\n", what);
    exit(1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double node_cpu(void) { return wn_procstat_of((int)g_node).cpu_s; }

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
    (void)s, (void)f, (void)w;
    return remove(p);
}

static void cleanup(void)
{
    if (g_node > 0) {
        kill(g_node, SIGKILL);
        waitpid(g_node, NULL, 0);
    }
    if (g_dir[0]) nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void start_node(void)
{
    const char *bindir = getenv("WN_BIN");
    char bin[4200], portfile[4200], log[4200], data[4200];
    snprintf(bin, sizeof bin, "%s/wn-node", bindir && *bindir ? bindir : "bin");
    snprintf(portfile, sizeof portfile, "%s/port", g_dir);
    snprintf(log, sizeof log, "%s/node.log", g_dir);
    snprintf(data, sizeof data, "%s/data", g_dir);
    pid_t parent = getpid();
    if ((g_node = fork()) < 0) die("fork");
    if (g_node == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        execl(bin, bin, "--data", data, "--listen", "127.0.0.1:0", "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) {
        if (waitpid(g_node, NULL, WNOHANG) == g_node) die("wn-node exited at start");
        FILE *f = fopen(portfile, "r");
        unsigned port = 0;
        if (f) {
            int ok = fscanf(f, "%u", &port) == 1;
            fclose(f);
            if (ok && port) {
                snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u", port);
                return;
            }
        }
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    die("wn-node did not listen");
}

typedef struct {
    char *p;
    size_t n, cap;
} body;

static size_t on_body(char *d, size_t s, size_t n, void *ud)
{
    body *b = ud;
    size_t add = s * n;
    if (b->n + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + add + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, d, add);
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

static long post(CURL *c, const char *path, const char *type, const void *data, size_t len, body *b)
{
    char url[256], ct[128];
    snprintf(url, sizeof url, "%s%s", g_url, path);
    snprintf(ct, sizeof ct, "Content-Type: %s", type);
    struct curl_slist *h = curl_slist_append(curl_slist_append(NULL, ct), "Expect:");
    b->n = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    return st;
}

typedef struct {
    uint8_t sk[32], id[32], pub33[33], prev[32];
    uint64_t seq, time_ms;
    int64_t volume;
} meter;

typedef struct {
    uint8_t *data;
    size_t len;
} batch;

typedef struct {
    batch *b;
    size_t nb;
    uint64_t accepted;
    int failed;
} client;

static uint8_t g_alg = WN_ALG_BIP340;

static void meter_new(meter *m)
{
    int ok = g_alg == WN_ALG_P256  ? wn_p256_seckey_generate(m->sk) && wn_p256_pub33(m->pub33, m->sk)
             : g_alg == WN_ALG_SM2 ? wn_sm2_seckey_generate(m->sk) && wn_sm2_pub33(m->pub33, m->sk)
                                   : wn_seckey_generate(m->sk) && wn_seckey_pub33(m->pub33, m->sk);
    ok = ok && (g_alg == WN_ALG_BIP340 ? wn_seckey_xonly(m->id, m->sk) : wn_meter_id_of(g_alg, m->pub33, m->id));
    if (!ok) die("meter key");
}

static void next_reading(meter *m, batch *bt)
{
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = WN_READING_VERSION;
    memcpy(r.meter, m->id, 32);
    r.seq = ++m->seq;
    r.time_ms = (m->time_ms += 1000);
    memcpy(r.prev, m->prev, 32);
    m->volume += 7 + (int64_t)(r.seq % 5);
    r.count = 2;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->volume};
    r.m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 2, 2500 + (int64_t)(r.seq % 50)};
    size_t len;
    int err = g_alg == WN_ALG_BIP340 ? wn_reading_sign(&r, m->sk) : wn_reading_sign_evp(&r, g_alg, m->sk);
    if (err || wn_reading_encode(&r, bt->data + bt->len + 2, WN_READING_MAX_LEN, &len)) die("sign");
    wn_put_u16(bt->data + bt->len, (uint16_t)len);
    wn_sha256(m->prev, bt->data + bt->len + 2, len);
    bt->len += 2 + len;
}

static void *run_client(void *arg)
{
    client *cl = arg;
    CURL *c = curl_easy_init();
    body b = {0};
    for (size_t i = 0; i < cl->nb && !cl->failed; i++) {
        long st = post(c, "/v1/readings", "application/vnd.waternotary.readings", cl->b[i].data, cl->b[i].len, &b);
        size_t acc = 0;
        for (const char *p = b.p; st == 200 && p && (p = strstr(p, "\"status\":\"accepted\"")); p++) acc++;
        if (acc != BATCH) {
            fprintf(stderr, "bench_ingest: batch answered %ld, %zu accepted: %.200s\n", st, acc, b.p ? b.p : "");
            cl->failed = 1;
        }
        cl->accepted += acc;
    }
    free(b.p);
    curl_easy_cleanup(c);
    return NULL;
}

/* CPU seconds of one verification with a prepared key, on this thread. */
static double verify_cpu(void)
{
    enum { K = 16, S = 512 };
    static wn_verifier v[K];
    static uint8_t msg[S][32], sig[S][64];
    meter m[K];
    for (int i = 0; i < K; i++) {
        meter_new(&m[i]);
        int ok = g_alg == WN_ALG_BIP340 ? wn_verifier_bip340(&v[i], m[i].id) : wn_verifier_evp(&v[i], g_alg, m[i].pub33);
        if (!ok) die("verifier");
    }
    for (int i = 0; i < S; i++) {
        wn_tagged_hash(msg[i], WN_TAG_READING, &i, sizeof i);
        const uint8_t *k = m[i % K].sk;
        int ok = g_alg == WN_ALG_P256  ? wn_p256_sign(sig[i], k, msg[i])
                 : g_alg == WN_ALG_SM2 ? wn_sm2_sign(sig[i], k, NULL, msg[i], 32)
                                       : wn_schnorr_sign(sig[i], k, msg[i], NULL);
        if (!ok) die("sign");
    }
    double best = 1;
    for (int round = 0; round < 3; round++) {
        double t0 = cpu_s();
        for (int i = 0; i < S; i++)
            if (!wn_verifier_verify(&v[i % K], sig[i], msg[i])) die("verify");
        double each = (cpu_s() - t0) / S;
        if (each < best) best = each;
    }
    return best;
}

int main(int argc, char **argv)
{
    unsigned total = 20000, nmeters = 200, nclients = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned v = (unsigned)strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--readings") == 0 && v >= BATCH) total = v;
        else if (strcmp(argv[i], "--meters") == 0 && v >= 1) nmeters = v;
        else if (strcmp(argv[i], "--clients") == 0 && v >= 1 && v <= 32) nclients = v;
        else if (strcmp(argv[i], "--alg") == 0 && strcmp(argv[i + 1], "bip340") == 0) g_alg = WN_ALG_BIP340;
        else if (strcmp(argv[i], "--alg") == 0 && strcmp(argv[i + 1], "p256") == 0) g_alg = WN_ALG_P256;
        else if (strcmp(argv[i], "--alg") == 0 && strcmp(argv[i + 1], "sm2") == 0) g_alg = WN_ALG_SM2;
        else die("usage: bench_ingest [--alg bip340|p256|sm2] [--readings N] [--meters N] [--clients N]");
    }
    if (nmeters < nclients) nmeters = nclients;
    size_t per_client = (total + nclients * BATCH - 1) / (nclients * BATCH);
    meter *ms = calloc(nmeters, sizeof *ms);
    client *cl = calloc(nclients, sizeof *cl);
    pthread_t *th = calloc(nclients, sizeof *th);
    if (!ms || !cl || !th) die("out of memory");
    uint64_t t0 = (uint64_t)time(NULL) * 1000 - (per_client * BATCH * nclients / nmeters + 700) * 1000;
    for (unsigned i = 0; i < nmeters; i++) {
        meter_new(&ms[i]);
        ms[i].time_ms = t0;
        ms[i].volume = 1000 * (int64_t)i;
    }
    /* client c owns meters c, c + nclients, ...: its readings of a meter arrive in order */
    for (unsigned c = 0; c < nclients; c++) {
        cl[c].nb = per_client;
        cl[c].b = calloc(per_client, sizeof *cl[c].b);
        size_t k = 0, own = (nmeters - c + nclients - 1) / nclients;
        for (size_t i = 0; i < per_client; i++) {
            batch *bt = &cl[c].b[i];
            if (!(bt->data = malloc((size_t)BATCH * (2 + WN_READING_MAX_LEN)))) die("out of memory");
            for (int r = 0; r < BATCH; r++, k++) next_reading(&ms[c + (k % own) * nclients], bt);
        }
    }
    double vcpu = verify_cpu();

    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/wn-bench-ingest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) die("mkdtemp");
    atexit(cleanup);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_node();
    uint8_t reg_sk[32];
    char path[4300];
    snprintf(path, sizeof path, "%s/data/registrar.key", g_dir);
    if (!wn_keyfile_read(path, reg_sk)) die("registrar key");
    CURL *c = curl_easy_init();
    body b = {0};
    for (unsigned i = 0; i < nmeters; i++) {
        wn_enrolment e;
        memset(&e, 0, sizeof e);
        memcpy(e.meter, ms[i].id, 32);
        e.alg = g_alg;
        if (g_alg == WN_ALG_BIP340) {
            e.pubkey[0] = 0x02;
            memcpy(e.pubkey + 1, ms[i].id, 32);
        } else {
            memcpy(e.pubkey, ms[i].pub33, 33);
        }
        e.time_ms = t0 - 60000;
        e.point = WN_POINT_USE;
        e.tier = 2;
        e.source = WN_SOURCE_TAP;
        snprintf(e.enterprise, sizeof e.enterprise, "91330400MA%08uX", i);
        snprintf(e.calibration, sizeof e.calibration, "BENCH-%u", i);
        char json[WN_ENROLMENT_JSON_MAX];
        size_t len;
        if (wn_enrolment_sign(&e, reg_sk) || wn_enrolment_to_json(&e, json, sizeof json, &len) ||
            post(c, "/v1/enrolments", "application/json", json, len, &b) != 200)
            die("enrolment refused");
    }
    free(b.p);
    curl_easy_cleanup(c);
    explicit_bzero(reg_sk, sizeof reg_sk);

    double cpu0 = node_cpu(), w0 = now_s();
    for (unsigned i = 0; i < nclients; i++) pthread_create(&th[i], NULL, run_client, &cl[i]);
    uint64_t accepted = 0;
    int failed = 0;
    for (unsigned i = 0; i < nclients; i++) {
        pthread_join(th[i], NULL);
        accepted += cl[i].accepted;
        failed |= cl[i].failed;
    }
    double wall = now_s() - w0, ncpu = node_cpu() - cpu0;
    double per = accepted ? ncpu / (double)accepted : 0;
    static const char *const names[] = {"", "bip340", "ecdsa", "p256", "sm2"};
    printf("bench_ingest %s: %llu readings in %.2f s (%.0f/s); node CPU %.1f us/reading, verification %.1f us: "
           "CPU-time ratio %.3f\n",
           names[g_alg], (unsigned long long)accepted, wall, (double)accepted / wall, per * 1e6, vcpu * 1e6,
           per > 0 ? vcpu / per : 0);
    kill(g_node, SIGTERM);
    waitpid(g_node, NULL, 0);
    g_node = 0;
    for (unsigned i = 0; i < nclients; i++) {
        for (size_t k = 0; k < cl[i].nb; k++) free(cl[i].b[k].data);
        free(cl[i].b);
    }
    free(cl);
    free(th);
    free(ms);
    curl_global_cleanup();
    return failed || accepted == 0;
}
