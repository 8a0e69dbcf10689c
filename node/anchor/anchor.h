/* anchor.h — anchoring checkpoints on an Ethereum-compatible chain (docs/PROTOCOL.md §15).
 *
 * A signed checkpoint stops anyone but the notary from rewriting history; an anchor stops
 * the notary too: every K checkpoints or T milliseconds the anchoring thread sends a
 * transaction, signed with its own secp256k1 key, whose data commits to the latest
 * checkpoint (chain/anchor_data.h). It follows each transaction until it has the
 * configured confirmations, records transaction hash, block number, block hash and block
 * time (anchor_store.h), manages nonces and fees, replaces a transaction stuck in the
 * mempool with higher fees, and anchors again when a reorganisation drops one.
 *
 * The chain being down or slow never stops ingestion: the thread only reads the ledger
 * (checkpoints, size), retries every poll, and catches up with the newest checkpoint when
 * the chain answers again. Its lag (entries and seconds not yet covered by a confirmed
 * anchor) is exported in /metrics and at GET /v1/anchors (anchor_http.c). */
#ifndef WN_NODE_ANCHOR_H
#define WN_NODE_ANCHOR_H

#include <stdint.h>

#include "chain/keccak.h"
#include "ledger/ledger.h"
#include "node/anchor/anchor_store.h"
#include "node/http/parse.h"
#include "node/http/reply.h"

/* wn-node's anchoring options (all off without rpc_url). */
typedef struct {
    const char *rpc_url;      /* --anchor-rpc URL: the chain's JSON-RPC endpoint */
    const char *key_file;     /* --anchor-key FILE (default DIR/anchor.key, created 0600 if absent) */
    uint64_t chain_id;        /* --anchor-chain-id N (required with --anchor-rpc) */
    uint64_t every;           /* --anchor-every K checkpoints */
    uint64_t ms;              /* --anchor-ms T */
    uint64_t confirmations;   /* --anchor-confirmations C */
    uint64_t poll_ms;         /* --anchor-poll-ms P: how often the thread looks at ledger and chain */
    uint64_t replace_ms;      /* --anchor-replace-ms R: an unmined transaction this old is replaced */
} wn_anchor_options;

#define WN_ANCHOR_DEFAULT_EVERY 100
#define WN_ANCHOR_DEFAULT_MS 600000u
#define WN_ANCHOR_DEFAULT_CONFIRMATIONS 6
#define WN_ANCHOR_DEFAULT_POLL_MS 1000u
#define WN_ANCHOR_RPC_TIMEOUT_MS 10000u /* each JSON-RPC call */
#define WN_ANCHOR_DEFAULT_REPLACE_MS 120000u /* unmined this long: replaced with 25% higher fees */
#define WN_ANCHOR_GRACE_MS 3000u        /* a sent transaction may take this long to show */
#define WN_ANCHOR_GAS_FALLBACK 100000u  /* gas limit when eth_estimateGas is refused */

/* Fills the defaults for every option left 0. */
void wn_anchor_options_defaults(wn_anchor_options *o);
/* Checks options before anything is created (URL scheme, chain id given).
 * Returns: 1 if usable; 0 with why filled in. */
int wn_anchor_options_check(const wn_anchor_options *o, char *why, size_t cap);

typedef struct wn_anchorer wn_anchorer;

/* Loads (or creates) the anchoring key, opens DIR/anchors and the JSON-RPC client, reads
 * the records not yet confirmed, and starts the thread. origin is the checkpoints' origin.
 * Returns: 1 on success (logs why not). */
int wn_anchorer_start(wn_anchorer **out, const wn_anchor_options *o, const char *data_dir, wn_ledger *ledger,
                      const char *origin);
/* Stops the thread promptly (a JSON-RPC call in flight is aborted) and closes all. */
void wn_anchorer_stop(wn_anchorer *a);

/* What GET /v1/anchors and /metrics show, as of the thread's last poll. */
typedef struct wn_anchor_status {
    uint8_t address[WN_ETH_ADDR_LEN];
    uint64_t chain_id, confirmations;
    int chain_up;             /* the last JSON-RPC call got an answer */
    int chain_ok;             /* eth_chainId was checked and matched */
    uint64_t checkpoint_size; /* the latest checkpoint seen */
    uint64_t anchored_size;   /* the newest checkpoint with a confirmed anchor (0: none) */
    uint64_t anchored_block, anchored_block_time;
    uint64_t lag_since_ms;    /* wall time the oldest checkpoint not covered by a confirmed
                                 anchor was seen; 0 when every checkpoint seen is covered */
    uint64_t pending;         /* anchors sent, not yet confirmed */
    uint64_t sent, confirmed, reanchored, rpc_errors; /* since start */
    char last_error[240];     /* "" if none since the last success */
} wn_anchor_status;

void wn_anchorer_status(wn_anchorer *a, wn_anchor_status *s);
wn_anchor_store *wn_anchorer_store(wn_anchorer *a);

/* anchor_http.c: GET /v1/anchors[?from=SIZE] and GET /v1/checkpoint/anchor[?size=N]
 * (404 not_found when the node does not anchor). */
struct wn_node;
void wn_node_anchors(struct wn_node *n, wn_query_get get, void *ctx, wn_response *out);
void wn_node_checkpoint_anchor(struct wn_node *n, wn_query_get get, void *ctx, wn_response *out);

#endif
