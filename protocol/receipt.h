/* receipt.h — the notary's signed receipt for an accepted entry (docs/PROTOCOL.md §6).
 *
 *   0  1  version 0x01
 *   1  8  ledger index
 *   9  32 leaf hash of the entry
 *   41 8  time accepted (ms since epoch)
 *   49 64 BIP-340 signature by the notary over tagged_hash(WN_TAG_RECEIPT, bytes[0..49))
 */
#ifndef WN_RECEIPT_H
#define WN_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_RECEIPT_LEN 113
#define WN_RECEIPT_JSON_MAX 320

typedef struct {
    uint64_t index;
    uint8_t leaf[32];
    uint64_t time_ms;
    uint8_t sig[WN_SIG_LEN];
} wn_receipt;

/* Signs (index, leaf, time) with the notary key. Receipts are deterministic: BIP-340 with
 * an all-zero auxiliary input, so the same (index, leaf, time) always gives the same bytes
 * and a resent reading gets back exactly its original receipt. Returns: 1 on success. */
int wn_receipt_sign(wn_receipt *r, const uint8_t notary_seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
/* The same with a prepared signer (the node's hot path). */
int wn_receipt_sign_with(wn_receipt *r, const wn_signer *notary) WN_WARN_UNUSED;
/* Returns: 1 if r's signature verifies with the notary's x-only key. */
int wn_receipt_verify(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

void wn_receipt_encode(const wn_receipt *r, uint8_t out[WN_RECEIPT_LEN]);
/* Returns: 1 if in is exactly WN_RECEIPT_LEN bytes of version 1. */
int wn_receipt_decode(wn_receipt *r, const uint8_t *in, size_t len) WN_WARN_UNUSED;

/* JSON {"index":n,"leaf":hex,"time":rfc3339,"sig":hex}; NUL-terminated. Returns: length, 0 if cap too small. */
size_t wn_receipt_to_json(const wn_receipt *r, char *out, size_t cap);
/* Parses that JSON strictly (a cJSON object passed as void *). Returns: 1 on success. */
int wn_receipt_from_cjson(wn_receipt *r, const void *cjson_obj) WN_WARN_UNUSED;

/* Leaf hash of a reading entry: SHA-256(0x00 || 0x01 || reading bytes). */
void wn_reading_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len);

#endif
