/* reading.c — the binary reading v1: field rules, canonical encoding, strict decoding,
 * digests, signing and verification (docs/PROTOCOL.md §2). The JSON form lives in
 * reading_json.c.
 *
 * The idea: one function, wn_reading_check, holds every field rule; the encoder runs it
 * before writing and the decoder runs it after reading, so a struct that encodes is
 * exactly a byte string that decodes. Nothing here allocates. */
#include "protocol/reading.h"
#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/sha256.h"

#include <string.h>

/* ---- names ------------------------------------------------------------------------ */

static const char *const quantity_names[WN_Q_MAX + 1] = {
    NULL, "volume", "flow", "ph", "conductivity", "turbidity", "pressure", "temperature",
    "fluorescence",
};

static const char *const unit_names[WN_U_MAX + 1] = {
    NULL, "m3", "L", "m3/h", "L/s", "pH", "uS/cm", "NTU", "kPa", "MPa", "degC", "RFU",
};

static const char *const flag_names[6] = {
    "tamper", "reverse_flow", "power_loss", "meter_replaced", "clock_unsync", "substitute",
};

/* The units allowed with each quantity, as a bit set over unit codes. */
static const uint16_t allowed_units[WN_Q_MAX + 1] = {
    [WN_Q_VOLUME] = 1u << WN_U_M3 | 1u << WN_U_LITRE,
    [WN_Q_FLOW] = 1u << WN_U_M3_PER_H | 1u << WN_U_L_PER_S,
    [WN_Q_PH] = 1u << WN_U_PH,
    [WN_Q_CONDUCTIVITY] = 1u << WN_U_US_PER_CM,
    [WN_Q_TURBIDITY] = 1u << WN_U_NTU,
    [WN_Q_PRESSURE] = 1u << WN_U_KPA | 1u << WN_U_MPA,
    [WN_Q_TEMPERATURE] = 1u << WN_U_DEGC,
    [WN_Q_FLUORESCENCE] = 1u << WN_U_RFU,
};

const char *wn_quantity_name(unsigned q) { return q <= WN_Q_MAX ? quantity_names[q] : NULL; }
const char *wn_unit_name(unsigned u) { return u <= WN_U_MAX ? unit_names[u] : NULL; }
const char *wn_flag_name(unsigned bit) { return bit < 6 ? flag_names[bit] : NULL; }

int wn_unit_allowed(unsigned quantity, unsigned unit)
{
    return quantity >= 1 && quantity <= WN_Q_MAX && unit >= 1 && unit <= WN_U_MAX &&
           (allowed_units[quantity] >> unit & 1u);
}

/* ---- errors ----------------------------------------------------------------------- */

static const struct { const char *code, *text; } errors[] = {
    [WN_READING_OK] = {"ok", "success"},
    [WN_READING_ETRUNCATED] = {"truncated", "the input ends before the reading does"},
    [WN_READING_ETRAILING] = {"trailing_bytes", "bytes follow the signature"},
    [WN_READING_EVERSION] = {"bad_version", "unknown reading format version"},
    [WN_READING_EMETER] = {"bad_meter_id", "the meter id is not a valid x-only public key"},
    [WN_READING_ESEQ] = {"bad_sequence", "the sequence is 0 or above 2^53-1"},
    [WN_READING_ETIME] = {"bad_time", "the time is above 9999-12-31T23:59:59.999Z"},
    [WN_READING_EPREV] = {"bad_prev", "the previous digest must be all zero exactly when the sequence is 1"},
    [WN_READING_EFLAGS] = {"bad_flags", "an undefined flag bit is set"},
    [WN_READING_ECOUNT] = {"bad_count", "the number of measurements is not 1..16"},
    [WN_READING_EQUANTITY] = {"bad_quantity", "unknown quantity"},
    [WN_READING_EUNIT] = {"bad_unit", "unknown unit, or a unit not allowed for its quantity"},
    [WN_READING_ESCALE] = {"bad_scale", "a scale is above 9"},
    [WN_READING_EORDER] = {"bad_order", "measurements are not strictly ascending by quantity"},
    [WN_READING_EALG] = {"bad_algorithm", "unknown signature algorithm"},
    [WN_READING_ESIG] = {"bad_signature", "the signature does not verify"},
    [WN_READING_EKEY] = {"key_mismatch", "the key does not belong to this meter id"},
    [WN_READING_EJSON] = {"malformed_json", "the JSON form is malformed, or a field is missing, unknown or mistyped"},
    [WN_READING_ESPACE] = {"no_space", "the output buffer is too small"},
};

const char *wn_reading_strerror(int err)
{
    if (err < 0 || (size_t)err >= sizeof errors / sizeof errors[0]) return "unknown reading error";
    return errors[err].text;
}

const char *wn_reading_errcode(int err)
{
    if (err < 0 || (size_t)err >= sizeof errors / sizeof errors[0]) return "unknown";
    return errors[err].code;
}

/* ---- rules ------------------------------------------------------------------------ */

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* The rules in the order of the fields in the binary form, so that decoding reports the
 * first field that is wrong. check_meter = 0 skips the meter id's curve-point check (a
 * square root) and nothing else, for wn_reading_decode_known_meter. */
static int check_fields(const wn_reading *r, int check_meter)
{
    if (r->version != WN_READING_VERSION) return WN_READING_EVERSION;
    if (check_meter && !wn_xonly_valid(r->meter)) return WN_READING_EMETER;
    if (r->seq == 0 || r->seq > WN_READING_MAX_SEQ) return WN_READING_ESEQ;
    if (r->time_ms > WN_READING_MAX_TIME) return WN_READING_ETIME;
    if (all_zero(r->prev, sizeof r->prev) != (r->seq == 1)) return WN_READING_EPREV;
    if (r->flags & ~(unsigned)WN_FLAG_ALL) return WN_READING_EFLAGS;
    if (r->count == 0 || r->count > WN_READING_MAX_MEAS) return WN_READING_ECOUNT;
    for (unsigned i = 0; i < r->count; i++) {
        const wn_measurement *m = &r->m[i];
        if (m->quantity == 0 || m->quantity > WN_Q_MAX) return WN_READING_EQUANTITY;
        if (!wn_unit_allowed(m->quantity, m->unit)) return WN_READING_EUNIT;
        if (m->scale > WN_READING_MAX_SCALE) return WN_READING_ESCALE;
        if (i > 0 && m->quantity <= r->m[i - 1].quantity) return WN_READING_EORDER;
    }
    if (r->alg < WN_ALG_BIP340 || r->alg > WN_ALG_MAX) return WN_READING_EALG;
    return WN_READING_OK;
}

int wn_reading_check(const wn_reading *r) { return check_fields(r, 1); }

/* ---- binary form ------------------------------------------------------------------ */

/* Number of measurements actually laid out: count clamped to the array, so that the
 * void digest functions never read out of bounds on a struct that breaks the rules. */
static unsigned layout_count(const wn_reading *r)
{
    return r->count <= WN_READING_MAX_MEAS ? r->count : WN_READING_MAX_MEAS;
}

size_t wn_reading_encoded_len(const wn_reading *r)
{
    return WN_READING_FIXED_LEN + (size_t)WN_READING_MEAS_LEN * layout_count(r);
}

/* Writes the whole binary form (no checks) into out[0..wn_reading_encoded_len(r)). */
static void put_bytes(const wn_reading *r, uint8_t *out)
{
    unsigned n = layout_count(r);
    out[0] = r->version;
    memcpy(out + 1, r->meter, 32);
    wn_put_u64(out + 33, r->seq);
    wn_put_u64(out + 41, r->time_ms);
    memcpy(out + 49, r->prev, 32);
    wn_put_u16(out + 81, r->flags);
    out[83] = (uint8_t)r->count;
    uint8_t *p = out + 84;
    for (unsigned i = 0; i < n; i++, p += WN_READING_MEAS_LEN) {
        p[0] = r->m[i].quantity;
        p[1] = r->m[i].unit;
        p[2] = r->m[i].scale;
        wn_put_u64(p + 3, (uint64_t)r->m[i].value);
    }
    p[0] = r->alg;
    memcpy(p + 1, r->sig, WN_SIG_LEN);
}

int wn_reading_encode(const wn_reading *r, uint8_t *out, size_t cap, size_t *len)
{
    int err = wn_reading_check(r);
    if (err) return err;
    size_t n = wn_reading_encoded_len(r);
    if (cap < n) return WN_READING_ESPACE;
    put_bytes(r, out);
    *len = n;
    return WN_READING_OK;
}

/* Order of checks: version (nothing else can be read under an unknown version), the
 * length (which needs the count), then every field rule in byte order. */
static int decode(wn_reading *r, const uint8_t *in, size_t len, int check_meter)
{
    if (len < 1) return WN_READING_ETRUNCATED;
    if (in[0] != WN_READING_VERSION) return WN_READING_EVERSION;
    if (len < 84) return WN_READING_ETRUNCATED;
    unsigned n = in[83];
    if (n == 0 || n > WN_READING_MAX_MEAS) return WN_READING_ECOUNT;
    size_t total = WN_READING_FIXED_LEN + (size_t)WN_READING_MEAS_LEN * n;
    if (len < total) return WN_READING_ETRUNCATED;
    if (len > total) return WN_READING_ETRAILING;

    memset(r, 0, sizeof *r);
    r->version = in[0];
    memcpy(r->meter, in + 1, 32);
    r->seq = wn_get_u64(in + 33);
    r->time_ms = wn_get_u64(in + 41);
    memcpy(r->prev, in + 49, 32);
    r->flags = wn_get_u16(in + 81);
    r->count = (uint8_t)n;
    const uint8_t *p = in + 84;
    for (unsigned i = 0; i < n; i++, p += WN_READING_MEAS_LEN) {
        r->m[i].quantity = p[0];
        r->m[i].unit = p[1];
        r->m[i].scale = p[2];
        uint64_t v = wn_get_u64(p + 3); /* two's complement, converted without relying on
                                           implementation-defined behaviour */
        r->m[i].value = v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
    }
    r->alg = p[0];
    memcpy(r->sig, p + 1, WN_SIG_LEN);
    return check_fields(r, check_meter);
}

int wn_reading_decode(wn_reading *r, const uint8_t *in, size_t len) { return decode(r, in, len, 1); }

int wn_reading_decode_known_meter(wn_reading *r, const uint8_t *in, size_t len) { return decode(r, in, len, 0); }

/* ---- digests ---------------------------------------------------------------------- */

void wn_reading_signing_digest_of(uint8_t alg, const uint8_t *bytes, size_t n, uint8_t digest[32])
{
    if (alg == WN_ALG_SM2) { /* national algorithms end to end: the tag hashed with SM3 */
        if (!wn_sm3_tagged(digest, WN_TAG_READING, bytes, n)) memset(digest, 0, 32); /* never a signed digest */
        return;
    }
    wn_tagged_hash(digest, WN_TAG_READING, bytes, n);
}

void wn_reading_signing_digest(const wn_reading *r, uint8_t digest[32])
{
    uint8_t buf[WN_READING_MAX_LEN];
    put_bytes(r, buf);
    wn_reading_signing_digest_of(r->alg, buf, wn_reading_encoded_len(r) - WN_SIG_LEN, digest);
}

const char *wn_alg_name(unsigned alg)
{
    static const char *const names[] = {NULL, "bip340", "ecdsa", "p256", "sm2"};
    return alg >= 1 && alg <= WN_ALG_MAX ? names[alg] : NULL;
}

int wn_meter_id_of(uint8_t alg, const uint8_t pub33[WN_PUB33_LEN], uint8_t id[WN_XONLY_LEN])
{
    if (pub33[0] != 0x02 && pub33[0] != 0x03) return 0;
    if (alg == WN_ALG_BIP340 || alg == WN_ALG_ECDSA) {
        if (alg == WN_ALG_BIP340 && pub33[0] != 0x02) return 0;
        if (!wn_xonly_valid(pub33 + 1)) return 0;
        memcpy(id, pub33 + 1, WN_XONLY_LEN);
        return 1;
    }
    if (alg == WN_ALG_P256 ? !wn_p256_pub_valid(pub33) : alg == WN_ALG_SM2 ? !wn_sm2_pub_valid(pub33) : 1) return 0;
    uint8_t in[1 + WN_PUB33_LEN + 1];
    in[0] = alg;
    memcpy(in + 1, pub33, WN_PUB33_LEN);
    for (unsigned i = 0; i < 256; i++) { /* about two tries on average: half of all x are on secp256k1 */
        in[1 + WN_PUB33_LEN] = (uint8_t)i;
        wn_tagged_hash(id, WN_TAG_METER_ID, in, sizeof in);
        if (wn_xonly_valid(id)) return 1;
    }
    return 0; /* 2^-256: never */
}

void wn_reading_digest(const wn_reading *r, uint8_t digest[32])
{
    uint8_t buf[WN_READING_MAX_LEN];
    put_bytes(r, buf);
    wn_sha256(digest, buf, wn_reading_encoded_len(r));
}

/* ---- signatures ------------------------------------------------------------------- */

int wn_reading_sign(wn_reading *r, const uint8_t seckey[WN_SECKEY_LEN])
{
    uint8_t xonly[WN_XONLY_LEN], d[32];
    r->alg = WN_ALG_BIP340;
    int err = wn_reading_check(r);
    if (err) return err;
    if (!wn_seckey_xonly(xonly, seckey) || memcmp(xonly, r->meter, WN_XONLY_LEN) != 0)
        return WN_READING_EKEY;
    wn_reading_signing_digest(r, d);
    if (!wn_schnorr_sign(r->sig, seckey, d, NULL)) return WN_READING_ESIG; /* OS randomness failed */
    return WN_READING_OK;
}

int wn_reading_sign_ecdsa(wn_reading *r, const uint8_t seckey[WN_SECKEY_LEN])
{
    uint8_t pub[WN_PUB33_LEN], d[32];
    r->alg = WN_ALG_ECDSA;
    int err = wn_reading_check(r);
    if (err) return err;
    if (!wn_seckey_pub33(pub, seckey) || memcmp(pub + 1, r->meter, WN_XONLY_LEN) != 0)
        return WN_READING_EKEY;
    wn_reading_signing_digest(r, d);
    if (!wn_ecdsa_sign(r->sig, seckey, d)) return WN_READING_ESIG;
    return WN_READING_OK;
}

/* Signs r with P-256 or SM2 (alg 3 or 4): r->meter must be the id derived from seckey's key. */
int wn_reading_sign_evp(wn_reading *r, uint8_t alg, const uint8_t seckey[WN_SECKEY_LEN])
{
    uint8_t pub[WN_PUB33_LEN], id[WN_XONLY_LEN], d[32];
    if (alg != WN_ALG_P256 && alg != WN_ALG_SM2) return WN_READING_EALG;
    r->alg = alg;
    int err = wn_reading_check(r);
    if (err) return err;
    int ok = alg == WN_ALG_P256 ? wn_p256_pub33(pub, seckey) : wn_sm2_pub33(pub, seckey);
    if (!ok || !wn_meter_id_of(alg, pub, id) || memcmp(id, r->meter, WN_XONLY_LEN) != 0) return WN_READING_EKEY;
    wn_reading_signing_digest(r, d);
    ok = alg == WN_ALG_P256 ? wn_p256_sign(r->sig, seckey, d) : wn_sm2_sign(r->sig, seckey, NULL, d, 32);
    return ok ? WN_READING_OK : WN_READING_ESIG;
}

int wn_reading_verify(const wn_reading *r, const uint8_t *pub, size_t publen)
{
    uint8_t d[32];
    int err = wn_reading_check(r);
    if (err) return err;
    if (r->alg == WN_ALG_P256 || r->alg == WN_ALG_SM2) {
        uint8_t id[WN_XONLY_LEN];
        if (!pub || publen != WN_PUB33_LEN || !wn_meter_id_of(r->alg, pub, id) ||
            memcmp(id, r->meter, WN_XONLY_LEN) != 0)
            return WN_READING_EKEY;
        wn_reading_signing_digest(r, d);
        int ok = r->alg == WN_ALG_P256 ? wn_p256_verify(r->sig, d, pub) : wn_sm2_verify(r->sig, pub, NULL, d, 32);
        return ok ? WN_READING_OK : WN_READING_ESIG;
    }
    if (r->alg == WN_ALG_BIP340) {
        if (pub && (publen != WN_XONLY_LEN || memcmp(pub, r->meter, WN_XONLY_LEN) != 0))
            return WN_READING_EKEY;
        wn_reading_signing_digest(r, d);
        return wn_schnorr_verify(r->sig, d, r->meter) ? WN_READING_OK : WN_READING_ESIG;
    }
    if (!pub || publen != WN_PUB33_LEN || (pub[0] != 0x02 && pub[0] != 0x03) ||
        memcmp(pub + 1, r->meter, WN_XONLY_LEN) != 0)
        return WN_READING_EKEY;
    wn_reading_signing_digest(r, d);
    return wn_ecdsa_verify(r->sig, d, pub, publen) ? WN_READING_OK : WN_READING_ESIG;
}
