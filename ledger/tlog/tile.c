/* tile.c — tlog-tiles paths and widths (see tile.h). Strict parsing: every tile has one
 * path, so caches and mirrors never hold two copies of the same tile. */
#include "ledger/tlog/tile.h"

#include <stdio.h>
#include <string.h>

/* Strict decimal of s[0..n): digits, no leading zeros, at most max. Returns: 1 on success. */
static int small_decimal(const char *s, size_t n, unsigned max, unsigned *out)
{
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return 0;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max) return 0;
    *out = v;
    return 1;
}

/* Three digits at s. Returns: their value, or -1. */
static int three_digits(const char *s)
{
    int v = 0;
    for (int i = 0; i < 3; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int wn_tile_parse(const char *path, wn_tile *t)
{
    if (!path || !t || strncmp(path, "tile/", 5) != 0) return 0;
    memset(t, 0, sizeof *t);
    const char *p = path + 5;
    const char *slash = strchr(p, '/');
    if (!slash) return 0;
    if ((size_t)(slash - p) == 7 && strncmp(p, "entries", 7) == 0) {
        t->entries = 1;
    } else if (!small_decimal(p, (size_t)(slash - p), WN_TILE_MAX_LEVEL, &t->level)) {
        return 0;
    }
    p = slash + 1;

    /* N: ("x" ddd "/")* ddd */
    uint64_t n = 0;
    int elements = 0;
    for (;;) {
        int last = p[0] != 'x';
        const char *d = last ? p : p + 1;
        int v = three_digits(d);
        if (v < 0) return 0;
        if (elements == 0 && !last && v == 0) return 0; /* "x000/..." is not canonical */
        if (n > (WN_TILE_MAX_INDEX - (uint64_t)v) / 1000) return 0;
        n = n * 1000 + (uint64_t)v;
        elements++;
        p = d + 3;
        if (last) break;
        if (*p != '/') return 0;
        p++;
    }
    t->index = n;

    /* [".p/" W] */
    t->width = WN_TILE_WIDTH;
    if (*p == '\0') return 1;
    if (strncmp(p, ".p/", 3) != 0) return 0;
    p += 3;
    unsigned w;
    if (!small_decimal(p, strlen(p), WN_TILE_WIDTH - 1, &w) || w == 0) return 0;
    t->width = w;
    return 1;
}

size_t wn_tile_format(char *out, size_t cap, const wn_tile *t)
{
    if (!out || !t || cap == 0) return 0;
    if ((!t->entries && t->level > WN_TILE_MAX_LEVEL) || (t->entries && t->level != 0) ||
        t->index > WN_TILE_MAX_INDEX || t->width == 0 || t->width > WN_TILE_WIDTH)
        return 0;
    unsigned groups[8];
    int ng = 0;
    uint64_t n = t->index;
    do {
        groups[ng++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n);
    char buf[WN_TILE_PATH_MAX];
    int len = t->entries ? snprintf(buf, sizeof buf, "tile/entries/") : snprintf(buf, sizeof buf, "tile/%u/", t->level);
    for (int i = ng - 1; i >= 0; i--)
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%03u%s", i ? "x" : "", groups[i], i ? "/" : "");
    if (t->width < WN_TILE_WIDTH) len += snprintf(buf + len, sizeof buf - (size_t)len, ".p/%u", t->width);
    if ((size_t)len >= cap) return 0;
    memcpy(out, buf, (size_t)len + 1);
    return (size_t)len;
}

unsigned wn_tile_width_at(unsigned level, uint64_t index, uint64_t size)
{
    if (level >= 8) return 0; /* tree level 8L >= 64: no complete subtree of a u64-sized tree */
    uint64_t have = size >> (WN_TILE_HEIGHT * level); /* complete subtrees at tree level 8L */
    if (index > WN_TILE_MAX_INDEX) return 0;
    uint64_t first = index * WN_TILE_WIDTH;
    if (have <= first) return 0;
    return have - first >= WN_TILE_WIDTH ? WN_TILE_WIDTH : (unsigned)(have - first);
}
