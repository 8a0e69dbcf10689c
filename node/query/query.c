/* query.c — the read side of PROTOCOL §9: checkpoints, entries, inclusion and consistency
 * proof files, meter status, the node's keys, health and metrics. Everything is read from
 * the ledger (committed data only) or the node state; nothing here writes. */
#include "node/query/query.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/certificate.h"
#include "protocol/accreditation.h"
#include "protocol/calibration.h"
#include "protocol/enterprise.h"
#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "ledger/proof_file.h"
#include "ledger/tlog/checkpoint_sm2.h"
#include "node/authorize.h"
#include "node/http/errors.h"
#include "node/metrics.h"

#define ENTRY_BUF 4096
#define WN_METER_ALERTS_PAGE 100 /* alerts in one GET /v1/meters/HEX answer (the maximum of limit) */

static void ledger_error(wn_response *out, int err, const char *what)
{
    char d[WN_DETAIL_MAX];
    snprintf(d, sizeof d, "%s: %s", what, wn_ledger_strerror(err));
    wn_reply_error(out, WN_NE_INTERNAL, d);
}

/* Reads entry index into a malloc'd buffer. Returns: a ledger error. */
static int read_entry(wn_node *n, uint64_t index, uint8_t **entry, size_t *len, uint8_t leaf[32], uint8_t chain[32])
{
    size_t cap = ENTRY_BUF;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (!buf) return WN_LEDGER_EIO;
        int err = wn_ledger_get(n->ledger, index, buf, cap, len, leaf, chain);
        if (err == WN_LEDGER_OK) {
            *entry = buf;
            return err;
        }
        free(buf);
        if (err != WN_LEDGER_ESPACE) return err;
        cap = *len;
    }
    return WN_LEDGER_ESPACE;
}

static void checkpoint(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    uint64_t size;
    if (wn_parse_checkpoint_query(get, ctx, &size, d, sizeof d) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    int err = wn_ledger_get_checkpoint(n->ledger, size, note, sizeof note, &len, NULL);
    if (err == WN_LEDGER_ENOTFOUND) {
        if (size) snprintf(d, sizeof d, "no checkpoint of size %llu is stored", (unsigned long long)size);
        else snprintf(d, sizeof d, "no checkpoint has been signed yet");
        wn_reply_error(out, WN_NE_NOT_FOUND, d);
        return;
    }
    if (err) {
        ledger_error(out, err, "reading the checkpoint");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_add(&b, note, len);
    wn_reply_buf(out, 200, WN_TYPE_TEXT, &b);
}

static void reading_json(wn_buf *b, const uint8_t *p, size_t len)
{
    wn_reading r;
    char json[4096];
    size_t jl;
    if (wn_reading_decode(&r, p, len) == WN_READING_OK && wn_reading_to_json(&r, json, sizeof json, &jl) == WN_READING_OK)
        wn_buf_add(b, json, jl);
    else
        wn_buf_str(b, "null");
}

static void entry(wn_node *n, uint64_t index, wn_response *out)
{
    uint8_t *e, leaf[32], chain[32];
    size_t len;
    int err = read_entry(n, index, &e, &len, leaf, chain);
    if (err == WN_LEDGER_ENOTFOUND || err == WN_LEDGER_ERANGE) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "no entry with that index");
        return;
    }
    if (err) {
        ledger_error(out, err, "reading the entry");
        return;
    }
    static const char *const names[] = {NULL, "reading", "enrolment", "revocation", "equivocation",
                                        "certificate", "transfer", "retirement", "enterprise", "accreditation", "calibration"};
    wn_entry_view v;
    int parsed = wn_entry_parse(&v, e, len) == WN_ENTRY_OK;
    unsigned type = parsed ? v.kind : 0;
    const uint8_t *p = v.payload;
    size_t pl = v.len;
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_printf(&b, "{\"index\":%llu,\"type\":", (unsigned long long)index);
    if (parsed && type < sizeof names / sizeof names[0]) wn_buf_json_str(&b, names[type]);
    else wn_buf_printf(&b, "%u", len ? e[0] : 0u);
    if (parsed && v.timed) {
        char t[32];
        wn_time_format(t, v.commit_ms);
        wn_buf_printf(&b, ",\"commit_time\":\"%s\",\"late\":%s", t, (v.marks & WN_ENTRY_MARK_LATE) ? "true" : "false");
    }
    char *b64 = malloc(WN_B64_LEN(len) + 1);
    if (!b64) b.oom = 1;
    else {
        wn_base64_encode(b64, e, len);
        wn_buf_str(&b, ",\"entry\":\"");
        wn_buf_str(&b, b64);
        wn_buf_str(&b, "\"");
        free(b64);
    }
    wn_buf_str(&b, ",\"leaf\":");
    wn_buf_json_hex(&b, leaf, 32);
    wn_buf_str(&b, ",\"chain\":");
    wn_buf_json_hex(&b, chain, 32);
    char json[2048];
    size_t jl;
    if (type == WN_ENTRY_READING) {
        wn_buf_str(&b, ",\"reading\":");
        reading_json(&b, p, pl);
    } else if (type == WN_ENTRY_ENROLMENT) {
        wn_enrolment en;
        wn_buf_str(&b, ",\"enrolment\":");
        if (wn_enrolment_decode(&en, p, pl) == WN_ENROL_OK &&
            wn_enrolment_to_json(&en, json, sizeof json, &jl) == WN_ENROL_OK)
            wn_buf_add(&b, json, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_REVOCATION) {
        wn_revocation rv;
        wn_buf_str(&b, ",\"revocation\":");
        if (wn_revocation_decode(&rv, p, pl) == WN_ENROL_OK &&
            wn_revocation_to_json(&rv, json, sizeof json, &jl) == WN_ENROL_OK)
            wn_buf_add(&b, json, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_EQUIVOCATION && pl >= 8) {
        wn_buf_printf(&b, ",\"equivocation\":{\"original_index\":%llu,\"reading\":",
                      (unsigned long long)wn_get_u64(p));
        reading_json(&b, p + 8, pl - 8);
        wn_buf_str(&b, "}");
    } else if (type == WN_ENTRY_CERTIFICATE) {
        wn_certificate c;
        char cj[WN_CERTIFICATE_JSON_MAX];
        wn_buf_str(&b, ",\"certificate\":");
        if (wn_certificate_decode(&c, p, pl) == WN_CERT_OK &&
            wn_certificate_to_json(&c, cj, sizeof cj, &jl) == WN_CERT_OK)
            wn_buf_add(&b, cj, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_ENTERPRISE) {
        wn_enterprise er;
        wn_buf_str(&b, ",\"enterprise\":");
        if (wn_enterprise_decode(&er, p, pl) == WN_ENT_OK &&
            wn_enterprise_to_json(&er, json, sizeof json, &jl) == WN_ENT_OK)
            wn_buf_add(&b, json, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_ACCREDITATION) {
        wn_accreditation ar;
        char aj[WN_ACCREDITATION_JSON_MAX];
        wn_buf_str(&b, ",\"accreditation\":");
        if (wn_accreditation_decode(&ar, p, pl) == WN_ENT_OK &&
            wn_accreditation_to_json(&ar, aj, sizeof aj, &jl) == WN_ENT_OK)
            wn_buf_add(&b, aj, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_CALIBRATION) {
        wn_calibration cr;
        char cj[WN_CALIBRATION_JSON_MAX];
        wn_buf_str(&b, ",\"calibration\":");
        if (wn_calibration_decode(&cr, p, pl) == WN_ENT_OK && wn_calibration_to_json(&cr, cj, sizeof cj, &jl) == WN_ENT_OK)
            wn_buf_add(&b, cj, jl);
        else
            wn_buf_str(&b, "null");
    } else if (type == WN_ENTRY_TRANSFER || type == WN_ENTRY_RETIREMENT) {
        wn_cert_op op;
        wn_buf_printf(&b, ",\"%s\":", names[type]);
        if (wn_cert_op_decode(&op, type == WN_ENTRY_RETIREMENT, p, pl) == WN_CERT_OK &&
            wn_cert_op_to_json(&op, json, sizeof json, &jl) == WN_CERT_OK)
            wn_buf_add(&b, json, jl);
        else
            wn_buf_str(&b, "null");
    }
    wn_buf_str(&b, "}");
    free(e);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* The stored checkpoint of size `size`, or the latest (size 0). Replies and returns 0 if none. */
static int get_checkpoint(wn_node *n, uint64_t size, char *note, size_t cap, size_t *len, uint64_t *found,
                          wn_response *out)
{
    char d[WN_DETAIL_MAX];
    int err = wn_ledger_get_checkpoint(n->ledger, size, note, cap, len, found);
    if (err == WN_LEDGER_OK) return 1;
    if (err == WN_LEDGER_ENOTFOUND) {
        if (size) {
            snprintf(d, sizeof d, "no checkpoint of size %llu is stored", (unsigned long long)size);
            wn_reply_error(out, WN_NE_NOT_FOUND, d);
        } else {
            wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, "no checkpoint has been signed yet");
        }
    } else {
        ledger_error(out, err, "reading the checkpoint");
    }
    return 0;
}

/* The stored checkpoint of size `size`, or, if none of that size is stored, one signed now
 * for the tree's first `size` entries (a true statement whenever it is made, so a client
 * holding a checkpoint of that size from anywhere can compare roots). Replies and returns
 * 0 on failure. */
static int old_checkpoint(wn_node *n, uint64_t size, char *note, size_t cap, size_t *len, wn_response *out)
{
    int err = wn_ledger_get_checkpoint(n->ledger, size, note, cap, len, NULL);
    if (err == WN_LEDGER_OK) return 1;
    if (err != WN_LEDGER_ENOTFOUND) {
        ledger_error(out, err, "reading the checkpoint");
        return 0;
    }
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", n->origin);
    cp.size = size;
    cp.has_time = size > 0 && wn_entry_commit_time_at(n->ledger, size - 1, &cp.time_ms); /* PROTOCOL §4 */
    if ((err = wn_ledger_root(n->ledger, size, cp.root))) {
        ledger_error(out, err, "computing the old root");
        return 0;
    }
    int cerr = wn_checkpoint_sign(&cp, n->notary_sk, note, cap, len);
    if (cerr == WN_CHECKPOINT_OK && n->has_sm2) { /* co-signed as the checkpointer's notes are */
        char bip[WN_CHECKPOINT_MAX + 1];
        memcpy(bip, note, *len + 1);
        cerr = wn_checkpoint_cosign_sm2(bip, *len, n->notary_sm2_sk, note, cap, len);
    }
    if (cerr != WN_CHECKPOINT_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, wn_checkpoint_strerror(cerr));
        return 0;
    }
    return 1;
}

static void proof_inclusion(wn_node *n, const wn_principal *who, wn_query_get get, void *ctx, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    wn_incl_query q;
    if (wn_parse_incl_query(get, ctx, &q, d, sizeof d) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    uint64_t index = q.index, size;
    int err;
    if (q.by_meter) {
        err = wn_ledger_find(n->ledger, q.meter, q.seq, &index);
        if (err == WN_LEDGER_ENOTFOUND) {
            snprintf(d, sizeof d, "the meter has no reading with sequence %llu", (unsigned long long)q.seq);
            wn_reply_error(out, WN_NE_NOT_FOUND, d);
            return;
        }
        if (err) {
            ledger_error(out, err, "looking up the reading");
            return;
        }
    }
    if ((err = wn_ledger_size(n->ledger, &size))) {
        ledger_error(out, err, "reading the ledger size");
        return;
    }
    if (index >= size) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "no entry with that index");
        return;
    }
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nlen;
    uint64_t cps;
    if (!get_checkpoint(n, q.size, note, sizeof note, &nlen, &cps, out)) return;
    if (cps <= index) {
        snprintf(d, sizeof d, "the %s checkpoint (size %llu) does not cover entry %llu yet", q.size ? "requested" : "latest",
                 (unsigned long long)cps, (unsigned long long)index);
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, d);
        return;
    }
    uint8_t proof[WN_MERKLE_MAX_PROOF][32], *e;
    size_t plen, elen;
    if ((err = wn_ledger_prove_inclusion(n->ledger, index, cps, proof, &plen))) {
        ledger_error(out, err, "building the proof");
        return;
    }
    if ((err = read_entry(n, index, &e, &elen, NULL, NULL))) {
        ledger_error(out, err, "reading the entry");
        return;
    }
    char *text = NULL;
    size_t tlen = 0;
    /* the entry's bytes only to who may see them: a hash-only proof for everyone else,
     * who verifies it with the entry they hold */
    int show = q.by_meter || wn_access_may_see_entry(n, who, e, elen);
    int perr = wn_incl_proof_format(&text, &tlen, show ? e : NULL, show ? elen : 0, index, (const uint8_t(*)[32])proof, plen, note, nlen);
    free(e);
    if (perr != WN_PROOF_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, wn_proof_strerror(perr));
        return;
    }
    out->status = 200;
    out->type = WN_TYPE_TEXT;
    out->body = text;
    out->len = tlen;
}

static void proof_consistency(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    uint64_t from, to;
    if (wn_parse_cons_query(get, ctx, &from, &to, d, sizeof d) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    char old_cp[WN_CHECKPOINT_MAX + 1], new_cp[WN_CHECKPOINT_MAX + 1];
    size_t old_len, new_len;
    uint64_t old_size = from, new_size;
    if (!get_checkpoint(n, to, new_cp, sizeof new_cp, &new_len, &new_size, out)) return;
    if (from <= new_size && !old_checkpoint(n, from, old_cp, sizeof old_cp, &old_len, out)) return;
    if (new_size < old_size) {
        snprintf(d, sizeof d, "the latest checkpoint (size %llu) is older than size %llu", (unsigned long long)new_size,
                 (unsigned long long)old_size);
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    int err = wn_ledger_prove_consistency(n->ledger, old_size, new_size, proof, &plen);
    if (err) {
        ledger_error(out, err, "building the proof");
        return;
    }
    char *text = NULL;
    size_t tlen = 0;
    int perr = wn_cons_proof_format(&text, &tlen, (const uint8_t(*)[32])proof, plen, old_cp, old_len, new_cp, new_len);
    if (perr != WN_PROOF_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, wn_proof_strerror(perr));
        return;
    }
    out->status = 200;
    out->type = WN_TYPE_TEXT;
    out->body = text;
    out->len = tlen;
}

/* Appends the JSON of the record in entry index (enrolment or revocation), or null. */
static void record_json(wn_node *n, wn_buf *b, uint64_t index, int revocation)
{
    uint8_t *e;
    size_t len;
    char json[2048];
    size_t jl = 0;
    int ok = 0;
    if (read_entry(n, index, &e, &len, NULL, NULL) == WN_LEDGER_OK) {
        wn_entry_view v;
        int parsed = wn_entry_parse(&v, e, len) == WN_ENTRY_OK && v.len > 0;
        if (parsed && !revocation && v.kind == WN_ENTRY_ENROLMENT) {
            wn_enrolment en;
            ok = wn_enrolment_decode(&en, v.payload, v.len) == WN_ENROL_OK &&
                 wn_enrolment_to_json(&en, json, sizeof json, &jl) == WN_ENROL_OK;
        } else if (parsed && revocation && v.kind == WN_ENTRY_REVOCATION) {
            wn_revocation rv;
            ok = wn_revocation_decode(&rv, v.payload, v.len) == WN_ENROL_OK &&
                 wn_revocation_to_json(&rv, json, sizeof json, &jl) == WN_ENROL_OK;
        }
        free(e);
    }
    if (ok) wn_buf_add(b, json, jl);
    else wn_buf_str(b, "null");
}

static void meter_status(wn_node *n, const uint8_t meter[32], wn_query_get get, void *ctx, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    uint64_t from = 0, limit = WN_METER_ALERTS_PAGE;
    const char *fs = get(ctx, "from"), *ls = get(ctx, "limit");
    if ((fs && !wn_parse_u64(fs, UINT64_MAX, &from)) || (ls && (!wn_parse_u64(ls, WN_METER_ALERTS_PAGE, &limit) || !limit))) {
        snprintf(d, sizeof d, "from=N (an alert's position) and limit=1..%d are decimal numbers", WN_METER_ALERTS_PAGE);
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    wn_meter m;
    wn_alert alerts[WN_METER_ALERTS_PAGE];
    size_t got;
    uint64_t unrecorded;
    if (!wn_state_get_page(n->state, meter, &m, (size_t)(from < SIZE_MAX ? from : SIZE_MAX), alerts, (size_t)limit, &got,
                           &unrecorded)) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "the meter is not enrolled");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"meter\":");
    wn_buf_json_hex(&b, meter, 32);
    wn_buf_str(&b, ",\"enrolment\":");
    record_json(n, &b, m.enrol_index, 0);
    wn_buf_printf(&b, ",\"enrolment_index\":%llu,\"revoked\":%s", (unsigned long long)m.enrol_index,
                  m.revoked ? "true" : "false");
    if (m.revoked) {
        wn_buf_printf(&b, ",\"revocation_index\":%llu,\"revocation\":", (unsigned long long)m.revoke_index);
        record_json(n, &b, m.revoke_index, 1);
    } else {
        wn_buf_str(&b, ",\"revocation_index\":null,\"revocation\":null");
    }
    wn_buf_printf(&b, ",\"last_seq\":%llu", (unsigned long long)m.last_seq);
    if (m.last_seq) {
        char t[25];
        wn_time_format(t, m.last_time);
        wn_buf_printf(&b, ",\"last_time\":\"%s\",\"last_index\":%llu", t, (unsigned long long)m.last_index);
    } else {
        wn_buf_str(&b, ",\"last_time\":null,\"last_index\":null");
    }
    wn_buf_str(&b, ",\"alerts\":[");
    for (size_t i = 0; i < got; i++) {
        const wn_alert *a = &alerts[i];
        wn_buf_printf(&b, "%s{\"type\":\"equivocation\",\"seq\":%llu,\"original_index\":%llu,\"evidence_index\":%llu,\"digest\":",
                      i ? "," : "", (unsigned long long)a->seq, (unsigned long long)a->original_index,
                      (unsigned long long)a->evidence_index);
        wn_buf_json_hex(&b, a->digest, 32);
        wn_buf_printf(&b, ",\"unrecorded\":%llu}", (unsigned long long)a->more);
    }
    wn_buf_printf(&b, "],\"alerts_total\":%llu,\"alerts_next\":", (unsigned long long)m.n_alerts);
    if (from + got < m.n_alerts) wn_buf_printf(&b, "%llu", (unsigned long long)(from + got));
    else wn_buf_str(&b, "null");
    wn_buf_printf(&b, ",\"equivocations_unrecorded\":%llu}", (unsigned long long)unrecorded);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

void wn_query(wn_node *n, const wn_principal *who, const wn_route_match *m, wn_query_get get, void *ctx,
              wn_response *out)
{
    wn_buf b;
    wn_buf_init(&b);
    switch (m->route) {
    case WN_ROUTE_CHECKPOINT: checkpoint(n, get, ctx, out); return;
    case WN_ROUTE_ENTRY: entry(n, m->index, out); return;
    case WN_ROUTE_PROOF_INCL: proof_inclusion(n, who, get, ctx, out); return;
    case WN_ROUTE_PROOF_CONS: proof_consistency(n, get, ctx, out); return;
    case WN_ROUTE_METER: meter_status(n, m->meter, get, ctx, out); return;
    case WN_ROUTE_PUBKEY:
        wn_buf_str(&b, "{\"notary\":");
        wn_buf_json_hex(&b, n->notary_pk, 32);
        wn_buf_str(&b, ",\"origin\":");
        wn_buf_json_str(&b, n->origin);
        wn_buf_str(&b, ",\"registrar\":");
        wn_buf_json_hex(&b, n->registrar, 32);
        wn_buf_str(&b, ",\"notary_sm2\":");
        if (n->has_sm2) wn_buf_json_hex(&b, n->notary_sm2_pub, 33);
        else wn_buf_str(&b, "null");
        wn_buf_str(&b, "}");
        wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
        return;
    case WN_ROUTE_HEALTH: {
        uint64_t size;
        int err = wn_ledger_size(n->ledger, &size);
        if (err) {
            ledger_error(out, err, "reading the ledger size");
            return;
        }
        wn_buf_printf(&b, "{\"status\":\"ok\",\"size\":%llu}", (unsigned long long)size);
        wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
        return;
    }
    case WN_ROUTE_METRICS: {
        size_t len;
        char *text = wn_metrics_render(&len);
        if (!text) {
            wn_reply_error(out, WN_NE_INTERNAL, "out of memory");
            return;
        }
        out->status = 200;
        out->type = WN_TYPE_METRICS;
        out->body = text;
        out->len = len;
        return;
    }
    default:
        wn_reply_error(out, WN_NE_NOT_FOUND, "no such path");
        return;
    }
}
