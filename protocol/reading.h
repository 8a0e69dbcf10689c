/* reading.h — the signed meter reading, version 1: canonical binary form, JSON form,
 * signing and verification.
 *
 * The binary form is specified byte by byte in docs/PROTOCOL.md ("Reading v1"):
 *
 *   off        size  field
 *   0          1     version            = 0x01
 *   1          32    meter id           BIP-340 x-only public key of the meter
 *   33         8     sequence           u64 big-endian, 1 ..= 2^53-1, +1 per reading
 *   41         8     time               u64 big-endian, UTC milliseconds since 1970,
 *                                       <= 253402300799999 (9999-12-31T23:59:59.999Z)
 *   49         32    previous digest    digest of the meter's previous reading;
 *                                       all zero iff sequence == 1
 *   81         2     flags              u16 big-endian, WN_FLAG_* bits, others zero
 *   83         1     count n            1 ..= WN_READING_MAX_MEAS
 *   84         11*n  measurements       quantity u8, unit u8, scale u8 (0..9),
 *                                       value i64 big-endian two's complement;
 *                                       strictly ascending by quantity; unit allowed
 *                                       for the quantity; real value = value / 10^scale
 *   84+11n     1     signature alg      1 = BIP-340 Schnorr, 2 = ECDSA-secp256k1-SHA256
 *   85+11n     64    signature          over D = tagged_hash(WN_TAG_READING, bytes[0, 85+11n))
 *
 * The reading's digest (what the next reading's "previous digest" holds, and what
 * identifies it) is SHA-256 of all 149+11n bytes.
 *
 * Nothing here allocates: a meter can build, sign and encode readings on the stack.
 * The JSON codec (reading_json.c) maps one-to-one onto the binary form. */
#ifndef WN_READING_H
#define WN_READING_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_READING_VERSION 1
#define WN_READING_MAX_MEAS 16
#define WN_READING_FIXED_LEN 149 /* length with no measurements */
#define WN_READING_MEAS_LEN 11
#define WN_READING_MAX_LEN (WN_READING_FIXED_LEN + WN_READING_MEAS_LEN * WN_READING_MAX_MEAS)
#define WN_READING_MAX_SEQ ((1ULL << 53) - 1)
#define WN_READING_MAX_TIME 253402300799999ULL
#define WN_READING_MAX_SCALE 9

/* Quantity codes. */
enum wn_quantity {
    WN_Q_VOLUME = 1,       /* cumulative volume (totaliser): m3 or L */
    WN_Q_FLOW = 2,         /* flow rate: m3/h or L/s */
    WN_Q_PH = 3,           /* pH: pH units */
    WN_Q_CONDUCTIVITY = 4, /* electrical conductivity: uS/cm */
    WN_Q_TURBIDITY = 5,    /* turbidity: NTU */
    WN_Q_PRESSURE = 6,     /* pressure: kPa or MPa */
    WN_Q_TEMPERATURE = 7,  /* water temperature: degC */
    WN_Q_FLUORESCENCE = 8, /* fluorescence (recycled-water tracer): RFU */
    WN_Q_MAX = 8
};

/* Unit codes. */
enum wn_unit {
    WN_U_M3 = 1, WN_U_LITRE = 2, WN_U_M3_PER_H = 3, WN_U_L_PER_S = 4, WN_U_PH = 5,
    WN_U_US_PER_CM = 6, WN_U_NTU = 7, WN_U_KPA = 8, WN_U_MPA = 9, WN_U_DEGC = 10,
    WN_U_RFU = 11, WN_U_MAX = 11
};

/* Status flags (bit numbers are part of the format). */
enum wn_flag {
    WN_FLAG_TAMPER = 1u << 0,         /* case opened, magnet, tamper switch */
    WN_FLAG_REVERSE_FLOW = 1u << 1,   /* flow ran backwards since the last reading */
    WN_FLAG_POWER_LOSS = 1u << 2,     /* power was lost since the last reading */
    WN_FLAG_METER_REPLACED = 1u << 3, /* totaliser restarted: new or replaced meter body */
    WN_FLAG_CLOCK_UNSYNC = 1u << 4,   /* the meter's clock was not synchronised */
    WN_FLAG_SUBSTITUTE = 1u << 5,     /* a substitute (estimated) value, not measured */
    WN_FLAG_ALL = 0x3f
};

typedef struct {
    uint8_t quantity; /* enum wn_quantity */
    uint8_t unit;     /* enum wn_unit */
    uint8_t scale;    /* decimal places: value / 10^scale */
    int64_t value;
} wn_measurement;

typedef struct {
    uint8_t version;
    uint8_t meter[WN_XONLY_LEN];
    uint64_t seq;
    uint64_t time_ms;
    uint8_t prev[32];
    uint16_t flags;
    uint8_t count;
    wn_measurement m[WN_READING_MAX_MEAS];
    uint8_t alg; /* enum wn_sig_alg */
    uint8_t sig[WN_SIG_LEN];
} wn_reading;

/* Errors of this module. 0 is success. */
enum wn_reading_err {
    WN_READING_OK = 0,
    WN_READING_ETRUNCATED, /* input ends before the reading does */
    WN_READING_ETRAILING,  /* bytes after the signature */
    WN_READING_EVERSION,   /* unknown format version */
    WN_READING_EMETER,     /* meter id is not a valid x-only public key */
    WN_READING_ESEQ,       /* sequence 0 or above WN_READING_MAX_SEQ */
    WN_READING_ETIME,      /* time above WN_READING_MAX_TIME */
    WN_READING_EPREV,      /* previous digest zero with seq > 1, or non-zero with seq 1 */
    WN_READING_EFLAGS,     /* an undefined flag bit is set */
    WN_READING_ECOUNT,     /* no measurements, or more than WN_READING_MAX_MEAS */
    WN_READING_EQUANTITY,  /* unknown quantity code */
    WN_READING_EUNIT,      /* unknown unit, or a unit not allowed for the quantity */
    WN_READING_ESCALE,     /* scale above WN_READING_MAX_SCALE */
    WN_READING_EORDER,     /* measurements not strictly ascending by quantity */
    WN_READING_EALG,       /* unknown signature algorithm */
    WN_READING_ESIG,       /* the signature does not verify */
    WN_READING_EKEY,       /* the key given does not belong to this meter id */
    WN_READING_EJSON,      /* JSON form malformed, a field missing, unknown or mistyped */
    WN_READING_ESPACE      /* output buffer too small */
};

/* A sentence saying what the error means. */
const char *wn_reading_strerror(int err);
/* A short stable code for the error ("bad_signature", "trailing_bytes", ...). */
const char *wn_reading_errcode(int err);

/* Names used in the JSON form and in CSV/UI ("volume", "m3", "tamper", ...); NULL if unknown. */
const char *wn_quantity_name(unsigned q);
const char *wn_unit_name(unsigned u);
const char *wn_flag_name(unsigned bit); /* bit: 0..15 */
/* Returns: 1 if unit may be used with quantity. */
int wn_unit_allowed(unsigned quantity, unsigned unit);

/* Checks every field rule above except the signature. Returns: WN_READING_OK or an error. */
int wn_reading_check(const wn_reading *r);

/* Length of r's binary form (149 + 11*count). */
size_t wn_reading_encoded_len(const wn_reading *r);

/* Encodes r (checked first) into out[0..cap). Out: *len. Returns: WN_READING_OK or an error. */
int wn_reading_encode(const wn_reading *r, uint8_t *out, size_t cap, size_t *len);

/* Strictly decodes exactly one reading from in[0..len). Does not verify the signature.
 * Returns: WN_READING_OK or the first rule broken. */
int wn_reading_decode(wn_reading *r, const uint8_t *in, size_t len);

/* wn_reading_decode without one rule: it does not check that the meter id is a curve
 * point (that check is a field square root). Every other rule, and the order in which
 * they are reported, is wn_reading_decode's, so on input whose meter id is a valid key
 * both give the same result and the same *r.
 * Only for a caller that has already established that the id at bytes [1, 33) is a valid
 * x-only key, e.g. because it equals the id of an enrolled meter whose key was checked at
 * enrolment. With any other id this may return WN_READING_OK (or a later field's error)
 * where wn_reading_decode returns WN_READING_EMETER.
 * Returns: WN_READING_OK or the first rule broken (never WN_READING_EMETER). */
int wn_reading_decode_known_meter(wn_reading *r, const uint8_t *in, size_t len);

/* The 32-byte digest that is signed: the tagged hash of the bytes before the signature
 * (docs/PROTOCOL.md §1) with SHA-256, or with SM3 for alg 4 (SM2). */
void wn_reading_signing_digest(const wn_reading *r, uint8_t digest[32]);
/* The same from the encoded bytes before the signature (n of them) and the algorithm. */
void wn_reading_signing_digest_of(uint8_t alg, const uint8_t *bytes, size_t n, uint8_t digest[32]);

/* The reading's digest: SHA-256 of its complete binary form. */
void wn_reading_digest(const wn_reading *r, uint8_t digest[32]);

/* Signs r with BIP-340 (sets alg and sig). r->meter must be seckey's x-only key.
 * Returns: WN_READING_OK, WN_READING_EKEY or a field error. */
int wn_reading_sign(wn_reading *r, const uint8_t seckey[WN_SECKEY_LEN]);

/* Signs r with ECDSA (sets alg and sig); r->meter must be the x of seckey's public key. */
int wn_reading_sign_ecdsa(wn_reading *r, const uint8_t seckey[WN_SECKEY_LEN]);

/* Signs r with P-256 (alg 3) or SM2 (alg 4) (sets alg and sig); r->meter must be the id
 * derived from seckey's public key (wn_meter_id_of). */
int wn_reading_sign_evp(wn_reading *r, uint8_t alg, const uint8_t seckey[WN_SECKEY_LEN]);

/* The meter id of an enrolled key (docs/PROTOCOL.md §1): for BIP-340 (02 || x only) and
 * ECDSA-secp256k1 the key's x; for P-256 and SM2 the first tagged hash
 * H("WaterNotary/meter-id/v1", alg || pub33 || i), i = 0, 1, ..., that is a valid x-only
 * secp256k1 key, so that every id of every algorithm lives in the same 32-byte space and
 * passes the same decoder rule. Returns: 1, or 0 if pub33 is not a valid key of alg. */
int wn_meter_id_of(uint8_t alg, const uint8_t pub33[WN_PUB33_LEN], uint8_t id[WN_XONLY_LEN]);

/* The algorithm's JSON name: "bip340", "ecdsa", "p256", "sm2"; NULL if unknown. */
const char *wn_alg_name(unsigned alg);

/* Verifies r's signature. For BIP-340, pub is the 32-byte x-only key (NULL: use r->meter).
 * For ECDSA, pub is the enrolled 33-byte compressed key, whose x must equal r->meter.
 * For P-256 and SM2, pub is the enrolled 33-byte key whose derived id must be r->meter.
 * Returns: WN_READING_OK, WN_READING_ESIG, WN_READING_EKEY or a field error. */
int wn_reading_verify(const wn_reading *r, const uint8_t *pub, size_t publen);

/* Bytes (with the NUL) of the longest possible JSON form: a buffer this big always suffices. */
#define WN_READING_JSON_MAX 1700

/* JSON form (see docs/PROTOCOL.md). Writes NUL-terminated compact JSON with fields in
 * a fixed order. Returns: WN_READING_OK or WN_READING_ESPACE. */
int wn_reading_to_json(const wn_reading *r, char *out, size_t cap, size_t *len);

/* Parses the JSON form strictly (every field required, none unknown, exact types,
 * lowercase hex, RFC 3339 UTC time with milliseconds, decimal strings whose digits after
 * the point give the scale). Returns: WN_READING_OK or an error; detail (may be NULL)
 * receives a NUL-terminated explanation of at most detailcap bytes. */
int wn_reading_from_json(wn_reading *r, const char *text, size_t len, char *detail, size_t detailcap);

/* The same, from an already parsed cJSON object (cJSON * passed as void * so this
 * header does not require cJSON). */
int wn_reading_from_cjson(wn_reading *r, const void *cjson_obj, char *detail, size_t detailcap);

/* Formats value/10^scale as a decimal string ("-12.050" for -12050, scale 3).
 * out must hold at least 24 bytes. Returns: length. */
size_t wn_decimal_format(char *out, int64_t value, unsigned scale);
/* Parses such a string strictly. Returns: 1 on success. */
int wn_decimal_parse(const char *s, size_t len, int64_t *value, unsigned *scale);

/* RFC 3339 UTC with milliseconds: "2026-11-23T19:17:38.123Z" (25 bytes with NUL). */
void wn_time_format(char out[25], uint64_t time_ms);
/* Parses exactly that form. Returns: 1 on success. */
int wn_time_parse(const char *s, size_t len, uint64_t *time_ms);

#endif
