/* verifier.h — public keys parsed once, for checking many signatures by the same key.
 *
 * Turning 32 or 33 key bytes into a curve point costs a field square root, about a tenth
 * of a signature verification, and wn_schnorr_verify / wn_ecdsa_verify (sig.h) pay it on
 * every call. An audit checks every reading of a meter with the same enrolled key, so it
 * parses each key once into a wn_verifier and verifies with that. The rules are exactly
 * sig.h's: BIP-340 over a 32-byte digest; ECDSA with a 33-byte compressed key and a
 * compact low-S r || s signature (high-S is invalid). Verification only; no secret keys.
 * P-256 and SM2 keys (crypto/evp_ec.h) are kept decompressed, with SM2's Z_A, so each
 * verification skips the square root and the Z_A hash.
 * A wn_verifier is plain data: copy it freely and share it between threads. */
#ifndef WN_VERIFIER_H
#define WN_VERIFIER_H

#include <stdint.h>

#include "crypto/sig.h"

typedef struct {
    unsigned char point[64]; /* libsecp256k1's parsed public key */
    uint8_t alg;             /* enum wn_sig_alg */
    uint8_t pub65[65];       /* P-256 and SM2: the point, decompressed once */
    uint8_t z[32];           /* SM2: Z_A of the key and the default distinguishing id */
} wn_verifier;

/* Prepares a BIP-340 key. Returns: 1 if xonly is a valid x-only key; 0 otherwise. */
int wn_verifier_bip340(wn_verifier *v, const uint8_t xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Prepares an ECDSA key. Returns: 1 if pub33 is a valid compressed key (0x02/0x03 || x). */
int wn_verifier_ecdsa(wn_verifier *v, const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;

/* Prepares a P-256 or SM2 key (alg WN_ALG_P256 / WN_ALG_SM2). Returns: 1 if pub33 is a
 * valid compressed point of that curve. */
int wn_verifier_evp(wn_verifier *v, uint8_t alg, const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;

/* Returns: 1 if sig is a valid signature of digest under v's key and algorithm (for SM2,
 * digest is the message M that was signed: e = SM3(Z_A || M) is computed here). */
int wn_verifier_verify(const wn_verifier *v, const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32]) WN_WARN_UNUSED;

#endif
