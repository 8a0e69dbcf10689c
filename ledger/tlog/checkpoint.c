/* checkpoint.c — signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note, BIP-340).
 *
 * The note is parsed strictly, in one pass over bytes we check before trusting:
 *   1. the whole note: at most WN_CHECKPOINT_MAX bytes, valid UTF-8, no control character
 *      other than '\n', ends with '\n';
 *   2. the text: three lines (origin, size, base64 root), at most one extension line,
 *      which must be "commit-time <decimal ms>", then one blank line;
 *   3. one or more signature lines "— <name> <base64(key id || signature)>\n".
 * Verification looks only at lines whose name is the origin and whose key id is ours;
 * every such line must carry a 64-byte signature that verifies, and there must be one.
 * docs/PROTOCOL.md §4 is the contract. */
#include "ledger/tlog/checkpoint.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"

#include <stdio.h>
#include <string.h>

#define EM_DASH "\xe2\x80\x94" /* U+2014, starts every signature line */
#define SIG_PREFIX EM_DASH " "
#define SIG_PREFIX_LEN 4
#define ROOT_B64_LEN WN_B64_LEN(32)        /* 44 */
#define BLOB_LEN (4 + WN_SIG_LEN)          /* key id || BIP-340 signature */
#define TIME_PREFIX "commit-time "
#define TIME_PREFIX_LEN 12

const char *wn_checkpoint_strerror(int err)
{
    switch (err) {
    case WN_CHECKPOINT_OK: return "ok";
    case WN_CHECKPOINT_EFORMAT: return "malformed checkpoint note";
    case WN_CHECKPOINT_EORIGIN: return "checkpoint origin is empty, too long, malformed or not the expected one";
    case WN_CHECKPOINT_ENOSIG: return "no signature by the expected notary key";
    case WN_CHECKPOINT_ESIG: return "the notary's signature does not verify";
    case WN_CHECKPOINT_ESPACE: return "output buffer too small";
    case WN_CHECKPOINT_EEXTENSION:
        return "checkpoint extension line other than one \"commit-time <ms>\" line (docs/PROTOCOL.md section 4)";
    }
    return "unknown checkpoint error";
}

/* Length of the UTF-8 sequence at s[0..n) if it is a well-formed, non-control scalar
 * value other than the newline; 0 otherwise. Rejects C0/C1 controls, DEL, overlong forms,
 * surrogates and values above U+10FFFF. Out: *cp, the code point. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        if (c < 0x20 || c == 0x7f) return 0;
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; v = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; v = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    if (v >= 0x80 && v <= 0x9f) return 0; /* C1 controls */
    *cp = v;
    return len;
}

/* Returns: 1 if s[0..n) is valid UTF-8 where every line ends in '\n' and nothing else is a
 * control character. */
static int text_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] == '\n') { i++; continue; }
        uint32_t cp;
        size_t l = utf8_char(u + i, n - i, &cp);
        if (!l) return 0;
        i += l;
    }
    return 1;
}

/* Unicode White_Space code points (signed-note forbids them in key names). */
static int is_space(uint32_t cp)
{
    return cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* Returns: 1 if s[0..n) is a valid signed-note key name (and so a valid origin):
 * non-empty, at most WN_ORIGIN_MAX bytes, UTF-8 without controls, spaces or '+'. */
static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > WN_ORIGIN_MAX) return 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_char(u + i, n - i, &cp);
        if (!l || cp == '+' || is_space(cp)) return 0;
        i += l;
    }
    return 1;
}

void wn_note_keyid(uint8_t id[4], const char *name, const uint8_t xonly[WN_XONLY_LEN])
{
    static const uint8_t sep[] = {0x0a, 0xff};
    uint8_t h[32];
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    wn_sha256_update(&c, name, strlen(name));
    wn_sha256_update(&c, sep, sizeof sep);
    wn_sha256_update(&c, WN_NOTE_SIG_ID, strlen(WN_NOTE_SIG_ID));
    wn_sha256_update(&c, xonly, WN_XONLY_LEN);
    wn_sha256_final(&c, h);
    memcpy(id, h, 4);
}

/* Position of the first '\n' in s[from..n), or n. */
static size_t line_end(const char *s, size_t from, size_t n)
{
    const char *p = memchr(s + from, '\n', n - from);
    return p ? (size_t)(p - s) : n;
}

int wn_checkpoint_parse(const char *note, size_t len, wn_checkpoint *cp, size_t *text_len)
{
    if (!note || len == 0 || len > WN_CHECKPOINT_MAX || note[len - 1] != '\n') return WN_CHECKPOINT_EFORMAT;
    if (!text_ok(note, len)) return WN_CHECKPOINT_EFORMAT;

    /* Text: exactly three lines. */
    size_t e1 = line_end(note, 0, len);
    if (e1 >= len) return WN_CHECKPOINT_EFORMAT;
    size_t e2 = line_end(note, e1 + 1, len);
    if (e2 >= len) return WN_CHECKPOINT_EFORMAT;
    size_t e3 = line_end(note, e2 + 1, len);
    if (e3 >= len) return WN_CHECKPOINT_EFORMAT;
    if (!name_ok(note, e1)) return WN_CHECKPOINT_EORIGIN;
    wn_checkpoint c;
    memcpy(c.origin, note, e1);
    c.origin[e1] = '\0';
    if (!wn_decimal_u64(note + e1 + 1, e2 - e1 - 1, &c.size)) return WN_CHECKPOINT_EFORMAT;
    size_t rootlen;
    if (e3 - e2 - 1 != ROOT_B64_LEN ||
        !wn_base64_decode(c.root, sizeof c.root, &rootlen, note + e2 + 1, ROOT_B64_LEN) || rootlen != 32)
        return WN_CHECKPOINT_EFORMAT;
    /* Then at most one extension line, the commit time, then a blank line. */
    size_t pos = e3 + 1, text_end = e3 + 1;
    c.has_time = 0;
    c.time_ms = 0;
    if (pos < len && note[pos] != '\n') {
        size_t e4 = line_end(note, pos, len);
        if (e4 >= len) return WN_CHECKPOINT_EFORMAT;
        if (e4 - pos <= TIME_PREFIX_LEN || memcmp(note + pos, TIME_PREFIX, TIME_PREFIX_LEN) != 0 ||
            !wn_decimal_u64(note + pos + TIME_PREFIX_LEN, e4 - pos - TIME_PREFIX_LEN, &c.time_ms) ||
            c.time_ms > WN_CHECKPOINT_TIME_MAX)
            return WN_CHECKPOINT_EEXTENSION;
        c.has_time = 1;
        pos = text_end = e4 + 1;
        if (pos < len && note[pos] != '\n') return WN_CHECKPOINT_EEXTENSION; /* a second one */
    }
    if (pos >= len || note[pos] != '\n') return WN_CHECKPOINT_EFORMAT;
    pos++;

    /* Signature lines: "— <name> <base64 of at least key id + 1 byte>". */
    if (pos >= len) return WN_CHECKPOINT_EFORMAT;
    while (pos < len) {
        size_t end = line_end(note, pos, len);
        const char *l = note + pos;
        size_t n = end - pos;
        if (n < SIG_PREFIX_LEN || memcmp(l, SIG_PREFIX, SIG_PREFIX_LEN) != 0) return WN_CHECKPOINT_EFORMAT;
        const char *name = l + SIG_PREFIX_LEN;
        const char *sp = memchr(name, ' ', n - SIG_PREFIX_LEN);
        if (!sp || !name_ok(name, (size_t)(sp - name))) return WN_CHECKPOINT_EFORMAT;
        const char *b64 = sp + 1;
        size_t b64len = (size_t)(l + n - b64);
        uint8_t blob[WN_CHECKPOINT_MAX];
        size_t bloblen;
        if (!wn_base64_decode(blob, sizeof blob, &bloblen, b64, b64len) || bloblen < 5)
            return WN_CHECKPOINT_EFORMAT;
        pos = end + 1;
    }
    if (cp) *cp = c;
    if (text_len) *text_len = text_end;
    return WN_CHECKPOINT_OK;
}

int wn_checkpoint_verify(const char *note, size_t len, const char *expected_origin,
                         const uint8_t xonly[WN_XONLY_LEN], wn_checkpoint *cp)
{
    wn_checkpoint c;
    size_t text_len;
    int err = wn_checkpoint_parse(note, len, &c, &text_len);
    if (err) return err;
    if (expected_origin && strcmp(expected_origin, c.origin) != 0) return WN_CHECKPOINT_EORIGIN;
    uint8_t id[4];
    wn_note_keyid(id, c.origin, xonly);
    size_t olen = strlen(c.origin);

    int found = 0;
    size_t pos = text_len + 1;
    while (pos < len) {
        size_t end = line_end(note, pos, len);
        const char *name = note + pos + SIG_PREFIX_LEN;
        const char *b64 = name + olen + 1;
        /* Parse checked the line's shape; is it the expected key's? */
        if (b64 <= note + end && memcmp(name, c.origin, olen) == 0 && name[olen] == ' ') {
            uint8_t blob[WN_CHECKPOINT_MAX];
            size_t bloblen;
            if (wn_base64_decode(blob, sizeof blob, &bloblen, b64, (size_t)(note + end - b64)) &&
                bloblen >= 4 && memcmp(blob, id, 4) == 0) {
                if (bloblen != BLOB_LEN ||
                    !wn_verify_tagged(blob + 4, xonly, WN_TAG_CHECKPOINT, note, text_len))
                    return WN_CHECKPOINT_ESIG;
                found = 1;
            }
        }
        pos = end + 1;
    }
    if (!found) return WN_CHECKPOINT_ENOSIG;
    if (cp) *cp = c;
    return WN_CHECKPOINT_OK;
}

int wn_checkpoint_sign(const wn_checkpoint *cp, const uint8_t seckey[WN_SECKEY_LEN], char *out,
                       size_t cap, size_t *len)
{
    size_t olen = strnlen(cp->origin, sizeof cp->origin);
    if (olen >= sizeof cp->origin || !name_ok(cp->origin, olen)) return WN_CHECKPOINT_EORIGIN;
    uint8_t xonly[WN_XONLY_LEN];
    if (!wn_seckey_xonly(xonly, seckey)) return WN_CHECKPOINT_ESIG;

    char root[ROOT_B64_LEN + 1];
    wn_base64_encode(root, cp->root, 32);
    if (cp->has_time && cp->time_ms > WN_CHECKPOINT_TIME_MAX) return WN_CHECKPOINT_EEXTENSION;
    char text[WN_ORIGIN_MAX + 1 + 20 + 1 + ROOT_B64_LEN + 1 + TIME_PREFIX_LEN + 20 + 2];
    int tl = snprintf(text, sizeof text, "%s\n%llu\n%s\n", cp->origin, (unsigned long long)cp->size, root);
    if (tl < 0 || (size_t)tl >= sizeof text) return WN_CHECKPOINT_EFORMAT;
    if (cp->has_time) {
        int el = snprintf(text + tl, sizeof text - (size_t)tl, TIME_PREFIX "%llu\n", (unsigned long long)cp->time_ms);
        if (el < 0 || (size_t)el >= sizeof text - (size_t)tl) return WN_CHECKPOINT_EFORMAT;
        tl += el;
    }

    uint8_t blob[BLOB_LEN];
    wn_note_keyid(blob, cp->origin, xonly);
    if (!wn_sign_tagged(blob + 4, seckey, WN_TAG_CHECKPOINT, text, (size_t)tl)) return WN_CHECKPOINT_ESIG;
    char sig[WN_B64_LEN(BLOB_LEN) + 1];
    wn_base64_encode(sig, blob, sizeof blob);

    int n = snprintf(out, cap, "%s\n" SIG_PREFIX "%s %s\n", text, cp->origin, sig);
    if (n < 0 || (size_t)n >= cap) return WN_CHECKPOINT_ESPACE;
    if (len) *len = (size_t)n;
    return WN_CHECKPOINT_OK;
}
