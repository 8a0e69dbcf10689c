/* ingest.h — the write routes of the node: readings (ingest.c), enrolments and
 * revocations (enrol.c). Each takes a request's parts and fills a wn_response. */
#ifndef WN_NODE_INGEST_H
#define WN_NODE_INGEST_H

#include <stddef.h>

#include "node/node.h"

/* ingest.c: POST /v1/readings, answered before it returns (the caller's thread waits for
 * the group commit). */
void wn_ingest_readings(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out);

/* The same in two halves, for a caller that must not wait (server.c's event threads).
 * Decodes and verifies the readings and hands them to the committer.
 * In: body stays valid until the answer is written; done(ctx) is called on the
 *     committer's thread once the readings are decided, and must not call back in.
 * Returns: 0 if out holds the answer already (done is not called, *pending is NULL);
 *          1 if *pending waits: after done(ctx), wn_ingest_readings_finish writes out. */
typedef struct wn_ingest_pending wn_ingest_pending;
int wn_ingest_readings_start(wn_node *n, const char *content_type, const char *body, size_t len,
                             void (*done)(void *ctx), void *ctx, wn_ingest_pending **pending, wn_response *out);
/* Signs the receipts, writes the answer into out and frees pending. */
void wn_ingest_readings_finish(wn_ingest_pending *pending, wn_response *out);
/* enrol.c: POST /v1/enrolments (revoke = 0) and POST /v1/revocations (revoke = 1). */
void wn_enrol_post(wn_node *n, int revoke, const char *content_type, const char *body, size_t len,
                   wn_response *out);

#endif
