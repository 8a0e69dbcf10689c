/* receipt.c — notary receipts: encode, sign, verify, JSON. */
#include "protocol/receipt.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/strict_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define SIGNED_LEN 49

static void signed_bytes(const wn_receipt *r, uint8_t out[SIGNED_LEN])
{
    out[0] = 1;
    wn_put_u64(out + 1, r->index);
    memcpy(out + 9, r->leaf, 32);
    wn_put_u64(out + 41, r->time_ms);
}

int wn_receipt_sign_with(wn_receipt *r, const wn_signer *notary)
{
    static const uint8_t zero_aux[32];
    uint8_t b[SIGNED_LEN], d[32];
    signed_bytes(r, b);
    wn_tagged_hash(d, WN_TAG_RECEIPT, b, sizeof b);
    return wn_signer_sign(notary, r->sig, d, zero_aux);
}

int wn_receipt_sign(wn_receipt *r, const uint8_t notary_seckey[WN_SECKEY_LEN])
{
    wn_signer s;
    int ok = wn_signer_init(&s, notary_seckey) && wn_receipt_sign_with(r, &s);
    wn_signer_clear(&s);
    return ok;
}

int wn_receipt_verify(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN])
{
    uint8_t b[SIGNED_LEN];
    signed_bytes(r, b);
    return wn_verify_tagged(r->sig, notary_xonly, WN_TAG_RECEIPT, b, sizeof b);
}

void wn_receipt_encode(const wn_receipt *r, uint8_t out[WN_RECEIPT_LEN])
{
    signed_bytes(r, out);
    memcpy(out + SIGNED_LEN, r->sig, WN_SIG_LEN);
}

int wn_receipt_decode(wn_receipt *r, const uint8_t *in, size_t len)
{
    if (len != WN_RECEIPT_LEN || in[0] != 1) return 0;
    r->index = wn_get_u64(in + 1);
    memcpy(r->leaf, in + 9, 32);
    r->time_ms = wn_get_u64(in + 41);
    memcpy(r->sig, in + SIGNED_LEN, WN_SIG_LEN);
    return 1;
}

size_t wn_receipt_to_json(const wn_receipt *r, char *out, size_t cap)
{
    char leaf[65], sig[129], t[25];
    wn_hex_encode(leaf, r->leaf, 32);
    wn_hex_encode(sig, r->sig, 64);
    wn_time_format(t, r->time_ms);
    int n = snprintf(out, cap, "{\"index\":%llu,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}",
                     (unsigned long long)r->index, leaf, t, sig);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int hex_field(const cJSON *o, const char *name, uint8_t *out, size_t len)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(f) && wn_hex_decode(out, len, f->valuestring, strlen(f->valuestring));
}

int wn_receipt_from_cjson(wn_receipt *r, const void *obj)
{
    const cJSON *o = obj;
    if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 4) return 0;
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(o, "index");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
    if (!wn_json_uint(idx, WN_JSON_INT_MAX, &r->index)) return 0; /* a JSON integer (PROTOCOL conventions) */
    if (!cJSON_IsString(t) || !wn_time_parse(t->valuestring, strlen(t->valuestring), &r->time_ms)) return 0;
    return hex_field(o, "leaf", r->leaf, 32) && hex_field(o, "sig", r->sig, 64);
}

void wn_reading_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len)
{
    static const uint8_t prefix[2] = {0x00, 0x01};
    wn_sha256_2(leaf, prefix, 2, reading, len);
}
