/* record.c — record framing (length, check bytes) of the meter's logs, and the durable
 * file helpers: exact pread/pwrite, zero-tail detection, atomic replace with fsyncs. */
#include "device/record.h"
#include "device/meter.h"

#include "crypto/encoding.h"
#include "crypto/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void check4(uint8_t out[WN_MREC_CHECK], const uint8_t *bytes, size_t len)
{
    uint8_t h[WN_HASH_LEN];
    wn_sha256(h, bytes, len);
    memcpy(out, h, WN_MREC_CHECK);
}

size_t wn_mrec_seal(uint8_t *rec, size_t len)
{
    wn_put_u16(rec, (uint16_t)len);
    check4(rec + 2 + len, rec, 2 + len);
    return len + 2 + WN_MREC_CHECK;
}

size_t wn_mrcpt_seal(uint8_t rec[WN_MRCPT_MAX], uint64_t seq, const wn_receipt *rc)
{
    size_t len = wn_receipt_encode(rc, rec + WN_MRCPT_HDR);
    wn_put_u16(rec, (uint16_t)len);
    wn_put_u64(rec + 2, seq);
    check4(rec + WN_MRCPT_HDR + len, rec, WN_MRCPT_HDR + len);
    return WN_MRCPT_HDR + len + WN_MREC_CHECK;
}

int wn_mrec_check_ok(const uint8_t *rec, size_t total)
{
    uint8_t c[WN_MREC_CHECK];
    if (total < WN_MREC_CHECK) return 0;
    check4(c, rec, total - WN_MREC_CHECK);
    return memcmp(c, rec + total - WN_MREC_CHECK, WN_MREC_CHECK) == 0;
}

int wn_mfile_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { if (n == 0) errno = EIO; return 0; }
        p += n; len -= (size_t)n; off += (uint64_t)n;
    }
    return 1;
}

int wn_mfile_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    /* One pwrite: a record is written by a single system call, so a crash leaves at most
     * one torn record at the end. A short write (disk full) is reported as a failure. */
    ssize_t n;
    do n = pwrite(fd, buf, len, (off_t)off); while (n < 0 && errno == EINTR);
    if (n < 0) return 0;
    if ((size_t)n != len) { errno = ENOSPC; return 0; }
    return 1;
}

int wn_mrec_len_at(int fd, uint64_t off, uint64_t end, size_t *total)
{
    uint8_t b[2];
    if (off + 2 > end) return WN_METER_ECORRUPT;
    if (!wn_mfile_pread(fd, b, 2, off)) return WN_METER_EIO;
    size_t len = wn_get_u16(b);
    size_t t = len + 2 + WN_MREC_CHECK;
    if (t < WN_MREC_MIN || t > WN_MREC_MAX || off + t > end) return WN_METER_ECORRUPT;
    *total = t;
    return WN_METER_OK;
}

int wn_mrec_read(int fd, uint64_t off, uint64_t end, uint8_t rec[WN_MREC_MAX], size_t *total)
{
    size_t t;
    int err = wn_mrec_len_at(fd, off, end, &t);
    if (err) return err;
    if (!wn_mfile_pread(fd, rec, t, off)) return WN_METER_EIO;
    if ((size_t)wn_get_u16(rec) + 2 + WN_MREC_CHECK != t || !wn_mrec_check_ok(rec, t)) return WN_METER_ECORRUPT;
    *total = t;
    return WN_METER_OK;
}

int wn_mrcpt_read(int fd, uint64_t off, uint64_t end, uint8_t rec[WN_MRCPT_MAX], size_t *total)
{
    uint8_t b[2];
    if (off + 2 > end) return WN_METER_ECORRUPT;
    if (!wn_mfile_pread(fd, b, 2, off)) return WN_METER_EIO;
    size_t t = (size_t)wn_get_u16(b) + WN_MRCPT_HDR + WN_MREC_CHECK;
    if (t < WN_MRCPT_MIN || t > WN_MRCPT_MAX || off + t > end) return WN_METER_ECORRUPT;
    if (!wn_mfile_pread(fd, rec, t, off)) return WN_METER_EIO;
    if (!wn_mrec_check_ok(rec, t)) return WN_METER_ECORRUPT;
    *total = t;
    return WN_METER_OK;
}

int wn_mfile_zero_tail(int fd, uint64_t off, uint64_t end)
{
    uint8_t buf[4096];
    while (off < end) {
        size_t n = end - off < sizeof buf ? (size_t)(end - off) : sizeof buf;
        if (!wn_mfile_pread(fd, buf, n, off)) return 0;
        for (size_t i = 0; i < n; i++)
            if (buf[i]) return 0;
        off += n;
    }
    return 1;
}

int wn_mfile_replace(int dirfd, const char *name, const void *data, size_t len)
{
    char tmp[256];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp) { errno = ENAMETOOLONG; return 0; }
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    int ok = wn_mfile_pwrite(fd, data, len, 0) && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (ok) ok = renameat(dirfd, tmp, dirfd, name) == 0 && fsync(dirfd) == 0;
    else { unlinkat(dirfd, tmp, 0); errno = saved; }
    return ok;
}

void wn_mstate_window_shift(uint64_t w[WN_METER_ACK_WINDOW / 64])
{
    const size_t n = WN_METER_ACK_WINDOW / 64;
    for (size_t i = 0; i < n; i++) w[i] = (w[i] >> 1) | (i + 1 < n ? w[i + 1] << 63 : 0);
}
