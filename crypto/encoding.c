/* encoding.c — strict hex and base64 (base64 through OpenSSL's EVP_EncodeBlock and
 * EVP_DecodeBlock, with the strictness checks OpenSSL leaves out). */
#include "crypto/encoding.h"

#include <openssl/evp.h>
#include <string.h>

void wn_hex_encode(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int wn_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
    if (inlen != 2 * outlen) return 0;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

size_t wn_base64_encode(char *out, const uint8_t *in, size_t len)
{
    if (len == 0) { out[0] = '\0'; return 0; }
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int b64char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int wn_base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
    if (inlen % 4 != 0 || inlen > (size_t)1 << 30) return 0;
    if (inlen == 0) { *outlen = 0; return 1; }
    size_t pad = 0;
    if (in[inlen - 1] == '=') pad++;
    if (in[inlen - 2] == '=') pad++;
    for (size_t i = 0; i < inlen - pad; i++)
        if (!b64char(in[i])) return 0;
    size_t n = inlen / 4 * 3 - pad;
    if (n > outcap) return 0;
    uint8_t buf[768];
    uint8_t *tmp = inlen / 4 * 3 <= sizeof buf ? buf : NULL;
    if (!tmp) {
        tmp = OPENSSL_malloc(inlen / 4 * 3);
        if (!tmp) return 0;
    }
    int r = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
    int ok = r >= 0 && (size_t)r == inlen / 4 * 3;
    if (ok) {
        /* Canonical: re-encoding gives back exactly the input (no stray trailing bits). */
        char check[WN_B64_LEN(3) + 1];
        size_t last = (inlen / 4 - 1) * 3;
        wn_base64_encode(check, tmp + last, 3 - pad);
        ok = memcmp(check, in + inlen - 4, 4) == 0;
    }
    if (ok) { memcpy(out, tmp, n); *outlen = n; }
    if (tmp != buf) OPENSSL_free(tmp);
    return ok;
}

int wn_decimal_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}
