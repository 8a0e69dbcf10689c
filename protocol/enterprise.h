/* enterprise.h — the registrar-signed enterprise record (docs/PROTOCOL.md §5, "Enterprises"):
 * an enterprise's unified social credit code (GB 32100-2015, check character verified), its
 * registered name, county or park, and the x-only keys that may sign for it, with a
 * sequence number: a later record of the same code with a higher sequence replaces the key
 * set from its own ledger index on (rotation; a key left out is revoked). Binary codec,
 * JSON codec, signing and verification. No allocation.
 *
 *   0   1    version 0x01
 *   1   1+18 text code (u8 length 18 || 18 ASCII characters)
 *   20  1+n  text name (1..200 bytes UTF-8)
 *   ..  1+a  text area (1..64 bytes UTF-8): the county, district or park
 *   ..  8    sequence (1 ..= 2^53-1)
 *   ..  8    time (ms)
 *   ..  1    k, the number of keys (1..8)
 *   ..  32k  the keys, x-only, strictly ascending
 *   ..  32   registrar x-only key
 *   ..  64   BIP-340 signature over tagged_hash("WaterNotary/enterprise/v1", every byte before it) */
#ifndef WN_ENTERPRISE_H
#define WN_ENTERPRISE_H

#include <stddef.h>
#include <stdint.h>

#define WN_TAG_ENTERPRISE "WaterNotary/enterprise/v1"
#define WN_USCC_LEN 18
#define WN_ENT_NAME_MAX 200
#define WN_ENT_AREA_MAX 64
#define WN_ENT_KEYS_MAX 8
#define WN_ENT_SEQ_MAX 9007199254740991ull
#define WN_ENTERPRISE_MAX_LEN (1 + 19 + 1 + WN_ENT_NAME_MAX + 1 + WN_ENT_AREA_MAX + 17 + 32 * WN_ENT_KEYS_MAX + 96)
#define WN_ENTERPRISE_JSON_MAX 2048

typedef struct {
    char code[WN_USCC_LEN + 1];           /* unified social credit code */
    char name[WN_ENT_NAME_MAX + 1];       /* registered name, UTF-8 */
    char area[WN_ENT_AREA_MAX + 1];       /* county, district or industrial park */
    uint64_t seq;                         /* 1, 2, ...: a higher one replaces the key set */
    uint64_t time_ms;
    uint8_t keys[WN_ENT_KEYS_MAX][32];    /* strictly ascending */
    size_t n_keys;                        /* 1..8 */
    uint8_t registrar[32];
    uint8_t sig[64];
} wn_enterprise;

enum wn_ent_err {
    WN_ENT_OK = 0,
    WN_ENT_EFORMAT, /* truncated, trailing bytes, bad version or a field breaks its rule */
    WN_ENT_ESIG,    /* the registrar's signature does not verify */
    WN_ENT_EJSON,   /* malformed JSON form */
    WN_ENT_ESPACE
};
const char *wn_ent_strerror(int err);

/* Returns: 1 if s is 18 characters of GB 32100-2015 (digits and the capitals but I, O, Z,
 * S, V) whose 18th is the check character of the first 17. */
int wn_uscc_valid(const char *s);
/* The check character of the first 17 characters of s, or 0 if one is not of the set. */
char wn_uscc_check_char(const char *s17);

/* Sorts the keys ascending (so writers need not). Fills registrar and sig. */
int wn_enterprise_sign(wn_enterprise *e, const uint8_t registrar_seckey[32]);
int wn_enterprise_verify(const wn_enterprise *e); /* with e->registrar; the caller checks it is THE registrar */
int wn_enterprise_encode(const wn_enterprise *e, uint8_t *out, size_t cap, size_t *len);
int wn_enterprise_decode(wn_enterprise *e, const uint8_t *in, size_t len);
/* {"version":1,"code":..,"name":..,"area":..,"sequence":n,"time":rfc3339,"keys":[hex,...],"registrar":hex,"sig":hex} */
int wn_enterprise_to_json(const wn_enterprise *e, char *out, size_t cap, size_t *len);
int wn_enterprise_from_cjson(wn_enterprise *e, const void *cjson_obj, char *detail, size_t detailcap);

/* Returns: 1 if key is one of e's keys. */
int wn_enterprise_has_key(const wn_enterprise *e, const uint8_t key[32]);

#endif
