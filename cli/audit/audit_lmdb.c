/* audit_lmdb.c — the LMDB source of an audit (audit_lmdb.h): reads a ledger directory
 * with the plain LMDB API in one read-only transaction, checks the §8 layout of every
 * stored value, feeds checkpoints and entries (with their stored hashes) to the audit,
 * and recomputes the (meter, sequence) index the way the ledger writes it:
 *
 *   - every reading entry (type 0x01) is indexed by its (meter id, sequence); nothing
 *     else is (the node appends enrolments, revocations and evidence unindexed);
 *   - a meter gets number 1, 2, ... at its first indexed entry (meters table, and meta
 *     "meters" = the count); its entries with rising sequences form a chain whose links
 *     (depth, prev, jump, jump seq) follow Myers' stack; a sequence below the meter's
 *     highest that is not yet indexed is "loose" (mseq table); heads maps each meter's
 *     number to its entry with the highest sequence.
 *
 * Each stored link is compared with the recomputed one; at the end the meters, heads,
 * mseq and meta tables are compared with the recomputed ones record by record. To find a
 * jump target the source reads back the link of an earlier entry of the same meter
 * (already compared), so memory stays O(meters). */
#include "cli/audit/audit_lmdb.h"
#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"

#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define AT_E WN_AUDIT_AT_ENTRY
#define AT_L WN_AUDIT_AT_LEDGER
#define NONE UINT64_MAX
#define MAX_ENTRY (1u << 20)     /* WN_LEDGER_MAX_ENTRY */
#define MAP_SIZE ((size_t)1 << 40)
#define MAP_SIZE_MIN ((size_t)1 << 32)

enum { LINK_NONE = 0, LINK_CHAIN = 1, LINK_LOOSE = 2 };

typedef struct {
    int kind;
    uint32_t num;
    uint64_t seq, depth, prev, jump, jump_seq;
} link_t;

/* A meter as the index sees it. */
typedef struct {
    uint8_t id[32];
    uint32_t num;
    uint64_t first;          /* its first indexed entry */
    uint64_t head, head_seq, head_depth, head_jump, head_jump_seq;
    int in_meters, in_heads; /* found in the stored tables */
} imeter;

typedef struct {
    uint32_t num;
    uint64_t seq, index;
} loose_t;

typedef struct {
    wn_auditor *a;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, entries, meters, heads, mseq, checkpoints;
    imeter **slots;          /* by id (open addressing) */
    size_t cap, n;
    imeter **by_num;         /* by number - 1 */
    loose_t *loose;
    size_t nloose, caploose;
    int oom;
} src;

/* ---- faults in the mapped file ---------------------------------------------------- */

static volatile uintptr_t g_map_lo, g_map_hi;
static struct sigaction g_old_segv, g_old_bus; /* restored after the run, and for faults not ours */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (addr >= g_map_lo && addr < g_map_hi) {
        static const char msg[] = "wn audit: data.mdb is damaged: LMDB read outside the file; the ledger cannot be read\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(2);
    }
    sigaction(sig, sig == SIGBUS ? &g_old_bus : &g_old_segv, NULL); /* not ours: fault again as before */
}

static void on_assert(MDB_env *env, const char *msg)
{
    (void)env;
    fprintf(stderr, "wn audit: data.mdb is damaged: LMDB stopped on an internal check (%s); the ledger cannot be read\n",
            msg);
    _exit(2);
}

/* The address range of data.mdb's mapping, from /proc/self/maps (LMDB does not say where
 * it mapped the file: mdb_env_info's me_mapaddr is only the fixed-map hint). */
static int map_range(const char *dir, uintptr_t *lo, uintptr_t *hi)
{
    char path[4200], line[4600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) return 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    *lo = UINTPTR_MAX;
    *hi = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b, ino;
        unsigned maj, mnr;
        if (sscanf(line, "%llx-%llx %*s %*x %x:%x %llu", &a, &b, &maj, &mnr, &ino) != 5) continue;
        if (ino != (unsigned long long)sb.st_ino || makedev(maj, mnr) != sb.st_dev) continue;
        if (a < *lo) *lo = (uintptr_t)a;
        if (b > *hi) *hi = (uintptr_t)b;
    }
    fclose(f);
    return *hi > *lo;
}

static void guard(const char *dir)
{
    uintptr_t lo, hi;
    if (!map_range(dir, &lo, &hi)) return;
    g_map_lo = lo;
    g_map_hi = hi;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
}

static void unguard(void)
{
    if (!g_map_hi) return;
    sigaction(SIGSEGV, &g_old_segv, NULL);
    sigaction(SIGBUS, &g_old_bus, NULL);
    g_map_lo = g_map_hi = 0;
}

/* ---- meters of the index ----------------------------------------------------------- */

static size_t slot_of(const uint8_t id[32], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, 8);
    return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static imeter *find_meter(src *s, const uint8_t id[32])
{
    if (!s->cap) return NULL;
    for (size_t k = slot_of(id, s->cap); s->slots[k]; k = (k + 1) & (s->cap - 1))
        if (memcmp(s->slots[k]->id, id, 32) == 0) return s->slots[k];
    return NULL;
}

static imeter *new_meter(src *s, const uint8_t id[32])
{
    if ((s->n + 1) * 4 > s->cap * 3) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        imeter **n = calloc(cap, sizeof *n), **bn = realloc(s->by_num, cap * sizeof *bn);
        if (bn) s->by_num = bn;
        if (!n || !bn) {
            free(n);
            return NULL;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i]) continue;
            size_t k = slot_of(s->slots[i]->id, cap);
            while (n[k]) k = (k + 1) & (cap - 1);
            n[k] = s->slots[i];
        }
        free(s->slots);
        s->slots = n;
        s->cap = cap;
    }
    imeter *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    memcpy(m->id, id, 32);
    size_t k = slot_of(id, s->cap);
    while (s->slots[k]) k = (k + 1) & (s->cap - 1);
    s->slots[k] = m;
    s->by_num[s->n] = m;
    s->n++;
    m->num = (uint32_t)s->n;
    return m;
}

/* ---- the §8 layout ------------------------------------------------------------------ */

static int link_decode(const uint8_t *p, size_t avail, link_t *l)
{
    memset(l, 0, sizeof *l);
    if (avail < 1) return 0;
    l->kind = p[0];
    if (l->kind == LINK_NONE) return 1;
    size_t need = l->kind == LINK_CHAIN ? 45 : l->kind == LINK_LOOSE ? 13 : 0;
    if (!need || avail < need) return 0;
    l->num = wn_get_u32(p + 1);
    l->seq = wn_get_u64(p + 5);
    if (l->kind == LINK_CHAIN) {
        l->depth = wn_get_u64(p + 13);
        l->prev = wn_get_u64(p + 21);
        l->jump = wn_get_u64(p + 29);
        l->jump_seq = wn_get_u64(p + 37);
    }
    return (int)need;
}

typedef struct {
    const uint8_t *chain, *hashes, *entry;
    unsigned nhashes;
    size_t len;
    link_t link;
} rec_t;

/* Splits the entries value of entry i: chain (32) || hashes (32*h) || link || entry. */
static int split(uint64_t i, const MDB_val *v, rec_t *r)
{
    unsigned h = wn_merkle_hashes_at(i);
    size_t head = 32 + 32 * (size_t)h;
    if (v->mv_size <= head) return 0;
    const uint8_t *p = v->mv_data;
    int ll = link_decode(p + head, v->mv_size - head, &r->link);
    if (!ll) return 0;
    size_t rest = v->mv_size - head - (size_t)ll;
    if (rest == 0 || rest > MAX_ENTRY) return 0;
    r->chain = p;
    r->hashes = p + 32;
    r->nhashes = h;
    r->entry = p + head + ll;
    r->len = rest;
    return 1;
}

static int get_rec(src *s, uint64_t i, rec_t *r)
{
    uint8_t kb[8];
    wn_put_u64(kb, i);
    MDB_val k = {8, kb}, v;
    return mdb_get(s->txn, s->entries, &k, &v) == 0 && split(i, &v, r);
}

static int fetch(void *ctx, uint64_t index, uint8_t *buf, size_t cap, size_t *len)
{
    rec_t r;
    if (!get_rec(ctx, index, &r) || r.len > cap) return 1;
    memcpy(buf, r.entry, r.len);
    *len = r.len;
    return 0;
}

/* Stored subtree hash (level, k): entry (k+1)*2^level - 1 at offset 32 + 32*level. */
static int stored_hash(void *ctx, unsigned level, uint64_t k, uint8_t out[32])
{
    rec_t r;
    if (level > 63 || k >= (UINT64_MAX >> level)) return 0;
    if (!get_rec(ctx, ((k + 1) << level) - 1, &r) || level >= r.nhashes) return 0;
    memcpy(out, r.hashes + 32 * (size_t)level, 32);
    return 1;
}

/* Roots of earlier trees from the stored hashes, which the audit compares with the
 * recomputed ones as they go by. */
static int root_at(void *ctx, uint64_t size, uint8_t root[32])
{
    return wn_merkle_root(root, size, stored_hash, ctx) ? 0 : 1;
}

/* ---- the index, recomputed ---------------------------------------------------------- */

/* Myers' jump depth (§8): J(0) = 0; J(d) = d - m, m what remains of d after taking away
 * the largest 2^k - 1 not above it, repeatedly, until the rest is itself 2^k - 1. */
static uint64_t jump_depth(uint64_t d)
{
    if (d == 0) return 0;
    uint64_t x = d;
    while (x & (x + 1)) {
        unsigned k = 63u - (unsigned)__builtin_clzll(x + 1); /* 2^k <= x + 1 */
        x -= (1ULL << k) - 1;
    }
    return d - x;
}

static void link_text(char *out, size_t cap, const link_t *l)
{
    if (l->kind == LINK_NONE) snprintf(out, cap, "not indexed");
    else if (l->kind == LINK_LOOSE)
        snprintf(out, cap, "loose (meter number %u, seq %llu)", l->num, (unsigned long long)l->seq);
    else
        snprintf(out, cap, "chain (meter number %u, seq %llu, depth %llu, prev %lld, jump %lld, jump seq %llu)", l->num,
                 (unsigned long long)l->seq, (unsigned long long)l->depth, (long long)l->prev, (long long)l->jump,
                 (unsigned long long)l->jump_seq);
}

static int link_eq(const link_t *a, const link_t *b)
{
    return a->kind == b->kind && a->num == b->num && a->seq == b->seq && a->depth == b->depth &&
           a->prev == b->prev && a->jump == b->jump && a->jump_seq == b->jump_seq;
}

/* Is (m, seq <= head seq) already indexed: in the chain (walked through the stored links
 * from the head, as the ledger finds it) or loose? */
static int indexed(src *s, const imeter *m, uint64_t seq, uint64_t *where)
{
    for (size_t k = 0; k < s->nloose; k++)
        if (s->loose[k].num == m->num && s->loose[k].seq == seq) {
            *where = s->loose[k].index;
            return 1;
        }
    uint64_t at = m->head;
    for (unsigned steps = 0; steps < 4096; steps++) {
        rec_t r;
        if (!get_rec(s, at, &r) || r.link.kind != LINK_CHAIN || r.link.num != m->num) return 0;
        if (r.link.seq == seq) {
            *where = at;
            return 1;
        }
        if (r.link.seq < seq) return 0;
        uint64_t next = r.link.jump != NONE && r.link.jump_seq >= seq ? r.link.jump : r.link.prev;
        if (next == NONE || next >= at) return 0;
        at = next;
    }
    return 0;
}

static int add_loose(src *s, uint32_t num, uint64_t seq, uint64_t index)
{
    if (s->nloose == s->caploose) {
        size_t cap = s->caploose ? s->caploose * 2 : 16;
        loose_t *n = realloc(s->loose, cap * sizeof *n);
        if (!n) return 0;
        s->loose = n;
        s->caploose = cap;
    }
    s->loose[s->nloose++] = (loose_t){num, seq, index};
    return 1;
}

/* The link the ledger writes for entry i, given its bytes; updates the recomputed index.
 * Returns: 1 with *want set; 0 if the ledger could not have appended it (reported). */
static int expected_link(src *s, uint64_t i, const uint8_t *e, size_t len, link_t *want)
{
    memset(want, 0, sizeof *want);
    wn_entry_view v;
    if (wn_entry_parse(&v, e, len) != WN_ENTRY_OK || v.len < 41 || v.kind != WN_ENTRY_READING)
        return 1; /* not indexed */
    const uint8_t *id = v.payload + 1;
    uint64_t seq = wn_get_u64(v.payload + 33);
    imeter *m = find_meter(s, id);
    if (!m) {
        if (s->n >= UINT32_MAX || !(m = new_meter(s, id))) {
            s->oom = 1;
            return 0;
        }
        m->first = i;
        m->head = i;
        m->head_seq = seq;
        m->head_depth = 0;
        m->head_jump = NONE;
        m->head_jump_seq = 0;
        *want = (link_t){LINK_CHAIN, m->num, seq, 0, NONE, NONE, 0};
        return 1;
    }
    if (seq > m->head_seq) {
        uint64_t d = m->head_depth + 1, jump = m->head, jump_seq = m->head_seq;
        if (jump_depth(d) != m->head_depth) { /* the jump of the head's jump */
            rec_t r;
            if (m->head_jump == NONE || !get_rec(s, m->head_jump, &r) || r.link.kind != LINK_CHAIN) {
                wn_auditor_report(s->a, AT_E, i, WN_AC_INDEX, 0,
                                "cannot recompute the meter link: entry %lld, the jump of this meter's head, has no chain link",
                                (long long)m->head_jump);
                jump = NONE, jump_seq = 0;
            } else {
                jump = r.link.jump;
                jump_seq = r.link.jump_seq;
            }
        }
        *want = (link_t){LINK_CHAIN, m->num, seq, d, m->head, jump, jump_seq};
        m->head = i;
        m->head_seq = seq;
        m->head_depth = d;
        m->head_jump = jump;
        m->head_jump_seq = jump_seq;
        return 1;
    }
    uint64_t where;
    if (seq == m->head_seq || indexed(s, m, seq, &where)) {
        if (seq == m->head_seq) where = m->head;
        char h[65];
        wn_hex_encode(h, id, 32);
        wn_auditor_report(s->a, AT_E, i, WN_AC_INDEX, 1,
                        "meter %.16s sequence %llu is already indexed at entry %llu: the ledger refuses to append it twice",
                        h, (unsigned long long)seq, (unsigned long long)where);
        return 0;
    }
    if (!add_loose(s, m->num, seq, i)) {
        s->oom = 1;
        return 0;
    }
    *want = (link_t){LINK_LOOSE, m->num, seq, 0, 0, 0, 0};
    return 1;
}

/* ---- the walk ------------------------------------------------------------------------ */

static int fail(char *why, size_t cap, const char *fmt, const char *what, int rc)
{
    char m[200];
    snprintf(m, sizeof m, fmt, what);
    snprintf(why, cap, "%s: %s", m, rc ? mdb_strerror(rc) : "");
    return 0;
}

static int feed_checkpoints(src *s, char *why, size_t cap)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(s->txn, s->checkpoints, &c);
    if (rc) return fail(why, cap, "cannot read the %s table", "checkpoints", rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || v.mv_size == 0) {
            wn_auditor_report(s->a, AT_L, 0, WN_AC_STORAGE, 0, "a checkpoints record has a %zu-byte key and a %zu-byte value",
                            k.mv_size, v.mv_size);
            continue;
        }
        if (wn_auditor_checkpoint(s->a, wn_get_u64(k.mv_data), v.mv_data, v.mv_size) == WN_AUDIT_ENOMEM) {
            mdb_cursor_close(c);
            snprintf(why, cap, "out of memory");
            return 0;
        }
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) return fail(why, cap, "cannot read the %s table", "checkpoints", rc);
    return 1;
}

static int walk_entries(src *s, uint64_t total, wn_audit_progress_fn progress, void *pctx, char *why, size_t cap)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(s->txn, s->entries, &c);
    if (rc) return fail(why, cap, "cannot read the %s table", "entries", rc);
    uint64_t i = 0;
    static const uint8_t empty = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), i++) {
        if (k.mv_size != 8 || wn_get_u64(k.mv_data) != i)
            wn_auditor_report(s->a, AT_E, i, WN_AC_STORAGE, 0, "entry number %llu is stored under a wrong key",
                            (unsigned long long)i);
        rec_t r;
        int err;
        if (!split(i, &v, &r)) {
            wn_auditor_report(s->a, AT_E, i, WN_AC_STORAGE, 1,
                            "the stored value (%zu bytes) is not chain || %u hashes || meter link || entry", v.mv_size,
                            wn_merkle_hashes_at(i));
            err = wn_auditor_entry(s->a, i, &empty, 0, NULL);
        } else {
            wn_audit_stored st = {r.hashes, r.chain, (const uint8_t(*)[32])(r.hashes + 32), r.nhashes - 1};
            err = wn_auditor_entry(s->a, i, r.entry, r.len, &st);
            link_t want;
            if (expected_link(s, i, r.entry, r.len, &want) && !link_eq(&want, &r.link)) {
                char a[160], b[160];
                link_text(a, sizeof a, &r.link);
                link_text(b, sizeof b, &want);
                wn_auditor_report(s->a, AT_E, i, WN_AC_INDEX, 2, "stored meter link: %s; the ledger writes: %s", a, b);
            }
        }
        if (err == WN_AUDIT_ENOMEM || s->oom) {
            mdb_cursor_close(c);
            snprintf(why, cap, "out of memory at entry %llu", (unsigned long long)i);
            return 0;
        }
        if (progress && (i & 4095) == 4095) progress(pctx, i + 1, total);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) {
        snprintf(why, cap, "data.mdb is damaged: reading entry %llu failed: %s", (unsigned long long)i, mdb_strerror(rc));
        return 0;
    }
    if (i != total)
        wn_auditor_report(s->a, AT_L, 0, WN_AC_STORAGE, 2, "the entries table says it holds %llu entries, but %llu are there",
                        (unsigned long long)total, (unsigned long long)i);
    if (progress) progress(pctx, i, total);
    return 1;
}

static int cmp_loose(const void *x, const void *y)
{
    const loose_t *a = x, *b = y;
    if (a->num != b->num) return a->num < b->num ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The meters, heads, mseq and meta tables against the recomputed index. */
static int compare_tables(src *s, char *why, size_t cap)
{
    MDB_cursor *c;
    MDB_val k, v;
    char h[65];
    int rc;

    if ((rc = mdb_cursor_open(s->txn, s->meters, &c))) return fail(why, cap, "cannot read the %s table", "meters", rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        imeter *m = k.mv_size == 32 ? find_meter(s, k.mv_data) : NULL;
        uint32_t num = v.mv_size == 4 ? wn_get_u32(v.mv_data) : 0;
        if (k.mv_size == 32) wn_hex_encode(h, k.mv_data, 32);
        if (!m) {
            wn_auditor_report(s->a, AT_L, 0, WN_AC_INDEX, 0, "the meters table holds %s%.16s, which no entry indexes",
                            k.mv_size == 32 ? "meter " : "a malformed key ", k.mv_size == 32 ? h : "");
            continue;
        }
        m->in_meters = 1;
        if (v.mv_size != 4 || num != m->num)
            wn_auditor_report(s->a, AT_E, m->first, WN_AC_INDEX, 3,
                            "the meters table gives meter %.16s number %lld, but its entries are indexed as number %u", h,
                            v.mv_size == 4 ? (long long)num : -1LL, m->num);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) return fail(why, cap, "cannot read the %s table", "meters", rc);

    if ((rc = mdb_cursor_open(s->txn, s->heads, &c))) return fail(why, cap, "cannot read the %s table", "heads", rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint32_t num = k.mv_size == 4 ? wn_get_u32(k.mv_data) : 0;
        if (num == 0 || num > s->n) {
            wn_auditor_report(s->a, AT_L, 0, WN_AC_INDEX, 1, "the heads table holds meter number %u, which no entry uses", num);
            continue;
        }
        imeter *m = s->by_num[num - 1];
        m->in_heads = 1;
        if (v.mv_size != 8 || wn_get_u64(v.mv_data) != m->head) {
            wn_hex_encode(h, m->id, 32);
            wn_auditor_report(s->a, AT_E, m->head, WN_AC_INDEX, 4,
                            "the heads table points meter %.16s (number %u) at entry %lld, but its head is this entry", h,
                            num, v.mv_size == 8 ? (long long)wn_get_u64(v.mv_data) : -1LL);
        }
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) return fail(why, cap, "cannot read the %s table", "heads", rc);
    for (size_t n = 0; n < s->n; n++) {
        imeter *m = s->by_num[n];
        wn_hex_encode(h, m->id, 32);
        if (!m->in_meters)
            wn_auditor_report(s->a, AT_E, m->first, WN_AC_INDEX, 5, "meter %.16s is missing from the meters table", h);
        if (!m->in_heads)
            wn_auditor_report(s->a, AT_E, m->head, WN_AC_INDEX, 6, "meter %.16s (number %u) is missing from the heads table",
                            h, m->num);
    }

    if (s->nloose) qsort(s->loose, s->nloose, sizeof *s->loose, cmp_loose);
    size_t j = 0;
    if ((rc = mdb_cursor_open(s->txn, s->mseq, &c))) return fail(why, cap, "cannot read the %s table", "mseq", rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        loose_t got = {0, 0, NONE};
        if (k.mv_size == 12) got.num = wn_get_u32(k.mv_data), got.seq = wn_get_u64((const uint8_t *)k.mv_data + 4);
        if (v.mv_size == 8) got.index = wn_get_u64(v.mv_data);
        while (j < s->nloose && cmp_loose(&s->loose[j], &got) < 0) {
            wn_auditor_report(s->a, AT_E, s->loose[j].index, WN_AC_INDEX, 7,
                            "this loose entry (meter number %u, seq %llu) is missing from the mseq table", s->loose[j].num,
                            (unsigned long long)s->loose[j].seq);
            j++;
        }
        if (j < s->nloose && cmp_loose(&s->loose[j], &got) == 0) {
            if (got.index != s->loose[j].index)
                wn_auditor_report(s->a, AT_E, s->loose[j].index, WN_AC_INDEX, 7,
                                "the mseq table points (meter number %u, seq %llu) at entry %lld, not at this entry",
                                got.num, (unsigned long long)got.seq, (long long)got.index);
            j++;
        } else {
            wn_auditor_report(s->a, AT_L, 0, WN_AC_INDEX, 2,
                            "the mseq table holds (meter number %u, seq %llu), which no loose entry has", got.num,
                            (unsigned long long)got.seq);
        }
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) return fail(why, cap, "cannot read the %s table", "mseq", rc);
    for (; j < s->nloose; j++)
        wn_auditor_report(s->a, AT_E, s->loose[j].index, WN_AC_INDEX, 7,
                        "this loose entry (meter number %u, seq %llu) is missing from the mseq table", s->loose[j].num,
                        (unsigned long long)s->loose[j].seq);

    if ((rc = mdb_cursor_open(s->txn, s->meta, &c))) return fail(why, cap, "cannot read the %s table", "meta", rc);
    int have_count = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size == 6 && memcmp(k.mv_data, "format", 6) == 0) continue; /* checked on open */
        if (k.mv_size == 6 && memcmp(k.mv_data, "meters", 6) == 0) {
            have_count = 1;
            if (v.mv_size != 4 || wn_get_u32(v.mv_data) != s->n)
                wn_auditor_report(s->a, AT_L, 0, WN_AC_INDEX, 3, "meta \"meters\" says %lld meters, the entries index %zu",
                                v.mv_size == 4 ? (long long)wn_get_u32(v.mv_data) : -1LL, s->n);
            continue;
        }
        wn_auditor_report(s->a, AT_L, 0, WN_AC_STORAGE, 3, "meta holds an unknown %zu-byte key", k.mv_size);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) return fail(why, cap, "cannot read the %s table", "meta", rc);
    if (!have_count && s->n)
        wn_auditor_report(s->a, AT_L, 0, WN_AC_INDEX, 3, "meta has no \"meters\" count, the entries index %zu meters", s->n);
    return 1;
}

static int open_env(src *s, const char *dir, char *why, size_t cap)
{
    struct stat sb;
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "%s is not a directory", dir);
        return 0;
    }
    if (stat(path, &sb) != 0) {
        snprintf(why, cap, "%s: %s (a ledger directory holds data.mdb)", path, strerror(errno));
        return 0;
    }
    size_t map = MAP_SIZE;
    unsigned flags = MDB_RDONLY | MDB_NOTLS;
    int rc;
    for (;;) {
        if ((rc = mdb_env_create(&s->env))) break;
        mdb_env_set_assert(s->env, on_assert);
        if (!(rc = mdb_env_set_maxdbs(s->env, 8)) && !(rc = mdb_env_set_mapsize(s->env, map)) &&
            !(rc = mdb_env_open(s->env, dir, flags, 0640)))
            break;
        mdb_env_close(s->env);
        s->env = NULL;
        if (rc == ENOMEM && map > MAP_SIZE_MIN) map /= 2;
        else if ((rc == EACCES || rc == EROFS) && !(flags & MDB_NOLOCK)) flags |= MDB_NOLOCK; /* read-only media */
        else break;
    }
    if (rc) {
        snprintf(why, cap, "cannot open the LMDB environment in %s: %s", dir, mdb_strerror(rc));
        return 0;
    }
    guard(dir);
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->txn))) {
        snprintf(why, cap, "cannot begin a read transaction: %s", mdb_strerror(rc));
        return 0;
    }
    if ((rc = mdb_dbi_open(s->txn, "meta", 0, &s->meta))) {
        snprintf(why, cap, "%s is not a WaterNotary ledger (no meta table): %s", dir, mdb_strerror(rc));
        return 0;
    }
    MDB_val k = {6, (void *)"format"}, v;
    if ((rc = mdb_get(s->txn, s->meta, &k, &v)) || v.mv_size != 4 || wn_get_u32(v.mv_data) != 1) {
        snprintf(why, cap, "%s: the ledger format is not version 1 (meta \"format\")", dir);
        return 0;
    }
    static const char *const names[] = {"entries", "meters", "heads", "mseq", "checkpoints"};
    MDB_dbi *dbis[] = {&s->entries, &s->meters, &s->heads, &s->mseq, &s->checkpoints};
    for (size_t i = 0; i < 5; i++)
        if ((rc = mdb_dbi_open(s->txn, names[i], 0, dbis[i]))) {
            snprintf(why, cap, "%s: cannot open the %s table: %s", dir, names[i], mdb_strerror(rc));
            return 0;
        }
    return 1;
}

int wn_audit_lmdb_run(wn_auditor *a, const char *dir, wn_audit_progress_fn progress, void *pctx, char *why, size_t cap)
{
    src s;
    memset(&s, 0, sizeof s);
    s.a = a;
    int ok = open_env(&s, dir, why, cap);
    MDB_stat st;
    int rc;
    if (ok && (rc = mdb_stat(s.txn, s.entries, &st))) ok = fail(why, cap, "cannot read the %s table", "entries", rc);
    if (ok) {
        wn_auditor_set_fetch(a, fetch, &s);
        wn_auditor_set_root_at(a, root_at, &s);
        ok = feed_checkpoints(&s, why, cap) && walk_entries(&s, st.ms_entries, progress, pctx, why, cap) &&
             compare_tables(&s, why, cap);
        wn_auditor_set_fetch(a, NULL, NULL);
        wn_auditor_set_root_at(a, NULL, NULL);
    }
    if (s.txn) mdb_txn_abort(s.txn);
    if (s.env) mdb_env_close(s.env);
    unguard();
    for (size_t i = 0; i < s.cap; i++) free(s.slots[i]);
    free(s.slots);
    free(s.by_num);
    free(s.loose);
    return ok;
}
