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


/* What cJSON would blur: raw control characters or NUL, "\u0000" escapes (cJSON cuts the
 * string there), and numbers that are not plain integers (-?(0|[1-9][0-9]*)): the only
 * numbers in a reading are integers, and 1.0 or 1e0 would otherwise pass as 1.
 * Returns: NULL if the text is clean, else what is wrong. */
const char *wn_json_lexical_problem(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
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
            if (s[i] == '-') i++;
            if (i >= len || !json_digit(s[i])) return "malformed number";
            if (s[i] == '0' && i + 1 < len && json_digit(s[i + 1])) return "number with a leading zero";
            while (i < len && json_digit(s[i])) i++;
            if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
                return "number that is not a plain integer";
        } else {
            i++;
        }
    }
    return NULL;
}
