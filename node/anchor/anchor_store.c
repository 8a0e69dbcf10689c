/* anchor_store.c — anchor records in a node-owned LMDB environment (see anchor_store.h). */
#include "node/anchor/anchor_store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/encoding.h"
#include "node/log.h"

#define REC_FIXED 258
#define REC_MAX (REC_FIXED + WN_ETHTX_MAX)
#define MAP_SIZE (1ULL << 30)

struct wn_anchor_store {
    MDB_env *env;
    MDB_dbi dbi;
};

const char *wn_anchor_state_name(int state)
{
    switch (state) {
    case WN_ANCHOR_PENDING: return "pending";
    case WN_ANCHOR_MINED: return "mined";
    case WN_ANCHOR_CONFIRMED: return "confirmed";
    default: return "unknown";
    }
}

static size_t encode(const wn_anchor_rec *r, uint8_t *p)
{
    memset(p, 0, REC_FIXED);
    p[0] = 1;
    p[1] = (uint8_t)r->state;
    p[2] = (uint8_t)r->tx_type;
    p[3] = r->has_prev ? 1 : 0;
    wn_put_u64(p + 4, r->size);
    memcpy(p + 12, r->root, 32);
    wn_put_u64(p + 44, r->chain_id);
    memcpy(p + 52, r->from, 20);
    wn_put_u64(p + 72, r->nonce);
    wn_put_u64(p + 80, r->gas_limit);
    wn_put_u64(p + 88, r->gas_price);
    wn_put_u64(p + 96, r->max_priority_fee);
    wn_put_u64(p + 104, r->max_fee);
    memcpy(p + 112, r->tx_hash, 32);
    memcpy(p + 144, r->prev_hash, 32);
    wn_put_u32(p + 176, r->attempts);
    wn_put_u32(p + 180, r->reanchors);
    wn_put_u64(p + 184, r->first_sent_ms);
    wn_put_u64(p + 192, r->sent_ms);
    wn_put_u64(p + 200, r->block_number);
    memcpy(p + 208, r->block_hash, 32);
    wn_put_u64(p + 240, r->block_time);
    wn_put_u64(p + 248, r->confirmations);
    wn_put_u16(p + 256, (uint16_t)r->raw_len);
    memcpy(p + REC_FIXED, r->raw, r->raw_len);
    return REC_FIXED + r->raw_len;
}

static int decode(const uint8_t *p, size_t len, wn_anchor_rec *r)
{
    if (len < REC_FIXED || p[0] != 1) return 0;
    size_t raw = wn_get_u16(p + 256);
    if (raw > WN_ETHTX_MAX || len != REC_FIXED + raw) return 0;
    memset(r, 0, sizeof *r);
    r->state = p[1];
    r->tx_type = p[2];
    r->has_prev = p[3] & 1;
    r->size = wn_get_u64(p + 4);
    memcpy(r->root, p + 12, 32);
    r->chain_id = wn_get_u64(p + 44);
    memcpy(r->from, p + 52, 20);
    r->nonce = wn_get_u64(p + 72);
    r->gas_limit = wn_get_u64(p + 80);
    r->gas_price = wn_get_u64(p + 88);
    r->max_priority_fee = wn_get_u64(p + 96);
    r->max_fee = wn_get_u64(p + 104);
    memcpy(r->tx_hash, p + 112, 32);
    memcpy(r->prev_hash, p + 144, 32);
    r->attempts = wn_get_u32(p + 176);
    r->reanchors = wn_get_u32(p + 180);
    r->first_sent_ms = wn_get_u64(p + 184);
    r->sent_ms = wn_get_u64(p + 192);
    r->block_number = wn_get_u64(p + 200);
    memcpy(r->block_hash, p + 208, 32);
    r->block_time = wn_get_u64(p + 240);
    r->confirmations = wn_get_u64(p + 248);
    r->raw_len = raw;
    memcpy(r->raw, p + REC_FIXED, raw);
    return r->state >= WN_ANCHOR_PENDING && r->state <= WN_ANCHOR_CONFIRMED;
}

int wn_anchor_store_open(wn_anchor_store **out, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        wn_log("anchor: cannot create %s: %s", dir, strerror(errno));
        return 0;
    }
    wn_anchor_store *s = calloc(1, sizeof *s);
    if (!s) return 0;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&s->env);
    if (!rc) rc = mdb_env_set_maxdbs(s->env, 2);
    if (!rc) rc = mdb_env_set_mapsize(s->env, MAP_SIZE);
    /* MDB_NOTLS: read transactions are not tied to threads (HTTP handler threads read). */
    if (!rc) rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    if (!rc) rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, "anchors", MDB_CREATE, &s->dbi);
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (rc) {
        if (txn) mdb_txn_abort(txn);
        wn_log("anchor: cannot open the anchor store %s: %s", dir, mdb_strerror(rc));
        if (s->env) mdb_env_close(s->env);
        free(s);
        return 0;
    }
    *out = s;
    return 1;
}

void wn_anchor_store_close(wn_anchor_store *s)
{
    if (!s) return;
    mdb_env_close(s->env);
    free(s);
}

int wn_anchor_store_put(wn_anchor_store *s, const wn_anchor_rec *r)
{
    uint8_t buf[REC_MAX], key[8];
    if (r->raw_len > WN_ETHTX_MAX) return 0;
    wn_put_u64(key, r->size);
    MDB_val k = {8, key}, v = {encode(r, buf), buf};
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) {
        rc = mdb_put(txn, s->dbi, &k, &v, 0);
        if (rc) mdb_txn_abort(txn);
        else rc = mdb_txn_commit(txn);
    }
    if (rc) wn_log("anchor: cannot store the anchor of size %llu: %s", (unsigned long long)r->size, mdb_strerror(rc));
    return rc == 0;
}

int wn_anchor_store_get(wn_anchor_store *s, uint64_t size, wn_anchor_rec *r)
{
    uint8_t key[8];
    wn_put_u64(key, size);
    MDB_val k = {8, key}, v;
    MDB_txn *txn;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) return -1;
    int rc = mdb_get(txn, s->dbi, &k, &v);
    int out = rc == MDB_NOTFOUND ? 0 : rc ? -1 : decode(v.mv_data, v.mv_size, r) ? 1 : -1;
    mdb_txn_abort(txn);
    return out;
}

int wn_anchor_store_iterate(wn_anchor_store *s, uint64_t from, wn_anchor_visit fn, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) return -1;
    if (mdb_cursor_open(txn, s->dbi, &cur)) {
        mdb_txn_abort(txn);
        return -1;
    }
    wn_anchor_rec *r = malloc(sizeof *r);
    uint8_t key[8];
    wn_put_u64(key, from);
    MDB_val k = {8, key}, v;
    int out = r ? 0 : -1;
    int rc = r ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;
    while (out == 0 && rc == 0) {
        if (k.mv_size != 8 || !decode(v.mv_data, v.mv_size, r)) {
            out = -1;
            break;
        }
        out = fn(ctx, r);
        if (out) break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND) out = -1;
    free(r);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return out;
}
