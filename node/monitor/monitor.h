/* monitor.h — monitoring for the water bureau (docs/PROTOCOL.md §18): per-meter hourly and
 * daily aggregates of notarised readings, the water balance of every meter against its
 * child meters, and alerts raised as readings arrive (silent meter, sequence gap,
 * equivocation, tamper / power-loss / reverse-flow flags, water quality out of range,
 * sustained night-time flow, imbalance, over-plan use).
 *
 * The aggregates are a materialised view of the ledger, like the node state (state.h):
 * they live in databases of their own inside the node's state environment DIR/state,
 * written without fsync, with their own watermark "applied up to ledger size W" and the
 * chain hash of entry W-1. At start a watermark that the ledger does not confirm, or an
 * unknown format, empties them and they are rebuilt from entry 0; then entries [W, size)
 * are replayed. After every group commit the committer thread calls wn_monitor_catch_up,
 * so a reading's effect is visible before its receipt is answered. What is not in the
 * ledger (settings, plans, production, acknowledgements, refused sequence gaps) is kept
 * durably in the bureau store (bureau.h) and survives a rebuild.
 *
 * Threads: catch_up (committer), tick (the monitor's own thread, every 2 s: silent
 * meters) and the HTTP handlers (monitor_api.c) may run at once; a read-write lock
 * guards the in-memory part, LMDB's MVCC the rest. */
#ifndef WN_NODE_MONITOR_H
#define WN_NODE_MONITOR_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "node/monitor/bureau.h"
#include "node/monitor/names.h"

typedef struct wn_monitor wn_monitor;

/* Thresholds of the alert rules (GET/POST /v1/monitor/settings; defaults in brackets). */
typedef struct {
    double silent_factor;         /* silent after this many of the meter's intervals [3] */
    uint64_t silent_min_ms;       /* ... and never sooner than this [60000] */
    uint64_t default_interval_ms; /* interval assumed until a meter has shown one [900000] */
    double imbalance_pct;         /* |parent - sum of children| / parent above this [5] */
    double balance_min_m3;        /* days with a parent volume below this are not judged [1] */
    double ph_min, ph_max;        /* [6, 9] */
    double conductivity_max;      /* uS/cm [3000] */
    double turbidity_max;         /* NTU [10] */
    double night_ratio;           /* night flow above (1 + this) x the median of 7..14 comparable nights [0.5] */
    double night_min_m3h;         /* ... and at least this many m3 in every night hour [0.5] */
} wn_monitor_settings;

/* Opens the monitor's databases in the state env (env must allow 16 named databases),
 * rebuilding them from the ledger if needed, and starts the tick thread.
 * Returns: 1 on success, 0 (logged) on failure. */
int wn_monitor_open(wn_monitor **out, MDB_env *env, wn_ledger *ledger, wn_bureau *bureau);
/* Stops the tick thread, writes what is pending and frees m (the env stays open). */
void wn_monitor_close(wn_monitor *m);

/* Applies the ledger entries appended since the last call (any thread; one at a time).
 * Returns: 1; 0 if the databases could not be written (the next start rebuilds). */
int wn_monitor_catch_up(wn_monitor *m);
/* The committer's announcement that the ledger now holds size entries: the tick thread
 * catches up soon (at most every 100 ms), off the committer's thread, so that one
 * aggregates transaction covers many group commits. */
void wn_monitor_nudge(wn_monitor *m, uint64_t size);
/* Catches up if the ledger grew beyond what is applied (announced by wn_monitor_nudge):
 * every reader calls it first, so an answer reflects every reading already acknowledged.
 * Returns: as wn_monitor_catch_up. */
int wn_monitor_fresh(wn_monitor *m);

/* Time-driven rules at now_ms: silent meters. */
void wn_monitor_tick(wn_monitor *m, uint64_t now_ms);

/* The node refused reading (meter, seq) with sequence_gap: records (once per expected
 * sequence) a sequence-gap alert. */
void wn_monitor_sequence_gap(wn_monitor *m, const uint8_t meter[32], uint64_t seq, uint64_t now_ms);

/* The ledger size the aggregates reflect. */
uint64_t wn_monitor_applied(wn_monitor *m);

/* Copies the enterprise of an enrolled meter (NUL-terminated, at most 65 bytes).
 * Returns: 1 if the meter is known. */
int wn_monitor_meter_enterprise(wn_monitor *m, const uint8_t meter[32], char enterprise[65]);

/* Where the page and exports find registered enterprise names (names.h): set once by the
 * node after opening, before it serves. */
void wn_monitor_set_name_registry(wn_monitor *m, wn_names_registry_fn fn, void *ctx);

#endif
