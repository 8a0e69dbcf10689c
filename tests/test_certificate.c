/* test_certificate.c — savings certificates, transfers and retirements (protocol/certificate.c):
 * binary and JSON round trips, the layout's fixed offsets, signatures that break on any
 * change and do not verify as another kind of record, and every field rule refused. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/certificate.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "tests/support/testutil.h"

static uint8_t auth_sk[32], holder_sk[32], buyer_sk[32];

static void keys(void)
{
    wn_test_prng_seed(17);
    do wn_test_prng_bytes(auth_sk, 32); while (!wn_seckey_valid(auth_sk));
    do wn_test_prng_bytes(holder_sk, 32); while (!wn_seckey_valid(holder_sk));
    do wn_test_prng_bytes(buyer_sk, 32); while (!wn_seckey_valid(buyer_sk));
}

static void key_of(uint8_t out[32], int k)
{
    uint8_t sk[32] = {0};
    sk[0] = 0x21;
    sk[31] = (uint8_t)k;
    cr_assert(wn_seckey_xonly(out, sk));
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

static wn_certificate sample(size_t n_meters)
{
    wn_certificate c;
    memset(&c, 0, sizeof c);
    c.version = 1; /* the layout below; version 2 (with the project) is in test_money.c */
    c.purpose = WN_PURPOSE_SALE;
    c.time_ms = 1746000000000ULL;
    c.valid_until_ms = c.time_ms + 31536000000ULL;
    c.volume_l = 525600000;
    memset(c.claim_digest, 0xc1, 32);
    memset(c.policy_digest, 0xd2, 32);
    cr_assert(wn_seckey_xonly(c.holder, holder_sk));
    c.cp_size = 12345;
    memset(c.cp_root, 0xee, 32);
    c.baseline_from = 1735689600000ULL;
    c.baseline_to = c.baseline_from + 2592000000ULL;
    c.reporting_from = c.baseline_to + 2592000000ULL;
    c.reporting_to = c.reporting_from + 2592000000ULL;
    c.n_meters = n_meters;
    for (size_t i = 0; i < n_meters; i++) key_of(c.meters[i], (int)i + 1);
    qsort(c.meters, n_meters, 32, cmp32);
    strcpy(c.enterprise, "91330400MA2B000000");
    strcpy(c.policy_id, "cn-zj-jiaxing-2024-water-saving-retrofit-subsidy");
    strcpy(c.claim_id, "JX-2025-\"0042\"");
    cr_assert_eq(wn_certificate_sign(&c, auth_sk), WN_CERT_OK);
    return c;
}

TestSuite(certificate, .init = keys);

Test(certificate, binary_layout_and_round_trip)
{
    for (size_t nm = 1; nm <= WN_CERT_MAX_METERS; nm += 31) {
        wn_certificate c = sample(nm), d;
        cr_assert_eq(wn_certificate_verify(&c), WN_CERT_OK);
        uint8_t buf[WN_CERTIFICATE_MAX_LEN];
        size_t len;
        cr_assert_eq(wn_certificate_encode(&c, buf, sizeof buf, &len), WN_CERT_OK);
        size_t texts = 3 + strlen(c.enterprise) + strlen(c.policy_id) + strlen(c.claim_id);
        cr_assert_eq(len, 204 + 32 * nm + texts + 96);
        cr_assert_eq(buf[0], 1);
        cr_assert_eq(buf[1], WN_PURPOSE_SALE);
        cr_assert_eq(wn_get_u64(buf + 19), 525600000ULL, "volume at offset 19");
        cr_assert_eq(wn_get_u64(buf + 131), 12345ULL, "checkpoint size at offset 131");
        cr_assert_eq(buf[203], nm);
        cr_assert_eq(memcmp(buf + 204, c.meters[0], 32), 0);
        cr_assert_eq(wn_certificate_decode(&d, buf, len), WN_CERT_OK);
        cr_assert_eq(wn_certificate_verify(&d), WN_CERT_OK);
        uint8_t again[WN_CERTIFICATE_MAX_LEN];
        size_t alen;
        cr_assert_eq(wn_certificate_encode(&d, again, sizeof again, &alen), WN_CERT_OK);
        cr_assert_eq(alen, len);
        cr_assert_eq(memcmp(again, buf, len), 0);

        /* truncated, trailing, another version */
        cr_assert_eq(wn_certificate_decode(&d, buf, len - 1), WN_CERT_EFORMAT);
        uint8_t more[WN_CERTIFICATE_MAX_LEN + 1];
        memcpy(more, buf, len);
        more[len] = 0;
        cr_assert_eq(wn_certificate_decode(&d, more, len + 1), WN_CERT_EFORMAT);
        buf[0] = 3;
        cr_assert_eq(wn_certificate_decode(&d, buf, len), WN_CERT_EFORMAT);
        buf[0] = 1;
        /* flipping any signed byte breaks the signature (or a rule) */
        for (size_t i = 1; i < len - 64; i += 7) {
            buf[i] ^= 0x01;
            int rc = wn_certificate_decode(&d, buf, len);
            if (rc == WN_CERT_OK) cr_assert_eq(wn_certificate_verify(&d), WN_CERT_ESIG, "byte %zu", i);
            buf[i] ^= 0x01;
        }
    }
}

Test(certificate, json_round_trip)
{
    wn_certificate c = sample(3), d;
    char json[WN_CERTIFICATE_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_certificate_to_json(&c, json, sizeof json, &len), WN_CERT_OK);
    cr_assert_not_null(strstr(json, "\"claim\":\"JX-2025-\\\"0042\\\"\""), "%s", json);
    cJSON *j = cJSON_Parse(json);
    cr_assert_not_null(j, "%s", json);
    char detail[200] = "";
    cr_assert_eq(wn_certificate_from_cjson(&d, j, detail, sizeof detail), WN_CERT_OK, "%s", detail);
    cr_assert_eq(wn_certificate_verify(&d), WN_CERT_OK);
    char again[WN_CERTIFICATE_JSON_MAX];
    cr_assert_eq(wn_certificate_to_json(&d, again, sizeof again, NULL), WN_CERT_OK);
    cr_assert_str_eq(again, json);
    /* an unknown member, a missing one, a wrong type */
    cJSON_AddNumberToObject(j, "bonus", 1);
    cr_assert_eq(wn_certificate_from_cjson(&d, j, detail, sizeof detail), WN_CERT_EJSON);
    cJSON_DeleteItemFromObject(j, "bonus");
    cJSON_DeleteItemFromObject(j, "holder");
    cr_assert_eq(wn_certificate_from_cjson(&d, j, detail, sizeof detail), WN_CERT_EJSON);
    cJSON_AddStringToObject(j, "holder", "AB");
    cr_assert_eq(wn_certificate_from_cjson(&d, j, detail, sizeof detail), WN_CERT_EJSON);
    cJSON_Delete(j);
    cr_assert_eq(wn_certificate_to_json(&c, json, 100, &len), WN_CERT_ESPACE);
}

Test(certificate, field_rules)
{
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    size_t len;
#define REFUSED(stmt)                                                                                  \
    do {                                                                                               \
        wn_certificate x = sample(2);                                                                  \
        stmt;                                                                                          \
        cr_assert_eq(wn_certificate_sign(&x, auth_sk), WN_CERT_EFORMAT, "signed despite: %s", #stmt);  \
        cr_assert_eq(wn_certificate_encode(&x, buf, sizeof buf, &len), WN_CERT_EFORMAT, "%s", #stmt);  \
    } while (0)
    REFUSED(x.purpose = 0);
    REFUSED(x.purpose = 3);
    REFUSED(x.flags = 2);
    REFUSED(x.valid_until_ms = x.time_ms);
    REFUSED(x.volume_l = 0);
    REFUSED(x.volume_l = WN_CERT_MAX_AMOUNT + 1);
    REFUSED(x.subsidy_fen = 1);                         /* a sale carries no subsidy */
    REFUSED(memset(x.holder, 0xff, 32));
    REFUSED(x.cp_size = 0);
    REFUSED(x.reporting_from = x.baseline_to - 1);      /* periods overlap */
    REFUSED(x.reporting_to = x.reporting_from);
    REFUSED(x.n_meters = 0);
    REFUSED(memcpy(x.meters[1], x.meters[0], 32));      /* a repeated meter */
    REFUSED(uint8_t t[32]; memcpy(t, x.meters[0], 32); memcpy(x.meters[0], x.meters[1], 32); memcpy(x.meters[1], t, 32));
    REFUSED(x.enterprise[0] = '\0');
    REFUSED(strcpy(x.claim_id, "a\x01" "b"));
    wn_certificate ok = sample(1);
    ok.purpose = WN_PURPOSE_SUBSIDY;
    ok.subsidy_fen = 20000000;
    ok.flags = WN_CERT_FLAG_SUBSIDY_AND_SALE;
    cr_assert_eq(wn_certificate_sign(&ok, auth_sk), WN_CERT_OK);
    cr_assert_eq(wn_certificate_verify(&ok), WN_CERT_OK);
    ok.subsidy_fen++;
    cr_assert_eq(wn_certificate_verify(&ok), WN_CERT_ESIG);
}

Test(certificate, transfers_and_retirements)
{
    wn_cert_op t, r, d;
    memset(&t, 0, sizeof t);
    t.cert_index = 77;
    t.op = 1;
    t.time_ms = 1750000000000ULL;
    t.volume_l = 100000000;
    cr_assert(wn_seckey_xonly(t.from, holder_sk));
    cr_assert(wn_seckey_xonly(t.to, buyer_sk));
    cr_assert_eq(wn_cert_op_sign(&t, buyer_sk), WN_CERT_EFORMAT, "only the holder named in from signs");
    cr_assert_eq(wn_cert_op_sign(&t, holder_sk), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_verify(&t), WN_CERT_OK);
    uint8_t buf[WN_TRANSFER_LEN + 1];
    size_t len;
    cr_assert_eq(wn_cert_op_encode(&t, buf, sizeof buf, &len), WN_CERT_OK);
    cr_assert_eq(len, WN_TRANSFER_LEN);
    cr_assert_eq(wn_get_u64(buf + 1), 77);
    cr_assert_eq(wn_get_u64(buf + 9), 1);
    cr_assert_eq(wn_cert_op_decode(&d, 0, buf, len), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_verify(&d), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_decode(&d, 0, buf, len - 1), WN_CERT_EFORMAT);
    cr_assert_eq(wn_cert_op_decode(&d, 1, buf, len), WN_CERT_EFORMAT, "a transfer is no retirement");
    cr_assert_eq(wn_cert_op_decode(&d, 0, buf, len), WN_CERT_OK);
    d.op = 2;
    cr_assert_eq(wn_cert_op_verify(&d), WN_CERT_ESIG, "the operation number is signed: no replay");

    r = t;
    r.is_retirement = 1;
    memset(r.to, 0, 32);
    cr_assert_eq(wn_cert_op_sign(&r, holder_sk), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_encode(&r, buf, sizeof buf, &len), WN_CERT_OK);
    cr_assert_eq(len, WN_RETIREMENT_LEN);
    cr_assert_eq(wn_cert_op_decode(&d, 1, buf, len), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_verify(&d), WN_CERT_OK);
    /* the same fields signed as a transfer do not verify as a retirement (tags differ) */
    wn_cert_op fake = r;
    memcpy(fake.sig, t.sig, 64);
    cr_assert_eq(wn_cert_op_verify(&fake), WN_CERT_ESIG);

    char json[WN_TRANSFER_JSON_MAX];
    cr_assert_eq(wn_cert_op_to_json(&t, json, sizeof json, NULL), WN_CERT_OK);
    cJSON *j = cJSON_Parse(json);
    char detail[200];
    cr_assert_eq(wn_cert_op_from_cjson(&d, 0, j, detail, sizeof detail), WN_CERT_OK, "%s", detail);
    cr_assert_eq(wn_cert_op_verify(&d), WN_CERT_OK);
    cr_assert_eq(wn_cert_op_from_cjson(&d, 1, j, detail, sizeof detail), WN_CERT_EJSON);
    cJSON_Delete(j);
    cr_assert_eq(wn_cert_op_to_json(&r, json, sizeof json, NULL), WN_CERT_OK);
    cr_assert_not_null(strstr(json, "\"holder\""));
    j = cJSON_Parse(json);
    cr_assert_eq(wn_cert_op_from_cjson(&d, 1, j, detail, sizeof detail), WN_CERT_OK, "%s", detail);
    cJSON_Delete(j);

    /* rules */
    wn_cert_op x = t;
    x.volume_l = 0;
    cr_assert_eq(wn_cert_op_sign(&x, holder_sk), WN_CERT_EFORMAT);
    x = t;
    x.op = 0;
    cr_assert_eq(wn_cert_op_sign(&x, holder_sk), WN_CERT_EFORMAT);
    x = t;
    memcpy(x.to, x.from, 32);
    cr_assert_eq(wn_cert_op_sign(&x, holder_sk), WN_CERT_EFORMAT, "a transfer to oneself");
}
