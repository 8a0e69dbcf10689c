/* ledger_meter.c — the (meter, sequence) -> entry index, kept inside the entries.
 *
 * A B-tree keyed by (meter, seq) would take one random page write per meter per batch
 * (a batch of 100 readings from 100 meters dirties ~100 scattered pages, and fsync'ing
 * scattered pages is what makes a durable commit slow). Instead each meter's entries
 * form a chain stored in the entries themselves, which are written append-only:
 *
 *   - every indexed entry carries a link (ledger_impl.h): the meter's number, the seq,
 *     its depth in the meter's chain, the index of the meter's previous chain entry and
 *     of one earlier "jump" entry (with that entry's seq);
 *   - jumps follow E. W. Myers' applicative random-access stack ("An applicative
 *     random-access stack", IPL 17, 1983): the jump of a node at depth d goes to depth
 *     J(d), a pure function of d, so finding any sequence from the head takes O(log n)
 *     reads and adding a node at most one read;
 *   - the head (highest seq) of each meter is the only thing updated in place: heads
 *     maps the meter number to the head's index, 1000 meters fit in a few pages;
 *   - meters maps a meter id to its number (written once).
 *
 * A sequence at or below the meter's highest that is not yet indexed (the node never
 * does this, but the ledger only records) cannot join the chain, which must stay sorted;
 * it goes to the plain B-tree mseq, (number, seq) -> index, and is found there. */
#include "ledger/ledger_impl.h"

#include <string.h>

static const char K_METERS[] = "meters";

/* Depth of the jump target of the chain node at depth d (Myers): strip the largest
 * numbers of the form 2^k - 1 from d until what is left is one of them, m; J(d) = d - m. */
static uint64_t jump_depth(uint64_t d)
{
    uint64_t x = d;
    if (d == 0) return 0;
    for (;;) {
        unsigned bits = 64u - (unsigned)__builtin_clzll(x);
        uint64_t m = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
        if (m > x) m = (1ULL << (bits - 1)) - 1;
        if (x == m) return d - m;
        x -= m;
    }
}

static int read_node(wn_ledger *l, MDB_txn *txn, uint64_t idx, uint32_t num, wn_ledger_link *out);

int wn_ledger_i_meter(wn_ledger *l, MDB_txn *txn, const uint8_t meter[32], uint32_t *num,
                      uint64_t *head_seq, uint64_t *head_idx, wn_ledger_link *head)
{
    MDB_val k = {32, (void *)meter}, v;
    int rc = mdb_get(txn, l->meters, &k, &v);
    if (rc) return wn_ledger_i_err(rc);
    if (v.mv_size != 4) return WN_LEDGER_ECORRUPT;
    uint8_t nb[4];
    memcpy(nb, v.mv_data, 4);
    *num = wn_ledger_i_get32(nb);
    k.mv_size = 4;
    k.mv_data = nb;
    rc = mdb_get(txn, l->heads, &k, &v);
    if (rc) return rc == MDB_NOTFOUND ? WN_LEDGER_ECORRUPT : wn_ledger_i_err(rc);
    if (v.mv_size != 8) return WN_LEDGER_ECORRUPT;
    *head_idx = wn_ledger_i_get64(v.mv_data);
    wn_ledger_link link;
    int err = read_node(l, txn, *head_idx, *num, &link);
    if (err) return err;
    *head_seq = link.seq;
    if (head) *head = link;
    return WN_LEDGER_OK;
}

/* Reads chain node idx of meter num; it must be a chain link of that meter. */
static int read_node(wn_ledger *l, MDB_txn *txn, uint64_t idx, uint32_t num, wn_ledger_link *out)
{
    wn_ledger_rec rec;
    int err = wn_ledger_i_rec(l, txn, idx, &rec);
    if (err) return err == WN_LEDGER_ENOTFOUND ? WN_LEDGER_ECORRUPT : err;
    if (rec.link.kind != WN_LINK_CHAIN || rec.link.num != num) return WN_LEDGER_ECORRUPT;
    *out = rec.link;
    return WN_LEDGER_OK;
}

/* Walks the chain down from the head to seq. ENOTFOUND if seq is not in the chain. */
static int chain_find(wn_ledger *l, MDB_txn *txn, uint32_t num, uint64_t head_idx, uint64_t seq,
                      uint64_t *index)
{
    wn_ledger_link x;
    uint64_t at = head_idx;
    int err = read_node(l, txn, at, num, &x);
    while (err == WN_LEDGER_OK) {
        if (x.seq == seq) { *index = at; return WN_LEDGER_OK; }
        if (x.seq < seq) return WN_LEDGER_ENOTFOUND;
        uint64_t next = x.jump != WN_LEDGER_NOIDX && x.jump_seq >= seq ? x.jump : x.prev;
        if (next == WN_LEDGER_NOIDX) return WN_LEDGER_ENOTFOUND;
        if (next >= at) return WN_LEDGER_ECORRUPT; /* links only point back: no cycles */
        uint64_t above = x.seq;
        at = next;
        err = read_node(l, txn, at, num, &x);
        if (err == WN_LEDGER_OK && x.seq >= above) return WN_LEDGER_ECORRUPT; /* must be sorted */
    }
    return err;
}

int wn_ledger_i_find(wn_ledger *l, MDB_txn *txn, uint32_t num, uint64_t head_seq, uint64_t head_idx,
                     uint64_t seq, uint64_t *index)
{
    if (seq > head_seq) return WN_LEDGER_ENOTFOUND;
    if (seq == head_seq) { *index = head_idx; return WN_LEDGER_OK; }
    int err = chain_find(l, txn, num, head_idx, seq, index);
    if (err != WN_LEDGER_ENOTFOUND) return err;

    uint8_t kb[12];
    wn_ledger_i_be32(kb, num);
    wn_ledger_i_be64(kb + 4, seq);
    MDB_val k = {12, kb}, v;
    int rc = mdb_get(txn, l->mseq, &k, &v);
    if (rc) return wn_ledger_i_err(rc);
    if (v.mv_size != 8) return WN_LEDGER_ECORRUPT;
    *index = wn_ledger_i_get64(v.mv_data);
    return WN_LEDGER_OK;
}

/* Points the meter's head at entry idx. A new meter's number is above every number in
 * heads, so its record is appended (MDB_APPEND keeps the pages full). */
static int put_head(wn_ledger *l, MDB_txn *txn, uint32_t num, uint64_t idx, int is_new)
{
    uint8_t kb[4], vb[8];
    wn_ledger_i_be32(kb, num);
    wn_ledger_i_be64(vb, idx);
    MDB_val k = {4, kb}, v = {8, vb};
    int rc = mdb_put(txn, l->heads, &k, &v, is_new ? MDB_APPEND : 0);
    return rc == MDB_KEYEXIST ? WN_LEDGER_ECORRUPT : wn_ledger_i_err(rc);
}

static int meter_count(wn_ledger *l, MDB_txn *txn, int64_t *count)
{
    MDB_val key = {sizeof K_METERS - 1, (void *)K_METERS}, val;
    int rc = mdb_get(txn, l->meta, &key, &val);
    if (rc == MDB_NOTFOUND) { *count = 0; return WN_LEDGER_OK; }
    if (rc) return wn_ledger_i_err(rc);
    if (val.mv_size != 4) return WN_LEDGER_ECORRUPT;
    *count = wn_ledger_i_get32(val.mv_data);
    return WN_LEDGER_OK;
}

int wn_ledger_i_put_count(wn_ledger *l, MDB_txn *txn, uint32_t count)
{
    uint8_t cv[4];
    wn_ledger_i_be32(cv, count);
    MDB_val k = {sizeof K_METERS - 1, (void *)K_METERS}, v = {4, cv};
    return wn_ledger_i_err(mdb_put(txn, l->meta, &k, &v, 0));
}

/* A new meter: number count+1, the entry is the root of its chain. */
static int new_meter(wn_ledger *l, MDB_txn *txn, const uint8_t meter[32], uint64_t seq, uint64_t idx,
                     int64_t *count, wn_ledger_link *link)
{
    int err;
    if (*count < 0 && (err = meter_count(l, txn, count))) return err;
    if (*count >= (int64_t)UINT32_MAX) return WN_LEDGER_EFULL;
    uint32_t num = (uint32_t)++*count;
    uint8_t nb[4];
    wn_ledger_i_be32(nb, num);
    MDB_val k = {32, (void *)meter}, v = {4, nb};
    if ((err = wn_ledger_i_err(mdb_put(txn, l->meters, &k, &v, MDB_NOOVERWRITE)))) return err;
    *link = (wn_ledger_link){WN_LINK_CHAIN, num, seq, 0, WN_LEDGER_NOIDX, WN_LEDGER_NOIDX, 0};
    return put_head(l, txn, num, idx, 1);
}

int wn_ledger_i_index(wn_ledger *l, MDB_txn *txn, const uint8_t meter[32], uint64_t seq,
                      uint64_t idx, int64_t *count, wn_ledger_link *link)
{
    uint32_t num;
    uint64_t hseq, hidx, found;
    wn_ledger_link p; /* the head */
    int err = wn_ledger_i_meter(l, txn, meter, &num, &hseq, &hidx, &p);
    if (err == WN_LEDGER_ENOTFOUND) return new_meter(l, txn, meter, seq, idx, count, link);
    if (err) return err;

    if (seq <= hseq) { /* a duplicate, or an out-of-order sequence kept in mseq */
        err = wn_ledger_i_find(l, txn, num, hseq, hidx, seq, &found);
        if (err == WN_LEDGER_OK) return WN_LEDGER_EEXISTS;
        if (err != WN_LEDGER_ENOTFOUND) return err;
        uint8_t kb[12], vb[8];
        wn_ledger_i_be32(kb, num);
        wn_ledger_i_be64(kb + 4, seq);
        wn_ledger_i_be64(vb, idx);
        MDB_val k = {12, kb}, v = {8, vb};
        if ((err = wn_ledger_i_err(mdb_put(txn, l->mseq, &k, &v, MDB_NOOVERWRITE)))) return err;
        *link = (wn_ledger_link){WN_LINK_LOOSE, num, seq, 0, 0, 0, 0};
        return WN_LEDGER_OK;
    }

    /* The new head: prev = old head; jump per Myers = old head or the old head's
     * jump's jump, whichever has depth J(d). */
    uint64_t d = p.depth + 1, jump = hidx, jump_seq = hseq;
    if (jump_depth(d) != p.depth) {
        wn_ledger_link pj;
        if (p.jump == WN_LEDGER_NOIDX || p.jump >= hidx) return WN_LEDGER_ECORRUPT;
        if ((err = read_node(l, txn, p.jump, num, &pj))) return err;
        if (pj.jump == WN_LEDGER_NOIDX || pj.jump >= p.jump) return WN_LEDGER_ECORRUPT;
        jump = pj.jump;
        jump_seq = pj.jump_seq;
    }
    *link = (wn_ledger_link){WN_LINK_CHAIN, num, seq, d, hidx, jump, jump_seq};
    return put_head(l, txn, num, idx, 0);
}
