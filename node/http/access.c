/* access.c — the tokens file and what each route needs (see access.h); the check of one
 * request against the node's data is node/authorize.c. Tokens
 * are held as their SHA-256 and compared in constant time, so neither timing nor a core
 * dump of the table gives them away more than the file itself would. */
#include "node/http/access.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "node/http/errors.h"

typedef struct {
    uint8_t hash[32];
    int role;
    char enterprise[65];
} token;

struct wn_access {
    token *t;
    size_t n, cap;
    int guards_reads; /* loaded from a --tokens file */
};

const char *wn_role_name(int role)
{
    return role == WN_ROLE_BUREAU       ? "bureau"
           : role == WN_ROLE_ENTERPRISE ? "enterprise"
           : role == WN_ROLE_ANONYMOUS  ? "anonymous"
                                        : "open";
}

wn_access *wn_access_new(void) { return calloc(1, sizeof(wn_access)); }

int wn_access_guards_reads(const wn_access *a) { return a && a->guards_reads; }

static int token_ok(const char *tok, size_t tl)
{
    int printable = tl > 0;
    for (size_t i = 0; i < tl; i++) printable &= tok[i] > 0x20 && tok[i] < 0x7f;
    return printable && tl >= WN_TOKEN_MIN && tl <= WN_TOKEN_MAX;
}

/* Appends t. Returns: 1; 0 if its hash is already there (*dup set) or out of memory. */
static int push(wn_access *a, const token *t, int *dup)
{
    *dup = 0;
    for (size_t i = 0; i < a->n; i++)
        if (memcmp(a->t[i].hash, t->hash, 32) == 0) {
            *dup = 1;
            return 0;
        }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void *p = realloc(a->t, cap * sizeof *a->t);
        if (!p) return 0;
        a->t = p;
        a->cap = cap;
    }
    a->t[a->n++] = *t;
    return 1;
}

int wn_access_add(wn_access *a, const char *tok, int role, const char *ent, char *err, size_t cap)
{
    size_t tl = strlen(tok);
    if (!token_ok(tok, tl)) {
        snprintf(err, cap, "a token is %d to %d printable characters without spaces", WN_TOKEN_MIN, WN_TOKEN_MAX);
        return 0;
    }
    token t;
    memset(&t, 0, sizeof t);
    t.role = role;
    if (role == WN_ROLE_ENTERPRISE) snprintf(t.enterprise, sizeof t.enterprise, "%s", ent ? ent : "");
    wn_sha256(t.hash, tok, tl);
    int dup;
    if (!push(a, &t, &dup)) {
        snprintf(err, cap, dup ? "the token is already in the table" : "out of memory");
        return 0;
    }
    return 1;
}

static void trim(char **s)
{
    while (**s == ' ' || **s == '\t') (*s)++;
    char *e = *s + strlen(*s);
    while (e > *s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
}

/* Splits off the next space-separated word. */
static char *word(char **s)
{
    trim(s);
    if (!**s) return NULL;
    char *w = *s;
    while (**s && **s != ' ' && **s != '\t') (*s)++;
    if (**s) *(*s)++ = '\0';
    return w;
}

int wn_access_load(wn_access **out, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "cannot read %s", path);
        return 0;
    }
    wn_access *a = calloc(1, sizeof *a);
    char line[1024];
    unsigned lineno = 0;
    int ok = a != NULL;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        trim(&s);
        if (!*s || *s == '#') continue;
        char *tok = word(&s), *role = word(&s);
        trim(&s);
        char *ent = s;
        size_t tl = tok ? strlen(tok) : 0;
        if (!token_ok(tok, tl)) {
            snprintf(err, errcap, "%s line %u: a token is %d to %d printable characters without spaces", path,
                     lineno, WN_TOKEN_MIN, WN_TOKEN_MAX);
            ok = 0;
            break;
        }
        token t;
        memset(&t, 0, sizeof t);
        if (role && strcmp(role, "bureau") == 0 && !*ent) {
            t.role = WN_ROLE_BUREAU;
        } else if (role && strcmp(role, "enterprise") == 0 && *ent && strlen(ent) <= 64) {
            t.role = WN_ROLE_ENTERPRISE;
            snprintf(t.enterprise, sizeof t.enterprise, "%s", ent);
        } else {
            snprintf(err, errcap, "%s line %u: expected \"TOKEN bureau\" or \"TOKEN enterprise ENTERPRISE-ID\"", path,
                     lineno);
            ok = 0;
            break;
        }
        wn_sha256(t.hash, tok, tl);
        int dup;
        if (!push(a, &t, &dup)) {
            snprintf(err, errcap, dup ? "%s line %u: the same token is given twice" : "%s line %u: out of memory", path,
                     lineno);
            ok = 0;
        }
    }
    if (a) a->guards_reads = 1;
    memset(line, 0, sizeof line);
    fclose(f);
    if (ok && a->n == 0) {
        snprintf(err, errcap, "%s holds no token", path);
        ok = 0;
    }
    if (!ok) {
        wn_access_free(a);
        return 0;
    }
    *out = a;
    return 1;
}

void wn_access_free(wn_access *a)
{
    if (!a) return;
    free(a->t);
    free(a);
}

size_t wn_access_count(const wn_access *a) { return a ? a->n : 0; }

int wn_access_identify(const wn_access *a, const char *authz, wn_principal *p, char *detail, size_t cap)
{
    memset(p, 0, sizeof *p);
    if (!a) {
        p->role = WN_ROLE_OPEN;
        return WN_NE_OK;
    }
    if (!authz || !*authz) {
        snprintf(detail, cap, "this needs a bearer token (Authorization: Bearer TOKEN)");
        return WN_NE_UNAUTHORIZED;
    }
    if (strncasecmp(authz, "Bearer ", 7) != 0) {
        snprintf(detail, cap, "the Authorization header must be \"Bearer TOKEN\"");
        return WN_NE_UNAUTHORIZED;
    }
    const char *tok = authz + 7;
    while (*tok == ' ') tok++;
    size_t tl = strlen(tok);
    while (tl && tok[tl - 1] == ' ') tl--;
    uint8_t h[32];
    wn_sha256(h, tok, tl);
    const token *hit = NULL;
    for (size_t i = 0; i < a->n; i++) { /* every token compared, in constant time */
        unsigned diff = 0;
        for (size_t j = 0; j < 32; j++) diff |= a->t[i].hash[j] ^ h[j];
        if (diff == 0) hit = &a->t[i];
    }
    if (!hit) {
        snprintf(detail, cap, "the bearer token is not valid");
        return WN_NE_UNAUTHORIZED;
    }
    p->role = hit->role;
    snprintf(p->enterprise, sizeof p->enterprise, "%s", hit->enterprise);
    wn_hex_encode(p->token_id, h, 8);
    return WN_NE_OK;
}

int wn_access_need(const wn_route_match *m, wn_query_get get, void *ctx)
{
    switch (m->route) {
    case WN_ROUTE_ENROL:
    case WN_ROUTE_REVOKE:
    case WN_ROUTE_READINGS:   /* meters and the registrar sign what they send */
    case WN_ROUTE_CHECKPOINT:
    case WN_ROUTE_CHECKPOINTS:
    case WN_ROUTE_PROOF_CONS:
    case WN_ROUTE_PUBKEY:
    case WN_ROUTE_HEALTH:
    case WN_ROUTE_METRICS:
    case WN_ROUTE_UI:
    case WN_ROUTE_CERTIFICATES: /* signed by the authority or the holder */
    case WN_ROUTE_TRANSFERS:
    case WN_ROUTE_RETIREMENTS:
    case WN_ROUTE_CERTIFICATE:  /* certificates are public claims */
    case WN_ROUTE_PROJECT_CERTS:
    case WN_ROUTE_ENTERPRISES:  /* signed by the registrar */
    case WN_ROUTE_ENTERPRISE_BUNDLE: /* enterprise records are public: who may sign for whom */
    case WN_ROUTE_ACCREDITATIONS:
    case WN_ROUTE_ACCREDITATION_BUNDLE:
    case WN_ROUTE_CALIBRATIONS:        /* signed by the registrar */
    case WN_ROUTE_CALIBRATION_BUNDLE:  /* calibrations are public: which readings count */
    case WN_ROUTE_ANCHORS:      /* anchors concern checkpoints, which are public */
    case WN_ROUTE_CHECKPOINT_ANCHOR:
        return WN_NEED_NONE;
    case WN_ROUTE_TILE:
        return m->tile.entries ? WN_NEED_BUREAU : WN_NEED_NONE;
    case WN_ROUTE_PROOF_INCL:
        return get(ctx, "meter") ? WN_NEED_OWNER : WN_NEED_NONE;
    case WN_ROUTE_ENTRY:
    case WN_ROUTE_METER:
    case WN_ROUTE_BUNDLE:
        return WN_NEED_OWNER;
    case WN_ROUTE_MONITOR:
        return WN_NEED_TOKEN;
    default:
        return WN_NEED_BUREAU;
    }
}

/* The meter a request is about, if it names one. Returns: 1 if found. */
