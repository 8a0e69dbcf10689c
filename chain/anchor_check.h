/* anchor_check.h — what `wn verify-anchor` and `wn anchors` check about one anchoring
 * transaction (docs/PROTOCOL.md §15), from what a chain's JSON-RPC endpoint reports:
 *   - the reported fields rebuild a transaction whose Keccak-256 is the transaction's
 *     hash (so the fields are the signed ones, not a lying endpoint's invention);
 *   - the sender is recovered from the signature (not taken from the reported `from`);
 *   - the recipient is the sender itself and the value is 0 (an anchor moves nothing and
 *     touches no contract);
 *   - the data field is an anchor (chain/anchor_data.h);
 *   - the receipt says it succeeded, its block is the canonical block at that height, and
 *     the block's time and the confirmations (head − block + 1) are read.
 * Findings are filled in; deciding what is acceptable is the commands' job. */
#ifndef WN_ANCHOR_CHECK_H
#define WN_ANCHOR_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "chain/anchor_data.h"
#include "chain/ethrpc.h"

typedef struct {
    uint8_t tx_hash[32];
    int found;                 /* the endpoint knows the transaction */
    int rebuildable;           /* its fields describe a transaction we can rebuild */
    int hash_ok;               /* the rebuilt signed transaction hashes to tx_hash */
    int sender_ok;             /* a sender was recovered from the signature */
    uint8_t sender[WN_ETH_ADDR_LEN];
    uint8_t reported_from[WN_ETH_ADDR_LEN];
    int to_self;               /* sent to its own (recovered) sender */
    int has_to;                /* 0: a contract creation (no recipient) */
    uint8_t to[WN_ETH_ADDR_LEN];
    int value_zero;            /* the value is 0 wei */
    uint8_t value[32];         /* wei, big-endian */
    int type;
    uint64_t chain_id, nonce;
    int is_anchor;             /* data starts with the magic */
    int data_ok;               /* ... and decodes */
    wn_anchor_data data;
    int mined;                 /* a receipt with a block exists */
    int status;                /* the receipt's: 1 success, 0 failed, -1 absent */
    uint64_t block_number;
    uint8_t block_hash[32];
    int canonical;             /* the block at that height is the receipt's block */
    uint64_t block_time;       /* seconds */
    uint64_t confirmations;    /* head - block + 1 */
} wn_cli_anchor;

/* Checks the transaction's own fields (signature, hash, data) from t. No RPC. */
void wn_cli_anchor_from_tx(const wn_eth_txinfo *t, wn_cli_anchor *a);

/* Fetches the transaction, its receipt and its block, and checks them; head is the
 * current block number. Returns: WN_ETHRPC_OK or the RPC error (wn_ethrpc_detail says why). */
int wn_cli_anchor_fetch(wn_ethrpc *rpc, const uint8_t tx_hash[32], uint64_t head, wn_cli_anchor *a);

/* Receipt, canonical block and time for an anchor whose fields were checked. */
int wn_cli_anchor_receipt(wn_ethrpc *rpc, uint64_t head, wn_cli_anchor *a);

/* Whether a (checked) transaction is shaped as an anchor must be: sent to its own sender,
 * with value 0 (PROTOCOL §15). Returns: NULL if so, else the named reason ("wrong recipient:
 * ...", "non-zero value: ...") written into why[0..cap). */
const char *wn_cli_anchor_shape_problem(const wn_cli_anchor *a, char *why, size_t cap);

/* "YYYY-MM-DDTHH:MM:SSZ" of a block time. */
void wn_cli_block_time(char out[32], uint64_t seconds);

#endif
