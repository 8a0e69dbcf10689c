/* authorize.c — the access check of one request (authorize.h): the principal of its
 * Authorization header, what its route needs (node/http/access.h), and for a meter's data
 * whether the meter belongs to the principal's enterprise (its enterprise comes from the
 * monitor; an entry is read from the ledger to find its meter). */
#include "node/authorize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/reading.h"
#include "ledger/entry.h"
#include "node/http/errors.h"
#include "node/monitor/monitor.h"
#include "node/node.h"

static int meter_of(wn_node *n, const wn_route_match *m, wn_query_get get, void *ctx, uint8_t meter[32])
{
    if (m->route == WN_ROUTE_METER) {
        memcpy(meter, m->meter, 32);
        return 1;
    }
    if (m->route == WN_ROUTE_ENTRY) {
        uint8_t e[2048]; /* every entry with a meter fits (readings, records, evidence) */
        size_t len;
        if (wn_ledger_get(n->ledger, m->index, e, sizeof e, &len, NULL, NULL) != WN_LEDGER_OK) return 0;
        switch (len ? e[0] : 0) {
        case WN_ENTRY_READING:
        case WN_ENTRY_ENROLMENT:
        case WN_ENTRY_REVOCATION:
            if (len < 34) return 0;
            memcpy(meter, e + 2, 32); /* type, version, meter id */
            return 1;
        case WN_ENTRY_EQUIVOCATION:
            if (len < 42) return 0;
            memcpy(meter, e + 10, 32); /* type, original index, version, meter id */
            return 1;
        default: return 0;
        }
    }
    const char *hex = get(ctx, "meter");
    return hex && wn_parse_hex32(hex, meter);
}

int wn_access_check(wn_node *n, const wn_route_match *m, wn_query_get get, void *ctx, const char *authz,
                    wn_principal *who, char *detail, size_t cap)
{
    memset(who, 0, sizeof *who);
    int need = wn_access_need(m, get, ctx);
    if (!n->access || need == WN_NEED_NONE) return WN_NE_OK; /* who: WN_ROLE_OPEN, unused */
    int rc = wn_access_identify(n->access, authz, who, detail, cap);
    if (rc != WN_NE_OK || who->role == WN_ROLE_BUREAU || need == WN_NEED_TOKEN) return rc;
    if (need == WN_NEED_BUREAU) {
        snprintf(detail, cap, "only the bureau may read this");
        return WN_NE_FORBIDDEN;
    }
    uint8_t meter[32];
    char ent[65];
    if (!meter_of(n, m, get, ctx, meter)) {
        if (m->route == WN_ROUTE_ENTRY) { /* not a meter's entry, or none: the handler answers */
            uint8_t *e = malloc(1 << 16);
            size_t len = 0;
            int err = e ? wn_ledger_get(n->ledger, m->index, e, 1 << 16, &len, NULL, NULL) : WN_LEDGER_EIO;
            int other = err == WN_LEDGER_OK && len && e[0] > WN_ENTRY_EQUIVOCATION; /* certificates: public */
            free(e);
            if (other || err == WN_LEDGER_ENOTFOUND || err == WN_LEDGER_ERANGE) return WN_NE_OK;
        }
        snprintf(detail, cap, "an enterprise token may read only its own meters' data");
        return WN_NE_FORBIDDEN;
    }
    if (!n->monitor || !wn_monitor_meter_enterprise(n->monitor, meter, ent) || strcmp(ent, who->enterprise) != 0) {
        snprintf(detail, cap, "this meter is not one of your enterprise's");
        return WN_NE_FORBIDDEN;
    }
    return WN_NE_OK;
}
