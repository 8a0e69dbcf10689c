/* server.h — the HTTP side of the node (libmicrohttpd): listening, routing, body
 * accumulation with the size limit, and turning handler responses into HTTP.
 *
 * Threading: libmicrohttpd in epoll mode with a pool of event threads (twice the cores,
 * 4..32), each serving many connections; a readings request waiting for its group commit
 * is suspended instead of holding its thread (and handlers that may wait otherwise run on
 * four worker threads, their connections suspended), so a few threads serve thousands of
 * connections and idle or slow ones cost a descriptor and a little memory, not a thread.
 * Limits (conngate.h): --max-connections (503 with Retry-After above 7/8 of it),
 * --max-per-ip, and --timeout-ms to deliver a whole request. */
#ifndef WN_NODE_SERVER_H
#define WN_NODE_SERVER_H

#include <stddef.h>

struct wn_node;
typedef struct wn_server wn_server;

/* Listens on listen ("HOST:PORT"; HOST may be a name, an IPv4 address or [IPv6]; PORT 0
 * picks a free port) and serves node's routes, with the connection limits of node->cfg
 * (raising the open-file limit to fit them). Out: *port, the port bound.
 * Returns: 1 on success (0 logged). */
int wn_server_start(wn_server **out, struct wn_node *node, const char *listen, size_t max_body, unsigned *port);
/* Returns: 1 if listen is a HOST:PORT that resolves (nothing is bound). */
int wn_server_check_listen(const char *listen);

/* Stops listening, answers the requests waiting for the committer (which must still
 * run), closes connections, waits for the handlers still running. */
void wn_server_stop(wn_server *s);

#endif
