/* monitor_export.h — GET /v1/monitor/export (docs/PROTOCOL.md §18 "Export"): the page's
 * tables, the alert list and an enterprise's monthly water statistics report (用水统计月报)
 * as RFC 4180 CSV or Excel .xlsx (libxlsxwriter), each file stating the ledger range its
 * figures come from, the latest signed checkpoint and the zone. Built from the same answers
 * as the JSON routes (monitor_api.c), so a figure in a file is the figure on the page. */
#ifndef WN_NODE_MONITOR_EXPORT_H
#define WN_NODE_MONITOR_EXPORT_H

#include "node/http/access.h"
#include "node/http/parse.h"
#include "node/http/reply.h"
#include "node/node.h"

#define WN_EXPORT_MAX_ROWS 20000u /* rows of one file */

void wn_monitor_export(wn_node *n, const wn_principal *who, wn_query_get get, void *ctx, wn_response *out);

#endif
