/* monitor_conf.c — what the bureau and enterprises tell the monitor (see monitor.h):
 * alert thresholds, annual water plans per enterprise, production figures (for water per
 * unit product against the quota table below), and acknowledgements of alerts. Each is
 * stored durably in the bureau store (bureau.h) before it takes effect; thresholds,
 * plans and acknowledgements are also cached in memory. */
#include "node/monitor/monitor_conf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/http/errors.h"
#include "node/log.h"

/* The product catalogue (the quotas are in the page's quotas/PP.json, quota_files.h). */
static const wn_quota quotas[] = {
    {"crude_steel", "粗钢", "crude steel", "t"},
    {"petroleum_refining", "石油炼制", "petroleum refining", "t"},
    {"synthetic_ammonia", "合成氨", "synthetic ammonia", "t"},
    {"sulphuric_acid", "硫酸", "sulphuric acid", "t"},
    {"caustic_soda", "烧碱", "caustic soda", "t"},
    {"soda_ash", "纯碱", "soda ash", "t"},
    {"ethylene", "乙烯", "ethylene", "t"},
    {"woven_dyed_cloth", "机织印染布", "woven dyed cloth", "100m"},
    {"bleached_chemical_pulp", "漂白化学浆", "bleached chemical pulp", "t"},
    {"uncoated_paper", "未涂布纸", "uncoated paper", "t"},
    {"beer", "啤酒", "beer", "kL"},
    {"base_liquor", "原酒", "base liquor", "kL"},
    {"bottled_liquor", "成品酒", "bottled liquor", "kL"},
    {"crude_lead", "粗铅", "crude lead", "t"},
    {"zinc_wet", "锌(湿法)", "zinc (wet process)", "t"},
};

const wn_quota *wn_quota_table(size_t *n)
{
    *n = sizeof quotas / sizeof quotas[0];
    return quotas;
}

const wn_quota *wn_quota_find(const char *product)
{
    for (size_t i = 0; i < sizeof quotas / sizeof quotas[0]; i++)
        if (strcmp(quotas[i].product, product) == 0) return &quotas[i];
    return NULL;
}

/* ---- settings ---- */

typedef struct {
    const char *name;
    size_t off;
    int is_ms;
    double min, max;
} field;

#define F(n, ms, lo, hi) {#n, offsetof(wn_monitor_settings, n), ms, lo, hi}
static const field fields[] = {
    F(silent_factor, 0, 1, 1000),        F(silent_min_ms, 1, 0, 1e12),      F(default_interval_ms, 1, 1000, 1e12),
    F(imbalance_pct, 0, 0, 1000),        F(balance_min_m3, 0, 0, 1e12),     F(ph_min, 0, 0, 14),
    F(ph_max, 0, 0, 14),                 F(conductivity_max, 0, 0, 1e7),    F(turbidity_max, 0, 0, 1e6),
    F(night_ratio, 0, 0, 100),           F(night_min_m3h, 0, 0, 1e9),
};
#undef F

void wn_monitor_settings_json(wn_buf *b, const wn_monitor_settings *s)
{
    wn_buf_str(b, "{");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *p = (const char *)s + fields[i].off;
        if (fields[i].is_ms) wn_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", fields[i].name, (unsigned long long)*(const uint64_t *)p);
        else wn_buf_printf(b, "%s\"%s\":%.10g", i ? "," : "", fields[i].name, *(const double *)p);
    }
    wn_buf_str(b, "}");
}

/* Applies the members of JSON object o to s. Returns: 1, or 0 with detail. */
static int settings_apply(wn_monitor_settings *s, const cJSON *o, char *detail, size_t cap)
{
    wn_monitor_settings t = *s;
    for (const cJSON *it = o->child; it; it = it->next) {
        const field *f = NULL;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (it->string && strcmp(it->string, fields[i].name) == 0) f = &fields[i];
        if (!f) {
            snprintf(detail, cap, "unknown setting \"%.60s\"", it->string ? it->string : "");
            return 0;
        }
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < f->min || it->valuedouble > f->max) {
            snprintf(detail, cap, "%s must be a number from %g to %g", f->name, f->min, f->max);
            return 0;
        }
        char *p = (char *)&t + f->off;
        if (f->is_ms) *(uint64_t *)p = (uint64_t)it->valuedouble;
        else *(double *)p = it->valuedouble;
    }
    if (t.ph_min > t.ph_max) {
        snprintf(detail, cap, "ph_min must not be above ph_max");
        return 0;
    }
    *s = t;
    return 1;
}

int wn_monitor_set_settings(wn_monitor *m, const char *body, size_t len, char *detail, size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        snprintf(detail, cap, "expected a JSON object of settings");
        return WN_NE_MALFORMED_JSON;
    }
    pthread_mutex_lock(&m->wmu);
    wn_monitor_settings s = m->set;
    int rc = WN_NE_BAD_REQUEST;
    if (settings_apply(&s, j, detail, cap)) {
        wn_buf b;
        wn_buf_init(&b);
        wn_monitor_settings_json(&b, &s);
        size_t bl;
        char *text = wn_buf_take(&b, &bl);
        if (text && wn_bureau_put(m->bureau, WN_BT_SETTINGS, "settings", 8, text, bl)) {
            pthread_rwlock_wrlock(&m->lock);
            m->set = s;
            pthread_rwlock_unlock(&m->lock);
            rc = WN_NE_OK;
        } else {
            snprintf(detail, cap, "the settings could not be stored");
            rc = WN_NE_INTERNAL;
        }
        free(text);
    }
    pthread_mutex_unlock(&m->wmu);
    cJSON_Delete(j);
    return rc;
}

/* ---- decimals ---- */

/* A non-negative m3 amount from a JSON string ("1234.5") or number. Returns: 1 on success. */
static int amount(const cJSON *j, __int128 *out)
{
    char buf[64];
    if (cJSON_IsString(j)) snprintf(buf, sizeof buf, "%s", j->valuestring);
    else if (cJSON_IsNumber(j) && isfinite(j->valuedouble) && j->valuedouble >= 0 && j->valuedouble < 1e15)
        snprintf(buf, sizeof buf, "%.6f", j->valuedouble);
    else return 0;
    int64_t v;
    unsigned scale;
    if (!wn_decimal_parse(buf, strlen(buf), &v, &scale) || v < 0) {
        /* numbers printed with %.6f may carry a trailing zero run that is still fine */
        return 0;
    }
    __int128 x = v;
    for (unsigned i = scale; i < 12; i++) x *= 10;
    *out = x;
    return 1;
}

int mon_parse_amount(const struct cJSON *j, __int128 *out) { return amount(j, out); }

/* ---- plans ---- */

static void plan_cache(wn_monitor *m, const char *ent, uint32_t year, __int128 plan)
{
    for (size_t i = 0; i < m->nplans; i++)
        if (m->plans[i].year == year && strcmp(m->plans[i].ent, ent) == 0) {
            m->plans[i].plan = plan;
            return;
        }
    if (m->nplans == m->capplans) {
        size_t c = m->capplans * 2 + 16;
        void *p = realloc(m->plans, c * sizeof *m->plans);
        if (!p) return;
        m->plans = p;
        m->capplans = c;
    }
    mon_plan *p = &m->plans[m->nplans++];
    snprintf(p->ent, sizeof p->ent, "%s", ent);
    p->year = year;
    p->plan = plan;
}

static int load_plan(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    wn_monitor *m = ctx;
    const char *key = k;
    size_t nl = strnlen(key, kl);
    if (nl == 0 || nl > WN_ENTERPRISE_MAX || kl != nl + 5) return 0;
    cJSON *j = cJSON_ParseWithLength(v, vl);
    __int128 plan;
    if (j && amount(cJSON_GetObjectItemCaseSensitive(j, "plan_m3"), &plan)) {
        char ent[MON_ENT_MAX];
        memcpy(ent, key, nl);
        ent[nl] = '\0';
        plan_cache(m, ent, wn_get_u32((const uint8_t *)key + nl + 1), plan);
    }
    cJSON_Delete(j);
    return 0;
}

static const char *str_member(const cJSON *o, const char *name, size_t maxlen)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(j) || strlen(j->valuestring) > maxlen) return NULL;
    return j->valuestring;
}

int wn_monitor_set_plan(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                        size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    int rc = WN_NE_BAD_REQUEST;
    const char *ent = j ? str_member(j, "enterprise", WN_ENTERPRISE_MAX) : NULL;
    const cJSON *year = j ? cJSON_GetObjectItemCaseSensitive(j, "year") : NULL;
    __int128 plan;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "expected {\"enterprise\":ID,\"year\":YYYY,\"plan_m3\":\"AMOUNT\"}");
        rc = WN_NE_MALFORMED_JSON;
    } else if (!ent || !*ent) {
        snprintf(detail, cap, "enterprise must be an enterprise id");
    } else if (!cJSON_IsNumber(year) || year->valuedouble < 1970 || year->valuedouble > 9999 ||
               year->valuedouble != (double)(int)year->valuedouble) {
        snprintf(detail, cap, "year must be a whole year such as 2026");
    } else if (!amount(cJSON_GetObjectItemCaseSensitive(j, "plan_m3"), &plan)) {
        snprintf(detail, cap, "plan_m3 must be a non-negative decimal amount of m3, e.g. \"120000\"");
    } else {
        uint8_t key[MON_ENT_MAX + 5];
        size_t nl = strlen(ent);
        memcpy(key, ent, nl);
        key[nl] = 0;
        wn_put_u32(key + nl + 1, (uint32_t)year->valuedouble);
        char m3[48], t[25], *text = NULL;
        mon_fmt_m3(m3, plan);
        wn_time_format(t, wn_now_ms());
        wn_buf b;
        wn_buf_init(&b);
        wn_buf_printf(&b, "{\"plan_m3\":\"%s\",\"by\":\"%s\",\"time\":\"%s\"}", m3, who->token_id, t);
        size_t bl;
        text = wn_buf_take(&b, &bl);
        pthread_mutex_lock(&m->wmu);
        if (text && wn_bureau_put(m->bureau, WN_BT_PLANS, key, nl + 5, text, bl)) {
            pthread_rwlock_wrlock(&m->lock);
            plan_cache(m, ent, (uint32_t)year->valuedouble, plan);
            mon_ent *e = mon_ent_get(m, ent, 0);
            if (e) {
                size_t before = m->nal;
                mon_check_plan(m, e, (uint32_t)year->valuedouble, e->last_intake_index, wn_now_ms());
                if (m->nal != before) mon_write(m);
            }
            pthread_rwlock_unlock(&m->lock);
            rc = WN_NE_OK;
        } else {
            snprintf(detail, cap, "the plan could not be stored");
            rc = WN_NE_INTERNAL;
        }
        pthread_mutex_unlock(&m->wmu);
        free(text);
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- production ---- */

int wn_monitor_set_production(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail,
                              size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    int rc = WN_NE_BAD_REQUEST;
    const char *ent = j ? str_member(j, "enterprise", WN_ENTERPRISE_MAX) : NULL;
    const char *month = j ? str_member(j, "month", 7) : NULL;
    const char *product = j ? str_member(j, "product", 40) : NULL;
    const wn_quota *q = product ? wn_quota_find(product) : NULL;
    __int128 qty;
    int y = 0;
    unsigned mo = 0;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "expected {\"enterprise\":ID,\"month\":\"YYYY-MM\",\"product\":NAME,\"quantity\":\"AMOUNT\"}");
        rc = WN_NE_MALFORMED_JSON;
    } else if (!ent || !*ent) {
        snprintf(detail, cap, "enterprise must be an enterprise id");
    } else if (who->role == WN_ROLE_ENTERPRISE && strcmp(ent, who->enterprise) != 0) {
        snprintf(detail, cap, "an enterprise token may post only its own enterprise's production");
        rc = WN_NE_FORBIDDEN;
    } else if (!month || strlen(month) != 7 || sscanf(month, "%4d-%2u", &y, &mo) != 2 || month[4] != '-' || y < 1970 ||
               mo < 1 || mo > 12) {
        snprintf(detail, cap, "month must be \"YYYY-MM\"");
    } else if (!q) {
        snprintf(detail, cap, "product must be one of the quota table's names (GET /v1/monitor/quotas)");
    } else if (!amount(cJSON_GetObjectItemCaseSensitive(j, "quantity"), &qty) || qty == 0) {
        snprintf(detail, cap, "quantity must be a positive decimal amount in %s", q->unit);
    } else {
        uint8_t key[MON_ENT_MAX + 64];
        size_t nl = strlen(ent), kl = 0;
        memcpy(key, ent, nl), kl = nl;
        key[kl++] = 0;
        memcpy(key + kl, month, 7), kl += 7;
        key[kl++] = 0;
        memcpy(key + kl, product, strlen(product)), kl += strlen(product);
        char amt[48], t[25];
        mon_fmt_m3(amt, qty);
        wn_time_format(t, wn_now_ms());
        wn_buf b;
        wn_buf_init(&b);
        wn_buf_printf(&b, "{\"quantity\":\"%s\",\"by\":\"%s\",\"role\":\"%s\",\"time\":\"%s\"}", amt, who->token_id,
                      wn_role_name(who->role), t);
        size_t bl;
        char *text = wn_buf_take(&b, &bl);
        rc = text && wn_bureau_put(m->bureau, WN_BT_PRODUCTION, key, kl, text, bl) ? WN_NE_OK : WN_NE_INTERNAL;
        if (rc != WN_NE_OK) snprintf(detail, cap, "the production figure could not be stored");
        free(text);
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- acknowledgements ---- */

/* The place of id in the sorted acks: *found set if it is there. */
static size_t ack_place(const wn_monitor *m, const uint8_t id[16], int *found)
{
    size_t lo = 0, hi = m->nacks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(m->acks[mid].id, id, 16);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

const mon_ack *mon_ack_find(const wn_monitor *m, const uint8_t id[16])
{
    int found;
    size_t i = ack_place(m, id, &found);
    return found ? &m->acks[i] : NULL;
}

const mon_ack *mon_ack_covers(const wn_monitor *m, const mon_alert *a)
{
    const mon_ack *k = mon_ack_find(m, a->id);
    return k && k->folded >= a->folded ? k : NULL;
}

/* Caches an acknowledgement (replacing one of the same alert), keeping acks sorted. */
static int ack_cache(wn_monitor *m, const uint8_t id[16], const cJSON *j)
{
    int found;
    size_t at = ack_place(m, id, &found);
    if (!found) {
        if (m->nacks == m->capacks) {
            size_t c = m->capacks * 2 + 64;
            void *p = realloc(m->acks, c * sizeof *m->acks);
            if (!p) return 0;
            m->acks = p;
            m->capacks = c;
        }
        memmove(&m->acks[at + 1], &m->acks[at], (m->nacks - at) * sizeof *m->acks);
        m->nacks++;
    }
    mon_ack *a = &m->acks[at];
    memset(a, 0, sizeof *a);
    memcpy(a->id, id, 16);
    const char *s;
    if ((s = str_member(j, "by", 64))) snprintf(a->by, sizeof a->by, "%s", s);
    if ((s = str_member(j, "role", 11))) snprintf(a->role, sizeof a->role, "%s", s);
    if ((s = str_member(j, "token", 16))) snprintf(a->token, sizeof a->token, "%s", s);
    if ((s = str_member(j, "note", 200))) snprintf(a->note, sizeof a->note, "%s", s);
    if ((s = str_member(j, "time", 24))) wn_time_parse(s, strlen(s), &a->time);
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(j, "folded");
    if (cJSON_IsNumber(fo) && fo->valuedouble >= 0 && fo->valuedouble <= UINT32_MAX) a->folded = (uint32_t)fo->valuedouble;
    return 1;
}

static int load_ack(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    if (kl != 16) return 0;
    cJSON *j = cJSON_ParseWithLength(v, vl);
    if (cJSON_IsObject(j)) ack_cache(ctx, k, j);
    cJSON_Delete(j);
    return 0;
}

/* Is this text fit for a record (UTF-8 without control characters)? */
static int text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

int wn_monitor_ack(wn_monitor *m, const wn_principal *who, const char *body, size_t len, char *detail, size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const char *id = j ? str_member(j, "alert", 32) : NULL;
    const char *by = j ? str_member(j, "by", 64) : NULL;
    const cJSON *nj = j ? cJSON_GetObjectItemCaseSensitive(j, "note") : NULL;
    const char *note = cJSON_IsString(nj) ? nj->valuestring : "";
    uint8_t aid[16];
    int rc = WN_NE_BAD_REQUEST;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "expected {\"alert\":ID,\"by\":NAME,\"note\":TEXT}");
        rc = WN_NE_MALFORMED_JSON;
    } else if (!id || !wn_hex_decode(aid, 16, id, strlen(id))) {
        snprintf(detail, cap, "alert must be an alert id (32 hex characters)");
    } else if (!by || !*by || !text_ok(by)) {
        snprintf(detail, cap, "by must name who acknowledges (1 to 64 bytes, no control characters)");
    } else if (nj && (!cJSON_IsString(nj) || strlen(note) > 200 || !text_ok(note))) {
        snprintf(detail, cap, "note must be a text of at most 200 bytes");
    } else {
        pthread_mutex_lock(&m->wmu);
        pthread_rwlock_rdlock(&m->lock);
        long f = mon_alert_find(m, aid);
        int ent_ok = 1, found = f >= 0;
        uint32_t ent = f >= 0 ? m->al[f].ent : MON_NONE, folded = f >= 0 ? m->al[f].folded : 0;
        for (size_t i = 0; i < m->ngaps && !found; i++)
            if (memcmp(m->gaps[i].id, aid, 16) == 0) found = 1, ent = m->gaps[i].ent;
        if (found && who->role == WN_ROLE_ENTERPRISE)
            ent_ok = ent < m->net && strcmp(m->et[ent]->name, who->enterprise) == 0;
        const mon_ack *prev = mon_ack_find(m, aid);
        pthread_rwlock_unlock(&m->lock);
        if (!found || !ent_ok) {
            snprintf(detail, cap, "no alert %s", id);
            rc = WN_NE_NOT_FOUND;
        } else if (prev && prev->folded >= folded) { /* alerts folded in since allow another */
            snprintf(detail, cap, "the alert was already acknowledged by %s", prev->by);
            rc = WN_NE_ALREADY_ACKED;
        } else {
            char t[25];
            wn_time_format(t, wn_now_ms());
            wn_buf b;
            wn_buf_init(&b);
            wn_buf_str(&b, "{\"by\":");
            wn_buf_json_str(&b, by);
            wn_buf_printf(&b, ",\"role\":\"%s\",\"token\":\"%s\",\"time\":\"%s\",\"note\":", wn_role_name(who->role),
                          who->token_id, t);
            wn_buf_json_str(&b, note);
            wn_buf_printf(&b, ",\"folded\":%u}", folded);
            size_t bl;
            char *text = wn_buf_take(&b, &bl);
            cJSON *rec = text ? cJSON_Parse(text) : NULL;
            if (rec && wn_bureau_put(m->bureau, WN_BT_ACKS, aid, 16, text, bl)) {
                pthread_rwlock_wrlock(&m->lock);
                ack_cache(m, aid, rec);
                pthread_rwlock_unlock(&m->lock);
                rc = WN_NE_OK;
            } else {
                snprintf(detail, cap, "the acknowledgement could not be stored");
                rc = WN_NE_INTERNAL;
            }
            cJSON_Delete(rec);
            free(text);
        }
        pthread_mutex_unlock(&m->wmu);
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- load ---- */

static int load_settings(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    wn_monitor *m = ctx;
    if (kl != 8 || memcmp(k, "settings", 8) != 0) return 0;
    cJSON *j = cJSON_ParseWithLength(v, vl);
    char d[200];
    if (!cJSON_IsObject(j) || !settings_apply(&m->set, j, d, sizeof d))
        wn_log("monitor: the stored settings are unreadable; using the defaults");
    cJSON_Delete(j);
    return 0;
}

void mon_conf_load(wn_monitor *m)
{
    wn_bureau_each(m->bureau, WN_BT_SETTINGS, NULL, 0, load_settings, m);
    wn_bureau_each(m->bureau, WN_BT_PLANS, NULL, 0, load_plan, m);
    wn_bureau_each(m->bureau, WN_BT_ACKS, NULL, 0, load_ack, m);
}
