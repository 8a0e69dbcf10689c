/* reading.c — the canonical version 1 reading (PROTOCOL §2) built by the core: fields in
 * byte order, measurements sorted by quantity, every rule the notary applies (units per
 * quantity, scale, flags, time, the out_of_range values, a cumulative volume that never
 * runs backwards unless the meter was replaced) checked before anything is signed. */
#include "device/core/core_int.h"

void wn_core_tagged_hash(const wn_port *port, uint8_t out[32], const char *tag, const uint8_t *msg, size_t len)
{
    uint8_t th[32];
    size_t tl = 0;
    while (tag[tl]) tl++;
    wn_port_buf one = {tag, tl};
    port->sha256(port->ctx, th, &one, 1);
    wn_port_buf parts[3] = {{th, 32}, {th, 32}, {msg, len}};
    port->sha256(port->ctx, out, parts, 3);
}

static int unit_allowed(unsigned q, unsigned u)
{
    switch (q) {
    case 1: return u == 1 || u == 2;  /* volume: m3, L */
    case 2: return u == 3 || u == 4;  /* flow: m3/h, L/s */
    case 3: return u == 5;            /* pH */
    case 4: return u == 6;            /* uS/cm */
    case 5: return u == 7;            /* NTU */
    case 6: return u == 8 || u == 9;  /* kPa, MPa */
    case 7: return u == 10;           /* degC */
    case 8: return u == 11;           /* RFU */
    default: return 0;
    }
}

/* The node's out_of_range rules (PROTOCOL §9). */
static int in_range(const wn_core_meas *x)
{
    if (x->quantity == 1 || x->quantity == 2 || x->quantity == 4 || x->quantity == 5) return x->value >= 0;
    if (x->quantity == 3) {
        int64_t p = 1;
        for (unsigned i = 0; i < x->scale; i++) p *= 10;
        return x->value >= 0 && x->value <= 14 * p;
    }
    return 1;
}

/* Compares two non-negative volumes value/10^exp (litres: exp + 3) without 128-bit
 * arithmetic: scale the one with the smaller exponent up; an overflow means it is larger. */
static int volume_cmp(int64_t va, unsigned ea, int64_t vb, unsigned eb)
{
    int flip = 0;
    if (ea > eb) { int64_t tv = va; va = vb; vb = tv; unsigned te = ea; ea = eb; eb = te; flip = 1; }
    uint64_t a = (uint64_t)va;
    for (unsigned i = ea; i < eb; i++) {
        if (a > UINT64_MAX / 10) return flip ? -1 : 1;
        a *= 10;
    }
    int c = a > (uint64_t)vb ? 1 : a < (uint64_t)vb ? -1 : 0;
    return flip ? -c : c;
}

static unsigned vol_exp(uint8_t unit, uint8_t scale) { return scale + (unit == 2 ? 3u : 0u); }

int wn_core_reading_build(const wn_core_meter *m, uint64_t time_ms, uint16_t flags, const wn_core_meas *ms,
                          size_t count, uint8_t out[WN_CORE_READING_MAX], size_t *len)
{
    wn_core_meas s[WN_CORE_MAX_MEAS];
    if (m->last_seq >= WN_CORE_MAX_SEQ) return WN_CORE_ESEQ;
    if (time_ms > WN_CORE_MAX_TIME || time_ms < m->last_time) return WN_CORE_ETIME;
    if (!ms || count == 0 || count > WN_CORE_MAX_MEAS || (flags & ~(unsigned)WN_CORE_FLAG_ALL)) return WN_CORE_EARG;
    for (size_t i = 0; i < count; i++) { /* insertion sort by quantity */
        size_t j = i;
        while (j > 0 && s[j - 1].quantity > ms[i].quantity) { s[j] = s[j - 1]; j--; }
        s[j] = ms[i];
    }
    for (size_t i = 0; i < count; i++) {
        const wn_core_meas *x = &s[i];
        if (!unit_allowed(x->quantity, x->unit) || x->scale > 9 || (i > 0 && s[i - 1].quantity == x->quantity))
            return WN_CORE_EARG;
        if (!in_range(x)) return WN_CORE_ERANGE;
        if (x->quantity == 1 && m->have_volume && !(flags & WN_CORE_FLAG_METER_REPLACED) &&
            volume_cmp(x->value, vol_exp(x->unit, x->scale), m->last_volume, vol_exp(m->vol_unit, m->vol_scale)) < 0)
            return WN_CORE_EVOLUME;
    }
    out[0] = 1;
    wn_core_memcpy(out + 1, m->id, 32);
    wn_core_put64(out + 33, m->last_seq + 1);
    wn_core_put64(out + 41, time_ms);
    wn_core_memcpy(out + 49, m->prev, 32);
    out[81] = (uint8_t)(flags >> 8);
    out[82] = (uint8_t)flags;
    out[83] = (uint8_t)count;
    uint8_t *p = out + 84;
    for (size_t i = 0; i < count; i++, p += WN_CORE_MEAS_LEN) {
        p[0] = s[i].quantity; p[1] = s[i].unit; p[2] = s[i].scale;
        wn_core_put64(p + 3, (uint64_t)s[i].value);
    }
    p[0] = m->alg;
    wn_core_memset(p + 1, 0, 64);
    *len = WN_CORE_READING_FIXED + WN_CORE_MEAS_LEN * count;
    return WN_CORE_OK;
}

int wn_core_reading_volume(const uint8_t *r, size_t len, int64_t *value, uint8_t *unit, uint8_t *scale)
{
    if (len < WN_CORE_READING_FIXED) return 0;
    unsigned n = r[83];
    if (len != WN_CORE_READING_FIXED + WN_CORE_MEAS_LEN * (size_t)n) return 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = r + 84 + WN_CORE_MEAS_LEN * i;
        if (p[0] != 1) continue;
        *unit = p[1];
        *scale = p[2];
        *value = (int64_t)wn_core_get64(p + 3);
        return 1;
    }
    return 0;
}
