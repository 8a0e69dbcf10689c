/* accreditation.h — the registrar-signed certifier accreditation record (docs/PROTOCOL.md §5,
 * "Certifier accreditation"): a testing body's unified social credit code, name, CMA/CNAS
 * accreditation number, scope (short names such as "water_saving"), validity [from, to)
 * and the keys it certifies with; a later record of the same code with a higher sequence
 * replaces it (re-accreditation, new keys, a narrowed scope). No allocation.
 *
 *   0   1    version 0x01
 *   1   19   text code (u8 length 18 || 18 characters, GB 32100-2015)
 *   ..  1+n  text name (1..200 bytes UTF-8)
 *   ..  1+a  text accreditation number (1..64 bytes UTF-8), e.g. "CMA 2023-11-0042"
 *   ..  1    s, the number of scope names (1..16), then s texts of 1..32 bytes of [a-z0-9_],
 *            strictly ascending
 *   ..  8    sequence (1 ..= 2^53-1)
 *   ..  8    valid from (ms)
 *   ..  8    valid to (ms), after valid from
 *   ..  1    k, the number of keys (1..8), then 32k bytes: x-only keys, strictly ascending
 *   ..  32   registrar x-only key
 *   ..  64   BIP-340 signature over tagged_hash("WaterNotary/accreditation/v1", every byte before it) */
#ifndef WN_ACCREDITATION_H
#define WN_ACCREDITATION_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enterprise.h"

#define WN_TAG_ACCREDITATION "WaterNotary/accreditation/v1"
#define WN_ACC_NUMBER_MAX 64
#define WN_ACC_SCOPES_MAX 16
#define WN_ACC_SCOPE_MAX 32
#define WN_ACCREDITATION_MAX_LEN \
    (1 + 19 + 1 + WN_ENT_NAME_MAX + 1 + WN_ACC_NUMBER_MAX + 1 + WN_ACC_SCOPES_MAX * (1 + WN_ACC_SCOPE_MAX) + 25 + \
     32 * WN_ENT_KEYS_MAX + 96)
#define WN_ACCREDITATION_JSON_MAX 4096

typedef struct {
    char code[WN_USCC_LEN + 1];
    char name[WN_ENT_NAME_MAX + 1];
    char number[WN_ACC_NUMBER_MAX + 1];              /* CMA / CNAS accreditation number */
    char scope[WN_ACC_SCOPES_MAX][WN_ACC_SCOPE_MAX + 1];
    size_t n_scope;
    uint64_t seq;
    uint64_t valid_from_ms, valid_to_ms;              /* [from, to) */
    uint8_t keys[WN_ENT_KEYS_MAX][32];
    size_t n_keys;
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_accreditation;

/* Errors: enum wn_ent_err (WN_ENT_OK, WN_ENT_EFORMAT, WN_ENT_ESIG, WN_ENT_EJSON, WN_ENT_ESPACE). */
int wn_accreditation_sign(wn_accreditation *a, const uint8_t registrar_seckey[32]); /* sorts keys and scope */
int wn_accreditation_verify(const wn_accreditation *a);
int wn_accreditation_encode(const wn_accreditation *a, uint8_t *out, size_t cap, size_t *len);
int wn_accreditation_decode(wn_accreditation *a, const uint8_t *in, size_t len);
/* {"version":1,"code":..,"name":..,"number":..,"scope":[..],"sequence":n,"valid_from":t,"valid_to":t,"keys":[..],"registrar":hex,"sig":hex} */
int wn_accreditation_to_json(const wn_accreditation *a, char *out, size_t cap, size_t *len);
int wn_accreditation_from_cjson(wn_accreditation *a, const void *cjson_obj, char *detail, size_t detailcap);

int wn_accreditation_has_key(const wn_accreditation *a, const uint8_t key[32]);
int wn_accreditation_has_scope(const wn_accreditation *a, const char *scope);
/* Returns: 1 if s is a scope name: 1..32 bytes of [a-z0-9_]. */
int wn_scope_name_ok(const char *s);

#endif
