/* access.h — who may read what (docs/PROTOCOL.md §18): bearer tokens from the file given
 * with --tokens, one per line "TOKEN ROLE [ENTERPRISE]", ROLE being `bureau` (water-bureau
 * staff: everything) or `enterprise` (its own meters only), and the node's admin token
 * (DIR/admin.token, a bureau token the node creates on first start). Without a tokens file
 * reads are not controlled (every read is served as the bureau would be), but a request
 * that changes something unsigned (the monitoring POSTs) always needs a token.
 *
 * With a tokens file, checkpoints, tiles of hashes, proofs by index, consistency
 * proofs, the public keys, /healthz, /metrics, the page's static files and the meters'
 * and registrar's POSTs stay public; a meter's data (entries, proofs by meter and
 * sequence, meter status, bundles, entry tiles) needs the bureau or the meter's own
 * enterprise; /v1/monitor/... needs a token, and what it shows is cut to the token's
 * enterprise. */
#ifndef WN_NODE_ACCESS_H
#define WN_NODE_ACCESS_H

#include <stddef.h>

#include "node/http/parse.h"

/* WN_ROLE_OPEN: reads are not controlled (no --tokens), sees everything as the bureau;
 * WN_ROLE_ANONYMOUS: reads are controlled and no valid token was sent (public data only). */
enum wn_role { WN_ROLE_OPEN = 0, WN_ROLE_BUREAU, WN_ROLE_ENTERPRISE, WN_ROLE_ANONYMOUS };

#define WN_TOKEN_MIN 16
#define WN_TOKEN_MAX 256

/* Who is asking. */
typedef struct {
    int role;                 /* enum wn_role */
    char enterprise[65];      /* WN_ROLE_ENTERPRISE: its enterprise id */
    char token_id[17];        /* 16 hex of SHA-256(token): names the token in records */
} wn_principal;

typedef struct wn_access wn_access;

/* Reads the tokens file. Blank lines and lines starting with '#' are ignored; a token
 * has WN_TOKEN_MIN..WN_TOKEN_MAX printable characters without spaces; tokens are unique.
 * Returns: 1 on success, 0 with a reason in err (errcap bytes) naming the line. */
int wn_access_load(wn_access **out, const char *path, char *err, size_t errcap);
void wn_access_free(wn_access *a);
/* An empty table that does not control reads (no --tokens). Returns: NULL if out of memory. */
wn_access *wn_access_new(void);
/* Adds a token (role WN_ROLE_BUREAU, or WN_ROLE_ENTERPRISE of enterprise).
 * Returns: 1; 0 if it is malformed (WN_TOKEN_MIN..WN_TOKEN_MAX printable characters
 * without spaces) or already in the table (err says which). */
int wn_access_add(wn_access *a, const char *token, int role, const char *enterprise, char *err, size_t errcap);
/* Whether reads are controlled: 1 for a table loaded from a --tokens file. */
int wn_access_guards_reads(const wn_access *a);
/* Number of tokens loaded. */
size_t wn_access_count(const wn_access *a);

/* The principal of an Authorization header ("Bearer TOKEN"); a == NULL gives WN_ROLE_OPEN.
 * Returns: WN_NE_OK or WN_NE_UNAUTHORIZED (detail says why). Tokens are compared in
 * constant time. */
int wn_access_identify(const wn_access *a, const char *authorization, wn_principal *p, char *detail,
                       size_t detailcap);

/* What a route needs. */
enum wn_access_need {
    WN_NEED_NONE = 0,   /* public */
    WN_NEED_TOKEN,      /* any valid token (the handler filters by enterprise) */
    WN_NEED_BUREAU,     /* the bureau */
    WN_NEED_OWNER       /* the bureau, or the enterprise of the meter concerned */
};
int wn_access_need(const wn_route_match *m, wn_query_get get, void *ctx);

/* The name of a role ("bureau", "enterprise", "open"). */
const char *wn_role_name(int role);

#endif
