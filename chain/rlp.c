/* rlp.c — RLP writer into a caller's buffer and strict one-item reader (see rlp.h). */
#include "chain/rlp.h"

#include <string.h>

void wn_rlp_init(wn_rlp *r, uint8_t *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = buf;
    r->cap = cap;
}

/* Number of bytes of v without leading zeros (0 for v = 0). */
static size_t be_len(uint64_t v)
{
    size_t n = 0;
    while (v) {
        n++;
        v >>= 8;
    }
    return n;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Writes a header of the given base (0x80 strings, 0xc0 lists) for a payload of len. */
static void header(wn_rlp *r, uint8_t base, size_t len)
{
    uint8_t h[9];
    size_t n;
    if (len < 56) {
        h[0] = (uint8_t)(base + len);
        n = 1;
    } else {
        size_t k = be_len(len);
        h[0] = (uint8_t)(base + 55 + k);
        put_be(h + 1, len, k);
        n = 1 + k;
    }
    if (r->err || n > r->cap - r->len) {
        r->err = 1;
        return;
    }
    memcpy(r->buf + r->len, h, n);
    r->len += n;
}

void wn_rlp_bytes(wn_rlp *r, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (r->err) return;
    if (len == 1 && p[0] < 0x80) {
        if (r->len == r->cap) {
            r->err = 1;
            return;
        }
        r->buf[r->len++] = p[0];
        return;
    }
    header(r, 0x80, len);
    if (r->err || len > r->cap - r->len) {
        r->err = 1;
        return;
    }
    if (len) memcpy(r->buf + r->len, p, len);
    r->len += len;
}

void wn_rlp_uint(wn_rlp *r, uint64_t v)
{
    uint8_t b[8];
    size_t n = be_len(v);
    put_be(b, v, n);
    wn_rlp_bytes(r, b, n);
}

void wn_rlp_uint_be(wn_rlp *r, const uint8_t *be, size_t len)
{
    while (len && be[0] == 0) {
        be++;
        len--;
    }
    wn_rlp_bytes(r, be, len);
}

void wn_rlp_list_begin(wn_rlp *r)
{
    if (r->err) return;
    if (r->depth == WN_RLP_MAX_DEPTH) {
        r->err = 1;
        return;
    }
    r->open[r->depth++] = r->len;
}

void wn_rlp_list_end(wn_rlp *r)
{
    if (r->err) return;
    if (r->depth == 0) {
        r->err = 1;
        return;
    }
    size_t start = r->open[--r->depth];
    size_t plen = r->len - start;
    size_t hn = plen < 56 ? 1 : 1 + be_len(plen);
    if (hn > r->cap - r->len) {
        r->err = 1;
        return;
    }
    memmove(r->buf + start + hn, r->buf + start, plen);
    r->len = start;
    header(r, 0xc0, plen);
    r->len = start + hn + plen;
}

int wn_rlp_finish(const wn_rlp *r, size_t *len)
{
    if (r->err || r->depth) return 0;
    if (len) *len = r->len;
    return 1;
}

int wn_rlp_read(const uint8_t *p, size_t len, wn_rlp_item *item, size_t *used)
{
    if (len == 0) return 0;
    uint8_t b = p[0];
    size_t hn, plen;
    memset(item, 0, sizeof *item);
    if (b < 0x80) {
        item->payload = p;
        item->len = 1;
        *used = 1;
        return 1;
    }
    item->is_list = b >= 0xc0;
    uint8_t base = item->is_list ? 0xc0 : 0x80;
    if (b - base < 56) {
        hn = 1;
        plen = (size_t)(b - base);
    } else {
        size_t k = (size_t)(b - base - 55);
        if (k > 8 || len - 1 < k || p[1] == 0) return 0; /* no leading zero in a length */
        plen = 0;
        for (size_t i = 0; i < k; i++) plen = plen << 8 | p[1 + i];
        if (plen < 56) return 0; /* would have fitted the short form */
        hn = 1 + k;
    }
    if (plen > len - hn) return 0;
    if (!item->is_list && plen == 1 && p[hn] < 0x80) return 0; /* a single low byte is its own encoding */
    item->payload = p + hn;
    item->len = plen;
    *used = hn + plen;
    return 1;
}
