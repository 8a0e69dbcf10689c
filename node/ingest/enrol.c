/* enrol.c — POST /v1/enrolments and POST /v1/revocations: parse the record (PROTOCOL §5),
 * check that it is signed by THE registrar this node is configured with, and hand it to
 * the committer, which refuses a second enrolment of a meter id (even a revoked one) and a
 * revocation of an unknown or already revoked meter. 200 {"index":n,"leaf":hex,"commit_time":RFC 3339}. */
#include "node/ingest/ingest.h"

#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/http/errors.h"

static int check_registrar(wn_node *n, const uint8_t registrar[32], int sig_ok, char *detail, size_t cap)
{
    if (memcmp(registrar, n->registrar, 32) != 0) {
        char want[65];
        wn_hex_encode(want, n->registrar, 32);
        snprintf(detail, cap, "the record names another registrar; this node's registrar is %s", want);
        return WN_NE_BAD_REGISTRAR_SIG;
    }
    if (!sig_ok) {
        snprintf(detail, cap, "the registrar signature does not verify");
        return WN_NE_BAD_REGISTRAR_SIG;
    }
    return WN_NE_OK;
}

void wn_enrol_post(wn_node *n, int revoke, const char *content_type, const char *body, size_t len, wn_response *out)
{
    char detail[WN_DETAIL_MAX] = "";
    int kind, rc;
    if (wn_parse_media_type(content_type, 0, &kind) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_UNSUPPORTED_MEDIA, "send application/json");
        return;
    }
    uint8_t record[WN_ENROLMENT_MAX_LEN];
    size_t rlen = 0;
    wn_job job = {.kind = revoke ? WN_JOB_REVOKE : WN_JOB_ENROL};
    wn_enrolment e;
    wn_revocation r;
    if (!revoke) {
        rc = wn_parse_enrolment(&e, body, len, detail, sizeof detail);
        if (rc == WN_NE_OK)
            rc = check_registrar(n, e.registrar, wn_enrolment_verify(&e) == WN_ENROL_OK, detail, sizeof detail);
        if (rc == WN_NE_OK && wn_enrolment_encode(&e, record, sizeof record, &rlen) != WN_ENROL_OK) {
            rc = WN_NE_MALFORMED_RECORD;
            snprintf(detail, sizeof detail, "the enrolment does not encode");
        }
        job.meter = e.meter;
        job.alg = e.alg;
        job.pubkey = e.pubkey;
        job.point = e.point;
        job.time_ms = e.time_ms;
    } else {
        rc = wn_parse_revocation(&r, body, len, detail, sizeof detail);
        if (rc == WN_NE_OK)
            rc = check_registrar(n, r.registrar, wn_revocation_verify(&r) == WN_ENROL_OK, detail, sizeof detail);
        if (rc == WN_NE_OK && wn_revocation_encode(&r, record) != WN_ENROL_OK) {
            rc = WN_NE_MALFORMED_RECORD;
            snprintf(detail, sizeof detail, "the revocation does not encode");
        }
        rlen = WN_REVOCATION_LEN;
        job.meter = r.meter;
    }
    if (rc != WN_NE_OK) {
        wn_reply_error(out, rc, detail);
        return;
    }
    job.record = record;
    job.record_len = rlen;
    wn_committer_run(n->committer, &job);
    if (job.err != WN_NE_OK) {
        wn_reply_error(out, job.err, job.detail);
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    char t[25];
    wn_time_format(t, job.commit_ms);
    wn_buf_printf(&b, "{\"index\":%llu,\"leaf\":", (unsigned long long)job.index);
    wn_buf_json_hex(&b, job.leaf, 32);
    wn_buf_printf(&b, ",\"commit_time\":\"%s\"}", t);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}
