/* verifier.c — prepared public keys (verifier.h) on libsecp256k1's static context, which
 * can parse keys and verify signatures (it cannot sign); sig.c's context is for signing.
 * The library's self test runs once before the first use, as its manual asks. */
#include "crypto/verifier.h"

#include "crypto/evp_ec.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <string.h>

_Static_assert(sizeof(secp256k1_xonly_pubkey) <= sizeof(((wn_verifier *)0)->point), "wn_verifier too small");
_Static_assert(sizeof(secp256k1_pubkey) <= sizeof(((wn_verifier *)0)->point), "wn_verifier too small");

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void selftest(void) { secp256k1_selftest(); }

static const secp256k1_context *ctx(void)
{
    pthread_once(&g_once, selftest);
    return secp256k1_context_static;
}

int wn_verifier_bip340(wn_verifier *v, const uint8_t xonly[WN_XONLY_LEN])
{
    memset(v, 0, sizeof *v);
    if (!secp256k1_xonly_pubkey_parse(ctx(), (secp256k1_xonly_pubkey *)v->point, xonly)) return 0;
    v->alg = WN_ALG_BIP340;
    return 1;
}

int wn_verifier_ecdsa(wn_verifier *v, const uint8_t pub33[WN_PUB33_LEN])
{
    memset(v, 0, sizeof *v);
    if (pub33[0] != 0x02 && pub33[0] != 0x03) return 0;
    if (!secp256k1_ec_pubkey_parse(ctx(), (secp256k1_pubkey *)v->point, pub33, WN_PUB33_LEN)) return 0;
    v->alg = WN_ALG_ECDSA;
    return 1;
}

int wn_verifier_evp(wn_verifier *v, uint8_t alg, const uint8_t pub33[WN_PUB33_LEN])
{
    memset(v, 0, sizeof *v);
    if (alg == WN_ALG_P256 && wn_p256_pub65(v->pub65, pub33)) v->alg = alg;
    else if (alg == WN_ALG_SM2 && wn_sm2_pub65(v->pub65, pub33) && wn_sm2_z(v->z, pub33, NULL)) v->alg = alg;
    return v->alg != 0;
}

int wn_verifier_verify(const wn_verifier *v, const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32])
{
    if (v->alg == WN_ALG_P256) return wn_p256_verify_pub65(sig, digest, v->pub65);
    if (v->alg == WN_ALG_SM2) return wn_sm2_verify_pub65(sig, v->z, v->pub65, digest, 32);
    if (v->alg == WN_ALG_BIP340)
        return secp256k1_schnorrsig_verify(ctx(), sig, digest, 32, (const secp256k1_xonly_pubkey *)v->point);
    if (v->alg == WN_ALG_ECDSA) {
        secp256k1_ecdsa_signature s;
        if (!secp256k1_ecdsa_signature_parse_compact(ctx(), &s, sig)) return 0;
        /* secp256k1_ecdsa_verify rejects high-S (non-normalised) signatures itself. */
        return secp256k1_ecdsa_verify(ctx(), &s, digest, (const secp256k1_pubkey *)v->point);
    }
    return 0;
}
