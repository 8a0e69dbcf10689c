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
