/* ingest.h — the write routes of the node: readings (ingest.c), enrolments and
 * revocations (enrol.c). Each takes a request's parts and fills a wn_response. */
#ifndef WN_NODE_INGEST_H
#define WN_NODE_INGEST_H

#include <stddef.h>

#include "node/node.h"

/* ingest.c: POST /v1/readings. */
void wn_ingest_readings(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out);
/* enrol.c: POST /v1/enrolments (revoke = 0) and POST /v1/revocations (revoke = 1). */
void wn_enrol_post(wn_node *n, int revoke, const char *content_type, const char *body, size_t len,
                   wn_response *out);

#endif
