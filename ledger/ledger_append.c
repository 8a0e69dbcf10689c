/* ledger_append.c — wn_ledger_append: one batch, one durable LMDB write transaction.
 *
 * Every new entry gets its leaf hash, the subtree hashes it completes (computed by
 * wn_merkle_append_hashes, which reads earlier hashes through the *write* transaction,
 * so items earlier in the same batch are visible), its chain hash and its meter link
 * (ledger_meter.c); entries are written with MDB_APPEND|MDB_RESERVE (keys are increasing
 * big-endian u64) straight into their page. Any failure aborts the whole transaction;
 * nothing is visible or durable until mdb_txn_commit returns 0 (LMDB's default, fully
 * synchronous mode: data pages fsync'd, then the meta page written synchronously). */
#include "ledger/ledger_impl.h"
#include "crypto/sha256.h"

#include <string.h>

/* Writes the batch inside txn. *bad gets the failing item's position on EEXISTS. */
static int append_in(wn_ledger *l, MDB_txn *txn, const wn_ledger_item *items, size_t n,
                     uint64_t *first, size_t *bad)
{
    MDB_cursor *cur;
    uint64_t next = 0;
    uint8_t chain[32];
    int err, rc;

    if ((err = wn_ledger_i_count(l, txn, &next))) return err;
    if (next > UINT64_MAX - n) return WN_LEDGER_EFULL;
    memset(chain, 0, 32);
    if (next > 0) {
        wn_ledger_rec last;
        if ((err = wn_ledger_i_rec(l, txn, next - 1, &last)))
            return err == WN_LEDGER_ENOTFOUND ? WN_LEDGER_ECORRUPT : err;
        memcpy(chain, last.chain, 32);
    }
    if ((rc = mdb_cursor_open(txn, l->entries, &cur))) return wn_ledger_i_err(rc);
    if (first) *first = next;

    struct wn_ledger_reader rd = {NULL, txn, l->entries, WN_LEDGER_OK, NULL, 0}; /* no cache */
    int64_t meters = -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t idx = next + i;
        uint8_t leaf[32], hashes[64][32], cl[64], link[WN_LINK_MAX];
        wn_merkle_leaf_hash(leaf, items[i].data, items[i].len);
        unsigned h = wn_merkle_append_hashes(hashes, idx, leaf, wn_ledger_i_hash, &rd);
        if (h == 0) { err = rd.err == WN_LEDGER_EIO ? WN_LEDGER_EIO : WN_LEDGER_ECORRUPT; goto out; }
        memcpy(cl, chain, 32); /* chain[i] = SHA-256(chain[i-1] || leaf[i]) */
        memcpy(cl + 32, leaf, 32);
        wn_sha256(chain, cl, sizeof cl);

        wn_ledger_link lk = {WN_LINK_NONE, 0, 0, 0, 0, 0, 0};
        if (items[i].meter) {
            err = wn_ledger_i_index(l, txn, items[i].meter, items[i].seq, idx, &meters, &lk);
            if (err) {
                if (err == WN_LEDGER_EEXISTS && bad) *bad = i;
                goto out;
            }
        }
        size_t ll = wn_ledger_i_link_encode(&lk, link);

        uint8_t kb[8];
        wn_ledger_i_be64(kb, idx);
        size_t head = 32 + 32 * (size_t)h;
        MDB_val k = {8, kb}, v = {head + ll + items[i].len, NULL};
        if ((rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND | MDB_RESERVE))) {
            err = rc == MDB_KEYEXIST ? WN_LEDGER_ECORRUPT : wn_ledger_i_err(rc);
            goto out;
        }
        uint8_t *p = v.mv_data;
        memcpy(p, chain, 32);
        memcpy(p + 32, hashes, 32 * (size_t)h);
        memcpy(p + head, link, ll);
        memcpy(p + head + ll, items[i].data, items[i].len);
    }
    if (meters >= 0) /* loaded, so perhaps bumped: write it back */
        err = wn_ledger_i_put_count(l, txn, (uint32_t)meters);
out:
    mdb_cursor_close(cur);
    return err;
}

int wn_ledger_append(wn_ledger *l, const wn_ledger_item *items, size_t n, uint64_t *first, size_t *bad)
{
    if (!l || !items || n == 0) return WN_LEDGER_EINVAL;
    if (l->rdonly) return WN_LEDGER_ERDONLY;
    for (size_t i = 0; i < n; i++)
        if (!items[i].data || items[i].len == 0 || items[i].len > WN_LEDGER_MAX_ENTRY)
            return WN_LEDGER_EINVAL;

    MDB_txn *txn;
    int err = wn_ledger_i_wtxn(l, &txn);
    if (err) return err;
    err = append_in(l, txn, items, n, first, bad);
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    return wn_ledger_i_err(mdb_txn_commit(txn)); /* durable once this returns 0 */
}
