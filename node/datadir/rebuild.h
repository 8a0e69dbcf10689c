/* rebuild.h — a store derived from the ledger: an LMDB environment in its own directory
 * (MDB_NOSYNC: it can always be rebuilt) whose "meta" database says which ledger prefix it
 * reflects: "format" -> u32, "applied" -> u64 W, "chain" -> the chain hash of entry W-1.
 * Opening checks that watermark against the ledger; a store that is unreadable, of an
 * unknown format, ahead of the ledger or another ledger's (chain hash differs) is wiped and
 * rebuilt from the ledger, once; so is one whose data.mdb is shorter than its LMDB meta page
 * says (checked before it is mapped: ledger/lmdb_file.h). The per-meter state
 * (node/ingest/state.c) and the certificates' balances (node/certs/certs_state.c) are such
 * stores. */
#ifndef WN_NODE_REBUILD_H
#define WN_NODE_REBUILD_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

#define WN_REBUILD_MAX_DBS 8

typedef struct {
    const char *name;       /* "state", "certs": starts each log line */
    const char *dir;        /* the env's directory (made 0750 if absent) */
    size_t map_size;
    size_t map_max;         /* > map_size: the map grows on demand up to this (node/datadir/envgate.h);
                               the store's transactions then go through wn_envgate_* */
    unsigned max_dbs;       /* named databases the env may hold (0: meta and dbs only) */
    uint32_t format;        /* what "format" must hold */
    const char *dbs[WN_REBUILD_MAX_DBS]; /* the store's own databases besides "meta", NULL-ended */
    /* Reads the store's records into memory; called when the watermark agrees with the
     * ledger (not for a new env). Returns: 1, or 0 with *why when it must be rebuilt. */
    int (*load)(void *ctx, MDB_txn *txn, const MDB_dbi *dbi, const char **why);
    /* Applies ledger entries from the store's applied watermark to size, in memory and in
     * the env, and advances the watermark. Returns: 1 on success. */
    int (*replay)(void *ctx, uint64_t size);
    /* Forgets what load and replay put in memory (before a rebuild). */
    void (*reset)(void *ctx);
    void *ctx;
} wn_rebuild_spec;

/* Opens the store, loads it and replays it up to the ledger's size, rebuilding it from an
 * empty env if it cannot be used. Returns: 1 on success (*env open, *meta and dbi[] valid,
 * *applied = the ledger's size); 0 after logging why.
 * Out: env, meta, dbi (one per spec->dbs entry), applied (read by spec->replay). */
int wn_rebuild_open(const wn_rebuild_spec *spec, wn_ledger *ledger, MDB_env **env, MDB_dbi *meta, MDB_dbi *dbi,
                    uint64_t *applied);

/* The ledger's chain hash of entry index. Returns: 1 if read. */
int wn_rebuild_chain(wn_ledger *ledger, uint64_t index, uint8_t chain[32]);

/* Writes "format", "applied" and "chain" into meta in txn. Returns: an LMDB code. */
int wn_rebuild_put_meta(MDB_txn *txn, MDB_dbi meta, uint32_t format, uint64_t applied, const uint8_t chain[32]);

#endif
