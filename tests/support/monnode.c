/* monnode.c — a real wn-node for the monitoring tests (see monnode.h). */
#include "tests/support/monnode.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "tests/support/monfeed.h"
#include "tests/support/testutil.h"

int wn_mn_init(wn_mn *s, const char *tag)
{
    memset(s, 0, sizeof *s);
    s->tmp = wn_test_tmpdir(tag);
    if (!s->tmp) return 0;
    wn_test_node_init(&s->node, s->tmp);
    if (!wn_seckey_generate(s->reg_sk) || !wn_seckey_xonly(s->reg_pk, s->reg_sk)) return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/tokens", s->tmp);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fprintf(f, "%s bureau\n", WN_MN_BUREAU);
    return fclose(f) == 0;
}

int wn_mn_start(wn_mn *s, const char *const *extra)
{
    char reg[65], tokens[4200];
    wn_hex_encode(reg, s->reg_pk, 32);
    snprintf(tokens, sizeof tokens, "%s/tokens", s->tmp);
    const char *args[32] = {"--registrar", reg, "--checkpoint-ms", "100", "--tokens", tokens};
    int a = 6;
    for (int i = 0; extra && extra[i] && a < 31; i++) args[a++] = extra[i];
    args[a] = NULL;
    return wn_test_node_start(&s->node, args);
}

void wn_mn_free(wn_mn *s)
{
    wn_test_node_stop(&s->node, SIGKILL);
    if (s->tmp && !getenv("WN_TEST_KEEP")) wn_test_rmtree(s->tmp);
    free(s->tmp);
    s->tmp = NULL;
}

char *wn_mn_numbers_as_strings(const char *json)
{
    size_t n = strlen(json);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out) return NULL;
    int in_str = 0;
    for (size_t i = 0; i < n;) {
        char c = json[i];
        if (in_str) {
            *o++ = c;
            i++;
            if (c == '\\' && i < n) *o++ = json[i++];
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
            *o++ = c;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            *o++ = '"';
            while (i < n && strchr("+-.eE0123456789", json[i])) *o++ = json[i++];
            *o++ = '"';
        } else {
            *o++ = c;
            i++;
        }
    }
    *o = '\0';
    return out;
}

cJSON *wn_mn_get(wn_mn *s, const char *path, long *status)
{
    wn_mf_resp r;
    *status = 0;
    if (!wn_mf_http(s->node.url, WN_MN_BUREAU, "GET", path, NULL, &r)) {
        free(r.body);
        return NULL;
    }
    *status = r.status;
    char *t = r.body ? wn_mn_numbers_as_strings(r.body) : NULL;
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    free(r.body);
    return j;
}

int wn_mn_dec_parse(const char *s, __int128 *out)
{
    int neg = *s == '-';
    if (neg) s++;
    __int128 v = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (*s - '0');
        digits++;
        if (frac >= 0 && ++frac > 12) return 0;
    }
    if (!digits) return 0;
    for (int k = frac < 0 ? 0 : frac; k < 12; k++) v *= 10;
    *out = neg ? -v : v;
    return 1;
}

void wn_mn_dec_format(char *out, __int128 v)
{
    char *p = out;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    const __int128 one = 1000000000000LL;
    __int128 ip = v / one, fp = v % one;
    char rev[48];
    int n = 0;
    do {
        rev[n++] = (char)('0' + (int)(ip % 10));
        ip /= 10;
    } while (ip);
    while (n) *p++ = rev[--n];
    if (fp) {
        char f[13];
        for (int i = 11; i >= 0; i--) {
            f[i] = (char)('0' + (int)(fp % 10));
            fp /= 10;
        }
        int end = 12;
        while (end > 0 && f[end - 1] == '0') end--;
        *p++ = '.';
        memcpy(p, f, (size_t)end);
        p += end;
    }
    *p = '\0';
}

const char *wn_mn_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
