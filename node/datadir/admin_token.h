/* admin_token.h — the node's admin token, DIR/admin.token: a bureau bearer token the node
 * creates on first start (64 random lowercase hex characters and a newline, mode 0600,
 * never overwritten), so that the routes that change unsigned data (the monitoring
 * POSTs: acknowledgements, plans, production, settings) always need a token, also on a
 * node started without --tokens (docs/PROTOCOL.md §18). An operator may replace its
 * content with a token of their own (16..256 printable characters without spaces). */
#ifndef WN_NODE_ADMIN_TOKEN_H
#define WN_NODE_ADMIN_TOKEN_H

#include <stddef.h>

#include "node/http/access.h"

#define WN_ADMIN_TOKEN_FILE "admin.token"

/* Reads DIR/admin.token, or creates it if absent, and adds it to a as a bureau token.
 * Refuses a file readable or writable by group or others, a malformed token, or one that
 * is already in a (given in --tokens too).
 * Returns: 1; 0 with the reason in err (naming the file). */
int wn_admin_token_setup(wn_access *a, const char *data_dir, char *err, size_t errcap);

#endif
