/* ledger_read.c — the read path of the LMDB ledger: size, roots, proofs, entry and index
 * look-ups, checkpoints, iteration and the public hash reader.
 *
 * Every call runs in one read transaction taken from the ledger's pool (mdb_txn_renew of
 * a reset transaction, so a call costs no reader-table locking), and sees one committed
 * state. Roots and proofs are merkle.h's functions fed by wn_ledger_i_hash, which takes
 * upper-level hashes from the in-memory copy (ledger_cache.c) and reads the others
 * straight out of LMDB's map without copying the entry. Every
 * stored value is length-checked before use: bad data gives WN_LEDGER_ECORRUPT. */
#include "ledger/ledger_impl.h"

#include <stdlib.h>
#include <string.h>

size_t wn_ledger_i_link_encode(const wn_ledger_link *link, uint8_t *out)
{
    out[0] = link->kind;
    if (link->kind == WN_LINK_NONE) return 1;
    wn_ledger_i_be32(out + 1, link->num);
    wn_ledger_i_be64(out + 5, link->seq);
    if (link->kind == WN_LINK_LOOSE) return 13;
    wn_ledger_i_be64(out + 13, link->depth);
    wn_ledger_i_be64(out + 21, link->prev);
    wn_ledger_i_be64(out + 29, link->jump);
    wn_ledger_i_be64(out + 37, link->jump_seq);
    return 45;
}

/* Decodes the link at p[0..avail). Returns its length, 0 if malformed. */
static size_t link_decode(const uint8_t *p, size_t avail, wn_ledger_link *link)
{
    memset(link, 0, sizeof *link);
    if (avail < 1) return 0;
    link->kind = p[0];
    if (link->kind == WN_LINK_NONE) return 1;
    if (link->kind != WN_LINK_CHAIN && link->kind != WN_LINK_LOOSE) return 0;
    size_t need = link->kind == WN_LINK_CHAIN ? 45 : 13;
    if (avail < need) return 0;
    link->num = wn_ledger_i_get32(p + 1);
    link->seq = wn_ledger_i_get64(p + 5);
    if (link->kind == WN_LINK_CHAIN) {
        link->depth = wn_ledger_i_get64(p + 13);
        link->prev = wn_ledger_i_get64(p + 21);
        link->jump = wn_ledger_i_get64(p + 29);
        link->jump_seq = wn_ledger_i_get64(p + 37);
    }
    return need;
}

int wn_ledger_i_split(uint64_t i, const MDB_val *v, wn_ledger_rec *rec)
{
    size_t head = 32 + 32 * (size_t)wn_ledger_i_nhashes(i);
    if (v->mv_size <= head) return WN_LEDGER_ECORRUPT;
    const uint8_t *p = v->mv_data;
    size_t ll = link_decode(p + head, v->mv_size - head, &rec->link);
    if (ll == 0 || v->mv_size - head - ll == 0 || v->mv_size - head - ll > WN_LEDGER_MAX_ENTRY)
        return WN_LEDGER_ECORRUPT;
    rec->chain = p;
    rec->hashes = p + 32;
    rec->entry = p + head + ll;
    rec->len = v->mv_size - head - ll;
    return WN_LEDGER_OK;
}

int wn_ledger_i_rec(wn_ledger *l, MDB_txn *txn, uint64_t i, wn_ledger_rec *rec)
{
    uint8_t kb[8];
    wn_ledger_i_be64(kb, i);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, l->entries, &k, &v);
    if (rc) return wn_ledger_i_err(rc);
    return wn_ledger_i_split(i, &v, rec);
}

int wn_ledger_i_count(wn_ledger *l, MDB_txn *txn, uint64_t *n)
{
    MDB_stat st;
    int rc = mdb_stat(txn, l->entries, &st);
    if (rc) return wn_ledger_i_err(rc);
    *n = st.ms_entries;
    return WN_LEDGER_OK;
}

int wn_ledger_i_hash(void *reader, unsigned level, uint64_t k, uint8_t out[32])
{
    struct wn_ledger_reader *r = reader;
    if (r->cache && level >= WN_CACHE_MIN_LEVEL && level < 64) {
        if (k < r->cache->n[level]) {
            memcpy(out, r->cache->lv[level][k], 32);
            return 1;
        }
        r->missed = 1;
    }
    if (level > 63 || k >= (UINT64_MAX >> level)) { /* (k+1) << level must fit */
        r->err = WN_LEDGER_ERANGE;
        return 0;
    }
    uint64_t e = ((k + 1) << level) - 1;
    uint8_t kb[8];
    wn_ledger_i_be64(kb, e);
    MDB_val key = {8, kb}, val;
    int rc = mdb_get(r->txn, r->dbi, &key, &val);
    if (rc) {
        r->err = rc == MDB_NOTFOUND ? WN_LEDGER_ENOTFOUND : wn_ledger_i_err(rc);
        return 0;
    }
    if (val.mv_size <= 32 + 32 * (size_t)wn_ledger_i_nhashes(e)) {
        r->err = WN_LEDGER_ECORRUPT;
        return 0;
    }
    memcpy(out, (const uint8_t *)val.mv_data + 32 + 32 * (size_t)level, 32);
    return 1;
}

/* Error after a merkle.h call failed although its arguments were checked: a hash that
 * must exist (the size said so) could not be read. */
static int read_failure(const struct wn_ledger_reader *r)
{
    if (r->err == WN_LEDGER_OK || r->err == WN_LEDGER_ENOTFOUND || r->err == WN_LEDGER_ERANGE)
        return WN_LEDGER_ECORRUPT;
    return r->err;
}

int wn_ledger_size(wn_ledger *l, uint64_t *size)
{
    if (!l || !size) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    int err = wn_ledger_i_rtxn(l, &txn);
    if (err) return err;
    err = wn_ledger_i_count(l, txn, size);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

/* Tree reads (roots and proofs): a read transaction, its entry count, and the hash
 * cache held shared for the duration. tree_end fills the cache if it missed. */
static int tree_begin(wn_ledger *l, struct wn_ledger_reader *rd, uint64_t *count)
{
    int err = wn_ledger_i_rtxn(l, &rd->txn);
    if (err) return err;
    if ((err = wn_ledger_i_count(l, rd->txn, count))) {
        wn_ledger_i_rtxn_done(l, rd->txn);
        return err;
    }
    rd->l = NULL;
    rd->dbi = l->entries;
    rd->err = WN_LEDGER_OK;
    rd->cache = &l->cache;
    rd->missed = 0;
    pthread_rwlock_rdlock(&l->cache.lk);
    return WN_LEDGER_OK;
}

static void tree_end(wn_ledger *l, struct wn_ledger_reader *rd, uint64_t count)
{
    pthread_rwlock_unlock(&l->cache.lk);
    if (rd->missed) wn_ledger_i_cache_fill(l, rd->txn, count);
    wn_ledger_i_rtxn_done(l, rd->txn);
}

int wn_ledger_root(wn_ledger *l, uint64_t size, uint8_t root[32])
{
    if (!l || !root) return WN_LEDGER_EINVAL;
    struct wn_ledger_reader rd;
    uint64_t count = 0;
    int err = tree_begin(l, &rd, &count);
    if (err) return err;
    if (size > count) err = WN_LEDGER_ERANGE;
    else if (!wn_merkle_root(root, size, wn_ledger_i_hash, &rd)) err = read_failure(&rd);
    tree_end(l, &rd, count);
    return err;
}

int wn_ledger_prove_inclusion(wn_ledger *l, uint64_t index, uint64_t size,
                              uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len)
{
    if (!l || !proof || !len) return WN_LEDGER_EINVAL;
    struct wn_ledger_reader rd;
    uint64_t count = 0;
    int err = tree_begin(l, &rd, &count);
    if (err) return err;
    if (size > count || index >= size) err = WN_LEDGER_ERANGE;
    else if (!wn_merkle_prove_inclusion(proof, len, index, size, wn_ledger_i_hash, &rd))
        err = read_failure(&rd);
    tree_end(l, &rd, count);
    return err;
}

int wn_ledger_prove_consistency(wn_ledger *l, uint64_t m, uint64_t n,
                                uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len)
{
    if (!l || !proof || !len || m == 0 || m > n) return WN_LEDGER_EINVAL;
    struct wn_ledger_reader rd;
    uint64_t count = 0;
    int err = tree_begin(l, &rd, &count);
    if (err) return err;
    if (n > count) err = WN_LEDGER_ERANGE;
    else if (!wn_merkle_prove_consistency(proof, len, m, n, wn_ledger_i_hash, &rd))
        err = read_failure(&rd);
    tree_end(l, &rd, count);
    return err;
}

int wn_ledger_get(wn_ledger *l, uint64_t index, uint8_t *buf, size_t cap, size_t *len,
                  uint8_t leaf[32], uint8_t chain[32])
{
    if (!l || !len || (!buf && cap)) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    wn_ledger_rec rec;
    int err = wn_ledger_i_rtxn(l, &txn);
    if (err) return err;
    if ((err = wn_ledger_i_rec(l, txn, index, &rec)) == WN_LEDGER_OK) {
        *len = rec.len;
        if (rec.len > cap) {
            err = WN_LEDGER_ESPACE;
        } else {
            memcpy(buf, rec.entry, rec.len);
            if (leaf) memcpy(leaf, rec.hashes, 32);
            if (chain) memcpy(chain, rec.chain, 32);
        }
    }
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

int wn_ledger_find(wn_ledger *l, const uint8_t meter[32], uint64_t seq, uint64_t *index)
{
    if (!l || !meter || !index) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    uint32_t num = 0;
    uint64_t hseq = 0, hidx = 0;
    int err = wn_ledger_i_rtxn(l, &txn);
    if (err) return err;
    if ((err = wn_ledger_i_meter(l, txn, meter, &num, &hseq, &hidx, NULL)) == WN_LEDGER_OK)
        err = wn_ledger_i_find(l, txn, num, hseq, hidx, seq, index);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

int wn_ledger_meter_last(wn_ledger *l, const uint8_t meter[32], uint64_t *seq, uint64_t *index)
{
    if (!l || !meter || !seq || !index) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    uint32_t num;
    int err = wn_ledger_i_rtxn(l, &txn);
    if (err) return err;
    err = wn_ledger_i_meter(l, txn, meter, &num, seq, index, NULL);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

int wn_ledger_get_checkpoint(wn_ledger *l, uint64_t size, char *buf, size_t cap, size_t *len,
                             uint64_t *found_size)
{
    if (!l || !len || (!buf && cap)) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur;
    uint8_t kb[8];
    MDB_val k = {8, kb}, v;
    int err = wn_ledger_i_rtxn(l, &txn), rc;
    if (err) return err;
    if ((rc = mdb_cursor_open(txn, l->checkpoints, &cur))) {
        wn_ledger_i_rtxn_done(l, txn);
        return wn_ledger_i_err(rc);
    }
    wn_ledger_i_be64(kb, size);
    rc = mdb_cursor_get(cur, &k, &v, size == 0 ? MDB_LAST : MDB_SET_KEY);
    if (rc) {
        err = wn_ledger_i_err(rc);
    } else if (k.mv_size != 8 || v.mv_size == 0) {
        err = WN_LEDGER_ECORRUPT;
    } else {
        *len = v.mv_size;
        if (found_size) *found_size = wn_ledger_i_get64(k.mv_data);
        if (v.mv_size >= cap) {
            err = WN_LEDGER_ESPACE;
        } else {
            memcpy(buf, v.mv_data, v.mv_size);
            buf[v.mv_size] = '\0';
        }
    }
    mdb_cursor_close(cur);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

int wn_ledger_iterate(wn_ledger *l, uint64_t from, uint64_t to, wn_ledger_visit fn, void *ctx)
{
    if (!l || !fn) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    uint64_t count = 0;
    int err = wn_ledger_i_rtxn(l, &txn), rc;
    if (err) return err;
    if ((err = wn_ledger_i_count(l, txn, &count))) goto out;
    if (from > to || to > count) { err = WN_LEDGER_ERANGE; goto out; }
    if (from == to) goto out;
    if ((rc = mdb_cursor_open(txn, l->entries, &cur))) { err = wn_ledger_i_err(rc); goto out; }

    uint8_t kb[8];
    wn_ledger_i_be64(kb, from);
    MDB_val k = {8, kb}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    for (uint64_t i = from; i < to; i++) {
        wn_ledger_rec rec;
        if (i > from) rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        if (rc) { err = rc == MDB_NOTFOUND ? WN_LEDGER_ECORRUPT : wn_ledger_i_err(rc); break; }
        if (k.mv_size != 8 || wn_ledger_i_get64(k.mv_data) != i) { err = WN_LEDGER_ECORRUPT; break; }
        if ((err = wn_ledger_i_split(i, &v, &rec))) break;
        if ((err = fn(ctx, i, rec.entry, rec.len, rec.hashes, rec.chain)) != 0) break;
    }
out:
    if (cur) mdb_cursor_close(cur);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

int wn_ledger_iterate_checkpoints(wn_ledger *l, wn_ledger_cp_visit fn, void *ctx)
{
    if (!l || !fn) return WN_LEDGER_EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int err = wn_ledger_i_rtxn(l, &txn), rc;
    if (err) return err;
    if ((rc = mdb_cursor_open(txn, l->checkpoints, &cur))) {
        wn_ledger_i_rtxn_done(l, txn);
        return wn_ledger_i_err(rc);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || v.mv_size == 0) { err = WN_LEDGER_ECORRUPT; break; }
        if ((err = fn(ctx, wn_ledger_i_get64(k.mv_data), v.mv_data, v.mv_size)) != 0) break;
    }
    if (rc && rc != MDB_NOTFOUND) err = wn_ledger_i_err(rc);
    mdb_cursor_close(cur);
    wn_ledger_i_rtxn_done(l, txn);
    return err;
}

/* ---- public hash reader ------------------------------------------------------------- */

int wn_ledger_reader_begin(wn_ledger *l, wn_ledger_reader **out)
{
    if (!l || !out) return WN_LEDGER_EINVAL;
    wn_ledger_reader *r = calloc(1, sizeof *r);
    if (!r) return WN_LEDGER_EIO;
    int err = wn_ledger_i_rtxn(l, &r->txn);
    if (err) {
        free(r);
        return err;
    }
    r->l = l;
    r->dbi = l->entries;
    r->cache = NULL;
    *out = r;
    return WN_LEDGER_OK;
}

int wn_ledger_reader_hash(void *reader, unsigned level, uint64_t index, uint8_t out[32])
{
    return reader ? wn_ledger_i_hash(reader, level, index, out) : 0;
}

void wn_ledger_reader_end(wn_ledger_reader *r)
{
    if (!r) return;
    wn_ledger_i_rtxn_done(r->l, r->txn);
    free(r);
}
