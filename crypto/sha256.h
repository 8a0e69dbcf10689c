/* sha256.h — SHA-256 and BIP-340 tagged hashes, from OpenSSL libcrypto.
 *
 * OpenSSL uses the CPU's SHA extensions where present; libsecp256k1's internal SHA-256
 * is several times slower, so every hash in WaterNotary goes through here. */
#ifndef WN_SHA256_H
#define WN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define WN_HASH_LEN 32

/* Incremental SHA-256. The struct is opaque storage big enough for OpenSSL's state. */
typedef struct { uint64_t opaque[16]; } wn_sha256_ctx;

void wn_sha256_init(wn_sha256_ctx *ctx);
void wn_sha256_update(wn_sha256_ctx *ctx, const void *data, size_t len);
void wn_sha256_final(wn_sha256_ctx *ctx, uint8_t out[WN_HASH_LEN]);

/* One-shot SHA-256 of data[0..len). */
void wn_sha256(uint8_t out[WN_HASH_LEN], const void *data, size_t len);

/* One-shot SHA-256 of a || b (either may have length 0). */
void wn_sha256_2(uint8_t out[WN_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen);

/* BIP-340 tagged hash: SHA-256(SHA-256(tag) || SHA-256(tag) || msg).
 * Every kind of signed object has its own tag (see wn_tag in sig.h), so a signature
 * made for one kind can never be taken for another. */
void wn_tagged_hash(uint8_t out[WN_HASH_LEN], const char *tag, const void *msg, size_t len);

#endif
