/* state.c — per-meter state in memory (open-addressing hash table under a rwlock) and
 * its rebuildable mirror in DIR/state (LMDB, MDB_NOSYNC), with the watermark that ties it
 * to the ledger and the replay that brings it up to date at start. See state.h.
 *
 * DIR/state databases (the rebuild loop and the meta watermark: node/datadir/rebuild.h):
 *   meta    "format" -> u32 2; "applied" -> u64 ledger size; "chain" -> chain hash of entry applied-1
 *   meters  meter id -> record (see put_record)
 *   times   u64 first index -> u64 end index || u64 time [|| u8 2]: entries [first, end) were
 *           accepted at time in one commit; the byte 2 marks a commit answered with version 2
 *           receipts (PROTOCOL §6), its absence one answered with version 1 receipts */
#include "node/ingest/state.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "node/datadir/envgate.h"
#include "node/log.h"
#include "node/datadir/rebuild.h"

#define STATE_FORMAT 2 /* 2: a meter keeps its enrolment's point and time */
#define STATE_MAP_SIZE (64ULL << 20)  /* the map starts here and grows on demand (node/datadir/envgate.h) */
#define STATE_MAP_MAX (1ULL << 40)    /* ... up to 1 TiB of address space */
#define STATE_MAP_ENV "WN_STATE_MAP_BYTES" /* tests: a smaller starting map (at least 16 KiB) */
#define REC_FIXED 137 /* record bytes before the alerts */
#define ALERT_LEN 56
#define REPLAY_DIRTY_MAX 4096

enum { DB_METERS, DB_TIMES };

struct wn_state {
    MDB_env *env;
    MDB_dbi meta, db[2];       /* db[DB_METERS], db[DB_TIMES] (see the top) */
    wn_ledger *ledger;         /* what the state replays at open */
    int env_failed;            /* a write failed: stop writing, replay at next start */
    pthread_rwlock_t lock;
    wn_meter **slots;
    size_t cap, count;
    uint64_t applied;
    char dir[4096];
};

/* ---- hash table ---- */

static size_t slot_hash(const uint8_t meter[32], size_t cap)
{
    uint64_t h;
    memcpy(&h, meter, 8);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static wn_meter **slot_of(wn_state *s, const uint8_t meter[32])
{
    size_t i = slot_hash(meter, s->cap);
    while (s->slots[i] && memcmp(s->slots[i]->meter, meter, 32) != 0) i = (i + 1) & (s->cap - 1);
    return &s->slots[i];
}

static int grow(wn_state *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    wn_meter **old = s->slots;
    size_t oldcap = s->cap;
    s->slots = calloc(cap, sizeof *s->slots);
    if (!s->slots) {
        s->slots = old;
        return 0;
    }
    s->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i]) *slot_of(s, old[i]->meter) = old[i];
    free(old);
    return 1;
}

/* Inserts or replaces (taking ownership of rec's alerts). Caller holds the write lock. */
static wn_meter *table_put(wn_state *s, const wn_meter *rec)
{
    if ((s->count + 1) * 2 > s->cap && !grow(s)) return NULL;
    wn_meter **slot = slot_of(s, rec->meter);
    if (*slot) {
        if ((*slot)->alerts != rec->alerts) free((*slot)->alerts);
        **slot = *rec;
        return *slot;
    }
    wn_meter *m = malloc(sizeof *m);
    if (!m) return NULL;
    *m = *rec;
    *slot = m;
    s->count++;
    return m;
}

const wn_meter *wn_state_find(wn_state *s, const uint8_t meter[32])
{
    return s->cap ? *slot_of(s, meter) : NULL;
}

int wn_state_get(wn_state *s, const uint8_t meter[32], wn_meter *out, wn_alert *alerts, size_t cap)
{
    pthread_rwlock_rdlock(&s->lock);
    const wn_meter *m = wn_state_find(s, meter);
    if (m) {
        *out = *m;
        out->alerts = NULL;
        for (size_t i = 0; i < m->n_alerts && i < cap; i++) alerts[i] = m->alerts[i];
    }
    pthread_rwlock_unlock(&s->lock);
    return m != NULL;
}

int wn_state_get_page(wn_state *s, const uint8_t meter[32], wn_meter *out, size_t from, wn_alert *alerts, size_t cap,
                      size_t *got, uint64_t *unrecorded)
{
    pthread_rwlock_rdlock(&s->lock);
    const wn_meter *m = wn_state_find(s, meter);
    *got = 0;
    *unrecorded = 0;
    if (m) {
        *out = *m;
        out->alerts = NULL;
        for (size_t i = from; i < m->n_alerts && *got < cap; i++) alerts[(*got)++] = m->alerts[i];
        for (size_t i = 0; i < m->n_alerts; i++) *unrecorded += m->alerts[i].more;
    }
    pthread_rwlock_unlock(&s->lock);
    return m != NULL;
}

void wn_state_add_unrecorded(wn_state *s, const uint8_t meter[32], uint64_t seq)
{
    pthread_rwlock_wrlock(&s->lock);
    const wn_meter *m = wn_state_find(s, meter);
    for (size_t i = 0; m && i < m->n_alerts; i++)
        if (m->alerts[i].seq == seq) {
            m->alerts[i].more++;
            break;
        }
    pthread_rwlock_unlock(&s->lock);
}

size_t wn_state_count(wn_state *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

uint64_t wn_state_applied(wn_state *s) { return s->applied; }

MDB_env *wn_state_env(wn_state *s) { return s->env; }

/* ---- records ---- */

static void put_u128(uint8_t *p, __int128 v)
{
    unsigned __int128 u = (unsigned __int128)v;
    wn_put_u64(p, (uint64_t)(u >> 64));
    wn_put_u64(p + 8, (uint64_t)u);
}

static __int128 get_u128(const uint8_t *p)
{
    unsigned __int128 u = ((unsigned __int128)wn_get_u64(p) << 64) | wn_get_u64(p + 8);
    return (__int128)u;
}

/* alg 1 | pubkey 33 | enrol_index 8 | point 1 | enrol_time 8 | revoked 1 | revoke_index 8 | last_seq 8 | last_index 8 |
 * last_time 8 | last_digest 32 | has_volume 1 | volume 16 | n_alerts 4 | n x (seq 8,
 * original 8, evidence 8, digest 32) ; the key is the meter id. */
static uint8_t *encode_record(const wn_meter *m, size_t *len)
{
    *len = REC_FIXED + ALERT_LEN * m->n_alerts;
    uint8_t *b = malloc(*len), *p = b;
    if (!b) return NULL;
    *p++ = m->alg;
    memcpy(p, m->pubkey, 33), p += 33;
    wn_put_u64(p, m->enrol_index), p += 8;
    *p++ = m->point;
    wn_put_u64(p, m->enrol_time), p += 8;
    *p++ = (uint8_t)(m->revoked != 0);
    wn_put_u64(p, m->revoke_index), p += 8;
    wn_put_u64(p, m->last_seq), p += 8;
    wn_put_u64(p, m->last_index), p += 8;
    wn_put_u64(p, m->last_time), p += 8;
    memcpy(p, m->last_digest, 32), p += 32;
    *p++ = (uint8_t)(m->has_volume != 0);
    put_u128(p, m->last_volume), p += 16;
    wn_put_u32(p, (uint32_t)m->n_alerts), p += 4;
    for (size_t i = 0; i < m->n_alerts; i++) {
        wn_put_u64(p, m->alerts[i].seq), p += 8;
        wn_put_u64(p, m->alerts[i].original_index), p += 8;
        wn_put_u64(p, m->alerts[i].evidence_index), p += 8;
        memcpy(p, m->alerts[i].digest, 32), p += 32;
    }
    if ((size_t)(p - b) != *len) abort(); /* the layout above and REC_FIXED disagree */
    return b;
}

static int decode_record(wn_meter *m, const uint8_t meter[32], const uint8_t *p, size_t len)
{
    memset(m, 0, sizeof *m);
    if (len < REC_FIXED) return 0;
    uint32_t na = wn_get_u32(p + REC_FIXED - 4);
    if (len != REC_FIXED + (size_t)ALERT_LEN * na) return 0;
    memcpy(m->meter, meter, 32);
    (void)wn_meter_set_key(m, p[0], p + 1); /* a key that does not parse stays unprepared (meter.h) */
    p += 34;
    m->enrol_index = wn_get_u64(p), p += 8;
    m->point = *p++;
    m->enrol_time = wn_get_u64(p), p += 8;
    m->revoked = *p++;
    m->revoke_index = wn_get_u64(p), p += 8;
    m->last_seq = wn_get_u64(p), p += 8;
    m->last_index = wn_get_u64(p), p += 8;
    m->last_time = wn_get_u64(p), p += 8;
    memcpy(m->last_digest, p, 32), p += 32;
    m->has_volume = *p++;
    m->last_volume = get_u128(p), p += 16;
    p += 4;
    for (uint32_t i = 0; i < na; i++) {
        wn_alert a = {0};
        a.seq = wn_get_u64(p), p += 8;
        a.original_index = wn_get_u64(p), p += 8;
        a.evidence_index = wn_get_u64(p), p += 8;
        memcpy(a.digest, p, 32), p += 32;
        if (!wn_meter_add_alert(m, &a)) return 0;
    }
    return 1;
}

static int put_record(wn_state *s, MDB_txn *txn, const wn_meter *m)
{
    size_t len;
    uint8_t *b = encode_record(m, &len);
    if (!b) return ENOMEM;
    MDB_val k = {32, (void *)m->meter}, v = {len, b};
    int rc = mdb_put(txn, s->db[DB_METERS], &k, &v, 0);
    free(b);
    return rc;
}

static int put_meta(wn_state *s, MDB_txn *txn, uint64_t applied, const uint8_t chain[32])
{
    return wn_rebuild_put_meta(txn, s->meta, STATE_FORMAT, applied, chain);
}

static int put_times(wn_state *s, MDB_txn *txn, uint64_t from, uint64_t to, uint64_t time_ms)
{
    uint8_t kb[8], vb[17];
    wn_put_u64(kb, from);
    wn_put_u64(vb, to);
    wn_put_u64(vb + 8, time_ms);
    vb[16] = 2; /* receipts of this commit are version 2 */
    MDB_val k = {8, kb}, v = {17, vb};
    return mdb_put(txn, s->db[DB_TIMES], &k, &v, 0);
}

static void env_failure(wn_state *s, const char *what, int rc)
{
    if (!s->env_failed)
        wn_log("state: %s failed (%s); the state env is no longer written and will be replayed at next start",
               what, mdb_strerror(rc));
    s->env_failed = 1;
}

/* ---- commit ---- */

int wn_state_commit(wn_state *s, wn_meter *recs, size_t n, uint64_t from, uint64_t to, uint64_t time_ms,
                    const uint8_t chain[32])
{
    pthread_rwlock_wrlock(&s->lock);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        if (!table_put(s, &recs[i])) {
            wn_meter_free_alerts(&recs[i]);
            ok = 0;
        }
    s->applied = to;
    pthread_rwlock_unlock(&s->lock);
    if (!ok) {
        wn_log("state: out of memory applying a commit; restart the node to rebuild its state");
        s->env_failed = 1;
    }
    if (s->env_failed) return 0;

    int rc;
    for (int attempt = 0;; attempt++) { /* MDB_MAP_FULL: the map was grown, write again */
        MDB_txn *txn;
        rc = wn_envgate_begin(s->env, 0, &txn);
        if (rc) {
            env_failure(s, "begin", rc);
            return 0;
        }
        for (size_t i = 0; i < n && !rc; i++) {
            const wn_meter *m = wn_state_find(s, recs[i].meter); /* the table's copy owns the alerts now */
            rc = put_record(s, txn, m);
        }
        if (!rc && to > from) rc = put_times(s, txn, from, to, time_ms);
        if (!rc) rc = put_meta(s, txn, to, chain);
        rc = wn_envgate_end(s->env, txn, rc);
        if (rc != MDB_MAP_FULL || attempt == 8) break;
    }
    if (rc) {
        env_failure(s, "write", rc);
        return 0;
    }
    return 1;
}

void wn_state_put_time(wn_state *s, uint64_t index, uint64_t time_ms)
{
    if (s->env_failed) return;
    int rc;
    for (int attempt = 0;; attempt++) {
        MDB_txn *txn;
        rc = wn_envgate_begin(s->env, 0, &txn);
        if (!rc) rc = wn_envgate_end(s->env, txn, put_times(s, txn, index, index + 1, time_ms));
        if (rc != MDB_MAP_FULL || attempt == 8) break;
    }
    if (rc) env_failure(s, "writing a receipt time", rc);
}

int wn_state_commit_of(wn_state *s, uint64_t index, uint64_t *first, uint64_t *end, uint64_t *time_ms,
                       int *version)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (wn_envgate_begin(s->env, MDB_RDONLY, &txn)) return 0;
    int found = 0;
    if (mdb_cursor_open(txn, s->db[DB_TIMES], &cur) == 0) {
        uint8_t kb[8];
        wn_put_u64(kb, index);
        MDB_val k = {8, kb}, v;
        int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == 8 && wn_get_u64(k.mv_data) != index) rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND) rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        const uint8_t *vb = v.mv_data;
        if (rc == 0 && k.mv_size == 8 && (v.mv_size == 16 || (v.mv_size == 17 && vb[16] == 2)) &&
            wn_get_u64(k.mv_data) <= index && index < wn_get_u64(vb)) {
            *first = wn_get_u64(k.mv_data);
            *end = wn_get_u64(vb);
            *time_ms = wn_get_u64(vb + 8);
            *version = v.mv_size == 17 ? 2 : 1;
            found = 1;
        }
        mdb_cursor_close(cur);
    }
    wn_envgate_abort(s->env, txn);
    return found;
}

int wn_state_receipt_time(wn_state *s, uint64_t index, uint64_t *time_ms)
{
    uint64_t first, end;
    int version;
    return wn_state_commit_of(s, index, &first, &end, time_ms, &version);
}

/* ---- replay ---- */

typedef struct {
    wn_state *s;
    uint8_t (*dirty)[32]; /* meters changed by the replay */
    size_t ndirty, capdirty;
    int all;              /* too many to list: write every meter */
    uint8_t chain[32];
    int failed;
} replay_ctx;

static wn_meter *replay_meter(replay_ctx *c, const uint8_t meter[32], uint64_t index)
{
    wn_meter *m = (wn_meter *)wn_state_find(c->s, meter);
    if (!m) {
        char hex[65];
        wn_hex_encode(hex, meter, 32);
        wn_log("state: ledger entry %llu refers to meter %s, which is not enrolled before it",
               (unsigned long long)index, hex);
        c->failed = 1;
        return NULL;
    }
    if (c->all) return m;
    if (c->ndirty == REPLAY_DIRTY_MAX) { /* many changes: write every meter at the end */
        c->all = 1;
        return m;
    }
    if (c->ndirty == c->capdirty) {
        size_t cap = c->capdirty ? c->capdirty * 2 : 256;
        void *p = realloc(c->dirty, cap * 32);
        if (!p) {
            c->failed = 1;
            return NULL;
        }
        c->dirty = p;
        c->capdirty = cap;
    }
    memcpy(c->dirty[c->ndirty++], meter, 32);
    return m;
}

static int replay_entry(void *ctx, uint64_t index, const uint8_t *e, size_t len, const uint8_t leaf[32],
                        const uint8_t chain[32])
{
    replay_ctx *c = ctx;
    (void)leaf;
    memcpy(c->chain, chain, 32);
    wn_entry_view v;
    if (wn_entry_parse(&v, e, len) != WN_ENTRY_OK) goto bad;
    const uint8_t *p = v.payload;
    size_t pl = v.len;
    if (v.kind == WN_ENTRY_READING) {
        wn_reading r;
        uint8_t digest[32];
        /* an enrolled meter's id is a checked key: skip the decoder's point check */
        int known = pl >= 33 && wn_state_find(c->s, p + 1);
        if ((known ? wn_reading_decode_known_meter(&r, p, pl) : wn_reading_decode(&r, p, pl)) !=
            WN_READING_OK)
            goto bad;
        wn_meter *m = replay_meter(c, r.meter, index);
        if (!m) return 1;
        wn_reading_digest(&r, digest);
        wn_meter_advance(m, &r, digest, index);
    } else if (v.kind == WN_ENTRY_ENROLMENT) {
        wn_enrolment en;
        if (wn_enrolment_decode(&en, p, pl) != WN_ENROL_OK) goto bad;
        wn_meter m;
        memset(&m, 0, sizeof m);
        memcpy(m.meter, en.meter, 32);
        (void)wn_meter_set_key(&m, en.alg, en.pubkey); /* decoded, so it parses */
        m.enrol_index = index;
        m.point = en.point;
        m.enrol_time = en.time_ms;
        pthread_rwlock_wrlock(&c->s->lock);
        int ok = !wn_state_find(c->s, en.meter) && table_put(c->s, &m);
        pthread_rwlock_unlock(&c->s->lock);
        if (!ok || !replay_meter(c, en.meter, index)) goto bad;
    } else if (v.kind == WN_ENTRY_REVOCATION) {
        wn_revocation rv;
        if (wn_revocation_decode(&rv, p, pl) != WN_ENROL_OK) goto bad;
        wn_meter *m = replay_meter(c, rv.meter, index);
        if (!m) return 1;
        m->revoked = 1;
        m->revoke_index = index;
    } else if (v.kind == WN_ENTRY_EQUIVOCATION) {
        wn_reading r;
        wn_alert a = {0};
        if (pl < 8 || wn_reading_decode(&r, p + 8, pl - 8) != WN_READING_OK) goto bad;
        wn_meter *m = replay_meter(c, r.meter, index);
        if (!m) return 1;
        a.seq = r.seq;
        a.original_index = wn_get_u64(p);
        a.evidence_index = index;
        wn_reading_digest(&r, a.digest);
        if (!wn_meter_add_alert(m, &a)) goto bad;
    } else if (v.kind == WN_ENTRY_CERTIFICATE || v.kind == WN_ENTRY_TRANSFER || v.kind == WN_ENTRY_RETIREMENT ||
               v.kind == WN_ENTRY_ENTERPRISE || v.kind == WN_ENTRY_ACCREDITATION || v.kind == WN_ENTRY_CALIBRATION) {
        /* savings certificates and enterprise records change no meter: node/certs/ keeps their state */
    } else {
        goto bad;
    }
    return 0;
bad:
    wn_log("state: cannot replay ledger entry %llu (type %u, %zu bytes)", (unsigned long long)index,
           len ? e[0] : 0u, len);
    c->failed = 1;
    return 1;
}

/* ---- open / close (the rebuild loop is node/datadir/rebuild.c's) ---- */

static void free_table(wn_state *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) {
            free(s->slots[i]->alerts);
            free(s->slots[i]);
        }
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}

/* wn_rebuild_spec.load: all meter records into the table. */
static int load(void *ctx, MDB_txn *txn, const MDB_dbi *dbi, const char **why)
{
    wn_state *s = ctx;
    MDB_cursor *cur;
    MDB_val k, v;
    (void)dbi;
    if (mdb_cursor_open(txn, s->db[DB_METERS], &cur)) return 0;
    int ok = 1, rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        wn_meter m;
        if (k.mv_size != 32 || !decode_record(&m, k.mv_data, v.mv_data, v.mv_size) || !table_put(s, &m)) {
            wn_meter_free_alerts(&m);
            *why = "corrupt (a meter record)";
            ok = 0;
            break;
        }
    }
    if (rc && rc != MDB_NOTFOUND) ok = 0;
    mdb_cursor_close(cur);
    return ok;
}

/* wn_rebuild_spec.replay: ledger entries [s->applied, size) into memory, then the result
 * into the env. */
static int replay(void *ctx, uint64_t size)
{
    wn_state *s = ctx;
    wn_ledger *ledger = s->ledger;
    replay_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    uint64_t from = s->applied;
    int err = wn_ledger_iterate(ledger, from, size, replay_entry, &c);
    if (err || c.failed) {
        if (err && !c.failed) wn_log("state: reading the ledger failed: %s", wn_ledger_strerror(err));
        free(c.dirty);
        return 0;
    }
    int rc;
    for (int attempt = 0;; attempt++) { /* MDB_MAP_FULL: the map was grown, write again */
        MDB_txn *txn;
        rc = wn_envgate_begin(s->env, 0, &txn);
        if (rc) break;
        if (c.all) {
            for (size_t i = 0; i < s->cap && !rc; i++)
                if (s->slots[i]) rc = put_record(s, txn, s->slots[i]);
        } else {
            for (size_t i = 0; i < c.ndirty && !rc; i++) rc = put_record(s, txn, wn_state_find(s, c.dirty[i]));
        }
        if (!rc) {
            if (size > from) {
                rc = put_meta(s, txn, size, c.chain);
            } else if (size == 0) {
                uint8_t zero[32] = {0};
                rc = put_meta(s, txn, 0, zero);
            }
        }
        rc = wn_envgate_end(s->env, txn, rc);
        if (rc != MDB_MAP_FULL || attempt == 16) break;
    }
    free(c.dirty);
    if (rc) {
        wn_log("state: writing the replayed state failed: %s", mdb_strerror(rc));
        return 0;
    }
    if (size > from) wn_log("state: replayed ledger entries %llu..%llu", (unsigned long long)from,
                            (unsigned long long)(size - 1));
    s->applied = size;
    return 1;
}

/* wn_rebuild_spec.reset */
static void reset(void *ctx)
{
    wn_state *s = ctx;
    free_table(s);
    s->applied = 0;
}

int wn_state_open(wn_state **out, const char *dir, wn_ledger *ledger)
{
    wn_state *s = calloc(1, sizeof *s);
    if (!s) return 0;
    pthread_rwlock_init(&s->lock, NULL);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->ledger = ledger;
    size_t map = STATE_MAP_SIZE;
    const char *test_map = getenv(STATE_MAP_ENV);
    if (test_map && *test_map) {
        unsigned long long v = strtoull(test_map, NULL, 10);
        if (v >= (16u << 10) && v <= STATE_MAP_MAX) map = (size_t)v;
    }
    wn_rebuild_spec spec = {.name = "state", .dir = s->dir, .map_size = map, .map_max = STATE_MAP_MAX,
                            .max_dbs = WN_STATE_MAX_DBS,
                            .format = STATE_FORMAT,
                            .dbs = {"meters", "times", NULL}, .load = load, .replay = replay, .reset = reset,
                            .ctx = s};
    if (wn_rebuild_open(&spec, ledger, &s->env, &s->meta, s->db, &s->applied)) {
        wn_log("state: %zu meters, up to date with the ledger at size %llu", s->count,
               (unsigned long long)s->applied);
        *out = s;
        return 1;
    }
    free_table(s);
    pthread_rwlock_destroy(&s->lock);
    free(s);
    return 0;
}

void wn_state_close(wn_state *s)
{
    if (!s) return;
    if (s->env) {
        mdb_env_sync(s->env, 1);
        wn_envgate_close(s->env);
    }
    free_table(s);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}
