/* test_node_limits.c — a real wn-node on 127.0.0.1 against many idle, trickling and
 * surplus sockets: a good client's POST /v1/readings and GET /v1/checkpoint are answered
 * within 3 s while 1,000 slow sockets are open; a client that never finishes its request
 * is cut after --timeout-ms; more than --max-per-ip connections from one address are
 * refused while another address is served; connections opened above 7/8 of
 * --max-connections are answered 503 with Retry-After; and with a low open-file limit the
 * node stays responsive, idle on the CPU and quiet in its log under a flood, also when
 * accept() itself runs out of descriptors.
 * Every wait is bounded; sockets and the node are closed by the test. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/procstat.h"
#include "tests/support/testutil.h"

#define MAX_SOCKS 1100

static wn_test_node N;
static char *tmp;
static wn_test_feed F;
static int socks[MAX_SOCKS];
static int nsocks;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void setup(void)
{
    /* this process holds over a thousand sockets */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    signal(SIGPIPE, SIG_IGN);
    tmp = wn_test_tmpdir("limits");
    wn_test_node_init(&N, tmp);
    cr_assert(wn_test_feed_init(&F, 1));
    nsocks = 0;
}

static void teardown(void)
{
    /* stopped with its connections still open: it must stop cleanly all the same */
    int running = N.pid > 0;
    int st = wn_test_node_stop(&N, SIGTERM);
    if (running) cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wn-node did not stop cleanly (%d, see %s)", st, N.log);
    for (int i = 0; i < nsocks; i++) close(socks[i]);
    nsocks = 0;
    wn_test_feed_free(&F);
    wn_test_rmtree(tmp);
    free(tmp);
}

static void start_node(const char *const *extra)
{
    const char *args[24];
    int a = 0;
    args[a++] = "--registrar";
    args[a++] = F.reg_hex;
    args[a++] = "--checkpoint-ms";
    args[a++] = "100";
    for (int i = 0; extra && extra[i] && a < 23; i++) args[a++] = extra[i];
    args[a] = NULL;
    cr_assert(wn_test_node_start(&N, args), "wn-node did not start (see %s)", N.log);
}

/* A TCP connection from src (e.g. "127.0.0.2"; NULL: any) to the node, connected (the
 * kernel completes it even before the node accepts). Returns: the socket, or -1. */
static int dial(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (src) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &sa.sin_addr);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)N.port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens n idle connections from src, kept in socks[]. */
static void open_idle(int n, const char *src)
{
    for (int i = 0; i < n; i++) {
        cr_assert_lt(nsocks, MAX_SOCKS);
        int fd = dial(src);
        cr_assert_geq(fd, 0, "connection %d: %s", i, strerror(errno));
        socks[nsocks++] = fd;
    }
}

/* Sends a whole request on fd and reads the answer until the peer closes or timeout_ms
 * pass. Out: buf (NUL-terminated). Returns: the HTTP status, 0 if no status line came. */
static int raw_request(int fd, const char *req, char *buf, size_t cap, unsigned timeout_ms)
{
    size_t len = strlen(req), off = 0;
    buf[0] = '\0';
    while (off < len) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    size_t got = 0;
    uint64_t until = mono_ms() + timeout_ms;
    while (got + 1 < cap) {
        uint64_t now = mono_ms();
        if (now >= until) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(until - now)) <= 0) break;
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        buf[got] = '\0';
        const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        unsigned long n;
        if (end && cl && cl < end && sscanf(cl + 16, "%lu", &n) == 1 && got >= (size_t)(end + 4 - buf) + n) break;
    }
    buf[got] = '\0';
    int status = 0;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) status = 0;
    return status;
}

static int get_checkpoint_from(const char *src, char *buf, size_t cap)
{
    int fd = dial(src);
    if (fd < 0) return -1;
    int st = raw_request(fd, "GET /v1/checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", buf, cap,
                         3000);
    close(fd);
    return st;
}

/* Waits (up to 10 s) until the node holds at least n connections by its own gauge,
 * wn_http_connections, asked from 127.0.0.2 (that request is one of them). Connections
 * still in the listen queue are not the node's yet: a test of a cap must not race them. */
static int wait_node_holds(unsigned long n)
{
    static char buf[1 << 16];
    for (int i = 0; i < 100; i++) {
        int fd = dial("127.0.0.2");
        if (fd >= 0) {
            int st = raw_request(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", buf,
                                 sizeof buf, 3000);
            close(fd);
            const char *m = st == 200 ? strstr(buf, "\nwn_http_connections ") : NULL;
            unsigned long have = 0;
            if (m && sscanf(m, "\nwn_http_connections %lu", &have) == 1 && have >= n) return 1;
        }
        sleep_ms(100);
    }
    return 0;
}

/* Waits up to timeout_ms for the peer to close fd (EOF or reset). Returns: ms waited, or
 * -1 if it stayed open. Writes one byte of slow_header every step_ms meanwhile (NULL:
 * writes nothing). */
static long wait_closed(int fd, const char *slow_header, unsigned step_ms, unsigned timeout_ms)
{
    uint64_t t0 = mono_ms();
    size_t i = 0, n = slow_header ? strlen(slow_header) : 0;
    while (mono_ms() - t0 < timeout_ms) {
        if (slow_header) {
            ssize_t w = send(fd, slow_header + (i++ % n), 1, MSG_NOSIGNAL);
            if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return (long)(mono_ms() - t0);
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)step_ms) > 0) {
            char b[512];
            ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return (long)(mono_ms() - t0);
        }
    }
    return -1;
}

/* How many sockets the node process holds. */
static int node_sockets(void)
{
    char path[64], link[160], target[128];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)N.pid);
    int n = 0;
    for (int fd = 0; fd < 70000; fd++) {
        snprintf(link, sizeof link, "%s/%d", path, fd);
        ssize_t l = readlink(link, target, sizeof target - 1);
        if (l <= 0) continue;
        target[l] = '\0';
        if (strncmp(target, "socket:", 7) == 0) n++;
    }
    return n;
}

/* The node's CPU time (user + system) in ms. */
static long node_cpu_ms(void)
{
    char path[64];
    wn_procstat ps;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)N.pid);
    return wn_procstat_read(path, &ps) ? (long)(ps.cpu_s * 1000) : -1;
}

static long log_bytes(void)
{
    struct stat st;
    return stat(N.log, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- 1,000 slow sockets and a good client ---- */

static volatile int trickle_stop;
static int trickle_from, trickle_to;

/* Sends one more header byte on each trickling socket every 500 ms. */
static void *trickler(void *arg)
{
    (void)arg;
    static const char hdr[] = "X-Slow-Header-That-Never-Ends: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    size_t i = 0;
    while (!trickle_stop) {
        for (int k = trickle_from; k < trickle_to; k++) send(socks[k], hdr + (i % (sizeof hdr - 1)), 1, MSG_NOSIGNAL);
        i++;
        for (int t = 0; t < 10 && !trickle_stop; t++) sleep_ms(50);
    }
    return NULL;
}

Test(limits, good_client_served_while_1000_sockets_idle_or_trickle, .init = setup, .fini = teardown, .timeout = 120)
{
    start_node((const char *const[]){"--timeout-ms", "60000", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_feed_readings(&F, N.url, 1), "%s", F.err);

    open_idle(600, NULL); /* connect and send nothing */
    trickle_from = nsocks;
    open_idle(400, NULL); /* a request line, then a header byte every 500 ms */
    trickle_to = nsocks;
    for (int k = trickle_from; k < trickle_to; k++)
        cr_assert_eq(send(socks[k], "GET /v1/checkpoint HTTP/1.1\r\n", 29, MSG_NOSIGNAL), 29);
    trickle_stop = 0;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, trickler, NULL), 0);

    /* the node has taken the connections in (not just the kernel's backlog) */
    int held = 0;
    for (int i = 0; i < 100 && (held = node_sockets()) < 1000; i++) sleep_ms(50);
    cr_expect_geq(held, 1000, "the node holds only %d sockets", held);

    for (int round = 0; round < 3; round++) {
        uint64_t t0 = mono_ms();
        int ok = wn_test_feed_readings(&F, N.url, 1);
        uint64_t post_ms = mono_ms() - t0;
        cr_expect(ok, "POST /v1/readings with 1,000 slow sockets open: %s", F.err);
        cr_expect_lt(post_ms, 3000, "POST /v1/readings took %llu ms", (unsigned long long)post_ms);

        t0 = mono_ms();
        wn_test_resp r;
        int answered = wn_test_http(N.url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r);
        uint64_t get_ms = mono_ms() - t0;
        cr_expect(answered && r.status == 200, "GET /v1/checkpoint: %ld", r.status);
        cr_expect_lt(get_ms, 3000, "GET /v1/checkpoint took %llu ms", (unsigned long long)get_ms);
        wn_test_resp_free(&r);
        fprintf(stderr, "limits: with %d slow sockets open: POST %llu ms, GET %llu ms\n", held,
                (unsigned long long)post_ms, (unsigned long long)get_ms);
    }
    trickle_stop = 1;
    pthread_join(th, NULL);
}

/* ---- deadlines ---- */

Test(limits, trickling_and_idle_clients_cut_after_timeout, .init = setup, .fini = teardown, .timeout = 60)
{
    start_node((const char *const[]){"--timeout-ms", "1500", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_wait_checkpoint(N.url, 1, NULL));
    /* a header byte every 200 ms: never idle, never done */
    int slow = dial(NULL);
    cr_assert_geq(slow, 0);
    cr_assert_eq(send(slow, "GET /v1/checkpoint HTTP/1.1\r\n", 29, MSG_NOSIGNAL), 29);
    int idle = dial(NULL);
    cr_assert_geq(idle, 0);
    /* a body that trickles after complete headers */
    int body = dial(NULL);
    cr_assert_geq(body, 0);
    const char *h = "POST /v1/readings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    cr_assert_eq(send(body, h, strlen(h), MSG_NOSIGNAL), (ssize_t)strlen(h));

    long t_slow = wait_closed(slow, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 200, 6000);
    cr_expect(t_slow >= 1000 && t_slow <= 4000, "the trickling client was cut after %ld ms (want ~1500)", t_slow);
    long t_body = wait_closed(body, "{\"readings\":[ ", 200, 3000);
    cr_expect(t_body >= 0, "the trickling body was not cut");
    long t_idle = wait_closed(idle, NULL, 100, 3000);
    cr_expect(t_idle >= 0, "the idle connection was not cut");
    close(slow);
    close(idle);
    close(body);

    /* a client that sends its request in time is answered, and a kept-alive connection
     * may send another request after its answer */
    int good = dial(NULL);
    cr_assert_geq(good, 0);
    char buf[8192];
    for (int i = 0; i < 2; i++) {
        sleep_ms(800); /* less than the timeout, counted from the previous answer */
        int st = raw_request(good, "GET /v1/checkpoint HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf, 1000);
        cr_expect_eq(st, 200, "request %d on a kept-alive connection: %.200s", i, buf);
    }
    close(good);
    char *log = wn_test_read_file(N.log, NULL);
    cr_expect(log && strstr(log, "connections: cut"), "the cut is not logged");
    free(log);
    wn_test_resp r;
    cr_assert(wn_test_http(N.url, "GET", "/metrics", NULL, NULL, 0, &r));
    if (r.status == 200) { /* (a node that asks a token for /metrics is not this test's concern) */
        const char *m = strstr((char *)r.body, "\nwn_http_connections_cut_total ");
        unsigned long cut = 0;
        cr_expect(m && sscanf(m, "\nwn_http_connections_cut_total %lu", &cut) == 1 && cut >= 3,
                  "wn_http_connections_cut_total is %lu, want >= 3", cut);
        cr_expect(strstr((char *)r.body, "\nwn_http_connections "), "no wn_http_connections gauge");
    }
    wn_test_resp_free(&r);
}

/* ---- caps ---- */

Test(limits, per_address_cap_refuses_one_address_serves_another, .init = setup, .fini = teardown, .timeout = 60)
{
    start_node((const char *const[]){"--max-per-ip", "5", "--timeout-ms", "30000", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_wait_checkpoint(N.url, 1, NULL));
    /* the capped address is 127.0.0.3, which nothing else of the test uses (the feeder's
     * kept-alive libcurl connection comes from 127.0.0.1 and would count) */
    open_idle(5, "127.0.0.3");
    cr_assert(wait_node_holds(6), "the node never held the five idle connections");
    char buf[8192];
    int st = get_checkpoint_from("127.0.0.3", buf, sizeof buf);
    cr_expect(st != 200, "a sixth connection from 127.0.0.3 was served: %.200s", buf);
    st = get_checkpoint_from("127.0.0.2", buf, sizeof buf);
    cr_expect_eq(st, 200, "127.0.0.2 was not served: %.200s", buf);
    /* one of 127.0.0.3's closes: it is served again */
    close(socks[--nsocks]);
    sleep_ms(300);
    st = get_checkpoint_from("127.0.0.3", buf, sizeof buf);
    cr_expect_eq(st, 200, "127.0.0.3 below its cap was not served: %.200s", buf);
}

Test(limits, above_soft_limit_503_with_retry_after, .init = setup, .fini = teardown, .timeout = 60)
{
    /* 40 connections at most; those opened above 35 (7/8) are answered 503 */
    start_node((const char *const[]){"--max-connections", "40", "--max-per-ip", "0", "--timeout-ms", "30000", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_wait_checkpoint(N.url, 1, NULL));
    char buf[8192];
    open_idle(35, NULL);
    sleep_ms(300);
    int st = get_checkpoint_from(NULL, buf, sizeof buf);
    cr_expect_eq(st, 503, "above the soft limit: %.300s", buf);
    cr_expect(strstr(buf, "Retry-After: 5") != NULL, "no Retry-After: %.300s", buf);
    cr_expect(strstr(buf, "\"error\":\"overloaded\"") != NULL, "no overloaded error: %.300s", buf);
    /* room again once some leave */
    for (int i = 0; i < 5; i++) close(socks[--nsocks]);
    sleep_ms(300);
    st = get_checkpoint_from(NULL, buf, sizeof buf);
    cr_expect_eq(st, 200, "below the soft limit again: %.300s", buf);
    /* the hard cap: more than 40 are not taken in; the node still answers once they go */
    open_idle(40, NULL);
    sleep_ms(300);
    cr_expect_leq(node_sockets(), 40 + 1, "the node holds more than --max-connections sockets");
    for (int i = 0; i < 40; i++) close(socks[--nsocks]);
}

/* ---- the open-file limit ---- */

Test(limits, low_fd_limit_flood_keeps_node_responsive_quiet_and_idle, .init = setup, .fini = teardown, .timeout = 120)
{
    N.nofile = 256; /* soft and hard: the node cannot raise it */
    start_node((const char *const[]){"--max-connections", "5000", "--timeout-ms", "3000", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_wait_checkpoint(N.url, 1, NULL));
    char *log = wn_test_read_file(N.log, NULL);
    cr_expect(log && strstr(log, "lowered to"), "the cap was not fitted to the open-file limit: %s", log ? log : "");
    free(log);
    long cpu0 = node_cpu_ms(), log0 = log_bytes();
    uint64_t t0 = mono_ms();
    open_idle(1000, NULL); /* far more than 256 descriptors */
    int held = 0;
    for (int i = 0; i < 40 && held < 100; i++) {
        sleep_ms(50);
        held = node_sockets();
    }
    cr_expect_geq(held, 100, "the node took in only %d of the flood", held);
    /* the flood stays for 8 s (the node cuts and takes in more meanwhile) */
    while (mono_ms() - t0 < 8000) sleep_ms(100);
    long cpu = node_cpu_ms() - cpu0, logged = log_bytes() - log0;
    uint64_t wall = mono_ms() - t0;
    fprintf(stderr, "limits: flood at the fd limit: node CPU %ld ms in %llu ms, log +%ld bytes\n", cpu,
            (unsigned long long)wall, logged);
    cr_expect_lt(cpu, (long)wall / 10, "the node used %ld ms of CPU in %llu ms", cpu, (unsigned long long)wall);
    cr_expect_lt(logged, 64 * 1024, "the node logged %ld bytes in 8 s", logged);
    for (int i = 0; i < nsocks; i++) close(socks[i]);
    nsocks = 0;
    /* and it serves at once when the flood is gone */
    sleep_ms(200);
    uint64_t t1 = mono_ms();
    char buf[8192];
    int st = get_checkpoint_from(NULL, buf, sizeof buf);
    cr_expect_eq(st, 200, "after the flood: %.200s", buf);
    cr_expect_lt(mono_ms() - t1, 3000);
}

Test(limits, fd_limit_lowered_while_running_accept_backs_off, .init = setup, .fini = teardown, .timeout = 120)
{
    /* the caps were sized for a large limit; then descriptors run out under the node
     * (here: its limit is cut to what it holds plus a few), so accept() itself fails */
    start_node((const char *const[]){"--max-connections", "5000", "--timeout-ms", "4000", NULL});
    cr_assert(wn_test_feed_enrol(&F, N.url), "%s", F.err);
    cr_assert(wn_test_wait_checkpoint(N.url, 1, NULL));
    int held0 = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)N.pid);
    for (int fd = 0; fd < 4096; fd++) {
        char link[160], target[128];
        snprintf(link, sizeof link, "%s/%d", path, fd);
        if (readlink(link, target, sizeof target) > 0) held0 = fd + 1;
    }
    struct rlimit low = {(rlim_t)held0 + 8, (rlim_t)held0 + 8};
    cr_assert_eq(prlimit(N.pid, RLIMIT_NOFILE, &low, NULL), 0, "prlimit: %s", strerror(errno));
    long cpu0 = node_cpu_ms(), log0 = log_bytes();
    uint64_t t0 = mono_ms();
    open_idle(300, NULL);
    while (mono_ms() - t0 < 8000) sleep_ms(100);
    long cpu = node_cpu_ms() - cpu0, logged = log_bytes() - log0;
    uint64_t wall = mono_ms() - t0;
    fprintf(stderr, "limits: accept at EMFILE: node CPU %ld ms in %llu ms, log +%ld bytes\n", cpu,
            (unsigned long long)wall, logged);
    cr_expect_lt(cpu, (long)wall / 10, "the node used %ld ms of CPU in %llu ms", cpu, (unsigned long long)wall);
    cr_expect_lt(logged, 64 * 1024, "the node logged %ld bytes in 8 s", logged);
    for (int i = 0; i < nsocks; i++) close(socks[i]);
    nsocks = 0;
    sleep_ms(500);
    char buf[8192];
    int st = get_checkpoint_from(NULL, buf, sizeof buf);
    cr_expect_eq(st, 200, "after the flood: %.200s", buf);
}
