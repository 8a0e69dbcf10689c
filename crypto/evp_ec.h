/* evp_ec.h — ECDSA over NIST P-256 and SM2 (GB/T 32918) signatures through OpenSSL 3's EVP
 * interface, for meters whose secure element signs with one of them (ATECC608, SE050,
 * OPTIGA Trust M: P-256; Chinese secure elements: SM2), and the SM3 hash (GB/T 32905).
 *
 * Keys are 32-byte secret scalars and 33-byte compressed public points (0x02/0x03 || x);
 * signatures are 64 bytes r || s, each big-endian in [1, n-1].
 * - P-256 signs a 32-byte digest as it is (the element is given the digest); the
 *   signature must be low-S (s <= n/2): wn_p256_sign normalises, verification refuses
 *   high S, so a signature has one form only (as for secp256k1 ECDSA).
 * - SM2 signs a message M with the distinguishing id (GB/T 35276's default
 *   "1234567812345678" unless told otherwise): e = SM3(Z_A || M), Z_A = SM3(ENTL || ID ||
 *   a || b || xG || yG || xA || yA) as GB/T 32918.2 says; an element that takes e instead of
 *   M is given the e of wn_sm2_digest. SM2 has no low-S rule: (r, n - s) is not a valid
 *   signature of the same message, so it has no second form to refuse.
 *
 * All functions return 1 on success and 0 on failure; verification results cannot be
 * ignored. Nothing is allocated that outlives a call. */
#ifndef WN_EVP_EC_H
#define WN_EVP_EC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_SM2_DEFAULT_ID "1234567812345678"

/* ---- P-256 ---- */
/* A fresh valid secret key from the OS random source. */
int wn_p256_seckey_generate(uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
/* Out: pub33, the compressed public key of seckey. Returns: 0 if seckey is not in [1, n-1]. */
int wn_p256_pub33(uint8_t pub33[WN_PUB33_LEN], const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
/* Returns: 1 if pub33 is a point of P-256 in compressed form. */
int wn_p256_pub_valid(const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;
/* Low-S ECDSA signature of a 32-byte digest. */
int wn_p256_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN], const uint8_t digest[32]) WN_WARN_UNUSED;
/* Returns: 1 if sig is a valid low-S signature of digest by pub33. */
int wn_p256_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32], const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;
/* The same without the low-S rule (for the published test vectors, which accept high S). */
int wn_p256_verify_any_s(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                         const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;

/* ---- SM2 / SM3 ---- */
/* Out: out = SM3(data). */
int wn_sm3(uint8_t out[32], const void *data, size_t len) WN_WARN_UNUSED;
/* Out: out = SM3(SM3(tag) || SM3(tag) || msg): the tagged hash of PROTOCOL §1 with SM3. */
int wn_sm3_tagged(uint8_t out[32], const char *tag, const void *msg, size_t len) WN_WARN_UNUSED;
int wn_sm2_seckey_generate(uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
int wn_sm2_pub33(uint8_t pub33[WN_PUB33_LEN], const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
int wn_sm2_pub_valid(const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;
/* Out: e = SM3(Z_A || msg) for the key pub33 and the distinguishing id. */
int wn_sm2_digest(uint8_t e[32], const uint8_t pub33[WN_PUB33_LEN], const char *id, const void *msg,
                  size_t len) WN_WARN_UNUSED;
/* SM2 signature of msg under the distinguishing id (NULL: WN_SM2_DEFAULT_ID). */
int wn_sm2_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN], const char *id, const void *msg,
                size_t len) WN_WARN_UNUSED;
int wn_sm2_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t pub33[WN_PUB33_LEN], const char *id, const void *msg,
                  size_t len) WN_WARN_UNUSED;
/* Verifies a signature of a precomputed e (what an element that hashes itself signs). */
int wn_sm2_verify_digest(const uint8_t sig[WN_SIG_LEN], const uint8_t e[32],
                         const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;

/* ---- keys prepared once (crypto/verifier.h), for verifying many signatures ---- */
/* Out: pub65, the uncompressed point (04 || x || y) of a valid compressed key. */
int wn_p256_pub65(uint8_t pub65[65], const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;
int wn_sm2_pub65(uint8_t pub65[65], const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;
/* Out: z = Z_A of the key and distinguishing id (NULL: the default). */
int wn_sm2_z(uint8_t z[32], const uint8_t pub33[WN_PUB33_LEN], const char *id) WN_WARN_UNUSED;
/* Out: e = SM3(z || msg). */
int wn_sm2_e(uint8_t e[32], const uint8_t z[32], const void *msg, size_t len) WN_WARN_UNUSED;
/* Verification with a prepared key: the same results as wn_p256_verify / wn_sm2_verify. */
int wn_p256_verify_pub65(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32], const uint8_t pub65[65]) WN_WARN_UNUSED;
int wn_sm2_verify_pub65(const uint8_t sig[WN_SIG_LEN], const uint8_t z[32], const uint8_t pub65[65], const void *msg,
                        size_t len) WN_WARN_UNUSED;

/* ---- encodings shared with the tests ---- */
/* r || s (64 bytes) to ASN.1 DER and back. der2rs refuses values over 32 bytes. */
int wn_ec_sig_to_der(uint8_t *der, size_t cap, size_t *len, const uint8_t sig[WN_SIG_LEN]) WN_WARN_UNUSED;
int wn_ec_sig_from_der(uint8_t sig[WN_SIG_LEN], const uint8_t *der, size_t len) WN_WARN_UNUSED;

#endif
