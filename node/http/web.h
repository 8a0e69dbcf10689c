/* web.h — static files of the monitoring page (web.c). */
#ifndef WN_NODE_WEB_H
#define WN_NODE_WEB_H

#include <stddef.h>

#include "node/http/reply.h"

/* The default --web directory: web/ of the repository holding the running binary
 * (bin/wn-node -> ../web) if it has an index.html, else the installed page beside the
 * binary's prefix (/usr/bin/wn-node -> /usr/share/waternotary/web), else "web" (relative
 * to the cwd).
 * Returns: 1 if found beside the binary. */
int wn_web_default_dir(char *out, size_t cap);

/* Answers GET /ui/FILE (file already checked by the route parser; "" = the redirect to
 * /ui/) from directory dir. */
void wn_web_serve(const char *dir, const char *file, wn_response *out);

#endif
