/* audit_store.c — the audit's containers: the meter table, the set of evidence digests,
 * the bounded store of problems (the earliest `keep` in report order; all counted) and
 * the pool of threads that verify signatures in batches.
 *
 * The pool: the main thread fills one batch of jobs at a time and queues it; workers take
 * queued batches, verify every job, and record failures in the store (whose order is by
 * position, so when a result arrives does not matter). When no batch is free, the main
 * thread verifies a queued batch itself instead of waiting. */
#include "cli/audit/audit_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- meters ---------------------------------------------------------------------- */

static size_t slot_of(const uint8_t id[32], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, 8);
    h *= 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 17) & (cap - 1);
}

static int meters_grow(wn_audit_mtable *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    wn_audit_mstate **s = calloc(cap, sizeof *s);
    if (!s) return 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i]) continue;
        size_t k = slot_of(t->slots[i]->id, cap);
        while (s[k]) k = (k + 1) & (cap - 1);
        s[k] = t->slots[i];
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return 1;
}

wn_audit_mstate *wn_audit_i_meter(wn_audit_mtable *t, const uint8_t id[32], int create)
{
    if (t->cap) {
        size_t k = slot_of(id, t->cap);
        for (; t->slots[k]; k = (k + 1) & (t->cap - 1))
            if (memcmp(t->slots[k]->id, id, 32) == 0) return t->slots[k];
    }
    if (!create) return NULL;
    if ((t->n + 1) * 4 > t->cap * 3 && !meters_grow(t)) return NULL;
    wn_audit_mstate *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    memcpy(m->id, id, 32);
    size_t k = slot_of(id, t->cap);
    while (t->slots[k]) k = (k + 1) & (t->cap - 1);
    t->slots[k] = m;
    t->n++;
    return m;
}

void wn_audit_i_meters_free(wn_audit_mtable *t)
{
    for (size_t i = 0; i < t->cap; i++) free(t->slots[i]);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- digests --------------------------------------------------------------------- */

int wn_audit_i_digest_add(wn_audit_digests *s, const uint8_t d[32])
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint8_t (*n)[33] = calloc(cap, sizeof *n);
        if (!n) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i][0]) continue;
            size_t k = slot_of(s->slots[i] + 1, cap);
            while (n[k][0]) k = (k + 1) & (cap - 1);
            memcpy(n[k], s->slots[i], 33);
        }
        free(s->slots);
        s->slots = n;
        s->cap = cap;
    }
    size_t k = slot_of(d, s->cap);
    for (; s->slots[k][0]; k = (k + 1) & (s->cap - 1))
        if (memcmp(s->slots[k] + 1, d, 32) == 0) return 0;
    s->slots[k][0] = 1;
    memcpy(s->slots[k] + 1, d, 32);
    s->n++;
    return 1;
}

/* ---- problems -------------------------------------------------------------------- */

int wn_audit_i_store_init(wn_audit_store *s, size_t keep)
{
    memset(s, 0, sizeof *s);
    s->keep = keep;
    s->cap = 2 * keep;
    s->items = malloc(s->cap * sizeof *s->items);
    s->ords = malloc(s->cap * sizeof *s->ords);
    if (!s->items || !s->ords) {
        free(s->items);
        free(s->ords);
        return 0;
    }
    pthread_mutex_init(&s->mu, NULL);
    return 1;
}

void wn_audit_i_store_free(wn_audit_store *s)
{
    if (!s->items) return;
    pthread_mutex_destroy(&s->mu);
    free(s->items);
    free(s->ords);
    s->items = NULL;
}

/* Report order: position, then check, then sub, then words (so equal keys still sort the
 * same way every time). */
static int before(const wn_audit_store *s, size_t i, size_t j)
{
    const wn_audit_problem *a = &s->items[i], *b = &s->items[j];
    if (s->ords[i] != s->ords[j]) return s->ords[i] < s->ords[j];
    if (a->code != b->code) return a->code < b->code;
    if (a->sub != b->sub) return a->sub < b->sub;
    return strcmp(a->detail, b->detail) < 0;
}

static void swap(wn_audit_store *s, size_t i, size_t j)
{
    wn_audit_problem p = s->items[i];
    uint64_t o = s->ords[i];
    s->items[i] = s->items[j];
    s->ords[i] = s->ords[j];
    s->items[j] = p;
    s->ords[j] = o;
}

/* Heap sort (no allocation, no comparator context needed). */
static void sift(wn_audit_store *s, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && before(s, c, c + 1)) c++;
        if (!before(s, root, c)) return;
        swap(s, root, c);
        root = c;
    }
}

static void sort_items(wn_audit_store *s)
{
    size_t n = s->n;
    for (size_t i = n / 2; i-- > 0;) sift(s, i, n);
    for (size_t end = n; end > 1; end--) {
        swap(s, 0, end - 1);
        sift(s, 0, end - 1);
    }
}

static void settle_locked(wn_audit_store *s)
{
    sort_items(s);
    if (s->n > s->keep) {
        s->n = s->keep;
        s->truncated = 1;
    }
}

void wn_audit_i_store_add(wn_audit_store *s, const wn_audit_problem *p)
{
    pthread_mutex_lock(&s->mu);
    s->total++;
    if (p->code >= 0 && p->code < WN_AC_COUNT) s->by_code[p->code]++;
    if (s->n == s->cap) settle_locked(s); /* keeps the earliest half */
    s->items[s->n] = *p;
    s->ords[s->n] = wn_audit_i_ord(p->where, p->at);
    s->n++;
    pthread_mutex_unlock(&s->mu);
}

void wn_audit_i_store_settle(wn_audit_store *s)
{
    pthread_mutex_lock(&s->mu);
    settle_locked(s);
    pthread_mutex_unlock(&s->mu);
}

/* ---- signature workers ----------------------------------------------------------- */

static const char *const what_name[] = {"reading",     "enrolment", "revocation", "conflicting reading",
                                        "certificate", "transfer",  "retirement", "enterprise record", "accreditation record",
                                        "calibration record"};

static void verify_batch(wn_audit_store *store, const wn_audit_batch *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        const wn_audit_sigjob *j = &b->jobs[i];
        if (wn_verifier_verify(&j->key, j->sig, j->digest)) continue;
        wn_audit_problem p = {WN_AUDIT_AT_ENTRY, j->index, j->code, 0, ""};
        char m[17];
        wn_audit_i_hex16(m, j->meter);
        if (j->what == 0 || j->what == 3)
            snprintf(p.detail, sizeof p.detail, "the %s's signature (meter %s, sequence %llu) does not verify with the enrolled %s key",
                     what_name[j->what], m, (unsigned long long)j->seq, j->key.alg == 2 ? "ECDSA" : j->key.alg == 3 ? "P-256" : j->key.alg == 4 ? "SM2" : "BIP-340");
        else if (j->what == 7 || j->what == 8)
            snprintf(p.detail, sizeof p.detail, "the %s (first key %s...): the registrar's signature does not verify",
                     what_name[j->what], m);
        else if (j->what <= 2 || j->what == 9)
            snprintf(p.detail, sizeof p.detail, "the %s of meter %s: the registrar's signature does not verify",
                     what_name[j->what], m);
        else
            snprintf(p.detail, sizeof p.detail, "the %s's signature by %s %s... does not verify", what_name[j->what],
                     j->what == 4 ? "authority" : "holder", m);
        wn_audit_i_store_add(store, &p);
    }
}

/* Takes the oldest queued batch (lock held). Returns its number, or -1. */
static int take_queued(wn_audit_pool *p)
{
    if (!p->qlen) return -1;
    int b = p->queue[p->qhead];
    p->qhead = (p->qhead + 1) % WN_AUDIT_NBATCH;
    p->qlen--;
    p->busy++;
    return b;
}

static void release(wn_audit_pool *p, int b)
{
    p->batches[b].n = 0;
    p->free_stack[p->nfree++] = b;
    p->busy--;
    pthread_cond_broadcast(&p->freed);
}

static void *worker(void *arg)
{
    wn_audit_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->qlen && !p->stop) pthread_cond_wait(&p->work, &p->mu);
        if (!p->qlen && p->stop) break;
        int b = take_queued(p);
        pthread_mutex_unlock(&p->mu);
        verify_batch(p->store, &p->batches[b]);
        pthread_mutex_lock(&p->mu);
        release(p, b);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int wn_audit_i_pool_start(wn_audit_pool *p, unsigned nthreads, wn_audit_store *store)
{
    memset(p, 0, sizeof *p);
    p->store = store;
    p->cur = -1;
    p->batches = calloc(WN_AUDIT_NBATCH, sizeof *p->batches);
    p->threads = calloc(nthreads ? nthreads : 1, sizeof *p->threads);
    if (!p->batches || !p->threads) {
        free(p->batches);
        free(p->threads);
        return 0;
    }
    for (int i = 0; i < WN_AUDIT_NBATCH; i++) p->free_stack[p->nfree++] = WN_AUDIT_NBATCH - 1 - i;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->freed, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) break;
        p->nthreads++;
    }
    return 1; /* with no thread at all the main thread verifies everything itself */
}

/* Queues the current batch (lock held). */
static void queue_current(wn_audit_pool *p)
{
    if (p->cur < 0) return;
    if (p->batches[p->cur].n == 0) {
        p->free_stack[p->nfree++] = p->cur;
    } else {
        p->queue[(p->qhead + p->qlen) % WN_AUDIT_NBATCH] = p->cur;
        p->qlen++;
        pthread_cond_signal(&p->work);
    }
    p->cur = -1;
}

/* Gets a free batch as the current one (lock held), verifying queued batches on this
 * thread while none is free. */
static void get_current(wn_audit_pool *p)
{
    while (!p->nfree) {
        int b = take_queued(p);
        if (b < 0) {
            pthread_cond_wait(&p->freed, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        verify_batch(p->store, &p->batches[b]);
        pthread_mutex_lock(&p->mu);
        release(p, b);
    }
    p->cur = p->free_stack[--p->nfree];
}

wn_audit_sigjob *wn_audit_i_pool_job(wn_audit_pool *p)
{
    if (p->cur >= 0 && p->batches[p->cur].n < WN_AUDIT_BATCH)
        return &p->batches[p->cur].jobs[p->batches[p->cur].n++];
    pthread_mutex_lock(&p->mu);
    queue_current(p);
    get_current(p);
    pthread_mutex_unlock(&p->mu);
    return &p->batches[p->cur].jobs[p->batches[p->cur].n++];
}

void wn_audit_i_pool_drain(wn_audit_pool *p)
{
    pthread_mutex_lock(&p->mu);
    queue_current(p);
    while (p->qlen || p->busy) {
        int b = take_queued(p);
        if (b < 0) {
            pthread_cond_wait(&p->freed, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        verify_batch(p->store, &p->batches[b]);
        pthread_mutex_lock(&p->mu);
        release(p, b);
    }
    pthread_mutex_unlock(&p->mu);
}

void wn_audit_i_pool_stop(wn_audit_pool *p)
{
    if (!p->batches) return;
    wn_audit_i_pool_drain(p);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->freed);
    free(p->threads);
    free(p->batches);
    p->batches = NULL;
}
