/* meter_state.c — the meter's state record (meter.state): what a full scan of the logs
 * computes (positions, sequence and chain state, ack watermark), saved so that opening a
 * meter costs O(1) in the length of its logs instead of a scan.
 *
 * The record is a hint, never trusted over the logs. It is written at close (and every
 * WN_MSTATE_EVERY appends) with the atomic replace but no fsync: after a crash it may be
 * old, torn or missing. On open it is used only if it checks out against the logs: its
 * check bytes match; the readings-log record it names as the last one is there, ends
 * exactly where the record says the valid log ends, and has the recorded sequence,
 * digest and time; the first record has the recorded first sequence; the record of the
 * first unacked sequence is where it says; the last receipt record is whole where it says.
 * Everything after the recorded ends (readings and receipts appended since, a torn tail)
 * is then read and checked exactly as a full scan would, so the state after open is the
 * state a full scan gives. Anything that does not check out: a full scan, as before.
 *
 *   meter.state  "WNMSTAT1" || u64 log_end || u64 last_off || u64 first_seq ||
 *                u64 last_seq || u64 last_time || prev[32] || u8 have_volume ||
 *                u64 last_volume || u8 unit || u8 scale || u64 rcpt_end ||
 *                u64 rcpt_last_off || u64 rcpt_count || u64 acked || u64 ack_off ||
 *                window[WN_METER_ACK_WINDOW/64] (u64 each) || u8 acks_beyond || check4
 *
 * What the logs cannot confirm in O(1) is not taken from the record: a non-empty
 * out-of-order window, or acks_beyond (a receipt beyond the window), makes the open read
 * the whole receipts log again to recompute the watermark (as before this record existed;
 * a meter pushing in order acks in order, so this is rare). rcpt_count is a cached counter
 * for `wn-meter status`, nothing is decided on it. */
#include "device/record.h"
#include "device/meter.h"

#include "crypto/encoding.h"
#include "crypto/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MSTATE_MAGIC "WNMSTAT1"
#define NWIN (WN_METER_ACK_WINDOW / 64)
#define MSTATE_LEN (8 + 5 * 8 + 32 + 1 + 8 + 2 + 5 * 8 + NWIN * 8 + 1 + WN_MREC_CHECK)

static size_t encode(const wn_meter *m, uint8_t out[MSTATE_LEN])
{
    size_t n = 0;
    memcpy(out, MSTATE_MAGIC, 8), n += 8;
    wn_put_u64(out + n, m->log_end), n += 8;
    wn_put_u64(out + n, m->last_off), n += 8;
    wn_put_u64(out + n, m->first_seq), n += 8;
    wn_put_u64(out + n, m->last_seq), n += 8;
    wn_put_u64(out + n, m->last_time), n += 8;
    memcpy(out + n, m->prev, 32), n += 32;
    out[n++] = (uint8_t)(m->have_volume != 0);
    wn_put_u64(out + n, (uint64_t)m->last_volume), n += 8;
    out[n++] = m->last_volume_unit;
    out[n++] = m->last_volume_scale;
    wn_put_u64(out + n, m->rcpt_end), n += 8;
    wn_put_u64(out + n, m->rcpt_last_off), n += 8;
    wn_put_u64(out + n, m->rcpt_count), n += 8;
    wn_put_u64(out + n, m->acked), n += 8;
    wn_put_u64(out + n, m->ack_off), n += 8;
    for (size_t i = 0; i < NWIN; i++) wn_put_u64(out + n, m->window[i]), n += 8;
    out[n++] = (uint8_t)(m->acks_beyond != 0);
    uint8_t h[32];
    wn_sha256(h, out, n);
    memcpy(out + n, h, WN_MREC_CHECK), n += WN_MREC_CHECK;
    return n;
}

void wn_mstate_save(wn_meter *m)
{
    uint8_t b[MSTATE_LEN];
    if (m->failed || m->dirfd < 0) return;
    size_t n = encode(m, b);
    /* write temp, rename: never a half-written record under the name (no fsync: a hint) */
    int fd = openat(m->dirfd, WN_MSTATE_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    int ok = wn_mfile_pwrite(fd, b, n, 0);
    close(fd);
    if (!ok || renameat(m->dirfd, WN_MSTATE_NAME ".tmp", m->dirfd, WN_MSTATE_NAME) != 0)
        unlinkat(m->dirfd, WN_MSTATE_NAME ".tmp", 0);
    m->since_save = 0;
}

void wn_mstate_forget(wn_meter *m)
{
    if (unlinkat(m->dirfd, WN_MSTATE_NAME, 0) != 0 && errno != ENOENT) m->failed = 1;
}

/* Returns: 1 if the readings-log record at off is whole, ends at end, and is reading seq
 * (its digest prev and time, if prev is given). */
static int record_is(wn_meter *m, uint64_t off, uint64_t end, uint64_t seq, const uint8_t *prev, uint64_t time_ms)
{
    uint8_t rec[WN_MREC_MAX], d[32];
    size_t total;
    wn_reading r;
    if (wn_mrec_read(m->logfd, off, end, rec, &total) != WN_METER_OK) return 0;
    size_t len = total - 2 - WN_MREC_CHECK;
    if (wn_reading_decode(&r, rec + 2, len) != WN_READING_OK || r.seq != seq ||
        memcmp(r.meter, m->id, WN_XONLY_LEN) != 0 || r.alg != m->alg)
        return 0;
    if (!prev) return 1;
    wn_sha256(d, rec + 2, len);
    return off + total == end && memcmp(d, prev, 32) == 0 && r.time_ms == time_ms;
}

int wn_mstate_load(wn_meter *m, uint64_t logsize, uint64_t rcptsize)
{
    uint8_t b[MSTATE_LEN], h[32];
    int fd = openat(m->dirfd, WN_MSTATE_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = pread(fd, b, sizeof b, 0);
    uint8_t extra;
    int longer = pread(fd, &extra, 1, sizeof b) > 0;
    close(fd);
    if (got != (ssize_t)sizeof b || longer || memcmp(b, MSTATE_MAGIC, 8) != 0) return 0;
    wn_sha256(h, b, MSTATE_LEN - WN_MREC_CHECK);
    if (memcmp(h, b + MSTATE_LEN - WN_MREC_CHECK, WN_MREC_CHECK) != 0) return 0;
    wn_meter s = *m; /* decoded into a copy: m changes only if everything checks out */
    const uint8_t *p = b + 8;
    s.log_end = wn_get_u64(p), p += 8;
    s.last_off = wn_get_u64(p), p += 8;
    s.first_seq = wn_get_u64(p), p += 8;
    s.last_seq = wn_get_u64(p), p += 8;
    s.last_time = wn_get_u64(p), p += 8;
    memcpy(s.prev, p, 32), p += 32;
    s.have_volume = *p++ != 0;
    s.last_volume = (int64_t)wn_get_u64(p), p += 8;
    s.last_volume_unit = *p++;
    s.last_volume_scale = *p++;
    s.rcpt_end = wn_get_u64(p), p += 8;
    s.rcpt_last_off = wn_get_u64(p), p += 8;
    s.rcpt_count = wn_get_u64(p), p += 8;
    s.acked = wn_get_u64(p), p += 8;
    s.ack_off = wn_get_u64(p), p += 8;
    for (size_t i = 0; i < NWIN; i++) s.window[i] = wn_get_u64(p), p += 8;
    s.acks_beyond = *p++ != 0;

    /* the readings log: positions inside the file, the last and first records as stated */
    if (s.log_end < WN_MFILE_HDR || s.log_end > logsize || s.ack_off < WN_MFILE_HDR || s.ack_off > s.log_end)
        return 0;
    if (s.last_seq == 0) {
        if (s.log_end != WN_MFILE_HDR || s.first_seq != 0 || s.acked != 0 || s.rcpt_end != WN_MFILE_HDR) return 0;
    } else {
        if (s.first_seq == 0 || s.first_seq > s.last_seq || s.last_off < WN_MFILE_HDR || s.last_off >= s.log_end ||
            !record_is(&s, s.last_off, s.log_end, s.last_seq, s.prev, s.last_time) ||
            !record_is(&s, WN_MFILE_HDR, s.log_end, s.first_seq, NULL, 0))
            return 0;
        /* the watermark: the record of acked + 1 is where ack_off says */
        if (s.acked + 1 < s.first_seq) return 0;
        if (s.ack_off < s.log_end ? !record_is(&s, s.ack_off, s.log_end, s.acked + 1, NULL, 0) : s.acked < s.last_seq)
            return 0;
    }
    /* the receipts log: its last record whole where stated */
    if (s.rcpt_end < WN_MFILE_HDR || s.rcpt_end > rcptsize) return 0;
    if (s.rcpt_end > WN_MFILE_HDR) {
        uint8_t rec[WN_MRCPT_MAX];
        size_t total;
        if (s.rcpt_last_off < WN_MFILE_HDR ||
            wn_mrcpt_read(s.rcptfd, s.rcpt_last_off, s.rcpt_end, rec, &total) != WN_METER_OK ||
            s.rcpt_last_off + total != s.rcpt_end || s.rcpt_count == 0)
            return 0;
    } else if (s.rcpt_count != 0) {
        return 0;
    }
    *m = s;
    return 1;
}
