/* ethrpc.h — a small Ethereum JSON-RPC client (HTTP POST via libcurl, JSON via cJSON)
 * for anchoring checkpoints (docs/PROTOCOL.md §15): the node's anchoring thread sends and
 * tracks transactions with it, and `wn verify-anchor` / `wn anchors` read the chain with
 * it. It speaks the standard eth_* methods that public Ethereum and consortium chains
 * (Geth, Besu, Quorum, anvil) expose.
 *
 * It lives in chain/, the one home of the Ethereum code (Keccak, RLP, transactions, this
 * client, the anchor data and its checks), which the node and the CLI both use; it is the
 * only file of the tree besides the node's HTTP and the CLI's that speaks to a network.
 *
 * One wn_ethrpc handle per thread (it keeps one libcurl handle and its connection).
 * Every call returns WN_ETHRPC_OK or an error; wn_ethrpc_strerror names it and
 * wn_ethrpc_detail says what happened (the RPC's error message, the transport's reason).
 * Hex quantities are read as "0x" and 1..16 hex digits (u64); wider values are a
 * protocol error. Byte fields ("0x" + even hex) are read into fixed arrays. */
#ifndef WN_ETHRPC_H
#define WN_ETHRPC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/ethtx.h"

typedef struct wn_ethrpc wn_ethrpc;

enum wn_ethrpc_err {
    WN_ETHRPC_OK = 0,
    WN_ETHRPC_ETRANSPORT, /* no answer: connection refused, timeout, HTTP status other than 200 */
    WN_ETHRPC_EPROTO,     /* the answer is not JSON-RPC or a field is malformed */
    WN_ETHRPC_ERPC,       /* the node answered with a JSON-RPC error object (see detail) */
    WN_ETHRPC_ENOMEM,
    WN_ETHRPC_EABORT      /* the abort flag was raised during the call */
};
const char *wn_ethrpc_strerror(int err);

/* Opens a client for url (http:// or https://). timeout_ms bounds each call (connect and
 * transfer). abort (may be NULL) is polled during calls: when it becomes non-zero the
 * call ends with WN_ETHRPC_EABORT, so a thread can be stopped promptly. Call from a
 * thread-safe context (libcurl's global init). Returns: 1 on success. */
int wn_ethrpc_open(wn_ethrpc **out, const char *url, unsigned timeout_ms, const atomic_int *abort);
void wn_ethrpc_close(wn_ethrpc *c);

/* Why the last call failed, in words ("" after success). Valid until the next call. */
const char *wn_ethrpc_detail(const wn_ethrpc *c);
/* The JSON-RPC error code of the last WN_ETHRPC_ERPC (0 otherwise). */
long wn_ethrpc_rpc_code(const wn_ethrpc *c);

/* Calls method with params (a JSON array as text, e.g. "[\"latest\",false]").
 * Out: *result_json, the "result" member as compact JSON text (malloc'd; "null" for a
 * JSON null). Returns: WN_ETHRPC_OK or an error. */
int wn_ethrpc_call(wn_ethrpc *c, const char *method, const char *params, char **result_json);

/* ---- typed calls ---- */

#define WN_ETH_LATEST UINT64_MAX /* block "latest" where a number is taken */

typedef struct {
    int found;             /* 0: no such block */
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent[32];
    uint64_t timestamp;    /* seconds since the epoch */
    int has_base_fee;      /* London and later */
    uint64_t base_fee;     /* baseFeePerGas (wei) */
    size_t ntx;            /* number of transactions */
} wn_eth_block;

typedef struct {
    int found;             /* 0: no receipt (unknown, pending, or dropped by a reorganisation) */
    uint8_t tx_hash[32];
    uint64_t block_number;
    uint8_t block_hash[32];
    int status;            /* 1 success, 0 reverted, -1 absent (pre-Byzantium) */
    uint8_t from[WN_ETH_ADDR_LEN];
    uint64_t gas_used;
} wn_eth_receipt;

/* A transaction as eth_getTransactionByHash / eth_getBlockByNumber(…, true) report it. */
typedef struct {
    int found;             /* 0: unknown to the node */
    uint8_t hash[32];
    int mined;             /* 0: pending (no block yet) */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t from[WN_ETH_ADDR_LEN]; /* as the node reports it (recover it to be sure) */
    int rebuildable;       /* the fields below describe the transaction completely: type 0 or
                              2, an empty access list, data <= WN_ETHTX_DATA_MAX, values in range */
    int type;
    uint64_t chain_id, nonce, gas_price, max_priority_fee, max_fee, gas_limit;
    int has_to;
    uint8_t to[WN_ETH_ADDR_LEN];
    uint8_t value[32];
    uint8_t data[WN_ETHTX_DATA_MAX];
    size_t data_len;
    wn_ethsig sig;
} wn_eth_txinfo;

/* Fills tx from t (tx->data points into t->data). */
void wn_eth_txinfo_tx(const wn_eth_txinfo *t, wn_ethtx *tx);

int wn_ethrpc_chain_id(wn_ethrpc *c, uint64_t *id);
int wn_ethrpc_block_number(wn_ethrpc *c, uint64_t *number);
/* eth_getTransactionCount(addr, tag), tag "latest" or "pending". */
int wn_ethrpc_nonce(wn_ethrpc *c, const uint8_t addr[WN_ETH_ADDR_LEN], const char *tag, uint64_t *nonce);
int wn_ethrpc_gas_price(wn_ethrpc *c, uint64_t *wei);
int wn_ethrpc_max_priority_fee(wn_ethrpc *c, uint64_t *wei);
/* eth_estimateGas of a call from `from` to `to` (value 0) with data. */
int wn_ethrpc_estimate_gas(wn_ethrpc *c, const uint8_t from[WN_ETH_ADDR_LEN], const uint8_t to[WN_ETH_ADDR_LEN],
                           const uint8_t *data, size_t len, uint64_t *gas);
/* eth_sendRawTransaction. Out: hash (may be NULL), the hash the node reports. */
int wn_ethrpc_send_raw(wn_ethrpc *c, const uint8_t *raw, size_t len, uint8_t hash[32]);
int wn_ethrpc_receipt(wn_ethrpc *c, const uint8_t tx_hash[32], wn_eth_receipt *r);
/* eth_getBlockByNumber(number or WN_ETH_LATEST, false). */
int wn_ethrpc_block(wn_ethrpc *c, uint64_t number, wn_eth_block *b);
int wn_ethrpc_block_by_hash(wn_ethrpc *c, const uint8_t hash[32], wn_eth_block *b);
int wn_ethrpc_tx(wn_ethrpc *c, const uint8_t tx_hash[32], wn_eth_txinfo *t);

/* eth_getBlockByNumber(number, true): fills *b and calls fn for each transaction in
 * block order (t valid during the call only). fn returns 0 to go on; anything else stops
 * the walk and is returned as it is. Returns: WN_ETHRPC_OK, an error, or fn's value. */
typedef int (*wn_eth_tx_visit)(void *ctx, const wn_eth_block *b, const wn_eth_txinfo *t);
int wn_ethrpc_block_txs(wn_ethrpc *c, uint64_t number, wn_eth_block *b, wn_eth_tx_visit fn, void *ctx);

/* "0x" + lowercase hex of p[0..len) and a NUL into out (size >= 2*len + 3). */
void wn_eth_hex(char *out, const uint8_t *p, size_t len);
/* Parses "0x" + exactly 2*len hex digits (either case). Returns: 1 on success. */
int wn_eth_parse_bytes(const char *s, uint8_t *out, size_t len);

#endif
