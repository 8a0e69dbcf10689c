/* receipts.c — one signed head per group commit and the receipts cut from it. See receipts.h. */
#include "node/ingest/receipts.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/tlog/merkle.h"

struct wn_commit_receipts {
    atomic_uint refs;
    wn_receipt_head head;
    wn_merkle_mem tree;   /* the commit's leaves and complete subtrees, read-only once built */
};

static wn_commit_receipts *build(const char *origin, const wn_signer *notary, uint64_t first, uint64_t count,
                                 uint64_t time_ms, int (*leaf)(void *ctx, uint64_t i, uint8_t out[32]), void *ctx)
{
    size_t L = strlen(origin);
    if (count == 0 || L == 0 || L > WN_RECEIPT_ORIGIN_MAX) return NULL;
    wn_commit_receipts *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    wn_merkle_mem_init(&c->tree);
    for (uint64_t i = 0; i < count; i++) {
        uint8_t h[32];
        if (!leaf(ctx, i, h) || !wn_merkle_mem_append(&c->tree, h)) goto fail;
    }
    wn_receipt_head *hd = &c->head;
    hd->origin_len = (uint8_t)L;
    memcpy(hd->origin, origin, L + 1);
    hd->first = first;
    hd->count = count;
    hd->time_ms = time_ms;
    hd->tree_size = first + count;
    if (!wn_merkle_root(hd->root, count, wn_merkle_mem_read, &c->tree) || !wn_receipt_head_sign(hd, notary)) goto fail;
    return c;
fail:
    wn_merkle_mem_free(&c->tree);
    free(c);
    return NULL;
}

static int leaf_from_array(void *ctx, uint64_t i, uint8_t out[32])
{
    memcpy(out, ((const uint8_t(*)[32])ctx)[i], 32);
    return 1;
}

wn_commit_receipts *wn_commit_receipts_new(const char *origin, const wn_signer *notary, uint64_t first,
                                           const uint8_t (*leaves)[32], size_t count, uint64_t time_ms)
{
    return build(origin, notary, first, count, time_ms, leaf_from_array, (void *)leaves);
}

typedef struct {
    wn_ledger_reader *rd;
    uint64_t first;
} ledger_leaves;

static int leaf_from_ledger(void *ctx, uint64_t i, uint8_t out[32])
{
    ledger_leaves *ll = ctx;
    return wn_ledger_reader_hash(ll->rd, 0, ll->first + i, out);
}

wn_commit_receipts *wn_commit_receipts_load(wn_ledger *l, const char *origin, const wn_signer *notary,
                                            uint64_t first, uint64_t end, uint64_t time_ms)
{
    ledger_leaves ll = {NULL, first};
    if (end <= first || wn_ledger_reader_begin(l, &ll.rd) != WN_LEDGER_OK) return NULL;
    wn_commit_receipts *c = build(origin, notary, first, end - first, time_ms, leaf_from_ledger, &ll);
    wn_ledger_reader_end(ll.rd);
    return c;
}

void wn_commit_receipts_ref(wn_commit_receipts *c) { atomic_fetch_add(&c->refs, 1); }

void wn_commit_receipts_release(wn_commit_receipts *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    wn_merkle_mem_free(&c->tree);
    free(c);
}

const wn_receipt_head *wn_commit_receipts_head(const wn_commit_receipts *c) { return &c->head; }

int wn_commit_receipts_get(const wn_commit_receipts *c, uint64_t index, wn_receipt *out)
{
    const wn_receipt_head *h = &c->head;
    if (index < h->first || index - h->first >= h->count) return 0;
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t len = 0;
    wn_merkle_mem *tree = (wn_merkle_mem *)&c->tree; /* read-only use */
    if (!wn_merkle_prove_inclusion(proof, &len, index - h->first, h->count, wn_merkle_mem_read, tree) ||
        len > WN_RECEIPT_PATH_MAX || !wn_merkle_mem_read(tree, 0, index - h->first, out->leaf))
        return 0;
    out->version = 2;
    out->index = index;
    out->time_ms = h->time_ms;
    out->head = *h;
    out->path_len = (uint8_t)len;
    memcpy(out->path, proof, 32 * len);
    return 1;
}
