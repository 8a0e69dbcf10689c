/* test_e2e_crash.c — the whole system on 127.0.0.1 under crashes: a real bin/wn-node and
 * fleets of simulated meters (bin/wn-meter simulate).
 *   (a) every reading a meter holds a receipt for is in the ledger, and the receipt
 *       verifies against a later signed checkpoint;
 *   (b) the node is killed with SIGKILL at random moments while meters push, and
 *       restarted on the same data directory and port each time: the meters' resends
 *       complete, and the ledger holds every reading exactly once;
 *   (c) the meter agent is killed with SIGKILL mid-push several times, and the node once
 *       in between: nothing is lost, nothing duplicated.
 * Every test ends by stopping the node and auditing the ledger files offline
 * (tests/support/audit.h). Random moments come from a seed printed in the log; set
 * WN_E2E_SEED to replay one. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "ledger/ledger.h"
#include "ledger/proof_file.h"
#include "tests/support/audit.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *g_tmp;
static wn_test_node g_node;
static char g_regkey[4300], g_simout[4300], g_origin[WN_ORIGIN_MAX + 1];
static uint8_t g_notary[32], g_registrar[32];
static int g_have_keys;
static CURL *g_curl;

static const char *const NODE_ARGS[] = {"--checkpoint-ms", "50", NULL};

/* ---- randomness: one seed per test, printed so that a failure can be replayed ---- */

static void seed_prng(const char *test)
{
    const char *env = getenv("WN_E2E_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    if (seed == 0) seed = 1;
    wn_test_prng_seed(seed);
    cr_log_info("%s: WN_E2E_SEED=%llu", test, (unsigned long long)seed);
}

/* Uniform in [lo, hi]. */
static unsigned rnd(unsigned lo, unsigned hi)
{
    return lo + (unsigned)(wn_test_prng() % (uint64_t)(hi - lo + 1));
}

/* ---- HTTP (one kept-alive handle per node run) ---- */

typedef struct {
    char *p;
    size_t n;
} buf_t;

static size_t on_body(char *d, size_t s, size_t n, void *ud)
{
    buf_t *b = ud;
    char *p = realloc(b->p, b->n + s * n + 1);
    if (!p) return 0;
    b->p = p;
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

/* GET path from the node. Returns the body (malloc'd, NUL-terminated); *status. */
static char *get(const char *path, long *status, size_t *len)
{
    char url[4400];
    buf_t b = {calloc(1, 1), 0};
    snprintf(url, sizeof url, "%s%s", g_node.url, path);
    if (!g_curl) g_curl = curl_easy_init();
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(g_curl);
    cr_assert_eq(rc, CURLE_OK, "GET %s: %s", path, curl_easy_strerror(rc));
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, status);
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

/* ---- the node ---- */

static void hex_field(const cJSON *o, const char *name, uint8_t out[32])
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsString(f) && wn_hex_decode(out, 32, f->valuestring, strlen(f->valuestring)), "field %s", name);
}

/* Starts the node on port (0: any) and learns its keys; a restart must show the same. */
static void node_up(unsigned port)
{
    if (g_curl) curl_easy_cleanup(g_curl);
    g_curl = NULL;
    cr_assert(wn_proc_node_start(&g_node, port, NODE_ARGS), "wn-node did not start: %s",
              wn_test_read_file(g_node.log, NULL));
    if (port) cr_assert_eq(g_node.port, port);
    cJSON *pk = get_json("/v1/pubkey");
    uint8_t notary[32], registrar[32];
    hex_field(pk, "notary", notary);
    hex_field(pk, "registrar", registrar);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(pk, "origin");
    cr_assert(cJSON_IsString(o) && strlen(o->valuestring) <= WN_ORIGIN_MAX);
    if (g_have_keys) {
        cr_assert_arr_eq(notary, g_notary, 32, "the notary key changed across a restart");
        cr_assert_arr_eq(registrar, g_registrar, 32);
        cr_assert_str_eq(o->valuestring, g_origin);
    } else {
        memcpy(g_notary, notary, 32);
        memcpy(g_registrar, registrar, 32);
        strcpy(g_origin, o->valuestring);
        g_have_keys = 1;
    }
    cJSON_Delete(pk);
}

static void node_crash(void)
{
    cr_assert_gt(g_node.pid, 0);
    int st = wn_test_node_stop(&g_node, SIGKILL);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "wn-node was not killed (status %d)", st);
}

/* Starts the node on port and kills it after ms milliseconds, listening or not (a crash
 * while it recovers from the last one). */
static void node_kill_starting(unsigned port, unsigned ms)
{
    char listen[32], *bin = wn_test_bin("wn-node");
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    const char *argv[] = {bin, "--data", g_node.data, "--listen", listen, "--checkpoint-ms", "50", NULL};
    pid_t pid = wn_proc_spawn(argv, g_node.log);
    free(bin);
    cr_assert_gt(pid, 0);
    wn_proc_sleep_ms(ms);
    wn_proc_kill(pid, SIGKILL);
}

static void node_stop_clean(void)
{
    int st = wn_test_node_stop(&g_node, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-node did not stop cleanly (status %d): %s", st,
              wn_test_read_file(g_node.log, NULL));
}

/* Latest checkpoint size (0 if none yet), its signature checked. */
static uint64_t checkpoint_size(void)
{
    long status;
    size_t len;
    char *text = get("/v1/checkpoint", &status, &len);
    uint64_t size = 0;
    if (status == 200) {
        wn_checkpoint cp;
        cr_assert_eq(wn_checkpoint_verify(text, len, g_origin, g_notary, &cp), WN_CHECKPOINT_OK, "%s", text);
        size = cp.size;
    } else {
        cr_assert_eq(status, 404, "GET /v1/checkpoint: %ld %s", status, text);
    }
    free(text);
    return size;
}

static void wait_checkpoint(uint64_t size)
{
    for (int i = 0; i < 1500; i++) {
        if (checkpoint_size() >= size) return;
        wn_proc_sleep_ms(20);
    }
    cr_assert_fail("no checkpoint of size %llu", (unsigned long long)size);
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_tmp = wn_test_tmpdir("e2e-crash");
    cr_assert(g_tmp);
    wn_test_node_init(&g_node, g_tmp);
    snprintf(g_regkey, sizeof g_regkey, "%s/registrar.key", g_node.data);
    snprintf(g_simout, sizeof g_simout, "%s/simulate.out", g_tmp);
    g_have_keys = 0;
    g_curl = NULL;
}

static void teardown(void)
{
    if (g_node.pid > 0) wn_test_node_stop(&g_node, SIGKILL);
    if (g_curl) curl_easy_cleanup(g_curl);
    g_curl = NULL;
    wn_test_rmtree(g_tmp);
    free(g_tmp);
}

TestSuite(e2e_crash, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the meters ---- */

/* Starts wn-meter simulate on the fleet in state (output appended to g_simout). */
static pid_t simulate_spawn(const char *state, unsigned meters, unsigned readings, unsigned batch)
{
    char m[16], r[16], b[16];
    snprintf(m, sizeof m, "%u", meters);
    snprintf(r, sizeof r, "%u", readings);
    snprintf(b, sizeof b, "%u", batch);
    char *bin = wn_test_bin("wn-meter");
    /* --retries 12: backoff doubles from 200 ms to 5 s, so this outlasts any restart here. */
    const char *argv[] = {bin, "simulate", "--node", g_node.url, "--registrar-key", g_regkey, "--meters", m,
                          "--readings", r, "--state", state, "--batch", b, "--retries", "12", "--quiet", NULL};
    pid_t pid = wn_proc_spawn(argv, g_simout);
    free(bin);
    cr_assert_gt(pid, 0);
    return pid;
}

/* Waits (bounded) for a simulate run to end by itself; it must exit 0. */
static void simulate_finish(pid_t pid)
{
    int st = 0;
    if (!wn_proc_wait(pid, 120000, &st)) {
        wn_proc_kill(pid, SIGKILL);
        cr_assert_fail("wn-meter simulate did not finish: %s", wn_test_read_file(g_simout, NULL));
    }
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-meter simulate failed (status %d): %s", st,
              wn_test_read_file(g_simout, NULL));
}

static void meter_dir(char *out, size_t cap, const char *state, unsigned i)
{
    snprintf(out, cap, "%s/meter-%05u", state, i);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Logs the summary line of every simulate run so far (accepted, duplicates, ...). */
static void log_summaries(void)
{
    char *out = wn_test_read_file(g_simout, NULL);
    for (char *p = out; p && (p = strstr(p, "simulate: ")) != NULL; p++) {
        char *nl = strchr(p, '\n');
        cr_log_info("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
    }
    free(out);
}

/* ---- checks ---- */

/* Checks one reading against the node: its receipt verifies with the notary key and its
 * leaf is SHA-256(0x00 || entry) for the timed entry 0x81 || receipt time || marks 0 ||
 * reading; the node proves (meter, seq) at the receipt's index against its latest
 * checkpoint, which is at least min_cp and covers the index; the proved entry is exactly
 * that entry with the meter's own logged reading. */
static void check_reading(const char *hex, uint64_t seq, const uint8_t *reading, size_t len, const wn_receipt *rc,
                          uint64_t min_cp)
{
    cr_assert(wn_receipt_verify(rc, g_notary), "%s/%llu: the receipt does not verify", hex, (unsigned long long)seq);
    uint8_t entry[10 + WN_READING_MAX_LEN], leaf[32];
    entry[0] = 0x81;
    for (int i = 0; i < 8; i++) entry[1 + i] = (uint8_t)(rc->time_ms >> (56 - 8 * i));
    entry[9] = 0x00;
    memcpy(entry + 10, reading, len);
    size_t elen = len + 10;
    wn_sha256_2(leaf, "\0", 1, entry, elen);
    cr_assert_arr_eq(leaf, rc->leaf, 32, "%s/%llu: the receipt's leaf is not the reading's", hex, (unsigned long long)seq);

    char path[256], detail[256] = "";
    snprintf(path, sizeof path, "/v1/proof/inclusion?meter=%s&seq=%llu", hex, (unsigned long long)seq);
    long status;
    size_t n;
    char *text = get(path, &status, &n);
    cr_assert_eq(status, 200, "%s: %ld %s", path, status, text);
    wn_incl_proof p;
    cr_assert_eq(wn_incl_proof_parse(&p, text, n, detail, sizeof detail), WN_PROOF_OK, "%s: %s", path, detail);
    cr_assert(p.extra && p.extra_len == elen && memcmp(p.extra, entry, elen) == 0,
              "%s: the ledger's entry is not the meter's reading", path);
    wn_checkpoint cp;
    int err = wn_incl_proof_verify(&p, g_notary, entry, elen, &cp, detail, sizeof detail);
    cr_assert_eq(err, WN_PROOF_OK, "%s: %s %s", path, wn_proof_strerror(err), detail);
    cr_assert_str_eq(cp.origin, g_origin);
    cr_assert_eq(p.index, rc->index, "%s: the reading is at %llu, its receipt says %llu", path,
                 (unsigned long long)p.index, (unsigned long long)rc->index);
    cr_assert_gt(cp.size, p.index);
    cr_assert_geq(cp.size, min_cp, "%s: proved against an older checkpoint", path);
    wn_incl_proof_free(&p);
    free(text);
}

typedef struct {
    uint8_t id[32];
    uint64_t last_seq;
} fleet_meter;

/* Checks a whole fleet once simulate is done: every meter has nothing pending, a
 * verified receipt for each of its readings 1..last and the node proves each at the
 * receipt's index; the node's last_seq is the meter's; the ledger is exactly the
 * enrolments and these readings. Out: ids and last sequences. Returns: total readings. */
static uint64_t check_fleet(const char *state, unsigned meters, fleet_meter *out)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < meters; i++) {
        char dir[4400];
        wn_meter m;
        wn_meter_counts c;
        meter_dir(dir, sizeof dir, state, i);
        cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK, "%s", dir);
        wn_meter_get_counts(&m, &c);
        cr_assert_eq(c.pending, 0, "%s: %llu readings pending", dir, (unsigned long long)c.pending);
        cr_assert_eq(c.first_seq, 1, "%s: compacted; keep the fleets small enough", dir);
        memcpy(out[i].id, wn_meter_id(&m), 32);
        out[i].last_seq = c.last_seq;
        total += c.last_seq;
        wn_meter_close(&m);
    }
    uint64_t size = meters + total;
    wait_checkpoint(size);
    cJSON *h = get_json("/healthz");
    cr_assert_eq(json_u64(h, "size"), size, "ledger size: %u enrolments + %llu readings, nothing twice", meters,
                 (unsigned long long)total);
    cJSON_Delete(h);

    for (unsigned i = 0; i < meters; i++) {
        char dir[4400], path[128], hex[65];
        wn_meter m;
        meter_dir(dir, sizeof dir, state, i);
        cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK, "%s", dir);
        wn_hex_encode(hex, out[i].id, 32);
        snprintf(path, sizeof path, "/v1/meters/%s", hex);
        cJSON *j = get_json(path);
        cr_assert_eq(json_u64(j, "last_seq"), out[i].last_seq, "%s: the node's last_seq", dir);
        cJSON_Delete(j);
        for (uint64_t s = 1; s <= out[i].last_seq; s++) {
            uint8_t b[WN_READING_MAX_LEN];
            size_t len;
            wn_receipt rc;
            cr_assert_eq(wn_meter_get(&m, s, b, &len), WN_METER_OK, "%s: reading %llu", dir, (unsigned long long)s);
            cr_assert_eq(wn_meter_receipt(&m, s, &rc), WN_METER_OK, "%s: no receipt for %llu", dir, (unsigned long long)s);
            check_reading(hex, s, b, len, &rc, size);
        }
        wn_meter_close(&m);
    }
    return total;
}

/* Stops the node cleanly and audits its ledger files against the fleet. */
static void stop_and_audit(unsigned meters, const fleet_meter *fm, uint64_t total)
{
    node_stop_clean();
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/ledger", g_node.data);
    wn_audit a;
    int ok = wn_audit_ledger(&a, dir, g_notary, g_origin, g_registrar);
    cr_assert(ok, "audit: %s", a.err);
    cr_assert_eq(a.size, meters + total);
    cr_assert_eq(a.enrolments, meters);
    cr_assert_eq(a.readings, total);
    cr_assert_eq(a.others, 0, "no revocations or equivocation evidence expected");
    cr_assert_gt(a.checkpoints, 0);
    cr_assert_eq(a.last_checkpoint, a.size, "a clean stop signs a checkpoint of the whole ledger");
    for (unsigned i = 0; i < meters; i++) {
        const wn_audit_meter *am = wn_audit_find(&a, fm[i].id);
        cr_assert(am, "meter %u is not enrolled in the ledger", i);
        cr_assert_eq(am->last_seq, fm[i].last_seq, "meter %u", i);
    }
    cr_log_info("audit: %llu entries, %llu checkpoints verified", (unsigned long long)a.size,
                (unsigned long long)a.checkpoints);
    wn_audit_free(&a);
}

/* ---- (a) ---- */

Test(e2e_crash, every_receipt_verifies_against_a_later_checkpoint)
{
    char state[4300];
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    node_up(0);
    pid_t pid = simulate_spawn(state, 4, 250, 50);
    simulate_finish(pid);
    char *out = wn_test_read_file(g_simout, NULL);
    cr_assert(strstr(out, "1000 readings made, 1000 accepted, 0 duplicates, 0 rejected"), "%s", out);
    free(out);
    fleet_meter fm[4];
    uint64_t total = check_fleet(state, 4, fm);
    cr_assert_eq(total, 1000);
    stop_and_audit(4, fm, total);
}

/* ---- (b) ---- */

Test(e2e_crash, node_sigkilled_while_meters_push_loses_and_duplicates_nothing)
{
    enum { METERS = 6, READINGS = 300, ROUNDS = 3, WANT_KILLS = 6 };
    char state[4300];
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    seed_prng("node_sigkilled");
    node_up(0);
    unsigned port = g_node.port, kills = 0, rounds = 0, early = 0;
    /* Rounds of simulate (each makes READINGS more per meter) until enough kills have hit
     * a node with meters pushing at it. */
    while (kills < WANT_KILLS && rounds < ROUNDS) {
        pid_t pid = simulate_spawn(state, METERS, READINGS, 32);
        int st = 0, ended = 0;
        rounds++;
        while (!ended && kills < WANT_KILLS + 2) {
            wn_proc_sleep_ms(rnd(5, 400));
            if ((ended = !wn_proc_running(pid, &st))) break;
            node_crash();
            kills++;
            wn_proc_sleep_ms(rnd(0, 300)); /* the meters find nobody there */
            if (rnd(0, 3) == 0) {
                node_kill_starting(port, rnd(0, 40));
                early++;
            }
            node_up(port);
        }
        if (!ended) simulate_finish(pid);
        else cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-meter simulate failed (status %d): %s", st,
                       wn_test_read_file(g_simout, NULL));
    }
    cr_log_info("node killed %u times in %u rounds, and %u more times while starting", kills, rounds, early);
    log_summaries();
    cr_assert_geq(kills, WANT_KILLS, "the meters finished before the node could be killed %d times", WANT_KILLS);

    fleet_meter fm[METERS];
    uint64_t total = check_fleet(state, METERS, fm);
    cr_assert_eq(total, (uint64_t)METERS * READINGS * rounds);
    stop_and_audit(METERS, fm, total);
}

/* ---- (c) ---- */

/* Waits (bounded) until path has grown by at least `by` bytes past `from`, or pid ended
 * (then it must have exited 0). Returns: 1 if it grew while pid runs. */
static int wait_growth(const char *path, off_t from, off_t by, pid_t pid)
{
    for (int i = 0; i < 6000; i++) {
        int st = 0;
        if (file_size(path) >= from + by) return 1;
        if (!wn_proc_running(pid, &st)) {
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-meter simulate failed (status %d): %s", st,
                      wn_test_read_file(g_simout, NULL));
            return 0;
        }
        wn_proc_sleep_ms(5);
    }
    wn_proc_kill(pid, SIGKILL);
    cr_assert_fail("%s did not grow in 30 s: %s", path, wn_test_read_file(g_simout, NULL));
    return 0;
}

Test(e2e_crash, agent_sigkilled_mid_push_with_a_node_restart_loses_and_duplicates_nothing)
{
    enum { METERS = 4, READINGS = 150, RUNS = 5, NODE_RUN = 2, RECEIPT = 125 };
    char state[4300], rcpt[4500];
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    snprintf(rcpt, sizeof rcpt, "%s/meter-00000/receipts.log", state);
    seed_prng("agent_sigkilled");
    node_up(0);
    unsigned port = g_node.port, killed = 0;
    for (int run = 0; run < RUNS; run++) {
        off_t start = file_size(rcpt);
        pid_t pid = simulate_spawn(state, METERS, READINGS, rnd(8, 64));
        int running = wait_growth(rcpt, start, (off_t)RECEIPT * rnd(1, 120), pid);
        if (running && run == NODE_RUN) {
            /* The node dies under the agent, comes back, and the agent dies soon after. */
            node_crash();
            wn_proc_sleep_ms(rnd(20, 400));
            node_up(port);
            running = wait_growth(rcpt, file_size(rcpt), (off_t)RECEIPT * rnd(1, 20), pid);
        }
        if (running) {
            int st = wn_proc_kill(pid, SIGKILL);
            cr_assert(WIFSIGNALED(st), "wn-meter was not killed (status %d)", st);
            killed++;
        } else {
            cr_log_warn("run %d ended before it could be killed", run);
            cr_assert(run != NODE_RUN, "the node was not restarted under the agent");
        }
    }
    cr_assert_geq(killed, RUNS - 1, "wn-meter was killed only %u times", killed);
    /* A last run to the end sends what the killed ones left behind. */
    simulate_finish(simulate_spawn(state, METERS, 5, 64));
    log_summaries();

    fleet_meter fm[METERS];
    uint64_t total = check_fleet(state, METERS, fm);
    cr_assert_geq(total, (uint64_t)METERS * 5 + killed);
    stop_and_audit(METERS, fm, total);
}

/* ---- the audit itself can fail ---- */

/* Flips bit 0 of byte `at` of every occurrence of needle in the file (LMDB keeps stale
 * copies of pages it rewrote, so the live copy is not necessarily the first).
 * Returns: the number of occurrences changed. */
static int flip_in_file(const char *path, const void *needle, size_t n, size_t at)
{
    size_t len;
    char *data = wn_test_read_file(path, &len);
    cr_assert(data, "%s", path);
    int count = 0;
    for (char *p = data; (p = memmem(p, len - (size_t)(p - data), needle, n)) != NULL; p += n) {
        p[at] ^= 0x01;
        count++;
    }
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    free(data);
    return count;
}

static void audit_fails(const char *ledger, const char *why)
{
    wn_audit a;
    cr_assert_not(wn_audit_ledger(&a, ledger, g_notary, g_origin, g_registrar), "the audit passed");
    cr_assert(strstr(a.err, why), "audit: %s (expected: %s)", a.err, why);
    wn_audit_free(&a);
}

static void audit_passes(const char *ledger)
{
    wn_audit a;
    cr_assert(wn_audit_ledger(&a, ledger, g_notary, g_origin, g_registrar), "audit: %s", a.err);
    wn_audit_free(&a);
}

Test(e2e_crash, audit_catches_a_changed_entry_and_a_changed_checkpoint)
{
    char state[4300], ledger[4300], mdb[4400], dir[4400];
    snprintf(state, sizeof state, "%s/fleet", g_tmp);
    snprintf(ledger, sizeof ledger, "%s/ledger", g_node.data);
    snprintf(mdb, sizeof mdb, "%s/data.mdb", ledger);
    node_up(0);
    simulate_finish(simulate_spawn(state, 2, 20, 16));
    fleet_meter fm[2];
    uint64_t total = check_fleet(state, 2, fm);
    stop_and_audit(2, fm, total);

    /* A reading's measured value changed in the ledger file: its leaf no longer matches. */
    uint8_t b[WN_READING_MAX_LEN];
    size_t len;
    wn_meter m;
    meter_dir(dir, sizeof dir, state, 1);
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    cr_assert_eq(wn_meter_get(&m, 7, b, &len), WN_METER_OK);
    wn_meter_close(&m);
    const size_t value = 84 + 10; /* last byte of the first measurement's value */
    cr_assert_gt(flip_in_file(mdb, b, len, value), 0, "the reading is not in %s", mdb);
    audit_fails(ledger, "stored leaf hash is wrong");
    b[value] ^= 0x01;
    cr_assert_gt(flip_in_file(mdb, b, len, value), 0);
    audit_passes(ledger);

    /* The latest checkpoint's root changed: its signature no longer verifies. */
    wn_ledger *l;
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nlen;
    cr_assert_eq(wn_ledger_open(&l, ledger, WN_LEDGER_RDONLY), WN_LEDGER_OK);
    cr_assert_eq(wn_ledger_get_checkpoint(l, 0, note, sizeof note, &nlen, NULL), WN_LEDGER_OK);
    wn_ledger_close(l);
    char *root = strchr(strchr(note, '\n') + 1, '\n') + 1;
    size_t at = (size_t)(root - note) + 5;
    cr_assert_gt(flip_in_file(mdb, note, nlen, at), 0);
    audit_fails(ledger, "checkpoint");
}
