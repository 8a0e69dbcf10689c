/* tiles.c — tlog-tiles serving (see tiles.h): hash tiles read from the stored subtree
 * hashes through one ledger reader (one read transaction per tile), entry bundles through
 * one ledger iteration, both bounded by the latest checkpoint's size; and the paged list of
 * stored checkpoints. The tile contents come straight from what the ledger stores; a
 * client recomputes and compares (that is what `wn audit --node` does). */
#include "node/query/tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/http/errors.h"

#define STOP_PAGE 1000 /* iteration stopped: the page is full (not a wn_ledger_err) */

static void ledger_error(wn_response *out, int err, const char *what)
{
    char d[WN_DETAIL_MAX];
    snprintf(d, sizeof d, "%s: %s", what, wn_ledger_strerror(err));
    wn_reply_error(out, WN_NE_INTERNAL, d);
}

/* W concatenated hashes of the subtrees (8L, 256N + i). */
static void hash_tile(wn_node *n, const wn_tile *t, wn_response *out)
{
    wn_ledger_reader *rd;
    int err = wn_ledger_reader_begin(n->ledger, &rd);
    if (err) {
        ledger_error(out, err, "reading the tree");
        return;
    }
    size_t len = (size_t)t->width * 32;
    char *body = malloc(len + 1);
    if (!body) {
        wn_ledger_reader_end(rd);
        wn_reply_error(out, WN_NE_INTERNAL, "out of memory");
        return;
    }
    unsigned level = WN_TILE_HEIGHT * t->level;
    uint64_t first = t->index * WN_TILE_WIDTH;
    for (unsigned i = 0; i < t->width; i++) {
        if (!wn_ledger_reader_hash(rd, level, first + i, (uint8_t *)body + 32 * (size_t)i)) {
            wn_ledger_reader_end(rd);
            free(body);
            char d[WN_DETAIL_MAX];
            snprintf(d, sizeof d, "the stored hash of subtree (level %u, index %llu) cannot be read", level,
                     (unsigned long long)(first + i));
            wn_reply_error(out, WN_NE_INTERNAL, d);
            return;
        }
    }
    wn_ledger_reader_end(rd);
    body[len] = '\0';
    out->status = 200;
    out->type = WN_TYPE_OCTETS;
    out->body = body;
    out->len = len;
}

typedef struct {
    wn_buf b;
    uint64_t too_long; /* index of an entry that does not fit a u16 length, or UINT64_MAX */
} bundle_ctx;

static int add_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32],
                     const uint8_t chain[32])
{
    (void)leaf;
    (void)chain;
    bundle_ctx *c = ctx;
    if (len > 0xffff) {
        c->too_long = index;
        return STOP_PAGE;
    }
    uint8_t l2[2];
    wn_put_u16(l2, (uint16_t)len);
    wn_buf_add(&c->b, l2, 2);
    wn_buf_add(&c->b, entry, len);
    return 0;
}

/* W times u16 length || entry bytes, entries 256N .. 256N+W-1. */
static void entry_bundle(wn_node *n, const wn_tile *t, wn_response *out)
{
    bundle_ctx c = {.too_long = UINT64_MAX};
    wn_buf_init(&c.b);
    uint64_t first = t->index * WN_TILE_WIDTH;
    int err = wn_ledger_iterate(n->ledger, first, first + t->width, add_entry, &c);
    if (err == STOP_PAGE) {
        wn_buf_free(&c.b);
        char d[WN_DETAIL_MAX];
        snprintf(d, sizeof d, "entry %llu is longer than an entry bundle can hold (65535 bytes)",
                 (unsigned long long)c.too_long);
        wn_reply_error(out, WN_NE_INTERNAL, d);
        return;
    }
    if (err) {
        wn_buf_free(&c.b);
        ledger_error(out, err, "reading the entries");
        return;
    }
    wn_reply_buf(out, 200, WN_TYPE_OCTETS, &c.b);
}

void wn_node_tile(wn_node *n, const wn_tile *t, wn_response *out)
{
    char d[WN_DETAIL_MAX];
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nlen;
    uint64_t size = 0;
    int err = wn_ledger_get_checkpoint(n->ledger, 0, note, sizeof note, &nlen, &size);
    if (err == WN_LEDGER_ENOTFOUND) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "no checkpoint has been signed yet, so there are no tiles");
        return;
    }
    if (err) {
        ledger_error(out, err, "reading the latest checkpoint");
        return;
    }
    unsigned have = wn_tile_width_at(t->entries ? 0 : t->level, t->index, size);
    if (t->width > have) {
        snprintf(d, sizeof d, "the latest checkpoint (size %llu) holds %u of the %u %s of this tile",
                 (unsigned long long)size, have, t->width, t->entries ? "entries" : "hashes");
        wn_reply_error(out, WN_NE_NOT_FOUND, d);
        return;
    }
    if (t->entries) entry_bundle(n, t, out);
    else hash_tile(n, t, out);
    if (out->status == 200) out->cache = t->width == WN_TILE_WIDTH ? WN_CACHE_FULL_TILE : WN_CACHE_PARTIAL_TILE;
}

/* ---- GET /v1/checkpoints ---- */

typedef struct {
    wn_buf b;
    uint64_t from;
    unsigned count;
    uint64_t next; /* the first size left out, or 0 */
} list_ctx;

static int add_checkpoint(void *ctx, uint64_t size, const char *note, size_t len)
{
    list_ctx *c = ctx;
    if (size < c->from) return 0;
    if (c->count == WN_CHECKPOINTS_PAGE) {
        c->next = size;
        return STOP_PAGE;
    }
    char *text = malloc(len + 1);
    if (!text) {
        c->b.oom = 1;
        return STOP_PAGE;
    }
    memcpy(text, note, len);
    text[len] = '\0';
    wn_buf_printf(&c->b, "%s{\"size\":%llu,\"checkpoint\":", c->count ? "," : "", (unsigned long long)size);
    wn_buf_json_str(&c->b, text);
    wn_buf_str(&c->b, "}");
    free(text);
    c->count++;
    return 0;
}

void wn_node_checkpoints(wn_node *n, wn_query_get get, void *ctx, wn_response *out)
{
    list_ctx c = {.from = 0};
    const char *from = get(ctx, "from");
    if (from && !wn_parse_u64(from, UINT64_MAX >> 1, &c.from)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "from must be a decimal tree size without leading zeros");
        return;
    }
    wn_buf_init(&c.b);
    wn_buf_str(&c.b, "{\"checkpoints\":[");
    int err = wn_ledger_iterate_checkpoints(n->ledger, add_checkpoint, &c);
    if (err && err != STOP_PAGE) {
        wn_buf_free(&c.b);
        ledger_error(out, err, "reading the checkpoints");
        return;
    }
    if (c.next) wn_buf_printf(&c.b, "],\"next\":%llu}", (unsigned long long)c.next);
    else wn_buf_str(&c.b, "],\"next\":null}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &c.b);
}
