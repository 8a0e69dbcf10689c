/* helpers.c — the helper threads of helpers.h: a queue of jobs under one mutex; both the
 * submitter and the helper that takes a job claim its pieces from one atomic counter, and a
 * job no helper has started when the submitter has claimed the last piece is taken back. */
#include "node/ingest/helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

enum { QUEUED, RUNNING, DONE };

typedef struct job {
    void (*fn)(void *, size_t, size_t);
    void *ctx;
    size_t n, chunk;
    atomic_size_t next; /* the first item not yet claimed */
    int state;          /* g_mu */
    struct job *next_job;
} job;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_work = PTHREAD_COND_INITIALIZER, g_done = PTHREAD_COND_INITIALIZER;
static job *g_head, *g_tail;
static unsigned g_helpers;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Claims and runs pieces of j until none is left. */
static void run_pieces(job *j)
{
    for (;;) {
        size_t from = atomic_fetch_add(&j->next, j->chunk);
        if (from >= j->n) return;
        j->fn(j->ctx, from, j->n - from < j->chunk ? j->n : from + j->chunk);
    }
}

static void *helper_main(void *unused)
{
    pthread_setname_np(pthread_self(), "wn-verify"); /* for top -H and bench_node */
    (void)unused;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head) pthread_cond_wait(&g_work, &g_mu);
        job *j = g_head;
        g_head = j->next_job;
        if (!g_head) g_tail = NULL;
        j->state = RUNNING;
        pthread_mutex_unlock(&g_mu);
        run_pieces(j);
        pthread_mutex_lock(&g_mu);
        j->state = DONE;
        pthread_cond_broadcast(&g_done);
    }
    return NULL;
}

static void start(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cpus > 0 ? (unsigned)cpus : 1;
    if (want > 16) want = 16;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    for (unsigned i = 0; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, helper_main, NULL) == 0) g_helpers++;
    }
    pthread_attr_destroy(&a);
}

void wn_helpers_for(void (*fn)(void *ctx, size_t from, size_t to), void *ctx, size_t n, size_t chunk)
{
    pthread_once(&g_once, start);
    if (!chunk) chunk = 1;
    if (!g_helpers || n <= chunk) {
        if (n) fn(ctx, 0, n);
        return;
    }
    job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk, .state = QUEUED};
    atomic_init(&j.next, 0);
    pthread_mutex_lock(&g_mu);
    if (g_tail) g_tail->next_job = &j;
    else g_head = &j;
    g_tail = &j;
    pthread_cond_signal(&g_work);
    pthread_mutex_unlock(&g_mu);

    run_pieces(&j);

    pthread_mutex_lock(&g_mu);
    if (j.state == QUEUED) { /* every helper busy: the caller did it all; take the job back */
        job **p = &g_head, *prev = NULL;
        while (*p != &j) {
            prev = *p;
            p = &(*p)->next_job;
        }
        *p = j.next_job;
        if (g_tail == &j) g_tail = prev;
    } else {
        while (j.state != DONE) pthread_cond_wait(&g_done, &g_mu); /* at most its last piece */
    }
    pthread_mutex_unlock(&g_mu);
}
