/* monitor_conf.h — the monitor's inputs from people (monitor_conf.c): thresholds, annual
 * plans, production figures, acknowledgements, and the quota table of water per unit
 * product. Each setter parses a JSON request body, stores the result durably in the
 * bureau store and returns a node error code (errors.h) with a detail for people. */
#ifndef WN_NODE_MONITOR_CONF_H
#define WN_NODE_MONITOR_CONF_H

#include <stddef.h>

#include "node/http/access.h"
#include "node/http/buf.h"
#include "node/monitor/monitor_int.h"

/* The product catalogue: the products production figures may name, and their units. The
 * quotas themselves are data, one file per province (quota_files.h). */
typedef struct {
    const char *product; /* stable name used in the API, e.g. "crude_steel" */
    const char *zh, *en; /* names for people */
    const char *unit;    /* unit of output: "t", "kL", "100m" */
} wn_quota;

/* The province whose quota table judges an enterprise id that is not a credit code. */
#define WN_QUOTA_PROVINCE "43"

const wn_quota *wn_quota_table(size_t *n);
const wn_quota *wn_quota_find(const char *product);

/* The thresholds as one JSON object. */
void wn_monitor_settings_json(wn_buf *b, const wn_monitor_settings *s);

/* POST /v1/monitor/settings: a JSON object with any of the settings' members. */
int wn_monitor_set_settings(wn_monitor *m, const char *body, size_t len, char *detail, size_t cap);
/* POST /v1/monitor/plans: {"enterprise":ID,"year":YYYY,"plan_m3":"AMOUNT"}. */
int wn_monitor_set_plan(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                        size_t cap);
/* POST /v1/monitor/production: {"enterprise":ID,"month":"YYYY-MM","product":NAME,"quantity":"AMOUNT"};
 * an enterprise token only for its own enterprise. */
int wn_monitor_set_production(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                              size_t cap);
/* POST /v1/monitor/ack: {"alert":ID,"by":NAME,"note":TEXT}. */
int wn_monitor_ack(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail, size_t cap);

#endif
