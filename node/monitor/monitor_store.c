/* monitor_store.c — the monitor's databases in the node's state env (see monitor.h):
 *
 *   mon_meta    "format" -> u32 MON_FORMAT; "applied" -> u64 ledger size; "chain" -> chain hash of entry applied-1;
 *               "zone" -> i32 minutes east of UTC the buckets were cut in (absent: +08:00, the
 *               only zone before --zone); another zone than the node's rebuilds them all
 *   mon_meters  u32 meter number -> meter record (enrolment facts, last reading, open episodes)
 *   mon_ents    u32 enterprise number -> name and intake per year
 *   mon_hours   u32 meter number || u32 local hour key -> bucket
 *   mon_days    u32 meter number || u32 local day key -> bucket
 *   mon_alerts  u32 alert number -> alert record
 *
 * Records are written with the catch-up transaction that moves the watermark, so the
 * databases always describe exactly the ledger prefix [0, applied). Also here: opening,
 * validating and rebuilding, catch-up, the tick thread and the sequence-gap alerts kept
 * in the bureau store. */
#include "node/monitor/monitor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "node/datadir/envgate.h"
#include "node/log.h"

/* 2: buckets written before this format may hold another meter's totals (a meter's current
 * hour and day were loaded under meter #0's number at start): rebuilt from the ledger. */
#define MON_FORMAT 2
#define CATCHUP_CHUNK 50000
#define TICK_MS 2000
#define CATCHUP_GAP_MS 100 /* the tick thread catches up with the ledger at most this often */

mon_meter *mon_meter_insert(wn_monitor *m, mon_meter *mm); /* monitor_apply.c */

/* ---- a byte writer and reader ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int bad;
} wr;

static void w_bytes(wr *w, const void *d, size_t n)
{
    if (w->n + n > w->cap) {
        w->bad = 1;
        return;
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}
static void w_u8(wr *w, unsigned v) { uint8_t b = (uint8_t)v; w_bytes(w, &b, 1); }
static void w_u16(wr *w, unsigned v) { uint8_t b[2]; wn_put_u16(b, (uint16_t)v); w_bytes(w, b, 2); }
static void w_u32(wr *w, uint32_t v) { uint8_t b[4]; wn_put_u32(b, v); w_bytes(w, b, 4); }
static void w_u64(wr *w, uint64_t v) { uint8_t b[8]; wn_put_u64(b, v); w_bytes(w, b, 8); }
static void w_f64(wr *w, double d) { uint64_t v; memcpy(&v, &d, 8); w_u64(w, v); }
static void w_i128(wr *w, __int128 x)
{
    unsigned __int128 u = (unsigned __int128)x;
    w_u64(w, (uint64_t)(u >> 64));
    w_u64(w, (uint64_t)u);
}

typedef struct {
    const uint8_t *p;
    size_t n, at;
    int bad;
} rd;

static const uint8_t *r_bytes(rd *r, size_t n)
{
    if (r->at + n > r->n) {
        r->bad = 1;
        static const uint8_t zero[64];
        return zero;
    }
    const uint8_t *p = r->p + r->at;
    r->at += n;
    return p;
}
static unsigned r_u8(rd *r) { return *r_bytes(r, 1); }
static unsigned r_u16(rd *r) { return wn_get_u16(r_bytes(r, 2)); }
static uint32_t r_u32(rd *r) { return wn_get_u32(r_bytes(r, 4)); }
static uint64_t r_u64(rd *r) { return wn_get_u64(r_bytes(r, 8)); }
static double r_f64(rd *r) { uint64_t v = r_u64(r); double d; memcpy(&d, &v, 8); return d; }
static __int128 r_i128(rd *r)
{
    uint64_t hi = r_u64(r), lo = r_u64(r);
    return (__int128)(((unsigned __int128)hi << 64) | lo);
}

/* ---- records ---- */

void mon_bucket_encode_len(const mon_bucket *b, uint8_t *out, size_t *len)
{
    wr w = {out, 0, 512, 0};
    uint16_t mask = 0;
    for (unsigned q = 2; q < MON_NQ; q++)
        if (b->q[q].n) mask |= (uint16_t)(1u << q);
    w_i128(&w, b->vol);
    w_u32(&w, b->n);
    w_u16(&w, b->flags);
    w_u64(&w, b->first_index);
    w_u64(&w, b->last_index);
    w_u64(&w, b->last_time);
    w_u16(&w, mask);
    for (unsigned q = 2; q < MON_NQ; q++) {
        if (!(mask & (1u << q))) continue;
        w_u32(&w, b->q[q].n);
        w_f64(&w, b->q[q].sum);
        w_f64(&w, b->q[q].min);
        w_f64(&w, b->q[q].max);
    }
    if (b->flags)
        for (unsigned i = 0; i < 6; i++) w_u32(&w, b->nflag[i]);
    *len = w.n;
}

int mon_bucket_decode(mon_bucket *b, const uint8_t *p, size_t len)
{
    rd r = {p, len, 0, 0};
    memset(b, 0, sizeof *b);
    b->vol = r_i128(&r);
    b->n = r_u32(&r);
    b->flags = (uint16_t)r_u16(&r);
    b->first_index = r_u64(&r);
    b->last_index = r_u64(&r);
    b->last_time = r_u64(&r);
    unsigned mask = r_u16(&r);
    for (unsigned q = 2; q < MON_NQ; q++) {
        if (!(mask & (1u << q))) continue;
        b->q[q].n = r_u32(&r);
        b->q[q].sum = r_f64(&r);
        b->q[q].min = r_f64(&r);
        b->q[q].max = r_f64(&r);
    }
    if (b->flags)
        for (unsigned i = 0; i < 6; i++) b->nflag[i] = r_u32(&r);
    return !r.bad && r.at == r.n;
}

static size_t meter_encode(const mon_meter *mm, uint8_t *out, size_t cap)
{
    wr w = {out, 0, cap, 0};
    w_bytes(&w, mm->id, 32);
    w_u32(&w, mm->ent);
    w_u8(&w, mm->has_parent);
    w_u8(&w, mm->point);
    w_u8(&w, mm->tier);
    w_u8(&w, mm->source);
    w_u8(&w, mm->alg);
    w_u8(&w, mm->revoked);
    w_bytes(&w, mm->parent_id, 32);
    w_u64(&w, mm->enrol_index);
    w_u64(&w, mm->enrol_time);
    w_u64(&w, mm->revoke_index);
    w_u64(&w, mm->nread);
    w_u64(&w, mm->last_seq);
    w_u64(&w, mm->last_time);
    w_u64(&w, mm->last_index);
    w_u64(&w, mm->first_time);
    w_u16(&w, mm->last_flags);
    w_u8(&w, mm->has_volume);
    w_i128(&w, mm->last_volume);
    w_u8(&w, mm->niv);
    for (unsigned i = 0; i < MON_NIV; i++) w_u64(&w, mm->iv[i]);
    w_u16(&w, mm->last_qmask);
    for (unsigned q = 0; q < MON_NQ; q++) w_f64(&w, mm->last_q[q]);
    for (unsigned i = 0; i < 3; i++) w_u32(&w, mm->ep_flag[i]);
    for (unsigned q = 0; q < MON_NQ; q++) w_u32(&w, mm->ep_q[q]);
    w_u32(&w, mm->ep_silent);
    w_u32(&w, mm->night_done);
    w_u32(&w, mm->balance_done);
    w_u32(&w, mm->hour_key);
    w_u32(&w, mm->day_key);
    return w.bad ? 0 : w.n;
}

static int meter_decode(mon_meter *mm, const uint8_t *p, size_t len)
{
    rd r = {p, len, 0, 0};
    memset(mm, 0, sizeof *mm);
    memcpy(mm->id, r_bytes(&r, 32), 32);
    mm->ent = r_u32(&r);
    mm->has_parent = (uint8_t)r_u8(&r);
    mm->point = (uint8_t)r_u8(&r);
    mm->tier = (uint8_t)r_u8(&r);
    mm->source = (uint8_t)r_u8(&r);
    mm->alg = (uint8_t)r_u8(&r);
    mm->revoked = (uint8_t)r_u8(&r);
    memcpy(mm->parent_id, r_bytes(&r, 32), 32);
    mm->parent = MON_NONE;
    mm->enrol_index = r_u64(&r);
    mm->enrol_time = r_u64(&r);
    mm->revoke_index = r_u64(&r);
    mm->nread = r_u64(&r);
    mm->last_seq = r_u64(&r);
    mm->last_time = r_u64(&r);
    mm->last_index = r_u64(&r);
    mm->first_time = r_u64(&r);
    mm->last_flags = (uint16_t)r_u16(&r);
    mm->has_volume = (uint8_t)r_u8(&r);
    mm->last_volume = r_i128(&r);
    mm->niv = (uint8_t)r_u8(&r);
    for (unsigned i = 0; i < MON_NIV; i++) mm->iv[i] = r_u64(&r);
    mm->last_qmask = (uint16_t)r_u16(&r);
    for (unsigned q = 0; q < MON_NQ; q++) mm->last_q[q] = r_f64(&r);
    for (unsigned i = 0; i < 3; i++) mm->ep_flag[i] = r_u32(&r);
    for (unsigned q = 0; q < MON_NQ; q++) mm->ep_q[q] = r_u32(&r);
    mm->ep_silent = r_u32(&r);
    mm->night_done = r_u32(&r);
    mm->balance_done = r_u32(&r);
    mm->hour_key = r_u32(&r);
    mm->day_key = r_u32(&r);
    return !r.bad && r.at == r.n && mm->niv <= MON_NIV;
}

static size_t ent_encode(const mon_ent *e, uint8_t *out, size_t cap)
{
    wr w = {out, 0, cap, 0};
    size_t nl = strlen(e->name);
    w_u8(&w, (unsigned)nl);
    w_bytes(&w, e->name, nl);
    w_u64(&w, e->last_intake_index);
    w_u8(&w, e->nyears);
    for (unsigned i = 0; i < e->nyears; i++) {
        w_u32(&w, e->years[i].year);
        w_i128(&w, e->years[i].vol);
    }
    return w.bad ? 0 : w.n;
}

static int ent_decode(mon_ent *e, const uint8_t *p, size_t len)
{
    rd r = {p, len, 0, 0};
    memset(e, 0, sizeof *e);
    unsigned nl = r_u8(&r);
    if (nl > WN_ENTERPRISE_MAX) return 0;
    memcpy(e->name, r_bytes(&r, nl), nl);
    e->name[nl] = '\0';
    e->last_intake_index = r_u64(&r);
    e->nyears = (uint8_t)r_u8(&r);
    if (e->nyears > 8) return 0;
    for (unsigned i = 0; i < e->nyears; i++) {
        e->years[i].year = r_u32(&r);
        e->years[i].vol = r_i128(&r);
    }
    return !r.bad && r.at == r.n;
}

static size_t alert_encode(const mon_alert *a, uint8_t *out, size_t cap)
{
    wr w = {out, 0, cap, 0};
    w_bytes(&w, a->id, 16);
    w_u8(&w, a->kind);
    w_u8(&w, a->quantity);
    w_u32(&w, a->meter);
    w_u32(&w, a->ent);
    w_u64(&w, a->time);
    w_u64(&w, a->end_time);
    w_u32(&w, a->count);
    w_f64(&w, a->value);
    w_f64(&w, a->limit);
    w_f64(&w, a->a1);
    w_f64(&w, a->a2);
    w_u64(&w, a->seq_a);
    w_u64(&w, a->seq_b);
    w_u8(&w, a->nev);
    for (unsigned i = 0; i < a->nev; i++) w_u64(&w, a->ev[i]);
    w_u8(&w, a->cleared);
    w_u32(&w, a->revised);
    w_u64(&w, a->revised_by);
    w_u32(&w, a->folded);
    return w.bad ? 0 : w.n;
}

static int alert_decode(mon_alert *a, const uint8_t *p, size_t len)
{
    rd r = {p, len, 0, 0};
    memset(a, 0, sizeof *a);
    memcpy(a->id, r_bytes(&r, 16), 16);
    a->kind = (uint8_t)r_u8(&r);
    a->quantity = (uint8_t)r_u8(&r);
    a->meter = r_u32(&r);
    a->ent = r_u32(&r);
    a->time = r_u64(&r);
    a->end_time = r_u64(&r);
    a->count = r_u32(&r);
    a->value = r_f64(&r);
    a->limit = r_f64(&r);
    a->a1 = r_f64(&r);
    a->a2 = r_f64(&r);
    a->seq_a = r_u64(&r);
    a->seq_b = r_u64(&r);
    a->nev = (uint8_t)r_u8(&r);
    if (a->nev > MON_MAX_EV) return 0;
    for (unsigned i = 0; i < a->nev; i++) a->ev[i] = r_u64(&r);
    if (r.at < r.n) { /* records written before revisions existed (sequence gaps in the bureau store) end here */
        a->cleared = (uint8_t)r_u8(&r);
        a->revised = r_u32(&r);
        a->revised_by = r_u64(&r);
        a->folded = r_u32(&r);
    }
    return !r.bad && r.at == r.n && a->kind > 0 && a->kind < MK_COUNT && a->cleared <= MON_CLEAR_NOT_JUDGED;
}

int mon_gap_decode(mon_alert *a, const uint8_t *p, size_t len) { return alert_decode(a, p, len); }

int mon_put_gap(wn_monitor *m, const mon_alert *a)
{
    uint8_t key[40], val[256];
    const mon_meter *mm = a->meter < m->nmt ? m->mt[a->meter] : NULL;
    if (!mm) return 0;
    memcpy(key, mm->id, 32);
    wn_put_u64(key + 32, a->seq_a);
    size_t n = alert_encode(a, val, sizeof val);
    return n && wn_bureau_put(m->bureau, WN_BT_GAPS, key, 40, val, n);
}

/* ---- buckets ---- */

int mon_get_bucket(wn_monitor *m, MDB_txn *txn, int days, const mon_meter *mm, uint32_t key, int mem, mon_bucket *b)
{
    const mon_bucket *cur = days ? &mm->day : &mm->hour;
    uint32_t ck = days ? mm->day_key : mm->hour_key;
    if (mem && ck == key && cur->n) {
        *b = *cur;
        return 1;
    }
    uint8_t kb[8];
    wn_put_u32(kb, mm->num);
    wn_put_u32(kb + 4, key);
    MDB_val k = {8, kb}, v;
    if (mdb_get(txn, days ? m->days : m->hours, &k, &v) == 0 && mon_bucket_decode(b, v.mv_data, v.mv_size))
        return b->n > 0;
    memset(b, 0, sizeof *b);
    return 0;
}

/* ---- flush ---- */

static int put_meta(wn_monitor *m, MDB_txn *txn)
{
    uint8_t a[8], f[4], z[4];
    wn_put_u64(a, m->applied);
    wn_put_u32(f, MON_FORMAT);
    wn_put_u32(z, (uint32_t)(int32_t)wn_zone_minutes());
    MDB_val k1 = {7, "applied"}, v1 = {8, a}, k2 = {5, "chain"}, v2 = {32, m->chain}, k3 = {6, "format"}, v3 = {4, f};
    MDB_val k4 = {4, "zone"}, v4 = {4, z};
    int rc = mdb_put(txn, m->meta, &k1, &v1, 0);
    if (!rc) rc = mdb_put(txn, m->meta, &k2, &v2, 0);
    if (!rc) rc = mdb_put(txn, m->meta, &k3, &v3, 0);
    if (!rc) rc = mdb_put(txn, m->meta, &k4, &v4, 0);
    return rc;
}

static int put_bucket(wn_monitor *m, MDB_txn *txn, int days, const mon_meter *mm)
{
    const mon_bucket *b = days ? &mm->day : &mm->hour;
    uint8_t kb[8], vb[512];
    size_t vl;
    wn_put_u32(kb, mm->num);
    wn_put_u32(kb + 4, days ? mm->day_key : mm->hour_key);
    mon_bucket_encode_len(b, vb, &vl);
    MDB_val k = {8, kb}, v = {vl, vb};
    return mdb_put(txn, days ? m->days : m->hours, &k, &v, 0);
}

int mon_flush(wn_monitor *m, MDB_txn *txn)
{
    int rc = 0;
    uint8_t kb[4], vb[1024];
    for (size_t i = 0; i < m->net && !rc; i++) {
        mon_ent *e = m->et[i];
        if (!e->dirty) continue;
        size_t n = ent_encode(e, vb, sizeof vb);
        wn_put_u32(kb, e->num);
        MDB_val k = {4, kb}, v = {n, vb};
        rc = n ? mdb_put(txn, m->ents, &k, &v, 0) : MDB_BAD_VALSIZE;
        e->dirty = 0;
    }
    for (size_t i = 0; i < m->nmt && !rc; i++) {
        mon_meter *mm = m->mt[i];
        if (mm->hour_dirty && mm->hour.n) rc = put_bucket(m, txn, 0, mm);
        if (!rc && mm->day_dirty && mm->day.n) rc = put_bucket(m, txn, 1, mm);
        mm->hour_dirty = mm->day_dirty = 0;
        if (rc || !mm->dirty) continue;
        size_t n = meter_encode(mm, vb, sizeof vb);
        wn_put_u32(kb, mm->num);
        MDB_val k = {4, kb}, v = {n, vb};
        rc = n ? mdb_put(txn, m->meters, &k, &v, 0) : MDB_BAD_VALSIZE;
        mm->dirty = 0;
    }
    for (size_t i = 0; i < m->nal && !rc; i++) {
        if (!m->al_dirty[i]) continue;
        size_t n = alert_encode(&m->al[i], vb, sizeof vb);
        wn_put_u32(kb, (uint32_t)i);
        MDB_val k = {4, kb}, v = {n, vb};
        rc = n ? mdb_put(txn, m->alerts, &k, &v, 0) : MDB_BAD_VALSIZE;
        m->al_dirty[i] = 0;
    }
    return rc;
}

/* Writes what is dirty (and the watermark) in one transaction. Caller holds wmu. */
static int write_out(wn_monitor *m, MDB_txn *txn)
{
    int rc = mon_flush(m, txn);
    if (!rc) rc = put_meta(m, txn);
    rc = wn_envgate_end(m->env, txn, rc); /* commits if rc is 0; the map may grow (envgate.h) */
    if (rc) {
        if (!m->failed) wn_log("monitor: writing the aggregates failed (%s); they are rebuilt at next start", mdb_strerror(rc));
        m->failed = 1;
    }
    return rc == 0;
}

int mon_write(wn_monitor *m)
{
    MDB_txn *txn;
    if (m->failed || wn_envgate_begin(m->env, 0, &txn)) return 0;
    return write_out(m, txn);
}

/* ---- catch-up ---- */

typedef struct {
    wn_monitor *m;
    MDB_txn *txn;
} apply_ctx;

static int visit(void *ctx, uint64_t index, const uint8_t *e, size_t len, const uint8_t leaf[32], const uint8_t chain[32])
{
    apply_ctx *c = ctx;
    (void)leaf;
    mon_apply_entry(c->m, c->txn, index, e, len);
    memcpy(c->m->chain, chain, 32);
    return 0;
}

static int catch_up_locked(wn_monitor *m)
{
    uint64_t size;
    if (wn_ledger_size(m->ledger, &size) != WN_LEDGER_OK) return 0;
    while (m->applied < size && !m->failed) {
        uint64_t to = size - m->applied > CATCHUP_CHUNK ? m->applied + CATCHUP_CHUNK : size;
        apply_ctx c = {m, NULL};
        int rc = wn_envgate_begin(m->env, 0, &c.txn);
        if (rc) {
            wn_log("monitor: cannot begin a transaction: %s", mdb_strerror(rc));
            m->failed = 1;
            return 0;
        }
        int err = wn_ledger_iterate(m->ledger, m->applied, to, visit, &c);
        if (err != WN_LEDGER_OK) {
            wn_envgate_abort(m->env, c.txn);
            wn_log("monitor: reading the ledger failed: %s", wn_ledger_strerror(err));
            m->failed = 1;
            return 0;
        }
        m->applied = to;
        if (!write_out(m, c.txn)) return 0;
        atomic_store(&m->reached, m->applied);
    }
    return !m->failed;
}

int wn_monitor_catch_up(wn_monitor *m)
{
    pthread_mutex_lock(&m->wmu);
    pthread_rwlock_wrlock(&m->lock);
    int ok = catch_up_locked(m);
    pthread_rwlock_unlock(&m->lock);
    pthread_mutex_unlock(&m->wmu);
    return ok;
}

void wn_monitor_nudge(wn_monitor *m, uint64_t size)
{
    uint64_t t = atomic_load(&m->target);
    while (t < size && !atomic_compare_exchange_weak(&m->target, &t, size)) {
    }
    pthread_mutex_lock(&m->tmu);
    m->nudged = 1;
    pthread_cond_signal(&m->tcv);
    pthread_mutex_unlock(&m->tmu);
}

int wn_monitor_fresh(wn_monitor *m)
{
    if (atomic_load(&m->reached) >= atomic_load(&m->target)) return !m->failed;
    return wn_monitor_catch_up(m);
}

uint64_t wn_monitor_applied(wn_monitor *m)
{
    pthread_rwlock_rdlock(&m->lock);
    uint64_t a = m->applied;
    pthread_rwlock_unlock(&m->lock);
    return a;
}

void wn_monitor_set_name_registry(wn_monitor *m, wn_names_registry_fn fn, void *ctx)
{
    if (m) wn_names_set_registry(m->names, fn, ctx);
}

int wn_monitor_meter_enterprise(wn_monitor *m, const uint8_t meter[32], char enterprise[65])
{
    wn_monitor_fresh(m); /* a meter enrolled by the last commit is known */
    pthread_rwlock_rdlock(&m->lock);
    mon_meter *mm = mon_meter_by_id(m, meter);
    if (mm) snprintf(enterprise, 65, "%s", m->et[mm->ent]->name);
    pthread_rwlock_unlock(&m->lock);
    return mm != NULL;
}

/* ---- sequence gaps ---- */

/* Makes the per-meter gap counts cover meter number num. Returns: 0 if out of memory. */
static int gap_room(wn_monitor *m, uint32_t num)
{
    if (num < m->gap_ncap) return 1;
    size_t cap = m->gap_ncap ? m->gap_ncap : 64;
    while (cap <= num) cap *= 2;
    uint32_t *n = realloc(m->gap_n, cap * sizeof *n);
    if (!n) return 0;
    m->gap_n = n;
    uint32_t *o = realloc(m->gap_nopen, cap * sizeof *o);
    if (!o) return 0;
    m->gap_nopen = o;
    memset(n + m->gap_ncap, 0, (cap - m->gap_ncap) * sizeof *n);
    memset(o + m->gap_ncap, 0, (cap - m->gap_ncap) * sizeof *o);
    m->gap_ncap = cap;
    return 1;
}

/* Counts each meter's gaps and open gaps (after loading them). */
static void gap_count_all(wn_monitor *m)
{
    for (size_t i = 0; i < m->ngaps; i++) {
        const mon_alert *a = &m->gaps[i];
        if (a->meter == MON_NONE || !gap_room(m, a->meter)) continue;
        m->gap_n[a->meter]++;
        m->gap_nopen[a->meter] += !a->end_time;
    }
}

/* Meter mm has MON_GAPS_PER_METER gap alerts: its oldest (ended ones first) is deleted,
 * from the bureau store and from memory. */
static void gap_evict(wn_monitor *m, const mon_meter *mm)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < m->ngaps; i++) {
        const mon_alert *a = &m->gaps[i];
        if (a->meter != mm->num) continue;
        if (best == SIZE_MAX) {
            best = i;
            continue;
        }
        const mon_alert *b = &m->gaps[best];
        int a_ended = a->end_time != 0, b_ended = b->end_time != 0;
        if (a_ended != b_ended ? a_ended : a->seq_a < b->seq_a) best = i;
    }
    if (best == SIZE_MAX) return;
    uint8_t key[40];
    memcpy(key, mm->id, 32);
    wn_put_u64(key + 32, m->gaps[best].seq_a);
    wn_bureau_del(m->bureau, WN_BT_GAPS, key, 40);
    m->gap_n[mm->num]--;
    if (!m->gaps[best].end_time) m->gap_nopen[mm->num]--;
    m->gaps[best] = m->gaps[--m->ngaps];
}

void wn_monitor_sequence_gap(wn_monitor *m, const uint8_t meter[32], uint64_t seq, uint64_t now_ms)
{
    wn_monitor_fresh(m); /* the meter may have been enrolled by the last commit */
    pthread_mutex_lock(&m->wmu);
    pthread_rwlock_wrlock(&m->lock);
    mon_meter *mm = mon_meter_by_id(m, meter);
    mon_alert *a = NULL;
    int fresh = 0;
    if (mm && seq > mm->last_seq + 1 && gap_room(m, mm->num)) {
        uint64_t expected = mm->last_seq + 1;
        for (size_t i = 0; i < m->ngaps && !a && m->gap_nopen[mm->num]; i++) /* only a meter with an open gap looks */
            if (m->gaps[i].meter == mm->num && m->gaps[i].seq_a == expected) a = &m->gaps[i];
        if (a) {
            a->count++;
            if (seq > a->seq_b) a->seq_b = seq;
        } else {
            while (m->gap_n[mm->num] >= MON_GAPS_PER_METER) { /* (a store of an older node may hold more) */
                size_t before = m->ngaps;
                gap_evict(m, mm);
                if (m->ngaps == before) break;
            }
            if (m->ngaps == m->capgaps) {
                size_t c = m->capgaps * 2 + 16;
                void *p = realloc(m->gaps, c * sizeof *m->gaps);
                if (p) {
                    m->gaps = p;
                    m->capgaps = c;
                }
            }
            if (m->ngaps < m->capgaps) {
                a = &m->gaps[m->ngaps++];
                memset(a, 0, sizeof *a);
                mon_alert_id(a->id, MK_SEQ_GAP, mm->id, 32, expected);
                a->kind = MK_SEQ_GAP;
                a->durable = 1;
                a->meter = mm->num;
                a->ent = mm->ent;
                a->time = now_ms;
                a->count = 1;
                a->seq_a = expected;
                a->seq_b = seq;
                if (mm->nread) a->ev[a->nev++] = mm->last_index;
                m->gap_n[mm->num]++;
                m->gap_nopen[mm->num]++;
                fresh = 1;
            }
        }
    }
    /* a new gap is written at once (fsync); repeated refusals only count in memory until
     * the gap closes or the node stops */
    if (a && fresh) mon_put_gap(m, a);
    pthread_rwlock_unlock(&m->lock);
    pthread_mutex_unlock(&m->wmu);
}

void mon_gaps_reading(wn_monitor *m, const mon_meter *mm, uint64_t seq, uint64_t t, uint64_t index)
{
    if (mm->num >= m->gap_ncap || !m->gap_nopen[mm->num]) return; /* the common case: nothing to scan */
    for (size_t i = 0; i < m->ngaps; i++) {
        mon_alert *a = &m->gaps[i];
        if (a->meter != mm->num || a->end_time || seq < a->seq_a) continue;
        a->end_time = t;
        if (a->nev < MON_MAX_EV) a->ev[a->nev++] = index;
        m->gap_nopen[mm->num]--;
        mon_put_gap(m, a);
    }
}

typedef struct {
    wn_monitor *m;
    int bad;
} gap_load;

static int load_gap(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    gap_load *g = ctx;
    (void)k;
    wn_monitor *m = g->m;
    if (kl != 40) return 0;
    if (m->ngaps == m->capgaps) {
        size_t c = m->capgaps * 2 + 16;
        void *p = realloc(m->gaps, c * sizeof *m->gaps);
        if (!p) return 1;
        m->gaps = p;
        m->capgaps = c;
    }
    mon_alert a;
    if (!mon_gap_decode(&a, v, vl)) {
        g->bad++;
        return 0;
    }
    a.durable = 1;
    m->gaps[m->ngaps++] = a;
    return 0;
}

/* ---- open, load, rebuild ---- */

static void free_memory(wn_monitor *m)
{
    for (size_t i = 0; i < m->nmt; i++) {
        free(m->mt[i]->kids);
        free(m->mt[i]);
    }
    for (size_t i = 0; i < m->net; i++) {
        free(m->et[i]->meters);
        free(m->et[i]);
    }
    free(m->mt);
    free(m->mhash);
    free(m->et);
    free(m->al);
    free(m->al_dirty);
    free(m->ahash);
    m->mt = NULL;
    m->mhash = NULL;
    m->et = NULL;
    m->al = NULL;
    m->al_dirty = NULL;
    m->ahash = NULL;
    m->nmt = m->capmt = m->mhcap = m->net = m->capet = m->nal = m->capal = m->ahcap = 0;
    m->pending_parents = 0;
    m->applied = 0;
    memset(m->chain, 0, 32);
}

/* Loads the databases if they agree with the ledger. Returns: 1 if loaded, 0 if they
 * must be rebuilt (why says why). */
static int load(wn_monitor *m, MDB_txn *txn, const char **why)
{
    MDB_val k, v;
    uint64_t size;
    *why = "unreadable";
    if (wn_ledger_size(m->ledger, &size) != WN_LEDGER_OK) return 0;
    k = (MDB_val){6, "format"};
    int rc = mdb_get(txn, m->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *why = "new";
        return 0;
    }
    if (rc || v.mv_size != 4 || wn_get_u32(v.mv_data) != MON_FORMAT) {
        *why = "of an unknown format";
        return 0;
    }
    /* buckets cut in another zone than the node's (the operator changed --zone): rebuilt */
    static char zwhy[96];
    int32_t zone = WN_ZONE_DEFAULT_MIN;
    k = (MDB_val){4, "zone"};
    if (mdb_get(txn, m->meta, &k, &v) == 0) {
        if (v.mv_size != 4) return 0;
        zone = (int32_t)wn_get_u32(v.mv_data);
    }
    if (zone != wn_zone_minutes()) {
        char was[7], now[7];
        wn_zone_format(was, zone);
        wn_zone_format(now, wn_zone_minutes());
        snprintf(zwhy, sizeof zwhy, "cut in zone %s, and the node's zone is now %s", was, now);
        *why = zwhy;
        return 0;
    }
    k = (MDB_val){7, "applied"};
    if (mdb_get(txn, m->meta, &k, &v) || v.mv_size != 8) return 0;
    uint64_t applied = wn_get_u64(v.mv_data);
    k = (MDB_val){5, "chain"};
    if (mdb_get(txn, m->meta, &k, &v) || v.mv_size != 32) return 0;
    uint8_t chain[32];
    memcpy(chain, v.mv_data, 32);
    if (applied > size) {
        *why = "ahead of the ledger";
        return 0;
    }
    if (applied > 0) {
        uint8_t lchain[32], tmp[1];
        size_t len;
        int err = wn_ledger_get(m->ledger, applied - 1, tmp, 0, &len, NULL, lchain);
        if (err == WN_LEDGER_ESPACE) {
            uint8_t *buf = malloc(len ? len : 1);
            err = buf ? wn_ledger_get(m->ledger, applied - 1, buf, len, &len, NULL, lchain) : WN_LEDGER_EIO;
            free(buf);
        }
        if (err != WN_LEDGER_OK || memcmp(lchain, chain, 32) != 0) {
            *why = "not the ledger's (chain hash differs)";
            return 0;
        }
    }
    *why = "corrupt";
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, m->ents, &cur)) return 0;
    int ok = 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ok; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mon_ent tmp, *e;
        ok = k.mv_size == 4 && wn_get_u32(k.mv_data) == m->net && ent_decode(&tmp, v.mv_data, v.mv_size) &&
             (e = mon_ent_get(m, tmp.name, 1)) != NULL && e->num == wn_get_u32(k.mv_data);
        if (ok) {
            e->last_intake_index = tmp.last_intake_index;
            e->nyears = tmp.nyears;
            memcpy(e->years, tmp.years, sizeof tmp.years);
            e->dirty = 0;
        }
    }
    mdb_cursor_close(cur);
    if (!ok || (rc && rc != MDB_NOTFOUND)) return 0;
    if (mdb_cursor_open(txn, m->meters, &cur)) return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ok; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mon_meter *mm = malloc(sizeof *mm);
        ok = mm && k.mv_size == 4 && wn_get_u32(k.mv_data) == m->nmt && meter_decode(mm, v.mv_data, v.mv_size) &&
             mm->ent < m->net;
        if (ok) mm->num = (uint32_t)m->nmt; /* the number mon_meter_insert gives it: its buckets' key */
        if (ok && mm->nread) {
            mon_get_bucket(m, txn, 0, mm, mm->hour_key, 0, &mm->hour);
            mon_get_bucket(m, txn, 1, mm, mm->day_key, 0, &mm->day);
        }
        if (ok) mm->last_arrival = wn_now_ms();
        if (ok) ok = mon_meter_insert(m, mm) != NULL;
        if (!ok) free(mm);
        else mm->dirty = 0;
    }
    mdb_cursor_close(cur);
    if (!ok || (rc && rc != MDB_NOTFOUND)) return 0;
    if (mdb_cursor_open(txn, m->alerts, &cur)) return 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ok; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mon_alert a;
        int existed = 0;
        ok = k.mv_size == 4 && wn_get_u32(k.mv_data) == m->nal && alert_decode(&a, v.mv_data, v.mv_size) &&
             mon_raise(m, &a, &existed) != MON_NONE && !existed;
        if (ok) m->al_dirty[m->nal - 1] = 0;
    }
    mdb_cursor_close(cur);
    if (!ok || (rc && rc != MDB_NOTFOUND)) return 0;
    for (size_t i = 0; i < m->nmt && ok; i++) { /* episode links must point at alerts */
        mon_meter *mm = m->mt[i];
        ok = mm->ep_silent <= m->nal;
        for (unsigned j = 0; j < 3; j++) ok &= mm->ep_flag[j] <= m->nal;
        for (unsigned q = 0; q < MON_NQ; q++) ok &= mm->ep_q[q] <= m->nal;
    }
    if (!ok) return 0;
    m->applied = applied;
    memcpy(m->chain, chain, 32);
    return 1;
}

static int open_dbs(wn_monitor *m, MDB_txn *txn)
{
    int rc;
    if ((rc = mdb_dbi_open(txn, "mon_meta", MDB_CREATE, &m->meta)) ||
        (rc = mdb_dbi_open(txn, "mon_meters", MDB_CREATE, &m->meters)) ||
        (rc = mdb_dbi_open(txn, "mon_ents", MDB_CREATE, &m->ents)) ||
        (rc = mdb_dbi_open(txn, "mon_hours", MDB_CREATE, &m->hours)) ||
        (rc = mdb_dbi_open(txn, "mon_days", MDB_CREATE, &m->days)) ||
        (rc = mdb_dbi_open(txn, "mon_alerts", MDB_CREATE, &m->alerts)))
        return rc;
    return 0;
}

static int drop_all(wn_monitor *m, MDB_txn *txn)
{
    MDB_dbi all[] = {m->meta, m->meters, m->ents, m->hours, m->days, m->alerts};
    int rc = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0] && !rc; i++) rc = mdb_drop(txn, all[i], 0);
    return rc;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The tick thread: the time-driven rules every TICK_MS, and the catch-up with the ledger
 * when the committer announces growth (wn_monitor_nudge), at most every CATCHUP_GAP_MS, so
 * that one aggregates transaction covers many group commits. */
static void *tick_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-monitor"); /* for top -H and bench_node */
    wn_monitor *m = arg;
    uint64_t next_tick = mono_ms() + TICK_MS, next_catchup = 0;
    pthread_mutex_lock(&m->tmu);
    while (!m->stopping) {
        uint64_t now = mono_ms();
        if (m->nudged && now >= next_catchup) {
            m->nudged = 0;
            pthread_mutex_unlock(&m->tmu);
            wn_monitor_catch_up(m);
            pthread_mutex_lock(&m->tmu);
            next_catchup = mono_ms() + CATCHUP_GAP_MS;
            continue;
        }
        if (now >= next_tick) {
            pthread_mutex_unlock(&m->tmu);
            wn_monitor_tick(m, wn_now_ms());
            pthread_mutex_lock(&m->tmu);
            next_tick = mono_ms() + TICK_MS;
            continue;
        }
        uint64_t wake = m->nudged && next_catchup < next_tick ? next_catchup : next_tick;
        struct timespec ts = {(time_t)(wake / 1000), (long)(wake % 1000) * 1000000L};
        pthread_cond_timedwait(&m->tcv, &m->tmu, &ts);
    }
    pthread_mutex_unlock(&m->tmu);
    return NULL;
}

void wn_monitor_tick(wn_monitor *m, uint64_t now_ms)
{
    wn_monitor_fresh(m); /* a meter that just reported is not silent */
    pthread_mutex_lock(&m->wmu);
    pthread_rwlock_wrlock(&m->lock);
    size_t before = m->nal;
    mon_tick_locked(m, now_ms);
    if (m->nal != before) mon_write(m);
    pthread_rwlock_unlock(&m->lock);
    pthread_mutex_unlock(&m->wmu);
}

int wn_monitor_open(wn_monitor **out, MDB_env *env, wn_ledger *ledger, wn_bureau *bureau)
{
    wn_monitor *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->env = env;
    m->ledger = ledger;
    m->bureau = bureau;
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->wmu, NULL);
    pthread_mutex_init(&m->tmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* tick_main's deadlines */
    pthread_cond_init(&m->tcv, &ca);
    pthread_condattr_destroy(&ca);
    mon_default_settings(&m->set);
    if (!wn_names_open(&m->names, bureau)) {
        wn_monitor_close(m);
        return 0;
    }
    mon_conf_load(m);
    gap_load gl = {m, 0};
    wn_bureau_each(bureau, WN_BT_GAPS, NULL, 0, load_gap, &gl);
    if (gl.bad) wn_log("monitor: %d sequence-gap records in the bureau store are unreadable", gl.bad);
    gap_count_all(m);

    MDB_txn *txn = NULL;
    int rc = wn_envgate_begin(env, 0, &txn);
    if (!rc) rc = open_dbs(m, txn);
    const char *why = "unreadable";
    if (!rc && !load(m, txn, &why)) {
        if (strcmp(why, "new") != 0) wn_log("monitor: the aggregates are %s; rebuilding them from the ledger", why);
        free_memory(m);
        rc = drop_all(m, txn);
    }
    if (txn) rc = wn_envgate_end(env, txn, rc); /* commits if rc is 0 */
    if (rc) {
        wn_log("monitor: cannot open the aggregates: %s", mdb_strerror(rc));
        wn_monitor_close(m);
        return 0;
    }
    uint64_t from = m->applied;
    if (!wn_monitor_catch_up(m)) {
        wn_log("monitor: cannot bring the aggregates up to the ledger");
        wn_monitor_close(m);
        return 0;
    }
    if (m->applied > from)
        wn_log("monitor: applied ledger entries %llu..%llu (%zu meters, %zu enterprises, %zu alerts)",
               (unsigned long long)from, (unsigned long long)(m->applied - 1), m->nmt, m->net, m->nal);
    if (pthread_create(&m->tick, NULL, tick_main, m) == 0) m->tick_started = 1;
    *out = m;
    return 1;
}

void wn_monitor_close(wn_monitor *m)
{
    if (!m) return;
    if (m->tick_started) {
        pthread_mutex_lock(&m->tmu);
        m->stopping = 1;
        pthread_cond_signal(&m->tcv);
        pthread_mutex_unlock(&m->tmu);
        pthread_join(m->tick, NULL);
    }
    wn_monitor_fresh(m); /* what the committer announced last */
    pthread_mutex_lock(&m->wmu);
    for (size_t i = 0; i < m->ngaps; i++) /* counts of repeated refusals */
        if (m->gaps[i].count > 1) mon_put_gap(m, &m->gaps[i]);
    pthread_mutex_unlock(&m->wmu);
    free_memory(m);
    free(m->gaps);
    free(m->gap_n);
    free(m->gap_nopen);
    free(m->plans);
    free(m->acks);
    wn_names_close(m->names);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->wmu);
    pthread_mutex_destroy(&m->tmu);
    pthread_cond_destroy(&m->tcv);
    free(m);
}
