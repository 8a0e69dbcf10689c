/* record_text.c — text fields of signed records, binary and JSON (record_text.h). */
#include "protocol/record_text.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "crypto/strict_json.h"

int wn_rec_text_ok(const char *s, size_t min, size_t max)
{
    size_t n = strnlen(s, max + 1);
    return n >= min && n <= max && wn_text_ok(s, n);
}

void wn_rec_put_text(uint8_t **w, const char *s)
{
    size_t n = strlen(s);
    *(*w)++ = (uint8_t)n;
    memcpy(*w, s, n);
    *w += n;
}

int wn_rec_get_text(const uint8_t **p, const uint8_t *end, char *out, size_t max)
{
    if (*p >= end) return 0;
    size_t n = *(*p)++;
    if (n > max || (size_t)(end - *p) < n) return 0;
    memcpy(out, *p, n);
    out[n] = '\0';
    if (memchr(out, 0, n)) return 0;
    *p += n;
    return 1;
}

int wn_rec_text_member(const void *cjson_item, char *out, size_t max)
{
    const cJSON *item = cjson_item;
    if (!cJSON_IsString(item)) return 0;
    size_t n = strlen(item->valuestring);
    if (n > max) return 0;
    memcpy(out, item->valuestring, n + 1);
    return 1;
}
