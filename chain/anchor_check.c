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
    a->has_to = t->has_to;
    if (t->has_to) memcpy(a->to, t->to, WN_ETH_ADDR_LEN);
    memcpy(a->value, t->value, 32);
    a->value_zero = 1;
    for (int i = 0; i < 32; i++) a->value_zero &= t->value[i] == 0;
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

const char *wn_cli_anchor_shape_problem(const wn_cli_anchor *a, char *why, size_t cap)
{
    char to[WN_ETH_ADDR_TEXT], from[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(from, a->sender);
    if (!a->to_self) {
        if (a->has_to) {
            wn_eth_address_format(to, a->to);
            snprintf(why, cap, "wrong recipient: the transaction is sent to %s, not to the anchoring address %s "
                               "itself (PROTOCOL section 15)", to, from);
        } else {
            snprintf(why, cap, "wrong recipient: the transaction creates a contract, it is not sent to the anchoring "
                               "address %s itself (PROTOCOL section 15)", from);
        }
        return why;
    }
    if (!a->value_zero) {
        size_t k = 0;
        while (k < 31 && a->value[k] == 0) k++;
        char hex[67];
        wn_eth_hex(hex, a->value + k, 32 - k);
        snprintf(why, cap, "non-zero value: the transaction moves %s wei; an anchor moves nothing (value 0, PROTOCOL "
                           "section 15)", hex);
        return why;
    }
    return NULL;
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
