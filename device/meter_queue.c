/* meter_queue.c — the queue side of a meter: iterating logged and pending readings,
 * recording verified receipts (the ack watermark plus a window for receipts that arrive
 * out of order), looking receipts up, counts, and compaction of the readings log. */
#include "device/meter.h"
#include "device/record.h"
#include "device/core/core.h"
#include "device/port/posix/posix_port.h"

#include "crypto/encoding.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The sequence number of the reading in a record (rec = u16 len || reading). */
static uint64_t rec_seq(const uint8_t *rec) { return wn_get_u64(rec + 2 + 33); }

int wn_meter_is_acked(const wn_meter *m, uint64_t seq)
{
    if (seq <= m->acked) return 1;
    if (seq > m->last_seq) return 0;
    uint64_t d = seq - m->acked - 1;
    return d < WN_METER_ACK_WINDOW && (m->window[d / 64] >> (d % 64) & 1);
}

void wn_meter_pending_begin(const wn_meter *m, wn_meter_iter *it)
{
    it->off = m->ack_off;
    it->pending_only = 1;
}

void wn_meter_log_begin(const wn_meter *m, wn_meter_iter *it)
{
    (void)m;
    it->off = WN_MFILE_HDR;
    it->pending_only = 0;
}

int wn_meter_next(wn_meter *m, wn_meter_iter *it, uint8_t out[WN_READING_MAX_LEN], size_t *len, uint64_t *seq)
{
    uint8_t rec[WN_MREC_MAX];
    while (it->off < m->log_end) {
        size_t total;
        int err = wn_mrec_read(m->logfd, it->off, m->log_end, rec, &total);
        if (err) return err;
        it->off += total;
        uint64_t s = rec_seq(rec);
        if (it->pending_only && wn_meter_is_acked(m, s)) continue;
        if (out) memcpy(out, rec + 2, total - 2 - WN_MREC_CHECK);
        if (len) *len = total - 2 - WN_MREC_CHECK;
        if (seq) *seq = s;
        return WN_METER_OK;
    }
    return WN_METER_END;
}

/* Offset of the record of seq (first_seq <= seq <= last_seq): records hold consecutive
 * sequence numbers, so step over lengths from the nearest known offset. */
static int find_record(wn_meter *m, uint64_t seq, uint64_t *off)
{
    uint64_t o = WN_MFILE_HDR, s = m->first_seq;
    if (seq == m->last_seq) { *off = m->last_off; return WN_METER_OK; }
    if (seq > m->acked && m->ack_off < m->log_end) { o = m->ack_off; s = m->acked + 1; }
    for (; s < seq; s++) {
        size_t t;
        int err = wn_mrec_len_at(m->logfd, o, m->log_end, &t);
        if (err) return err;
        o += t;
    }
    *off = o;
    return WN_METER_OK;
}

static int read_seq(wn_meter *m, uint64_t seq, uint8_t rec[WN_MREC_MAX], size_t *total)
{
    uint64_t off;
    int err;
    if (m->last_seq == 0 || seq < m->first_seq || seq > m->last_seq) return WN_METER_ENOTFOUND;
    if ((err = find_record(m, seq, &off)) || (err = wn_mrec_read(m->logfd, off, m->log_end, rec, total))) return err;
    return rec_seq(rec) == seq ? WN_METER_OK : WN_METER_ECORRUPT;
}

int wn_meter_get(wn_meter *m, uint64_t seq, uint8_t out[WN_READING_MAX_LEN], size_t *len)
{
    uint8_t rec[WN_MREC_MAX];
    size_t total;
    int err = read_seq(m, seq, rec, &total);
    if (err) return err;
    if (out) memcpy(out, rec + 2, total - 2 - WN_MREC_CHECK);
    if (len) *len = total - 2 - WN_MREC_CHECK;
    return WN_METER_OK;
}

/* Marks seq acked in memory: set its window bit, then move the watermark (and ack_off)
 * over every acked sequence that now follows it. */
int wn_mstate_mark_acked(wn_meter *m, uint64_t seq)
{
    uint64_t d = seq - m->acked - 1;
    if (d >= WN_METER_ACK_WINDOW) { m->acks_beyond = 1; return WN_METER_OK; } /* stays pending; see meter.h */
    m->window[d / 64] |= 1ULL << (d % 64);
    while (m->window[0] & 1) {
        size_t t;
        int err = wn_mrec_len_at(m->logfd, m->ack_off, m->log_end, &t);
        if (err) return err;
        wn_mstate_window_shift(m->window);
        m->acked++;
        m->ack_off += t;
    }
    return WN_METER_OK;
}

int wn_meter_ack(wn_meter *m, uint64_t seq, const wn_receipt *rc, const uint8_t notary[WN_XONLY_LEN])
{
    uint8_t rec[WN_MREC_MAX], r[WN_MRCPT_MAX];
    size_t total;
    int err;

    if (m->failed) return WN_METER_EFAILED;
    if ((err = read_seq(m, seq, rec, &total))) return err;
    if (!wn_receipt_is_for_reading(rc, rec + 2, total - 2 - WN_MREC_CHECK)) return WN_METER_ELEAF;
    /* The receipt's bytes checked by the meter core (device/core/receipt.c, the same code
     * the firmware runs): version 2 head, path to the commit root, signature; version 1
     * signature; its leaf, the reading's (timed or not) as just checked. */
    uint8_t rb[WN_RECEIPT_MAX_LEN];
    size_t rl = wn_receipt_encode(rc, rb);
    err = rl ? wn_core_receipt_verify_reading(wn_posix_verify_port(), rb, rl, notary, rec + 2,
                                              total - 2 - WN_MREC_CHECK, NULL)
             : WN_CORE_ERECEIPT;
    if (err == WN_CORE_ELEAF) return WN_METER_ELEAF;
    if (err != WN_CORE_OK) return WN_METER_ESIG;
    if (wn_meter_is_acked(m, seq)) return WN_METER_OK;

    size_t n = wn_mrcpt_seal(r, seq, rc);
    if (!wn_mfile_pwrite(m->rcptfd, r, n, m->rcpt_end) || fdatasync(m->rcptfd) != 0) {
        m->failed = 1;
        return WN_METER_EIO;
    }
    m->rcpt_last_off = m->rcpt_end;
    m->rcpt_end += n;
    m->rcpt_count++;
    if ((err = wn_mstate_mark_acked(m, seq))) { m->failed = 1; return err; }
    if (++m->since_save >= WN_MSTATE_EVERY) wn_mstate_save(m);
    return WN_METER_OK;
}

int wn_meter_receipt(wn_meter *m, uint64_t seq, wn_receipt *rc)
{
    uint8_t r[WN_MRCPT_MAX];
    int found = 0;
    for (uint64_t off = WN_MFILE_HDR; off < m->rcpt_end;) {
        size_t total;
        int err = wn_mrcpt_read(m->rcptfd, off, m->rcpt_end, r, &total);
        if (err) return err;
        off += total;
        if (wn_get_u64(r + 2) != seq) continue;
        if (!wn_receipt_decode(rc, r + WN_MRCPT_HDR, total - WN_MRCPT_HDR - WN_MREC_CHECK)) return WN_METER_ECORRUPT;
        found = 1; /* the last one logged wins */
    }
    return found ? WN_METER_OK : WN_METER_ENOTFOUND;
}

void wn_meter_get_counts(const wn_meter *m, wn_meter_counts *c)
{
    uint64_t out_of_order = 0;
    for (size_t i = 0; i < WN_METER_ACK_WINDOW / 64; i++) out_of_order += (uint64_t)__builtin_popcountll(m->window[i]);
    memset(c, 0, sizeof *c);
    c->next_seq = m->last_seq + 1;
    c->first_seq = m->first_seq;
    c->last_seq = m->last_seq;
    c->last_time = m->last_time;
    c->logged = m->last_seq ? m->last_seq - m->first_seq + 1 : 0;
    c->acked_through = m->acked;
    c->pending = m->last_seq > m->acked ? m->last_seq - m->acked - out_of_order : 0;
    c->receipts = m->rcpt_count;
    c->log_bytes = m->log_end;
}

/* Copies fd[from, to) to the end of out (at offset at). */
static int copy_range(int in, uint64_t from, uint64_t to, int out, uint64_t at)
{
    uint8_t buf[16384];
    while (from < to) {
        size_t n = to - from < sizeof buf ? (size_t)(to - from) : sizeof buf;
        if (!wn_mfile_pread(in, buf, n, from) || !wn_mfile_pwrite(out, buf, n, at)) return 0;
        from += n;
        at += n;
    }
    return 1;
}

int wn_meter_compact(wn_meter *m)
{
    if (m->failed) return WN_METER_EFAILED;
    if (m->last_seq == 0) return WN_METER_OK;
    int pending = m->ack_off < m->log_end;
    uint64_t keep = pending ? m->ack_off : m->last_off;
    if (keep == WN_MFILE_HDR) return WN_METER_OK; /* nothing to drop */

    wn_mstate_forget(m); /* its offsets are about to change */
    if (m->failed) return WN_METER_EIO;
    int fd = openat(m->dirfd, WN_MLOG_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return WN_METER_EIO;
    if (!wn_mfile_pwrite(fd, WN_MLOG_MAGIC, WN_MFILE_HDR, 0) ||
        !copy_range(m->logfd, keep, m->log_end, fd, WN_MFILE_HDR) || fsync(fd) != 0) {
        close(fd);
        unlinkat(m->dirfd, WN_MLOG_TMP, 0);
        return WN_METER_EIO;
    }
    /* The switch: before the rename the old log is the log, after it the new one; both
     * recover to the same state. */
    if (renameat(m->dirfd, WN_MLOG_TMP, m->dirfd, WN_MLOG_NAME) != 0) {
        close(fd);
        unlinkat(m->dirfd, WN_MLOG_TMP, 0);
        return WN_METER_EIO;
    }
    close(m->logfd);
    m->logfd = fd;
    uint64_t delta = keep - WN_MFILE_HDR;
    m->first_seq = pending ? m->acked + 1 : m->last_seq;
    m->log_end -= delta;
    m->last_off -= delta;
    m->ack_off -= delta;
    if (fsync(m->dirfd) != 0) { m->failed = 1; return WN_METER_EIO; }
    wn_mstate_save(m);
    return WN_METER_OK;
}
