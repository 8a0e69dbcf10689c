/* certificate.h — savings certificates and what their holders do with them
 * (docs/PROTOCOL.md §17): binary codecs, JSON codecs, signing and verification.
 *
 * A certificate (ledger entry 0x05) records an accepted evaluation: the saved volume, the
 * claim, policy and checkpoint it rests on, the meters and periods, and its purpose — a
 * subsidy or a water-rights sale. The evaluating authority signs it; the node refuses a
 * second certificate on an overlapping (meter, reporting period) unless the policy lets
 * one subsidy and one sale share it, and a subsidy certificate for a project that already
 * holds as many as the policy allows (project_already_subsidised). The holder (first the enterprise) transfers part or
 * all of a sale certificate's balance to a buyer (0x06) and retires volume (0x07); each
 * operation carries the certificate's next operation number, so a signed operation
 * cannot be replayed.
 *
 * Certificate (version 2; version 1, still read, has neither project member):
 *   0   1   version 0x02
 *   1   1   purpose: 1 subsidy, 2 water-rights sale
 *   2   1   flags: bit 0 = the policy lets the same saving be both subsidised and sold
 *   3   8   time issued (ms)
 *   11  8   valid until (ms): transfers and retirements only before it
 *   19  8   volume (litres: the normalised saving measured over the reporting period;
 *           version 1 carried the annualised saving)
 *   27  8   subsidy (fen; 0 for a sale)
 *   35  32  claim digest          67 32 policy digest
 *   99  32  holder (x-only key of the enterprise)
 *   131 8   checkpoint size       139 32 checkpoint root (the evaluation's data)
 *   171 8   baseline from   179 8 baseline to   187 8 reporting from   195 8 reporting to
 *   203 1   n meters, 1 ..= 32    204 32n meter ids (the reporting period's meters)
 *   then    u8 length || enterprise id (1..64), u8 || policy id (1..64), u8 || claim id (1..64)
 *   then    u8 length || project id (0..200; 0: none), u8 project subsidies (the policy's
 *           limit on subsidy certificates per project, 0: none; needs a project id)
 *   then    32 authority x-only key, 64 BIP-340 signature over
 *           tagged_hash(WN_TAG_CERTIFICATE, everything before the signature)
 *
 * Transfer (161 bytes): version 1 | u64 certificate index | u64 operation number | u64 time |
 *   u64 volume (litres) | 32 from (holder) | 32 to (buyer) |
 *   64 BIP-340 signature by `from` over tagged_hash(WN_TAG_TRANSFER, bytes[0..97))
 * Retirement (129 bytes): version 1 | u64 certificate index | u64 operation number |
 *   u64 time | u64 volume | 32 holder | 64 signature by the holder over
 *   tagged_hash(WN_TAG_RETIREMENT, bytes[0..65))
 *
 * Volumes and money are at most 2^53 - 1 so that their JSON numbers are exact. */
#ifndef WN_CERTIFICATE_H
#define WN_CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

enum wn_cert_purpose { WN_PURPOSE_SUBSIDY = 1, WN_PURPOSE_SALE = 2 };
#define WN_CERT_FLAG_SUBSIDY_AND_SALE 0x01

#define WN_CERT_MAX_METERS 32
#define WN_CERT_TEXT_MAX 64
#define WN_CERT_PROJECT_MAX 200
#define WN_CERT_VERSION 2            /* what wn_certificate_sign writes when version is 0 */
#define WN_CERT_MAX_AMOUNT ((1ULL << 53) - 1)
#define WN_CERTIFICATE_MAX_LEN (204 + 32 * WN_CERT_MAX_METERS + 3 * (1 + WN_CERT_TEXT_MAX) + 2 + WN_CERT_PROJECT_MAX + 96)
#define WN_TRANSFER_LEN 161
#define WN_RETIREMENT_LEN 129
/* Bytes (with the NUL) of the longest JSON forms. */
#define WN_CERTIFICATE_JSON_MAX 4608
#define WN_TRANSFER_JSON_MAX 512

typedef struct {
    uint8_t version;                 /* 1 or 2; 0 before signing: becomes WN_CERT_VERSION */
    uint8_t purpose;                 /* enum wn_cert_purpose */
    uint8_t flags;                   /* WN_CERT_FLAG_* */
    uint64_t time_ms, valid_until_ms;
    uint64_t volume_l, subsidy_fen;
    uint8_t claim_digest[32], policy_digest[32];
    uint8_t holder[32];
    uint64_t cp_size;
    uint8_t cp_root[32];
    uint64_t baseline_from, baseline_to, reporting_from, reporting_to;
    uint8_t meters[WN_CERT_MAX_METERS][32];
    size_t n_meters;
    char enterprise[WN_CERT_TEXT_MAX + 1];
    char policy_id[WN_CERT_TEXT_MAX + 1];
    char claim_id[WN_CERT_TEXT_MAX + 1];
    char project[WN_CERT_PROJECT_MAX + 1];  /* version 2: the project record's id, "" if none */
    uint8_t project_subsidies;              /* version 2: the policy's limit per project, 0: none */
    uint8_t authority[32];
    uint8_t sig[64];
} wn_certificate;

/* A transfer (to != zeros) or a retirement (is_retirement, no `to`). */
typedef struct {
    int is_retirement;
    uint64_t cert_index;             /* ledger index of the certificate */
    uint64_t op;                     /* the certificate's operation number: 1, 2, ... */
    uint64_t time_ms;
    uint64_t volume_l;
    uint8_t from[32];                /* the holder who signs */
    uint8_t to[32];                  /* transfers: the buyer */
    uint8_t sig[64];
} wn_cert_op;

enum wn_cert_err {
    WN_CERT_OK = 0,
    WN_CERT_EFORMAT,  /* truncated, trailing bytes, bad version or a field that breaks a rule */
    WN_CERT_ESIG,     /* the signature does not verify */
    WN_CERT_EJSON,    /* malformed JSON form */
    WN_CERT_ESPACE    /* output buffer too small */
};
const char *wn_cert_strerror(int err);

const char *wn_cert_purpose_name(unsigned p); /* "subsidy", "sale"; NULL if unknown */

/* Fills authority and sig. Returns: WN_CERT_OK or an error. */
int wn_certificate_sign(wn_certificate *c, const uint8_t authority_seckey[32]);
/* Checks the fields and the signature with c->authority (the caller checks that it is THE
 * authority). Returns: WN_CERT_OK, WN_CERT_EFORMAT or WN_CERT_ESIG. */
int wn_certificate_verify(const wn_certificate *c);
int wn_certificate_encode(const wn_certificate *c, uint8_t *out, size_t cap, size_t *len);
/* Strictly decodes exactly one certificate (not the signature). */
int wn_certificate_decode(wn_certificate *c, const uint8_t *in, size_t len);
/* Compact JSON (PROTOCOL §17), NUL-terminated. */
int wn_certificate_to_json(const wn_certificate *c, char *out, size_t cap, size_t *len);
/* Strict JSON (a cJSON object passed as void *). */
int wn_certificate_from_cjson(wn_certificate *c, const void *cjson_obj, char *detail, size_t detailcap);

/* The same for transfers and retirements (is_retirement picks the form). Signing fills
 * sig with the holder's key, whose x-only key must be op->from. */
int wn_cert_op_sign(wn_cert_op *op, const uint8_t holder_seckey[32]);
int wn_cert_op_verify(const wn_cert_op *op);
/* out holds WN_TRANSFER_LEN (or WN_RETIREMENT_LEN) bytes. Out: *len. */
int wn_cert_op_encode(const wn_cert_op *op, uint8_t *out, size_t cap, size_t *len);
int wn_cert_op_decode(wn_cert_op *op, int is_retirement, const uint8_t *in, size_t len);
int wn_cert_op_to_json(const wn_cert_op *op, char *out, size_t cap, size_t *len);
int wn_cert_op_from_cjson(wn_cert_op *op, int is_retirement, const void *cjson_obj, char *detail, size_t detailcap);

#endif
