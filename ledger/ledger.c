/* ledger.c — opening and closing the LMDB ledger, error names, the pool of reusable read
 * transactions, and storing checkpoints. Appending is in ledger_append.c, the meter
 * index in ledger_meter.c, reading in ledger_read.c, the in-memory copy of the upper
 * tree levels in ledger_cache.c; docs/PROTOCOL.md §8 is the layout.
 *
 * The environment is opened with LMDB's default (fully synchronous) commit, MDB_NOTLS
 * (read transactions are pooled and used from any thread) and a 1 TiB map: the map is
 * only address space, data.mdb grows as pages are written. */
#include "ledger/ledger_impl.h"
#include "ledger/lmdb_file.h"
#include "ledger/tlog/merkle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAP_SIZE ((size_t)1 << 40) /* 1 TiB of address space; the file grows as needed */
#define MAP_SIZE_MIN ((size_t)1 << 32) /* where address space is limited, halve down to this */
#define MAX_READERS 256

static const char K_FORMAT[] = "format";

const char *wn_ledger_strerror(int err)
{
    switch (err) {
    case WN_LEDGER_OK: return "success";
    case WN_LEDGER_EIO: return "ledger I/O or LMDB error";
    case WN_LEDGER_ECORRUPT: return "ledger data is corrupt";
    case WN_LEDGER_EEXISTS: return "already in the ledger";
    case WN_LEDGER_ENOTFOUND: return "not found in the ledger";
    case WN_LEDGER_ERANGE: return "index or size beyond the tree";
    case WN_LEDGER_EINVAL: return "invalid argument";
    case WN_LEDGER_EFULL: return "ledger is full (LMDB map or transaction)";
    case WN_LEDGER_EVERSION: return "unknown ledger format version";
    case WN_LEDGER_ESPACE: return "buffer too small";
    case WN_LEDGER_ERDONLY: return "ledger is open read-only";
    case WN_LEDGER_ETRUNCATED: return "data.mdb is truncated or damaged (shorter than its LMDB meta page says)";
    default: return "unknown ledger error";
    }
}

int wn_ledger_i_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return WN_LEDGER_OK;
    case MDB_NOTFOUND: return WN_LEDGER_ENOTFOUND;
    case MDB_KEYEXIST: return WN_LEDGER_EEXISTS;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL: return WN_LEDGER_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_BAD_VALSIZE: return WN_LEDGER_ECORRUPT;
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID: return WN_LEDGER_EVERSION;
    default: return WN_LEDGER_EIO;
    }
}

/* ---- read transaction pool ---------------------------------------------------------- */

int wn_ledger_i_rtxn(wn_ledger *l, MDB_txn **txn)
{
    MDB_txn *t = NULL;
    pthread_mutex_lock(&l->pool_mu);
    if (l->npool) t = l->pool[--l->npool];
    pthread_mutex_unlock(&l->pool_mu);
    if (t) {
        if (mdb_txn_renew(t) == 0) { *txn = t; return WN_LEDGER_OK; }
        mdb_txn_abort(t);
    }
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t);
    if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt its size */
        if (mdb_env_set_mapsize(l->env, 0) == 0) rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t);
    }
    if (rc) return wn_ledger_i_err(rc);
    *txn = t;
    return WN_LEDGER_OK;
}

void wn_ledger_i_rtxn_done(wn_ledger *l, MDB_txn *txn)
{
    mdb_txn_reset(txn);
    pthread_mutex_lock(&l->pool_mu);
    if (l->npool < WN_LEDGER_POOL) {
        l->pool[l->npool++] = txn;
        txn = NULL;
    }
    pthread_mutex_unlock(&l->pool_mu);
    if (txn) mdb_txn_abort(txn);
}

/* ---- open / close ------------------------------------------------------------------- */

static int env_open_sized(MDB_env **out, const char *dir, unsigned env_flags, size_t map)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc) return rc;
    if ((rc = mdb_env_set_maxdbs(env, 8)) || (rc = mdb_env_set_mapsize(env, map)) ||
        (rc = mdb_env_set_maxreaders(env, MAX_READERS)) ||
        (rc = mdb_env_open(env, dir, env_flags, 0640))) {
        mdb_env_close(env);
        return rc;
    }
    *out = env;
    return 0;
}

/* Opens the environment with the largest map the process may have (mmap fails with
 * ENOMEM under an address-space limit such as ulimit -v). */
static int env_open(MDB_env **out, const char *dir, unsigned env_flags)
{
    size_t map = MAP_SIZE;
    int rc;
    while ((rc = env_open_sized(out, dir, env_flags, map)) == ENOMEM && map > MAP_SIZE_MIN) map /= 2;
    return rc;
}

/* Opens the six named DBs inside txn; creates them (and writes the format) on a fresh
 * writable ledger. */
static int open_dbs(wn_ledger *l, MDB_txn *txn)
{
    unsigned create = l->rdonly ? 0 : MDB_CREATE;
    int rc = mdb_dbi_open(txn, "meta", 0, &l->meta);
    int fresh = 0;
    if (rc == MDB_NOTFOUND) {
        if (l->rdonly) return WN_LEDGER_ENOTFOUND;
        /* A fresh environment; refuse to adopt an LMDB environment used for other data. */
        MDB_dbi main;
        MDB_stat st;
        if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) || (rc = mdb_stat(txn, main, &st)))
            return wn_ledger_i_err(rc);
        if (st.ms_entries != 0) return WN_LEDGER_EVERSION;
        if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &l->meta))) return wn_ledger_i_err(rc);
        fresh = 1;
    } else if (rc) {
        return wn_ledger_i_err(rc);
    }

    MDB_val key = {sizeof K_FORMAT - 1, (void *)K_FORMAT}, val;
    if (fresh) {
        uint8_t v[4];
        wn_ledger_i_be32(v, WN_LEDGER_FORMAT);
        val.mv_size = 4;
        val.mv_data = v;
        if ((rc = mdb_put(txn, l->meta, &key, &val, 0))) return wn_ledger_i_err(rc);
    } else {
        rc = mdb_get(txn, l->meta, &key, &val);
        if (rc == MDB_NOTFOUND) return WN_LEDGER_EVERSION;
        if (rc) return wn_ledger_i_err(rc);
        if (val.mv_size != 4 || wn_ledger_i_get32(val.mv_data) != WN_LEDGER_FORMAT)
            return WN_LEDGER_EVERSION;
    }

    if ((rc = mdb_dbi_open(txn, "entries", create, &l->entries)) ||
        (rc = mdb_dbi_open(txn, "meters", create, &l->meters)) ||
        (rc = mdb_dbi_open(txn, "heads", create, &l->heads)) ||
        (rc = mdb_dbi_open(txn, "mseq", create, &l->mseq)) ||
        (rc = mdb_dbi_open(txn, "checkpoints", create, &l->checkpoints)))
        return rc == MDB_NOTFOUND ? WN_LEDGER_ECORRUPT : wn_ledger_i_err(rc);

    /* The entry keys must be exactly 0 .. count-1. */
    MDB_stat st;
    if ((rc = mdb_stat(txn, l->entries, &st))) return wn_ledger_i_err(rc);
    if (st.ms_entries) {
        MDB_cursor *c;
        MDB_val k, v;
        if ((rc = mdb_cursor_open(txn, l->entries, &c))) return wn_ledger_i_err(rc);
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
        mdb_cursor_close(c);
        if (rc) return wn_ledger_i_err(rc);
        if (k.mv_size != 8 || wn_ledger_i_get64(k.mv_data) != st.ms_entries - 1)
            return WN_LEDGER_ECORRUPT;
    }
    return WN_LEDGER_OK;
}

int wn_ledger_open(wn_ledger **out, const char *dir, unsigned flags)
{
    if (!out || !dir || (flags & ~WN_LEDGER_RDONLY)) return WN_LEDGER_EINVAL;
    *out = NULL;
    int rdonly = (flags & WN_LEDGER_RDONLY) != 0;
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT) return WN_LEDGER_EIO;
        if (rdonly) return WN_LEDGER_ENOTFOUND;
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) return WN_LEDGER_EIO;
    } else if (!S_ISDIR(sb.st_mode)) {
        return WN_LEDGER_EINVAL;
    }

    /* A data file shorter than LMDB's meta page says would be mapped and kill the process
     * with SIGBUS at the first read past its end. */
    int ferr = wn_lmdb_file_check(dir, NULL, NULL);
    if (ferr == WN_LMDB_FILE_SHORT || ferr == WN_LMDB_FILE_BADMETA) return WN_LEDGER_ETRUNCATED;

    wn_ledger *l = calloc(1, sizeof *l);
    if (!l) return WN_LEDGER_EIO;
    l->rdonly = rdonly;
    unsigned env_flags = MDB_NOTLS | (rdonly ? MDB_RDONLY : 0);
    int rc = env_open(&l->env, dir, env_flags);
    if (rdonly && (rc == EACCES || rc == EROFS)) /* read-only media: no lock file possible */
        rc = env_open(&l->env, dir, env_flags | MDB_NOLOCK);
    if (rc) {
        free(l);
        return rc == ENOENT ? WN_LEDGER_ENOTFOUND : wn_ledger_i_err(rc);
    }
    int dead;
    (void)mdb_reader_check(l->env, &dead); /* clear slots of crashed readers */

    MDB_txn *txn;
    rc = mdb_txn_begin(l->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
    int err = rc ? wn_ledger_i_err(rc) : open_dbs(l, txn);
    if (!rc) {
        if (err == WN_LEDGER_OK) {
            rc = mdb_txn_commit(txn); /* keeps the DBI handles */
            if (rc) err = wn_ledger_i_err(rc);
        } else {
            mdb_txn_abort(txn);
        }
    }
    if (err) {
        mdb_env_close(l->env);
        free(l);
        return err;
    }
    pthread_mutex_init(&l->pool_mu, NULL);
    wn_ledger_i_cache_init(&l->cache);
    *out = l;
    return WN_LEDGER_OK;
}

void wn_ledger_close(wn_ledger *l)
{
    if (!l) return;
    for (unsigned i = 0; i < l->npool; i++) mdb_txn_abort(l->pool[i]);
    pthread_mutex_destroy(&l->pool_mu);
    wn_ledger_i_cache_free(&l->cache);
    mdb_env_close(l->env);
    free(l);
}

int wn_ledger_i_wtxn(wn_ledger *l, MDB_txn **txn)
{
    int rc = mdb_txn_begin(l->env, NULL, 0, txn);
    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(l->env, 0) == 0)
        rc = mdb_txn_begin(l->env, NULL, 0, txn);
    return wn_ledger_i_err(rc);
}

/* ---- checkpoints -------------------------------------------------------------------- */

int wn_ledger_put_checkpoint(wn_ledger *l, uint64_t size, const char *note, size_t len)
{
    if (!l || !note || len == 0) return WN_LEDGER_EINVAL;
    if (l->rdonly) return WN_LEDGER_ERDONLY;

    MDB_txn *txn;
    int err = wn_ledger_i_wtxn(l, &txn), rc;
    if (err) return err;
    uint64_t count = 0;
    if ((err = wn_ledger_i_count(l, txn, &count))) goto fail;
    if (size > count) { err = WN_LEDGER_ERANGE; goto fail; }

    uint8_t kb[8];
    wn_ledger_i_be64(kb, size);
    MDB_val k = {8, kb}, v = {len, (void *)note};
    rc = mdb_put(txn, l->checkpoints, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        /* v now holds the stored note: identical text is a no-op, anything else refused. */
        err = (v.mv_size == len && memcmp(v.mv_data, note, len) == 0) ? WN_LEDGER_OK : WN_LEDGER_EEXISTS;
        mdb_txn_abort(txn);
        return err;
    }
    if (rc) { err = wn_ledger_i_err(rc); goto fail; }
    return wn_ledger_i_err(mdb_txn_commit(txn));
fail:
    mdb_txn_abort(txn);
    return err;
}
