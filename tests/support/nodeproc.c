/* nodeproc.c — start and stop a real wn-node for tests (see nodeproc.h). */
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void wn_test_node_init(wn_test_node *n, const char *dir)
{
    memset(n, 0, sizeof *n);
    snprintf(n->data, sizeof n->data, "%s/data", dir);
    snprintf(n->portfile, sizeof n->portfile, "%s/port", dir);
    snprintf(n->log, sizeof n->log, "%s/node.log", dir);
}

int wn_test_node_start(wn_test_node *n, const char *const *args)
{
    const char *argv[64];
    int a = 0;
    char *bin = wn_test_bin("wn-node");
    argv[a++] = bin;
    argv[a++] = "--data";
    argv[a++] = n->data;
    argv[a++] = "--listen";
    argv[a++] = "127.0.0.1:0";
    argv[a++] = "--port-file";
    argv[a++] = n->portfile;
    for (int i = 0; args && args[i] && a < 63; i++) argv[a++] = args[i];
    argv[a] = NULL;
    unlink(n->portfile);
    pid_t pid = fork();
    if (pid < 0) {
        free(bin);
        return 0;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        if (n->nofile) {
            struct rlimit rl = {n->nofile, n->nofile};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(126);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    free(bin);
    n->pid = pid;
    struct timespec tick = {0, 10 * 1000000L};
    for (int i = 0; i < 3000; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            n->pid = 0;
            return 0;
        }
        FILE *f = fopen(n->portfile, "r");
        if (f) {
            unsigned p = 0;
            int ok = fscanf(f, "%u", &p) == 1;
            fclose(f);
            if (ok && p) {
                n->port = p;
                snprintf(n->url, sizeof n->url, "http://127.0.0.1:%u", p);
                return 1;
            }
        }
        nanosleep(&tick, NULL);
    }
    wn_test_node_stop(n, SIGKILL);
    return 0;
}

int wn_test_node_stop(wn_test_node *n, int sig)
{
    if (n->pid <= 0) return -1;
    int status = 0;
    kill(n->pid, sig);
    waitpid(n->pid, &status, 0);
    n->pid = 0;
    return status;
}
