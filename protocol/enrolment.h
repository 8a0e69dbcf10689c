/* enrolment.h — registrar-signed enrolment and revocation records (docs/PROTOCOL.md §5):
 * binary codec, JSON codec, signing and verification. No allocation. */
#ifndef WN_ENROLMENT_H
#define WN_ENROLMENT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

/* Metering points 1..6 are meters; WN_POINT_CERTIFIER enrols the key of a qualified
 * third-party certification body, which signs savings claims (docs/PROTOCOL.md §5, §16). */
enum wn_point { WN_POINT_INTAKE = 1, WN_POINT_TREATMENT, WN_POINT_SUPPLY, WN_POINT_USE,
                WN_POINT_DISCHARGE, WN_POINT_RECYCLING, WN_POINT_CERTIFIER,
                WN_POINT_MAX = WN_POINT_CERTIFIER };
enum wn_source { WN_SOURCE_SURFACE = 1, WN_SOURCE_GROUNDWATER, WN_SOURCE_TAP, WN_SOURCE_RECLAIMED,
                 WN_SOURCE_RAINWATER, WN_SOURCE_MINE, WN_SOURCE_MAX = WN_SOURCE_MINE };
enum wn_revoke_reason { WN_REVOKE_OTHER = 0, WN_REVOKE_COMPROMISED, WN_REVOKE_DECOMMISSIONED,
                        WN_REVOKE_REPLACED, WN_REVOKE_MAX = WN_REVOKE_REPLACED };

#define WN_ENTERPRISE_MAX 64
#define WN_CALIBRATION_MAX 128
#define WN_GATEWAY_ID_MAX 64
#define WN_ENROLMENT_MAX_LEN (208 + WN_ENTERPRISE_MAX + WN_CALIBRATION_MAX + 2 + WN_GATEWAY_ID_MAX)

/* Where a meter's readings are signed (docs/PROTOCOL.md §5): at the sensor (a signing meter,
 * a version 1 record) or at a gateway that reads an installed meter that cannot sign
 * (device/gateway/, a version 2 record naming the gateway). */
enum wn_attestation { WN_ATTEST_SENSOR = 0, WN_ATTEST_GATEWAY = 2 };
#define WN_REVOCATION_LEN 138
/* Bytes (with the NUL) of the longest possible JSON forms: buffers this big always suffice. */
#define WN_ENROLMENT_JSON_MAX 1024
#define WN_REVOCATION_JSON_MAX 384

typedef struct {
    uint8_t meter[32];
    uint8_t alg;           /* enum wn_sig_alg */
    uint8_t pubkey[33];    /* compressed; for BIP-340 0x02 || meter */
    uint64_t time_ms;
    uint8_t point;         /* enum wn_point */
    uint8_t tier;          /* 1..3 */
    uint8_t source;        /* enum wn_source */
    uint8_t parent[32];    /* zeros: none */
    char enterprise[WN_ENTERPRISE_MAX + 1];   /* NUL-terminated UTF-8, 1..64 bytes */
    char calibration[WN_CALIBRATION_MAX + 1]; /* NUL-terminated UTF-8, 0..128 bytes */
    uint8_t attestation;   /* enum wn_attestation */
    char gateway[WN_GATEWAY_ID_MAX + 1];      /* WN_ATTEST_GATEWAY: the gateway's id, 1..64 bytes; else "" */
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_enrolment;

typedef struct {
    uint8_t meter[32];
    uint64_t time_ms;
    uint8_t reason;        /* enum wn_revoke_reason */
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_revocation;

enum wn_enrol_err {
    WN_ENROL_OK = 0,
    WN_ENROL_EFORMAT,   /* truncated, trailing bytes, bad version or field value */
    WN_ENROL_ESIG,      /* registrar signature does not verify */
    WN_ENROL_EJSON,     /* malformed JSON form */
    WN_ENROL_ESPACE
};
const char *wn_enrol_strerror(int err);

const char *wn_point_name(unsigned p);   /* "intake", ... ; NULL if unknown */
const char *wn_attestation_name(unsigned a); /* "sensor", "gateway"; NULL if unknown */
const char *wn_source_name(unsigned s);  /* "surface", ..., "mine_water" */
const char *wn_revoke_reason_name(unsigned r);

/* Fills registrar and sig. Returns: WN_ENROL_OK or an error. */
int wn_enrolment_sign(wn_enrolment *e, const uint8_t registrar_seckey[32]);
int wn_enrolment_verify(const wn_enrolment *e); /* with e->registrar; caller checks it is THE registrar */
int wn_enrolment_encode(const wn_enrolment *e, uint8_t *out, size_t cap, size_t *len);
int wn_enrolment_decode(wn_enrolment *e, const uint8_t *in, size_t len);
int wn_enrolment_to_json(const wn_enrolment *e, char *out, size_t cap, size_t *len);
int wn_enrolment_from_cjson(wn_enrolment *e, const void *cjson_obj, char *detail, size_t detailcap);

int wn_revocation_sign(wn_revocation *r, const uint8_t registrar_seckey[32]);
int wn_revocation_verify(const wn_revocation *r);
int wn_revocation_encode(const wn_revocation *r, uint8_t out[WN_REVOCATION_LEN]);
int wn_revocation_decode(wn_revocation *r, const uint8_t *in, size_t len);
int wn_revocation_to_json(const wn_revocation *r, char *out, size_t cap, size_t *len);
int wn_revocation_from_cjson(wn_revocation *r, const void *cjson_obj, char *detail, size_t detailcap);

#endif
