/* push.c — the push loop: fill a binary batch from the meters' pending queues, POST it,
 * match the per-reading results to what was sent, verify and store receipts, stop
 * meters whose readings are rejected, compact logs that have grown. */
#include "device/agent/push.h"

#include "crypto/encoding.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t meter;
    uint64_t seq;
} sent_item;

void wn_pusher_init(wn_pusher *p, wn_http *http, const uint8_t notary[32])
{
    memset(p, 0, sizeof *p);
    p->http = http;
    memcpy(p->notary, notary, 32);
    p->batch = 256;
    p->compact_after = 1024;
}

static void stop_meter(wn_pusher *p, wn_push_meter *pm, uint64_t seq, const char *what, const char *detail)
{
    fprintf(stderr, "wn-meter: %s: reading %llu %s%s%s; this meter sends nothing more\n", pm->label,
            (unsigned long long)seq, what, detail && *detail ? ": " : "", detail ? detail : "");
    pm->stopped = 1;
    (void)p;
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* Handles one result. Returns: WN_PUSH_OK, or WN_PUSH_NODE (result does not match what
 * was sent) or WN_PUSH_LOCAL (the receipt could not be stored). */
static int handle_result(wn_pusher *p, wn_push_meter *pm, uint64_t seq, const cJSON *res)
{
    char hex[65];
    const char *meter = jstr(res, "meter"), *status = jstr(res, "status");
    const cJSON *jseq = cJSON_GetObjectItemCaseSensitive(res, "seq");
    wn_hex_encode(hex, wn_meter_id(pm->m), 32);
    if (!cJSON_IsObject(res) || !meter || !status || !cJSON_IsNumber(jseq) || strcmp(meter, hex) != 0 ||
        jseq->valuedouble != (double)seq) {
        fprintf(stderr, "wn-meter: %s: the node's result does not match reading %llu\n", pm->label, (unsigned long long)seq);
        return WN_PUSH_NODE;
    }
    if (pm->stopped) return WN_PUSH_OK; /* an earlier reading of this meter failed */
    int dup = strcmp(status, "duplicate") == 0;
    if (!dup && strcmp(status, "accepted") != 0) {
        const char *err = jstr(res, "error"), *detail = jstr(res, "detail");
        char what[128];
        snprintf(what, sizeof what, "rejected (%s)", err ? err : status);
        stop_meter(p, pm, seq, what, detail);
        p->rejected++;
        return WN_PUSH_OK;
    }
    wn_receipt rc;
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(res, "receipt");
    if (!jr || !wn_receipt_from_cjson(&rc, jr)) {
        stop_meter(p, pm, seq, dup ? "duplicate without a valid receipt" : "accepted without a valid receipt", NULL);
        p->bad_receipts++;
        return WN_PUSH_OK;
    }
    int err = wn_meter_ack(pm->m, seq, &rc, p->notary);
    if (err == WN_METER_ELEAF || err == WN_METER_ESIG) {
        stop_meter(p, pm, seq, "got a receipt that does not verify", wn_meter_strerror(err));
        p->bad_receipts++;
        return WN_PUSH_OK;
    }
    if (err) {
        fprintf(stderr, "wn-meter: %s: cannot store the receipt of reading %llu: %s\n", pm->label,
                (unsigned long long)seq, wn_meter_strerror(err));
        return WN_PUSH_LOCAL;
    }
    if (dup) p->duplicates++;
    else p->accepted++;
    return WN_PUSH_OK;
}

/* Checks the answer to a batch and applies its results. */
static int apply_results(wn_pusher *p, wn_push_meter *ms, const sent_item *items, size_t count)
{
    wn_http *h = p->http;
    cJSON *doc = cJSON_ParseWithLength(h->body, h->len);
    const cJSON *results = doc ? cJSON_GetObjectItemCaseSensitive(doc, "results") : NULL;
    int rc = WN_PUSH_OK;
    if (!cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != count) {
        fprintf(stderr, "wn-meter: the node's answer to a batch of %zu readings is not %zu results: %.200s\n", count,
                count, h->body);
        cJSON_Delete(doc);
        return WN_PUSH_NODE;
    }
    size_t k = 0;
    const cJSON *res;
    cJSON_ArrayForEach(res, results) {
        int r = handle_result(p, &ms[items[k].meter], items[k].seq, res);
        if (r > rc) rc = r;
        k++;
    }
    cJSON_Delete(doc);
    return rc;
}

static void restart_iterators(wn_push_meter *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wn_meter_pending_begin(ms[i].m, &ms[i].it);
        ms[i].drained = ms[i].stopped;
    }
}

static int compact_grown(wn_pusher *p, wn_push_meter *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wn_meter_counts c;
        wn_meter_get_counts(ms[i].m, &c);
        if (c.logged - c.pending < p->compact_after) continue;
        int err = wn_meter_compact(ms[i].m);
        if (err) {
            fprintf(stderr, "wn-meter: %s: compaction failed: %s\n", ms[i].label, wn_meter_strerror(err));
            return WN_PUSH_LOCAL;
        }
    }
    return WN_PUSH_OK;
}

int wn_push(wn_pusher *p, wn_push_meter *ms, size_t n)
{
    const size_t slot = 2 + WN_READING_MAX_LEN;
    size_t cap = p->batch ? p->batch : 1;
    uint8_t *body = malloc(cap * slot);
    sent_item *items = malloc(cap * sizeof *items);
    int rc = WN_PUSH_OK;
    size_t start = 0;
    if (!body || !items) { free(body); free(items); return WN_PUSH_LOCAL; }
    restart_iterators(ms, n);

    for (;;) {
        size_t count = 0, used = 0, batch = p->batch < cap ? p->batch : cap;
        /* Fill the batch round-robin from where the last one stopped, each meter's
         * readings in sequence order. */
        for (size_t j = 0; j < n && count < batch; j++) {
            size_t i = (start + j) % n;
            while (!ms[i].drained && !ms[i].stopped && count < batch) {
                size_t len;
                uint64_t seq;
                int err = wn_meter_next(ms[i].m, &ms[i].it, body + used + 2, &len, &seq);
                if (err == WN_METER_END) { ms[i].drained = 1; break; }
                if (err) {
                    fprintf(stderr, "wn-meter: %s: cannot read the queue: %s\n", ms[i].label, wn_meter_strerror(err));
                    rc = WN_PUSH_LOCAL;
                    goto out;
                }
                wn_put_u16(body + used, (uint16_t)len);
                used += 2 + len;
                items[count++] = (sent_item){i, seq};
            }
            if (count == batch) start = i; /* this meter may have more */
        }
        if (count == 0) break;

        if (!wn_http_request(p->http, "POST", "/v1/readings", "binary", body, used)) {
            fprintf(stderr, "wn-meter: giving up: %s\n", p->http->error);
            rc = WN_PUSH_NODE;
            goto out;
        }
        p->batches++;
        if (p->http->status == 413 && batch > 1) { /* body_too_large: smaller batches, resend */
            p->batch = batch / 2;
            fprintf(stderr, "wn-meter: the node refused a batch of %zu readings as too large; sending %zu\n", batch, p->batch);
            restart_iterators(ms, n);
            continue;
        }
        if (p->http->status != 200) {
            fprintf(stderr, "wn-meter: the node answered a batch with HTTP %ld: %.300s\n", p->http->status, p->http->body);
            rc = WN_PUSH_NODE;
            goto out;
        }
        int r = apply_results(p, ms, items, count);
        if (r > rc) rc = r;
        if (r == WN_PUSH_NODE || r == WN_PUSH_LOCAL) goto out;
        if (!p->quiet && p->batches % 50 == 0)
            fprintf(stderr, "wn-meter: %llu batches, %llu accepted, %llu duplicates\n", (unsigned long long)p->batches,
                    (unsigned long long)p->accepted, (unsigned long long)p->duplicates);
    }
    if (compact_grown(p, ms, n) > rc) rc = WN_PUSH_LOCAL;
out:
    for (size_t i = 0; i < n; i++)
        if (ms[i].stopped && rc < WN_PUSH_REJECTED) rc = WN_PUSH_REJECTED;
    free(body);
    free(items);
    return rc;
}
