/* test_datadir.c — a node that cannot fork itself: its data directory, its keys and
 * damaged files (docs/THREATS.md "Data directory and keys"). Real bin/wn-node processes on
 * 127.0.0.1 filled with enrolments and readings (tests/support/feeder.h), real files
 * deleted, emptied, truncated, scribbled on and chmod-ed between runs:
 *   - a second node on the same --data refuses to start (the first keeps serving);
 *   - a missing notary.key or registrar.key with a non-empty ledger is not silently made anew;
 *   - DIR/checkpoint.last follows every signed checkpoint; a ledger emptied, deleted or not
 *     matching it, or a key that did not sign it, refuses the start;
 *   - a truncated ledger refuses the start with a message, a truncated state is rebuilt;
 *   - an entry's bytes changed inside data.mdb refuse the start, naming the entry;
 *   - secret key files with group/other mode bits are refused by the node and by `wn`.
 * A refusal must be an exit code from 1 to 127 (no signal) and a message that names the file. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "ledger/tlog/checkpoint.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testledger.h"
#include "tests/support/testutil.h"

static char *tmp;
static wn_test_node node;
static wn_test_feed feed;

static void setup(void)
{
    tmp = wn_test_tmpdir("datadir");
    wn_test_node_init(&node, tmp);
    cr_assert(wn_test_feed_init(&feed, 4));
}

static void teardown(void)
{
    if (node.pid > 0) wn_test_node_stop(&node, SIGKILL);
    wn_test_feed_free(&feed);
    wn_test_rmtree(tmp);
    free(tmp);
}

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", node.data, rel);
}

/* Makes the feeder sign enrolments with the node's own DIR/registrar.key (a demo node). */
static void adopt_registrar(void)
{
    char key[4400];
    path_of(key, sizeof key, "registrar.key");
    cr_assert(wn_keyfile_read(key, feed.reg_sk));
    cr_assert(wn_seckey_xonly(feed.reg_pk, feed.reg_sk));
    wn_hex_encode(feed.reg_hex, feed.reg_pk, 32);
}

/* Starts the node (with --registrar unless reg is 0) and waits until it listens. */
static void start(int reg)
{
    const char *args[] = {"--checkpoint-ms", "50", reg ? "--registrar" : NULL, feed.reg_hex, NULL};
    cr_assert(wn_test_node_start(&node, args), "the node did not start; see %s", node.log);
}

static void stop(void)
{
    int st = wn_test_node_stop(&node, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the node did not stop cleanly (status %d)", st);
}

/* A node with 4 enrolments and `readings` readings, all under a signed checkpoint, stopped. */
static void filled(unsigned readings)
{
    start(1);
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    if (readings) cr_assert(wn_test_feed_readings(&feed, node.url, readings), "%s", feed.err);
    cr_assert(wn_test_wait_checkpoint(node.url, feed.n, NULL), "no checkpoint of size %llu", (unsigned long long)feed.n);
    stop();
}

/* Runs wn-node on node.data (extra args, NULL-ended) expecting a refusal: it must exit by
 * itself within 20 s with a code from 1 to 127. Returns its stderr (malloc'd). */
static char *refused(const char *const *extra)
{
    char out[4400], port[4400];
    snprintf(out, sizeof out, "%s/refused.log", tmp);
    snprintf(port, sizeof port, "%s/refused.port", tmp);
    unlink(out);
    char *bin = wn_test_bin("wn-node");
    const char *argv[32] = {bin, "--data", node.data, "--listen", "127.0.0.1:0", "--port-file", port};
    int a = 7;
    for (int i = 0; extra && extra[i] && a < 31; i++) argv[a++] = extra[i];
    argv[a] = NULL;
    pid_t pid = wn_proc_spawn(argv, out);
    free(bin);
    cr_assert(pid > 0);
    int st = 0;
    if (!wn_proc_wait(pid, 20000, &st)) {
        wn_proc_kill(pid, SIGKILL);
        char *log = wn_test_read_file(out, NULL);
        cr_assert(0, "wn-node started although it must refuse; its log:\n%s", log ? log : "");
    }
    char *log = wn_test_read_file(out, NULL);
    cr_assert(log);
    cr_assert(!WIFSIGNALED(st), "wn-node died by signal %d; its log:\n%s", WTERMSIG(st), log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) >= 1 && WEXITSTATUS(st) < 128, "exit %d; log:\n%s",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
    cr_assert(access(port, F_OK) != 0, "a refused node wrote its port file");
    return log;
}

static void expect_in(const char *log, const char *what)
{
    cr_assert(strstr(log, what), "the message does not say \"%s\":\n%s", what, log);
}

static void truncate_to(const char *rel, off_t len)
{
    char p[4400];
    path_of(p, sizeof p, rel);
    cr_assert_eq(truncate(p, len), 0, "truncate %s: %s", p, strerror(errno));
}

static off_t size_of(const char *rel)
{
    char p[4400];
    struct stat st;
    path_of(p, sizeof p, rel);
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    return st.st_size;
}

static char *get(const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(node.url, "GET", path, NULL, NULL, 0, &r) && r.status == 200, "GET %s: %ld", path,
              r.status);
    char *body = (char *)r.body;
    return body; /* NUL-terminated, malloc'd */
}

/* ---- one writer per directory ---- */

Test(datadir, second_node_on_one_directory_refuses, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(8);
    start(1);
    char pid[32];
    snprintf(pid, sizeof pid, "PID %ld", (long)node.pid);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    expect_in(log, node.data);
    expect_in(log, pid);
    expect_in(log, "in use by another wn-node");
    free(log);
    /* the first node still serves and accepts */
    cr_assert(wn_test_feed_readings(&feed, node.url, 4), "%s", feed.err);
    stop();
    /* and once it is gone, the directory can be used again */
    start(1);
    stop();
}

/* ---- keys ---- */

Test(datadir, lost_notary_key_refuses_and_makes_no_new_one, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(8);
    char key[4400];
    path_of(key, sizeof key, "notary.key");
    cr_assert_eq(unlink(key), 0);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    expect_in(log, key);
    expect_in(log, "restore the key from a backup");
    cr_assert(access(key, F_OK) != 0, "a new notary key was made for the existing ledger");
    free(log);
}

Test(datadir, lost_registrar_key_refuses, .init = setup, .fini = teardown, .timeout = 120)
{
    /* a demo node: DIR/registrar.key made on first start signs the enrolments */
    start(0);
    char key[4400];
    path_of(key, sizeof key, "registrar.key");
    adopt_registrar();
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    cr_assert(wn_test_feed_readings(&feed, node.url, 8), "%s", feed.err);
    stop();
    cr_assert_eq(unlink(key), 0);
    char *log = refused(NULL);
    expect_in(log, key);
    expect_in(log, "--registrar");
    cr_assert(access(key, F_OK) != 0, "a new registrar key was made for a ledger holding enrolments");
    free(log);
    /* naming the registrar instead is fine */
    start(1);
    stop();
}

Test(datadir, key_that_did_not_sign_the_checkpoint_refuses, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(8);
    char key[4400];
    path_of(key, sizeof key, "notary.key");
    cr_assert_eq(unlink(key), 0);
    cr_assert(wn_keyfile_create(key, NULL, NULL));
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    expect_in(log, "checkpoint.last");
    expect_in(log, "not a checkpoint signed by this node's notary key");
    free(log);
}

static void chmod_refused(const char *rel, mode_t mode)
{
    char key[4400];
    path_of(key, sizeof key, rel);
    cr_assert_eq(chmod(key, mode), 0);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(rel[0] == 'r' ? NULL : args);
    expect_in(log, key);
    expect_in(log, "chmod 600");
    free(log);
    cr_assert_eq(chmod(key, 0600), 0);
}

Test(datadir, key_files_open_to_others_are_refused, .init = setup, .fini = teardown, .timeout = 180)
{
    start(0);
    char key[4400];
    path_of(key, sizeof key, "registrar.key");
    adopt_registrar();
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    stop();
    chmod_refused("notary.key", 0644);
    chmod_refused("notary.key", 0666);
    chmod_refused("registrar.key", 0640);
    chmod_refused("registrar.key", 0604);

    /* wn revoke reads the registrar's secret key */
    start(0);
    char meter[65];
    wn_hex_encode(meter, feed.m[0].id, 32);
    cr_assert_eq(chmod(key, 0644), 0);
    wn_run_result r = wn_proc_runl(tmp, "wn", "revoke", "--node", node.url, "--registrar-key", key, "--meter", meter,
                                   NULL);
    cr_assert_eq(r.code, 2, "wn revoke with a 0644 key: exit %d\n%s", r.code, r.err);
    cr_assert(strstr(r.err, "chmod 600") && strstr(r.err, key), "%s", r.err);
    wn_run_result_free(&r);
    cr_assert_eq(chmod(key, 0666), 0);
    r = wn_proc_runl(tmp, "wn", "revoke", "--node", node.url, "--registrar-key", key, "--meter", meter, NULL);
    cr_assert_eq(r.code, 2, "wn revoke with a 0666 key: exit %d\n%s", r.code, r.err);
    cr_assert(strstr(r.err, "chmod 600"), "%s", r.err);
    wn_run_result_free(&r);
    cr_assert_eq(chmod(key, 0600), 0);
    r = wn_proc_runl(tmp, "wn", "revoke", "--node", node.url, "--registrar-key", key, "--meter", meter, NULL);
    cr_assert_eq(r.code, 0, "wn revoke with a 0600 key: exit %d\n%s", r.code, r.err);
    wn_run_result_free(&r);
    stop();
}

/* ---- the last signed checkpoint, kept outside the ledger ---- */

static void notary_pk(uint8_t pk[32])
{
    char key[4400];
    uint8_t sk[32];
    path_of(key, sizeof key, "notary.key");
    cr_assert(wn_keyfile_read(key, sk));
    cr_assert(wn_seckey_xonly(pk, sk));
}

Test(datadir, checkpoint_last_follows_every_signed_checkpoint, .init = setup, .fini = teardown, .timeout = 120)
{
    start(1);
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    char last[4400];
    path_of(last, sizeof last, "checkpoint.last");
    uint8_t pk[32];
    notary_pk(pk);
    for (int round = 0; round < 3; round++) {
        cr_assert(wn_test_feed_readings(&feed, node.url, 5), "%s", feed.err);
        cr_assert(wn_test_wait_checkpoint(node.url, feed.n, NULL));
        char *served = get("/v1/checkpoint");
        size_t len;
        char *kept = wn_test_read_file(last, &len);
        cr_assert(kept, "no %s", last);
        wn_checkpoint cp;
        cr_assert_eq(wn_checkpoint_verify(kept, len, NULL, pk, &cp), WN_CHECKPOINT_OK);
        cr_assert_eq(cp.size, feed.n, "round %d: kept size %llu", round, (unsigned long long)cp.size);
        cr_assert_str_eq(kept, served, "the kept checkpoint is the one served");
        struct stat st;
        cr_assert_eq(stat(last, &st), 0);
        cr_assert_eq(st.st_mode & 022, 0, "checkpoint.last writable by others");
        free(kept);
        free(served);
    }
    char tmpf[4500];
    snprintf(tmpf, sizeof tmpf, "%s.tmp", last);
    cr_assert(access(tmpf, F_OK) != 0, "a temporary file was left behind");
    stop();
}

Test(datadir, emptied_ledger_refuses_instead_of_forking, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(20);
    truncate_to("ledger/data.mdb", 0);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    char want[64];
    snprintf(want, sizeof want, "signed a checkpoint of size %llu", (unsigned long long)feed.n);
    expect_in(log, want);
    expect_in(log, "checkpoint.last");
    expect_in(log, "ledger/data.mdb");
    expect_in(log, "Restore the ledger directory from a backup");
    free(log);
}

Test(datadir, deleted_ledger_refuses_instead_of_forking, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(20);
    char p[4400];
    path_of(p, sizeof p, "ledger/data.mdb");
    cr_assert_eq(unlink(p), 0);
    path_of(p, sizeof p, "ledger/lock.mdb");
    unlink(p);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    char want[64];
    snprintf(want, sizeof want, "signed a checkpoint of size %llu", (unsigned long long)feed.n);
    expect_in(log, want);
    expect_in(log, "ledger/data.mdb");
    free(log);
}

Test(datadir, older_ledger_copy_refuses, .init = setup, .fini = teardown, .timeout = 120)
{
    /* an operator "restores" an older copy of the ledger under a newer checkpoint.last */
    filled(6);
    char src[4400], dst[4400];
    path_of(src, sizeof src, "ledger");
    snprintf(dst, sizeof dst, "%s/ledger-old", tmp);
    cr_assert(wn_tl_copy_dir(src, dst));
    uint64_t old_n = feed.n;
    start(1);
    cr_assert(wn_test_feed_readings(&feed, node.url, 6), "%s", feed.err);
    cr_assert(wn_test_wait_checkpoint(node.url, feed.n, NULL));
    stop();
    char cmd[14000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", src, dst, src);
    cr_assert_eq(system(cmd), 0);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    char want[100];
    snprintf(want, sizeof want, "holds %llu entries, but this node signed a checkpoint of size %llu",
             (unsigned long long)old_n, (unsigned long long)feed.n);
    expect_in(log, want);
    free(log);
}

/* ---- damaged files ---- */

Test(datadir, truncated_ledger_refuses_with_a_message, .init = setup, .fini = teardown, .timeout = 120)
{
    filled(200);
    off_t len = size_of("ledger/data.mdb");
    cr_assert_gt(len, 3 * 4096);
    truncate_to("ledger/data.mdb", len / 2);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    expect_in(log, "ledger/data.mdb");
    expect_in(log, "truncated");
    free(log);
    /* cut inside the meta pages too */
    truncate_to("ledger/data.mdb", 100);
    log = refused(args);
    expect_in(log, "ledger/data.mdb");
    free(log);
}

Test(datadir, truncated_state_is_rebuilt_with_the_same_answers, .init = setup, .fini = teardown, .timeout = 120)
{
    start(1);
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    cr_assert(wn_test_feed_readings(&feed, node.url, 200), "%s", feed.err);
    cr_assert(wn_test_wait_checkpoint(node.url, feed.n, NULL));
    char path[200], hex[65];
    char *before[WN_FEED_MAX_METERS];
    for (unsigned i = 0; i < feed.nmeters; i++) {
        wn_hex_encode(hex, feed.m[i].id, 32);
        snprintf(path, sizeof path, "/v1/meters/%s", hex);
        before[i] = get(path);
    }
    stop();
    off_t len = size_of("state/data.mdb");
    cr_assert_gt(len, 3 * 4096);
    truncate_to("state/data.mdb", len / 2);
    start(1);
    for (unsigned i = 0; i < feed.nmeters; i++) {
        wn_hex_encode(hex, feed.m[i].id, 32);
        snprintf(path, sizeof path, "/v1/meters/%s", hex);
        char *after = get(path);
        cr_assert_str_eq(after, before[i], "meter %u after the rebuild", i);
        free(after);
        free(before[i]);
    }
    /* and it still accepts the meters' next readings */
    cr_assert(wn_test_feed_readings(&feed, node.url, 8), "%s", feed.err);
    stop();
    char *log = wn_test_read_file(node.log, NULL);
    expect_in(log, "state/data.mdb");
    expect_in(log, "rebuilding it from the ledger");
    free(log);
}

/* Changes one byte in every copy of entry k's bytes inside ledger/data.mdb. Returns how many. */
static int scribble_entry(uint64_t k)
{
    char p[4400];
    path_of(p, sizeof p, "ledger/data.mdb");
    size_t len;
    char *file = wn_test_read_file(p, &len);
    cr_assert(file);
    const uint8_t *e = feed.entry[k];
    size_t elen = feed.entry_len[k];
    int fd = open(p, O_WRONLY);
    cr_assert(fd >= 0);
    int hits = 0;
    for (char *at = file; (at = memmem(at, len - (size_t)(at - file), e, elen)) != NULL; at += elen) {
        off_t off = (off_t)(at - file) + (off_t)(elen / 2);
        uint8_t b = (uint8_t)(at[elen / 2] ^ 0x01);
        cr_assert_eq(pwrite(fd, &b, 1, off), 1);
        hits++;
    }
    close(fd);
    free(file);
    return hits;
}

Test(datadir, scribbled_entry_refuses_naming_it, .init = setup, .fini = teardown, .timeout = 120)
{
    /* more than WN_STARTCHECK_TAIL entries: the re-hash starts inside the ledger, and a
     * healthy ledger of that size starts */
    filled(1200);
    start(1);
    stop();
    uint64_t k = feed.n - 10;
    cr_assert_gt(scribble_entry(k), 0, "entry %llu not found in data.mdb", (unsigned long long)k);
    const char *args[] = {"--registrar", feed.reg_hex, NULL};
    char *log = refused(args);
    char want[64];
    snprintf(want, sizeof want, "damaged at entry %llu", (unsigned long long)k);
    expect_in(log, want);
    expect_in(log, "ledger/data.mdb");
    free(log);
    /* an operator who must serve it anyway (for auditors) says so, and it is logged as an error */
    const char *allow[] = {"--registrar", feed.reg_hex, "--checkpoint-ms", "50", "--allow-damaged-entries", NULL};
    cr_assert(wn_test_node_start(&node, allow), "see %s", node.log);
    stop();
    log = wn_test_read_file(node.log, NULL);
    expect_in(log, "ERROR: the ledger");
    expect_in(log, want);
    free(log);
}

/* ---- the state map grows on demand ---- */

static int count_in(const char *log, const char *what)
{
    int n = 0;
    for (const char *p = log; (p = strstr(p, what)) != NULL; p += strlen(what)) n++;
    return n;
}

Test(datadir, state_map_grows_and_a_full_map_restarts, .init = setup, .fini = teardown, .timeout = 300)
{
    wn_test_feed_free(&feed);
    cr_assert(wn_test_feed_init(&feed, WN_FEED_MAX_METERS));
    /* a 16 KiB map to start with (the node's default is 64 MiB): every store in the env,
     * the per-meter state and the monitor's aggregates, must make it grow */
    setenv("WN_STATE_MAP_BYTES", "16384", 1);
    start(1);
    cr_assert(wn_test_feed_enrol(&feed, node.url), "%s", feed.err);
    for (int i = 0; i < 40; i++) cr_assert(wn_test_feed_readings(&feed, node.url, 250), "batch %d: %s", i, feed.err);
    cr_assert(wn_test_wait_checkpoint(node.url, feed.n, NULL));
    char path[200], hex[65];
    wn_hex_encode(hex, feed.m[3].id, 32);
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    char *before = get(path);
    stop();
    char *log = wn_test_read_file(node.log, NULL);
    int grown = count_in(log, "state: LMDB map grown");
    cr_assert_geq(grown, 4, "the map grew %d times; log:\n%s", grown, log);
    cr_assert_null(strstr(log, "failed"), "a write failed:\n%s", log);
    free(log);
    /* restarted on the grown (and well used) env with the same small starting map */
    start(1);
    char *after = get(path);
    cr_assert_str_eq(after, before);
    cr_assert(wn_test_feed_readings(&feed, node.url, 250), "%s", feed.err);
    stop();
    unsetenv("WN_STATE_MAP_BYTES");
    log = wn_test_read_file(node.log, NULL);
    cr_assert_null(strstr(log, "failed"), "a write failed:\n%s", log);
    cr_assert_null(strstr(log, "rebuilding"), "the state was rebuilt:\n%s", log);
    free(log);
    free(before);
    free(after);
}

Test(datadir, wn_meter_refuses_its_key_open_to_others, .init = setup, .fini = teardown, .timeout = 60)
{
    char state[4400], key[4500];
    snprintf(state, sizeof state, "%s/m1", tmp);
    snprintf(key, sizeof key, "%s/meter.key", state);
    wn_run_result r = wn_proc_runl(tmp, "wn-meter", "init", "--state", state, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    wn_run_result_free(&r);
    cr_assert_eq(chmod(key, 0644), 0);
    r = wn_proc_runl(tmp, "wn-meter", "read", "--state", state, "--volume", "1.000", NULL);
    cr_assert(r.code > 0 && r.code < 128, "wn-meter read with a 0644 meter.key: exit %d", r.code);
    cr_assert(strstr(r.err, "chmod 600"), "%s", r.err);
    wn_run_result_free(&r);
    cr_assert_eq(chmod(key, 0600), 0);
    r = wn_proc_runl(tmp, "wn-meter", "read", "--state", state, "--volume", "1.000", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    wn_run_result_free(&r);
}
