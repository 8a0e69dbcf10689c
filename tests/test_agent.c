/* test_agent.c — bin/wn-meter against a real bin/wn-node on 127.0.0.1: simulate a fleet
 * and check that every receipt verifies and every reading is in the node's ledger
 * (inclusion proofs against signed checkpoints, exactly once); continue a fleet; kill
 * wn-meter with SIGKILL mid-push and rerun; lost receipts come back as duplicates;
 * rejections, bad receipts and an unreachable node give their exit codes. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
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
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "device/meter.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/proof_file.h"
#include "tests/support/testutil.h"

static char *g_tmp;
static char g_data[4200], g_portfile[4200], g_nodelog[4200], g_url[64], g_regkey[4300], g_out[4200];
static pid_t g_node;
static uint8_t g_notary[32];

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ---- */

typedef struct {
    char *p;
    size_t n;
} buf_t;

static size_t on_body(char *d, size_t s, size_t n, void *ud)
{
    buf_t *b = ud;
    b->p = realloc(b->p, b->n + s * n + 1);
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

/* GET g_url+path. Returns the body (malloc'd); *status the HTTP status. */
static char *get(const char *path, long *status, size_t *len)
{
    char url[4300];
    buf_t b = {calloc(1, 1), 0};
    snprintf(url, sizeof url, "%s%s", g_url, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "GET %s: %s", path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    if (len) *len = b.n;
    return b.p;
}

static cJSON *get_json(const char *path)
{
    long status;
    char *body = get(path, &status, NULL);
    cr_assert_eq(status, 200, "GET %s: %ld %s", path, status, body);
    cJSON *j = cJSON_Parse(body);
    cr_assert(j, "GET %s: not JSON: %s", path, body);
    free(body);
    return j;
}

static uint64_t json_u64(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsNumber(f), "field %s", name);
    return (uint64_t)f->valuedouble;
}

/* ---- processes ---- */

static void node_start(void)
{
    char *bin = wn_test_bin("wn-node");
    unlink(g_portfile);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(g_nodelog, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        execl(bin, bin, "--data", g_data, "--listen", "127.0.0.1:0", "--port-file", g_portfile, "--checkpoint-ms", "50",
              (char *)NULL);
        _exit(127);
    }
    free(bin);
    g_node = pid;
    for (int i = 0; i < 3000; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            g_node = 0;
            cr_assert_fail("wn-node exited at start (status %d): %s", status, wn_test_read_file(g_nodelog, NULL));
        }
        FILE *f = fopen(g_portfile, "r");
        unsigned port = 0;
        if (f) {
            int ok = fscanf(f, "%u", &port) == 1;
            fclose(f);
            if (ok && port) {
                snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u", port);
                cJSON *pk = get_json("/v1/pubkey");
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(pk, "notary");
                cr_assert(cJSON_IsString(n) && wn_hex_decode(g_notary, 32, n->valuestring, 64));
                cJSON_Delete(pk);
                snprintf(g_regkey, sizeof g_regkey, "%s/registrar.key", g_data);
                cr_assert_eq(access(g_regkey, R_OK), 0, "the node created no registrar key");
                return;
            }
        }
        sleep_ms(10);
    }
    cr_assert_fail("wn-node did not write its port file");
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_tmp = wn_test_tmpdir("agent");
    cr_assert(g_tmp);
    snprintf(g_data, sizeof g_data, "%s/node", g_tmp);
    snprintf(g_portfile, sizeof g_portfile, "%s/port", g_tmp);
    snprintf(g_nodelog, sizeof g_nodelog, "%s/node.log", g_tmp);
    snprintf(g_out, sizeof g_out, "%s/meter.out", g_tmp);
    g_node = 0;
    node_start();
}

static void teardown(void)
{
    if (g_node > 0) {
        kill(g_node, SIGTERM);
        waitpid(g_node, NULL, 0);
    }
    wn_test_rmtree(g_tmp);
    free(g_tmp);
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 240);

/* Starts bin/wn-meter with the NULL-terminated args; stdout and stderr go to g_out. */
static pid_t meter_spawn(const char **args)
{
    const char *argv[40];
    char *bin = wn_test_bin("wn-meter");
    int a = 0;
    argv[a++] = bin;
    for (int i = 0; args[i] && a < 39; i++) argv[a++] = args[i];
    argv[a] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(g_out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    free(bin);
    return pid;
}

/* Runs bin/wn-meter to the end. Returns its exit code; *out (may be NULL) its output. */
static int meter_run(const char **args, char **out)
{
    int status;
    pid_t pid = meter_spawn(args);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    char *text = wn_test_read_file(g_out, NULL);
    cr_assert(WIFEXITED(status), "wn-meter died: %s", text);
    if (out) *out = text;
    else free(text);
    return WEXITSTATUS(status);
}

static int simulate(const char *state, const char *meters, const char *readings, char **out)
{
    const char *args[] = {"simulate", "--node", g_url, "--registrar-key", g_regkey, "--meters", meters,
                          "--readings", readings, "--state", state, "--batch", "64", "--quiet", NULL};
    return meter_run(args, out);
}

/* ---- checks ---- */

static void meter_dir(char *out, size_t cap, const char *state, unsigned i)
{
    snprintf(out, cap, "%s/meter-%05u", state, i);
}

/* Fetches the inclusion proof of (meter, seq), waiting for a checkpoint to cover it, and
 * verifies it with the notary key against the receipt (index, leaf) and, if given, the
 * reading bytes we sent. */
static void check_proof(const char *meter_hex, uint64_t seq, const wn_receipt *rc, const uint8_t *reading, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=%llu", meter_hex, (unsigned long long)seq);
    long status = 0;
    size_t n;
    char *text = NULL;
    for (int i = 0; i < 400; i++) {
        free(text);
        text = get(path, &status, &n);
        if (status != 404) break;
        sleep_ms(25); /* not_checkpointed yet */
    }
    cr_assert_eq(status, 200, "%s: %ld %s", path, status, text);
    wn_incl_proof p;
    char detail[256] = "";
    cr_assert_eq(wn_incl_proof_parse(&p, text, n, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    /* the timed entry: 0x81 || the receipt's (commit) time || marks 0 || reading */
    uint8_t entry[10 + WN_READING_MAX_LEN];
    entry[0] = 0x81;
    for (int i = 0; i < 8; i++) entry[1 + i] = (uint8_t)(rc->time_ms >> (56 - 8 * i));
    entry[9] = 0x00;
    if (reading) memcpy(entry + 10, reading, len);
    wn_checkpoint cp;
    int err = wn_incl_proof_verify(&p, g_notary, reading ? entry : NULL, reading ? len + 10 : 0, &cp, detail, sizeof detail);
    cr_assert_eq(err, WN_PROOF_OK, "proof of %s/%llu: %s", meter_hex, (unsigned long long)seq, detail);
    cr_assert_eq(p.index, rc->index, "the receipt's index is where the node has the reading");
    uint8_t leaf[32];
    cr_assert(p.extra);
    wn_sha256_2(leaf, "\0", 1, p.extra, p.extra_len);
    cr_assert_arr_eq(leaf, rc->leaf, 32);
    wn_incl_proof_free(&p);
    free(text);
}

/* Checks every meter of a fleet: nothing pending, every reading 1..last has a receipt
 * that verifies (and matches the reading, when it is still in the log), the node's
 * last_seq is ours, and readings (every `every`-th, plus first and last) are provably in
 * the ledger. Returns the sum of last sequence numbers. */
static uint64_t check_fleet(const char *state, unsigned meters, uint64_t expect_last, uint64_t every)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < meters; i++) {
        char dir[4400], hex[65], path[128];
        wn_meter m;
        wn_meter_counts c;
        meter_dir(dir, sizeof dir, state, i);
        cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK, "%s", dir);
        wn_meter_get_counts(&m, &c);
        cr_assert_eq(c.pending, 0, "%s has pending readings", dir);
        if (expect_last) cr_assert_eq(c.last_seq, expect_last, "%s", dir);
        wn_hex_encode(hex, wn_meter_id(&m), 32);
        for (uint64_t s = 1; s <= c.last_seq; s++) {
            wn_receipt rc;
            uint8_t b[WN_READING_MAX_LEN];
            size_t len;
            cr_assert_eq(wn_meter_receipt(&m, s, &rc), WN_METER_OK, "%s: no receipt for %llu", dir, (unsigned long long)s);
            cr_assert(wn_receipt_verify(&rc, g_notary), "%s: receipt %llu", dir, (unsigned long long)s);
            int have = wn_meter_get(&m, s, b, &len) == WN_METER_OK;
            if (have) {
                uint8_t leaf[32];
                wn_reading_timed_leaf_hash(leaf, b, len, rc.time_ms, 0);
                cr_assert_arr_eq(leaf, rc.leaf, 32);
            }
            if (s == 1 || s == c.last_seq || s % every == 0) check_proof(hex, s, &rc, have ? b : NULL, len);
        }
        snprintf(path, sizeof path, "/v1/meters/%s", hex);
        cJSON *j = get_json(path);
        cr_assert_eq(json_u64(j, "last_seq"), c.last_seq, "%s: the node's last_seq", dir);
        cJSON_Delete(j);
        total += c.last_seq;
        wn_meter_close(&m);
    }
    return total;
}

/* The ledger holds the enrolments and each reading exactly once. */
static void check_exactly_once(unsigned meters, uint64_t readings)
{
    cJSON *h = get_json("/healthz");
    cr_assert_eq(json_u64(h, "size"), meters + readings, "ledger size: enrolments + readings, nothing twice");
    cJSON_Delete(h);
}

Test(agent, simulate_verifies_every_receipt_and_continues)
{
    char state[4000], *out;
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    int rc = simulate(state, "7", "20", &out);
    cr_assert_eq(rc, 0, "simulate: %s", out);
    cr_assert(strstr(out, "140 accepted"), "%s", out);
    free(out);
    cr_assert_eq(check_fleet(state, 7, 20, 1), 140);
    check_exactly_once(7, 140);

    /* The ECDSA workshop meter is there, enrolled with its compressed key. */
    char dir[4400];
    wn_meter m;
    meter_dir(dir, sizeof dir, state, 3);
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    cr_assert_eq(wn_meter_alg(&m), WN_ALG_ECDSA);
    wn_meter_close(&m);

    /* Again with the same state: it continues each meter's chain. */
    rc = simulate(state, "7", "5", &out);
    cr_assert_eq(rc, 0, "second simulate: %s", out);
    cr_assert(strstr(out, "35 accepted"), "%s", out);
    free(out);
    cr_assert_eq(check_fleet(state, 7, 25, 4), 175);
    check_exactly_once(7, 175);
}

Test(agent, sigkill_mid_push_then_rerun_loses_and_duplicates_nothing)
{
    char state[4000], rcpt[4500], *out;
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    snprintf(rcpt, sizeof rcpt, "%s/meter-00000/receipts.log", state);
    const char *args[] = {"simulate", "--node", g_url, "--registrar-key", g_regkey, "--meters", "4", "--readings",
                          "2000", "--state", state, "--batch", "64", "--quiet", NULL};
    pid_t pid = meter_spawn(args);
    /* Kill once some receipts are stored, while it is still pushing. */
    int status, exited = 0;
    for (int i = 0; i < 6000; i++) {
        struct stat st;
        if (stat(rcpt, &st) == 0 && st.st_size >= 8 + 125 * 300) break;
        if (waitpid(pid, &status, WNOHANG) == pid) { exited = 1; break; }
        sleep_ms(5);
    }
    cr_assert(!exited, "wn-meter ended before it could be killed: %s", wn_test_read_file(g_out, NULL));
    kill(pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status));

    int rc = simulate(state, "4", "3", &out);
    cr_assert_eq(rc, 0, "rerun: %s", out);
    cr_log_info("after SIGKILL: %s", out);
    free(out);
    uint64_t total = check_fleet(state, 4, 0, 97);
    cr_assert_gt(total, 4 * 3);
    check_exactly_once(4, total);
}

Test(agent, lost_receipts_come_back_as_duplicates)
{
    char state[4000], dir[4400], rcpt[4500], *out;
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    cr_assert_eq(simulate(state, "2", "10", NULL), 0);
    meter_dir(dir, sizeof dir, state, 0);
    snprintf(rcpt, sizeof rcpt, "%s/receipts.log", dir);

    wn_receipt before[11];
    wn_meter m;
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    for (uint64_t s = 1; s <= 10; s++) cr_assert_eq(wn_meter_receipt(&m, s, &before[s]), WN_METER_OK);
    wn_meter_close(&m);
    /* Lose the last six receipts (as if the meter crashed before storing them): keep the
     * first four records (u16 len || u64 seq || receipt || check4). */
    size_t rl;
    char *rlog = wn_test_read_file(rcpt, &rl);
    cr_assert(rlog);
    size_t keep = 8;
    for (int k = 0; k < 4; k++) keep += 14 + (((size_t)(uint8_t)rlog[keep] << 8) | (uint8_t)rlog[keep + 1]);
    free(rlog);
    cr_assert_lt(keep, rl);
    cr_assert_eq(truncate(rcpt, (off_t)keep), 0);
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    wn_meter_counts c;
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.pending, 6);
    wn_meter_close(&m);

    const char *args[] = {"push", "--state", dir, "--node", g_url, NULL};
    int rc = meter_run(args, &out);
    cr_assert_eq(rc, 0, "push: %s", out);
    cr_assert(strstr(out, "0 accepted, 6 duplicates"), "%s", out);
    free(out);
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.pending, 0);
    for (uint64_t s = 1; s <= 10; s++) {
        wn_receipt r;
        cr_assert_eq(wn_meter_receipt(&m, s, &r), WN_METER_OK);
        cr_assert_eq(r.index, before[s].index, "the original receipt comes back");
        cr_assert_arr_eq(r.leaf, before[s].leaf, 32);
    }
    wn_meter_close(&m);
    check_exactly_once(2, 20);
}

Test(agent, rejections_bad_receipts_and_a_dead_node_give_exit_codes)
{
    char dir[4400], state[4000], *out;
    snprintf(dir, sizeof dir, "%s/lone", g_tmp);
    const char *init[] = {"init", "--state", dir, NULL};
    cr_assert_eq(meter_run(init, NULL), 0);
    /* dated two minutes ahead (within the node's skew), so after the enrolment made below:
     * a reading dated before its meter's enrolment is refused (before_enrolment) */
    char ahead[25];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wn_time_format(ahead, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 120000);
    const char *read[] = {"read", "--state", dir, "--volume", "1.5", "--time", ahead, NULL};
    cr_assert_eq(meter_run(read, NULL), 0);

    /* Not enrolled: the node rejects the reading; the meter stops, exit 1. */
    const char *push[] = {"push", "--state", dir, "--node", g_url, NULL};
    cr_assert_eq(meter_run(push, &out), 1);
    cr_assert(strstr(out, "unknown_meter"), "%s", out);
    free(out);

    /* Enrolled, it goes through; a reading far in the future is rejected. */
    const char *enrol[] = {"enrol", "--state", dir, "--node", g_url, "--registrar-key", g_regkey, "--enterprise",
                           "91330400MA0000009X", "--point", "intake", "--tier", "1", NULL};
    cr_assert_eq(meter_run(enrol, &out), 0, "%s", out);
    free(out);
    cr_assert_eq(meter_run(enrol, NULL), 0, "already enrolled is fine");
    cr_assert_eq(meter_run(push, &out), 0, "%s", out);
    free(out);
    const char *future[] = {"read", "--state", dir, "--volume", "2", "--time", "2099-01-01T00:00:00.000Z", NULL};
    cr_assert_eq(meter_run(future, NULL), 0);
    cr_assert_eq(meter_run(push, &out), 1);
    cr_assert(strstr(out, "future_time"), "%s", out);
    free(out);

    /* Receipts checked against the wrong notary key: refused, nothing acked, exit 1. */
    snprintf(state, sizeof state, "%s/wrongkey", g_tmp);
    uint8_t sk[32], x[32];
    char hex[65];
    cr_assert(wn_seckey_generate(sk) && wn_seckey_xonly(x, sk));
    wn_hex_encode(hex, x, 32);
    const char *sim[] = {"simulate", "--node", g_url, "--registrar-key", g_regkey, "--meters", "1", "--readings", "3",
                         "--state", state, "--notary-pub", hex, "--quiet", NULL};
    cr_assert_eq(meter_run(sim, &out), 1);
    cr_assert(strstr(out, "does not verify"), "%s", out);
    cr_assert(strstr(out, "3 pending"), "%s", out);
    free(out);

    /* No node: exit 3 after the retries. */
    const char *dead[] = {"push", "--state", dir, "--node", "http://127.0.0.1:1", "--retries", "1", NULL};
    cr_assert_eq(meter_run(dead, &out), 3, "%s", out);
    free(out);
    /* Usage errors: 2. */
    const char *bad[] = {"simulate", "--meters", "x", NULL};
    cr_assert_eq(meter_run(bad, NULL), 2);
    const char *help[] = {"simulate", "--help", NULL};
    cr_assert_eq(meter_run(help, &out), 0);
    cr_assert(strstr(out, "example"), "%s", out);
    free(out);
}
