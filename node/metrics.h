/* metrics.h — the node's counters, gauges and histograms, rendered in the Prometheus text
 * format 0.0.4 for GET /metrics. The values live in metrics.c (process-wide, lock-free
 * atomics): any thread may record at any time. */
#ifndef WN_NODE_METRICS_H
#define WN_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* One reading's outcome: WN_NE_OK (accepted), WN_NE_REPLAY (duplicate) or the reason. */
void wn_metrics_reading(int err);
/* Readings carried by one POST /v1/readings. */
void wn_metrics_request_readings(size_t n);
/* One ledger transaction of the committer: entries appended and time taken. */
void wn_metrics_commit(size_t entries, uint64_t micros);
void wn_metrics_enrolment(void);
void wn_metrics_late(void); /* a reading accepted and marked late */
void wn_metrics_revocation(void);
/* A conflicting reading refused without evidence (its sequence has evidence already). */
void wn_metrics_equivocation_unrecorded(void);
void wn_metrics_http(unsigned status);
void wn_metrics_ledger_size(uint64_t size);
void wn_metrics_checkpoint_size(uint64_t size);
/* HTTP connections (conngate.c): one opened (+1) or closed (-1); n cut by the deadline. */
void wn_metrics_connections(int delta);
void wn_metrics_connections_cut(uint64_t n);

/* Anchoring (node/anchor/, PROTOCOL §15): the anchoring thread's state after each poll.
 * The wn_anchor_* metrics are rendered only once this has been called. */
typedef struct {
    int up;                    /* the chain answered and its id matched */
    uint64_t anchored_size;    /* the newest checkpoint with a confirmed anchor (0: none) */
    uint64_t lag_since_ms;     /* wall time since which a checkpoint lacks a confirmed anchor; 0: none */
    uint64_t pending, sent, confirmed, reanchored, rpc_errors;
} wn_metrics_anchor_state;
void wn_metrics_anchor(const wn_metrics_anchor_state *s);

/* The exposition text (malloc'd). Returns: NULL if out of memory. */
char *wn_metrics_render(size_t *len);

#endif
