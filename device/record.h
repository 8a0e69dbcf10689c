/* record.h — internal to device/: the record framing of the meter's state files and the
 * small durable-file helpers the meter code shares. Formats: docs/PROTOCOL.md §10.
 *
 *   readings.log   "WNMRLOG1" then records  u16 len || reading[len] || check4
 *   receipts.log   "WNMRCPT2" then records  u16 len || u64 seq || receipt[len] || check4
 *                  (older meters: "WNMRCPT1" then u64 seq || receipt[113] || check4, converted
 *                  to the current form when the meter opens)
 *
 * check4 is the first 4 bytes of SHA-256 of the record bytes before it. */
#ifndef WN_DEVICE_RECORD_H
#define WN_DEVICE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "device/meter.h"

#define WN_MLOG_NAME "readings.log"
#define WN_MLOG_TMP "readings.log.tmp"
#define WN_MRCPT_NAME "receipts.log"
#define WN_MCONF_NAME "meter.conf"
#define WN_MKEY_NAME "meter.key"
#define WN_MSTATE_NAME "meter.state"
#define WN_MSTATE_EVERY 4096 /* appends between saves of meter.state by a long-running process */

#define WN_MLOG_MAGIC "WNMRLOG1"
#define WN_MRCPT_MAGIC "WNMRCPT2"
#define WN_MRCPT_MAGIC_V1 "WNMRCPT1"
#define WN_MFILE_HDR 8                               /* magic length */
#define WN_MREC_CHECK 4
#define WN_MREC_MIN (2 + WN_READING_FIXED_LEN + WN_READING_MEAS_LEN + WN_MREC_CHECK)
#define WN_MREC_MAX (2 + WN_READING_MAX_LEN + WN_MREC_CHECK)
#define WN_MRCPT_V1_REC (8 + WN_RECEIPT_LEN + WN_MREC_CHECK) /* 125: a record of a WNMRCPT1 log */
#define WN_MRCPT_HDR 10                                       /* u16 len || u64 seq */
#define WN_MRCPT_MIN (WN_MRCPT_HDR + WN_RECEIPT_LEN + WN_MREC_CHECK)
#define WN_MRCPT_MAX (WN_MRCPT_HDR + WN_RECEIPT_MAX_LEN + WN_MREC_CHECK)

/* Frames a reading already placed at rec+2 (len bytes): writes the length and the check.
 * Returns: the record length, len + 6. */
size_t wn_mrec_seal(uint8_t *rec, size_t len);

/* Frames a receipt record for reading seq. Returns: the record length. */
size_t wn_mrcpt_seal(uint8_t rec[WN_MRCPT_MAX], uint64_t seq, const wn_receipt *rc);

/* Reads the receipts-log record at off (< end) into rec, checks its length and check bytes.
 * Out: *total. Returns: WN_METER_OK, WN_METER_ECORRUPT (bad length or check) or WN_METER_EIO. */
int wn_mrcpt_read(int fd, uint64_t off, uint64_t end, uint8_t rec[WN_MRCPT_MAX], size_t *total);

/* Returns: 1 if the last 4 bytes of rec[0..total) are the check of the bytes before. */
int wn_mrec_check_ok(const uint8_t *rec, size_t total);

/* Reads the readings-log record at off (which must be < end, the valid size) into rec.
 * Out: *total, the record length. Returns: WN_METER_OK, WN_METER_ECORRUPT or WN_METER_EIO. */
int wn_mrec_read(int fd, uint64_t off, uint64_t end, uint8_t rec[WN_MREC_MAX], size_t *total);

/* Length of the readings-log record at off, from its u16 length alone.
 * Returns: WN_METER_OK, WN_METER_ECORRUPT or WN_METER_EIO. */
int wn_mrec_len_at(int fd, uint64_t off, uint64_t end, size_t *total);

/* pread/pwrite of exactly len bytes. Returns: 1 on success (0 with errno; EIO for short). */
int wn_mfile_pread(int fd, void *buf, size_t len, uint64_t off);
int wn_mfile_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* Returns: 1 if fd's bytes [off, end) are all zero (0 also on a read error). */
int wn_mfile_zero_tail(int fd, uint64_t off, uint64_t end);

/* Durably replaces dirfd/name with data: write name.tmp, fsync, rename, fsync(dir).
 * Returns: 1 on success (0 with errno). */
int wn_mfile_replace(int dirfd, const char *name, const void *data, size_t len);

/* Remembers r's cumulative volume in m, if r has one (the next volume must not be lower). */
/* Shifts the out-of-order ack window down by one sequence number. */
void wn_mstate_window_shift(uint64_t window[WN_METER_ACK_WINDOW / 64]);

void wn_mstate_note_volume(wn_meter *m, const wn_reading *r);

/* meter_state.c: the state record (meter.state), a hint checked against the logs.
 * wn_mstate_load fills m's positions and state from it if it checks out (returns 1; the
 * caller then reads the logs from m->log_end and m->rcpt_end on), else changes nothing
 * and returns 0. wn_mstate_save writes it (no fsync); wn_mstate_forget removes it. */
int wn_mstate_load(wn_meter *m, uint64_t logsize, uint64_t rcptsize);
void wn_mstate_save(wn_meter *m);
void wn_mstate_forget(wn_meter *m);

/* meter_queue.c: marks seq acked in memory and moves the watermark. */
int wn_mstate_mark_acked(wn_meter *m, uint64_t seq);

#endif
