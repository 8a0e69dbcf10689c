/* authorize.h — whether one request may be served: the bearer token's principal and
 * the rule of its route (node/http/access.h), applied to the node's data. */
#ifndef WN_NODE_AUTHORIZE_H
#define WN_NODE_AUTHORIZE_H

#include <stddef.h>
#include <stdint.h>

#include "node/http/access.h"
#include "node/http/parse.h"

/* The whole check for one request: the principal of the Authorization header (may be
 * NULL), then what the route needs (for WN_NEED_OWNER the meter's enterprise is looked up
 * in the monitor; an entry is read to find its meter). Out: *who.
 * Returns: WN_NE_OK, WN_NE_UNAUTHORIZED or WN_NE_FORBIDDEN (detail says why). */
struct wn_node;
int wn_access_check(struct wn_node *n, const wn_route_match *m, wn_query_get get, void *ctx, const char *authorization,
                    wn_principal *who, char *detail, size_t detailcap);

/* Whether who may receive an entry's bytes (entry[0 .. len), as the handler read them):
 * the bureau and an uncontrolled node's open requests always; an enterprise for its own
 * meters' entries; anyone for the entries that concern no meter (certificates and their
 * operations). Returns: 1 if so. */
int wn_access_may_see_entry(struct wn_node *n, const wn_principal *who, const uint8_t *entry, size_t len);

#endif
