/* helpers.h — a few threads, started once, that share the checking of large requests.
 *
 * A request of many readings is checked on two threads (ingest.c). A thread made for each
 * request costs its creation and starts with empty per-thread caches (crypto/evp_ec.c keeps
 * each thread's prepared P-256 and SM2 keys; a fresh thread verifies every reading the slow
 * way), so the second half runs on one of these helpers instead, whose caches stay warm. */
#ifndef WN_NODE_HELPERS_H
#define WN_NODE_HELPERS_H

/* Runs fn(mine) on the calling thread and fn(other) on a helper, and returns when both
 * are done. If no helper has taken `other` by the time fn(mine) returns (all busy), the
 * caller runs it itself: it never waits for a helper to become free. Helpers (one per
 * online core) start on the first call; if none can start, both run on the caller. */
void wn_helpers_run2(void (*fn)(void *), void *mine, void *other);

#endif
