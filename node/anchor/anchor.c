/* anchor.c — the anchoring thread (see anchor.h).
 *
 * Every poll it: (1) looks at the ledger's latest checkpoint and size (reads only);
 * (2) checks the chain id once per connection; (3) follows every anchor not yet
 * confirmed — receipt, block, confirmations, the block still canonical — and sends again
 * what a reorganisation or the mempool dropped; (4) sends a new anchor for the latest
 * checkpoint when one is due: K checkpoints seen since the last anchor, or T ms since
 * the first of them, and no anchor of ours waiting for its first block (so a slow or
 * dead chain gets one transaction at a time, and the newest checkpoint when it returns).
 *
 * Nonces: each transaction takes eth_getTransactionCount(address, "pending"): the key is
 * the thread's alone (docs/PROTOCOL.md §15), so the chain's count is the truth and nothing
 * is cached that a restart or a reorganisation could make stale. A record is stored
 * before its transaction is broadcast; if the broadcast never arrived the transaction is
 * unknown to the chain and is sent again. Fees: EIP-1559 when blocks carry a base fee
 * (max fee = 2 × base fee + tip), legacy EIP-155 with eth_gasPrice otherwise; an
 * unmined transaction older than --anchor-replace-ms is replaced (same nonce, fees
 * +25%). */
#include "node/anchor/anchor.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keyfile.h"
#include "chain/anchor_data.h"
#include "ledger/tlog/checkpoint.h"
#include "chain/ethrpc.h"
#include "node/log.h"
#include "node/metrics.h"

#define MAX_TRACK 64  /* anchors followed at once (older unconfirmed ones are superseded) */
#define LAG_QUEUE 1024 /* checkpoints seen and not yet covered, for the lag in seconds */

struct wn_anchorer {
    wn_anchor_options opt;
    wn_ledger *ledger;
    char origin[WN_ORIGIN_MAX + 1];
    uint8_t sk[WN_SECKEY_LEN];
    uint8_t addr[WN_ETH_ADDR_LEN];
    char addr_text[WN_ETH_ADDR_TEXT];
    wn_anchor_store *store;
    wn_ethrpc *rpc;
    pthread_t thread;
    int started;
    pthread_mutex_t mu; /* guards st and the wake-up */
    pthread_cond_t cv;
    atomic_int stopping;

    /* the thread's own */
    wn_anchor_rec *tracked[MAX_TRACK];
    size_t ntracked;
    uint64_t newest_sent;   /* the largest size with a record */
    uint64_t last_seen;     /* the latest checkpoint's size */
    uint8_t last_root[32];
    uint64_t cps_since;     /* checkpoints seen above newest_sent */
    uint64_t due_since;     /* monotonic ms the first of them was seen; 0: none */
    struct { uint64_t size, seen_ms; } lagq[LAG_QUEUE];
    size_t lag_head, lag_n;

    wn_anchor_status st;    /* published under mu */
};

/* ---- options ---- */

void wn_anchor_options_defaults(wn_anchor_options *o)
{
    if (!o->every) o->every = WN_ANCHOR_DEFAULT_EVERY;
    if (!o->ms) o->ms = WN_ANCHOR_DEFAULT_MS;
    if (!o->confirmations) o->confirmations = WN_ANCHOR_DEFAULT_CONFIRMATIONS;
    if (!o->poll_ms) o->poll_ms = WN_ANCHOR_DEFAULT_POLL_MS;
    if (!o->replace_ms) o->replace_ms = WN_ANCHOR_DEFAULT_REPLACE_MS;
}

int wn_anchor_options_check(const wn_anchor_options *o, char *why, size_t cap)
{
    if (!o->rpc_url) {
        if (o->key_file || o->chain_id) {
            snprintf(why, cap, "--anchor-key and --anchor-chain-id need --anchor-rpc URL");
            return 0;
        }
        return 1;
    }
    if (strncmp(o->rpc_url, "http://", 7) != 0 && strncmp(o->rpc_url, "https://", 8) != 0) {
        snprintf(why, cap, "--anchor-rpc must be an http:// or https:// URL");
        return 0;
    }
    if (!o->chain_id) {
        snprintf(why, cap, "--anchor-chain-id N is required with --anchor-rpc (transactions are signed for one chain)");
        return 0;
    }
    return 1;
}

/* ---- status ---- */

static void set_error(wn_anchorer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(wn_anchorer *a, const char *fmt, ...)
{
    char msg[sizeof a->st.last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&a->mu);
    int same = strcmp(a->st.last_error, msg) == 0;
    snprintf(a->st.last_error, sizeof a->st.last_error, "%s", msg);
    pthread_mutex_unlock(&a->mu);
    if (!same) wn_log("anchor: %s", msg);
}

/* The chain answered (up = 1) or could not be reached (up = 0). */
static void chain_state(wn_anchorer *a, int up)
{
    pthread_mutex_lock(&a->mu);
    int was = a->st.chain_up;
    a->st.chain_up = up;
    if (!up) {
        a->st.chain_ok = 0; /* check the chain id again when it is back */
        a->st.rpc_errors++;
    }
    pthread_mutex_unlock(&a->mu);
    if (up && !was) wn_log("anchor: the chain answers at %s", a->opt.rpc_url);
}

static void publish(wn_anchorer *a)
{
    pthread_mutex_lock(&a->mu);
    a->st.checkpoint_size = a->last_seen;
    uint64_t pending = 0;
    for (size_t i = 0; i < a->ntracked; i++) pending += a->tracked[i]->state != WN_ANCHOR_CONFIRMED;
    a->st.pending = pending;
    a->st.lag_since_ms = a->lag_n ? a->lagq[a->lag_head].seen_ms : 0;
    wn_metrics_anchor_state m = {.up = a->st.chain_up && a->st.chain_ok, .anchored_size = a->st.anchored_size,
                                 .lag_since_ms = a->st.lag_since_ms, .pending = a->st.pending, .sent = a->st.sent,
                                 .confirmed = a->st.confirmed, .reanchored = a->st.reanchored,
                                 .rpc_errors = a->st.rpc_errors};
    pthread_mutex_unlock(&a->mu);
    wn_metrics_anchor(&m);
}

void wn_anchorer_status(wn_anchorer *a, wn_anchor_status *s)
{
    pthread_mutex_lock(&a->mu);
    *s = a->st;
    pthread_mutex_unlock(&a->mu);
}

wn_anchor_store *wn_anchorer_store(wn_anchorer *a) { return a->store; }

/* An RPC failure (what: the call, for readers of this file; the detail names it too): the
 * transport ones mean the chain is down. Returns: 0. */
static int rpc_failed(wn_anchorer *a, int err, const char *what)
{
    (void)what;
    if (err == WN_ETHRPC_EABORT) return 0;
    if (err == WN_ETHRPC_ETRANSPORT || err == WN_ETHRPC_EPROTO || err == WN_ETHRPC_ENOMEM) {
        int was = a->st.chain_up;
        chain_state(a, 0);
        if (was || !*a->st.last_error)
            set_error(a, "the chain cannot be reached (%s); anchoring waits, ingestion goes on", wn_ethrpc_detail(a->rpc));
        return 0;
    }
    set_error(a, "%s", wn_ethrpc_detail(a->rpc)); /* the detail names the method */
    return 0;
}

/* ---- lag ---- */

static void lag_seen(wn_anchorer *a, uint64_t size)
{
    if (size <= a->st.anchored_size || a->lag_n == LAG_QUEUE) return; /* full: keep the oldest */
    a->lagq[(a->lag_head + a->lag_n) % LAG_QUEUE].size = size;
    a->lagq[(a->lag_head + a->lag_n) % LAG_QUEUE].seen_ms = wn_now_ms();
    a->lag_n++;
}

static void lag_covered(wn_anchorer *a)
{
    while (a->lag_n && a->lagq[a->lag_head].size <= a->st.anchored_size) {
        a->lag_head = (a->lag_head + 1) % LAG_QUEUE;
        a->lag_n--;
    }
}

/* ---- the ledger side ---- */

static void observe(wn_anchorer *a)
{
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    uint64_t size = 0;
    int err = wn_ledger_get_checkpoint(a->ledger, 0, note, sizeof note, &len, &size);
    if (err != WN_LEDGER_OK || size == a->last_seen) return;
    wn_checkpoint cp;
    if (wn_checkpoint_parse(note, len, &cp, NULL) != WN_CHECKPOINT_OK || cp.size != size) {
        wn_log("anchor: the stored checkpoint of size %llu does not parse", (unsigned long long)size);
        return;
    }
    a->last_seen = size;
    memcpy(a->last_root, cp.root, 32);
    if (size > a->newest_sent) {
        a->cps_since++;
        if (!a->due_since) a->due_since = wn_mono_ms();
    }
    lag_seen(a, size);
}

/* ---- building and sending transactions ---- */

/* Fills the fee fields of r from the chain (fresh values). Returns: 1, or 0 after an RPC error. */
static int fees(wn_anchorer *a, wn_anchor_rec *r)
{
    wn_eth_block b;
    int err = wn_ethrpc_block(a->rpc, WN_ETH_LATEST, &b);
    if (err) return rpc_failed(a, err, "reading the latest block");
    if (b.found && b.has_base_fee) {
        uint64_t tip;
        err = wn_ethrpc_max_priority_fee(a->rpc, &tip);
        if (err == WN_ETHRPC_ERPC) tip = 1000000000u; /* not offered: 1 gwei */
        else if (err) return rpc_failed(a, err, "eth_maxPriorityFeePerGas");
        r->tx_type = WN_ETHTX_EIP1559;
        r->max_priority_fee = tip;
        r->max_fee = (b.base_fee > (UINT64_MAX - tip) / 2) ? UINT64_MAX : 2 * b.base_fee + tip;
        r->gas_price = 0;
    } else {
        uint64_t gp;
        if ((err = wn_ethrpc_gas_price(a->rpc, &gp))) return rpc_failed(a, err, "eth_gasPrice");
        r->tx_type = WN_ETHTX_LEGACY;
        r->gas_price = gp;
        r->max_priority_fee = r->max_fee = 0;
    }
    return 1;
}

static uint64_t bump(uint64_t v) { return v > UINT64_MAX / 2 ? UINT64_MAX : v + v / 4 + 1; }

/* Signs r's transaction (its nonce and fee fields are set) into r->raw, r->tx_hash. */
static int sign(wn_anchorer *a, wn_anchor_rec *r)
{
    uint8_t data[WN_ANCHOR_DATA_LEN];
    wn_anchor_data_encode(data, a->origin, r->size, r->root);
    wn_ethtx tx = {.type = r->tx_type, .chain_id = a->opt.chain_id, .nonce = r->nonce, .gas_price = r->gas_price,
                   .max_priority_fee = r->max_priority_fee, .max_fee = r->max_fee, .gas_limit = r->gas_limit,
                   .has_to = 1, .data = data, .data_len = sizeof data};
    memcpy(tx.to, a->addr, WN_ETH_ADDR_LEN); /* to itself, value 0 */
    wn_ethsig sig;
    uint8_t hash[32];
    if (!wn_ethtx_sign(&tx, a->sk, &sig) || !wn_ethtx_encode_signed(&tx, &sig, r->raw, sizeof r->raw, &r->raw_len, hash)) {
        set_error(a, "cannot sign the anchoring transaction");
        return 0;
    }
    if (r->attempts) {
        memcpy(r->prev_hash, r->tx_hash, 32);
        r->has_prev = 1;
    }
    memcpy(r->tx_hash, hash, 32);
    r->attempts++;
    r->chain_id = a->opt.chain_id;
    memcpy(r->from, a->addr, WN_ETH_ADDR_LEN);
    r->sent_ms = wn_now_ms();
    if (!r->first_sent_ms) r->first_sent_ms = r->sent_ms;
    r->state = WN_ANCHOR_PENDING;
    r->block_number = r->block_time = r->confirmations = 0;
    memset(r->block_hash, 0, 32);
    return 1;
}

/* Stores r, then broadcasts it. Returns: 1 if stored (a failed broadcast is retried by
 * tracking: the transaction is then unknown to the chain). */
static int store_and_broadcast(wn_anchorer *a, wn_anchor_rec *r, const char *why)
{
    if (!wn_anchor_store_put(a->store, r)) {
        set_error(a, "cannot store the anchor record of size %llu", (unsigned long long)r->size);
        return 0;
    }
    char h[67];
    wn_eth_hex(h, r->tx_hash, 32);
    int err = wn_ethrpc_send_raw(a->rpc, r->raw, r->raw_len, NULL);
    if (err == WN_ETHRPC_ERPC) {
        const char *d = wn_ethrpc_detail(a->rpc);
        if (strcasestr(d, "already known") || strcasestr(d, "already imported")) err = 0;
        else if (strcasestr(d, "insufficient funds"))
            set_error(a, "the anchoring address %s has too little ether for gas: %s", a->addr_text, d);
        else
            set_error(a, "eth_sendRawTransaction refused the anchor of size %llu: %s", (unsigned long long)r->size, d);
    } else if (err) {
        rpc_failed(a, err, "eth_sendRawTransaction");
    }
    if (!err) {
        pthread_mutex_lock(&a->mu);
        a->st.sent++;
        a->st.last_error[0] = '\0';
        pthread_mutex_unlock(&a->mu);
        wn_log("anchor: %s size %llu in transaction %s (nonce %llu, %s)", why, (unsigned long long)r->size, h,
               (unsigned long long)r->nonce, r->tx_type == WN_ETHTX_EIP1559 ? "EIP-1559" : "EIP-155");
    }
    return 1;
}

/* A new transaction for r with a fresh nonce and fresh fees. Returns: 0 on an RPC error. */
static int send_fresh(wn_anchorer *a, wn_anchor_rec *r, const char *why)
{
    uint8_t data[WN_ANCHOR_DATA_LEN];
    uint64_t nonce, gas;
    int err = wn_ethrpc_nonce(a->rpc, a->addr, "pending", &nonce);
    if (err) return rpc_failed(a, err, "eth_getTransactionCount");
    if (!fees(a, r)) return 0;
    wn_anchor_data_encode(data, a->origin, r->size, r->root);
    err = wn_ethrpc_estimate_gas(a->rpc, a->addr, a->addr, data, sizeof data, &gas);
    if (err == WN_ETHRPC_ERPC) gas = WN_ANCHOR_GAS_FALLBACK;
    else if (err) return rpc_failed(a, err, "eth_estimateGas");
    r->nonce = nonce;
    r->gas_limit = gas;
    if (!sign(a, r)) return 0;
    return store_and_broadcast(a, r, why);
}

/* Replaces r's unmined transaction: same nonce, fees +25%. */
static int send_bump(wn_anchorer *a, wn_anchor_rec *r)
{
    if (r->tx_type == WN_ETHTX_EIP1559) {
        r->max_priority_fee = bump(r->max_priority_fee);
        r->max_fee = bump(r->max_fee);
    } else {
        r->gas_price = bump(r->gas_price);
    }
    if (!sign(a, r)) return 0;
    return store_and_broadcast(a, r, "replacing (fees +25%) the stuck anchor of");
}

/* ---- following anchors ---- */

static void confirmed(wn_anchorer *a, wn_anchor_rec *r)
{
    char h[67];
    wn_eth_hex(h, r->block_hash, 32);
    wn_log("anchor: size %llu confirmed: block %llu (%s), %llu confirmations", (unsigned long long)r->size,
           (unsigned long long)r->block_number, h, (unsigned long long)r->confirmations);
    pthread_mutex_lock(&a->mu);
    a->st.confirmed++;
    if (r->size >= a->st.anchored_size) {
        a->st.anchored_size = r->size;
        a->st.anchored_block = r->block_number;
        a->st.anchored_block_time = r->block_time;
    }
    pthread_mutex_unlock(&a->mu);
    lag_covered(a);
}

/* Follows one anchor. Returns: 1, or 0 when the chain could not be asked (stop this poll). */
static int track(wn_anchorer *a, wn_anchor_rec *r, uint64_t head)
{
    if (r->chain_id != a->opt.chain_id) { /* sent on another chain before a reconfiguration */
        r->attempts = 0;
        r->has_prev = 0;
        return send_fresh(a, r, "anchoring on the configured chain");
    }
    wn_eth_receipt rc;
    int err = wn_ethrpc_receipt(a->rpc, r->tx_hash, &rc);
    if (err) return rpc_failed(a, err, "eth_getTransactionReceipt");
    if (!rc.found && r->has_prev) { /* the transaction it replaced may have won */
        if ((err = wn_ethrpc_receipt(a->rpc, r->prev_hash, &rc))) return rpc_failed(a, err, "eth_getTransactionReceipt");
        if (rc.found) {
        r->lost_ms = 0;
            memcpy(r->tx_hash, r->prev_hash, 32);
            r->has_prev = 0;
        }
    }
    if (rc.found) {
        if (rc.status == 0) {
            r->reanchors++;
            pthread_mutex_lock(&a->mu);
            a->st.reanchored++;
            pthread_mutex_unlock(&a->mu);
            return send_fresh(a, r, "the transaction failed on chain; anchoring again");
        }
        int changed = r->state == WN_ANCHOR_PENDING || memcmp(r->block_hash, rc.block_hash, 32) != 0;
        if (changed) {
            wn_eth_block b;
            if ((err = wn_ethrpc_block_by_hash(a->rpc, rc.block_hash, &b))) return rpc_failed(a, err, "eth_getBlockByHash");
            if (!b.found) return 1; /* the block is being replaced: ask again next time */
            wn_log(r->state == WN_ANCHOR_MINED ? "anchor: size %llu moved to block %llu (a reorganisation)"
                                               : "anchor: size %llu is in block %llu",
                   (unsigned long long)r->size, (unsigned long long)rc.block_number);
            r->state = WN_ANCHOR_MINED;
            r->block_number = rc.block_number;
            memcpy(r->block_hash, rc.block_hash, 32);
            r->block_time = b.timestamp;
        }
        uint64_t conf = head >= r->block_number ? head - r->block_number + 1 : 0;
        int more = conf != r->confirmations;
        r->confirmations = conf;
        if (conf >= a->opt.confirmations) {
            wn_eth_block canon; /* the block at that height is still ours */
            if ((err = wn_ethrpc_block(a->rpc, r->block_number, &canon))) return rpc_failed(a, err, "eth_getBlockByNumber");
            if (canon.found && memcmp(canon.hash, r->block_hash, 32) == 0) {
                r->state = WN_ANCHOR_CONFIRMED;
                if (!wn_anchor_store_put(a->store, r)) { /* try again next poll */
                    r->state = WN_ANCHOR_MINED;
                    return 1;
                }
                confirmed(a, r);
                return 1;
            }
        }
        if (changed || more) wn_anchor_store_put(a->store, r);
        return 1;
    }
    /* No receipt: pending, not yet visible, or dropped. */
    wn_eth_txinfo *t = malloc(sizeof *t);
    if (!t) return 1;
    err = wn_ethrpc_tx(a->rpc, r->tx_hash, t);
    int found = t->found, mined = t->mined;
    free(t);
    if (err) return rpc_failed(a, err, "eth_getTransactionByHash");
    int lost = r->state == WN_ANCHOR_MINED;
    if (found && mined) return 1; /* the receipt is not indexed yet */
    if (found) {
        if (lost) {
            wn_log("anchor: a reorganisation took the anchor of size %llu out of its block; it waits in the mempool",
                   (unsigned long long)r->size);
            r->state = WN_ANCHOR_PENDING;
            r->confirmations = 0;
            wn_anchor_store_put(a->store, r);
        }
        if (wn_now_ms() - r->sent_ms > a->opt.replace_ms) return send_bump(a, r);
        return 1;
    }
    if (!lost && wn_now_ms() - r->sent_ms < WN_ANCHOR_GRACE_MS) return 1;
    if (lost) {
        /* A reorganisation may put the same transaction into a new block a moment later:
         * wait as long as for a new transaction to show before anchoring again. */
        if (!r->lost_ms) r->lost_ms = wn_now_ms();
        if (wn_now_ms() - r->lost_ms < WN_ANCHOR_GRACE_MS) return 1;
        r->lost_ms = 0;
        r->reanchors++;
        pthread_mutex_lock(&a->mu);
        a->st.reanchored++;
        pthread_mutex_unlock(&a->mu);
        return send_fresh(a, r, "a reorganisation dropped the anchor; anchoring again");
    }
    return send_fresh(a, r, "the chain does not know the anchoring transaction; sending again");
}

/* Drops confirmed records from the tracked list. */
static void prune(wn_anchorer *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->ntracked; i++) {
        if (a->tracked[i]->state == WN_ANCHOR_CONFIRMED) free(a->tracked[i]);
        else a->tracked[k++] = a->tracked[i];
    }
    a->ntracked = k;
}

static int due(const wn_anchorer *a)
{
    if (a->last_seen <= a->newest_sent) return 0;
    for (size_t i = 0; i < a->ntracked; i++)
        if (a->tracked[i]->state == WN_ANCHOR_PENDING) return 0; /* one waiting for a block at a time */
    return a->cps_since >= a->opt.every || wn_mono_ms() - a->due_since >= a->opt.ms;
}

static int send_new(wn_anchorer *a)
{
    if (a->ntracked == MAX_TRACK) { /* give up following the oldest: newer anchors cover it */
        free(a->tracked[0]);
        memmove(a->tracked, a->tracked + 1, (MAX_TRACK - 1) * sizeof a->tracked[0]);
        a->ntracked--;
    }
    wn_anchor_rec *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->size = a->last_seen;
    memcpy(r->root, a->last_root, 32);
    if (!send_fresh(a, r, "anchoring checkpoint")) {
        free(r);
        return 0;
    }
    a->tracked[a->ntracked++] = r;
    a->newest_sent = r->size;
    a->cps_since = 0;
    a->due_since = 0;
    return 1;
}

static int check_chain(wn_anchorer *a)
{
    uint64_t id;
    int err = wn_ethrpc_chain_id(a->rpc, &id);
    if (err) return rpc_failed(a, err, "eth_chainId");
    chain_state(a, 1);
    if (id != a->opt.chain_id) {
        set_error(a, "the chain at %s has chain id %llu, not %llu (--anchor-chain-id): nothing is sent", a->opt.rpc_url,
                  (unsigned long long)id, (unsigned long long)a->opt.chain_id);
        return 0;
    }
    pthread_mutex_lock(&a->mu);
    a->st.chain_ok = 1;
    pthread_mutex_unlock(&a->mu);
    return 1;
}

static void step(wn_anchorer *a)
{
    observe(a);
    if (!a->st.chain_ok && !check_chain(a)) return;
    uint64_t head;
    int err = wn_ethrpc_block_number(a->rpc, &head);
    if (err) {
        rpc_failed(a, err, "eth_blockNumber");
        return;
    }
    chain_state(a, 1);
    for (size_t i = 0; i < a->ntracked && !atomic_load(&a->stopping); i++)
        if (!track(a, a->tracked[i], head)) return;
    prune(a);
    if (due(a) && !atomic_load(&a->stopping)) send_new(a);
}

static void *anchor_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-anchor"); /* for top -H and bench_node */
    wn_anchorer *a = arg;
    while (!atomic_load(&a->stopping)) {
        step(a);
        publish(a);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (a->opt.poll_ms % 1000) * 1000000ULL;
        ts.tv_sec += (time_t)(a->opt.poll_ms / 1000 + ns / 1000000000ULL);
        ts.tv_nsec = (long)(ns % 1000000000ULL);
        pthread_mutex_lock(&a->mu);
        if (!atomic_load(&a->stopping)) pthread_cond_timedwait(&a->cv, &a->mu, &ts);
        pthread_mutex_unlock(&a->mu);
    }
    return NULL;
}

/* ---- start and stop ---- */

static int load_key(wn_anchorer *a, const char *data_dir)
{
    char path[4200];
    int create = a->opt.key_file == NULL;
    if (a->opt.key_file) snprintf(path, sizeof path, "%s", a->opt.key_file);
    else snprintf(path, sizeof path, "%s/anchor.key", data_dir);
    if (access(path, F_OK) == 0) {
        if (!wn_keyfile_read(path, a->sk)) {
            wn_log("anchor: cannot use the key %s: %s", path, wn_keyfile_strerror(errno));
            return 0;
        }
    } else if (!create) {
        wn_log("anchor: key %s does not exist", path);
        return 0;
    } else if (!wn_keyfile_create(path, a->sk, NULL)) {
        wn_log("anchor: cannot create the anchoring key %s: %s", path, strerror(errno));
        return 0;
    } else {
        wn_log("anchor: created the anchoring key %s", path);
    }
    if (!wn_eth_address_of_seckey(a->addr, a->sk)) return 0;
    wn_eth_address_format(a->addr_text, a->addr);
    return 1;
}

static int load_record(void *ctx, const wn_anchor_rec *r)
{
    wn_anchorer *a = ctx;
    if (r->size > a->newest_sent) a->newest_sent = r->size;
    if (r->state == WN_ANCHOR_CONFIRMED) {
        if (r->size >= a->st.anchored_size) {
            a->st.anchored_size = r->size;
            a->st.anchored_block = r->block_number;
            a->st.anchored_block_time = r->block_time;
        }
        return 0;
    }
    if (a->ntracked == MAX_TRACK) {
        free(a->tracked[0]);
        memmove(a->tracked, a->tracked + 1, (MAX_TRACK - 1) * sizeof a->tracked[0]);
        a->ntracked--;
    }
    wn_anchor_rec *copy = malloc(sizeof *copy);
    if (!copy) return 1;
    *copy = *r;
    a->tracked[a->ntracked++] = copy;
    return 0;
}

int wn_anchorer_start(wn_anchorer **out, const wn_anchor_options *o, const char *data_dir, wn_ledger *ledger,
                      const char *origin)
{
    wn_anchorer *a = calloc(1, sizeof *a);
    if (!a) return 0;
    a->opt = *o;
    wn_anchor_options_defaults(&a->opt);
    a->ledger = ledger;
    snprintf(a->origin, sizeof a->origin, "%s", origin);
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &attr);
    pthread_condattr_destroy(&attr);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/anchors", data_dir);
    if (!load_key(a, data_dir) || !wn_anchor_store_open(&a->store, dir)) goto fail;
    if (!wn_ethrpc_open(&a->rpc, a->opt.rpc_url, WN_ANCHOR_RPC_TIMEOUT_MS, &a->stopping)) {
        wn_log("anchor: cannot set up the JSON-RPC client");
        goto fail;
    }
    if (wn_anchor_store_iterate(a->store, 0, load_record, a) != 0) {
        wn_log("anchor: cannot read the anchor records in %s", dir);
        goto fail;
    }
    memcpy(a->st.address, a->addr, WN_ETH_ADDR_LEN);
    a->st.chain_id = a->opt.chain_id;
    a->st.confirmations = a->opt.confirmations;
    a->last_seen = 0;
    if (pthread_create(&a->thread, NULL, anchor_main, a) != 0) goto fail;
    a->started = 1;
    wn_log("anchor: anchoring to chain %llu at %s from %s every %llu checkpoints or %llu ms, %llu confirmations; "
           "%zu anchors to follow, newest confirmed size %llu",
           (unsigned long long)a->opt.chain_id, a->opt.rpc_url, a->addr_text, (unsigned long long)a->opt.every,
           (unsigned long long)a->opt.ms, (unsigned long long)a->opt.confirmations, a->ntracked,
           (unsigned long long)a->st.anchored_size);
    *out = a;
    return 1;
fail:
    wn_anchorer_stop(a);
    return 0;
}

void wn_anchorer_stop(wn_anchorer *a)
{
    if (!a) return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        atomic_store(&a->stopping, 1);
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    for (size_t i = 0; i < a->ntracked; i++) free(a->tracked[i]);
    wn_ethrpc_close(a->rpc);
    wn_anchor_store_close(a->store);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    memset(a->sk, 0, sizeof a->sk);
    free(a);
}
