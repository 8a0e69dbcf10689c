/* test_device_crash.c — a child process makes readings in a loop (and, in one variant,
 * acks and compacts), reporting every reading it got back through a pipe, and is killed
 * with SIGKILL at random moments, round after round. After each kill the parent reopens
 * the meter and checks: every reported reading is in the log with the same bytes, no
 * sequence number was ever reported twice, the logged readings form one unbroken, signed
 * hash chain, and the next reading continues it. A power cut is also simulated: a logged
 * reading that was never reported (not yet returned) may be torn off the end of the log. */
#include <criterion/criterion.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "device/meter.h"
#include "tests/support/testutil.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1795000000000ULL
#define MAXSEQ 50000

/* Everything ever reported, indexed by sequence number. */
typedef struct {
    uint8_t bytes[WN_READING_MAX_LEN];
    uint16_t len;
    uint8_t reported, verified;
} seen_reading;

static seen_reading *g_seen;
static char *g_dir;
static char g_meter[4096];
static uint8_t g_notary_sk[32], g_notary[32];

static void setup(void)
{
    g_dir = wn_test_tmpdir("crash");
    cr_assert(g_dir);
    snprintf(g_meter, sizeof g_meter, "%s/m", g_dir);
    g_seen = calloc(MAXSEQ + 2, sizeof *g_seen);
    memset(g_notary_sk, 0x33, 32);
    cr_assert(wn_seckey_xonly(g_notary, g_notary_sk));
}

static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
    free(g_seen);
}

TestSuite(device_crash, .init = setup, .fini = teardown);

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* The child: make readings forever; report each one after wn_meter_read returned it. */
static void child(int fd, int with_acks, uint64_t seed)
{
    wn_meter m;
    if (wn_meter_open(&m, g_meter) != WN_METER_OK) _exit(3);
    srand((unsigned)seed);
    for (;;) {
        uint8_t msg[10 + WN_READING_MAX_LEN];
        size_t len;
        uint64_t seq, next = m.last_seq + 1;
        wn_measurement ms[2] = {{WN_Q_VOLUME, WN_U_M3, 3, (int64_t)next * 10}, {WN_Q_PH, WN_U_PH, 2, 700}};
        if (wn_meter_read(&m, T0 + next * 1000, 0, ms, 1 + (next % 2), msg + 10, &len, &seq) != WN_METER_OK) _exit(4);
        if (seq != next) _exit(5);
        wn_put_u64(msg, seq);
        wn_put_u16(msg + 8, (uint16_t)len);
        if (!write_all(fd, msg, 10 + len)) _exit(6);
        if (!with_acks) continue;
        if (rand() % 3 == 0) { /* ack what is pending, except sometimes the newest */
            wn_meter_iter it;
            uint8_t b[WN_READING_MAX_LEN];
            size_t l;
            uint64_t s;
            wn_meter_pending_begin(&m, &it);
            while (wn_meter_next(&m, &it, b, &l, &s) == WN_METER_OK) {
                if (s == m.last_seq && rand() % 2) break;
                wn_receipt rc = {.index = s, .time_ms = T0};
                wn_reading_leaf_hash(rc.leaf, b, l);
                if (!wn_receipt_sign(&rc, g_notary_sk) || wn_meter_ack(&m, s, &rc, g_notary) != WN_METER_OK) _exit(7);
            }
        }
        if (rand() % 8 == 0 && wn_meter_compact(&m) != WN_METER_OK) _exit(8);
    }
}

/* Reads reports from fd until the deadline (or EOF when deadline is 0). */
static void collect(int fd, uint64_t deadline, uint64_t *last_reported, uint8_t *buf, size_t *have)
{
    for (;;) {
        int timeout = -1;
        if (deadline) {
            uint64_t t = now_ns();
            if (t >= deadline) return;
            timeout = (int)((deadline - t) / 1000000) + 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno == EINTR) continue;
        cr_assert_geq(r, 0);
        if (r == 0) continue;
        ssize_t n = read(fd, buf + *have, 65536 - *have);
        if (n < 0 && errno == EINTR) continue;
        cr_assert_geq(n, 0);
        if (n == 0) return; /* EOF: the child is gone */
        *have += (size_t)n;
        size_t off = 0;
        while (*have - off >= 10) {
            uint64_t seq = wn_get_u64(buf + off);
            size_t len = wn_get_u16(buf + off + 8);
            if (*have - off < 10 + len) break;
            cr_assert(seq >= 1 && seq <= MAXSEQ && len <= WN_READING_MAX_LEN);
            cr_assert_gt(seq, *last_reported, "sequence %llu reported again", (unsigned long long)seq);
            seen_reading *s = &g_seen[seq];
            /* A sequence number whose reading was never returned (torn off by a simulated
             * power cut) may be reused; a reported one never. */
            cr_assert(!s->reported);
            memcpy(s->bytes, buf + off + 10, len);
            s->len = (uint16_t)len;
            s->reported = 1;
            s->verified = 0;
            *last_reported = seq;
            off += 10 + len;
        }
        memmove(buf, buf + off, *have - off);
        *have -= off;
    }
}

/* Checks the reopened meter against everything reported so far. */
static void check_meter(wn_meter *m, uint64_t last_reported)
{
    wn_meter_iter it;
    uint8_t b[WN_READING_MAX_LEN], prev[32] = {0};
    size_t len;
    uint64_t seq, expect = m->first_seq ? m->first_seq : 1; /* first_seq is 0 for an empty log */
    wn_reading r;

    cr_assert_geq(m->last_seq, last_reported, "a reported reading is missing from the log");
    if (m->first_seq > 1) { /* compacted: the chain continues the reading before */
        seen_reading *s = &g_seen[m->first_seq - 1];
        cr_assert(s->len, "the reading before the log start was seen");
        wn_sha256(prev, s->bytes, s->len);
    }
    wn_meter_log_begin(m, &it);
    while (wn_meter_next(m, &it, b, &len, &seq) == WN_METER_OK) {
        cr_assert_eq(seq, expect, "log not consecutive at %llu", (unsigned long long)seq);
        seen_reading *s = &g_seen[seq];
        if (s->reported) {
            cr_assert_eq(len, s->len);
            cr_assert_arr_eq(b, s->bytes, len, "reported reading %llu changed", (unsigned long long)seq);
        } else { /* made but never reported: remember it for the chain */
            memcpy(s->bytes, b, len);
            s->len = (uint16_t)len;
            s->verified = 0;
        }
        if (!s->verified) {
            cr_assert_eq(wn_reading_decode(&r, b, len), WN_READING_OK);
            cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_OK);
            cr_assert_eq(r.seq, seq);
            cr_assert_arr_eq(r.prev, prev, 32, "chain broken at %llu", (unsigned long long)seq);
            s->verified = 1;
        }
        wn_sha256(prev, b, len);
        expect++;
    }
    cr_assert_eq(expect, m->last_seq + 1);
    /* Readings compacted away must have been acked. */
    for (uint64_t k = 1; k < m->first_seq; k++) cr_assert(wn_meter_is_acked(m, k));
    wn_meter_counts c;
    wn_meter_get_counts(m, &c);
    cr_assert_leq(c.pending, c.logged);
}

/* Simulates a power cut: the last logged reading, if it was never reported, may not have
 * reached the disk; cut the log somewhere inside it. */
static int maybe_tear(uint64_t last_reported)
{
    wn_meter m;
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_OK);
    uint64_t last = m.last_seq, off = m.last_off, end = m.log_end;
    int acked = wn_meter_is_acked(&m, last);
    wn_meter_close(&m);
    if (last == 0 || last <= last_reported || acked || rand() % 2) return 0;
    char p[4200];
    snprintf(p, sizeof p, "%s/readings.log", g_meter);
    uint64_t cut = off + (uint64_t)rand() % (end - off);
    cr_assert_eq(truncate(p, (off_t)cut), 0);
    g_seen[last].len = 0;
    g_seen[last].verified = 0;
    return 1;
}

static void run_rounds(int rounds, int with_acks)
{
    uint64_t last_reported = 0;
    int torn = 0, killed_mid = 0;
    static uint8_t buf[65536];
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    srand(12345u + (unsigned)with_acks);

    for (int round = 0; round < rounds; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            child(fds[1], with_acks, (uint64_t)round * 7919u + 1);
        }
        close(fds[1]);
        size_t have = 0;
        uint64_t before = last_reported;
        /* Kill at a random moment: right away, or after up to ~25 ms of readings. */
        uint64_t wait_us = (uint64_t)(rand() % 4 == 0 ? rand() % 200 : rand() % 25000);
        collect(fds[0], now_ns() + wait_us * 1000 + 1, &last_reported, buf, &have);
        kill(pid, SIGKILL);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "the child failed by itself (status %d)", status);
        collect(fds[0], 0, &last_reported, buf, &have);
        cr_assert_eq(have, 0, "a report was cut short");
        close(fds[0]);
        killed_mid += last_reported == before;

        torn += maybe_tear(last_reported);
        wn_meter m;
        cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_OK);
        check_meter(&m, last_reported);
        if (round % 5 == 0) { /* the parent makes the next reading: it continues the chain */
            uint64_t next = m.last_seq + 1, seq;
            uint8_t b[WN_READING_MAX_LEN], prev[32];
            size_t len;
            wn_reading r;
            wn_measurement v = {WN_Q_VOLUME, WN_U_M3, 3, (int64_t)next * 10};
            seen_reading *last = &g_seen[m.last_seq];
            cr_assert_eq(wn_meter_read(&m, T0 + next * 1000, 0, &v, 1, b, &len, &seq), WN_METER_OK);
            cr_assert_eq(seq, next);
            cr_assert_eq(wn_reading_decode(&r, b, len), WN_READING_OK);
            if (next > 1) {
                wn_sha256(prev, last->bytes, last->len);
                cr_assert_arr_eq(r.prev, prev, 32);
            }
            seen_reading *s = &g_seen[seq];
            memcpy(s->bytes, b, len);
            s->len = (uint16_t)len;
            s->reported = 1;
            s->verified = 0;
            last_reported = seq;
        }
        wn_meter_close(&m);
    }
    cr_log_info("%d rounds, %llu readings, %d simulated power cuts, %d kills before a first report",
                rounds, (unsigned long long)last_reported, torn, killed_mid);
    cr_assert_gt(last_reported, (uint64_t)rounds / 5, "the children made progress");
}

Test(device_crash, sigkill_never_loses_or_reuses, .timeout = 120)
{
    run_rounds(120, 0);
}

Test(device_crash, sigkill_with_acks_and_compaction, .timeout = 120)
{
    run_rounds(120, 1);
}
