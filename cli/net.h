/* net.h — the `wn` subcommands' HTTP client for a notary node (libcurl): one request,
 * the status and the whole body. Transport failures are printed as "wn <cmd>: ...". */
#ifndef WN_CLI_NET_H
#define WN_CLI_NET_H

#include <stddef.h>

typedef struct {
    long status;  /* HTTP status; 0 if no answer */
    char *body;   /* malloc'd, NUL-terminated (also on error statuses) */
    size_t len;
} wn_cli_resp;

/* Sends method node_url + path (node_url without a trailing slash is fine either way)
 * with an optional JSON body. Returns: 1 if the node answered (any status), 0 after
 * printing why it could not be reached. Free r->body after either. */
int wn_cli_http(const char *cmd, const char *node_url, const char *method, const char *path, const char *json,
                wn_cli_resp *r);

/* The node's error answer as "CODE: detail" (or the raw body), for messages. */
const char *wn_cli_node_error(const wn_cli_resp *r, char *buf, size_t cap);

#endif
