/* jsondoc.c — strict JSON documents for claims and policies (see jsondoc.h). cJSON does the
 * parsing; a lexical pass first refuses what it would silently accept or change. */
#include "savings/jsondoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/strict_json.h"

static int fail(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *detail, size_t cap, const char *fmt, ...)
{
    if (detail && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, cap, fmt, ap);
        va_end(ap);
    }
    return 0;
}


cJSON *wn_jd_parse(const char *text, size_t len, char *detail, size_t cap)
{
    cJSON *root = wn_json_parse_strict(text, len, detail, cap); /* the JSON integer rule, once */
    if (root && !cJSON_IsObject(root)) {
        fail(detail, cap, "JSON text: not an object");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int wn_jd_members(const cJSON *obj, const char *const *names, const cJSON **items, size_t n, char *detail,
                  size_t cap)
{
    const char *bad, *why;
    if (!cJSON_IsObject(obj)) return fail(detail, cap, "expected a JSON object");
    if (wn_json_members(obj, names, items, n, &bad, &why)) return fail(detail, cap, "%s: %s", bad, why);
    return 1;
}

int wn_jd_text(const cJSON *item, const char *name, size_t min, size_t max, char *out, char *detail, size_t cap)
{
    if (!cJSON_IsString(item)) return fail(detail, cap, "%s: not a string", name);
    size_t n = strlen(item->valuestring);
    if (n < min || n > max || !wn_text_ok(item->valuestring, n))
        return fail(detail, cap, "%s: must be %zu..%zu bytes of UTF-8 without control characters", name, min, max);
    memcpy(out, item->valuestring, n + 1);
    return 1;
}

int wn_jd_u64(const cJSON *item, const char *name, uint64_t max, uint64_t *out, char *detail, size_t cap)
{
    /* the lexical pass let only JSON integers through, so a double this small is exact */
    if (!wn_json_uint(item, max, out))
        return fail(detail, cap, "%s: must be a whole number from 0 to %llu", name, (unsigned long long)max);
    return 1;
}

int wn_jd_bool(const cJSON *item, const char *name, int *out, char *detail, size_t cap)
{
    if (!cJSON_IsBool(item)) return fail(detail, cap, "%s: must be true or false", name);
    *out = cJSON_IsTrue(item);
    return 1;
}

int wn_jd_fixed(const cJSON *item, const char *name, unsigned scale, uint64_t max, uint64_t *out, char *detail,
                size_t cap)
{
    int64_t v;
    unsigned sc;
    if (!cJSON_IsString(item) || !wn_decimal_parse(item->valuestring, strlen(item->valuestring), &v, &sc) ||
        sc != scale || v < 0 || (uint64_t)v > max)
        return fail(detail, cap, "%s: must be a string with a non-negative decimal and exactly %u digits after the point",
                    name, scale);
    *out = (uint64_t)v;
    return 1;
}

int wn_jd_time(const cJSON *item, const char *name, uint64_t *ms, char *detail, size_t cap)
{
    if (!cJSON_IsString(item) || !wn_time_parse(item->valuestring, strlen(item->valuestring), ms))
        return fail(detail, cap, "%s: must be a time like 2025-01-01T00:00:00.000Z", name);
    return 1;
}

int wn_jd_hex(const cJSON *item, const char *name, uint8_t *out, size_t n, char *detail, size_t cap)
{
    if (!wn_json_hex(item, out, n)) return fail(detail, cap, "%s: must be %zu lowercase hex characters", name, 2 * n);
    return 1;
}

char *wn_fixed_format(char out[48], __int128 v, unsigned scale)
{
    char digits[48];
    size_t n = 0;
    unsigned __int128 u = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u || n <= scale);
    size_t k = 0;
    if (v < 0) out[k++] = '-';
    while (n > 0) {
        out[k++] = digits[--n];
        if (n == scale && scale > 0) out[k++] = '.';
    }
    out[k] = '\0';
    return out;
}

/* ---- output buffer ---- */

static int sb_reserve(wn_sb *b, size_t more)
{
    if (b->oom) return 0;
    if (b->len + more + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void wn_sb_printf(wn_sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_reserve(b, (size_t)n)) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void wn_sb_json_str(wn_sb *b, const char *s)
{
    wn_sb_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') wn_sb_printf(b, "\\%c", *c);
        else if (*c < 0x20) wn_sb_printf(b, "\\u%04x", *c);
        else wn_sb_printf(b, "%c", *c);
    }
    wn_sb_printf(b, "\"");
}

void wn_sb_json_hex(wn_sb *b, const uint8_t *d, size_t n)
{
    wn_sb_printf(b, "\"");
    for (size_t i = 0; i < n; i++) wn_sb_printf(b, "%02x", d[i]);
    wn_sb_printf(b, "\"");
}

char *wn_sb_take(wn_sb *b)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom) free(b->p);
    if (p == NULL && !b->oom) p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
