/* calibration.h — the registrar-signed meter calibration record (docs/PROTOCOL.md §5,
 * "Meter calibration"): a meter's 检定/校准 certificate reference, the body that issued it,
 * and the validity [calibrated at, valid until) (GB 24789, JJG 162). Re-calibration is a
 * new record, never an edit: several records of one meter may exist and a moment is
 * covered when it lies in the validity of any of them. Ledger entry kind 0x0A. No allocation.
 *
 *   0   1    version 0x01
 *   1   32   meter id (as in readings; the node requires an enrolled meter)
 *   33  1+c  text certificate reference (1..128 bytes UTF-8, no control characters)
 *   ..  1+b  text issuing body (1..200 bytes UTF-8, no control characters)
 *   ..  8    calibrated at (ms)
 *   ..  8    valid until (ms), after calibrated at, at most 9999-12-31T23:59:59.999Z
 *   ..  32   registrar x-only key
 *   ..  64   BIP-340 signature over tagged_hash("WaterNotary/calibration/v1", every byte before it) */
#ifndef WN_CALIBRATION_H
#define WN_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enterprise.h"

#define WN_TAG_CALIBRATION "WaterNotary/calibration/v1"
#define WN_CAL_REF_MAX 128
#define WN_CAL_BODY_MAX 200
#define WN_CALIBRATION_MAX_LEN (1 + 32 + 1 + WN_CAL_REF_MAX + 1 + WN_CAL_BODY_MAX + 16 + 96)
#define WN_CALIBRATION_JSON_MAX 2048

typedef struct {
    uint8_t meter[32];
    char reference[WN_CAL_REF_MAX + 1];   /* the 检定/校准 certificate number */
    char body[WN_CAL_BODY_MAX + 1];       /* the issuing body */
    uint64_t calibrated_ms, valid_until_ms; /* [calibrated, valid until) */
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_calibration;

/* Errors: enum wn_ent_err (WN_ENT_OK, WN_ENT_EFORMAT, WN_ENT_ESIG, WN_ENT_EJSON, WN_ENT_ESPACE). */
int wn_calibration_sign(wn_calibration *c, const uint8_t registrar_seckey[32]); /* fills registrar and sig */
int wn_calibration_verify(const wn_calibration *c); /* with c->registrar; the caller checks it is THE registrar */
int wn_calibration_encode(const wn_calibration *c, uint8_t *out, size_t cap, size_t *len);
int wn_calibration_decode(wn_calibration *c, const uint8_t *in, size_t len);
/* {"version":1,"meter":hex,"reference":..,"body":..,"calibrated_at":rfc3339,"valid_until":rfc3339,"registrar":hex,"sig":hex} */
int wn_calibration_to_json(const wn_calibration *c, char *out, size_t cap, size_t *len);
int wn_calibration_from_cjson(wn_calibration *c, const void *cjson_obj, char *detail, size_t detailcap);

/* Returns: 1 if t lies in [calibrated_ms, valid_until_ms). */
int wn_calibration_covers(const wn_calibration *c, uint64_t t);

#endif
