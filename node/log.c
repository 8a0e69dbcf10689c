/* log.c — one line per event on stderr, and the clocks the node reads.
 *
 * The log is rate-limited so that no loop (an accept error at the fd limit, a flood of
 * bad requests) can fill a disk: every message kind — the call site's format string —
 * has a budget of LOG_KIND_BURST lines, refilled at LOG_KIND_RATE lines per second, and
 * all kinds together LOG_ALL_BURST lines refilled at LOG_ALL_RATE per second. What is
 * over budget is counted, not written; the next line of that kind says how many of its
 * kind were dropped, and wn_log_flush (called every second by the node) writes one
 * summary line of everything dropped since the last. */
#include "node/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_KIND_BURST 20  /* lines of one kind at once */
#define LOG_KIND_RATE 5    /* lines of one kind per second, sustained */
#define LOG_ALL_BURST 200  /* lines of all kinds at once */
#define LOG_ALL_RATE 50    /* lines of all kinds per second, sustained */
#define LOG_KINDS 256      /* kinds tracked apart; more share one budget */

typedef struct {
    const void *key;    /* the format string; NULL: free slot */
    uint64_t milli;     /* budget in thousandths of a line */
    uint64_t last_ms;   /* when it was last refilled */
    uint64_t dropped;   /* lines dropped since the last one written */
} log_kind;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static log_kind kinds[LOG_KINDS + 1]; /* the last one is shared by kinds that found no slot */
static log_kind all;
static uint64_t dropped_total; /* since the last wn_log_flush summary */

uint64_t wn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t wn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void refill(log_kind *k, uint64_t now, uint64_t rate, uint64_t burst)
{
    if (!k->last_ms) {
        k->milli = burst * 1000;
        k->last_ms = now;
        return;
    }
    uint64_t add = (now - k->last_ms) * rate; /* ms * lines/s = thousandths of a line */
    k->milli = k->milli + add > burst * 1000 ? burst * 1000 : k->milli + add;
    k->last_ms = now;
}

static log_kind *kind_of(const void *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0, j = (size_t)(h >> 40) % LOG_KINDS; i < 16; i++, j = (j + 1) % LOG_KINDS) {
        if (kinds[j].key == key) return &kinds[j];
        if (!kinds[j].key) {
            kinds[j].key = key;
            return &kinds[j];
        }
    }
    return &kinds[LOG_KINDS];
}

static void write_line(const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];
    uint64_t ms = wn_now_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ wn-node: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
    if (n < 0) return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    if (suffix[0]) {
        int k = snprintf(line + len, sizeof line - len - 1, "%s", suffix);
        len += k < 0 ? 0 : (size_t)k;
        if (len > sizeof line - 2) len = sizeof line - 2;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void wn_logv_kind(const void *kind, const char *fmt, va_list ap)
{
    uint64_t now = wn_mono_ms();
    pthread_mutex_lock(&log_mu);
    log_kind *k = kind_of(kind);
    refill(k, now, LOG_KIND_RATE, LOG_KIND_BURST);
    refill(&all, now, LOG_ALL_RATE, LOG_ALL_BURST);
    if (k->milli < 1000 || all.milli < 1000) {
        k->dropped++;
        dropped_total++;
        pthread_mutex_unlock(&log_mu);
        return;
    }
    k->milli -= 1000;
    all.milli -= 1000;
    char suffix[96] = "";
    if (k->dropped) {
        snprintf(suffix, sizeof suffix, " (%llu more like this suppressed by the log's rate limit)",
                 (unsigned long long)k->dropped);
        dropped_total -= k->dropped < dropped_total ? k->dropped : dropped_total;
        k->dropped = 0;
    }
    write_line(suffix, fmt, ap); /* under the lock: lines never interleave */
    pthread_mutex_unlock(&log_mu);
}

void wn_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wn_logv_kind(fmt, fmt, ap);
    va_end(ap);
}

static void summary(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line("", fmt, ap);
    va_end(ap);
}

void wn_log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    if (dropped_total) {
        summary("log: %llu messages suppressed by the rate limit (%d lines/s per kind, %d lines/s in all)",
                (unsigned long long)dropped_total, LOG_KIND_RATE, LOG_ALL_RATE);
        for (size_t i = 0; i <= LOG_KINDS; i++) kinds[i].dropped = 0;
        dropped_total = 0;
    }
    pthread_mutex_unlock(&log_mu);
}
