/* server.c — libmicrohttpd glue: listen, route (parse.c), accumulate request bodies up to
 * --max-body (answering 413 as soon as a body is known to be too large, without reading
 * the rest), dispatch to the handlers (ingest.c, enrol.c, query.c) and send what they
 * return. Every answer is counted in the metrics by status.
 *
 * libmicrohttpd runs in epoll mode with a small pool of threads, each serving many
 * connections. A POST /v1/readings waiting for its group commit does not hold its thread:
 * the connection is suspended (MHD_suspend_connection) once the readings are queued at
 * the committer, and resumed from the committer's thread when they are decided; the
 * receipts are then signed and sent on the pool thread. Handlers that may wait otherwise
 * (enrolments and certificates at the committer, the bureau's settings on disk, proof
 * bundles) run on a few worker threads, their connections suspended meanwhile.
 * Connection caps and deadlines are conngate.c's. */
#include "node/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/authorize.h"
#include "node/certs/certs.h"
#include "node/conngate.h"
#include "node/http/errors.h"
#include "node/http/web.h"
#include "node/ingest/ingest.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/monitor/monitor_api.h"
#include "node/monitor/monitor_export.h"
#include "node/node.h"
#include "node/query/bundle.h"
#include "node/certs/calibrations.h"
#include "node/certs/enterprises.h"
#include "node/query/query.h"
#include "node/query/tiles.h"

#define POOL_MIN 4          /* event threads, at least */
#define POOL_MAX 32
#define RESERVE_FDS 64      /* descriptors kept for the node beyond its pool's and connections' */
#define RETRY_AFTER_S "5"   /* what a 503 for too many connections asks the client to wait */
#define STOP_WAIT_MS 120000 /* how long stopping waits for requests at the committer */
#define ACCEPT_BACKOFF_MS 100 /* a pool thread's pause when accept() finds no descriptor */
#define CONN_MEMORY 16384   /* libmicrohttpd's buffer per connection (headers, reads; default 32 KiB),
                             * cleared after every request: half of it is less to clear */
#define WORKERS 4           /* threads for handlers that may wait (the committer, the disk, long work) */

struct wn_server {
    struct MHD_Daemon *daemon;
    wn_node *node;
    size_t max_body;
    wn_gate *gate;
    pthread_mutex_t mu;
    int stopping;           /* readings are then committed on the pool thread, not suspended */
    unsigned waiting;       /* requests queued at the committer or the workers, not yet answered */
    pthread_cond_t work;    /* the workers' queue (mu) */
    struct request *qhead, *qtail;
    pthread_t workers[WORKERS];
    unsigned nworkers;
    int workers_stop;
};

/* A readings request's way through the committer (mu guards it while it is queued). */
enum { RQ_NONE, RQ_QUEUED, RQ_SUSPENDED, RQ_DECIDED };

typedef struct request {
    wn_route_match m;
    char *body;
    size_t len, cap;
    int answered;   /* a response was queued before the body was complete */
    int oversized;  /* a body without Content-Length passed the limit: drained, then 413 */
    size_t drained; /* bytes discarded since */
    wn_principal who; /* who asks (access.h) */
    wn_gate_conn *gc; /* its connection's record at the gate */
    int state;        /* RQ_* */
    wn_ingest_pending *pending;
    wn_server *s;
    struct MHD_Connection *conn;
    int deferred;          /* handed to a worker (may_wait) */
    const char *ct;        /* its Content-Type, for the worker */
    wn_response resp;      /* the worker's answer */
    struct request *qnext;
} request;

static enum MHD_Result send_response_ex(struct MHD_Connection *conn, wn_response *r, int overloaded)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        wn_response_free(r);
        return MHD_NO;
    }
    r->body = NULL; /* now owned by MHD */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache ? r->cache : "no-store");
    if (r->status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"waternotary\"");
    if (overloaded) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result ok = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) wn_metrics_http(r->status);
    return ok;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, wn_response *r)
{
    return send_response_ex(conn, r, 0);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int err, const char *detail)
{
    wn_response r = {0};
    wn_reply_error(&r, err, detail);
    return send_response(conn, &r);
}

static const char *get_arg(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result too_large(wn_server *s, struct MHD_Connection *conn)
{
    char d[WN_DETAIL_MAX];
    snprintf(d, sizeof d, "the body is larger than this node's limit of %zu bytes", s->max_body);
    return send_error(conn, WN_NE_BODY_TOO_LARGE, d);
}

/* First call for a request: route it, and refuse what can be refused before any body. */
static enum MHD_Result begin(wn_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                             request *rq)
{
    char d[WN_DETAIL_MAX] = "";
    int rc = wn_route_parse(method, url, &rq->m, d, sizeof d);
    if (rc != WN_NE_OK) {
        rq->answered = 1;
        return send_error(conn, rc, d);
    }
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    rc = wn_access_check(s->node, &rq->m, get_arg, conn, authz, &rq->who, d, sizeof d);
    if (rc != WN_NE_OK) {
        rq->answered = 1;
        return send_error(conn, rc, d);
    }
    if (!rq->m.is_post) return MHD_YES;
    int kind;
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (wn_parse_media_type(ct, rq->m.route == WN_ROUTE_READINGS, &kind) != WN_NE_OK) {
        rq->answered = 1;
        return send_error(conn, WN_NE_UNSUPPORTED_MEDIA,
                          rq->m.route == WN_ROUTE_READINGS ? "send application/json or " WN_BINARY_TYPE
                                                           : "send application/json");
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t n;
    if (cl && wn_parse_u64(cl, UINT64_MAX, &n) && n > s->max_body) {
        rq->answered = 1;
        return too_large(s, conn);
    }
    return MHD_YES;
}

static enum MHD_Result accumulate(wn_server *s, struct MHD_Connection *conn, request *rq, const char *data,
                                  size_t *size)
{
    size_t n = *size;
    *size = 0;
    (void)conn;
    if (rq->answered || !rq->m.is_post) return MHD_YES; /* discard */
    if (rq->oversized || n > s->max_body - rq->len) {
        /* A body without Content-Length grew too large. libmicrohttpd cannot answer in the
         * middle of a body, so the rest is drained without storing it and answered 413; if
         * it goes on for more than another max-body, the connection is dropped. */
        if (!rq->oversized) {
            free(rq->body);
            rq->body = NULL;
            rq->len = rq->cap = 0;
            rq->oversized = 1;
        }
        rq->drained += n;
        return rq->drained > s->max_body ? MHD_NO : MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1) cap *= 2;
        char *p = realloc(rq->body, cap);
        if (!p) return MHD_NO;
        rq->body = p;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result answer(struct MHD_Connection *conn, request *rq, wn_response *r)
{
    if (r->status >= 500) wn_log("http: %s answered %u: %.300s", rq->m.is_post ? "POST" : "GET", r->status, r->body ? r->body : "");
    return send_response(conn, r);
}

/* On the committer's thread: the readings of rq are decided. */
static void readings_decided(void *ctx)
{
    request *rq = ctx;
    pthread_mutex_lock(&rq->s->mu);
    int suspended = rq->state == RQ_SUSPENDED;
    rq->state = RQ_DECIDED;
    pthread_mutex_unlock(&rq->s->mu);
    if (suspended) MHD_resume_connection(rq->conn); /* the handler is called again: finish_readings */
}

static enum MHD_Result finish_readings(wn_server *s, struct MHD_Connection *conn, request *rq)
{
    wn_response r = {0};
    wn_ingest_readings_finish(rq->pending, &r);
    rq->pending = NULL;
    rq->state = RQ_NONE;
    pthread_mutex_lock(&s->mu);
    s->waiting--;
    pthread_mutex_unlock(&s->mu);
    return answer(conn, rq, &r);
}

/* POST /v1/readings: queued at the committer with the connection suspended meanwhile,
 * unless the node is stopping (then this thread waits for the commit). */
static enum MHD_Result readings(wn_server *s, struct MHD_Connection *conn, request *rq, const char *ct,
                                const char *body, wn_response *r)
{
    pthread_mutex_lock(&s->mu);
    int queue = !s->stopping;
    if (queue) s->waiting++;
    pthread_mutex_unlock(&s->mu);
    if (!queue) {
        wn_ingest_readings(s->node, ct, body, rq->len, r);
        return answer(conn, rq, r);
    }
    rq->s = s;
    rq->conn = conn;
    rq->state = RQ_QUEUED;
    if (wn_ingest_readings_start(s->node, ct, body, rq->len, readings_decided, rq, &rq->pending, r)) {
        pthread_mutex_lock(&s->mu);
        if (rq->state == RQ_QUEUED) {
            MHD_suspend_connection(conn);
            rq->state = RQ_SUSPENDED;
            pthread_mutex_unlock(&s->mu);
            return MHD_YES;
        }
        pthread_mutex_unlock(&s->mu);
        return finish_readings(s, conn, rq); /* decided before it could be suspended */
    }
    rq->state = RQ_NONE;
    pthread_mutex_lock(&s->mu);
    s->waiting--;
    pthread_mutex_unlock(&s->mu);
    return answer(conn, rq, r);
}

/* Every route but readings: fills r (on a pool thread, or a worker's). */
static void run_handler(wn_server *s, struct MHD_Connection *conn, request *rq, const char *ct, wn_response *out)
{
    wn_response r = {0};
    const char *body = rq->body ? rq->body : "";
    switch (rq->m.route) {
    case WN_ROUTE_ENROL: wn_enrol_post(s->node, 0, ct, body, rq->len, &r); break;
    case WN_ROUTE_REVOKE: wn_enrol_post(s->node, 1, ct, body, rq->len, &r); break;
    case WN_ROUTE_BUNDLE: wn_node_bundle(s->node, get_arg, conn, &r); break;
    case WN_ROUTE_TILE: wn_node_tile(s->node, &rq->m.tile, &r); break;
    case WN_ROUTE_CHECKPOINTS: wn_node_checkpoints(s->node, get_arg, conn, &r); break;
    case WN_ROUTE_ANCHORS: wn_node_anchors(s->node, get_arg, conn, &r); break;
    case WN_ROUTE_CHECKPOINT_ANCHOR: wn_node_checkpoint_anchor(s->node, get_arg, conn, &r); break;
    case WN_ROUTE_CERTIFICATES: wn_certs_post(s->node, WN_CERTS_ISSUE, ct, body, rq->len, &r); break;
    case WN_ROUTE_TRANSFERS: wn_certs_post(s->node, WN_CERTS_TRANSFER, ct, body, rq->len, &r); break;
    case WN_ROUTE_RETIREMENTS: wn_certs_post(s->node, WN_CERTS_RETIRE, ct, body, rq->len, &r); break;
    case WN_ROUTE_CERTIFICATE: wn_certs_get(s->node, rq->m.index, get_arg, conn, &r); break;
    case WN_ROUTE_PROJECT_CERTS: wn_certs_project(s->node, get_arg(conn, "id"), &r); break;
    case WN_ROUTE_ENTERPRISES: wn_enterprises_post(s->node, ct, body, rq->len, &r); break;
    case WN_ROUTE_ENTERPRISE_BUNDLE: wn_enterprises_bundle(s->node, get_arg(conn, "code"), &r); break;
    case WN_ROUTE_ACCREDITATIONS: wn_accreditations_post(s->node, ct, body, rq->len, &r); break;
    case WN_ROUTE_ACCREDITATION_BUNDLE: wn_accreditations_bundle(s->node, get_arg(conn, "code"), &r); break;
    case WN_ROUTE_CALIBRATIONS: wn_calibrations_post(s->node, ct, body, rq->len, &r); break;
    case WN_ROUTE_CALIBRATION_BUNDLE: wn_calibrations_bundle(s->node, get_arg(conn, "meter"), &r); break;
    case WN_ROUTE_MONITOR:
        if (strcmp(rq->m.sub, "export") == 0) wn_monitor_export(s->node, &rq->who, get_arg, conn, &r);
        else wn_monitor_api(s->node, &rq->who, &rq->m, get_arg, conn, body, rq->len, &r);
        break;
    case WN_ROUTE_UI: wn_web_serve(s->node->web_dir, rq->m.sub, &r); break;
    default: wn_query(s->node, &rq->who, &rq->m, get_arg, conn, &r); break;
    }
    *out = r;
}

/* Handlers that may wait for the committer (enrolments, revocations, certificates),
 * write the bureau's settings to disk, or work long (proof bundles) run on the workers,
 * so that the event threads stay free for everyone else's connections. */
static int may_wait(const request *rq)
{
    switch (rq->m.route) {
    case WN_ROUTE_ENROL:
    case WN_ROUTE_REVOKE:
    case WN_ROUTE_CERTIFICATES:
    case WN_ROUTE_TRANSFERS:
    case WN_ROUTE_RETIREMENTS:
    case WN_ROUTE_ENTERPRISES:
    case WN_ROUTE_ENTERPRISE_BUNDLE:
    case WN_ROUTE_ACCREDITATIONS:
    case WN_ROUTE_ACCREDITATION_BUNDLE:
    case WN_ROUTE_CALIBRATIONS:
    case WN_ROUTE_CALIBRATION_BUNDLE:
    case WN_ROUTE_BUNDLE: return 1;
    case WN_ROUTE_MONITOR: return rq->m.is_post;
    default: return 0;
    }
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-worker"); /* for top -H and bench_node */
    wn_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->qhead && !s->workers_stop) pthread_cond_wait(&s->work, &s->mu);
        request *rq = s->qhead;
        if (!rq) break;
        s->qhead = rq->qnext;
        if (!s->qhead) s->qtail = NULL;
        pthread_mutex_unlock(&s->mu);
        run_handler(s, rq->conn, rq, rq->ct, &rq->resp);
        pthread_mutex_lock(&s->mu);
        rq->state = RQ_DECIDED; /* it was suspended before it was queued */
        pthread_mutex_unlock(&s->mu);
        MHD_resume_connection(rq->conn); /* the handler is called again: finish_deferred */
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queues rq for a worker with its connection suspended. Returns: 0 if the node is
 * stopping (then it is answered in place). */
static int defer(wn_server *s, struct MHD_Connection *conn, request *rq, const char *ct)
{
    pthread_mutex_lock(&s->mu);
    if (s->stopping || !s->nworkers) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    s->waiting++;
    rq->s = s;
    rq->conn = conn;
    rq->ct = ct;
    rq->deferred = 1;
    rq->qnext = NULL;
    MHD_suspend_connection(conn);
    rq->state = RQ_SUSPENDED;
    if (s->qtail) s->qtail->qnext = rq;
    else s->qhead = rq;
    s->qtail = rq;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static enum MHD_Result finish_deferred(wn_server *s, struct MHD_Connection *conn, request *rq)
{
    rq->deferred = 0;
    rq->state = RQ_NONE;
    pthread_mutex_lock(&s->mu);
    s->waiting--;
    pthread_mutex_unlock(&s->mu);
    wn_response r = rq->resp;
    memset(&rq->resp, 0, sizeof rq->resp);
    return answer(conn, rq, &r);
}

static enum MHD_Result dispatch(wn_server *s, struct MHD_Connection *conn, request *rq)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (rq->m.route == WN_ROUTE_READINGS) {
        wn_response r = {0};
        return readings(s, conn, rq, ct, rq->body ? rq->body : "", &r);
    }
    if (may_wait(rq) && defer(s, conn, rq, ct)) return MHD_YES;
    wn_response r;
    run_handler(s, conn, rq, ct, &r);
    return answer(conn, rq, &r);
}

static wn_gate_conn *gate_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* 503 to a connection opened above the soft limit; it is closed after the answer. */
static enum MHD_Result overloaded(struct MHD_Connection *conn)
{
    wn_response r = {0};
    wn_reply_error(&r, WN_NE_OVERLOADED,
                   "this node holds too many connections; retry after " RETRY_AFTER_S " seconds");
    return send_response_ex(conn, &r, 1);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    (void)version;
    wn_server *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        *con_cls = rq;
        rq->gc = gate_conn(conn);
        if (wn_gate_over_soft(rq->gc)) {
            rq->answered = 1;
            return overloaded(conn);
        }
        return begin(s, conn, url, method, rq);
    }
    if (*upload_data_size) return accumulate(s, conn, rq, upload_data, upload_data_size);
    if (rq->pending || rq->deferred) { /* resumed: its readings are decided, or a worker answered */
        pthread_mutex_lock(&s->mu);
        int decided = rq->state == RQ_DECIDED;
        pthread_mutex_unlock(&s->mu);
        if (!decided) return MHD_YES;
        return rq->pending ? finish_readings(s, conn, rq) : finish_deferred(s, conn, rq);
    }
    if (rq->answered) return MHD_YES;
    rq->answered = 1;
    wn_gate_busy(s->gate, rq->gc); /* the whole request is in: no deadline while it is answered */
    if (rq->oversized) return too_large(s, conn);
    return dispatch(s, conn, rq);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    wn_server *s = cls;
    (void)toe;
    request *rq = *con_cls;
    wn_gate_idle(s->gate, rq ? rq->gc : gate_conn(conn)); /* the next request's deadline starts */
    if (rq) {
        free(rq->body);
        wn_response_free(&rq->resp); /* a worker's answer never sent (none, normally) */
        free(rq);
    }
    *con_cls = NULL;
}

/* Connections opening and closing, for the gate (before the socket is closed). */
static void notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode toe)
{
    wn_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? wn_gate_open(s->gate, ci->connect_fd) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        wn_gate_close(s->gate, *socket_context);
        *socket_context = NULL;
    }
}

static void log_kind(const void *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_kind(const void *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wn_logv_kind(kind, fmt, ap);
    va_end(ap);
}

/* libmicrohttpd's messages, rate-limited by their kind (its format string).
 * Back-off at the descriptor limit: a pool thread that holds no connection when accept()
 * fails for want of descriptors does not stop accepting (libmicrohttpd 0.9.75 says it
 * "will try busy waiting"), and retries at once in a loop. The message is logged on that
 * very thread, which holds no connection, so it is made to wait here before it retries. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (strstr(fmt, "limit at FIRST connection")) {
        struct timespec pause = {0, ACCEPT_BACKOFF_MS * 1000000L};
        nanosleep(&pause, NULL);
    }
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    log_kind(fmt, "http: %s", line);
}

/* Splits "HOST:PORT" ("[v6]:PORT" too) and resolves it. */
static struct addrinfo *resolve(const char *listen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || strlen(colon + 1) == 0) return NULL;
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof host) return NULL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t port;
    if (!wn_parse_u64(colon + 1, 65535, &port)) return NULL;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) return NULL;
    return res;
}

int wn_server_check_listen(const char *listen)
{
    struct addrinfo *ai = listen ? resolve(listen) : NULL;
    if (ai) freeaddrinfo(ai);
    return ai != NULL;
}

static void stop_workers(wn_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->workers_stop = 1;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->nworkers; i++) pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
}

static unsigned pool_size(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cpus > 0 ? 2u * (unsigned)cpus : POOL_MIN;
    return n < POOL_MIN ? POOL_MIN : n > POOL_MAX ? POOL_MAX : n;
}

int wn_server_start(wn_server **out, wn_node *node, const char *listen, size_t max_body, unsigned *port)
{
    unsigned pool = pool_size();
    wn_gate_limits lim = {.max_connections = node->cfg.max_connections, .max_per_ip = node->cfg.max_per_ip,
                          .timeout_ms = node->cfg.timeout_ms};
    if (!lim.max_connections) lim.max_connections = WN_NODE_DEFAULT_MAX_CONNECTIONS;
    if (!lim.timeout_ms) lim.timeout_ms = WN_NODE_DEFAULT_TIMEOUT_MS;
    /* each pool thread holds an epoll descriptor and an event descriptor */
    if (!wn_gate_size(&lim, RESERVE_FDS + 2 * pool + 4)) return 0;
    struct addrinfo *ai = resolve(listen);
    if (!ai) {
        wn_log("http: cannot use listen address '%s' (expected HOST:PORT)", listen);
        return 0;
    }
    wn_server *s = calloc(1, sizeof *s);
    if (!s) {
        freeaddrinfo(ai);
        return 0;
    }
    s->node = node;
    s->max_body = max_body;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    if (!wn_gate_start(&s->gate, &lim)) {
        wn_log("http: cannot start the connection gate's thread");
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        free(s);
        freeaddrinfo(ai);
        return 0;
    }
    while (s->nworkers < WORKERS && pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) == 0) s->nworkers++;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, pool,
                                 MHD_OPTION_CONNECTION_LIMIT, lim.max_connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim.max_per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (lim.timeout_ms + 999) / 1000,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                                 MHD_OPTION_NOTIFY_CONNECTION, notify, s,
                                 MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        wn_log("http: cannot listen on %s", listen);
        stop_workers(s);
        wn_gate_stop(s->gate);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return 0;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    wn_log("http: %u event threads, %u workers; at most %u connections (503 above %u), %u per address%s, %u ms to send a "
           "request; open-file limit %llu",
           pool, s->nworkers, lim.max_connections, lim.soft_limit, lim.max_per_ip, lim.max_per_ip ? "" : " (no cap)",
           lim.timeout_ms, (unsigned long long)lim.nofile);
    *out = s;
    return 1;
}

void wn_server_stop(wn_server *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1; /* no more suspensions: readings arriving now are committed in place */
    pthread_mutex_unlock(&s->mu);
    MHD_socket lsock = MHD_quiesce_daemon(s->daemon); /* no new connections */
    /* libmicrohttpd must not be stopped with a suspended connection: let the committer
     * decide what it holds and the pool answer it */
    struct timespec tick = {0, 5 * 1000000L};
    for (unsigned waited = 0;; waited += 5) {
        pthread_mutex_lock(&s->mu);
        unsigned n = s->waiting;
        pthread_mutex_unlock(&s->mu);
        if (!n) break;
        if (waited >= STOP_WAIT_MS) {
            wn_log("http: %u requests still wait for the committer after %u ms; stopping anyway", n, waited);
            break;
        }
        nanosleep(&tick, NULL);
    }
    MHD_stop_daemon(s->daemon);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    stop_workers(s);
    wn_gate_stop(s->gate);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
