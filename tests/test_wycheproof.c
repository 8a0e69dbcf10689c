/* test_wycheproof.c — wn_ecdsa_verify (ECDSA-secp256k1-SHA256, compact r||s, low-S only)
 * against Project Wycheproof's secp256k1 vectors.
 *
 * Each test is run as wn_ecdsa_verify(sig64, SHA-256(msg), pubkey), with the group's key both
 * uncompressed (65 bytes) and compressed (33 bytes); the two must agree.
 *
 * - ecdsa_secp256k1_sha256_bitcoin_test.json (DER, Bitcoin rules: high-S is invalid):
 *   "valid" must verify, "invalid" must not. DER is converted to r||s here, strictly: any
 *   encoding that is not minimal DER, or an r or s longer than 32 bytes after removing one
 *   leading zero, counts as not verifying.
 * - ecdsa_secp256k1_sha256_p1363_test.json (64-byte r||s) and ecdsa_secp256k1_sha256_test.json
 *   (DER): plain ECDSA, where a high-S signature is "valid". Our protocol accepts low-S only
 *   (docs/PROTOCOL.md §1), so a valid high-S signature must be rejected AND its low-S twin
 *   (n - s) must verify; every other valid one must verify; "invalid" must not verify.
 *   A p1363 signature that is not exactly 64 bytes counts as not verifying.
 * - "acceptable" (none in the current files): both outcomes conform to Wycheproof, so the
 *   result is not asserted; such tests are counted and must not crash. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#define CHECK(cond, ...) do { if (!(cond)) cr_assert_fail(__VA_ARGS__); } while (0)

/* n/2, the largest low s, and n, the group order. */
static const char k_half_order[] = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
static const char k_order[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

enum sig_format { FMT_DER, FMT_P1363 };

/* Strict DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }) to compact r||s.
 * Returns: 1 if der is minimal DER with two non-negative integers of at most 32 bytes
 * (after one leading zero sign byte), consuming all of der; 0 otherwise. */
static int der_to_compact(uint8_t out[64], const uint8_t *der, size_t len)
{
    /* Content is at most 2 * (2 + 33) = 70 bytes, so its length is always short form. */
    if (len < 2 || der[0] != 0x30 || (der[1] & 0x80) || (size_t)der[1] != len - 2) return 0;
    size_t pos = 2;
    for (int k = 0; k < 2; k++) {
        if (len - pos < 2 || der[pos] != 0x02 || (der[pos + 1] & 0x80)) return 0;
        size_t il = der[pos + 1];
        pos += 2;
        if (il == 0 || il > len - pos) return 0;
        const uint8_t *p = der + pos;
        pos += il;
        if (p[0] & 0x80) return 0;                          /* negative */
        if (il > 1 && p[0] == 0x00 && !(p[1] & 0x80)) return 0; /* not minimal */
        if (il > 1 && p[0] == 0x00) { p++; il--; }          /* the sign byte */
        if (il > 32) return 0;
        memset(out + 32 * k, 0, 32);
        memcpy(out + 32 * k + 32 - il, p, il);
    }
    return pos == len;
}

/* Big-endian 256-bit a - b into out (a >= b). */
static void sub256(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = a[i] - b[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

static uint8_t *hex_alloc(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    cr_assert(n % 2 == 0, "odd hex in vectors");
    uint8_t *b = malloc(n / 2 + 1);
    cr_assert(wn_hex_decode(b, n / 2, hex, n), "bad hex in vectors: %.40s", hex);
    *len = n / 2;
    return b;
}

struct tally {
    size_t tests, valid_ok, invalid_rejected, acceptable, bad_encoding, high_s_valid;
};

/* Runs one file. Returns 0 if it does not exist (optional files), 1 otherwise. */
static int run_file(const char *name, enum sig_format fmt, int bitcoin, struct tally *t)
{
    char rel[256];
    snprintf(rel, sizeof rel, "wycheproof-secp256k1/%s", name);
    char *path = wn_test_vector_path(rel);
    memset(t, 0, sizeof *t);
    if (access(path, R_OK) != 0) {
        free(path);
        return 0;
    }
    size_t tlen;
    char *text = wn_test_read_file(path, &tlen);
    cr_assert(text != NULL, "cannot read %s", path);
    free(path);
    cJSON *root = cJSON_ParseWithLength(text, tlen);
    cr_assert(cJSON_IsObject(root), "%s: not JSON", name);
    const cJSON *declared = cJSON_GetObjectItemCaseSensitive(root, "numberOfTests");
    cr_assert(cJSON_IsNumber(declared), "%s: no numberOfTests", name);

    uint8_t half[32], order[32];
    cr_assert(wn_hex_decode(half, 32, k_half_order, 64));
    cr_assert(wn_hex_decode(order, 32, k_order, 64));

    const cJSON *group;
    cJSON_ArrayForEach(group, cJSON_GetObjectItemCaseSensitive(root, "testGroups")) {
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(group, "sha");
        cr_assert(cJSON_IsString(sha) && strcmp(sha->valuestring, "SHA-256") == 0, "%s: not SHA-256", name);
        const cJSON *pk = cJSON_GetObjectItemCaseSensitive(group, "publicKey");
        const cJSON *unc = cJSON_GetObjectItemCaseSensitive(pk, "uncompressed");
        const cJSON *curve = cJSON_GetObjectItemCaseSensitive(pk, "curve");
        cr_assert(cJSON_IsString(curve) && strcmp(curve->valuestring, "secp256k1") == 0);
        cr_assert(cJSON_IsString(unc), "%s: group without uncompressed key", name);
        size_t pklen;
        uint8_t *pub65 = hex_alloc(unc->valuestring, &pklen);
        cr_assert_eq(pklen, 65);
        cr_assert_eq(pub65[0], 0x04);
        uint8_t pub33[33];
        pub33[0] = (uint8_t)(0x02 | (pub65[64] & 1));
        memcpy(pub33 + 1, pub65 + 1, 32);

        const cJSON *tc;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(group, "tests")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "tcId");
            const cJSON *msgj = cJSON_GetObjectItemCaseSensitive(tc, "msg");
            const cJSON *sigj = cJSON_GetObjectItemCaseSensitive(tc, "sig");
            const cJSON *res = cJSON_GetObjectItemCaseSensitive(tc, "result");
            const cJSON *cmt = cJSON_GetObjectItemCaseSensitive(tc, "comment");
            cr_assert(cJSON_IsNumber(id) && cJSON_IsString(msgj) && cJSON_IsString(sigj) && cJSON_IsString(res));
            int tcid = id->valueint;
            const char *comment = cJSON_IsString(cmt) ? cmt->valuestring : "";
            size_t mlen, slen;
            uint8_t *msg = hex_alloc(msgj->valuestring, &mlen);
            uint8_t *raw = hex_alloc(sigj->valuestring, &slen);
            uint8_t digest[32], sig[64];
            wn_sha256(digest, msg, mlen);

            int encoded = fmt == FMT_DER ? der_to_compact(sig, raw, slen) : slen == 64;
            if (fmt == FMT_P1363 && encoded) memcpy(sig, raw, 64);
            int got = 0;
            if (encoded) {
                got = wn_ecdsa_verify(sig, digest, pub65, 65);
                int got33 = wn_ecdsa_verify(sig, digest, pub33, 33);
                CHECK(got == got33, "%s tc %d: 65-byte key %d, 33-byte key %d", name, tcid, got, got33);
            } else {
                t->bad_encoding++;
            }
            int high_s = encoded && memcmp(sig + 32, half, 32) > 0;

            if (strcmp(res->valuestring, "valid") == 0) {
                if (!bitcoin && high_s) {
                    /* Valid plain ECDSA, but high-S: our rule rejects it; its twin verifies. */
                    CHECK(!got, "%s tc %d (%s): high-S signature accepted", name, tcid, comment);
                    uint8_t low[64];
                    memcpy(low, sig, 32);
                    sub256(low + 32, order, sig + 32);
                    CHECK(wn_ecdsa_verify(low, digest, pub65, 65), "%s tc %d (%s): n - s does not verify", name,
                          tcid, comment);
                    t->high_s_valid++;
                } else {
                    CHECK(got, "%s tc %d (%s): valid signature rejected%s", name, tcid, comment,
                          encoded ? "" : " (encoding)");
                    t->valid_ok++;
                }
                /* A valid signature no longer verifies for another message. */
                digest[0] ^= 1;
                CHECK(!encoded || !wn_ecdsa_verify(sig, digest, pub65, 65), "%s tc %d: other digest", name, tcid);
            } else if (strcmp(res->valuestring, "invalid") == 0) {
                CHECK(!got, "%s tc %d (%s): invalid signature accepted", name, tcid, comment);
                t->invalid_rejected++;
            } else {
                cr_assert_str_eq(res->valuestring, "acceptable", "%s tc %d: unknown result", name, tcid);
                t->acceptable++;
            }
            t->tests++;
            free(msg);
            free(raw);
        }
        free(pub65);
    }
    cr_assert_eq((double)t->tests, declared->valuedouble, "%s: ran %zu tests, file declares %g", name, t->tests,
                 declared->valuedouble);
    cr_assert_gt(t->tests, 0);
    cr_assert_gt(t->valid_ok, 0, "%s: nothing verified", name);
    cr_assert_gt(t->invalid_rejected, 0, "%s: nothing rejected", name);
    fprintf(stderr, "wycheproof %s: %zu tests: %zu valid verified, %zu valid high-S rejected (n-s verified), "
                    "%zu invalid rejected (%zu by encoding), %zu acceptable\n",
            name, t->tests, t->valid_ok, t->high_s_valid, t->invalid_rejected, t->bad_encoding, t->acceptable);
    cJSON_Delete(root);
    free(text);
    return 1;
}

Test(wycheproof, bitcoin_der)
{
    struct tally t;
    cr_assert(run_file("ecdsa_secp256k1_sha256_bitcoin_test.json", FMT_DER, 1, &t),
              "the Bitcoin vectors are required (set WN_VECTORS)");
    /* Bitcoin rules: there is no valid high-S signature. */
    cr_assert_eq(t.high_s_valid, 0);
    cr_assert_eq(t.acceptable, 0, "new 'acceptable' tests: decide and document what they mean");
}

Test(wycheproof, p1363)
{
    struct tally t;
    if (!run_file("ecdsa_secp256k1_sha256_p1363_test.json", FMT_P1363, 0, &t)) {
        fprintf(stderr, "wycheproof: no p1363 file, skipped\n");
        return;
    }
    cr_assert_gt(t.high_s_valid, 0, "expected valid high-S signatures to exercise the low-S rule");
    cr_assert_eq(t.acceptable, 0, "new 'acceptable' tests: decide and document what they mean");
}

Test(wycheproof, plain_der)
{
    struct tally t;
    if (!run_file("ecdsa_secp256k1_sha256_test.json", FMT_DER, 0, &t)) {
        fprintf(stderr, "wycheproof: no plain DER file, skipped\n");
        return;
    }
    cr_assert_eq(t.acceptable, 0, "new 'acceptable' tests: decide and document what they mean");
}

/* The DER converter itself: it is what stands between a BER trick and the verifier. */
Test(wycheproof, der_converter)
{
    uint8_t out[64];
    /* 30 06 02 01 01 02 01 02: r = 1, s = 2 */
    const uint8_t ok[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02};
    cr_assert(der_to_compact(out, ok, sizeof ok));
    cr_assert_eq(out[31], 1);
    cr_assert_eq(out[63], 2);
    const uint8_t sign_byte[] = {0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x02};
    cr_assert(der_to_compact(out, sign_byte, sizeof sign_byte));
    cr_assert_eq(out[31], 0x80);
    const uint8_t *bad[] = {
        (const uint8_t[]){0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02}, /* non-minimal zero */
        (const uint8_t[]){0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02},       /* negative r */
        (const uint8_t[]){0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00}, /* trailing in SEQUENCE */
        (const uint8_t[]){0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, /* long-form length */
        (const uint8_t[]){0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02},       /* SET, not SEQUENCE */
        (const uint8_t[]){0x30, 0x06, 0x03, 0x01, 0x01, 0x02, 0x01, 0x02},       /* not INTEGER */
        (const uint8_t[]){0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02},             /* empty integer */
        (const uint8_t[]){0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x02, 0x02},       /* s runs past the end */
    };
    const size_t lens[] = {9, 8, 9, 9, 8, 8, 7, 8};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
        cr_assert_not(der_to_compact(out, bad[i], lens[i]), "bad DER %zu accepted", i);
    /* 33 value bytes after the sign byte is too long for secp256k1. */
    uint8_t big[2 + 2 + 34 + 3] = {0x30, 2 + 34 + 3, 0x02, 34, 0x00, 0x80};
    big[2 + 2 + 34] = 0x02;
    big[2 + 2 + 34 + 1] = 0x01;
    big[2 + 2 + 34 + 2] = 0x01;
    cr_assert_not(der_to_compact(out, big, sizeof big));
    /* A trailing byte after the SEQUENCE. */
    const uint8_t trailing[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00};
    cr_assert_not(der_to_compact(out, trailing, sizeof trailing));
}
