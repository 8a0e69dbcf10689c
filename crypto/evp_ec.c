/* evp_ec.c — P-256 ECDSA and SM2 signatures, and SM3, through OpenSSL 3 EVP (evp_ec.h).
 * Curve arithmetic that EVP does not offer (a public key from a secret one, point
 * validation, the SM2 Z_A value) uses OpenSSL's EC_GROUP / EC_POINT functions, which are
 * not deprecated in OpenSSL 3. */
#include "crypto/evp_ec.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

enum { CURVE_P256, CURVE_SM2 };

static int nid_of(int curve) { return curve == CURVE_SM2 ? NID_sm2 : NID_X9_62_prime256v1; }

/* The secret key as a scalar in [1, n-1] (SM2: [1, n-2], GB/T 32918.1 6.1). */
static BIGNUM *scalar(const EC_GROUP *g, int curve, const uint8_t seckey[32])
{
    BIGNUM *d = BN_bin2bn(seckey, 32, NULL), *lim = BN_dup(EC_GROUP_get0_order(g));
    int ok = d && lim && !BN_is_zero(d) && (curve != CURVE_SM2 || BN_sub_word(lim, 1)) && BN_cmp(d, lim) < 0;
    BN_free(lim);
    if (!ok) {
        BN_clear_free(d);
        return NULL;
    }
    return d;
}

static int pub33_of(int curve, uint8_t pub33[33], const uint8_t seckey[32])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid_of(curve));
    BIGNUM *d = g ? scalar(g, curve, seckey) : NULL;
    EC_POINT *p = d ? EC_POINT_new(g) : NULL;
    int ok = p && EC_POINT_mul(g, p, d, NULL, NULL, NULL) &&
             EC_POINT_point2oct(g, p, POINT_CONVERSION_COMPRESSED, pub33, 33, NULL) == 33;
    EC_POINT_free(p);
    BN_clear_free(d);
    EC_GROUP_free(g);
    return ok;
}

static int pub_valid(int curve, const uint8_t pub33[33])
{
    if (pub33[0] != 0x02 && pub33[0] != 0x03) return 0;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid_of(curve));
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    int ok = p && EC_POINT_oct2point(g, p, pub33, 33, NULL) == 1 && !EC_POINT_is_at_infinity(g, p);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return ok;
}

static int seckey_generate(int curve, uint8_t seckey[32])
{
    uint8_t pub[33];
    for (int i = 0; i < 64; i++) {
        if (getrandom(seckey, 32, 0) != 32) return 0;
        if (pub33_of(curve, pub, seckey)) return 1;
    }
    return 0;
}

/* An EVP key from a public point (33 bytes compressed, checked here; or 65 bytes
 * uncompressed, prepared by wn_ec_pub65), or from a secret key (then seckey != NULL). */
static EVP_PKEY *pkey_of_len(int curve, const uint8_t *pub33, size_t publen, const uint8_t *seckey)
{
    uint8_t pub[33];
    if (seckey) {
        if (!pub33_of(curve, pub, seckey)) return NULL;
        pub33 = pub;
        publen = 33;
    } else if (publen == 33 && !pub_valid(curve, pub33)) {
        return NULL;
    } else if (publen != 33 && (publen != 65 || pub33[0] != 0x04)) {
        return NULL;
    }
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *d = seckey ? BN_bin2bn(seckey, 32, NULL) : NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, curve == CURVE_SM2 ? "SM2" : "EC", NULL);
    if (!b || !ctx || (seckey && !d)) goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, curve == CURVE_SM2 ? "SM2" : "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub33, publen) ||
        (d && !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d)))
        goto out;
    params = OSSL_PARAM_BLD_to_param(b);
    if (!params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, seckey ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_clear_free(d);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *pkey_of(int curve, const uint8_t pub33[33], const uint8_t *seckey)
{
    return pkey_of_len(curve, pub33, 33, seckey);
}

int wn_ec_sig_to_der(uint8_t *der, size_t cap, size_t *len, const uint8_t sig[64])
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
        ECDSA_SIG_free(s);
        BN_free(r);
        BN_free(ss);
        return 0;
    }
    int n = i2d_ECDSA_SIG(s, NULL);
    int ok = n > 0 && (size_t)n <= cap;
    if (ok) {
        uint8_t *p = der;
        ok = i2d_ECDSA_SIG(s, &p) == n;
        *len = (size_t)n;
    }
    ECDSA_SIG_free(s);
    return ok;
}

int wn_ec_sig_from_der(uint8_t sig[64], const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!s) return 0;
    const BIGNUM *r, *ss;
    ECDSA_SIG_get0(s, &r, &ss);
    int ok = p == der + len && BN_num_bytes(r) <= 32 && BN_num_bytes(ss) <= 32 && BN_bn2binpad(r, sig, 32) == 32 &&
             BN_bn2binpad(ss, sig + 32, 32) == 32;
    ECDSA_SIG_free(s);
    return ok;
}

/* The group orders n and n/2 (rounded down), big-endian: compared as bytes, so a signature
 * check builds no EC_GROUP. */
static const uint8_t k_order[2][32] = {
    {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51},
    {0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23}};
static const uint8_t k_half_p256[32] = {0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
                                        0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

static int is_zero32(const uint8_t *x)
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= x[i];
    return acc == 0;
}

/* r and s in [1, n-1]; with low_s (P-256 only) also s <= n/2. */
static int rs_in_range(int curve, const uint8_t sig[64], int low_s)
{
    const uint8_t *n = k_order[curve == CURVE_SM2];
    if (is_zero32(sig) || is_zero32(sig + 32) || memcmp(sig, n, 32) >= 0 || memcmp(sig + 32, n, 32) >= 0) return 0;
    return !low_s || memcmp(sig + 32, k_half_p256, 32) <= 0;
}

/* Building an EVP_PKEY from octets costs more than the verification itself, so each thread
 * keeps the keys of prepared (65-byte) points it verified: a cache of KEY_SETS sets of
 * KEY_WAYS entries found by a hash of the point (a node verifies readings of thousands of
 * meters in turn, so a short list that is scanned and replaced in order would miss every
 * time: P-256 verification then costs about 1.5 times as much, SM2's too), an entry made
 * on a miss replacing the set's older one; freed when the thread ends (a pthread key's
 * destructor). At most KEY_SETS * KEY_WAYS keys per thread (a few MB). */
#define KEY_SETS 512
#define KEY_WAYS 2
typedef struct {
    int curve;
    uint8_t pub[65];
    EVP_PKEY *pkey;
    EVP_PKEY_CTX *ctx; /* made once: making it costs as much as a verification */
} cached_key;
typedef struct {
    cached_key k[KEY_SETS][KEY_WAYS];
    unsigned char older[KEY_SETS]; /* the way to replace next */
} key_cache;

static pthread_key_t g_cache_key;
static pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    key_cache *c = p;
    for (unsigned i = 0; i < KEY_SETS; i++)
        for (unsigned w = 0; w < KEY_WAYS; w++) {
            EVP_PKEY_CTX_free(c->k[i][w].ctx);
            EVP_PKEY_free(c->k[i][w].pkey);
        }
    free(c);
}

static void cache_init(void) { pthread_key_create(&g_cache_key, cache_free); }

/* The set of a point: its x coordinate is a curve point's, as good as random. */
static unsigned set_of(int curve, const uint8_t pub65[65])
{
    uint32_t h = (uint32_t)pub65[1] << 24 | (uint32_t)pub65[2] << 16 | (uint32_t)pub65[3] << 8 | pub65[4];
    return (h ^ (uint32_t)curve) % KEY_SETS;
}

/* The thread's verification context of a prepared point (made if not cached; NULL on
 * failure). The cache owns it: do not free. */
static EVP_PKEY_CTX *cached_ctx(int curve, const uint8_t pub65[65])
{
    pthread_once(&g_cache_once, cache_init);
    key_cache *c = pthread_getspecific(g_cache_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || pthread_setspecific(g_cache_key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    unsigned set = set_of(curve, pub65);
    cached_key *ways = c->k[set];
    for (unsigned w = 0; w < KEY_WAYS; w++)
        if (ways[w].ctx && ways[w].curve == curve && memcmp(ways[w].pub, pub65, 65) == 0) {
            c->older[set] = (unsigned char)((w + 1) % KEY_WAYS); /* the other one ages */
            return ways[w].ctx;
        }
    EVP_PKEY *pkey = pkey_of_len(curve, pub65, 65, NULL);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    if (!ctx) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    unsigned w = c->older[set];
    cached_key *slot = &ways[w];
    c->older[set] = (unsigned char)((w + 1) % KEY_WAYS);
    EVP_PKEY_CTX_free(slot->ctx);
    EVP_PKEY_free(slot->pkey);
    slot->curve = curve;
    memcpy(slot->pub, pub65, 65);
    slot->pkey = pkey;
    slot->ctx = ctx;
    return ctx;
}

/* EVP_PKEY_verify of a prehashed 32-byte value; pub is 33 or 65 bytes (pkey_of_len). */
static int verify_raw_len(int curve, const uint8_t sig[64], const uint8_t digest[32], const uint8_t *pub, size_t publen)
{
    uint8_t der[80];
    size_t len;
    EVP_PKEY *own = publen == 65 ? NULL : pkey_of_len(curve, pub, publen, NULL);
    EVP_PKEY_CTX *own_ctx = own ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
    EVP_PKEY_CTX *ctx = publen == 65 ? cached_ctx(curve, pub) : own_ctx;
    int ok = ctx && wn_ec_sig_to_der(der, sizeof der, &len, sig) && EVP_PKEY_verify_init(ctx) > 0 &&
             EVP_PKEY_verify(ctx, der, len, digest, 32) == 1;
    EVP_PKEY_CTX_free(own_ctx);
    EVP_PKEY_free(own);
    return ok;
}

static int verify_raw(int curve, const uint8_t sig[64], const uint8_t digest[32], const uint8_t pub33[33])
{
    return verify_raw_len(curve, sig, digest, pub33, 33);
}

static int pub65_of(int curve, uint8_t pub65[65], const uint8_t pub33[33])
{
    if (!pub_valid(curve, pub33)) return 0;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid_of(curve));
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    int ok = p && EC_POINT_oct2point(g, p, pub33, 33, NULL) == 1 &&
             EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub65, 65, NULL) == 65;
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return ok;
}

/* ---- P-256 ---- */

int wn_p256_seckey_generate(uint8_t seckey[32]) { return seckey_generate(CURVE_P256, seckey); }
int wn_p256_pub33(uint8_t pub33[33], const uint8_t seckey[32]) { return pub33_of(CURVE_P256, pub33, seckey); }
int wn_p256_pub_valid(const uint8_t pub33[33]) { return pub_valid(CURVE_P256, pub33); }

int wn_p256_sign(uint8_t sig[64], const uint8_t seckey[32], const uint8_t digest[32])
{
    uint8_t der[80];
    size_t len = sizeof der;
    EVP_PKEY *pkey = pkey_of(CURVE_P256, NULL, seckey);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_sign(ctx, der, &len, digest, 32) > 0 &&
             wn_ec_sig_from_der(sig, der, len);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    if (!ok) return 0;
    if (!rs_in_range(CURVE_P256, sig, 1)) { /* high S: use n - s, the same signature's low form */
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            int d = k_order[CURVE_P256][i] - sig[32 + i] - borrow;
            borrow = d < 0;
            sig[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
    }
    return ok;
}

int wn_p256_verify(const uint8_t sig[64], const uint8_t digest[32], const uint8_t pub33[33])
{
    return pub33 && rs_in_range(CURVE_P256, sig, 1) && verify_raw(CURVE_P256, sig, digest, pub33);
}

int wn_p256_pub65(uint8_t pub65[65], const uint8_t pub33[33]) { return pub65_of(CURVE_P256, pub65, pub33); }

int wn_p256_verify_pub65(const uint8_t sig[64], const uint8_t digest[32], const uint8_t pub65[65])
{
    return rs_in_range(CURVE_P256, sig, 1) && verify_raw_len(CURVE_P256, sig, digest, pub65, 65);
}

int wn_p256_verify_any_s(const uint8_t sig[64], const uint8_t digest[32], const uint8_t pub33[33])
{
    return rs_in_range(CURVE_P256, sig, 0) && verify_raw(CURVE_P256, sig, digest, pub33);
}

/* ---- SM3 and SM2 ---- */

int wn_sm3(uint8_t out[32], const void *data, size_t len)
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sm3(), NULL) == 1 && n == 32;
}

int wn_sm3_tagged(uint8_t out[32], const char *tag, const void *msg, size_t len)
{
    uint8_t th[32];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && wn_sm3(th, tag, strlen(tag)) && EVP_DigestInit_ex(c, EVP_sm3(), NULL) == 1 &&
             EVP_DigestUpdate(c, th, 32) == 1 && EVP_DigestUpdate(c, th, 32) == 1 &&
             EVP_DigestUpdate(c, msg, len) == 1 && EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    return ok;
}

int wn_sm2_seckey_generate(uint8_t seckey[32]) { return seckey_generate(CURVE_SM2, seckey); }
int wn_sm2_pub33(uint8_t pub33[33], const uint8_t seckey[32]) { return pub33_of(CURVE_SM2, pub33, seckey); }
int wn_sm2_pub_valid(const uint8_t pub33[33]) { return pub_valid(CURVE_SM2, pub33); }

int wn_sm2_pub65(uint8_t pub65[65], const uint8_t pub33[33]) { return pub65_of(CURVE_SM2, pub65, pub33); }

int wn_sm2_digest(uint8_t e[32], const uint8_t pub33[33], const char *id, const void *msg, size_t len)
{
    uint8_t z[32];
    return wn_sm2_z(z, pub33, id) && wn_sm2_e(e, z, msg, len);
}

int wn_sm2_e(uint8_t e[32], const uint8_t z[32], const void *msg, size_t len)
{
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sm3(), NULL) == 1 && EVP_DigestUpdate(c, z, 32) == 1 &&
             EVP_DigestUpdate(c, msg, len) == 1 && EVP_DigestFinal_ex(c, e, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    return ok;
}

int wn_sm2_verify_pub65(const uint8_t sig[64], const uint8_t z[32], const uint8_t pub65[65], const void *msg, size_t len)
{
    uint8_t e[32];
    return rs_in_range(CURVE_SM2, sig, 0) && wn_sm2_e(e, z, msg, len) && verify_raw_len(CURVE_SM2, sig, e, pub65, 65);
}

int wn_sm2_z(uint8_t z[32], const uint8_t pub33[33], const char *id)
{
    if (!id) id = WN_SM2_DEFAULT_ID;
    size_t idlen = strlen(id);
    if (idlen > 8191) return 0; /* ENTL is the id's length in bits, 16 bits */
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BIGNUM *a = BN_new(), *b = BN_new(), *x = BN_new(), *y = BN_new();
    uint8_t buf[6 * 32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    uint8_t entl[2] = {(uint8_t)(idlen * 8 >> 8), (uint8_t)(idlen * 8)};
    int ok = p && a && b && x && y && c && EC_GROUP_get_curve(g, NULL, a, b, NULL) &&
             BN_bn2binpad(a, buf, 32) == 32 && BN_bn2binpad(b, buf + 32, 32) == 32 &&
             EC_POINT_get_affine_coordinates(g, EC_GROUP_get0_generator(g), x, y, NULL) &&
             BN_bn2binpad(x, buf + 64, 32) == 32 && BN_bn2binpad(y, buf + 96, 32) == 32 &&
             pub_valid(CURVE_SM2, pub33) && EC_POINT_oct2point(g, p, pub33, 33, NULL) == 1 &&
             EC_POINT_get_affine_coordinates(g, p, x, y, NULL) && BN_bn2binpad(x, buf + 128, 32) == 32 &&
             BN_bn2binpad(y, buf + 160, 32) == 32 && EVP_DigestInit_ex(c, EVP_sm3(), NULL) == 1 &&
             EVP_DigestUpdate(c, entl, 2) == 1 && EVP_DigestUpdate(c, id, idlen) == 1 &&
             EVP_DigestUpdate(c, buf, sizeof buf) == 1 && EVP_DigestFinal_ex(c, z, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    BN_free(a);
    BN_free(b);
    BN_free(x);
    BN_free(y);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return ok;
}

/* EVP_DigestSign / EVP_DigestVerify with SM3 and the distinguishing id. */
static int sm2_digest_op(int sign, uint8_t sig[64], EVP_PKEY *pkey, const char *id, const void *msg, size_t len)
{
    if (!id) id = WN_SM2_DEFAULT_ID;
    uint8_t der[80];
    size_t dlen = sizeof der;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = mc && pc && EVP_PKEY_CTX_set1_id(pc, id, strlen(id)) > 0;
    if (ok) EVP_MD_CTX_set_pkey_ctx(mc, pc);
    if (ok && sign)
        ok = EVP_DigestSignInit(mc, NULL, EVP_sm3(), NULL, pkey) == 1 && EVP_DigestSign(mc, der, &dlen, msg, len) == 1 &&
             wn_ec_sig_from_der(sig, der, dlen);
    else if (ok)
        ok = wn_ec_sig_to_der(der, sizeof der, &dlen, sig) && EVP_DigestVerifyInit(mc, NULL, EVP_sm3(), NULL, pkey) == 1 &&
             EVP_DigestVerify(mc, der, dlen, msg, len) == 1;
    EVP_MD_CTX_free(mc);
    EVP_PKEY_CTX_free(pc);
    return ok;
}

int wn_sm2_sign(uint8_t sig[64], const uint8_t seckey[32], const char *id, const void *msg, size_t len)
{
    EVP_PKEY *pkey = pkey_of(CURVE_SM2, NULL, seckey);
    int ok = pkey && sm2_digest_op(1, sig, pkey, id, msg, len);
    EVP_PKEY_free(pkey);
    return ok;
}

int wn_sm2_verify(const uint8_t sig[64], const uint8_t pub33[33], const char *id, const void *msg, size_t len)
{
    if (!rs_in_range(CURVE_SM2, sig, 0)) return 0;
    EVP_PKEY *pkey = pkey_of(CURVE_SM2, pub33, NULL);
    int ok = pkey && sm2_digest_op(0, (uint8_t *)sig, pkey, id, msg, len);
    EVP_PKEY_free(pkey);
    return ok;
}

int wn_sm2_verify_digest(const uint8_t sig[64], const uint8_t e[32], const uint8_t pub33[33])
{
    return rs_in_range(CURVE_SM2, sig, 0) && verify_raw(CURVE_SM2, sig, e, pub33);
}
