/* audit_http.c — the whole-ledger audit fed from a node over HTTP (see audit_http.h): the
 * latest checkpoint fixes the tree, the stored checkpoints are fed first, then the entry
 * bundles with the level-0 tiles as stored leaf hashes, then every upper tile is compared
 * with the tree recomputed from the entries. A tile the node should have but does not
 * serve stops the audit as a node error; served bytes that break the tile format are
 * problems of the ledger (storage) at the entry where they break. */
#include "cli/audit/audit_http.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/merkle.h"
#include "ledger/tlog/tile.h"

/* One parsed entry bundle: entry k is body[off[k] .. off[k] + len[k]). */
typedef struct {
    uint64_t n;            /* bundle index */
    unsigned w;            /* entries in it */
    char *body;
    size_t off[WN_TILE_WIDTH], len[WN_TILE_WIDTH];
} bundle;

typedef struct {
    const char *cmd, *url;
    wn_auditor *a;
    wn_audit_http_stats st;
    uint64_t size;          /* the tree audited */
    uint64_t fed;           /* entries fed */
    wn_merkle_mem upper;    /* leaf k = recomputed MTH of full bundle k, so subtree (j, k) of
                               this tree is subtree (8 + j, k) of the ledger's */
    uint8_t last_mth[32];   /* the last bundle's, when it is partial */
    unsigned last_w;        /* its width (0: none) */
    bundle cur;             /* the bundle being fed */
    uint64_t cur_fed;       /* entries of cur fed so far */
    bundle ev;              /* the last bundle fetched again for evidence */
    int have_ev;
} source;

static void bundle_free(bundle *b)
{
    free(b->body);
    b->body = NULL;
}

/* GET path; 1 with r filled if the node answered 200. Otherwise prints why (unless the
 * status is allowed_other, which is returned as 2 with r filled) and returns 0. */
static int get(source *s, const char *path, wn_cli_resp *r, long allowed_other)
{
    if (!wn_cli_http(s->cmd, s->url, "GET", path, NULL, r)) {
        free(r->body);
        r->body = NULL;
        return 0;
    }
    s->st.requests++;
    s->st.bytes += r->len;
    if (r->status == 200) return 1;
    if (allowed_other && r->status == allowed_other) return 2;
    char why[300];
    wn_cli_error(s->cmd, "GET %s: %s", path, wn_cli_node_error(r, why, sizeof why));
    free(r->body);
    r->body = NULL;
    return 0;
}

/* RFC 6962 MTH of h[0..n), n >= 1 (at most 256 here). */
static void mth(uint8_t out[32], const uint8_t (*h)[32], unsigned n)
{
    if (n == 1) {
        memcpy(out, h[0], 32);
        return;
    }
    unsigned k = 1;
    while (k * 2 < n) k *= 2;
    uint8_t l[32], r[32];
    mth(l, h, k);
    mth(r, h + k, n - k);
    wn_merkle_node_hash(out, l, r);
}

/* Splits body into w u16-length-prefixed entries. Out: *good, entries that parsed before
 * a problem. Returns: 1 if exactly w entries fill the body. */
static int split_bundle(bundle *b, size_t len, unsigned *good)
{
    const uint8_t *p = (const uint8_t *)b->body;
    size_t off = 0;
    *good = 0;
    for (unsigned k = 0; k < b->w; k++) {
        if (len - off < 2) return 0;
        size_t l = wn_get_u16(p + off);
        if (len - off - 2 < l) return 0;
        b->off[k] = off + 2;
        b->len[k] = l;
        off += 2 + l;
        (*good)++;
    }
    return off == len;
}

/* Fetches entry bundle (n, w). Returns: 1 with b filled, 0 after a node error. *good and
 * *whole as split_bundle. */
static int fetch_bundle(source *s, uint64_t n, unsigned w, bundle *b, unsigned *good, int *whole)
{
    wn_tile t = {.entries = 1, .index = n, .width = w};
    char path[WN_TILE_PATH_MAX + 1] = "/";
    wn_tile_format(path + 1, sizeof path - 1, &t);
    wn_cli_resp r;
    if (get(s, path, &r, 0) != 1) return 0;
    memset(b, 0, sizeof *b);
    b->n = n;
    b->w = w;
    b->body = r.body;
    *whole = split_bundle(b, r.len, good);
    return 1;
}

/* The recomputed MTH of bundle (n, w) as it was fed. Returns: 0 if it was not fed. */
static int fed_mth(source *s, uint64_t n, unsigned w, uint8_t out[32])
{
    if (w == WN_TILE_WIDTH) return n < s->upper.size && wn_merkle_mem_read(&s->upper, 0, n, out);
    if (w != s->last_w || n != s->size / WN_TILE_WIDTH) return 0;
    memcpy(out, s->last_mth, 32);
    return 1;
}

static void bundle_leaves(const bundle *b, uint8_t (*leaves)[32])
{
    for (unsigned k = 0; k < b->w; k++) wn_merkle_leaf_hash(leaves[k], b->body + b->off[k], b->len[k]);
}

/* Bundle n with at least `need` of its entries fed, exactly as fed: the bundle being fed,
 * or one fetched again and accepted only if it hashes as it did when it was fed.
 * Returns: NULL if there is no such bundle or it cannot be had. */
static const bundle *fed_bundle(source *s, uint64_t n, unsigned need)
{
    if (s->cur.body && s->cur.n == n) return need <= s->cur_fed ? &s->cur : NULL;
    if (s->have_ev && s->ev.n == n) return &s->ev;
    if (n * WN_TILE_WIDTH >= s->fed) return NULL;
    unsigned w = wn_tile_width_at(0, n, s->size);
    uint8_t want[32], got[32], leaves[WN_TILE_WIDTH][32];
    if (!fed_mth(s, n, w, want)) return NULL;
    if (s->have_ev) bundle_free(&s->ev);
    s->have_ev = 0;
    unsigned good;
    int whole;
    if (!fetch_bundle(s, n, w, &s->ev, &good, &whole)) return NULL;
    if (whole) {
        bundle_leaves(&s->ev, leaves);
        mth(got, (const uint8_t(*)[32])leaves, w);
    }
    if (!whole || memcmp(got, want, 32) != 0) { /* the node now serves other bytes */
        bundle_free(&s->ev);
        return NULL;
    }
    s->have_ev = 1;
    return &s->ev;
}

/* wn_audit_fetch_fn: an earlier entry again, for equivocation evidence. */
static int fetch_entry(void *ctx, uint64_t index, uint8_t *buf, size_t cap, size_t *len)
{
    source *s = ctx;
    unsigned k = (unsigned)(index % WN_TILE_WIDTH);
    if (index >= s->fed) return 1;
    const bundle *b = fed_bundle(s, index / WN_TILE_WIDTH, k + 1);
    if (!b || k >= b->w || b->len[k] > cap) return 1;
    *len = b->len[k];
    memcpy(buf, b->body + b->off[k], *len);
    return 0;
}

/* Hashes for wn_merkle_root over the recomputed tree: subtrees of 256 entries or more from
 * `upper`, smaller ones from `tail`, the leaves of the last, partly covered bundle (which
 * starts at tail_start, a multiple of 256, so its subtrees stay aligned). */
typedef struct {
    source *s;
    uint64_t tail_start;
    wn_merkle_mem tail;
} root_reader;

static int read_for_root(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    root_reader *r = ctx;
    if (level >= WN_TILE_HEIGHT) return wn_merkle_mem_read(&r->s->upper, level - WN_TILE_HEIGHT, index, out);
    uint64_t first = index << level;
    if (first < r->tail_start) return 0;
    return wn_merkle_mem_read(&r->tail, level, (first - r->tail_start) >> level, out);
}

/* wn_audit_root_fn: the root of the first `size` entries fed (certificates may name a tree
 * that no checkpoint has), from the tree recomputed from the entries. */
static int root_at(void *ctx, uint64_t size, uint8_t root[32])
{
    source *s = ctx;
    if (size > s->fed) return 1;
    root_reader r = {.s = s, .tail_start = size - size % WN_TILE_WIDTH};
    wn_merkle_mem_init(&r.tail);
    unsigned rest = (unsigned)(size % WN_TILE_WIDTH);
    int ok = 1;
    if (rest) {
        const bundle *b = fed_bundle(s, size / WN_TILE_WIDTH, rest);
        ok = b && b->w >= rest;
        for (unsigned k = 0; ok && k < rest; k++) {
            uint8_t leaf[32];
            wn_merkle_leaf_hash(leaf, b->body + b->off[k], b->len[k]);
            ok = wn_merkle_mem_append(&r.tail, leaf);
        }
    }
    ok = ok && wn_merkle_root(root, size, read_for_root, &r);
    wn_merkle_mem_free(&r.tail);
    return !ok;
}

/* ---- the steps ---- */

/* The latest checkpoint: its size is the tree audited. Returns: 1, or 0 after an error. */
static int latest(source *s, char **note, size_t *len)
{
    wn_cli_resp r;
    int rc = get(s, "/checkpoint", &r, 404);
    if (rc == 2) {
        wn_cli_error(s->cmd, "the node at %s has not signed a checkpoint yet: there is nothing to audit", s->url);
        free(r.body);
        return 0;
    }
    if (rc != 1) return 0;
    wn_checkpoint cp;
    size_t tl;
    if (wn_checkpoint_parse(r.body, r.len, &cp, &tl) != WN_CHECKPOINT_OK) {
        wn_cli_error(s->cmd, "GET /checkpoint did not answer a checkpoint: %.200s", r.body);
        free(r.body);
        return 0;
    }
    s->size = s->st.size = cp.size;
    *note = r.body;
    *len = r.len;
    return 1;
}

/* Feeds every stored checkpoint up to the audited size (GET /v1/checkpoints, paged), and
 * the latest one if the list did not hold it. Returns: 1, or 0 after an error. */
static int checkpoints(source *s, const char *latest_note, size_t latest_len)
{
    uint64_t from = 0;
    int fed_latest = 0;
    for (;;) {
        char path[64];
        snprintf(path, sizeof path, "/v1/checkpoints?from=%llu", (unsigned long long)from);
        wn_cli_resp r;
        int rc = get(s, path, &r, 404);
        if (rc == 0) return 0;
        if (rc == 2) { /* a node without the list: only the latest checkpoint can be checked */
            free(r.body);
            break;
        }
        cJSON *j = wn_json_parse_strict(r.body, r.len, NULL, 0); /* sizes are JSON integers */
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next");
        uint64_t nx = 0;
        int ok = cJSON_IsArray(list) && (cJSON_IsNull(next) || wn_json_uint(next, WN_JSON_INT_MAX, &nx)), done = 0;
        for (const cJSON *c = ok ? list->child : NULL; c && !done; c = c->next) {
            const cJSON *sz = cJSON_GetObjectItemCaseSensitive(c, "size");
            const cJSON *note = cJSON_GetObjectItemCaseSensitive(c, "checkpoint");
            uint64_t size = 0;
            if (!wn_json_uint(sz, WN_JSON_INT_MAX, &size) || size < from || !cJSON_IsString(note)) {
                ok = 0;
                break;
            }
            if (size > s->size) { /* signed after the latest was fetched: not in this audit */
                done = 1;
                break;
            }
            fed_latest |= size == s->size;
            if (wn_auditor_checkpoint(s->a, size, note->valuestring, strlen(note->valuestring)) != WN_AUDIT_OK) {
                ok = 0;
                break;
            }
        }
        if (ok && !done && cJSON_IsNumber(next)) {
            if (nx <= from) ok = 0;
            from = nx;
        } else {
            done = 1;
        }
        if (!ok) wn_cli_error(s->cmd, "GET %s: not a list of checkpoints in ascending size: %.200s", path, r.body);
        cJSON_Delete(j);
        free(r.body);
        if (!ok) return 0;
        if (done) break;
    }
    if (!fed_latest && wn_auditor_checkpoint(s->a, s->size, latest_note, latest_len) != WN_AUDIT_OK) {
        wn_cli_error(s->cmd, "the latest checkpoint could not be fed to the audit");
        return 0;
    }
    return 1;
}

/* Feeds bundle n (width w) with the level-0 tile as stored leaf hashes. Out: *stop when the
 * bundle's framing broke (nothing after it can be fed in order). Returns: 1, or 0 after an
 * error. */
static int feed_bundle(source *s, uint64_t n, unsigned w, int *stop)
{
    wn_tile t = {.level = 0, .index = n, .width = w};
    char path[WN_TILE_PATH_MAX + 1] = "/";
    wn_tile_format(path + 1, sizeof path - 1, &t);
    wn_cli_resp tile;
    if (get(s, path, &tile, 0) != 1) return 0;
    uint64_t first = n * WN_TILE_WIDTH;
    const uint8_t *leaf = (const uint8_t *)tile.body;
    if (tile.len != 32 * (size_t)w) {
        wn_auditor_report(s->a, WN_AUDIT_AT_ENTRY, first, WN_AC_STORAGE, 0,
                        "served %s has %zu bytes, not %u hashes", path + 1, tile.len, w);
        leaf = NULL;
    }
    unsigned good;
    int whole, ok = 1;
    if (!fetch_bundle(s, n, w, &s->cur, &good, &whole)) {
        free(tile.body);
        return 0;
    }
    s->cur_fed = 0;
    for (unsigned k = 0; k < good && ok; k++) {
        wn_audit_stored st = {.leaf = leaf ? leaf + 32 * (size_t)k : NULL};
        int rc = wn_auditor_entry(s->a, first + k, (const uint8_t *)s->cur.body + s->cur.off[k], s->cur.len[k], &st);
        if (rc != WN_AUDIT_OK) {
            wn_cli_error(s->cmd, "the audit stopped at entry %llu (%s)", (unsigned long long)(first + k),
                         rc == WN_AUDIT_ENOMEM ? "out of memory" : "refused");
            ok = 0;
        }
        s->cur_fed = k + 1;
        s->fed = first + k + 1;
    }
    if (ok && !whole) {
        t.entries = 1;
        wn_tile_format(path + 1, sizeof path - 1, &t);
        wn_auditor_report(s->a, WN_AUDIT_AT_ENTRY, first + good, WN_AC_STORAGE, 0,
                        "served %s breaks at entry %llu: %s", path + 1, (unsigned long long)(first + good),
                        good < w ? "a length runs past the end" : "bytes after the last entry");
        *stop = good < w;
    }
    if (ok && good == w) {
        uint8_t leaves[WN_TILE_WIDTH][32], h[32];
        bundle_leaves(&s->cur, leaves);
        mth(h, (const uint8_t(*)[32])leaves, w);
        if (w == WN_TILE_WIDTH) {
            if (!wn_merkle_mem_append(&s->upper, h)) {
                wn_cli_error(s->cmd, "out of memory");
                ok = 0;
            }
        } else {
            memcpy(s->last_mth, h, 32);
            s->last_w = w;
        }
    }
    free(tile.body);
    return ok;
}

/* Compares every served hash of the upper tiles with the tree recomputed from the entries.
 * Returns: 1, or 0 after an error. */
static int upper_tiles(source *s)
{
    for (unsigned L = 1; L < 8; L++) {
        uint64_t c = s->size >> (WN_TILE_HEIGHT * L);
        if (c == 0) break;
        uint64_t span = (uint64_t)1 << (WN_TILE_HEIGHT * L); /* entries under one hash */
        for (uint64_t n = 0; n * WN_TILE_WIDTH < c; n++) {
            unsigned w = wn_tile_width_at(L, n, s->size);
            wn_tile t = {.level = L, .index = n, .width = w};
            char path[WN_TILE_PATH_MAX + 1] = "/";
            wn_tile_format(path + 1, sizeof path - 1, &t);
            wn_cli_resp r;
            if (get(s, path, &r, 0) != 1) return 0;
            uint64_t first = n * WN_TILE_WIDTH;
            if (r.len != 32 * (size_t)w) {
                wn_auditor_report(s->a, WN_AUDIT_AT_ENTRY, (first + 1) * span - 1, WN_AC_STORAGE, L,
                                "served %s has %zu bytes, not %u hashes", path + 1, r.len, w);
            } else {
                for (unsigned i = 0; i < w; i++) {
                    uint64_t k = first + i;
                    uint8_t h[32];
                    if ((k + 1) * span > s->fed) break; /* entries missing: reported already */
                    if (!wn_merkle_mem_read(&s->upper, WN_TILE_HEIGHT * (L - 1), k, h)) break;
                    if (memcmp(h, r.body + 32 * (size_t)i, 32) != 0)
                        wn_auditor_report(s->a, WN_AUDIT_AT_ENTRY, (k + 1) * span - 1, WN_AC_TREE_HASH, L,
                                        "served %s: hash %u (subtree of entries %llu..%llu) is not the one recomputed "
                                        "from the entries",
                                        path + 1, i, (unsigned long long)(k * span),
                                        (unsigned long long)((k + 1) * span - 1));
                }
            }
            free(r.body);
        }
    }
    return 1;
}

int wn_audit_http_feed(wn_auditor *a, const char *cmd, const char *node_url, wn_audit_http_stats *st)
{
    source *s = calloc(1, sizeof *s);
    if (!s) {
        wn_cli_error(cmd, "out of memory");
        return 0;
    }
    s->cmd = cmd;
    s->url = node_url;
    s->a = a;
    wn_merkle_mem_init(&s->upper);
    char *note = NULL;
    size_t nlen = 0;
    int ok = latest(s, &note, &nlen) && checkpoints(s, note, nlen);
    free(note);
    if (ok) {
        wn_auditor_set_fetch(a, fetch_entry, s);
        wn_auditor_set_root_at(a, root_at, s);
    }
    int stop = 0;
    for (uint64_t n = 0; ok && !stop && n * WN_TILE_WIDTH < s->size; n++) {
        ok = feed_bundle(s, n, wn_tile_width_at(0, n, s->size), &stop);
        bundle_free(&s->cur);
        s->cur_fed = 0;
    }
    if (ok) ok = upper_tiles(s);
    wn_auditor_set_fetch(a, NULL, NULL);
    wn_auditor_set_root_at(a, NULL, NULL);
    if (st) *st = s->st;
    bundle_free(&s->cur);
    if (s->have_ev) bundle_free(&s->ev);
    wn_merkle_mem_free(&s->upper);
    free(s);
    return ok;
}
