/* envgate.c — an LMDB environment whose map grows on demand (see envgate.h). */
#include "node/datadir/envgate.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "node/log.h"

typedef struct {
    pthread_rwlock_t lk; /* shared: a transaction runs; exclusive: the map grows */
    size_t max;
    char name[32];
} gate;

int wn_envgate_attach(MDB_env *env, size_t max, const char *name)
{
    gate *g = calloc(1, sizeof *g);
    if (!g) return 0;
    pthread_rwlock_init(&g->lk, NULL);
    g->max = max;
    snprintf(g->name, sizeof g->name, "%s", name);
    if (mdb_env_set_userctx(env, g) != 0) {
        pthread_rwlock_destroy(&g->lk);
        free(g);
        return 0;
    }
    return 1;
}

void wn_envgate_close(MDB_env *env)
{
    if (!env) return;
    gate *g = mdb_env_get_userctx(env);
    mdb_env_close(env);
    if (g) {
        pthread_rwlock_destroy(&g->lk);
        free(g);
    }
}

/* Bytes of the map in use and the map's size. */
static void usage(MDB_env *env, uint64_t *used, uint64_t *map)
{
    MDB_envinfo info;
    MDB_stat st;
    *used = *map = 0;
    if (mdb_env_info(env, &info) || mdb_env_stat(env, &st)) return;
    *used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    *map = info.me_mapsize;
}

/* Doubles the map (up to max) if it is still more than half used, or unconditionally
 * after MDB_MAP_FULL. Takes the gate exclusively: no transaction of the process runs. A
 * caller may hold a lock that a transaction in another thread waits for (the monitor's):
 * so the wait is bounded, and growing is left for a later transaction if it times out. */
static void grow(MDB_env *env, gate *g, int full)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    int e = pthread_rwlock_timedwrlock(&g->lk, &ts);
    if (e) {
        wn_log("%s: cannot grow the LMDB map now (%s): transactions still run", g->name,
               e == ETIMEDOUT ? "timed out" : "lock error");
        return;
    }
    uint64_t used, map;
    usage(env, &used, &map);
    if (map && (full || used * 2 > map) && map < g->max) {
        uint64_t want = map * 2 > g->max ? g->max : map * 2;
        int rc = mdb_env_set_mapsize(env, (size_t)want);
        if (rc)
            wn_log("%s: cannot grow the LMDB map from %llu to %llu bytes: %s", g->name, (unsigned long long)map,
                   (unsigned long long)want, mdb_strerror(rc));
        else
            wn_log("%s: LMDB map grown from %llu to %llu bytes (%llu in use)", g->name, (unsigned long long)map,
                   (unsigned long long)want, (unsigned long long)used);
    }
    pthread_rwlock_unlock(&g->lk);
}

int wn_envgate_begin(MDB_env *env, unsigned flags, MDB_txn **txn)
{
    gate *g = mdb_env_get_userctx(env);
    if (!g) return mdb_txn_begin(env, NULL, flags, txn);
    if (!(flags & MDB_RDONLY)) {
        uint64_t used, map;
        pthread_rwlock_rdlock(&g->lk);
        usage(env, &used, &map);
        pthread_rwlock_unlock(&g->lk);
        if (map && used * 2 > map && map < g->max) grow(env, g, 0);
    }
    pthread_rwlock_rdlock(&g->lk);
    int rc = mdb_txn_begin(env, NULL, flags, txn);
    if (rc) pthread_rwlock_unlock(&g->lk);
    return rc;
}

int wn_envgate_end(MDB_env *env, MDB_txn *txn, int rc)
{
    gate *g = mdb_env_get_userctx(env);
    if (rc == 0) rc = mdb_txn_commit(txn);
    else mdb_txn_abort(txn);
    if (!g) return rc;
    pthread_rwlock_unlock(&g->lk);
    if (rc == MDB_MAP_FULL) grow(env, g, 1);
    return rc;
}

void wn_envgate_abort(MDB_env *env, MDB_txn *txn)
{
    (void)wn_envgate_end(env, txn, -1);
}
