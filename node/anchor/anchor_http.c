/* anchor_http.c — the anchoring status routes of docs/PROTOCOL.md §15:
 * GET /v1/anchors[?from=SIZE] (the thread's status, the lag, and the anchor records in
 * ascending size, at most 1000 a page) and GET /v1/checkpoint/anchor[?size=N] (the
 * anchor record of the checkpoint of size N, or of the newest confirmed anchor). */
#include "node/anchor/anchor.h"

#include <stdio.h>
#include <string.h>

#include "protocol/reading.h"
#include "chain/ethrpc.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/node.h"

#define ANCHORS_PAGE 1000
#define STOP 1

static void eth_hex_json(wn_buf *b, const uint8_t *p, size_t len)
{
    char h[2 * 32 + 3];
    wn_eth_hex(h, p, len);
    wn_buf_printf(b, "\"%s\"", h);
}

static void time_json(wn_buf *b, uint64_t ms)
{
    char t[25];
    wn_time_format(t, ms);
    wn_buf_printf(b, "\"%s\"", t);
}

/* One record as JSON (PROTOCOL §15). */
static void record_json(wn_buf *b, const wn_anchor_rec *r)
{
    char from[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(from, r->from);
    wn_buf_printf(b, "{\"size\":%llu,\"root\":", (unsigned long long)r->size);
    wn_buf_json_hex(b, r->root, 32);
    wn_buf_printf(b, ",\"state\":\"%s\",\"chain_id\":%llu,\"from\":\"%s\",\"tx\":", wn_anchor_state_name(r->state),
                  (unsigned long long)r->chain_id, from);
    eth_hex_json(b, r->tx_hash, 32);
    wn_buf_printf(b, ",\"nonce\":%llu,\"type\":%d,\"attempts\":%u,\"reanchors\":%u,\"sent_time\":",
                  (unsigned long long)r->nonce, r->tx_type, r->attempts, r->reanchors);
    time_json(b, r->sent_ms);
    if (r->state == WN_ANCHOR_PENDING) {
        wn_buf_str(b, ",\"block_number\":null,\"block_hash\":null,\"block_time\":null,\"confirmations\":0}");
        return;
    }
    wn_buf_printf(b, ",\"block_number\":%llu,\"block_hash\":", (unsigned long long)r->block_number);
    eth_hex_json(b, r->block_hash, 32);
    wn_buf_str(b, ",\"block_time\":");
    time_json(b, r->block_time * 1000);
    wn_buf_printf(b, ",\"confirmations\":%llu}", (unsigned long long)r->confirmations);
}

static int off(wn_node *n, wn_response *out)
{
    if (n->anchorer) return 0;
    wn_reply_error(out, WN_NE_NOT_FOUND, "this node does not anchor its checkpoints (no --anchor-rpc)");
    return 1;
}

typedef struct {
    wn_buf *b;
    unsigned count;
    uint64_t next;
} list_ctx;

static int add(void *ctx, const wn_anchor_rec *r)
{
    list_ctx *c = ctx;
    if (c->count == ANCHORS_PAGE) {
        c->next = r->size;
        return STOP;
    }
    if (c->count++) wn_buf_str(c->b, ",");
    record_json(c->b, r);
    return 0;
}

void wn_node_anchors(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    if (off(n, out)) return;
    uint64_t from = 0, ledger_size = 0;
    const char *f = get(ctx, "from");
    if (f && !wn_parse_u64(f, UINT64_MAX >> 1, &from)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "from must be a decimal tree size without leading zeros");
        return;
    }
    wn_anchor_status st;
    wn_anchorer_status(n->anchorer, &st);
    if (wn_ledger_size(n->ledger, &ledger_size) != WN_LEDGER_OK) {
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the ledger size");
        return;
    }
    char addr[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(addr, st.address);
    uint64_t now = wn_now_ms();
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_printf(&b,
                  "{\"address\":\"%s\",\"chain_id\":%llu,\"confirmations\":%llu,\"chain_up\":%s,\"chain_ok\":%s,"
                  "\"ledger_size\":%llu,\"checkpoint_size\":%llu,\"anchored_size\":%llu,\"lag_entries\":%llu,"
                  "\"lag_seconds\":%llu,\"pending\":%llu,\"sent\":%llu,\"confirmed\":%llu,\"reanchored\":%llu,"
                  "\"last_error\":",
                  addr, (unsigned long long)st.chain_id, (unsigned long long)st.confirmations,
                  st.chain_up ? "true" : "false", st.chain_ok ? "true" : "false", (unsigned long long)ledger_size,
                  (unsigned long long)st.checkpoint_size, (unsigned long long)st.anchored_size,
                  (unsigned long long)(ledger_size > st.anchored_size ? ledger_size - st.anchored_size : 0),
                  (unsigned long long)(st.lag_since_ms && now > st.lag_since_ms ? (now - st.lag_since_ms) / 1000 : 0),
                  (unsigned long long)st.pending, (unsigned long long)st.sent, (unsigned long long)st.confirmed,
                  (unsigned long long)st.reanchored);
    if (st.last_error[0]) wn_buf_json_str(&b, st.last_error);
    else wn_buf_str(&b, "null");
    wn_buf_str(&b, ",\"anchors\":[");
    list_ctx c = {.b = &b};
    if (wn_anchor_store_iterate(wn_anchorer_store(n->anchorer), from, add, &c) < 0) {
        wn_buf_free(&b);
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the anchor records");
        return;
    }
    if (c.next) wn_buf_printf(&b, "],\"next\":%llu}", (unsigned long long)c.next);
    else wn_buf_str(&b, "],\"next\":null}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

static int newest_confirmed(void *ctx, const wn_anchor_rec *r)
{
    if (r->state == WN_ANCHOR_CONFIRMED) *(wn_anchor_rec *)ctx = *r;
    return 0;
}

void wn_node_checkpoint_anchor(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    if (off(n, out)) return;
    char d[WN_DETAIL_MAX];
    uint64_t size;
    if (wn_parse_checkpoint_query(get, ctx, &size, d, sizeof d) != WN_NE_OK) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, d);
        return;
    }
    wn_anchor_store *s = wn_anchorer_store(n->anchorer);
    wn_anchor_rec r;
    memset(&r, 0, sizeof r);
    int found;
    if (size) {
        found = wn_anchor_store_get(s, size, &r);
    } else {
        int rc = wn_anchor_store_iterate(s, 0, newest_confirmed, &r);
        found = rc < 0 ? -1 : r.state == WN_ANCHOR_CONFIRMED;
    }
    if (found < 0) {
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the anchor records");
        return;
    }
    if (!found) {
        if (size)
            snprintf(d, sizeof d, "the checkpoint of size %llu has no anchor (GET /v1/anchors lists them)",
                     (unsigned long long)size);
        else
            snprintf(d, sizeof d, "no anchor is confirmed yet");
        wn_reply_error(out, WN_NE_NOT_FOUND, d);
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    record_json(&b, &r);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}
