/* indicators.c — value added per enterprise and year, water per 10,000 CNY of it, and the
 * province of a credit code (indicators.h). */
#include "node/monitor/indicators.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/http/errors.h"
#include "node/log.h"

static int text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

int wn_monitor_set_value_added(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                               size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *ej = j ? cJSON_GetObjectItemCaseSensitive(j, "enterprise") : NULL;
    const cJSON *yj = j ? cJSON_GetObjectItemCaseSensitive(j, "year") : NULL;
    const cJSON *bj = j ? cJSON_GetObjectItemCaseSensitive(j, "by") : NULL;
    __int128 va = 0;
    int rc = WN_NE_BAD_REQUEST;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "expected {\"enterprise\":ID,\"year\":YYYY,\"value_added_10k_cny\":\"AMOUNT\",\"by\":NAME}");
        rc = WN_NE_MALFORMED_JSON;
    } else if (!cJSON_IsString(ej) || !*ej->valuestring || strlen(ej->valuestring) > WN_ENTERPRISE_MAX ||
               !text_ok(ej->valuestring)) {
        snprintf(detail, cap, "enterprise must be an enterprise id");
    } else if (!cJSON_IsNumber(yj) || yj->valuedouble < 1970 || yj->valuedouble > 9999 ||
               yj->valuedouble != (double)(int)yj->valuedouble) {
        snprintf(detail, cap, "year must be a whole year such as 2026");
    } else if (!mon_parse_amount(cJSON_GetObjectItemCaseSensitive(j, "value_added_10k_cny"), &va) || va <= 0) {
        snprintf(detail, cap, "value_added_10k_cny must be a positive decimal amount of 10,000 CNY, e.g. \"5230.5\"");
    } else if (!cJSON_IsString(bj) || !*bj->valuestring || strlen(bj->valuestring) > 64 || !text_ok(bj->valuestring)) {
        snprintf(detail, cap, "by must name who enters the figure (1 to 64 bytes, no control characters)");
    } else {
        const char *ent = ej->valuestring;
        uint8_t key[MON_ENT_MAX + 5];
        size_t nl = strlen(ent);
        memcpy(key, ent, nl);
        key[nl] = 0;
        wn_put_u32(key + nl + 1, (uint32_t)yj->valuedouble);
        char amt[48], t[25];
        mon_fmt_m3(amt, va); /* the same exact decimal format */
        wn_time_format(t, wn_now_ms());
        wn_buf b;
        wn_buf_init(&b);
        wn_buf_printf(&b, "{\"value_added_10k_cny\":\"%s\",\"by\":", amt);
        wn_buf_json_str(&b, bj->valuestring);
        wn_buf_printf(&b, ",\"token\":\"%s\",\"time\":\"%s\"}", who->token_id, t);
        size_t bl;
        char *text = wn_buf_take(&b, &bl);
        if (text && wn_bureau_put(m->bureau, WN_BT_VALUE_ADDED, key, nl + 5, text, bl)) rc = WN_NE_OK;
        else {
            snprintf(detail, cap, "the figure could not be stored");
            rc = WN_NE_INTERNAL;
        }
        free(text);
    }
    cJSON_Delete(j);
    return rc;
}

typedef struct {
    wn_monitor *m;
    wn_buf *b;
    const char *ent;
    size_t entlen;
    int first;
} va_ctx;

static int va_item(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    va_ctx *c = ctx;
    if (kl != c->entlen + 5) return 0;
    uint32_t year = wn_get_u32((const uint8_t *)k + c->entlen + 1);
    cJSON *j = cJSON_ParseWithLength(v, vl);
    __int128 va = 0;
    if (!j || !mon_parse_amount(cJSON_GetObjectItemCaseSensitive(j, "value_added_10k_cny"), &va) || va <= 0) {
        cJSON_Delete(j);
        return 0;
    }
    pthread_rwlock_rdlock(&c->m->lock);
    mon_ent *e = mon_ent_get(c->m, c->ent, 0);
    __int128 used = e ? mon_ent_year(e, year) : 0;
    pthread_rwlock_unlock(&c->m->lock);
    char amt[48], m3[48];
    mon_fmt_m3(amt, va);
    mon_fmt_m3(m3, used);
    wn_buf_printf(c->b, "%s{\"year\":%u,\"value_added_10k_cny\":%s,\"intake_m3\":%s,\"m3_per_10k_cny\":", c->first ? "" : ",",
                  year, amt, m3);
    double r = mon_m3(used) / mon_m3(va);
    if (isfinite(r)) wn_buf_printf(c->b, "%.10g", r);
    else wn_buf_str(c->b, "null");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(j, "by"), *t = cJSON_GetObjectItemCaseSensitive(j, "time");
    wn_buf_str(c->b, ",\"by\":");
    wn_buf_json_str(c->b, cJSON_IsString(by) ? by->valuestring : "");
    wn_buf_str(c->b, ",\"time\":");
    wn_buf_json_str(c->b, cJSON_IsString(t) ? t->valuestring : "");
    wn_buf_str(c->b, "}");
    c->first = 0;
    cJSON_Delete(j);
    return 0;
}

void wn_monitor_value_added_json(wn_monitor *m, wn_buf *b, const char *ent)
{
    va_ctx c = {m, b, ent, strlen(ent), 1};
    wn_buf_str(b, ",\"value_added\":[");
    wn_bureau_each(m->bureau, WN_BT_VALUE_ADDED, ent, c.entlen + 1, va_item, &c);
    wn_buf_str(b, "]");
}

const char *wn_credit_code_province(const char *ent, char out[3])
{
    if (!ent || strlen(ent) != 18) return NULL;
    for (int i = 0; i < 18; i++) {
        char ch = ent[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z'))) return NULL;
    }
    if (ent[2] < '1' || ent[2] > '9' || ent[3] < '0' || ent[3] > '9') return NULL;
    out[0] = ent[2];
    out[1] = ent[3];
    out[2] = '\0';
    return out;
}
