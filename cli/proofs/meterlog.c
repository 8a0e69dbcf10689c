/* meterlog.c — checking a meter's receipts.log (and readings.log) offline (see meterlog.h). */
#include "cli/proofs/meterlog.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"

#define MAGIC_LEN 8
#define RCPT_V1_REC (8 + WN_RECEIPT_LEN + 4)              /* 125 */
#define RCPT_MAX (10 + WN_RECEIPT_MAX_LEN + 4)
#define READ_MIN (WN_READING_FIXED_LEN + WN_READING_MEAS_LEN) /* one measurement */

int wn_meterlog_sniff(const uint8_t *data, size_t len)
{
    return len >= MAGIC_LEN &&
           (memcmp(data, WN_RECEIPTS_MAGIC, MAGIC_LEN) == 0 || memcmp(data, WN_RECEIPTS_MAGIC_V1, MAGIC_LEN) == 0);
}

/* Returns: 1 if the last 4 bytes of rec[0..total) are the first 4 of SHA-256 of the rest. */
static int check_ok(const uint8_t *rec, size_t total)
{
    uint8_t h[32];
    wn_sha256(h, rec, total - 4);
    return memcmp(h, rec + total - 4, 4) == 0;
}

typedef struct {
    uint64_t seq;
    const uint8_t *reading;  /* the reading's binary form, inside the readings log */
    size_t len;
} logged;

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const logged *)a)->seq, y = ((const logged *)b)->seq;
    return (x > y) - (x < y);
}

/* The readings log as (seq, reading bytes) sorted by seq. Returns: the count; problems go to rep. */
static size_t read_readings(const uint8_t *d, size_t len, logged **out, wn_report *rep)
{
    *out = NULL;
    if (len < MAGIC_LEN || memcmp(d, WN_READINGS_MAGIC, MAGIC_LEN) != 0) {
        wn_report_fail(rep, "readings_log", "the readings log does not start with %s", WN_READINGS_MAGIC);
        return 0;
    }
    size_t n = 0, cap = 0;
    for (size_t off = MAGIC_LEN; off < len;) {
        size_t rl = len - off >= 2 ? wn_get_u16(d + off) : 0, total = rl + 6;
        if (rl < READ_MIN || rl > WN_READING_MAX_LEN || total > len - off || !check_ok(d + off, total)) {
            if (len - off <= 2 + WN_READING_MAX_LEN + 4)
                wn_report_warn(rep, "torn_tail", "the readings log ends in %zu bytes that are not a whole record "
                               "(a power cut leaves this; the meter cuts it off when it opens)", len - off);
            else
                wn_report_fail(rep, "readings_log", "the readings log has a bad record at byte %zu", off);
            break;
        }
        wn_reading r;
        int err = wn_reading_decode(&r, d + off + 2, rl);
        if (err) {
            wn_report_fail(rep, "readings_log", "the readings-log record at byte %zu does not decode: %s", off,
                           wn_reading_errcode(err));
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            logged *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                rep->oom = 1;
                break;
            }
            *out = p;
        }
        (*out)[n].seq = r.seq;
        (*out)[n].reading = d + off + 2;
        (*out)[n].len = rl;
        if (n == 0) wn_report_info_hex(rep, "meter", r.meter, 32);
        n++;
        off += total;
    }
    qsort(*out, n, sizeof **out, by_seq);
    return n;
}

void wn_meterlog_verify(const uint8_t *rcpt, size_t rlen, const uint8_t *readings, size_t rdlen,
                        const uint8_t notary[32], wn_report *rep)
{
    logged *log = NULL;
    size_t nlog = readings ? read_readings(readings, rdlen, &log, rep) : 0;
    uint8_t *acked = nlog ? calloc(nlog, 1) : NULL;
    size_t count = 0, matched = 0;
    if (!wn_meterlog_sniff(rcpt, rlen)) {
        wn_report_fail(rep, "receipts_log", "the receipts log does not start with %s", WN_RECEIPTS_MAGIC);
        rlen = 0;
    }
    int v1 = rlen >= MAGIC_LEN && memcmp(rcpt, WN_RECEIPTS_MAGIC_V1, MAGIC_LEN) == 0;
    for (size_t off = MAGIC_LEN, total = 0; off < rlen; off += total) {
        const uint8_t *rec = rcpt + off;
        /* the record's length: fixed in the old form, from its u16 in the current one */
        size_t hdr = v1 ? 8 : 10, left = rlen - off;
        total = v1 ? RCPT_V1_REC : left >= 2 ? (size_t)wn_get_u16(rec) + hdr + 4 : 0;
        int bad_len = v1 ? 0 : total < 10 + WN_RECEIPT_LEN + 4 || total > RCPT_MAX;
        if (bad_len || left < total || !check_ok(rec, total)) {
            /* torn: nothing follows it (the last record, or too short for its length) */
            if (v1 ? left <= RCPT_V1_REC : left < 2 || (!bad_len && total >= left)) {
                wn_report_warn(rep, "torn_tail", "the receipts log ends in %zu bytes that are not a whole "
                               "record (a power cut leaves this)", left);
                break;
            }
            wn_report_fail(rep, "receipts_log", "the receipts-log record at byte %zu is damaged", off);
            if (bad_len) break; /* the next record cannot be found */
            continue;
        }
        uint64_t seq = wn_get_u64(rec + hdr - 8);
        wn_receipt rc;
        count++;
        if (!wn_receipt_decode(&rc, rec + hdr, total - hdr - 4) || (v1 && rc.version != 1)) {
            wn_report_fail(rep, "receipt", "the receipt for seq %llu is not a receipt of version 1 or 2",
                           (unsigned long long)seq);
            continue;
        }
        int e = wn_receipt_check(&rc, notary);
        if (e == WN_RECEIPT_ESIG)
            wn_report_fail(rep, "receipt_signature", "the receipt for seq %llu (index %llu) is not validly signed by "
                           "the notary key", (unsigned long long)seq, (unsigned long long)rc.index);
        else if (e == WN_RECEIPT_EPATH)
            wn_report_fail(rep, "receipt_path", "the receipt for seq %llu (index %llu): %s", (unsigned long long)seq,
                           (unsigned long long)rc.index, wn_receipt_strerror(e));
        else if (e != WN_RECEIPT_OK)
            wn_report_fail(rep, "receipt_head", "the receipt for seq %llu (index %llu): %s", (unsigned long long)seq,
                           (unsigned long long)rc.index, wn_receipt_strerror(e));
        logged key = {seq, NULL, 0}, *hit = nlog ? bsearch(&key, log, nlog, sizeof *log, by_seq) : NULL;
        if (hit) {
            matched++;
            acked[hit - log] = 1;
            if (!wn_receipt_is_for_reading(&rc, hit->reading, hit->len))
                wn_report_fail(rep, "receipt_leaf", "the receipt for seq %llu (index %llu) is for another entry than "
                               "the logged reading with that sequence", (unsigned long long)seq,
                               (unsigned long long)rc.index);
        }
    }
    size_t pending = 0;
    for (size_t i = 0; i < nlog; i++) pending += !acked[i];
    wn_report_count(rep, "receipts", count);
    wn_report_count(rep, "matched", matched);
    wn_report_count(rep, "unacknowledged", pending);
    if (pending)
        wn_report_warn(rep, "unacknowledged", "%zu logged reading%s ha%s no receipt yet (the meter sends them again)",
                       pending, pending == 1 ? "" : "s", pending == 1 ? "s" : "ve");
    free(acked);
    free(log);
}
