/* parse.c — request parsing without a server: routes, media types, reading bodies
 * (JSON single, JSON batch, binary batch), enrolment/revocation bodies, query values.
 * Everything here is strict and bounded; it is the node's attack surface, and
 * tests/fuzz/fuzz_http.c runs it under libFuzzer. */
#include "node/http/parse.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "node/http/errors.h"

static void say(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *detail, size_t cap, const char *fmt, ...)
{
    if (!detail || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, cap, fmt, ap);
    va_end(ap);
}

/* ---- scalars ---- */

int wn_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20) return 0;
    if (s[0] == '0' && s[1] != '\0') return 0;
    uint64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9') return 0;
        unsigned d = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (v > max) return 0;
    *out = v;
    return 1;
}

int wn_parse_hex32(const char *s, uint8_t out[32])
{
    return s && wn_hex_decode(out, 32, s, strlen(s));
}

/* ---- routes ---- */

static int is_get(const char *m) { return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0; }

/* /v1/monitor/NAME (docs/PROTOCOL.md §18): the names that exist and whether they take
 * GET, POST or both. */
static int monitor_route(const char *method, const char *path, wn_route_match *m, char *detail, size_t cap)
{
    static const struct {
        const char *name;
        int get, post;
    } names[] = {
        {"overview", 1, 0}, {"enterprises", 1, 0}, {"enterprise", 1, 0}, {"balance", 1, 0},
        {"meter", 1, 0},    {"alerts", 1, 0},      {"ack", 0, 1},        {"plans", 1, 1},
        {"production", 1, 1}, {"settings", 1, 1},  {"quotas", 1, 0},     {"whoami", 1, 0},
        {"labels", 1, 1},   {"label_log", 1, 0},  {"export", 1, 0},
        {"value_added", 0, 1},
    };
    const char *name = path + 12;
    m->route = WN_ROUTE_MONITOR;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) != 0) continue;
        snprintf(m->sub, sizeof m->sub, "%s", name);
        if (names[i].post && strcmp(method, "POST") == 0) {
            m->is_post = 1;
            return WN_NE_OK;
        }
        if (names[i].get && is_get(method)) return WN_NE_OK;
        say(detail, cap, "%.100s takes %s", path, names[i].get && names[i].post ? "GET or POST" : names[i].post ? "POST" : "GET");
        return WN_NE_METHOD_NOT_ALLOWED;
    }
    say(detail, cap, "no such path: %.100s", path);
    return WN_NE_NOT_FOUND;
}

/* A file under /ui/: letters, digits, '.', '_', '-' and '/', no empty or dot-first
 * segment (so no "..", no hidden files); "" is index.html. Returns: 1 if acceptable. */
static int ui_file(const char *f, char *out, size_t cap)
{
    if (!*f) f = "index.html";
    size_t n = strlen(f);
    if (n >= cap) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = f[i];
        int seg_start = i == 0 || f[i - 1] == '/';
        if (seg_start && (c == '.' || c == '/')) return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '/'))
            return 0;
    }
    if (f[n - 1] == '/') return 0;
    memcpy(out, f, n + 1);
    return 1;
}

int wn_route_parse(const char *method, const char *path, wn_route_match *m, char *detail, size_t cap)
{
    static const struct {
        const char *path;
        int route, post;
    } fixed[] = {
        {"/v1/enrolments", WN_ROUTE_ENROL, 1},       {"/v1/revocations", WN_ROUTE_REVOKE, 1},
        {"/v1/readings", WN_ROUTE_READINGS, 1},      {"/v1/checkpoint", WN_ROUTE_CHECKPOINT, 0},
        {"/v1/proof/inclusion", WN_ROUTE_PROOF_INCL, 0}, {"/v1/proof/consistency", WN_ROUTE_PROOF_CONS, 0},
        {"/v1/pubkey", WN_ROUTE_PUBKEY, 0},          {"/healthz", WN_ROUTE_HEALTH, 0},
        {"/metrics", WN_ROUTE_METRICS, 0},
        {"/v1/bundle", WN_ROUTE_BUNDLE, 0},
        {"/checkpoint", WN_ROUTE_CHECKPOINT, 0},     {"/v1/checkpoints", WN_ROUTE_CHECKPOINTS, 0},
        {"/v1/anchors", WN_ROUTE_ANCHORS, 0},        {"/v1/checkpoint/anchor", WN_ROUTE_CHECKPOINT_ANCHOR, 0},
        {"/v1/certificates", WN_ROUTE_CERTIFICATES, 1}, {"/v1/transfers", WN_ROUTE_TRANSFERS, 1},
        {"/v1/retirements", WN_ROUTE_RETIREMENTS, 1}, {"/v1/project/certificates", WN_ROUTE_PROJECT_CERTS, 0},
        {"/v1/enterprises", WN_ROUTE_ENTERPRISES, 1}, {"/v1/enterprises/bundle", WN_ROUTE_ENTERPRISE_BUNDLE, 0},
        {"/v1/accreditations", WN_ROUTE_ACCREDITATIONS, 1}, {"/v1/accreditations/bundle", WN_ROUTE_ACCREDITATION_BUNDLE, 0},
        {"/v1/calibrations", WN_ROUTE_CALIBRATIONS, 1}, {"/v1/calibrations/bundle", WN_ROUTE_CALIBRATION_BUNDLE, 0},
    };
    memset(m, 0, sizeof *m);
    if (!method || !path) {
        say(detail, cap, "no method or path");
        return WN_NE_BAD_REQUEST;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (strcmp(path, fixed[i].path) != 0) continue;
        m->route = fixed[i].route;
        m->is_post = fixed[i].post;
        goto method;
    }
    if (strncmp(path, "/v1/entries/", 12) == 0) {
        m->route = WN_ROUTE_ENTRY;
        if (!wn_parse_u64(path + 12, UINT64_MAX >> 1, &m->index)) {
            say(detail, cap, "entry index must be a decimal number without leading zeros");
            return is_get(method) ? WN_NE_BAD_REQUEST : WN_NE_METHOD_NOT_ALLOWED;
        }
        goto method;
    }
    if (strncmp(path, "/tile/", 6) == 0) {
        m->route = WN_ROUTE_TILE;
        if (!wn_tile_parse(path + 1, &m->tile)) {
            say(detail, cap, "a tile path is /tile/L/N[.p/W] or /tile/entries/N[.p/W] (c2sp.org/tlog-tiles)");
            return is_get(method) ? WN_NE_BAD_REQUEST : WN_NE_METHOD_NOT_ALLOWED;
        }
        goto method;
    }
    if (strncmp(path, "/v1/certificates/", 17) == 0) {
        m->route = WN_ROUTE_CERTIFICATE;
        if (!wn_parse_u64(path + 17, UINT64_MAX >> 1, &m->index)) {
            say(detail, cap, "a certificate is named by its ledger index: a decimal number without leading zeros");
            return is_get(method) ? WN_NE_BAD_REQUEST : WN_NE_METHOD_NOT_ALLOWED;
        }
        goto method;
    }
    if (strncmp(path, "/v1/meters/", 11) == 0) {
        m->route = WN_ROUTE_METER;
        if (!wn_parse_hex32(path + 11, m->meter)) {
            say(detail, cap, "meter id must be 64 lowercase hex characters");
            return is_get(method) ? WN_NE_BAD_REQUEST : WN_NE_METHOD_NOT_ALLOWED;
        }
        goto method;
    }
    if (strncmp(path, "/v1/monitor/", 12) == 0) return monitor_route(method, path, m, detail, cap);
    if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0) {
        m->route = WN_ROUTE_UI;
        if (strncmp(path, "/ui/", 4) == 0 && !ui_file(path + 4, m->sub, sizeof m->sub)) {
            say(detail, cap, "no such file: %.100s", path);
            return WN_NE_NOT_FOUND;
        }
        goto method;
    }
    say(detail, cap, "no such path: %.100s", path);
    return WN_NE_NOT_FOUND;
method:
    if (m->is_post ? strcmp(method, "POST") != 0 : !is_get(method)) {
        say(detail, cap, "%.100s takes %s", path, m->is_post ? "POST" : "GET");
        return WN_NE_METHOD_NOT_ALLOWED;
    }
    return WN_NE_OK;
}

/* ---- media types ---- */

/* Does content_type name `type` (case-insensitive), optionally followed by parameters? */
static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0) return 0;
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t') rest++;
    return *rest == '\0' || *rest == ';';
}

int wn_parse_media_type(const char *ct, int allow_binary, int *kind)
{
    if (!ct || !*ct || media_is(ct, "application/json")) {
        *kind = WN_BODY_JSON;
        return WN_NE_OK;
    }
    if (allow_binary && media_is(ct, WN_BINARY_TYPE)) {
        *kind = WN_BODY_BINARY;
        return WN_NE_OK;
    }
    return WN_NE_UNSUPPORTED_MEDIA;
}

/* ---- JSON helpers ---- */

/* Parses exactly one JSON value filling body[0..len) (whitespace around it allowed),
 * after the lexical rules of docs/PROTOCOL.md §2 that cJSON would blur (NUL bytes, raw
 * control characters, "\u0000", numbers that are not plain integers). */
static cJSON *parse_json(const char *body, size_t len, char *detail, size_t cap)
{
    const char *end = NULL;
    if (len == 0) {
        say(detail, cap, "empty body");
        return NULL;
    }
    const char *why = wn_json_lexical_problem(body, len);
    if (why) {
        say(detail, cap, "JSON text: %s", why);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        say(detail, cap, "not valid JSON (near byte %zu)", at);
        return NULL;
    }
    for (const char *p = end; p < body + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            say(detail, cap, "unexpected data after the JSON value (byte %zu)", (size_t)(p - body));
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* ---- readings ---- */

static void reading_error(wn_parsed_reading *it, int rerr, const char *why)
{
    it->err = WN_NE_MALFORMED_READING;
    if (why && *why)
        snprintf(it->detail, sizeof it->detail, "%s: %s", wn_reading_errcode(rerr), why);
    else
        snprintf(it->detail, sizeof it->detail, "%s: %s", wn_reading_errcode(rerr), wn_reading_strerror(rerr));
}

/* Meter and sequence of a JSON reading that failed to decode, if they are readable. */
static void json_ids(wn_parsed_reading *it, const cJSON *o)
{
    if (!cJSON_IsObject(o)) return;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "meter");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");
    if (cJSON_IsString(m) && wn_parse_hex32(m->valuestring, it->meter)) it->has_meter = 1;
    if (cJSON_IsNumber(s) && s->valuedouble >= 0 && s->valuedouble <= (double)WN_READING_MAX_SEQ &&
        s->valuedouble == (double)(uint64_t)s->valuedouble) {
        it->seq = (uint64_t)s->valuedouble;
        it->has_seq = 1;
    }
}

static void parse_json_reading(wn_parsed_reading *it, const cJSON *o)
{
    char why[WN_DETAIL_MAX] = "";
    int rc = wn_reading_from_cjson(&it->r, o, why, sizeof why);
    if (rc == WN_READING_OK) rc = wn_reading_encode(&it->r, it->bytes, sizeof it->bytes, &it->len);
    if (rc != WN_READING_OK) {
        json_ids(it, o);
        reading_error(it, rc, why);
        return;
    }
    memcpy(it->meter, it->r.meter, 32);
    it->seq = it->r.seq;
    it->has_meter = it->has_seq = 1;
    it->err = WN_NE_OK;
}

static void parse_binary_reading(wn_parsed_reading *it, const uint8_t *p, size_t len, wn_known_meter known,
                                 void *known_ctx)
{
    if (len >= 41) {
        memcpy(it->meter, p + 1, 32);
        it->seq = wn_get_u64(p + 33);
        it->has_meter = it->has_seq = 1;
    }
    int rc = known && len >= 33 && known(known_ctx, p + 1) ? wn_reading_decode_known_meter(&it->r, p, len)
                                                          : wn_reading_decode(&it->r, p, len);
    if (rc != WN_READING_OK) {
        reading_error(it, rc, NULL);
        return;
    }
    memcpy(it->bytes, p, len);
    it->len = len;
    it->err = WN_NE_OK;
}

static int alloc_items(wn_parsed_batch *out, size_t n, char *detail, size_t cap)
{
    if (n > WN_BATCH_MAX_ITEMS) {
        say(detail, cap, "more than %d readings in one request", WN_BATCH_MAX_ITEMS);
        return WN_NE_MALFORMED_READING;
    }
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) {
        say(detail, cap, "out of memory");
        return WN_NE_INTERNAL;
    }
    out->n = n;
    return WN_NE_OK;
}

static int parse_binary(wn_parsed_batch *out, const uint8_t *p, size_t len, wn_known_meter known, void *known_ctx,
                        char *detail, size_t cap)
{
    size_t n = 0;
    for (size_t off = 0; off < len;) {
        if (len - off < 2) {
            say(detail, cap, "binary batch: a length prefix is cut off at byte %zu", off);
            return WN_NE_MALFORMED_READING;
        }
        size_t l = wn_get_u16(p + off);
        if (l == 0 || l > len - off - 2) {
            say(detail, cap, "binary batch: reading at byte %zu has length %zu, %zu bytes left", off, l,
                len - off - 2);
            return WN_NE_MALFORMED_READING;
        }
        off += 2 + l;
        n++;
    }
    if (n == 0) {
        say(detail, cap, "binary batch: no readings");
        return WN_NE_MALFORMED_READING;
    }
    int rc = alloc_items(out, n, detail, cap);
    if (rc != WN_NE_OK) return rc;
    size_t i = 0;
    for (size_t off = 0; off < len; i++) {
        size_t l = wn_get_u16(p + off);
        parse_binary_reading(&out->items[i], p + off + 2, l, known, known_ctx);
        off += 2 + l;
    }
    return WN_NE_OK;
}

int wn_parse_readings(wn_parsed_batch *out, const char *body, size_t len, int kind, char *detail, size_t cap)
{
    return wn_parse_readings_known(out, body, len, kind, NULL, NULL, detail, cap);
}

int wn_parse_readings_known(wn_parsed_batch *out, const char *body, size_t len, int kind, wn_known_meter known,
                            void *known_ctx, char *detail, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (kind == WN_BODY_BINARY) return parse_binary(out, (const uint8_t *)body, len, known, known_ctx, detail, cap);

    cJSON *j = parse_json(body, len, detail, cap);
    if (!j) return WN_NE_MALFORMED_JSON;
    int rc = WN_NE_OK;
    if (!cJSON_IsObject(j)) {
        say(detail, cap, "expected a reading object or {\"readings\":[...]}");
        rc = WN_NE_MALFORMED_JSON;
        goto done;
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "readings");
    if (!arr) {
        out->single = 1;
        rc = alloc_items(out, 1, detail, cap);
        if (rc == WN_NE_OK) parse_json_reading(&out->items[0], j);
        goto done;
    }
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(j) != 1) {
        say(detail, cap, "a batch is {\"readings\":[...]} with nothing else");
        rc = WN_NE_MALFORMED_JSON;
        goto done;
    }
    size_t n = 0;
    for (const cJSON *e = arr->child; e; e = e->next) n++;
    rc = alloc_items(out, n, detail, cap);
    if (rc != WN_NE_OK) goto done;
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) parse_json_reading(&out->items[i], e);
done:
    cJSON_Delete(j);
    return rc;
}

void wn_parsed_batch_free(wn_parsed_batch *b)
{
    free(b->items);
    memset(b, 0, sizeof *b);
}

/* ---- enrolment records ---- */

static int parse_record(void *rec, int (*from)(void *, const void *, char *, size_t), const char *body,
                        size_t len, char *detail, size_t cap)
{
    cJSON *j = parse_json(body, len, detail, cap);
    if (!j) return WN_NE_MALFORMED_JSON;
    int rc = WN_NE_OK;
    if (!cJSON_IsObject(j)) {
        say(detail, cap, "expected a JSON object");
        rc = WN_NE_MALFORMED_JSON;
    } else {
        char why[WN_DETAIL_MAX] = "";
        int e = from(rec, j, why, sizeof why);
        if (e != WN_ENROL_OK) {
            say(detail, cap, "%s", *why ? why : wn_enrol_strerror(e));
            rc = WN_NE_MALFORMED_RECORD;
        }
    }
    cJSON_Delete(j);
    return rc;
}

static int from_enrolment(void *rec, const void *j, char *d, size_t c)
{
    return wn_enrolment_from_cjson(rec, j, d, c);
}

static int from_revocation(void *rec, const void *j, char *d, size_t c)
{
    return wn_revocation_from_cjson(rec, j, d, c);
}

int wn_parse_enrolment(wn_enrolment *e, const char *body, size_t len, char *detail, size_t cap)
{
    memset(e, 0, sizeof *e);
    return parse_record(e, from_enrolment, body, len, detail, cap);
}

int wn_parse_revocation(wn_revocation *r, const char *body, size_t len, char *detail, size_t cap)
{
    memset(r, 0, sizeof *r);
    return parse_record(r, from_revocation, body, len, detail, cap);
}

/* ---- query parameters ---- */

static int query_u64(wn_query_get get, void *ctx, const char *key, uint64_t min, int *present, uint64_t *v,
                     char *detail, size_t cap)
{
    const char *s = get(ctx, key);
    *present = s != NULL;
    if (!s) return WN_NE_OK;
    if (!wn_parse_u64(s, UINT64_MAX >> 1, v) || *v < min) {
        say(detail, cap, "%s must be a decimal number >= %llu", key, (unsigned long long)min);
        return WN_NE_BAD_REQUEST;
    }
    return WN_NE_OK;
}

int wn_parse_incl_query(wn_query_get get, void *ctx, wn_incl_query *q, char *detail, size_t cap)
{
    memset(q, 0, sizeof *q);
    int has_index, has_seq, has_size;
    int rc = query_u64(get, ctx, "index", 0, &has_index, &q->index, detail, cap);
    if (rc == WN_NE_OK) rc = query_u64(get, ctx, "seq", 1, &has_seq, &q->seq, detail, cap);
    if (rc == WN_NE_OK) rc = query_u64(get, ctx, "size", 1, &has_size, &q->size, detail, cap);
    if (rc != WN_NE_OK) return rc;
    const char *meter = get(ctx, "meter");
    if (meter && !wn_parse_hex32(meter, q->meter)) {
        say(detail, cap, "meter must be 64 lowercase hex characters");
        return WN_NE_BAD_REQUEST;
    }
    if (has_index && !meter && !has_seq) return WN_NE_OK;
    if (!has_index && meter && has_seq) {
        q->by_meter = 1;
        return WN_NE_OK;
    }
    say(detail, cap, "give either index=N or meter=HEX&seq=N");
    return WN_NE_BAD_REQUEST;
}

int wn_parse_cons_query(wn_query_get get, void *ctx, uint64_t *from, uint64_t *to, char *detail, size_t cap)
{
    int has_from, has_to;
    *from = *to = 0;
    int rc = query_u64(get, ctx, "from", 1, &has_from, from, detail, cap);
    if (rc == WN_NE_OK) rc = query_u64(get, ctx, "to", 1, &has_to, to, detail, cap);
    if (rc != WN_NE_OK) return rc;
    if (!has_from) {
        say(detail, cap, "from=M (the old checkpoint's size, >= 1) is required");
        return WN_NE_BAD_REQUEST;
    }
    if (has_to && *to < *from) {
        say(detail, cap, "to must not be smaller than from");
        return WN_NE_BAD_REQUEST;
    }
    return WN_NE_OK;
}

int wn_parse_checkpoint_query(wn_query_get get, void *ctx, uint64_t *size, char *detail, size_t cap)
{
    int has;
    *size = 0;
    return query_u64(get, ctx, "size", 1, &has, size, detail, cap);
}
