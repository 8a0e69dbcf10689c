/* ledger_cache.c — an in-memory copy of the upper levels of the Merkle tree.
 *
 * An inclusion proof in a tree of n leaves needs about log2(n) stored subtree hashes,
 * each an LMDB B-tree look-up at a random place in the file. The hashes of levels
 * >= WN_CACHE_MIN_LEVEL are few (n / 2^L at level L: n / 8 hashes in all for L >= 4)
 * and are kept here, so a proof reads only its lowest levels from LMDB. Committed
 * stored hashes never change (the ledger is append-only), so the copy is always right.
 * It is filled only from read transactions (committed data, never the writer's own
 * transaction), in index order per level, a bounded amount per call, by one thread at
 * a time; each level holds at most WN_CACHE_MAX_PER_LEVEL hashes (the oldest ones). */
#include "ledger/ledger_impl.h"

#include <stdlib.h>
#include <string.h>

#define FILL_BUDGET 4096 /* LMDB reads per fill call */

void wn_ledger_i_cache_init(struct wn_ledger_cache *c)
{
    memset(c, 0, sizeof *c);
    /* Writer-preferring, so that a filler is not starved by a steady stream of readers
     * (nobody takes lk shared twice in one thread, so this cannot deadlock). */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->lk, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&c->fill_mu, NULL);
}

void wn_ledger_i_cache_free(struct wn_ledger_cache *c)
{
    for (int l = 0; l < 64; l++) free(c->lv[l]);
    pthread_mutex_destroy(&c->fill_mu);
    pthread_rwlock_destroy(&c->lk);
}

/* Makes room for want hashes at level lv. Called with lk held exclusively. */
static int reserve(struct wn_ledger_cache *c, unsigned lv, uint64_t want)
{
    if (want <= c->cap[lv]) return 1;
    uint64_t cap = c->cap[lv] ? c->cap[lv] : 256;
    while (cap < want) cap *= 2;
    if (cap > WN_CACHE_MAX_PER_LEVEL) cap = WN_CACHE_MAX_PER_LEVEL;
    void *p = realloc(c->lv[lv], cap * 32);
    if (!p) return 0;
    c->lv[lv] = p;
    c->cap[lv] = cap;
    return 1;
}

void wn_ledger_i_cache_fill(wn_ledger *l, MDB_txn *txn, uint64_t count)
{
    struct wn_ledger_cache *c = &l->cache;
    struct wn_ledger_reader rd = {NULL, txn, l->entries, WN_LEDGER_OK, NULL, 0};
    unsigned budget = FILL_BUDGET;
    if (pthread_mutex_trylock(&c->fill_mu) != 0) return; /* another thread is filling */
    uint8_t (*tmp)[32] = malloc((size_t)FILL_BUDGET * 32);
    /* Highest levels first: they are few and every proof uses them. Only this thread
     * changes n[], so reading it without lk is safe. */
    for (unsigned lv = 63; tmp && lv >= WN_CACHE_MIN_LEVEL && budget; lv--) {
        uint64_t have = c->n[lv], limit = count >> lv, got = 0;
        if (limit > WN_CACHE_MAX_PER_LEVEL) limit = WN_CACHE_MAX_PER_LEVEL;
        if (have >= limit) continue;
        while (have + got < limit && got < budget) {
            if (!wn_ledger_i_hash(&rd, lv, have + got, tmp[got])) break;
            got++;
        }
        if (got == 0) break;
        pthread_rwlock_wrlock(&c->lk);
        int ok = reserve(c, lv, have + got);
        if (ok) {
            memcpy(c->lv[lv][have], tmp, got * 32);
            c->n[lv] = have + got;
        }
        pthread_rwlock_unlock(&c->lk);
        if (!ok) break;
        budget -= (unsigned)got;
    }
    free(tmp);
    pthread_mutex_unlock(&c->fill_mu);
}
