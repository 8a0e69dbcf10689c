/* enrolment.c — registrar-signed enrolment and revocation records (docs/PROTOCOL.md §5):
 * field rules, canonical binary form, strict decoding, signing and verification, and the
 * JSON forms (for HTTP and for people).
 *
 * As for readings, one check function per record holds every field rule; encoding runs
 * it before writing, decoding after reading and JSON parsing at the end, so whatever
 * encodes also decodes and whatever parses from JSON also encodes.
 * JSON parsing is strict (every field required, none unknown or repeated, exact types,
 * lowercase hex, canonical times and names). Its errors: WN_ENROL_EJSON when the JSON
 * shape or a value's syntax is wrong, WN_ENROL_EFORMAT when a well-formed value breaks a
 * record rule. No allocation (cJSON's tree belongs to the caller). */
#include "protocol/enrolment.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Layout constants (docs/PROTOCOL.md §5). */
#define ENR_TEXT_OFF 110 /* enterprise length byte */
#define ENR_FIXED_LEN 208 /* length with both texts empty */
#define REV_SIGNED_LEN 74

/* ---- names and errors ------------------------------------------------------------- */

static const char *const point_names[WN_POINT_MAX + 1] = {
    NULL, "intake", "treatment", "supply", "use", "discharge", "recycling", "certifier",
};
static const char *const source_names[WN_SOURCE_MAX + 1] = {
    NULL, "surface", "groundwater", "tap", "reclaimed", "rainwater", "mine_water",
};
static const char *const reason_names[WN_REVOKE_MAX + 1] = {
    "other", "compromised", "decommissioned", "replaced",
};

const char *wn_point_name(unsigned p) { return p <= WN_POINT_MAX ? point_names[p] : NULL; }
const char *wn_source_name(unsigned s) { return s <= WN_SOURCE_MAX ? source_names[s] : NULL; }
const char *wn_revoke_reason_name(unsigned r) { return r <= WN_REVOKE_MAX ? reason_names[r] : NULL; }

const char *wn_enrol_strerror(int err)
{
    switch (err) {
    case WN_ENROL_OK: return "success";
    case WN_ENROL_EFORMAT: return "malformed record: truncated, trailing bytes, bad version or a field breaks its rule";
    case WN_ENROL_ESIG: return "the registrar signature does not verify";
    case WN_ENROL_EJSON: return "malformed JSON form: a field is missing, unknown, repeated or mistyped";
    case WN_ENROL_ESPACE: return "the output buffer is too small";
    default: return "unknown enrolment error";
    }
}

/* ---- field rules ------------------------------------------------------------------ */

/* Returns: the length of a text field if it is terminated within the array and obeys
 * wn_text_ok, else (size_t)-1. */
static size_t text_len(const char *s, size_t maxlen)
{
    size_t n = strnlen(s, maxlen + 1);
    if (n > maxlen || !wn_text_ok(s, n)) return (size_t)-1;
    return n;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* Every rule of an enrolment except the signature; the registrar key only if asked
 * (signing fills it in). Returns: NULL if all hold, else which field is wrong and why. */
static const char *enrolment_problem(const wn_enrolment *e, int with_registrar)
{
    if (!wn_xonly_valid(e->meter)) return "meter: not a valid x-only public key";
    if (e->alg < WN_ALG_BIP340 || e->alg > WN_ALG_MAX) return "alg: unknown key algorithm";
    if (e->alg == WN_ALG_P256 || e->alg == WN_ALG_SM2) { /* the id is derived from the key (PROTOCOL §1) */
        uint8_t id[32];
        if (!wn_meter_id_of(e->alg, e->pubkey, id))
            return e->alg == WN_ALG_P256 ? "pubkey: not a compressed P-256 point" : "pubkey: not a compressed SM2 point";
        if (memcmp(id, e->meter, 32) != 0) return "meter: not the id derived from pubkey";
    } else {
        /* The key must be the compressed point whose x is the meter id: it then parses,
         * since the meter id is a valid x coordinate. BIP-340 keys have even y. */
        if (e->pubkey[0] != 0x02 && !(e->pubkey[0] == 0x03 && e->alg == WN_ALG_ECDSA))
            return "pubkey: must start 02 (bip340) or 02/03 (ecdsa)";
        if (memcmp(e->pubkey + 1, e->meter, 32) != 0) return "pubkey: its x coordinate is not the meter id";
    }
    if (e->time_ms > WN_READING_MAX_TIME) return "time: above 9999-12-31T23:59:59.999Z";
    if (e->point < 1 || e->point > WN_POINT_MAX) return "point: unknown metering point";
    if (e->tier < 1 || e->tier > 3) return "tier: must be 1, 2 or 3";
    if (e->source < 1 || e->source > WN_SOURCE_MAX) return "source: unknown water source";
    if (!all_zero(e->parent, 32) && !wn_xonly_valid(e->parent)) return "parent: not a valid x-only public key";
    size_t en = text_len(e->enterprise, WN_ENTERPRISE_MAX);
    if (en == (size_t)-1 || en == 0)
        return "enterprise: must be 1..64 bytes of UTF-8 without control characters";
    if (text_len(e->calibration, WN_CALIBRATION_MAX) == (size_t)-1)
        return "calibration: must be 0..128 bytes of UTF-8 without control characters";
    if (with_registrar && !wn_xonly_valid(e->registrar)) return "registrar: not a valid x-only public key";
    return NULL;
}

static const char *revocation_problem(const wn_revocation *r, int with_registrar)
{
    if (!wn_xonly_valid(r->meter)) return "meter: not a valid x-only public key";
    if (r->time_ms > WN_READING_MAX_TIME) return "time: above 9999-12-31T23:59:59.999Z";
    if (r->reason > WN_REVOKE_MAX) return "reason: unknown reason";
    if (with_registrar && !wn_xonly_valid(r->registrar)) return "registrar: not a valid x-only public key";
    return NULL;
}

/* ---- enrolment binary form -------------------------------------------------------- */

/* Writes the record (rules already checked) into out. Returns: its length. */
static size_t enrolment_put(const wn_enrolment *e, uint8_t *out)
{
    size_t en = strlen(e->enterprise), cn = strlen(e->calibration);
    out[0] = 1;
    memcpy(out + 1, e->meter, 32);
    out[33] = e->alg;
    memcpy(out + 34, e->pubkey, 33);
    wn_put_u64(out + 67, e->time_ms);
    out[75] = e->point;
    out[76] = e->tier;
    out[77] = e->source;
    memcpy(out + 78, e->parent, 32);
    uint8_t *p = out + ENR_TEXT_OFF;
    *p++ = (uint8_t)en;
    memcpy(p, e->enterprise, en);
    p += en;
    *p++ = (uint8_t)cn;
    memcpy(p, e->calibration, cn);
    p += cn;
    memcpy(p, e->registrar, 32);
    memcpy(p + 32, e->sig, 64);
    return ENR_FIXED_LEN + en + cn;
}

int wn_enrolment_encode(const wn_enrolment *e, uint8_t *out, size_t cap, size_t *len)
{
    if (enrolment_problem(e, 1)) return WN_ENROL_EFORMAT;
    size_t n = ENR_FIXED_LEN + strlen(e->enterprise) + strlen(e->calibration);
    if (cap < n) return WN_ENROL_ESPACE;
    enrolment_put(e, out);
    if (len) *len = n;
    return WN_ENROL_OK;
}

int wn_enrolment_decode(wn_enrolment *e, const uint8_t *in, size_t len)
{
    memset(e, 0, sizeof *e);
    if (len < ENR_TEXT_OFF + 1 || in[0] != 1) return WN_ENROL_EFORMAT;
    size_t en = in[ENR_TEXT_OFF];
    if (en < 1 || en > WN_ENTERPRISE_MAX || len < ENR_TEXT_OFF + 2 + en) return WN_ENROL_EFORMAT;
    size_t cn = in[ENR_TEXT_OFF + 1 + en];
    if (cn > WN_CALIBRATION_MAX || len != ENR_FIXED_LEN + en + cn) return WN_ENROL_EFORMAT;
    memcpy(e->meter, in + 1, 32);
    e->alg = in[33];
    memcpy(e->pubkey, in + 34, 33);
    e->time_ms = wn_get_u64(in + 67);
    e->point = in[75];
    e->tier = in[76];
    e->source = in[77];
    memcpy(e->parent, in + 78, 32);
    const uint8_t *p = in + ENR_TEXT_OFF + 1;
    /* the texts are checked as bytes, before they become C strings: wn_text_ok refuses NUL,
     * so the strings then hold exactly the bytes that were decoded */
    if (!wn_text_ok((const char *)p, en) || !wn_text_ok((const char *)p + en + 1, cn)) return WN_ENROL_EFORMAT;
    memcpy(e->enterprise, p, en);
    e->enterprise[en] = '\0';
    p += en + 1;
    memcpy(e->calibration, p, cn);
    e->calibration[cn] = '\0';
    p += cn;
    memcpy(e->registrar, p, 32);
    memcpy(e->sig, p + 32, 64);
    return enrolment_problem(e, 1) ? WN_ENROL_EFORMAT : WN_ENROL_OK;
}

int wn_enrolment_sign(wn_enrolment *e, const uint8_t registrar_seckey[32])
{
    uint8_t buf[WN_ENROLMENT_MAX_LEN];
    if (enrolment_problem(e, 0)) return WN_ENROL_EFORMAT;
    if (!wn_seckey_xonly(e->registrar, registrar_seckey)) return WN_ENROL_ESIG;
    size_t n = enrolment_put(e, buf);
    return wn_sign_tagged(e->sig, registrar_seckey, WN_TAG_ENROLMENT, buf, n - 64) ? WN_ENROL_OK
                                                                                   : WN_ENROL_ESIG;
}

int wn_enrolment_verify(const wn_enrolment *e)
{
    uint8_t buf[WN_ENROLMENT_MAX_LEN];
    if (enrolment_problem(e, 1)) return WN_ENROL_EFORMAT;
    size_t n = enrolment_put(e, buf);
    return wn_verify_tagged(e->sig, e->registrar, WN_TAG_ENROLMENT, buf, n - 64) ? WN_ENROL_OK
                                                                                 : WN_ENROL_ESIG;
}

/* ---- revocation binary form ------------------------------------------------------- */

static void revocation_put(const wn_revocation *r, uint8_t out[WN_REVOCATION_LEN])
{
    out[0] = 1;
    memcpy(out + 1, r->meter, 32);
    wn_put_u64(out + 33, r->time_ms);
    out[41] = r->reason;
    memcpy(out + 42, r->registrar, 32);
    memcpy(out + REV_SIGNED_LEN, r->sig, 64);
}

int wn_revocation_encode(const wn_revocation *r, uint8_t out[WN_REVOCATION_LEN])
{
    if (revocation_problem(r, 1)) return WN_ENROL_EFORMAT;
    revocation_put(r, out);
    return WN_ENROL_OK;
}

int wn_revocation_decode(wn_revocation *r, const uint8_t *in, size_t len)
{
    memset(r, 0, sizeof *r);
    if (len != WN_REVOCATION_LEN || in[0] != 1) return WN_ENROL_EFORMAT;
    memcpy(r->meter, in + 1, 32);
    r->time_ms = wn_get_u64(in + 33);
    r->reason = in[41];
    memcpy(r->registrar, in + 42, 32);
    memcpy(r->sig, in + REV_SIGNED_LEN, 64);
    return revocation_problem(r, 1) ? WN_ENROL_EFORMAT : WN_ENROL_OK;
}

int wn_revocation_sign(wn_revocation *r, const uint8_t registrar_seckey[32])
{
    uint8_t buf[WN_REVOCATION_LEN];
    if (revocation_problem(r, 0)) return WN_ENROL_EFORMAT;
    if (!wn_seckey_xonly(r->registrar, registrar_seckey)) return WN_ENROL_ESIG;
    revocation_put(r, buf);
    return wn_sign_tagged(r->sig, registrar_seckey, WN_TAG_REVOCATION, buf, REV_SIGNED_LEN) ? WN_ENROL_OK
                                                                                            : WN_ENROL_ESIG;
}

int wn_revocation_verify(const wn_revocation *r)
{
    uint8_t buf[WN_REVOCATION_LEN];
    if (revocation_problem(r, 1)) return WN_ENROL_EFORMAT;
    revocation_put(r, buf);
    return wn_verify_tagged(r->sig, r->registrar, WN_TAG_REVOCATION, buf, REV_SIGNED_LEN) ? WN_ENROL_OK
                                                                                          : WN_ENROL_ESIG;
}

/* ---- writing ---------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t cap, len;
    int full;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *o, const char *fmt, ...)
{
    if (o->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) { o->full = 1; return; }
    o->len += (size_t)n;
}

/* A JSON string of text that holds no control characters (the record rules forbid them):
 * only '"' and '\' need escaping; UTF-8 is written as it is. */
static void put_text(out_buf *o, const char *s)
{
    put(o, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') put(o, "\\%c", *s);
        else put(o, "%c", *s);
    }
    put(o, "\"");
}

static int finish(out_buf *o, size_t *len)
{
    if (o->full) { o->buf[0] = '\0'; return WN_ENROL_ESPACE; }
    if (len) *len = o->len;
    return WN_ENROL_OK;
}

int wn_enrolment_to_json(const wn_enrolment *e, char *out, size_t cap, size_t *len)
{
    if (enrolment_problem(e, 1)) return WN_ENROL_EFORMAT; /* names exist only for valid codes */
    if (cap == 0) return WN_ENROL_ESPACE;
    out_buf o = {out, cap, 0, 0};
    char meter[65], pub[67], parent[65], reg[65], sig[129], t[25];
    wn_hex_encode(meter, e->meter, 32);
    wn_hex_encode(pub, e->pubkey, 33);
    wn_hex_encode(parent, e->parent, 32);
    wn_hex_encode(reg, e->registrar, 32);
    wn_hex_encode(sig, e->sig, 64);
    wn_time_format(t, e->time_ms);
    put(&o, "{\"version\":1,\"meter\":\"%s\",\"alg\":\"%s\",\"pubkey\":\"%s\",\"time\":\"%s\","
            "\"point\":\"%s\",\"tier\":%u,\"source\":\"%s\",\"parent\":",
        meter, wn_alg_name(e->alg), pub, t, wn_point_name(e->point),
        (unsigned)e->tier, wn_source_name(e->source));
    if (all_zero(e->parent, 32)) put(&o, "null");
    else put(&o, "\"%s\"", parent);
    put(&o, ",\"enterprise\":");
    put_text(&o, e->enterprise);
    put(&o, ",\"calibration\":");
    put_text(&o, e->calibration);
    put(&o, ",\"registrar\":\"%s\",\"sig\":\"%s\"}", reg, sig);
    return finish(&o, len);
}

int wn_revocation_to_json(const wn_revocation *r, char *out, size_t cap, size_t *len)
{
    if (revocation_problem(r, 1)) return WN_ENROL_EFORMAT;
    if (cap == 0) return WN_ENROL_ESPACE;
    out_buf o = {out, cap, 0, 0};
    char meter[65], reg[65], sig[129], t[25];
    wn_hex_encode(meter, r->meter, 32);
    wn_hex_encode(reg, r->registrar, 32);
    wn_hex_encode(sig, r->sig, 64);
    wn_time_format(t, r->time_ms);
    put(&o, "{\"version\":1,\"meter\":\"%s\",\"time\":\"%s\",\"reason\":\"%s\",\"registrar\":\"%s\",\"sig\":\"%s\"}",
        meter, t, wn_revoke_reason_name(r->reason), reg, sig);
    return finish(&o, len);
}

/* ---- parsing ---------------------------------------------------------------------- */



/* Returns: 1 and *v if item is a JSON number holding an integer in [-2^31, 2^31). */
static int small_integer(const cJSON *item, long *v)
{
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (!(d >= -2147483648.0 && d < 2147483648.0) || d != (double)(long)d) return 0;
    *v = (long)d;
    return 1;
}

static int time_member(const cJSON *item, uint64_t *t)
{
    return cJSON_IsString(item) && wn_time_parse(item->valuestring, strlen(item->valuestring), t);
}

/* Returns: the code whose name is the string item, or -1. */
static int name_member(const cJSON *item, const char *(*name)(unsigned), unsigned max)
{
    if (!cJSON_IsString(item)) return -1;
    for (unsigned k = 0; k <= max; k++) {
        const char *nm = name(k);
        if (nm && strcmp(nm, item->valuestring) == 0) return (int)k;
    }
    return -1;
}

static const char *alg_name(unsigned a) { return wn_alg_name(a); }

/* Copies a JSON string of at most max bytes into out[max+1]. */
static int text_member(const cJSON *item, char *out, size_t max)
{
    if (!cJSON_IsString(item)) return 0;
    size_t n = strlen(item->valuestring);
    if (n > max) return 0;
    memcpy(out, item->valuestring, n + 1);
    return 1;
}

int wn_enrolment_from_cjson(wn_enrolment *e, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, METER, ALG, PUBKEY, TIME, POINT, TIER, SOURCE, PARENT, ENTERPRISE, CALIBRATION,
           REGISTRAR, SIG, NFIELDS };
    static const char *const names[NFIELDS] = {"version", "meter", "alg", "pubkey", "time", "point",
                                               "tier", "source", "parent", "enterprise",
                                               "calibration", "registrar", "sig"};
    const cJSON *obj = cjson_obj, *it[NFIELDS];
    const char *bad, *why;
    long num;
    int code;
    memset(e, 0, sizeof *e);
    if (detail && cap) detail[0] = '\0';
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_ENROL_EJSON, "an enrolment must be a JSON object");
    if (wn_json_members(obj, names, it, NFIELDS, &bad, &why)) return wn_fail(detail, cap, WN_ENROL_EJSON, "%s '%s'", why, bad);

    if (!small_integer(it[VERSION], &num)) return wn_fail(detail, cap, WN_ENROL_EJSON, "version: not an integer");
    if (num != 1) return wn_fail(detail, cap, WN_ENROL_EFORMAT, "version: must be 1");
    if (!wn_json_hex(it[METER], e->meter, 32))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "meter: not 64 lowercase hex characters");
    if ((code = name_member(it[ALG], alg_name, WN_ALG_MAX)) < 0)
        return wn_fail(detail, cap, WN_ENROL_EJSON, "alg: must be \"bip340\", \"ecdsa\", \"p256\" or \"sm2\"");
    e->alg = (uint8_t)code;
    if (!wn_json_hex(it[PUBKEY], e->pubkey, 33))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "pubkey: not 66 lowercase hex characters");
    if (!time_member(it[TIME], &e->time_ms))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "time: not a valid time of the form 2026-11-23T19:17:38.123Z");
    if ((code = name_member(it[POINT], wn_point_name, WN_POINT_MAX)) < 0)
        return wn_fail(detail, cap, WN_ENROL_EJSON, "point: not a metering point name");
    e->point = (uint8_t)code;
    if (!small_integer(it[TIER], &num)) return wn_fail(detail, cap, WN_ENROL_EJSON, "tier: not an integer");
    if (num < 1 || num > 3) return wn_fail(detail, cap, WN_ENROL_EFORMAT, "tier: must be 1, 2 or 3");
    e->tier = (uint8_t)num;
    if ((code = name_member(it[SOURCE], wn_source_name, WN_SOURCE_MAX)) < 0)
        return wn_fail(detail, cap, WN_ENROL_EJSON, "source: not a water source name");
    e->source = (uint8_t)code;
    if (!cJSON_IsNull(it[PARENT])) {
        if (!wn_json_hex(it[PARENT], e->parent, 32))
            return wn_fail(detail, cap, WN_ENROL_EJSON, "parent: not null or 64 lowercase hex characters");
        if (all_zero(e->parent, 32))
            return wn_fail(detail, cap, WN_ENROL_EFORMAT, "parent: no parent is written null, not zeros");
    }
    if (!text_member(it[ENTERPRISE], e->enterprise, WN_ENTERPRISE_MAX))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "enterprise: not a string of at most 64 bytes");
    if (!text_member(it[CALIBRATION], e->calibration, WN_CALIBRATION_MAX))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "calibration: not a string of at most 128 bytes");
    if (!wn_json_hex(it[REGISTRAR], e->registrar, 32))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "registrar: not 64 lowercase hex characters");
    if (!wn_json_hex(it[SIG], e->sig, 64))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "sig: not 128 lowercase hex characters");

    const char *problem = enrolment_problem(e, 1);
    return problem ? wn_fail(detail, cap, WN_ENROL_EFORMAT, "%s", problem) : WN_ENROL_OK;
}

int wn_revocation_from_cjson(wn_revocation *r, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, METER, TIME, REASON, REGISTRAR, SIG, NFIELDS };
    static const char *const names[NFIELDS] = {"version", "meter", "time", "reason", "registrar", "sig"};
    const cJSON *obj = cjson_obj, *it[NFIELDS];
    const char *bad, *why;
    long num;
    int code;
    memset(r, 0, sizeof *r);
    if (detail && cap) detail[0] = '\0';
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_ENROL_EJSON, "a revocation must be a JSON object");
    if (wn_json_members(obj, names, it, NFIELDS, &bad, &why)) return wn_fail(detail, cap, WN_ENROL_EJSON, "%s '%s'", why, bad);

    if (!small_integer(it[VERSION], &num)) return wn_fail(detail, cap, WN_ENROL_EJSON, "version: not an integer");
    if (num != 1) return wn_fail(detail, cap, WN_ENROL_EFORMAT, "version: must be 1");
    if (!wn_json_hex(it[METER], r->meter, 32))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "meter: not 64 lowercase hex characters");
    if (!time_member(it[TIME], &r->time_ms))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "time: not a valid time of the form 2026-11-23T19:17:38.123Z");
    if ((code = name_member(it[REASON], wn_revoke_reason_name, WN_REVOKE_MAX)) < 0)
        return wn_fail(detail, cap, WN_ENROL_EJSON, "reason: must be other, compromised, decommissioned or replaced");
    r->reason = (uint8_t)code;
    if (!wn_json_hex(it[REGISTRAR], r->registrar, 32))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "registrar: not 64 lowercase hex characters");
    if (!wn_json_hex(it[SIG], r->sig, 64))
        return wn_fail(detail, cap, WN_ENROL_EJSON, "sig: not 128 lowercase hex characters");

    const char *problem = revocation_problem(r, 1);
    return problem ? wn_fail(detail, cap, WN_ENROL_EFORMAT, "%s", problem) : WN_ENROL_OK;
}
