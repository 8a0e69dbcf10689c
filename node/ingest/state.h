/* state.h — the node's per-meter state: enrolment, key, revoked?, last sequence, digest,
 * time and totaliser, open alerts; plus the time each entry was accepted (for receipts).
 *
 * The ledger is the truth. This is a materialised view of it, held in memory (a hash table
 * under a read-write lock) and mirrored in the node's own LMDB environment DIR/state with
 * a watermark "applied up to ledger size W" and the chain hash of entry W-1. That env
 * commits without fsync, since it can be rebuilt: at start the watermark and chain hash
 * are compared with the ledger (a mismatch, a format change or an unreadable env means a
 * full rebuild from entry 0), then entries [W, size) are replayed. So a crash between a
 * ledger commit and the state commit, or SIGKILL at any moment, leaves nothing that
 * disagrees with the ledger.
 *
 * Threads: wn_state_get and wn_state_receipt_time may be called from any thread. The
 * committer is the only writer: it alone calls wn_state_find (no lock needed, as nobody
 * else writes) and wn_state_commit / wn_state_put_time. */
#ifndef WN_NODE_STATE_H
#define WN_NODE_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

#include "ledger/ledger.h"
#include "node/ingest/meter.h"

typedef struct wn_state wn_state;

/* Opens (creating, validating, rebuilding if needed) the state env in dir and brings it
 * up to the ledger's size. Returns: 1 on success, 0 on failure (logged). */
int wn_state_open(wn_state **out, const char *dir, wn_ledger *ledger);
/* Flushes the env to disk (fsync) and frees everything. */
void wn_state_close(wn_state *s);

/* Copies meter's record (alerts: up to cap into alerts, all counted in out->n_alerts;
 * out->alerts is set to NULL). Returns: 1 if the meter is enrolled (revoked or not), 0 if unknown. */
int wn_state_get(wn_state *s, const uint8_t meter[32], wn_meter *out, wn_alert *alerts, size_t cap);

/* wn_state_get for one page of the alerts: alerts[from .. from+cap) into alerts (*got of
 * them; out->n_alerts says how many there are), and in *unrecorded the sum of their `more`.
 * Returns: 1 if the meter is enrolled. */
int wn_state_get_page(wn_state *s, const uint8_t meter[32], wn_meter *out, size_t from, wn_alert *alerts, size_t cap,
                      size_t *got, uint64_t *unrecorded);

/* Committer only: counts one more conflicting reading refused without evidence for the
 * committed alert (meter, seq) (memory only: such readings are in no ledger entry). */
void wn_state_add_unrecorded(wn_state *s, const uint8_t meter[32], uint64_t seq);

/* Number of meters known. */
size_t wn_state_count(wn_state *s);

/* Committer only: the committed record, without locking; NULL if unknown. */
const wn_meter *wn_state_find(wn_state *s, const uint8_t meter[32]);

/* Committer only: applies one committed ledger transaction that took the ledger from
 * size `from` to `to` (chain = chain hash of entry to-1) at time time_ms: every record in
 * recs replaces (or adds) its meter's (ownership of each alerts array passes to the state;
 * the recs array itself stays the caller's). Memory first, under the write lock, then the
 * env. Returns: 1; 0 if the env write failed (memory is still right; the env stops being
 * written, so the next start replays from its last good watermark). */
int wn_state_commit(wn_state *s, wn_meter *recs, size_t n, uint64_t from, uint64_t to, uint64_t time_ms,
                    const uint8_t chain[32]);

/* The time the entry at index was accepted. Returns: 1 if known (entries replayed after a
 * power cut may have none). */
int wn_state_receipt_time(wn_state *s, uint64_t index, uint64_t *time_ms);
/* The commit that holds the entry at index: entries [first, end) at time_ms, answered with
 * receipts of version (1 or 2). Returns: 1 if known (as wn_state_receipt_time). */
int wn_state_commit_of(wn_state *s, uint64_t index, uint64_t *first, uint64_t *end, uint64_t *time_ms,
                       int *version);
/* Committer only: records an acceptance time for one entry that has none (a commit of one
 * entry, version 2 receipts). */
void wn_state_put_time(wn_state *s, uint64_t index, uint64_t time_ms);

/* The ledger size the state reflects. */
uint64_t wn_state_applied(wn_state *s);

/* The state's LMDB environment, for other materialised views of the ledger that keep
 * their own named databases (at most WN_STATE_MAX_DBS in all) and watermark in it, such
 * as the monitor's aggregates (monitor.h). */
#define WN_STATE_MAX_DBS 16
MDB_env *wn_state_env(wn_state *s);

#endif
