/* ethrpc.c — Ethereum JSON-RPC over HTTP with libcurl, answers read with cJSON (see
 * ethrpc.h). Requests are {"jsonrpc":"2.0","id":N,"method":M,"params":P}; an answer must
 * carry the same id and exactly one of "result" and "error". */
#include "chain/ethrpc.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (64u << 20)
#define DETAIL_MAX 300

struct wn_ethrpc {
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    const atomic_int *abort;
    unsigned long id;
    long rpc_code;
    char detail[DETAIL_MAX];
    char *buf; /* the answer being received */
    size_t len;
};

const char *wn_ethrpc_strerror(int err)
{
    switch (err) {
    case WN_ETHRPC_OK: return "ok";
    case WN_ETHRPC_ETRANSPORT: return "the chain's JSON-RPC endpoint cannot be reached";
    case WN_ETHRPC_EPROTO: return "the chain's JSON-RPC endpoint answered something malformed";
    case WN_ETHRPC_ERPC: return "the chain's JSON-RPC endpoint answered with an error";
    case WN_ETHRPC_ENOMEM: return "out of memory";
    case WN_ETHRPC_EABORT: return "aborted";
    default: return "unknown error";
    }
}

static int fail(wn_ethrpc *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(wn_ethrpc *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    return err;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    wn_ethrpc *c = ctx;
    size_t add = size * n;
    if (c->len + add > MAX_ANSWER) return 0;
    char *b = realloc(c->buf, c->len + add + 1);
    if (!b) return 0;
    memcpy(b + c->len, p, add);
    c->buf = b;
    c->len += add;
    c->buf[c->len] = '\0';
    return add;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    wn_ethrpc *c = ctx;
    return c->abort && atomic_load(c->abort) ? 1 : 0;
}

int wn_ethrpc_open(wn_ethrpc **out, const char *url, unsigned timeout_ms, const atomic_int *abort)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 0;
    wn_ethrpc *c = calloc(1, sizeof *c);
    if (!c) return 0;
    c->url = strdup(url);
    c->curl = curl_easy_init();
    c->abort = abort;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->headers) c->headers = curl_slist_append(c->headers, "Expect:");
    if (!c->url || !c->curl || !c->headers) {
        wn_ethrpc_close(c);
        return 0;
    }
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "waternotary");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    *out = c;
    return 1;
}

void wn_ethrpc_close(wn_ethrpc *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->buf);
    free(c);
    curl_global_cleanup();
}

const char *wn_ethrpc_detail(const wn_ethrpc *c) { return c->detail; }
long wn_ethrpc_rpc_code(const wn_ethrpc *c) { return c->rpc_code; }

/* Sends one request. Out: *result (owned by *doc; free *doc with cJSON_Delete). */
static int call(wn_ethrpc *c, const char *method, const char *params, cJSON **doc, const cJSON **result)
{
    c->detail[0] = '\0';
    c->rpc_code = 0;
    *doc = NULL;
    size_t rl = strlen(method) + strlen(params) + 96;
    char *req = malloc(rl);
    if (!req) return fail(c, WN_ETHRPC_ENOMEM, "out of memory");
    unsigned long id = ++c->id;
    snprintf(req, rl, "{\"jsonrpc\":\"2.0\",\"id\":%lu,\"method\":\"%s\",\"params\":%s}", id, method, params);
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req));
    CURLcode rc = curl_easy_perform(c->curl);
    free(req);
    if (c->abort && atomic_load(c->abort)) return fail(c, WN_ETHRPC_EABORT, "%s: stopped", method);
    if (rc != CURLE_OK) return fail(c, WN_ETHRPC_ETRANSPORT, "%s: %s", method, curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return fail(c, WN_ETHRPC_ETRANSPORT, "%s: HTTP status %ld", method, status);
    cJSON *j = c->buf ? cJSON_ParseWithLength(c->buf, c->len) : NULL;
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return fail(c, WN_ETHRPC_EPROTO, "%s: the answer is not a JSON object", method);
    }
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!cJSON_IsNumber(jid) || jid->valuedouble != (double)id) {
        cJSON_Delete(j);
        return fail(c, WN_ETHRPC_EPROTO, "%s: the answer has another id", method);
    }
    if (err && !cJSON_IsNull(err)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        c->rpc_code = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
        int e = fail(c, WN_ETHRPC_ERPC, "%s: %.200s (code %ld)", method,
                     cJSON_IsString(msg) ? msg->valuestring : "no message", c->rpc_code);
        cJSON_Delete(j);
        return e;
    }
    if (!res) {
        cJSON_Delete(j);
        return fail(c, WN_ETHRPC_EPROTO, "%s: the answer has no result", method);
    }
    *doc = j;
    *result = res;
    return WN_ETHRPC_OK;
}

int wn_ethrpc_call(wn_ethrpc *c, const char *method, const char *params, char **result_json)
{
    cJSON *doc;
    const cJSON *res;
    int err = call(c, method, params, &doc, &res);
    if (err) return err;
    *result_json = cJSON_PrintUnformatted(res);
    cJSON_Delete(doc);
    return *result_json ? WN_ETHRPC_OK : fail(c, WN_ETHRPC_ENOMEM, "out of memory");
}

/* ---- hex ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

void wn_eth_hex(char *out, const uint8_t *p, size_t len)
{
    static const char d[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        out[2 + 2 * i] = d[p[i] >> 4];
        out[3 + 2 * i] = d[p[i] & 0xf];
    }
    out[2 + 2 * len] = '\0';
}

int wn_eth_parse_bytes(const char *s, uint8_t *out, size_t len)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s + 2) != 2 * len) return 0;
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

/* A hex quantity "0x..." of 1..16 digits. */
static int quantity(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsString(j)) return 0;
    const char *s = j->valuestring;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return 0;
    size_t n = strlen(s + 2);
    if (n == 0 || n > 16) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(s[2 + i]);
        if (d < 0) return 0;
        x = x << 4 | (uint64_t)d;
    }
    *v = x;
    return 1;
}

/* A hex quantity of up to 256 bits into 32 big-endian bytes. */
static int quantity256(const cJSON *j, uint8_t out[32])
{
    if (!cJSON_IsString(j)) return 0;
    const char *s = j->valuestring;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return 0;
    size_t n = strlen(s + 2);
    if (n == 0 || n > 64) return 0;
    memset(out, 0, 32);
    for (size_t i = 0; i < n; i++) {
        int d = hexval(s[2 + n - 1 - i]);
        if (d < 0) return 0;
        out[31 - i / 2] |= (uint8_t)(i % 2 ? d << 4 : d);
    }
    return 1;
}

/* Variable-length bytes "0x..." into out[0..cap). */
static int bytes_var(const cJSON *j, uint8_t *out, size_t cap, size_t *len)
{
    if (!cJSON_IsString(j)) return 0;
    const char *s = j->valuestring;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return 0;
    size_t n = strlen(s + 2);
    if (n % 2 || n / 2 > cap) return 0;
    *len = n / 2;
    return wn_eth_parse_bytes(s, out, n / 2);
}

static const cJSON *member(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

static int fixed(const cJSON *o, const char *name, uint8_t *out, size_t len)
{
    const cJSON *j = member(o, name);
    return cJSON_IsString(j) && wn_eth_parse_bytes(j->valuestring, out, len);
}

/* ---- typed calls ---- */

static int call_quantity(wn_ethrpc *c, const char *method, const char *params, uint64_t *v)
{
    cJSON *doc;
    const cJSON *res;
    int err = call(c, method, params, &doc, &res);
    if (err) return err;
    if (!quantity(res, v)) err = fail(c, WN_ETHRPC_EPROTO, "%s: the result is not a hex quantity", method);
    cJSON_Delete(doc);
    return err;
}

int wn_ethrpc_chain_id(wn_ethrpc *c, uint64_t *id) { return call_quantity(c, "eth_chainId", "[]", id); }
int wn_ethrpc_block_number(wn_ethrpc *c, uint64_t *n) { return call_quantity(c, "eth_blockNumber", "[]", n); }
int wn_ethrpc_gas_price(wn_ethrpc *c, uint64_t *wei) { return call_quantity(c, "eth_gasPrice", "[]", wei); }
int wn_ethrpc_max_priority_fee(wn_ethrpc *c, uint64_t *wei)
{
    return call_quantity(c, "eth_maxPriorityFeePerGas", "[]", wei);
}

int wn_ethrpc_nonce(wn_ethrpc *c, const uint8_t addr[WN_ETH_ADDR_LEN], const char *tag, uint64_t *nonce)
{
    char a[2 * WN_ETH_ADDR_LEN + 3], p[96];
    wn_eth_hex(a, addr, WN_ETH_ADDR_LEN);
    snprintf(p, sizeof p, "[\"%s\",\"%s\"]", a, tag);
    return call_quantity(c, "eth_getTransactionCount", p, nonce);
}

int wn_ethrpc_estimate_gas(wn_ethrpc *c, const uint8_t from[WN_ETH_ADDR_LEN], const uint8_t to[WN_ETH_ADDR_LEN],
                           const uint8_t *data, size_t len, uint64_t *gas)
{
    char f[2 * WN_ETH_ADDR_LEN + 3], t[2 * WN_ETH_ADDR_LEN + 3];
    char *d = malloc(2 * len + 3), *p = malloc(2 * len + 200);
    if (!d || !p) {
        free(d);
        free(p);
        return fail(c, WN_ETHRPC_ENOMEM, "out of memory");
    }
    wn_eth_hex(f, from, WN_ETH_ADDR_LEN);
    wn_eth_hex(t, to, WN_ETH_ADDR_LEN);
    wn_eth_hex(d, data, len);
    snprintf(p, 2 * len + 200, "[{\"from\":\"%s\",\"to\":\"%s\",\"value\":\"0x0\",\"data\":\"%s\"}]", f, t, d);
    int err = call_quantity(c, "eth_estimateGas", p, gas);
    free(d);
    free(p);
    return err;
}

int wn_ethrpc_send_raw(wn_ethrpc *c, const uint8_t *raw, size_t len, uint8_t hash[32])
{
    char *p = malloc(2 * len + 16);
    if (!p) return fail(c, WN_ETHRPC_ENOMEM, "out of memory");
    p[0] = '[';
    p[1] = '"';
    wn_eth_hex(p + 2, raw, len);
    strcat(p, "\"]");
    cJSON *doc;
    const cJSON *res;
    int err = call(c, "eth_sendRawTransaction", p, &doc, &res);
    free(p);
    if (err) return err;
    uint8_t h[32];
    if (!cJSON_IsString(res) || !wn_eth_parse_bytes(res->valuestring, h, 32))
        err = fail(c, WN_ETHRPC_EPROTO, "eth_sendRawTransaction: the result is not a transaction hash");
    else if (hash)
        memcpy(hash, h, 32);
    cJSON_Delete(doc);
    return err;
}

int wn_ethrpc_receipt(wn_ethrpc *c, const uint8_t tx_hash[32], wn_eth_receipt *r)
{
    char h[67], p[80];
    wn_eth_hex(h, tx_hash, 32);
    snprintf(p, sizeof p, "[\"%s\"]", h);
    memset(r, 0, sizeof *r);
    cJSON *doc;
    const cJSON *res;
    int err = call(c, "eth_getTransactionReceipt", p, &doc, &res);
    if (err) return err;
    if (cJSON_IsNull(res)) {
        cJSON_Delete(doc);
        return WN_ETHRPC_OK;
    }
    uint64_t st;
    const cJSON *status = member(res, "status");
    const cJSON *bn = member(res, "blockNumber");
    if (!cJSON_IsObject(res) || !fixed(res, "transactionHash", r->tx_hash, 32) ||
        !fixed(res, "from", r->from, WN_ETH_ADDR_LEN)) {
        err = fail(c, WN_ETHRPC_EPROTO, "eth_getTransactionReceipt: malformed receipt");
    } else if (cJSON_IsNull(bn) || !bn) {
        /* some nodes answer a receipt without a block for a pending transaction */
    } else if (!quantity(bn, &r->block_number) || !fixed(res, "blockHash", r->block_hash, 32) ||
               (status && !cJSON_IsNull(status) && (!quantity(status, &st) || st > 1))) {
        err = fail(c, WN_ETHRPC_EPROTO, "eth_getTransactionReceipt: malformed receipt");
    } else {
        r->found = 1;
        r->status = status && !cJSON_IsNull(status) ? (int)st : -1;
        uint64_t g;
        if (quantity(member(res, "gasUsed"), &g)) r->gas_used = g;
    }
    cJSON_Delete(doc);
    return err;
}

static int parse_block(const cJSON *res, wn_eth_block *b)
{
    memset(b, 0, sizeof *b);
    if (!cJSON_IsObject(res) || !quantity(member(res, "number"), &b->number) || !fixed(res, "hash", b->hash, 32) ||
        !fixed(res, "parentHash", b->parent, 32) || !quantity(member(res, "timestamp"), &b->timestamp))
        return 0;
    const cJSON *bf = member(res, "baseFeePerGas");
    if (bf && !cJSON_IsNull(bf)) {
        if (!quantity(bf, &b->base_fee)) return 0;
        b->has_base_fee = 1;
    }
    const cJSON *txs = member(res, "transactions");
    b->ntx = cJSON_IsArray(txs) ? (size_t)cJSON_GetArraySize(txs) : 0;
    b->found = 1;
    return 1;
}

static void block_param(char *p, size_t cap, uint64_t number, int full)
{
    if (number == WN_ETH_LATEST) snprintf(p, cap, "[\"latest\",%s]", full ? "true" : "false");
    else snprintf(p, cap, "[\"0x%llx\",%s]", (unsigned long long)number, full ? "true" : "false");
}

static int get_block(wn_ethrpc *c, const char *method, const char *p, wn_eth_block *b, cJSON **doc, const cJSON **res)
{
    memset(b, 0, sizeof *b);
    int err = call(c, method, p, doc, res);
    if (err) return err;
    if (cJSON_IsNull(*res)) return WN_ETHRPC_OK;
    if (!parse_block(*res, b)) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return fail(c, WN_ETHRPC_EPROTO, "%s: malformed block", method);
    }
    return WN_ETHRPC_OK;
}

int wn_ethrpc_block(wn_ethrpc *c, uint64_t number, wn_eth_block *b)
{
    char p[64];
    block_param(p, sizeof p, number, 0);
    cJSON *doc;
    const cJSON *res;
    int err = get_block(c, "eth_getBlockByNumber", p, b, &doc, &res);
    if (!err) cJSON_Delete(doc);
    return err;
}

int wn_ethrpc_block_by_hash(wn_ethrpc *c, const uint8_t hash[32], wn_eth_block *b)
{
    char h[67], p[96];
    wn_eth_hex(h, hash, 32);
    snprintf(p, sizeof p, "[\"%s\",false]", h);
    cJSON *doc;
    const cJSON *res;
    int err = get_block(c, "eth_getBlockByHash", p, b, &doc, &res);
    if (!err) cJSON_Delete(doc);
    return err;
}

/* Reads a transaction object. Returns: 0 if it lacks what every transaction has. */
static int parse_tx(const cJSON *o, wn_eth_txinfo *t)
{
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(o) || !fixed(o, "hash", t->hash, 32) || !fixed(o, "from", t->from, WN_ETH_ADDR_LEN))
        return 0;
    t->found = 1;
    const cJSON *bn = member(o, "blockNumber");
    if (bn && !cJSON_IsNull(bn)) {
        if (!quantity(bn, &t->block_number) || !fixed(o, "blockHash", t->block_hash, 32)) return 0;
        t->mined = 1;
    }
    /* The rest is only needed to rebuild the signed transaction; anything unusual makes
     * it not rebuildable rather than malformed. */
    uint64_t type = 0, v = 0, y = 0;
    const cJSON *jt = member(o, "type");
    if (jt && !quantity(jt, &type)) return 1;
    t->type = (int)type;
    const cJSON *to = member(o, "to");
    if (to && !cJSON_IsNull(to)) {
        if (!fixed(o, "to", t->to, WN_ETH_ADDR_LEN)) return 1;
        t->has_to = 1;
    }
    const cJSON *input = member(o, "input");
    if (!input) input = member(o, "data");
    if (!quantity(member(o, "nonce"), &t->nonce) || !quantity(member(o, "gas"), &t->gas_limit) ||
        !quantity256(member(o, "value"), t->value) || !bytes_var(input, t->data, sizeof t->data, &t->data_len) ||
        !quantity256(member(o, "r"), t->sig.r) || !quantity256(member(o, "s"), t->sig.s))
        return 1;
    if (type == WN_ETHTX_LEGACY) {
        uint64_t chain;
        unsigned yp;
        if (!quantity(member(o, "gasPrice"), &t->gas_price) || !quantity(member(o, "v"), &v) ||
            !wn_ethtx_legacy_v(v, &chain, &yp))
            return 1;
        t->chain_id = chain;
        t->sig.y_parity = yp;
    } else if (type == WN_ETHTX_EIP1559) {
        const cJSON *al = member(o, "accessList");
        const cJSON *jy = member(o, "yParity");
        if (!jy) jy = member(o, "v");
        if (!quantity(member(o, "chainId"), &t->chain_id) ||
            !quantity(member(o, "maxPriorityFeePerGas"), &t->max_priority_fee) ||
            !quantity(member(o, "maxFeePerGas"), &t->max_fee) || !quantity(jy, &y) || y > 1 ||
            (al && (!cJSON_IsArray(al) || cJSON_GetArraySize(al) != 0)))
            return 1;
        t->sig.y_parity = (unsigned)y;
    } else {
        return 1;
    }
    t->rebuildable = 1;
    return 1;
}

void wn_eth_txinfo_tx(const wn_eth_txinfo *t, wn_ethtx *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->type = t->type;
    tx->chain_id = t->chain_id;
    tx->nonce = t->nonce;
    tx->gas_price = t->gas_price;
    tx->max_priority_fee = t->max_priority_fee;
    tx->max_fee = t->max_fee;
    tx->gas_limit = t->gas_limit;
    tx->has_to = t->has_to;
    memcpy(tx->to, t->to, sizeof tx->to);
    memcpy(tx->value, t->value, 32);
    tx->data = t->data;
    tx->data_len = t->data_len;
}

int wn_ethrpc_tx(wn_ethrpc *c, const uint8_t tx_hash[32], wn_eth_txinfo *t)
{
    char h[67], p[80];
    wn_eth_hex(h, tx_hash, 32);
    snprintf(p, sizeof p, "[\"%s\"]", h);
    memset(t, 0, sizeof *t);
    cJSON *doc;
    const cJSON *res;
    int err = call(c, "eth_getTransactionByHash", p, &doc, &res);
    if (err) return err;
    if (!cJSON_IsNull(res) && !parse_tx(res, t))
        err = fail(c, WN_ETHRPC_EPROTO, "eth_getTransactionByHash: malformed transaction");
    cJSON_Delete(doc);
    return err;
}

int wn_ethrpc_block_txs(wn_ethrpc *c, uint64_t number, wn_eth_block *b, wn_eth_tx_visit fn, void *ctx)
{
    char p[64];
    block_param(p, sizeof p, number, 1);
    cJSON *doc;
    const cJSON *res;
    int err = get_block(c, "eth_getBlockByNumber", p, b, &doc, &res);
    if (err || !b->found) {
        if (!err) cJSON_Delete(doc);
        return err;
    }
    wn_eth_txinfo *t = malloc(sizeof *t);
    if (!t) {
        cJSON_Delete(doc);
        return fail(c, WN_ETHRPC_ENOMEM, "out of memory");
    }
    const cJSON *txs = member(res, "transactions");
    int rc = WN_ETHRPC_OK;
    for (const cJSON *o = txs ? txs->child : NULL; o && !rc; o = o->next) {
        if (!parse_tx(o, t)) {
            rc = fail(c, WN_ETHRPC_EPROTO, "eth_getBlockByNumber: malformed transaction in block %llu",
                      (unsigned long long)b->number);
            break;
        }
        rc = fn(ctx, b, t);
    }
    free(t);
    cJSON_Delete(doc);
    return rc;
}
