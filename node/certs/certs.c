/* certs.c — the HTTP side of savings certificates (certs.h, docs/PROTOCOL.md §17): check a
 * certificate against the authority key, the ledger's own tree and every certificate
 * before it (no litre certified twice for a purpose the policy does not allow twice);
 * check a transfer or retirement against the certificate's term, holders, balances and
 * next operation number; append through the committer; answer certificate status. */
#include "node/certs/certs.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/entry.h"
#include "node/certs/certs_state.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/node.h"
#include "protocol/enrolment.h"
#include "savings/identity.h"

static int fail(char *detail, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *detail, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, WN_DETAIL_MAX, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- decisions (caller holds s->decide) ---- */

static int overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) { return a0 < b1 && b0 < a1; }

/* May certificates a and b both rest on the same (meter, period)? Only one subsidy and one
 * sale, and only when the policies of both say so. */
static int may_share(const wn_certificate *a, const wn_certificate *b)
{
    return a->purpose != b->purpose && (a->flags & WN_CERT_FLAG_SUBSIDY_AND_SALE) &&
           (b->flags & WN_CERT_FLAG_SUBSIDY_AND_SALE);
}

/* The meter's enrolment (at enrol_index) names the certificate's enterprise. */
static int meter_of_enterprise(wn_node *n, const wn_certificate *c, const uint8_t meter[32], uint64_t enrol_index,
                               char *detail)
{
    uint8_t e[WN_ENTRY_TIMED_HEADER + WN_ENROLMENT_MAX_LEN];
    size_t len;
    wn_enrolment en;
    wn_entry_view v;
    if (wn_ledger_get(n->ledger, enrol_index, e, sizeof e, &len, NULL, NULL) != WN_LEDGER_OK ||
        wn_entry_parse(&v, e, len) != WN_ENTRY_OK || v.kind != WN_ENTRY_ENROLMENT ||
        wn_enrolment_decode(&en, v.payload, v.len) != WN_ENROL_OK)
        return fail(detail, WN_NE_INTERNAL, "the enrolment at ledger entry %llu cannot be read",
                    (unsigned long long)enrol_index);
    if (strcmp(en.enterprise, c->enterprise) == 0) return WN_NE_OK;
    char h[17], who[64];
    wn_hex_encode(h, meter, 8);
    snprintf(who, sizeof who, "meter %s (reporting)", h);
    wn_identity_meter_detail(detail, WN_DETAIL_MAX, who, en.enterprise, c->enterprise);
    return WN_NE_METER_ENTERPRISE;
}

static int decide_certificate(wn_node *n, const wn_certificate *c, char *detail)
{
    wn_certs *s = n->certs;
    char h[17], t1[25], t2[25];
    uint64_t size;
    uint8_t root[32];
    if (wn_ledger_size(n->ledger, &size) != WN_LEDGER_OK) return fail(detail, WN_NE_INTERNAL, "the ledger cannot be read");
    if (c->cp_size > size || wn_ledger_root(n->ledger, c->cp_size, root) != WN_LEDGER_OK ||
        memcmp(root, c->cp_root, 32) != 0)
        return fail(detail, WN_NE_UNKNOWN_CHECKPOINT,
                    "the evaluation's checkpoint (size %llu) is not a tree of this ledger (size %llu)",
                    (unsigned long long)c->cp_size, (unsigned long long)size);
    for (size_t i = 0; i < c->n_meters; i++) {
        wn_meter m;
        if (!wn_state_get(n->state, c->meters[i], &m, NULL, 0)) {
            wn_hex_encode(h, c->meters[i], 8);
            return fail(detail, WN_NE_UNKNOWN_METER, "meter %s is not enrolled", h);
        }
        int rc = meter_of_enterprise(n, c, c->meters[i], m.enrol_index, detail);
        if (rc != WN_NE_OK) return rc;
    }
    /* The holder must be a key of the named enterprise's record in force now (savings/identity.h);
     * whether a record is required at all is the policy's, which the evaluation applied. */
    const wn_ent_rec *er = wn_certs_enterprise(s, c->enterprise, size, NULL);
    if (wn_identity_check_key(er ? &er->e : NULL, er ? er->index : 0, c->enterprise, c->holder, 0, detail,
                              WN_DETAIL_MAX))
        return WN_NE_KEY_NOT_ENTERPRISE;
    if (c->purpose == WN_PURPOSE_SUBSIDY && c->project_subsidies) {
        size_t held = 0;
        uint64_t last = 0;
        for (size_t k = 0; k < s->n; k++)
            if (s->recs[k].c.purpose == WN_PURPOSE_SUBSIDY && strcmp(s->recs[k].c.project, c->project) == 0)
                held++, last = s->recs[k].index;
        if (held >= c->project_subsidies)
            return fail(detail, WN_NE_PROJECT_SUBSIDISED,
                        "project \"%.200s\" already holds %zu subsidy certificate%s (the last at ledger index %llu); "
                        "its policy subsidises a project at most %u time%s",
                        c->project, held, held == 1 ? "" : "s", (unsigned long long)last, (unsigned)c->project_subsidies,
                        c->project_subsidies == 1 ? "" : "s");
    }
    for (size_t k = 0; k < s->n; k++) {
        const wn_certificate *e = &s->recs[k].c;
        if (!overlap(c->reporting_from, c->reporting_to, e->reporting_from, e->reporting_to) || may_share(c, e))
            continue;
        for (size_t i = 0; i < c->n_meters; i++)
            for (size_t j = 0; j < e->n_meters; j++) {
                if (memcmp(c->meters[i], e->meters[j], 32) != 0) continue;
                wn_hex_encode(h, c->meters[i], 8);
                wn_time_format(t1, e->reporting_from);
                wn_time_format(t2, e->reporting_to);
                return fail(detail, WN_NE_DOUBLE_COUNTING,
                            "certificate %llu (%s) already rests on meter %s over [%s, %s)%s",
                            (unsigned long long)s->recs[k].index, wn_cert_purpose_name(e->purpose), h, t1, t2,
                            e->purpose != c->purpose ? "; the policy does not let a saving be both subsidised and sold"
                                                     : "");
            }
    }
    return WN_NE_OK;
}

static int decide_op(wn_node *n, const wn_cert_op *op, char *detail)
{
    const wn_cert_rec *r = wn_certs_find(n->certs, op->cert_index);
    char t[25];
    if (!r) return fail(detail, WN_NE_UNKNOWN_CERTIFICATE, "no certificate at ledger index %llu", (unsigned long long)op->cert_index);
    if (op->op != r->n_ops + 1)
        return fail(detail, WN_NE_STALE_OPERATION, "the certificate's next operation number is %llu, not %llu",
                    (unsigned long long)(r->n_ops + 1), (unsigned long long)op->op);
    if (!op->is_retirement && r->c.purpose != WN_PURPOSE_SALE)
        return fail(detail, WN_NE_NOT_TRANSFERABLE, "a subsidy certificate cannot be transferred, only retired");
    uint64_t now = wn_now_ms();
    wn_time_format(t, r->c.valid_until_ms);
    if (now >= r->c.valid_until_ms || op->time_ms >= r->c.valid_until_ms)
        return fail(detail, WN_NE_OUTSIDE_TERM, "the certificate's term ended at %s", t);
    if (op->time_ms < r->c.time_ms || op->time_ms > now + n->cfg.skew_ms)
        return fail(detail, WN_NE_OUTSIDE_TERM, "the operation's time must lie between the certificate's issue and now");
    const wn_holding *h = wn_certs_holding(r, op->from);
    if (!h || h->balance == 0) return fail(detail, WN_NE_NOT_HOLDER, "the signer holds no volume of this certificate");
    if (op->volume_l > h->balance)
        return fail(detail, WN_NE_INSUFFICIENT_BALANCE, "the signer holds %llu L of this certificate, not %llu L",
                    (unsigned long long)h->balance, (unsigned long long)op->volume_l);
    return WN_NE_OK;
}

/* ---- POST ---- */

static cJSON *parse_body(const char *body, size_t len, char *detail)
{
    const char *end = NULL;
    const char *why = len ? wn_json_lexical_problem(body, len) : NULL;
    if (why) { /* what cJSON would blur (docs/PROTOCOL.md §2) */
        snprintf(detail, WN_DETAIL_MAX, "JSON text: %s", why);
        return NULL;
    }
    cJSON *j = len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
    if (!j) {
        snprintf(detail, WN_DETAIL_MAX, "not valid JSON");
        return NULL;
    }
    for (const char *p = end; p < body + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            snprintf(detail, WN_DETAIL_MAX, "unexpected data after the JSON value");
            cJSON_Delete(j);
            return NULL;
        }
    if (!cJSON_IsObject(j)) {
        snprintf(detail, WN_DETAIL_MAX, "expected a JSON object");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

void wn_certs_post(wn_node *n, int kind, const char *content_type, const char *body, size_t len, wn_response *out)
{
    char detail[WN_DETAIL_MAX] = "";
    int type, rc = WN_NE_OK;
    if (wn_parse_media_type(content_type, 0, &type) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_UNSUPPORTED_MEDIA, "send application/json");
        return;
    }
    cJSON *j = parse_body(body, len, detail);
    if (!j) {
        wn_reply_error(out, WN_NE_MALFORMED_JSON, detail);
        return;
    }
    wn_certificate c;
    wn_cert_op op;
    uint8_t record[WN_CERTIFICATE_MAX_LEN];
    size_t rlen = 0;
    uint8_t entry_type;
    if (kind == WN_CERTS_ISSUE) {
        entry_type = WN_ENTRY_CERTIFICATE;
        if (wn_certificate_from_cjson(&c, j, detail, sizeof detail) != WN_CERT_OK) rc = WN_NE_MALFORMED_RECORD;
        else if (memcmp(c.authority, n->authority, 32) != 0) {
            char want[65];
            wn_hex_encode(want, n->authority, 32);
            rc = fail(detail, WN_NE_BAD_AUTHORITY_SIG, "the certificate names another authority; this node's is %s", want);
        } else if (wn_certificate_verify(&c) != WN_CERT_OK)
            rc = fail(detail, WN_NE_BAD_AUTHORITY_SIG, "the authority's signature does not verify");
        else if (wn_certificate_encode(&c, record, sizeof record, &rlen) != WN_CERT_OK)
            rc = fail(detail, WN_NE_MALFORMED_RECORD, "the certificate does not encode");
    } else {
        int ret = kind == WN_CERTS_RETIRE;
        entry_type = ret ? WN_ENTRY_RETIREMENT : WN_ENTRY_TRANSFER;
        if (wn_cert_op_from_cjson(&op, ret, j, detail, sizeof detail) != WN_CERT_OK) rc = WN_NE_MALFORMED_RECORD;
        else if (wn_cert_op_verify(&op) != WN_CERT_OK)
            rc = fail(detail, WN_NE_BAD_SIGNATURE, "the holder's signature does not verify");
        else if (wn_cert_op_encode(&op, record, sizeof record, &rlen) != WN_CERT_OK)
            rc = fail(detail, WN_NE_MALFORMED_RECORD, "the record does not encode");
    }
    cJSON_Delete(j);
    if (rc != WN_NE_OK) {
        wn_reply_error(out, rc, detail);
        return;
    }

    wn_certs *s = n->certs;
    pthread_mutex_lock(&s->decide);
    rc = kind == WN_CERTS_ISSUE ? decide_certificate(n, &c, detail) : decide_op(n, &op, detail);
    wn_job job = {.kind = WN_JOB_ENTRY, .entry_type = entry_type, .record = record, .record_len = rlen};
    if (rc == WN_NE_OK) {
        wn_committer_run(n->committer, &job);
        rc = job.err;
        if (rc != WN_NE_OK) snprintf(detail, sizeof detail, "%s", job.detail);
    }
    uint64_t balance = 0;
    if (rc == WN_NE_OK) {
        uint8_t entry[WN_ENTRY_TIMED_HEADER + WN_CERTIFICATE_MAX_LEN], chain[32];
        size_t elen = 0;
        if (wn_ledger_get(n->ledger, job.index, entry, sizeof entry, &elen, NULL, chain) != WN_LEDGER_OK) {
            memset(chain, 0, 32); /* the env will not match the ledger and is rebuilt at the next start */
            entry[0] = entry_type;
            memcpy(entry + 1, record, rlen);
            elen = 1 + rlen;
        }
        if (!wn_certs_apply(s, job.index, entry, elen, chain))
            wn_log("certs: entry %llu is in the ledger but could not be applied; restart the node to rebuild",
                   (unsigned long long)job.index);
        if (kind != WN_CERTS_ISSUE) {
            const wn_cert_rec *r = wn_certs_find(s, op.cert_index);
            const wn_holding *h = r ? wn_certs_holding(r, op.from) : NULL;
            balance = h ? h->balance : 0;
        }
        char hx[17];
        wn_hex_encode(hx, kind == WN_CERTS_ISSUE ? c.holder : op.from, 8);
        if (kind == WN_CERTS_ISSUE)
            wn_log("certificate: %s of %llu L for %s at entry %llu", wn_cert_purpose_name(c.purpose),
                   (unsigned long long)c.volume_l, hx, (unsigned long long)job.index);
        else
            wn_log("certificate %llu: %s of %llu L by %s at entry %llu", (unsigned long long)op.cert_index,
                   kind == WN_CERTS_RETIRE ? "retirement" : "transfer", (unsigned long long)op.volume_l, hx,
                   (unsigned long long)job.index);
    }
    pthread_mutex_unlock(&s->decide);
    if (rc != WN_NE_OK) {
        wn_reply_error(out, rc, detail);
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    char t[25];
    wn_time_format(t, job.commit_ms);
    wn_buf_printf(&b, "{\"index\":%llu,\"leaf\":", (unsigned long long)job.index);
    wn_buf_json_hex(&b, job.leaf, 32);
    wn_buf_printf(&b, ",\"commit_time\":\"%s\"", t);
    if (kind != WN_CERTS_ISSUE) wn_buf_printf(&b, ",\"balance_l\":%llu", (unsigned long long)balance);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- GET ---- */

void wn_certs_get(wn_node *n, uint64_t index, wn_query_get get, void *ctx, wn_response *out)
{
    wn_certs *s = n->certs;
    uint64_t from = 0, limit = WN_CERTS_PAGE;
    const char *fs = get(ctx, "from"), *ls = get(ctx, "limit");
    if ((fs && !wn_parse_u64(fs, UINT64_MAX >> 1, &from)) || (ls && (!wn_parse_u64(ls, WN_CERTS_PAGE, &limit) || !limit))) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "from=N (a position) and limit=1..1000 are decimal numbers");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    pthread_rwlock_rdlock(&s->lock);
    const wn_cert_rec *r = wn_certs_find(s, index);
    if (!r) {
        pthread_rwlock_unlock(&s->lock);
        wn_buf_free(&b);
        wn_reply_error(out, WN_NE_UNKNOWN_CERTIFICATE, "no certificate at that ledger index");
        return;
    }
    char json[WN_CERTIFICATE_JSON_MAX];
    if (wn_certificate_to_json(&r->c, json, sizeof json, NULL) != WN_CERT_OK) strcpy(json, "null");
    uint64_t outstanding = 0;
    for (size_t i = 0; i < r->n_holders; i++) outstanding += r->holders[i].balance;
    wn_buf_printf(&b, "{\"index\":%llu,\"certificate\":%s,\"balance_l\":%llu,\"retired_l\":%llu,\"next_op\":%llu,"
                      "\"expired\":%s,\"holders\":[",
                  (unsigned long long)r->index, json, (unsigned long long)outstanding, (unsigned long long)r->retired,
                  (unsigned long long)(r->n_ops + 1), wn_now_ms() >= r->c.valid_until_ms ? "true" : "false");
    /* one page of each list: [from, from + limit) */
    for (uint64_t i = from; i < r->n_holders && i - from < limit; i++) {
        wn_buf_str(&b, i > from ? ",{\"key\":" : "{\"key\":");
        wn_buf_json_hex(&b, r->holders[i].key, 32);
        wn_buf_printf(&b, ",\"balance_l\":%llu}", (unsigned long long)r->holders[i].balance);
    }
    wn_buf_str(&b, "],\"operations\":[");
    for (uint64_t i = from; i < r->n_ops && i - from < limit; i++)
        wn_buf_printf(&b, "%s{\"index\":%llu,\"type\":\"%s\"}", i > from ? "," : "", (unsigned long long)r->ops[i].index,
                      r->ops[i].type == WN_ENTRY_TRANSFER ? "transfer" : "retirement");
    wn_buf_str(&b, "],\"holders_next\":");
    if (from + limit < r->n_holders) wn_buf_printf(&b, "%llu", (unsigned long long)(from + limit));
    else wn_buf_str(&b, "null");
    wn_buf_str(&b, ",\"operations_next\":");
    if (from + limit < r->n_ops) wn_buf_printf(&b, "%llu", (unsigned long long)(from + limit));
    else wn_buf_str(&b, "null");
    wn_buf_str(&b, "}");
    pthread_rwlock_unlock(&s->lock);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- GET /v1/project/certificates ---- */

void wn_certs_project(wn_node *n, const char *id, wn_response *out)
{
    wn_certs *s = n->certs;
    size_t len = id ? strlen(id) : 0;
    if (!len || len > WN_CERT_PROJECT_MAX || !wn_text_ok(id, len)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "give ?id=PROJECT (1..200 bytes, URL-encoded)");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"project\":");
    wn_buf_json_str(&b, id);
    wn_buf_str(&b, ",\"certificates\":[");
    size_t found = 0;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t k = 0; k < s->n && found <= WN_CERTS_PROJECT_MAX; k++) {
        const wn_cert_rec *r = &s->recs[k];
        if (strcmp(r->c.project, id) != 0) continue;
        char json[WN_CERTIFICATE_JSON_MAX];
        if (wn_certificate_to_json(&r->c, json, sizeof json, NULL) != WN_CERT_OK) continue;
        if (++found > WN_CERTS_PROJECT_MAX) break;
        wn_buf_printf(&b, "%s{\"index\":%llu,\"certificate\":%s}", found > 1 ? "," : "", (unsigned long long)r->index,
                      json);
    }
    pthread_rwlock_unlock(&s->lock);
    if (found > WN_CERTS_PROJECT_MAX) {
        wn_buf_free(&b);
        wn_reply_error(out, WN_NE_INTERNAL, "the project has more certificates than one answer holds");
        return;
    }
    wn_buf_str(&b, "]}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}
