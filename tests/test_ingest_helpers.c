/* test_ingest_helpers.c — node/ingest/helpers.h: every item of every call runs exactly once
 * and is done when the call returns, in pieces of at most the chunk, with helpers idle, all
 * busy (the caller does it all) and many callers at once; a helper that is slowed does not
 * make the caller wait for half of the work: the caller does the rest itself. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/ingest/helpers.h"

#define MAXN 256

typedef struct {
    atomic_int runs[MAXN];
    atomic_int by_caller;     /* items run on the calling thread */
    atomic_int bad_piece;     /* a piece empty, longer than the chunk or past n */
    pthread_t caller;
    size_t n, chunk;
    unsigned spin_us;         /* per item */
    unsigned helper_extra_us; /* per item, on a helper only: a slowed helper */
} items;

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static void busy_us(unsigned us)
{
    uint64_t t0 = now_us();
    while (now_us() - t0 < us) {
    }
}

static void work(void *arg, size_t from, size_t to)
{
    items *s = arg;
    if (from >= to || to - from > s->chunk || to > s->n) atomic_fetch_add(&s->bad_piece, 1);
    int mine = pthread_equal(pthread_self(), s->caller);
    for (size_t i = from; i < to && i < MAXN; i++) {
        busy_us(s->spin_us + (mine ? 0 : s->helper_extra_us));
        atomic_fetch_add(&s->runs[i], 1);
        if (mine) atomic_fetch_add(&s->by_caller, 1);
    }
}

static void check_once(items *s)
{
    cr_assert_eq(atomic_load(&s->bad_piece), 0, "a piece was empty, longer than %zu or past %zu", s->chunk, s->n);
    for (size_t i = 0; i < s->n; i++)
        cr_assert_eq(atomic_load(&s->runs[i]), 1, "item %zu of %zu ran %d times by the time the call returned", i,
                     s->n, atomic_load(&s->runs[i]));
}

Test(ingest_helpers, every_item_once_in_pieces_of_at_most_the_chunk)
{
    for (int i = 0; i < 200; i++) {
        static items s;
        memset(&s, 0, sizeof s);
        s.caller = pthread_self();
        s.n = (size_t)(i % 7 == 0 ? 1 : 64 + i % 100);
        s.chunk = (size_t)(1 + i % 5);
        s.spin_us = (unsigned)(i % 3) * 20;
        wn_helpers_for(work, &s, s.n, s.chunk);
        check_once(&s);
    }
}

Test(ingest_helpers, nothing_to_do_calls_nothing)
{
    static items s;
    memset(&s, 0, sizeof s);
    s.caller = pthread_self();
    s.chunk = 4;
    wn_helpers_for(work, &s, 0, 4);
    cr_assert_eq(atomic_load(&s.bad_piece), 0, "no piece for n = 0");
}

/* A helper slowed 100-fold (as when the two cores are shared with other threads): the
 * caller does the rest instead of waiting for a fixed half on the helper (fixed halves
 * give the caller exactly 100 of the 200 items, and a call of at least 101 ms). */
Test(ingest_helpers, a_slowed_helper_does_not_hold_the_caller)
{
    static items s;
    memset(&s, 0, sizeof s);
    s.caller = pthread_self();
    s.n = 200;
    s.chunk = 4;
    s.spin_us = 10;
    s.helper_extra_us = 1000;
    wn_helpers_for(work, &s, s.n, s.chunk);
    check_once(&s);
    cr_assert_gt(atomic_load(&s.by_caller), 120, "the caller did %d of 200 items: pieces did not go to the faster thread",
                 atomic_load(&s.by_caller));
}

#define CALLERS 12
#define CALLS 150

static void *caller(void *arg)
{
    int *bad = arg;
    items *s = calloc(1, sizeof *s);
    for (int i = 0; i < CALLS && s; i++) {
        memset(s, 0, sizeof *s);
        s->caller = pthread_self();
        s->n = 64 + (size_t)(i % 50);
        s->chunk = 4;
        s->spin_us = 5;
        s->helper_extra_us = 20;
        wn_helpers_for(work, s, s->n, s->chunk);
        for (size_t k = 0; k < s->n; k++)
            if (atomic_load(&s->runs[k]) != 1) (*bad)++;
        if (atomic_load(&s->bad_piece)) (*bad)++;
    }
    if (!s) (*bad)++;
    free(s);
    return NULL;
}

Test(ingest_helpers, many_callers_with_every_helper_busy, .timeout = 60)
{
    pthread_t t[CALLERS];
    int bad[CALLERS] = {0};
    for (int i = 0; i < CALLERS; i++) cr_assert_eq(pthread_create(&t[i], NULL, caller, &bad[i]), 0);
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(bad[i], 0, "caller %d: an item ran other than once, or after the call returned", i);
    }
}
