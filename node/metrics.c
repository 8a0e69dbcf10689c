/* metrics.c — Prometheus metrics: readings accepted/duplicate/rejected by reason,
 * readings per request and entries per commit (histograms), commit latency (histogram),
 * ledger and checkpoint size (gauges), HTTP answers by status. */
#include "node/metrics.h"

#include <stdatomic.h>

#include "node/http/buf.h"
#include "node/http/errors.h"
#include "node/log.h"

#define NB 12
typedef struct {
    _Atomic uint64_t bucket[NB]; /* non-cumulative counts; the last one is +Inf */
    _Atomic uint64_t sum;
    _Atomic uint64_t count;
} histogram;

static const double size_bounds[NB - 1] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};
/* commit latency bounds in microseconds (rendered in seconds) */
static const double usec_bounds[NB - 1] = {250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 500000, 1000000};

static _Atomic uint64_t by_reason[WN_NE_COUNT];
static _Atomic uint64_t http_status[600];
static _Atomic uint64_t enrolments, revocations, ledger_size, checkpoint_size, equivocations_unrecorded;
static _Atomic uint64_t readings_late;
static histogram req_readings, commit_entries, commit_usec;
/* anchoring: enabled once the thread reported; lag_since is wall ms (0: no lag) */
static _Atomic uint64_t anchor_on, anchor_up, anchor_size, anchor_since, anchor_pending, anchor_sent,
    anchor_confirmed, anchor_reanchored, anchor_errors;

static void observe(histogram *h, const double *bounds, uint64_t v)
{
    size_t i = 0;
    while (i < NB - 1 && (double)v > bounds[i]) i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void wn_metrics_reading(int err)
{
    if (err >= 0 && err < WN_NE_COUNT) atomic_fetch_add_explicit(&by_reason[err], 1, memory_order_relaxed);
}

void wn_metrics_request_readings(size_t n) { observe(&req_readings, size_bounds, n); }

void wn_metrics_commit(size_t entries, uint64_t micros)
{
    observe(&commit_entries, size_bounds, entries);
    observe(&commit_usec, usec_bounds, micros);
}

void wn_metrics_enrolment(void) { atomic_fetch_add_explicit(&enrolments, 1, memory_order_relaxed); }
void wn_metrics_late(void) { atomic_fetch_add_explicit(&readings_late, 1, memory_order_relaxed); }
void wn_metrics_revocation(void) { atomic_fetch_add_explicit(&revocations, 1, memory_order_relaxed); }
void wn_metrics_equivocation_unrecorded(void)
{
    atomic_fetch_add_explicit(&equivocations_unrecorded, 1, memory_order_relaxed);
}

void wn_metrics_http(unsigned status)
{
    if (status < 600) atomic_fetch_add_explicit(&http_status[status], 1, memory_order_relaxed);
}

static _Atomic int64_t connections_open;
static _Atomic uint64_t connections_cut;
void wn_metrics_connections(int delta) { atomic_fetch_add_explicit(&connections_open, delta, memory_order_relaxed); }
void wn_metrics_connections_cut(uint64_t n) { atomic_fetch_add_explicit(&connections_cut, n, memory_order_relaxed); }

void wn_metrics_ledger_size(uint64_t size) { atomic_store(&ledger_size, size); }
void wn_metrics_checkpoint_size(uint64_t size) { atomic_store(&checkpoint_size, size); }

void wn_metrics_anchor(const wn_metrics_anchor_state *s)
{
    atomic_store(&anchor_up, (uint64_t)(s->up != 0));
    atomic_store(&anchor_size, s->anchored_size);
    atomic_store(&anchor_since, s->lag_since_ms);
    atomic_store(&anchor_pending, s->pending);
    atomic_store(&anchor_sent, s->sent);
    atomic_store(&anchor_confirmed, s->confirmed);
    atomic_store(&anchor_reanchored, s->reanchored);
    atomic_store(&anchor_errors, s->rpc_errors);
    atomic_store(&anchor_on, 1);
}

static void render_anchor(wn_buf *b)
{
    if (!atomic_load(&anchor_on)) return;
    uint64_t size = atomic_load(&anchor_size), ledger = atomic_load(&ledger_size);
    uint64_t since = atomic_load(&anchor_since), now = wn_now_ms();
    wn_buf_printf(b,
                  "# HELP wn_anchor_chain_up 1 if the anchoring chain answers with the configured chain id.\n"
                  "# TYPE wn_anchor_chain_up gauge\nwn_anchor_chain_up %llu\n"
                  "# HELP wn_anchor_size Tree size of the newest checkpoint with a confirmed anchor.\n"
                  "# TYPE wn_anchor_size gauge\nwn_anchor_size %llu\n"
                  "# HELP wn_anchor_lag_entries Entries not covered by a confirmed anchor.\n"
                  "# TYPE wn_anchor_lag_entries gauge\nwn_anchor_lag_entries %llu\n"
                  "# HELP wn_anchor_lag_seconds Age of the oldest checkpoint not covered by a confirmed anchor.\n"
                  "# TYPE wn_anchor_lag_seconds gauge\nwn_anchor_lag_seconds %.3f\n"
                  "# HELP wn_anchor_pending Anchors sent and not yet confirmed.\n"
                  "# TYPE wn_anchor_pending gauge\nwn_anchor_pending %llu\n"
                  "# HELP wn_anchor_transactions_total Anchoring transactions accepted by the chain's node.\n"
                  "# TYPE wn_anchor_transactions_total counter\nwn_anchor_transactions_total %llu\n"
                  "# HELP wn_anchor_confirmed_total Anchors that reached the configured confirmations.\n"
                  "# TYPE wn_anchor_confirmed_total counter\nwn_anchor_confirmed_total %llu\n"
                  "# HELP wn_anchor_reanchored_total Anchors lost (reorganisation, failure) and sent again.\n"
                  "# TYPE wn_anchor_reanchored_total counter\nwn_anchor_reanchored_total %llu\n"
                  "# HELP wn_anchor_rpc_errors_total JSON-RPC calls that got no answer.\n"
                  "# TYPE wn_anchor_rpc_errors_total counter\nwn_anchor_rpc_errors_total %llu\n",
                  (unsigned long long)atomic_load(&anchor_up), (unsigned long long)size,
                  (unsigned long long)(ledger > size ? ledger - size : 0),
                  since && now > since ? (double)(now - since) / 1000.0 : 0.0,
                  (unsigned long long)atomic_load(&anchor_pending), (unsigned long long)atomic_load(&anchor_sent),
                  (unsigned long long)atomic_load(&anchor_confirmed), (unsigned long long)atomic_load(&anchor_reanchored),
                  (unsigned long long)atomic_load(&anchor_errors));
}

static void render_connections(wn_buf *b)
{
    int64_t open = atomic_load(&connections_open);
    wn_buf_printf(b,
                  "# HELP wn_http_connections HTTP connections open.\n"
                  "# TYPE wn_http_connections gauge\nwn_http_connections %lld\n"
                  "# HELP wn_http_connections_cut_total Connections closed for not sending a whole request within --timeout-ms.\n"
                  "# TYPE wn_http_connections_cut_total counter\nwn_http_connections_cut_total %llu\n",
                  (long long)(open > 0 ? open : 0), (unsigned long long)atomic_load(&connections_cut));
}

static void render_histogram(wn_buf *b, const char *name, const char *help, const histogram *h,
                             const double *bounds, double scale)
{
    wn_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < NB; i++) {
        cum += atomic_load(&h->bucket[i]);
        if (i < NB - 1)
            wn_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i] * scale, (unsigned long long)cum);
        else
            wn_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    wn_buf_printf(b, "%s_sum %g\n%s_count %llu\n", name, (double)atomic_load(&h->sum) * scale, name,
                  (unsigned long long)atomic_load(&h->count));
}

char *wn_metrics_render(size_t *len)
{
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "# HELP wn_readings_accepted_total Readings appended to the ledger.\n"
                   "# TYPE wn_readings_accepted_total counter\n");
    wn_buf_printf(&b, "wn_readings_accepted_total %llu\n", (unsigned long long)atomic_load(&by_reason[WN_NE_OK]));
    wn_buf_str(&b, "# HELP wn_readings_duplicate_total Readings already in the ledger, answered with the original receipt.\n"
                   "# TYPE wn_readings_duplicate_total counter\n");
    wn_buf_printf(&b, "wn_readings_duplicate_total %llu\n",
                  (unsigned long long)atomic_load(&by_reason[WN_NE_REPLAY]));
    wn_buf_str(&b, "# HELP wn_readings_rejected_total Readings rejected, by reason.\n"
                   "# TYPE wn_readings_rejected_total counter\n");
    for (int e = 1; e < WN_NE_COUNT; e++) {
        if (e == WN_NE_REPLAY) continue;
        uint64_t v = atomic_load(&by_reason[e]);
        if (v || e == WN_NE_BAD_SIGNATURE || e == WN_NE_EQUIVOCATION)
            wn_buf_printf(&b, "wn_readings_rejected_total{reason=\"%s\"} %llu\n", wn_nerr_code(e),
                          (unsigned long long)v);
    }
    render_histogram(&b, "wn_request_readings", "Readings per POST /v1/readings request.", &req_readings,
                     size_bounds, 1);
    render_histogram(&b, "wn_commit_entries", "Entries appended per ledger transaction (group commit).",
                     &commit_entries, size_bounds, 1);
    render_histogram(&b, "wn_commit_seconds", "Time of one durable ledger transaction.", &commit_usec,
                     usec_bounds, 1e-6);
    wn_buf_printf(&b,
                  "# HELP wn_enrolments_total Meters enrolled.\n# TYPE wn_enrolments_total counter\n"
                  "wn_enrolments_total %llu\n"
                  "# HELP wn_revocations_total Meters revoked.\n# TYPE wn_revocations_total counter\n"
                  "wn_revocations_total %llu\n"
                  "# HELP wn_ledger_entries Entries in the ledger (tree size).\n# TYPE wn_ledger_entries gauge\n"
                  "wn_ledger_entries %llu\n"
                  "# HELP wn_checkpoint_size Tree size of the latest signed checkpoint.\n"
                  "# TYPE wn_checkpoint_size gauge\nwn_checkpoint_size %llu\n",
                  (unsigned long long)atomic_load(&enrolments), (unsigned long long)atomic_load(&revocations),
                  (unsigned long long)atomic_load(&ledger_size), (unsigned long long)atomic_load(&checkpoint_size));
    wn_buf_printf(&b,
                  "# HELP wn_equivocations_unrecorded_total Conflicting readings refused without an evidence entry "
                  "(their sequence has one already).\n# TYPE wn_equivocations_unrecorded_total counter\n"
                  "wn_equivocations_unrecorded_total %llu\n",
                  (unsigned long long)atomic_load(&equivocations_unrecorded));
    wn_buf_printf(&b,
                  "# HELP wn_readings_late_total Readings accepted and marked late (measured before the late "
                  "window).\n# TYPE wn_readings_late_total counter\nwn_readings_late_total %llu\n",
                  (unsigned long long)atomic_load(&readings_late));
    wn_buf_str(&b, "# HELP wn_http_responses_total HTTP responses, by status.\n"
                   "# TYPE wn_http_responses_total counter\n");
    for (unsigned s = 100; s < 600; s++) {
        uint64_t v = atomic_load(&http_status[s]);
        if (v) wn_buf_printf(&b, "wn_http_responses_total{code=\"%u\"} %llu\n", s, (unsigned long long)v);
    }
    render_anchor(&b);
    render_connections(&b);
    return wn_buf_take(&b, len);
}
