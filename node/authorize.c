/* authorize.c — the access check of one request (authorize.h): the principal of its
 * Authorization header, what its route needs (node/http/access.h), and for a meter's data
 * whether the meter belongs to the principal's enterprise (its enterprise comes from the
 * monitor; an entry is read from the ledger to find its meter). Entry bytes leave the node
 * only to a principal allowed to see that entry (wn_access_may_see_entry, from the entry the handler read); a request that
 * changes unsigned data (the monitoring POSTs) needs a token even without --tokens. */
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

enum { ENTRY_METER = 1, ENTRY_PUBLIC, ENTRY_NONE, ENTRY_UNREADABLE };

/* What an entry's bytes are, for access: a meter's (ENTRY_METER, its id in meter), one
 * that concerns no meter (ENTRY_PUBLIC: certificates and their operations, public claims)
 * or unreadable. */
static int entry_kind(const uint8_t *e, size_t len, uint8_t meter[32])
{
    wn_entry_view v;
    if (wn_entry_parse(&v, e, len) != WN_ENTRY_OK) return ENTRY_UNREADABLE;
    switch (v.kind) {
    case WN_ENTRY_READING:
    case WN_ENTRY_ENROLMENT:
    case WN_ENTRY_REVOCATION:
        if (v.len < 33) return ENTRY_UNREADABLE;
        memcpy(meter, v.payload + 1, 32); /* version, meter id */
        return ENTRY_METER;
    case WN_ENTRY_EQUIVOCATION:
        if (v.len < 41) return ENTRY_UNREADABLE;
        memcpy(meter, v.payload + 9, 32); /* original index, version, meter id */
        return ENTRY_METER;
    default: return ENTRY_PUBLIC; /* certificates and their operations */
    }
}

/* The same for entry index, read from the ledger; ENTRY_NONE beyond the tree. */
static int entry_meter(wn_node *n, uint64_t index, uint8_t meter[32])
{
    uint8_t small[4096], *e = small; /* every entry with a meter fits */
    size_t len = 0;
    int err = wn_ledger_get(n->ledger, index, e, sizeof small, &len, NULL, NULL);
    if (err == WN_LEDGER_ESPACE) { /* a large entry: read it whole to see its type */
        e = malloc(len);
        err = e ? wn_ledger_get(n->ledger, index, e, len, &len, NULL, NULL) : WN_LEDGER_EIO;
        if (!e) e = small;
    }
    int kind = ENTRY_UNREADABLE;
    if (err == WN_LEDGER_ENOTFOUND || err == WN_LEDGER_ERANGE) kind = ENTRY_NONE;
    else if (err == WN_LEDGER_OK) kind = entry_kind(e, len, meter);
    if (e != small) free(e);
    return kind;
}

/* Whether who's enterprise owns meter. */
static int owns(wn_node *n, const wn_principal *who, const uint8_t meter[32])
{
    char ent[65];
    return who->role == WN_ROLE_ENTERPRISE && n->monitor && wn_monitor_meter_enterprise(n->monitor, meter, ent) &&
           strcmp(ent, who->enterprise) == 0;
}

int wn_access_may_see_entry(wn_node *n, const wn_principal *who, const uint8_t *entry, size_t len)
{
    if (who->role == WN_ROLE_OPEN || who->role == WN_ROLE_BUREAU) return 1;
    uint8_t meter[32];
    int kind = entry_kind(entry, len, meter);
    return kind == ENTRY_PUBLIC || (kind == ENTRY_METER && owns(n, who, meter));
}

int wn_access_check(wn_node *n, const wn_route_match *m, wn_query_get get, void *ctx, const char *authz,
                    wn_principal *who, char *detail, size_t cap)
{
    memset(who, 0, sizeof *who);
    int need = wn_access_need(m, get, ctx);
    int guarded = wn_access_guards_reads(n->access);
    if (need == WN_NEED_NONE || (!guarded && !m->is_post)) {
        /* served to anyone; a valid token still says who asks (a proof's entry bytes
         * depend on it), a missing or unknown one makes the request anonymous */
        who->role = guarded ? WN_ROLE_ANONYMOUS : WN_ROLE_OPEN;
        wn_principal p;
        char ignored[WN_DETAIL_MAX];
        if (guarded && authz && *authz && wn_access_identify(n->access, authz, &p, ignored, sizeof ignored) == WN_NE_OK)
            *who = p;
        return WN_NE_OK;
    }
    if (!n->access) { /* no table at all: nothing can be authorised */
        snprintf(detail, cap, "this node has no tokens");
        return WN_NE_UNAUTHORIZED;
    }
    int rc = wn_access_identify(n->access, authz, who, detail, cap);
    if (rc != WN_NE_OK || who->role == WN_ROLE_BUREAU || need == WN_NEED_TOKEN) return rc;
    if (need == WN_NEED_BUREAU) {
        snprintf(detail, cap, "only the bureau may read this");
        return WN_NE_FORBIDDEN;
    }
    uint8_t meter[32];
    int kind;
    if (m->route == WN_ROUTE_METER) {
        memcpy(meter, m->meter, 32);
        kind = ENTRY_METER;
    } else if (m->route == WN_ROUTE_ENTRY) {
        kind = entry_meter(n, m->index, meter);
        if (kind == ENTRY_PUBLIC || kind == ENTRY_NONE) return WN_NE_OK; /* the handler answers */
    } else {
        const char *hex = get(ctx, "meter");
        kind = hex && wn_parse_hex32(hex, meter) ? ENTRY_METER : ENTRY_UNREADABLE;
    }
    if (kind != ENTRY_METER) {
        snprintf(detail, cap, "an enterprise token may read only its own meters' data");
        return WN_NE_FORBIDDEN;
    }
    if (!owns(n, who, meter)) {
        snprintf(detail, cap, "this meter is not one of your enterprise's");
        return WN_NE_FORBIDDEN;
    }
    return WN_NE_OK;
}
