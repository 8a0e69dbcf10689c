/* fuzz_calibration.c — libFuzzer target for meter calibration records
 * (protocol/calibration.c) and calibration bundles (cli/proofs/calbundle.c), which nodes and
 * evaluators read from strangers. Every input is tried as a record in its binary form (what
 * decodes re-encodes to the same bytes and survives its JSON form), as a record in JSON, and
 * as a bundle (what parses is verified against a fixed notary key without crashing). */
// fuzz-sources: cli/proofs/calbundle.c cli/proofs/bundle.c cli/proofs/bundle_verify.c cli/proofs/report.c
#include "cli/proofs/calbundle.h"
#include "protocol/calibration.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void binary(const uint8_t *data, size_t size)
{
    wn_calibration c, back;
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    size_t len;
    char json[WN_CALIBRATION_JSON_MAX];
    if (wn_calibration_decode(&c, data, size) != WN_ENT_OK) return;
    CHECK(c.calibrated_ms < c.valid_until_ms);
    CHECK(wn_calibration_encode(&c, buf, sizeof buf, &len) == WN_ENT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
    (void)wn_calibration_verify(&c);
    CHECK(wn_calibration_to_json(&c, json, sizeof json, &len) == WN_ENT_OK);
    cJSON *j = cJSON_ParseWithLength(json, len);
    CHECK(j != NULL);
    CHECK(wn_calibration_from_cjson(&back, j, NULL, 0) == WN_ENT_OK);
    cJSON_Delete(j);
    CHECK(wn_calibration_encode(&back, buf, sizeof buf, &len) == WN_ENT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
}

static void json(const char *text, size_t size)
{
    cJSON *j = cJSON_ParseWithLength(text, size);
    if (!j) return;
    wn_calibration c;
    uint8_t buf[WN_CALIBRATION_MAX_LEN];
    size_t len;
    if (wn_calibration_from_cjson(&c, j, NULL, 0) == WN_ENT_OK)
        CHECK(wn_calibration_encode(&c, buf, sizeof buf, &len) == WN_ENT_OK);
    cJSON_Delete(j);
}

static void bundle(const char *text, size_t size)
{
    static const uint8_t notary[32] = {0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62,
                                       0x95, 0xce, 0x87, 0x0b, 0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce,
                                       0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
    wn_cal_bundle b;
    char detail[256];
    if (wn_cal_bundle_parse(&b, text, size, detail, sizeof detail)) {
        wn_report rep;
        wn_report_init(&rep, "calibration-bundle");
        (void)wn_cal_bundle_verify(&b, notary, NULL, &rep);
        wn_report_free(&rep);
    }
    wn_cal_bundle_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    binary(data, size);
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json(text, size);
    bundle(text, size);
    free(text);
    return 0;
}
