/* nodeproc.h — a real bin/wn-node child process for tests: started on 127.0.0.1 with an
 * ephemeral port (--listen 127.0.0.1:0 --port-file), its stderr appended to a log file,
 * killed with the test (PR_SET_PDEATHSIG) if the test dies first. */
#ifndef WN_TEST_NODEPROC_H
#define WN_TEST_NODEPROC_H

#include <sys/types.h>

typedef struct {
    pid_t pid;            /* 0 when not running */
    unsigned port;
    char data[4200];      /* --data */
    char portfile[4200];
    char log[4200];       /* the node's stderr */
    char url[64];         /* http://127.0.0.1:PORT */
    unsigned long nofile; /* if set before start: the child's RLIMIT_NOFILE (soft and hard) */
} wn_test_node;

/* Prepares paths under dir (data dir dir/data, port file, log). */
void wn_test_node_init(wn_test_node *n, const char *dir);

/* Starts $WN_BIN/wn-node --data ... --listen 127.0.0.1:0 --port-file ... args... (args is
 * NULL-terminated, may be NULL) and waits (up to 30 s) for the port file.
 * Returns: 1 when it listens; 0 if it exited or never wrote the port (see n->log). */
int wn_test_node_start(wn_test_node *n, const char *const *args);

/* Sends sig and waits for the process. Returns: its wait status, or -1 if not running. */
int wn_test_node_stop(wn_test_node *n, int sig);

#endif
