/* receipt.c — notary receipts: encode, sign, verify, JSON, for both versions (PROTOCOL §6).
 *
 * Version 2 verifies a Merkle path. protocol/ may not use ledger/ (the meter links only
 * crypto and protocol), so the RFC 9162 §2.1.3.2 inclusion check is written out here; the
 * tests cross-check it against ledger/tlog/merkle.c on every (index, size) up to 300. */
#include "protocol/receipt.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/strict_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define SIGNED_LEN 49

static const uint8_t zero_aux[32];

const char *wn_receipt_strerror(int err)
{
    switch (err) {
    case WN_RECEIPT_OK: return "the receipt verifies";
    case WN_RECEIPT_ESIG: return "the receipt's signature does not verify with the notary key";
    case WN_RECEIPT_EHEAD: return "the receipt head is inconsistent (count, tree size or index)";
    case WN_RECEIPT_EPATH: return "the receipt's Merkle path does not lead from the leaf to the commit root";
    default: return "unknown receipt error";
    }
}

static int is_v2(const wn_receipt *r) { return r->version == 2; }

/* ---- version 1 ---- */

static void signed_bytes(const wn_receipt *r, uint8_t out[SIGNED_LEN])
{
    out[0] = 1;
    wn_put_u64(out + 1, r->index);
    memcpy(out + 9, r->leaf, 32);
    wn_put_u64(out + 41, r->time_ms);
}

int wn_receipt_sign_with(wn_receipt *r, const wn_signer *notary)
{
    uint8_t b[SIGNED_LEN], d[32];
    r->version = 1;
    signed_bytes(r, b);
    wn_tagged_hash(d, WN_TAG_RECEIPT, b, sizeof b);
    return wn_signer_sign(notary, r->sig, d, zero_aux);
}

int wn_receipt_sign(wn_receipt *r, const uint8_t notary_seckey[WN_SECKEY_LEN])
{
    wn_signer s;
    int ok = wn_signer_init(&s, notary_seckey) && wn_receipt_sign_with(r, &s);
    wn_signer_clear(&s);
    return ok;
}

/* ---- version 2: the head ---- */

static int origin_ok(const char *o, size_t n)
{
    if (n == 0 || n > WN_RECEIPT_ORIGIN_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o[i] <= 0x20 || (unsigned char)o[i] >= 0x7f) return 0;
    return 1;
}

size_t wn_receipt_head_bytes(const wn_receipt_head *h, uint8_t *out)
{
    size_t L = h->origin_len, n = 0;
    out[n++] = 2;
    out[n++] = (uint8_t)L;
    memcpy(out + n, h->origin, L), n += L;
    wn_put_u64(out + n, h->first), n += 8;
    wn_put_u64(out + n, h->count), n += 8;
    memcpy(out + n, h->root, 32), n += 32;
    wn_put_u64(out + n, h->time_ms), n += 8;
    wn_put_u64(out + n, h->tree_size), n += 8;
    return n;
}

int wn_receipt_head_sign(wn_receipt_head *h, const wn_signer *notary)
{
    uint8_t b[WN_RECEIPT_HEAD_MAX], d[32];
    if (!origin_ok(h->origin, h->origin_len)) return 0;
    size_t n = wn_receipt_head_bytes(h, b);
    wn_tagged_hash(d, WN_TAG_RECEIPT_HEAD, b, n);
    return wn_signer_sign(notary, h->sig, d, zero_aux);
}

int wn_receipt_head_verify(const wn_receipt_head *h, const uint8_t notary_xonly[WN_XONLY_LEN])
{
    uint8_t b[WN_RECEIPT_HEAD_MAX];
    size_t n = wn_receipt_head_bytes(h, b);
    return wn_verify_tagged(h->sig, notary_xonly, WN_TAG_RECEIPT_HEAD, b, n);
}

/* ---- version 2: the path (RFC 9162 §2.1.3.2) ---- */

unsigned wn_receipt_path_len(uint64_t m, uint64_t n)
{
    /* The proof has one element per level below the root on the leaf's way up, except
     * where the leaf's node is the last, unpaired node of its level. */
    unsigned len = 0;
    uint64_t fn = m, sn = n - 1;
    while (sn > 0) {
        if ((fn & 1) || fn != sn) len++;
        fn >>= 1;
        sn >>= 1;
    }
    return len;
}

static void node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    static const uint8_t one = 0x01;
    uint8_t lr[64];
    memcpy(lr, l, 32);
    memcpy(lr + 32, r, 32);
    wn_sha256_2(out, &one, 1, lr, 64);
}

static int path_ok(const uint8_t leaf[32], uint64_t m, uint64_t n, const uint8_t (*path)[32], size_t len,
                   const uint8_t root[32])
{
    if (m >= n) return 0;
    uint64_t fn = m, sn = n - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            node_hash(r, path[i], r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            node_hash(r, r, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

/* ---- both versions ---- */

int wn_receipt_check(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN])
{
    if (!is_v2(r)) {
        uint8_t b[SIGNED_LEN];
        signed_bytes(r, b);
        return wn_verify_tagged(r->sig, notary_xonly, WN_TAG_RECEIPT, b, sizeof b) ? WN_RECEIPT_OK : WN_RECEIPT_ESIG;
    }
    const wn_receipt_head *h = &r->head;
    if (h->count == 0 || h->first > UINT64_MAX - h->count || h->tree_size != h->first + h->count ||
        r->index < h->first || r->index - h->first >= h->count || r->time_ms != h->time_ms ||
        !origin_ok(h->origin, h->origin_len))
        return WN_RECEIPT_EHEAD;
    if (r->path_len != wn_receipt_path_len(r->index - h->first, h->count) ||
        !path_ok(r->leaf, r->index - h->first, h->count, (const uint8_t(*)[32])r->path, r->path_len, h->root))
        return WN_RECEIPT_EPATH;
    return wn_receipt_head_verify(h, notary_xonly) ? WN_RECEIPT_OK : WN_RECEIPT_ESIG;
}

int wn_receipt_verify(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN])
{
    return wn_receipt_check(r, notary_xonly) == WN_RECEIPT_OK;
}

size_t wn_receipt_encode(const wn_receipt *r, uint8_t *out)
{
    if (!is_v2(r)) {
        signed_bytes(r, out);
        memcpy(out + SIGNED_LEN, r->sig, WN_SIG_LEN);
        return WN_RECEIPT_LEN;
    }
    size_t n = wn_receipt_head_bytes(&r->head, out);
    memcpy(out + n, r->head.sig, WN_SIG_LEN), n += WN_SIG_LEN;
    wn_put_u64(out + n, r->index), n += 8;
    memcpy(out + n, r->leaf, 32), n += 32;
    out[n++] = r->path_len;
    memcpy(out + n, r->path, 32 * (size_t)r->path_len), n += 32 * (size_t)r->path_len;
    return n;
}

int wn_receipt_decode(wn_receipt *r, const uint8_t *in, size_t len)
{
    if (len == 0) return 0;
    memset(r, 0, sizeof *r);
    if (in[0] == 1) {
        if (len != WN_RECEIPT_LEN) return 0;
        r->version = 1;
        r->index = wn_get_u64(in + 1);
        memcpy(r->leaf, in + 9, 32);
        r->time_ms = wn_get_u64(in + 41);
        memcpy(r->sig, in + SIGNED_LEN, WN_SIG_LEN);
        return 1;
    }
    if (in[0] != 2 || len < 2) return 0;
    size_t L = in[1];
    if (L == 0 || len < 171 + L) return 0;
    wn_receipt_head *h = &r->head;
    r->version = 2;
    h->origin_len = (uint8_t)L;
    memcpy(h->origin, in + 2, L);
    h->origin[L] = '\0';
    if (!origin_ok(h->origin, L)) return 0;
    const uint8_t *p = in + 2 + L;
    h->first = wn_get_u64(p), p += 8;
    h->count = wn_get_u64(p), p += 8;
    memcpy(h->root, p, 32), p += 32;
    h->time_ms = wn_get_u64(p), p += 8;
    h->tree_size = wn_get_u64(p), p += 8;
    memcpy(h->sig, p, 64), p += 64;
    r->index = wn_get_u64(p), p += 8;
    memcpy(r->leaf, p, 32), p += 32;
    r->path_len = *p++;
    r->time_ms = h->time_ms;
    if (r->path_len > WN_RECEIPT_PATH_MAX || len != 171 + L + 32 * (size_t)r->path_len) return 0;
    memcpy(r->path, p, 32 * (size_t)r->path_len);
    return 1;
}

/* ---- JSON ---- */

size_t wn_receipt_to_json(const wn_receipt *r, char *out, size_t cap)
{
    char leaf[65], sig[129], t[25];
    wn_hex_encode(leaf, r->leaf, 32);
    wn_time_format(t, r->time_ms);
    if (!is_v2(r)) {
        wn_hex_encode(sig, r->sig, 64);
        int n = snprintf(out, cap, "{\"index\":%llu,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}",
                         (unsigned long long)r->index, leaf, t, sig);
        return n > 0 && (size_t)n < cap ? (size_t)n : 0;
    }
    const wn_receipt_head *h = &r->head;
    char root[65], origin[2 * WN_RECEIPT_ORIGIN_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < h->origin_len; i++) { /* printable ASCII: only " and \ need escaping */
        if (h->origin[i] == '"' || h->origin[i] == '\\') origin[o++] = '\\';
        origin[o++] = h->origin[i];
    }
    origin[o] = '\0';
    wn_hex_encode(root, h->root, 32);
    wn_hex_encode(sig, h->sig, 64);
    int n = snprintf(out, cap,
                     "{\"version\":2,\"origin\":\"%s\",\"first\":%llu,\"count\":%llu,\"root\":\"%s\",\"time\":\"%s\","
                     "\"size\":%llu,\"sig\":\"%s\",\"index\":%llu,\"leaf\":\"%s\",\"path\":[",
                     origin, (unsigned long long)h->first, (unsigned long long)h->count, root, t,
                     (unsigned long long)h->tree_size, sig, (unsigned long long)r->index, leaf);
    if (n <= 0 || (size_t)n >= cap) return 0;
    size_t len = (size_t)n;
    for (size_t i = 0; i < r->path_len; i++) {
        if (len + 68 + 3 > cap) return 0;
        if (i) out[len++] = ',';
        out[len++] = '"';
        wn_hex_encode(out + len, r->path[i], 32);
        len += 64;
        out[len++] = '"';
    }
    if (len + 3 > cap) return 0;
    out[len++] = ']';
    out[len++] = '}';
    out[len] = '\0';
    return len;
}

static int hex_field(const cJSON *o, const char *name, uint8_t *out, size_t len)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(f) && wn_hex_decode(out, len, f->valuestring, strlen(f->valuestring));
}

/* A JSON integer member (PROTOCOL conventions; the text was checked lexically by the parser). */
static int u64_field(const cJSON *o, const char *name, uint64_t *out)
{
    return wn_json_uint(cJSON_GetObjectItemCaseSensitive(o, name), WN_JSON_INT_MAX, out);
}

static int time_field(const cJSON *o, uint64_t *out)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");
    return cJSON_IsString(t) && wn_time_parse(t->valuestring, strlen(t->valuestring), out);
}

static int from_cjson_v2(wn_receipt *r, const cJSON *o)
{
    wn_receipt_head *h = &r->head;
    if (cJSON_GetArraySize(o) != 11) return 0;
    const cJSON *org = cJSON_GetObjectItemCaseSensitive(o, "origin");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    if (!cJSON_IsString(org) || !cJSON_IsArray(path)) return 0;
    size_t L = strlen(org->valuestring);
    if (!origin_ok(org->valuestring, L)) return 0;
    h->origin_len = (uint8_t)L;
    memcpy(h->origin, org->valuestring, L + 1);
    if (!u64_field(o, "first", &h->first) || !u64_field(o, "count", &h->count) ||
        !u64_field(o, "size", &h->tree_size) || !u64_field(o, "index", &r->index) || !time_field(o, &h->time_ms) ||
        !hex_field(o, "root", h->root, 32) || !hex_field(o, "sig", h->sig, 64) || !hex_field(o, "leaf", r->leaf, 32))
        return 0;
    r->time_ms = h->time_ms;
    int np = cJSON_GetArraySize(path);
    if (np < 0 || np > WN_RECEIPT_PATH_MAX) return 0;
    r->path_len = (uint8_t)np;
    int i = 0;
    for (const cJSON *e = path->child; e; e = e->next, i++)
        if (!cJSON_IsString(e) || !wn_hex_decode(r->path[i], 32, e->valuestring, strlen(e->valuestring))) return 0;
    return i == np;
}

int wn_receipt_from_cjson(wn_receipt *r, const void *obj)
{
    const cJSON *o = obj;
    if (!cJSON_IsObject(o)) return 0;
    memset(r, 0, sizeof *r);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble != 2.0) return 0;
        r->version = 2;
        return from_cjson_v2(r, o);
    }
    r->version = 1;
    if (cJSON_GetArraySize(o) != 4) return 0;
    return u64_field(o, "index", &r->index) && time_field(o, &r->time_ms) && hex_field(o, "leaf", r->leaf, 32) &&
           hex_field(o, "sig", r->sig, 64);
}

void wn_reading_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len)
{
    static const uint8_t prefix[2] = {0x00, 0x01};
    wn_sha256_2(leaf, prefix, 2, reading, len);
}

void wn_reading_timed_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len, uint64_t commit_ms,
                                uint8_t marks)
{
    uint8_t prefix[11] = {0x00, 0x81}; /* leaf prefix, timed reading type (PROTOCOL §3) */
    wn_put_u64(prefix + 2, commit_ms);
    prefix[10] = marks;
    wn_sha256_2(leaf, prefix, sizeof prefix, reading, len);
}

int wn_receipt_is_for_reading(const wn_receipt *r, const uint8_t *reading, size_t len)
{
    uint8_t leaf[32];
    for (unsigned marks = 0; marks <= 1; marks++) { /* marks bit 0: late */
        wn_reading_timed_leaf_hash(leaf, reading, len, r->time_ms, (uint8_t)marks);
        if (memcmp(leaf, r->leaf, 32) == 0) return 1;
    }
    wn_reading_leaf_hash(leaf, reading, len);
    return memcmp(leaf, r->leaf, 32) == 0;
}
