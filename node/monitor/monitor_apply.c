/* monitor_apply.c — the monitor's rules, one ledger entry at a time (see monitor.h and
 * monitor_int.h). An enrolment adds a meter to its enterprise and links it to its parent;
 * a reading adds its increment and values to the meter's hour and day buckets and is
 * judged: silence before it, flags, water quality, the night before, the balance of its
 * family for the days now complete, the enterprise's annual plan; an equivocation
 * evidence entry raises its alert. Everything here is a function of the ledger (and the
 * settings and plans), so a rebuild raises the same alerts with the same ids. */
#include "node/monitor/monitor_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "ledger/entry.h"
#include "node/log.h"
#include "node/ingest/meter.h"

void mon_default_settings(wn_monitor_settings *s)
{
    *s = (wn_monitor_settings){.silent_factor = 3, .silent_min_ms = 60000, .default_interval_ms = 900000,
                               .imbalance_pct = 5, .balance_min_m3 = 1, .ph_min = 6, .ph_max = 9,
                               .conductivity_max = 3000, .turbidity_max = 10, .night_ratio = 0.5,
                               .night_min_m3h = 0.5};
}

const char *mon_kind_name(unsigned kind)
{
    static const char *const names[MK_COUNT] = {
        [MK_SILENT] = "silent", [MK_SEQ_GAP] = "sequence_gap", [MK_EQUIVOCATION] = "equivocation",
        [MK_TAMPER] = "tamper", [MK_POWER_LOSS] = "power_loss", [MK_REVERSE_FLOW] = "reverse_flow",
        [MK_QUALITY] = "quality", [MK_NIGHT_FLOW] = "night_flow", [MK_IMBALANCE] = "imbalance",
        [MK_OVER_PLAN] = "over_plan"};
    return kind > 0 && kind < MK_COUNT ? names[kind] : NULL;
}

/* ---- numbers and dates ---- */

void mon_civil(uint32_t day, int *y, unsigned *mo, unsigned *d)
{
    /* H. Hinnant's civil_from_days */
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *mo = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*mo <= 2));
}

uint32_t mon_day_of(int y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (uint32_t)(era * 146097 + (int64_t)doe - 719468);
}

void mon_fmt_m3(char *out, __int128 v)
{
    char digits[48];
    int neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u || n < 13);
    /* digits[0..12) are the fraction, least significant first */
    int first = 0;
    while (first < 12 && digits[first] == '0') first++;
    char *p = out;
    if (neg) *p++ = '-';
    for (int i = n - 1; i >= 12; i--) *p++ = digits[i];
    if (first < 12) {
        *p++ = '.';
        for (int i = 11; i >= first; i--) *p++ = digits[i];
    }
    *p = '\0';
}

double mon_m3(__int128 v) { return (double)v / (double)MON_PM3; }

/* A measurement's value in the unit the monitor uses for its quantity: flow m3/h,
 * pressure kPa, the others as measured. */
static double meas_value(const wn_measurement *ms)
{
    static const double pow10[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double v = (double)ms->value / pow10[ms->scale <= 9 ? ms->scale : 9];
    if (ms->unit == WN_U_L_PER_S) v *= 3.6;
    if (ms->unit == WN_U_MPA) v *= 1000;
    return v;
}

/* ---- meters and enterprises ---- */

static size_t id_hash(const uint8_t *id, size_t cap)
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return (size_t)h & (cap - 1);
}

mon_meter *mon_meter_by_id(wn_monitor *m, const uint8_t id[32])
{
    if (!m->mhcap) return NULL;
    for (size_t i = id_hash(id, m->mhcap);; i = (i + 1) & (m->mhcap - 1)) {
        uint32_t v = m->mhash[i];
        if (!v) return NULL;
        if (memcmp(m->mt[v - 1]->id, id, 32) == 0) return m->mt[v - 1];
    }
}

static int mhash_insert(wn_monitor *m, mon_meter *mm)
{
    if ((m->nmt + 1) * 2 > m->mhcap) {
        size_t cap = m->mhcap ? m->mhcap * 2 : 256;
        uint32_t *h = calloc(cap, sizeof *h);
        if (!h) return 0;
        free(m->mhash);
        m->mhash = h;
        m->mhcap = cap;
        for (size_t k = 0; k < m->nmt; k++) {
            size_t i = id_hash(m->mt[k]->id, cap);
            while (h[i]) i = (i + 1) & (cap - 1);
            h[i] = (uint32_t)k + 1;
        }
    }
    size_t i = id_hash(mm->id, m->mhcap);
    while (m->mhash[i]) i = (i + 1) & (m->mhcap - 1);
    m->mhash[i] = mm->num + 1;
    return 1;
}

static int push_u32(uint32_t **arr, size_t *n, size_t *cap, uint32_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        void *p = realloc(*arr, c * sizeof **arr);
        if (!p) return 0;
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 1;
}

mon_ent *mon_ent_get(wn_monitor *m, const char *name, int create)
{
    for (size_t i = 0; i < m->net; i++)
        if (strcmp(m->et[i]->name, name) == 0) return m->et[i];
    if (!create) return NULL;
    if (m->net == m->capet) {
        size_t c = m->capet ? m->capet * 2 : 16;
        void *p = realloc(m->et, c * sizeof *m->et);
        if (!p) return NULL;
        m->et = p;
        m->capet = c;
    }
    mon_ent *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->num = (uint32_t)m->net;
    e->dirty = 1;
    m->et[m->net++] = e;
    return e;
}

/* Adds a meter record (from an enrolment or from the database) to the tables. */
static mon_meter *meter_add(wn_monitor *m, mon_meter *mm)
{
    if (m->nmt == m->capmt) {
        size_t c = m->capmt ? m->capmt * 2 : 64;
        void *p = realloc(m->mt, c * sizeof *m->mt);
        if (!p) return NULL;
        m->mt = p;
        m->capmt = c;
    }
    mm->num = (uint32_t)m->nmt;
    m->mt[m->nmt] = mm;
    if (!mhash_insert(m, mm)) return NULL;
    m->nmt++;
    return mm;
}

/* Links mm to its parent if that is enrolled, and its pending children to it. */
static void link_family(wn_monitor *m, mon_meter *mm)
{
    if (mm->has_parent) {
        mon_meter *p = mon_meter_by_id(m, mm->parent_id);
        if (p) {
            mm->parent = p->num;
            push_u32(&p->kids, &p->nkids, &p->capkids, mm->num);
        } else {
            mm->parent = MON_NONE;
            m->pending_parents++;
        }
    }
    if (!m->pending_parents) return;
    for (size_t i = 0; i < m->nmt; i++) {
        mon_meter *k = m->mt[i];
        if (k->has_parent && k->parent == MON_NONE && memcmp(k->parent_id, mm->id, 32) == 0) {
            k->parent = mm->num;
            k->dirty = 1;
            push_u32(&mm->kids, &mm->nkids, &mm->capkids, k->num);
            m->pending_parents--;
        }
    }
}

/* monitor_store.c loads meters through this too. */
mon_meter *mon_meter_insert(wn_monitor *m, mon_meter *mm);
mon_meter *mon_meter_insert(wn_monitor *m, mon_meter *mm)
{
    if (!meter_add(m, mm)) return NULL;
    mon_ent *e = m->et && mm->ent < m->net ? m->et[mm->ent] : NULL;
    if (e) push_u32(&e->meters, &e->nmeters, &e->capmeters, mm->num);
    link_family(m, mm);
    return mm;
}

static void apply_enrolment(wn_monitor *m, uint64_t index, const uint8_t *p, size_t len)
{
    wn_enrolment en;
    if (wn_enrolment_decode(&en, p, len) != WN_ENROL_OK || en.point == WN_POINT_CERTIFIER) return;
    if (mon_meter_by_id(m, en.meter)) return;
    mon_ent *e = mon_ent_get(m, en.enterprise, 1);
    mon_meter *mm = calloc(1, sizeof *mm);
    if (!e || !mm) {
        free(mm);
        m->failed = 1;
        return;
    }
    memcpy(mm->id, en.meter, 32);
    mm->ent = e->num;
    mm->point = en.point;
    mm->tier = en.tier;
    mm->source = en.source;
    mm->alg = en.alg;
    static const uint8_t zero[32];
    mm->has_parent = memcmp(en.parent, zero, 32) != 0;
    memcpy(mm->parent_id, en.parent, 32);
    mm->parent = MON_NONE;
    mm->enrol_index = index;
    mm->enrol_time = en.time_ms;
    mm->dirty = 1;
    if (!mon_meter_insert(m, mm)) {
        free(mm);
        m->failed = 1;
    }
}

/* ---- alerts ---- */

void mon_alert_id(uint8_t out[16], unsigned kind, const void *subject, size_t slen, uint64_t anchor)
{
    uint8_t buf[1 + 8 + 128], h[32];
    size_t n = 0;
    buf[n++] = (uint8_t)kind;
    if (slen > 120) slen = 120;
    memcpy(buf + n, subject, slen), n += slen;
    wn_put_u64(buf + n, anchor), n += 8;
    wn_sha256(h, buf, n);
    memcpy(out, h, 16);
}

static size_t aid_hash(const uint8_t id[16], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, 8);
    return (size_t)h & (cap - 1);
}

long mon_alert_find(wn_monitor *m, const uint8_t id[16])
{
    if (!m->ahcap) return -1;
    for (size_t i = aid_hash(id, m->ahcap);; i = (i + 1) & (m->ahcap - 1)) {
        uint32_t v = m->ahash[i];
        if (!v) return -1;
        if (memcmp(m->al[v - 1].id, id, 16) == 0) return (long)v - 1;
    }
}

static int ahash_insert(wn_monitor *m, uint32_t no)
{
    if ((m->nal + 1) * 2 > m->ahcap) {
        size_t cap = m->ahcap ? m->ahcap * 2 : 1024;
        uint32_t *h = calloc(cap, sizeof *h);
        if (!h) return 0;
        free(m->ahash);
        m->ahash = h;
        m->ahcap = cap;
        for (size_t k = 0; k < m->nal; k++) {
            size_t i = aid_hash(m->al[k].id, cap);
            while (h[i]) i = (i + 1) & (cap - 1);
            h[i] = (uint32_t)k + 1;
        }
    }
    size_t i = aid_hash(m->al[no].id, m->ahcap);
    while (m->ahash[i]) i = (i + 1) & (m->ahcap - 1);
    m->ahash[i] = no + 1;
    return 1;
}

uint32_t mon_raise(wn_monitor *m, const mon_alert *a, int *existed)
{
    long f = mon_alert_find(m, a->id);
    if (existed) *existed = f >= 0;
    if (f >= 0) return (uint32_t)f;
    if (m->nal == m->capal) {
        size_t c = m->capal ? m->capal * 2 : 256;
        void *p = realloc(m->al, c * sizeof *m->al);
        void *d = realloc(m->al_dirty, c);
        if (p) m->al = p;
        if (d) m->al_dirty = d;
        if (!p || !d) {
            m->failed = 1;
            return MON_NONE;
        }
        m->capal = c;
    }
    uint32_t no = (uint32_t)m->nal;
    m->al[no] = *a;
    m->al_dirty[no] = 1;
    if (!ahash_insert(m, no)) {
        m->failed = 1;
        return MON_NONE;
    }
    m->nal++;
    if (a->meter < m->nmt) {
        mon_meter *mm = m->mt[a->meter];
        mm->nalerts++;
        mm->last_al[a->kind == MK_QUALITY && a->quantity < MON_NQ ? MK_COUNT + a->quantity : a->kind] = no + 1;
    }
    return no;
}

uint32_t mon_raise_rule(wn_monitor *m, const mon_alert *a, int *existed)
{
    mon_meter *mm = a->meter < m->nmt ? m->mt[a->meter] : NULL;
    if (!mm || mm->nalerts < MON_ALERTS_PER_METER || mon_alert_find(m, a->id) >= 0) return mon_raise(m, a, existed);
    uint32_t last = mm->last_al[a->kind == MK_QUALITY && a->quantity < MON_NQ ? MK_COUNT + a->quantity : a->kind];
    if (!last) return mon_raise(m, a, existed); /* the first of its kind: at most one per kind past the cap */
    mon_alert *x = &m->al[last - 1];
    x->folded++;
    x->count += a->count;
    x->end_time = a->end_time;
    x->value = a->value;
    x->limit = a->limit;
    if (a->nev) {
        if (x->nev < MON_MAX_EV) x->ev[x->nev++] = a->ev[a->nev - 1];
        else x->ev[MON_MAX_EV - 1] = a->ev[a->nev - 1];
    }
    m->al_dirty[last - 1] = 1;
    if (existed) *existed = 0;
    return last - 1;
}

static void add_ev(mon_alert *a, uint64_t index)
{
    if (a->nev < MON_MAX_EV) a->ev[a->nev++] = index;
}

/* An episode alert (flags, quality): raised at the first reading that shows it, then
 * counted; ev = [first index, latest index]. ep is the meter's episode slot. */
static void episode(wn_monitor *m, mon_meter *mm, uint32_t *ep, int on, unsigned kind, unsigned q, uint64_t index,
                    uint64_t t, double value, double limit)
{
    if (!on) {
        if (*ep) {
            mon_alert *a = &m->al[*ep - 1];
            a->end_time = t;
            m->al_dirty[*ep - 1] = 1;
            *ep = 0;
            mm->dirty = 1;
        }
        return;
    }
    if (*ep) {
        mon_alert *a = &m->al[*ep - 1];
        a->count++;
        if (a->nev < 2) add_ev(a, index);
        else a->ev[1] = index;
        if (q == WN_Q_PH ? fabs(value - 7) > fabs(a->value - 7) : value > a->value) {
            a->value = value;
            a->limit = limit;
        }
        m->al_dirty[*ep - 1] = 1;
        return;
    }
    mon_alert a;
    memset(&a, 0, sizeof a);
    uint8_t subj[33];
    memcpy(subj, mm->id, 32);
    subj[32] = (uint8_t)q;
    mon_alert_id(a.id, kind, subj, 33, index);
    a.kind = (uint8_t)kind;
    a.quantity = (uint8_t)q;
    a.meter = mm->num;
    a.ent = mm->ent;
    a.time = t;
    a.count = 1;
    a.value = value;
    a.limit = limit;
    add_ev(&a, index);
    int existed;
    uint32_t no = mon_raise_rule(m, &a, &existed);
    if (no == MON_NONE) return;
    if (!existed) {
        *ep = no + 1;
        mm->dirty = 1;
    }
}

/* ---- buckets ---- */

static void bucket_add(mon_bucket *b, const wn_reading *r, __int128 inc, uint64_t index)
{
    b->vol += inc;
    if (b->n == 0) b->first_index = index;
    b->n++;
    b->last_index = index;
    b->last_time = r->time_ms;
    b->flags |= r->flags;
    for (unsigned bit = 0; bit < 6; bit++)
        if (r->flags & (1u << bit)) b->nflag[bit]++;
    for (unsigned i = 0; i < r->count; i++) {
        unsigned q = r->m[i].quantity;
        if (q < 2 || q >= MON_NQ) continue;
        double v = meas_value(&r->m[i]);
        mon_stat *s = &b->q[q];
        if (s->n == 0 || v < s->min) s->min = v;
        if (s->n == 0 || v > s->max) s->max = v;
        s->sum += v;
        s->n++;
    }
}

/* Moves mm's current hour/day bucket to key (writing the old one into txn). */
static int roll(wn_monitor *m, MDB_txn *txn, mon_meter *mm, int days, uint32_t key)
{
    uint32_t *cur = days ? &mm->day_key : &mm->hour_key;
    mon_bucket *b = days ? &mm->day : &mm->hour;
    int *dirty = days ? &mm->day_dirty : &mm->hour_dirty;
    if (*cur == key && (b->n || *dirty)) return 0;
    if (*dirty && b->n) {
        uint8_t kb[8], vb[512];
        size_t vl;
        wn_put_u32(kb, mm->num);
        wn_put_u32(kb + 4, *cur);
        mon_bucket_encode_len(b, vb, &vl);
        MDB_val k = {8, kb}, v = {vl, vb};
        int rc = mdb_put(txn, days ? m->days : m->hours, &k, &v, 0);
        if (rc) return rc;
    }
    memset(b, 0, sizeof *b);
    *cur = key;
    *dirty = 0;
    return 0;
}

/* ---- rules ---- */

uint64_t mon_silent_after(const wn_monitor *m, const mon_meter *mm)
{
    uint64_t iv = m->set.default_interval_ms;
    if (mm->niv) {
        uint64_t s[MON_NIV];
        size_t n = mm->niv;
        memcpy(s, mm->iv, n * sizeof *s);
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
                uint64_t t = s[j];
                s[j] = s[j - 1];
                s[j - 1] = t;
            }
        iv = s[n / 2];
    }
    double after = m->set.silent_factor * (double)iv;
    uint64_t a = after > 9e15 ? (uint64_t)9e15 : (uint64_t)after;
    return a < m->set.silent_min_ms ? m->set.silent_min_ms : a;
}

static void silent_alert(wn_monitor *m, mon_meter *mm, uint64_t after, uint64_t end, uint64_t next_index)
{
    mon_alert a;
    memset(&a, 0, sizeof a);
    mon_alert_id(a.id, MK_SILENT, mm->id, 32, mm->last_index);
    a.kind = MK_SILENT;
    a.meter = mm->num;
    a.ent = mm->ent;
    a.time = mm->last_time + after;
    a.end_time = end;
    a.count = 1;
    a.limit = (double)after;
    add_ev(&a, mm->last_index);
    if (end) add_ev(&a, next_index);
    int existed;
    uint32_t no = mon_raise_rule(m, &a, &existed);
    if (no == MON_NONE) return;
    if (existed && end) {
        mon_alert *x = &m->al[no];
        x->end_time = end;
        if (x->nev < 2) add_ev(x, next_index);
        m->al_dirty[no] = 1;
    }
    if (!end && !existed) {
        mm->ep_silent = no + 1;
        mm->dirty = 1;
    }
}

void mon_tick_locked(wn_monitor *m, uint64_t now)
{
    for (size_t i = 0; i < m->nmt; i++) {
        mon_meter *mm = m->mt[i];
        if (mm->revoked || !mm->nread || mm->ep_silent) continue;
        uint64_t after = mon_silent_after(m, mm);
        /* silent: nothing received for that long, and the latest reading is that old (a
         * meter uploading its backlog is not silent, though its readings are old) */
        if (now > mm->last_time + after && now > mm->last_arrival + after) silent_alert(m, mm, after, 0, 0);
    }
}

static mon_ent *ent_of(wn_monitor *m, const mon_meter *mm) { return mm->ent < m->net ? m->et[mm->ent] : NULL; }

__int128 mon_ent_year(const mon_ent *e, uint32_t year)
{
    for (unsigned i = 0; i < e->nyears; i++)
        if (e->years[i].year == year) return e->years[i].vol;
    return 0;
}

static void ent_add_year(mon_ent *e, uint32_t year, __int128 inc)
{
    for (unsigned i = 0; i < e->nyears; i++)
        if (e->years[i].year == year) {
            e->years[i].vol += inc;
            return;
        }
    unsigned slot = e->nyears;
    if (slot == 8) { /* keep the 8 latest years */
        slot = 0;
        for (unsigned i = 1; i < 8; i++)
            if (e->years[i].year < e->years[slot].year) slot = i;
        if (e->years[slot].year > year) return;
    } else {
        e->nyears++;
    }
    e->years[slot] = (mon_year){year, inc};
}

const mon_plan *mon_plan_find(wn_monitor *m, const char *ent, uint32_t year)
{
    for (size_t i = 0; i < m->nplans; i++)
        if (m->plans[i].year == year && strcmp(m->plans[i].ent, ent) == 0) return &m->plans[i];
    return NULL;
}

void mon_check_plan(wn_monitor *m, mon_ent *e, uint32_t year, uint64_t index, uint64_t t)
{
    const mon_plan *p = mon_plan_find(m, e->name, year);
    __int128 used = mon_ent_year(e, year);
    if (!p || used <= p->plan) return;
    mon_alert a;
    memset(&a, 0, sizeof a);
    uint8_t subj[MON_ENT_MAX + 4];
    size_t sl = strlen(e->name);
    memcpy(subj, e->name, sl);
    mon_alert_id(a.id, MK_OVER_PLAN, subj, sl, year);
    a.kind = MK_OVER_PLAN;
    a.meter = MON_NONE;
    a.ent = e->num;
    a.time = t;
    a.count = 1;
    a.value = mon_m3(used);
    a.limit = mon_m3(p->plan);
    a.a1 = a.value;
    a.seq_a = year;
    add_ev(&a, index);
    int existed;
    uint32_t no = mon_raise_rule(m, &a, &existed);
    if (no != MON_NONE && existed) {
        mon_alert *x = &m->al[no];
        x->value = x->a1 = mon_m3(used);
        x->limit = mon_m3(p->plan);
        m->al_dirty[no] = 1;
    }
}

/* Night flow. The night of CST day D is the hours 01:00-05:00; it is complete when each
 * of the four hours has readings, and its flow is the smallest of their volumes (m3/h).
 * A night is judged only against comparable nights: complete nights of days of the same
 * kind (working day Monday-Friday, or rest day Saturday-Sunday, in CST), not the meter's
 * first (partial) day, among the MON_NIGHT_LOOKBACK days before D; the latest
 * MON_NIGHT_REF_MAX of them are used and at least MON_NIGHT_REF_MIN are needed, else the
 * night is not judged. It is flagged when its flow is above (1 + night_ratio) x the
 * median of theirs and at least night_min_m3h. */
#define MON_NIGHT_REF_MIN 7
#define MON_NIGHT_REF_MAX 14
#define MON_NIGHT_LOOKBACK 56

/* 1 for Saturday and Sunday (day key 0, 1970-01-01, was a Thursday). */
static int rest_day(uint32_t day)
{
    unsigned wd = (day + 4) % 7; /* 0 Sunday .. 6 Saturday */
    return wd == 0 || wd == 6;
}

/* The night of day D. Returns: 1 if complete (*flow, *first, *last set). */
static int night_of(wn_monitor *m, MDB_txn *txn, mon_meter *mm, uint32_t D, double *flow, uint64_t *first,
                    uint64_t *last)
{
    mon_bucket b;
    double minv = 0;
    for (unsigned h = 1; h <= 4; h++) {
        if (!mon_get_bucket(m, txn, 0, mm, D * 24 + h, 1, &b) || b.n == 0) return 0;
        double v = mon_m3(b.vol);
        if (h == 1 || v < minv) minv = v;
        if (h == 1 && first) *first = b.first_index;
        if (last) *last = b.last_index;
    }
    *flow = minv;
    return 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void judge_night(wn_monitor *m, MDB_txn *txn, mon_meter *mm, uint32_t D)
{
    double flow;
    uint64_t first = 0, last = 0;
    if (!night_of(m, txn, mm, D, &flow, &first, &last)) return;
    int kind = rest_day(D);
    double ref[MON_NIGHT_REF_MAX];
    unsigned nref = 0;
    uint32_t first_day = mon_day_key(mm->first_time); /* a partial day: not a reference */
    uint32_t stop = D > MON_NIGHT_LOOKBACK ? D - MON_NIGHT_LOOKBACK : 0;
    if (stop <= first_day) stop = first_day + 1;
    for (uint32_t d = D - 1; d >= stop && d < D && nref < MON_NIGHT_REF_MAX; d--)
        if (rest_day(d) == kind && night_of(m, txn, mm, d, &ref[nref], NULL, NULL)) nref++;
    if (nref < MON_NIGHT_REF_MIN) return;
    qsort(ref, nref, sizeof *ref, cmp_double);
    double median = nref % 2 ? ref[nref / 2] : (ref[nref / 2 - 1] + ref[nref / 2]) / 2;
    double limit = (1 + m->set.night_ratio) * median;
    if (!(flow > limit && flow >= m->set.night_min_m3h)) return;
    mon_alert a;
    memset(&a, 0, sizeof a);
    mon_alert_id(a.id, MK_NIGHT_FLOW, mm->id, 32, D);
    a.kind = MK_NIGHT_FLOW;
    a.meter = mm->num;
    a.ent = mm->ent;
    a.time = mon_day_start(D) + 1 * MON_HOUR_MS;
    a.end_time = mon_day_start(D) + 5 * MON_HOUR_MS;
    a.count = 4;
    a.value = flow;
    a.limit = limit;
    a.a1 = median;
    a.a2 = nref;
    a.seq_a = D;
    a.seq_b = (uint64_t)kind;
    add_ev(&a, first);
    add_ev(&a, last);
    mon_raise_rule(m, &a, NULL);
}

/* Day D of the family of parent p: its volume against the sum of its children's. A day
 * is judged once its members have completed it (judge_family); a member's readings of a
 * day already judged (a backlog sent late) judge it again (by = the late entry's index),
 * and the day's alert follows the new figures: raised if it now holds, updated if it
 * still holds, cleared (with why) if it no longer does. */
static void judge_balance_day(wn_monitor *m, MDB_txn *txn, mon_meter *p, uint32_t D, uint64_t by)
{
    mon_bucket b;
    int judged = 1;
    /* the day a member began reporting is partial for it (its first reading has no
     * increment): not judged */
    if (D == mon_day_key(p->first_time)) judged = 0;
    for (size_t k = 0; k < p->nkids && judged; k++)
        if (m->mt[p->kids[k]]->nread && D == mon_day_key(m->mt[p->kids[k]]->first_time)) judged = 0;
    if (judged && (!mon_get_bucket(m, txn, 1, p, D, 1, &b) || !b.n)) judged = 0;
    __int128 pv = judged ? b.vol : 0, cs = 0;
    uint64_t ev[MON_MAX_EV];
    unsigned nev = 0;
    if (judged) ev[nev++] = b.last_index;
    for (size_t k = 0; k < p->nkids && judged; k++) {
        mon_meter *c = m->mt[p->kids[k]];
        if (mon_get_bucket(m, txn, 1, c, D, 1, &b) && b.n) {
            cs += b.vol;
            if (nev < MON_MAX_EV) ev[nev++] = b.last_index;
        }
    }
    double pm = mon_m3(pv);
    if (judged && pm < m->set.balance_min_m3) judged = 0;
    double pct = judged ? mon_m3(pv - cs) / pm * 100.0 : 0;
    int holds = judged && fabs(pct) > m->set.imbalance_pct;
    uint8_t id[16];
    mon_alert_id(id, MK_IMBALANCE, p->id, 32, D);
    long f = mon_alert_find(m, id);
    if (f < 0 && !holds) return;
    if (f < 0) {
        mon_alert a;
        memset(&a, 0, sizeof a);
        memcpy(a.id, id, 16);
        a.kind = MK_IMBALANCE;
        a.meter = p->num;
        a.ent = p->ent;
        a.time = a.end_time = mon_day_start(D + 1);
        a.count = 1;
        a.value = pct;
        a.limit = m->set.imbalance_pct;
        a.a1 = pm;
        a.a2 = mon_m3(cs);
        a.seq_a = D;
        memcpy(a.ev, ev, nev * sizeof *ev);
        a.nev = (uint8_t)nev;
        mon_raise_rule(m, &a, NULL);
        return;
    }
    mon_alert *x = &m->al[f];
    double a2 = mon_m3(cs);
    uint8_t cleared = holds ? MON_CLEAR_NONE : judged ? MON_CLEAR_BALANCED : MON_CLEAR_NOT_JUDGED;
    if (cleared == x->cleared && (!judged || (x->a1 == pm && x->a2 == a2))) return; /* nothing changed */
    x->cleared = cleared;
    if (judged) {
        x->value = pct;
        x->limit = m->set.imbalance_pct;
        x->a1 = pm;
        x->a2 = a2;
        memcpy(x->ev, ev, nev * sizeof *ev);
        x->nev = (uint8_t)nev;
    }
    x->revised++;
    x->revised_by = by;
    m->al_dirty[f] = 1;
}

/* Judges the days that every reporting member of p's family has completed. */
static void judge_family(wn_monitor *m, MDB_txn *txn, mon_meter *p)
{
    if (!p->nkids || !p->nread) return;
    uint32_t pday = mon_day_key(p->last_time), fc = pday;
    for (size_t k = 0; k < p->nkids; k++) {
        mon_meter *c = m->mt[p->kids[k]];
        uint32_t cday = c->nread ? mon_day_key(c->last_time) : 0;
        /* a child silent for more than two days no longer holds the judgement back: its
         * missing volume is what the balance is there to show */
        if (c->nread && cday + 2 >= pday && cday < fc) fc = cday;
    }
    if (fc == 0) return;
    fc--; /* the last complete day */
    uint32_t start = p->balance_done ? p->balance_done + 1 : mon_day_key(p->first_time);
    if (start > fc) return;
    if (fc - start > 62) start = fc - 62;
    for (uint32_t d = start; d <= fc; d++) judge_balance_day(m, txn, p, d, 0);
    p->balance_done = fc;
    p->dirty = 1;
}

static void apply_reading(wn_monitor *m, MDB_txn *txn, uint64_t index, const wn_reading *r)
{
    mon_meter *mm = mon_meter_by_id(m, r->meter);
    if (!mm) return;
    uint64_t t = r->time_ms;
    __int128 v = 0, inc = 0;
    int hv = wn_meter_volume_of(r, &v);
    if (hv && mm->has_volume && !(r->flags & WN_FLAG_METER_REPLACED) && v > mm->last_volume) inc = v - mm->last_volume;

    if (mm->nread) {
        uint64_t after = mon_silent_after(m, mm);
        if (t > mm->last_time && t - mm->last_time > after) silent_alert(m, mm, after, t, index);
        if (mm->ep_silent) {
            mon_alert *a = &m->al[mm->ep_silent - 1];
            if (!a->end_time) {
                a->end_time = t;
                if (a->nev < 2) add_ev(a, index);
                m->al_dirty[mm->ep_silent - 1] = 1;
            }
            mm->ep_silent = 0;
        }
        if (t > mm->last_time) {
            memmove(mm->iv + 1, mm->iv, (MON_NIV - 1) * sizeof *mm->iv);
            mm->iv[0] = t - mm->last_time;
            if (mm->niv < MON_NIV) mm->niv++;
        }
    } else {
        mm->first_time = t;
    }

    uint32_t hk = mon_hour_key(t), dk = hk / 24;
    int rc = roll(m, txn, mm, 0, hk);
    if (!rc) rc = roll(m, txn, mm, 1, dk);
    if (rc) {
        m->failed = 1;
        return;
    }
    bucket_add(&mm->hour, r, inc, index);
    bucket_add(&mm->day, r, inc, index);
    mm->hour_dirty = mm->day_dirty = 1;

    if (m->ngaps) mon_gaps_reading(m, mm, r->seq, t, index);
    mm->nread++;
    mm->last_arrival = wn_now_ms();
    mm->last_seq = r->seq;
    mm->last_time = t;
    mm->last_index = index;
    mm->last_flags = r->flags;
    if (hv) {
        mm->has_volume = 1;
        mm->last_volume = v;
    }
    mm->last_qmask = 0;
    for (unsigned i = 0; i < r->count; i++) {
        unsigned q = r->m[i].quantity;
        if (q >= MON_NQ) continue;
        mm->last_qmask |= (uint16_t)(1u << q);
        mm->last_q[q] = q == WN_Q_VOLUME ? mon_m3(v) : meas_value(&r->m[i]);
    }
    mm->dirty = 1;

    static const uint16_t fbit[3] = {WN_FLAG_TAMPER, WN_FLAG_POWER_LOSS, WN_FLAG_REVERSE_FLOW};
    static const uint8_t fkind[3] = {MK_TAMPER, MK_POWER_LOSS, MK_REVERSE_FLOW};
    for (int k = 0; k < 3; k++)
        episode(m, mm, &mm->ep_flag[k], (r->flags & fbit[k]) != 0, fkind[k], 0, index, t, 0, 0);
    for (unsigned i = 0; i < r->count; i++) {
        unsigned q = r->m[i].quantity;
        if (q != WN_Q_PH && q != WN_Q_CONDUCTIVITY && q != WN_Q_TURBIDITY) continue;
        double x = meas_value(&r->m[i]), limit = 0;
        int bad = 0;
        if (q == WN_Q_PH) {
            if (x < m->set.ph_min) bad = 1, limit = m->set.ph_min;
            if (x > m->set.ph_max) bad = 1, limit = m->set.ph_max;
        } else {
            limit = q == WN_Q_CONDUCTIVITY ? m->set.conductivity_max : m->set.turbidity_max;
            bad = x > limit;
        }
        episode(m, mm, &mm->ep_q[q], bad, MK_QUALITY, q, index, t, x, limit);
    }

    unsigned lh = hk % 24;
    uint32_t night = lh >= 5 ? dk : dk - 1;
    if (night > mm->night_done && night > mon_day_key(mm->first_time)) {
        judge_night(m, txn, mm, night);
        mm->night_done = night;
    } else if (night > mm->night_done) {
        mm->night_done = night;
    }

    mon_ent *e = ent_of(m, mm);
    if (e && mm->point == WN_POINT_INTAKE && !mm->has_parent && inc > 0) {
        int y;
        unsigned mo, d;
        mon_civil(dk, &y, &mo, &d);
        ent_add_year(e, (uint32_t)y, inc);
        e->last_intake_index = index;
        e->dirty = 1;
        mon_check_plan(m, e, (uint32_t)y, index, t);
    }

    if (mm->nkids) judge_family(m, txn, mm);
    if (mm->has_parent && mm->parent != MON_NONE) {
        mon_meter *p = m->mt[mm->parent];
        /* a late reading of a day already judged: judge that day again */
        if (p->balance_done && dk <= p->balance_done) judge_balance_day(m, txn, p, dk, index);
        judge_family(m, txn, p);
    }
}

static void apply_equivocation(wn_monitor *m, uint64_t index, const uint8_t *p, size_t len)
{
    wn_reading r;
    if (len < 8 || wn_reading_decode(&r, p + 8, len - 8) != WN_READING_OK) return;
    mon_meter *mm = mon_meter_by_id(m, r.meter);
    if (!mm) return;
    mon_alert a;
    memset(&a, 0, sizeof a);
    mon_alert_id(a.id, MK_EQUIVOCATION, mm->id, 32, index);
    a.kind = MK_EQUIVOCATION;
    a.meter = mm->num;
    a.ent = mm->ent;
    a.time = a.end_time = r.time_ms;
    a.count = 1;
    a.seq_a = r.seq;
    add_ev(&a, wn_get_u64(p));
    add_ev(&a, index);
    mon_raise_rule(m, &a, NULL);
}

static void apply_revocation(wn_monitor *m, uint64_t index, const uint8_t *p, size_t len)
{
    wn_revocation rv;
    if (wn_revocation_decode(&rv, p, len) != WN_ENROL_OK) return;
    mon_meter *mm = mon_meter_by_id(m, rv.meter);
    if (!mm) return;
    mm->revoked = 1;
    mm->revoke_index = index;
    if (mm->ep_silent) {
        mon_alert *a = &m->al[mm->ep_silent - 1];
        if (!a->end_time) a->end_time = rv.time_ms > a->time ? rv.time_ms : a->time;
        m->al_dirty[mm->ep_silent - 1] = 1;
        mm->ep_silent = 0;
    }
    mm->dirty = 1;
}

void mon_apply_entry(wn_monitor *m, MDB_txn *txn, uint64_t index, const uint8_t *e, size_t len)
{
    wn_entry_view v;
    if (wn_entry_parse(&v, e, len) != WN_ENTRY_OK) return;
    const uint8_t *p = v.payload;
    size_t pl = v.len;
    switch (v.kind) {
    case WN_ENTRY_READING: {
        wn_reading r;
        /* a meter known here came from a decoded enrolment, so its id is a checked key:
         * decode without the id's point check (a square root per reading) */
        int known = pl >= 33 && mon_meter_by_id(m, p + 1);
        if ((known ? wn_reading_decode_known_meter(&r, p, pl) : wn_reading_decode(&r, p, pl)) == WN_READING_OK)
            apply_reading(m, txn, index, &r);
        break;
    }
    case WN_ENTRY_ENROLMENT: apply_enrolment(m, index, p, pl); break;
    case WN_ENTRY_REVOCATION: apply_revocation(m, index, p, pl); break;
    case WN_ENTRY_EQUIVOCATION: apply_equivocation(m, index, p, pl); break;
    default: break; /* certificates and later entry types carry no readings */
    }
}
