/* buf.c — growable text buffer with JSON string and hex helpers. */
#include "node/http/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"

void wn_buf_init(wn_buf *b)
{
    memset(b, 0, sizeof *b);
}

void wn_buf_free(wn_buf *b)
{
    free(b->p);
    wn_buf_init(b);
}

static int reserve(wn_buf *b, size_t more)
{
    if (b->oom) return 0;
    if (more > SIZE_MAX / 2 - b->len) { b->oom = 1; return 0; }
    size_t need = b->len + more + 1;
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return 0; }
    b->p = p;
    b->cap = cap;
    return 1;
}

void wn_buf_add(wn_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len)) return;
    if (len) memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void wn_buf_str(wn_buf *b, const char *s)
{
    wn_buf_add(b, s, strlen(s));
}

void wn_buf_printf(wn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence starting at c (2..4), or 0. */
static size_t utf8_seq(const unsigned char *c)
{
    size_t n;
    unsigned cp;
    if (c[0] >= 0xc2 && c[0] <= 0xdf) { n = 2; cp = c[0] & 0x1fu; }
    else if (c[0] >= 0xe0 && c[0] <= 0xef) { n = 3; cp = c[0] & 0x0fu; }
    else if (c[0] >= 0xf0 && c[0] <= 0xf4) { n = 4; cp = c[0] & 0x07u; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((c[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (c[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Bytes that are not well-formed UTF-8 are written as \u00XX, so the JSON stays valid. */
void wn_buf_json_str(wn_buf *b, const char *s)
{
    wn_buf_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        size_t n;
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            wn_buf_add(b, e, 2);
            c++;
        } else if (*c >= 0x80 && (n = utf8_seq(c)) > 0) {
            wn_buf_add(b, c, n);
            c += n;
        } else if (*c < 0x20 || *c >= 0x7f) {
            wn_buf_printf(b, "\\u%04x", *c);
            c++;
        } else {
            wn_buf_add(b, c, 1);
            c++;
        }
    }
    wn_buf_add(b, "\"", 1);
}

void wn_buf_json_hex(wn_buf *b, const uint8_t *data, size_t len)
{
    if (!reserve(b, 2 * len + 2)) return;
    b->p[b->len++] = '"';
    wn_hex_encode(b->p + b->len, data, len);
    b->len += 2 * len;
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
}

char *wn_buf_take(wn_buf *b, size_t *len)
{
    if (b->oom) { wn_buf_free(b); return NULL; }
    if (!b->p && !reserve(b, 0)) { wn_buf_free(b); return NULL; }
    if (!b->p) return NULL;
    b->p[b->len] = '\0';
    char *p = b->p;
    if (len) *len = b->len;
    wn_buf_init(b);
    return p;
}
