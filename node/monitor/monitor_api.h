/* monitor_api.h — GET/POST /v1/monitor/NAME (monitor_api.c, docs/PROTOCOL.md §18). */
#ifndef WN_NODE_MONITOR_API_H
#define WN_NODE_MONITOR_API_H

#include <stddef.h>

#include "node/http/access.h"
#include "node/monitor/monitor_int.h"
#include "node/node.h"

/* Answers the monitor route rm (rm->sub names it) for principal who; body/len for POST. */
void wn_monitor_api(wn_node *n, const wn_principal *who, const wn_route_match *rm, wn_query_get get, void *ctx,
                    const char *body, size_t len, wn_response *out);

#endif
