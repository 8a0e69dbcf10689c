/* config_file.c — reads wn-node's --config file into command-line arguments (see
 * config_file.h). The file is untrusted text from the operator: every line is bounded and
 * every mistake is refused with its line number rather than guessed at, because a typo
 * that silently falls back to a default (a listen address, a token file) is worse than a
 * node that does not start. */
#include "node/config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char **v;
    int n, cap;
} argvec;

static int push(argvec *a, const char *s, size_t len)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v) return 0;
        a->v = v;
        a->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return 0;
    memcpy(copy, s, len);
    copy[len] = '\0';
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return 1;
}

static const struct option *find_opt(const struct option *opts, const char *key, size_t klen)
{
    for (const struct option *o = opts; o->name; o++)
        if (strlen(o->name) == klen && memcmp(o->name, key, klen) == 0) return o;
    return NULL;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int word_is(const char *v, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && strncasecmp(v, *words, n) == 0) return 1;
    return 0;
}

/* Parses one file into a (argv-shaped "--key=value" strings). */
static int read_file(const char *path, const struct option *opts, argvec *a, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the configuration file: %s", path, strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)WN_CONFIG_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, WN_CONFIG_MAX_BYTES);
        fclose(f);
        return 0;
    }
    size_t nopts = 0;
    while (opts[nopts].name) nopts++;
    unsigned *seen = calloc(nopts + 1, sizeof *seen); /* line where each option was set, 0 = not yet */
    char *line = malloc(WN_CONFIG_MAX_LINE + 2);
    int ok = seen && line;
    if (!ok) snprintf(err, errlen, "%s: out of memory", path);
    unsigned lineno = 0;
    while (ok && fgets(line, (int)WN_CONFIG_MAX_LINE + 2, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        else if (!feof(f)) {
            snprintf(err, errlen, "%s:%u: line longer than %u bytes", path, lineno, WN_CONFIG_MAX_LINE);
            ok = 0;
            break;
        }
        char *p = line;
        while (is_blank(*p)) p++;
        if (*p == '\0' || *p == '#') continue;
        char *key = p;
        while (*p && !is_blank(*p) && *p != '=') p++;
        size_t klen = (size_t)(p - key);
        while (is_blank(*p)) p++;
        if (*p != '=') {
            snprintf(err, errlen, "%s:%u: expected \"key = value\", found \"%.*s\"", path, lineno, 80, key);
            ok = 0;
            break;
        }
        p++;
        while (is_blank(*p)) p++;
        char *val = p;
        char *end = val + strlen(val);
        while (end > val && is_blank(end[-1])) end--;
        size_t vlen = (size_t)(end - val);
        const struct option *o = find_opt(opts, key, klen);
        if (!o || strcmp(o->name, "config") == 0 || strcmp(o->name, "help") == 0) {
            snprintf(err, errlen, "%s:%u: unknown option \"%.*s\" (the keys are the long options of --help)", path,
                     lineno, (int)(klen > 80 ? 80 : klen), key);
            ok = 0;
            break;
        }
        size_t idx = (size_t)(o - opts);
        if (seen[idx]) {
            snprintf(err, errlen, "%s:%u: \"%s\" is already set on line %u", path, lineno, o->name, seen[idx]);
            ok = 0;
            break;
        }
        seen[idx] = lineno;
        char arg[WN_CONFIG_MAX_LINE + 8];
        if (o->has_arg == no_argument) {
            static const char *const yes[] = {"true", "yes", "1", NULL}, *const no[] = {"false", "no", "0", NULL};
            if (word_is(val, vlen, no)) continue;
            if (!word_is(val, vlen, yes)) {
                snprintf(err, errlen, "%s:%u: \"%s\" takes true or false", path, lineno, o->name);
                ok = 0;
                break;
            }
            int n = snprintf(arg, sizeof arg, "--%s", o->name);
            ok = push(a, arg, (size_t)n);
        } else {
            if (vlen == 0 && o->has_arg == required_argument) {
                snprintf(err, errlen, "%s:%u: \"%s\" needs a value", path, lineno, o->name);
                ok = 0;
                break;
            }
            int n = snprintf(arg, sizeof arg, "--%s=%.*s", o->name, (int)vlen, val);
            ok = push(a, arg, (size_t)n);
        }
        if (!ok) snprintf(err, errlen, "%s: out of memory", path);
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        ok = 0;
    }
    free(line);
    free(seen);
    fclose(f);
    return ok;
}

int wn_config_merge_argv(int argc, char *const *argv, const struct option *opts, int *out_argc, char ***out_argv,
                         char *err, size_t errlen)
{
    *out_argv = NULL;
    *out_argc = 0;
    const char *file = NULL;
    int file_at = -1, file_args = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        const char *f = NULL;
        int n = 0;
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a FILE");
                return 0;
            }
            f = argv[i + 1];
            n = 2;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            f = argv[i] + 9;
            n = 1;
        }
        if (!f) continue;
        if (file) {
            snprintf(err, errlen, "--config given twice");
            return 0;
        }
        file = f;
        file_at = i;
        file_args = n;
        i += n - 1;
    }
    argvec a = {0};
    int ok = push(&a, argv[0] ? argv[0] : "", argv[0] ? strlen(argv[0]) : 0);
    if (!ok) snprintf(err, errlen, "out of memory");
    if (ok && file) ok = read_file(file, opts, &a, err, errlen);
    for (int i = 1; ok && i < argc; i++) {
        if (i == file_at) {
            i += file_args - 1;
            continue;
        }
        ok = push(&a, argv[i], strlen(argv[i]));
        if (!ok) snprintf(err, errlen, "out of memory");
    }
    if (!ok) {
        wn_config_free_argv(a.n, a.v);
        return 0;
    }
    *out_argc = a.n;
    *out_argv = a.v;
    return 1;
}

void wn_config_free_argv(int argc, char **argv)
{
    if (!argv) return;
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
}
