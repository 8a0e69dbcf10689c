/* enterprises.c — POST /v1/enterprises and GET /v1/enterprises?code= (enterprises.h).
 *
 * A record is accepted when it is signed by THE registrar, its sequence is above that of
 * every earlier record of its code (a rotation; 1 for the first), and none of its keys is
 * in force for another enterprise (one key speaks for one enterprise). The check and the
 * durable append run under the certificates' decision mutex, so two records of one code
 * cannot both take the same sequence, and a certificate decided meanwhile sees the key
 * set either before or after the record, never half of it. */
#include "node/certs/enterprises.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"
#include "node/certs/certs_state.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/node.h"
#include "node/query/bundle.h"
#include "protocol/reading.h"

/* Is key in force in an accreditation record of another code than `code`? Returns: that code. */
static const char *acc_key_elsewhere(const wn_certs *s, const char *code, const uint8_t key[32], uint64_t *at)
{
    for (size_t i = 0; i < s->n_accs; i++) {
        const wn_acc_rec *r = &s->accs[i];
        if (strcmp(r->a.code, code) == 0 || !wn_accreditation_has_key(&r->a, key)) continue;
        if (wn_certs_accreditation(s, r->a.code, UINT64_MAX) == r) {
            *at = r->index;
            return r->a.code;
        }
    }
    return NULL;
}

/* Is key in force for an enterprise other than code? Caller holds decide. */
static const wn_ent_rec *key_elsewhere(const wn_certs *s, const char *code, const uint8_t key[32])
{
    for (size_t i = 0; i < s->n_ents; i++) {
        const wn_ent_rec *r = &s->ents[i];
        if (strcmp(r->e.code, code) == 0 || !wn_enterprise_has_key(&r->e, key)) continue;
        if (wn_certs_enterprise(s, r->e.code, UINT64_MAX, NULL) == r) return r; /* r is its code's latest */
    }
    return NULL;
}

static int decide(wn_node *n, const wn_enterprise *e, char *detail)
{
    wn_certs *s = n->certs;
    const wn_ent_rec *last = wn_certs_enterprise(s, e->code, UINT64_MAX, NULL);
    if (last && e->seq <= last->e.seq) {
        snprintf(detail, WN_DETAIL_MAX, "enterprise %s already has a record of sequence %llu (ledger entry %llu); a "
                                        "new record must carry a higher sequence",
                 e->code, (unsigned long long)last->e.seq, (unsigned long long)last->index);
        return WN_NE_STALE_RECORD;
    }
    for (size_t k = 0; k < e->n_keys; k++) {
        const wn_ent_rec *o = key_elsewhere(s, e->code, e->keys[k]);
        uint64_t at = 0;
        const char *acc = o ? NULL : acc_key_elsewhere(s, "", e->keys[k], &at);
        if (!o && !acc) continue;
        char h[65];
        wn_hex_encode(h, e->keys[k], 32);
        snprintf(detail, WN_DETAIL_MAX, "the key %s is in force for %s %s (ledger entry %llu)", h,
                 o ? "enterprise" : "the certifier", o ? o->e.code : acc, (unsigned long long)(o ? o->index : at));
        return WN_NE_KEY_IN_USE;
    }
    return WN_NE_OK;
}

/* An accreditation: its sequence is above its code's last; its keys sign for no enterprise
 * and for no other certifier (a certifier's key is never a claimant's). */
static int decide_acc(wn_node *n, const wn_accreditation *a, char *detail)
{
    wn_certs *s = n->certs;
    const wn_acc_rec *last = wn_certs_accreditation(s, a->code, UINT64_MAX);
    if (last && a->seq <= last->a.seq) {
        snprintf(detail, WN_DETAIL_MAX, "certifier %s already has an accreditation of sequence %llu (ledger entry %llu); "
                                        "a new record must carry a higher sequence",
                 a->code, (unsigned long long)last->a.seq, (unsigned long long)last->index);
        return WN_NE_STALE_RECORD;
    }
    for (size_t k = 0; k < a->n_keys; k++) {
        const wn_ent_rec *o = key_elsewhere(s, "", a->keys[k]);
        uint64_t at = 0;
        const char *acc = o ? NULL : acc_key_elsewhere(s, a->code, a->keys[k], &at);
        if (!o && !acc) continue;
        char h[65];
        wn_hex_encode(h, a->keys[k], 32);
        snprintf(detail, WN_DETAIL_MAX, "the key %s is in force for %s %s (ledger entry %llu)", h,
                 o ? "enterprise" : "the certifier", o ? o->e.code : acc, (unsigned long long)(o ? o->index : at));
        return WN_NE_KEY_IN_USE;
    }
    return WN_NE_OK;
}

static void post(wn_node *n, int acc, const char *content_type, const char *body, size_t len, wn_response *out)
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
    wn_enterprise e;
    wn_accreditation a;
    int rc = acc ? wn_accreditation_from_cjson(&a, j, detail, sizeof detail) : wn_enterprise_from_cjson(&e, j, detail, sizeof detail);
    cJSON_Delete(j);
    if (rc != WN_ENT_OK) {
        wn_reply_error(out, rc == WN_ENT_EJSON ? WN_NE_MALFORMED_JSON : WN_NE_MALFORMED_RECORD, detail);
        return;
    }
    const uint8_t *registrar = acc ? a.registrar : e.registrar;
    if (memcmp(registrar, n->registrar, 32) != 0) {
        char want[65];
        wn_hex_encode(want, n->registrar, 32);
        snprintf(detail, sizeof detail, "the record names another registrar; this node's registrar is %s", want);
        wn_reply_error(out, WN_NE_BAD_REGISTRAR_SIG, detail);
        return;
    }
    uint8_t record[WN_ACCREDITATION_MAX_LEN > WN_ENTERPRISE_MAX_LEN ? WN_ACCREDITATION_MAX_LEN : WN_ENTERPRISE_MAX_LEN];
    size_t rlen = 0;
    if ((acc ? wn_accreditation_verify(&a) : wn_enterprise_verify(&e)) != WN_ENT_OK) {
        wn_reply_error(out, WN_NE_BAD_REGISTRAR_SIG, "the registrar signature does not verify");
        return;
    }
    if ((acc ? wn_accreditation_encode(&a, record, sizeof record, &rlen)
             : wn_enterprise_encode(&e, record, sizeof record, &rlen)) != WN_ENT_OK) {
        wn_reply_error(out, WN_NE_MALFORMED_RECORD, "the record does not encode");
        return;
    }
    wn_certs *s = n->certs;
    uint8_t kind = acc ? WN_ENTRY_ACCREDITATION : WN_ENTRY_ENTERPRISE;
    wn_job job = {.kind = WN_JOB_ENTRY, .entry_type = kind, .record = record, .record_len = rlen};
    pthread_mutex_lock(&s->decide);
    rc = acc ? decide_acc(n, &a, detail) : decide(n, &e, detail);
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
            entry[0] = kind;
            memcpy(entry + 1, record, rlen);
            elen = 1 + rlen;
        }
        if (!wn_certs_apply(s, job.index, entry, elen, chain))
            wn_log("%s: entry %llu is in the ledger but could not be applied; restart the node to rebuild",
                   acc ? "accreditations" : "enterprises", (unsigned long long)job.index);
        wn_log("%s %s: record of sequence %llu at entry %llu", acc ? "certifier" : "enterprise", acc ? a.code : e.code,
               (unsigned long long)(acc ? a.seq : e.seq), (unsigned long long)job.index);
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

void wn_enterprises_post(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out)
{
    post(n, 0, content_type, body, len, out);
}

void wn_accreditations_post(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out)
{
    post(n, 1, content_type, body, len, out);
}

static void bundle(wn_node *n, int acc, const char *code, wn_response *out)
{
    if (!code || !wn_uscc_valid(code)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "give ?code=CODE, a unified social credit code of 18 characters");
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
    for (size_t i = 0; i < (acc ? s->n_accs : s->n_ents); i++) {
        if (strcmp(acc ? s->accs[i].a.code : s->ents[i].e.code, code) != 0) continue;
        uint64_t at = acc ? s->accs[i].index : s->ents[i].index;
        total++;
        if (at < size && n_idx < WN_ENT_BUNDLE_MAX) idx[n_idx++] = at;
    }
    pthread_rwlock_unlock(&s->lock);
    if (!total) {
        snprintf(d, sizeof d, "%s %s has no %s record", acc ? "certifier" : "enterprise", code,
                 acc ? "accreditation" : "enterprise");
        wn_reply_error(out, WN_NE_NOT_FOUND, d);
        return;
    }
    if (n_idx < total && n_idx < WN_ENT_BUNDLE_MAX) {
        snprintf(d, sizeof d, "the latest checkpoint (size %llu) does not cover every record of %s yet; ask again "
                              "after the next checkpoint", (unsigned long long)size, code);
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, d);
        return;
    }
    if (total > WN_ENT_BUNDLE_MAX) {
        wn_reply_error(out, WN_NE_INTERNAL, "the enterprise has more records than one answer holds");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    uint8_t keyid[4];
    wn_note_keyid(keyid, cp.origin, n->notary_pk);
    wn_buf_str(&b, acc ? "{\"format\":\"" WN_ACC_BUNDLE_FORMAT "\",\"notary_key_id\":"
                   : "{\"format\":\"" WN_ENT_BUNDLE_FORMAT "\",\"notary_key_id\":");
    wn_buf_json_hex(&b, keyid, 4);
    wn_buf_printf(&b, ",\"code\":\"%s\",\"checkpoint\":", code);
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

void wn_enterprises_bundle(wn_node *n, const char *code, wn_response *out)
{
    bundle(n, 0, code, out);
}

void wn_accreditations_bundle(wn_node *n, const char *code, wn_response *out)
{
    bundle(n, 1, code, out);
}
