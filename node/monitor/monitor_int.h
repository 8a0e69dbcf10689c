/* monitor_int.h — the monitor's insides, shared by its files and by nothing else:
 *   monitor_store.c  the databases: records, watermark, rebuild, catch-up, tick thread
 *   monitor_apply.c  one ledger entry at a time: meters, buckets and the alert rules
 *   monitor_conf.c   settings, plans, production figures, acknowledgements (bureau.h)
 *   monitor_api.c    GET/POST /v1/monitor/... (JSON for the page in web/)
 *
 * Times: hours and days are those of the node's zone (zone.h, wn-node --zone, default
 * +08:00), numbered from the epoch in local time: hour key = floor((ms + offset) / 3600000),
 * day key = hour key / 24 (so a date has the same day key in every zone).
 * Volumes are exact: 10^-12 m3 in an __int128 (as node/ingest/meter.h keeps the totaliser). A
 * reading's increment (its totaliser minus the meter's previous one; 0 for a meter's
 * first reading and for a reading flagged meter_replaced) is counted in the hour and day
 * of the reading's time. */
#ifndef WN_NODE_MONITOR_INT_H
#define WN_NODE_MONITOR_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "node/monitor/monitor.h"
#include "node/monitor/names.h"
#include "node/monitor/zone.h"

#define MON_HOUR_MS 3600000ULL
#define MON_DAY_MS 86400000ULL
#define MON_PM3 1000000000000LL /* 10^-12 m3 per m3 */
#define MON_NQ 9                /* quantity codes 1..8 at their own index */
#define MON_NIV 5               /* intervals kept to estimate a meter's interval */
#define MON_MAX_EV 16           /* evidence indices kept per alert */
#define MON_GAPS_PER_METER 32   /* sequence-gap alerts kept per meter (the oldest ended one goes) */
#define MON_ALERTS_PER_METER 256 /* alerts raised per meter; later ones are folded into its latest of the kind */
#define MON_ENT_MAX (WN_ENTERPRISE_MAX + 1)
#define MON_NONE UINT32_MAX

static inline uint32_t mon_hour_key(uint64_t ms) { return (uint32_t)(wn_zone_local_ms(ms) / MON_HOUR_MS); }
static inline uint32_t mon_day_key(uint64_t ms) { return mon_hour_key(ms) / 24; }
/* The UTC milliseconds at which local hour key h / day key d begins. */
static inline uint64_t mon_hour_start(uint32_t h)
{
    int64_t t = (int64_t)h * (int64_t)MON_HOUR_MS - wn_zone_offset_ms();
    return t < 0 ? 0 : (uint64_t)t;
}
static inline uint64_t mon_day_start(uint32_t d) { return mon_hour_start(d * 24u); }

typedef struct {
    uint32_t n;
    double sum, min, max;
} mon_stat;

/* What the readings of one meter in one hour or one day add up to. */
typedef struct {
    __int128 vol;          /* increments, 10^-12 m3 */
    uint32_t n;            /* readings */
    uint16_t flags;        /* OR of their flags */
    uint32_t nflag[6];     /* readings with each flag bit */
    uint64_t first_index, last_index, last_time;
    mon_stat q[MON_NQ];    /* per quantity code (q[1], the totaliser, unused) */
} mon_bucket;

enum mon_kind {
    MK_SILENT = 1, MK_SEQ_GAP, MK_EQUIVOCATION, MK_TAMPER, MK_POWER_LOSS, MK_REVERSE_FLOW, MK_QUALITY,
    MK_NIGHT_FLOW, MK_IMBALANCE, MK_OVER_PLAN, MK_COUNT
};
const char *mon_kind_name(unsigned kind);

typedef struct {
    uint8_t id[16];        /* stable: SHA-256(kind || subject || anchor)[0..16) */
    uint8_t kind, quantity;
    uint8_t durable;       /* kept in the bureau store (sequence gaps), not rebuilt */
    uint32_t meter;        /* meter number, or MON_NONE */
    uint32_t ent;          /* enterprise number */
    uint64_t time, end_time; /* when it began; when it ended (0: still going on) */
    uint32_t count;        /* readings (or refusals) that showed it */
    double value, limit;   /* the value that broke the rule and the rule's bound */
    double a1, a2;         /* imbalance: parent and children m3; over plan: used m3 */
    uint64_t seq_a, seq_b; /* sequence gap: expected and received; equivocation: seq */
    uint8_t nev;
    uint64_t ev[MON_MAX_EV]; /* evidence: ledger indices */
    /* revised by later ledger entries (imbalance: a member's late readings of its day) */
    uint8_t cleared;       /* MON_CLEAR_*: no longer holds, and why */
    uint32_t revised;      /* times its figures changed after it was raised */
    uint64_t revised_by;   /* ledger index of the entry that revised it last */
    uint32_t folded;       /* later alerts of its kind counted into it (its meter had MON_ALERTS_PER_METER) */
} mon_alert;

enum { MON_CLEAR_NONE = 0, MON_CLEAR_BALANCED, MON_CLEAR_NOT_JUDGED };

typedef struct {
    uint8_t id[32];
    uint32_t num, ent, parent;  /* parent meter number or MON_NONE */
    uint8_t has_parent, point, tier, source, alg, revoked;
    uint8_t parent_id[32];
    uint64_t enrol_index, enrol_time, revoke_index;
    /* readings */
    uint64_t nread, last_seq, last_time, last_index, first_time;
    uint16_t last_flags;
    uint8_t has_volume;
    __int128 last_volume;
    uint64_t iv[MON_NIV];       /* the latest intervals between readings (ms), newest first */
    uint8_t niv;
    uint16_t last_qmask;        /* quantities in the last reading */
    double last_q[MON_NQ];
    /* open episodes: alert numbers + 1 (0: none) */
    uint32_t ep_flag[3];        /* tamper, power loss, reverse flow */
    uint32_t ep_q[MON_NQ];      /* quality by quantity */
    uint32_t ep_silent;
    uint32_t night_done, balance_done; /* last day judged */
    /* the current hour and day */
    uint32_t hour_key, day_key;
    mon_bucket hour, day;
    /* children (meters with this one as parent), not stored: rebuilt from the records */
    uint32_t *kids;
    size_t nkids, capkids;
    uint64_t last_arrival;      /* wall time its last reading was applied (not stored) */
    /* its alerts (not stored: counted again as the alerts are loaded or raised) */
    uint32_t nalerts;
    uint32_t last_al[MK_COUNT + MON_NQ]; /* its latest alert of each kind (quality: MK_COUNT + quantity), number + 1 */
    int dirty, hour_dirty, day_dirty;
} mon_meter;

typedef struct {
    uint32_t year;
    __int128 vol;
} mon_year;

typedef struct {
    char name[MON_ENT_MAX];
    uint32_t num;
    uint32_t *meters;
    size_t nmeters, capmeters;
    mon_year years[8];           /* intake of tier-1-style (parentless) intake meters by year */
    uint8_t nyears;
    uint64_t last_intake_index;
    int dirty;
} mon_ent;

typedef struct {
    char ent[MON_ENT_MAX];
    uint32_t year;
    __int128 plan;               /* 10^-12 m3 */
} mon_plan;

typedef struct {
    uint8_t id[16];
    char by[65], role[12], token[17], note[201];
    uint64_t time;
    uint32_t folded;             /* the alert's folded count when acknowledged */
} mon_ack;

struct wn_monitor {
    MDB_env *env;
    MDB_dbi meta, meters, ents, hours, days, alerts;
    wn_ledger *ledger;
    wn_bureau *bureau;
    wn_names *names;             /* labels of meters and enterprises (names.h); own lock */
    pthread_rwlock_t lock;       /* the in-memory part below */
    pthread_mutex_t wmu;         /* one writer at a time (catch-up, tick, conf) */
    uint64_t applied;
    uint8_t chain[32];
    int failed;                  /* a write failed: stop writing, rebuild at next start */
    wn_monitor_settings set;
    mon_meter **mt;              /* by number */
    size_t nmt, capmt;
    uint32_t *mhash;             /* open addressing: meter id -> number + 1 */
    size_t mhcap;
    mon_ent **et;
    size_t net, capet;
    mon_alert *al;               /* by number (raising order) */
    size_t nal, capal;
    uint8_t *al_dirty;
    uint32_t *ahash;             /* alert id -> number + 1 */
    size_t ahcap;
    mon_plan *plans;
    size_t nplans, capplans;
    mon_ack *acks;               /* sorted by alert id */
    size_t nacks, capacks;
    mon_alert *gaps;             /* sequence-gap alerts (durable, in the bureau store), in no order */
    size_t ngaps, capgaps;
    uint32_t *gap_n, *gap_nopen; /* by meter number: its sequence-gap alerts, and how many are open */
    size_t gap_ncap;
    size_t pending_parents;      /* meters whose parent is not enrolled yet */
    /* tick thread */
    pthread_t tick;
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    int stopping, tick_started;
    int nudged;                  /* the ledger grew: the tick thread catches up (tmu) */
    _Atomic uint64_t target;     /* the newest ledger size the committer announced */
    _Atomic uint64_t reached;    /* applied, readable without the lock */
};

/* ---- monitor_store.c ---- */
mon_meter *mon_meter_by_id(wn_monitor *m, const uint8_t id[32]);
void mon_bucket_encode_len(const mon_bucket *b, uint8_t *out, size_t *len); /* out >= 512 bytes */
int mon_bucket_decode(mon_bucket *b, const uint8_t *p, size_t len);
/* Reads the bucket of meter num at key (hour or day db) through txn (which may be a
 * read txn); the meter's current bucket is taken from memory when it is the one asked
 * and mem is set. Returns: 1 if it holds anything (else *b is zeroed). */
int mon_get_bucket(wn_monitor *m, MDB_txn *txn, int days, const mon_meter *mm, uint32_t key, int mem, mon_bucket *b);
/* Writes what is dirty into txn. Returns: an LMDB error code. */
int mon_flush(wn_monitor *m, MDB_txn *txn);
/* Writes what is dirty in a transaction of its own. Caller holds wmu and the write lock. */
int mon_write(wn_monitor *m);
int mon_put_gap(wn_monitor *m, const mon_alert *a);
int mon_gap_decode(mon_alert *a, const uint8_t *p, size_t len);
/* A reading of mm arrived: sequence gaps it fills are closed. */
void mon_gaps_reading(wn_monitor *m, const mon_meter *mm, uint64_t seq, uint64_t t, uint64_t index);

/* ---- monitor_apply.c ---- */
void mon_default_settings(wn_monitor_settings *s);
/* Applies one ledger entry (all types; unknown ones are ignored) within write txn. */
void mon_apply_entry(wn_monitor *m, MDB_txn *txn, uint64_t index, const uint8_t *e, size_t len);
void mon_tick_locked(wn_monitor *m, uint64_t now_ms);
uint64_t mon_silent_after(const wn_monitor *m, const mon_meter *mm);
mon_ent *mon_ent_get(wn_monitor *m, const char *name, int create);
/* Raises the alert a (its id set by the caller), unless one with its id exists.
 * Out: *existed. Returns: the alert's number, or MON_NONE if out of memory. */
uint32_t mon_raise(wn_monitor *m, const mon_alert *a, int *existed);
/* The same for the rules: a meter that has MON_ALERTS_PER_METER alerts gets no new one; a
 * is folded into its latest alert of a's kind (and quantity), which counts it (folded,
 * count), takes a's evidence, value and end (so an episode goes on in it) and is returned
 * with *existed = 0. */
uint32_t mon_raise_rule(wn_monitor *m, const mon_alert *a, int *existed);
void mon_alert_id(uint8_t out[16], unsigned kind, const void *subject, size_t slen, uint64_t anchor);
long mon_alert_find(wn_monitor *m, const uint8_t id[16]);
const mon_plan *mon_plan_find(wn_monitor *m, const char *ent, uint32_t year);
/* Re-judges over-plan use of enterprise e for year (after a plan changed). */
void mon_check_plan(wn_monitor *m, mon_ent *e, uint32_t year, uint64_t index, uint64_t time_ms);
__int128 mon_ent_year(const mon_ent *e, uint32_t year);

/* ---- monitor_conf.c ---- */
struct cJSON;
/* A non-negative decimal amount (a JSON string, or a number) in 10^-12 units. Returns: 1 if valid. */
int mon_parse_amount(const struct cJSON *j, __int128 *out);
void mon_conf_load(wn_monitor *m);
const mon_ack *mon_ack_find(const wn_monitor *m, const uint8_t id[16]);
/* The acknowledgement of a if it covers every alert folded into a so far, else NULL. */
const mon_ack *mon_ack_covers(const wn_monitor *m, const mon_alert *a);

/* ---- shared helpers (monitor_apply.c) ---- */
/* Civil date of a day key. */
void mon_civil(uint32_t day, int *y, unsigned *mo, unsigned *d);
/* Day key of a civil date. */
uint32_t mon_day_of(int y, unsigned mo, unsigned d);
/* Formats v (10^-12 m3) as an exact decimal number of m3 ("12.5", "-0.001"). out >= 48. */
void mon_fmt_m3(char *out, __int128 v);
double mon_m3(__int128 v);

#endif
