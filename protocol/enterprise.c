/* enterprise.c — the registrar-signed enterprise record (enterprise.h, docs/PROTOCOL.md §5):
 * the GB 32100-2015 check character, one function holding every field rule (run before
 * encoding, after decoding and after JSON parsing), the canonical bytes, the signature,
 * the JSON form (compact, in field order, read strictly). */
#include "protocol/enterprise.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "protocol/reading.h"
#include "protocol/record_text.h"

const char *wn_ent_strerror(int err)
{
    switch (err) {
    case WN_ENT_OK: return "success";
    case WN_ENT_EFORMAT: return "malformed record: truncated, trailing bytes, bad version or a field breaks its rule";
    case WN_ENT_ESIG: return "the registrar signature does not verify";
    case WN_ENT_EJSON: return "malformed JSON form: a field is missing, unknown, repeated or mistyped";
    case WN_ENT_ESPACE: return "the output buffer is too small";
    default: return "unknown enterprise record error";
    }
}

/* ---- GB 32100-2015 ---- */

static const char USCC_SET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY"; /* 31 characters, I O Z S V left out */

static int uscc_value(char ch)
{
    const char *p = ch ? strchr(USCC_SET, ch) : NULL;
    return p ? (int)(p - USCC_SET) : -1;
}

char wn_uscc_check_char(const char *s)
{
    unsigned sum = 0, w = 1; /* weights 3^(i-1) mod 31 */
    for (int i = 0; i < 17; i++) {
        int v = uscc_value(s[i]);
        if (v < 0) return 0;
        sum += (unsigned)v * w;
        w = w * 3 % 31;
    }
    return USCC_SET[(31 - sum % 31) % 31];
}

int wn_uscc_valid(const char *s)
{
    if (strnlen(s, WN_USCC_LEN + 1) != WN_USCC_LEN) return 0;
    char c = wn_uscc_check_char(s);
    return c && s[17] == c;
}

/* ---- rules ---- */

static const char *problem(const wn_enterprise *e, int with_registrar)
{
    if (!wn_uscc_valid(e->code))
        return "code: not a unified social credit code (18 characters of GB 32100-2015 with its check character)";
    if (!wn_rec_text_ok(e->name, 1, WN_ENT_NAME_MAX)) return "name: must be 1..200 bytes of UTF-8 without control characters";
    if (!wn_rec_text_ok(e->area, 1, WN_ENT_AREA_MAX)) return "area: must be 1..64 bytes of UTF-8 without control characters";
    if (e->seq < 1 || e->seq > WN_ENT_SEQ_MAX) return "sequence: must be 1 ..= 2^53-1";
    if (e->time_ms > WN_READING_MAX_TIME) return "time: above 9999-12-31T23:59:59.999Z";
    if (e->n_keys < 1 || e->n_keys > WN_ENT_KEYS_MAX) return "keys: must be 1..8 keys";
    for (size_t i = 0; i < e->n_keys; i++) {
        if (!wn_xonly_valid(e->keys[i])) return "keys: not a valid x-only public key";
        if (i && memcmp(e->keys[i - 1], e->keys[i], 32) >= 0) return "keys: must be distinct and ascending";
    }
    if (with_registrar && !wn_xonly_valid(e->registrar)) return "registrar: not a valid x-only public key";
    return NULL;
}

/* The signed bytes (rules checked). Returns: their length. */
static size_t put_signed(const wn_enterprise *e, uint8_t *out)
{
    uint8_t *w = out;
    *w++ = 1;
    wn_rec_put_text(&w, e->code);
    wn_rec_put_text(&w, e->name);
    wn_rec_put_text(&w, e->area);
    wn_put_u64(w, e->seq), w += 8;
    wn_put_u64(w, e->time_ms), w += 8;
    *w++ = (uint8_t)e->n_keys;
    for (size_t i = 0; i < e->n_keys; i++) memcpy(w, e->keys[i], 32), w += 32;
    memcpy(w, e->registrar, 32), w += 32;
    return (size_t)(w - out);
}

static int cmp_key(const void *a, const void *b) { return memcmp(a, b, 32); }

int wn_enterprise_sign(wn_enterprise *e, const uint8_t seckey[32])
{
    uint8_t buf[WN_ENTERPRISE_MAX_LEN];
    if (e->n_keys <= WN_ENT_KEYS_MAX) qsort(e->keys, e->n_keys, 32, cmp_key);
    if (problem(e, 0)) return WN_ENT_EFORMAT;
    if (!wn_seckey_xonly(e->registrar, seckey)) return WN_ENT_ESIG;
    size_t n = put_signed(e, buf);
    return wn_sign_tagged(e->sig, seckey, WN_TAG_ENTERPRISE, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_enterprise_verify(const wn_enterprise *e)
{
    uint8_t buf[WN_ENTERPRISE_MAX_LEN];
    if (problem(e, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(e, buf);
    return wn_verify_tagged(e->sig, e->registrar, WN_TAG_ENTERPRISE, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_enterprise_encode(const wn_enterprise *e, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t buf[WN_ENTERPRISE_MAX_LEN];
    if (problem(e, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(e, buf);
    if (cap < n + 64) return WN_ENT_ESPACE;
    memcpy(out, buf, n);
    memcpy(out + n, e->sig, 64);
    *len = n + 64;
    return WN_ENT_OK;
}

int wn_enterprise_decode(wn_enterprise *e, const uint8_t *in, size_t len)
{
    memset(e, 0, sizeof *e);
    const uint8_t *p = in, *end = in + len;
    if (len < 1 || *p++ != 1) return WN_ENT_EFORMAT;
    if (!wn_rec_get_text(&p, end, e->code, WN_USCC_LEN) || !wn_rec_get_text(&p, end, e->name, WN_ENT_NAME_MAX) ||
        !wn_rec_get_text(&p, end, e->area, WN_ENT_AREA_MAX) || end - p < 17)
        return WN_ENT_EFORMAT;
    e->seq = wn_get_u64(p), p += 8;
    e->time_ms = wn_get_u64(p), p += 8;
    e->n_keys = *p++;
    if (e->n_keys < 1 || e->n_keys > WN_ENT_KEYS_MAX || (size_t)(end - p) != 32 * e->n_keys + 96) return WN_ENT_EFORMAT;
    for (size_t i = 0; i < e->n_keys; i++) memcpy(e->keys[i], p, 32), p += 32;
    memcpy(e->registrar, p, 32), p += 32;
    memcpy(e->sig, p, 64);
    return problem(e, 1) ? WN_ENT_EFORMAT : WN_ENT_OK;
}

int wn_enterprise_has_key(const wn_enterprise *e, const uint8_t key[32])
{
    for (size_t i = 0; i < e->n_keys && i < WN_ENT_KEYS_MAX; i++)
        if (memcmp(e->keys[i], key, 32) == 0) return 1;
    return 0;
}

/* ---- JSON ---- */

/* Appends a JSON string of text without control characters: only '"' and '\' escaped. */
static void json_text(char *out, size_t cap, size_t *at, const char *s)
{
    if (*at < cap) out[(*at)++] = '"';
    for (; *s; s++) {
        if ((*s == '"' || *s == '\\') && *at < cap) out[(*at)++] = '\\';
        if (*at < cap) out[(*at)++] = *s;
    }
    if (*at < cap) out[(*at)++] = '"';
}

static void json_raw(char *out, size_t cap, size_t *at, const char *s)
{
    size_t n = strlen(s);
    if (*at + n <= cap) memcpy(out + *at, s, n);
    *at += n;
}

int wn_enterprise_to_json(const wn_enterprise *e, char *out, size_t cap, size_t *len)
{
    if (problem(e, 1)) return WN_ENT_EFORMAT;
    char t[25], hex[129], num[64];
    size_t at = 0;
    json_raw(out, cap, &at, "{\"version\":1,\"code\":");
    json_text(out, cap, &at, e->code);
    json_raw(out, cap, &at, ",\"name\":");
    json_text(out, cap, &at, e->name);
    json_raw(out, cap, &at, ",\"area\":");
    json_text(out, cap, &at, e->area);
    wn_time_format(t, e->time_ms);
    snprintf(num, sizeof num, ",\"sequence\":%llu,\"time\":\"%s\",\"keys\":[", (unsigned long long)e->seq, t);
    json_raw(out, cap, &at, num);
    for (size_t i = 0; i < e->n_keys; i++) {
        if (i) json_raw(out, cap, &at, ",");
        json_raw(out, cap, &at, "\"");
        wn_hex_encode(hex, e->keys[i], 32);
        json_raw(out, cap, &at, hex);
        json_raw(out, cap, &at, "\"");
    }
    json_raw(out, cap, &at, "],\"registrar\":\"");
    wn_hex_encode(hex, e->registrar, 32);
    json_raw(out, cap, &at, hex);
    json_raw(out, cap, &at, "\",\"sig\":\"");
    wn_hex_encode(hex, e->sig, 64);
    json_raw(out, cap, &at, hex);
    json_raw(out, cap, &at, "\"}");
    if (at >= cap) {
        if (cap) out[0] = '\0';
        return WN_ENT_ESPACE;
    }
    out[at] = '\0';
    if (len) *len = at;
    return WN_ENT_OK;
}

int wn_enterprise_from_cjson(wn_enterprise *e, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, CODE, NAME, AREA, SEQ, TIME, KEYS, REGISTRAR, SIG, NF };
    static const char *const names[NF] = {"version", "code", "name", "area", "sequence", "time", "keys", "registrar", "sig"};
    const cJSON *obj = cjson_obj, *it[NF];
    const char *bad, *why;
    uint64_t v;
    memset(e, 0, sizeof *e);
    if (detail && cap) detail[0] = '\0';
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_ENT_EJSON, "an enterprise record must be a JSON object");
    if (wn_json_members(obj, names, it, NF, &bad, &why)) return wn_fail(detail, cap, WN_ENT_EJSON, "%s '%s'", why, bad);
    if (!wn_json_uint(it[VERSION], WN_JSON_INT_MAX, &v)) return wn_fail(detail, cap, WN_ENT_EJSON, "version: not an integer");
    if (v != 1) return wn_fail(detail, cap, WN_ENT_EFORMAT, "version: must be 1");
    if (!wn_rec_text_member(it[CODE], e->code, WN_USCC_LEN))
        return wn_fail(detail, cap, WN_ENT_EJSON, "code: not a string of 18 characters");
    if (!wn_rec_text_member(it[NAME], e->name, WN_ENT_NAME_MAX))
        return wn_fail(detail, cap, WN_ENT_EJSON, "name: not a string of at most 200 bytes");
    if (!wn_rec_text_member(it[AREA], e->area, WN_ENT_AREA_MAX))
        return wn_fail(detail, cap, WN_ENT_EJSON, "area: not a string of at most 64 bytes");
    if (!wn_json_uint(it[SEQ], WN_ENT_SEQ_MAX, &e->seq))
        return wn_fail(detail, cap, WN_ENT_EJSON, "sequence: not a JSON integer");
    if (!cJSON_IsString(it[TIME]) || !wn_time_parse(it[TIME]->valuestring, strlen(it[TIME]->valuestring), &e->time_ms))
        return wn_fail(detail, cap, WN_ENT_EJSON, "time: not a valid time of the form 2026-11-23T19:17:38.123Z");
    if (!cJSON_IsArray(it[KEYS])) return wn_fail(detail, cap, WN_ENT_EJSON, "keys: not an array");
    const cJSON *k;
    cJSON_ArrayForEach(k, it[KEYS])
    {
        if (e->n_keys == WN_ENT_KEYS_MAX) return wn_fail(detail, cap, WN_ENT_EFORMAT, "keys: more than 8");
        if (!wn_json_hex(k, e->keys[e->n_keys++], 32))
            return wn_fail(detail, cap, WN_ENT_EJSON, "keys: not 64 lowercase hex characters");
    }
    if (!wn_json_hex(it[REGISTRAR], e->registrar, 32))
        return wn_fail(detail, cap, WN_ENT_EJSON, "registrar: not 64 lowercase hex characters");
    if (!wn_json_hex(it[SIG], e->sig, 64)) return wn_fail(detail, cap, WN_ENT_EJSON, "sig: not 128 lowercase hex characters");
    const char *p = problem(e, 1);
    return p ? wn_fail(detail, cap, WN_ENT_EFORMAT, "%s", p) : WN_ENT_OK;
}
