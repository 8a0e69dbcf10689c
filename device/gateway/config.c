/* config.c — parsing wn-gateway's configuration file (config.h). */
#include "device/gateway/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1 << 20)

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = '\0';
    return s;
}

static int parse_ms(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v < '0' || *v > '9') return 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < min || x > max) return 0;
    *out = x;
    return 1;
}

static int copy(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap) return 0;
    memcpy(dst, v, n + 1);
    return 1;
}

enum { K_NODE, K_NOTARY, K_POLL, K_SIGN, K_TIMEOUT, K_STATE, K_PROFILE, K_MODBUS, K_UNIT, K_N };
static const char *const keys[K_N] = {"node", "notary-pub", "poll-ms", "sign-ms", "timeout-ms",
                                      "state", "profile", "modbus", "unit"};

static int check_channel(const wn_channel_config *ch, unsigned seen, int line, char *err, size_t cap)
{
    static const int need[] = {K_STATE, K_PROFILE, K_MODBUS};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!(seen >> need[i] & 1))
            return fail(err, cap, "line %d: channel %s has no \"%s\"", line, ch->name, keys[need[i]]);
    return 1;
}

int wn_gateway_config_parse(wn_gateway_config *c, const char *text, size_t len, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->poll_ms = WN_GATEWAY_DEFAULT_POLL_MS;
    c->sign_ms = WN_GATEWAY_DEFAULT_SIGN_MS;
    c->timeout_ms = WN_GATEWAY_DEFAULT_TIMEOUT_MS;
    char line[2048];
    size_t pos = 0;
    int lineno = 0, in_channel = 0, section_line = 0;
    unsigned seen = 0;
    wn_channel_config *ch = NULL;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        lineno++;
        if (end - pos >= sizeof line) return fail(err, cap, "line %d: longer than %zu bytes", lineno, sizeof line - 1);
        memcpy(line, text + pos, end - pos);
        line[end - pos] = '\0';
        pos = end + 1;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] || strncmp(s, "[channel ", 9) != 0)
                return fail(err, cap, "line %d: a section is \"[channel NAME]\"", lineno);
            *close = '\0';
            char *name = trim(s + 9);
            if (in_channel && !check_channel(ch, seen, section_line, err, cap)) return 0;
            if (c->nchannels == WN_GATEWAY_MAX_CHANNELS)
                return fail(err, cap, "line %d: at most %d channels", lineno, WN_GATEWAY_MAX_CHANNELS);
            ch = &c->channels[c->nchannels];
            if (!copy(ch->name, sizeof ch->name, name) || strpbrk(name, " \t/"))
                return fail(err, cap, "line %d: a channel name is 1..%d characters without spaces or '/'", lineno,
                            WN_CHANNEL_NAME_MAX);
            for (size_t i = 0; i < c->nchannels; i++)
                if (strcmp(c->channels[i].name, name) == 0)
                    return fail(err, cap, "line %d: channel %s appears twice", lineno, name);
            ch->unit = 1;
            c->nchannels++;
            in_channel = 1;
            section_line = lineno;
            seen = 0;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) return fail(err, cap, "line %d: expected \"key = value\"", lineno);
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int key = -1;
        for (int i = 0; i < K_N; i++)
            if (strcmp(keys[i], k) == 0) key = i;
        if (key < 0) return fail(err, cap, "line %d: unknown key \"%s\"", lineno, k);
        if ((key >= K_STATE) != in_channel)
            return fail(err, cap, "line %d: \"%s\" belongs %s", lineno, k,
                        key >= K_STATE ? "in a [channel NAME] section" : "before the first [channel NAME] section");
        if (seen >> key & 1) return fail(err, cap, "line %d: \"%s\" is given twice", lineno, k);
        seen |= 1u << key;
        int ok;
        uint64_t u = 0;
        switch (key) {
        case K_NODE: ok = copy(c->node, sizeof c->node, v); break;
        case K_NOTARY: ok = strlen(v) == 64 && copy(c->notary_pub, sizeof c->notary_pub, v); break;
        case K_POLL: ok = parse_ms(v, 100, 86400000, &c->poll_ms); break;
        case K_SIGN: ok = parse_ms(v, 1000, 86400000, &c->sign_ms); break;
        case K_TIMEOUT: ok = parse_ms(v, 10, 60000, &c->timeout_ms); break;
        case K_STATE: ok = copy(ch->state_dir, sizeof ch->state_dir, v); break;
        case K_PROFILE: ok = copy(ch->profile_path, sizeof ch->profile_path, v); break;
        case K_MODBUS: ok = copy(ch->address, sizeof ch->address, v); break;
        default: ok = parse_ms(v, 0, 247, &u); ch->unit = (int)u; break;
        }
        if (!ok) return fail(err, cap, "line %d: bad value for \"%s\"", lineno, k);
    }
    if (in_channel && !check_channel(ch, seen, section_line, err, cap)) return 0;
    if (!c->nchannels) return fail(err, cap, "no [channel NAME] section");
    if (c->sign_ms < c->poll_ms) return fail(err, cap, "sign-ms must not be shorter than poll-ms");
    return 1;
}

int wn_gateway_config_load(wn_gateway_config *c, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, cap, "%s: %s", path, strerror(errno));
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES + 1, f) : 0;
    int bad = !buf || ferror(f) || n > CONFIG_MAX_BYTES;
    fclose(f);
    if (bad) {
        free(buf);
        return fail(err, cap, "%s: cannot read, or larger than %d bytes", path, CONFIG_MAX_BYTES);
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        return fail(err, cap, "%s: holds a NUL byte", path);
    }
    char inner[300];
    int ok = wn_gateway_config_parse(c, buf, n, inner, sizeof inner);
    free(buf);
    return ok ? 1 : fail(err, cap, "%s: %s", path, inner);
}
