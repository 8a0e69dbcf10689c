/* encoding.h — strict hex and base64 codecs, and big-endian integer helpers.
 *
 * Decoders are strict because encoded forms are signed or compared byte for byte:
 * hex is lowercase only; base64 is RFC 4648 standard alphabet with '=' padding and
 * canonical trailing bits (the one encoding that re-encodes to the same text). */
#ifndef WN_ENCODING_H
#define WN_ENCODING_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex chars and a NUL to out (size >= 2*len+1). */
void wn_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decodes exactly 2*outlen lowercase hex chars from in[0..inlen).
 * Returns: 1 if inlen == 2*outlen and every char is [0-9a-f]; 0 otherwise. */
int wn_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

/* Length of the base64 text for n bytes, without NUL. */
#define WN_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes base64 of in[0..len) and a NUL to out (size >= WN_B64_LEN(len)+1).
 * Returns: the text length. */
size_t wn_base64_encode(char *out, const uint8_t *in, size_t len);

/* Strict base64 decode of in[0..inlen) into out (capacity outcap).
 * Returns: 1 and *outlen on success; 0 for bad length, bad chars, bad padding,
 * non-canonical trailing bits, whitespace, or a result larger than outcap. */
int wn_base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

/* Strict unsigned decimal of exactly s[0..n): digits only, no sign, no leading zeros
 * ("0" alone allowed), value fits u64. Returns: 1 and *out on success; 0 otherwise. */
int wn_decimal_u64(const char *s, size_t n, uint64_t *out);

static inline void wn_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wn_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void wn_put_u64(uint8_t *p, uint64_t v) { wn_put_u32(p, (uint32_t)(v >> 32)); wn_put_u32(p + 4, (uint32_t)v); }
static inline uint16_t wn_get_u16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t wn_get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t wn_get_u64(const uint8_t *p) { return ((uint64_t)wn_get_u32(p) << 32) | wn_get_u32(p + 4); }

#endif
