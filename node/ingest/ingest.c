/* ingest.c — POST /v1/readings: decode the body, check each reading's meter (enrolled,
 * not revoked) and signature here in the HTTP thread, hand the survivors to the committer
 * for the order-dependent checks and the durable append, and answer one result per
 * reading with a notary receipt for the accepted and duplicate ones (PROTOCOL §9).
 * Signatures of a large request are verified on two threads. Receipts are not signed
 * here: each is the signed head of its commit (one signature per group commit, made by
 * the committer) and the reading's Merkle path inside the commit (receipts.h).
 * Per reading the meter's key is not parsed again: readings of enrolled meters are decoded
 * without the id's point check and verified with the key parsed at enrolment (meter.h).
 *
 * Receipt heads are signed deterministically (BIP-340 with a fixed auxiliary input): the
 * node keeps just each commit's range and time, and a resent reading gets a byte-identical
 * copy of its receipt. */
#include "node/ingest/ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "crypto/verifier.h"
#include "ledger/entry.h"
#include "protocol/enrolment.h"
#include "node/http/errors.h"
#include "node/ingest/helpers.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/monitor/monitor.h"

#define PARALLEL_MIN 64 /* requests with at least this many readings use two threads */
#define PIECE 4         /* readings a thread claims at a time (helpers.h) */

/* One reading's result while the request is answered. */
typedef struct {
    int err;
    const char *detail;        /* points into a parsed item or job reading */
    wn_job_reading *jr;        /* the committer's result (NULL if rejected before) */
    char own_detail[WN_DETAIL_MAX];
} result;

/* A request's readings and the work to do on each, shared by two threads. */
typedef struct {
    wn_node *n;
    wn_parsed_batch *b;
    result *res;
    void (*work)(wn_node *n, const wn_parsed_reading *it, result *res);
} span;

static const char *alg_name(unsigned alg)
{
    return wn_alg_name(alg) ? wn_alg_name(alg) : "unknown";
}

/* The checks before the committer: enrolled, not revoked, a meter (not a certifier's key),
 * signature (PROTOCOL §9 order). */
static void precheck(wn_node *n, const wn_parsed_reading *it, result *res)
{
    if (it->err != WN_NE_OK) {
        res->err = it->err;
        res->detail = it->detail;
        return;
    }
    wn_meter m;
    if (!wn_state_get(n->state, it->r.meter, &m, NULL, 0)) {
        res->err = WN_NE_UNKNOWN_METER;
        res->detail = "the meter is not enrolled";
        return;
    }
    if (m.revoked) {
        res->err = WN_NE_REVOKED_METER;
        snprintf(res->own_detail, sizeof res->own_detail, "the meter was revoked at entry %llu",
                 (unsigned long long)m.revoke_index);
        res->detail = res->own_detail;
        return;
    }
    if (m.point < WN_POINT_INTAKE || m.point > WN_POINT_RECYCLING) {
        res->err = WN_NE_NOT_A_METER;
        snprintf(res->own_detail, sizeof res->own_detail,
                 "the key is enrolled at entry %llu as a %s, not at a metering point; only meters push readings",
                 (unsigned long long)m.enrol_index, wn_point_name(m.point) ? wn_point_name(m.point) : "non-meter");
        res->detail = res->own_detail;
        return;
    }
    if (it->r.alg != m.alg) {
        res->err = WN_NE_BAD_SIGNATURE;
        snprintf(res->own_detail, sizeof res->own_detail, "signed with %s, but the meter is enrolled with a %s key",
                 alg_name(it->r.alg), alg_name(m.alg));
        res->detail = res->own_detail;
        return;
    }
    /* The enrolled key was parsed once (m.key); the fields were checked when decoding, and
     * the key is the meter id's (BIP-340) or an enrolled compressed key whose x is the id. */
    int v;
    if (m.key.alg == m.alg) {
        uint8_t d[32];
        wn_reading_signing_digest(&it->r, d);
        v = wn_verifier_verify(&m.key, it->r.sig, d) ? WN_READING_OK : WN_READING_ESIG;
    } else { /* a key that did not parse (meter.h): the full check from the key bytes */
        v = m.alg == WN_ALG_BIP340 ? wn_reading_verify(&it->r, m.meter, 32) : wn_reading_verify(&it->r, m.pubkey, 33);
    }
    if (v != WN_READING_OK) {
        res->err = WN_NE_BAD_SIGNATURE;
        res->detail = "the signature does not verify with the meter's enrolled key";
        return;
    }
    if (it->r.time_ms < m.enrol_time) { /* a reading no enrolled meter made: back-dated data */
        char a[25], b[25];
        wn_time_format(a, it->r.time_ms);
        wn_time_format(b, m.enrol_time);
        res->err = WN_NE_BEFORE_ENROLMENT;
        snprintf(res->own_detail, sizeof res->own_detail,
                 "the reading is dated %s, before its meter's enrolment at %s (entry %llu)", a, b,
                 (unsigned long long)m.enrol_index);
        res->detail = res->own_detail;
        return;
    }
    res->err = WN_NE_OK;
}

/* For the decoder (parse.h): an enrolled meter's id is a key checked at enrolment. */
static int meter_known(void *ctx, const uint8_t meter[32])
{
    wn_meter m;
    return wn_state_get(((wn_node *)ctx)->state, meter, &m, NULL, 0);
}

static void span_run(void *arg, size_t from, size_t to)
{
    span *s = arg;
    for (size_t i = from; i < to; i++) s->work(s->n, &s->b->items[i], &s->res[i]);
}

/* Runs work on every reading; a large request is shared, PIECE readings at a time, by this
 * thread and a helper (helpers.h: started once, so their key caches stay warm). */
static void for_all(wn_node *n, wn_parsed_batch *b, result *res, void (*work)(wn_node *, const wn_parsed_reading *, result *))
{
    span all = {n, b, res, work};
    if (b->n >= PARALLEL_MIN) wn_helpers_for(span_run, &all, b->n, PIECE);
    else span_run(&all, 0, b->n);
}

/* Takes the committer's result for a reading handed to it. */
static void take_result(result *res)
{
    if (!res->jr) return;
    res->err = res->jr->err;
    res->detail = res->jr->detail;
}

/* The receipt of an accepted or duplicate reading: version 2 cut from its commit's signed
 * head (no signature here), or version 1, signed deterministically, for a resent reading
 * first answered in that form. Either way a resend gets the same bytes. Returns: 1 on success. */
static int make_receipt(wn_node *n, const wn_job_reading *jr, wn_receipt *rc)
{
    memset(rc, 0, sizeof *rc);
    if (jr->receipts) return wn_commit_receipts_get(jr->receipts, jr->index, rc);
    rc->index = jr->index;
    rc->time_ms = jr->time_ms;
    memcpy(rc->leaf, jr->leaf, 32);
    return wn_receipt_sign_with(rc, &n->notary_signer);
}

static void write_result(wn_node *n, wn_buf *out, const wn_parsed_reading *it, result *res)
{
    char json[WN_RECEIPT_JSON_MAX];
    if (res->err == WN_NE_OK || res->err == WN_NE_REPLAY) {
        wn_receipt rc;
        if (!make_receipt(n, res->jr, &rc) || !wn_receipt_to_json(&rc, json, sizeof json)) {
            res->err = WN_NE_INTERNAL;
            res->detail = "the receipt could not be made (the reading is in the ledger)";
        }
    }
    wn_buf_str(out, "{\"meter\":");
    if (it->has_meter) wn_buf_json_hex(out, it->meter, 32);
    else wn_buf_str(out, "null");
    if (it->has_seq) wn_buf_printf(out, ",\"seq\":%llu", (unsigned long long)it->seq);
    else wn_buf_str(out, ",\"seq\":null");
    if (res->err == WN_NE_OK || res->err == WN_NE_REPLAY) {
        if (res->err == WN_NE_OK) {
            wn_buf_str(out, ",\"status\":\"accepted\",\"receipt\":");
        } else {
            wn_buf_str(out, ",\"status\":\"duplicate\",");
            wn_reply_error_fields(out, WN_NE_REPLAY, res->detail);
            wn_buf_str(out, ",\"receipt\":");
        }
        wn_buf_str(out, json);
        wn_buf_str(out, "}");
        return;
    }
    wn_buf_str(out, ",\"status\":\"rejected\",");
    wn_reply_error_fields(out, res->err, res->detail);
    wn_buf_str(out, "}");
}

/* A request between its checks and its answer: waiting for the committer. */
struct wn_ingest_pending {
    wn_node *n;
    wn_parsed_batch b;
    result *res;
    wn_job_reading *jrs;
    wn_job job;
    void (*done)(void *ctx);
    void *ctx;
};

static void job_done(void *ctx, wn_job *job)
{
    (void)job;
    wn_ingest_pending *p = ctx;
    p->done(p->ctx);
}

/* Signs the receipts, writes the answer and frees p. */
static void answer(wn_ingest_pending *p, wn_response *out)
{
    wn_node *n = p->n;
    wn_parsed_batch b = p->b;
    result *res = p->res;
    wn_job_reading *jrs = p->jrs;
    size_t njobs = p->job.n; /* readings handed to the committer: jrs[0 .. njobs) */
    free(p);
    wn_buf o;
    wn_buf_init(&o);
    wn_buf_str(&o, "{");
    size_t head = o.len; /* a single rejected reading puts its error here */
    wn_buf_str(&o, "\"results\":[");
    int any_internal = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (i) wn_buf_str(&o, ",");
        take_result(&res[i]);
        write_result(n, &o, &b.items[i], &res[i]);
        wn_metrics_reading(res[i].err);
        if (res[i].err == WN_NE_SEQUENCE_GAP && n->monitor) /* an alert for the bureau (monitor.h) */
            wn_monitor_sequence_gap(n->monitor, b.items[i].r.meter, b.items[i].r.seq, wn_now_ms());
        any_internal |= res[i].err == WN_NE_INTERNAL;
    }
    wn_buf_str(&o, "]}");
    unsigned status = any_internal ? 500 : 200;
    if (b.single && res[0].err != WN_NE_OK && res[0].err != WN_NE_REPLAY && !o.oom) {
        wn_buf e;
        wn_buf_init(&e);
        wn_reply_error_fields(&e, res[0].err, res[0].detail);
        wn_buf_str(&e, ",");
        wn_buf_add(&e, o.p + head, o.len - head);
        o.len = head;
        wn_buf_add(&o, e.p, e.len);
        if (e.oom) o.oom = 1;
        wn_buf_free(&e);
        status = wn_nerr_status(res[0].err);
    }
    wn_reply_buf(out, status, WN_TYPE_JSON, &o);
    for (size_t i = 0; i < njobs; i++) wn_commit_receipts_release(jrs[i].receipts);
    free(res);
    free(jrs);
    wn_parsed_batch_free(&b);
}

int wn_ingest_readings_start(wn_node *n, const char *content_type, const char *body, size_t len,
                             void (*done)(void *ctx), void *ctx, wn_ingest_pending **pending, wn_response *out)
{
    *pending = NULL;
    int kind;
    char detail[WN_DETAIL_MAX] = "";
    if (wn_parse_media_type(content_type, 1, &kind) != WN_NE_OK) {
        snprintf(detail, sizeof detail, "send application/json or %s", WN_BINARY_TYPE);
        wn_reply_error(out, WN_NE_UNSUPPORTED_MEDIA, detail);
        return 0;
    }
    wn_parsed_batch b;
    int rc = wn_parse_readings_known(&b, body, len, kind, meter_known, n, detail, sizeof detail);
    if (rc != WN_NE_OK) {
        wn_parsed_batch_free(&b);
        wn_reply_error(out, rc, detail);
        return 0;
    }
    wn_metrics_request_readings(b.n);
    wn_ingest_pending *p = calloc(1, sizeof *p);
    result *res = calloc(b.n ? b.n : 1, sizeof *res);
    wn_job_reading *jrs = calloc(b.n ? b.n : 1, sizeof *jrs);
    if (!p || !res || !jrs) {
        free(p);
        free(res);
        free(jrs);
        wn_parsed_batch_free(&b);
        wn_reply_error(out, WN_NE_INTERNAL, "out of memory");
        return 0;
    }
    *p = (wn_ingest_pending){.n = n, .b = b, .res = res, .jrs = jrs, .done = done, .ctx = ctx};
    for_all(n, &p->b, res, precheck);

    wn_job *job = &p->job;
    job->kind = WN_JOB_READINGS;
    job->readings = jrs;
    for (size_t i = 0; i < b.n; i++) {
        if (res[i].err != WN_NE_OK) continue;
        wn_job_reading *jr = &jrs[job->n++];
        jr->r = &p->b.items[i].r;
        jr->bytes = p->b.items[i].bytes;
        jr->len = p->b.items[i].len;
        wn_sha256(jr->digest, jr->bytes, jr->len);
        res[i].jr = jr;
    }
    if (job->n && done) {
        job->on_done = job_done;
        job->on_done_ctx = p;
        *pending = p; /* before the committer can call done */
        if (wn_committer_submit(n->committer, job)) return 1;
        *pending = NULL;
    } else if (job->n) {
        wn_committer_run(n->committer, job);
    }
    answer(p, out);
    return 0;
}

void wn_ingest_readings_finish(wn_ingest_pending *pending, wn_response *out)
{
    answer(pending, out);
}

void wn_ingest_readings(wn_node *n, const char *content_type, const char *body, size_t len, wn_response *out)
{
    wn_ingest_pending *p;
    wn_ingest_readings_start(n, content_type, body, len, NULL, NULL, &p, out);
}
