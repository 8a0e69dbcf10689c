/* accreditation.c — the certifier accreditation record (accreditation.h, PROTOCOL §5): one
 * function holding every field rule, the canonical bytes, the signature, the JSON form. */
#include "protocol/accreditation.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "protocol/reading.h"
#include "protocol/record_text.h"

int wn_scope_name_ok(const char *s)
{
    size_t n = strnlen(s, WN_ACC_SCOPE_MAX + 1);
    if (n < 1 || n > WN_ACC_SCOPE_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
    return 1;
}

static const char *problem(const wn_accreditation *a, int with_registrar)
{
    if (!wn_uscc_valid(a->code))
        return "code: not a unified social credit code (18 characters of GB 32100-2015 with its check character)";
    if (!wn_rec_text_ok(a->name, 1, WN_ENT_NAME_MAX)) return "name: must be 1..200 bytes of UTF-8 without control characters";
    if (!wn_rec_text_ok(a->number, 1, WN_ACC_NUMBER_MAX))
        return "number: must be 1..64 bytes of UTF-8 without control characters";
    if (a->n_scope < 1 || a->n_scope > WN_ACC_SCOPES_MAX) return "scope: must hold 1..16 names";
    for (size_t i = 0; i < a->n_scope; i++) {
        if (!wn_scope_name_ok(a->scope[i])) return "scope: a name is 1..32 characters of a-z, 0-9 and _";
        if (i && strcmp(a->scope[i - 1], a->scope[i]) >= 0) return "scope: names must be distinct and ascending";
    }
    if (a->seq < 1 || a->seq > WN_ENT_SEQ_MAX) return "sequence: must be 1 ..= 2^53-1";
    if (a->valid_to_ms > WN_READING_MAX_TIME || a->valid_from_ms >= a->valid_to_ms)
        return "valid_from, valid_to: from must be before to, both at most 9999-12-31T23:59:59.999Z";
    if (a->n_keys < 1 || a->n_keys > WN_ENT_KEYS_MAX) return "keys: must be 1..8 keys";
    for (size_t i = 0; i < a->n_keys; i++) {
        if (!wn_xonly_valid(a->keys[i])) return "keys: not a valid x-only public key";
        if (i && memcmp(a->keys[i - 1], a->keys[i], 32) >= 0) return "keys: must be distinct and ascending";
    }
    if (with_registrar && !wn_xonly_valid(a->registrar)) return "registrar: not a valid x-only public key";
    return NULL;
}

static size_t put_signed(const wn_accreditation *a, uint8_t *out)
{
    uint8_t *w = out;
    *w++ = 1;
    wn_rec_put_text(&w, a->code);
    wn_rec_put_text(&w, a->name);
    wn_rec_put_text(&w, a->number);
    *w++ = (uint8_t)a->n_scope;
    for (size_t i = 0; i < a->n_scope; i++) wn_rec_put_text(&w, a->scope[i]);
    wn_put_u64(w, a->seq), w += 8;
    wn_put_u64(w, a->valid_from_ms), w += 8;
    wn_put_u64(w, a->valid_to_ms), w += 8;
    *w++ = (uint8_t)a->n_keys;
    for (size_t i = 0; i < a->n_keys; i++) memcpy(w, a->keys[i], 32), w += 32;
    memcpy(w, a->registrar, 32), w += 32;
    return (size_t)(w - out);
}

static int cmp_key(const void *x, const void *y) { return memcmp(x, y, 32); }
static int cmp_scope(const void *x, const void *y) { return strcmp(x, y); }

int wn_accreditation_sign(wn_accreditation *a, const uint8_t seckey[32])
{
    uint8_t buf[WN_ACCREDITATION_MAX_LEN];
    if (a->n_keys <= WN_ENT_KEYS_MAX) qsort(a->keys, a->n_keys, 32, cmp_key);
    if (a->n_scope <= WN_ACC_SCOPES_MAX) qsort(a->scope, a->n_scope, sizeof a->scope[0], cmp_scope);
    if (problem(a, 0)) return WN_ENT_EFORMAT;
    if (!wn_seckey_xonly(a->registrar, seckey)) return WN_ENT_ESIG;
    size_t n = put_signed(a, buf);
    return wn_sign_tagged(a->sig, seckey, WN_TAG_ACCREDITATION, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_accreditation_verify(const wn_accreditation *a)
{
    uint8_t buf[WN_ACCREDITATION_MAX_LEN];
    if (problem(a, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(a, buf);
    return wn_verify_tagged(a->sig, a->registrar, WN_TAG_ACCREDITATION, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_accreditation_encode(const wn_accreditation *a, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t buf[WN_ACCREDITATION_MAX_LEN];
    if (problem(a, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(a, buf);
    if (cap < n + 64) return WN_ENT_ESPACE;
    memcpy(out, buf, n);
    memcpy(out + n, a->sig, 64);
    *len = n + 64;
    return WN_ENT_OK;
}

int wn_accreditation_decode(wn_accreditation *a, const uint8_t *in, size_t len)
{
    memset(a, 0, sizeof *a);
    const uint8_t *p = in, *end = in + len;
    if (len < 1 || *p++ != 1) return WN_ENT_EFORMAT;
    if (!wn_rec_get_text(&p, end, a->code, WN_USCC_LEN) || !wn_rec_get_text(&p, end, a->name, WN_ENT_NAME_MAX) ||
        !wn_rec_get_text(&p, end, a->number, WN_ACC_NUMBER_MAX) || p >= end)
        return WN_ENT_EFORMAT;
    a->n_scope = *p++;
    if (a->n_scope < 1 || a->n_scope > WN_ACC_SCOPES_MAX) return WN_ENT_EFORMAT;
    for (size_t i = 0; i < a->n_scope; i++)
        if (!wn_rec_get_text(&p, end, a->scope[i], WN_ACC_SCOPE_MAX)) return WN_ENT_EFORMAT;
    if (end - p < 25) return WN_ENT_EFORMAT;
    a->seq = wn_get_u64(p), p += 8;
    a->valid_from_ms = wn_get_u64(p), p += 8;
    a->valid_to_ms = wn_get_u64(p), p += 8;
    a->n_keys = *p++;
    if (a->n_keys < 1 || a->n_keys > WN_ENT_KEYS_MAX || (size_t)(end - p) != 32 * a->n_keys + 96) return WN_ENT_EFORMAT;
    for (size_t i = 0; i < a->n_keys; i++) memcpy(a->keys[i], p, 32), p += 32;
    memcpy(a->registrar, p, 32), p += 32;
    memcpy(a->sig, p, 64);
    return problem(a, 1) ? WN_ENT_EFORMAT : WN_ENT_OK;
}

int wn_accreditation_has_key(const wn_accreditation *a, const uint8_t key[32])
{
    for (size_t i = 0; i < a->n_keys && i < WN_ENT_KEYS_MAX; i++)
        if (memcmp(a->keys[i], key, 32) == 0) return 1;
    return 0;
}

int wn_accreditation_has_scope(const wn_accreditation *a, const char *scope)
{
    for (size_t i = 0; i < a->n_scope && i < WN_ACC_SCOPES_MAX; i++)
        if (strcmp(a->scope[i], scope) == 0) return 1;
    return 0;
}

int wn_accreditation_to_json(const wn_accreditation *a, char *out, size_t cap, size_t *len)
{
    if (problem(a, 1)) return WN_ENT_EFORMAT;
    cJSON *o = cJSON_CreateObject(), *arr;
    char t[25], hex[129];
    if (!o) return WN_ENT_ESPACE;
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "code", a->code);
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddStringToObject(o, "number", a->number);
    arr = cJSON_AddArrayToObject(o, "scope");
    for (size_t i = 0; arr && i < a->n_scope; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(a->scope[i]));
    cJSON_AddNumberToObject(o, "sequence", (double)a->seq);
    wn_time_format(t, a->valid_from_ms);
    cJSON_AddStringToObject(o, "valid_from", t);
    wn_time_format(t, a->valid_to_ms);
    cJSON_AddStringToObject(o, "valid_to", t);
    arr = cJSON_AddArrayToObject(o, "keys");
    for (size_t i = 0; arr && i < a->n_keys; i++) {
        wn_hex_encode(hex, a->keys[i], 32);
        cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
    }
    wn_hex_encode(hex, a->registrar, 32);
    cJSON_AddStringToObject(o, "registrar", hex);
    wn_hex_encode(hex, a->sig, 64);
    cJSON_AddStringToObject(o, "sig", hex);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return WN_ENT_ESPACE;
    size_t n = strlen(s);
    int rc = n < cap ? WN_ENT_OK : WN_ENT_ESPACE;
    if (rc == WN_ENT_OK) {
        memcpy(out, s, n + 1);
        if (len) *len = n;
    } else if (cap) {
        out[0] = '\0';
    }
    free(s);
    return rc;
}

static int time_member(const cJSON *item, uint64_t *t)
{
    return cJSON_IsString(item) && wn_time_parse(item->valuestring, strlen(item->valuestring), t);
}

int wn_accreditation_from_cjson(wn_accreditation *a, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, CODE, NAME, NUMBER, SCOPE, SEQ, FROM, TO, KEYS, REGISTRAR, SIG, NF };
    static const char *const names[NF] = {"version", "code",     "name", "number",    "scope", "sequence",
                                          "valid_from", "valid_to", "keys", "registrar", "sig"};
    const cJSON *obj = cjson_obj, *it[NF], *x;
    const char *bad, *why;
    uint64_t v;
    memset(a, 0, sizeof *a);
    if (detail && cap) detail[0] = '\0';
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_ENT_EJSON, "an accreditation must be a JSON object");
    if (wn_json_members(obj, names, it, NF, &bad, &why)) return wn_fail(detail, cap, WN_ENT_EJSON, "%s '%s'", why, bad);
    if (!wn_json_uint(it[VERSION], WN_JSON_INT_MAX, &v)) return wn_fail(detail, cap, WN_ENT_EJSON, "version: not an integer");
    if (v != 1) return wn_fail(detail, cap, WN_ENT_EFORMAT, "version: must be 1");
    if (!wn_rec_text_member(it[CODE], a->code, WN_USCC_LEN)) return wn_fail(detail, cap, WN_ENT_EJSON, "code: not a string of 18 characters");
    if (!wn_rec_text_member(it[NAME], a->name, WN_ENT_NAME_MAX)) return wn_fail(detail, cap, WN_ENT_EJSON, "name: not a string of at most 200 bytes");
    if (!wn_rec_text_member(it[NUMBER], a->number, WN_ACC_NUMBER_MAX))
        return wn_fail(detail, cap, WN_ENT_EJSON, "number: not a string of at most 64 bytes");
    if (!cJSON_IsArray(it[SCOPE])) return wn_fail(detail, cap, WN_ENT_EJSON, "scope: not an array");
    cJSON_ArrayForEach(x, it[SCOPE])
    {
        if (a->n_scope == WN_ACC_SCOPES_MAX) return wn_fail(detail, cap, WN_ENT_EFORMAT, "scope: more than 16 names");
        if (!wn_rec_text_member(x, a->scope[a->n_scope++], WN_ACC_SCOPE_MAX))
            return wn_fail(detail, cap, WN_ENT_EJSON, "scope: not a string of at most 32 bytes");
    }
    if (!wn_json_uint(it[SEQ], WN_ENT_SEQ_MAX, &a->seq)) return wn_fail(detail, cap, WN_ENT_EJSON, "sequence: not a JSON integer");
    if (!time_member(it[FROM], &a->valid_from_ms) || !time_member(it[TO], &a->valid_to_ms))
        return wn_fail(detail, cap, WN_ENT_EJSON, "valid_from, valid_to: times of the form 2026-11-23T19:17:38.123Z");
    if (!cJSON_IsArray(it[KEYS])) return wn_fail(detail, cap, WN_ENT_EJSON, "keys: not an array");
    cJSON_ArrayForEach(x, it[KEYS])
    {
        if (a->n_keys == WN_ENT_KEYS_MAX) return wn_fail(detail, cap, WN_ENT_EFORMAT, "keys: more than 8");
        if (!wn_json_hex(x, a->keys[a->n_keys++], 32)) return wn_fail(detail, cap, WN_ENT_EJSON, "keys: not 64 lowercase hex characters");
    }
    if (!wn_json_hex(it[REGISTRAR], a->registrar, 32))
        return wn_fail(detail, cap, WN_ENT_EJSON, "registrar: not 64 lowercase hex characters");
    if (!wn_json_hex(it[SIG], a->sig, 64)) return wn_fail(detail, cap, WN_ENT_EJSON, "sig: not 128 lowercase hex characters");
    const char *p = problem(a, 1);
    return p ? wn_fail(detail, cap, WN_ENT_EFORMAT, "%s", p) : WN_ENT_OK;
}
