/* test_config_file.c — wn-node --config FILE (node/config_file.c): the file's "key = value"
 * lines become the same long options the command line takes, command-line flags override
 * them, and every operator mistake (an unknown key, a missing '=', a key twice, a flag
 * with a value it cannot take, an oversized line) is refused with the file and line. Also
 * the real program: a wn-node started from a configuration file serves what the file says,
 * and one whose file has a typo does not start and names the line. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/config_file.h"
#include "tests/support/feeder.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

enum { O_DATA = 1, O_LISTEN, O_FLAG, O_HELP, O_CONFIG, O_NEW };
static const struct option opts[] = {
    {"data", required_argument, 0, O_DATA}, {"listen", required_argument, 0, O_LISTEN},
    {"flag", no_argument, 0, O_FLAG},       {"help", no_argument, 0, O_HELP},
    {"config", required_argument, 0, O_CONFIG},
    {"some-new-option", required_argument, 0, O_NEW}, /* an option added later by someone else */
    {0, 0, 0, 0},
};

static char *g_dir;
static void setup(void) { g_dir = wn_test_tmpdir("config"); }
static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
}
TestSuite(config_file, .init = setup, .fini = teardown);

static char *write_conf(const char *name, const char *text)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Merges; returns 1 and the argv joined by '|' into out, or 0 and the error into out. */
static int merge(const char *conf_text, const char *const *cmdline, char *out, size_t cap)
{
    char *path = write_conf("wn-node.conf", conf_text);
    char *argv[16];
    int argc = 0;
    argv[argc++] = "wn-node";
    for (int i = 0; cmdline && cmdline[i]; i++) {
        if (strcmp(cmdline[i], "@CONF") == 0) argv[argc++] = path;
        else argv[argc++] = (char *)cmdline[i];
    }
    argv[argc] = NULL;
    int oc;
    char **ov;
    int ok = wn_config_merge_argv(argc, argv, opts, &oc, &ov, out, cap);
    if (ok) {
        out[0] = '\0';
        for (int i = 1; i < oc; i++) {
            strncat(out, ov[i], cap - strlen(out) - 2);
            if (i + 1 < oc) strcat(out, "|");
        }
        cr_assert_null(ov[oc], "argv is NULL-terminated");
        wn_config_free_argv(oc, ov);
    } else {
        cr_assert_null(ov);
    }
    free(path);
    return ok;
}

Test(config_file, file_options_come_first_so_the_command_line_overrides)
{
    char out[1024];
    const char *cmd[] = {"--listen", "127.0.0.1:9", "--config", "@CONF", "--flag", NULL};
    cr_assert(merge("# WaterNotary\n\n   # indented comment\ndata = /var/lib/wn\nlisten=0.0.0.0:8420\n"
                    "  some-new-option   =   a value # with a hash  \r\nflag = false\n",
                    cmd, out, sizeof out),
              "%s", out);
    cr_assert_str_eq(out, "--data=/var/lib/wn|--listen=0.0.0.0:8420|--some-new-option=a value # with a hash|"
                          "--listen|127.0.0.1:9|--flag");
    /* getopt_long sees the file's listen first and the command line's last: the last wins. */
}

Test(config_file, config_equals_form_and_flags)
{
    char out[1024];
    const char *cmd[] = {"--config=@CONF", NULL};
    /* "--config=@CONF" is not substituted by merge(): write the path by hand. */
    char *path = write_conf("b.conf", "flag = yes\ndata=/d\n");
    char arg[4300];
    snprintf(arg, sizeof arg, "--config=%s", path);
    char *argv[] = {"wn-node", arg, "--data", "/x", NULL};
    int oc;
    char **ov;
    cr_assert(wn_config_merge_argv(4, argv, opts, &oc, &ov, out, sizeof out), "%s", out);
    cr_assert_eq(oc, 5);
    cr_assert_str_eq(ov[1], "--flag");
    cr_assert_str_eq(ov[2], "--data=/d");
    cr_assert_str_eq(ov[3], "--data");
    cr_assert_str_eq(ov[4], "/x");
    wn_config_free_argv(oc, ov);
    free(path);
    (void)cmd;
}

Test(config_file, no_config_is_a_copy)
{
    char out[256];
    const char *cmd[] = {"--data", "/d", NULL};
    cr_assert(merge("", cmd, out, sizeof out));
    cr_assert_str_eq(out, "--data|/d");
}

static void refused(const char *text, const char *want)
{
    char out[1024];
    const char *cmd[] = {"--config", "@CONF", NULL};
    cr_assert_not(merge(text, cmd, out, sizeof out), "accepted: %s", text);
    cr_assert(strstr(out, want) != NULL, "error \"%s\" lacks \"%s\"", out, want);
    cr_assert(strstr(out, "wn-node.conf") != NULL, "error \"%s\" does not name the file", out);
}

Test(config_file, mistakes_are_refused_with_their_line)
{
    refused("data = /d\nlisetn = 127.0.0.1:1\n", "wn-node.conf:2: unknown option \"lisetn\"");
    refused("# c\n\ndata /d\n", "wn-node.conf:3: expected \"key = value\"");
    refused("data = /d\ndata = /e\n", "wn-node.conf:2: \"data\" is already set on line 1");
    refused("data =\n", "wn-node.conf:1: \"data\" needs a value");
    refused("flag = maybe\n", "wn-node.conf:1: \"flag\" takes true or false");
    refused("config = /etc/other.conf\n", "wn-node.conf:1: unknown option \"config\"");
    refused("help = true\n", "wn-node.conf:1: unknown option \"help\"");
    refused("--data = /d\n", "wn-node.conf:1: unknown option \"--data\"");
    char *big = malloc(WN_CONFIG_MAX_LINE + 64);
    strcpy(big, "data = /d\ndata=");
    memset(big + strlen(big), 'x', WN_CONFIG_MAX_LINE + 10);
    strcpy(big + strlen("data = /d\ndata=") + WN_CONFIG_MAX_LINE + 10, "\n");
    refused(big, "wn-node.conf:2: line longer than");
    free(big);
}

Test(config_file, missing_file_and_double_config_are_refused)
{
    char out[512];
    char *argv[] = {"wn-node", "--config", "/nonexistent/wn-node.conf", NULL};
    int oc;
    char **ov;
    cr_assert_not(wn_config_merge_argv(3, argv, opts, &oc, &ov, out, sizeof out));
    cr_assert(strstr(out, "/nonexistent/wn-node.conf: cannot read") != NULL, "%s", out);
    char *argv2[] = {"wn-node", "--config", "a", "--config=b", NULL};
    cr_assert_not(wn_config_merge_argv(4, argv2, opts, &oc, &ov, out, sizeof out));
    cr_assert(strstr(out, "twice") != NULL, "%s", out);
    char *argv3[] = {"wn-node", "--config", NULL};
    cr_assert_not(wn_config_merge_argv(2, argv3, opts, &oc, &ov, out, sizeof out));
    char *argv4[] = {"wn-node", "--config", g_dir, NULL}; /* a directory */
    cr_assert_not(wn_config_merge_argv(3, argv4, opts, &oc, &ov, out, sizeof out));
}

/* The real program: options from the file take effect; the command line overrides. */
Test(config_file, wn_node_runs_from_a_config_file, .timeout = 60)
{
    wn_test_feed feed;
    cr_assert(wn_test_feed_init(&feed, 1));
    char conf[1024];
    snprintf(conf, sizeof conf,
             "# wn-node configuration for a test\n"
             "registrar = %s\n"
             "origin = test.example/config-file\n"
             "checkpoint-every = 1\n"
             "checkpoint-ms = 50\n"
             "listen = 127.0.0.1:1\n", feed.reg_hex); /* overridden by the test harness's --listen 127.0.0.1:0 */
    char *path = write_conf("node.conf", conf);
    wn_test_node n;
    wn_test_node_init(&n, g_dir);
    const char *args[] = {"--config", path, NULL};
    cr_assert(wn_test_node_start(&n, args), "wn-node did not start from %s (see %s)", path, n.log);
    cr_assert(wn_test_feed_enrol(&feed, n.url), "%s", feed.err); /* the registrar came from the file */
    uint64_t size;
    cr_assert(wn_test_wait_checkpoint(n.url, 1, &size));
    wn_test_resp r;
    cr_assert(wn_test_http(n.url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200);
    cr_assert(strncmp((char *)r.body, "test.example/config-file\n", 25) == 0, "checkpoint: %s", r.body);
    wn_test_resp_free(&r);
    wn_test_node_stop(&n, SIGTERM);
    wn_test_feed_free(&feed);
    free(path);
}

Test(config_file, wn_node_refuses_a_typo_naming_the_line, .timeout = 30)
{
    char *path = write_conf("typo.conf", "data = /tmp/never-used\n# next line has a typo\ncheckpoint-evry = 5\n");
    wn_run_result r = wn_proc_runl(g_dir, "wn-node", "--config", path, NULL);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "typo.conf:3: unknown option \"checkpoint-evry\"") != NULL, "stderr: %s", r.err);
    wn_run_result_free(&r);
    /* An unknown option on the command line was already refused; a bad value in the file is
     * refused by the same check as on the command line. */
    char *bad = write_conf("bad.conf", "checkpoint-every = 0\n");
    char data[4300];
    snprintf(data, sizeof data, "%s/d", g_dir);
    r = wn_proc_runl(g_dir, "wn-node", "--config", bad, "--data", data, NULL);
    cr_assert_eq(r.code, 2, "exit %d: %s", r.code, r.err);
    cr_assert(strstr(r.err, "--checkpoint-every must be") != NULL, "stderr: %s", r.err);
    wn_run_result_free(&r);
    free(bad);
    free(path);
}
