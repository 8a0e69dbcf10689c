/* proc.h — child processes for tests that run the real programs: spawn one with its
 * output in a file (killed with the test, PR_SET_PDEATHSIG, if the test dies first), wait
 * for it with a time limit, kill it by pid, and start bin/wn-node on a chosen port of
 * 127.0.0.1 (0 = any free one) so that a node killed with SIGKILL can be restarted on the
 * same data directory and the same port. Nothing here asserts: functions return 0 on
 * failure and the test decides. */
#ifndef WN_TEST_PROC_H
#define WN_TEST_PROC_H

#include <sys/types.h>

#include "tests/support/nodeproc.h"

/* Starts argv[0] (a path) with argv (NULL-terminated). stdout and stderr are appended to
 * out (both to the same file), or go to /dev/null when out is NULL.
 * Returns: the pid, or -1 if fork failed. */
pid_t wn_proc_spawn(const char *const *argv, const char *out);

/* Waits up to timeout_ms for pid to end. Out: *status (may be NULL), its wait status.
 * Returns: 1 if it ended (and was reaped); 0 if it still runs. */
int wn_proc_wait(pid_t pid, unsigned timeout_ms, int *status);

/* Returns: 1 if pid (a child of ours) has not ended yet. Reaps it if it has; then
 * *status (may be NULL) gets its wait status. */
int wn_proc_running(pid_t pid, int *status);

/* Sends sig to pid and reaps it. Returns: its wait status, or -1 if it was not ours. */
int wn_proc_kill(pid_t pid, int sig);

/* Starts $WN_BIN/wn-node --data n->data --listen 127.0.0.1:PORT --port-file n->portfile
 * args... (args NULL-terminated, may be NULL), stderr appended to n->log, and waits up to
 * 30 s for it to listen. port 0 lets the kernel choose; a non-zero port is retried for a
 * few seconds if it is still taken. n must have been set up with wn_test_node_init; stop
 * it with wn_test_node_stop. Returns: 1 when it listens (n->pid, n->port, n->url set);
 * 0 if it exited or never listened (see n->log). */
int wn_proc_node_start(wn_test_node *n, unsigned port, const char *const *args);

/* How a program run to completion ended, and what it printed (never NULL: "" if nothing). */
typedef struct {
    int code;      /* exit status; -N if killed by signal N; -1 if it could not start */
    char *out, *err;
    size_t outlen; /* bytes in out */
} wn_run_result;

/* Runs $WN_BIN/prog with args (NULL-terminated, at most 62) and waits for it; stdin is
 * /dev/null, stdout and stderr go through files "out" and "err" in dir (a scratch
 * directory of the test). An exec failure is exit code 127. */
wn_run_result wn_proc_run(const char *dir, const char *prog, const char *const *args);
/* The same with the arguments as a NULL-terminated list. */
wn_run_result wn_proc_runl(const char *dir, const char *prog, ...);
void wn_run_result_free(wn_run_result *r);

/* Sleeps ms milliseconds. */
void wn_proc_sleep_ms(unsigned ms);

#endif
