/* test_verify_anchor.c — an anchor is a transaction from the anchoring address to that same
 * address with value 0 (docs/PROTOCOL.md §15), and both auditor commands hold it to that,
 * on a real local chain (anvil, tests/support/anvil.h) with a real anchoring wn-node: the
 * node's own anchors verify with `wn verify-anchor` and `wn anchors`; a transaction signed
 * by the anchoring key with exactly the anchor data of a checkpoint the node signed, but sent
 * to another address, or sent to itself with a non-zero value, is refused by `wn
 * verify-anchor` ("wrong recipient", "non-zero value") and reported as a problem by `wn
 * anchors` (exit 1), which keeps it out of the history. The node's anchor is also read
 * independently of the project's code: its data blob rebuilt from §15 with OpenSSL's
 * SHA-256 from the checkpoint's text equals the chain's input. Skips where anvil is not installed
 * (scripts/install-deps.sh installs it). */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/anchor_data.h"
#include "chain/ethrpc.h"
#include "chain/ethtx.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "ledger/tlog/checkpoint.h"
#include "tests/support/anvil.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("verify_anchor");
}

static void teardown(void)
{
    if (tmp) wn_test_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

TestSuite(verify_anchor, .init = setup, .fini = teardown, .timeout = 120);

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

static cJSON *get_json(const char *url, const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", path, NULL, NULL, 0, &r), "GET %s: no answer", path);
    cJSON *j = cJSON_Parse((const char *)r.body);
    wn_test_resp_free(&r);
    return j;
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

static uint64_t latest_size(const char *url)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r));
    uint64_t size = 0;
    wn_checkpoint cp;
    if (r.status == 200 && wn_checkpoint_parse((char *)r.body, r.len, &cp, NULL) == WN_CHECKPOINT_OK) size = cp.size;
    wn_test_resp_free(&r);
    return size;
}

/* Waits (up to ms) for a confirmed anchor of the latest checkpoint, of size >= min. */
static uint64_t wait_anchored(const wn_test_node *n, uint64_t min, unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 100) {
        uint64_t latest = latest_size(n->url);
        cJSON *s = get_json(n->url, "/v1/anchors");
        uint64_t anchored = num(s, "anchored_size");
        cJSON_Delete(s);
        if (latest >= min && anchored == latest) return anchored;
        wn_proc_sleep_ms(100);
    }
    return 0;
}

static void wait_mined(const wn_test_anvil *a, const uint8_t hash[32])
{
    wn_ethrpc *c;
    cr_assert(wn_ethrpc_open(&c, a->url, 5000, NULL));
    for (int i = 0; i < 300; i++) {
        wn_eth_receipt r;
        cr_assert_eq(wn_ethrpc_receipt(c, hash, &r), 0);
        if (r.found) {
            cr_assert_eq(r.status, 1, "the transaction itself succeeded");
            wn_ethrpc_close(c);
            return;
        }
        wn_proc_sleep_ms(100);
    }
    wn_ethrpc_close(c);
    cr_assert_fail("transaction not mined");
}

static void save(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* PROTOCOL §15 read independently (OpenSSL's SHA-256, none of the project's encoders): the
 * node's anchoring transaction, as the chain reports it, is sent to the anchoring address
 * itself with value 0, and its data is exactly "WNA1" || SHA-256(origin line) || u64 size
 * || root, taken from the checkpoint's text. */
static void independent_anchor_check(const wn_test_anvil *a, const char *tx, const char *cpfile, const char *address)
{
    char params[128], *res = NULL;
    snprintf(params, sizeof params, "[\"%s\"]", tx);
    cr_assert(wn_test_anvil_rpc(a, "eth_getTransactionByHash", params, &res));
    cJSON *t = cJSON_Parse(res);
    free(res);
    cr_assert_not_null(t);
    cr_assert(strcasecmp(str(t, "to"), address) == 0, "to %s, not the anchoring address %s", str(t, "to"), address);
    cr_assert(strcasecmp(str(t, "from"), address) == 0);
    cr_assert_str_eq(str(t, "value"), "0x0");
    char *note = wn_test_read_file(cpfile, NULL);
    char origin[256], size_s[32], root64[64];
    cr_assert_eq(sscanf(note, "%255[^\n]\n%31[^\n]\n%63[^\n]\n", origin, size_s, root64), 3);
    free(note);
    uint8_t want[76], root[48];
    unsigned int hl;
    memcpy(want, "WNA1", 4);
    cr_assert(EVP_Digest(origin, strlen(origin), want + 4, &hl, EVP_sha256(), NULL));
    unsigned long long size = strtoull(size_s, NULL, 10);
    for (int i = 0; i < 8; i++) want[36 + i] = (uint8_t)(size >> (56 - 8 * i));
    cr_assert_eq(EVP_DecodeBlock(root, (const unsigned char *)root64, (int)strlen(root64)), 33); /* 32 + 1 pad */
    memcpy(want + 44, root, 32);
    char hex[2 + 152 + 1] = "0x";
    for (int i = 0; i < 76; i++) snprintf(hex + 2 + 2 * i, 3, "%02x", want[i]);
    cr_assert_str_eq(str(t, "input"), hex, "the anchor data blob of section 15");
    cJSON_Delete(t);
}

Test(verify_anchor, an_anchor_goes_to_its_own_address_with_value_zero)
{
    if (!wn_test_anvil_bin())
        cr_skip("anvil is not installed: scripts/install-deps.sh installs the pinned npm package "
                "@foundry-rs/anvil into tools/anvil (or set WN_ANVIL to an anvil binary)");
    wn_test_anvil a;
    const char *chain_args[] = {"--block-time", "1", "--silent", NULL};
    if (!wn_test_anvil_start(&a, tmp, 0, chain_args)) cr_assert_fail("anvil did not start");
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    wn_test_node_init(&n, tmp);
    const char *args[] = {"--registrar", f.reg_hex, "--checkpoint-ms", "100", "--anchor-rpc", a.url,
                          "--anchor-chain-id", "31337", "--anchor-every", "1", "--anchor-ms", "100",
                          "--anchor-confirmations", "1", "--anchor-poll-ms", "100", NULL};
    if (!wn_test_node_start(&n, args)) {
        char *log = wn_test_read_file(n.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
    cJSON *st = get_json(n.url, "/v1/anchors");
    char address[64], notary[65];
    snprintf(address, sizeof address, "%s", str(st, "address"));
    cJSON_Delete(st);
    cr_assert(wn_test_anvil_fund(&a, address));
    cJSON *pk = get_json(n.url, "/v1/pubkey");
    snprintf(notary, sizeof notary, "%s", str(pk, "notary"));
    cJSON_Delete(pk);
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 10), "%s", f.err);
    uint64_t size = wait_anchored(&n, f.n, 60000);
    cr_assert(size >= f.n, "the latest checkpoint was not anchored");

    /* the node's own anchor: the checkpoint it anchored, the transaction it names */
    char path[80], cpfile[4400], tx[80];
    snprintf(path, sizeof path, "/v1/checkpoint/anchor?size=%llu", (unsigned long long)size);
    cJSON *rec = get_json(n.url, path);
    snprintf(tx, sizeof tx, "%s", str(rec, "tx"));
    cJSON_Delete(rec);
    snprintf(path, sizeof path, "/v1/checkpoint?size=%llu", (unsigned long long)size);
    wn_test_resp cr;
    cr_assert(wn_test_http(n.url, "GET", path, NULL, NULL, 0, &cr) && cr.status == 200);
    snprintf(cpfile, sizeof cpfile, "%s/cp.txt", tmp);
    save(cpfile, (char *)cr.body);
    wn_checkpoint cp;
    cr_assert_eq(wn_checkpoint_parse((char *)cr.body, cr.len, &cp, NULL), WN_CHECKPOINT_OK);
    wn_test_resp_free(&cr);
    result r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--node", n.url,
                  "--confirmations", "1", "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 0, "the node's own anchor: %s %s", r.out, r.err);
    result_free(&r);
    independent_anchor_check(&a, tx, cpfile, address);
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--node", n.url, NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, tx), "%s", r.out);
    result_free(&r);

    /* the node stops (so that it sends nothing more with the key), and the anchoring key
     * signs the very anchor data of that checkpoint twice more: once to another address,
     * once to itself with 1 wei */
    char datadir[4400];
    snprintf(datadir, sizeof datadir, "%s", n.data);
    wn_test_node_stop(&n, SIGTERM);
    char keypath[4500];
    uint8_t ask[32], self[20], other[20], k1[32], data[WN_ANCHOR_DATA_LEN], h_other[32], h_value[32];
    snprintf(keypath, sizeof keypath, "%s/anchor.key", datadir);
    cr_assert(wn_keyfile_read(keypath, ask));
    cr_assert(wn_eth_address_parse(self, address));
    cr_assert(wn_hex_decode(k1, 32, WN_ANVIL_KEY1, 64) && wn_eth_address_of_seckey(other, k1));
    wn_anchor_data_encode(data, cp.origin, cp.size, cp.root);
    cr_assert(wn_test_anvil_send(&a, ask, other, data, sizeof data, h_other));
    wait_mined(&a, h_other);
    cr_assert(wn_test_anvil_send_value(&a, ask, self, 1, data, sizeof data, h_value));
    wait_mined(&a, h_value);
    char x_other[67], x_value[67], other_text[WN_ETH_ADDR_TEXT];
    wn_eth_hex(x_other, h_other, 32);
    wn_eth_hex(x_value, h_value, 32);
    wn_eth_address_format(other_text, other);

    /* wn verify-anchor: each refused with its named reason; the node's own still valid */
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", x_other,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 1, "sent to another address: %s %s", r.out, r.err);
    cr_assert(strstr(r.out, "INVALID: wrong recipient") && strstr(r.out, other_text), "%s", r.out);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", x_value,
           "--confirmations", "1", "--json", NULL);
    cr_assert_eq(r.code, 1, "value 1 wei: %s %s", r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "valid")), "%s", r.out);
    cr_assert(strncmp(str(j, "reason"), "non-zero value", 14) == 0, "%s", r.out);
    cJSON_Delete(j);
    result_free(&r);
    r = wn("verify-anchor", "--checkpoint", cpfile, "--rpc", a.url, "--anchor-address", address, "--tx", tx,
           "--confirmations", "1", NULL);
    cr_assert_eq(r.code, 0, "the node's own anchor still verifies: %s %s", r.out, r.err);
    result_free(&r);

    /* wn anchors: both are problems (exit 1), neither joins the history; the node's is in it */
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, "--json", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    j = cJSON_Parse(r.out);
    cr_assert_not_null(j, "%s", r.out);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "consistent")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "fork")), "same root: no fork, %s", r.out);
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(j, "problems");
    cr_assert_eq(cJSON_GetArraySize(problems), 2, "%s", r.out);
    int saw_other = 0, saw_value = 0;
    for (const cJSON *p = problems->child; p; p = p->next) {
        saw_other |= strstr(p->valuestring, x_other) && strstr(p->valuestring, "wrong recipient");
        saw_value |= strstr(p->valuestring, x_value) && strstr(p->valuestring, "non-zero value");
    }
    cr_assert(saw_other && saw_value, "%s", r.out);
    const cJSON *anchors = cJSON_GetObjectItemCaseSensitive(j, "anchors");
    int has_node = 0;
    for (const cJSON *e = anchors->child; e; e = e->next) {
        cr_assert(strcmp(str(e, "tx"), x_other) != 0 && strcmp(str(e, "tx"), x_value) != 0, "%s", r.out);
        has_node |= strcmp(str(e, "tx"), tx) == 0;
    }
    cr_assert(has_node, "%s", r.out);
    cJSON_Delete(j);
    result_free(&r);
    r = wn("anchors", "--rpc", a.url, "--anchor-address", address, "--notary-pub", notary, NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.out, "PROBLEM:") && strstr(r.out, "INVALID: 2 problem(s)"), "%s", r.out);
    result_free(&r);

    wn_test_anvil_stop(&a);
    wn_test_feed_free(&f);
}
