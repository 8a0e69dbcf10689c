/* util.c — option parsing, argument checks and file helpers for the `wn` subcommands
 * (see util.h). Messages name the command and the option so a user knows what to fix. */
#include "cli/util.h"
#include "crypto/encoding.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void wn_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "wn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const wn_cli_opt *find_opt(const wn_cli_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

int wn_cli_parse(int argc, char **argv, const wn_cli_opt *opts, size_t nopts, const char **pos, size_t maxpos,
                 size_t *npos, int *help)
{
    const char *cmd = argv[0];
    *npos = 0;
    *help = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            *help = 1;
            return 1;
        }
        if (!only_pos && strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos == maxpos) {
                wn_cli_error(cmd, "unexpected argument '%s' (see wn %s --help)", a, cmd);
                return 0;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (a[1] != '-') {
            wn_cli_error(cmd, "unknown option '%s' (options are long: --name; see wn %s --help)", a, cmd);
            return 0;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const wn_cli_opt *o = find_opt(opts, nopts, name, nlen);
        if (!o) {
            wn_cli_error(cmd, "unknown option '--%.*s' (see wn %s --help)", (int)nlen, name, cmd);
            return 0;
        }
        if (o->flag) {
            if (eq) {
                wn_cli_error(cmd, "option --%s takes no value", o->name);
                return 0;
            }
            *o->flag = 1;
            continue;
        }
        const char *v;
        if (eq) v = eq + 1;
        else if (i + 1 < argc) v = argv[++i];
        else {
            wn_cli_error(cmd, "option --%s needs a value (see wn %s --help)", o->name, cmd);
            return 0;
        }
        if (*o->value) {
            wn_cli_error(cmd, "option --%s given twice", o->name);
            return 0;
        }
        *o->value = v;
    }
    return 1;
}

int wn_cli_u64(const char *cmd, const char *option, const char *s, uint64_t *out)
{
    if (!wn_decimal_u64(s, strlen(s), out)) {
        wn_cli_error(cmd, "--%s wants a decimal number, not '%s'", option, s);
        return 0;
    }
    return 1;
}

int wn_cli_hex32(const char *cmd, const char *option, const char *s, uint8_t out[32])
{
    char lower[65];
    size_t n = strlen(s);
    if (n == 64) {
        for (size_t i = 0; i < 64; i++) lower[i] = (char)tolower((unsigned char)s[i]);
        lower[64] = '\0';
        if (wn_hex_decode(out, 32, lower, 64)) return 1;
    }
    wn_cli_error(cmd, "--%s wants a 32-byte key as 64 hex characters (got %zu characters)", option, n);
    return 0;
}

char *wn_cli_read_file(const char *cmd, const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        wn_cli_error(cmd, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) break;
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > max) break;
        if (r == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || err) {
        wn_cli_error(cmd, "cannot read %s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    if (n > max) {
        wn_cli_error(cmd, "%s is larger than %zu bytes: not a file this command reads", path, max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int wn_cli_write_file(const char *cmd, const char *path, const void *data, size_t len)
{
    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            wn_cli_error(cmd, "cannot write to standard output: %s", strerror(errno));
            return 0;
        }
        return 1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        wn_cli_error(cmd, "cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            wn_cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return 0;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) != 0) {
        wn_cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
        return 0;
    }
    return 1;
}

int wn_cli_mkdirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) { errno = ENAMETOOLONG; return 0; }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return 0;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return 0; }
    return 1;
}

int wn_cli_dir_absent_or_empty(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT;
    if (!S_ISDIR(st.st_mode)) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) { empty = 0; break; }
    closedir(d);
    return empty;
}
