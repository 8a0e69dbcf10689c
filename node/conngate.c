/* conngate.c — the connection limits and deadlines of conngate.h: a list of open
 * connections under one mutex, and a thread that walks it a few times a second and shuts
 * down (shutdown(2), so libmicrohttpd sees the end and closes it itself) every connection
 * past its deadline. A connection leaves the list before libmicrohttpd closes its socket,
 * so the thread never touches a descriptor number that was reused. */
#include "node/conngate.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "node/log.h"
#include "node/metrics.h"

#define NOFILE_CEILING (1u << 20) /* the most descriptors asked for when the hard limit is unlimited */

struct wn_gate_conn {
    int fd;
    int busy;            /* a whole request is being answered */
    int over_soft;       /* opened above the soft limit */
    int cut;             /* shut down by the deadline */
    uint64_t since_ms;   /* opened, or its previous answer went */
    struct wn_gate_conn *prev, *next;
};

struct wn_gate {
    wn_gate_limits lim;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    int stopping;
    wn_gate_conn *head;
    unsigned open;
    uint64_t cut;
};

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 64; /* a guess: unknown */
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int wn_gate_size(wn_gate_limits *lim, unsigned reserve_fds)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rl.rlim_cur = rl.rlim_max = 1024;
    } else if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_CEILING ? NOFILE_CEILING : rl.rlim_max;
        if (want.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &want) == 0) rl.rlim_cur = want.rlim_cur;
        else if (want.rlim_cur > rl.rlim_cur)
            wn_log("connections: cannot raise the open-file limit from %llu to %llu: %s",
                   (unsigned long long)rl.rlim_cur, (unsigned long long)want.rlim_cur, strerror(errno));
    }
    uint64_t nofile = rl.rlim_cur == RLIM_INFINITY ? NOFILE_CEILING : (uint64_t)rl.rlim_cur;
    lim->nofile = nofile;
    uint64_t used = (uint64_t)open_fds() + reserve_fds;
    if (nofile <= used) {
        wn_log("connections: the open-file limit %llu leaves no descriptor for a connection (%llu are needed by "
               "the node itself); raise it (ulimit -n, LimitNOFILE= in the systemd unit)",
               (unsigned long long)nofile, (unsigned long long)used);
        return 0;
    }
    if (lim->max_connections > nofile - used) {
        wn_log("connections: --max-connections %u lowered to %llu to fit the open-file limit %llu; raise the limit "
               "(ulimit -n, LimitNOFILE=) to allow more",
               lim->max_connections, (unsigned long long)(nofile - used), (unsigned long long)nofile);
        lim->max_connections = (unsigned)(nofile - used);
    }
    lim->soft_limit = lim->max_connections - lim->max_connections / 8;
    if (lim->max_per_ip > lim->max_connections) lim->max_per_ip = lim->max_connections;
    return 1;
}

static void cut_expired(wn_gate *g, uint64_t now)
{
    unsigned n = 0;
    for (wn_gate_conn *c = g->head; c; c = c->next) {
        if (c->busy || c->cut || now - c->since_ms < g->lim.timeout_ms) continue;
        shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd reads the end and closes the connection */
        c->cut = 1;
        n++;
    }
    g->cut += n;
    if (n) wn_metrics_connections_cut(n);
    if (n)
        wn_log("connections: cut %u that sent no complete request within %u ms (%u open)", n, g->lim.timeout_ms,
               g->open);
}

static void *gate_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-gate"); /* for top -H and bench_node */
    wn_gate *g = arg;
    unsigned tick = g->lim.timeout_ms / 4;
    if (tick > 250) tick = 250;
    if (tick < 20) tick = 20;
    uint64_t last_flush = wn_mono_ms();
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)tick * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->wake, &g->mu, &until);
        if (g->stopping) break;
        uint64_t now = wn_mono_ms();
        cut_expired(g, now);
        if (now - last_flush >= 1000) {
            last_flush = now;
            pthread_mutex_unlock(&g->mu);
            wn_log_flush();
            pthread_mutex_lock(&g->mu);
        }
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int wn_gate_start(wn_gate **out, const wn_gate_limits *lim)
{
    wn_gate *g = calloc(1, sizeof *g);
    if (!g) return 0;
    g->lim = *lim;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->wake);
        free(g);
        return 0;
    }
    *out = g;
    return 1;
}

void wn_gate_stop(wn_gate *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none should be left; free what is */
        wn_gate_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->wake);
    free(g);
}

wn_gate_conn *wn_gate_open(wn_gate *g, int fd)
{
    wn_gate_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->since_ms = wn_mono_ms();
    pthread_mutex_lock(&g->mu);
    g->open++;
    wn_metrics_connections(1);
    c->over_soft = g->open > g->lim.soft_limit;
    c->next = g->head;
    if (g->head) g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->mu);
    return c;
}

void wn_gate_close(wn_gate *g, wn_gate_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&g->mu);
    if (c->prev) c->prev->next = c->next;
    else g->head = c->next;
    if (c->next) c->next->prev = c->prev;
    g->open--;
    wn_metrics_connections(-1);
    pthread_mutex_unlock(&g->mu);
    free(c);
}

int wn_gate_over_soft(const wn_gate_conn *c)
{
    return c && c->over_soft; /* set once, before any request */
}

void wn_gate_busy(wn_gate *g, wn_gate_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&g->mu);
    c->busy = 1;
    pthread_mutex_unlock(&g->mu);
}

void wn_gate_idle(wn_gate *g, wn_gate_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&g->mu);
    c->busy = 0;
    c->since_ms = wn_mono_ms();
    pthread_mutex_unlock(&g->mu);
}

unsigned wn_gate_open_count(wn_gate *g)
{
    pthread_mutex_lock(&g->mu);
    unsigned n = g->open;
    pthread_mutex_unlock(&g->mu);
    return n;
}

uint64_t wn_gate_cut_count(wn_gate *g)
{
    pthread_mutex_lock(&g->mu);
    uint64_t n = g->cut;
    pthread_mutex_unlock(&g->mu);
    return n;
}
