/* log.c — the meter's log on flash pages, and the meter built on it: open (recover the
 * chain state and the acknowledgement watermark from what the pages hold), read (make,
 * sign and program the next reading), the pending queue and acknowledgements.
 *
 * Layout (docs/FIRMWARE.md): each page starts with a header "WNF1" || u32 generation ||
 * check4, then records  u16 len || u8 type || 0x00 || payload[len] || check4, each padded
 * with zeros to the port's program unit; check4 is the first 4 bytes of SHA-256 of what
 * precedes it. Readings, acknowledgements and a state record (the chain state, written
 * first in every newly opened page) are appended; bytes still 0xff end a page.
 *
 * Power-loss rules: a record is programmed once and never changed; a record whose check
 * fails ends its page, and the page is sealed (nothing more is appended to it). A page is
 * reused only if every reading in it is acknowledged and it does not hold the newest
 * record that carries the chain state; it is retired (header programmed to zeros) before
 * it is erased, so a half-erased page never reads as valid. Hence the last reading made
 * (sequence and digest) is always on flash, and no sequence number is ever used twice. */
#include "device/core/core_int.h"

#define HDR_RAW 12
#define REC_MAX (4 + WN_CORE_READING_MAX + 4 + 64)

const char *wn_core_strerror(int err)
{
    switch (err) {
    case WN_CORE_OK: return "ok";
    case WN_CORE_END: return "no more";
    case WN_CORE_EFLASH: return "a flash operation failed; reopen the meter";
    case WN_CORE_ECORRUPT: return "the flash log is damaged in a way no power cut explains";
    case WN_CORE_EPORT: return "the port is unusable (page geometry, missing hook, key handle)";
    case WN_CORE_EARG: return "invalid measurement, unit, scale, count or flags";
    case WN_CORE_ETIME: return "time above the maximum or before the previous reading";
    case WN_CORE_EVOLUME: return "cumulative volume below the previous one without meter_replaced";
    case WN_CORE_ERANGE: return "a value the notary rejects as out of range";
    case WN_CORE_ESEQ: return "the sequence space is exhausted";
    case WN_CORE_EFULL: return "the flash log is full of unacknowledged readings";
    case WN_CORE_ECRYPTO: return "signing failed or the signature did not verify";
    case WN_CORE_ENOTFOUND: return "no reading with that sequence in the log";
    case WN_CORE_ERECEIPT: return "malformed receipt or inconsistent receipt head";
    case WN_CORE_EPATH: return "the receipt's Merkle path does not reach its commit root";
    case WN_CORE_ESIG: return "the receipt's signature does not verify with the notary key";
    case WN_CORE_ELEAF: return "the receipt is for another entry than this reading";
    case WN_CORE_EFAILED: return "an earlier flash write failed; reopen the meter";
    default: return "unknown error";
    }
}

static uint32_t align_up(const wn_port *p, uint32_t n) { return (n + p->prog_align - 1) & ~(p->prog_align - 1); }

static void check4(const wn_port *p, uint8_t out[4], const uint8_t *b, size_t n)
{
    uint8_t h[32];
    wn_port_buf one = {b, n};
    p->sha256(p->ctx, h, &one, 1);
    wn_core_memcpy(out, h, 4);
}

static int fread_(wn_core_meter *m, uint32_t addr, void *buf, uint32_t len)
{
    return m->port->flash_read(m->port->ctx, addr, buf, len);
}

/* The record at page pg, offset off. Returns: 1 valid (rec, *total), 0 end of page: clean
 * (*clean = 1, erased bytes) or not (a torn or damaged record), -1 flash read error. */
static int rec_at(wn_core_meter *m, uint32_t pg, uint32_t off, uint8_t rec[REC_MAX], uint32_t *total, int *clean)
{
    const wn_port *p = m->port;
    uint32_t base = pg * p->page_size;
    *clean = 0;
    if (off + 4 > p->page_size) { *clean = 1; return 0; }
    if (!fread_(m, base + off, rec, 4)) return -1;
    if (rec[0] == 0xff && rec[1] == 0xff && rec[2] == 0xff && rec[3] == 0xff) {
        /* erased: clean only if the rest of the page is erased too */
        uint8_t buf[64];
        for (uint32_t o = off; o < p->page_size; o += sizeof buf) {
            uint32_t n = p->page_size - o < sizeof buf ? p->page_size - o : (uint32_t)sizeof buf;
            if (!fread_(m, base + o, buf, n)) return -1;
            for (uint32_t i = 0; i < n; i++)
                if (buf[i] != 0xff) return 0;
        }
        *clean = 1;
        return 0;
    }
    uint32_t len = (uint32_t)rec[0] << 8 | rec[1];
    if (len > WN_CORE_READING_MAX || rec[3] != 0) return 0;
    uint32_t t = align_up(p, 4 + len + 4);
    if (off + t > p->page_size) return 0;
    if (!fread_(m, base + off + 4, rec + 4, t - 4)) return -1;
    uint8_t c[4];
    check4(p, c, rec, 4 + len);
    if (wn_core_memcmp(c, rec + 4 + len, 4) != 0) return 0;
    *total = t;
    return 1;
}

static void state_encode(const wn_core_meter *m, uint8_t s[WN_CORE_STATE_LEN])
{
    wn_core_put64(s, m->last_seq);
    wn_core_put64(s + 8, m->last_time);
    wn_core_memcpy(s + 16, m->prev, 32);
    s[48] = (uint8_t)m->have_volume;
    s[49] = m->vol_unit;
    s[50] = m->vol_scale;
    wn_core_put64(s + 51, (uint64_t)m->last_volume);
    wn_core_put64(s + 59, m->acked);
}

/* Applies one valid record during recovery. Returns: WN_CORE_OK or WN_CORE_ECORRUPT. */
static int apply(wn_core_meter *m, uint32_t pg, const uint8_t *rec, int *seen, uint64_t *ack_max)
{
    uint32_t len = (uint32_t)rec[0] << 8 | rec[1];
    const uint8_t *b = rec + 4;
    if (rec[2] == WN_CORE_REC_READING) {
        if (len < WN_CORE_READING_FIXED || len != WN_CORE_READING_FIXED + WN_CORE_MEAS_LEN * (uint32_t)b[83] ||
            wn_core_memcmp(b + 1, m->id, 32) != 0)
            return WN_CORE_ECORRUPT;
        uint64_t seq = wn_core_get64(b + 33);
        if (*seen && (seq != m->last_seq + 1 || wn_core_memcmp(b + 49, m->prev, 32) != 0)) return WN_CORE_ECORRUPT;
        wn_port_buf one = {b, len};
        m->port->sha256(m->port->ctx, m->prev, &one, 1);
        m->last_seq = seq;
        m->last_time = wn_core_get64(b + 41);
        int64_t v;
        uint8_t u, s;
        if (wn_core_reading_volume(b, len, &v, &u, &s)) {
            m->have_volume = 1; m->last_volume = v; m->vol_unit = u; m->vol_scale = s;
        }
        if (!m->first_seq) m->first_seq = seq;
        m->max_seq[pg] = seq;
        m->state_page = (int)pg;
        *seen = 1;
    } else if (rec[2] == WN_CORE_REC_STATE) {
        if (len != WN_CORE_STATE_LEN) return WN_CORE_ECORRUPT;
        uint64_t seq = wn_core_get64(b);
        if (*seen && (seq != m->last_seq || wn_core_memcmp(b + 16, m->prev, 32) != 0)) return WN_CORE_ECORRUPT;
        m->last_seq = seq;
        m->last_time = wn_core_get64(b + 8);
        wn_core_memcpy(m->prev, b + 16, 32);
        m->have_volume = b[48] != 0;
        m->vol_unit = b[49];
        m->vol_scale = b[50];
        m->last_volume = (int64_t)wn_core_get64(b + 51);
        uint64_t a = wn_core_get64(b + 59);
        if (a > seq) return WN_CORE_ECORRUPT;
        if (a > *ack_max) *ack_max = a;
        m->state_page = (int)pg;
        *seen = 1;
    } else if (rec[2] == WN_CORE_REC_ACK) {
        if (len != WN_CORE_ACK_LEN) return WN_CORE_ECORRUPT;
        uint64_t a = wn_core_get64(b);
        if (a > m->last_seq) return WN_CORE_ECORRUPT;
        if (a > *ack_max) *ack_max = a;
    } else {
        return WN_CORE_ECORRUPT;
    }
    return WN_CORE_OK;
}

int wn_core_open(wn_core_meter *m, const wn_port *p)
{
    wn_core_memset(m, 0, sizeof *m);
    m->port = p;
    m->state_page = -1;
    if (!p || !p->flash_read || !p->flash_erase || !p->flash_program || !p->sha256 || !p->verify_bip340 ||
        !p->signer || !p->signer->sign || !p->signer->pubkey || p->page_count < 2 ||
        p->page_count > WN_CORE_MAX_PAGES || p->prog_align == 0 || p->prog_align > 64 ||
        (p->prog_align & (p->prog_align - 1)) || p->page_size < 512 || p->page_size % p->prog_align ||
        p->page_size > 0x10000 || p->signer->alg < 1 || p->signer->alg > 3)
        return WN_CORE_EPORT;
    if (!p->signer->pubkey(p->signer->ctx, m->id, m->pub33)) return WN_CORE_EPORT;
    m->alg = p->signer->alg;
    m->hdr_len = align_up(p, HDR_RAW);

    /* Headers: a valid one gives the page its generation; anything else is a free page. */
    uint32_t maxgen = 0;
    for (uint32_t pg = 0; pg < p->page_count; pg++) {
        uint8_t h[HDR_RAW], c[4];
        if (!fread_(m, pg * p->page_size, h, HDR_RAW)) return WN_CORE_EFLASH;
        check4(p, c, h, 8);
        if (wn_core_memcmp(h, "WNF1", 4) != 0 || wn_core_memcmp(c, h + 8, 4) != 0 || wn_core_get32(h + 4) == 0)
            continue;
        uint32_t g = wn_core_get32(h + 4);
        for (uint32_t q = 0; q < pg; q++)
            if (m->gen[q] == g) return WN_CORE_ECORRUPT;
        m->gen[pg] = g;
        if (g > maxgen) { maxgen = g; m->head = pg; }
    }
    m->next_gen = maxgen + 1;
    m->head_sealed = maxgen == 0; /* no page yet: the first append opens one */

    /* Records, pages in generation order. */
    int seen = 0;
    uint64_t ack_max = 0;
    uint32_t last = 0;
    uint8_t rec[REC_MAX];
    for (;;) {
        uint32_t pg = p->page_count, best = 0;
        for (uint32_t q = 0; q < p->page_count; q++)
            if (m->gen[q] > last && (best == 0 || m->gen[q] < best)) { best = m->gen[q]; pg = q; }
        if (pg == p->page_count) break;
        last = best;
        uint32_t off = m->hdr_len, total;
        int clean, r;
        while ((r = rec_at(m, pg, off, rec, &total, &clean)) == 1) {
            int err = apply(m, pg, rec, &seen, &ack_max);
            if (err) return err;
            off += total;
        }
        if (r < 0) return WN_CORE_EFLASH;
        if (!clean) m->torn_records++;
        if (pg == m->head) { m->head_off = off; m->head_sealed = !clean; }
    }
    m->acked = ack_max;
    if (m->first_seq == 0) m->acked = m->last_seq; /* every reading not on flash was acknowledged */
    else if (m->first_seq - 1 > m->acked) m->acked = m->first_seq - 1;
    return WN_CORE_OK;
}

static int program(wn_core_meter *m, uint32_t addr, const void *b, uint32_t n)
{
    if (!m->port->flash_program(m->port->ctx, addr, b, n)) { m->failed = 1; return WN_CORE_EFLASH; }
    return WN_CORE_OK;
}

static int append(wn_core_meter *m, uint8_t type, const uint8_t *payload, uint32_t len);

/* Opens a new head page: picks a page holding no unacknowledged reading and not the
 * newest chain state (a free page first, else the oldest), retires, erases and heads it,
 * then writes the chain state into it. */
static int open_page(wn_core_meter *m)
{
    const wn_port *p = m->port;
    uint32_t c = p->page_count;
    for (uint32_t q = 0; q < p->page_count && c == p->page_count; q++)
        if (m->gen[q] == 0 && (int)q != m->state_page) c = q;
    if (c == p->page_count) {
        for (uint32_t q = 0; q < p->page_count; q++) {
            if ((int)q == m->state_page || m->max_seq[q] > m->acked) continue;
            if (c == p->page_count || m->gen[q] < m->gen[c]) c = q;
        }
    }
    if (c == p->page_count) return WN_CORE_EFULL;
    uint32_t base = c * p->page_size;
    int err;
    if (m->gen[c] != 0) {
        uint8_t z[64];
        wn_core_memset(z, 0, sizeof z);
        if ((err = program(m, base, z, m->hdr_len))) return err;
        m->gen[c] = 0;
    }
    if (!p->flash_erase(p->ctx, c)) { m->failed = 1; return WN_CORE_EFLASH; }
    if (m->max_seq[c] >= m->first_seq && m->first_seq) /* the oldest readings went */
        m->first_seq = m->max_seq[c] + 1 <= m->last_seq ? m->max_seq[c] + 1 : 0;
    m->max_seq[c] = 0;
    uint8_t h[64];
    wn_core_memset(h, 0, sizeof h);
    wn_core_memcpy(h, "WNF1", 4);
    wn_core_put32(h + 4, m->next_gen);
    check4(p, h + 8, h, 8);
    if ((err = program(m, base, h, m->hdr_len))) return err;
    m->gen[c] = m->next_gen++;
    m->head = c;
    m->head_off = m->hdr_len;
    m->head_sealed = 0;
    if (m->last_seq == 0 && m->acked == 0) return WN_CORE_OK; /* nothing to carry yet */
    uint8_t s[WN_CORE_STATE_LEN];
    state_encode(m, s);
    if ((err = append(m, WN_CORE_REC_STATE, s, WN_CORE_STATE_LEN))) return err;
    m->state_page = (int)c;
    return WN_CORE_OK;
}

static int append(wn_core_meter *m, uint8_t type, const uint8_t *payload, uint32_t len)
{
    const wn_port *p = m->port;
    uint8_t rec[REC_MAX];
    uint32_t total = align_up(p, 4 + len + 4);
    int err;
    if (m->failed) return WN_CORE_EFAILED;
    if (m->head_sealed || m->head_off + total > p->page_size) {
        if ((err = open_page(m))) return err;
        if (m->head_off + total > p->page_size) return WN_CORE_EPORT;
    }
    wn_core_memset(rec, 0, total);
    rec[0] = (uint8_t)(len >> 8);
    rec[1] = (uint8_t)len;
    rec[2] = type;
    wn_core_memcpy(rec + 4, payload, len);
    check4(p, rec + 4 + len, rec, 4 + len);
    if ((err = program(m, m->head * p->page_size + m->head_off, rec, total))) return err;
    m->head_off += total;
    return WN_CORE_OK;
}

int wn_core_read(wn_core_meter *m, uint64_t time_ms, uint16_t flags, const wn_core_meas *ms, size_t count,
                 uint8_t *out, size_t *outlen, uint64_t *seq)
{
    uint8_t r[WN_CORE_READING_MAX], digest[32];
    size_t len;
    int err;
    if (m->failed) return WN_CORE_EFAILED;
    if ((err = wn_core_reading_build(m, time_ms, flags, ms, count, r, &len))) return err;
    const wn_port_signer *s = m->port->signer;
    wn_core_tagged_hash(m->port, digest, "WaterNotary/reading/v1", r, len - 64);
    if (!s->sign(s->ctx, digest, r + len - 64)) return WN_CORE_ECRYPTO;
    if (s->verify_own && !s->verify_own(s->ctx, digest, r + len - 64)) return WN_CORE_ECRYPTO;
    /* The durability point: the record is programmed before the reading leaves. */
    if ((err = append(m, WN_CORE_REC_READING, r, (uint32_t)len))) return err;
    wn_port_buf one = {r, len};
    m->port->sha256(m->port->ctx, m->prev, &one, 1);
    m->last_seq++;
    m->last_time = time_ms;
    if (wn_core_reading_volume(r, len, &m->last_volume, &m->vol_unit, &m->vol_scale)) m->have_volume = 1;
    if (!m->first_seq) m->first_seq = m->last_seq;
    m->max_seq[m->head] = m->last_seq;
    m->state_page = (int)m->head;
    if (out) wn_core_memcpy(out, r, len);
    if (outlen) *outlen = len;
    if (seq) *seq = m->last_seq;
    return WN_CORE_OK;
}

int wn_core_get(wn_core_meter *m, uint64_t seq, uint8_t *out, size_t *outlen)
{
    const wn_port *p = m->port;
    uint8_t rec[REC_MAX];
    if (seq == 0 || seq > m->last_seq) return WN_CORE_ENOTFOUND;
    /* The page holding seq is the one with the lowest highest-sequence >= seq. */
    uint32_t pg = p->page_count;
    for (uint32_t q = 0; q < p->page_count; q++)
        if (m->gen[q] && m->max_seq[q] >= seq && (pg == p->page_count || m->max_seq[q] < m->max_seq[pg])) pg = q;
    if (pg == p->page_count) return WN_CORE_ENOTFOUND;
    uint32_t off = m->hdr_len, total;
    int clean, r;
    while ((r = rec_at(m, pg, off, rec, &total, &clean)) == 1) {
        uint32_t len = (uint32_t)rec[0] << 8 | rec[1];
        if (rec[2] == WN_CORE_REC_READING && wn_core_get64(rec + 4 + 33) == seq) {
            if (out) wn_core_memcpy(out, rec + 4, len);
            if (outlen) *outlen = len;
            return WN_CORE_OK;
        }
        off += total;
    }
    return r < 0 ? WN_CORE_EFLASH : WN_CORE_ENOTFOUND;
}

int wn_core_next_pending(wn_core_meter *m, uint64_t after, uint8_t *out, size_t *len, uint64_t *seq)
{
    uint64_t s = (after > m->acked ? after : m->acked) + 1;
    if (s > m->last_seq) return WN_CORE_END;
    int err = wn_core_get(m, s, out, len);
    if (err == WN_CORE_ENOTFOUND) return WN_CORE_ECORRUPT; /* an unacknowledged reading is always kept */
    if (!err && seq) *seq = s;
    return err;
}

int wn_core_ack(wn_core_meter *m, uint64_t seq, const uint8_t *receipt, size_t rlen, const uint8_t notary[32],
                uint64_t *index)
{
    uint8_t r[WN_CORE_READING_MAX];
    size_t len;
    uint64_t idx;
    if (m->failed) return WN_CORE_EFAILED;
    int err = wn_core_get(m, seq, r, &len);
    if (err) return err;
    if ((err = wn_core_receipt_verify_reading(m->port, receipt, rlen, notary, r, len, &idx))) return err;
    if (index) *index = idx;
    if (seq <= m->acked) return WN_CORE_OK;
    if (seq != m->acked + 1) return WN_CORE_END;
    uint8_t a[WN_CORE_ACK_LEN];
    wn_core_put64(a, seq);
    wn_core_put64(a + 8, idx);
    if ((err = append(m, WN_CORE_REC_ACK, a, WN_CORE_ACK_LEN))) return err;
    m->acked = seq;
    return WN_CORE_OK;
}

void wn_core_get_counts(const wn_core_meter *m, wn_core_counts *c)
{
    wn_core_memset(c, 0, sizeof *c);
    c->last_seq = m->last_seq;
    c->last_time = m->last_time;
    c->acked = m->acked;
    c->first_seq = m->first_seq;
    c->pages = m->port->page_count;
    for (uint32_t q = 0; q < m->port->page_count; q++) c->pages_used += m->gen[q] != 0;
    c->bytes_free_in_head = m->head_sealed ? 0 : m->port->page_size - m->head_off;
    c->torn_records = m->torn_records;
    c->have_volume = m->have_volume;
    c->last_volume = m->last_volume;
}
