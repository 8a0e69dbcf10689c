/* helpers.h — a few threads, started once, that share the checking of large requests.
 *
 * A request of many readings is checked on two threads (ingest.c). A thread made for each
 * request costs its creation and starts with empty per-thread caches (crypto/evp_ec.c keeps
 * each thread's prepared P-256 and SM2 keys; a fresh thread verifies every reading the slow
 * way), so the work is shared with one of these helpers instead, whose caches stay warm. */
#ifndef WN_NODE_HELPERS_H
#define WN_NODE_HELPERS_H

#include <stddef.h>

/* Runs fn(ctx, from, to) over [0, n) in pieces of at most `chunk` items, on the calling
 * thread and on one helper, and returns when every piece is done. Each thread takes the
 * next piece when it is done with its last, so when one of them is slowed (the two cores
 * are shared with other threads), the other does more: the caller waits for at most the
 * piece the helper is in, not for half of the work. If no helper has started by the time
 * the caller has taken the last piece (all busy), the caller has done everything and does
 * not wait. Helpers (one per online core) start on the first call; if none can start,
 * everything runs on the caller. */
void wn_helpers_for(void (*fn)(void *ctx, size_t from, size_t to), void *ctx, size_t n, size_t chunk);

#endif
