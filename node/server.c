/* server.c — libmicrohttpd glue: listen, route (parse.c), accumulate request bodies up to
 * --max-body (answering 413 as soon as a body is known to be too large, without reading
 * the rest), dispatch to the handlers (ingest.c, enrol.c, query.c) and send what they
 * return. Every answer is counted in the metrics by status. */
#include "node/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "node/authorize.h"
#include "node/certs/certs.h"
#include "node/http/errors.h"
#include "node/http/web.h"
#include "node/ingest/ingest.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/monitor/monitor_api.h"
#include "node/node.h"
#include "node/query/bundle.h"
#include "node/query/query.h"
#include "node/query/tiles.h"

#define CONNECTION_LIMIT 1000
#define CONNECTION_TIMEOUT_S 60

struct wn_server {
    struct MHD_Daemon *daemon;
    wn_node *node;
    size_t max_body;
};

typedef struct {
    wn_route_match m;
    char *body;
    size_t len, cap;
    int answered;   /* a response was queued before the body was complete */
    int oversized;  /* a body without Content-Length passed the limit: drained, then 413 */
    size_t drained; /* bytes discarded since */
    wn_principal who; /* who asks (access.h) */
} request;

static enum MHD_Result send_response(struct MHD_Connection *conn, wn_response *r)
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
    enum MHD_Result ok = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) wn_metrics_http(r->status);
    return ok;
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

static enum MHD_Result dispatch(wn_server *s, struct MHD_Connection *conn, request *rq)
{
    wn_response r = {0};
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *body = rq->body ? rq->body : "";
    switch (rq->m.route) {
    case WN_ROUTE_READINGS: wn_ingest_readings(s->node, ct, body, rq->len, &r); break;
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
    case WN_ROUTE_MONITOR: wn_monitor_api(s->node, &rq->who, &rq->m, get_arg, conn, body, rq->len, &r); break;
    case WN_ROUTE_UI: wn_web_serve(s->node->web_dir, rq->m.sub, &r); break;
    default: wn_query(s->node, &rq->who, &rq->m, get_arg, conn, &r); break;
    }
    if (r.status >= 500) wn_log("http: %s answered %u: %.300s", rq->m.is_post ? "POST" : "GET", r.status, r.body ? r.body : "");
    return send_response(conn, &r);
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
        return begin(s, conn, url, method, rq);
    }
    if (*upload_data_size) return accumulate(s, conn, rq, upload_data, upload_data_size);
    if (rq->answered) return MHD_YES;
    rq->answered = 1;
    if (rq->oversized) return too_large(s, conn);
    return dispatch(s, conn, rq);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    wn_log("http: %s", line);
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

int wn_server_start(wn_server **out, wn_node *node, const char *listen, size_t max_body, unsigned *port)
{
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
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                                 MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        wn_log("http: cannot listen on %s", listen);
        free(s);
        return 0;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    *out = s;
    return 1;
}

void wn_server_stop(wn_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
