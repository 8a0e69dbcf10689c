/* anchor_store.h — the node's record of its anchors (docs/PROTOCOL.md §15): one record per
 * anchored checkpoint, keyed by tree size, in a node-owned LMDB environment DIR/anchors
 * (database "anchors", key u64 big-endian size). The anchoring thread writes; HTTP
 * handlers read concurrently.
 *
 * A record is written before its transaction is broadcast (so a crash right after sending
 * cannot lose the nonce or the hash), and again whenever its state changes. DURABILITY:
 * wn_anchor_store_put returns 1 only after mdb_txn_commit returned 0 (LMDB's default
 * sync mode: fsync'd).
 *
 * Record layout (version 1, node-private, all integers big-endian):
 *   0 version 0x01 | 1 state | 2 tx type | 3 flags (bit 0: prev hash valid)
 *   4 size u64 | 12 root 32 | 44 chain id u64 | 52 from 20 | 72 nonce u64
 *   80 gas limit u64 | 88 gas price u64 | 96 max priority fee u64 | 104 max fee u64
 *   112 tx hash 32 | 144 prev tx hash 32 | 176 attempts u32 | 180 reanchors u32
 *   184 first sent ms u64 | 192 sent ms u64 | 200 block number u64 | 208 block hash 32
 *   240 block time (s) u64 | 248 confirmations u64 | 256 raw length u16 | 258 raw tx */
#ifndef WN_NODE_ANCHOR_STORE_H
#define WN_NODE_ANCHOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/ethtx.h"

enum wn_anchor_state {
    WN_ANCHOR_PENDING = 1,   /* sent (or about to be), not in a block */
    WN_ANCHOR_MINED = 2,     /* in a block, fewer confirmations than configured */
    WN_ANCHOR_CONFIRMED = 3  /* in a block with the configured confirmations: final */
};

typedef struct {
    uint64_t size;
    uint8_t root[32];
    int state;                /* enum wn_anchor_state */
    uint64_t chain_id;
    uint8_t from[WN_ETH_ADDR_LEN];
    int tx_type;              /* enum wn_ethtx_type */
    uint64_t nonce, gas_limit, gas_price, max_priority_fee, max_fee;
    uint8_t tx_hash[32];      /* the latest transaction sent */
    int has_prev;
    uint8_t prev_hash[32];    /* the one it replaced (fee bump), which may still be mined */
    uint32_t attempts;        /* transactions signed for this checkpoint */
    uint32_t reanchors;       /* times the anchor was lost (reorganisation, dropped) and sent again */
    uint64_t first_sent_ms, sent_ms; /* wall clock */
    uint64_t lost_ms;         /* in memory only, not stored: when a mined anchor was first found gone */
    uint64_t block_number;    /* MINED / CONFIRMED */
    uint8_t block_hash[32];
    uint64_t block_time;      /* the block's timestamp, seconds */
    uint64_t confirmations;   /* at the last check */
    uint8_t raw[WN_ETHTX_MAX];
    size_t raw_len;
} wn_anchor_rec;

typedef struct wn_anchor_store wn_anchor_store;

/* Opens (creating) the environment in directory dir. Returns: 1 on success (logs why not). */
int wn_anchor_store_open(wn_anchor_store **out, const char *dir);
void wn_anchor_store_close(wn_anchor_store *s);

/* Writes r (replacing the record of r->size). Returns: 1 when durable. */
int wn_anchor_store_put(wn_anchor_store *s, const wn_anchor_rec *r);

/* Reads the record of size. Returns: 1 found, 0 none, -1 error. */
int wn_anchor_store_get(wn_anchor_store *s, uint64_t size, wn_anchor_rec *r);

/* Calls fn for each record with size >= from, ascending, until fn returns non-zero (which
 * is returned). Returns: 0 after the last record, fn's value, or -1 on a storage error. */
typedef int (*wn_anchor_visit)(void *ctx, const wn_anchor_rec *r);
int wn_anchor_store_iterate(wn_anchor_store *s, uint64_t from, wn_anchor_visit fn, void *ctx);

/* The state's name: "pending", "mined", "confirmed". */
const char *wn_anchor_state_name(int state);

#endif
