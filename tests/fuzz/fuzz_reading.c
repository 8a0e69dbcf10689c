/* fuzz_reading.c — libFuzzer target for the reading, enrolment and revocation codecs.
 *
 * Every input is tried as a binary reading, a JSON reading, a binary enrolment and
 * revocation, their JSON forms, a decimal string and a time. Whatever a strict decoder
 * accepts must come back unchanged: re-encoding gives the same bytes, JSON and back gives
 * the same record, and a decimal or time string that parses is already canonical. */
#include "protocol/enrolment.h"
#include "protocol/reading.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int reading_eq(const wn_reading *a, const wn_reading *b)
{
    uint8_t ba[WN_READING_MAX_LEN], bb[WN_READING_MAX_LEN];
    size_t la, lb;
    return wn_reading_encode(a, ba, sizeof ba, &la) == WN_READING_OK &&
           wn_reading_encode(b, bb, sizeof bb, &lb) == WN_READING_OK && la == lb && memcmp(ba, bb, la) == 0;
}

/* A decoded or parsed reading survives binary and JSON round trips. */
static void reading_round_trips(const wn_reading *r, const uint8_t *orig, size_t origlen)
{
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len;
    char json[WN_READING_JSON_MAX];
    wn_reading back;
    CHECK(wn_reading_encode(r, buf, sizeof buf, &len) == WN_READING_OK);
    if (orig) CHECK(len == origlen && memcmp(buf, orig, len) == 0);
    CHECK(wn_reading_decode(&back, buf, len) == WN_READING_OK);
    CHECK(reading_eq(r, &back));
    size_t jlen;
    CHECK(wn_reading_to_json(r, json, sizeof json, &jlen) == WN_READING_OK);
    CHECK(jlen == strlen(json));
    CHECK(wn_reading_from_json(&back, json, jlen, NULL, 0) == WN_READING_OK);
    CHECK(reading_eq(r, &back));
    (void)wn_reading_verify(r, NULL, 0); /* must not crash whatever the signature */
}

static void enrolment_round_trips(const wn_enrolment *e, const uint8_t *orig, size_t origlen)
{
    uint8_t buf[WN_ENROLMENT_MAX_LEN], buf2[WN_ENROLMENT_MAX_LEN];
    size_t len, len2;
    char json[WN_ENROLMENT_JSON_MAX];
    wn_enrolment back;
    CHECK(wn_enrolment_encode(e, buf, sizeof buf, &len) == WN_ENROL_OK);
    if (orig) CHECK(len == origlen && memcmp(buf, orig, len) == 0);
    CHECK(wn_enrolment_to_json(e, json, sizeof json, NULL) == WN_ENROL_OK);
    cJSON *j = cJSON_Parse(json);
    CHECK(j != NULL);
    CHECK(wn_enrolment_from_cjson(&back, j, NULL, 0) == WN_ENROL_OK);
    cJSON_Delete(j);
    CHECK(wn_enrolment_encode(&back, buf2, sizeof buf2, &len2) == WN_ENROL_OK);
    CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
    (void)wn_enrolment_verify(e);
}

static void revocation_round_trips(const wn_revocation *r, const uint8_t *orig)
{
    uint8_t buf[WN_REVOCATION_LEN], buf2[WN_REVOCATION_LEN];
    char json[WN_REVOCATION_JSON_MAX];
    wn_revocation back;
    CHECK(wn_revocation_encode(r, buf) == WN_ENROL_OK);
    if (orig) CHECK(memcmp(buf, orig, WN_REVOCATION_LEN) == 0);
    CHECK(wn_revocation_to_json(r, json, sizeof json, NULL) == WN_ENROL_OK);
    cJSON *j = cJSON_Parse(json);
    CHECK(j != NULL);
    CHECK(wn_revocation_from_cjson(&back, j, NULL, 0) == WN_ENROL_OK);
    cJSON_Delete(j);
    CHECK(wn_revocation_encode(&back, buf2) == WN_ENROL_OK);
    CHECK(memcmp(buf, buf2, WN_REVOCATION_LEN) == 0);
    (void)wn_revocation_verify(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wn_reading r;
    wn_enrolment e;
    wn_revocation v;
    char detail[128];

    /* binary forms; decoders must never read past size (ASan watches) */
    if (wn_reading_decode(&r, data, size) == WN_READING_OK) reading_round_trips(&r, data, size);
    if (wn_enrolment_decode(&e, data, size) == WN_ENROL_OK) enrolment_round_trips(&e, data, size);
    if (wn_revocation_decode(&v, data, size) == WN_ENROL_OK) revocation_round_trips(&v, data);

    /* JSON forms */
    int err = wn_reading_from_json(&r, (const char *)data, size, detail, sizeof detail);
    if (err == WN_READING_OK) reading_round_trips(&r, NULL, 0);
    else CHECK(memchr(detail, '\0', sizeof detail) != NULL && detail[0] != '\0');
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j) {
        if (wn_enrolment_from_cjson(&e, j, detail, sizeof detail) == WN_ENROL_OK) enrolment_round_trips(&e, NULL, 0);
        if (wn_revocation_from_cjson(&v, j, detail, sizeof detail) == WN_ENROL_OK) revocation_round_trips(&v, NULL);
        if (wn_reading_from_cjson(&r, j, detail, sizeof detail) == WN_READING_OK) reading_round_trips(&r, NULL, 0);
        cJSON_Delete(j);
    }

    /* decimal and time strings: only canonical text parses, so it formats back as itself */
    int64_t value;
    unsigned scale;
    if (size < 64 && wn_decimal_parse((const char *)data, size, &value, &scale)) {
        char out[24];
        size_t n = wn_decimal_format(out, value, scale);
        CHECK(n == size && memcmp(out, data, size) == 0);
    }
    uint64_t t;
    if (wn_time_parse((const char *)data, size, &t)) {
        char out[25];
        CHECK(t <= WN_READING_MAX_TIME);
        wn_time_format(out, t);
        CHECK(size == 24 && memcmp(out, data, 24) == 0);
    }
    return 0;
}
