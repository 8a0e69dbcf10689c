/* test_anchor.c — anchoring checkpoints on a real local chain (anvil, tests/support/anvil.h)
 * and checking them as an auditor: a real wn-node anchors; `wn verify-anchor` accepts its
 * anchors and refuses a wrong root, a wrong sender and an unconfirmed anchor; `wn anchors`
 * finds one history and reports a fork; the chain stopped while readings arrive (ingestion
 * goes on, the lag grows, anchoring catches up when the chain is back); a reorganisation
 * (evm_revert) drops an anchor and the node anchors again, another (anvil_reorg) moves it to
 * another block and the node follows it there; a chain without base fee gets EIP-155
 * legacy anchors; a transaction stuck in the mempool is replaced with higher fees;
 * Keccak-256 and transaction hashes agree with the chain's; a JSON-RPC endpoint that lies
 * about a transaction's data or sender is caught. Without a chain: the
 * anchor data format, options refused before anything is created, the routes of a node that
 * does not anchor, CLI usage and an unreachable endpoint. Tests needing anvil skip with a
 * message where it is not installed (scripts/install-deps.sh installs it; CI runs them). */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "chain/ethtx.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "chain/anchor_data.h"
#include "ledger/tlog/checkpoint.h"
#include "chain/ethrpc.h"
#include "tests/support/anvil.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("anchor");
}

static void teardown(void)
{
    if (tmp) wn_test_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

TestSuite(anchor, .init = setup, .fini = teardown, .timeout = 120);

static void need_anvil(void)
{
    if (!wn_test_anvil_bin())
        cr_skip("anvil is not installed: scripts/install-deps.sh installs the pinned npm package "
                "@foundry-rs/anvil into tools/anvil (or set WN_ANVIL to an anvil binary)");
}

/* ---- programs ---- */

typedef wn_run_result result;
#define result_free wn_run_result_free
#define run(prog, args) wn_proc_run(tmp, prog, args)
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)


/* ---- the chain and the node ---- */

static void start_anvil(wn_test_anvil *a, unsigned port, const char *const *args)
{
    if (!wn_test_anvil_start(a, tmp, port, args)) {
        char *log = wn_test_read_file(a->log, NULL);
        cr_assert_fail("anvil did not start: %s", log ? log : "(no log)");
    }
}

static void start_node(wn_test_node *n, const char *const *args)
{
    if (!wn_test_node_start(n, args)) {
        char *log = wn_test_read_file(n->log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
}

static void node_log(const wn_test_node *n)
{
    char *log = wn_test_read_file(n->log, NULL);
    fprintf(stderr, "---- wn-node log ----\n%s\n", log ? log : "");
    free(log);
}

static cJSON *get_json(const char *url, const char *path, long *status)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", path, NULL, NULL, 0, &r), "GET %s: no answer", path);
    if (status) *status = r.status;
    cJSON *j = cJSON_Parse((const char *)r.body);
    wn_test_resp_free(&r);
    return j;
}

static char *get_text(const char *url, const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", path, NULL, NULL, 0, &r), "GET %s: no answer", path);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, (char *)r.body);
    char *s = (char *)r.body;
    return s; /* malloc'd by the client */
}

static uint64_t num(const cJSON *o, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(j) ? (uint64_t)j->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(j) ? j->valuestring : "";
}

/* The anchor record of `size` in /v1/anchors (a copy), or NULL. */
static cJSON *record_of(const cJSON *status, uint64_t size)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(status, "anchors");
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next)
        if (num(e, "size") == size) return cJSON_Duplicate(e, 1);
    return NULL;
}

static uint64_t latest_size(const char *url)
{
    long st;
    (void)st;
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r));
    uint64_t size = 0;
    wn_checkpoint cp;
    if (r.status == 200 && wn_checkpoint_parse((char *)r.body, r.len, &cp, NULL) == WN_CHECKPOINT_OK) size = cp.size;
    wn_test_resp_free(&r);
    return size;
}

/* Waits (up to ms) until the node has a confirmed anchor of its latest checkpoint, of size
 * at least min. Returns: that size, or 0. */
static uint64_t wait_anchored(const wn_test_node *n, uint64_t min, unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 100) {
        uint64_t latest = latest_size(n->url);
        cJSON *s = get_json(n->url, "/v1/anchors", NULL);
        uint64_t anchored = num(s, "anchored_size");
        cJSON_Delete(s);
        if (latest >= min && anchored == latest) return anchored;
        wn_proc_sleep_ms(100);
    }
    return 0;
}

/* Starts the node anchoring to anvil, funds its address. Out: address text. */
static void start_anchoring_node(wn_test_node *n, const wn_test_anvil *a, wn_test_feed *f, const char *confirmations,
                                 char address[64])
{
    wn_test_node_init(n, tmp);
    const char *args[] = {"--registrar", f->reg_hex, "--checkpoint-ms", "100", "--anchor-rpc", a->url,
                          "--anchor-chain-id", "31337", "--anchor-every", "1", "--anchor-ms", "100",
                          "--anchor-confirmations", confirmations, "--anchor-poll-ms", "100", NULL};
    start_node(n, args);
    cJSON *s = get_json(n->url, "/v1/anchors", NULL);
    snprintf(address, 64, "%s", str(s, "address"));
    cr_assert_eq(num(s, "chain_id"), 31337);
    cJSON_Delete(s);
    uint8_t addr[20];
    cr_assert(wn_eth_address_parse(addr, address), "address %s", address);
    cr_assert(wn_test_anvil_fund(a, address));
}

static void notary_hex(const wn_test_node *n, char out[65])
{
    cJSON *j = get_json(n->url, "/v1/pubkey", NULL);
    snprintf(out, 65, "%s", str(j, "notary"));
    cJSON_Delete(j);
}

static void save(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* Waits until the chain has a receipt for hash. */
static void wait_mined(const wn_test_anvil *a, const uint8_t hash[32])
{
    wn_ethrpc *c;
    cr_assert(wn_ethrpc_open(&c, a->url, 5000, NULL));
    for (int i = 0; i < 300; i++) {
        wn_eth_receipt r;
        cr_assert_eq(wn_ethrpc_receipt(c, hash, &r), 0);
        if (r.found) {
            wn_ethrpc_close(c);
            return;
        }
        wn_proc_sleep_ms(100);
    }
    wn_ethrpc_close(c);
    cr_assert_fail("transaction not mined");
}

/* ---- without a chain ---- */

Test(anchor, data_format_known_answer)
{
    uint8_t root[32], out[WN_ANCHOR_DATA_LEN], h[32];
    memset(root, 0x11, 32);
    wn_anchor_data_encode(out, "waternotary/test", 0x0102030405060708ULL, root);
    cr_assert(memcmp(out, "WNA1", 4) == 0);
    wn_sha256(h, "waternotary/test", 16);
    cr_assert(memcmp(out + 4, h, 32) == 0);
    static const uint8_t size[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert(memcmp(out + 36, size, 8) == 0);
    cr_assert(memcmp(out + 44, root, 32) == 0);
    wn_anchor_data d;
    cr_assert(wn_anchor_data_decode(out, sizeof out, &d));
    cr_assert(d.size == 0x0102030405060708ULL);
    cr_assert(wn_anchor_data_matches(&d, "waternotary/test", 0x0102030405060708ULL, root));
    cr_assert_not(wn_anchor_data_matches(&d, "waternotary/tesT", 0x0102030405060708ULL, root));
    cr_assert_not(wn_anchor_data_matches(&d, "waternotary/test", 0x0102030405060709ULL, root));
    root[31] ^= 1;
    cr_assert_not(wn_anchor_data_matches(&d, "waternotary/test", 0x0102030405060708ULL, root));
    cr_assert_not(wn_anchor_data_decode(out, sizeof out - 1, &d), "75 bytes");
    uint8_t longer[WN_ANCHOR_DATA_LEN + 1] = {0};
    memcpy(longer, out, sizeof out);
    cr_assert_not(wn_anchor_data_decode(longer, sizeof longer, &d), "77 bytes");
    out[3] = '2';
    cr_assert_not(wn_anchor_data_decode(out, sizeof out, &d), "another magic");
    cr_assert_not(wn_anchor_data_is_anchor(out, sizeof out));
}

Test(anchor, options_refused_before_anything_is_created)
{
    char data[4400];
    snprintf(data, sizeof data, "%s/never", tmp);
    struct {
        const char *args[8];
        const char *why;
    } cases[] = {
        {{"--anchor-rpc", "http://127.0.0.1:9", NULL}, "no chain id"},
        {{"--anchor-rpc", "ftp://127.0.0.1:9", "--anchor-chain-id", "1", NULL}, "not http"},
        {{"--anchor-chain-id", "1", NULL}, "chain id without rpc"},
        {{"--anchor-rpc", "http://127.0.0.1:9", "--anchor-chain-id", "0", NULL}, "chain id 0"},
        {{"--anchor-rpc", "http://127.0.0.1:9", "--anchor-chain-id", "1", "--anchor-every", "0", NULL}, "every 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[16] = {"--data", data, "--listen", "127.0.0.1:0"};
        int k = 4;
        for (int j = 0; cases[i].args[j]; j++) args[k++] = cases[i].args[j];
        args[k] = NULL;
        result r = run("wn-node", args);
        cr_assert_neq(r.code, 0, "%s: accepted", cases[i].why);
        struct stat st;
        cr_assert_neq(stat(data, &st), 0, "%s: the data directory was created", cases[i].why);
        result_free(&r);
    }
}

Test(anchor, a_node_that_does_not_anchor)
{
    wn_test_node n;
    wn_test_node_init(&n, tmp);
    start_node(&n, NULL);
    long st;
    cJSON *j = get_json(n.url, "/v1/anchors", &st);
    cr_assert_eq(st, 404);
    cr_assert_str_eq(str(j, "error"), "not_found");
    cJSON_Delete(j);
    j = get_json(n.url, "/v1/checkpoint/anchor?size=1", &st);
    cr_assert_eq(st, 404);
    cJSON_Delete(j);
    wn_test_resp r;
    cr_assert(wn_test_http(n.url, "POST", "/v1/anchors", "application/json", "{}", 2, &r));
    cr_assert_eq(r.status, 405);
    wn_test_resp_free(&r);
    char *m = get_text(n.url, "/metrics");
    cr_assert_null(strstr(m, "wn_anchor_"), "no anchoring metrics without anchoring");
    free(m);
    wn_test_node_stop(&n, SIGTERM);
}

Test(anchor, cli_usage_and_unreachable_chain)
{
    char cp[4400];
    snprintf(cp, sizeof cp, "%s/cp.txt", tmp);
    wn_checkpoint c = {.origin = "waternotary/x", .size = 1};
    uint8_t sk[32];
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nl;
    cr_assert(wn_seckey_generate(sk));
    cr_assert_eq(wn_checkpoint_sign(&c, sk, note, sizeof note, &nl), WN_CHECKPOINT_OK);
    save(cp, note);
    const char *addr = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    const char *tx = "0x2b3f83cf29a031e8cbe0d633d502522f0cda5987813ddb228d63ebad0ba49462";
    result r = wn("verify-anchor", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-anchor", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:"));
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cp, "--rpc", "http://127.0.0.1:1", "--anchor-address",
           "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267", "--tx", tx, NULL);
    cr_assert_eq(r.code, 2, "bad EIP-55 checksum: %s", r.err);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cp, "--rpc", "http://127.0.0.1:1", "--anchor-address", addr, "--tx", tx,
           "--node", "http://127.0.0.1:1", NULL);
    cr_assert_eq(r.code, 2, "--tx and --node together");
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cp, "--rpc", "http://127.0.0.1:1", "--anchor-address", addr, "--tx", tx, NULL);
    cr_assert_eq(r.code, 3, "unreachable chain: %s %s", r.out, r.err);
    result_free(&r);
    r = wn("anchors", "--rpc", "http://127.0.0.1:1", "--anchor-address", addr, NULL);
    cr_assert_eq(r.code, 2, "no --notary-pub");
    result_free(&r);
    r = wn("anchors", "--rpc", "http://127.0.0.1:1", "--anchor-address", addr, "--notary-pub",
           "26285c8a0b9ba1e3f6e4a12c5b0d5a4a1b3d2c3e4f5061728394a5b6c7d8e9f0", NULL);
    cr_assert_eq(r.code, 3, "unreachable chain: %s", r.err);
    result_free(&r);
    r = wn("anchors", "--help", NULL);
    cr_assert_eq(r.code, 0);
    result_free(&r);
}

/* ---- with a chain ---- */

Test(anchor, keccak_and_transaction_hashes_agree_with_the_chain)
{
    need_anvil();
    wn_test_anvil a;
    start_anvil(&a, 0, NULL);
    /* Keccak-256 against the chain's web3_sha3, across the 136-byte block boundaries */
    static const size_t lens[] = {0, 1, 31, 55, 56, 135, 136, 137, 200, 271, 272, 273, 500, 1000};
    uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 31 + 7);
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        char *p = malloc(2 * lens[k] + 16), *res = NULL;
        strcpy(p, "[\"");
        wn_eth_hex(p + 2, msg, lens[k]);
        strcat(p, "\"]");
        cr_assert(wn_test_anvil_rpc(&a, "web3_sha3", p, &res));
        uint8_t mine[32], theirs[32];
        char h[80];
        wn_keccak256(mine, msg, lens[k]);
        cr_assert(sscanf(res, "\"%70[0-9a-fx]\"", h) == 1 && wn_eth_parse_bytes(h, theirs, 32));
        cr_assert(memcmp(mine, theirs, 32) == 0, "Keccak-256 of %zu bytes differs from the chain's", lens[k]);
        free(p);
        free(res);
    }
    /* an EIP-1559 transaction: the chain's hash is ours (checked inside) */
    uint8_t k0[32], k1[32], a1[20], hash[32];
    cr_assert(wn_hex_decode(k0, 32, WN_ANVIL_KEY0, 64) && wn_hex_decode(k1, 32, WN_ANVIL_KEY1, 64));
    cr_assert(wn_eth_address_of_seckey(a1, k1));
    cr_assert(wn_test_anvil_send(&a, k0, a1, (const uint8_t *)"hello", 5, hash));
    /* a legacy EIP-155 transaction with 1000 bytes of data: several Keccak blocks */
    wn_ethrpc *c;
    cr_assert(wn_ethrpc_open(&c, a.url, 5000, NULL));
    uint8_t from0[20];
    cr_assert(wn_eth_address_of_seckey(from0, k0));
    uint64_t nonce;
    cr_assert_eq(wn_ethrpc_nonce(c, from0, "pending", &nonce), 0);
    wn_ethtx tx = {.type = WN_ETHTX_LEGACY, .chain_id = 31337, .nonce = nonce, .gas_price = 10000000000ULL,
                   .gas_limit = 200000, .has_to = 1, .data = msg, .data_len = sizeof msg};
    memcpy(tx.to, a1, 20);
    tx.value[31] = 7;
    wn_ethsig sig;
    uint8_t raw[WN_ETHTX_MAX], mine[32], theirs[32];
    size_t rl;
    cr_assert(wn_ethtx_sign(&tx, k0, &sig) && wn_ethtx_encode_signed(&tx, &sig, raw, sizeof raw, &rl, mine));
    cr_assert_eq(wn_ethrpc_send_raw(c, raw, rl, theirs), 0, "%s", wn_ethrpc_detail(c));
    cr_assert(memcmp(mine, theirs, 32) == 0, "legacy transaction hash differs from the chain's");
    /* read back: the reported fields rebuild the same transaction, the sender recovers */
    wn_eth_txinfo *t = malloc(sizeof *t);
    cr_assert_eq(wn_ethrpc_tx(c, mine, t), 0);
    cr_assert(t->found && t->rebuildable && t->type == WN_ETHTX_LEGACY && t->chain_id == 31337);
    wn_ethtx back;
    wn_eth_txinfo_tx(t, &back);
    uint8_t again[32], who[20];
    cr_assert(wn_ethtx_encode_signed(&back, &t->sig, raw, sizeof raw, &rl, again) && memcmp(again, mine, 32) == 0);
    cr_assert(wn_ethtx_recover(&back, &t->sig, who) && memcmp(who, from0, 20) == 0);
    free(t);
    wn_ethrpc_close(c);
    wn_test_anvil_stop(&a);
}

Test(anchor, node_anchors_and_auditor_verifies)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--block-time", "1", "--silent", NULL};
    start_anvil(&a, 0, chain_args);
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 2));
    wn_test_node n;
    char address[64], notary[65];
    start_anchoring_node(&n, &a, &f, "2", address);
    notary_hex(&n, notary);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    for (int round = 0; round < 3; round++) {
        cr_assert(wn_test_feed_readings(&f, n.url, 20), "%s", f.err);
        wn_proc_sleep_ms(300);
    }
    uint64_t size = wait_anchored(&n, f.n, 60000);
    if (!size) node_log(&n);
    cr_assert(size >= f.n, "the latest checkpoint was not anchored");

    /* the node's status and records */
    cJSON *st = get_json(n.url, "/v1/anchors", NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "chain_up")));
    cr_assert_eq(num(st, "lag_entries"), 0);
    cr_assert(num(st, "confirmed") >= 1);
    cJSON *rec = record_of(st, size);
    cr_assert_not_null(rec);
    cr_assert_str_eq(str(rec, "state"), "confirmed");
    cr_assert(num(rec, "confirmations") >= 2);
    cr_assert_str_eq(str(rec, "from"), address);
    char tx[80];
    snprintf(tx, sizeof tx, "%s", str(rec, "tx"));
    cJSON_Delete(rec);
    cJSON_Delete(st);
    /* the monitoring overview says the node anchors (its page then never shows 「未锚定」) */
    cJSON *ov = get_json(n.url, "/v1/monitor/overview", NULL);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(ov, "anchor");
    cr_assert(cJSON_IsObject(an), "overview.anchor of an anchoring node");
    cr_assert(num(an, "anchored_size") >= 1);
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(an, "time")), "the anchor's block time");
    cJSON_Delete(ov);
    long code;
    char path[64];
    snprintf(path, sizeof path, "/v1/checkpoint/anchor?size=%llu", (unsigned long long)size);
    cJSON *one = get_json(n.url, path, &code);
    cr_assert_eq(code, 200);
    cr_assert_str_eq(str(one, "tx"), tx);
    cJSON_Delete(one);
    one = get_json(n.url, "/v1/checkpoint/anchor?size=999999", &code);
    cr_assert_eq(code, 404);
    cJSON_Delete(one);
    char *m = get_text(n.url, "/metrics");
    char want[64];
    snprintf(want, sizeof want, "wn_anchor_size %llu\n", (unsigned long long)size);
    cr_assert(strstr(m, want), "metrics: %s", m);
    cr_assert(strstr(m, "wn_anchor_lag_entries 0\n") && strstr(m, "wn_anchor_chain_up 1\n"));
    free(m);

    /* the auditor: the anchor of the checkpoint, found through the node or by its hash */
    char cpfile[4400], *note = NULL;
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    snprintf(path, sizeof path, "/v1/checkpoint?size=%llu", (unsigned long long)size);
    note = get_text(n.url, path);
    save(cpfile, note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--node", n.url,
                  "--confirmations", "2", "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: the checkpoint existed no later than"), "%s", r.out);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
           "--confirmations", "1", "--chain-id", "31337", "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "valid")));
    cr_assert_eq(num(j, "size"), size);
    cr_assert_str_eq(str(j, "tx"), tx);
    cr_assert(num(j, "block_number") > 0 && strlen(str(j, "block_time")) == 20);
    cJSON_Delete(j);
    result_free(&r);

    /* unconfirmed: more confirmations than the chain has blocks */
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
           "--confirmations", "100000", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "unconfirmed"), "%s", r.out);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
           "--chain-id", "1", NULL);
    cr_assert_eq(r.code, 1, "another chain id: %s", r.out);
    result_free(&r);

    /* wrong root: a checkpoint of the same size, properly signed by the notary, another root */
    wn_checkpoint cp;
    cr_assert_eq(wn_checkpoint_parse(note, strlen(note), &cp, NULL), WN_CHECKPOINT_OK);
    uint8_t nsk[32];
    char keypath[4400];
    snprintf(keypath, sizeof keypath, "%s/notary.key", n.data);
    cr_assert(wn_keyfile_read(keypath, nsk));
    cp.root[0] ^= 0x80;
    char forged[WN_CHECKPOINT_MAX + 1], forgedfile[4400];
    size_t fl;
    cr_assert_eq(wn_checkpoint_sign(&cp, nsk, forged, sizeof forged, &fl), WN_CHECKPOINT_OK);
    snprintf(forgedfile, sizeof forgedfile, "%s/forged.txt", tmp);
    save(forgedfile, forged);
    r = wn("verify-anchor", "--checkpoint", forgedfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
           "--confirmations", "1", "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "wrong root"), "%s", r.out);
    result_free(&r);

    /* wrong sender: someone else puts the same anchor data on the chain */
    uint8_t k1[32], a1[20], data[WN_ANCHOR_DATA_LEN], fake[32];
    cr_assert(wn_hex_decode(k1, 32, WN_ANVIL_KEY1, 64) && wn_eth_address_of_seckey(a1, k1));
    cp.root[0] ^= 0x80;
    wn_anchor_data_encode(data, cp.origin, cp.size, cp.root);
    cr_assert(wn_test_anvil_send(&a, k1, a1, data, sizeof data, fake));
    wait_mined(&a, fake);
    char fakehex[67], a1text[WN_ETH_ADDR_TEXT];
    wn_eth_hex(fakehex, fake, 32);
    wn_eth_address_format(a1text, a1);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", fakehex,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "wrong sender"), "%s", r.out);
    result_free(&r);
    /* (the same transaction is a valid anchor of its own sender: only the sender was wrong) */
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", a1text, "--tx", fakehex,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);

    /* one history; the stranger's transaction is not the notary's */
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--node", n.url, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: one consistent history"), "%s", r.out);
    cr_assert_null(strstr(r.out, fakehex));
    cr_assert(strstr(r.out, tx), "%s", r.out);
    result_free(&r);

    /* the anchoring key also anchors another log: a warning, not a fork */
    uint8_t ask[32], forkhash[32], otherhash[32];
    snprintf(keypath, sizeof keypath, "%s/anchor.key", n.data);
    cr_assert(wn_keyfile_read(keypath, ask));
    uint8_t aaddr[20];
    cr_assert(wn_eth_address_parse(aaddr, address));
    wn_anchor_data_encode(data, "another/log", cp.size, cp.root);
    cr_assert(wn_test_anvil_send(&a, ask, aaddr, data, sizeof data, otherhash));
    wait_mined(&a, otherhash);
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--node", n.url, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "WARNING: anchors of another log"), "%s", r.out);
    result_free(&r);

    /* a fork: the anchoring key signs another root for an anchored size */
    cp.root[5] ^= 1;
    wn_anchor_data_encode(data, cp.origin, cp.size, cp.root);
    cr_assert(wn_test_anvil_send(&a, ask, aaddr, data, sizeof data, forkhash));
    wait_mined(&a, forkhash);
    char forkhex[67];
    wn_eth_hex(forkhex, forkhash, 32);
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--json", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "FORK"), "%s", r.err);
    cr_assert(strstr(r.err, forkhex) && strstr(r.err, tx), "both transactions named: %s", r.err);
    j = cJSON_Parse(r.out);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "fork")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "forks")), 1);
    cJSON_Delete(j);
    result_free(&r);

    free(note);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}

Test(anchor, chain_down_ingestion_goes_on_and_anchoring_catches_up)
{
    need_anvil();
    wn_test_anvil a;
    char state[4400];
    snprintf(state, sizeof state, "%s/chain.json", tmp);
    const char *chain_args[] = {"--block-time", "1", "--silent", "--state", state, NULL};
    start_anvil(&a, 0, chain_args);
    unsigned port = a.port;
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 2));
    wn_test_node n;
    char address[64], notary[65];
    start_anchoring_node(&n, &a, &f, "1", address);
    notary_hex(&n, notary);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 10), "%s", f.err);
    uint64_t before = wait_anchored(&n, f.n, 60000);
    cr_assert(before >= f.n);

    /* the chain stops (its state is dumped to --state) */
    wn_test_anvil_stop(&a);
    uint64_t at_stop = f.n;
    for (int round = 0; round < 4; round++) {
        cr_assert(wn_test_feed_readings(&f, n.url, 25), "ingestion must go on: %s", f.err);
        wn_proc_sleep_ms(200);
    }
    cr_assert(wn_test_wait_checkpoint(n.url, f.n, NULL));
    wn_proc_sleep_ms(1500);
    cJSON *st = get_json(n.url, "/v1/anchors", NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "chain_up")), "chain_up while anvil is stopped");
    cr_assert_eq(num(st, "anchored_size"), before);
    cr_assert_eq(num(st, "ledger_size"), f.n);
    cr_assert(num(st, "lag_entries") >= f.n - at_stop, "lag_entries %llu", (unsigned long long)num(st, "lag_entries"));
    cr_assert(num(st, "lag_seconds") >= 1, "lag_seconds %llu", (unsigned long long)num(st, "lag_seconds"));
    cr_assert(strlen(str(st, "last_error")) > 0);
    cJSON_Delete(st);
    char *m = get_text(n.url, "/metrics");
    cr_assert(strstr(m, "wn_anchor_chain_up 0\n"), "%s", m);
    char want[64];
    snprintf(want, sizeof want, "wn_anchor_lag_entries %llu\n", (unsigned long long)(f.n - before));
    cr_assert(strstr(m, want), "want %s in %s", want, m);
    free(m);
    /* the lag keeps growing while the chain is away */
    cr_assert(wn_test_feed_readings(&f, n.url, 5), "%s", f.err);
    cr_assert(wn_test_wait_checkpoint(n.url, f.n, NULL));
    wn_proc_sleep_ms(300);
    st = get_json(n.url, "/v1/anchors", NULL);
    cr_assert(num(st, "lag_entries") >= f.n - before);
    cJSON_Delete(st);

    /* back, with the same state: the newest checkpoint gets anchored */
    start_anvil(&a, port, chain_args);
    uint64_t after = wait_anchored(&n, f.n, 60000);
    if (!after) node_log(&n);
    cr_assert(after >= f.n, "anchoring did not catch up");
    st = get_json(n.url, "/v1/anchors", NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "chain_up")));
    cr_assert_eq(num(st, "lag_entries"), 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(st, "last_error")));
    cJSON_Delete(st);
    char cpfile[4400], path[64];
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    snprintf(path, sizeof path, "/v1/checkpoint?size=%llu", (unsigned long long)after);
    char *note = get_text(n.url, path);
    save(cpfile, note);
    free(note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--node", n.url,
                  "--confirmations", "1", "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    /* the anchors from before the stop are still on the chain, and all form one history */
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--node", n.url, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "anchors");
    int saw_before = 0, saw_after = 0;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
        saw_before |= num(e, "size") == before;
        saw_after |= num(e, "size") == after;
    }
    cr_assert(saw_before && saw_after, "%s", r.out);
    cJSON_Delete(j);
    result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}

Test(anchor, reorganisation_drops_the_anchor_and_the_node_anchors_again)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--silent", NULL}; /* automine: one block per transaction */
    start_anvil(&a, 0, chain_args);
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    char address[64], notary[65];
    start_anchoring_node(&n, &a, &f, "3", address);
    notary_hex(&n, notary);
    char *snap = NULL;
    cr_assert(wn_test_anvil_rpc(&a, "evm_snapshot", "[]", &snap));
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err); /* one entry: one checkpoint, one anchor */
    cr_assert(wn_test_wait_checkpoint(n.url, 1, NULL));
    char tx[80] = "";
    uint64_t block = 0;
    for (int i = 0; i < 300 && !block; i++) { /* mined, 1 of 3 confirmations */
        cJSON *st = get_json(n.url, "/v1/anchors", NULL);
        cJSON *rec = record_of(st, 1);
        if (rec && strcmp(str(rec, "state"), "mined") == 0) {
            block = num(rec, "block_number");
            snprintf(tx, sizeof tx, "%s", str(rec, "tx"));
            cr_assert_eq(num(rec, "reanchors"), 0);
        }
        cJSON_Delete(rec);
        cJSON_Delete(st);
        if (!block) wn_proc_sleep_ms(100);
    }
    if (!block) node_log(&n);
    cr_assert(block > 0, "the anchor was not mined");

    /* the chain goes back to before the anchor's block: the transaction is gone */
    char params[80];
    snprintf(params, sizeof params, "[%s]", snap);
    char *ok = NULL;
    cr_assert(wn_test_anvil_rpc(&a, "evm_revert", params, &ok));
    cr_assert_str_eq(ok, "true");
    free(ok);
    free(snap);
    int again = 0;
    for (int i = 0; i < 300 && !again; i++) {
        cJSON *st = get_json(n.url, "/v1/anchors", NULL);
        cJSON *rec = record_of(st, 1);
        again = rec && num(rec, "reanchors") >= 1 && strcmp(str(rec, "state"), "mined") == 0;
        cJSON_Delete(rec);
        cJSON_Delete(st);
        if (!again) wn_proc_sleep_ms(100);
    }
    if (!again) node_log(&n);
    cr_assert(again, "the node did not anchor again after the reorganisation");
    for (int i = 0; i < 3; i++) cr_assert(wn_test_anvil_rpc(&a, "evm_mine", "[]", NULL));
    cr_assert_eq(wait_anchored(&n, 1, 30000), 1, "not confirmed after the new blocks");
    char *m = get_text(n.url, "/metrics");
    cr_assert(strstr(m, "wn_anchor_reanchored_total 1\n"), "%s", m);
    free(m);
    char cpfile[4400];
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    char *note = get_text(n.url, "/v1/checkpoint?size=1");
    save(cpfile, note);
    free(note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--node", n.url,
                  "--confirmations", "3", "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    /* the dropped transaction proves nothing any more */
    if (strcmp(tx, "") != 0) {
        cJSON *one = get_json(n.url, "/v1/checkpoint/anchor?size=1", NULL);
        if (strcmp(str(one, "tx"), tx) != 0) {
            r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
                   "--confirmations", "1", NULL);
            cr_assert_eq(r.code, 1, "a dropped transaction: %s", r.out);
            result_free(&r);
        }
        cJSON_Delete(one);
    }
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}

Test(anchor, a_chain_without_base_fee_gets_eip155_anchors)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--silent", "--hardfork", "berlin", NULL}; /* before EIP-1559 */
    start_anvil(&a, 0, chain_args);
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    char address[64], notary[65];
    start_anchoring_node(&n, &a, &f, "1", address);
    notary_hex(&n, notary);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 3), "%s", f.err);
    uint64_t size = wait_anchored(&n, f.n, 30000);
    if (!size) node_log(&n);
    cr_assert(size >= f.n);
    cJSON *st = get_json(n.url, "/v1/anchors", NULL);
    cJSON *rec = record_of(st, size);
    cr_assert_not_null(rec);
    cr_assert_eq(num(rec, "type"), 0, "a legacy (EIP-155) transaction on a chain without base fee");
    cJSON_Delete(rec);
    cJSON_Delete(st);
    char cpfile[4400], path[64];
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    snprintf(path, sizeof path, "/v1/checkpoint?size=%llu", (unsigned long long)size);
    char *note = get_text(n.url, path);
    save(cpfile, note);
    free(note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--node", n.url,
                  "--confirmations", "1", "--notary-pub", notary, "--chain-id", "31337", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}

/* Polls /v1/anchors until the record of size is in `state` (and pred, if given, holds). */
static cJSON *wait_record(const wn_test_node *n, uint64_t size, const char *state, unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 100) {
        cJSON *st = get_json(n->url, "/v1/anchors", NULL);
        cJSON *rec = record_of(st, size);
        cJSON_Delete(st);
        if (rec && strcmp(str(rec, "state"), state) == 0) return rec;
        cJSON_Delete(rec);
        wn_proc_sleep_ms(100);
    }
    return NULL;
}

Test(anchor, reorganisation_moves_the_anchor_to_another_block)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--silent", NULL};
    start_anvil(&a, 0, chain_args);
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    char address[64], notary[65];
    start_anchoring_node(&n, &a, &f, "4", address);
    notary_hex(&n, notary);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cJSON *rec = wait_record(&n, 1, "mined", 30000);
    if (!rec) node_log(&n);
    cr_assert_not_null(rec, "the anchor was not mined");
    uint64_t block = num(rec, "block_number");
    char tx[80], hash1[80];
    snprintf(tx, sizeof tx, "%s", str(rec, "tx"));
    snprintf(hash1, sizeof hash1, "%s", str(rec, "block_hash"));
    cJSON_Delete(rec);
    cr_assert(wn_test_anvil_rpc(&a, "evm_mine", "[]", NULL));

    /* the last two blocks are replaced; the same transaction lands in the second new one */
    char params[160], *raw = NULL;
    snprintf(params, sizeof params, "[\"%s\"]", tx);
    cr_assert(wn_test_anvil_rpc(&a, "eth_getRawTransactionByHash", params, &raw));
    char *reorg = malloc(strlen(raw) + 32);
    sprintf(reorg, "[2,[[%s,1]]]", raw);
    cr_assert(wn_test_anvil_rpc(&a, "anvil_reorg", reorg, NULL), "anvil_reorg %s", reorg);
    free(reorg);
    free(raw);
    int moved = 0;
    for (int i = 0; i < 300 && !moved; i++) {
        cJSON *st = get_json(n.url, "/v1/anchors", NULL);
        rec = record_of(st, 1);
        cJSON_Delete(st);
        moved = rec && num(rec, "block_number") == block + 1 && strcmp(str(rec, "block_hash"), hash1) != 0;
        if (moved) {
            cr_assert_str_eq(str(rec, "tx"), tx, "the same transaction, not a new one");
            cr_assert_eq(num(rec, "reanchors"), 0);
        }
        cJSON_Delete(rec);
        if (!moved) wn_proc_sleep_ms(100);
    }
    if (!moved) node_log(&n);
    cr_assert(moved, "the node did not follow its anchor into the new block");
    for (int i = 0; i < 3; i++) cr_assert(wn_test_anvil_rpc(&a, "evm_mine", "[]", NULL));
    rec = wait_record(&n, 1, "confirmed", 30000);
    cr_assert_not_null(rec);
    cr_assert_eq(num(rec, "block_number"), block + 1);
    cJSON_Delete(rec);
    char cpfile[4400];
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    char *note = get_text(n.url, "/v1/checkpoint?size=1");
    save(cpfile, note);
    free(note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
                  "--confirmations", "4", "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert_eq(num(j, "block_number"), block + 1);
    cJSON_Delete(j);
    result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}

/* ---- a lying JSON-RPC endpoint: a proxy to anvil that changes what it reports ---- */

enum { LIE_DATA = 1, LIE_FROM, LIE_GARBAGE };

typedef struct {
    const char *upstream;
    int lie;
} proxy;

typedef struct {
    char *body;
    size_t len;
} proxy_req;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    proxy_req *r = ctx;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b) return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/* Forwards body to the upstream chain. Returns: the answer (malloc'd) or NULL. */
static char *forward(const char *url, const char *body)
{
    proxy_req ans = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(ans.body);
        return NULL;
    }
    return ans.body;
}

static char *lie(const proxy *p, const char *request, char *answer)
{
    if (p->lie == LIE_GARBAGE) {
        free(answer);
        return strdup("this is not JSON-RPC");
    }
    cJSON *req = cJSON_Parse(request), *ans = cJSON_Parse(answer);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
    cJSON *res = cJSON_GetObjectItemCaseSensitive(ans, "result");
    if (cJSON_IsString(m) && strcmp(m->valuestring, "eth_getTransactionByHash") == 0 && cJSON_IsObject(res)) {
        if (p->lie == LIE_DATA) {
            cJSON *in = cJSON_GetObjectItemCaseSensitive(res, "input");
            if (cJSON_IsString(in)) {
                char *s = strdup(in->valuestring);
                size_t n = strlen(s);
                s[n - 1] = s[n - 1] == '0' ? '1' : '0'; /* another root, as the liar would have it */
                cJSON_SetValuestring(in, s);
                free(s);
            }
        } else if (p->lie == LIE_FROM) {
            cJSON_ReplaceItemInObjectCaseSensitive(res, "from",
                                                   cJSON_CreateString("0x0000000000000000000000000000000000000001"));
        }
        char *out = cJSON_PrintUnformatted(ans);
        free(answer);
        answer = out;
    }
    cJSON_Delete(req);
    cJSON_Delete(ans);
    return answer;
}

static enum MHD_Result proxy_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                     const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    proxy_req *r = *con_cls;
    if (!r) {
        *con_cls = calloc(1, sizeof *r);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *b = realloc(r->body, r->len + *size + 1);
        if (!b) return MHD_NO;
        memcpy(b + r->len, data, *size);
        r->body = b;
        r->len += *size;
        r->body[r->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    const proxy *p = cls;
    char *answer = r->body ? forward(p->upstream, r->body) : NULL;
    if (answer) answer = lie(p, r->body, answer);
    if (!answer) answer = strdup("{}");
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(answer), answer, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void proxy_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    proxy_req *r = *con_cls;
    if (r) free(r->body);
    free(r);
    *con_cls = NULL;
}

Test(anchor, a_lying_endpoint_is_caught)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--silent", NULL};
    start_anvil(&a, 0, chain_args);
    /* a checkpoint anchored by anvil's first development key */
    uint8_t nsk[32], k0[32], a0[20], data[WN_ANCHOR_DATA_LEN], hash[32];
    cr_assert(wn_seckey_generate(nsk));
    cr_assert(wn_hex_decode(k0, 32, WN_ANVIL_KEY0, 64) && wn_eth_address_of_seckey(a0, k0));
    wn_checkpoint cp = {.origin = "waternotary/lying-endpoint", .size = 42};
    memset(cp.root, 0xab, 32);
    char note[WN_CHECKPOINT_MAX + 1], cpfile[4400], txhex[67], addr[WN_ETH_ADDR_TEXT];
    size_t nl;
    cr_assert_eq(wn_checkpoint_sign(&cp, nsk, note, sizeof note, &nl), WN_CHECKPOINT_OK);
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    save(cpfile, note);
    wn_anchor_data_encode(data, cp.origin, cp.size, cp.root);
    cr_assert(wn_test_anvil_send(&a, k0, a0, data, sizeof data, hash));
    wait_mined(&a, hash);
    wn_eth_hex(txhex, hash, 32);
    wn_eth_address_format(addr, a0);

    proxy p = {.upstream = a.url};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                                            proxy_handler, &p, MHD_OPTION_SOCK_ADDR, &sa,
                                            MHD_OPTION_NOTIFY_COMPLETED, proxy_done, NULL, MHD_OPTION_END);
    cr_assert_not_null(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char purl[64];
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", (unsigned)info->port);

    /* honest proxy: valid */
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", purl, "--anchor-address", addr, "--tx", txhex,
                  "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    /* it reports other data than was signed: the fields no longer hash to the transaction */
    p.lie = LIE_DATA;
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", purl, "--anchor-address", addr, "--tx", txhex,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "do not hash to its hash"), "%s", r.out);
    result_free(&r);
    /* it reports another sender: ignored, the sender is recovered from the signature */
    p.lie = LIE_FROM;
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", purl, "--anchor-address", addr, "--tx", txhex,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", purl, "--anchor-address",
           "0x0000000000000000000000000000000000000001", "--tx", txhex, "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 1, "the reported from must not make it valid: %s", r.out);
    cr_assert(strstr(r.out, "wrong sender"), "%s", r.out);
    result_free(&r);
    /* it answers garbage: a network/endpoint error, not a verdict */
    p.lie = LIE_GARBAGE;
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", purl, "--anchor-address", addr, "--tx", txhex,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 3, "%s %s", r.out, r.err);
    result_free(&r);
    MHD_stop_daemon(d);
    wn_test_anvil_stop(&a);
}

Test(anchor, a_stuck_transaction_is_replaced_with_higher_fees)
{
    need_anvil();
    wn_test_anvil a;
    const char *chain_args[] = {"--silent", "--no-mining", NULL}; /* nothing is mined until evm_mine */
    start_anvil(&a, 0, chain_args);
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    wn_test_node_init(&n, tmp);
    const char *args[] = {"--registrar", f.reg_hex, "--checkpoint-ms", "100", "--anchor-rpc", a.url,
                          "--anchor-chain-id", "31337", "--anchor-every", "1", "--anchor-ms", "100",
                          "--anchor-confirmations", "1", "--anchor-poll-ms", "100", "--anchor-replace-ms", "400", NULL};
    start_node(&n, args);
    cJSON *s = get_json(n.url, "/v1/anchors", NULL);
    char address[64];
    snprintf(address, sizeof address, "%s", str(s, "address"));
    cJSON_Delete(s);
    cr_assert(wn_test_anvil_fund(&a, address));
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    int replaced = 0;
    for (int i = 0; i < 300 && !replaced; i++) {
        s = get_json(n.url, "/v1/anchors", NULL);
        cJSON *rec = record_of(s, 1);
        replaced = rec && num(rec, "attempts") >= 3 && strcmp(str(rec, "state"), "pending") == 0;
        cJSON_Delete(rec);
        cJSON_Delete(s);
        if (!replaced) wn_proc_sleep_ms(100);
    }
    if (!replaced) node_log(&n);
    cr_assert(replaced, "the stuck transaction was not replaced");
    cr_assert(wn_test_anvil_rpc(&a, "evm_mine", "[]", NULL));
    cJSON *rec = wait_record(&n, 1, "confirmed", 30000);
    if (!rec) node_log(&n);
    cr_assert_not_null(rec);
    cr_assert_eq(num(rec, "nonce"), 0, "replacements keep the nonce");
    cr_assert_eq(num(rec, "reanchors"), 0);
    char tx[80];
    snprintf(tx, sizeof tx, "%s", str(rec, "tx"));
    cJSON_Delete(rec);
    /* the chain has exactly one transaction of the anchoring address: the last replacement */
    char params[120], *count = NULL;
    snprintf(params, sizeof params, "[\"%s\",\"latest\"]", address);
    cr_assert(wn_test_anvil_rpc(&a, "eth_getTransactionCount", params, &count));
    cr_assert_str_eq(count, "\"0x1\"");
    free(count);
    char cpfile[4400];
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    char *note = get_text(n.url, "/v1/checkpoint?size=1");
    save(cpfile, note);
    free(note);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
                  "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    result_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}
