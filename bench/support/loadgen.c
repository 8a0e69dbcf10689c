/* loadgen.c — a lean HTTP/1.1 load generator on raw non-blocking sockets and epoll (see
 * loadgen.h). One thread; level-triggered epoll with EPOLLIN always armed (so that a close
 * or stray bytes between requests are seen) and EPOLLOUT only while a connect or a partial
 * send is pending. Per request: one send() of a buffer built from a fixed prefix, the
 * Content-Length and the body; one recv() for the usual answer that arrives whole. Due
 * times of a paced phase live in a binary min-heap; requests in flight in a list in send
 * order, whose head is the next to time out (one fixed timeout for all). */
#include "bench/support/loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX 8192         /* status line, headers and body of one answer */
#define TIMEOUT_S 60.0          /* from connect or send to the full answer */
#define EVENTS 256

enum { C_NEW, C_CONNECTING, C_SENDING, C_WAITING, C_IDLE, C_STOPPED };

typedef struct lconn {
    int fd, state;
    size_t id, sent;            /* index; requests sent so far */
    double due, sent_at;
    size_t heap_at;             /* position in the heap + 1 (0: not in it) */
    struct lconn *fl_prev, *fl_next; /* requests in flight, oldest first */
    int want_out;               /* EPOLLOUT armed */
    char *req;
    size_t req_len, req_off, req_cap;
    char *ans;                  /* ANSWER_MAX + 1 (NUL after the body) */
    size_t ans_len, head_len, need, scanned;
    int status, close_after;
} lconn;

struct loadgen {
    int ep;
    struct sockaddr_in addr;
    lconn *c;
    size_t n, per_conn;
    char prefix[512];
    size_t prefix_len;
    loadgen_body_fn body;
    loadgen_accept_fn accept;
    void *ctx;
    lconn **heap;
    size_t nheap;
    lconn *fl_head, *fl_tail;
    size_t inflight;
    /* the current phase */
    loadgen_stats *st;
    size_t upto;
    double interval, end;
    int sending; /* still before the phase's end */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- due heap */

static void heap_set(loadgen *g, size_t i, lconn *k)
{
    g->heap[i] = k;
    k->heap_at = i + 1;
}

static void heap_up(loadgen *g, size_t i)
{
    lconn *k = g->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (g->heap[p]->due <= k->due) break;
        heap_set(g, i, g->heap[p]);
        i = p;
    }
    heap_set(g, i, k);
}

static void heap_down(loadgen *g, size_t i)
{
    lconn *k = g->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        double best = k->due;
        if (l < g->nheap && g->heap[l]->due < best) m = l, best = g->heap[l]->due;
        if (l + 1 < g->nheap && g->heap[l + 1]->due < best) m = l + 1;
        if (m == i) break;
        heap_set(g, i, g->heap[m]);
        i = m;
    }
    heap_set(g, i, k);
}

static void heap_push(loadgen *g, lconn *k)
{
    if (k->heap_at) return;
    g->heap[g->nheap] = k;
    k->heap_at = ++g->nheap;
    heap_up(g, g->nheap - 1);
}

static void heap_remove(loadgen *g, lconn *k)
{
    if (!k->heap_at) return;
    size_t i = k->heap_at - 1;
    k->heap_at = 0;
    lconn *last = g->heap[--g->nheap];
    if (i == g->nheap) return;
    heap_set(g, i, last);
    heap_down(g, i);
    heap_up(g, last->heap_at - 1);
}

/* ---------------------------------------------------------------- in-flight list */

static void fl_add(loadgen *g, lconn *k)
{
    k->fl_next = NULL;
    k->fl_prev = g->fl_tail;
    if (g->fl_tail) g->fl_tail->fl_next = k;
    else g->fl_head = k;
    g->fl_tail = k;
    g->inflight++;
}

static void fl_remove(loadgen *g, lconn *k)
{
    if (k->fl_prev) k->fl_prev->fl_next = k->fl_next;
    else g->fl_head = k->fl_next;
    if (k->fl_next) k->fl_next->fl_prev = k->fl_prev;
    else g->fl_tail = k->fl_prev;
    k->fl_prev = k->fl_next = NULL;
    g->inflight--;
}

static int in_flight(const lconn *k)
{
    return k->state == C_CONNECTING || k->state == C_SENDING || k->state == C_WAITING;
}

/* ---------------------------------------------------------------- connection state */

static void note(loadgen *g, const char *fmt, const char *a, const char *b)
{
    if (g->st && !g->st->first_err[0]) snprintf(g->st->first_err, sizeof g->st->first_err, fmt, a, b);
}

static void stop(loadgen *g, lconn *k)
{
    if (in_flight(k)) fl_remove(g, k);
    heap_remove(g, k);
    if (k->fd >= 0) close(k->fd);
    k->fd = -1;
    k->state = C_STOPPED;
}

/* The connection failed: counted, and it sends no more (its sender cannot continue in order). */
static void fail(loadgen *g, lconn *k, const char *what, const char *detail)
{
    if (in_flight(k)) g->st->done++;
    g->st->failed_conn++;
    note(g, "connection: %s%s", what, detail);
    stop(g, k);
}

static int arm(loadgen *g, lconn *k, int out)
{
    if (k->want_out == out) return 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = k};
    if (epoll_ctl(g->ep, EPOLL_CTL_MOD, k->fd, &ev) != 0) return 0;
    k->want_out = out;
    return 1;
}

static void try_send(loadgen *g, lconn *k)
{
    while (k->req_off < k->req_len) {
        ssize_t w = send(k->fd, k->req + k->req_off, k->req_len - k->req_off, MSG_NOSIGNAL);
        if (w > 0) {
            k->req_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!arm(g, k, 1)) fail(g, k, "epoll_ctl: ", strerror(errno));
            return;
        }
        fail(g, k, "send: ", w < 0 ? strerror(errno) : "nothing sent");
        return;
    }
    k->state = C_WAITING;
    if (!arm(g, k, 0)) fail(g, k, "epoll_ctl: ", strerror(errno));
}

static int open_conn(loadgen *g, lconn *k)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(g, k, "socket: ", strerror(errno)), 0;
    k->fd = fd;
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return fail(g, k, "TCP_NODELAY: ", strerror(errno)), 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT, .data.ptr = k};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) return fail(g, k, "epoll_ctl: ", strerror(errno)), 0;
    k->want_out = 1;
    if (connect(fd, (const struct sockaddr *)&g->addr, sizeof g->addr) != 0 && errno != EINPROGRESS)
        return fail(g, k, "connect: ", strerror(errno)), 0;
    return 1;
}

/* Sends request k->sent of connection k (opening it first if it is new). */
static void send_next(loadgen *g, lconn *k)
{
    const uint8_t *body = NULL;
    size_t blen = g->body(g->ctx, k->id, k->sent, &body);
    size_t need = g->prefix_len + 32 + blen;
    if (need > k->req_cap) {
        char *p = realloc(k->req, need);
        if (!p) {
            fail(g, k, "out of memory", "");
            return;
        }
        k->req = p;
        k->req_cap = need;
    }
    memcpy(k->req, g->prefix, g->prefix_len);
    int h = snprintf(k->req + g->prefix_len, 32, "%zu\r\n\r\n", blen);
    memcpy(k->req + g->prefix_len + (size_t)h, body, blen);
    k->req_len = g->prefix_len + (size_t)h + blen;
    k->req_off = 0;
    k->ans_len = k->head_len = k->need = k->scanned = 0;
    k->status = 0;
    k->close_after = 0;
    k->sent++;
    if (g->interval > 0) k->due += g->interval;
    int fresh = k->state == C_NEW;
    k->state = fresh ? C_CONNECTING : C_SENDING;
    k->sent_at = now_s();
    fl_add(g, k);
    if (fresh) {
        if (!k->ans && !(k->ans = malloc(ANSWER_MAX + 1))) {
            fail(g, k, "out of memory", "");
            return;
        }
        open_conn(g, k); /* sends when the connection is up */
    } else {
        try_send(g, k);
    }
}

/* What connection k does after an answer or at the phase's start, at time t. */
static void schedule(loadgen *g, lconn *k, double t)
{
    if (k->state != C_NEW && k->state != C_IDLE) return;
    if (!g->sending || t >= g->end || k->sent >= g->upto || k->sent >= g->per_conn) return;
    if (g->interval <= 0 || k->due <= t) send_next(g, k);
    else heap_push(g, k);
}

/* ---------------------------------------------------------------- answers */

/* Parses the status line and headers of k->ans[0, head_len). Returns NULL or what is wrong. */
static const char *parse_head(lconn *k)
{
    const char *p = k->ans, *end = k->ans + k->head_len;
    if (k->head_len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return "the answer does not start with an HTTP/1.x status line";
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return "the answer's status code is not three digits";
    k->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (k->status < 200) return "an interim (1xx) answer, which this generator does not expect";
    if (p[7] == '0') k->close_after = 1; /* HTTP/1.0: closed after the answer unless kept alive */
    int have_len = 0;
    size_t len = 0;
    const char *line = memchr(p, '\n', (size_t)(end - p));
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) break;
        const char *e = eol;
        if (e > line && e[-1] == '\r') e--;
        if (e == line) break; /* the empty line */
        const char *colon = memchr(line, ':', (size_t)(e - line));
        if (!colon) return "a header line without a colon";
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < e && (*v == ' ' || *v == '\t')) v++;
        const char *ve = e;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            size_t x = 0;
            if (v == ve) return "an empty Content-Length";
            for (const char *q = v; q < ve; q++) {
                if (*q < '0' || *q > '9' || x > (size_t)ANSWER_MAX) return "a Content-Length that is not a small number";
                x = x * 10 + (size_t)(*q - '0');
            }
            if (have_len && x != len) return "two different Content-Length headers";
            have_len = 1;
            len = x;
        } else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            return "a Transfer-Encoding (chunked) answer, which this generator does not read: it needs Content-Length";
        } else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0) {
            for (const char *q = v; q + 5 <= ve; q++)
                if (strncasecmp(q, "close", 5) == 0) k->close_after = 1;
            for (const char *q = v; q + 10 <= ve; q++)
                if (strncasecmp(q, "keep-alive", 10) == 0 && p[7] == '0') k->close_after = 0;
        }
        line = eol;
    }
    if (!have_len) {
        if (k->status == 204 || k->status == 304) len = 0;
        else return "an answer without Content-Length, which this generator does not read";
    }
    if (k->head_len + len > ANSWER_MAX) return "an answer larger than the generator's 8 KiB buffer";
    k->need = k->head_len + len;
    return NULL;
}

/* A full answer is in k->ans[0, need). */
static void answered(loadgen *g, lconn *k, double t)
{
    loadgen_stats *st = g->st;
    const char *b = k->ans + k->head_len;
    size_t blen = k->need - k->head_len;
    k->ans[k->need] = '\0';
    fl_remove(g, k);
    k->state = C_IDLE;
    st->done++;
    int sent_whole = k->req_off == k->req_len;
    if (g->accept(k->status, b, blen)) {
        st->accepted++;
        if (st->lat_ms && st->nlat < st->caplat) st->lat_ms[st->nlat++] = (t - k->sent_at) * 1e3;
        if (k->close_after) {
            st->failed_conn++;
            note(g, "connection: %s%s", "the node closed it after an answer (Connection: close)", "");
            stop(g, k);
            return;
        }
    } else {
        st->rejected++;
        if (!st->first_err[0])
            snprintf(st->first_err, sizeof st->first_err, "%d: %.200s", k->status, b);
        stop(g, k); /* its sender cannot continue in order */
        return;
    }
    if (k->ans_len > k->need) {
        st->failed_conn++;
        note(g, "connection: %s%s", "the node sent bytes after the answer's Content-Length", "");
        stop(g, k);
        return;
    }
    if (!sent_whole) {
        st->failed_conn++;
        note(g, "connection: %s%s", "the node answered before the request was sent whole", "");
        stop(g, k);
        return;
    }
    schedule(g, k, t);
}

static void readable(loadgen *g, lconn *k, double t)
{
    for (;;) {
        if (k->ans_len == ANSWER_MAX) {
            if (k->state == C_IDLE) fail(g, k, "the node sent bytes between requests", "");
            else fail(g, k, "an answer larger than the generator's 8 KiB buffer", "");
            return;
        }
        ssize_t r = recv(k->fd, k->ans + k->ans_len, ANSWER_MAX - k->ans_len, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            fail(g, k, "recv: ", strerror(errno));
            return;
        }
        if (r == 0) {
            if (k->state == C_IDLE) {
                /* closed between requests: its meter cannot go on in order on this connection */
                g->st->failed_conn++;
                note(g, "connection: %s%s", "closed by the node between requests", "");
                stop(g, k);
            } else {
                fail(g, k, "closed by the node before a full answer", "");
            }
            return;
        }
        if (k->state == C_IDLE) {
            fail(g, k, "the node sent bytes between requests", "");
            return;
        }
        k->ans_len += (size_t)r;
        if (!k->head_len) {
            size_t from = k->scanned > 3 ? k->scanned - 3 : 0;
            const char *e = memmem(k->ans + from, k->ans_len - from, "\r\n\r\n", 4);
            k->scanned = k->ans_len;
            if (!e) continue;
            k->head_len = (size_t)(e - k->ans) + 4;
            const char *bad = parse_head(k);
            if (bad) {
                fail(g, k, bad, "");
                return;
            }
        }
        if (k->ans_len >= k->need) {
            answered(g, k, t);
            return;
        }
    }
}

static void connected(loadgen *g, lconn *k)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err) {
        fail(g, k, "connect: ", strerror(err));
        return;
    }
    k->state = C_SENDING;
    try_send(g, k);
}

static void on_event(loadgen *g, lconn *k, uint32_t ev)
{
    double t = now_s();
    if (k->state == C_STOPPED) return;
    if (k->state == C_CONNECTING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        connected(g, k);
        if (k->state == C_STOPPED) return;
    } else if (k->state == C_SENDING && (ev & EPOLLOUT)) {
        try_send(g, k);
        if (k->state == C_STOPPED) return;
    }
    if (ev & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fail(g, k, "socket: ", strerror(err));
            return;
        }
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) readable(g, k, t);
}

/* ---------------------------------------------------------------- the public side */

loadgen *loadgen_new(unsigned port, const char *path, const char *content_type, size_t nconn, size_t per_conn,
                     loadgen_body_fn body, loadgen_accept_fn accept, void *ctx, char err[256])
{
    loadgen *g = calloc(1, sizeof *g);
    if (!g || !nconn || port == 0 || port > 65535) {
        snprintf(err, 256, "loadgen: %s", g ? "no connections or a bad port" : "out of memory");
        free(g);
        return NULL;
    }
    g->ep = -1;
    g->n = nconn;
    g->per_conn = per_conn;
    g->body = body;
    g->accept = accept;
    g->ctx = ctx;
    g->addr.sin_family = AF_INET;
    g->addr.sin_port = htons((uint16_t)port);
    g->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int pl = snprintf(g->prefix, sizeof g->prefix,
                      "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: %s\r\nContent-Length: ", path, port,
                      content_type);
    if (pl < 0 || (size_t)pl >= sizeof g->prefix) {
        snprintf(err, 256, "loadgen: path or content type too long");
        free(g);
        return NULL;
    }
    g->prefix_len = (size_t)pl;
    /* one descriptor per connection, and some for the rest of the process */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nconn + 256) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > nconn + 256 ? nconn + 256 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g->c = calloc(nconn, sizeof *g->c);
    g->heap = calloc(nconn, sizeof *g->heap);
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g->c || !g->heap || g->ep < 0) {
        snprintf(err, 256, "loadgen: %s", g->ep < 0 ? strerror(errno) : "out of memory");
        loadgen_free(g);
        return NULL;
    }
    for (size_t i = 0; i < nconn; i++) {
        g->c[i].fd = -1;
        g->c[i].id = i;
        g->c[i].state = C_NEW;
    }
    return g;
}

double loadgen_phase(loadgen *g, size_t upto, double interval, double seconds, loadgen_stats *st)
{
    double start = now_s();
    g->st = st;
    g->upto = upto;
    g->interval = interval;
    g->end = start + seconds;
    g->sending = 1;
    struct epoll_event evs[EVENTS];
    /* first what happened to idle connections since the last phase (a close, stray bytes) */
    for (int ne; (ne = epoll_wait(g->ep, evs, EVENTS, 0)) > 0;) {
        for (int i = 0; i < ne; i++) on_event(g, evs[i].data.ptr, evs[i].events);
        if (ne < EVENTS) break;
    }
    for (size_t i = 0; i < g->n; i++) {
        g->c[i].due = interval > 0 ? start + (double)i / (double)g->n * interval : start;
        schedule(g, &g->c[i], start);
    }
    for (;;) {
        double t = now_s();
        if (g->sending && t >= g->end) {
            g->sending = 0;
            while (g->nheap) heap_remove(g, g->heap[0]);
        }
        while (g->nheap && g->heap[0]->due <= t) {
            lconn *k = g->heap[0];
            heap_remove(g, k);
            send_next(g, k);
        }
        while (g->fl_head && t - g->fl_head->sent_at >= TIMEOUT_S)
            fail(g, g->fl_head, "no full answer within 60 s", "");
        if (!g->inflight && !g->nheap) break;
        /* sleep until the next due time, the oldest request's timeout or the phase's end */
        double until = g->fl_head ? g->fl_head->sent_at + TIMEOUT_S : t + TIMEOUT_S;
        if (g->nheap && g->heap[0]->due < until) until = g->heap[0]->due;
        if (g->sending && g->nheap && g->end < until) until = g->end;
        double wait_ms = (until - t) * 1e3;
        int timeout = wait_ms <= 0 ? 0 : wait_ms >= 60000 ? 60000 : (int)wait_ms + 1;
        int ne = epoll_wait(g->ep, evs, EVENTS, timeout);
        if (ne < 0) {
            if (errno == EINTR) continue;
            snprintf(st->first_err, sizeof st->first_err, "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < ne; i++) on_event(g, evs[i].data.ptr, evs[i].events);
    }
    g->st = NULL;
    return now_s() - start;
}

void loadgen_free(loadgen *g)
{
    if (!g) return;
    for (size_t i = 0; g->c && i < g->n; i++) {
        if (g->c[i].fd >= 0) close(g->c[i].fd);
        free(g->c[i].req);
        free(g->c[i].ans);
    }
    if (g->ep >= 0) close(g->ep);
    free(g->c);
    free(g->heap);
    free(g);
}
