/* ledger_format.c — what format a ledger directory holds, read without opening it as a
 * ledger, so that a program that refuses it (WN_LEDGER_EVERSION) can say exactly why: a
 * newer format (upgrade this program), an older one (no migration in this program), or
 * not a WaterNotary ledger at all. ledger.c writes the format as meta/"format" = be32. */
#include "ledger/ledger.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_impl.h"

uint32_t wn_ledger_format_current(void) { return WN_LEDGER_FORMAT; }

int wn_ledger_format_of(const char *dir, uint32_t *format)
{
    *format = 0;
    MDB_env *env;
    if (mdb_env_create(&env)) return WN_LEDGER_EIO;
    int rc = mdb_env_set_maxdbs(env, 16);
    if (!rc) rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0640);
    if (rc == EACCES || rc == EROFS) rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0640);
    if (rc) {
        mdb_env_close(env);
        return rc == ENOENT ? WN_LEDGER_ENOTFOUND : WN_LEDGER_EIO;
    }
    MDB_txn *txn;
    MDB_dbi meta;
    int err = WN_LEDGER_ENOTFOUND;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        if (mdb_dbi_open(txn, "meta", 0, &meta) == 0) {
            MDB_val key = {6, (void *)"format"}, val;
            if (mdb_get(txn, meta, &key, &val) == 0 && val.mv_size == 4) {
                *format = wn_ledger_i_get32(val.mv_data);
                err = WN_LEDGER_OK;
            } else {
                err = WN_LEDGER_ECORRUPT;
            }
        }
        mdb_txn_abort(txn);
    } else {
        err = WN_LEDGER_EIO;
    }
    mdb_env_close(env);
    return err;
}

void wn_ledger_version_problem(const char *dir, char *out, size_t cap)
{
    uint32_t found;
    int e = wn_ledger_format_of(dir, &found);
    if (e == WN_LEDGER_ENOTFOUND)
        snprintf(out, cap, "%s is an LMDB database but not a WaterNotary ledger (no format record)", dir);
    else if (e)
        snprintf(out, cap, "the format record of the ledger in %s is damaged (%s)", dir, wn_ledger_strerror(e));
    else if (found > WN_LEDGER_FORMAT)
        snprintf(out, cap,
                 "the ledger in %s has format %u, newer than this program's format %u: it was written by a newer "
                 "WaterNotary; install that version again (a ledger is never converted back)",
                 dir, found, WN_LEDGER_FORMAT);
    else
        snprintf(out, cap,
                 "the ledger in %s has format %u, older than this program's format %u, and this program has no "
                 "conversion from it; keep the older WaterNotary for it",
                 dir, found, WN_LEDGER_FORMAT);
}
