/* test_loadgen.c — the benchmarks' load generator (bench/support/loadgen) counts what it
 * is told, against a small HTTP server in this process on 127.0.0.1 that answers in the
 * ways a node could (and some it should not): Content-Length in any case and answers
 * arriving in pieces are read; chunked answers, answers without a length, answers larger
 * than its buffer and bytes after the answer are refused with a message and stop the connection; a close announced with
 * `Connection: close` or done between requests stops the connection and is counted; a
 * non-accepted answer is counted and stops the connection; a paced phase keeps its pace.
 * (Against a real wn-node, bench_node checks every run's counts against /metrics.)
 * Every wait is bounded; the server's sockets are closed by the test. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/support/loadgen.h"

enum { ANS_OK, ANS_LOWER_SPLIT, ANS_CHUNKED, ANS_NOLEN, ANS_BIG, ANS_CLOSE_HDR, ANS_EXTRA, ANS_CLOSE_IDLE, ANS_REJECT };

static int g_mode;
static int g_listen = -1;
static unsigned g_port;
static pthread_t g_acceptor;

static const char OK_BODY[] = "{\"results\":[{\"status\":\"accepted\"}]}";

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one request (headers and Content-Length body). Returns: 1, or 0 when the peer left. */
static int read_request(int fd)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        if (n == sizeof buf - 1) return 0;
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) return 0;
        n += (size_t)r;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t len = cl ? strtoul(cl + 17, NULL, 10) : 0;
        size_t have = n - (size_t)(end + 4 - buf);
        while (have < len) {
            r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0) return 0;
            have += (size_t)r;
        }
        return 1;
    }
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char ans[1024];
    for (int served = 0; read_request(fd); served++) {
        int n;
        switch (g_mode) {
        case ANS_OK:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         strlen(OK_BODY), OK_BODY);
            send_all(fd, ans, (size_t)n);
            break;
        case ANS_LOWER_SPLIT:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\ncontent-LENGTH:   %zu  \r\n\r\n%s", strlen(OK_BODY), OK_BODY);
            for (int i = 0; i < n; i += 7) {
                send_all(fd, ans + i, (size_t)(n - i < 7 ? n - i : 7));
                nanosleep(&(struct timespec){0, 1000000L}, NULL);
            }
            break;
        case ANS_CHUNKED:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
                         strlen(OK_BODY), OK_BODY);
            send_all(fd, ans, (size_t)n);
            break;
        case ANS_NOLEN:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%s", OK_BODY);
            send_all(fd, ans, (size_t)n);
            goto out;
        case ANS_BIG: { /* 10,000 bytes: more than the generator reads */
            static char big[10000];
            memset(big, 'x', sizeof big);
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof big);
            send_all(fd, ans, (size_t)n);
            send_all(fd, big, sizeof big);
            break;
        }
        case ANS_CLOSE_HDR:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                         strlen(OK_BODY), OK_BODY);
            send_all(fd, ans, (size_t)n);
            goto out;
        case ANS_EXTRA:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%sjunk", strlen(OK_BODY), OK_BODY);
            send_all(fd, ans, (size_t)n);
            break;
        case ANS_CLOSE_IDLE:
            n = snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(OK_BODY), OK_BODY);
            send_all(fd, ans, (size_t)n);
            goto out; /* closed between requests, unannounced */
        case ANS_REJECT:
            n = snprintf(ans, sizeof ans,
                         "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
                         "Content-Length: 22\r\n\r\n{\"error\":\"overloaded\"}");
            send_all(fd, ans, (size_t)n);
            goto out;
        }
    }
out:
    /* let the client read the last answer before the close (no reset over unread bytes) */
    shutdown(fd, SHUT_WR);
    nanosleep(&(struct timespec){0, 200000000L}, NULL);
    close(fd);
    return NULL;
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(g_listen, NULL, NULL);
        if (fd < 0) return NULL; /* the listening socket was shut down */
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0) close(fd);
        else pthread_detach(t);
    }
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    g_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(g_listen >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(bind(g_listen, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(listen(g_listen, 256) == 0);
    socklen_t len = sizeof a;
    cr_assert(getsockname(g_listen, (struct sockaddr *)&a, &len) == 0);
    g_port = ntohs(a.sin_port);
    cr_assert(pthread_create(&g_acceptor, NULL, acceptor, NULL) == 0);
}

static void teardown(void)
{
    shutdown(g_listen, SHUT_RDWR);
    pthread_join(g_acceptor, NULL);
    close(g_listen);
    g_listen = -1;
}

static const char BODY[] = "\x00\x03" "abc";

static size_t body(void *ctx, size_t conn, size_t seq, const uint8_t **b)
{
    (void)ctx, (void)conn, (void)seq;
    *b = (const uint8_t *)BODY;
    return sizeof BODY - 1;
}

static int accepted(int status, const char *b, size_t len)
{
    (void)len;
    return status == 200 && strstr(b, "\"status\":\"accepted\"") != NULL;
}

/* Runs a warm-up (one request each) and then a phase up to per_conn requests each. */
static void run(int mode, size_t nconn, size_t per_conn, double interval, loadgen_stats *warm, loadgen_stats *st,
                double *elapsed)
{
    g_mode = mode;
    char err[256];
    loadgen *g = loadgen_new(g_port, "/v1/readings", "application/vnd.waternotary.readings", nconn, per_conn, body,
                             accepted, NULL, err);
    cr_assert(g, "%s", err);
    loadgen_phase(g, 1, 0, 20, warm);
    double el = loadgen_phase(g, per_conn, interval, 20, st);
    if (elapsed) *elapsed = el;
    loadgen_free(g);
}

Test(loadgen, counts_kept_alive_answers, .init = setup, .fini = teardown, .timeout = 30)
{
    loadgen_stats w = {0}, s = {0};
    double lat[200];
    s.lat_ms = lat;
    s.caplat = 200;
    run(ANS_OK, 20, 6, 0, &w, &s, NULL);
    cr_expect_eq(w.accepted, 20);
    cr_expect_eq(s.accepted, 100, "%llu accepted (%s)", (unsigned long long)s.accepted, s.first_err);
    cr_expect_eq(s.done, 100);
    cr_expect_eq(w.rejected + w.failed_conn + s.rejected + s.failed_conn, 0, "%s%s", w.first_err, s.first_err);
    cr_expect_eq(s.nlat, 100);
    for (size_t i = 0; i < s.nlat; i++) cr_expect(lat[i] >= 0 && lat[i] < 20000);
}

Test(loadgen, reads_any_header_case_and_pieces, .init = setup, .fini = teardown, .timeout = 30)
{
    loadgen_stats w = {0}, s = {0};
    run(ANS_LOWER_SPLIT, 5, 3, 0, &w, &s, NULL);
    cr_expect_eq(w.accepted + s.accepted, 15, "%s%s", w.first_err, s.first_err);
    cr_expect_eq(w.failed_conn + s.failed_conn + w.rejected + s.rejected, 0);
}

static void expect_refused(int mode, const char *why)
{
    loadgen_stats w = {0}, s = {0};
    run(mode, 5, 3, 0, &w, &s, NULL);
    cr_expect_eq(w.accepted, 0, "mode %d", mode);
    cr_expect_eq(w.failed_conn, 5, "mode %d: %llu failed", mode, (unsigned long long)w.failed_conn);
    cr_expect(strstr(w.first_err, why) != NULL, "mode %d: %s", mode, w.first_err);
    cr_expect_eq(s.done + s.accepted + s.failed_conn, 0, "a failed connection went on sending");
}

Test(loadgen, refuses_chunked_unsized_and_oversized_answers, .init = setup, .fini = teardown, .timeout = 30)
{
    expect_refused(ANS_CHUNKED, "chunked");
    expect_refused(ANS_NOLEN, "without Content-Length");
    expect_refused(ANS_BIG, "larger than");
}

Test(loadgen, bytes_after_the_answer_stop_the_connection, .init = setup, .fini = teardown, .timeout = 30)
{
    loadgen_stats w = {0}, s = {0};
    run(ANS_EXTRA, 5, 3, 0, &w, &s, NULL);
    cr_expect_eq(w.accepted, 5); /* the answer itself was whole */
    cr_expect_eq(w.failed_conn, 5);
    cr_expect(strstr(w.first_err, "after the answer") != NULL, "%s", w.first_err);
    cr_expect_eq(s.done, 0);
}

Test(loadgen, a_close_stops_the_connection_and_is_counted, .init = setup, .fini = teardown, .timeout = 30)
{
    loadgen_stats w = {0}, s = {0};
    run(ANS_CLOSE_HDR, 5, 3, 0, &w, &s, NULL);
    cr_expect_eq(w.accepted, 5);
    cr_expect_eq(w.failed_conn, 5);
    cr_expect(strstr(w.first_err, "Connection: close") != NULL, "%s", w.first_err);
    cr_expect_eq(s.done, 0);

    loadgen_stats w2 = {0}, s2 = {0};
    run(ANS_CLOSE_IDLE, 5, 3, 0, &w2, &s2, NULL);
    cr_expect_eq(w2.accepted, 5);
    cr_expect_eq(w2.failed_conn + s2.failed_conn, 5, "%llu + %llu", (unsigned long long)w2.failed_conn,
                 (unsigned long long)s2.failed_conn);
    cr_expect_eq(s2.accepted, 0);
    const char *e = w2.first_err[0] ? w2.first_err : s2.first_err;
    cr_expect(strstr(e, "closed by the node") != NULL, "%s", e);
}

Test(loadgen, other_answers_are_counted_once_and_stop, .init = setup, .fini = teardown, .timeout = 30)
{
    loadgen_stats w = {0}, s = {0};
    run(ANS_REJECT, 5, 3, 0, &w, &s, NULL);
    cr_expect_eq(w.rejected, 5);
    cr_expect_eq(w.accepted + w.failed_conn, 0, "%s", w.first_err);
    cr_expect(strncmp(w.first_err, "503: {\"error\":\"overloaded\"}", 27) == 0, "%s", w.first_err);
    cr_expect_eq(s.done, 0);
}

Test(loadgen, a_paced_phase_keeps_its_pace, .init = setup, .fini = teardown, .timeout = 30)
{
    /* 10 connections, 5 more requests each, one every 0.1 s each: about 0.4 s + the last answer */
    loadgen_stats w = {0}, s = {0};
    double el = 0;
    run(ANS_OK, 10, 6, 0.1, &w, &s, &el);
    cr_expect_eq(s.accepted, 50, "%s", s.first_err);
    cr_expect(el >= 0.45 && el < 10.0, "a paced phase took %.3f s", el); /* the bound above: a stall, not speed */
}

Test(loadgen, nothing_is_sent_after_the_phase_ends, .init = setup, .fini = teardown, .timeout = 30)
{
    /* two connections, one request every 0.4 s each (at 0 and 0.2 s, then 0.4 and 0.6 s) for
     * 0.7 s: two each at most, though eight more were due later */
    g_mode = ANS_OK;
    char err[256];
    loadgen *g = loadgen_new(g_port, "/", "text/plain", 2, 10, body, accepted, NULL, err);
    cr_assert(g, "%s", err);
    loadgen_stats s = {0};
    loadgen_phase(g, 10, 0.4, 0.7, &s);
    cr_expect_leq(s.accepted, 4, "%llu accepted", (unsigned long long)s.accepted);
    cr_expect_geq(s.accepted, 2, "%llu accepted", (unsigned long long)s.accepted);
    cr_expect_eq(s.accepted, s.done);
    loadgen_free(g);
}
