/* names.c — the bureau's labels of meters and enterprises and their change log (names.h):
 * kept in memory as two sorted arrays (binary search), stored in the bureau store. */
#include "node/monitor/names.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"

typedef struct {
    uint8_t id[32];
    wn_meter_name l;
} meter_lab;

typedef struct {
    char id[WN_ENTERPRISE_MAX + 1];
    wn_ent_name l;
} ent_lab;

struct wn_names {
    wn_bureau *b;
    pthread_rwlock_t lock;
    pthread_mutex_t wmu; /* one change at a time: the log's numbers */
    meter_lab *mt;
    size_t nmt, capmt;
    ent_lab *et;
    size_t net, capet;
    uint64_t log_first, log_next; /* the log holds changes [log_first, log_next) */
    wn_names_registry_fn registry;  /* registered names (set once, before serving) */
    void *registry_ctx;
};

void wn_names_set_registry(wn_names *n, wn_names_registry_fn fn, void *ctx)
{
    if (!n) return;
    n->registry = fn;
    n->registry_ctx = ctx;
}

static const char *const MF[3] = {"number", "location", "purpose"};
static const char *const EF[3] = {"name", "county", "park"};

static char *mfield(wn_meter_name *l, int i) { return i == 0 ? l->number : i == 1 ? l->location : l->purpose; }
static char *efield(wn_ent_name *l, int i) { return i == 0 ? l->name : i == 1 ? l->county : l->park; }

static int text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

/* ---- lookups (caller holds the lock) ---- */

static long find_meter(const wn_names *n, const uint8_t id[32], size_t *at)
{
    size_t lo = 0, hi = n->nmt;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(n->mt[mid].id, id, 32);
        if (c == 0) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (at) *at = lo;
    return -1;
}

static long find_ent(const wn_names *n, const char *id, size_t *at)
{
    size_t lo = 0, hi = n->net;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(n->et[mid].id, id);
        if (c == 0) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (at) *at = lo;
    return -1;
}

/* Puts (or, with l NULL, removes) a label in memory. Returns: 1; 0 out of memory. */
static int mem_meter(wn_names *n, const uint8_t id[32], const wn_meter_name *l)
{
    size_t at = 0;
    long i = find_meter(n, id, &at);
    if (!l) {
        if (i >= 0) memmove(&n->mt[i], &n->mt[i + 1], (n->nmt-- - (size_t)i - 1) * sizeof *n->mt);
        return 1;
    }
    if (i >= 0) {
        n->mt[i].l = *l;
        return 1;
    }
    if (n->nmt == n->capmt) {
        size_t cap = n->capmt ? 2 * n->capmt : 64;
        meter_lab *p = realloc(n->mt, cap * sizeof *p);
        if (!p) return 0;
        n->mt = p;
        n->capmt = cap;
    }
    memmove(&n->mt[at + 1], &n->mt[at], (n->nmt - at) * sizeof *n->mt);
    memcpy(n->mt[at].id, id, 32);
    n->mt[at].l = *l;
    n->nmt++;
    return 1;
}

static int mem_ent(wn_names *n, const char *id, const wn_ent_name *l)
{
    size_t at = 0;
    long i = find_ent(n, id, &at);
    if (!l) {
        if (i >= 0) memmove(&n->et[i], &n->et[i + 1], (n->net-- - (size_t)i - 1) * sizeof *n->et);
        return 1;
    }
    if (i >= 0) {
        n->et[i].l = *l;
        return 1;
    }
    if (n->net == n->capet) {
        size_t cap = n->capet ? 2 * n->capet : 64;
        ent_lab *p = realloc(n->et, cap * sizeof *p);
        if (!p) return 0;
        n->et = p;
        n->capet = cap;
    }
    memmove(&n->et[at + 1], &n->et[at], (n->net - at) * sizeof *n->et);
    snprintf(n->et[at].id, sizeof n->et[at].id, "%s", id);
    n->et[at].l = *l;
    n->net++;
    return 1;
}

/* ---- JSON of a label ---- */

static void json_fields(wn_buf *b, const char *const names[3], const char *v0, const char *v1, const char *v2)
{
    const char *v[3] = {v0, v1, v2};
    wn_buf_str(b, "{");
    for (int i = 0; i < 3; i++) {
        wn_buf_printf(b, "%s\"%s\":", i ? "," : "", names[i]);
        wn_buf_json_str(b, v[i]);
    }
    wn_buf_str(b, "}");
}

static void json_meter_label(wn_buf *b, const wn_meter_name *l)
{
    json_fields(b, MF, l->number, l->location, l->purpose);
}
static void json_ent_label(wn_buf *b, const wn_ent_name *l) { json_fields(b, EF, l->name, l->county, l->park); }

/* Reads the three fields of a stored label or of a request (a field absent: keep[i], or ""). */
static int read_fields(const cJSON *o, const char *const names[3], char *out[3], char *const keep[3], char *detail,
                       size_t cap)
{
    for (int i = 0; i < 3; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, names[i]);
        if (!f) {
            snprintf(out[i], WN_NAME_FIELD_MAX + 1, "%s", keep ? keep[i] : "");
            continue;
        }
        if (!cJSON_IsString(f) || strlen(f->valuestring) > WN_NAME_FIELD_MAX || !text_ok(f->valuestring)) {
            if (detail) snprintf(detail, cap, "%s must be a text of at most %d bytes without control characters", names[i],
                                 WN_NAME_FIELD_MAX);
            return 0;
        }
        snprintf(out[i], WN_NAME_FIELD_MAX + 1, "%s", f->valuestring);
    }
    return 1;
}

/* ---- open ---- */

static int load_label(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    wn_names *n = ctx;
    const uint8_t *key = k;
    cJSON *j = cJSON_ParseWithLength(v, vl);
    int ok = cJSON_IsObject(j);
    if (ok && kl == 33 && key[0] == 'm') {
        wn_meter_name l;
        char *f[3] = {l.number, l.location, l.purpose};
        ok = read_fields(j, MF, f, NULL, NULL, 0) && mem_meter(n, key + 1, &l);
    } else if (ok && kl >= 2 && kl <= 1 + WN_ENTERPRISE_MAX && key[0] == 'e') {
        wn_ent_name l;
        char id[WN_ENTERPRISE_MAX + 1], *f[3] = {l.name, l.county, l.park};
        memcpy(id, key + 1, kl - 1);
        id[kl - 1] = '\0';
        ok = strlen(id) == kl - 1 && read_fields(j, EF, f, NULL, NULL, 0) && mem_ent(n, id, &l);
    } else {
        ok = 0;
    }
    if (!ok) wn_log("names: a label in the bureau store is unreadable; it is not shown");
    cJSON_Delete(j);
    return 0;
}

static int load_log(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    wn_names *n = ctx;
    (void)v;
    (void)vl;
    if (kl != 8) return 0;
    uint64_t s = wn_get_u64(k);
    if (n->log_next == 0) n->log_first = s;
    n->log_next = s + 1;
    return 0;
}

int wn_names_open(wn_names **out, wn_bureau *b)
{
    wn_names *n = calloc(1, sizeof *n);
    if (!n) return 0;
    n->b = b;
    pthread_rwlock_init(&n->lock, NULL);
    pthread_mutex_init(&n->wmu, NULL);
    if (!wn_bureau_each(b, WN_BT_LABELS, NULL, 0, load_label, n) ||
        !wn_bureau_each(b, WN_BT_LABEL_LOG, NULL, 0, load_log, n)) {
        wn_log("names: the bureau store's labels cannot be read");
        wn_names_close(n);
        return 0;
    }
    *out = n;
    return 1;
}

void wn_names_close(wn_names *n)
{
    if (!n) return;
    free(n->mt);
    free(n->et);
    pthread_rwlock_destroy(&n->lock);
    pthread_mutex_destroy(&n->wmu);
    free(n);
}

/* ---- the one lookup ---- */

int wn_names_meter(wn_names *n, const uint8_t id[32], wn_meter_name *out)
{
    memset(out, 0, sizeof *out);
    if (!n) return 0;
    pthread_rwlock_rdlock(&n->lock);
    long i = find_meter(n, id, NULL);
    if (i >= 0) *out = n->mt[i].l;
    pthread_rwlock_unlock(&n->lock);
    return i >= 0;
}

int wn_names_enterprise(wn_names *n, const char *ent, wn_ent_name *out)
{
    memset(out, 0, sizeof *out);
    if (!n || !ent) return 0;
    pthread_rwlock_rdlock(&n->lock);
    long i = find_ent(n, ent, NULL);
    if (i >= 0) *out = n->et[i].l;
    pthread_rwlock_unlock(&n->lock);
    return i >= 0;
}

void wn_names_json_meter(wn_names *n, wn_buf *b, const uint8_t id[32])
{
    wn_meter_name l;
    wn_buf_str(b, ",\"label\":");
    if (wn_names_meter(n, id, &l)) json_meter_label(b, &l);
    else wn_buf_str(b, "null");
}

void wn_names_json_enterprise(wn_names *n, wn_buf *b, const char *ent)
{
    wn_ent_name l;
    char registered[256];
    int has = wn_names_enterprise(n, ent, &l);
    int reg = n && ent && n->registry && n->registry(n->registry_ctx, ent, registered, sizeof registered);
    wn_buf_str(b, ",\"enterprise_name\":");
    if (reg) wn_buf_json_str(b, registered);
    else if (has && l.name[0]) wn_buf_json_str(b, l.name);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"enterprise_label\":");
    if (has) json_ent_label(b, &l);
    else wn_buf_str(b, "null");
}

/* ---- changes ---- */

int wn_names_set(wn_names *n, const wn_principal *who, const char *body, size_t len, char *detail, size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *mj = j ? cJSON_GetObjectItemCaseSensitive(j, "meter") : NULL;
    const cJSON *ej = j ? cJSON_GetObjectItemCaseSensitive(j, "enterprise") : NULL;
    const cJSON *bj = j ? cJSON_GetObjectItemCaseSensitive(j, "by") : NULL;
    int rc = WN_NE_BAD_REQUEST, is_meter = mj != NULL;
    uint8_t mid[32];
    const char *eid = cJSON_IsString(ej) ? ej->valuestring : NULL;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "expected {\"meter\":HEX,\"number\",\"location\",\"purpose\",\"by\"} or "
                              "{\"enterprise\":ID,\"name\",\"county\",\"park\",\"by\"}");
        cJSON_Delete(j);
        return WN_NE_MALFORMED_JSON;
    }
    if (!mj == !ej) {
        snprintf(detail, cap, "name one meter or one enterprise");
        goto out;
    }
    if (is_meter && (!cJSON_IsString(mj) || strlen(mj->valuestring) != 64 || !wn_hex_decode(mid, 32, mj->valuestring, 64))) {
        snprintf(detail, cap, "meter must be a meter's key (64 hex characters)");
        goto out;
    }
    if (!is_meter && (!eid || !*eid || strlen(eid) > WN_ENTERPRISE_MAX || !text_ok(eid))) {
        snprintf(detail, cap, "enterprise must be an enterprise id of 1 to %d bytes", WN_ENTERPRISE_MAX);
        goto out;
    }
    if (!cJSON_IsString(bj) || !*bj->valuestring || strlen(bj->valuestring) > 64 || !text_ok(bj->valuestring)) {
        snprintf(detail, cap, "by must name who changes the label (1 to 64 bytes, no control characters)");
        goto out;
    }
    for (const cJSON *c = j->child; c; c = c->next) {
        const char *const *f = is_meter ? MF : EF;
        if (strcmp(c->string, is_meter ? "meter" : "enterprise") && strcmp(c->string, "by") && strcmp(c->string, f[0]) &&
            strcmp(c->string, f[1]) && strcmp(c->string, f[2])) {
            snprintf(detail, cap, "unknown member %.40s", c->string);
            goto out;
        }
    }

    pthread_mutex_lock(&n->wmu);
    wn_meter_name om, nm;
    wn_ent_name oe, ne;
    int had = is_meter ? wn_names_meter(n, mid, &om) : wn_names_enterprise(n, eid, &oe);
    char *nf[3], *of[3];
    for (int i = 0; i < 3; i++) {
        nf[i] = is_meter ? mfield(&nm, i) : efield(&ne, i);
        of[i] = is_meter ? mfield(&om, i) : efield(&oe, i);
    }
    if (!read_fields(j, is_meter ? MF : EF, nf, of, detail, cap)) {
        pthread_mutex_unlock(&n->wmu);
        goto out;
    }
    int empty = !nf[0][0] && !nf[1][0] && !nf[2][0];
    pthread_rwlock_rdlock(&n->lock);
    int full = !had && !empty && (is_meter ? n->nmt : n->net) >= WN_NAMES_MAX;
    uint64_t seq = n->log_next, first = n->log_first;
    pthread_rwlock_unlock(&n->lock);
    if (full) {
        snprintf(detail, cap, "the node keeps at most %u labels of %s", WN_NAMES_MAX, is_meter ? "meters" : "enterprises");
        rc = WN_NE_BAD_REQUEST;
        pthread_mutex_unlock(&n->wmu);
        goto out;
    }
    /* the label, and the change in the log */
    wn_buf lab, rec;
    wn_buf_init(&lab);
    wn_buf_init(&rec);
    if (is_meter) json_meter_label(&lab, &nm);
    else json_ent_label(&lab, &ne);
    char t[25];
    wn_time_format(t, wn_now_ms());
    wn_buf_printf(&rec, "{\"change\":%llu,\"time\":\"%s\",\"by\":", (unsigned long long)seq, t);
    wn_buf_json_str(&rec, bj->valuestring);
    wn_buf_printf(&rec, ",\"role\":\"%s\",\"token\":\"%s\",\"%s\":", wn_role_name(who->role), who->token_id,
                  is_meter ? "meter" : "enterprise");
    if (is_meter) wn_buf_json_hex(&rec, mid, 32);
    else wn_buf_json_str(&rec, eid);
    wn_buf_str(&rec, ",\"old\":");
    if (!had) wn_buf_str(&rec, "null");
    else if (is_meter) json_meter_label(&rec, &om);
    else json_ent_label(&rec, &oe);
    wn_buf_str(&rec, ",\"new\":");
    if (empty) wn_buf_str(&rec, "null");
    else if (is_meter) json_meter_label(&rec, &nm);
    else json_ent_label(&rec, &ne);
    wn_buf_str(&rec, "}");
    size_t ll, rl;
    char *lt = wn_buf_take(&lab, &ll), *rt = wn_buf_take(&rec, &rl);
    uint8_t key[1 + WN_ENTERPRISE_MAX], lk[8], dk[8];
    size_t kl;
    key[0] = is_meter ? 'm' : 'e';
    if (is_meter) memcpy(key + 1, mid, 32), kl = 33;
    else memcpy(key + 1, eid, strlen(eid)), kl = 1 + strlen(eid);
    wn_put_u64(lk, seq);
    wn_put_u64(dk, first);
    wn_bureau_op ops[3] = {
        {WN_BT_LABELS, empty, key, lt, kl, ll},
        {WN_BT_LABEL_LOG, 0, lk, rt, 8, rl},
        {WN_BT_LABEL_LOG, 1, dk, NULL, 8, 0},
    };
    int drop = seq - first >= WN_NAMES_LOG_MAX; /* the log is full: its oldest change goes */
    if (!lt || !rt || !wn_bureau_write(n->b, ops, drop ? 3 : 2)) {
        snprintf(detail, cap, "the label could not be stored");
        rc = WN_NE_INTERNAL;
    } else {
        pthread_rwlock_wrlock(&n->lock);
        int ok = is_meter ? mem_meter(n, mid, empty ? NULL : &nm) : mem_ent(n, eid, empty ? NULL : &ne);
        if (n->log_next == 0) n->log_first = seq;
        n->log_next = seq + 1;
        if (drop) n->log_first = first + 1;
        pthread_rwlock_unlock(&n->lock);
        if (!ok) wn_log("names: out of memory: a stored label is shown after a restart");
        rc = WN_NE_OK;
    }
    free(lt);
    free(rt);
    pthread_mutex_unlock(&n->wmu);
out:
    cJSON_Delete(j);
    return rc;
}

/* ---- lists ---- */

void wn_names_list(wn_names *n, wn_buf *b, int meters, uint64_t from, uint64_t limit, const wn_names_filter *f)
{
    uint64_t pos = 0, shown = 0;
    int more = 0;
    wn_buf_str(b, "{\"labels\":[");
    pthread_rwlock_rdlock(&n->lock);
    size_t count = meters ? n->nmt : n->net;
    for (size_t i = 0; i < count; i++) {
        char ent[65];
        if (f && f->visible) {
            const char *e = ent;
            if (meters) {
                if (!f->meter_ent || !f->meter_ent(f->ctx, n->mt[i].id, ent)) continue;
            } else {
                e = n->et[i].id;
            }
            if (!f->visible(f->ctx, e)) continue;
        }
        if (pos++ < from) continue;
        if (shown == limit) {
            more = 1;
            break;
        }
        wn_buf_str(b, shown++ ? "," : "");
        if (meters) {
            wn_buf_str(b, "{\"meter\":");
            wn_buf_json_hex(b, n->mt[i].id, 32);
            wn_buf_str(b, ",\"label\":");
            json_meter_label(b, &n->mt[i].l);
        } else {
            wn_buf_str(b, "{\"enterprise\":");
            wn_buf_json_str(b, n->et[i].id);
            wn_buf_str(b, ",\"label\":");
            json_ent_label(b, &n->et[i].l);
        }
        wn_buf_str(b, "}");
    }
    pthread_rwlock_unlock(&n->lock);
    if (more) wn_buf_printf(b, "],\"next\":%llu}", (unsigned long long)(from + shown));
    else wn_buf_str(b, "],\"next\":null}");
}

typedef struct {
    wn_buf *b;
    uint64_t limit, shown, next;
    int more;
} log_ctx;

static int log_item(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    log_ctx *c = ctx;
    if (kl != 8) return 0;
    if (c->shown == c->limit) {
        c->more = 1;
        c->next = wn_get_u64(k);
        return 1;
    }
    wn_buf_str(c->b, c->shown++ ? "," : "");
    wn_buf_add(c->b, v, vl);
    return 0;
}

void wn_names_log(wn_names *n, wn_buf *b, uint64_t from, uint64_t limit)
{
    pthread_rwlock_rdlock(&n->lock);
    uint64_t first = n->log_first, next = n->log_next;
    pthread_rwlock_unlock(&n->lock);
    wn_buf_str(b, "{\"changes\":[");
    log_ctx c = {b, limit, 0, 0, 0};
    /* keys are big-endian numbers: start the walk at from (or the oldest kept) */
    uint8_t k[8];
    wn_put_u64(k, from > first ? from : first);
    if (from < next) wn_bureau_each_from(n->b, WN_BT_LABEL_LOG, k, 8, log_item, &c);
    wn_buf_printf(b, "],\"first\":%llu,\"next\":", (unsigned long long)first);
    if (c.more) wn_buf_printf(b, "%llu}", (unsigned long long)c.next);
    else wn_buf_str(b, "null}");
}
