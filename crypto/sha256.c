/* sha256.c — SHA-256 through OpenSSL's low-level SHA256_* functions.
 *
 * OpenSSL 3.0 marks SHA256_Init/Update/Final deprecated in favour of EVP, but EVP's
 * per-call dispatch costs more than hashing a 65-byte Merkle node. The low-level
 * functions run the same SHA-NI code, so we use them and silence the deprecation here only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto/sha256.h"

#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(wn_sha256_ctx) >= sizeof(SHA256_CTX), "wn_sha256_ctx too small");

void wn_sha256_init(wn_sha256_ctx *ctx) { SHA256_Init((SHA256_CTX *)ctx); }

void wn_sha256_update(wn_sha256_ctx *ctx, const void *data, size_t len)
{
    if (len) SHA256_Update((SHA256_CTX *)ctx, data, len);
}

void wn_sha256_final(wn_sha256_ctx *ctx, uint8_t out[WN_HASH_LEN])
{
    SHA256_Final(out, (SHA256_CTX *)ctx);
}

/* Not OpenSSL's one-shot SHA256(): in 3.0 it goes through EVP_Q_digest, which fetches
 * the algorithm and allocates on every call (3 mallocs, ~5x slower for short inputs). */
void wn_sha256(uint8_t out[WN_HASH_LEN], const void *data, size_t len)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (len) SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void wn_sha256_2(uint8_t out[WN_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    if (alen) SHA256_Update(&c, a, alen);
    if (blen) SHA256_Update(&c, b, blen);
    SHA256_Final(out, &c);
}

void wn_tagged_hash(uint8_t out[WN_HASH_LEN], const char *tag, const void *msg, size_t len)
{
    uint8_t th[WN_HASH_LEN];
    SHA256_CTX c;
    wn_sha256(th, tag, strlen(tag));
    SHA256_Init(&c);
    SHA256_Update(&c, th, sizeof th);
    SHA256_Update(&c, th, sizeof th);
    if (len) SHA256_Update(&c, msg, len);
    SHA256_Final(out, &c);
}
