/* tiles.h — the node's tree as a C2SP tlog-tiles log (docs/PROTOCOL.md §9, §14), so that
 * existing log tools can mirror it: hash tiles and entry bundles (ledger/tlog/tile.h gives the
 * addressing), and the list of stored checkpoints an auditor replays (GET /v1/checkpoints).
 * GET /checkpoint is served by query.c as GET /v1/checkpoint.
 *
 * Only tiles that lie within the latest checkpoint's tree are served (404 otherwise), so a
 * tile once served never changes: full tiles are sent with long-lived caching headers. */
#ifndef WN_NODE_TILES_H
#define WN_NODE_TILES_H

#include "ledger/tlog/tile.h"
#include "node/node.h"
#include "node/http/parse.h"
#include "node/http/reply.h"

#define WN_TYPE_OCTETS "application/octet-stream"
#define WN_CACHE_FULL_TILE "public, max-age=31536000, immutable"
#define WN_CACHE_PARTIAL_TILE "public, max-age=60"
#define WN_CHECKPOINTS_PAGE 1000 /* checkpoints in one GET /v1/checkpoints answer */

/* GET /tile/...: 200 with the tile's bytes (hash tile: W concatenated 32-byte hashes; entry
 * bundle: W times u16 length || entry), or 404 not_found if the latest checkpoint's tree
 * does not hold all W hashes or entries (or there is no checkpoint yet). */
void wn_node_tile(wn_node *n, const wn_tile *t, wn_response *out);

/* GET /v1/checkpoints[?from=SIZE]: the stored checkpoints of size >= SIZE (default 0) in
 * ascending size, at most WN_CHECKPOINTS_PAGE:
 * {"checkpoints":[{"size":n,"checkpoint":note}...],"next":n|null}, next being the from of
 * the following page. 400 bad_request for a malformed SIZE. */
void wn_node_checkpoints(wn_node *n, wn_query_get get, void *ctx, wn_response *out);

#endif
