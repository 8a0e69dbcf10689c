/* conngate.h — who may hold a connection to the node, how many, and for how long.
 *
 * The HTTP server (server.c) tells the gate when a connection opens and closes, when a
 * whole request has arrived and when its answer has gone. The gate keeps the count for
 * the soft limit (connections opened above it are answered 503 and closed), and a
 * thread that cuts every connection which has not delivered a complete request within
 * timeout_ms of opening or of its previous answer: idle and trickling clients alike
 * (a slow-loris sending a header byte a second is cut as surely as a silent socket).
 * A request being answered (verified, waiting for its group commit, sent) is never cut
 * by the gate; libmicrohttpd's idle timeout covers a client that stops reading.
 *
 * The process's open-file limit is raised to its hard limit when the limits are sized,
 * and the connection cap is kept below it, so accepting never runs out of descriptors. */
#ifndef WN_NODE_CONNGATE_H
#define WN_NODE_CONNGATE_H

#include <stdint.h>

typedef struct {
    unsigned max_connections; /* hard cap on open connections */
    unsigned soft_limit;      /* connections opened above this many are answered 503 */
    unsigned max_per_ip;      /* per client address; 0: no per-address cap */
    unsigned timeout_ms;      /* to deliver a whole request (headers and body) */
    uint64_t nofile;          /* the open-file limit in force */
} wn_gate_limits;

typedef struct wn_gate wn_gate;
typedef struct wn_gate_conn wn_gate_conn;

/* Raises RLIMIT_NOFILE's soft limit to the hard limit and fits lim->max_connections under
 * it, keeping reserve_fds descriptors (beyond those open now) for the rest of the node;
 * sets lim->soft_limit (7/8 of the cap) and lim->nofile. Logs what it decided.
 * Returns: 1; 0 if not even one connection fits (logged). */
int wn_gate_size(wn_gate_limits *lim, unsigned reserve_fds);

/* Starts the gate's thread (it also writes the log's suppressed-lines summary each
 * second). Returns: 1 on success. */
int wn_gate_start(wn_gate **out, const wn_gate_limits *lim);
/* Stops the thread and frees g (every connection must have closed). */
void wn_gate_stop(wn_gate *g);

/* A connection opened on socket fd. Returns: its record (NULL: out of memory). */
wn_gate_conn *wn_gate_open(wn_gate *g, int fd);
/* It closed (before its socket is closed). */
void wn_gate_close(wn_gate *g, wn_gate_conn *c);
/* Returns: 1 if c was opened while more than the soft limit were open. */
int wn_gate_over_soft(const wn_gate_conn *c);
/* A whole request has arrived: no deadline while it is answered. */
void wn_gate_busy(wn_gate *g, wn_gate_conn *c);
/* Its answer went (or the request ended): the next request's deadline starts now. */
void wn_gate_idle(wn_gate *g, wn_gate_conn *c);
/* Connections open now, and cut by the deadline since start. */
unsigned wn_gate_open_count(wn_gate *g);
uint64_t wn_gate_cut_count(wn_gate *g);

#endif
