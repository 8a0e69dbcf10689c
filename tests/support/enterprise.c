/* enterprise.c — registering enterprise, accreditation and calibration records at a test node (enterprise.h). */
#include "tests/support/enterprise.h"

#include <stdio.h>
#include <string.h>

#include "crypto/sig.h"
#include "protocol/accreditation.h"
#include "protocol/calibration.h"
#include "protocol/enterprise.h"
#include "tests/support/feeder.h"

unsigned wn_test_enterprise_post(const char *url, const uint8_t reg_sk[32], const char *code, uint64_t seq,
                                 const uint8_t (*sks)[32], size_t n, char *body, size_t cap)
{
    wn_enterprise e;
    memset(&e, 0, sizeof e);
    snprintf(e.code, sizeof e.code, "%s", code);
    snprintf(e.name, sizeof e.name, "Enterprise %s", code);
    snprintf(e.area, sizeof e.area, "Jiaxing Economic Development Zone");
    e.seq = seq;
    e.time_ms = 1735689600000ULL;
    for (size_t i = 0; i < n && i < WN_ENT_KEYS_MAX; i++)
        if (!wn_seckey_xonly(e.keys[e.n_keys++], sks[i])) return 0;
    char json[WN_ENTERPRISE_JSON_MAX];
    size_t len;
    if (wn_enterprise_sign(&e, reg_sk) != WN_ENT_OK || wn_enterprise_to_json(&e, json, sizeof json, &len) != WN_ENT_OK)
        return 0;
    wn_test_resp r;
    if (!wn_test_http(url, "POST", "/v1/enterprises", "application/json", json, len, &r)) {
        wn_test_resp_free(&r);
        return 0;
    }
    unsigned status = r.status;
    if (body && cap) snprintf(body, cap, "%.*s", (int)r.len, r.body ? (const char *)r.body : "");
    wn_test_resp_free(&r);
    return status;
}

unsigned wn_test_accreditation_post(const char *url, const uint8_t reg_sk[32], const char *code, uint64_t seq,
                                    const uint8_t (*sks)[32], size_t n, const char *scope, uint64_t from_ms,
                                    uint64_t to_ms, char *body, size_t cap)
{
    wn_accreditation a;
    memset(&a, 0, sizeof a);
    snprintf(a.code, sizeof a.code, "%s", code);
    snprintf(a.name, sizeof a.name, "Zhejiang Water Testing Co.");
    snprintf(a.number, sizeof a.number, "CMA 2023-11-0042");
    snprintf(a.scope[0], sizeof a.scope[0], "%s", scope);
    a.n_scope = 1;
    a.seq = seq;
    a.valid_from_ms = from_ms;
    a.valid_to_ms = to_ms;
    for (size_t i = 0; i < n && i < WN_ENT_KEYS_MAX; i++)
        if (!wn_seckey_xonly(a.keys[a.n_keys++], sks[i])) return 0;
    char json[WN_ACCREDITATION_JSON_MAX];
    size_t len;
    if (wn_accreditation_sign(&a, reg_sk) != WN_ENT_OK || wn_accreditation_to_json(&a, json, sizeof json, &len) != WN_ENT_OK)
        return 0;
    wn_test_resp r;
    if (!wn_test_http(url, "POST", "/v1/accreditations", "application/json", json, len, &r)) {
        wn_test_resp_free(&r);
        return 0;
    }
    unsigned status = r.status;
    if (body && cap) snprintf(body, cap, "%.*s", (int)r.len, r.body ? (const char *)r.body : "");
    wn_test_resp_free(&r);
    return status;
}

unsigned wn_test_calibration_post(const char *url, const uint8_t reg_sk[32], const uint8_t meter[32],
                                  const char *reference, uint64_t from_ms, uint64_t until_ms, char *body, size_t cap)
{
    wn_calibration c;
    memset(&c, 0, sizeof c);
    memcpy(c.meter, meter, 32);
    snprintf(c.reference, sizeof c.reference, "%s", reference);
    snprintf(c.body, sizeof c.body, "Jiaxing Institute of Metrology");
    c.calibrated_ms = from_ms;
    c.valid_until_ms = until_ms;
    char json[WN_CALIBRATION_JSON_MAX];
    size_t len;
    if (wn_calibration_sign(&c, reg_sk) != WN_ENT_OK || wn_calibration_to_json(&c, json, sizeof json, &len) != WN_ENT_OK)
        return 0;
    wn_test_resp r;
    if (!wn_test_http(url, "POST", "/v1/calibrations", "application/json", json, len, &r)) {
        wn_test_resp_free(&r);
        return 0;
    }
    unsigned status = r.status;
    if (body && cap) snprintf(body, cap, "%.*s", (int)r.len, r.body ? (const char *)r.body : "");
    wn_test_resp_free(&r);
    return status;
}
