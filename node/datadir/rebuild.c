/* rebuild.c — opening a store derived from the ledger, else wiping and rebuilding it
 * (rebuild.h): the one loop that the per-meter state and the certificates share. */
#include "node/datadir/rebuild.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "ledger/lmdb_file.h"
#include "node/datadir/envgate.h"
#include "node/log.h"

int wn_rebuild_chain(wn_ledger *ledger, uint64_t index, uint8_t chain[32])
{
    uint8_t tmp[1];
    size_t len;
    int err = wn_ledger_get(ledger, index, tmp, 0, &len, NULL, chain);
    if (err == WN_LEDGER_ESPACE) {
        uint8_t *buf = malloc(len ? len : 1);
        err = buf ? wn_ledger_get(ledger, index, buf, len, &len, NULL, chain) : WN_LEDGER_EIO;
        free(buf);
    }
    return err == WN_LEDGER_OK;
}

int wn_rebuild_put_meta(MDB_txn *txn, MDB_dbi meta, uint32_t format, uint64_t applied, const uint8_t chain[32])
{
    uint8_t a[8], f[4];
    wn_put_u64(a, applied);
    wn_put_u32(f, format);
    MDB_val k0 = {6, "format"}, v0 = {4, f}, k1 = {7, "applied"}, v1 = {8, a}, k2 = {5, "chain"},
            v2 = {32, (void *)chain};
    int rc = mdb_put(txn, meta, &k0, &v0, 0);
    if (!rc) rc = mdb_put(txn, meta, &k1, &v1, 0);
    return rc ? rc : mdb_put(txn, meta, &k2, &v2, 0);
}

static int env_open(const wn_rebuild_spec *spec, MDB_env **env, MDB_dbi *meta, MDB_dbi *dbi)
{
    int rc;
    unsigned ndbs = 0;
    while (ndbs < WN_REBUILD_MAX_DBS && spec->dbs[ndbs]) ndbs++;
    if ((rc = mdb_env_create(env))) return rc;
    if ((rc = mdb_env_set_maxdbs(*env, spec->max_dbs ? spec->max_dbs : ndbs + 1)) || (rc = mdb_env_set_mapsize(*env, spec->map_size)) ||
        (rc = mdb_env_open(*env, spec->dir, MDB_NOSYNC | MDB_NOTLS, 0640)))
        goto fail;
    if (spec->map_max > spec->map_size && !wn_envgate_attach(*env, spec->map_max, spec->name)) {
        rc = ENOMEM;
        goto fail;
    }
    for (int attempt = 0;; attempt++) { /* MDB_MAP_FULL in a small growing map: it grew, again */
        MDB_txn *txn;
        if ((rc = wn_envgate_begin(*env, 0, &txn))) goto fail;
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, meta);
        for (unsigned i = 0; i < ndbs && !rc; i++) rc = mdb_dbi_open(txn, spec->dbs[i], MDB_CREATE, &dbi[i]);
        rc = wn_envgate_end(*env, txn, rc); /* commits if rc is 0 (keeps the DBI handles) */
        if (rc != MDB_MAP_FULL || attempt == 8) break;
    }
    if (rc) goto fail;
    return 0;
fail:
    wn_envgate_close(*env);
    *env = NULL;
    return rc;
}

/* Checks the watermark against the ledger of the given size and loads the records.
 * Returns: 1 if usable; 0 (with why) if the store must be rebuilt. */
static int load(const wn_rebuild_spec *spec, wn_ledger *ledger, uint64_t size, MDB_env *env, MDB_dbi meta,
                const MDB_dbi *dbi, uint64_t *applied, const char **why)
{
    MDB_txn *txn;
    MDB_val k, v;
    int ok = 0;
    *why = "unreadable";
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) return 0;
    k = (MDB_val){6, "format"};
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) { /* a new env: the first replay writes records and meta together */
        *applied = 0;
        ok = 1;
        goto out;
    }
    if (rc || v.mv_size != 4 || wn_get_u32(v.mv_data) != spec->format) {
        *why = "of an unknown format";
        goto out;
    }
    k = (MDB_val){7, "applied"};
    if (mdb_get(txn, meta, &k, &v) || v.mv_size != 8) goto out;
    *applied = wn_get_u64(v.mv_data);
    uint8_t chain[32], lchain[32];
    k = (MDB_val){5, "chain"};
    if (mdb_get(txn, meta, &k, &v) || v.mv_size != 32) goto out;
    memcpy(chain, v.mv_data, 32);
    if (*applied > size) {
        *why = "ahead of the ledger";
        goto out;
    }
    if (*applied > 0 && (!wn_rebuild_chain(ledger, *applied - 1, lchain) || memcmp(chain, lchain, 32) != 0)) {
        *why = "not this ledger's (chain hash differs)";
        goto out;
    }
    ok = spec->load(spec->ctx, txn, dbi, why);
out:
    mdb_txn_abort(txn);
    return ok;
}

static void wipe(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
}

int wn_rebuild_open(const wn_rebuild_spec *spec, wn_ledger *ledger, MDB_env **env, MDB_dbi *meta, MDB_dbi *dbi,
                    uint64_t *applied)
{
    uint64_t size;
    int err = wn_ledger_size(ledger, &size);
    if (err) {
        wn_log("%s: cannot read the ledger size: %s", spec->name, wn_ledger_strerror(err));
        return 0;
    }
    if (mkdir(spec->dir, 0750) != 0 && errno != EEXIST) {
        wn_log("%s: cannot create %s: %s", spec->name, spec->dir, strerror(errno));
        return 0;
    }
    *env = NULL;
    /* A data file shorter than its meta page says would be mapped and kill the node with
     * SIGBUS on the first read past its end: wipe it before LMDB sees it. */
    uint64_t need, have;
    int ferr = wn_lmdb_file_check(spec->dir, &need, &have);
    if (ferr == WN_LMDB_FILE_SHORT || ferr == WN_LMDB_FILE_BADMETA) {
        wn_log("%s: %s/data.mdb is %s (%llu bytes, %llu needed); rebuilding it from the ledger", spec->name,
               spec->dir, wn_lmdb_file_strerror(ferr), (unsigned long long)have, (unsigned long long)need);
        wipe(spec->dir);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *why = "unreadable";
        *applied = 0;
        int rc = env_open(spec, env, meta, dbi);
        if (rc == 0 && load(spec, ledger, size, *env, *meta, dbi, applied, &why) && spec->replay(spec->ctx, size))
            return 1;
        if (attempt == 1) break;
        wn_log("%s: %s is %s; rebuilding it from the ledger", spec->name, spec->dir, rc ? mdb_strerror(rc) : why);
        if (*env) wn_envgate_close(*env);
        *env = NULL;
        spec->reset(spec->ctx);
        wipe(spec->dir);
    }
    if (*env) wn_envgate_close(*env);
    *env = NULL;
    wn_log("%s: cannot build it from the ledger", spec->name);
    return 0;
}
