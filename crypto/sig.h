/* sig.h — secp256k1 keys and signatures through libsecp256k1.
 *
 * BIP-340 Schnorr signs and verifies 32-byte digests; every WaterNotary object is signed
 * as the BIP-340 tagged hash of its canonical bytes under the object's own tag (WN_TAG_*),
 * so a signature made for one kind of object never verifies as another.
 * ECDSA (SHA-256 digest, low-S, 64-byte compact r||s) is verify-only, for meters whose
 * secure element can do nothing else; signing exists for tests and simulators.
 *
 * All functions return 1 on success and 0 on failure. Verification results cannot be
 * ignored (WN_WARN_UNUSED). One secp256k1 context is created on first use and owned here. */
#ifndef WN_SIG_H
#define WN_SIG_H

#include <stddef.h>
#include <stdint.h>

#define WN_WARN_UNUSED __attribute__((warn_unused_result))

#define WN_SECKEY_LEN 32
#define WN_XONLY_LEN 32
#define WN_PUB33_LEN 33
#define WN_SIG_LEN 64

/* Domain-separation tags, one per kind of signed object (see docs/PROTOCOL.md). */
#define WN_TAG_READING    "WaterNotary/reading/v1"
#define WN_TAG_CHECKPOINT "WaterNotary/checkpoint/v1"
#define WN_TAG_RECEIPT    "WaterNotary/receipt/v1"
#define WN_TAG_ENROLMENT  "WaterNotary/enrolment/v1"
#define WN_TAG_REVOCATION "WaterNotary/revocation/v1"
#define WN_TAG_CERTIFICATE "WaterNotary/certificate/v1"
#define WN_TAG_TRANSFER   "WaterNotary/transfer/v1"
#define WN_TAG_RETIREMENT "WaterNotary/retirement/v1"
#define WN_TAG_METER_ID   "WaterNotary/meter-id/v1"  /* not signed: derives P-256 and SM2 meter ids */

/* Signature algorithm codes, as carried in readings and enrolments. */
/* 1 and 2 are secp256k1 (libsecp256k1); 3 and 4 are verified through OpenSSL EVP
 * (crypto/evp_ec.h): 3 ECDSA over NIST P-256 of the SHA-256 tagged digest, 4 SM2 with SM3
 * over the SM3 tagged digest (docs/PROTOCOL.md §1). */
enum wn_sig_alg { WN_ALG_BIP340 = 1, WN_ALG_ECDSA = 2, WN_ALG_P256 = 3, WN_ALG_SM2 = 4, WN_ALG_MAX = WN_ALG_SM2 };

/* Fills seckey with a valid secret key from the OS random source (getrandom).
 * Returns: 1 on success; 0 if the random source failed. */
int wn_seckey_generate(uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Returns: 1 if seckey is a valid secp256k1 secret key. */
int wn_seckey_valid(const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Out: xonly, the BIP-340 x-only public key of seckey.  Returns: 0 for an invalid key. */
int wn_seckey_xonly(uint8_t xonly[WN_XONLY_LEN], const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Out: pub33, the compressed (0x02/0x03 || x) public key of seckey. */
int wn_seckey_pub33(uint8_t pub33[WN_PUB33_LEN], const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* BIP-340 sign of a 32-byte digest. aux32 is fresh randomness or NULL (then drawn from
 * the OS). Returns: 1 on success. */
int wn_schnorr_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN],
                    const uint8_t digest[32], const uint8_t *aux32) WN_WARN_UNUSED;

/* BIP-340 sign of a message of any length (for the BIP-340 test vectors). */
int wn_schnorr_sign_msg(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN],
                        const uint8_t *msg, size_t len, const uint8_t *aux32) WN_WARN_UNUSED;

/* Returns: 1 if sig is a valid BIP-340 signature of digest by xonly. */
int wn_schnorr_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                      const uint8_t xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Same for a message of any length. */
int wn_schnorr_verify_msg(const uint8_t sig[WN_SIG_LEN], const uint8_t *msg, size_t len,
                          const uint8_t xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Tag-and-sign: signs wn_tagged_hash(tag, msg) with BIP-340. */
int wn_sign_tagged(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN], const char *tag,
                   const void *msg, size_t len) WN_WARN_UNUSED;
int wn_verify_tagged(const uint8_t sig[WN_SIG_LEN], const uint8_t xonly[WN_XONLY_LEN], const char *tag,
                     const void *msg, size_t len) WN_WARN_UNUSED;

/* A signing key prepared once (libsecp256k1 keypair), for hot paths that sign many digests
 * with one key: it saves deriving the public key on every signature. */
typedef struct { unsigned char opaque[96]; } wn_signer;

/* Returns: 1 if seckey is valid and s is ready. */
int wn_signer_init(wn_signer *s, const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
/* BIP-340 signature of digest; aux32 as for wn_schnorr_sign (NULL: OS randomness). */
int wn_signer_sign(const wn_signer *s, uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                   const uint8_t *aux32) WN_WARN_UNUSED;
/* Wipes the key material. */
void wn_signer_clear(wn_signer *s);

/* ECDSA-secp256k1 verify of a 32-byte digest, compact 64-byte r||s signature.
 * pub is 33 (compressed) or 65 (uncompressed) bytes. High-S signatures are rejected.
 * Returns: 1 if valid. */
int wn_ecdsa_verify(const uint8_t sig[WN_SIG_LEN], const uint8_t digest[32],
                    const uint8_t *pub, size_t publen) WN_WARN_UNUSED;

/* ECDSA sign (RFC 6979 nonces, low-S) — for tests and simulated ECDSA meters. */
int wn_ecdsa_sign(uint8_t sig[WN_SIG_LEN], const uint8_t seckey[WN_SECKEY_LEN],
                  const uint8_t digest[32]) WN_WARN_UNUSED;

/* Returns: 1 if xonly is a valid x-only public key (a point on the curve). */
int wn_xonly_valid(const uint8_t xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

#endif
