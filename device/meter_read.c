/* meter_read.c — the signing path: build the next reading, check it as the notary will,
 * sign it, verify the signature, append it to the log with one write and fdatasync, and
 * only then hand it out. Everything lives on the stack; nothing allocates. */
#include "device/meter.h"
#include "device/record.h"

#include "crypto/sha256.h"

#include <string.h>
#include <unistd.h>

__extension__ typedef __int128 wn_i128;

/* Volume in m3 as value / 10^exp (litres are m3 / 1000). */
static unsigned volume_exp(uint8_t unit, uint8_t scale) { return scale + (unit == WN_U_LITRE ? 3u : 0u); }

static wn_i128 pow10_i128(unsigned e)
{
    wn_i128 p = 1;
    while (e--) p *= 10;
    return p;
}

/* Returns <0, 0, >0 as volume a is below, equal to or above volume b. Exact: values are
 * below 2^63 and exponents at most 12, so the products fit in 128 bits. */
static int volume_cmp(int64_t va, unsigned ea, int64_t vb, unsigned eb)
{
    wn_i128 a = (wn_i128)va * pow10_i128(eb), b = (wn_i128)vb * pow10_i128(ea);
    return (a > b) - (a < b);
}

/* The notary's out_of_range rules (docs/PROTOCOL.md §9), so that a reading it would
 * reject — and that would then block the meter's chain — is never signed. */
static int in_range(const wn_measurement *x)
{
    switch (x->quantity) {
    case WN_Q_VOLUME: case WN_Q_FLOW: case WN_Q_CONDUCTIVITY: case WN_Q_TURBIDITY:
        return x->value >= 0;
    case WN_Q_PH: {
        int64_t p = 1;
        for (unsigned i = 0; i < x->scale; i++) p *= 10;
        return x->value >= 0 && x->value <= 14 * p;
    }
    default:
        return 1;
    }
}

/* Fills r with the next reading (unsigned). Returns: WN_METER_OK or a caller error. */
static int build(const wn_meter *m, wn_reading *r, uint64_t time_ms, uint16_t flags,
                 const wn_measurement *ms, size_t count)
{
    if (m->last_seq >= WN_READING_MAX_SEQ) return WN_METER_EFULL;
    if (time_ms > WN_READING_MAX_TIME || time_ms < m->last_time) return WN_METER_ETIME;
    if (!ms || count == 0 || count > WN_READING_MAX_MEAS || (flags & ~(unsigned)WN_FLAG_ALL)) return WN_METER_EARG;

    memset(r, 0, sizeof *r);
    r->version = WN_READING_VERSION;
    memcpy(r->meter, m->id, WN_XONLY_LEN);
    r->seq = m->last_seq + 1;
    r->time_ms = time_ms;
    memcpy(r->prev, m->prev, 32);
    r->flags = flags;
    r->count = (uint8_t)count;
    r->alg = m->alg;
    for (size_t i = 0; i < count; i++) { /* insertion sort by quantity */
        size_t j = i;
        while (j > 0 && r->m[j - 1].quantity > ms[i].quantity) { r->m[j] = r->m[j - 1]; j--; }
        r->m[j] = ms[i];
    }
    if (wn_reading_check(r) != WN_READING_OK) return WN_METER_EARG;
    for (size_t i = 0; i < count; i++) {
        const wn_measurement *x = &r->m[i];
        if (!in_range(x)) return WN_METER_ERANGE;
        if (x->quantity == WN_Q_VOLUME && m->have_volume && !(flags & WN_FLAG_METER_REPLACED) &&
            volume_cmp(x->value, volume_exp(x->unit, x->scale), m->last_volume,
                       volume_exp(m->last_volume_unit, m->last_volume_scale)) < 0)
            return WN_METER_EVOLUME;
    }
    return WN_METER_OK;
}

static int sign_and_verify(const wn_meter *m, wn_reading *r)
{
    int err = m->alg == WN_ALG_ECDSA ? wn_reading_sign_ecdsa(r, m->seckey)
              : m->alg == WN_ALG_BIP340 ? wn_reading_sign(r, m->seckey)
                                        : wn_reading_sign_evp(r, m->alg, m->seckey);
    if (err != WN_READING_OK) return WN_METER_ECRYPTO;
    /* A fault during signing must not put a bad signature into the chain for good. */
    err = m->alg == WN_ALG_BIP340 ? wn_reading_verify(r, NULL, 0) : wn_reading_verify(r, m->pub33, WN_PUB33_LEN);
    return err == WN_READING_OK ? WN_METER_OK : WN_METER_ECRYPTO;
}

int wn_meter_read(wn_meter *m, uint64_t time_ms, uint16_t flags, const wn_measurement *ms,
                  size_t count, uint8_t out[WN_READING_MAX_LEN], size_t *outlen, uint64_t *seq)
{
    wn_reading r;
    uint8_t rec[WN_MREC_MAX];
    size_t len;
    int err;

    if (m->failed) return WN_METER_EFAILED;
    if ((err = build(m, &r, time_ms, flags, ms, count)) || (err = sign_and_verify(m, &r))) return err;
    if (wn_reading_encode(&r, rec + 2, WN_READING_MAX_LEN, &len) != WN_READING_OK) return WN_METER_EARG;
    size_t total = wn_mrec_seal(rec, len);

    /* The durability point: one write, then fdatasync. If either fails we cannot know
     * what reached the disk, so the handle refuses further writes; reopening recovers
     * the truth from the log. The reading is not returned, so it was never sent. */
    if (!wn_mfile_pwrite(m->logfd, rec, total, m->log_end) || fdatasync(m->logfd) != 0) {
        m->failed = 1;
        return WN_METER_EIO;
    }
    if (m->last_seq == 0) m->first_seq = r.seq;
    /* ack_off is unchanged: if nothing was pending it pointed at log_end, which is now
     * this record, the first pending one. */
    m->last_off = m->log_end;
    m->log_end += total;
    m->last_seq = r.seq;
    m->last_time = time_ms;
    wn_sha256(m->prev, rec + 2, len);
    wn_mstate_note_volume(m, &r);
    if (out) memcpy(out, rec + 2, len);
    if (outlen) *outlen = len;
    if (seq) *seq = r.seq;
    return WN_METER_OK;
}
