/* meter_read.c — the signing path: build the next reading, check it as the notary will,
 * sign it, verify the signature, append it to the log with one write and fdatasync, and
 * only then hand it out. Everything lives on the stack; nothing allocates. */
#include "device/meter.h"
#include "device/record.h"
#include "device/core/core.h"

#include "crypto/sha256.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fills r with the next reading (unsigned), built and checked by the meter core
 * (device/core/reading.c, the code the firmware runs): sequence and chain from m, the
 * measurements sorted, and the notary's rules (units, scale, flags, time, out_of_range,
 * a volume that never runs backwards without METER_REPLACED) applied before anything is
 * signed. Returns: WN_METER_OK or a caller error. */
static int build(const wn_meter *m, wn_reading *r, uint64_t time_ms, uint16_t flags,
                 const wn_measurement *ms, size_t count)
{
    wn_core_meter c; /* only its chain fields are used */
    wn_core_meas cm[WN_CORE_MAX_MEAS];
    uint8_t b[WN_CORE_READING_MAX];
    size_t len;
    if (m->last_seq >= WN_READING_MAX_SEQ) return WN_METER_EFULL;
    if (time_ms > WN_READING_MAX_TIME || time_ms < m->last_time) return WN_METER_ETIME;
    if (!ms || count == 0 || count > WN_READING_MAX_MEAS || (flags & ~(unsigned)WN_FLAG_ALL)) return WN_METER_EARG;
    if (count > WN_CORE_MAX_MEAS) return WN_METER_EARG; /* more than 8: a quantity repeats */
    memset(&c, 0, sizeof c);
    c.alg = m->alg;
    memcpy(c.id, m->id, 32);
    c.last_seq = m->last_seq;
    c.last_time = m->last_time;
    memcpy(c.prev, m->prev, 32);
    c.have_volume = m->have_volume;
    c.last_volume = m->last_volume;
    c.vol_unit = m->last_volume_unit;
    c.vol_scale = m->last_volume_scale;
    for (size_t i = 0; i < count; i++) cm[i] = (wn_core_meas){ms[i].quantity, ms[i].unit, ms[i].scale, ms[i].value};
    switch (wn_core_reading_build(&c, time_ms, flags, cm, count, b, &len)) {
    case WN_CORE_OK: break;
    case WN_CORE_ESEQ: return WN_METER_EFULL;
    case WN_CORE_ETIME: return WN_METER_ETIME;
    case WN_CORE_EVOLUME: return WN_METER_EVOLUME;
    case WN_CORE_ERANGE: return WN_METER_ERANGE;
    default: return WN_METER_EARG;
    }
    if (wn_reading_decode(r, b, len) != WN_READING_OK || wn_reading_check(r) != WN_READING_OK) return WN_METER_EARG;
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
    if (++m->since_save >= WN_MSTATE_EVERY) wn_mstate_save(m);
    if (out) memcpy(out, rec + 2, len);
    if (outlen) *outlen = len;
    if (seq) *seq = r.seq;
    return WN_METER_OK;
}

int wn_meter_read_many(wn_meter *m, const wn_meter_input *in, size_t n, uint8_t *out, size_t *lens,
                       uint64_t *first_seq, size_t *failed_at)
{
    if (m->failed) return WN_METER_EFAILED;
    if (n == 0 || n > WN_METER_MANY_MAX) return WN_METER_EARG;
    uint8_t *buf = malloc(n * WN_MREC_MAX);
    if (!buf) return WN_METER_EIO;
    wn_meter saved = *m; /* the state before the group: back to it if a reading fails a check */
    size_t used = 0;
    int err = WN_METER_OK;
    for (size_t i = 0; i < n; i++) {
        wn_reading r;
        size_t len;
        if ((err = build(m, &r, in[i].time_ms, in[i].flags, in[i].ms, in[i].count)) ||
            (err = sign_and_verify(m, &r)) ||
            (err = wn_reading_encode(&r, buf + used + 2, WN_READING_MAX_LEN, &len) != WN_READING_OK ? WN_METER_EARG
                                                                                                   : WN_METER_OK)) {
            *m = saved;
            if (failed_at) *failed_at = i;
            free(buf);
            explicit_bzero(&saved, sizeof saved);
            return err;
        }
        size_t total = wn_mrec_seal(buf + used, len);
        /* the state moves on provisionally: the next reading chains to this one */
        if (m->last_seq == 0) m->first_seq = r.seq;
        m->last_off = m->log_end + used;
        m->last_seq = r.seq;
        m->last_time = r.time_ms;
        wn_sha256(m->prev, buf + used + 2, len);
        wn_mstate_note_volume(m, &r);
        if (out) memcpy(out + i * WN_READING_MAX_LEN, buf + used + 2, len);
        if (lens) lens[i] = len;
        used += total;
    }
    explicit_bzero(&saved, sizeof saved);
    /* The durability point for the whole group: one write, then fdatasync. */
    if (!wn_mfile_pwrite(m->logfd, buf, used, m->log_end) || fdatasync(m->logfd) != 0) {
        m->failed = 1;
        free(buf);
        return WN_METER_EIO;
    }
    free(buf);
    if (first_seq) *first_seq = m->last_seq - n + 1;
    m->log_end += used;
    m->since_save += n;
    if (m->since_save >= WN_MSTATE_EVERY) wn_mstate_save(m);
    return WN_METER_OK;
}
