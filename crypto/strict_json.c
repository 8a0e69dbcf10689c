/* strict_json.c — shared helpers of the strict codecs (see strict_json.h). */
#include "crypto/strict_json.h"
#include "crypto/encoding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int wn_fail(char *detail, size_t cap, int err, const char *fmt, ...)
{
    if (detail && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, cap, fmt, ap);
        va_end(ap);
    }
    return err;
}

int wn_json_members(const cJSON *obj, const char *const *names, const cJSON **items, size_t n,
                    const char **bad_name, const char **why)
{
    for (size_t k = 0; k < n; k++) items[k] = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        size_t k = 0;
        while (k < n && !(c->string && strcmp(c->string, names[k]) == 0)) k++;
        if (k == n) { *bad_name = c->string ? c->string : "?"; *why = "unknown field"; return 1; }
        if (items[k]) { *bad_name = names[k]; *why = "duplicate field"; return 1; }
        items[k] = c;
    }
    for (size_t k = 0; k < n; k++)
        if (!items[k]) { *bad_name = names[k]; *why = "missing field"; return 1; }
    return 0;
}

int wn_json_hex(const cJSON *item, uint8_t *out, size_t n)
{
    return cJSON_IsString(item) && wn_hex_decode(out, n, item->valuestring, strlen(item->valuestring));
}

int wn_text_ok(const char *text, size_t n)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) { cp = c; k = 1; }
        else if (c >= 0xc2 && c <= 0xdf) { cp = c & 0x1fu; k = 2; }
        else if (c >= 0xe0 && c <= 0xef) { cp = c & 0x0fu; k = 3; }
        else if (c >= 0xf0 && c <= 0xf4) { cp = c & 0x07u; k = 4; }
        else return 0;
        if (n - i < k) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
        if (cp >= 0xd800 && cp <= 0xdfff) return 0;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 0;
        i += k;
    }
    return 1;
}

static int json_digit(char c) { return c >= '0' && c <= '9'; }

/* The JSON integer rule (docs/PROTOCOL.md, conventions), on the raw text: every number is
 * -?(0|[1-9][0-9]*) and not -0. Also what cJSON would blur: raw control characters or NUL,
 * "\u0000" escapes (cJSON cuts the string there).
 * Returns: NULL if the text is clean, else what is wrong, with *at where it starts. */
const char *wn_json_lexical_problem_at(const char *s, size_t len, size_t *at)
{
    size_t i = 0, start = 0;
    size_t dummy;
    if (!at) at = &dummy;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        *at = i;
        if (c == '\0') return "NUL byte in the text";
        if (c == '"') {
            for (i++;; i++) {
                if (i >= len) return "unterminated string";
                c = (unsigned char)s[i];
                if (c < 0x20) return "raw control character in a string";
                if (c == '"') break;
                if (c == '\\') {
                    if (i + 1 >= len) return "unterminated string";
                    if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
                        return "\\u0000 in a string";
                    i++; /* skip the escaped character; \uXXXX digits are plain text */
                }
            }
            i++;
        } else if (c == '-' || json_digit((char)c)) {
            start = i;
            if (s[i] == '-') i++;
            if (i >= len || !json_digit(s[i])) return "malformed number";
            if (s[i] == '0' && i + 1 < len && json_digit(s[i + 1])) return "not a JSON integer: a leading zero";
            if (s[i] == '0' && s[start] == '-' && !(i + 1 < len && (s[i + 1] == '.' || s[i + 1] == 'e' || s[i + 1] == 'E')))
                return "not a JSON integer: minus zero";
            while (i < len && json_digit(s[i])) i++;
            if (i < len && s[i] == '.') return "not a JSON integer: a fraction";
            if (i < len && (s[i] == 'e' || s[i] == 'E')) return "not a JSON integer: an exponent";
            if (i < len && (s[i] == '+' || s[i] == '-')) return "malformed number";
        } else {
            i++;
        }
    }
    return NULL;
}

const char *wn_json_lexical_problem(const char *s, size_t len)
{
    return wn_json_lexical_problem_at(s, len, NULL);
}

cJSON *wn_json_parse_strict(const char *text, size_t len, char *detail, size_t cap)
{
    size_t at = 0;
    const char *why = wn_json_lexical_problem_at(text, len, &at);
    if (why) {
        /* quote the offending token (up to 16 printable bytes) so the reader can find it */
        char tok[20];
        size_t k = 0;
        while (k < 16 && at + k < len) {
            char c = text[at + k];
            if (k && (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) break;
            tok[k++] = (c >= 0x20 && c < 0x7f) ? c : '?';
        }
        tok[k] = '\0';
        wn_fail(detail, cap, 0, "JSON text: %s at byte %zu (%s)", why, at, tok);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t near = end && end >= text ? (size_t)(end - text) : 0;
        wn_fail(detail, cap, 0, "JSON text: not valid JSON (near byte %zu)", near);
        return NULL;
    }
    size_t used = (size_t)(end - text);
    while (used < len && (text[used] == ' ' || text[used] == '\t' || text[used] == '\n' || text[used] == '\r'))
        used++;
    if (used != len) {
        wn_fail(detail, cap, 0, "JSON text: bytes after the JSON value (byte %zu)", used);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int wn_json_uint(const cJSON *item, uint64_t max, uint64_t *out)
{
    if (max > WN_JSON_INT_MAX) max = WN_JSON_INT_MAX;
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (!(d >= 0) || d > (double)max) return 0;
    uint64_t x = (uint64_t)d;
    if ((double)x != d) return 0;
    *out = x;
    return 1;
}
