/* anchor_check.c — checking one anchoring transaction from a chain's answers (see
 * anchor_check.h). */
#include "chain/anchor_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void wn_cli_anchor_from_tx(const wn_eth_txinfo *t, wn_cli_anchor *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->tx_hash, t->hash, 32);
    a->found = t->found;
    if (!t->found) return;
    memcpy(a->reported_from, t->from, WN_ETH_ADDR_LEN);
    a->rebuildable = t->rebuildable;
    a->type = t->type;
    a->chain_id = t->chain_id;
    a->nonce = t->nonce;
    a->is_anchor = wn_anchor_data_is_anchor(t->data, t->data_len);
    a->data_ok = wn_anchor_data_decode(t->data, t->data_len, &a->data);
    if (!t->rebuildable) return;
    wn_ethtx tx;
    wn_eth_txinfo_tx(t, &tx);
    uint8_t raw[WN_ETHTX_MAX], h[32];
    size_t len;
    a->hash_ok = wn_ethtx_encode_signed(&tx, &t->sig, raw, sizeof raw, &len, h) && memcmp(h, t->hash, 32) == 0;
    a->sender_ok = wn_ethtx_recover(&tx, &t->sig, a->sender);
    a->to_self = a->sender_ok && t->has_to && memcmp(t->to, a->sender, WN_ETH_ADDR_LEN) == 0;
}

int wn_cli_anchor_receipt(wn_ethrpc *rpc, uint64_t head, wn_cli_anchor *a)
{
    wn_eth_receipt r;
    int err = wn_ethrpc_receipt(rpc, a->tx_hash, &r);
    if (err) return err;
    a->mined = r.found;
    if (!r.found) return WN_ETHRPC_OK;
    a->status = r.status;
    a->block_number = r.block_number;
    memcpy(a->block_hash, r.block_hash, 32);
    a->confirmations = head >= r.block_number ? head - r.block_number + 1 : 0;
    wn_eth_block b;
    if ((err = wn_ethrpc_block(rpc, r.block_number, &b))) return err;
    a->canonical = b.found && memcmp(b.hash, r.block_hash, 32) == 0;
    if (a->canonical) a->block_time = b.timestamp;
    return WN_ETHRPC_OK;
}

int wn_cli_anchor_fetch(wn_ethrpc *rpc, const uint8_t tx_hash[32], uint64_t head, wn_cli_anchor *a)
{
    wn_eth_txinfo *t = malloc(sizeof *t);
    if (!t) return WN_ETHRPC_ENOMEM;
    int err = wn_ethrpc_tx(rpc, tx_hash, t);
    if (!err) wn_cli_anchor_from_tx(t, a);
    free(t);
    if (err) return err;
    memcpy(a->tx_hash, tx_hash, 32);
    if (!a->found) return WN_ETHRPC_OK;
    return wn_cli_anchor_receipt(rpc, head, a);
}

void wn_cli_block_time(char out[32], uint64_t seconds)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, 32, "%llus", (unsigned long long)seconds);
}
