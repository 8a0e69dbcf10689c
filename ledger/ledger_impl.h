/* ledger_impl.h — private to ledger/ledger*.c: the wn_ledger struct, the pool of read
 * transactions, the LMDB hash reader and the byte helpers shared by the write path
 * (ledger.c) and the read path (ledger_read.c). Nothing outside ledger/ includes this. */
#ifndef WN_LEDGER_IMPL_H
#define WN_LEDGER_IMPL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>

#include "ledger/ledger.h"

#define WN_LEDGER_FORMAT 1u
#define WN_LEDGER_POOL 32 /* reset read transactions kept for reuse */

/* In-memory copy of the stored subtree hashes of the upper levels (ledger_cache.c).
 * Stored hashes never change once committed, so a copy never goes stale. lv[L][K] is
 * valid for K < n[L]; readers hold lk shared; one filler at a time (fill_mu) reads
 * from LMDB without lk and publishes under lk exclusive. */
#define WN_CACHE_MIN_LEVEL 4              /* levels below are read from LMDB */
#define WN_CACHE_MAX_PER_LEVEL (1u << 17) /* at most 4 MiB per level */
struct wn_ledger_cache {
    pthread_rwlock_t lk;
    pthread_mutex_t fill_mu;
    uint8_t (*lv[64])[32];
    uint64_t n[64], cap[64];
};

struct wn_ledger {
    MDB_env *env;
    MDB_dbi meta, entries, meters, heads, mseq, checkpoints;
    int rdonly;
    pthread_mutex_t pool_mu; /* guards pool[] and npool */
    MDB_txn *pool[WN_LEDGER_POOL];
    unsigned npool;
    struct wn_ledger_cache cache;
};

/* A wn_hash_reader context over the entries DB of one transaction (read or write).
 * err records why the last read failed (a wn_ledger_err). */
struct wn_ledger_reader {
    wn_ledger *l;   /* set for public readers (to return txn to the pool) */
    MDB_txn *txn;
    MDB_dbi dbi;
    int err;
    const struct wn_ledger_cache *cache; /* NULL, or consulted first (caller holds lk shared) */
    int missed;                          /* a cacheable hash was not in the cache */
};

/* The hash reader: subtree (level, k) lives in entry ((k+1) << level) - 1 at offset
 * 32 + 32*level. Zero-copy apart from the 32 bytes written to out. */
int wn_ledger_i_hash(void *reader, unsigned level, uint64_t k, uint8_t out[32]);

/* Takes a read transaction (renewed from the pool, or new). Returns a wn_ledger_err. */
int wn_ledger_i_rtxn(wn_ledger *l, MDB_txn **txn);
/* Resets it and returns it to the pool (or aborts it if the pool is full). */
void wn_ledger_i_rtxn_done(wn_ledger *l, MDB_txn *txn);

/* The hash cache: init/free with the ledger; fill copies the committed hashes of txn
 * (a read transaction seeing count entries) into the cache, a bounded amount per call,
 * and only if no other thread is using the cache exclusively. */
void wn_ledger_i_cache_init(struct wn_ledger_cache *c);
void wn_ledger_i_cache_free(struct wn_ledger_cache *c);
void wn_ledger_i_cache_fill(wn_ledger *l, MDB_txn *txn, uint64_t count);

/* Begins the write transaction. Returns a wn_ledger_err. */
int wn_ledger_i_wtxn(wn_ledger *l, MDB_txn **txn);

/* Number of entries as seen by txn. */
int wn_ledger_i_count(wn_ledger *l, MDB_txn *txn, uint64_t *n);

/* The meter link stored in every entries value between the hashes and the entry bytes
 * (docs/PROTOCOL.md §8): how the entry is indexed by (meter, sequence).
 *   LINK_NONE   not indexed                                           1 byte
 *   LINK_CHAIN  in the meter's chain: meter number, seq, depth in the chain, previous
 *               chain entry, jump entry and the jump entry's seq       1 + 44 bytes
 *   LINK_LOOSE  indexed out of order (seq below the meter's highest): meter number,
 *               seq; the (meter, seq) -> index record is in mseq      1 + 12 bytes */
enum { WN_LINK_NONE = 0x00, WN_LINK_CHAIN = 0x01, WN_LINK_LOOSE = 0x02 };
#define WN_LINK_MAX 45
#define WN_LEDGER_NOIDX UINT64_MAX /* "no entry" in prev / jump */

typedef struct {
    uint8_t kind;
    uint32_t num;                          /* meter number (CHAIN, LOOSE) */
    uint64_t seq;                          /* (CHAIN, LOOSE) */
    uint64_t depth, prev, jump, jump_seq;  /* (CHAIN) */
} wn_ledger_link;

/* One stored entries value, split into its parts (pointers into LMDB's map). */
typedef struct {
    const uint8_t *chain, *hashes, *entry;
    size_t len;
    wn_ledger_link link;
} wn_ledger_rec;

/* Splits the stored entries value of entry i, checking every length.
 * Returns WN_LEDGER_OK or WN_LEDGER_ECORRUPT. */
int wn_ledger_i_split(uint64_t i, const MDB_val *v, wn_ledger_rec *rec);
/* Reads and splits entry i in txn (ENOTFOUND if absent). */
int wn_ledger_i_rec(wn_ledger *l, MDB_txn *txn, uint64_t i, wn_ledger_rec *rec);
/* Encodes link into out[0..WN_LINK_MAX). Returns its length. */
size_t wn_ledger_i_link_encode(const wn_ledger_link *link, uint8_t *out);

/* Meter index (ledger_meter.c). A meter known to txn: its number and chain head (the
 * entry with its highest indexed sequence: seq, index and link). ENOTFOUND for an
 * unknown meter. */
int wn_ledger_i_meter(wn_ledger *l, MDB_txn *txn, const uint8_t meter[32], uint32_t *num,
                      uint64_t *head_seq, uint64_t *head_idx, wn_ledger_link *head /* or NULL */);
/* Index of (meter number, seq): walks the meter's chain from its head, then looks in mseq. */
int wn_ledger_i_find(wn_ledger *l, MDB_txn *txn, uint32_t num, uint64_t head_seq, uint64_t head_idx,
                     uint64_t seq, uint64_t *index);
/* Write path: indexes (meter, seq) for the new entry idx and fills its link.
 * *count caches the meter counter for the transaction (-1: not loaded yet).
 * Returns WN_LEDGER_EEXISTS if (meter, seq) is already indexed. */
int wn_ledger_i_index(wn_ledger *l, MDB_txn *txn, const uint8_t meter[32], uint64_t seq,
                      uint64_t idx, int64_t *count, wn_ledger_link *link);
/* Writes the meter counter back to meta (after wn_ledger_i_index bumped it). */
int wn_ledger_i_put_count(wn_ledger *l, MDB_txn *txn, uint32_t count);

/* Maps an LMDB return code to a wn_ledger_err. */
int wn_ledger_i_err(int rc);

/* Number of hashes stored with entry i: 1 + trailing one bits of i (merkle.h). */
static inline unsigned wn_ledger_i_nhashes(uint64_t i)
{
    return ~i ? 1u + (unsigned)__builtin_ctzll(~i) : 65u;
}

static inline void wn_ledger_i_be64(uint8_t b[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}
static inline uint64_t wn_ledger_i_get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | b[i];
    return v;
}
static inline void wn_ledger_i_be32(uint8_t b[4], uint32_t v)
{
    for (int i = 3; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}
static inline uint32_t wn_ledger_i_get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#endif
