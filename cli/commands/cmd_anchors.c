/* cmd_anchors.c — `wn anchors`: every anchor a notary's anchoring address ever sent, and
 * whether they form one history. Scans the chain's blocks (eth_getBlockByNumber with
 * transactions) for transactions whose data carries the anchor magic, keeps those whose
 * signature recovers to the anchoring address, that are sent to that address itself with
 * value 0 (any other is reported as a problem) and that succeeded (chain/anchor_check.h),
 * and checks them: two anchors of one tree size with different roots are a FORK, reported
 * with both transactions — the notary showed two different trees of the same size, and
 * the chain holds the proof. With --node, every pair of consecutive anchored sizes is
 * linked by the node's consistency proof (both checkpoints signed by the notary key, both
 * roots the anchored ones), so every anchored tree is a prefix of the next. */
#include "chain/anchor_check.h"
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/proof_file.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_RPC 1000 /* visit stopped by an RPC error (+ the error) */

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn anchors --rpc URL --anchor-address ADDR --notary-pub HEX [--node URL]\n"
            "                  [--from-block N] [--to-block N] [--json]\n"
            "\n"
            "Lists every anchor the notary's anchoring address sent (docs/PROTOCOL.md section 15) by scanning\n"
            "the chain's blocks from --from-block to the latest, and checks that they form one history:\n"
            "each transaction's sender is recovered from its signature, it must be sent to the anchoring\n"
            "address itself with value 0 (else it is a problem), and one tree size must always have\n"
            "one root. Two roots for one size are a FORK, printed with both transactions: the notary signed\n"
            "two different trees of the same size. With --node, consecutive anchored sizes are linked by the\n"
            "node's consistency proofs (checkpoints verified with the notary key, roots compared with the\n"
            "anchored ones), so each anchored tree is shown to be a prefix of the next.\n"
            "\n"
            "options:\n"
            "  --rpc URL               the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545\n"
            "  --anchor-address ADDR   the notary's anchoring address (0x + 40 hex)\n"
            "  --notary-pub HEX        the notary's x-only public key (64 hex)\n"
            "  --node URL              link the anchors with the node's consistency proofs\n"
            "  --from-block N          first block to scan (default 0: a long chain takes long; start at the\n"
            "                          block of the notary's first anchor)\n"
            "  --to-block N            last block to scan (default: the latest)\n"
            "  --json                  print {\"consistent\",\"fork\",\"anchors\":[...],\"forks\":[...],\"warnings\":[...],\n"
            "                          \"problems\":[...]}\n"
            "\n"
            "example:\n"
            "  wn anchors --rpc http://127.0.0.1:8545 --anchor-address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 \\\n"
            "      --notary-pub 26285c...297a --node http://127.0.0.1:8420\n"
            "\n"
            "exit codes: 0 one consistent history, 1 a FORK or an anchor that breaks the rules, 2 usage\n"
            "            error, 3 the chain or the node could not be reached or answered something malformed\n");
}

typedef struct {
    uint64_t size;
    uint8_t root[32], origin_hash[32], tx[32];
    uint64_t block, time;
} item;

typedef struct {
    const char *cmd;
    int json;
    wn_ethrpc *rpc;
    uint64_t head;
    uint8_t addr[WN_ETH_ADDR_LEN];
    item *items;
    size_t n, cap;
    char **problems;
    size_t nproblems;
    cJSON *warnings;
    cJSON *forks;
    size_t failed; /* our anchors that reverted */
} ctx;

static void problem(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(ctx *c, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **p = realloc(c->problems, (c->nproblems + 1) * sizeof *p);
    if (!p) return;
    c->problems = p;
    c->problems[c->nproblems++] = strdup(msg);
    if (!c->json) printf("PROBLEM: %s\n", msg);
}

/* Something worth knowing that does not break the history (another log's anchors). */
static void warning(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warning(ctx *c, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(c->warnings, cJSON_CreateString(msg));
    if (!c->json) printf("WARNING: %s\n", msg);
}

static int visit(void *arg, const wn_eth_block *b, const wn_eth_txinfo *t)
{
    ctx *c = arg;
    if (!wn_anchor_data_is_anchor(t->data, t->data_len)) return 0;
    wn_cli_anchor a;
    wn_cli_anchor_from_tx(t, &a);
    char h[67];
    wn_eth_hex(h, t->hash, 32);
    int ours = a.hash_ok && a.sender_ok && memcmp(a.sender, c->addr, WN_ETH_ADDR_LEN) == 0;
    if (!ours) {
        if (memcmp(t->from, c->addr, WN_ETH_ADDR_LEN) == 0)
            problem(c, "transaction %s in block %llu is reported as sent by the anchoring address, but its signature "
                       "does not recover to it", h, (unsigned long long)b->number);
        return 0; /* someone else's: anyone can write the magic */
    }
    char why[400];
    if (wn_cli_anchor_shape_problem(&a, why, sizeof why)) {
        /* signed by the anchoring key, but not an anchor: reported, kept out of the history */
        problem(c, "transaction %s in block %llu from the anchoring address has the anchor magic but is not an anchor: "
                   "%s", h, (unsigned long long)b->number, why);
        return 0;
    }
    if (!a.data_ok) {
        problem(c, "transaction %s in block %llu from the anchoring address has the anchor magic but malformed data", h,
                (unsigned long long)b->number);
        return 0;
    }
    int err = wn_cli_anchor_receipt(c->rpc, c->head, &a);
    if (err) return STOP_RPC + err;
    if (!a.mined || a.status == 0) {
        c->failed++;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        item *p = realloc(c->items, cap * sizeof *p);
        if (!p) return STOP_RPC + WN_ETHRPC_ENOMEM;
        c->items = p;
        c->cap = cap;
    }
    item *it = &c->items[c->n++];
    it->size = a.data.size;
    memcpy(it->root, a.data.root, 32);
    memcpy(it->origin_hash, a.data.origin_hash, 32);
    memcpy(it->tx, t->hash, 32);
    it->block = b->number;
    it->time = b->timestamp;
    return 0;
}

static int by_origin_size(const void *x, const void *y)
{
    const item *a = x, *b = y;
    int o = memcmp(a->origin_hash, b->origin_hash, 32);
    if (o) return o;
    if (a->size != b->size) return a->size < b->size ? -1 : 1;
    return a->block < b->block ? -1 : a->block > b->block;
}

static void fork_found(ctx *c, const item *a, const item *b)
{
    char r1[65], r2[65], t1[67], t2[67];
    wn_hex_encode(r1, a->root, 32);
    wn_hex_encode(r2, b->root, 32);
    wn_eth_hex(t1, a->tx, 32);
    wn_eth_hex(t2, b->tx, 32);
    fprintf(stderr, "FORK: tree size %llu was anchored with two different roots\n", (unsigned long long)a->size);
    fprintf(stderr, "FORK:   root %s in transaction %s, block %llu\n", r1, t1, (unsigned long long)a->block);
    fprintf(stderr, "FORK:   root %s in transaction %s, block %llu\n", r2, t2, (unsigned long long)b->block);
    fprintf(stderr, "FORK: both transactions are signed by the anchoring key: the notary showed two histories\n");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "size", (double)a->size);
    cJSON_AddStringToObject(f, "root_a", r1);
    cJSON_AddStringToObject(f, "tx_a", t1);
    cJSON_AddNumberToObject(f, "block_a", (double)a->block);
    cJSON_AddStringToObject(f, "root_b", r2);
    cJSON_AddStringToObject(f, "tx_b", t2);
    cJSON_AddNumberToObject(f, "block_b", (double)b->block);
    cJSON_AddItemToArray(c->forks, f);
}

/* GET path from the node: 200 expected. Returns: 1 with r filled, 0 after reporting. */
static int node_get(ctx *c, const char *node, const char *path, wn_cli_resp *r)
{
    if (!wn_cli_http(c->cmd, node, "GET", path, NULL, r)) return 0;
    if (r->status == 200) return 1;
    char msg[400];
    wn_cli_error(c->cmd, "GET %s: %s", path, wn_cli_node_error(r, msg, sizeof msg));
    return 0;
}

/* Links anchored sizes a < b with the node's consistency proof. Returns: 1 linked, 0 a
 * problem or fork was reported, -1 the node could not answer. */
static int link_sizes(ctx *c, const char *node, const uint8_t pub[32], const item *a, const item *b)
{
    char path[128], detail[256];
    snprintf(path, sizeof path, "/v1/proof/consistency?from=%llu&to=%llu", (unsigned long long)a->size,
             (unsigned long long)b->size);
    wn_cli_resp r;
    if (!node_get(c, node, path, &r)) {
        free(r.body);
        return -1;
    }
    wn_cons_proof p;
    wn_checkpoint po, pn;
    int out = 1;
    if (wn_cons_proof_parse(&p, r.body, r.len, detail, sizeof detail) != WN_PROOF_OK) {
        wn_cli_error(c->cmd, "GET %s: malformed proof: %s", path, detail);
        out = -1;
    } else if (wn_cons_proof_verify(&p, pub, &po, &pn, detail, sizeof detail) != WN_PROOF_OK) {
        problem(c, "the node's consistency proof from size %llu to %llu does not verify with the notary key: %s",
                (unsigned long long)a->size, (unsigned long long)b->size, detail);
        out = 0;
    } else if (memcmp(po.root, a->root, 32) != 0 || memcmp(pn.root, b->root, 32) != 0) {
        const item *x = memcmp(po.root, a->root, 32) != 0 ? a : b;
        item other = *x;
        memcpy(other.root, x == a ? po.root : pn.root, 32);
        memset(other.tx, 0, 32);
        other.block = 0;
        fprintf(stderr, "FORK: the node's signed checkpoint of size %llu has another root than the anchor "
                        "(the second line below; transaction 0x00.. = the node's checkpoint)\n",
                (unsigned long long)x->size);
        fork_found(c, x, &other);
        out = 0;
    }
    free(r.body);
    return out;
}

static void print_json(ctx *c, int consistent)
{
    cJSON *o = cJSON_CreateObject();
    char a[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(a, c->addr);
    cJSON_AddBoolToObject(o, "consistent", consistent);
    cJSON_AddBoolToObject(o, "fork", cJSON_GetArraySize(c->forks) > 0);
    cJSON_AddStringToObject(o, "address", a);
    cJSON *arr = cJSON_AddArrayToObject(o, "anchors");
    for (size_t i = 0; i < c->n; i++) {
        char r[65], oh[65], t[67], bt[32];
        wn_hex_encode(r, c->items[i].root, 32);
        wn_hex_encode(oh, c->items[i].origin_hash, 32);
        wn_eth_hex(t, c->items[i].tx, 32);
        wn_cli_block_time(bt, c->items[i].time);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "size", (double)c->items[i].size);
        cJSON_AddStringToObject(e, "root", r);
        cJSON_AddStringToObject(e, "origin_hash", oh);
        cJSON_AddStringToObject(e, "tx", t);
        cJSON_AddNumberToObject(e, "block_number", (double)c->items[i].block);
        cJSON_AddStringToObject(e, "block_time", bt);
        cJSON_AddItemToArray(arr, e);
    }
    cJSON_AddItemReferenceToObject(o, "forks", c->forks);
    cJSON_AddItemReferenceToObject(o, "warnings", c->warnings);
    cJSON *pr = cJSON_AddArrayToObject(o, "problems");
    for (size_t i = 0; i < c->nproblems; i++) cJSON_AddItemToArray(pr, cJSON_CreateString(c->problems[i] ? c->problems[i] : ""));
    char *s = cJSON_PrintUnformatted(o);
    printf("%s\n", s ? s : "{}");
    free(s);
    cJSON_Delete(o);
}

/* The checks after the scan. Returns: an exit code. */
static int check(ctx *c, const char *node, const uint8_t pub[32])
{
    qsort(c->items, c->n, sizeof *c->items, by_origin_size);
    uint8_t node_origin[32];
    int have_origin = 0;
    if (node) {
        wn_cli_resp r;
        if (!node_get(c, node, "/v1/pubkey", &r)) {
            free(r.body);
            return WN_EXIT_NETWORK;
        }
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "origin");
        if (cJSON_IsString(o)) {
            wn_sha256(node_origin, o->valuestring, strlen(o->valuestring));
            have_origin = 1;
        }
        cJSON_Delete(j);
        free(r.body);
        if (!have_origin) {
            wn_cli_error(c->cmd, "GET /v1/pubkey: no origin in the answer");
            return WN_EXIT_NETWORK;
        }
    }
    size_t linked = 0;
    const item *prev = NULL; /* the previous distinct size of the same origin */
    for (size_t i = 0; i < c->n; i++) {
        const item *it = &c->items[i];
        int same_origin = i && memcmp(c->items[i - 1].origin_hash, it->origin_hash, 32) == 0;
        if (!same_origin) prev = NULL;
        if (same_origin && c->items[i - 1].size == it->size) {
            /* the same size again: a re-anchor, or a fork */
            for (size_t k = i; k-- > 0 && c->items[k].size == it->size &&
                               memcmp(c->items[k].origin_hash, it->origin_hash, 32) == 0;) {
                if (memcmp(c->items[k].root, it->root, 32) != 0) {
                    fork_found(c, &c->items[k], it);
                    break;
                }
            }
            continue;
        }
        if (have_origin && memcmp(it->origin_hash, node_origin, 32) != 0) {
            if (!same_origin)
                warning(c, "anchors of another log (origin hash %02x%02x%02x%02x..., not the node's) were sent from "
                           "the anchoring address; they are checked among themselves only",
                        it->origin_hash[0], it->origin_hash[1], it->origin_hash[2], it->origin_hash[3]);
            continue;
        }
        if (node && prev) {
            int l = link_sizes(c, node, pub, prev, it);
            if (l < 0) return WN_EXIT_NETWORK;
            linked += l;
        }
        prev = it;
    }
    int forks = cJSON_GetArraySize(c->forks);
    int consistent = forks == 0 && c->nproblems == 0;
    if (c->json) {
        print_json(c, consistent);
    } else {
        char a[WN_ETH_ADDR_TEXT];
        wn_eth_address_format(a, c->addr);
        printf("anchors sent by %s: %zu%s\n", a, c->n, c->failed ? " (and some that failed on chain, ignored)" : "");
        for (size_t i = 0; i < c->n; i++) {
            char r[65], t[67], bt[32];
            wn_hex_encode(r, c->items[i].root, 32);
            wn_eth_hex(t, c->items[i].tx, 32);
            wn_cli_block_time(bt, c->items[i].time);
            printf("  size %-8llu root %s  block %llu (%s)  tx %s\n", (unsigned long long)c->items[i].size, r,
                   (unsigned long long)c->items[i].block, bt, t);
        }
        if (forks) printf("INVALID: FORK: %d tree size(s) anchored with two different roots (see stderr)\n", forks);
        else if (c->nproblems) printf("INVALID: %zu problem(s) above\n", c->nproblems);
        else if (node)
            printf("VALID: one consistent history: one root per size, %zu consecutive sizes linked by the node's "
                   "consistency proofs\n", linked);
        else
            printf("VALID: one root per tree size (give --node to link the sizes with consistency proofs)\n");
    }
    return consistent ? WN_EXIT_OK : WN_EXIT_INVALID;
}

int wn_cmd_anchors(int argc, char **argv)
{
    ctx c = {.cmd = argv[0]};
    const char *rpc_url = NULL, *addr_s = NULL, *pub_s = NULL, *node = NULL, *from_s = NULL, *to_s = NULL;
    int want_help;
    const wn_cli_opt opts[] = {
        {"rpc", &rpc_url, NULL},        {"anchor-address", &addr_s, NULL}, {"notary-pub", &pub_s, NULL},
        {"node", &node, NULL},          {"from-block", &from_s, NULL},     {"to-block", &to_s, NULL},
        {"json", NULL, &c.json},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!rpc_url || !addr_s || !pub_s) {
        wn_cli_error(c.cmd, "--rpc, --anchor-address and --notary-pub are required (see wn anchors --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t pub[32];
    uint64_t from = 0, to = 0;
    if (!wn_eth_address_parse(c.addr, addr_s)) {
        wn_cli_error(c.cmd, "--anchor-address must be 0x and 40 hex digits (with a valid EIP-55 checksum if mixed case)");
        return WN_EXIT_USAGE;
    }
    if (!wn_cli_hex32(c.cmd, "notary-pub", pub_s, pub) || (from_s && !wn_cli_u64(c.cmd, "from-block", from_s, &from)) ||
        (to_s && !wn_cli_u64(c.cmd, "to-block", to_s, &to)))
        return WN_EXIT_USAGE;
    if (!wn_ethrpc_open(&c.rpc, rpc_url, 30000, NULL)) {
        wn_cli_error(c.cmd, "cannot set up a JSON-RPC client for %s", rpc_url);
        return WN_EXIT_USAGE;
    }
    c.forks = cJSON_CreateArray();
    c.warnings = cJSON_CreateArray();
    int rc = WN_EXIT_OK;
    if (wn_ethrpc_block_number(c.rpc, &c.head)) {
        wn_cli_error(c.cmd, "%s", wn_ethrpc_detail(c.rpc));
        rc = WN_EXIT_NETWORK;
    }
    if (!to_s || to > c.head) to = c.head;
    for (uint64_t b = from; rc == WN_EXIT_OK && b <= to; b++) {
        wn_eth_block blk;
        int err = wn_ethrpc_block_txs(c.rpc, b, &blk, visit, &c);
        if (err) {
            wn_cli_error(c.cmd, "block %llu: %s", (unsigned long long)b, wn_ethrpc_detail(c.rpc));
            rc = WN_EXIT_NETWORK;
        }
    }
    if (rc == WN_EXIT_OK) rc = check(&c, node, pub);
    wn_ethrpc_close(c.rpc);
    for (size_t i = 0; i < c.nproblems; i++) free(c.problems[i]);
    free(c.problems);
    free(c.items);
    cJSON_Delete(c.forks);
    cJSON_Delete(c.warnings);
    return rc;
}
