/* bundle.c — reading proof bundles (docs/PROTOCOL.md §13) strictly, and describing a
 * verified one for people. The checks themselves are in bundle_verify.c. */
#include "cli/proofs/bundle.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"

int wn_bundle_sniff(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) i++;
    if (i == len || text[i] != '{') return 0;
    static const char needle[] = "\"" WN_BUNDLE_FORMAT_V1 "\"";
    return memmem(text, len, needle, sizeof needle - 1) != NULL;
}

static int fail(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *detail, size_t cap, const char *fmt, ...)
{
    if (detail && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, cap, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* A strict base64 string decoding to at most max bytes (malloc'd). */
static int json_b64(const cJSON *v, uint8_t **out, size_t *len, size_t max)
{
    if (!cJSON_IsString(v)) return 0;
    size_t n = strlen(v->valuestring);
    if (n > WN_B64_LEN(max)) return 0;
    uint8_t *b = malloc(n / 4 * 3 + 1);
    if (!b) return 0;
    if (!wn_base64_decode(b, n / 4 * 3 + 1, len, v->valuestring, n) || *len > max) {
        free(b);
        return 0;
    }
    *out = b;
    return 1;
}

static int parse_entry(const cJSON *o, wn_bundle_entry *e, int is_reading, const char *what, char *detail,
                       size_t cap)
{
    static const char *const names[] = {"index", "entry", "proof", "boundary"};
    const cJSON *it[4];
    const char *bad, *why;
    if (!cJSON_IsObject(o)) return fail(detail, cap, "%s: not a JSON object", what);
    if (wn_json_members(o, names, it, is_reading ? 4 : 3, &bad, &why) &&
        !(is_reading && strcmp(bad, "boundary") == 0 && strcmp(why, "missing field") == 0))
        return fail(detail, cap, "%s: %s %s", what, why, bad);
    if (!wn_json_uint(it[0], WN_JSON_INT_MAX, &e->index))
        return fail(detail, cap, "%s: index is not a JSON integer 0 ..= 2^53-1", what);
    if (!json_b64(it[1], &e->entry, &e->len, WN_LEDGER_MAX_ENTRY) || e->len == 0)
        return fail(detail, cap, "%s: entry is not strict base64 of 1 ..= %u bytes", what, WN_LEDGER_MAX_ENTRY);
    if (!cJSON_IsArray(it[2])) return fail(detail, cap, "%s: proof is not an array", what);
    size_t n = (size_t)cJSON_GetArraySize(it[2]);
    if (n > WN_MERKLE_MAX_PROOF) return fail(detail, cap, "%s: the proof has %zu hashes, more than %d", what, n, WN_MERKLE_MAX_PROOF);
    if (n) {
        e->proof = malloc(n * sizeof *e->proof);
        if (!e->proof) return fail(detail, cap, "out of memory");
    }
    size_t k = 0;
    for (const cJSON *h = it[2]->child; h; h = h->next, k++) {
        size_t hl = 0;
        if (!cJSON_IsString(h) || !wn_base64_decode(e->proof[k], 32, &hl, h->valuestring, strlen(h->valuestring)) ||
            hl != 32)
            return fail(detail, cap, "%s: proof hash %zu is not strict base64 of 32 bytes", what, k);
    }
    e->proof_len = n;
    e->boundary = WN_BOUNDARY_NONE;
    if (is_reading && it[3]) {
        if (cJSON_IsString(it[3]) && strcmp(it[3]->valuestring, "before") == 0) e->boundary = WN_BOUNDARY_BEFORE;
        else if (cJSON_IsString(it[3]) && strcmp(it[3]->valuestring, "after") == 0) e->boundary = WN_BOUNDARY_AFTER;
        else return fail(detail, cap, "%s: boundary is neither \"before\" nor \"after\"", what);
    }
    return 1;
}

int wn_bundle_parse_entry(const void *cjson_obj, wn_bundle_entry *e, const char *what, char *detail, size_t cap)
{
    return parse_entry(cjson_obj, e, 0, what, detail, cap);
}

static int parse_entries(const cJSON *a, wn_bundle_entry **out, size_t *n, int is_reading, const char *what,
                         char *detail, size_t cap)
{
    if (!cJSON_IsArray(a)) return fail(detail, cap, "%s is not an array", what);
    size_t count = (size_t)cJSON_GetArraySize(a);
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out) return fail(detail, cap, "out of memory");
    *n = count;
    size_t i = 0;
    for (const cJSON *o = a->child; o; o = o->next, i++) {
        char label[64];
        snprintf(label, sizeof label, "%s[%zu]", what, i);
        if (!parse_entry(o, &(*out)[i], is_reading, label, detail, cap)) return 0;
    }
    return 1;
}

static int json_time(const cJSON *v, uint64_t *ms)
{
    return cJSON_IsString(v) && wn_time_parse(v->valuestring, strlen(v->valuestring), ms);
}

enum { F_FORMAT, F_KEYID, F_METER, F_FROM, F_TO, F_CP, F_ENROL, F_REVOC, F_READINGS, F_EQUIV, F_N };

int wn_bundle_parse(wn_bundle *b, const char *text, size_t len, char *detail, size_t cap)
{
    static const char *const names[F_N] = {"format", "notary_key_id", "meter", "from", "to", "checkpoint",
                                           "enrolment", "revocation", "readings", "equivocations"};
    memset(b, 0, sizeof *b);
    cJSON *j = wn_json_parse_strict(text, len, detail, cap); /* the JSON integer rule, once */
    if (!j) return 0;
    int ok = 0;
    const cJSON *it[F_N];
    const char *bad, *why;
    if (!cJSON_IsObject(j)) {
        fail(detail, cap, "not a JSON object");
        goto done;
    }
    if (wn_json_members(j, names, it, F_N, &bad, &why)) {
        fail(detail, cap, "%s %s", why, bad);
        goto done;
    }
    if (!cJSON_IsString(it[F_FORMAT]) || strcmp(it[F_FORMAT]->valuestring, WN_BUNDLE_FORMAT_V1) != 0) {
        fail(detail, cap, "format is not \"" WN_BUNDLE_FORMAT_V1 "\"");
        goto done;
    }
    if (!wn_json_hex(it[F_KEYID], b->notary_key_id, 4)) {
        fail(detail, cap, "notary_key_id is not 8 lowercase hex characters");
        goto done;
    }
    if (!wn_json_hex(it[F_METER], b->meter, 32)) {
        fail(detail, cap, "meter is not 64 lowercase hex characters");
        goto done;
    }
    if (!json_time(it[F_FROM], &b->from_ms) || !json_time(it[F_TO], &b->to_ms) || b->from_ms >= b->to_ms) {
        fail(detail, cap, "from and to must be times like 2026-03-01T00:00:00.000Z with from before to");
        goto done;
    }
    if (!cJSON_IsString(it[F_CP]) || strlen(it[F_CP]->valuestring) > WN_CHECKPOINT_MAX) {
        fail(detail, cap, "checkpoint is not a string of at most %d bytes", WN_CHECKPOINT_MAX);
        goto done;
    }
    b->checkpoint_len = strlen(it[F_CP]->valuestring);
    b->checkpoint = strdup(it[F_CP]->valuestring);
    if (!b->checkpoint) {
        fail(detail, cap, "out of memory");
        goto done;
    }
    if (!parse_entry(it[F_ENROL], &b->enrolment, 0, "enrolment", detail, cap)) goto done;
    if (!cJSON_IsNull(it[F_REVOC])) {
        b->has_revocation = 1;
        if (!parse_entry(it[F_REVOC], &b->revocation, 0, "revocation", detail, cap)) goto done;
    }
    if (!parse_entries(it[F_READINGS], &b->readings, &b->n_readings, 1, "readings", detail, cap)) goto done;
    if (!parse_entries(it[F_EQUIV], &b->equivocations, &b->n_equivocations, 0, "equivocations", detail, cap))
        goto done;
    ok = 1;
done:
    cJSON_Delete(j);
    return ok;
}

static void entry_free(wn_bundle_entry *e)
{
    free(e->entry);
    free(e->proof);
}

void wn_bundle_free(wn_bundle *b)
{
    free(b->checkpoint);
    entry_free(&b->enrolment);
    entry_free(&b->revocation);
    for (size_t i = 0; b->readings && i < b->n_readings; i++) entry_free(&b->readings[i]);
    for (size_t i = 0; b->equivocations && i < b->n_equivocations; i++) entry_free(&b->equivocations[i]);
    free(b->readings);
    free(b->equivocations);
    memset(b, 0, sizeof *b);
}

static const char *nz(const char *s) { return s ? s : "?"; }

void wn_bundle_describe(const wn_bundle *b, FILE *out)
{
    char hex[65], t1[25], t2[25];
    fprintf(out, "proof bundle checked against the notary key\n");
    if (b->checkpoint_parsed) {
        char root[WN_B64_LEN(32) + 1];
        wn_base64_encode(root, b->cp.root, 32);
        fprintf(out, "  log origin:    %s\n  tree size:     %llu\n  root hash:     %s (checkpoint signature %s)\n",
                b->cp.origin, (unsigned long long)b->cp.size, root, b->checkpoint_ok ? "valid" : "INVALID");
    }
    wn_hex_encode(hex, b->meter, 32);
    wn_time_format(t1, b->from_ms);
    wn_time_format(t2, b->to_ms);
    fprintf(out, "  meter:         %s\n  period:        %s .. %s\n", hex, t1, t2);
    if (b->enrolment_ok) {
        const wn_enrolment *e = &b->enrol;
        wn_time_format(t1, e->time_ms);
        fprintf(out, "  enrolment:     index %llu at %s, %s, %s tier %u, %s, enterprise %s\n",
                (unsigned long long)b->enrolment.index, t1, e->alg == WN_ALG_BIP340 ? "BIP-340" : "ECDSA",
                nz(wn_point_name(e->point)), e->tier, nz(wn_source_name(e->source)), e->enterprise);
        wn_hex_encode(hex, e->registrar, 32);
        fprintf(out, "  registrar:     %s (check it is your water bureau's key)\n", hex);
    }
    if (!b->has_revocation) {
        fprintf(out, "  revocation:    none\n");
    } else if (b->revocation_ok) {
        wn_time_format(t1, b->revoc.time_ms);
        fprintf(out, "  revocation:    index %llu at %s (%s)\n", (unsigned long long)b->revocation.index, t1,
                nz(wn_revoke_reason_name(b->revoc.reason)));
    }
    size_t in = 0;
    uint64_t lo = 0, hi = 0;
    const wn_bundle_entry *before = NULL, *after = NULL;
    for (size_t i = 0; i < b->n_readings; i++) {
        const wn_bundle_entry *e = &b->readings[i];
        if (!e->decoded) continue;
        if (e->boundary == WN_BOUNDARY_BEFORE) before = e;
        else if (e->boundary == WN_BOUNDARY_AFTER) after = e;
        else {
            if (!in || e->reading.seq < lo) lo = e->reading.seq;
            if (!in || e->reading.seq > hi) hi = e->reading.seq;
            in++;
        }
    }
    if (in) fprintf(out, "  readings:      %zu in the period (seq %llu..%llu)\n", in, (unsigned long long)lo, (unsigned long long)hi);
    else fprintf(out, "  readings:      none in the period\n");
    if (before) {
        wn_time_format(t1, before->reading.time_ms);
        fprintf(out, "  before:        seq %llu at %s\n", (unsigned long long)before->reading.seq, t1);
    }
    if (after) {
        wn_time_format(t1, after->reading.time_ms);
        fprintf(out, "  after:         seq %llu at %s\n", (unsigned long long)after->reading.seq, t1);
    }
    fprintf(out, "  equivocations: %zu\n", b->n_equivocations);
}
