/* indicators.h — the plans' indicators beside the ledger's figures (docs/PROTOCOL.md §18
 * "Indicators"): industrial value added per enterprise and year as the bureau enters it
 * (statistics, not metered, not signed), water per 10,000 CNY of value added, and which
 * quota table applies to an enterprise (by the province in its credit code). */
#ifndef WN_NODE_INDICATORS_H
#define WN_NODE_INDICATORS_H

#include <stddef.h>

#include "node/http/access.h"
#include "node/http/buf.h"
#include "node/monitor/monitor_int.h"

/* POST /v1/monitor/value_added: {"enterprise":ID,"year":YYYY,"value_added_10k_cny":"AMOUNT","by":NAME}
 * (AMOUNT > 0, in units of 10,000 CNY; replaces that year's). Returns: a node error code. */
int wn_monitor_set_value_added(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                               size_t cap);

/* ,"value_added":[{"year","value_added_10k_cny","intake_m3","m3_per_10k_cny","by","time"}] for
 * every year the bureau entered for ent (intake: Vf of that local year). Caller holds no lock. */
void wn_monitor_value_added_json(wn_monitor *m, wn_buf *b, const char *ent);

/* The province of an enterprise id: the 2 digits of the administrative division in a unified
 * social credit code (18 characters: positions 3-4), else NULL. out >= 3 bytes. */
const char *wn_credit_code_province(const char *ent, char out[3]);

#endif
