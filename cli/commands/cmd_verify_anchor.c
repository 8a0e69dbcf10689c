/* cmd_verify_anchor.c — `wn verify-anchor`: proves that a checkpoint existed no later than
 * a block of an Ethereum-compatible chain. Takes the checkpoint, the anchoring address and
 * the transaction (given, or looked up at the node's GET /v1/checkpoint/anchor), asks the
 * chain's JSON-RPC endpoint for the transaction, its receipt and its block, and checks
 * (chain/anchor_check.h): the fields hash to the transaction hash, the sender recovered from
 * the signature is the anchoring address, it is sent to that address itself with value 0,
 * the data commits to exactly this checkpoint's
 * origin, size and root (docs/PROTOCOL.md §15), the transaction succeeded, is in the
 * canonical chain, and has the confirmations asked for. The block's time is then the
 * latest time the checkpoint can have been made. */
#include "chain/anchor_check.h"
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "ledger/tlog/checkpoint.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIRMATIONS 6

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn verify-anchor --checkpoint FILE --rpc URL --anchor-address ADDR (--tx HASH | --node URL)\n"
            "                        [--confirmations N] [--notary-pub HEX] [--chain-id N] [--json]\n"
            "\n"
            "Proves that a signed checkpoint existed no later than a block of the chain the notary anchors\n"
            "on (docs/PROTOCOL.md section 15). Fetches the anchoring transaction (--tx, or the one the node\n"
            "reports for the checkpoint's size at GET /v1/checkpoint/anchor) from the chain's JSON-RPC\n"
            "endpoint and checks: its fields hash to its hash; the sender recovered from its signature is\n"
            "the anchoring address; it is sent to that address itself with value 0; its data commits\n"
            "to this checkpoint's origin, size and root; it succeeded; its block is in the canonical\n"
            "chain with at least N confirmations. Then prints the block's time: the latest time the\n"
            "checkpoint can have been made.\n"
            "\n"
            "options:\n"
            "  --checkpoint FILE       the signed checkpoint (e.g. saved with wn checkpoint --out)\n"
            "  --rpc URL               the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545\n"
            "  --anchor-address ADDR   the notary's anchoring address (0x + 40 hex; GET /v1/anchors shows it)\n"
            "  --tx HASH               the anchoring transaction (0x + 64 hex)\n"
            "  --node URL              ... or ask the node which transaction anchors the checkpoint\n"
            "  --confirmations N       blocks required, the anchor's own included (default %d)\n"
            "  --notary-pub HEX        also verify the checkpoint's signature with the notary key (64 hex)\n"
            "  --chain-id N            require the transaction to be signed for chain N\n"
            "  --json                  print {\"valid\",\"reason\",\"origin\",\"size\",\"root\",\"tx\",\"from\",\n"
            "                          \"chain_id\",\"block_number\",\"block_hash\",\"block_time\",\"confirmations\"}\n"
            "\n"
            "example:\n"
            "  wn verify-anchor --checkpoint cp.txt --rpc http://127.0.0.1:8545 \\\n"
            "      --anchor-address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --node http://127.0.0.1:8420\n"
            "\n"
            "exit codes: 0 anchored as claimed, 1 not (wrong data, sender, recipient, value, status, too few\n"
            "            confirmations, not mined, not anchored), 2 usage error or unreadable file, 3 the\n"
            "            chain or the node could not be reached or answered something malformed\n",
            DEFAULT_CONFIRMATIONS);
}

typedef struct {
    const char *cmd;
    int json;
    wn_checkpoint cp;
    wn_cli_anchor a;
    int have_tx;
    uint64_t needed;
} ctx;

static void report(const ctx *c, int valid, const char *reason)
{
    char root[65], tx[67], from[WN_ETH_ADDR_TEXT], bh[67], bt[32];
    wn_hex_encode(root, c->cp.root, 32);
    wn_eth_hex(tx, c->a.tx_hash, 32);
    wn_eth_address_format(from, c->a.sender);
    wn_eth_hex(bh, c->a.block_hash, 32);
    wn_cli_block_time(bt, c->a.block_time);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "valid", valid);
        if (reason) cJSON_AddStringToObject(o, "reason", reason);
        else cJSON_AddNullToObject(o, "reason");
        cJSON_AddStringToObject(o, "origin", c->cp.origin);
        cJSON_AddNumberToObject(o, "size", (double)c->cp.size);
        cJSON_AddStringToObject(o, "root", root);
        if (c->have_tx) cJSON_AddStringToObject(o, "tx", tx);
        else cJSON_AddNullToObject(o, "tx");
        if (c->a.sender_ok) cJSON_AddStringToObject(o, "from", from);
        else cJSON_AddNullToObject(o, "from");
        cJSON_AddNumberToObject(o, "chain_id", (double)c->a.chain_id);
        if (c->a.mined && c->a.canonical) {
            cJSON_AddNumberToObject(o, "block_number", (double)c->a.block_number);
            cJSON_AddStringToObject(o, "block_hash", bh);
            cJSON_AddStringToObject(o, "block_time", bt);
        } else {
            cJSON_AddNullToObject(o, "block_number");
            cJSON_AddNullToObject(o, "block_hash");
            cJSON_AddNullToObject(o, "block_time");
        }
        cJSON_AddNumberToObject(o, "confirmations", (double)c->a.confirmations);
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(o);
        return;
    }
    if (!valid) {
        printf("INVALID: %s\n", reason);
        return;
    }
    printf("anchor checked on the chain\n");
    printf("  checkpoint:     %s, size %llu, root %s\n", c->cp.origin, (unsigned long long)c->cp.size, root);
    printf("  transaction:    %s (chain %llu, nonce %llu), sent by %s\n", tx, (unsigned long long)c->a.chain_id,
           (unsigned long long)c->a.nonce, from);
    printf("  block:          %llu (%s), %llu confirmations\n", (unsigned long long)c->a.block_number, bh,
           (unsigned long long)c->a.confirmations);
    printf("VALID: the checkpoint existed no later than %s (the time of block %llu)\n", bt,
           (unsigned long long)c->a.block_number);
}

static int invalid(const ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(const ctx *c, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    report(c, 0, why);
    return WN_EXIT_INVALID;
}

static int rpc_error(const ctx *c, wn_ethrpc *rpc)
{
    wn_cli_error(c->cmd, "%s", wn_ethrpc_detail(rpc));
    return WN_EXIT_NETWORK;
}

/* Asks the node which transaction anchors the checkpoint. Returns: an exit code. */
static int tx_from_node(ctx *c, const char *node)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/checkpoint/anchor?size=%llu", (unsigned long long)c->cp.size);
    wn_cli_resp r;
    if (!wn_cli_http(c->cmd, node, "GET", path, NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc = WN_EXIT_OK;
    char msg[512];
    if (r.status == 404) {
        rc = invalid(c, "the node reports no anchor for the checkpoint of size %llu (%s)", (unsigned long long)c->cp.size,
                     wn_cli_node_error(&r, msg, sizeof msg));
    } else if (r.status != 200) {
        wn_cli_error(c->cmd, "GET %s: %s", path, wn_cli_node_error(&r, msg, sizeof msg));
        rc = WN_EXIT_NETWORK;
    } else {
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "tx");
        if (!cJSON_IsString(tx) || !wn_eth_parse_bytes(tx->valuestring, c->a.tx_hash, 32)) {
            wn_cli_error(c->cmd, "GET %s: the answer has no transaction hash", path);
            rc = WN_EXIT_NETWORK;
        } else {
            c->have_tx = 1;
        }
        cJSON_Delete(j);
    }
    free(r.body);
    return rc;
}

/* Every check of the fetched transaction, in order. Returns: an exit code. */
static int judge(ctx *c, const uint8_t addr[WN_ETH_ADDR_LEN], uint64_t rpc_chain, uint64_t want_chain)
{
    const wn_cli_anchor *a = &c->a;
    char want[WN_ETH_ADDR_TEXT], got[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(want, addr);
    if (!a->found) return invalid(c, "the chain does not know the transaction (never sent, or dropped)");
    if (!a->rebuildable) return invalid(c, "the transaction is of a kind an anchor never is (type %d)", a->type);
    if (!a->hash_ok) return invalid(c, "the transaction's fields as the endpoint reports them do not hash to its hash");
    if (!a->sender_ok) return invalid(c, "no sender can be recovered from the transaction's signature");
    wn_eth_address_format(got, a->sender);
    if (memcmp(a->sender, addr, WN_ETH_ADDR_LEN) != 0)
        return invalid(c, "wrong sender: the transaction was signed by %s, not by the anchoring address %s", got, want);
    if (a->chain_id != rpc_chain)
        return invalid(c, "the transaction is signed for chain %llu, the endpoint's chain is %llu",
                       (unsigned long long)a->chain_id, (unsigned long long)rpc_chain);
    if (want_chain && a->chain_id != want_chain)
        return invalid(c, "the transaction is signed for chain %llu, not %llu (--chain-id)",
                       (unsigned long long)a->chain_id, (unsigned long long)want_chain);
    char why[400];
    if (wn_cli_anchor_shape_problem(a, why, sizeof why)) return invalid(c, "%s", why);
    if (!a->data_ok) return invalid(c, "the transaction's data is not an anchor (PROTOCOL section 15)");
    if (!wn_anchor_data_matches(&a->data, c->cp.origin, c->cp.size, c->cp.root)) {
        wn_anchor_data mine;
        uint8_t buf[WN_ANCHOR_DATA_LEN];
        wn_anchor_data_encode(buf, c->cp.origin, c->cp.size, c->cp.root);
        if (!wn_anchor_data_decode(buf, sizeof buf, &mine)) return invalid(c, "internal error");
        if (memcmp(mine.origin_hash, a->data.origin_hash, 32) != 0)
            return invalid(c, "the anchor is of another log (the SHA-256 of its origin differs)");
        if (a->data.size != c->cp.size)
            return invalid(c, "the anchor is of tree size %llu, the checkpoint's is %llu", (unsigned long long)a->data.size,
                           (unsigned long long)c->cp.size);
        char r1[65], r2[65];
        wn_hex_encode(r1, a->data.root, 32);
        wn_hex_encode(r2, c->cp.root, 32);
        return invalid(c, "wrong root: the anchor of size %llu commits to root %s, the checkpoint has %s",
                       (unsigned long long)c->cp.size, r1, r2);
    }
    if (!a->mined) return invalid(c, "the transaction is not in a block (pending, or dropped by a reorganisation)");
    if (a->status == 0) return invalid(c, "the transaction failed (receipt status 0)");
    if (!a->canonical) return invalid(c, "the transaction's block is not in the canonical chain");
    if (a->confirmations < c->needed)
        return invalid(c, "unconfirmed: %llu confirmations, %llu required (block %llu)", (unsigned long long)a->confirmations,
                       (unsigned long long)c->needed, (unsigned long long)a->block_number);
    report(c, 1, NULL);
    return WN_EXIT_OK;
}

int wn_cmd_verify_anchor(int argc, char **argv)
{
    ctx c = {.cmd = argv[0], .needed = DEFAULT_CONFIRMATIONS};
    const char *cpfile = NULL, *rpc_url = NULL, *addr_s = NULL, *tx_s = NULL, *node = NULL, *conf_s = NULL,
               *pub_s = NULL, *chain_s = NULL;
    int want_help;
    const wn_cli_opt opts[] = {
        {"checkpoint", &cpfile, NULL}, {"rpc", &rpc_url, NULL},       {"anchor-address", &addr_s, NULL},
        {"tx", &tx_s, NULL},           {"node", &node, NULL},         {"confirmations", &conf_s, NULL},
        {"notary-pub", &pub_s, NULL},  {"chain-id", &chain_s, NULL},  {"json", NULL, &c.json},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!cpfile || !rpc_url || !addr_s || (!tx_s == !node)) {
        wn_cli_error(c.cmd, "--checkpoint, --rpc, --anchor-address and one of --tx or --node are required "
                            "(see wn verify-anchor --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t addr[WN_ETH_ADDR_LEN], pub[32];
    uint64_t want_chain = 0;
    if (!wn_eth_address_parse(addr, addr_s)) {
        wn_cli_error(c.cmd, "--anchor-address must be 0x and 40 hex digits (with a valid EIP-55 checksum if mixed case)");
        return WN_EXIT_USAGE;
    }
    if (tx_s && !wn_eth_parse_bytes(tx_s, c.a.tx_hash, 32)) {
        wn_cli_error(c.cmd, "--tx must be 0x and 64 hex digits");
        return WN_EXIT_USAGE;
    }
    c.have_tx = tx_s != NULL;
    if ((conf_s && (!wn_cli_u64(c.cmd, "confirmations", conf_s, &c.needed))) ||
        (chain_s && !wn_cli_u64(c.cmd, "chain-id", chain_s, &want_chain)) ||
        (pub_s && !wn_cli_hex32(c.cmd, "notary-pub", pub_s, pub)))
        return WN_EXIT_USAGE;
    size_t len;
    char *note = wn_cli_read_file(c.cmd, cpfile, WN_CHECKPOINT_MAX, &len);
    if (!note) return WN_EXIT_USAGE;
    int err = wn_checkpoint_parse(note, len, &c.cp, NULL);
    if (err) {
        wn_cli_error(c.cmd, "%s is not a signed checkpoint: %s", cpfile, wn_checkpoint_strerror(err));
        free(note);
        return WN_EXIT_USAGE;
    }
    if (pub_s) {
        err = wn_checkpoint_verify(note, len, NULL, pub, &c.cp);
        if (err) {
            free(note);
            return invalid(&c, "the checkpoint is not signed by the notary key: %s", wn_checkpoint_strerror(err));
        }
    }
    free(note);
    int rc = WN_EXIT_OK;
    if (node && (rc = tx_from_node(&c, node)) != WN_EXIT_OK) return rc;

    wn_ethrpc *rpc;
    if (!wn_ethrpc_open(&rpc, rpc_url, 30000, NULL)) {
        wn_cli_error(c.cmd, "cannot set up a JSON-RPC client for %s", rpc_url);
        return WN_EXIT_USAGE;
    }
    uint64_t head, chain;
    uint8_t hash[32];
    memcpy(hash, c.a.tx_hash, 32);
    if (wn_ethrpc_chain_id(rpc, &chain) || wn_ethrpc_block_number(rpc, &head) ||
        wn_cli_anchor_fetch(rpc, hash, head, &c.a)) {
        rc = rpc_error(&c, rpc);
    } else {
        rc = judge(&c, addr, chain, want_chain);
    }
    wn_ethrpc_close(rpc);
    return rc;
}
