/* loadgen.h — a lean HTTP/1.1 load generator for the benchmarks: many kept-alive
 * connections to one node on 127.0.0.1, each sending its own requests in order with one
 * request in flight at a time, on raw non-blocking sockets and one epoll set in one thread.
 *
 * It exists so that the load generator costs the node being measured as little CPU as
 * possible (2,000 real meters are 2,000 separate devices): a request is one prebuilt buffer
 * and one send(); an answer is parsed just enough to be counted (status line, Content-Length,
 * the body); only connections that are ready or due are touched (epoll, a min-heap of due
 * times for paced phases, a list of requests in flight in send order for the timeout).
 *
 * What it supports of HTTP/1.1, on purpose no more: POST of a body with Content-Length;
 * answers with a Content-Length (chunked or close-delimited answers are refused with a
 * clear message, as are interim 1xx answers and bytes the node sends unasked). A node that
 * announces `Connection: close` or closes a connection between requests stops that
 * connection: its sender cannot continue in order on another one without reconnecting,
 * which a benchmark of kept-alive connections does not do. */
#ifndef WN_BENCH_LOADGEN_H
#define WN_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

/* Request `seq` (0-based) of connection `conn`: *body points at its bytes (valid until the
 * request is answered); returns its length (> 0). */
typedef size_t (*loadgen_body_fn)(void *ctx, size_t conn, size_t seq, const uint8_t **body);

typedef struct {
    uint64_t accepted;    /* answers that accept() said yes to */
    uint64_t rejected;    /* other complete answers (the connection stops: its sender cannot continue in order) */
    uint64_t failed_conn; /* connections that stopped without a full answer, or were closed by the node */
    uint64_t done;        /* requests finished either way */
    double *lat_ms;       /* if not NULL: ms from send to full answer of each accepted request */
    size_t nlat, caplat;
    char first_err[256];  /* what the first rejected answer or failure was */
} loadgen_stats;

/* Decides whether an answer counts as accepted. body is NUL-terminated. */
typedef int (*loadgen_accept_fn)(int status, const char *body, size_t len);

typedef struct loadgen loadgen;

/* Returns: a generator of nconn connections to 127.0.0.1:port (not yet opened: each opens
 *          on its first request), or NULL with a message in err.
 * In: path, content_type: of every request; per_conn: requests each connection has;
 *     body: gives them; accept: classifies answers. */
loadgen *loadgen_new(unsigned port, const char *path, const char *content_type, size_t nconn, size_t per_conn,
                     loadgen_body_fn body, loadgen_accept_fn accept, void *ctx, char err[256]);

/* Drives every live connection until each has sent `upto` requests in all, or `seconds`
 * have passed (no request is sent after that; those in flight are waited for, 60 s at
 * most each). interval > 0 paces the load (open loop): connection i sends its next request
 * at start + (i / nconn) * interval, then every interval after (at once when an answer
 * comes later than that); interval == 0: the next request as soon as the answer is in.
 * Returns: the phase's wall-clock seconds. Adds to *st. */
double loadgen_phase(loadgen *g, size_t upto, double interval, double seconds, loadgen_stats *st);

void loadgen_free(loadgen *g);

#endif
