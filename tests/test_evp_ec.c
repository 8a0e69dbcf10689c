/* test_evp_ec.c — P-256 ECDSA and SM2/SM3 through OpenSSL EVP (crypto/evp_ec.h):
 * - Project Wycheproof's P-256 r||s vectors (tests/vectors/wycheproof-p256/): every case gives
 *   its stated result with the plain verifier, and the protocol's low-S verifier rejects
 *   exactly the valid high-S ones while accepting their low-S twins;
 * - OpenSSL's SM2 verification cases (tests/vectors/sm2/), and each with its input tampered;
 * - SM3 and the SM2 digest against the GB/T 32905 / GB/T 32918 examples;
 * - round trips, wrong keys, wrong distinguishing ids and out-of-range r, s refused;
 * - cross-checks with an independent implementation, the `openssl` command line: signatures
 *   it makes verify here, signatures made here verify there. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/sha256.h"
#include "crypto/verifier.h"
#include "tests/support/testutil.h"

static uint8_t *hex_alloc(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    cr_assert(n % 2 == 0, "odd hex");
    uint8_t *b = malloc(n / 2 + 1);
    cr_assert(wn_hex_decode(b, n / 2, hex, n) || n == 0, "bad hex: %.40s", hex);
    *len = n / 2;
    return b;
}

static void hex32(uint8_t out[32], const char *hex)
{
    cr_assert(wn_hex_decode(out, 32, hex, strlen(hex)), "bad hex32 %s", hex);
}

/* An uncompressed key (65 bytes, 04 || x || y) as compressed (33 bytes). */
static void compress(uint8_t out[33], const uint8_t *unc)
{
    out[0] = (uint8_t)(0x02 | (unc[64] & 1));
    memcpy(out + 1, unc + 1, 32);
}

Test(evp_ec, wycheproof_p256_p1363)
{
    char *path = wn_test_vector_path("wycheproof-p256/ecdsa_secp256r1_sha256_p1363_test.json");
    size_t len;
    char *text = wn_test_read_file(path, &len);
    cr_assert(text, "cannot read %s", path);
    cJSON *root = cJSON_Parse(text);
    cr_assert(root);
    unsigned total = 0, valid = 0, high_s = 0, invalid = 0;
    const cJSON *groups = cJSON_GetObjectItem(root, "testGroups"), *g;
    cJSON_ArrayForEach(g, groups)
    {
        const cJSON *key = cJSON_GetObjectItem(g, "publicKey");
        size_t klen;
        uint8_t *unc = hex_alloc(cJSON_GetObjectItem(key, "uncompressed")->valuestring, &klen);
        cr_assert_eq(klen, 65);
        uint8_t pub[33];
        compress(pub, unc);
        free(unc);
        cr_assert(wn_p256_pub_valid(pub));
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(g, "tests"))
        {
            total++;
            int id = cJSON_GetObjectItem(t, "tcId")->valueint;
            const char *result = cJSON_GetObjectItem(t, "result")->valuestring;
            size_t mlen, slen;
            uint8_t *msg = hex_alloc(cJSON_GetObjectItem(t, "msg")->valuestring, &mlen);
            uint8_t *sig = hex_alloc(cJSON_GetObjectItem(t, "sig")->valuestring, &slen);
            uint8_t d[32];
            wn_sha256(d, msg, mlen);
            int any = slen == 64 && wn_p256_verify_any_s(sig, d, pub);
            int low = slen == 64 && wn_p256_verify(sig, d, pub);
            if (strcmp(result, "valid") == 0) {
                valid++;
                cr_assert(any, "tcId %d: a valid signature did not verify", id);
                if (!low) { /* must be high S: its twin n - s verifies under the low-S rule */
                    high_s++;
                    static const char order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
                    uint8_t n[32], twin[64];
                    hex32(n, order);
                    memcpy(twin, sig, 32);
                    int borrow = 0;
                    for (int i = 31; i >= 0; i--) {
                        int v = n[i] - sig[32 + i] - borrow;
                        borrow = v < 0;
                        twin[32 + i] = (uint8_t)(v + (borrow ? 256 : 0));
                    }
                    cr_assert(wn_p256_verify(twin, d, pub), "tcId %d: the low-S twin did not verify", id);
                }
            } else if (strcmp(result, "invalid") == 0) {
                invalid++;
                cr_assert(!any && !low, "tcId %d (%s): an invalid signature verified", id,
                          cJSON_GetObjectItem(t, "comment")->valuestring);
            }
            free(msg);
            free(sig);
        }
    }
    cr_log_info("wycheproof P-256 p1363: %u tests: %u valid (%u high-S rejected, twins verified), %u invalid rejected",
                total, valid, high_s, invalid);
    fprintf(stderr, "wycheproof P-256 p1363: %u tests: %u valid (%u high-S), %u invalid rejected\n", total, valid, high_s,
            invalid);
    cr_assert(total >= 200 && valid > 0 && invalid > 0 && high_s > 0);
    cJSON_Delete(root);
    free(text);
    free(path);
}

/* OpenSSL's evppkey SM2 cases: a PKCS#8 key and DER signatures over given digests e. */
Test(evp_ec, sm2_openssl_verify_cases)
{
    char *path = wn_test_vector_path("sm2/evppkey_sm2_verify.txt");
    size_t len;
    char *text = wn_test_read_file(path, &len);
    cr_assert(text, "cannot read %s", path);
    /* the public key of SM2_key1, read from the PEM with the openssl command line */
    char *dir = wn_test_tmpdir("sm2vec");
    char pem[4200], cmd[9000];
    snprintf(pem, sizeof pem, "%s/key.pem", dir);
    const char *b = strstr(text, "-----BEGIN PRIVATE KEY-----"), *e = strstr(text, "-----END PRIVATE KEY-----");
    cr_assert(b && e);
    FILE *f = fopen(pem, "w");
    fwrite(b, 1, (size_t)(e - b) + strlen("-----END PRIVATE KEY-----"), f);
    fputc('\n', f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "openssl pkey -in %s -pubout -outform DER 2>/dev/null | tail -c 65 | od -An -tx1 -v | tr -d ' \\n'", pem);
    FILE *p = popen(cmd, "r");
    char hex[200] = "";
    cr_assert(fgets(hex, sizeof hex, p));
    pclose(p);
    size_t ulen;
    uint8_t *unc = hex_alloc(hex, &ulen), pub[33];
    cr_assert_eq(ulen, 65, "public key: %s", hex);
    compress(pub, unc);
    free(unc);
    cr_assert(wn_sm2_pub_valid(pub));
    unsigned cases = 0;
    for (const char *in = strstr(text, "Input = "); in; in = strstr(in + 1, "Input = ")) {
        char ih[65], oh[200];
        cr_assert_eq(sscanf(in, "Input = %64s\nOutput = %199s", ih, oh), 2);
        uint8_t dg[32], sig[64];
        for (char *c = ih; *c; c++) *c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
        for (char *c = oh; *c; c++) *c = (char)(*c >= 'A' && *c <= 'F' ? *c + 32 : *c);
        hex32(dg, ih);
        size_t dl;
        uint8_t *der = hex_alloc(oh, &dl);
        cr_assert(wn_ec_sig_from_der(sig, der, dl));
        free(der);
        cr_assert(wn_sm2_verify_digest(sig, dg, pub), "SM2 case %u did not verify", cases);
        dg[31] ^= 1;
        cr_assert(!wn_sm2_verify_digest(sig, dg, pub), "SM2 case %u verified a changed digest", cases);
        dg[31] ^= 1;
        sig[5] ^= 0x10;
        cr_assert(!wn_sm2_verify_digest(sig, dg, pub), "SM2 case %u verified a changed signature", cases);
        cases++;
    }
    cr_assert_eq(cases, 2);
    wn_test_rmtree(dir);
    free(dir);
    free(text);
    free(path);
}

Test(evp_ec, sm3_known_answers)
{
    /* GB/T 32905-2016 appendix A: "abc" and "abcd" x 16 */
    uint8_t h[32], want[32];
    cr_assert(wn_sm3(h, "abc", 3));
    hex32(want, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    cr_assert_arr_eq(h, want, 32);
    char m[65] = "";
    for (int i = 0; i < 16; i++) strcat(m, "abcd");
    cr_assert(wn_sm3(h, m, 64));
    hex32(want, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    cr_assert_arr_eq(h, want, 32);
    /* the tagged form is SM3(SM3(tag) || SM3(tag) || msg) */
    uint8_t th[32], buf[64 + 3], t2[32];
    cr_assert(wn_sm3(th, "WaterNotary/reading/v1", 22));
    memcpy(buf, th, 32);
    memcpy(buf + 32, th, 32);
    memcpy(buf + 64, "abc", 3);
    cr_assert(wn_sm3(t2, buf, sizeof buf));
    cr_assert(wn_sm3_tagged(h, "WaterNotary/reading/v1", "abc", 3));
    cr_assert_arr_eq(h, t2, 32);
}

Test(evp_ec, round_trips_and_refusals)
{
    uint8_t sk[32], pub[33], d[32], sig[64], other[33], osk[32];
    wn_sha256(d, "reading", 7);
    for (int i = 0; i < 20; i++) {
        cr_assert(wn_p256_seckey_generate(sk) && wn_p256_pub33(pub, sk) && wn_p256_pub_valid(pub));
        cr_assert(wn_p256_sign(sig, sk, d));
        cr_assert(wn_p256_verify(sig, d, pub), "P-256 round trip %d", i);
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[63] ^= 1;
        cr_assert(!wn_p256_verify(bad, d, pub));
        d[0] ^= 1;
        cr_assert(!wn_p256_verify(sig, d, pub));
        d[0] ^= 1;
    }
    cr_assert(wn_p256_seckey_generate(osk) && wn_p256_pub33(other, osk));
    cr_assert(!wn_p256_verify(sig, d, other), "another key");
    uint8_t zero[64] = {0};
    cr_assert(!wn_p256_verify(zero, d, pub), "r = s = 0");
    uint8_t big[64];
    memset(big, 0xff, 64);
    cr_assert(!wn_p256_verify_any_s(big, d, pub), "r, s >= n");
    uint8_t notpt[33];
    memcpy(notpt, pub, 33);
    notpt[0] = 0x04;
    cr_assert(!wn_p256_pub_valid(notpt));
    memset(sk, 0, 32);
    cr_assert(!wn_p256_pub33(pub, sk), "the zero secret key");

    const char *msg = "a reading's bytes";
    for (int i = 0; i < 20; i++) {
        cr_assert(wn_sm2_seckey_generate(sk) && wn_sm2_pub33(pub, sk) && wn_sm2_pub_valid(pub));
        cr_assert(wn_sm2_sign(sig, sk, NULL, msg, strlen(msg)));
        cr_assert(wn_sm2_verify(sig, pub, NULL, msg, strlen(msg)), "SM2 round trip %d", i);
        cr_assert(wn_sm2_verify(sig, pub, WN_SM2_DEFAULT_ID, msg, strlen(msg)));
        cr_assert(!wn_sm2_verify(sig, pub, "ALICE123@YAHOO.COM", msg, strlen(msg)), "another distinguishing id");
        cr_assert(!wn_sm2_verify(sig, pub, NULL, msg, strlen(msg) - 1));
        uint8_t e[32];
        cr_assert(wn_sm2_digest(e, pub, NULL, msg, strlen(msg)));
        cr_assert(wn_sm2_verify_digest(sig, e, pub), "our Z_A and e agree with OpenSSL's (%d)", i);
        uint8_t neg[64];
        memcpy(neg, sig, 64);
        static const char order[] = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
        uint8_t n[32];
        hex32(n, order);
        int borrow = 0;
        for (int k = 31; k >= 0; k--) {
            int v = n[k] - sig[32 + k] - borrow;
            borrow = v < 0;
            neg[32 + k] = (uint8_t)(v + (borrow ? 256 : 0));
        }
        cr_assert(!wn_sm2_verify(neg, pub, NULL, msg, strlen(msg)), "(r, n - s) is not an SM2 signature");
    }
    cr_assert(wn_sm2_seckey_generate(osk) && wn_sm2_pub33(other, osk));
    cr_assert(!wn_sm2_verify(sig, other, NULL, msg, strlen(msg)), "another key");
    uint8_t p256pub[33];
    cr_assert(wn_p256_seckey_generate(osk) && wn_p256_pub33(p256pub, osk));
    cr_assert(!wn_sm2_pub_valid(p256pub) || !wn_sm2_verify(sig, p256pub, NULL, msg, strlen(msg)));
}

/* ---- the openssl command line as an independent implementation ---- */

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The secret scalar of a PEM key, read with `openssl pkey -text`. */
static void pem_secret(uint8_t sk[32], const char *pem)
{
    char cmd[4400], buf[8192] = "", hex[200] = "";
    snprintf(cmd, sizeof cmd, "openssl pkey -in %s -text -noout", pem);
    FILE *p = popen(cmd, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
    buf[n] = '\0';
    const char *s = strstr(buf, "priv:"), *end = strstr(buf, "pub:");
    cr_assert(s && end && end > s, "openssl pkey -text: %s", buf);
    size_t h = 0;
    for (const char *c = s + 5; c < end && h < sizeof hex - 1; c++)
        if ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')) hex[h++] = *c;
    hex[h] = '\0';
    const char *x = h == 66 ? hex + 2 : hex; /* a leading 00 sign byte */
    cr_assert_eq(strlen(x), 64, "secret: %s", hex);
    hex32(sk, x);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(evp_ec, openssl_command_line_agrees, .timeout = 60)
{
    char *dir = wn_test_tmpdir("evpcli");
    char key[4200], in[4200], sigf[4200], cmd[20000];
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(in, sizeof in, "%s/in.bin", dir);
    snprintf(sigf, sizeof sigf, "%s/sig.der", dir);
    uint8_t sk[32], pub[33], d[32], sig[64], der[80];
    size_t dlen;

    /* P-256: the element is given the 32-byte digest; pkeyutl signs it as it is */
    snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s 2>/dev/null", key);
    cr_assert_eq(sh(cmd), 0);
    pem_secret(sk, key);
    cr_assert(wn_p256_pub33(pub, sk));
    wn_sha256(d, "WaterNotary P-256 cross-check", 29);
    write_file(in, d, 32);
    for (int i = 0; i < 5; i++) {
        snprintf(cmd, sizeof cmd, "openssl pkeyutl -sign -inkey %s -in %s -out %s", key, in, sigf);
        cr_assert_eq(sh(cmd), 0);
        size_t n;
        char *s = wn_test_read_file(sigf, &n);
        cr_assert(wn_ec_sig_from_der(sig, (uint8_t *)s, n));
        free(s);
        cr_assert(wn_p256_verify_any_s(sig, d, pub), "openssl's P-256 signature does not verify here");
        cr_assert(wn_p256_sign(sig, sk, d));
        cr_assert(wn_ec_sig_to_der(der, sizeof der, &dlen, sig));
        write_file(sigf, der, dlen);
        snprintf(cmd, sizeof cmd, "openssl pkeyutl -verify -inkey %s -in %s -sigfile %s >/dev/null", key, in, sigf);
        cr_assert_eq(sh(cmd), 0, "our P-256 signature does not verify with openssl");
    }

    /* SM2 with SM3 and the default distinguishing id, over the message itself */
    snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm SM2 -out %s 2>/dev/null", key);
    cr_assert_eq(sh(cmd), 0);
    pem_secret(sk, key);
    cr_assert(wn_sm2_pub33(pub, sk));
    const char *msg = "WaterNotary SM2 cross-check: the bytes a reading signs";
    write_file(in, msg, strlen(msg));
    for (int i = 0; i < 5; i++) {
        snprintf(cmd, sizeof cmd,
                 "openssl pkeyutl -sign -inkey %s -rawin -digest sm3 -pkeyopt distid:" WN_SM2_DEFAULT_ID
                 " -in %s -out %s",
                 key, in, sigf);
        cr_assert_eq(sh(cmd), 0);
        size_t n;
        char *s = wn_test_read_file(sigf, &n);
        cr_assert(wn_ec_sig_from_der(sig, (uint8_t *)s, n));
        free(s);
        cr_assert(wn_sm2_verify(sig, pub, NULL, msg, strlen(msg)), "openssl's SM2 signature does not verify here");
        cr_assert(wn_sm2_sign(sig, sk, NULL, msg, strlen(msg)));
        cr_assert(wn_ec_sig_to_der(der, sizeof der, &dlen, sig));
        write_file(sigf, der, dlen);
        snprintf(cmd, sizeof cmd,
                 "openssl pkeyutl -verify -inkey %s -rawin -digest sm3 -pkeyopt distid:" WN_SM2_DEFAULT_ID
                 " -in %s -sigfile %s >/dev/null",
                 key, in, sigf);
        cr_assert_eq(sh(cmd), 0, "our SM2 signature does not verify with openssl");
    }
    wn_test_rmtree(dir);
    free(dir);
}

/* Prepared keys of a fleet larger than the per-thread key cache (crypto/evp_ec.c keeps
 * 1,024 in hashed sets): every signature verifies with its own key, in any order, again
 * after its key was evicted, and never with a neighbour's key (a cache returning another
 * point's context would accept it). */
Test(evp_ec, prepared_keys_of_a_fleet_larger_than_the_cache, .timeout = 120)
{
    enum { NP = 1500, NS = 200 };
    static uint8_t sk[NP][32], pub[NP][33], sig[NP][64], msg[NP][32];
    static wn_verifier v[NP];
    for (int alg = WN_ALG_P256; alg <= WN_ALG_SM2; alg++) {
        int n = alg == WN_ALG_P256 ? NP : NS;
        for (int i = 0; i < n; i++) {
            wn_sha256(msg[i], &i, sizeof i);
            if (alg == WN_ALG_P256)
                cr_assert(wn_p256_seckey_generate(sk[i]) && wn_p256_pub33(pub[i], sk[i]) && wn_p256_sign(sig[i], sk[i], msg[i]));
            else
                cr_assert(wn_sm2_seckey_generate(sk[i]) && wn_sm2_pub33(pub[i], sk[i]) &&
                          wn_sm2_sign(sig[i], sk[i], NULL, msg[i], 32));
            cr_assert(wn_verifier_evp(&v[i], (uint8_t)alg, pub[i]));
        }
        for (int round = 0; round < 3; round++)
            for (int k = 0; k < n; k++) {
                int i = round == 1 ? n - 1 - k : (k * 7 + round) % n; /* forward, backward, strided */
                cr_assert(wn_verifier_verify(&v[i], sig[i], msg[i]), "alg %d key %d round %d", alg, i, round);
                int j = (i + 1) % n;
                cr_assert(!wn_verifier_verify(&v[j], sig[i], msg[i]), "alg %d: key %d accepted key %d's signature", alg,
                          j, i);
            }
    }
}
