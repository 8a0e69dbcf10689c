/* committer.c — the single ledger writer: drains the job queue, decides every reading and
 * record of the group against an overlay of per-meter state, appends the group in one
 * durable transaction, then publishes the new state and answers. See committer.h. */
#include "node/ingest/committer.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/metrics.h"

#define TEST_CLOCK_ENV "WN_TEST_COMMIT_CLOCK_FILE" /* tests: the commit clock read from a file */
/* Group commit window: when many clients push at once (the previous group held requests
 * from at least GROUP_BUSY of them, as 2,000 meters sending one reading each do), a group
 * starts at most every GROUP_GAP_NS after the previous one started, unless GROUP_FULL
 * readings are already queued. Groups then grow and the per-commit work (durable LMDB
 * transactions, the signed receipt head) is shared by more readings. A lone client, or a
 * few sending large batches, never waits: their groups are few requests already large. */
#define GROUP_GAP_NS 4000000L
#define GROUP_BUSY 16
#define GROUP_FULL 2048

struct wn_committer {
    wn_committer_config cfg;
    const char *test_clock;    /* WN_TEST_COMMIT_CLOCK_FILE, or NULL: the system clock */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    wn_job *head, *tail;
    int stopping;
    size_t queued;             /* readings (or 1 per record) queued: see GROUP_FULL */
    size_t jobs;               /* requests queued */
    size_t last_jobs;          /* requests in the previous group: see GROUP_BUSY */
    struct timespec last_start; /* CLOCK_MONOTONIC: when the previous group started */
    uint64_t last_commit_ms;   /* commit time of the newest entry: commit times never go back */
};

/* A meter as this group sees it: the committed record plus the group's effects. */
typedef struct {
    int used, changed;
    wn_meter m;                /* deep copy */
    uint64_t base_seq;         /* committed last sequence */
    wn_job_reading **pending;  /* readings accepted in this group: sequences base_seq+1, ... */
    size_t npending, cappending;
} ov_meter;

enum { FIX_READING = 1, FIX_EVIDENCE, FIX_RECORD };

typedef struct {
    int kind;
    wn_job_reading *jr;        /* FIX_READING, FIX_EVIDENCE */
    wn_job *job;               /* FIX_RECORD */
    uint64_t orig_index;       /* FIX_EVIDENCE */
} fix;

typedef struct {
    ov_meter *slots;
    size_t cap;
    wn_ledger_item *items;
    fix *fixes;
    size_t nitems;
    uint8_t *arena;
    size_t arena_used;
    uint64_t base;             /* ledger size before the group */
    uint64_t now_ms;           /* the group's commit time: in every entry and the receipt head */
    int oom;
} group;

static char *hex16(char out[17], const uint8_t *id)
{
    wn_hex_encode(out, id, 8);
    return out;
}

/* ---- overlay ---- */

static ov_meter *ov_get(wn_committer *c, group *g, const uint8_t meter[32], int create)
{
    uint64_t h;
    memcpy(&h, meter, 8);
    h *= 0x9e3779b97f4a7c15ULL;
    size_t i = (size_t)(h >> 20) & (g->cap - 1);
    while (g->slots[i].used && memcmp(g->slots[i].m.meter, meter, 32) != 0) i = (i + 1) & (g->cap - 1);
    ov_meter *ov = &g->slots[i];
    if (ov->used) return ov;
    const wn_meter *m = wn_state_find(c->cfg.state, meter);
    if (m) {
        if (!wn_meter_copy(&ov->m, m)) {
            g->oom = 1;
            return NULL;
        }
    } else if (create) {
        memset(&ov->m, 0, sizeof ov->m);
        memcpy(ov->m.meter, meter, 32);
    } else {
        return NULL;
    }
    ov->used = 1;
    ov->base_seq = ov->m.last_seq;
    return ov;
}

static int ov_push(ov_meter *ov, wn_job_reading *jr)
{
    if (ov->npending == ov->cappending) {
        size_t cap = ov->cappending ? ov->cappending * 2 : 8;
        void *p = realloc(ov->pending, cap * sizeof *ov->pending);
        if (!p) return 0;
        ov->pending = p;
        ov->cappending = cap;
    }
    ov->pending[ov->npending++] = jr;
    return 1;
}

/* Adds the timed entry (0x80 | kind) || commit time || marks || prefix (8 bytes, may be
 * NULL) || data (ledger/entry.h). Returns its index. */
static uint64_t add_item(group *g, uint8_t kind, uint8_t marks, const uint8_t *prefix8, const uint8_t *data,
                         size_t len, const uint8_t *meter, uint64_t seq, fix f)
{
    uint8_t *e = g->arena + g->arena_used;
    size_t n = wn_entry_put_timed_header(e, kind, g->now_ms, marks);
    if (prefix8) memcpy(e + n, prefix8, 8), n += 8;
    memcpy(e + n, data, len), n += len;
    g->arena_used += n;
    g->items[g->nitems] = (wn_ledger_item){.data = e, .len = n, .meter = meter, .seq = seq};
    g->fixes[g->nitems] = f;
    return g->base + g->nitems++;
}

/* ---- decisions ---- */

static void set(int *err, char *detail, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(int *err, char *detail, int code, const char *fmt, ...)
{
    va_list ap;
    *err = code;
    va_start(ap, fmt);
    vsnprintf(detail, WN_DETAIL_MAX, fmt, ap);
    va_end(ap);
}

/* The receipt of a reading committed in an earlier group, resent: the same bytes as the
 * first answer (receipts.h), from the commit's range, time and receipt version. */
static void resend_receipts(wn_committer *c, group *g, wn_job_reading *jr)
{
    uint64_t first, end;
    int version;
    if (!wn_state_commit_of(c->cfg.state, jr->index, &first, &end, &jr->time_ms, &version)) {
        /* lost with an unsynced state env: from now on a commit of this one entry, at the
         * entry's own commit time when it is timed (decide_used_seq read it) */
        first = jr->index;
        end = jr->index + 1;
        if (!jr->time_ms) jr->time_ms = g->now_ms;
        version = 2;
        wn_state_put_time(c->cfg.state, jr->index, jr->time_ms);
    }
    if (version == 1) return; /* ingest.c signs the old form from (index, leaf, time) */
    jr->receipts = wn_commit_receipts_load(c->cfg.ledger, c->cfg.origin, c->cfg.notary, first, end, jr->time_ms);
    if (!jr->receipts) {
        wn_log("committer: cannot rebuild the receipt head of entries %llu..%llu", (unsigned long long)first,
               (unsigned long long)(end - 1));
        set(&jr->err, jr->detail, WN_NE_INTERNAL, "the receipt could not be rebuilt (the reading is in the ledger)");
    }
}

/* A reading whose sequence the meter has used already: a duplicate or an equivocation. */
static void decide_used_seq(wn_committer *c, group *g, ov_meter *ov, wn_job_reading *jr)
{
    const wn_reading *r = jr->r;
    wn_job_reading *orig = NULL;
    uint64_t orig_index = 0;
    uint8_t leaf[32];
    int identical;
    if (r->seq > ov->base_seq) {
        orig = ov->pending[r->seq - ov->base_seq - 1];
        orig_index = orig->index;
        identical = orig->len == jr->len && memcmp(orig->bytes, jr->bytes, jr->len) == 0;
    } else {
        uint8_t buf[WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN];
        size_t len = 0;
        int err = wn_ledger_find(c->cfg.ledger, r->meter, r->seq, &orig_index);
        if (err == WN_LEDGER_OK) err = wn_ledger_get(c->cfg.ledger, orig_index, buf, sizeof buf, &len, leaf, NULL);
        if (err != WN_LEDGER_OK) {
            char h[17];
            wn_log("committer: meter %s sequence %llu is below its last but the ledger says: %s", hex16(h, r->meter),
                   (unsigned long long)r->seq, wn_ledger_strerror(err));
            set(&jr->err, jr->detail, WN_NE_INTERNAL, "the ledger could not be read");
            return;
        }
        wn_entry_view v;
        identical = wn_entry_parse(&v, buf, len) == WN_ENTRY_OK && v.kind == WN_ENTRY_READING && v.len == jr->len &&
                    memcmp(v.payload, jr->bytes, jr->len) == 0;
        jr->time_ms = v.timed ? v.commit_ms : 0; /* the entry's own commit time, if it has one */
    }
    if (identical) {
        set(&jr->err, jr->detail, WN_NE_REPLAY,
            "this reading is already in the ledger at entry %llu; the receipt is the original one",
            (unsigned long long)orig_index);
        if (orig) {
            jr->dup_of = orig;
            return;
        }
        jr->index = orig_index;
        memcpy(jr->leaf, leaf, 32);
        resend_receipts(c, g, jr);
        return;
    }
    long a = wn_meter_find_alert(&ov->m, r->seq, jr->digest);
    if (a >= 0) {
        set(&jr->err, jr->detail, WN_NE_EQUIVOCATION,
            "sequence %llu is already used by entry %llu; this conflicting reading is recorded as evidence in entry %llu",
            (unsigned long long)r->seq, (unsigned long long)orig_index,
            (unsigned long long)ov->m.alerts[a].evidence_index);
        return;
    }
    a = wn_meter_find_alert_seq(&ov->m, r->seq);
    if (a >= 0) { /* evidence for this sequence exists: count this one, ledger nothing */
        /* the group's copy counts it (and carries it if the group publishes the meter);
         * an alert already committed is counted in the state at once, since a group
         * without entries publishes nothing */
        ov->m.alerts[a].more++;
        if (ov->m.alerts[a].evidence_index < g->base) wn_state_add_unrecorded(c->cfg.state, r->meter, r->seq);
        wn_metrics_equivocation_unrecorded();
        set(&jr->err, jr->detail, WN_NE_EQUIVOCATION,
            "sequence %llu is already used by entry %llu; a conflicting reading is already recorded as evidence in "
            "entry %llu, so this one is only counted (%llu so far)",
            (unsigned long long)r->seq, (unsigned long long)orig_index,
            (unsigned long long)ov->m.alerts[a].evidence_index, (unsigned long long)ov->m.alerts[a].more);
        return;
    }
    uint8_t pre[8];
    wn_put_u64(pre, orig_index);
    wn_alert al = {.seq = r->seq, .original_index = orig_index};
    memcpy(al.digest, jr->digest, 32);
    al.evidence_index = add_item(g, WN_ENTRY_EQUIVOCATION, 0, pre, jr->bytes, jr->len, NULL, 0,
                                 (fix){.kind = FIX_EVIDENCE, .jr = jr, .orig_index = orig_index});
    if (!wn_meter_add_alert(&ov->m, &al)) g->oom = 1;
    ov->changed = 1;
    set(&jr->err, jr->detail, WN_NE_EQUIVOCATION,
        "sequence %llu is already used by entry %llu; this conflicting reading is recorded as evidence in entry %llu",
        (unsigned long long)r->seq, (unsigned long long)orig_index, (unsigned long long)al.evidence_index);
}

static void decide_reading(wn_committer *c, group *g, wn_job_reading *jr)
{
    const wn_reading *r = jr->r;
    ov_meter *ov = ov_get(c, g, r->meter, 0);
    if (!ov) {
        if (g->oom) set(&jr->err, jr->detail, WN_NE_INTERNAL, "out of memory");
        else set(&jr->err, jr->detail, WN_NE_UNKNOWN_METER, "the meter is not enrolled");
        return;
    }
    if (ov->m.revoked) {
        set(&jr->err, jr->detail, WN_NE_REVOKED_METER, "the meter was revoked at entry %llu",
            (unsigned long long)ov->m.revoke_index);
        return;
    }
    if (r->seq <= ov->m.last_seq) {
        decide_used_seq(c, g, ov, jr);
        return;
    }
    int e = wn_meter_check(&ov->m, r, g->now_ms, c->cfg.skew_ms, jr->detail, sizeof jr->detail);
    if (e != WN_NE_OK) {
        jr->err = e;
        return;
    }
    if (!ov_push(ov, jr)) {
        g->oom = 1;
        set(&jr->err, jr->detail, WN_NE_INTERNAL, "out of memory");
        return;
    }
    /* measured longer ago than the late window: accepted, and marked late (PROTOCOL §3) */
    uint8_t marks = r->time_ms + c->cfg.late_window_ms < g->now_ms ? WN_ENTRY_MARK_LATE : 0;
    jr->index = add_item(g, WN_ENTRY_READING, marks, NULL, jr->bytes, jr->len, r->meter, r->seq,
                         (fix){.kind = FIX_READING, .jr = jr});
    if (marks) wn_metrics_late();
    wn_meter_advance(&ov->m, r, jr->digest, jr->index);
    ov->changed = 1;
    jr->err = WN_NE_OK;
    jr->detail[0] = '\0';
}

static void decide_record(wn_committer *c, group *g, wn_job *job)
{
    if (job->kind == WN_JOB_ENTRY) {
        job->index = add_item(g, job->entry_type, 0, NULL, job->record, job->record_len, NULL, 0,
                              (fix){.kind = FIX_RECORD, .job = job});
        job->err = WN_NE_OK;
        job->detail[0] = '\0';
        return;
    }
    ov_meter *ov = ov_get(c, g, job->meter, 0);
    if (g->oom) {
        set(&job->err, job->detail, WN_NE_INTERNAL, "out of memory");
        return;
    }
    if (job->kind == WN_JOB_ENROL) {
        if (ov) {
            if (ov->m.revoked)
                set(&job->err, job->detail, WN_NE_ALREADY_ENROLLED,
                    "the meter was enrolled at entry %llu and revoked at entry %llu; a revoked meter id cannot be enrolled again",
                    (unsigned long long)ov->m.enrol_index, (unsigned long long)ov->m.revoke_index);
            else
                set(&job->err, job->detail, WN_NE_ALREADY_ENROLLED, "the meter is already enrolled (entry %llu)",
                    (unsigned long long)ov->m.enrol_index);
            return;
        }
        ov = ov_get(c, g, job->meter, 1);
        if (!ov) {
            set(&job->err, job->detail, WN_NE_INTERNAL, "out of memory");
            return;
        }
        (void)wn_meter_set_key(&ov->m, job->alg, job->pubkey); /* a checked enrolment's key parses */
        ov->m.point = job->point;
        ov->m.enrol_time = job->time_ms;
        ov->m.enrol_index = add_item(g, WN_ENTRY_ENROLMENT, 0, NULL, job->record, job->record_len, NULL, 0,
                                     (fix){.kind = FIX_RECORD, .job = job});
        job->index = ov->m.enrol_index;
    } else {
        if (!ov) {
            set(&job->err, job->detail, WN_NE_UNKNOWN_METER, "the meter is not enrolled");
            return;
        }
        if (ov->m.revoked) {
            set(&job->err, job->detail, WN_NE_ALREADY_REVOKED, "the meter was already revoked at entry %llu",
                (unsigned long long)ov->m.revoke_index);
            return;
        }
        ov->m.revoked = 1;
        ov->m.revoke_index = add_item(g, WN_ENTRY_REVOCATION, 0, NULL, job->record, job->record_len, NULL, 0,
                                      (fix){.kind = FIX_RECORD, .job = job});
        job->index = ov->m.revoke_index;
    }
    ov->changed = 1;
    job->err = WN_NE_OK;
    job->detail[0] = '\0';
}

/* ---- one group ---- */

static int group_init(group *g, wn_job *jobs)
{
    size_t n = 0, bytes = 0;
    memset(g, 0, sizeof *g);
    for (wn_job *j = jobs; j; j = j->next) {
        if (j->kind == WN_JOB_READINGS) {
            n += j->n;
            for (size_t i = 0; i < j->n; i++) bytes += WN_ENTRY_TIMED_HEADER + 8 + j->readings[i].len;
        } else {
            n++;
            bytes += WN_ENTRY_TIMED_HEADER + j->record_len;
        }
    }
    g->cap = 16;
    while (g->cap < 2 * n + 16) g->cap *= 2;
    g->slots = calloc(g->cap, sizeof *g->slots);
    g->items = calloc(n ? n : 1, sizeof *g->items);
    g->fixes = calloc(n ? n : 1, sizeof *g->fixes);
    g->arena = malloc(bytes ? bytes : 1);
    return g->slots && g->items && g->fixes && g->arena;
}

static void group_free(group *g, int published)
{
    for (size_t i = 0; g->slots && i < g->cap; i++) {
        ov_meter *ov = &g->slots[i];
        if (!ov->used) continue;
        if (!(published && ov->changed)) wn_meter_free_alerts(&ov->m);
        free(ov->pending);
    }
    free(g->slots);
    free(g->items);
    free(g->fixes);
    free(g->arena);
}

static void fail_all(group *g, const char *why)
{
    for (size_t i = 0; i < g->nitems; i++) {
        fix *f = &g->fixes[i];
        if (f->kind == FIX_RECORD) set(&f->job->err, f->job->detail, WN_NE_INTERNAL, "%s", why);
        else set(&f->jr->err, f->jr->detail, WN_NE_INTERNAL, "%s", why);
    }
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Publishes a durable group: results, state, metrics, events. */
static void publish(wn_committer *c, group *g)
{
    uint64_t time_ms = g->now_ms; /* the commit time every entry of the group carries */
    char h[17];
    uint8_t (*leaves)[32] = malloc(g->nitems * sizeof *leaves);
    for (size_t i = 0; i < g->nitems; i++) {
        fix *f = &g->fixes[i];
        uint8_t leaf[32];
        wn_merkle_leaf_hash(leaf, g->items[i].data, g->items[i].len);
        if (leaves) memcpy(leaves[i], leaf, 32);
        uint64_t index = g->base + i;
        if (f->kind == FIX_READING) {
            memcpy(f->jr->leaf, leaf, 32);
            f->jr->time_ms = time_ms;
        } else if (f->kind == FIX_EVIDENCE) {
            wn_log("equivocation: meter %s signed a second reading with sequence %llu (the first is entry %llu); evidence at entry %llu",
                   hex16(h, f->jr->r->meter), (unsigned long long)f->jr->r->seq,
                   (unsigned long long)f->orig_index, (unsigned long long)index);
        } else {
            memcpy(f->job->leaf, leaf, 32);
            f->job->commit_ms = time_ms;
            if (f->job->kind == WN_JOB_ENTRY) continue; /* its owner logs it */
            int enrol = f->job->kind == WN_JOB_ENROL;
            if (enrol) wn_metrics_enrolment();
            else wn_metrics_revocation();
            wn_log("%s: meter %s at entry %llu", enrol ? "enrolled" : "revoked", hex16(h, f->job->meter),
                   (unsigned long long)index);
        }
    }
    /* One signature for the whole commit: the receipt head (PROTOCOL §6). */
    wn_commit_receipts *cr =
        leaves ? wn_commit_receipts_new(c->cfg.origin, c->cfg.notary, g->base, (const uint8_t(*)[32])leaves,
                                        g->nitems, time_ms)
               : NULL;
    free(leaves);
    if (!cr) wn_log("committer: cannot sign the receipt head of entries %llu..%llu", (unsigned long long)g->base,
                    (unsigned long long)(g->base + g->nitems - 1));
    for (size_t i = 0; i < g->nitems; i++) {
        fix *f = &g->fixes[i];
        if (f->kind != FIX_READING) continue;
        if (cr) {
            wn_commit_receipts_ref(cr);
            f->jr->receipts = cr;
        } else {
            set(&f->jr->err, f->jr->detail, WN_NE_INTERNAL, "the receipt could not be signed (the reading is in the ledger)");
        }
    }
    wn_commit_receipts_release(cr);
    uint8_t chain[32], buf[2048];
    size_t len;
    uint64_t to = g->base + g->nitems;
    int err = wn_ledger_get(c->cfg.ledger, to - 1, buf, sizeof buf, &len, NULL, chain);
    if (err != WN_LEDGER_OK) {
        wn_log("committer: cannot read back entry %llu: %s", (unsigned long long)(to - 1), wn_ledger_strerror(err));
        memset(chain, 0, sizeof chain); /* the state env will not match and is rebuilt at next start */
    }
    size_t nrec = 0;
    for (size_t i = 0; i < g->cap; i++) nrec += g->slots[i].used && g->slots[i].changed;
    wn_meter *recs = malloc((nrec ? nrec : 1) * sizeof *recs);
    if (recs) {
        size_t k = 0;
        for (size_t i = 0; i < g->cap; i++)
            if (g->slots[i].used && g->slots[i].changed) recs[k++] = g->slots[i].m;
        wn_state_commit(c->cfg.state, recs, nrec, g->base, to, time_ms, chain);
        free(recs);
    } else {
        wn_log("committer: out of memory publishing state; restart the node to rebuild it");
    }
    wn_metrics_ledger_size(to);
    if (c->cfg.on_commit) c->cfg.on_commit(c->cfg.on_commit_ctx, to);
}

/* The clock commit times come from: the system's, or, for tests that must commit a year of
 * data as it is measured (docs/THREATS.md "Time on the ledger"), the decimal ms in the file
 * named by WN_TEST_COMMIT_CLOCK_FILE. It gives an operator no power the system clock does
 * not: commit times still never go back along the ledger. */
static uint64_t commit_clock(const wn_committer *c)
{
    if (!c->test_clock) return wn_now_ms();
    FILE *f = fopen(c->test_clock, "r");
    unsigned long long v = 0;
    int ok = f && fscanf(f, "%llu", &v) == 1;
    if (f) fclose(f);
    return ok ? (uint64_t)v : wn_now_ms();
}

static void run_group(wn_committer *c, wn_job *jobs)
{
    group g;
    int published = 0;
    if (!group_init(&g, jobs)) {
        for (wn_job *j = jobs; j; j = j->next) {
            if (j->kind != WN_JOB_READINGS) set(&j->err, j->detail, WN_NE_INTERNAL, "out of memory");
            for (size_t i = 0; j->kind == WN_JOB_READINGS && i < j->n; i++)
                set(&j->readings[i].err, j->readings[i].detail, WN_NE_INTERNAL, "out of memory");
        }
        group_free(&g, 0);
        return;
    }
    int err = wn_ledger_size(c->cfg.ledger, &g.base);
    g.now_ms = commit_clock(c);
    if (g.now_ms < c->last_commit_ms) g.now_ms = c->last_commit_ms; /* a clock stepped back */
    for (wn_job *j = jobs; j && !err; j = j->next) {
        if (j->kind == WN_JOB_READINGS)
            for (size_t i = 0; i < j->n; i++) decide_reading(c, &g, &j->readings[i]);
        else
            decide_record(c, &g, j);
    }
    if (err) {
        wn_log("committer: cannot read the ledger size: %s", wn_ledger_strerror(err));
        for (wn_job *j = jobs; j; j = j->next) {
            if (j->kind != WN_JOB_READINGS) set(&j->err, j->detail, WN_NE_INTERNAL, "the ledger cannot be read");
            for (size_t i = 0; j->kind == WN_JOB_READINGS && i < j->n; i++)
                set(&j->readings[i].err, j->readings[i].detail, WN_NE_INTERNAL, "the ledger cannot be read");
        }
    } else if (g.oom) {
        wn_log("committer: out of memory deciding a group of %zu entries", g.nitems);
        fail_all(&g, "out of memory; nothing was appended");
    } else if (g.nitems > 0) {
        uint64_t first = 0, t0 = mono_us();
        size_t bad = 0;
        err = wn_ledger_append(c->cfg.ledger, g.items, g.nitems, &first, &bad);
        uint64_t dt = mono_us() - t0;
        if (err == WN_LEDGER_OK && first != g.base) {
            wn_log("committer: the ledger appended at %llu, expected %llu: another writer? stopping",
                   (unsigned long long)first, (unsigned long long)g.base);
            abort();
        }
        if (err != WN_LEDGER_OK) {
            wn_log("committer: appending %zu entries failed: %s%s", g.nitems, wn_ledger_strerror(err),
                   err == WN_LEDGER_EEXISTS ? " (node state and ledger index disagree)" : "");
            fail_all(&g, "the ledger could not be written; nothing was appended");
        } else {
            wn_metrics_commit(g.nitems, dt);
            c->last_commit_ms = g.now_ms;
            publish(c, &g);
            published = 1;
        }
    }
    /* duplicates of readings earlier in this group take their receipt (or their failure) */
    for (wn_job *j = jobs; j; j = j->next)
        for (size_t i = 0; j->kind == WN_JOB_READINGS && i < j->n; i++) {
            wn_job_reading *jr = &j->readings[i];
            if (!jr->dup_of) continue;
            if (jr->dup_of->err == WN_NE_OK) {
                jr->index = jr->dup_of->index;
                memcpy(jr->leaf, jr->dup_of->leaf, 32);
                jr->time_ms = jr->dup_of->time_ms;
                jr->receipts = jr->dup_of->receipts;
                if (jr->receipts) wn_commit_receipts_ref(jr->receipts);
            } else {
                set(&jr->err, jr->detail, WN_NE_INTERNAL, "%s", jr->dup_of->detail);
            }
        }
    group_free(&g, published);
}

/* ---- thread and queue ---- */

static void *committer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-commit"); /* for top -H and bench_node */
    wn_committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->head && !c->stopping) pthread_cond_wait(&c->work, &c->mu);
        if (!c->head) break;
        struct timespec due = c->last_start;
        due.tv_nsec += GROUP_GAP_NS;
        if (due.tv_nsec >= 1000000000L) due.tv_sec++, due.tv_nsec -= 1000000000L;
        while (c->last_jobs >= GROUP_BUSY && !c->stopping && c->queued < GROUP_FULL &&
               pthread_cond_timedwait(&c->work, &c->mu, &due) == 0) {
        }
        clock_gettime(CLOCK_MONOTONIC, &c->last_start);
        wn_job *jobs = c->head;
        c->head = c->tail = NULL;
        c->last_jobs = c->jobs;
        c->queued = c->jobs = 0;
        pthread_mutex_unlock(&c->mu);
        run_group(c, jobs);
        wn_job *async = NULL; /* submitted jobs: told after the lock is released */
        pthread_mutex_lock(&c->mu);
        for (wn_job *j = jobs, *next; j; j = next) {
            next = j->next;
            if (j->on_done) {
                j->next = async;
                async = j;
            } else {
                j->done = 1;
            }
        }
        pthread_cond_broadcast(&c->done);
        pthread_mutex_unlock(&c->mu);
        for (wn_job *j = async, *next; j; j = next) {
            next = j->next; /* j may be freed by on_done */
            j->on_done(j->on_done_ctx, j);
        }
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* The commit time of the ledger's newest timed entry (0 if none): where commit times go on. */
static int commit_time_of(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32],
                          const uint8_t chain[32])
{
    (void)index, (void)leaf, (void)chain;
    wn_entry_view v;
    if (wn_entry_parse(&v, entry, len) == WN_ENTRY_OK) *(uint64_t *)ctx = v.commit_ms;
    return 0;
}

static uint64_t last_commit_time(wn_ledger *l)
{
    uint64_t size = 0, t = 0;
    if (wn_ledger_size(l, &size) == WN_LEDGER_OK && size > 0)
        (void)wn_ledger_iterate(l, size - 1, size, commit_time_of, &t);
    return t;
}

int wn_committer_start(wn_committer **out, const wn_committer_config *cfg)
{
    wn_committer *c = calloc(1, sizeof *c);
    if (!c) return 0;
    c->cfg = *cfg;
    c->last_commit_ms = last_commit_time(cfg->ledger);
    const char *tc = getenv(TEST_CLOCK_ENV);
    if (tc && *tc) {
        c->test_clock = tc;
        wn_log("committer: TEST CLOCK: commit times come from %s (%s), not from the system clock", tc, TEST_CLOCK_ENV);
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the group window (GROUP_GAP_NS) */
    pthread_cond_init(&c->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&c->done, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->work);
        pthread_cond_destroy(&c->done);
        free(c);
        return 0;
    }
    *out = c;
    return 1;
}

/* Queues job (c->mu held). Returns: 0 if the committer is stopping (job answered). */
static int enqueue(wn_committer *c, wn_job *job)
{
    job->next = NULL;
    job->done = 0;
    if (c->stopping) {
        if (job->kind != WN_JOB_READINGS) set(&job->err, job->detail, WN_NE_INTERNAL, "the node is shutting down");
        for (size_t i = 0; job->kind == WN_JOB_READINGS && i < job->n; i++)
            set(&job->readings[i].err, job->readings[i].detail, WN_NE_INTERNAL, "the node is shutting down");
        return 0;
    }
    if (c->tail) c->tail->next = job;
    else c->head = job;
    c->tail = job;
    c->queued += job->kind == WN_JOB_READINGS ? job->n : 1;
    c->jobs++;
    pthread_cond_signal(&c->work);
    return 1;
}

void wn_committer_run(wn_committer *c, wn_job *job)
{
    job->on_done = NULL;
    pthread_mutex_lock(&c->mu);
    if (enqueue(c, job))
        while (!job->done) pthread_cond_wait(&c->done, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

int wn_committer_submit(wn_committer *c, wn_job *job)
{
    pthread_mutex_lock(&c->mu);
    int queued = enqueue(c, job);
    pthread_mutex_unlock(&c->mu);
    return queued;
}

void wn_committer_stop(wn_committer *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->done);
    free(c);
}
