/* proc.c — spawn, wait for and kill child processes; start wn-node on a chosen port
 * (see proc.h). */
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void wn_proc_sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

pid_t wn_proc_spawn(const char *const *argv, const char *out)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the test died before prctl */
    int fd = out ? open(out, O_WRONLY | O_CREAT | O_APPEND, 0600) : open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2) close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int wn_proc_running(pid_t pid, int *status)
{
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0) return 1;
    if (r == pid && status) *status = st;
    return 0;
}

int wn_proc_wait(pid_t pid, unsigned timeout_ms, int *status)
{
    for (unsigned waited = 0;; waited += 5) {
        if (!wn_proc_running(pid, status)) return 1;
        if (waited >= timeout_ms) return 0;
        wn_proc_sleep_ms(5);
    }
}

int wn_proc_kill(pid_t pid, int sig)
{
    int status = 0;
    if (pid <= 0 || kill(pid, sig) != 0) return -1;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return status;
}

/* One attempt. Returns: 1 listening, 0 exited, -1 never wrote its port (killed). */
static int node_try(wn_test_node *n, const char *bin, const char *listen, const char *const *args)
{
    const char *argv[64];
    int a = 0;
    argv[a++] = bin;
    argv[a++] = "--data";
    argv[a++] = n->data;
    argv[a++] = "--listen";
    argv[a++] = listen;
    argv[a++] = "--port-file";
    argv[a++] = n->portfile;
    for (int i = 0; args && args[i] && a < 63; i++) argv[a++] = args[i];
    argv[a] = NULL;
    unlink(n->portfile);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) {
        if (!wn_proc_running(pid, NULL)) return 0;
        FILE *f = fopen(n->portfile, "r");
        if (f) {
            unsigned p = 0;
            int ok = fscanf(f, "%u", &p) == 1;
            fclose(f);
            if (ok && p) {
                n->pid = pid;
                n->port = p;
                snprintf(n->url, sizeof n->url, "http://127.0.0.1:%u", p);
                return 1;
            }
        }
        wn_proc_sleep_ms(10);
    }
    wn_proc_kill(pid, SIGKILL);
    return -1;
}

int wn_proc_node_start(wn_test_node *n, unsigned port, const char *const *args)
{
    char listen[32];
    char *bin = wn_test_bin("wn-node");
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    n->pid = 0;
    int r = 0;
    /* A port just released by a killed node may be refused for a moment: try again. */
    for (int attempt = 0; attempt < (port ? 50 : 1); attempt++) {
        r = node_try(n, bin, listen, args);
        if (r != 0) break;
        wn_proc_sleep_ms(100);
    }
    free(bin);
    return r == 1;
}

wn_run_result wn_proc_run(const char *dir, const char *prog, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    char *bin = wn_test_bin(prog);
    argv[n++] = bin;
    for (int i = 0; args && args[i] && n < 63; i++) argv[n++] = args[i];
    argv[n] = NULL;
    char out[4400], err[4400];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    wn_run_result r = {-1, NULL, NULL, 0};
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0) _exit(127);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int status;
    if (pid > 0 && waitpid(pid, &status, 0) == pid) {
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
        r.out = wn_test_read_file(out, &r.outlen);
        r.err = wn_test_read_file(err, NULL);
    }
    free(bin);
    if (!r.out) r.out = calloc(1, 1);
    if (!r.err) r.err = calloc(1, 1);
    return r;
}

wn_run_result wn_proc_runl(const char *dir, const char *prog, ...)
{
    const char *args[63];
    int n = 0;
    va_list ap;
    va_start(ap, prog);
    for (const char *a = va_arg(ap, const char *); a && n < 62; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return wn_proc_run(dir, prog, args);
}

void wn_run_result_free(wn_run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
