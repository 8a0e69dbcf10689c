/* calibrations.c — POST /v1/calibrations and GET /v1/calibrations/bundle?meter= (calibrations.h).
 *
 * A record is accepted when it is signed by THE registrar, names an enrolled meter, its
 * validity is not empty (valid_until after calibrated_at: the codec's rule) and no record
 * of the meter already carries the same certificate reference (a re-calibration has its
 * own certificate). The check and the durable append run under the certificates' decision
 * mutex, like enterprise records (enterprises.c). */
#include "node/certs/calibrations.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"
#include "node/certs/certs_state.h"
#include "node/certs/enterprises.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/node.h"
#include "node/query/bundle.h"
#include "protocol/reading.h"

static int decide(wn_node *n, const wn_calibration *c, char *detail)
{
    wn_meter m;
    char h[65];
    wn_hex_encode(h, c->meter, 32);
    if (!wn_state_get(n->state, c->meter, &m, NULL, 0)) {
        snprintf(detail, WN_DETAIL_MAX, "meter %s is not enrolled at this notary", h);
        return WN_NE_UNKNOWN_METER;
    }
    const wn_certs *s = n->certs;
    for (size_t i = 0; i < s->n_cals; i++) {
        if (memcmp(s->cals[i].c.meter, c->meter, 32) != 0 || strcmp(s->cals[i].c.reference, c->reference) != 0) continue;
        snprintf(detail, WN_DETAIL_MAX, "meter %.16s already has ledger entry %llu with this certificate reference; a "
                                        "re-calibration is a new record with its own certificate",
                 h, (unsigned long long)s->cals[i].index);
        return WN_NE_STALE_RECORD;
    }
    return WN_NE_OK;
}

void wn_calibrations_post(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out)
{
    char detail[WN_DETAIL_MAX] = "";
    int type;
    if (wn_parse_media_type(content_type, 0, &type) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_UNSUPPORTED_MEDIA, "send application/json");
        return;
    }
    cJSON *j = wn_json_parse_strict(body, len, detail, sizeof detail);
    if (!j) {
        wn_reply_error(out, WN_NE_MALFORMED_JSON, detail);
        return;
    }
    wn_calibration c;
    int rc = wn_calibration_from_cjson(&c, j, detail, sizeof detail);
    cJSON_Delete(j);
    if (rc != WN_ENT_OK) {
        wn_reply_error(out, rc == WN_ENT_EJSON ? WN_NE_MALFORMED_JSON : WN_NE_MALFORMED_RECORD, detail);
        return;
    }
    if (memcmp(c.registrar, n->registrar, 32) != 0) {
        char want[65];
        wn_hex_encode(want, n->registrar, 32);
        snprintf(detail, sizeof detail, "the record names another registrar; this node's registrar is %s", want);
        wn_reply_error(out, WN_NE_BAD_REGISTRAR_SIG, detail);
        return;
    }
    if (wn_calibration_verify(&c) != WN_ENT_OK) {
        wn_reply_error(out, WN_NE_BAD_REGISTRAR_SIG, "the registrar signature does not verify");
        return;
    }
    uint8_t record[WN_CALIBRATION_MAX_LEN];
    size_t rlen = 0;
    if (wn_calibration_encode(&c, record, sizeof record, &rlen) != WN_ENT_OK) {
        wn_reply_error(out, WN_NE_MALFORMED_RECORD, "the record does not encode");
        return;
    }
    wn_certs *s = n->certs;
    wn_job job = {.kind = WN_JOB_ENTRY, .entry_type = WN_ENTRY_CALIBRATION, .record = record, .record_len = rlen};
    pthread_mutex_lock(&s->decide);
    rc = decide(n, &c, detail);
    if (rc == WN_NE_OK) {
        wn_committer_run(n->committer, &job);
        rc = job.err;
        if (rc != WN_NE_OK) snprintf(detail, sizeof detail, "%s", job.detail);
    }
    if (rc == WN_NE_OK) {
        uint8_t entry[WN_ENTRY_TIMED_HEADER + sizeof record], chain[32];
        size_t elen = 0;
        if (wn_ledger_get(n->ledger, job.index, entry, sizeof entry, &elen, NULL, chain) != WN_LEDGER_OK) {
            memset(chain, 0, 32); /* the env will not match the ledger and is rebuilt at the next start */
            entry[0] = WN_ENTRY_CALIBRATION;
            memcpy(entry + 1, record, rlen);
            elen = 1 + rlen;
        }
        if (!wn_certs_apply(s, job.index, entry, elen, chain))
            wn_log("calibrations: entry %llu is in the ledger but could not be applied; restart the node to rebuild",
                   (unsigned long long)job.index);
        char h[65];
        wn_hex_encode(h, c.meter, 32);
        wn_log("meter %.16s: calibration \"%s\" at entry %llu", h, c.reference, (unsigned long long)job.index);
    }
    pthread_mutex_unlock(&s->decide);
    if (rc != WN_NE_OK) {
        wn_reply_error(out, rc, detail);
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_printf(&b, "{\"index\":%llu,\"leaf\":", (unsigned long long)job.index);
    wn_buf_json_hex(&b, job.leaf, 32);
    char t[25];
    wn_time_format(t, job.commit_ms);
    wn_buf_printf(&b, ",\"commit_time\":\"%s\"}", t);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

void wn_calibrations_bundle(wn_node *n, const char *meter_hex, wn_response *out)
{
    uint8_t meter[32];
    if (!meter_hex || strlen(meter_hex) != 64 || !wn_hex_decode(meter, 32, meter_hex, 64)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "give ?meter=HEX, a meter id of 64 hex characters");
        return;
    }
    char note[WN_CHECKPOINT_MAX + 1], d[WN_DETAIL_MAX];
    size_t note_len;
    uint64_t size;
    int err = wn_ledger_get_checkpoint(n->ledger, 0, note, sizeof note, &note_len, &size);
    if (err == WN_LEDGER_ENOTFOUND) {
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, "no checkpoint has been signed yet");
        return;
    }
    wn_checkpoint cp;
    if (err || wn_checkpoint_parse(note, note_len, &cp, NULL) != WN_CHECKPOINT_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, "the latest checkpoint cannot be read");
        return;
    }
    note[note_len] = '\0';
    uint64_t idx[WN_ENT_BUNDLE_MAX];
    size_t n_idx = 0, total = 0;
    wn_certs *s = n->certs;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n_cals; i++) {
        if (memcmp(s->cals[i].c.meter, meter, 32) != 0) continue;
        total++;
        if (s->cals[i].index < size && n_idx < WN_ENT_BUNDLE_MAX) idx[n_idx++] = s->cals[i].index;
    }
    pthread_rwlock_unlock(&s->lock);
    if (!total) {
        snprintf(d, sizeof d, "meter %s has no calibration record", meter_hex);
        wn_reply_error(out, WN_NE_NOT_FOUND, d);
        return;
    }
    if (n_idx < total && n_idx < WN_ENT_BUNDLE_MAX) {
        snprintf(d, sizeof d, "the latest checkpoint (size %llu) does not cover every calibration record of the "
                              "meter yet; ask again after the next checkpoint", (unsigned long long)size);
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, d);
        return;
    }
    if (total > WN_ENT_BUNDLE_MAX) {
        wn_reply_error(out, WN_NE_INTERNAL, "the meter has more calibration records than one answer holds");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    uint8_t keyid[4];
    wn_note_keyid(keyid, cp.origin, n->notary_pk);
    wn_buf_str(&b, "{\"format\":\"" WN_CAL_BUNDLE_FORMAT "\",\"notary_key_id\":");
    wn_buf_json_hex(&b, keyid, 4);
    wn_buf_str(&b, ",\"meter\":");
    wn_buf_json_hex(&b, meter, 32);
    wn_buf_str(&b, ",\"checkpoint\":");
    wn_buf_json_str(&b, note);
    wn_buf_str(&b, ",\"records\":[");
    for (size_t i = 0; i < n_idx && !err; i++) {
        if (i) wn_buf_str(&b, ",");
        err = wn_bundle_add_entry(n, &b, idx[i], size);
    }
    wn_buf_str(&b, "]}");
    if (err) {
        wn_buf_free(&b);
        snprintf(d, sizeof d, "building the bundle: %s", wn_ledger_strerror(err));
        wn_reply_error(out, WN_NE_INTERNAL, d);
        return;
    }
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}
