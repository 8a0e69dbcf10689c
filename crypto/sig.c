/* sig.c — libsecp256k1 wrappers: key generation, BIP-340 Schnorr, ECDSA verify.
 * The library's one context is created lazily (thread-safe) and randomised once. */
#include "crypto/sig.h"
#include "crypto/sha256.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <string.h>
#include <sys/random.h>

static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static int os_random(uint8_t *out, size_t len)
{
    while (len) {
        ssize_t r = getrandom(out, len, 0);
        if (r < 0) return 0;
        out += r;
        len -= (size_t)r;
    }
    return 1;
}

static void ctx_init(void)
{
    uint8_t seed[32];
    g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (os_random(seed, sizeof seed) && !secp256k1_context_randomize(g_ctx, seed)) {
        /* randomisation only hardens against side channels; a failure is not fatal */
    }
    memset(seed, 0, sizeof seed);
}

static const secp256k1_context *ctx(void)
{
    pthread_once(&g_once, ctx_init);
    return g_ctx;
}

int wn_seckey_generate(uint8_t seckey[WN_SECKEY_LEN])
{
    for (int i = 0; i < 16; i++) {
        if (!os_random(seckey, WN_SECKEY_LEN)) return 0;
        if (secp256k1_ec_seckey_verify(ctx(), seckey)) return 1;
    }
    return 0;
}

int wn_seckey_valid(const uint8_t seckey[WN_SECKEY_LEN])
{
    return secp256k1_ec_seckey_verify(ctx(), seckey);
}

int wn_seckey_xonly(uint8_t xonly[WN_XONLY_LEN], const uint8_t seckey[WN_SECKEY_LEN])
{
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xp;
    if (!secp256k1_keypair_create(ctx(), &kp, seckey)) return 0;
    int ok = secp256k1_keypair_xonly_pub(ctx(), &xp, NULL, &kp) &&
             secp256k1_xonly_pubkey_serialize(ctx(), xonly, &xp);
    memset(&kp, 0, sizeof kp);
    return ok;
}

int wn_seckey_pub33(uint8_t pub33[WN_PUB33_LEN], const uint8_t seckey[WN_SECKEY_LEN])
{
    secp256k1_pubkey pk;
    size_t len = WN_PUB33_LEN;
    return secp256k1_ec_pubkey_create(ctx(), &pk, seckey) &&
           secp256k1_ec_pubkey_serialize(ctx(), pub33, &len, &pk, SECP256K1_EC_COMPRESSED);
}

int wn_schnorr_sign_msg(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN],
                        const uint8_t *msg, size_t len, const uint8_t *aux32)
{
    secp256k1_keypair kp;
    uint8_t aux[32];
    if (aux32) memcpy(aux, aux32, 32);
    else if (!os_random(aux, 32)) return 0;
    if (!secp256k1_keypair_create(ctx(), &kp, seckey)) return 0;
    secp256k1_schnorrsig_extraparams ep = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    ep.ndata = aux;
    int ok = secp256k1_schnorrsig_sign_custom(ctx(), sig, msg, len, &kp, &ep);
    memset(&kp, 0, sizeof kp);
    return ok;
}

int wn_schnorr_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN],
                    const uint8_t digest[32], const uint8_t *aux32)
{
    return wn_schnorr_sign_msg(sig, seckey, digest, 32, aux32);
}

int wn_schnorr_verify_msg(const uint8_t sig[WN_SIG_LEN], const uint8_t *msg, size_t len,
                          const uint8_t xonly[WN_XONLY_LEN])
{
    secp256k1_xonly_pubkey xp;
    if (!secp256k1_xonly_pubkey_parse(ctx(), &xp, xonly)) return 0;
    return secp256k1_schnorrsig_verify(ctx(), sig, msg, len, &xp);
}

int wn_schnorr_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                      const uint8_t xonly[WN_XONLY_LEN])
{
    return wn_schnorr_verify_msg(sig, digest, 32, xonly);
}

int wn_sign_tagged(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN], const char *tag,
                   const void *msg, size_t len)
{
    uint8_t d[32];
    wn_tagged_hash(d, tag, msg, len);
    return wn_schnorr_sign(sig, seckey, d, NULL);
}

int wn_verify_tagged(const uint8_t sig[WN_SIG_LEN], const uint8_t xonly[WN_XONLY_LEN], const char *tag,
                     const void *msg, size_t len)
{
    uint8_t d[32];
    wn_tagged_hash(d, tag, msg, len);
    return wn_schnorr_verify(sig, d, xonly);
}

_Static_assert(sizeof(wn_signer) >= sizeof(secp256k1_keypair), "wn_signer too small");

int wn_signer_init(wn_signer *s, const uint8_t seckey[WN_SECKEY_LEN])
{
    return secp256k1_keypair_create(ctx(), (secp256k1_keypair *)s, seckey);
}

int wn_signer_sign(const wn_signer *s, uint8_t sig[WN_SIG_LEN], const uint8_t digest[32], const uint8_t *aux32)
{
    uint8_t aux[32];
    if (aux32) memcpy(aux, aux32, 32);
    else if (!os_random(aux, 32)) return 0;
    return secp256k1_schnorrsig_sign32(ctx(), sig, digest, (const secp256k1_keypair *)s, aux);
}

void wn_signer_clear(wn_signer *s)
{
    volatile unsigned char *p = s->opaque;
    for (size_t i = 0; i < sizeof s->opaque; i++) p[i] = 0;
}

int wn_ecdsa_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                    const uint8_t *pub, size_t publen)
{
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature s;
    if (!secp256k1_ec_pubkey_parse(ctx(), &pk, pub, publen)) return 0;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx(), &s, sig)) return 0;
    /* secp256k1_ecdsa_verify itself rejects high-S (non-normalised) signatures. */
    return secp256k1_ecdsa_verify(ctx(), &s, digest, &pk);
}

int wn_ecdsa_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN], const uint8_t digest[32])
{
    secp256k1_ecdsa_signature s;
    return secp256k1_ecdsa_sign(ctx(), &s, digest, seckey, NULL, NULL) &&
           secp256k1_ecdsa_signature_serialize_compact(ctx(), sig, &s);
}

int wn_xonly_valid(const uint8_t xonly[WN_XONLY_LEN])
{
    secp256k1_xonly_pubkey xp;
    return secp256k1_xonly_pubkey_parse(ctx(), &xp, xonly);
}
