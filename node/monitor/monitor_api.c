/* monitor_api.c — GET/POST /v1/monitor/NAME (docs/PROTOCOL.md §18): the JSON behind the
 * monitoring page. Every answer is cut to what the caller may see (an enterprise token:
 * its own enterprise). Aggregates are read from the monitor's databases in one LMDB read
 * transaction per request (hour and day buckets by key range: nothing scans the ledger);
 * the in-memory part (meters, alerts) is copied under the read lock first. */
#include "node/monitor/monitor_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "node/query/bundle.h"
#include "node/http/errors.h"
#include "node/datadir/envgate.h"
#include "node/log.h"
#include "node/monitor/indicators.h"
#include "node/monitor/monitor_conf.h"
#include "node/monitor/quota_files.h"

#define MAX_DAYS 3700         /* a window of at most ~10 years of days */
#define MAX_SERIES 2000       /* buckets in one meter series */
#define RECENT 20             /* latest readings in the meter view */
#define ALERTS_DEFAULT 500
#define ALERTS_MAX 1000 /* the most alerts one GET /v1/monitor/alerts answer holds */
#define LIST_MAX 1000   /* the most items one page of enterprises, plans or production holds */

typedef struct {
    wn_node *n;
    wn_monitor *m;
    const wn_principal *who;
    wn_query_get get;
    void *ctx;
    uint64_t now;
} req;

/* A meter as a request sees it (copied under the read lock). */
typedef struct {
    uint8_t id[32];
    uint32_t num, ent, parent;
    uint8_t point, tier, source, alg, revoked, has_parent;
    uint64_t nread, last_seq, last_time, last_index, enrol_index, silent_after, iv;
    uint16_t last_flags;
    uint32_t day_key;
    uint32_t day_n;
    int online;
} mview;

static int visible(const req *q, const char *ent)
{
    return q->who->role != WN_ROLE_ENTERPRISE || strcmp(q->who->enterprise, ent) == 0;
}

static void copy_meter(const req *q, const mon_meter *mm, mview *v)
{
    memcpy(v->id, mm->id, 32);
    v->num = mm->num;
    v->ent = mm->ent;
    v->parent = mm->parent;
    v->point = mm->point;
    v->tier = mm->tier;
    v->source = mm->source;
    v->alg = mm->alg;
    v->revoked = mm->revoked;
    v->has_parent = mm->has_parent;
    v->nread = mm->nread;
    v->last_seq = mm->last_seq;
    v->last_time = mm->last_time;
    v->last_index = mm->last_index;
    v->enrol_index = mm->enrol_index;
    v->last_flags = mm->last_flags;
    v->silent_after = mon_silent_after(q->m, mm);
    v->iv = mm->niv ? mm->iv[0] : 0;
    v->day_key = mm->day_key;
    v->day_n = mm->day.n;
    v->online = !mm->revoked && mm->nread && q->now <= mm->last_time + v->silent_after;
}

/* ---- JSON pieces ---- */

static void j_m3(wn_buf *b, __int128 v)
{
    char s[48];
    mon_fmt_m3(s, v);
    wn_buf_str(b, s);
}

static void j_num(wn_buf *b, double v)
{
    if (!isfinite(v)) wn_buf_str(b, "null");
    else wn_buf_printf(b, "%.10g", v);
}

static void j_time(wn_buf *b, uint64_t ms)
{
    char t[25];
    wn_time_format(t, ms);
    wn_buf_printf(b, "\"%s\"", t);
}

static void j_day(wn_buf *b, uint32_t day)
{
    int y;
    unsigned mo, d;
    mon_civil(day, &y, &mo, &d);
    wn_buf_printf(b, "\"%04d-%02u-%02u\"", y, mo, d);
}

/* ,"zone":"+HH:MM","zone_ms":OFFSET: the zone of every day, month and year in the answers */
static void j_zone(wn_buf *b)
{
    char z[7];
    wn_zone_format(z, wn_zone_minutes());
    wn_buf_printf(b, ",\"zone\":\"%s\",\"zone_ms\":%lld", z, (long long)wn_zone_offset_ms());
}

static void j_flags(wn_buf *b, unsigned flags)
{
    wn_buf_str(b, "[");
    int first = 1;
    for (unsigned bit = 0; bit < 16; bit++) {
        if (!(flags & (1u << bit)) || !wn_flag_name(bit)) continue;
        wn_buf_printf(b, "%s\"%s\"", first ? "" : ",", wn_flag_name(bit));
        first = 0;
    }
    wn_buf_str(b, "]");
}

static void j_meter_fields(const req *q, wn_buf *b, const mview *v)
{
    wn_buf_str(b, "\"meter\":");
    wn_buf_json_hex(b, v->id, 32);
    wn_names_json_meter(q->m->names, b, v->id);
    wn_buf_str(b, ",\"enterprise\":");
    wn_buf_json_str(b, q->m->et[v->ent]->name);
    wn_names_json_enterprise(q->m->names, b, q->m->et[v->ent]->name);
    wn_buf_printf(b, ",\"point\":\"%s\",\"tier\":%u,\"source\":\"%s\",\"alg\":\"%s\",\"parent\":", wn_point_name(v->point),
                  v->tier, wn_source_name(v->source), wn_alg_name(v->alg) ? wn_alg_name(v->alg) : "unknown");
    if (v->has_parent && v->parent != MON_NONE) wn_buf_json_hex(b, q->m->mt[v->parent]->id, 32);
    else wn_buf_str(b, "null");
    wn_buf_printf(b, ",\"revoked\":%s,\"online\":%s,\"readings\":%llu,\"last_seq\":%llu,\"last_time\":",
                  v->revoked ? "true" : "false", v->online ? "true" : "false", (unsigned long long)v->nread,
                  (unsigned long long)v->last_seq);
    if (v->nread) j_time(b, v->last_time);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"last_index\":");
    if (v->nread) wn_buf_printf(b, "%llu", (unsigned long long)v->last_index);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"last_flags\":");
    j_flags(b, v->last_flags);
    wn_buf_printf(b, ",\"interval_ms\":%llu,\"silent_after_ms\":%llu", (unsigned long long)v->iv,
                  (unsigned long long)v->silent_after);
}

static const char *qname(unsigned q) { return wn_quantity_name(q); }

/* "cleared" (null, "balanced" or "not_judged") and "revised" (null or {"count","by","note"}):
 * what later ledger entries changed in an alert. */
static void j_revision(wn_buf *b, const mon_alert *a)
{
    static const char *const why[] = {"null", "\"balanced\"", "\"not_judged\""};
    wn_buf_str(b, a->cleared <= MON_CLEAR_NOT_JUDGED ? why[a->cleared] : "null");
    wn_buf_str(b, ",\"revised\":");
    if (!a->revised) {
        wn_buf_str(b, "null");
        return;
    }
    wn_buf_printf(b, "{\"count\":%u,\"by\":%llu,\"note\":", a->revised, (unsigned long long)a->revised_by);
    char note[256], day[11];
    int y;
    unsigned mo, d;
    mon_civil((uint32_t)a->seq_a, &y, &mo, &d);
    snprintf(day, sizeof day, "%04d-%02u-%02u", y, mo, d);
    if (a->cleared == MON_CLEAR_BALANCED)
        snprintf(note, sizeof note,
                 "cleared: readings of %s that arrived late (ledger index %llu) bring the imbalance to %.2f %%, "
                 "within the threshold of %.2f %%",
                 day, (unsigned long long)a->revised_by, a->value, a->limit);
    else if (a->cleared == MON_CLEAR_NOT_JUDGED)
        snprintf(note, sizeof note,
                 "cleared: with the readings that arrived late (ledger index %llu) %s is no longer judged (a member "
                 "of the family began reporting that day, or the parent's volume is below balance_min_m3)",
                 (unsigned long long)a->revised_by, day);
    else
        snprintf(note, sizeof note,
                 "updated: readings of %s that arrived late (ledger index %llu) change the imbalance to %.2f %%, "
                 "still above the threshold of %.2f %%",
                 day, (unsigned long long)a->revised_by, a->value, a->limit);
    wn_buf_json_str(b, note);
    wn_buf_str(b, "}");
}

static void j_alert(const req *q, wn_buf *b, const mon_alert *a)
{
    wn_monitor *m = q->m;
    char id[33];
    wn_hex_encode(id, a->id, 16);
    wn_buf_printf(b, "{\"id\":\"%s\",\"kind\":\"%s\",\"quantity\":", id, mon_kind_name(a->kind));
    if (a->kind == MK_QUALITY && qname(a->quantity)) wn_buf_printf(b, "\"%s\"", qname(a->quantity));
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"time\":");
    j_time(b, a->time);
    wn_buf_str(b, ",\"end_time\":");
    if (a->end_time) j_time(b, a->end_time);
    else wn_buf_str(b, "null");
    wn_buf_printf(b, ",\"ongoing\":%s,\"meter\":", a->end_time ? "false" : "true");
    if (a->meter < m->nmt) wn_buf_json_hex(b, m->mt[a->meter]->id, 32);
    else wn_buf_str(b, "null");
    if (a->meter < m->nmt) wn_names_json_meter(m->names, b, m->mt[a->meter]->id);
    else wn_buf_str(b, ",\"label\":null");
    wn_buf_str(b, ",\"enterprise\":");
    wn_buf_json_str(b, a->ent < m->net ? m->et[a->ent]->name : "");
    wn_names_json_enterprise(m->names, b, a->ent < m->net ? m->et[a->ent]->name : "");
    wn_buf_printf(b, ",\"count\":%u,\"folded\":%u,\"evidence\":[", a->count, a->folded);
    for (unsigned i = 0; i < a->nev; i++) wn_buf_printf(b, "%s%llu", i ? "," : "", (unsigned long long)a->ev[i]);
    wn_buf_str(b, "],\"value\":");
    j_num(b, a->value);
    wn_buf_str(b, ",\"limit\":");
    j_num(b, a->limit);
    wn_buf_str(b, ",\"detail\":{");
    switch (a->kind) {
    case MK_SILENT:
        wn_buf_printf(b, "\"silent_after_ms\":%.0f,\"silent_for_ms\":%llu", a->limit,
                      (unsigned long long)((a->end_time ? a->end_time : q->now) - (a->time - (uint64_t)a->limit)));
        break;
    case MK_SEQ_GAP:
        wn_buf_printf(b, "\"expected_seq\":%llu,\"received_seq\":%llu", (unsigned long long)a->seq_a,
                      (unsigned long long)a->seq_b);
        break;
    case MK_EQUIVOCATION: wn_buf_printf(b, "\"seq\":%llu", (unsigned long long)a->seq_a); break;
    case MK_IMBALANCE:
        wn_buf_str(b, "\"day\":");
        j_day(b, (uint32_t)a->seq_a);
        wn_buf_str(b, ",\"parent_m3\":");
        j_num(b, a->a1);
        wn_buf_str(b, ",\"children_m3\":");
        j_num(b, a->a2);
        wn_buf_str(b, ",\"imbalance_m3\":");
        j_num(b, a->a1 - a->a2);
        wn_buf_str(b, ",\"imbalance_pct\":");
        j_num(b, a->value);
        break;
    case MK_NIGHT_FLOW:
        wn_buf_str(b, "\"day\":");
        j_day(b, (uint32_t)a->seq_a);
        wn_buf_str(b, ",\"min_m3h\":");
        j_num(b, a->value);
        wn_buf_str(b, ",\"reference_m3h\":");
        j_num(b, a->a1);
        wn_buf_printf(b, ",\"reference_nights\":%.0f,\"day_kind\":\"%s\"", a->a2, a->seq_b ? "rest" : "working");
        break;
    case MK_OVER_PLAN:
        wn_buf_printf(b, "\"year\":%llu,\"used_m3\":", (unsigned long long)a->seq_a);
        j_num(b, a->value);
        wn_buf_str(b, ",\"plan_m3\":");
        j_num(b, a->limit);
        wn_buf_str(b, ",\"over_pct\":");
        j_num(b, a->limit > 0 ? (a->value - a->limit) / a->limit * 100 : NAN);
        break;
    default: break;
    }
    wn_buf_str(b, "},\"cleared\":");
    j_revision(b, a);
    wn_buf_str(b, ",\"ack\":");
    const mon_ack *k = mon_ack_find(m, a->id);
    if (k) {
        wn_buf_str(b, "{\"by\":");
        wn_buf_json_str(b, k->by);
        wn_buf_printf(b, ",\"role\":\"%s\",\"token\":\"%s\",\"time\":", k->role, k->token);
        j_time(b, k->time);
        wn_buf_str(b, ",\"note\":");
        wn_buf_json_str(b, k->note);
        wn_buf_printf(b, ",\"folded\":%u}", k->folded);
    } else {
        wn_buf_str(b, "null");
    }
    wn_buf_str(b, "}");
}

/* ---- query parameters ---- */

/* "YYYY-MM-DD" -> day key (the node's zone). */
static int parse_day(const char *s, uint32_t *day)
{
    int y;
    unsigned mo, d;
    char tail;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2u-%2u%c", &y, &mo, &d, &tail) != 3 || s[4] != '-' || s[7] != '-' ||
        y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    uint32_t k = mon_day_of(y, mo, d);
    int y2;
    unsigned mo2, d2;
    mon_civil(k, &y2, &mo2, &d2);
    if (y2 != y || mo2 != mo || d2 != d) return 0; /* 2026-02-30 */
    *day = k;
    return 1;
}

static int bad(wn_response *out, const char *detail)
{
    wn_reply_error(out, WN_NE_BAD_REQUEST, detail);
    return 0;
}

/* from/to as local days ([from, to)); defaults given. */
static int day_window(const req *q, uint32_t def_from, uint32_t def_to, uint32_t *from, uint32_t *to, wn_response *out)
{
    const char *f = q->get(q->ctx, "from"), *t = q->get(q->ctx, "to");
    *from = def_from;
    *to = def_to;
    if (f && !parse_day(f, from)) return bad(out, "from must be a day YYYY-MM-DD (in the node's zone, GET /v1/monitor/whoami)");
    if (t && !parse_day(t, to)) return bad(out, "to must be a day YYYY-MM-DD (in the node's zone; the window is [from, to))");
    if (*from >= *to) return bad(out, "from must be before to");
    if (*to - *from > MAX_DAYS) return bad(out, "the window is longer than ten years");
    return 1;
}

/* from/to as TIME (RFC 3339 or ms), taken down to whole hours: local hour keys [from, to). */
static int hour_window(const req *q, uint32_t def_from, uint32_t def_to, uint32_t *from, uint32_t *to, wn_response *out)
{
    const char *f = q->get(q->ctx, "from"), *t = q->get(q->ctx, "to");
    uint64_t ms;
    *from = def_from;
    *to = def_to;
    if (f) {
        if (!wn_parse_time_param(f, &ms)) return bad(out, "from must be a TIME: RFC 3339 (2026-03-01T00:00:00.000Z) or milliseconds");
        *from = mon_hour_key(ms);
    }
    if (t) {
        if (!wn_parse_time_param(t, &ms)) return bad(out, "to must be a TIME: RFC 3339 (2026-03-02T00:00:00.000Z) or milliseconds");
        *to = mon_hour_key(ms);
    }
    if (*from >= *to) return bad(out, "from must be at least an hour before to (the window is [from, to), in whole hours)");
    if (*to - *from > MAX_DAYS * 24u) return bad(out, "the window is longer than ten years");
    return 1;
}

/* ---- bucket sums ---- */

/* Sum of meter num's buckets with keys [from, to) (days or hours), through txn. */
static __int128 bucket_sum(wn_monitor *m, MDB_txn *txn, int days, uint32_t num, uint32_t from, uint32_t to)
{
    MDB_cursor *cur;
    __int128 s = 0;
    if (mdb_cursor_open(txn, days ? m->days : m->hours, &cur)) return 0;
    uint8_t kb[8];
    wn_put_u32(kb, num);
    wn_put_u32(kb + 4, from);
    MDB_val k = {8, kb}, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || wn_get_u32(k.mv_data) != num || wn_get_u32((uint8_t *)k.mv_data + 4) >= to) break;
        mon_bucket b;
        if (mon_bucket_decode(&b, v.mv_data, v.mv_size)) s += b.vol;
    }
    mdb_cursor_close(cur);
    return s;
}

/* Volume of a window in whole hours, with day buckets for the whole days inside it. */
static __int128 window_sum(wn_monitor *m, MDB_txn *txn, uint32_t num, uint32_t hfrom, uint32_t hto)
{
    uint32_t dfrom = (hfrom + 23) / 24, dto = hto / 24;
    if (dfrom >= dto) return bucket_sum(m, txn, 0, num, hfrom, hto);
    return bucket_sum(m, txn, 0, num, hfrom, dfrom * 24) + bucket_sum(m, txn, 1, num, dfrom, dto) +
           bucket_sum(m, txn, 0, num, dto * 24, hto);
}

/* ---- pages ---- */

/* One page of a list: the items the caller may see, numbered from 0 in the list's order
 * (insertion or key order, so a list that does not change is walked exactly once). */
typedef struct {
    uint64_t from, limit, pos, shown;
    int more; /* an item after the page exists */
} page;

/* from=N and limit=1..LIST_MAX (default LIST_MAX). Returns: 1; 0 after answering 400. */
static int page_args(const req *q, page *p, wn_response *out)
{
    const char *f = q->get(q->ctx, "from"), *l = q->get(q->ctx, "limit");
    memset(p, 0, sizeof *p);
    p->limit = LIST_MAX;
    if ((f && !wn_parse_u64(f, UINT64_MAX >> 1, &p->from)) || (l && (!wn_parse_u64(l, LIST_MAX, &p->limit) || !p->limit))) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "from=N (a position) and limit=1..1000 are decimal numbers");
        return 0;
    }
    return 1;
}

/* Whether the next visible item goes on the page (and counts it). */
static int page_take(page *p)
{
    uint64_t at = p->pos++;
    if (at < p->from) return 0;
    if (p->shown == p->limit) {
        p->more = 1;
        return 0;
    }
    p->shown++;
    return 1;
}

/* Closes the list: `],"next":N|null`. */
static void page_end(wn_buf *b, const page *p)
{
    if (p->more) wn_buf_printf(b, "],\"next\":%llu", (unsigned long long)(p->from + p->shown));
    else wn_buf_str(b, "],\"next\":null");
}

/* ---- counting alerts ---- */

typedef int (*alert_fn)(const req *q, const mon_alert *a, void *ctx);

/* Calls fn for every alert the caller may see (derived ones, then sequence gaps). */
static void each_alert(const req *q, alert_fn fn, void *ctx)
{
    wn_monitor *m = q->m;
    for (size_t i = 0; i < m->nal; i++)
        if (m->al[i].ent < m->net && visible(q, m->et[m->al[i].ent]->name) && fn(q, &m->al[i], ctx)) return;
    for (size_t i = 0; i < m->ngaps; i++)
        if (m->gaps[i].ent < m->net && visible(q, m->et[m->gaps[i].ent]->name) && fn(q, &m->gaps[i], ctx)) return;
}

typedef struct {
    size_t open, ongoing, total, by_kind[MK_COUNT];
    int ent; /* -1: all */
} alert_count;

static int count_alert(const req *q, const mon_alert *a, void *ctx)
{
    alert_count *c = ctx;
    if (c->ent >= 0 && a->ent != (uint32_t)c->ent) return 0;
    c->total++;
    if (!a->end_time) c->ongoing++;
    if (!a->cleared && !mon_ack_covers(q->m, a)) {
        c->open++;
        c->by_kind[a->kind]++;
    }
    return 0;
}

/* ---- overview ---- */

/* null when the node does not anchor (no --anchor-rpc), else what its anchoring thread
 * reported last: {"anchored_size","block","time","pending","chain_up","error"}. */
static void j_anchor(const req *q, wn_buf *b)
{
    if (!q->n->anchorer) {
        wn_buf_str(b, "null");
        return;
    }
    wn_anchor_status st;
    memset(&st, 0, sizeof st);
    wn_anchorer_status(q->n->anchorer, &st);
    wn_buf_printf(b, "{\"anchored_size\":%llu,\"block\":", (unsigned long long)st.anchored_size);
    if (st.anchored_size) wn_buf_printf(b, "%llu", (unsigned long long)st.anchored_block);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"time\":");
    if (st.anchored_size && st.anchored_block_time) j_time(b, st.anchored_block_time * 1000u);
    else wn_buf_str(b, "null");
    wn_buf_printf(b, ",\"pending\":%llu,\"chain_up\":%s,\"error\":", (unsigned long long)st.pending,
                  st.chain_up ? "true" : "false");
    if (st.last_error[0]) wn_buf_json_str(b, st.last_error);
    else wn_buf_str(b, "null");
    wn_buf_str(b, "}");
}

static void overview(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    uint32_t today = mon_day_key(q->now);
    size_t ents = 0, total = 0, online = 0, revoked = 0, never = 0;
    uint64_t today_n = 0;
    alert_count ac = {.ent = -1};
    pthread_rwlock_rdlock(&m->lock);
    for (size_t i = 0; i < m->net; i++)
        if (visible(q, m->et[i]->name) && m->et[i]->nmeters) ents++;
    for (size_t i = 0; i < m->nmt; i++) {
        const mon_meter *mm = m->mt[i];
        if (!visible(q, m->et[mm->ent]->name)) continue;
        mview v;
        copy_meter(q, mm, &v);
        total++;
        revoked += v.revoked;
        online += v.online;
        never += !v.revoked && !v.nread;
        if (v.day_key == today) today_n += v.day_n;
    }
    each_alert(q, count_alert, &ac);
    uint64_t applied = m->applied;
    pthread_rwlock_unlock(&m->lock);

    uint64_t size = 0, cps = 0;
    wn_ledger_size(q->n->ledger, &size);
    char note[WN_CHECKPOINT_MAX + 1];
    size_t nlen;
    int have_cp = wn_ledger_get_checkpoint(q->n->ledger, 0, note, sizeof note, &nlen, &cps) == WN_LEDGER_OK;

    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"time\":");
    j_time(&b, q->now);
    wn_buf_str(&b, ",\"today\":");
    j_day(&b, today);
    j_zone(&b);
    wn_buf_printf(&b, ",\"role\":\"%s\",\"enterprises\":%zu,\"meters\":{\"total\":%zu,\"online\":%zu,\"offline\":%zu,"
                      "\"revoked\":%zu,\"never_reported\":%zu},\"readings_today\":%llu,",
                  wn_role_name(q->who->role), ents, total, online, total - revoked - online, revoked, never,
                  (unsigned long long)today_n);
    wn_buf_printf(&b, "\"alerts\":{\"open\":%zu,\"ongoing\":%zu,\"total\":%zu,\"open_by_kind\":{", ac.open, ac.ongoing,
                  ac.total);
    int first = 1;
    for (unsigned k = 1; k < MK_COUNT; k++) {
        wn_buf_printf(&b, "%s\"%s\":%zu", first ? "" : ",", mon_kind_name(k), ac.by_kind[k]);
        first = 0;
    }
    wn_buf_printf(&b, "}},\"ledger\":{\"size\":%llu,\"monitored\":%llu},\"checkpoint\":", (unsigned long long)size,
                  (unsigned long long)applied);
    if (have_cp) wn_buf_printf(&b, "{\"size\":%llu,\"behind\":%llu}", (unsigned long long)cps,
                               (unsigned long long)(size > cps ? size - cps : 0));
    else wn_buf_str(&b, "null");
    wn_buf_str(&b, ",\"anchor\":");
    j_anchor(q, &b);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- enterprises ---- */

static void enterprises(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    page pg;
    if (!page_args(q, &pg, out)) return;
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"enterprises\":[");
    pthread_rwlock_rdlock(&m->lock);
    int first = 1;
    for (size_t i = 0; i < m->net; i++) {
        const mon_ent *e = m->et[i];
        if (!visible(q, e->name) || !e->nmeters || !page_take(&pg)) continue;
        size_t online = 0, revoked = 0;
        uint64_t last = 0;
        for (size_t k = 0; k < e->nmeters; k++) {
            mview v;
            copy_meter(q, m->mt[e->meters[k]], &v);
            online += v.online;
            revoked += v.revoked;
            if (v.nread && v.last_time > last) last = v.last_time;
        }
        alert_count ac = {.ent = (int)i};
        each_alert(q, count_alert, &ac);
        wn_buf_str(&b, first ? "{\"enterprise\":" : ",{\"enterprise\":");
        first = 0;
        wn_buf_json_str(&b, e->name);
        wn_names_json_enterprise(m->names, &b, e->name);
        wn_buf_printf(&b, ",\"meters\":%zu,\"online\":%zu,\"offline\":%zu,\"revoked\":%zu,\"open_alerts\":%zu,\"last_time\":",
                      e->nmeters, online, e->nmeters - online - revoked, revoked, ac.open);
        if (last) j_time(&b, last);
        else wn_buf_str(&b, "null");
        wn_buf_str(&b, "}");
    }
    pthread_rwlock_unlock(&m->lock);
    page_end(&b, &pg);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- enterprise view ---- */

enum { C_SRC = 0 /* 1..6 by source */, C_RECYCLED = 7, C_DISCHARGE = 8, C_N = 9 };

static void j_cats(wn_buf *b, const __int128 *c)
{
    __int128 intake = 0, nonconv = 0;
    for (unsigned s = 1; s <= WN_SOURCE_MAX; s++) {
        intake += c[s];
        if (s >= WN_SOURCE_RECLAIMED) nonconv += c[s];
    }
    wn_buf_str(b, "\"intake\":{");
    for (unsigned s = 1; s <= WN_SOURCE_MAX; s++) {
        wn_buf_printf(b, "%s\"%s\":", s > 1 ? "," : "", wn_source_name(s));
        j_m3(b, c[s]);
    }
    wn_buf_str(b, "},\"intake_total\":");
    j_m3(b, intake);
    wn_buf_str(b, ",\"nonconventional\":");
    j_m3(b, nonconv);
    wn_buf_str(b, ",\"recycled\":");
    j_m3(b, c[C_RECYCLED]);
    wn_buf_str(b, ",\"discharge\":");
    j_m3(b, c[C_DISCHARGE]);
    double vf = mon_m3(intake), vr = mon_m3(c[C_RECYCLED]);
    wn_buf_str(b, ",\"reuse_rate\":");
    if (vf + vr > 0) j_num(b, vr / (vf + vr) * 100);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"nonconventional_share\":");
    if (intake > 0) j_num(b, mon_m3(nonconv) / vf * 100);
    else wn_buf_str(b, "null");
}

/* Which column a meter's volume goes to, or -1: parentless intake (by source), recycling
 * and discharge meters; sub-meters would count the same water twice. */
static int category(const mview *v)
{
    if (v->has_parent) return -1;
    if (v->point == WN_POINT_INTAKE) return v->source;
    if (v->point == WN_POINT_RECYCLING) return C_RECYCLED;
    if (v->point == WN_POINT_DISCHARGE) return C_DISCHARGE;
    return -1;
}

typedef struct {
    const char *ent;
    size_t entlen;
    wn_buf *b;
    int first;
    wn_monitor *m;
    MDB_txn *txn;
    mview *mv;
    size_t nmv;
} prod_ctx;

/* Intake (category 1..6 meters) over the local days of a month. */
static __int128 month_intake(prod_ctx *c, int y, unsigned mo)
{
    uint32_t from = mon_day_of(y, mo, 1), to = mo == 12 ? mon_day_of(y + 1, 1, 1) : mon_day_of(y, mo + 1, 1);
    __int128 s = 0;
    for (size_t i = 0; i < c->nmv; i++) {
        int cat = category(&c->mv[i]);
        if (cat >= 1 && cat <= WN_SOURCE_MAX) s += bucket_sum(c->m, c->txn, 1, c->mv[i].num, from, to);
    }
    return s;
}

static int production_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    prod_ctx *c = ctx;
    const char *key = k;
    if (kl < c->entlen + 10 || key[c->entlen] != 0 || key[c->entlen + 8] != 0) return 0;
    char month[8], product[48];
    memcpy(month, key + c->entlen + 1, 7);
    month[7] = '\0';
    size_t pl = kl - c->entlen - 9;
    if (pl >= sizeof product) return 0;
    memcpy(product, key + c->entlen + 9, pl);
    product[pl] = '\0';
    const wn_quota *quota = wn_quota_find(product);
    char qty[64] = "";
    const char *qs = memmem(v, vl, "\"quantity\":\"", 12);
    if (qs) {
        qs += 12;
        size_t i = 0;
        while (i + 1 < sizeof qty && qs + i < (const char *)v + vl && qs[i] != '"') qty[i] = qs[i], i++;
        qty[i] = '\0';
    }
    int y;
    unsigned mo;
    if (!quota || sscanf(month, "%4d-%2u", &y, &mo) != 2) return 0;
    /* the quota table of the enterprise's province (its credit code; ids that are not credit
     * codes: WN_QUOTA_PROVINCE's), a data file (quota_files.h) */
    char prov[3];
    const char *pv = wn_credit_code_province(c->ent, prov);
    const wn_quota_region *region = wn_quota_region_of(pv ? pv : WN_QUOTA_PROVINCE);
    double qv = wn_quota_region_value(region, product);
    int applies = isfinite(qv);
    __int128 intake = month_intake(c, y, mo);
    double q = atof(qty);
    wn_buf *b = c->b;
    wn_buf_printf(b, "%s{\"month\":\"%s\",\"product\":\"%s\",\"quantity\":%s,\"unit\":\"%s\",\"intake_m3\":",
                  c->first ? "" : ",", month, product, qty[0] ? qty : "null", quota->unit);
    c->first = 0;
    j_m3(b, intake);
    double per = q > 0 ? mon_m3(intake) / q : NAN;
    wn_buf_str(b, ",\"m3_per_unit\":");
    j_num(b, per);
    wn_buf_str(b, ",\"quota\":");
    j_num(b, qv);
    wn_buf_str(b, ",\"quota_ratio\":");
    j_num(b, per / qv);
    wn_buf_printf(b, ",\"over_quota\":%s,\"province\":", applies && per > qv ? "true" : "false");
    if (pv) wn_buf_printf(b, "\"%s\"", pv);
    else wn_buf_str(b, "null");
    wn_buf_str(b, ",\"quota_source\":");
    if (applies) wn_buf_json_str(b, region->source);
    else wn_buf_str(b, "null");
    wn_buf_str(b, "}");
    return 0;
}

static void enterprise(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    const char *name = q->get(q->ctx, "id");
    if (!name || !*name || strlen(name) > WN_ENTERPRISE_MAX) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "id=ENTERPRISE is required");
        return;
    }
    if (!visible(q, name)) {
        wn_reply_error(out, WN_NE_FORBIDDEN, "an enterprise token sees only its own enterprise");
        return;
    }
    int y;
    unsigned mo, d;
    uint32_t today = mon_day_key(q->now);
    mon_civil(today, &y, &mo, &d);
    uint32_t from, to;
    if (!day_window(q, mon_day_of(y, 1, 1), today + 1, &from, &to, out)) return;

    pthread_rwlock_rdlock(&m->lock);
    mon_ent *e = mon_ent_get(m, name, 0);
    size_t nmv = e ? e->nmeters : 0;
    mview *mv = calloc(nmv ? nmv : 1, sizeof *mv);
    __int128 used = 0, plan = -1;
    uint32_t year = (uint32_t)y;
    if (e && mv) {
        for (size_t i = 0; i < nmv; i++) copy_meter(q, m->mt[e->meters[i]], &mv[i]);
        used = mon_ent_year(e, year);
        const mon_plan *p = mon_plan_find(m, name, year);
        if (p) plan = p->plan;
    }
    pthread_rwlock_unlock(&m->lock);
    if (!e) {
        free(mv);
        wn_reply_error(out, WN_NE_NOT_FOUND, "no meter of this enterprise is enrolled");
        return;
    }
    if (!mv) {
        wn_reply_error(out, WN_NE_INTERNAL, "out of memory");
        return;
    }
    size_t ndays = to - from;
    __int128(*days)[C_N] = calloc(ndays, sizeof *days);
    uint8_t *has = calloc(ndays, 1);
    MDB_txn *txn = NULL;
    if (!days || !has || wn_envgate_begin(m->env, MDB_RDONLY, &txn)) {
        free(days), free(has), free(mv);
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the aggregates");
        return;
    }
    for (size_t i = 0; i < nmv; i++) {
        int cat = category(&mv[i]);
        if (cat < 0) continue;
        MDB_cursor *cur;
        if (mdb_cursor_open(txn, m->days, &cur)) continue;
        uint8_t kb[8];
        wn_put_u32(kb, mv[i].num);
        wn_put_u32(kb + 4, from);
        MDB_val k = {8, kb}, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uint32_t dk = wn_get_u32((uint8_t *)k.mv_data + 4);
            if (k.mv_size != 8 || wn_get_u32(k.mv_data) != mv[i].num || dk >= to) break;
            mon_bucket bk;
            if (!mon_bucket_decode(&bk, v.mv_data, v.mv_size)) continue;
            days[dk - from][cat] += bk.vol;
            has[dk - from] = 1;
        }
        mdb_cursor_close(cur);
    }

    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"enterprise\":");
    wn_buf_json_str(&b, name);
    wn_names_json_enterprise(m->names, &b, name);
    wn_buf_str(&b, ",\"from\":");
    j_day(&b, from);
    wn_buf_str(&b, ",\"to\":");
    j_day(&b, to);
    wn_buf_str(&b, ",\"meters\":[");
    pthread_rwlock_rdlock(&m->lock); /* names of parents and the enterprise */
    for (size_t i = 0; i < nmv; i++) {
        wn_buf_str(&b, i ? ",{" : "{");
        j_meter_fields(q, &b, &mv[i]);
        wn_buf_str(&b, "}");
    }
    pthread_rwlock_unlock(&m->lock);
    /* days: from the first day with data on */
    size_t start = 0;
    while (start < ndays && !has[start]) start++;
    wn_buf_str(&b, "],\"days\":[");
    __int128 tot[C_N] = {0}, mon[C_N] = {0};
    for (size_t i = start; i < ndays; i++) {
        wn_buf_str(&b, i > start ? ",{\"day\":" : "{\"day\":");
        j_day(&b, from + (uint32_t)i);
        wn_buf_str(&b, ",");
        j_cats(&b, days[i]);
        wn_buf_str(&b, "}");
        for (int c = 0; c < C_N; c++) tot[c] += days[i][c];
    }
    wn_buf_str(&b, "],\"months\":[");
    int first = 1, cy = -1;
    unsigned cmo = 0;
    for (size_t i = start; i <= ndays; i++) {
        int yy = 0;
        unsigned mm = 0, dd;
        if (i < ndays) mon_civil(from + (uint32_t)i, &yy, &mm, &dd);
        if (cy >= 0 && (i == ndays || yy != cy || mm != cmo)) {
            wn_buf_printf(&b, "%s{\"month\":\"%04d-%02u\",", first ? "" : ",", cy, cmo);
            first = 0;
            j_cats(&b, mon);
            wn_buf_str(&b, "}");
            memset(mon, 0, sizeof mon);
        }
        if (i == ndays) break;
        cy = yy;
        cmo = mm;
        for (int c = 0; c < C_N; c++) mon[c] += days[i][c];
    }
    wn_buf_str(&b, "],\"totals\":{");
    j_cats(&b, tot);
    wn_buf_printf(&b, "},\"plan\":");
    if (plan >= 0) {
        wn_buf_printf(&b, "{\"year\":%u,\"plan_m3\":", year);
        j_m3(&b, plan);
        wn_buf_str(&b, ",\"used_m3\":");
        j_m3(&b, used);
        double pm = mon_m3(plan), um = mon_m3(used);
        wn_buf_str(&b, ",\"use_pct\":");
        j_num(&b, pm > 0 ? um / pm * 100 : NAN);
        wn_buf_str(&b, ",\"over_m3\":");
        j_m3(&b, used > plan ? used - plan : 0);
        wn_buf_str(&b, ",\"over_pct\":");
        j_num(&b, pm > 0 ? (um > pm ? (um - pm) / pm * 100 : 0) : NAN);
        wn_buf_str(&b, "}");
    } else {
        wn_buf_printf(&b, "null,\"year\":%u,\"used_m3\":", year);
        j_m3(&b, used);
    }
    wn_buf_str(&b, ",\"production\":[");
    prod_ctx pc = {name, strlen(name), &b, 1, m, txn, mv, nmv};
    wn_bureau_each(m->bureau, WN_BT_PRODUCTION, name, strlen(name) + 1, production_row, &pc);
    /* plan against use month by month in the plan year (to the current month) */
    wn_buf_printf(&b, "],\"plan_months\":[");
    __int128 cum = 0;
    unsigned last_mo = (int)year == y ? mo : 12;
    for (unsigned k = 1; k <= last_mo; k++) {
        __int128 v = month_intake(&pc, (int)year, k);
        cum += v;
        wn_buf_printf(&b, "%s{\"month\":\"%04u-%02u\",\"used_m3\":", k > 1 ? "," : "", year, k);
        j_m3(&b, v);
        wn_buf_str(&b, ",\"cumulative_m3\":");
        j_m3(&b, cum);
        wn_buf_str(&b, ",\"plan_pct\":");
        j_num(&b, plan > 0 ? mon_m3(cum) / mon_m3(plan) * 100 : NAN);
        wn_buf_str(&b, "}");
    }
    wn_buf_str(&b, "]");
    wn_monitor_value_added_json(m, &b, name);
    wn_buf_str(&b, "}");
    wn_envgate_abort(m->env, txn);
    free(days);
    free(has);
    free(mv);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- balance ---- */

static void balance(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    const char *ent = q->get(q->ctx, "enterprise");
    if (ent && !visible(q, ent)) {
        wn_reply_error(out, WN_NE_FORBIDDEN, "an enterprise token sees only its own enterprise");
        return;
    }
    uint32_t today = mon_day_key(q->now), hf, ht;
    if (!hour_window(q, (today - 1) * 24, today * 24, &hf, &ht, out)) return;
    double thr;
    /* parents and their children, copied */
    pthread_rwlock_rdlock(&m->lock);
    thr = m->set.imbalance_pct;
    size_t cap = 0, np = 0, nk = 0;
    for (size_t i = 0; i < m->nmt; i++) {
        const mon_meter *mm = m->mt[i];
        if (!mm->nkids || !visible(q, m->et[mm->ent]->name) || (ent && strcmp(ent, m->et[mm->ent]->name) != 0)) continue;
        np++;
        cap += mm->nkids;
    }
    mview *pv = calloc(np ? np : 1, sizeof *pv), *kv = calloc(cap ? cap : 1, sizeof *kv);
    size_t *kfrom = calloc(np + 1, sizeof *kfrom);
    if (pv && kv && kfrom) {
        np = 0;
        for (size_t i = 0; i < m->nmt; i++) {
            const mon_meter *mm = m->mt[i];
            if (!mm->nkids || !visible(q, m->et[mm->ent]->name) || (ent && strcmp(ent, m->et[mm->ent]->name) != 0))
                continue;
            copy_meter(q, mm, &pv[np]);
            kfrom[np++] = nk;
            for (size_t k = 0; k < mm->nkids; k++) copy_meter(q, m->mt[mm->kids[k]], &kv[nk++]);
        }
        kfrom[np] = nk;
    }
    pthread_rwlock_unlock(&m->lock);
    MDB_txn *txn = NULL;
    if (!pv || !kv || !kfrom || wn_envgate_begin(m->env, MDB_RDONLY, &txn)) {
        free(pv), free(kv), free(kfrom);
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the aggregates");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"from\":");
    j_time(&b, mon_hour_start(hf));
    wn_buf_str(&b, ",\"to\":");
    j_time(&b, mon_hour_start(ht));
    wn_buf_str(&b, ",\"threshold_pct\":");
    j_num(&b, thr);
    wn_buf_str(&b, ",\"rows\":[");
    size_t flagged = 0;
    for (size_t i = 0; i < np; i++) {
        __int128 pvol = window_sum(m, txn, pv[i].num, hf, ht), ksum = 0;
        wn_buf_str(&b, i ? ",{" : "{");
        pthread_rwlock_rdlock(&m->lock);
        j_meter_fields(q, &b, &pv[i]);
        pthread_rwlock_unlock(&m->lock);
        wn_buf_str(&b, ",\"volume\":");
        j_m3(&b, pvol);
        wn_buf_str(&b, ",\"children\":[");
        for (size_t k = kfrom[i]; k < kfrom[i + 1]; k++) {
            __int128 kvol = window_sum(m, txn, kv[k].num, hf, ht);
            ksum += kvol;
            wn_buf_str(&b, k > kfrom[i] ? ",{\"meter\":" : "{\"meter\":");
            wn_buf_json_hex(&b, kv[k].id, 32);
            wn_names_json_meter(m->names, &b, kv[k].id);
            wn_buf_printf(&b, ",\"point\":\"%s\",\"tier\":%u,\"volume\":", wn_point_name(kv[k].point), kv[k].tier);
            j_m3(&b, kvol);
            wn_buf_str(&b, "}");
        }
        __int128 imb = pvol - ksum;
        double pct = pvol > 0 ? mon_m3(imb) / mon_m3(pvol) * 100 : NAN;
        int flag = isfinite(pct) ? fabs(pct) > thr : ksum > 0;
        flagged += flag;
        wn_buf_str(&b, "],\"children_sum\":");
        j_m3(&b, ksum);
        wn_buf_str(&b, ",\"imbalance_m3\":");
        j_m3(&b, imb);
        wn_buf_str(&b, ",\"imbalance_pct\":");
        j_num(&b, pct);
        wn_buf_printf(&b, ",\"flagged\":%s}", flag ? "true" : "false");
    }
    wn_buf_printf(&b, "],\"flagged\":%zu}", flagged);
    wn_envgate_abort(m->env, txn);
    free(pv), free(kv), free(kfrom);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- meter view ---- */

static void j_stat(wn_buf *b, const char *name, const mon_stat *s, int *first)
{
    if (!s->n) return;
    wn_buf_printf(b, "%s\"%s\":{\"avg\":", *first ? "" : ",", name);
    *first = 0;
    j_num(b, s->sum / s->n);
    wn_buf_str(b, ",\"min\":");
    j_num(b, s->min);
    wn_buf_str(b, ",\"max\":");
    j_num(b, s->max);
    wn_buf_printf(b, ",\"n\":%u}", s->n);
}

static void recent_readings(const req *q, wn_buf *b, const mview *v)
{
    uint8_t buf[WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN];
    int first = 1;
    for (uint64_t s = v->last_seq, k = 0; s >= 1 && k < RECENT; s--, k++) {
        uint64_t index;
        size_t len;
        wn_reading r;
        wn_entry_view ev;
        if (wn_ledger_find(q->n->ledger, v->id, s, &index) != WN_LEDGER_OK ||
            wn_ledger_get(q->n->ledger, index, buf, sizeof buf, &len, NULL, NULL) != WN_LEDGER_OK ||
            wn_entry_parse(&ev, buf, len) != WN_ENTRY_OK || ev.kind != WN_ENTRY_READING ||
            wn_reading_decode(&r, ev.payload, ev.len) != WN_READING_OK)
            break;
        char json[WN_READING_JSON_MAX];
        size_t jl;
        if (wn_reading_to_json(&r, json, sizeof json, &jl) != WN_READING_OK) break;
        wn_buf_printf(b, "%s{\"index\":%llu,\"reading\":", first ? "" : ",", (unsigned long long)index);
        wn_buf_add(b, json, jl);
        wn_buf_str(b, "}");
        first = 0;
    }
}

static void meter_view(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    uint8_t id[32];
    const char *hex = q->get(q->ctx, "id");
    if (!hex || !wn_parse_hex32(hex, id)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "id=METER (64 lowercase hex characters) is required");
        return;
    }
    uint32_t nowh = mon_hour_key(q->now), hf, ht;
    if (!hour_window(q, nowh - 47, nowh + 1, &hf, &ht, out)) return;
    const char *bk = q->get(q->ctx, "bucket");
    int days;
    if (!bk) days = ht - hf > 14 * 24;
    else if (strcmp(bk, "hour") == 0) days = 0;
    else if (strcmp(bk, "day") == 0) days = 1;
    else {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "bucket must be hour or day");
        return;
    }
    uint32_t kf = days ? hf / 24 : hf, kt = days ? (ht + 23) / 24 : ht;
    if (kt - kf > MAX_SERIES) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, days ? "more than 2000 days: ask for a shorter window"
                                                    : "more than 2000 hours: ask for bucket=day or a shorter window");
        return;
    }
    mview v;
    int found = 0, allowed = 1;
    pthread_rwlock_rdlock(&m->lock);
    mon_meter *mm = mon_meter_by_id(m, id);
    if (mm) {
        found = 1;
        allowed = visible(q, m->et[mm->ent]->name);
        copy_meter(q, mm, &v);
    }
    pthread_rwlock_unlock(&m->lock);
    if (!found || !allowed) {
        wn_reply_error(out, found ? WN_NE_FORBIDDEN : WN_NE_NOT_FOUND,
                       found ? "an enterprise token sees only its own meters" : "the meter is not enrolled");
        return;
    }
    MDB_txn *txn;
    if (wn_envgate_begin(m->env, MDB_RDONLY, &txn)) {
        wn_reply_error(out, WN_NE_INTERNAL, "cannot read the aggregates");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{");
    pthread_rwlock_rdlock(&m->lock);
    j_meter_fields(q, &b, &v);
    wn_buf_str(&b, ",\"children\":[");
    for (size_t k = 0; mm && k < mm->nkids; k++) {
        if (k) wn_buf_str(&b, ",");
        wn_buf_json_hex(&b, m->mt[mm->kids[k]]->id, 32);
    }
    pthread_rwlock_unlock(&m->lock);
    wn_buf_printf(&b, "],\"enrol_index\":%llu,\"from\":", (unsigned long long)v.enrol_index);
    uint64_t fms = days ? mon_day_start(kf) : mon_hour_start(kf), tms = days ? mon_day_start(kt) : mon_hour_start(kt);
    j_time(&b, fms);
    wn_buf_str(&b, ",\"to\":");
    j_time(&b, tms);
    wn_buf_printf(&b, ",\"bucket\":\"%s\",\"series\":[", days ? "day" : "hour");
    MDB_cursor *cur;
    uint32_t flagsum[6] = {0};
    if (mdb_cursor_open(txn, days ? m->days : m->hours, &cur) == 0) {
        uint8_t kb[8];
        wn_put_u32(kb, v.num);
        wn_put_u32(kb + 4, kf);
        MDB_val k = {8, kb}, val;
        int first = 1;
        for (int rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
            uint32_t key = wn_get_u32((uint8_t *)k.mv_data + 4);
            if (k.mv_size != 8 || wn_get_u32(k.mv_data) != v.num || key >= kt) break;
            mon_bucket bu;
            if (!mon_bucket_decode(&bu, val.mv_data, val.mv_size)) continue;
            wn_buf_printf(&b, "%s{\"t\":%llu,\"n\":%u,\"volume\":", first ? "" : ",",
                          (unsigned long long)(days ? mon_day_start(key) : mon_hour_start(key)), bu.n);
            first = 0;
            j_m3(&b, bu.vol);
            wn_buf_str(&b, ",\"flags\":");
            j_flags(&b, bu.flags);
            for (int f = 0; f < 6; f++) flagsum[f] += bu.nflag[f];
            int f1 = 1;
            wn_buf_str(&b, ",\"values\":{");
            for (unsigned qq = 2; qq < MON_NQ; qq++) j_stat(&b, qname(qq), &bu.q[qq], &f1);
            wn_buf_str(&b, "},\"first_index\":");
            wn_buf_printf(&b, "%llu,\"last_index\":%llu}", (unsigned long long)bu.first_index,
                          (unsigned long long)bu.last_index);
        }
        mdb_cursor_close(cur);
    }
    wn_envgate_abort(m->env, txn);
    wn_buf_str(&b, "],\"flag_counts\":{");
    for (unsigned f = 0; f < 6; f++) wn_buf_printf(&b, "%s\"%s\":%u", f ? "," : "", wn_flag_name(f), flagsum[f]);
    wn_buf_str(&b, "},\"sequence_gaps\":[");
    pthread_rwlock_rdlock(&m->lock);
    int first = 1;
    for (size_t i = 0; i < m->ngaps; i++) {
        if (m->gaps[i].meter != v.num) continue;
        if (!first) wn_buf_str(&b, ",");
        first = 0;
        j_alert(q, &b, &m->gaps[i]);
    }
    pthread_rwlock_unlock(&m->lock);
    wn_buf_str(&b, "],\"recent\":[");
    recent_readings(q, &b, &v);
    char t1[25], t2[25], hx[65];
    wn_time_format(t1, fms);
    wn_time_format(t2, tms);
    wn_hex_encode(hx, v.id, 32);
    wn_buf_printf(&b, "],\"bundle\":\"/v1/bundle?meter=%s&from=%s&to=%s\"}", hx, t1, t2);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- alerts ---- */

typedef struct {
    const mon_alert **v;
    size_t n, cap;
    int status;            /* 0 all, 1 open (neither acknowledged nor cleared), 2 ongoing, 3 acknowledged */
    int kind;              /* 0: any */
    const char *ent;
    int has_meter;
    uint8_t meter[32];
} alert_pick;

static int pick_alert(const req *q, const mon_alert *a, void *ctx)
{
    alert_pick *p = ctx;
    wn_monitor *m = q->m;
    if (p->kind && a->kind != p->kind) return 0;
    if (p->ent && (a->ent >= m->net || strcmp(m->et[a->ent]->name, p->ent) != 0)) return 0;
    if (p->has_meter && (a->meter >= m->nmt || memcmp(m->mt[a->meter]->id, p->meter, 32) != 0)) return 0;
    int acked = mon_ack_covers(m, a) != NULL;
    if ((p->status == 1 && (acked || a->cleared)) || (p->status == 2 && a->end_time) || (p->status == 3 && !acked))
        return 0;
    if (p->n == p->cap) {
        size_t c = p->cap * 2 + 64;
        void *x = realloc(p->v, c * sizeof *p->v);
        if (!x) return 1;
        p->v = x;
        p->cap = c;
    }
    p->v[p->n++] = a;
    return 0;
}

static int by_time_desc(const void *x, const void *y)
{
    const mon_alert *a = *(const mon_alert *const *)x, *b = *(const mon_alert *const *)y;
    if (a->time != b->time) return a->time < b->time ? 1 : -1;
    return memcmp(a->id, b->id, 16);
}

static void alerts(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    alert_pick p = {0};
    const char *st = q->get(q->ctx, "status"), *kind = q->get(q->ctx, "kind"), *meter = q->get(q->ctx, "meter"),
               *lim = q->get(q->ctx, "limit");
    uint64_t limit = ALERTS_DEFAULT;
    p.ent = q->get(q->ctx, "enterprise");
    if (st && strcmp(st, "all") != 0) {
        p.status = strcmp(st, "open") == 0 ? 1 : strcmp(st, "ongoing") == 0 ? 2 : strcmp(st, "acknowledged") == 0 ? 3 : -1;
        if (p.status < 0) {
            wn_reply_error(out, WN_NE_BAD_REQUEST, "status must be all, open, ongoing or acknowledged");
            return;
        }
    }
    if (kind) {
        for (unsigned k = 1; k < MK_COUNT; k++)
            if (strcmp(kind, mon_kind_name(k)) == 0) p.kind = (int)k;
        if (!p.kind) {
            wn_reply_error(out, WN_NE_BAD_REQUEST, "kind is not an alert kind");
            return;
        }
    }
    if (meter && !wn_parse_hex32(meter, p.meter)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "meter must be 64 lowercase hex characters");
        return;
    }
    p.has_meter = meter != NULL;
    if (lim && (!wn_parse_u64(lim, ALERTS_MAX, &limit) || limit == 0)) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "limit must be 1 to 1000");
        return;
    }
    /* the cursor: the `next` of the page before, "TIME.ID" of its last alert */
    const char *after = q->get(q->ctx, "after");
    uint64_t after_time = 0;
    uint8_t after_id[16];
    if (after) {
        const char *dot = strchr(after, '.');
        char t[24];
        int ok = dot && (size_t)(dot - after) < sizeof t && strlen(dot + 1) == 32;
        if (ok) {
            memcpy(t, after, (size_t)(dot - after));
            t[dot - after] = '\0';
            ok = wn_parse_u64(t, UINT64_MAX, &after_time);
        }
        for (int i = 0; ok && i < 16; i++) {
            unsigned v;
            ok = sscanf(dot + 1 + 2 * i, "%2x", &v) == 1 && strchr("0123456789abcdef", dot[1 + 2 * i]) &&
                 strchr("0123456789abcdef", dot[2 + 2 * i]);
            after_id[i] = (uint8_t)v;
        }
        if (!ok) {
            wn_reply_error(out, WN_NE_BAD_REQUEST, "after must be the next of the page before (TIME.ID)");
            return;
        }
    }
    if (p.ent && !visible(q, p.ent)) {
        wn_reply_error(out, WN_NE_FORBIDDEN, "an enterprise token sees only its own enterprise");
        return;
    }
    wn_buf b;
    wn_buf_init(&b);
    pthread_rwlock_rdlock(&m->lock);
    each_alert(q, pick_alert, &p);
    if (p.n) qsort(p.v, p.n, sizeof *p.v, by_time_desc);
    size_t start = 0; /* the first alert after the cursor, in the order newest first, then id */
    while (after && start < p.n &&
           (p.v[start]->time > after_time || (p.v[start]->time == after_time && memcmp(p.v[start]->id, after_id, 16) <= 0)))
        start++;
    wn_buf_printf(&b, "{\"total\":%zu,\"alerts\":[", p.n);
    size_t end = start;
    for (; end < p.n && end - start < limit; end++) {
        if (end > start) wn_buf_str(&b, ",");
        j_alert(q, &b, p.v[end]);
    }
    wn_buf_str(&b, "],\"next\":");
    if (end < p.n && end > start) {
        char id[33];
        wn_hex_encode(id, p.v[end - 1]->id, 16);
        wn_buf_printf(&b, "\"%llu.%s\"", (unsigned long long)p.v[end - 1]->time, id);
    } else {
        wn_buf_str(&b, "null");
    }
    pthread_rwlock_unlock(&m->lock);
    wn_buf_str(&b, "}");
    free(p.v);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- plans, production, settings, quotas, whoami ---- */

static void plans(const req *q, wn_response *out)
{
    wn_monitor *m = q->m;
    page pg;
    if (!page_args(q, &pg, out)) return;
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"plans\":[");
    pthread_rwlock_rdlock(&m->lock);
    int first = 1;
    for (size_t i = 0; i < m->nplans; i++) {
        const mon_plan *p = &m->plans[i];
        if (!visible(q, p->ent) || !page_take(&pg)) continue;
        mon_ent *e = mon_ent_get(m, p->ent, 0);
        __int128 used = e ? mon_ent_year(e, p->year) : 0;
        wn_buf_str(&b, first ? "{\"enterprise\":" : ",{\"enterprise\":");
        first = 0;
        wn_buf_json_str(&b, p->ent);
        wn_names_json_enterprise(m->names, &b, p->ent);
        wn_buf_printf(&b, ",\"year\":%u,\"plan_m3\":", p->year);
        j_m3(&b, p->plan);
        wn_buf_str(&b, ",\"used_m3\":");
        j_m3(&b, used);
        double pm = mon_m3(p->plan), um = mon_m3(used);
        wn_buf_str(&b, ",\"use_pct\":");
        j_num(&b, pm > 0 ? um / pm * 100 : NAN);
        wn_buf_str(&b, ",\"over_pct\":");
        j_num(&b, pm > 0 ? (um > pm ? (um - pm) / pm * 100 : 0) : NAN);
        wn_buf_str(&b, "}");
    }
    pthread_rwlock_unlock(&m->lock);
    page_end(&b, &pg);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

typedef struct {
    const req *q;
    wn_buf *b;
    int first;
    page *pg;
} list_ctx;

static int production_item(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    list_ctx *c = ctx;
    const char *key = k;
    size_t nl = strnlen(key, kl);
    if (nl + 10 > kl || key[nl + 8] != 0) return 0;
    char ent[MON_ENT_MAX], month[8], product[48];
    memcpy(ent, key, nl);
    ent[nl] = '\0';
    if (!visible(c->q, ent) || !page_take(c->pg)) return c->pg->more; /* past the page: stop */
    memcpy(month, key + nl + 1, 7);
    month[7] = '\0';
    size_t pl = kl - nl - 9;
    if (pl >= sizeof product) return 0;
    memcpy(product, key + nl + 9, pl);
    product[pl] = '\0';
    wn_buf_str(c->b, c->first ? "{\"enterprise\":" : ",{\"enterprise\":");
    c->first = 0;
    wn_buf_json_str(c->b, ent);
    wn_names_json_enterprise(c->q->m->names, c->b, ent);
    wn_buf_printf(c->b, ",\"month\":\"%s\",\"product\":\"%s\",\"record\":", month, product);
    wn_buf_add(c->b, v, vl);
    wn_buf_str(c->b, "}");
    return 0;
}

static void production(const req *q, wn_response *out)
{
    wn_buf b;
    wn_buf_init(&b);
    page pg;
    if (!page_args(q, &pg, out)) return;
    wn_buf_str(&b, "{\"production\":[");
    list_ctx c = {q, &b, 1, &pg};
    const char *ent = q->who->role == WN_ROLE_ENTERPRISE ? q->who->enterprise : q->get(q->ctx, "enterprise");
    wn_bureau_each(q->m->bureau, WN_BT_PRODUCTION, ent, ent ? strlen(ent) + 1 : 0, production_item, &c);
    page_end(&b, &pg);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* {"province","source","quotas":[{"product","zh","en","unit","m3_per_unit"}],"tables":[...]}:
 * the catalogue with WN_QUOTA_PROVINCE's figures, then every table loaded. */
static void quotas(wn_response *out)
{
    size_t n, nr;
    const wn_quota *t = wn_quota_table(&n);
    const wn_quota_region *def = wn_quota_region_of(WN_QUOTA_PROVINCE), *rs = wn_quota_regions(&nr);
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"province\":\"" WN_QUOTA_PROVINCE "\",\"source\":");
    if (def) wn_buf_json_str(&b, def->source);
    else wn_buf_str(&b, "null");
    wn_buf_str(&b, ",\"quotas\":[");
    for (size_t i = 0; i < n; i++) {
        wn_buf_printf(&b, "%s{\"product\":\"%s\",\"zh\":", i ? "," : "", t[i].product);
        wn_buf_json_str(&b, t[i].zh);
        wn_buf_str(&b, ",\"en\":");
        wn_buf_json_str(&b, t[i].en);
        wn_buf_printf(&b, ",\"unit\":\"%s\",\"m3_per_unit\":", t[i].unit);
        j_num(&b, wn_quota_region_value(def, t[i].product));
        wn_buf_str(&b, "}");
    }
    wn_buf_str(&b, "],\"tables\":[");
    for (size_t r = 0; r < nr; r++) {
        wn_buf_printf(&b, "%s{\"province\":\"%s\",\"name\":", r ? "," : "", rs[r].province);
        wn_buf_json_str(&b, rs[r].name);
        wn_buf_str(&b, ",\"name_en\":");
        wn_buf_json_str(&b, rs[r].name_en);
        wn_buf_str(&b, ",\"source\":");
        wn_buf_json_str(&b, rs[r].source);
        wn_buf_str(&b, ",\"quotas\":{");
        for (size_t k = 0; k < rs[r].n; k++) {
            wn_buf_printf(&b, "%s\"%s\":", k ? "," : "", rs[r].q[k].product);
            j_num(&b, rs[r].q[k].m3_per_unit);
        }
        wn_buf_str(&b, "}}");
    }
    wn_buf_str(&b, "]}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* ---- labels (names.h) ---- */

static int label_visible(void *ctx, const char *ent) { return visible(ctx, ent); }

static int label_meter_ent(void *ctx, const uint8_t id[32], char ent[65])
{
    const req *q = ctx;
    return wn_monitor_meter_enterprise(q->m, id, ent);
}

/* GET /v1/monitor/labels?kind=meter|enterprise[&from=N][&limit=L] */
static void labels(const req *q, wn_response *out)
{
    const char *kind = q->get(q->ctx, "kind");
    page pg;
    if (!page_args(q, &pg, out)) return;
    if (kind && strcmp(kind, "meter") != 0 && strcmp(kind, "enterprise") != 0) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "kind must be meter or enterprise");
        return;
    }
    wn_names_filter f = {(void *)q, label_visible, label_meter_ent};
    wn_buf b;
    wn_buf_init(&b);
    wn_names_list(q->m->names, &b, !kind || strcmp(kind, "meter") == 0, pg.from, pg.limit,
                  q->who->role == WN_ROLE_ENTERPRISE ? &f : NULL);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

/* GET /v1/monitor/label_log[?from=CHANGE][&limit=L]: the bureau's. */
static void label_log(const req *q, wn_response *out)
{
    page pg;
    if (q->who->role == WN_ROLE_ENTERPRISE) {
        wn_reply_error(out, WN_NE_FORBIDDEN, "only the bureau may read the change log of labels");
        return;
    }
    if (!page_args(q, &pg, out)) return;
    wn_buf b;
    wn_buf_init(&b);
    wn_names_log(q->m->names, &b, pg.from, pg.limit);
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

static void ok_reply(wn_response *out)
{
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{\"ok\":true}");
    wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
}

void wn_monitor_api(wn_node *n, const wn_principal *who, const wn_route_match *rm, wn_query_get get, void *ctx,
                    const char *body, size_t len, wn_response *out)
{
    req q = {n, n->monitor, who, get, ctx, wn_now_ms()};
    const char *name = rm->sub;
    char d[WN_DETAIL_MAX] = "";
    if (!q.m) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "monitoring is not running on this node");
        return;
    }
    wn_monitor_fresh(q.m); /* every reading acknowledged so far is in what follows */
    if (rm->is_post) {
        int bureau_only = strcmp(name, "production") != 0;
        if (bureau_only && who->role == WN_ROLE_ENTERPRISE) {
            wn_reply_error(out, WN_NE_FORBIDDEN, "only the bureau may do this");
            return;
        }
        int rc;
        if (strcmp(name, "ack") == 0) rc = wn_monitor_ack(q.m, who, body, len, d, sizeof d);
        else if (strcmp(name, "labels") == 0) rc = wn_names_set(q.m->names, who, body, len, d, sizeof d);
        else if (strcmp(name, "value_added") == 0) rc = wn_monitor_set_value_added(q.m, who, body, len, d, sizeof d);
        else if (strcmp(name, "plans") == 0) rc = wn_monitor_set_plan(q.m, who, body, len, d, sizeof d);
        else if (strcmp(name, "production") == 0) rc = wn_monitor_set_production(q.m, who, body, len, d, sizeof d);
        else rc = wn_monitor_set_settings(q.m, body, len, d, sizeof d);
        if (rc == WN_NE_OK) ok_reply(out);
        else wn_reply_error(out, rc, d);
        return;
    }
    if (strcmp(name, "overview") == 0) overview(&q, out);
    else if (strcmp(name, "enterprises") == 0) enterprises(&q, out);
    else if (strcmp(name, "enterprise") == 0) enterprise(&q, out);
    else if (strcmp(name, "balance") == 0) balance(&q, out);
    else if (strcmp(name, "meter") == 0) meter_view(&q, out);
    else if (strcmp(name, "alerts") == 0) alerts(&q, out);
    else if (strcmp(name, "plans") == 0) plans(&q, out);
    else if (strcmp(name, "production") == 0) production(&q, out);
    else if (strcmp(name, "quotas") == 0) quotas(out);
    else if (strcmp(name, "labels") == 0) labels(&q, out);
    else if (strcmp(name, "label_log") == 0) label_log(&q, out);
    else if (strcmp(name, "settings") == 0) {
        wn_buf b;
        wn_buf_init(&b);
        pthread_rwlock_rdlock(&q.m->lock);
        wn_monitor_settings s = q.m->set;
        pthread_rwlock_unlock(&q.m->lock);
        wn_monitor_settings_json(&b, &s);
        wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
    } else if (strcmp(name, "whoami") == 0) {
        wn_buf b;
        wn_buf_init(&b);
        wn_buf_printf(&b, "{\"role\":\"%s\",\"enterprise\":", wn_role_name(who->role));
        if (who->role == WN_ROLE_ENTERPRISE) wn_buf_json_str(&b, who->enterprise);
        else wn_buf_str(&b, "null");
        wn_buf_printf(&b, ",\"token\":\"%s\"", who->token_id);
        j_zone(&b);
        wn_buf_str(&b, "}");
        wn_reply_buf(out, 200, WN_TYPE_JSON, &b);
    } else {
        wn_reply_error(out, WN_NE_NOT_FOUND, "no such path");
    }
}
