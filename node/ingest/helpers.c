/* helpers.c — the helper threads of helpers.h: a queue of jobs under one mutex; a job not
 * yet started when its submitter is done with its own share is taken back by it. */
#include "node/ingest/helpers.h"

#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

enum { QUEUED, RUNNING, DONE };

typedef struct job {
    void (*fn)(void *);
    void *arg;
    int state;
    struct job *next;
} job;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_work = PTHREAD_COND_INITIALIZER, g_done = PTHREAD_COND_INITIALIZER;
static job *g_head, *g_tail;
static unsigned g_helpers;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *helper_main(void *unused)
{
    pthread_setname_np(pthread_self(), "wn-verify"); /* for top -H and bench_node */
    (void)unused;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head) pthread_cond_wait(&g_work, &g_mu);
        job *j = g_head;
        g_head = j->next;
        if (!g_head) g_tail = NULL;
        j->state = RUNNING;
        pthread_mutex_unlock(&g_mu);
        j->fn(j->arg);
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

void wn_helpers_run2(void (*fn)(void *), void *mine, void *other)
{
    pthread_once(&g_once, start);
    if (!g_helpers) {
        fn(mine);
        fn(other);
        return;
    }
    job j = {fn, other, QUEUED, NULL};
    pthread_mutex_lock(&g_mu);
    if (g_tail) g_tail->next = &j;
    else g_head = &j;
    g_tail = &j;
    pthread_cond_signal(&g_work);
    pthread_mutex_unlock(&g_mu);

    fn(mine);

    pthread_mutex_lock(&g_mu);
    if (j.state == QUEUED) { /* every helper busy: take it back */
        job **p = &g_head, *prev = NULL;
        while (*p != &j) {
            prev = *p;
            p = &(*p)->next;
        }
        *p = j.next;
        if (g_tail == &j) g_tail = prev;
        pthread_mutex_unlock(&g_mu);
        fn(other);
        return;
    }
    while (j.state != DONE) pthread_cond_wait(&g_done, &g_mu);
    pthread_mutex_unlock(&g_mu);
}
