/* bureau.c — the durable key-value store behind bureau.h: one LMDB environment with a
 * named database per table, every write its own fsync'd transaction (writes are rare: a
 * plan, a production figure, an acknowledgement). */
#include "node/monitor/bureau.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/log.h"

#define BUREAU_MAP_SIZE (1ULL << 30)

static const char *const table_names[WN_BT_COUNT] = {"settings", "plans", "production", "acks", "gaps",
                                                             "labels", "label_log", "value_added"};

struct wn_bureau {
    MDB_env *env;
    MDB_dbi dbi[WN_BT_COUNT];
};

int wn_bureau_open(wn_bureau **out, const char *dir)
{
    wn_bureau *b = calloc(1, sizeof *b);
    if (!b) return 0;
    MDB_txn *txn = NULL;
    int rc;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        wn_log("bureau: cannot create %s: %s", dir, strerror(errno));
        free(b);
        return 0;
    }
    if ((rc = mdb_env_create(&b->env))) goto fail;
    if ((rc = mdb_env_set_maxdbs(b->env, WN_BT_COUNT)) || (rc = mdb_env_set_mapsize(b->env, BUREAU_MAP_SIZE)) ||
        (rc = mdb_env_open(b->env, dir, MDB_NOTLS, 0640)))
        goto fail;
    if ((rc = mdb_txn_begin(b->env, NULL, 0, &txn))) goto fail;
    for (int t = 0; t < WN_BT_COUNT; t++)
        if ((rc = mdb_dbi_open(txn, table_names[t], MDB_CREATE, &b->dbi[t]))) goto fail;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) goto fail;
    *out = b;
    return 1;
fail:
    wn_log("bureau: cannot open %s: %s", dir, mdb_strerror(rc));
    if (txn) mdb_txn_abort(txn);
    if (b->env) mdb_env_close(b->env);
    free(b);
    return 0;
}

void wn_bureau_close(wn_bureau *b)
{
    if (!b) return;
    mdb_env_close(b->env);
    free(b);
}

int wn_bureau_put(wn_bureau *b, int table, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (table < 0 || table >= WN_BT_COUNT) return 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (!rc) {
        MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
        rc = mdb_put(txn, b->dbi[table], &k, &v, 0);
        if (rc) mdb_txn_abort(txn);
        else rc = mdb_txn_commit(txn);
    }
    if (rc) wn_log("bureau: writing %s failed: %s", table_names[table], mdb_strerror(rc));
    return rc == 0;
}

int wn_bureau_del(wn_bureau *b, int table, const void *key, size_t klen)
{
    if (table < 0 || table >= WN_BT_COUNT) return 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (!rc) {
        MDB_val k = {klen, (void *)key};
        rc = mdb_del(txn, b->dbi[table], &k, NULL);
        if (rc) mdb_txn_abort(txn);
        else rc = mdb_txn_commit(txn);
    }
    if (rc == MDB_NOTFOUND) return 1;
    if (rc) wn_log("bureau: deleting from %s failed: %s", table_names[table], mdb_strerror(rc));
    return rc == 0;
}

int wn_bureau_write(wn_bureau *b, const wn_bureau_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ops[i].table < 0 || ops[i].table >= WN_BT_COUNT) return 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    for (size_t i = 0; i < n && !rc; i++) {
        MDB_val k = {ops[i].klen, (void *)ops[i].key}, v = {ops[i].vlen, (void *)ops[i].val};
        rc = ops[i].del ? mdb_del(txn, b->dbi[ops[i].table], &k, NULL) : mdb_put(txn, b->dbi[ops[i].table], &k, &v, 0);
        if (rc == MDB_NOTFOUND && ops[i].del) rc = 0;
    }
    if (!rc) rc = mdb_txn_commit(txn);
    else if (txn) mdb_txn_abort(txn);
    if (rc) wn_log("bureau: a write of %zu records failed: %s", n, mdb_strerror(rc));
    return rc == 0;
}

static int each(wn_bureau *b, int table, const void *prefix, size_t plen, int from, wn_bureau_visit fn, void *ctx);

int wn_bureau_each(wn_bureau *b, int table, const void *prefix, size_t plen, wn_bureau_visit fn, void *ctx)
{
    return each(b, table, prefix, plen, 0, fn, ctx);
}

int wn_bureau_each_from(wn_bureau *b, int table, const void *start, size_t slen, wn_bureau_visit fn, void *ctx)
{
    return each(b, table, start, slen, 1, fn, ctx);
}

static int each(wn_bureau *b, int table, const void *prefix, size_t plen, int from, wn_bureau_visit fn, void *ctx)
{
    if (table < 0 || table >= WN_BT_COUNT) return 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    if (mdb_txn_begin(b->env, NULL, MDB_RDONLY, &txn)) return 0;
    if (mdb_cursor_open(txn, b->dbi[table], &cur)) {
        mdb_txn_abort(txn);
        return 0;
    }
    MDB_val k = {plen, (void *)prefix}, v;
    int rc = plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (plen && !from && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)) break;
        if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size)) break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND;
}
