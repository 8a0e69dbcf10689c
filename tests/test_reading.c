/* test_reading.c — the reading v1 codec (protocol/reading.h): a known answer computed
 * independently from docs/PROTOCOL.md, binary/struct/JSON round trips of many random
 * readings, every decode rule with its error code (and the decode that skips only the
 * meter id's point check), every tampering case, ECDSA keys and
 * high-S signatures, and the strictness of the JSON form, decimals and times. */
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the known answer ---------------------------------------------------------------
 * Computed with a separate Python script straight from PROTOCOL.md §2 (struct packing,
 * hashlib, and the BIP-340 reference signing algorithm with aux = 32 bytes of 0x42):
 * secret key 32 x 0x11, seq 42, time 2026-11-23T19:17:38.123Z, prev = SHA-256("previous"),
 * flags power_loss, volume 12345.678 m3, pH 7.21. */
static const char KAT_HEX[] =
    "014f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa000000000000002a000001"
    "a209d7a8cb6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d00040201010300"
    "00000000bc614e03050200000000000002d101b2d7a4ac8aceeb9c016ab7093950f3b6e719285ecd239cc12b"
    "18f22ccd1c44d2ae4e43baedcd11c1f5cdba26da82b842bd1fc28d0d1edc0b51f4248c33e29322";
static const char KAT_SIGNING_DIGEST[] = "d4d1463e06e6dd3f85811a44bbc2a680c8883c53be80e0f2e472f2a34b2b0cf9";
static const char KAT_DIGEST[] = "eb5e353c584e1a7be9677515b1e1f956503347004359be7cf5921f3e3322cc6b";
static const char KAT_JSON[] =
    "{\"version\":1,\"meter\":\"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\","
    "\"seq\":42,\"time\":\"2026-11-23T19:17:38.123Z\","
    "\"prev\":\"6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d\","
    "\"flags\":[\"power_loss\"],\"measurements\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"value\":"
    "\"12345.678\"},{\"quantity\":\"ph\",\"unit\":\"pH\",\"value\":\"7.21\"}],\"alg\":\"bip340\","
    "\"sig\":\"b2d7a4ac8aceeb9c016ab7093950f3b6e719285ecd239cc12b18f22ccd1c44d2ae4e43baedcd11c1f5cd"
    "ba26da82b842bd1fc28d0d1edc0b51f4248c33e29322\"}";

static const uint8_t KEY1[32] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};

static void hex_to(uint8_t *out, size_t n, const char *hex)
{
    cr_assert(wn_hex_decode(out, n, hex, strlen(hex)), "bad hex in test: %s", hex);
}

/* The known-answer reading, unsigned. */
static void kat_reading(wn_reading *r)
{
    memset(r, 0, sizeof *r);
    r->version = 1;
    cr_assert(wn_seckey_xonly(r->meter, KEY1));
    r->seq = 42;
    r->time_ms = 1795461458123ULL;
    wn_sha256(r->prev, "previous", 8);
    r->flags = WN_FLAG_POWER_LOSS;
    r->count = 2;
    r->m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 12345678};
    r->m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 721};
    r->alg = WN_ALG_BIP340;
}

static int reading_eq(const wn_reading *a, const wn_reading *b)
{
    if (a->version != b->version || memcmp(a->meter, b->meter, 32) || a->seq != b->seq ||
        a->time_ms != b->time_ms || memcmp(a->prev, b->prev, 32) || a->flags != b->flags ||
        a->count != b->count || a->alg != b->alg || memcmp(a->sig, b->sig, 64))
        return 0;
    for (unsigned i = 0; i < a->count; i++)
        if (a->m[i].quantity != b->m[i].quantity || a->m[i].unit != b->m[i].unit ||
            a->m[i].scale != b->m[i].scale || a->m[i].value != b->m[i].value)
            return 0;
    return 1;
}

Test(reading_kat, binary_digests_and_json)
{
    wn_reading r, back;
    uint8_t d[32], sig[64], buf[WN_READING_MAX_LEN], want[WN_READING_MAX_LEN];
    uint8_t aux[32];
    size_t len;
    char hex[2 * WN_READING_MAX_LEN + 1], json[WN_READING_JSON_MAX];

    kat_reading(&r);
    memset(aux, 0x42, 32);
    wn_reading_signing_digest(&r, d);
    wn_hex_encode(hex, d, 32);
    cr_assert_str_eq(hex, KAT_SIGNING_DIGEST);
    cr_assert(wn_schnorr_sign(sig, KEY1, d, aux));
    memcpy(r.sig, sig, 64);

    cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_OK);
    cr_assert_eq(len, strlen(KAT_HEX) / 2);
    cr_assert_eq(len, wn_reading_encoded_len(&r));
    wn_hex_encode(hex, buf, len);
    cr_assert_str_eq(hex, KAT_HEX);

    wn_reading_digest(&r, d);
    wn_hex_encode(hex, d, 32);
    cr_assert_str_eq(hex, KAT_DIGEST);
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_OK);
    cr_assert_eq(wn_reading_verify(&r, r.meter, 32), WN_READING_OK);

    cr_assert_eq(wn_reading_to_json(&r, json, sizeof json, &len), WN_READING_OK);
    cr_assert_str_eq(json, KAT_JSON);
    cr_assert_eq(len, strlen(KAT_JSON));

    hex_to(want, strlen(KAT_HEX) / 2, KAT_HEX);
    cr_assert_eq(wn_reading_decode(&back, want, strlen(KAT_HEX) / 2), WN_READING_OK);
    cr_assert(reading_eq(&back, &r));
    cr_assert_eq(wn_reading_from_json(&back, KAT_JSON, strlen(KAT_JSON), NULL, 0), WN_READING_OK);
    cr_assert(reading_eq(&back, &r));
}

/* The signing digest and the digest, recomputed here from their definitions. */
Test(reading_kat, digests_match_their_definitions)
{
    wn_reading r;
    uint8_t buf[WN_READING_MAX_LEN], d1[32], d2[32], th[32];
    size_t len;
    kat_reading(&r);
    cr_assert_eq(wn_reading_sign(&r, KEY1), WN_READING_OK);
    cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_OK);

    wn_sha256(th, WN_TAG_READING, strlen(WN_TAG_READING));
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    wn_sha256_update(&c, th, 32);
    wn_sha256_update(&c, th, 32);
    wn_sha256_update(&c, buf, len - 64); /* includes the algorithm byte */
    wn_sha256_final(&c, d1);
    wn_reading_signing_digest(&r, d2);
    cr_assert_arr_eq(d1, d2, 32);

    wn_sha256(d1, buf, len);
    wn_reading_digest(&r, d2);
    cr_assert_arr_eq(d1, d2, 32);
}

/* A pretty-printed form, as in PROTOCOL.md, with fields in another order and "\/" in a
 * unit, is the same reading. */
Test(reading_kat, json_whitespace_order_and_escapes)
{
    wn_reading a, b;
    const char *pretty =
        "{\"version\":1,\n \"seq\":42,\n \"meter\":\"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\",\n"
        " \"time\":\"2026-11-23T19:17:38.123Z\",\n \"prev\":\"6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d\",\n"
        " \"flags\":[\"power_loss\"],\n \"measurements\":[{\"unit\":\"m3\",\"quantity\":\"volume\",\"value\":\"12345.678\"},\n"
        "                 {\"quantity\":\"ph\",\"unit\":\"p\\u0048\",\"value\":\"7.21\"}],\n \"alg\":\"bip340\",\n"
        " \"sig\":\"b2d7a4ac8aceeb9c016ab7093950f3b6e719285ecd239cc12b18f22ccd1c44d2ae4e43baedcd11c1f5cdba26da82b842bd1fc28d0d1edc0b51f4248c33e29322\"}\n";
    cr_assert_eq(wn_reading_from_json(&a, KAT_JSON, strlen(KAT_JSON), NULL, 0), WN_READING_OK);
    char detail[200];
    int err = wn_reading_from_json(&b, pretty, strlen(pretty), detail, sizeof detail);
    cr_assert_eq(err, WN_READING_OK, "%s", detail);
    cr_assert(reading_eq(&a, &b));
    cr_assert_eq(wn_reading_verify(&b, NULL, 0), WN_READING_OK);
}

/* ---- random readings --------------------------------------------------------------- */

static int64_t random_value(void)
{
    switch (wn_test_prng() % 6) {
    case 0: return INT64_MIN;
    case 1: return INT64_MAX;
    case 2: return 0;
    case 3: return -(int64_t)(wn_test_prng() % 1000);
    default: return (int64_t)wn_test_prng();
    }
}

static const uint8_t units_of[9][2] = {
    {0, 0}, {WN_U_M3, WN_U_LITRE}, {WN_U_M3_PER_H, WN_U_L_PER_S}, {WN_U_PH, WN_U_PH},
    {WN_U_US_PER_CM, WN_U_US_PER_CM}, {WN_U_NTU, WN_U_NTU}, {WN_U_KPA, WN_U_MPA},
    {WN_U_DEGC, WN_U_DEGC}, {WN_U_RFU, WN_U_RFU},
};

/* A valid unsigned reading for seckey's meter. With 8 quantities in this version, a
 * valid reading has 1..8 measurements (strictly ascending quantities). */
static void random_reading(wn_reading *r, const uint8_t seckey[32])
{
    memset(r, 0, sizeof *r);
    r->version = 1;
    cr_assert(wn_seckey_xonly(r->meter, seckey));
    switch (wn_test_prng() % 4) {
    case 0: r->seq = 1; break;
    case 1: r->seq = WN_READING_MAX_SEQ; break;
    default: r->seq = 2 + wn_test_prng() % (WN_READING_MAX_SEQ - 1);
    }
    r->time_ms = wn_test_prng() % 3 ? wn_test_prng() % (WN_READING_MAX_TIME + 1) : WN_READING_MAX_TIME;
    if (r->seq > 1) {
        wn_test_prng_bytes(r->prev, 32);
        r->prev[wn_test_prng() % 32] |= 1;
    }
    r->flags = (uint16_t)(wn_test_prng() & WN_FLAG_ALL);
    unsigned mask;
    do mask = (unsigned)(wn_test_prng() & 0xff); while (!mask);
    for (unsigned q = 1; q <= WN_Q_MAX; q++) {
        if (!(mask >> (q - 1) & 1)) continue;
        wn_measurement *m = &r->m[r->count++];
        m->quantity = (uint8_t)q;
        m->unit = units_of[q][wn_test_prng() & 1];
        m->scale = (uint8_t)(wn_test_prng() % 10);
        m->value = random_value();
    }
    r->alg = WN_ALG_BIP340;
}

Test(reading_roundtrip, random_readings_both_algorithms)
{
    uint8_t keys[4][32];
    uint8_t pubs[4][33];
    wn_test_prng_seed(20261123);
    for (int k = 0; k < 4; k++) {
        do wn_test_prng_bytes(keys[k], 32); while (!wn_seckey_valid(keys[k]));
        cr_assert(wn_seckey_pub33(pubs[k], keys[k]));
    }
    for (int i = 0; i < 400; i++) {
        int k = i % 4, ecdsa = (i / 4) % 2;
        wn_reading r, back, fromjson;
        uint8_t buf[WN_READING_MAX_LEN], buf2[WN_READING_MAX_LEN];
        char json[WN_READING_JSON_MAX], json2[WN_READING_JSON_MAX], detail[256];
        size_t len, len2, jlen;
        random_reading(&r, keys[k]);
        cr_assert_eq(wn_reading_check(&r), WN_READING_OK);
        cr_assert_eq(ecdsa ? wn_reading_sign_ecdsa(&r, keys[k]) : wn_reading_sign(&r, keys[k]), WN_READING_OK);
        cr_assert_eq(r.alg, ecdsa ? WN_ALG_ECDSA : WN_ALG_BIP340);

        cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_OK);
        cr_assert_eq(len, 149u + 11u * r.count);
        cr_assert_eq(wn_reading_decode(&back, buf, len), WN_READING_OK);
        cr_assert(reading_eq(&r, &back), "binary round trip %d", i);
        if (ecdsa) {
            cr_assert_eq(wn_reading_verify(&back, pubs[k], 33), WN_READING_OK);
            cr_assert_eq(wn_reading_verify(&back, NULL, 0), WN_READING_EKEY);
        } else {
            cr_assert_eq(wn_reading_verify(&back, NULL, 0), WN_READING_OK);
            cr_assert_eq(wn_reading_verify(&back, pubs[k] + 1, 32), WN_READING_OK);
        }

        cr_assert_eq(wn_reading_to_json(&back, json, sizeof json, &jlen), WN_READING_OK);
        cr_assert_eq(jlen, strlen(json));
        int err = wn_reading_from_json(&fromjson, json, jlen, detail, sizeof detail);
        cr_assert_eq(err, WN_READING_OK, "%s: %s", json, detail);
        cr_assert(reading_eq(&r, &fromjson), "JSON round trip %d: %s", i, json);
        cr_assert_eq(wn_reading_encode(&fromjson, buf2, sizeof buf2, &len2), WN_READING_OK);
        cr_assert_eq(len2, len);
        cr_assert_arr_eq(buf, buf2, len);
        cr_assert_eq(wn_reading_to_json(&fromjson, json2, sizeof json2, NULL), WN_READING_OK);
        cr_assert_str_eq(json, json2);
    }
}

/* ---- binary decode rules ----------------------------------------------------------- */

static size_t kat_bytes(uint8_t *buf)
{
    size_t n = strlen(KAT_HEX) / 2;
    hex_to(buf, n, KAT_HEX);
    return n;
}

Test(reading_decode, truncated_at_every_length)
{
    uint8_t buf[WN_READING_MAX_LEN];
    wn_reading r;
    size_t n = kat_bytes(buf);
    for (size_t len = 0; len < n; len++) {
        /* a copy of exactly len bytes, so ASan catches any read past the end */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, buf, len);
        cr_assert_eq(wn_reading_decode(&r, p, len), WN_READING_ETRUNCATED, "length %zu", len);
        free(p);
    }
    cr_assert_eq(wn_reading_decode(&r, buf, n), WN_READING_OK);
}

Test(reading_decode, trailing_bytes)
{
    uint8_t buf[WN_READING_MAX_LEN + 64];
    wn_reading r;
    size_t n = kat_bytes(buf);
    memset(buf + n, 0, 64);
    cr_assert_eq(wn_reading_decode(&r, buf, n + 1), WN_READING_ETRAILING);
    cr_assert_eq(wn_reading_decode(&r, buf, n + 11), WN_READING_ETRAILING);
    cr_assert_eq(wn_reading_decode(&r, buf, n + 64), WN_READING_ETRAILING);
}

/* Patches the KAT bytes with f and expects decode to give want. */
#define EXPECT_PATCHED(want, ...)                                                       \
    do {                                                                                \
        uint8_t b_[WN_READING_MAX_LEN + 16];                                            \
        size_t n_ = kat_bytes(b_);                                                      \
        __VA_ARGS__;                                                                    \
        wn_reading r_;                                                                  \
        int got_ = wn_reading_decode(&r_, b_, n_);                                      \
        cr_assert_eq(got_, (want), "%s: got %s want %s", #__VA_ARGS__,                 \
                     wn_reading_errcode(got_), wn_reading_errcode(want));              \
    } while (0)

/* Offsets in the KAT reading (n = 2). */
#define OFF_SEQ 33
#define OFF_TIME 41
#define OFF_PREV 49
#define OFF_FLAGS 81
#define OFF_N 83
#define OFF_M0 84
#define OFF_M1 95
#define OFF_ALG 106
#define OFF_SIG 107

Test(reading_decode, each_rule_has_its_code)
{
    EXPECT_PATCHED(WN_READING_OK, (void)0);
    EXPECT_PATCHED(WN_READING_EVERSION, b_[0] = 0);
    EXPECT_PATCHED(WN_READING_EVERSION, b_[0] = 2);
    EXPECT_PATCHED(WN_READING_EMETER, memset(b_ + 1, 0xff, 32));  /* x >= p */
    EXPECT_PATCHED(WN_READING_EMETER, memset(b_ + 1, 0x00, 32); b_[32] = 5); /* 5^3+7 = 132: not a square mod p */
    EXPECT_PATCHED(WN_READING_ESEQ, wn_put_u64(b_ + OFF_SEQ, 0));
    EXPECT_PATCHED(WN_READING_ESEQ, wn_put_u64(b_ + OFF_SEQ, 1ULL << 53));
    EXPECT_PATCHED(WN_READING_ESEQ, wn_put_u64(b_ + OFF_SEQ, UINT64_MAX));
    EXPECT_PATCHED(WN_READING_OK, wn_put_u64(b_ + OFF_SEQ, WN_READING_MAX_SEQ));
    EXPECT_PATCHED(WN_READING_ETIME, wn_put_u64(b_ + OFF_TIME, WN_READING_MAX_TIME + 1));
    EXPECT_PATCHED(WN_READING_ETIME, wn_put_u64(b_ + OFF_TIME, UINT64_MAX));
    EXPECT_PATCHED(WN_READING_OK, wn_put_u64(b_ + OFF_TIME, WN_READING_MAX_TIME));
    EXPECT_PATCHED(WN_READING_OK, wn_put_u64(b_ + OFF_TIME, 0));
    EXPECT_PATCHED(WN_READING_EPREV, memset(b_ + OFF_PREV, 0, 32));             /* seq 42, zero prev */
    EXPECT_PATCHED(WN_READING_EPREV, wn_put_u64(b_ + OFF_SEQ, 1));              /* seq 1, non-zero prev */
    EXPECT_PATCHED(WN_READING_OK, wn_put_u64(b_ + OFF_SEQ, 1); memset(b_ + OFF_PREV, 0, 32));
    EXPECT_PATCHED(WN_READING_EFLAGS, wn_put_u16(b_ + OFF_FLAGS, 0x40));
    EXPECT_PATCHED(WN_READING_EFLAGS, wn_put_u16(b_ + OFF_FLAGS, 0x8000));
    EXPECT_PATCHED(WN_READING_OK, wn_put_u16(b_ + OFF_FLAGS, 0x3f));
    EXPECT_PATCHED(WN_READING_ECOUNT, b_[OFF_N] = 0);
    EXPECT_PATCHED(WN_READING_ECOUNT, b_[OFF_N] = 17);
    EXPECT_PATCHED(WN_READING_ECOUNT, b_[OFF_N] = 255);
    EXPECT_PATCHED(WN_READING_ETRUNCATED, b_[OFF_N] = 3);               /* says 3, carries 2 */
    EXPECT_PATCHED(WN_READING_ETRAILING, b_[OFF_N] = 1);                /* says 1, carries 2 */
    EXPECT_PATCHED(WN_READING_EQUANTITY, b_[OFF_M0] = 0);
    EXPECT_PATCHED(WN_READING_EQUANTITY, b_[OFF_M1] = 9);
    EXPECT_PATCHED(WN_READING_EQUANTITY, b_[OFF_M1] = 0xff);
    EXPECT_PATCHED(WN_READING_EUNIT, b_[OFF_M0 + 1] = 0);
    EXPECT_PATCHED(WN_READING_EUNIT, b_[OFF_M0 + 1] = 12);
    EXPECT_PATCHED(WN_READING_EUNIT, b_[OFF_M0 + 1] = WN_U_PH);         /* volume in pH units */
    EXPECT_PATCHED(WN_READING_EUNIT, b_[OFF_M1 + 1] = WN_U_M3);         /* pH in m3 */
    EXPECT_PATCHED(WN_READING_OK, b_[OFF_M0 + 1] = WN_U_LITRE);
    EXPECT_PATCHED(WN_READING_ESCALE, b_[OFF_M0 + 2] = 10);
    EXPECT_PATCHED(WN_READING_ESCALE, b_[OFF_M1 + 2] = 0xff);
    EXPECT_PATCHED(WN_READING_OK, b_[OFF_M1 + 2] = 9);
    EXPECT_PATCHED(WN_READING_EORDER, b_[OFF_M1] = WN_Q_VOLUME; b_[OFF_M1 + 1] = WN_U_M3); /* repeated */
    EXPECT_PATCHED(WN_READING_EORDER, b_[OFF_M0] = WN_Q_PH; b_[OFF_M0 + 1] = WN_U_PH;
                   b_[OFF_M1] = WN_Q_VOLUME; b_[OFF_M1 + 1] = WN_U_M3); /* descending */
    EXPECT_PATCHED(WN_READING_EALG, b_[OFF_ALG] = 0);
    EXPECT_PATCHED(WN_READING_EALG, b_[OFF_ALG] = 5);
    EXPECT_PATCHED(WN_READING_OK, b_[OFF_ALG] = 3); /* P-256 */
    EXPECT_PATCHED(WN_READING_OK, b_[OFF_ALG] = 4); /* SM2 */
    EXPECT_PATCHED(WN_READING_OK, b_[OFF_ALG] = 2);
}

/* The first rule broken, in field order, is the one reported. */
Test(reading_decode, first_rule_in_field_order)
{
    EXPECT_PATCHED(WN_READING_EVERSION, b_[0] = 9; n_ = 5);
    EXPECT_PATCHED(WN_READING_ESEQ, wn_put_u64(b_ + OFF_SEQ, 0); b_[OFF_ALG] = 7);
    EXPECT_PATCHED(WN_READING_EFLAGS, b_[OFF_FLAGS] = 0xff; b_[OFF_M0] = 0);
    EXPECT_PATCHED(WN_READING_EUNIT, b_[OFF_M0 + 1] = 0; b_[OFF_M0 + 2] = 99);
}

/* ---- decoding a reading of a meter whose id is known to be a key --------------------- */

/* Both decoders on the same bytes, whose meter id is a valid key: same result, same struct. */
static void expect_same_decode(const uint8_t *b, size_t n, size_t pos, unsigned v)
{
    wn_reading full, known;
    int ef = wn_reading_decode(&full, b, n), ek = wn_reading_decode_known_meter(&known, b, n);
    cr_assert_eq(ek, ef, "length %zu, byte %zu = %u: known_meter %s, full %s", n, pos, v, wn_reading_errcode(ek),
                 wn_reading_errcode(ef));
    if (ef == WN_READING_OK) cr_assert(reading_eq(&full, &known), "length %zu, byte %zu = %u", n, pos, v);
}

Test(reading_decode_known_meter, agrees_with_the_full_decode_when_the_id_is_a_key)
{
    uint8_t good[WN_READING_MAX_LEN + 32], b[WN_READING_MAX_LEN + 32];
    size_t n = kat_bytes(good);
    memset(good + n, 0, sizeof good - n);
    for (size_t len = 0; len <= n + 32; len++) { /* truncated, exact, trailing */
        uint8_t *p = malloc(len ? len : 1);  /* exactly len bytes, for ASan */
        memcpy(p, good, len);
        expect_same_decode(p, len, 0, good[0]);
        free(p);
    }
    /* every value of every byte outside the meter id: each field rule and its order */
    for (size_t pos = 0; pos < n; pos++) {
        if (pos >= 1 && pos < 33) continue;
        for (unsigned v = 0; v < 256; v++) {
            memcpy(b, good, n);
            b[pos] = (uint8_t)v;
            expect_same_decode(b, n, pos, v);
        }
    }
    /* random valid readings of both algorithms */
    uint8_t sk[32];
    wn_test_prng_seed(4242);
    for (int i = 0; i < 100; i++) {
        wn_reading r;
        size_t len;
        do wn_test_prng_bytes(sk, 32); while (!wn_seckey_valid(sk));
        random_reading(&r, sk);
        cr_assert_eq(i % 2 ? wn_reading_sign_ecdsa(&r, sk) : wn_reading_sign(&r, sk), WN_READING_OK);
        cr_assert_eq(wn_reading_encode(&r, b, sizeof b, &len), WN_READING_OK);
        expect_same_decode(b, len, 0, 0);
    }
}

/* An id that is not a curve point: the one rule skipped. Known-meter decoding reports the
 * next rule broken (or none), never bad_meter_id; rules before the id still come first. */
Test(reading_decode_known_meter, skips_only_the_point_check)
{
    uint8_t good[WN_READING_MAX_LEN], b[WN_READING_MAX_LEN];
    size_t n = kat_bytes(good);
    wn_reading full, known, ref;
    cr_assert_eq(wn_reading_decode(&ref, good, n), WN_READING_OK);

    uint8_t bad_ids[2][32];
    memset(bad_ids[0], 0xff, 32);                /* x >= p */
    memset(bad_ids[1], 0x00, 32), bad_ids[1][31] = 5; /* 5^3 + 7 is not a square mod p */
    for (int k = 0; k < 2; k++) {
        cr_assert_not(wn_xonly_valid(bad_ids[k]));
        memcpy(b, good, n);
        memcpy(b + 1, bad_ids[k], 32);
        cr_assert_eq(wn_reading_decode(&full, b, n), WN_READING_EMETER);
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n), WN_READING_OK);
        memcpy(ref.meter, bad_ids[k], 32);
        cr_assert(reading_eq(&known, &ref), "every field as in the bytes");
        memcpy(ref.meter, good + 1, 32);

        wn_put_u64(b + OFF_SEQ, 0); /* and a later field broken: that one is reported */
        cr_assert_eq(wn_reading_decode(&full, b, n), WN_READING_EMETER);
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n), WN_READING_ESEQ);
        memcpy(b, good, n);
        memcpy(b + 1, bad_ids[k], 32);
        b[OFF_ALG] = 9;
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n), WN_READING_EALG);

        memcpy(b, good, n); /* rules before the id win in both */
        memcpy(b + 1, bad_ids[k], 32);
        cr_assert_eq(wn_reading_decode(&full, b, n - 1), WN_READING_ETRUNCATED);
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n - 1), WN_READING_ETRUNCATED);
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, 40), WN_READING_ETRUNCATED);
        b[OFF_N] = 0;
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n), WN_READING_ECOUNT);
        b[0] = 2;
        cr_assert_eq(wn_reading_decode(&full, b, n), WN_READING_EVERSION);
        cr_assert_eq(wn_reading_decode_known_meter(&known, b, n), WN_READING_EVERSION);
    }

    /* random ids: about half are x coordinates on the curve */
    int valid = 0, invalid = 0;
    wn_test_prng_seed(777);
    for (int i = 0; i < 200; i++) {
        memcpy(b, good, n);
        wn_test_prng_bytes(b + 1, 32);
        int ef = wn_reading_decode(&full, b, n), ek = wn_reading_decode_known_meter(&known, b, n);
        cr_assert_eq(ek, WN_READING_OK);
        if (wn_xonly_valid(b + 1)) {
            valid++;
            cr_assert_eq(ef, WN_READING_OK);
            cr_assert(reading_eq(&full, &known));
        } else {
            invalid++;
            cr_assert_eq(ef, WN_READING_EMETER);
        }
        cr_assert_arr_eq(known.meter, b + 1, 32);
    }
    cr_assert(valid > 50 && invalid > 50, "valid %d invalid %d", valid, invalid);
}

/* ---- tampering --------------------------------------------------------------------- */

/* Every single-bit change anywhere in a signed reading is rejected: by the decoder with
 * a field error, or by verification. */
static void every_bit_flip_rejected(const uint8_t *good, size_t n, const uint8_t *pub, size_t publen)
{
    uint8_t b[WN_READING_MAX_LEN];
    wn_reading r;
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, n);
            b[i] ^= (uint8_t)(1u << bit);
            int err = wn_reading_decode(&r, b, n);
            if (err == WN_READING_OK) err = wn_reading_verify(&r, pub, publen);
            cr_assert_neq(err, WN_READING_OK, "flip byte %zu bit %d accepted", i, bit);
            if (i >= n - 64) cr_assert_eq(err, WN_READING_ESIG, "signature byte %zu", i);
        }
}

Test(reading_tamper, every_bit_of_a_bip340_reading)
{
    uint8_t b[WN_READING_MAX_LEN];
    size_t n = kat_bytes(b);
    every_bit_flip_rejected(b, n, NULL, 0);
}

Test(reading_tamper, every_bit_of_an_ecdsa_reading)
{
    wn_reading r;
    uint8_t b[WN_READING_MAX_LEN], pub[33];
    size_t n;
    kat_reading(&r);
    cr_assert_eq(wn_reading_sign_ecdsa(&r, KEY1), WN_READING_OK);
    cr_assert_eq(wn_reading_encode(&r, b, sizeof b, &n), WN_READING_OK);
    cr_assert(wn_seckey_pub33(pub, KEY1));
    cr_assert_eq(wn_reading_verify(&r, pub, 33), WN_READING_OK);
    every_bit_flip_rejected(b, n, pub, 33);
}

/* Each field changed to another valid value: the decoder accepts it, the signature does
 * not. */
Test(reading_tamper, each_field_changed_breaks_the_signature)
{
    wn_reading good, r;
    uint8_t other[32];
    uint8_t b[WN_READING_MAX_LEN];
    kat_bytes(b);
    cr_assert_eq(wn_reading_decode(&good, b, strlen(KAT_HEX) / 2), WN_READING_OK);
    memset(other, 0x22, 32);

#define CHANGED(...)                                                                    \
    do {                                                                                \
        r = good;                                                                       \
        __VA_ARGS__;                                                                    \
        cr_assert_eq(wn_reading_check(&r), WN_READING_OK, #__VA_ARGS__);                \
        cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_ESIG, #__VA_ARGS__);    \
    } while (0)
    CHANGED(cr_assert(wn_seckey_xonly(r.meter, other)));
    CHANGED(r.seq++);
    CHANGED(r.time_ms++);
    CHANGED(r.prev[31] ^= 1);
    CHANGED(r.flags ^= WN_FLAG_TAMPER);
    CHANGED(r.flags = 0);
    CHANGED(r.m[0].unit = WN_U_LITRE);
    CHANGED(r.m[0].scale++);
    CHANGED(r.m[0].value++);
    CHANGED(r.m[1].value = -r.m[1].value);
    CHANGED(r.m[1].quantity = WN_Q_FLOW; r.m[1].unit = WN_U_L_PER_S);
    CHANGED(r.count = 1);
    CHANGED(r.m[2] = (wn_measurement){WN_Q_TEMPERATURE, WN_U_DEGC, 1, 125}; r.count = 3);
    CHANGED(r.sig[0] ^= 0x80);
    CHANGED(r.sig[63] ^= 1);
#undef CHANGED
    /* the algorithm byte: BIP-340 signature read as ECDSA, with the meter's ECDSA key */
    uint8_t pub[33];
    cr_assert(wn_seckey_pub33(pub, KEY1));
    r = good;
    r.alg = WN_ALG_ECDSA;
    cr_assert_eq(wn_reading_verify(&r, pub, 33), WN_READING_ESIG);
}

Test(reading_tamper, signature_of_another_key)
{
    wn_reading r;
    uint8_t other[32], d[32], xonly[32];
    memset(other, 0x22, 32);
    kat_reading(&r);
    wn_reading_signing_digest(&r, d);
    cr_assert(wn_schnorr_sign(r.sig, other, d, NULL));
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_ESIG);
    cr_assert(wn_seckey_xonly(xonly, other));
    cr_assert_eq(wn_reading_verify(&r, xonly, 32), WN_READING_EKEY);
    /* signing for a meter that is not the key's */
    kat_reading(&r);
    cr_assert_eq(wn_reading_sign(&r, other), WN_READING_EKEY);
    cr_assert_eq(wn_reading_sign_ecdsa(&r, other), WN_READING_EKEY);
    /* the same digest under another tag: a receipt-tagged signature is not a reading's */
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len;
    kat_reading(&r);
    cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_OK);
    cr_assert(wn_sign_tagged(r.sig, KEY1, WN_TAG_RECEIPT, buf, len - 64));
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_ESIG);
}

/* ---- ECDSA ------------------------------------------------------------------------- */

/* n - s for a 32-byte big-endian s (the group order n of secp256k1). */
static void negate_mod_n(uint8_t s[32])
{
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - s[i] - borrow;
        borrow = d < 0;
        s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

Test(reading_ecdsa, keys_parity_and_high_s)
{
    wn_reading r;
    uint8_t pub[33], wrong[33], other[32], otherpub[33];
    kat_reading(&r);
    cr_assert_eq(wn_reading_sign_ecdsa(&r, KEY1), WN_READING_OK);
    cr_assert(wn_seckey_pub33(pub, KEY1));
    cr_assert_eq(pub[0], 0x03); /* this key has odd y */
    cr_assert_eq(wn_reading_verify(&r, pub, 33), WN_READING_OK);

    memcpy(wrong, pub, 33);
    wrong[0] = 0x02; /* same x, the other point */
    int err = wn_reading_verify(&r, wrong, 33);
    cr_assert(err == WN_READING_EKEY || err == WN_READING_ESIG, "wrong parity: %s", wn_reading_errcode(err));

    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_EKEY);
    cr_assert_eq(wn_reading_verify(&r, pub + 1, 32), WN_READING_EKEY);   /* x-only is not enough */
    cr_assert_eq(wn_reading_verify(&r, pub, 32), WN_READING_EKEY);
    memcpy(wrong, pub, 33);
    wrong[0] = 0x04;
    cr_assert_eq(wn_reading_verify(&r, wrong, 33), WN_READING_EKEY);
    memset(other, 0x22, 32);
    cr_assert(wn_seckey_pub33(otherpub, other));
    cr_assert_eq(wn_reading_verify(&r, otherpub, 33), WN_READING_EKEY);

    /* low-S is what we sign; the high-S twin (r, n-s) is the same signature mathematically
     * and must be refused */
    cr_assert_lt(r.sig[32], 0x80, "signer produced high-S");
    wn_reading high = r;
    negate_mod_n(high.sig + 32);
    cr_assert_eq(wn_reading_verify(&high, pub, 33), WN_READING_ESIG);
    negate_mod_n(high.sig + 32);
    cr_assert_eq(wn_reading_verify(&high, pub, 33), WN_READING_OK);

    /* an ECDSA signature is no BIP-340 signature */
    wn_reading as_schnorr = r;
    as_schnorr.alg = WN_ALG_BIP340;
    cr_assert_eq(wn_reading_verify(&as_schnorr, NULL, 0), WN_READING_ESIG);
}

Test(reading_ecdsa, even_key)
{
    /* find a key with even y, so both parities are covered */
    uint8_t k[32], pub[33];
    memset(k, 0x33, 32);
    for (;;) {
        cr_assert(wn_seckey_pub33(pub, k));
        if (pub[0] == 0x02) break;
        k[31]++;
    }
    wn_reading r;
    kat_reading(&r);
    cr_assert(wn_seckey_xonly(r.meter, k));
    cr_assert_eq(wn_reading_sign_ecdsa(&r, k), WN_READING_OK);
    cr_assert_eq(wn_reading_verify(&r, pub, 33), WN_READING_OK);
    pub[0] = 0x03;
    cr_assert_neq(wn_reading_verify(&r, pub, 33), WN_READING_OK);
}

/* ---- encode ------------------------------------------------------------------------ */

Test(reading_encode, checks_and_space)
{
    wn_reading r;
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len = 12345;
    kat_reading(&r);
    size_t need = wn_reading_encoded_len(&r);
    cr_assert_eq(need, 171);
    cr_assert_eq(wn_reading_encode(&r, buf, need - 1, &len), WN_READING_ESPACE);
    cr_assert_eq(wn_reading_encode(&r, buf, need, &len), WN_READING_OK);
    cr_assert_eq(len, need);
    r.count = 17;
    cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_ECOUNT);
    cr_assert_eq(wn_reading_sign(&r, KEY1), WN_READING_ECOUNT);
    r.count = 200; /* the void digest functions must stay in bounds all the same */
    uint8_t d[32];
    wn_reading_signing_digest(&r, d);
    wn_reading_digest(&r, d);
    kat_reading(&r);
    r.m[1].unit = WN_U_M3;
    cr_assert_eq(wn_reading_encode(&r, buf, sizeof buf, &len), WN_READING_EUNIT);
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_EUNIT);
    char json[WN_READING_JSON_MAX];
    cr_assert_eq(wn_reading_to_json(&r, json, sizeof json, NULL), WN_READING_EUNIT);
}

/* ---- names and codes --------------------------------------------------------------- */

Test(reading_names, quantities_units_flags_codes)
{
    const char *q[] = {NULL, "volume", "flow", "ph", "conductivity", "turbidity", "pressure", "temperature", "fluorescence", NULL};
    const char *u[] = {NULL, "m3", "L", "m3/h", "L/s", "pH", "uS/cm", "NTU", "kPa", "MPa", "degC", "RFU", NULL};
    const char *f[] = {"tamper", "reverse_flow", "power_loss", "meter_replaced", "clock_unsync", "substitute"};
    for (unsigned i = 0; i < 10; i++) {
        if (q[i]) cr_assert_str_eq(wn_quantity_name(i), q[i]);
        else cr_assert_null(wn_quantity_name(i));
    }
    for (unsigned i = 0; i < 13; i++) {
        if (u[i]) cr_assert_str_eq(wn_unit_name(i), u[i]);
        else cr_assert_null(wn_unit_name(i));
    }
    cr_assert_null(wn_unit_name(1000));
    cr_assert_null(wn_quantity_name(1000));
    for (unsigned i = 0; i < 16; i++) {
        if (i < 6) cr_assert_str_eq(wn_flag_name(i), f[i]);
        else cr_assert_null(wn_flag_name(i));
    }
    /* the unit table of PROTOCOL.md §2, cell by cell */
    int allowed = 0;
    for (unsigned qq = 0; qq <= 9; qq++)
        for (unsigned uu = 0; uu <= 12; uu++) {
            int want = qq >= 1 && qq <= 8 && (units_of[qq][0] == uu || units_of[qq][1] == uu) && uu;
            cr_assert_eq(wn_unit_allowed(qq, uu), want, "quantity %u unit %u", qq, uu);
            allowed += want;
        }
    cr_assert_eq(allowed, 11);

    const char *codes[] = {"ok", "truncated", "trailing_bytes", "bad_version", "bad_meter_id",
                           "bad_sequence", "bad_time", "bad_prev", "bad_flags", "bad_count",
                           "bad_quantity", "bad_unit", "bad_scale", "bad_order", "bad_algorithm",
                           "bad_signature", "key_mismatch", "malformed_json", "no_space"};
    for (int i = 0; i <= WN_READING_ESPACE; i++) {
        cr_assert_str_eq(wn_reading_errcode(i), codes[i]);
        cr_assert(strlen(wn_reading_strerror(i)) > 3);
    }
    cr_assert_str_eq(wn_reading_errcode(WN_READING_ESIG), "bad_signature");
    cr_assert_not_null(wn_reading_errcode(-1));
    cr_assert_not_null(wn_reading_strerror(99));
}

/* ---- decimals ---------------------------------------------------------------------- */

Test(reading_decimal, known_forms)
{
    static const struct { int64_t v; unsigned scale; const char *s; } cases[] = {
        {0, 0, "0"}, {0, 3, "0.000"}, {5, 1, "0.5"}, {-5, 1, "-0.5"}, {12345678, 3, "12345.678"},
        {721, 2, "7.21"}, {-12050, 3, "-12.050"}, {150, 2, "1.50"}, {15, 1, "1.5"}, {1, 9, "0.000000001"},
        {INT64_MAX, 0, "9223372036854775807"}, {INT64_MIN, 0, "-9223372036854775808"},
        {INT64_MIN, 9, "-9223372036.854775808"}, {INT64_MAX, 9, "9223372036.854775807"},
        {1000000000, 9, "1.000000000"}, {-1, 0, "-1"}, {10, 0, "10"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[24];
        int64_t v;
        unsigned sc;
        size_t n = wn_decimal_format(out, cases[i].v, cases[i].scale);
        cr_assert_str_eq(out, cases[i].s);
        cr_assert_eq(n, strlen(cases[i].s));
        cr_assert(wn_decimal_parse(cases[i].s, strlen(cases[i].s), &v, &sc), "%s", cases[i].s);
        cr_assert_eq(v, cases[i].v, "%s", cases[i].s);
        cr_assert_eq(sc, cases[i].scale, "%s", cases[i].s);
    }
    char out[24];
    cr_assert_eq(wn_decimal_format(out, 1, 10), 0);
}

Test(reading_decimal, rejects_non_canonical)
{
    const char *bad[] = {"", "-", "-0", "-0.0", "-0.000000000", "00", "01", "01.5", "-01", "1.",
                         ".5", "-.5", "+1", "1e3", "1E3", " 1", "1 ", "1.5.", "1..5", "0x10",
                         "1,5", "1.0000000000", "9223372036854775808", "-9223372036854775809",
                         "9223372036.854775808", "-9223372036.854775809", "99999999999999999999",
                         "18446744073709551616", "1.-5", "--1", "Infinity", "NaN", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77;
        unsigned sc = 77;
        cr_assert_not(wn_decimal_parse(bad[i], strlen(bad[i]), &v, &sc), "accepted \"%s\"", bad[i]);
    }
    /* the length is honoured: no reading past it, nothing after it counts */
    int64_t v;
    unsigned sc;
    cr_assert(wn_decimal_parse("12345", 2, &v, &sc));
    cr_assert_eq(v, 12);
    cr_assert_not(wn_decimal_parse("1.5", 2, &v, &sc));
}

Test(reading_decimal, random_round_trip)
{
    wn_test_prng_seed(7);
    for (int i = 0; i < 20000; i++) {
        int64_t v = random_value(), back;
        unsigned scale = (unsigned)(wn_test_prng() % 10), sc;
        char out[24];
        size_t n = wn_decimal_format(out, v, scale);
        cr_assert_lt(n, 24u);
        cr_assert(wn_decimal_parse(out, n, &back, &sc), "%s", out);
        cr_assert_eq(back, v);
        cr_assert_eq(sc, scale);
    }
}

/* ---- times ------------------------------------------------------------------------- */

Test(reading_time, known_times)
{
    static const struct { uint64_t ms; const char *s; } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1795461458123ULL, "2026-11-23T19:17:38.123Z"},
        {WN_READING_MAX_TIME, "9999-12-31T23:59:59.999Z"},
        {951782400000ULL, "2000-02-29T00:00:00.000Z"},
        {1709164800000ULL, "2024-02-29T00:00:00.000Z"},
        {4107542400000ULL, "2100-03-01T00:00:00.000Z"},
        {1234567890999ULL, "2009-02-13T23:31:30.999Z"},
        {253402214400000ULL, "9999-12-31T00:00:00.000Z"},
        {86399999, "1970-01-01T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[25];
        uint64_t t;
        wn_time_format(out, cases[i].ms);
        cr_assert_str_eq(out, cases[i].s);
        cr_assert(wn_time_parse(cases[i].s, 24, &t), "%s", cases[i].s);
        cr_assert_eq(t, cases[i].ms, "%s", cases[i].s);
    }
    char out[25];
    uint64_t t;
    wn_time_format(out, WN_READING_MAX_TIME + 1); /* not representable: a string parse rejects */
    cr_assert_eq(strlen(out), 24u);
    cr_assert_not(wn_time_parse(out, 24, &t));
    wn_time_format(out, UINT64_MAX);
    cr_assert_not(wn_time_parse(out, 24, &t));
}

Test(reading_time, rejects_bad_times)
{
    const char *bad[] = {
        "2026-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z",
        "2026-04-31T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-00-10T00:00:00.000Z",
        "2026-01-00T00:00:00.000Z", "2026-01-32T00:00:00.000Z", "2026-11-23T24:00:00.000Z",
        "2026-11-23T23:60:00.000Z", "2026-12-31T23:59:60.000Z", "1969-12-31T23:59:59.999Z",
        "0000-01-01T00:00:00.000Z", "2026-11-23T19:17:38Z", "2026-11-23T19:17:38.12Z",
        "2026-11-23T19:17:38.1234Z", "2026-11-23T19:17:38.123", "2026-11-23T19:17:38.123+00:00",
        "2026-11-23T19:17:38.123+08:00", "2026-11-23T19:17:38.123z", "2026-11-23t19:17:38.123Z",
        "2026-11-23 19:17:38.123Z", "2026/11/23T19:17:38.123Z", "+2026-11-23T19:17:38.123Z",
        "2026-11-23T19:17:38,123Z", "2026-1-23T19:17:38.123ZZ", "20261123T191738.123Z",
        "2026-11-23T19:17:3a.123Z", "2026-11-23T-1:17:38.123Z", "10000-01-01T00:00:00.000Z", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t t;
        cr_assert_not(wn_time_parse(bad[i], strlen(bad[i]), &t), "accepted %s", bad[i]);
    }
    uint64_t t;
    cr_assert_not(wn_time_parse("2026-11-23T19:17:38.123Z", 23, &t));
    cr_assert(wn_time_parse("2026-11-23T19:17:38.123Zjunk", 24, &t));
}

/* Cross-check the calendar arithmetic against the C library's gmtime_r. */
Test(reading_time, agrees_with_gmtime)
{
    wn_test_prng_seed(99);
    for (int i = 0; i < 20000; i++) {
        uint64_t ms = i < 10 ? WN_READING_MAX_TIME - (uint64_t)i * 86400000ULL
                             : wn_test_prng() % (WN_READING_MAX_TIME + 1);
        if (i % 3 == 0) ms = ms / 86400000ULL * 86400000ULL + (uint64_t)(i % 2) * 86399999ULL; /* day edges */
        char out[25], want[96];
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        cr_assert_not_null(gmtime_r(&secs, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
        wn_time_format(out, ms);
        cr_assert_str_eq(out, want);
        uint64_t back;
        cr_assert(wn_time_parse(out, 24, &back));
        cr_assert_eq(back, ms);
    }
}

/* ---- JSON strictness --------------------------------------------------------------- */

/* KAT_JSON with the first occurrence of `from` replaced by `to`. */
static char *kat_json_with(const char *from, const char *to)
{
    const char *p = strstr(KAT_JSON, from);
    cr_assert_not_null(p, "test bug: %s not in KAT_JSON", from);
    size_t pre = (size_t)(p - KAT_JSON);
    char *s = malloc(strlen(KAT_JSON) + strlen(to) + 1);
    memcpy(s, KAT_JSON, pre);
    strcpy(s + pre, to);
    strcat(s, p + strlen(from));
    return s;
}

static int json_err(const char *text, char *detail, size_t cap)
{
    wn_reading r;
    return wn_reading_from_json(&r, text, strlen(text), detail, cap);
}

#define EXPECT_JSON(want, from, to)                                                     \
    do {                                                                                \
        char *s_ = kat_json_with(from, to);                                             \
        char d_[256] = "";                                                              \
        int got_ = json_err(s_, d_, sizeof d_);                                         \
        cr_assert_eq(got_, (want), "%s -> %s: got %s (%s), want %s", from, to,          \
                     wn_reading_errcode(got_), d_, wn_reading_errcode(want));           \
        if (got_) cr_assert(strlen(d_) > 0, "no detail for %s -> %s", from, to);        \
        free(s_);                                                                       \
    } while (0)

Test(reading_json, structure)
{
    EXPECT_JSON(WN_READING_OK, "{", "{");
    EXPECT_JSON(WN_READING_EJSON, "{", "{\"extra\":1,");                     /* unknown field */
    EXPECT_JSON(WN_READING_EJSON, "{", "{\"Version\":1,");
    EXPECT_JSON(WN_READING_EJSON, "{", "{\"version\":1,");                   /* duplicate */
    EXPECT_JSON(WN_READING_EJSON, ",\"alg\":\"bip340\"", "");                /* missing */
    EXPECT_JSON(WN_READING_EJSON, "\"flags\":[\"power_loss\"],", "");
    EXPECT_JSON(WN_READING_EJSON, "{\"version\":1,", "{");
    EXPECT_JSON(WN_READING_EJSON, "29322\"}", "29322\"} x");                 /* trailing bytes */
    EXPECT_JSON(WN_READING_EJSON, "29322\"}", "29322\"}{}");
    EXPECT_JSON(WN_READING_OK, "29322\"}", "29322\"} \n\t\r ");
    EXPECT_JSON(WN_READING_EJSON, "29322\"}", "29322\"");                    /* cut short */
    EXPECT_JSON(WN_READING_EJSON, "29322\"}", "29322\",}");
    EXPECT_JSON(WN_READING_EJSON, ",\"unit\":\"m3\"", ",\"unit\":\"m3\",\"note\":\"x\"");
    EXPECT_JSON(WN_READING_EJSON, ",\"unit\":\"m3\"", "");
    EXPECT_JSON(WN_READING_EJSON, ",\"unit\":\"m3\"", ",\"unit\":\"m3\",\"unit\":\"m3\"");
    EXPECT_JSON(WN_READING_EJSON, "\"value\":\"7.21\"", "\"value\":7.21");
    EXPECT_JSON(WN_READING_EJSON, "\"flags\":[\"power_loss\"]", "\"flags\":\"power_loss\"");
    EXPECT_JSON(WN_READING_EJSON, "\"flags\":[\"power_loss\"]", "\"flags\":[4]");
    EXPECT_JSON(WN_READING_EJSON, "\"flags\":[\"power_loss\"]", "\"flags\":null");
    EXPECT_JSON(WN_READING_EJSON, "{\"quantity\":\"ph\",\"unit\":\"pH\",\"value\":\"7.21\"}", "[\"ph\",\"pH\",\"7.21\"]");
    EXPECT_JSON(WN_READING_EJSON, "\"prev\":\"6d", "\"prev\":\"6D");        /* uppercase hex */
    EXPECT_JSON(WN_READING_EJSON, "\"meter\":\"4f", "\"meter\":\"4F");
    EXPECT_JSON(WN_READING_EJSON, "\"sig\":\"b2", "\"sig\":\"B2");
    EXPECT_JSON(WN_READING_EJSON, "\"meter\":\"4f", "\"meter\":\"4f00");     /* wrong length */
    EXPECT_JSON(WN_READING_EJSON, "\"sig\":\"b2", "\"sig\":\"");
    EXPECT_JSON(WN_READING_EJSON, "\"meter\":\"4f", "\"meter\":\"0x");
    EXPECT_JSON(WN_READING_EJSON, "12345.678", "12345.678\\u0000junk");       /* cJSON would cut here */
    EXPECT_JSON(WN_READING_EJSON, "12345.678", "12345.678\n");                /* raw control character */
    EXPECT_JSON(WN_READING_OK, "\"unit\":\"m3\"", "\"unit\":\"m\\u0033\"");   /* escapes are fine */
    EXPECT_JSON(WN_READING_OK, "\"unit\":\"m3\"", "\"unit\":\"m3\" ");
    cr_assert_eq(json_err("[]", NULL, 0), WN_READING_EJSON);
    cr_assert_eq(json_err("", NULL, 0), WN_READING_EJSON);
    cr_assert_eq(json_err("null", NULL, 0), WN_READING_EJSON);
    cr_assert_eq(json_err("{}", NULL, 0), WN_READING_EJSON);
}

Test(reading_json, numbers)
{
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":42.0");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":4.2e1");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":42e0");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":42.5");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":042");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":\"42\"");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":true");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":null");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":9007199254740990.5");
    EXPECT_JSON(WN_READING_ESEQ, "\"seq\":42", "\"seq\":0");
    EXPECT_JSON(WN_READING_ESEQ, "\"seq\":42", "\"seq\":-1");
    EXPECT_JSON(WN_READING_EJSON, "\"seq\":42", "\"seq\":-0"); /* not a JSON integer (PROTOCOL conventions) */
    EXPECT_JSON(WN_READING_ESEQ, "\"seq\":42", "\"seq\":9007199254740992");
    EXPECT_JSON(WN_READING_ESEQ, "\"seq\":42", "\"seq\":9007199254740993");
    EXPECT_JSON(WN_READING_ESEQ, "\"seq\":42", "\"seq\":123456789012345678901234567890");
    EXPECT_JSON(WN_READING_OK, "\"seq\":42", "\"seq\":9007199254740991");
    EXPECT_JSON(WN_READING_EVERSION, "\"version\":1", "\"version\":2");
    EXPECT_JSON(WN_READING_EVERSION, "\"version\":1", "\"version\":0");
    EXPECT_JSON(WN_READING_EJSON, "\"version\":1", "\"version\":1.0");
    EXPECT_JSON(WN_READING_EJSON, "\"version\":1", "\"version\":\"1\"");
    EXPECT_JSON(WN_READING_EJSON, "\"version\":1", "\"version\":1e0");
}

Test(reading_json, values_flags_and_names)
{
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"-0\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"-0.00\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"07.21\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"7.\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\".21\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"+7.21\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"7.2100000000\"");             /* scale 10 */
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"9223372036854775808\"");      /* overflow */
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"7,21\"");
    EXPECT_JSON(WN_READING_EJSON, "\"7.21\"", "\"\"");
    EXPECT_JSON(WN_READING_OK, "\"7.21\"", "\"-9223372036854775808\"");
    EXPECT_JSON(WN_READING_OK, "\"7.21\"", "\"0\"");

    EXPECT_JSON(WN_READING_EFLAGS, "[\"power_loss\"]", "[\"power loss\"]");
    EXPECT_JSON(WN_READING_EFLAGS, "[\"power_loss\"]", "[\"POWER_LOSS\"]");
    EXPECT_JSON(WN_READING_EFLAGS, "[\"power_loss\"]", "[\"power_loss\",\"tamper\"]");   /* order */
    EXPECT_JSON(WN_READING_EFLAGS, "[\"power_loss\"]", "[\"power_loss\",\"power_loss\"]");
    EXPECT_JSON(WN_READING_OK, "[\"power_loss\"]", "[\"tamper\",\"power_loss\",\"substitute\"]");
    EXPECT_JSON(WN_READING_OK, "[\"power_loss\"]", "[]");

    EXPECT_JSON(WN_READING_EQUANTITY, "\"quantity\":\"ph\"", "\"quantity\":\"pH\"");
    EXPECT_JSON(WN_READING_EQUANTITY, "\"quantity\":\"ph\"", "\"quantity\":\"salinity\"");
    EXPECT_JSON(WN_READING_EUNIT, "\"unit\":\"pH\"", "\"unit\":\"ph\"");
    EXPECT_JSON(WN_READING_EUNIT, "\"unit\":\"pH\"", "\"unit\":\"m3\"");        /* not allowed for ph */
    EXPECT_JSON(WN_READING_EUNIT, "\"unit\":\"m3\"", "\"unit\":\"M3\"");
    EXPECT_JSON(WN_READING_EORDER, "\"quantity\":\"ph\",\"unit\":\"pH\"", "\"quantity\":\"volume\",\"unit\":\"L\"");
    EXPECT_JSON(WN_READING_EORDER, "\"quantity\":\"volume\",\"unit\":\"m3\"", "\"quantity\":\"temperature\",\"unit\":\"degC\"");
    EXPECT_JSON(WN_READING_ECOUNT, "{\"quantity\":\"volume\",\"unit\":\"m3\",\"value\":\"12345.678\"},{\"quantity\":\"ph\",\"unit\":\"pH\",\"value\":\"7.21\"}", "");
    EXPECT_JSON(WN_READING_EALG, "\"bip340\"", "\"BIP340\"");
    EXPECT_JSON(WN_READING_EALG, "\"bip340\"", "\"schnorr\"");
    EXPECT_JSON(WN_READING_OK, "\"bip340\"", "\"ecdsa\"");
    EXPECT_JSON(WN_READING_EMETER, "\"meter\":\"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\"",
                "\"meter\":\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"");
    EXPECT_JSON(WN_READING_EPREV, "\"prev\":\"6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d\"",
                "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"");
    EXPECT_JSON(WN_READING_EPREV, "\"seq\":42", "\"seq\":1");
}

Test(reading_json, times)
{
    const char *bad[] = {"2026-02-29T19:17:38.123Z", "2026-11-23T24:00:00.000Z", "2026-11-23T19:17:38.123+08:00",
                         "2026-11-23T19:17:38+00:00", "2026-11-23T19:17:38Z", "2026-11-23T19:17:60.000Z",
                         "2026-11-23T19:17:38.123z", "1969-12-31T23:59:59.999Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) EXPECT_JSON(WN_READING_ETIME, "2026-11-23T19:17:38.123Z", bad[i]);
    EXPECT_JSON(WN_READING_EJSON, "\"2026-11-23T19:17:38.123Z\"", "1795461458123");
    EXPECT_JSON(WN_READING_OK, "2026-11-23T19:17:38.123Z", "2024-02-29T00:00:00.000Z");
}

/* "1.50" is not "1.5": the scale is part of the signed reading, so the other spelling is
 * another reading whose signature fails. */
Test(reading_json, spelling_of_a_value_is_signed)
{
    wn_reading r;
    char *s = kat_json_with("\"7.21\"", "\"7.210\"");
    cr_assert_eq(wn_reading_from_json(&r, s, strlen(s), NULL, 0), WN_READING_OK);
    cr_assert_eq(r.m[1].value, 7210);
    cr_assert_eq(r.m[1].scale, 3);
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_ESIG);
    free(s);
    cr_assert_eq(wn_reading_from_json(&r, KAT_JSON, strlen(KAT_JSON), NULL, 0), WN_READING_OK);
    cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_OK);
}

Test(reading_json, output_space)
{
    wn_reading r;
    char out[WN_READING_JSON_MAX];
    size_t len;
    cr_assert_eq(wn_reading_from_json(&r, KAT_JSON, strlen(KAT_JSON), NULL, 0), WN_READING_OK);
    size_t n = strlen(KAT_JSON);
    for (size_t cap = 0; cap <= n; cap++)
        cr_assert_eq(wn_reading_to_json(&r, out, cap, &len), WN_READING_ESPACE, "cap %zu", cap);
    cr_assert_eq(wn_reading_to_json(&r, out, n + 1, &len), WN_READING_OK);
    cr_assert_eq(len, n);

    /* the longest form a valid reading can take fits WN_READING_JSON_MAX */
    memset(&r, 0, sizeof r);
    r.version = 1;
    cr_assert(wn_seckey_xonly(r.meter, KEY1));
    r.seq = WN_READING_MAX_SEQ;
    r.time_ms = WN_READING_MAX_TIME;
    memset(r.prev, 0xab, 32);
    r.flags = WN_FLAG_ALL;
    for (unsigned q = 1; q <= WN_Q_MAX; q++)
        r.m[r.count++] = (wn_measurement){(uint8_t)q, units_of[q][1], 9, INT64_MIN};
    r.alg = WN_ALG_BIP340;
    cr_assert_eq(wn_reading_to_json(&r, out, sizeof out, &len), WN_READING_OK);
    cr_assert_lt(len, sizeof out);
}

/* The detail names the field. */
Test(reading_json, detail_names_the_field)
{
    char *s = kat_json_with("\"seq\":42", "\"seq\":0");
    char d[256];
    cr_assert_eq(json_err(s, d, sizeof d), WN_READING_ESEQ);
    cr_assert_not_null(strstr(d, "seq"), "%s", d);
    free(s);
    s = kat_json_with("\"unit\":\"pH\"", "\"unit\":\"m3\"");
    cr_assert_eq(json_err(s, d, sizeof d), WN_READING_EUNIT);
    cr_assert_not_null(strstr(d, "measurements[1].unit"), "%s", d);
    free(s);
    s = kat_json_with("{", "{\"color\":\"blue\",");
    cr_assert_eq(json_err(s, d, 8), WN_READING_EJSON); /* a short detail buffer is truncated, not overrun */
    cr_assert_eq(strlen(d), 7u);
    free(s);
}
