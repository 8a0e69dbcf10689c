/* audit.c — offline audit of a ledger directory (see audit.h). The Merkle tree is rebuilt
 * here from the leaf hashes with plain SHA-256 (RFC 6962 §2.1), not with merkle.c, so the
 * audit does not trust the code that wrote the hashes it checks. */
#include "tests/support/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"

/* Complete subtree hashes by level: lv[L][K] covers leaves [K*2^L, (K+1)*2^L). */
typedef struct {
    uint8_t (*lv[64])[32];
    uint64_t n[64];
    uint64_t cap[64];
} tree;

typedef struct {
    wn_audit *a;
    wn_ledger *l;
    const uint8_t *registrar;
    tree t;
    uint8_t chain[32];
    wn_enrolment *enrol; /* parallel to a->meters */
    size_t cap;
} audit_ctx;

static int fail(wn_audit *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    return 0;
}

static int tree_push(tree *t, unsigned level, const uint8_t h[32])
{
    if (t->n[level] == t->cap[level]) {
        uint64_t cap = t->cap[level] ? t->cap[level] * 2 : 1024;
        void *p = realloc(t->lv[level], cap * 32);
        if (!p) return 0;
        t->lv[level] = p;
        t->cap[level] = cap;
    }
    memcpy(t->lv[level][t->n[level]++], h, 32);
    /* A right child completes its parent. */
    if ((t->n[level] & 1) == 0 && level < 63) {
        uint8_t in[65], up[32];
        in[0] = 0x01;
        memcpy(in + 1, t->lv[level][t->n[level] - 2], 32);
        memcpy(in + 33, t->lv[level][t->n[level] - 1], 32);
        wn_sha256(up, in, sizeof in);
        return tree_push(t, level + 1, up);
    }
    return 1;
}

static void tree_free(tree *t)
{
    for (int i = 0; i < 64; i++) free(t->lv[i]);
}

/* RFC 6962 MTH of leaves [lo, lo+n), from the complete subtrees. */
static void tree_hash(const tree *t, uint64_t lo, uint64_t n, uint8_t out[32])
{
    if (n == 0) {
        wn_sha256(out, "", 0);
        return;
    }
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        unsigned level = (unsigned)__builtin_ctzll(n);
        memcpy(out, t->lv[level][lo >> level], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    uint8_t in[65];
    in[0] = 0x01;
    tree_hash(t, lo, k, in + 1);
    tree_hash(t, lo + k, n - k, in + 33);
    wn_sha256(out, in, sizeof in);
}

static wn_audit_meter *find_meter(wn_audit *a, const uint8_t id[32], size_t *pos)
{
    for (size_t i = 0; i < a->nmeters; i++)
        if (memcmp(a->meters[i].id, id, 32) == 0) {
            if (pos) *pos = i;
            return &a->meters[i];
        }
    return NULL;
}

const wn_audit_meter *wn_audit_find(const wn_audit *a, const uint8_t id[32])
{
    return find_meter((wn_audit *)a, id, NULL);
}

static int audit_enrolment(audit_ctx *c, uint64_t i, const uint8_t *p, size_t len)
{
    wn_audit *a = c->a;
    wn_enrolment e;
    if (wn_enrolment_decode(&e, p, len) != WN_ENROL_OK) return fail(a, "entry %llu: enrolment does not decode", (unsigned long long)i);
    if (wn_enrolment_verify(&e) != WN_ENROL_OK) return fail(a, "entry %llu: registrar signature fails", (unsigned long long)i);
    if (memcmp(e.registrar, c->registrar, 32) != 0) return fail(a, "entry %llu: enrolled by another registrar", (unsigned long long)i);
    if (find_meter(a, e.meter, NULL)) return fail(a, "entry %llu: meter enrolled twice", (unsigned long long)i);
    if (a->nmeters == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        void *m = realloc(a->meters, cap * sizeof *a->meters), *en;
        if (!m) return fail(a, "out of memory");
        a->meters = m;
        if (!(en = realloc(c->enrol, cap * sizeof *c->enrol))) return fail(a, "out of memory");
        c->enrol = en;
        c->cap = cap;
    }
    wn_audit_meter *m = &a->meters[a->nmeters];
    memset(m, 0, sizeof *m);
    memcpy(m->id, e.meter, 32);
    m->enrolment_index = i;
    c->enrol[a->nmeters++] = e;
    a->enrolments++;
    return 1;
}

static int audit_reading(audit_ctx *c, uint64_t i, const uint8_t *p, size_t len)
{
    wn_audit *a = c->a;
    wn_reading r;
    int err = wn_reading_decode(&r, p, len);
    if (err) return fail(a, "entry %llu: reading does not decode: %s", (unsigned long long)i, wn_reading_errcode(err));
    size_t pos;
    wn_audit_meter *m = find_meter(a, r.meter, &pos);
    if (!m) return fail(a, "entry %llu: reading of a meter not enrolled before it", (unsigned long long)i);
    const wn_enrolment *e = &c->enrol[pos];
    if (r.alg != e->alg) return fail(a, "entry %llu: reading signed with another algorithm than enrolled", (unsigned long long)i);
    err = e->alg == WN_ALG_ECDSA ? wn_reading_verify(&r, e->pubkey, 33) : wn_reading_verify(&r, NULL, 0);
    if (err) return fail(a, "entry %llu: reading signature: %s", (unsigned long long)i, wn_reading_errcode(err));
    if (r.seq != m->last_seq + 1)
        return fail(a, "entry %llu: meter sequence %llu after %llu", (unsigned long long)i, (unsigned long long)r.seq,
                    (unsigned long long)m->last_seq);
    static const uint8_t zero[32];
    if (memcmp(r.prev, m->last_seq ? m->last_digest : zero, 32) != 0)
        return fail(a, "entry %llu: previous digest breaks the meter's chain", (unsigned long long)i);
    if (m->last_seq && r.time_ms < m->last_time) return fail(a, "entry %llu: time goes back", (unsigned long long)i);
    uint64_t at;
    err = wn_ledger_find(c->l, r.meter, r.seq, &at);
    if (err || at != i)
        return fail(a, "entry %llu: index (meter, %llu) -> %s %llu", (unsigned long long)i, (unsigned long long)r.seq,
                    err ? wn_ledger_strerror(err) : "entry", (unsigned long long)at);
    wn_sha256(m->last_digest, p, len);
    m->last_seq = r.seq;
    m->last_time = r.time_ms;
    a->readings++;
    return 1;
}

static int visit(void *ctx, uint64_t i, const uint8_t *entry, size_t len, const uint8_t leaf[32], const uint8_t chain[32])
{
    audit_ctx *c = ctx;
    wn_audit *a = c->a;
    uint8_t h[32];
    wn_sha256_2(h, "\0", 1, entry, len);
    if (memcmp(h, leaf, 32) != 0) return fail(a, "entry %llu: stored leaf hash is wrong", (unsigned long long)i), 1;
    wn_sha256_2(h, c->chain, 32, leaf, 32);
    if (memcmp(h, chain, 32) != 0) return fail(a, "entry %llu: stored chain hash is wrong", (unsigned long long)i), 1;
    memcpy(c->chain, h, 32);
    if (!tree_push(&c->t, 0, leaf)) return fail(a, "out of memory"), 1;
    int ok;
    wn_entry_view v;
    if (wn_entry_parse(&v, entry, len) != WN_ENTRY_OK) return fail(a, "entry %llu: does not parse", (unsigned long long)i), 1;
    switch (v.kind) {
    case WN_ENTRY_READING: ok = audit_reading(c, i, v.payload, v.len); break;
    case WN_ENTRY_ENROLMENT: ok = audit_enrolment(c, i, v.payload, v.len); break;
    case WN_ENTRY_REVOCATION:
    case WN_ENTRY_EQUIVOCATION: a->others++, ok = 1; break;
    default: ok = fail(a, "entry %llu: unknown type", (unsigned long long)i);
    }
    return ok ? 0 : 1;
}

typedef struct {
    audit_ctx *c;
    const uint8_t *notary;
    const char *origin;
} cp_ctx;

static int visit_cp(void *ctx, uint64_t size, const char *note, size_t len)
{
    cp_ctx *k = ctx;
    wn_audit *a = k->c->a;
    wn_checkpoint cp;
    int err = wn_checkpoint_verify(note, len, k->origin, k->notary, &cp);
    if (err) return fail(a, "checkpoint %llu: %s", (unsigned long long)size, wn_checkpoint_strerror(err)), 1;
    if (cp.size != size) return fail(a, "checkpoint stored under %llu says %llu", (unsigned long long)size, (unsigned long long)cp.size), 1;
    if (size > a->size) return fail(a, "checkpoint %llu is beyond the ledger", (unsigned long long)size), 1;
    uint8_t root[32];
    tree_hash(&k->c->t, 0, size, root);
    if (memcmp(root, cp.root, 32) != 0) return fail(a, "checkpoint %llu: root is not the tree's", (unsigned long long)size), 1;
    a->checkpoints++;
    a->last_checkpoint = size;
    return 0;
}

static int check_stored_hashes(audit_ctx *c)
{
    wn_audit *a = c->a;
    wn_ledger_reader *rd;
    int err = wn_ledger_reader_begin(c->l, &rd);
    if (err) return fail(a, "reader: %s", wn_ledger_strerror(err));
    int ok = 1;
    for (unsigned level = 0; level < 64 && ok && c->t.n[level]; level++)
        for (uint64_t k = 0; k < c->t.n[level]; k++) {
            uint8_t h[32];
            if (!wn_ledger_reader_hash(rd, level, k, h) || memcmp(h, c->t.lv[level][k], 32) != 0) {
                ok = fail(a, "stored subtree hash (level %u, index %llu) is wrong or missing", level, (unsigned long long)k);
                break;
            }
        }
    wn_ledger_reader_end(rd);
    uint8_t mine[32], theirs[32];
    tree_hash(&c->t, 0, a->size, mine);
    if (ok && ((err = wn_ledger_root(c->l, a->size, theirs)) || memcmp(mine, theirs, 32) != 0))
        ok = fail(a, "the ledger's root of size %llu is not the tree's", (unsigned long long)a->size);
    return ok;
}

int wn_audit_ledger(wn_audit *a, const char *dir, const uint8_t notary[32], const char *origin, const uint8_t registrar[32])
{
    memset(a, 0, sizeof *a);
    audit_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.registrar = registrar;
    int err = wn_ledger_open(&c.l, dir, WN_LEDGER_RDONLY), ok = 0;
    if (err) return fail(a, "open %s read-only: %s", dir, wn_ledger_strerror(err));
    if ((err = wn_ledger_size(c.l, &a->size))) {
        fail(a, "size: %s", wn_ledger_strerror(err));
        goto out;
    }
    err = wn_ledger_iterate(c.l, 0, a->size, visit, &c);
    if (err) {
        if (!a->err[0]) fail(a, "iterate: %s", wn_ledger_strerror(err));
        goto out;
    }
    if (!check_stored_hashes(&c)) goto out;
    cp_ctx k = {&c, notary, origin};
    if ((err = wn_ledger_iterate_checkpoints(c.l, visit_cp, &k))) {
        if (!a->err[0]) fail(a, "checkpoints: %s", wn_ledger_strerror(err));
        goto out;
    }
    for (size_t i = 0; i < a->nmeters; i++) {
        uint64_t seq = 0, index = 0;
        err = wn_ledger_meter_last(c.l, a->meters[i].id, &seq, &index);
        if (a->meters[i].last_seq == 0 ? err != WN_LEDGER_ENOTFOUND && seq != 0 : err || seq != a->meters[i].last_seq) {
            fail(a, "meter %zu: the ledger says last sequence %llu, its readings %llu", i, (unsigned long long)seq,
                 (unsigned long long)a->meters[i].last_seq);
            goto out;
        }
    }
    ok = 1;
out:
    tree_free(&c.t);
    free(c.enrol);
    wn_ledger_close(c.l);
    return ok;
}

void wn_audit_free(wn_audit *a)
{
    free(a->meters);
    a->meters = NULL;
    a->nmeters = 0;
}
