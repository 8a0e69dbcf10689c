/* bundle.c — GET /v1/bundle: one meter's readings over [from, to) with the reading just
 * before and just after, its enrolment, revocation and equivocation evidence, each with an
 * inclusion proof against the latest checkpoint (docs/PROTOCOL.md §13).
 *
 * The readings are found through the ledger's (meter, sequence) index: a meter's times
 * never decrease with its sequence, so the first sequence at or after a time is a binary
 * search over 1 .. last, O(log n) index lookups of O(log n) reads each. The enrolment,
 * revocation and evidence indexes come from the node state. Everything the bundle holds
 * must be covered by the checkpoint, else the answer is not_checkpointed: a bundle is
 * never silently shorter than what the node has accepted. */
#include "node/query/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "node/http/errors.h"

/* Enough for every entry type a bundle carries (timed header 10, then enrolment 400 or
 * evidence 8+325). */
#define ENTRY_CAP 1024

/* ---- query ---- */

int wn_parse_time_param(const char *s, uint64_t *ms)
{
    if (!s) return 0;
    size_t n = strlen(s);
    if (n == 24 && s[4] == '-') return wn_time_parse(s, n, ms);
    return wn_parse_u64(s, WN_READING_MAX_TIME, ms);
}

int wn_parse_bundle_query(wn_query_get get, void *ctx, wn_bundle_query *q, char *detail, size_t cap)
{
    memset(q, 0, sizeof *q);
    const char *meter = get(ctx, "meter"), *from = get(ctx, "from"), *to = get(ctx, "to");
    const char *bad = NULL;
    if (!meter || !wn_parse_hex32(meter, q->meter)) bad = "meter=HEX (64 lowercase hex characters) is required";
    else if (!from || !wn_parse_time_param(from, &q->from_ms))
        bad = "from=TIME is required: RFC 3339 like 2026-03-01T00:00:00.000Z, or milliseconds since 1970";
    else if (!to || !wn_parse_time_param(to, &q->to_ms))
        bad = "to=TIME is required: RFC 3339 like 2026-04-01T00:00:00.000Z, or milliseconds since 1970";
    else if (q->from_ms >= q->to_ms)
        bad = "from must be before to (the period is [from, to))";
    if (bad) {
        if (detail && cap) snprintf(detail, cap, "%s", bad);
        return WN_NE_BAD_REQUEST;
    }
    return WN_NE_OK;
}

/* ---- finding readings by time ---- */

/* Ledger index and time of the meter's reading with sequence seq. Returns: a ledger error. */
static int reading_at(wn_node *n, const uint8_t meter[32], uint64_t seq, uint64_t *index, uint64_t *time_ms)
{
    int err = wn_ledger_find(n->ledger, meter, seq, index);
    if (err) return err;
    uint8_t e[WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN];
    size_t len;
    wn_entry_view v;
    err = wn_ledger_get(n->ledger, *index, e, sizeof e, &len, NULL, NULL);
    if (err) return err == WN_LEDGER_ESPACE ? WN_LEDGER_ECORRUPT : err;
    if (wn_entry_parse(&v, e, len) != WN_ENTRY_OK || v.len < 49 || v.kind != WN_ENTRY_READING)
        return WN_LEDGER_ECORRUPT;
    if (time_ms) *time_ms = wn_get_u64(v.payload + 41);
    return WN_LEDGER_OK;
}

/* The first sequence in [lo, hi) whose time is at or after t; hi if there is none. */
static int first_at_or_after(wn_node *n, const uint8_t meter[32], uint64_t lo, uint64_t hi, uint64_t t,
                             uint64_t *out)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, index, time_ms;
        int err = reading_at(n, meter, mid, &index, &time_ms);
        if (err) return err;
        if (time_ms >= t) hi = mid;
        else lo = mid + 1;
    }
    *out = lo;
    return WN_LEDGER_OK;
}

/* ---- output ---- */

/* Appends {"index":i,"entry":b64,"proof":[...]} (and "boundary"). Returns: a ledger error. */
static int add_entry(wn_node *n, wn_buf *b, uint64_t index, uint64_t size, const char *boundary);
int wn_bundle_add_entry(wn_node *n, wn_buf *b, uint64_t index, uint64_t size)
{
    return add_entry(n, b, index, size, NULL);
}

static int add_entry(wn_node *n, wn_buf *b, uint64_t index, uint64_t size, const char *boundary)
{
    uint8_t e[ENTRY_CAP], proof[WN_MERKLE_MAX_PROOF][32];
    size_t len, plen;
    int err = wn_ledger_get(n->ledger, index, e, sizeof e, &len, NULL, NULL);
    if (!err) err = wn_ledger_prove_inclusion(n->ledger, index, size, proof, &plen);
    if (err) return err;
    char b64[WN_B64_LEN(ENTRY_CAP) + 1];
    wn_base64_encode(b64, e, len);
    wn_buf_printf(b, "{\"index\":%llu,\"entry\":\"%s\",\"proof\":[", (unsigned long long)index, b64);
    for (size_t i = 0; i < plen; i++) {
        wn_base64_encode(b64, proof[i], 32);
        wn_buf_printf(b, "%s\"%s\"", i ? "," : "", b64);
    }
    wn_buf_str(b, "]");
    if (boundary) wn_buf_printf(b, ",\"boundary\":\"%s\"", boundary);
    wn_buf_str(b, "}");
    return WN_LEDGER_OK;
}

static int by_evidence_index(const void *a, const void *b)
{
    uint64_t x = ((const wn_alert *)a)->evidence_index, y = ((const wn_alert *)b)->evidence_index;
    return (x > y) - (x < y);
}

/* The meter's record with all its alerts (malloc'd into *alerts when there are many).
 * Returns: 1, 0 for an unknown meter, -1 out of memory. */
static int meter_record(wn_node *n, const uint8_t meter[32], wn_meter *m, wn_alert *few, size_t nfew,
                        wn_alert **alerts)
{
    *alerts = few;
    if (!wn_state_get(n->state, meter, m, few, nfew)) return 0;
    while (m->n_alerts > nfew) {
        if (*alerts != few) free(*alerts);
        nfew = m->n_alerts + 16;
        *alerts = malloc(nfew * sizeof **alerts);
        if (!*alerts) return -1;
        if (!wn_state_get(n->state, meter, m, *alerts, nfew)) return 0;
    }
    qsort(*alerts, m->n_alerts, sizeof **alerts, by_evidence_index);
    return 1;
}

typedef struct {
    uint64_t first_seq, end_seq; /* readings [first_seq, end_seq) go into the bundle */
    uint64_t lo, hi;             /* the period's readings are [lo, hi) */
    uint64_t last_index;         /* ledger index of the last reading in the bundle */
} span;

/* Which readings the bundle holds. Returns: a ledger error. */
static int find_span(wn_node *n, const wn_bundle_query *q, span *s)
{
    memset(s, 0, sizeof *s);
    uint64_t last, last_index;
    int err = wn_ledger_meter_last(n->ledger, q->meter, &last, &last_index);
    if (err == WN_LEDGER_ENOTFOUND) return WN_LEDGER_OK; /* no readings */
    if (err) return err;
    if ((err = first_at_or_after(n, q->meter, 1, last + 1, q->from_ms, &s->lo))) return err;
    if ((err = first_at_or_after(n, q->meter, s->lo, last + 1, q->to_ms, &s->hi))) return err;
    s->first_seq = s->lo > 1 ? s->lo - 1 : s->lo;
    s->end_seq = s->hi <= last ? s->hi + 1 : s->hi;
    if (s->end_seq > s->first_seq) return reading_at(n, q->meter, s->end_seq - 1, &s->last_index, NULL);
    return WN_LEDGER_OK;
}

static void ledger_error(wn_response *out, int err, const char *what)
{
    char d[WN_DETAIL_MAX];
    snprintf(d, sizeof d, "%s: %s", what, wn_ledger_strerror(err));
    wn_reply_error(out, WN_NE_INTERNAL, d);
}

void wn_node_bundle(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    wn_bundle_query q;
    if (wn_parse_bundle_query(get, ctx, &q, d, sizeof d) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    wn_meter m;
    wn_alert few[16], *alerts;
    if (!wn_state_get(n->state, q.meter, &m, few, 0)) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "the meter is not enrolled");
        return;
    }
    /* Then the checkpoint: everything read after it is at least as new. */
    char note[WN_CHECKPOINT_MAX + 1];
    size_t note_len;
    uint64_t size;
    int err = wn_ledger_get_checkpoint(n->ledger, 0, note, sizeof note, &note_len, &size);
    if (err == WN_LEDGER_ENOTFOUND) {
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, "no checkpoint has been signed yet");
        return;
    }
    if (err) {
        ledger_error(out, err, "reading the checkpoint");
        return;
    }
    wn_checkpoint cp;
    if (wn_checkpoint_parse(note, note_len, &cp, NULL) != WN_CHECKPOINT_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, "the stored checkpoint does not parse");
        return;
    }
    int found = meter_record(n, q.meter, &m, few, 16, &alerts);
    if (found <= 0) {
        if (alerts != few) free(alerts);
        wn_reply_error(out, found ? WN_NE_INTERNAL : WN_NE_NOT_FOUND, found ? "out of memory" : "the meter is not enrolled");
        return;
    }
    span s;
    if ((err = find_span(n, &q, &s))) {
        if (alerts != few) free(alerts);
        ledger_error(out, err, "finding the meter's readings");
        return;
    }
    if (s.hi - s.lo > WN_BUNDLE_MAX_READINGS) {
        if (alerts != few) free(alerts);
        snprintf(d, sizeof d, "the period holds %llu readings, more than the %u one bundle may carry; ask for shorter periods",
                 (unsigned long long)(s.hi - s.lo), WN_BUNDLE_MAX_READINGS);
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    /* Everything must be covered by the checkpoint. */
    uint64_t need = m.enrol_index;
    if (m.revoked && m.revoke_index > need) need = m.revoke_index;
    if (s.end_seq > s.first_seq && s.last_index > need) need = s.last_index;
    for (size_t i = 0; i < m.n_alerts; i++)
        if (alerts[i].evidence_index > need) need = alerts[i].evidence_index;
    if (need >= size) {
        if (alerts != few) free(alerts);
        snprintf(d, sizeof d, "the latest checkpoint (size %llu) does not cover entry %llu of this bundle yet; ask again "
                 "after the next checkpoint", (unsigned long long)size, (unsigned long long)need);
        wn_reply_error(out, WN_NE_NOT_CHECKPOINTED, d);
        return;
    }

    wn_buf b;
    wn_buf_init(&b);
    uint8_t keyid[4];
    char from[25], to[25];
    wn_note_keyid(keyid, cp.origin, n->notary_pk);
    wn_time_format(from, q.from_ms);
    wn_time_format(to, q.to_ms);
    wn_buf_str(&b, "{\"format\":\"" WN_BUNDLE_FORMAT "\",\"notary_key_id\":");
    wn_buf_json_hex(&b, keyid, 4);
    wn_buf_str(&b, ",\"meter\":");
    wn_buf_json_hex(&b, q.meter, 32);
    wn_buf_printf(&b, ",\"from\":\"%s\",\"to\":\"%s\",\"checkpoint\":", from, to);
    note[note_len] = '\0';
    wn_buf_json_str(&b, note);
    wn_buf_str(&b, ",\"enrolment\":");
    err = add_entry(n, &b, m.enrol_index, size, NULL);
    wn_buf_str(&b, ",\"revocation\":");
    if (m.revoked) {
        if (!err) err = add_entry(n, &b, m.revoke_index, size, NULL);
    } else {
        wn_buf_str(&b, "null");
    }
    wn_buf_str(&b, ",\"readings\":[");
    for (uint64_t seq = s.first_seq; seq < s.end_seq && !err && !b.oom; seq++) {
        uint64_t index;
        err = reading_at(n, q.meter, seq, &index, NULL);
        const char *boundary = seq < s.lo ? "before" : seq >= s.hi ? "after" : NULL;
        if (seq > s.first_seq) wn_buf_str(&b, ",");
        if (!err) err = add_entry(n, &b, index, size, boundary);
    }
    wn_buf_str(&b, "],\"equivocations\":[");
    for (size_t i = 0; i < m.n_alerts && !err; i++) {
        if (i) wn_buf_str(&b, ",");
        err = add_entry(n, &b, alerts[i].evidence_index, size, NULL);
    }
    wn_buf_str(&b, "]}");
    if (alerts != few) free(alerts);
    if (err) {
        wn_buf_free(&b);
        ledger_error(out, err, "building the bundle");
        return;
    }
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}
