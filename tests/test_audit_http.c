/* test_audit_http.c — `wn audit --node URL`: the whole-ledger audit of a real wn-node over
 * HTTP (its tlog-tiles interface). A node is fed enrolments, readings in batches (a
 * checkpoint after each) and one equivocation, whose evidence makes the audit fetch an
 * earlier entry bundle again. The audit of that node passes, text and JSON. Then the node
 * is stopped, its ledger changed through raw LMDB, and restarted: a flipped byte in an
 * entry, in a stored leaf hash and in a stored upper subtree hash each fail the audit at
 * exactly that entry with the right code. Also: the wrong notary key, a node without a
 * checkpoint, a node that cannot be reached and usage errors, each with its exit code. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

typedef struct {
    char *tmp;
    wn_test_node proc;
    wn_test_feed feed;
    char notary_hex[65];
} fixture;

static fixture F;

static void setup(void)
{
    memset(&F, 0, sizeof F);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F.tmp = wn_test_tmpdir("audit-http");
    cr_assert(F.tmp);
    wn_test_node_init(&F.proc, F.tmp);
    cr_assert(wn_test_feed_init(&F.feed, 4));
}

static void teardown(void)
{
    wn_test_node_stop(&F.proc, SIGKILL);
    wn_test_feed_free(&F.feed);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(F.tmp);
    free(F.tmp);
    curl_global_cleanup();
}

static void start(void)
{
    /* --allow-damaged-entries: the tests below damage entries the node re-hashes at start,
     * and must see the audit over HTTP find what such a node serves */
    const char *args[] = {"--registrar", F.feed.reg_hex, "--checkpoint-every", "1", "--checkpoint-ms", "3600000",
                          "--allow-damaged-entries", NULL};
    if (!wn_test_node_start(&F.proc, args)) {
        char *log = wn_test_read_file(F.proc.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
    wn_test_resp r;
    cr_assert(wn_test_http(F.proc.url, "GET", "/v1/pubkey", NULL, NULL, 0, &r) && r.status == 200);
    cJSON *j = cJSON_Parse((char *)r.body);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "notary");
    cr_assert(cJSON_IsString(k) && strlen(k->valuestring) == 64);
    memcpy(F.notary_hex, k->valuestring, 65);
    cJSON_Delete(j);
    wn_test_resp_free(&r);
}

/* 4 enrolments, 396 readings, 600 readings, one equivocation evidence (of meter 1's
 * sequence 1, entry 5), 299 readings: 1300 entries, a checkpoint after each request. */
static void fill(void)
{
    const char *url = F.proc.url;
    cr_assert(wn_test_feed_enrol(&F.feed, url), "%s", F.feed.err);
    cr_assert(wn_test_feed_readings(&F.feed, url, 396), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(url, 400, NULL));
    cr_assert(wn_test_feed_readings(&F.feed, url, 600), "%s", F.feed.err);
    cr_assert(wn_test_feed_equivocate(&F.feed, url, 1, 1), "%s", F.feed.err);
    cr_assert_eq(F.feed.entry[1000][0], 0x84, "a timed equivocation evidence entry");
    cr_assert(wn_test_feed_readings(&F.feed, url, 299), "%s", F.feed.err);
    cr_assert_eq(F.feed.n, 1300);
    cr_assert(wn_test_wait_checkpoint(url, 1300, NULL));
}

/* ---- running wn ---- */

typedef struct {
    int status;  /* exit code, or -1 */
    char *out;   /* stdout */
    char *err;   /* stderr */
} run_t;

/* Runs bin/wn with args (NULL-terminated), up to 120 s. */
static run_t wn(const char *const *args)
{
    char *bin = wn_test_bin("wn");
    char outp[4300], errp[4300];
    snprintf(outp, sizeof outp, "%s/wn.out", F.tmp);
    snprintf(errp, sizeof errp, "%s/wn.err", F.tmp);
    const char *argv[32] = {bin};
    int a = 1;
    for (int i = 0; args[i] && a < 31; i++) argv[a++] = args[i];
    argv[a] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (!freopen(outp, "w", stdout) || !freopen(errp, "w", stderr)) _exit(127);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    free(bin);
    int st = 0;
    struct timespec tick = {0, 10 * 1000000L};
    int done = 0;
    for (int i = 0; i < 12000 && !done; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) done = 1;
        else nanosleep(&tick, NULL);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    run_t r = {done && WIFEXITED(st) ? WEXITSTATUS(st) : -1, wn_test_read_file(outp, NULL), wn_test_read_file(errp, NULL)};
    cr_assert(r.out && r.err);
    return r;
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

static run_t audit(int json, const char *notary)
{
    const char *args[] = {"audit", "--node", F.proc.url, "--notary-pub", notary, "--registrar", F.feed.reg_hex,
                          json ? "--json" : NULL, NULL};
    return wn(args);
}

/* The JSON report; asserts it parses. */
static cJSON *report(const run_t *r)
{
    cJSON *j = cJSON_Parse(r->out);
    cr_assert(j, "wn audit --json printed no JSON (exit %d): %s\n%s", r->status, r->out, r->err);
    return j;
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    cr_assert(cJSON_IsNumber(x), "%s.%s is not a number", a, b ? b : "");
    return x->valuedouble;
}

/* The first problem of a failed JSON report: at entry `index` with `code`. */
static void expect_first(const cJSON *j, uint64_t index, const char *code)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "problems");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(p, "first");
    cr_assert(cJSON_IsObject(first), "no first problem");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "where")->valuestring, "entry");
    cr_assert_eq((uint64_t)num_at(first, "index", NULL), index);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "code")->valuestring, code);
}

/* Is there a problem at entry index with code in the list? */
static int has_problem(const cJSON *j, uint64_t index, const char *code)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "problems"), "list");
    for (const cJSON *p = list ? list->child : NULL; p; p = p->next) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "where"), *i = cJSON_GetObjectItemCaseSensitive(p, "index"),
                    *c = cJSON_GetObjectItemCaseSensitive(p, "code");
        if (cJSON_IsString(w) && strcmp(w->valuestring, "entry") == 0 && cJSON_IsNumber(i) &&
            (uint64_t)i->valuedouble == index && cJSON_IsString(c) && strcmp(c->valuestring, code) == 0)
            return 1;
    }
    return 0;
}

/* ---- changing the ledger under the node ---- */

/* Flips one byte of the stored value of entry `index` in the ledger's LMDB: at offset off
 * from the start (off >= 0: chain hash, stored hashes) or -off from the end (the entry's
 * own bytes). The node must be stopped. */
static void flip(uint64_t index, long off)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/ledger", F.proc.data);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
    uint8_t kb[8];
    wn_put_u64(kb, index);
    MDB_val k = {8, kb}, v;
    cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    size_t at = off >= 0 ? (size_t)off : v.mv_size - (size_t)(-off);
    cr_assert(at < v.mv_size);
    copy[at] ^= 0x01;
    MDB_val nv = {v.mv_size, copy};
    cr_assert_eq(mdb_put(txn, dbi, &k, &nv, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(copy);
}

static void restart_after(void (*change)(void))
{
    int st = wn_test_node_stop(&F.proc, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-node did not stop cleanly");
    change();
    start();
}

/* ---- tests ---- */

TestSuite(audit_http, .init = setup, .fini = teardown, .timeout = 180);

Test(audit_http, a_real_node_passes)
{
    start();
    fill();
    run_t r = audit(0, F.notary_hex);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "AUDIT PASSED: 1300 entries"), "%s", r.out);
    cr_assert(strstr(r.out, "1 equivocations"), "%s", r.out);
    run_free(&r);

    r = audit(1, F.notary_hex);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cJSON *j = report(&r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "valid")));
    cr_assert_eq(num_at(j, "entries", "total"), 1300);
    cr_assert_eq(num_at(j, "entries", "reading"), 1295);
    cr_assert_eq(num_at(j, "entries", "enrolment"), 4);
    cr_assert_eq(num_at(j, "entries", "equivocation"), 1);
    cr_assert_eq(num_at(j, "alerts", "equivocation"), 1);
    cr_assert_eq(num_at(j, "problems", "total"), 0);
    double stored = num_at(j, "checkpoints", "stored");
    cr_assert(stored >= 4, "only %.0f checkpoints were fed", stored);
    cr_assert_eq(num_at(j, "checkpoints", "verified"), stored);
    cr_assert_eq(num_at(j, "checkpoints", "latest_size"), 1300);
    cJSON_Delete(j);
    run_free(&r);
}

static void flip_entry_300(void) { flip(300, -10); /* inside the reading's signature */ }

Test(audit_http, a_changed_entry_fails_at_that_entry)
{
    start();
    fill();
    cr_assert_eq(F.feed.entry[300][0], 0x81, "a timed reading entry");
    restart_after(flip_entry_300);
    run_t r = audit(0, F.notary_hex);
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "AUDIT FAILED") && strstr(r.out, "the first at entry 300 [leaf_hash]"), "%s", r.out);
    run_free(&r);

    r = audit(1, F.notary_hex);
    cr_assert_eq(r.status, 1);
    cJSON *j = report(&r);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "valid")));
    expect_first(j, 300, "leaf_hash");
    cr_assert(has_problem(j, 300, "bad_signature"), "%s", r.out);
    cr_assert(num_at(cJSON_GetObjectItemCaseSensitive(j, "problems"), "by_code", "checkpoint_root") >= 1,
              "later checkpoints' roots must not match: %s", r.out);
    cJSON_Delete(j);
    run_free(&r);
}

/* The stored leaf hash of entry 700 (offset 32: after the chain hash) and the stored
 * subtree hash of entries 512..767 (level 8, kept with entry 767 at 32 + 32*8). */
static void flip_hashes(void)
{
    flip(700, 32 + 5);
    flip(767, 32 + 32 * 8 + 31);
}

Test(audit_http, served_hashes_must_match_the_entries)
{
    start();
    fill();
    restart_after(flip_hashes);
    run_t r = audit(1, F.notary_hex);
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cJSON *j = report(&r);
    expect_first(j, 700, "leaf_hash");
    cr_assert(has_problem(j, 767, "tree_hash"), "the changed level-1 tile hash is not reported: %s", r.out);
    cr_assert_eq(num_at(j, "problems", "total"), 2, "%s", r.out);
    cJSON_Delete(j);
    run_free(&r);
}

Test(audit_http, the_wrong_notary_key_fails)
{
    start();
    cr_assert(wn_test_feed_enrol(&F.feed, F.proc.url), "%s", F.feed.err);
    cr_assert(wn_test_feed_readings(&F.feed, F.proc.url, 20), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(F.proc.url, 24, NULL));
    char other[65];
    snprintf(other, sizeof other, "%s", F.feed.reg_hex); /* a valid key, but not the notary's */
    run_t r = audit(1, other);
    cr_assert_eq(r.status, 1, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cJSON *j = report(&r);
    cr_assert(num_at(cJSON_GetObjectItemCaseSensitive(j, "problems"), "by_code", "checkpoint_signature") >= 1);
    cJSON_Delete(j);
    run_free(&r);
}

Test(audit_http, node_errors_and_usage)
{
    start();
    run_t r = audit(0, F.notary_hex); /* no checkpoint yet */
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, "checkpoint"), "%s", r.err);
    run_free(&r);

    const char *unreachable[] = {"audit", "--node", "http://127.0.0.1:1", "--notary-pub", F.notary_hex, NULL};
    r = wn(unreachable);
    cr_assert_eq(r.status, 3, "exit %d\n%s", r.status, r.err);
    run_free(&r);

    const char *no_key[] = {"audit", "--node", F.proc.url, NULL};
    r = wn(no_key);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    run_free(&r);

    const char *bad_key[] = {"audit", "--node", F.proc.url, "--notary-pub", "abc", NULL};
    r = wn(bad_key);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    run_free(&r);

    const char *both[] = {"audit", "--node", F.proc.url, "--ledger", F.tmp, "--notary-pub", F.notary_hex, NULL};
    r = wn(both);
    cr_assert_eq(r.status, 2, "exit %d\n%s", r.status, r.err);
    run_free(&r);

    const char *help[] = {"audit", "--help", NULL};
    r = wn(help);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "--node"), "--help does not mention --node: %s", r.out);
    run_free(&r);
}
