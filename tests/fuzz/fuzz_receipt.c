/* fuzz_receipt.c — libFuzzer target for receipts as a meter and `wn verify` read them from
 * the network or a file (PROTOCOL §6): the binary decoder (both versions), the JSON parser,
 * and the full check. Invariants: no crash or out-of-bounds read; a decoded receipt
 * re-encodes to exactly the input bytes and (within JSON's range) survives a JSON round
 * trip unchanged; a parsed JSON receipt survives a JSON round trip.
 * The seed corpus holds a version 1 and a version 2 receipt signed with the secret key
 * 1..32 (the key used here), so the check gets past the signature. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/receipt.h"

/* JSON carries integers up to 2^53 and times up to year 9999: only such receipts round-trip. */
static int json_range(const wn_receipt *r)
{
    const uint64_t big = 9007199254740991ULL, tmax = 253402300799999ULL;
    if (r->index > big || r->time_ms > tmax) return 0;
    return r->version != 2 || (r->head.first <= big && r->head.count <= big && r->head.tree_size <= big &&
                                r->head.time_ms <= tmax);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pub[32];
    static int init;
    if (!init) {
        uint8_t sk[32];
        for (int i = 0; i < 32; i++) sk[i] = (uint8_t)(i + 1);
        if (!wn_seckey_xonly(pub, sk)) abort();
        init = 1;
    }
    wn_receipt r, d;
    if (wn_receipt_decode(&r, data, size)) {
        uint8_t enc[WN_RECEIPT_MAX_LEN];
        size_t n = wn_receipt_encode(&r, enc);
        if (n != size || memcmp(enc, data, size) != 0) abort();
        (void)wn_receipt_check(&r, pub);
        char json[WN_RECEIPT_JSON_MAX];
        if (json_range(&r) && wn_receipt_to_json(&r, json, sizeof json)) {
            cJSON *j = cJSON_Parse(json);
            if (!j || !wn_receipt_from_cjson(&d, j)) abort();
            cJSON_Delete(j);
            if (wn_receipt_encode(&d, enc) != size || memcmp(enc, data, size) != 0) abort();
        }
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cJSON *j = cJSON_ParseWithLength(text, size);
    if (j && wn_receipt_from_cjson(&r, j)) {
        (void)wn_receipt_check(&r, pub);
        char json[WN_RECEIPT_JSON_MAX];
        if (r.path_len <= WN_RECEIPT_PATH_MAX && wn_receipt_to_json(&r, json, sizeof json)) {
            cJSON *k = cJSON_Parse(json);
            if (!k || !wn_receipt_from_cjson(&d, k)) abort();
            cJSON_Delete(k);
        }
    }
    cJSON_Delete(j);
    free(text);
    return 0;
}
