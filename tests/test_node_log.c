/* test_node_log.c — the node's log cannot be flooded: a loop writing a million lines of
 * one kind, and one writing lines of thousands of kinds, leave a few kilobytes on stderr,
 * say how many lines were dropped, and let a new kind of message through afterwards. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"
#include "tests/support/testutil.h"

static char *tmp, path[4200];
static int saved = -1;

/* stderr goes to a file while the test runs */
static void setup(void)
{
    tmp = wn_test_tmpdir("log");
    snprintf(path, sizeof path, "%s/stderr", tmp);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

static void teardown(void)
{
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    wn_test_rmtree(tmp);
    free(tmp);
}

static long size_of(void)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

Test(node_log, one_kind_in_a_loop_is_bounded, .init = setup, .fini = teardown, .timeout = 60)
{
    for (int i = 0; i < 1000000; i++) wn_log("http: Error accepting connection: Too many open files (%d)", i);
    wn_log_flush();
    long n = size_of();
    cr_expect_gt(n, 0, "nothing was logged");
    cr_expect_lt(n, 16 * 1024, "a million lines of one kind left %ld bytes", n);
    wn_log("a different kind of message after the flood");
    char *text = wn_test_read_file(path, NULL);
    cr_assert(text);
    cr_expect(strstr(text, "messages suppressed by the rate limit"), "no summary of the dropped lines");
    cr_expect(strstr(text, "a different kind of message after the flood"), "another kind was starved");
    free(text);
}

static void log_as(const void *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_as(const void *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wn_logv_kind(kind, fmt, ap);
    va_end(ap);
}

Test(node_log, many_kinds_are_bounded_in_all, .init = setup, .fini = teardown, .timeout = 60)
{
    /* 4,000 kinds (as many call sites), 50 lines each, as fast as possible */
    static char kinds[4000];
    for (int round = 0; round < 50; round++)
        for (int k = 0; k < 4000; k++) log_as(&kinds[k], "kind %d line %d", k, round);
    wn_log_flush();
    long n = size_of();
    cr_expect_gt(n, 0, "nothing was logged");
    cr_expect_lt(n, 64 * 1024, "200,000 lines of 4,000 kinds left %ld bytes", n);
}
