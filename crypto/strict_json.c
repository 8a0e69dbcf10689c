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
