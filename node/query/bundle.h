/* bundle.h — GET /v1/bundle (docs/PROTOCOL.md §9, §13): a proof bundle of one meter's
 * readings over a period, with its enrolment, revocation and equivocation evidence, every
 * entry with an inclusion proof against the latest checkpoint. The query parser is a pure
 * function (like parse.h) so tests and the fuzzer can drive it without a server. */
#ifndef WN_NODE_BUNDLE_H
#define WN_NODE_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "node/node.h"
#include "node/http/parse.h"
#include "node/http/reply.h"

#define WN_BUNDLE_FORMAT "waternotary/bundle@v1"
#define WN_BUNDLE_MAX_READINGS 40000u /* readings in the period of one bundle (boundaries aside) */

typedef struct {
    uint8_t meter[32];
    uint64_t from_ms, to_ms; /* the period [from, to) */
} wn_bundle_query;

/* A TIME parameter: RFC 3339 exactly as in PROTOCOL's conventions, or decimal milliseconds
 * (no sign or leading zeros), at most 253402300799999. Returns: 1 on success. */
int wn_parse_time_param(const char *s, uint64_t *ms);

/* meter=HEX&from=TIME&to=TIME with from < to. Returns: WN_NE_OK or WN_NE_BAD_REQUEST
 * (detail explains). */
int wn_parse_bundle_query(wn_query_get get, void *ctx, wn_bundle_query *q, char *detail, size_t detailcap);

/* Appends the proved entry {"index":i,"entry":b64,"proof":[...]} of the entry at index in
 * the tree of `size` entries (PROTOCOL §13). Returns: a ledger error (WN_LEDGER_OK). */
int wn_bundle_add_entry(wn_node *n, wn_buf *b, uint64_t index, uint64_t size);

/* Answers GET /v1/bundle: 200 with the bundle JSON, or the error of PROTOCOL §9. */
void wn_node_bundle(wn_node *n, wn_query_get get, void *ctx, wn_response *out);

#endif
