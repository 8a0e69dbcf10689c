/* query.h — the node's GET routes over the ledger (query.c): entries, proofs, checkpoints,
 * meters; tiles (tiles.h) and bundles (bundle.h) have their own. */
#ifndef WN_NODE_QUERY_H
#define WN_NODE_QUERY_H

#include "node/node.h"

/* The GET routes of m (get/ctx read query parameters). */
void wn_query(wn_node *n, const wn_route_match *m, wn_query_get get, void *ctx, wn_response *out);

#endif
