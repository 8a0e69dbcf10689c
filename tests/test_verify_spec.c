/* test_verify_spec.c — docs/PROTOCOL.md checked against a real node by an independent
 * reader: the signed bytes are rebuilt from what the text says (sections 1, 2, 3, 4 and 6)
 * with nothing but OpenSSL's SHA-256 and libsecp256k1's BIP-340 verification — none of the
 * project's encoders, decoders, hash or signature helpers — and compared with what a real
 * bin/wn-node produced: a reading's signature message (verified with the meter's key) and
 * its digest carried by the next reading, the leaf hash (section 3) and a receipt's signed
 * bytes (section 6, verified with the notary key), and a checkpoint's note text, key id and
 * signature (section 4). The readings themselves are made by the test feeder (the meter's
 * side); everything checked here is what the node stored, answered and signed. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

static char *tmp;
static secp256k1_context *ctx;

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = wn_test_tmpdir("verify_spec");
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
}

static void teardown(void)
{
    secp256k1_context_destroy(ctx);
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(verify_spec, .init = setup, .fini = teardown, .timeout = 120);

/* ---- an independent reader's primitives: OpenSSL and libsecp256k1 only ---- */

static void sha256(uint8_t out[32], const void *p, size_t n)
{
    unsigned int len = 0;
    cr_assert(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) && len == 32);
}

/* Section 1: SHA-256(SHA-256(tag) || SHA-256(tag) || msg). */
static void tagged_hash(uint8_t out[32], const char *tag, const uint8_t *msg, size_t n)
{
    uint8_t th[32];
    sha256(th, tag, strlen(tag));
    uint8_t *buf = malloc(64 + n);
    memcpy(buf, th, 32);
    memcpy(buf + 32, th, 32);
    memcpy(buf + 64, msg, n);
    sha256(out, buf, 64 + n);
    free(buf);
}

static int bip340_ok(const uint8_t sig[64], const uint8_t msg32[32], const uint8_t xonly[32])
{
    secp256k1_xonly_pubkey pk;
    if (!secp256k1_xonly_pubkey_parse(ctx, &pk, xonly)) return 0;
    return secp256k1_schnorrsig_verify(ctx, sig, msg32, 32, &pk);
}

static size_t unhex(uint8_t *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    cr_assert(n % 2 == 0 && n / 2 <= cap, "hex %s", s);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n / 2;
}

static size_t unbase64(uint8_t *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    cr_assert(n % 4 == 0 && n / 4 * 3 <= cap);
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    cr_assert(got >= 0, "base64 %s", s);
    size_t pad = (n && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
    return (size_t)got - pad;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

/* The conventions' time text, "YYYY-MM-DDTHH:MM:SS.mmmZ", to ms since the epoch. */
static uint64_t time_ms(const char *s)
{
    struct tm tm = {0};
    int ms;
    cr_assert_eq(strlen(s), 24, "%s", s);
    cr_assert_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                        &tm.tm_sec, &ms), 7, "%s", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (uint64_t)timegm(&tm) * 1000u + (uint64_t)ms;
}

/* ---- the node ---- */

static cJSON *get_json(const char *url, const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", path, NULL, NULL, 0, &r), "GET %s", path);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, (char *)r.body);
    cJSON *j = cJSON_Parse((char *)r.body);
    wn_test_resp_free(&r);
    cr_assert_not_null(j);
    return j;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsString(j), "no string %s", name);
    return j->valuestring;
}

/* Entry N's bytes as the node stores them. */
static size_t entry(const char *url, uint64_t n, uint8_t *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)n);
    cJSON *j = get_json(url, path);
    size_t len = unbase64(out, cap, str(j, "entry"));
    cJSON_Delete(j);
    return len;
}

Test(verify_spec, signed_bytes_rebuilt_from_the_text_match_the_node)
{
    wn_test_feed f;
    cr_assert(wn_test_feed_init(&f, 1));
    wn_test_node n;
    wn_test_node_init(&n, tmp);
    const char *args[] = {"--registrar", f.reg_hex, "--checkpoint-ms", "20", NULL};
    cr_assert(wn_test_node_start(&n, args), "wn-node did not start");
    cr_assert(wn_test_feed_enrol(&f, n.url), "%s", f.err);
    cr_assert(wn_test_feed_readings(&f, n.url, 3), "%s", f.err);
    cJSON *pk = get_json(n.url, "/v1/pubkey");
    uint8_t notary[32], meter[32];
    unhex(notary, 32, str(pk, "notary"));
    char origin[256];
    snprintf(origin, sizeof origin, "%s", str(pk, "origin"));
    cJSON_Delete(pk);

    /* section 2: readings at entries 1..3; the signature is over bytes [0, 85+11n) of the
     * reading, tagged "WaterNotary/reading/v1", by the meter id as x-only key */
    uint8_t e[3][512], prev_digest[32] = {0};
    size_t el[3];
    for (int i = 0; i < 3; i++) {
        el[i] = entry(n.url, 1 + (uint64_t)i, e[i], sizeof e[i]);
        /* section 3: the timed form, 0x80 | 0x01, u64 commit time, marks, then the reading */
        const uint8_t *r = e[i] + 10;
        size_t len = el[i] - 10;
        cr_assert_eq(e[i][0], 0x81, "entry type 0x81 = timed reading (section 3)");
        cr_assert_eq(e[i][9], 0x00, "marks: not late");
        uint64_t commit = be64(e[i] + 1);
        cr_assert(commit > 1700000000000ULL && commit <= (uint64_t)time(NULL) * 1000 + 1000, "commit time %llu",
                  (unsigned long long)commit);
        cr_assert_geq(commit, be64(r + 41), "committed at or after the reading's time");
        cr_assert_eq(r[0], 0x01, "version");
        unsigned cnt = r[83];
        cr_assert_eq(len, 149 + 11u * cnt, "total length 149 + 11n");
        cr_assert_eq(be64(r + 33), (uint64_t)i + 1, "sequence");
        cr_assert_eq(memcmp(r + 49, prev_digest, 32), 0, "previous digest of seq %d", i + 1);
        cr_assert_eq(r[84 + 11 * cnt], 1, "BIP-340 meter");
        if (i == 0) memcpy(meter, r + 1, 32);
        uint8_t msg[32];
        tagged_hash(msg, "WaterNotary/reading/v1", r, 85 + 11u * cnt);
        cr_assert(bip340_ok(r + 85 + 11 * cnt, msg, r + 1), "reading seq %d: signature over the text's bytes", i + 1);
        sha256(prev_digest, r, len); /* the digest is SHA-256 of all the bytes */
    }
    cr_assert_eq(memcmp(meter, f.m[0].id, 32), 0);

    /* section 6: the receipt of reading seq 2 (resent: a duplicate gets its original
     * receipt); leaf = SHA-256(0x00 || entry), the timed entry of section 3; signed bytes
     * 0x01 || u64 index || leaf || u64 time, tagged "WaterNotary/receipt/v1" */
    uint8_t batch[2 + 512];
    batch[0] = (uint8_t)((el[1] - 10) >> 8);
    batch[1] = (uint8_t)(el[1] - 10);
    memcpy(batch + 2, e[1] + 10, el[1] - 10);
    wn_test_resp resp;
    cr_assert(wn_test_http(n.url, "POST", "/v1/readings", "application/vnd.waternotary.readings", batch, el[1] - 8,
                           &resp));
    cr_assert_eq(resp.status, 200, "%s", (char *)resp.body);
    cJSON *ans = cJSON_Parse((char *)resp.body);
    wn_test_resp_free(&resp);
    const cJSON *res0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ans, "results"), 0);
    cr_assert_str_eq(str(res0, "status"), "duplicate");
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(res0, "receipt");
    cr_assert_not_null(rc);
    /* version 2 (the node issues it): a head signed once per commit, and this reading's
     * Merkle path inside the commit */
    uint8_t leaf[32], want_leaf[32], sig[64], root[32], msg[32], head[2 + 255 + 8 + 8 + 32 + 8 + 8];
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rc, "version")) &&
              cJSON_GetObjectItemCaseSensitive(rc, "version")->valuedouble == 2, "a version 2 receipt");
    unhex(leaf, 32, str(rc, "leaf"));
    unhex(sig, 64, str(rc, "sig"));
    unhex(root, 32, str(rc, "root"));
    uint8_t pre[1 + 512];
    pre[0] = 0x00;
    memcpy(pre + 1, e[1], el[1]); /* 0x00 || entry (= 0x81 || commit time || marks || reading) */
    sha256(want_leaf, pre, el[1] + 1);
    cr_assert_eq(memcmp(leaf, want_leaf, 32), 0, "the receipt's leaf is SHA-256(0x00 || timed entry)");
    cr_assert_eq(time_ms(str(rc, "time")), be64(e[1] + 1), "the receipt's time is the entry's commit time");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(rc, "index");
    cr_assert(cJSON_IsNumber(ix) && ix->valuedouble == 2);
    const char *rorigin = str(rc, "origin");
    cr_assert_str_eq(rorigin, origin, "the head's origin is the log's");
    uint64_t first = (uint64_t)cJSON_GetObjectItemCaseSensitive(rc, "first")->valuedouble;
    uint64_t count = (uint64_t)cJSON_GetObjectItemCaseSensitive(rc, "count")->valuedouble;
    uint64_t size = (uint64_t)cJSON_GetObjectItemCaseSensitive(rc, "size")->valuedouble;
    cr_assert(count >= 1 && first <= 2 && 2 < first + count && size == first + count, "head fields");
    size_t L = strlen(rorigin), hl = 0;
    head[hl++] = 0x02;
    head[hl++] = (uint8_t)L;
    memcpy(head + hl, rorigin, L);
    hl += L;
    put_be64(head + hl, first);
    put_be64(head + hl + 8, count);
    memcpy(head + hl + 16, root, 32);
    put_be64(head + hl + 48, time_ms(str(rc, "time")));
    put_be64(head + hl + 56, size);
    hl += 64;
    tagged_hash(msg, "WaterNotary/receipt-head/v1", head, hl);
    cr_assert(bip340_ok(sig, msg, notary), "the head's signature over the text's 66+L bytes");
    head[hl - 1] ^= 1; /* and over nothing else */
    tagged_hash(msg, "WaterNotary/receipt-head/v1", head, hl);
    cr_assert_not(bip340_ok(sig, msg, notary));
    /* the path: RFC 9162 §2.1.3.2 from the leaf at index - first to the commit root */
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(rc, "path"), *h;
    uint64_t fn = 2 - first, sn = count - 1;
    uint8_t r[32], buf[65];
    memcpy(r, leaf, 32);
    cJSON_ArrayForEach(h, path)
    {
        uint8_t sib[32];
        cr_assert(sn != 0, "a path longer than the tree");
        unhex(sib, 32, h->valuestring);
        buf[0] = 0x01;
        if ((fn & 1) || fn == sn) {
            memcpy(buf + 1, sib, 32);
            memcpy(buf + 33, r, 32);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            memcpy(buf + 1, r, 32);
            memcpy(buf + 33, sib, 32);
        }
        sha256(r, buf, 65);
        fn >>= 1;
        sn >>= 1;
    }
    cr_assert(sn == 0 && memcmp(r, root, 32) == 0, "the receipt's path leads from the leaf to the commit root");
    cJSON_Delete(ans);

    /* section 4: the checkpoint's note text is its three lines and the commit-time
     * extension line "commit-time <ms>" = the commit time of the last entry it covers; the
     * signature line is "— <origin> base64(key id || signature)", key id = SHA-256(name ||
     * 0x0A || 0xff || "waternotary-bip340" || key)[0..4), signature over
     * tagged_hash(checkpoint, text) */
    cr_assert(wn_test_wait_checkpoint(n.url, 4, NULL));
    wn_test_resp cp;
    cr_assert(wn_test_http(n.url, "GET", "/checkpoint", NULL, NULL, 0, &cp) && cp.status == 200);
    const char *note = (const char *)cp.body;
    const char *p = note;
    for (int k = 0; k < 4; k++) {
        if (k == 3) {
            char want[64];
            snprintf(want, sizeof want, "commit-time %llu\n", (unsigned long long)be64(e[2] + 1));
            cr_assert(strncmp(p, want, strlen(want)) == 0, "fourth line: %s (the size is 4: entry 3 = e[2])", want);
        }
        p = strchr(p, '\n');
        cr_assert_not_null(p);
        p++;
    }
    size_t text_len = (size_t)(p - note);
    cr_assert(strncmp(note, origin, strlen(origin)) == 0 && note[strlen(origin)] == '\n', "first line: the origin");
    cr_assert_eq(*p, '\n', "a blank line after the text");
    char prefix[300];
    snprintf(prefix, sizeof prefix, "\xe2\x80\x94 %s ", origin);
    cr_assert(strncmp(p + 1, prefix, strlen(prefix)) == 0, "signature line: %s", p + 1);
    char b64[200];
    const char *b = p + 1 + strlen(prefix);
    size_t bl = strcspn(b, "\n");
    cr_assert(bl < sizeof b64);
    memcpy(b64, b, bl);
    b64[bl] = '\0';
    uint8_t idsig[80];
    cr_assert_eq(unbase64(idsig, sizeof idsig, b64), 68);
    uint8_t kbuf[300], kid[32];
    size_t kl = 0;
    memcpy(kbuf, origin, strlen(origin));
    kl = strlen(origin);
    kbuf[kl++] = 0x0a;
    kbuf[kl++] = 0xff;
    memcpy(kbuf + kl, "waternotary-bip340", 18);
    kl += 18;
    memcpy(kbuf + kl, notary, 32);
    kl += 32;
    sha256(kid, kbuf, kl);
    cr_assert_eq(memcmp(idsig, kid, 4), 0, "the key id");
    tagged_hash(msg, "WaterNotary/checkpoint/v1", (const uint8_t *)note, text_len);
    cr_assert(bip340_ok(idsig + 4, msg, notary), "the checkpoint's signature over its note text");
    wn_test_resp_free(&cp);

    wn_test_node_stop(&n, SIGTERM);
    wn_test_feed_free(&f);
}
