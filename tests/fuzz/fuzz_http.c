/* fuzz_http.c — libFuzzer target for the node's request parsing (node/http/parse.c), which is
 * everything a client controls before a request reaches the ledger: reading bodies (JSON
 * single, JSON batch, binary batch), enrolment and revocation bodies, routes, media types
 * and query parameters.
 *
 * Input: the first byte picks the parser, the rest is its input. Invariants: no crash or
 * out-of-bounds access; every per-reading result is either decoded (and then re-encodes
 * to exactly the bytes kept for the ledger, which decode back) or rejected with a detail;
 * request-level errors come with a detail; parsed routes and queries obey their rules.
 * Seeds in tests/fuzz/corpus/http/ start with the selector byte ('0'..'6').
 */
// fuzz-sources: node/http/parse.c node/http/errors.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "node/http/errors.h"
#include "node/http/parse.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void readings(const char *body, size_t len, int kind)
{
    wn_parsed_batch b;
    char detail[WN_DETAIL_MAX] = "";
    int rc = wn_parse_readings(&b, body, len, kind, detail, sizeof detail);
    if (rc != WN_NE_OK) {
        CHECK(rc == WN_NE_MALFORMED_JSON || rc == WN_NE_MALFORMED_READING || rc == WN_NE_INTERNAL);
        CHECK(detail[0] != '\0');
        wn_parsed_batch_free(&b);
        return;
    }
    CHECK(!b.single || b.n == 1);
    CHECK(kind == WN_BODY_JSON || !b.single);
    for (size_t i = 0; i < b.n; i++) {
        const wn_parsed_reading *it = &b.items[i];
        if (it->err != WN_NE_OK) {
            CHECK(it->err == WN_NE_MALFORMED_READING);
            CHECK(memchr(it->detail, '\0', sizeof it->detail) && it->detail[0] != '\0');
            continue;
        }
        CHECK(it->has_meter && it->has_seq && it->seq == it->r.seq && memcmp(it->meter, it->r.meter, 32) == 0);
        uint8_t again[WN_READING_MAX_LEN];
        size_t n;
        CHECK(wn_reading_encode(&it->r, again, sizeof again, &n) == WN_READING_OK);
        CHECK(n == it->len && memcmp(again, it->bytes, n) == 0);
        wn_reading back;
        CHECK(wn_reading_decode(&back, it->bytes, it->len) == WN_READING_OK);
    }
    wn_parsed_batch_free(&b);
}

static void records(const char *body, size_t len, int revocation)
{
    char detail[WN_DETAIL_MAX] = "";
    int rc;
    uint8_t buf[WN_ENROLMENT_MAX_LEN];
    size_t n;
    if (!revocation) {
        wn_enrolment e, back;
        rc = wn_parse_enrolment(&e, body, len, detail, sizeof detail);
        if (rc == WN_NE_OK) {
            CHECK(wn_enrolment_encode(&e, buf, sizeof buf, &n) == WN_ENROL_OK);
            CHECK(wn_enrolment_decode(&back, buf, n) == WN_ENROL_OK);
        }
    } else {
        wn_revocation r, back;
        rc = wn_parse_revocation(&r, body, len, detail, sizeof detail);
        if (rc == WN_NE_OK) {
            CHECK(wn_revocation_encode(&r, buf) == WN_ENROL_OK);
            CHECK(wn_revocation_decode(&back, buf, WN_REVOCATION_LEN) == WN_ENROL_OK);
        }
    }
    CHECK(rc == WN_NE_OK || rc == WN_NE_MALFORMED_JSON || rc == WN_NE_MALFORMED_RECORD);
    CHECK(rc == WN_NE_OK || detail[0] != '\0');
}

static void route(const char *s)
{
    const char *sp = strchr(s, ' ');
    if (!sp) return;
    char method[16];
    size_t ml = (size_t)(sp - s);
    if (ml >= sizeof method) return;
    memcpy(method, s, ml);
    method[ml] = '\0';
    wn_route_match m;
    char detail[WN_DETAIL_MAX] = "";
    int rc = wn_route_parse(method, sp + 1, &m, detail, sizeof detail);
    CHECK(rc == WN_NE_OK || rc == WN_NE_NOT_FOUND || rc == WN_NE_METHOD_NOT_ALLOWED || rc == WN_NE_BAD_REQUEST);
    CHECK(rc == WN_NE_OK || detail[0] != '\0');
    if (rc == WN_NE_OK) CHECK(m.route >= WN_ROUTE_ENROL && m.route <= WN_ROUTE_UI); /* the last route */
    if (rc == WN_NE_OK && m.route == WN_ROUTE_TILE) { /* tile paths are canonical: they format back */
        char path[WN_TILE_PATH_MAX];
        CHECK(wn_tile_format(path, sizeof path, &m.tile) > 0 && strcmp(path, sp + 2) == 0);
    }
}

/* A query string "k=v&k=v" (no decoding) as a wn_query_get. */
typedef struct {
    char *keys[16], *vals[16];
    int n;
} query;

static const char *query_get(void *ctx, const char *key)
{
    query *q = ctx;
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->keys[i], key) == 0) return q->vals[i];
    return NULL;
}

static void queries(char *s)
{
    query q = {.n = 0};
    for (char *save = NULL, *kv = strtok_r(s, "&", &save); kv && q.n < 16; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        q.keys[q.n] = kv;
        q.vals[q.n++] = eq + 1;
    }
    char detail[WN_DETAIL_MAX];
    wn_incl_query iq;
    if (wn_parse_incl_query(query_get, &q, &iq, detail, sizeof detail) == WN_NE_OK)
        CHECK(iq.by_meter ? iq.seq >= 1 : 1);
    uint64_t from, to;
    if (wn_parse_cons_query(query_get, &q, &from, &to, detail, sizeof detail) == WN_NE_OK)
        CHECK(from >= 1 && (to == 0 || to >= from));
    uint64_t size;
    (void)wn_parse_checkpoint_query(query_get, &q, &size, detail, sizeof detail);
    uint64_t v;
    for (int i = 0; i < q.n; i++)
        if (wn_parse_u64(q.vals[i], UINT64_MAX, &v)) CHECK(q.vals[i][0] != '0' || q.vals[i][1] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0] % 8;
    size_t len = size - 1;
    char *s = malloc(len + 1); /* a private, NUL-terminated copy */
    if (!s) return 0;
    memcpy(s, data + 1, len);
    s[len] = '\0';
    int kind;
    switch (sel) {
    case 0: readings(s, len, WN_BODY_JSON); break;
    case 1: readings(s, len, WN_BODY_BINARY); break;
    case 2: records(s, len, 0); break;
    case 3: records(s, len, 1); break;
    case 4: route(s); break;
    case 5: queries(s); break;
    case 6:
        if (wn_parse_media_type(s, 1, &kind) == WN_NE_OK) CHECK(kind == WN_BODY_JSON || kind == WN_BODY_BINARY);
        break;
    default: readings(s, len, len % 2 ? WN_BODY_JSON : WN_BODY_BINARY); break;
    }
    free(s);
    return 0;
}
