/* test_ingest_helpers.c — node/ingest/helpers.h: both shares of every call run exactly once
 * and are done when the call returns, with helpers idle, all busy (the caller takes its
 * share back) and many callers at once; the caller's share runs on the caller's thread. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "node/ingest/helpers.h"

typedef struct {
    atomic_int runs;
    pthread_t ran_on;
    unsigned spin_us;
} share;

static void busy_us(unsigned us)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < (long)us);
}

static void work(void *arg)
{
    share *s = arg;
    busy_us(s->spin_us);
    s->ran_on = pthread_self();
    atomic_fetch_add(&s->runs, 1);
}

Test(ingest_helpers, both_shares_run_once_and_the_callers_share_here)
{
    for (int i = 0; i < 200; i++) {
        share a = {0}, b = {0};
        a.spin_us = (unsigned)(i % 5) * 50;
        b.spin_us = (unsigned)(i % 3) * 50;
        wn_helpers_run2(work, &a, &b);
        cr_assert_eq(atomic_load(&a.runs), 1);
        cr_assert_eq(atomic_load(&b.runs), 1, "the other share is done when the call returns");
        cr_assert(pthread_equal(a.ran_on, pthread_self()));
    }
}

#define CALLERS 12
#define CALLS 150

static void *caller(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < CALLS; i++) {
        share a = {0}, b = {0};
        a.spin_us = 20;
        b.spin_us = 200; /* helpers stay busy: shares are taken back by their callers */
        wn_helpers_run2(work, &a, &b);
        if (atomic_load(&a.runs) != 1 || atomic_load(&b.runs) != 1) (*bad)++;
    }
    return NULL;
}

Test(ingest_helpers, many_callers_with_every_helper_busy, .timeout = 60)
{
    pthread_t t[CALLERS];
    int bad[CALLERS] = {0};
    for (int i = 0; i < CALLERS; i++) cr_assert_eq(pthread_create(&t[i], NULL, caller, &bad[i]), 0);
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(bad[i], 0, "caller %d: a share ran other than once, or after the call returned", i);
    }
}
