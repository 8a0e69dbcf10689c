/* fuzz_claims.c — libFuzzer target for what the evaluator and the node's certificate routes
 * read from strangers: savings certificates, transfers and retirements (binary and JSON,
 * protocol/certificate.c), claims, project records and policies (savings/claim.c,
 * savings/project.c, savings/policy.c).
 *
 * Every input is tried as each of them. Whatever a strict decoder accepts must come back
 * unchanged: a certificate or operation re-encodes to the same bytes and survives its JSON
 * form; a claim's JSON form parses to the same canonical body and signatures; a policy's
 * canonical JSON parses to the same policy digest. */
// fuzz-sources: savings/claim.c savings/project.c savings/policy.c savings/jsondoc.c
#include "savings/claim.h"
#include "savings/policy.h"
#include "protocol/certificate.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void certificate(const uint8_t *data, size_t size)
{
    wn_certificate c, back;
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    size_t len;
    char json[WN_CERTIFICATE_JSON_MAX];
    if (wn_certificate_decode(&c, data, size) != WN_CERT_OK) return;
    CHECK(wn_certificate_encode(&c, buf, sizeof buf, &len) == WN_CERT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
    (void)wn_certificate_verify(&c);
    CHECK(wn_certificate_to_json(&c, json, sizeof json, &len) == WN_CERT_OK);
    cJSON *j = cJSON_ParseWithLength(json, len);
    CHECK(j != NULL);
    CHECK(wn_certificate_from_cjson(&back, j, NULL, 0) == WN_CERT_OK);
    cJSON_Delete(j);
    CHECK(wn_certificate_encode(&back, buf, sizeof buf, &len) == WN_CERT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
}

static void operation(const uint8_t *data, size_t size, int retirement)
{
    wn_cert_op op, back;
    uint8_t buf[WN_TRANSFER_LEN];
    size_t len;
    char json[WN_TRANSFER_JSON_MAX];
    if (wn_cert_op_decode(&op, retirement, data, size) != WN_CERT_OK) return;
    CHECK(wn_cert_op_encode(&op, buf, sizeof buf, &len) == WN_CERT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
    (void)wn_cert_op_verify(&op);
    CHECK(wn_cert_op_to_json(&op, json, sizeof json, &len) == WN_CERT_OK);
    cJSON *j = cJSON_ParseWithLength(json, len);
    CHECK(j != NULL);
    CHECK(wn_cert_op_from_cjson(&back, retirement, j, NULL, 0) == WN_CERT_OK);
    cJSON_Delete(j);
    CHECK(wn_cert_op_encode(&back, buf, sizeof buf, &len) == WN_CERT_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
}

static void json_records(const char *text, size_t size)
{
    cJSON *j = cJSON_ParseWithLength(text, size);
    if (!j) return;
    wn_certificate c;
    wn_cert_op op;
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    size_t len;
    if (wn_certificate_from_cjson(&c, j, NULL, 0) == WN_CERT_OK) {
        CHECK(wn_certificate_encode(&c, buf, sizeof buf, &len) == WN_CERT_OK);
        certificate(buf, len);
    }
    for (int r = 0; r < 2; r++)
        if (wn_cert_op_from_cjson(&op, r, j, NULL, 0) == WN_CERT_OK) {
            CHECK(wn_cert_op_encode(&op, buf, sizeof buf, &len) == WN_CERT_OK);
            operation(buf, len, r);
        }
    cJSON_Delete(j);
}

static void claim(const char *text, size_t size)
{
    wn_claim c, back;
    char detail[300];
    if (!wn_claim_parse(&c, text, size, detail, sizeof detail)) return;
    char *json = wn_claim_to_json(&c);
    CHECK(json != NULL);
    CHECK(wn_claim_parse(&back, json, strlen(json), detail, sizeof detail));
    free(json);
    uint8_t a[WN_CLAIM_BODY_MAX], b[WN_CLAIM_BODY_MAX];
    size_t la, lb;
    CHECK(wn_claim_body(&c, a, sizeof a, &la) && wn_claim_body(&back, b, sizeof b, &lb));
    CHECK(la == lb && memcmp(a, b, la) == 0);
    CHECK(c.signed_by_enterprise == back.signed_by_enterprise && c.certified == back.certified);
    CHECK(memcmp(c.enterprise_sig, back.enterprise_sig, 64) == 0 && memcmp(c.certifier_sig, back.certifier_sig, 64) == 0);
    CHECK(wn_claim_verify_enterprise(&c) == wn_claim_verify_enterprise(&back));
    CHECK(wn_claim_verify_certification(&c) == wn_claim_verify_certification(&back));
}

static void project(const char *text, size_t size)
{
    wn_project p, back;
    char detail[300];
    if (!wn_project_parse(&p, text, size, detail, sizeof detail)) return;
    (void)wn_project_verify(&p);
    cJSON *o = wn_project_to_cjson(&p);
    CHECK(o != NULL);
    CHECK(wn_project_from_cjson(&back, o, detail, sizeof detail));
    cJSON_Delete(o);
    CHECK(memcmp(&p, &back, sizeof p) == 0);
}

static void policy(const char *text, size_t size)
{
    wn_policy p, back;
    char detail[300];
    if (!wn_policy_parse(&p, text, size, detail, sizeof detail)) return;
    char *canon = wn_policy_to_json(&p);
    CHECK(canon != NULL);
    CHECK(wn_policy_parse(&back, canon, strlen(canon), detail, sizeof detail));
    CHECK(memcmp(p.digest, back.digest, 32) == 0);
    free(canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    certificate(data, size);
    operation(data, size, 0);
    operation(data, size, 1);
    json_records((const char *)data, size);
    claim((const char *)data, size);
    project((const char *)data, size);
    policy((const char *)data, size);
    return 0;
}
