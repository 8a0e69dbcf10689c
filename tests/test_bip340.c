/* test_bip340.c — crypto/sig.c's BIP-340 Schnorr against the BIP's own test vectors, and
 * the tagged hash and domain separation that every WaterNotary signature relies on.
 *
 * Every row of bip340/test-vectors.csv: signing rows reproduce the published signature
 * byte for byte (messages of 0, 1, 17, 32 and 100 bytes) and the published public key;
 * every row's verification result is reproduced. The BIP-340 challenge is recomputed with
 * wn_tagged_hash and checked with curve arithmetic (s·G = R + e·P), which ties our tagged
 * hash to the one inside libsecp256k1. */
#include <criterion/criterion.h>

#include <ctype.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#define CHECK(cond, ...) do { if (!(cond)) cr_assert_fail(__VA_ARGS__); } while (0)

/* The published file has rows 0..18: 8 signing rows (0-3, 15-18), 9 valid, 10 invalid. */
#define BIP340_ROWS 19
#define BIP340_SIGNING_ROWS 8
#define BIP340_TRUE_ROWS 9

struct row {
    int index;
    int has_seckey;
    uint8_t seckey[32], pubkey[32], aux[32], sig[64];
    uint8_t msg[256];
    size_t msglen;
    int result;
    char comment[256];
};

/* Decodes the CSV's uppercase hex (our decoder is strict lowercase, so fold first). */
static int hex_any(uint8_t *out, size_t outlen, const char *s, size_t len)
{
    char low[1024];
    if (len >= sizeof low) return 0;
    for (size_t i = 0; i < len; i++) low[i] = (char)tolower((unsigned char)s[i]);
    return wn_hex_decode(out, outlen, low, len);
}

/* Splits one CSV line into at most max fields in place (the last field keeps the rest). */
static size_t split_csv(char *line, char **field, size_t max)
{
    size_t n = 0;
    field[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') { *p = '\0'; field[n++] = p + 1; }
    return n;
}

/* Parses the whole file. Returns the number of rows. */
static size_t load_rows(struct row *rows, size_t cap)
{
    char *path = wn_test_vector_path("bip340/test-vectors.csv");
    char *text = wn_test_read_file(path, NULL);
    cr_assert(text != NULL, "cannot read %s (set WN_VECTORS)", path);
    free(path);
    size_t n = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    static const char header[] = "index,secret key,public key,aux_rand,message,signature,verification result";
    cr_assert(line && strncmp(line, header, sizeof header - 1) == 0, "unexpected header");
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
        if (ll == 0) continue;
        cr_assert(n < cap, "too many rows");
        struct row *r = &rows[n];
        memset(r, 0, sizeof *r);
        char *f[8];
        cr_assert_eq(split_csv(line, f, 8), 8, "row %zu: not 8 fields", n);
        r->index = atoi(f[0]);
        r->has_seckey = f[1][0] != '\0';
        if (r->has_seckey) cr_assert(hex_any(r->seckey, 32, f[1], strlen(f[1])), "row %d: seckey", r->index);
        cr_assert(hex_any(r->pubkey, 32, f[2], strlen(f[2])), "row %d: pubkey", r->index);
        if (r->has_seckey) cr_assert(hex_any(r->aux, 32, f[3], strlen(f[3])), "row %d: aux", r->index);
        r->msglen = strlen(f[4]) / 2;
        cr_assert(strlen(f[4]) % 2 == 0 && hex_any(r->msg, r->msglen, f[4], strlen(f[4])), "row %d: msg", r->index);
        cr_assert(hex_any(r->sig, 64, f[5], strlen(f[5])), "row %d: sig", r->index);
        cr_assert(strcmp(f[6], "TRUE") == 0 || strcmp(f[6], "FALSE") == 0, "row %d: result", r->index);
        r->result = strcmp(f[6], "TRUE") == 0;
        snprintf(r->comment, sizeof r->comment, "%s", f[7]);
        n++;
    }
    free(text);
    return n;
}

static struct row g_rows[64];

Test(bip340, every_row)
{
    size_t n = load_rows(g_rows, 64);
    size_t signing = 0, verified_true = 0, verified_false = 0, lengths_seen = 0;
    int len_seen[5] = {0}; /* 0, 1, 17, 32, 100 */
    cr_assert_eq(n, BIP340_ROWS, "rows: %zu", n);
    for (size_t k = 0; k < n; k++) {
        struct row *r = &g_rows[k];
        cr_assert_eq(r->index, (int)k, "rows out of order");
        const uint8_t *msg = r->msg;
        if (r->has_seckey) {
            uint8_t xonly[32], sig[64];
            signing++;
            cr_assert(wn_seckey_valid(r->seckey), "row %d: seckey rejected", r->index);
            cr_assert(wn_seckey_xonly(xonly, r->seckey), "row %d: xonly failed", r->index);
            cr_assert(memcmp(xonly, r->pubkey, 32) == 0, "row %d: public key differs", r->index);
            cr_assert(wn_schnorr_sign_msg(sig, r->seckey, msg, r->msglen, r->aux), "row %d: sign failed", r->index);
            cr_assert(memcmp(sig, r->sig, 64) == 0, "row %d: signature differs from the published one", r->index);
            if (r->msglen == 32) {
                memset(sig, 0, sizeof sig);
                cr_assert(wn_schnorr_sign(sig, r->seckey, msg, r->aux));
                cr_assert(memcmp(sig, r->sig, 64) == 0, "row %d: 32-byte signing differs", r->index);
            }
            if (r->msglen == 0) { /* a NULL message of length 0 is the same message */
                cr_assert(wn_schnorr_sign_msg(sig, r->seckey, NULL, 0, r->aux));
                cr_assert(memcmp(sig, r->sig, 64) == 0);
            }
            const size_t lens[5] = {0, 1, 17, 32, 100};
            for (int l = 0; l < 5; l++) if (r->msglen == lens[l]) len_seen[l] = 1;
        }
        int ok = wn_schnorr_verify_msg(r->sig, msg, r->msglen, r->pubkey);
        cr_assert_eq(ok, r->result, "row %d (%s): verify gave %d", r->index, r->comment, ok);
        if (r->msglen == 32) cr_assert_eq(wn_schnorr_verify(r->sig, msg, r->pubkey), r->result, "row %d", r->index);
        /* Rows whose key is no curve point fail because of the key, and say so. */
        int key_bad = strstr(r->comment, "public key") != NULL;
        cr_assert_eq(wn_xonly_valid(r->pubkey), !key_bad, "row %d: xonly_valid", r->index);
        if (ok) {
            verified_true++;
            /* Every single-bit change of signature, message or key breaks a valid row. */
            uint8_t s2[64], m2[256], p2[32];
            for (unsigned b = 0; b < 512; b++) {
                memcpy(s2, r->sig, 64);
                s2[b / 8] ^= (uint8_t)(1u << (b % 8));
                CHECK(!wn_schnorr_verify_msg(s2, msg, r->msglen, r->pubkey), "row %d: sig bit %u", r->index, b);
            }
            for (unsigned b = 0; b < 8 * r->msglen; b++) {
                memcpy(m2, msg, r->msglen);
                m2[b / 8] ^= (uint8_t)(1u << (b % 8));
                CHECK(!wn_schnorr_verify_msg(r->sig, m2, r->msglen, r->pubkey), "row %d: msg bit %u", r->index, b);
            }
            for (unsigned b = 0; b < 256; b++) {
                memcpy(p2, r->pubkey, 32);
                p2[b / 8] ^= (uint8_t)(1u << (b % 8));
                CHECK(!wn_schnorr_verify_msg(r->sig, msg, r->msglen, p2), "row %d: key bit %u", r->index, b);
            }
            /* A message one byte longer or shorter is another message. */
            memcpy(m2, msg, r->msglen);
            m2[r->msglen] = 0;
            CHECK(!wn_schnorr_verify_msg(r->sig, m2, r->msglen + 1, r->pubkey), "row %d: extended", r->index);
            if (r->msglen)
                CHECK(!wn_schnorr_verify_msg(r->sig, msg, r->msglen - 1, r->pubkey), "row %d: truncated", r->index);
        } else {
            verified_false++;
        }
    }
    for (int l = 0; l < 5; l++) lengths_seen += (size_t)len_seen[l];
    cr_assert_eq(signing, BIP340_SIGNING_ROWS);
    cr_assert_eq(verified_true, BIP340_TRUE_ROWS);
    cr_assert_eq(lengths_seen, 5, "messages of 0, 1, 17, 32 and 100 bytes must all be signed");
    fprintf(stderr, "bip340: %zu rows (%zu signing rows reproduced, %zu verify, %zu rejected)\n", n, signing,
            verified_true, verified_false);
}

/* ---------- tagged hashes ---------- */

static void unhex(uint8_t *out, size_t len, const char *hex)
{
    cr_assert(wn_hex_decode(out, len, hex, strlen(hex)), "bad constant %s", hex);
}

/* Independent: SHA-256(SHA-256(tag) || SHA-256(tag) || msg) from one-shot wn_sha256 calls. */
static void tagged_by_hand(uint8_t out[32], const char *tag, const uint8_t *msg, size_t len)
{
    uint8_t *buf = malloc(64 + len + 1);
    wn_sha256(buf, tag, strlen(tag));
    memcpy(buf + 32, buf, 32);
    if (len) memcpy(buf + 64, msg, len);
    wn_sha256(out, buf, 64 + len);
    free(buf);
}

Test(tagged_hash, known_answers)
{
    uint8_t got[32], want[32], msg[100];
    for (int i = 0; i < 100; i++) msg[i] = (uint8_t)i;
    /* Tag hashes as published in BIP-340 reference code, and tagged hashes computed with an
     * independent SHA-256 (Python's hashlib). */
    wn_sha256(got, "BIP0340/challenge", 17);
    unhex(want, 32, "7bb52d7a9fef58323eb1bf7a407db382d2f3f2d81bb1224f49fe518f6d48d37c");
    cr_assert(memcmp(got, want, 32) == 0);
    wn_sha256(got, "BIP0340/aux", 11);
    unhex(want, 32, "f1ef4e5ec063cada6d94cafa9d987ea069265839ecc11f972d77a52ed8c1cc90");
    cr_assert(memcmp(got, want, 32) == 0);
    wn_sha256(got, "BIP0340/nonce", 13);
    unhex(want, 32, "07497734a79bcb355b9b8c7d034f121cf434d73ef72dda19870061fb52bfeb2f");
    cr_assert(memcmp(got, want, 32) == 0);
    wn_tagged_hash(got, "BIP0340/challenge", NULL, 0);
    unhex(want, 32, "c216d352f5818b7b4beacd4ae0a26fe888080823d2a598856661bcd54f1b3713");
    cr_assert(memcmp(got, want, 32) == 0, "empty message");
    wn_tagged_hash(got, "BIP0340/challenge", msg, 100);
    unhex(want, 32, "d082494e8c818a48fa78440db6c6adbe88d3a35617fb0308ecae1b334b432142");
    cr_assert(memcmp(got, want, 32) == 0, "bytes 0..99");
    wn_tagged_hash(got, WN_TAG_RECEIPT, "abc", 3);
    unhex(want, 32, "533ff5c236a4e7dc04677ff68a3592ef672a0ad37f75e29f64d12c92d2c73abf");
    cr_assert(memcmp(got, want, 32) == 0, "receipt tag");
    /* And against the hand-built form, at every length 0..100 and for every tag we use. */
    const char *tags[] = {"BIP0340/challenge", WN_TAG_READING, WN_TAG_CHECKPOINT, WN_TAG_RECEIPT,
                          WN_TAG_ENROLMENT, WN_TAG_REVOCATION, ""};
    for (size_t t = 0; t < sizeof tags / sizeof *tags; t++)
        for (size_t len = 0; len <= 100; len++) {
            wn_tagged_hash(got, tags[t], msg, len);
            tagged_by_hand(want, tags[t], msg, len);
            CHECK(memcmp(got, want, 32) == 0, "tag \"%s\" length %zu", tags[t], len);
        }
}

/* s·G == R + e·P with e = tagged_hash("BIP0340/challenge", r || P || m): the challenge our
 * wn_tagged_hash computes is the one libsecp256k1 signed. */
static void check_challenge(const uint8_t sig[64], const uint8_t xonly[32], const uint8_t *msg, size_t len)
{
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t *buf = malloc(64 + len + 1), e[32], ser[2][33], p33[33], r33[33];
    memcpy(buf, sig, 32);
    memcpy(buf + 32, xonly, 32);
    if (len) memcpy(buf + 64, msg, len);
    wn_tagged_hash(e, "BIP0340/challenge", buf, 64 + len);
    free(buf);
    /* e is reduced mod n by tweak_mul's scalar parse only if < n; a hash >= n has
     * probability ~2^-128, so treat it as a failure of the test data, not of the code. */
    secp256k1_pubkey sG, P, R, sum;
    const secp256k1_pubkey *parts[2] = {&R, &P};
    p33[0] = 0x02;
    memcpy(p33 + 1, xonly, 32);
    r33[0] = 0x02;
    memcpy(r33 + 1, sig, 32);
    cr_assert(secp256k1_ec_pubkey_create(ctx, &sG, sig + 32), "s is not a valid scalar");
    cr_assert(secp256k1_ec_pubkey_parse(ctx, &P, p33, 33));
    cr_assert(secp256k1_ec_pubkey_parse(ctx, &R, r33, 33));
    cr_assert(secp256k1_ec_pubkey_tweak_mul(ctx, &P, e), "e out of range");
    cr_assert(secp256k1_ec_pubkey_combine(ctx, &sum, parts, 2));
    size_t l = 33;
    cr_assert(secp256k1_ec_pubkey_serialize(ctx, ser[0], &l, &sG, SECP256K1_EC_COMPRESSED));
    l = 33;
    cr_assert(secp256k1_ec_pubkey_serialize(ctx, ser[1], &l, &sum, SECP256K1_EC_COMPRESSED));
    cr_assert(memcmp(ser[0], ser[1], 33) == 0, "s*G != R + e*P: tagged hash disagrees with BIP-340");
    secp256k1_context_destroy(ctx);
}

Test(tagged_hash, challenge_matches_libsecp256k1)
{
    size_t n = load_rows(g_rows, 64), checked = 0;
    for (size_t k = 0; k < n; k++) {
        if (!g_rows[k].result) continue;
        check_challenge(g_rows[k].sig, g_rows[k].pubkey, g_rows[k].msg, g_rows[k].msglen);
        checked++;
    }
    cr_assert_eq(checked, BIP340_TRUE_ROWS);
    /* And a signature made through wn_sign_tagged: the signed message is the tagged digest. */
    uint8_t sk[32], xonly[32], sig[64], d[32];
    wn_test_prng_seed(340);
    wn_test_prng_bytes(sk, 32);
    cr_assert(wn_seckey_xonly(xonly, sk));
    cr_assert(wn_sign_tagged(sig, sk, WN_TAG_CHECKPOINT, "note text\n", 10));
    wn_tagged_hash(d, WN_TAG_CHECKPOINT, "note text\n", 10);
    check_challenge(sig, xonly, d, 32);
}

Test(tagged_hash, domain_separation)
{
    const char *tags[] = {WN_TAG_READING, WN_TAG_CHECKPOINT, WN_TAG_RECEIPT, WN_TAG_ENROLMENT, WN_TAG_REVOCATION};
    const size_t ntags = sizeof tags / sizeof *tags;
    uint8_t sk[32], xonly[32], other[32], sig[64], d[32];
    const char msg[] = "the same bytes under every tag";
    cr_assert(wn_seckey_generate(sk));
    cr_assert(wn_seckey_xonly(xonly, sk));
    uint8_t sk2[32];
    cr_assert(wn_seckey_generate(sk2));
    cr_assert(wn_seckey_xonly(other, sk2));
    for (size_t a = 0; a < ntags; a++) {
        cr_assert(wn_sign_tagged(sig, sk, tags[a], msg, sizeof msg));
        for (size_t b = 0; b < ntags; b++)
            cr_assert_eq(wn_verify_tagged(sig, xonly, tags[b], msg, sizeof msg), a == b, "signed %s, verified as %s",
                         tags[a], tags[b]);
        /* It is a plain BIP-340 signature of the tagged digest, and of nothing else. */
        wn_tagged_hash(d, tags[a], msg, sizeof msg);
        cr_assert(wn_schnorr_verify(sig, d, xonly));
        cr_assert_not(wn_schnorr_verify_msg(sig, (const uint8_t *)msg, sizeof msg, xonly), "raw message verified");
        cr_assert_not(wn_verify_tagged(sig, other, tags[a], msg, sizeof msg), "another key verified");
        cr_assert_not(wn_verify_tagged(sig, xonly, tags[a], msg, sizeof msg - 1), "shorter message verified");
        /* A tag that differs in its last byte, or is a prefix, is another tag. */
        char tag2[64];
        snprintf(tag2, sizeof tag2, "%s", tags[a]);
        tag2[strlen(tag2) - 1] ^= 1;
        cr_assert_not(wn_verify_tagged(sig, xonly, tag2, msg, sizeof msg));
        tag2[strlen(tag2) - 1] = '\0';
        cr_assert_not(wn_verify_tagged(sig, xonly, tag2, msg, sizeof msg));
    }
}

Test(bip340, random_aux_and_keys)
{
    uint8_t sk[32], xonly[32], d[32], s1[64], s2[64], zero[32] = {0};
    uint8_t order[32];
    unhex(order, 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    cr_assert(wn_seckey_generate(sk));
    cr_assert(wn_seckey_xonly(xonly, sk));
    cr_assert(wn_xonly_valid(xonly));
    wn_sha256(d, "digest", 6);
    /* Without aux the wrapper draws fresh randomness: two signatures differ, both verify. */
    cr_assert(wn_schnorr_sign(s1, sk, d, NULL));
    cr_assert(wn_schnorr_sign(s2, sk, d, NULL));
    cr_assert(memcmp(s1, s2, 64) != 0, "aux randomness was not used");
    cr_assert(wn_schnorr_verify(s1, d, xonly));
    cr_assert(wn_schnorr_verify(s2, d, xonly));
    /* Invalid secret keys: zero and the group order (and above). */
    cr_assert_not(wn_seckey_valid(zero));
    cr_assert_not(wn_seckey_xonly(xonly, zero));
    cr_assert_not(wn_schnorr_sign(s1, zero, d, NULL));
    cr_assert_not(wn_seckey_valid(order));
    cr_assert_not(wn_seckey_xonly(xonly, order));
    order[31]--; /* n - 1 is the largest valid key */
    cr_assert(wn_seckey_valid(order));
    cr_assert(wn_seckey_xonly(xonly, order));
    /* Keys: x = 0 and x = p are not curve points. */
    cr_assert_not(wn_xonly_valid(zero));
    uint8_t p[32];
    unhex(p, 32, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
    cr_assert_not(wn_xonly_valid(p));
}
