/* query.h — the node's GET routes over the ledger (query.c): entries, proofs, checkpoints,
 * meters; tiles (tiles.h) and bundles (bundle.h) have their own. */
#ifndef WN_NODE_QUERY_H
#define WN_NODE_QUERY_H

#include "node/http/access.h"
#include "node/node.h"

/* The GET routes of m (get/ctx read query parameters) for who (access.h): an inclusion
 * proof by index carries the entry bytes (`extra`) only if who may see that entry. */
void wn_query(wn_node *n, const wn_principal *who, const wn_route_match *m, wn_query_get get, void *ctx,
              wn_response *out);

#endif
