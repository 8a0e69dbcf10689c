/* testutil.c — temp dirs, vector and program paths, file reading, a seeded PRNG. */
#include "tests/support/testutil.h"

#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *wn_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/wn-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(p)) { free(p); return NULL; }
    return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void wn_test_rmtree(const char *path)
{
    if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *join_env(const char *env, const char *def, const char *rel)
{
    const char *base = getenv(env);
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", base && *base ? base : def, rel);
    return p;
}

char *wn_test_vector_path(const char *rel) { return join_env("WN_VECTORS", "tests/vectors", rel); }
char *wn_test_bin(const char *name) { return join_env("WN_BIN", "bin", name); }

char *wn_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static uint64_t g_state = 0x9e3779b97f4a7c15ULL;
void wn_test_prng_seed(uint64_t seed) { g_state = seed ? seed : 0x9e3779b97f4a7c15ULL; }
uint64_t wn_test_prng(void)
{
    uint64_t x = g_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return g_state = x;
}
void wn_test_prng_bytes(uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(wn_test_prng() >> 24);
}
