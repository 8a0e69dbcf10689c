/* claim.h — a savings claim (docs/PROTOCOL.md §16): an enterprise states that a retrofit
 * project saves water, naming the metering points whose intake is measured, a baseline and a
 * reporting period with its production output in each, and the equipment investment. The
 * enterprise signs the claim; a qualified third-party certifier (enrolled with point
 * "certifier", PROTOCOL §5) countersigns it. Both sign a canonical binary form (below), so
 * the JSON's spacing and member order do not matter.
 *
 *   body = u8 version (1) || text id || text enterprise || enterprise key (32) ||
 *          text project || text output_unit || u64 investment (fen) ||
 *          for baseline, then reporting: u64 from (ms) || u64 to (ms) || u64 output (1/1000 unit) ||
 *          u8 n || n x (meter id (32) || u8 point || u8 source || u64 rollover (litres, 0: none))
 *   text = u8 length || UTF-8 bytes
 *   enterprise signature = BIP-340 over tagged_hash(WN_TAG_CLAIM, body)
 *   certification = body || enterprise signature (64) || certifier key (32) || u64 time ||
 *                   text reference
 *   certifier signature = BIP-340 over tagged_hash(WN_TAG_CERTIFICATION, certification)
 *   claim digest = SHA-256(body)
 */
#ifndef WN_CLAIM_H
#define WN_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "savings/project.h"

#define WN_CLAIM_FORMAT_V1 "waternotary/claim@v1"
#define WN_TAG_CLAIM "WaterNotary/claim/v1"
#define WN_TAG_CERTIFICATION "WaterNotary/certification/v1"

#define WN_CLAIM_ID_MAX 64
#define WN_CLAIM_ENTERPRISE_MAX 64
#define WN_CLAIM_PROJECT_MAX 200
#define WN_CLAIM_UNIT_MAX 64
#define WN_CLAIM_REF_MAX 128
#define WN_CLAIM_MAX_METERS 32
#define WN_CLAIM_MAX_OUTPUT 1000000000000000ULL /* 10^12 units, in thousandths */
#define WN_CLAIM_FILE_MAX (1u << 20)
#define WN_CLAIM_BODY_MAX (1 + 4 * 256 + 32 + 8 + 2 * (24 + 1 + WN_CLAIM_MAX_METERS * 42))
#define WN_CLAIM_CERT_MAX (WN_CLAIM_BODY_MAX + 64 + 32 + 8 + 1 + WN_CLAIM_REF_MAX)

typedef struct {
    uint8_t meter[32];
    uint8_t point;        /* WN_POINT_INTAKE or WN_POINT_RECYCLING */
    uint8_t source;       /* enum wn_source, as enrolled */
    uint64_t rollover_l;  /* the totaliser's register wraps at this many litres; 0: it does not */
} wn_claim_meter;

typedef struct {
    uint64_t from_ms, to_ms; /* [from, to) */
    uint64_t output;         /* production in thousandths of output_unit */
    wn_claim_meter meters[WN_CLAIM_MAX_METERS];
    size_t n_meters;
} wn_claim_period;

typedef struct {
    char id[WN_CLAIM_ID_MAX + 1];
    char enterprise[WN_CLAIM_ENTERPRISE_MAX + 1]; /* as in the meters' enrolments */
    uint8_t enterprise_key[32];
    char project[WN_CLAIM_PROJECT_MAX + 1];       /* the project record's id (project.h) */
    char output_unit[WN_CLAIM_UNIT_MAX + 1];      /* e.g. "t crude steel" */
    uint64_t investment_fen;
    wn_claim_period baseline, reporting;
    int signed_by_enterprise;                     /* enterprise_sig present */
    uint8_t enterprise_sig[64];
    int certified;                                /* the certification members present */
    uint8_t certifier[32];
    uint64_t certified_ms;
    char reference[WN_CLAIM_REF_MAX + 1];         /* the certifier's report number */
    uint8_t certifier_sig[64];
    int has_project_record;                       /* the optional member "project_record" present */
    wn_project project_record;                    /* registrar-signed; not covered by the claim's signatures */
} wn_claim;

/* Parses the JSON form strictly. "enterprise_sig" and "certification" may be null (an
 * unsigned or uncertified claim parses; the evaluation refuses it). "project_record" may be
 * absent (older claims) or a project record (project.h), which signatures need not cover:
 * the registrar signed it, and the evaluator checks that it names the claim's project,
 * enterprise and investment. Checks the shape only:
 * signatures are checked by wn_claim_verify_*. Returns: 1, or 0 with detail. */
int wn_claim_parse(wn_claim *c, const char *text, size_t len, char *detail, size_t cap);

/* The JSON form, one member per line (what `wn claim sign/certify` write). Returns: malloc'd
 * NUL-terminated text, or NULL if out of memory. */
char *wn_claim_to_json(const wn_claim *c);

/* The canonical body. Out: *len. Returns: 1, or 0 if cap is too small. */
int wn_claim_body(const wn_claim *c, uint8_t *out, size_t cap, size_t *len);
/* SHA-256 of the body. */
void wn_claim_digest(const wn_claim *c, uint8_t digest[32]);

/* Sets enterprise_key from seckey and signs. Clears any certification (it covered the old
 * signature). Returns: 1 on success. */
int wn_claim_sign(wn_claim *c, const uint8_t seckey[32]);
/* Adds the certification by the certifier key at time_ms with reference. The claim must be
 * signed by the enterprise. Returns: 1 on success. */
int wn_claim_certify(wn_claim *c, const uint8_t seckey[32], uint64_t time_ms, const char *reference);

/* Returns: 1 if the enterprise signature is present and verifies with enterprise_key. */
int wn_claim_verify_enterprise(const wn_claim *c);
/* Returns: 1 if the certification is present and its signature verifies with certifier. */
int wn_claim_verify_certification(const wn_claim *c);

#endif
