/* envgate.h — an LMDB environment whose map grows on demand (the node's state env, which
 * the per-meter state and the monitor share).
 *
 * LMDB's map size is fixed while transactions run: mdb_env_set_mapsize may be called only
 * when no transaction of the process is active (it may move the map). The gate is a
 * process-wide read-write lock attached to the env (mdb_env_set_userctx): every
 * transaction runs holding it shared, and growing takes it exclusively, so the map is never
 * moved under a reader. A write transaction first doubles the map when more than half of it
 * is in use; one that still fails with MDB_MAP_FULL is aborted, the map doubled, and the
 * caller retries. An env without a gate attached gets plain LMDB calls. */
#ifndef WN_NODE_ENVGATE_H
#define WN_NODE_ENVGATE_H

#include <lmdb.h>
#include <stddef.h>

/* Attaches a gate to an open env; the map may grow up to max bytes (set_mapsize failing,
 * e.g. for want of address space, stops the growth). Returns: 1, or 0 (out of memory). */
int wn_envgate_attach(MDB_env *env, size_t max, const char *name);

/* Detaches the gate (if any) and closes the env. No transaction may be active. */
void wn_envgate_close(MDB_env *env);

/* Begins a transaction holding the gate (a write transaction grows the map first when more
 * than half of it is in use). Returns: an LMDB code; on failure the gate is not held. */
int wn_envgate_begin(MDB_env *env, unsigned flags, MDB_txn **txn);

/* Ends a transaction begun by wn_envgate_begin: rc == 0 commits it (read transactions are
 * simply ended), any other rc aborts it; then the gate is left. When the result is
 * MDB_MAP_FULL the map has been grown (if it could be) and the caller may retry.
 * Returns: rc, or the commit's result. */
int wn_envgate_end(MDB_env *env, MDB_txn *txn, int rc);

/* Aborts a transaction begun by wn_envgate_begin (how read transactions end) and leaves
 * the gate. */
void wn_envgate_abort(MDB_env *env, MDB_txn *txn);

#endif
