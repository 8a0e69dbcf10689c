/* server.h — the HTTP side of the node (libmicrohttpd): listening, routing, body
 * accumulation with the size limit, and turning handler responses into HTTP.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION with an internal
 * polling thread), so a request that waits for its group commit blocks only its own
 * thread while other connections are served, and signature checks of concurrent requests
 * run in parallel on every core. */
#ifndef WN_NODE_SERVER_H
#define WN_NODE_SERVER_H

#include <stddef.h>

struct wn_node;
typedef struct wn_server wn_server;

/* Listens on listen ("HOST:PORT"; HOST may be a name, an IPv4 address or [IPv6]; PORT 0
 * picks a free port) and serves node's routes. Out: *port, the port bound.
 * Returns: 1 on success (0 logged). */
int wn_server_start(wn_server **out, struct wn_node *node, const char *listen, size_t max_body, unsigned *port);
/* Returns: 1 if listen is a HOST:PORT that resolves (nothing is bound). */
int wn_server_check_listen(const char *listen);

/* Stops listening, closes connections, waits for the handlers still running. */
void wn_server_stop(wn_server *s);

#endif
