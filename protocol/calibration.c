/* calibration.c — the meter calibration record (calibration.h, PROTOCOL §5): one function
 * holding every field rule, the canonical bytes, the signature, the JSON form. */
#include "protocol/calibration.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "protocol/reading.h"
#include "protocol/record_text.h"

static const char *problem(const wn_calibration *c, int with_registrar)
{
    if (!wn_rec_text_ok(c->reference, 1, WN_CAL_REF_MAX))
        return "reference: must be 1..128 bytes of UTF-8 without control characters";
    if (!wn_rec_text_ok(c->body, 1, WN_CAL_BODY_MAX)) return "body: must be 1..200 bytes of UTF-8 without control characters";
    if (c->valid_until_ms > WN_READING_MAX_TIME || c->calibrated_ms >= c->valid_until_ms)
        return "calibrated_at, valid_until: calibrated_at must be before valid_until, both at most "
               "9999-12-31T23:59:59.999Z";
    if (with_registrar && !wn_xonly_valid(c->registrar)) return "registrar: not a valid x-only public key";
    return NULL;
}

static size_t put_signed(const wn_calibration *c, uint8_t *out)
{
    uint8_t *w = out;
    *w++ = 1;
    memcpy(w, c->meter, 32), w += 32;
    wn_rec_put_text(&w, c->reference);
    wn_rec_put_text(&w, c->body);
    wn_put_u64(w, c->calibrated_ms), w += 8;
    wn_put_u64(w, c->valid_until_ms), w += 8;
    memcpy(w, c->registrar, 32), w += 32;
    return (size_t)(w - out);
}

int wn_calibration_sign(wn_calibration *c, const uint8_t seckey[32])
{
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    if (problem(c, 0)) return WN_ENT_EFORMAT;
    if (!wn_seckey_xonly(c->registrar, seckey)) return WN_ENT_ESIG;
    size_t n = put_signed(c, buf);
    return wn_sign_tagged(c->sig, seckey, WN_TAG_CALIBRATION, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_calibration_verify(const wn_calibration *c)
{
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    if (problem(c, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(c, buf);
    return wn_verify_tagged(c->sig, c->registrar, WN_TAG_CALIBRATION, buf, n) ? WN_ENT_OK : WN_ENT_ESIG;
}

int wn_calibration_encode(const wn_calibration *c, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    if (problem(c, 1)) return WN_ENT_EFORMAT;
    size_t n = put_signed(c, buf);
    if (cap < n + 64) return WN_ENT_ESPACE;
    memcpy(out, buf, n);
    memcpy(out + n, c->sig, 64);
    *len = n + 64;
    return WN_ENT_OK;
}

int wn_calibration_decode(wn_calibration *c, const uint8_t *in, size_t len)
{
    memset(c, 0, sizeof *c);
    const uint8_t *p = in, *end = in + len;
    if (len < 33 || *p++ != 1) return WN_ENT_EFORMAT;
    memcpy(c->meter, p, 32), p += 32;
    if (!wn_rec_get_text(&p, end, c->reference, WN_CAL_REF_MAX) || !wn_rec_get_text(&p, end, c->body, WN_CAL_BODY_MAX))
        return WN_ENT_EFORMAT;
    if (end - p != 16 + 96) return WN_ENT_EFORMAT;
    c->calibrated_ms = wn_get_u64(p), p += 8;
    c->valid_until_ms = wn_get_u64(p), p += 8;
    memcpy(c->registrar, p, 32), p += 32;
    memcpy(c->sig, p, 64);
    return problem(c, 1) ? WN_ENT_EFORMAT : WN_ENT_OK;
}

int wn_calibration_covers(const wn_calibration *c, uint64_t t)
{
    return t >= c->calibrated_ms && t < c->valid_until_ms;
}

int wn_calibration_to_json(const wn_calibration *c, char *out, size_t cap, size_t *len)
{
    if (problem(c, 1)) return WN_ENT_EFORMAT;
    cJSON *o = cJSON_CreateObject();
    char t[25], hex[129];
    if (!o) return WN_ENT_ESPACE;
    cJSON_AddNumberToObject(o, "version", 1);
    wn_hex_encode(hex, c->meter, 32);
    cJSON_AddStringToObject(o, "meter", hex);
    cJSON_AddStringToObject(o, "reference", c->reference);
    cJSON_AddStringToObject(o, "body", c->body);
    wn_time_format(t, c->calibrated_ms);
    cJSON_AddStringToObject(o, "calibrated_at", t);
    wn_time_format(t, c->valid_until_ms);
    cJSON_AddStringToObject(o, "valid_until", t);
    wn_hex_encode(hex, c->registrar, 32);
    cJSON_AddStringToObject(o, "registrar", hex);
    wn_hex_encode(hex, c->sig, 64);
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

int wn_calibration_from_cjson(wn_calibration *c, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, METER, REF, BODY, CAL, UNTIL, REGISTRAR, SIG, NF };
    static const char *const names[NF] = {"version",       "meter",       "reference", "body",
                                          "calibrated_at", "valid_until", "registrar", "sig"};
    const cJSON *obj = cjson_obj, *it[NF];
    const char *bad, *why;
    uint64_t v;
    memset(c, 0, sizeof *c);
    if (detail && cap) detail[0] = '\0';
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_ENT_EJSON, "a calibration record must be a JSON object");
    if (wn_json_members(obj, names, it, NF, &bad, &why)) return wn_fail(detail, cap, WN_ENT_EJSON, "%s '%s'", why, bad);
    if (!wn_json_uint(it[VERSION], WN_JSON_INT_MAX, &v)) return wn_fail(detail, cap, WN_ENT_EJSON, "version: not an integer");
    if (v != 1) return wn_fail(detail, cap, WN_ENT_EFORMAT, "version: must be 1");
    if (!wn_json_hex(it[METER], c->meter, 32)) return wn_fail(detail, cap, WN_ENT_EJSON, "meter: not 64 lowercase hex characters");
    if (!wn_rec_text_member(it[REF], c->reference, WN_CAL_REF_MAX))
        return wn_fail(detail, cap, WN_ENT_EJSON, "reference: not a string of at most 128 bytes");
    if (!wn_rec_text_member(it[BODY], c->body, WN_CAL_BODY_MAX))
        return wn_fail(detail, cap, WN_ENT_EJSON, "body: not a string of at most 200 bytes");
    if (!time_member(it[CAL], &c->calibrated_ms) || !time_member(it[UNTIL], &c->valid_until_ms))
        return wn_fail(detail, cap, WN_ENT_EJSON, "calibrated_at, valid_until: times of the form 2026-11-23T19:17:38.123Z");
    if (!wn_json_hex(it[REGISTRAR], c->registrar, 32))
        return wn_fail(detail, cap, WN_ENT_EJSON, "registrar: not 64 lowercase hex characters");
    if (!wn_json_hex(it[SIG], c->sig, 64)) return wn_fail(detail, cap, WN_ENT_EJSON, "sig: not 128 lowercase hex characters");
    const char *p = problem(c, 1);
    return p ? wn_fail(detail, cap, WN_ENT_EFORMAT, "%s", p) : WN_ENT_OK;
}
