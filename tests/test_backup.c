/* test_backup.c — operations on a real wn-node (docs/OPERATIONS.md): `wn backup` of a node
 * while meters write to it (every copy a consistent snapshot that `wn backup verify` audits
 * clean), backups that hold no secret key and are not world-readable, damaged or foreign
 * backups refused with a reason, `wn backup restore` refused over a running node and over an
 * existing ledger and, into a fresh directory, giving a node that serves the same checkpoint;
 * and a ledger of another format refused by wn-node with the exact reason. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keyfile.h"
#include "tests/support/feeder.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *g_dir;
static void setup(void) { g_dir = wn_test_tmpdir("backup"); }
static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
}
TestSuite(backup, .init = setup, .fini = teardown, .timeout = 120);

static void pathf(char *out, size_t cap, const char *a, const char *b)
{
    cr_assert_lt(snprintf(out, cap, "%s/%s", a, b), (int)cap);
}

typedef struct {
    wn_test_feed *f;
    const char *url;
    atomic_int stop, batches, failed;
} writer;

static void *write_loop(void *arg)
{
    writer *w = arg;
    for (int i = 0; i < 400 && !atomic_load(&w->stop); i++) {
        if (!wn_test_feed_readings(w->f, w->url, 25)) {
            atomic_store(&w->failed, 1);
            break;
        }
        atomic_fetch_add(&w->batches, 1);
    }
    return NULL;
}

static void start_node(wn_test_node *n, wn_test_feed *f)
{
    wn_test_node_init(n, g_dir);
    const char *args[] = {"--registrar", f->reg_hex, "--checkpoint-every", "50", "--checkpoint-ms", "20", NULL};
    cr_assert(wn_test_node_start(n, args), "wn-node did not start (see %s)", n->log);
}

/* Backups taken while a writer appends batches: each is a snapshot the audit passes. */
Test(backup, taken_while_the_node_writes_each_copy_audits_clean)
{
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 4));
    wn_test_node n;
    start_node(&n, &f);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    writer w = {.f = &f, .url = n.url};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, write_loop, &w), 0);
    char out[4300];
    uint64_t last_entries = 0;
    int taken = 0;
    for (int i = 0; i < 3; i++) {
        while (atomic_load(&w.batches) < 5 * (i + 1) && !atomic_load(&w.failed)) wn_proc_sleep_ms(5);
        char name[32];
        snprintf(name, sizeof name, "b%d.wnbak", i);
        pathf(out, sizeof out, g_dir, name);
        wn_run_result r = wn_proc_runl(g_dir, "wn", "backup", "--data", n.data, "--out", out, i == 1 ? "--no-compact" : NULL, NULL);
        cr_assert_eq(r.code, 0, "wn backup: %s", r.err);
        unsigned long long bytes, entries, cps;
        cr_assert_eq(sscanf(r.out, "backup %*s %llu bytes, %llu entries, latest checkpoint at size %llu", &bytes,
                            &entries, &cps), 3, "%s", r.out);
        cr_assert_geq(entries, last_entries);
        last_entries = entries;
        wn_run_result_free(&r);
        struct stat st;
        cr_assert_eq(stat(out, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600, "backup mode %o", st.st_mode & 0777);
        taken++;
    }
    bool still_writing = atomic_load(&w.batches) < 400 && !atomic_load(&w.failed);
    atomic_store(&w.stop, 1);
    pthread_join(t, NULL);
    cr_assert_not(atomic_load(&w.failed), "the writer failed: %s", f.err);
    cr_assert(still_writing, "the writer finished before the last backup: not a backup under writes");
    for (int i = 0; i < taken; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%d.wnbak", i);
        pathf(out, sizeof out, g_dir, name);
        wn_run_result r = wn_proc_runl(g_dir, "wn", "backup", "verify", out, NULL);
        cr_assert_eq(r.code, 0, "verify %s: %s\n%s", name, r.out, r.err);
        cr_assert(strstr(r.out, "AUDIT PASSED") != NULL, "%s", r.out);
        cr_assert(strstr(r.out, ": sound") != NULL, "%s", r.out);
        wn_run_result_free(&r);
    }
    /* No secret key is in a backup: the notary's and the demo registrar's are not found. */
    size_t blen;
    char *bytes = wn_test_read_file(out, &blen);
    const char *keys[] = {"notary.key", "registrar.key"};
    for (int k = 0; k < 2; k++) {
        char kp[4300];
        pathf(kp, sizeof kp, n.data, keys[k]);
        uint8_t sk[32];
        if (!wn_keyfile_read(kp, sk)) continue;
        cr_assert_null(memmem(bytes, blen, sk, 32), "%s's secret key is in the backup", keys[k]);
        size_t klen;
        char *ktext = wn_test_read_file(kp, &klen);
        cr_assert_null(memmem(bytes, blen, ktext, klen), "%s is in the backup", keys[k]);
        free(ktext);
    }
    free(bytes);
    /* A backup never replaces a file. */
    wn_run_result r = wn_proc_runl(g_dir, "wn", "backup", "--data", n.data, "--out", out, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "exists") != NULL, "%s", r.err);
    wn_run_result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_feed_free(&f);
}

/* Copies src to dst changing the byte at offset off (off < 0: truncate to -off bytes). */
static void damaged_copy(const char *src, const char *dst, long off)
{
    size_t len;
    char *b = wn_test_read_file(src, &len);
    cr_assert(b);
    if (off >= 0) b[off] ^= 0x40;
    else len = (size_t)-off;
    FILE *f = fopen(dst, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    free(b);
}

static long member_offset(const char *file, const char *name)
{
    size_t len;
    char *b = wn_test_read_file(file, &len);
    for (size_t off = 0; off + 512 <= len; off += 512)
        if (strcmp(b + off, name) == 0 && memcmp(b + off + 257, "ustar", 5) == 0) {
            free(b);
            return (long)off;
        }
    free(b);
    return -1;
}

Test(backup, damaged_and_foreign_backups_are_refused_with_a_reason)
{
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 2));
    wn_test_node n;
    start_node(&n, &f);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 60), "%s", f.err);
    cr_assert(wn_test_wait_checkpoint(n.url, 62, NULL));
    char good[4300], bad[4300];
    pathf(good, sizeof good, g_dir, "good.wnbak");
    pathf(bad, sizeof bad, g_dir, "bad.wnbak");
    wn_run_result r = wn_proc_runl(g_dir, "wn", "backup", "--data", n.data, "--out", good, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    wn_run_result_free(&r);

    struct {
        long off;
        const char *why;
    } cases[] = {
        {member_offset(good, "ledger/data.mdb") + 512 + 4096 + 100, "does not match its SHA-256"},
        {member_offset(good, "checkpoint") + 512 + 3, "SHA-256"},
        {member_offset(good, "state/data.mdb") + 10, "checksum"},  /* a header */
        {-(member_offset(good, "ledger/data.mdb") + 1024), "truncated"},
        {member_offset(good, "WATERNOTARY-BACKUP") + 512 + 2, "not a WaterNotary backup"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert(cases[i].off != -1 && cases[i].off != 511);
        damaged_copy(good, bad, cases[i].off);
        r = wn_proc_runl(g_dir, "wn", "backup", "verify", bad, NULL);
        cr_assert_eq(r.code, 1, "case %zu accepted (exit %d): %s %s", i, r.code, r.out, r.err);
        cr_assert(strstr(r.err, cases[i].why) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, r.err, cases[i].why);
        wn_run_result_free(&r);
        unlink(bad);
    }
    /* another notary's key */
    r = wn_proc_runl(g_dir, "wn", "backup", "verify", good, "--notary-pub",
                     "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "another notary key") != NULL, "%s", r.err);
    wn_run_result_free(&r);
    /* not a backup at all */
    r = wn_proc_runl(g_dir, "wn", "backup", "verify", n.log, NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    wn_run_result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_feed_free(&f);
}

Test(backup, restore_refuses_a_running_node_then_restores_a_serving_node)
{
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 3));
    wn_test_node n;
    start_node(&n, &f);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 90), "%s", f.err);
    uint64_t size;
    cr_assert(wn_test_wait_checkpoint(n.url, 93, &size));
    char file[4300];
    pathf(file, sizeof file, g_dir, "r.wnbak");
    wn_run_result r = wn_proc_runl(g_dir, "wn", "backup", "--data", n.data, "--out", file, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    wn_run_result_free(&r);

    /* over the running node's own directory: refused, nothing touched */
    r = wn_proc_runl(g_dir, "wn", "backup", "restore", file, "--data", n.data, NULL);
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "running") != NULL, "%s", r.err);
    wn_run_result_free(&r);
    wn_test_resp cp1;
    cr_assert(wn_test_http(n.url, "GET", "/v1/checkpoint", NULL, NULL, 0, &cp1));
    cr_assert_eq(cp1.status, 200);
    wn_test_node_stop(&n, SIGTERM);

    /* over a stopped node's ledger: refused (move it aside first) */
    r = wn_proc_runl(g_dir, "wn", "backup", "restore", file, "--data", n.data, NULL);
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "already exists") != NULL, "%s", r.err);
    wn_run_result_free(&r);

    /* into a fresh directory, with the notary key put back: the same checkpoint */
    char fresh[4300], key_from[4300], key_to[4300];
    pathf(fresh, sizeof fresh, g_dir, "restored");
    r = wn_proc_runl(g_dir, "wn", "backup", "restore", file, "--data", fresh, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "put the notary key back") != NULL, "%s", r.out);
    wn_run_result_free(&r);
    struct stat st;
    cr_assert_eq(stat(fresh, &st), 0);
    cr_assert_eq(st.st_mode & 0077, 0, "restored directory mode %o", st.st_mode & 0777);
    pathf(key_from, sizeof key_from, n.data, "notary.key");
    pathf(key_to, sizeof key_to, fresh, "notary.key");
    size_t klen;
    char *key = wn_test_read_file(key_from, &klen);
    int fd = open(key_to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert(fd >= 0 && write(fd, key, klen) == (ssize_t)klen);
    close(fd);
    free(key);
    wn_test_node m;
    wn_test_node_init(&m, g_dir);
    cr_assert_lt(snprintf(m.data, sizeof m.data, "%s", fresh), (int)sizeof m.data);
    const char *args[] = {"--registrar", f.reg_hex, NULL};
    cr_assert(wn_test_node_start(&m, args), "restored node did not start (see %s)", m.log);
    wn_test_resp cp2;
    cr_assert(wn_test_http(m.url, "GET", "/v1/checkpoint", NULL, NULL, 0, &cp2));
    cr_assert_eq(cp2.status, 200);
    cr_assert_str_eq((char *)cp2.body, (char *)cp1.body, "the restored node serves another checkpoint");
    /* and it goes on accepting readings where the meters left off */
    cr_assert(wn_test_feed_readings(&f, m.url, 9), "%s", f.err);
    wn_test_resp_free(&cp1);
    wn_test_resp_free(&cp2);
    wn_test_node_stop(&m, SIGTERM);
    wn_test_feed_free(&f);
}

static void put_format(const char *ledger_dir, const void *val, size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
    cr_assert_eq(mdb_env_open(env, ledger_dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {6, (void *)"format"}, v = {len, (void *)val};
    cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* An upgrade that meets a ledger of another format says exactly why it cannot open it. */
Test(backup, a_ledger_of_another_format_is_refused_with_the_reason)
{
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    start_node(&n, &f);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    wn_test_node_stop(&n, SIGTERM);
    char ledger[4300];
    pathf(ledger, sizeof ledger, n.data, "ledger");
    const struct {
        uint8_t v[4];
        const char *want;
    } cases[] = {
        {{0, 0, 0, 2}, "has format 2, newer than this program's format 1"},
        {{0, 0, 0, 0}, "has format 0, older than this program's format 1"},
    };
    for (size_t i = 0; i < 2; i++) {
        put_format(ledger, cases[i].v, 4);
        truncate(n.log, 0);
        const char *args[] = {"--registrar", f.reg_hex, NULL};
        cr_assert_not(wn_test_node_start(&n, args), "a node started on format %u", cases[i].v[3]);
        char *log = wn_test_read_file(n.log, NULL);
        cr_assert(strstr(log, cases[i].want) != NULL, "log lacks \"%s\":\n%s", cases[i].want, log);
        cr_assert(strstr(log, "not started") != NULL, "%s", log);
        free(log);
    }
    /* the format this program writes opens again */
    const uint8_t one[4] = {0, 0, 0, 1};
    put_format(ledger, one, 4);
    const char *args[] = {"--registrar", f.reg_hex, NULL};
    cr_assert(wn_test_node_start(&n, args), "see %s", n.log);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_feed_free(&f);
}
