/* meter.c — creating a meter's state directory and opening it: the state (next sequence,
 * previous digest, ack watermark) is recovered from the logs, never stored on its own,
 * and a torn record at the end of a log is cut off. See meter.h for the durability rule. */
#include "device/meter.h"
#include "device/record.h"

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const conf_bip340 = "waternotary-meter 1\nalg bip340\n";
static const char *const conf_ecdsa = "waternotary-meter 1\nalg ecdsa\n";
static const char *const conf_p256 = "waternotary-meter 1\nalg p256\n";
static const char *const conf_sm2 = "waternotary-meter 1\nalg sm2\n";

/* The key material of a secret key under alg: the compressed public key and the meter id
 * (wn_meter_id_of: x for secp256k1, derived for P-256 and SM2). Returns: 1 if valid. */
static int key_of(uint8_t alg, const uint8_t sk[WN_SECKEY_LEN], uint8_t pub33[WN_PUB33_LEN], uint8_t id[WN_XONLY_LEN])
{
    int ok = alg == WN_ALG_P256 ? wn_p256_pub33(pub33, sk)
             : alg == WN_ALG_SM2 ? wn_sm2_pub33(pub33, sk)
                                 : wn_seckey_pub33(pub33, sk);
    if (ok && alg == WN_ALG_BIP340) { /* BIP-340: the x-only key, i.e. the even-y point */
        ok = wn_seckey_xonly(pub33 + 1, sk);
        pub33[0] = 0x02;
    }
    return ok && wn_meter_id_of(alg, pub33, id);
}

const char *wn_meter_strerror(int err)
{
    switch (err) {
    case WN_METER_OK: return "success";
    case WN_METER_END: return "no more readings";
    case WN_METER_EIO: return "a file operation on the meter state failed";
    case WN_METER_EEXIST: return "the directory already holds a meter";
    case WN_METER_ENOENT: return "no meter in the directory (meter.key missing)";
    case WN_METER_ELOCKED: return "the meter is open elsewhere (another process holds its lock)";
    case WN_METER_ECORRUPT: return "a meter state file is damaged beyond a torn last record";
    case WN_METER_EARG: return "invalid argument (algorithm, measurements or flags)";
    case WN_METER_ETIME: return "time is before the previous reading's time or out of range";
    case WN_METER_EVOLUME: return "cumulative volume below the previous one without the meter_replaced flag";
    case WN_METER_ERANGE: return "a value outside the range the notary accepts";
    case WN_METER_EFULL: return "the meter's sequence numbers are exhausted";
    case WN_METER_ECRYPTO: return "signing failed or the signature did not verify";
    case WN_METER_ENOTFOUND: return "no such reading or receipt in the meter's logs";
    case WN_METER_ELEAF: return "the receipt is for a different entry (leaf hash mismatch)";
    case WN_METER_ESIG: return "the receipt does not verify with the notary key (signature, or Merkle path to the signed commit root)";
    case WN_METER_EFAILED: return "an earlier write failed: close and reopen the meter";
    case WN_METER_EKEYMODE: return "meter.key's mode gives group or others access: run chmod 600 on it";
    default: return "unknown meter error";
    }
}

const uint8_t *wn_meter_id(const wn_meter *m) { return m->id; }
const uint8_t *wn_meter_pubkey(const wn_meter *m) { return m->pub33; }
uint8_t wn_meter_alg(const wn_meter *m) { return m->alg; }

static int path_in(char out[PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) { errno = ENAMETOOLONG; return 0; }
    return 1;
}

static int open_locked_dir(const char *dir, int *dirfd)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? WN_METER_ENOENT : WN_METER_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int locked = errno == EWOULDBLOCK;
        close(fd);
        return locked ? WN_METER_ELOCKED : WN_METER_EIO;
    }
    *dirfd = fd;
    return WN_METER_OK;
}

/* Returns 1 if dirfd/name exists and holds more than its magic (a log with records). */
static int has_records(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, 0) == 0 && st.st_size > WN_MFILE_HDR;
}

/* Makes a new directory's entry in its parent durable. */
static int sync_parent(const char *dir)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash) snprintf(parent, sizeof parent, ".");
    else if (slash == parent) parent[1] = '\0';
    else *slash = '\0';
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    int ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

int wn_meter_create(const char *dir, uint8_t alg, const uint8_t *seckey, uint8_t id[WN_XONLY_LEN])
{
    char keypath[PATH_MAX];
    uint8_t sk[WN_SECKEY_LEN], x[WN_XONLY_LEN];
    int dirfd, err;

    uint8_t pub33[WN_PUB33_LEN];
    if (alg < WN_ALG_BIP340 || alg > WN_ALG_MAX) return WN_METER_EARG;
    if (seckey && !key_of(alg, seckey, pub33, x)) return WN_METER_EARG;
    if (!path_in(keypath, dir, WN_MKEY_NAME)) return WN_METER_EIO;
    if (mkdir(dir, 0700) == 0) {
        if (!sync_parent(dir)) return WN_METER_EIO;
    } else if (errno != EEXIST) {
        return WN_METER_EIO;
    }
    if ((err = open_locked_dir(dir, &dirfd)) != WN_METER_OK) return err == WN_METER_ENOENT ? WN_METER_EIO : err;

    /* meter.key is written last: it is what makes the directory a meter. Without it no
     * reading can have been signed, so whatever else is there is rewritten — unless a
     * log holds records (someone removed the key): never destroy readings. */
    if (faccessat(dirfd, WN_MKEY_NAME, F_OK, 0) == 0 || has_records(dirfd, WN_MLOG_NAME) ||
        has_records(dirfd, WN_MRCPT_NAME)) {
        close(dirfd);
        return WN_METER_EEXIST;
    }
    const char *conf = alg == WN_ALG_ECDSA ? conf_ecdsa : alg == WN_ALG_P256 ? conf_p256 : alg == WN_ALG_SM2 ? conf_sm2 : conf_bip340;
    err = WN_METER_EIO;
    if (seckey) memcpy(sk, seckey, sizeof sk);
    else if (!(alg == WN_ALG_P256 ? wn_p256_seckey_generate(sk)
               : alg == WN_ALG_SM2 ? wn_sm2_seckey_generate(sk)
                                   : wn_seckey_generate(sk)))
        goto out;
    if (!key_of(alg, sk, pub33, x)) goto out;
    if ((unlinkat(dirfd, WN_MSTATE_NAME, 0) != 0 && errno != ENOENT) ||
        !wn_mfile_replace(dirfd, WN_MCONF_NAME, conf, strlen(conf)) ||
        !wn_mfile_replace(dirfd, WN_MLOG_NAME, WN_MLOG_MAGIC, WN_MFILE_HDR) ||
        !wn_mfile_replace(dirfd, WN_MRCPT_NAME, WN_MRCPT_MAGIC, WN_MFILE_HDR))
        goto out;
    if (!wn_keyfile_write(keypath, sk)) { if (errno == EEXIST) err = WN_METER_EEXIST; goto out; }
    if (fsync(dirfd) != 0) goto out;
    if (id) memcpy(id, x, sizeof x);
    err = WN_METER_OK;
out:
    explicit_bzero(sk, sizeof sk);
    close(dirfd);
    return err;
}

static int read_conf(wn_meter *m)
{
    char buf[128];
    int fd = openat(m->dirfd, WN_MCONF_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? WN_METER_ECORRUPT : WN_METER_EIO;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return WN_METER_EIO;
    buf[n] = '\0';
    if (strcmp(buf, conf_bip340) == 0) m->alg = WN_ALG_BIP340;
    else if (strcmp(buf, conf_ecdsa) == 0) m->alg = WN_ALG_ECDSA;
    else if (strcmp(buf, conf_p256) == 0) m->alg = WN_ALG_P256;
    else if (strcmp(buf, conf_sm2) == 0) m->alg = WN_ALG_SM2;
    else return WN_METER_ECORRUPT;
    return WN_METER_OK;
}

static int open_log(wn_meter *m, const char *name, const char *magic, int *fd, uint64_t *size)
{
    struct stat st;
    char hdr[WN_MFILE_HDR];
    *fd = openat(m->dirfd, name, O_RDWR | O_CLOEXEC);
    if (*fd < 0) return errno == ENOENT ? WN_METER_ECORRUPT : WN_METER_EIO;
    if (fstat(*fd, &st) != 0) return WN_METER_EIO;
    if (st.st_size < WN_MFILE_HDR) return WN_METER_ECORRUPT;
    if (!wn_mfile_pread(*fd, hdr, sizeof hdr, 0)) return WN_METER_EIO;
    if (memcmp(hdr, magic, WN_MFILE_HDR) != 0) return WN_METER_ECORRUPT;
    *size = (uint64_t)st.st_size;
    return WN_METER_OK;
}

/* Cuts fd at off (a torn tail) and makes the cut durable. */
static int cut_tail(wn_meter *m, int fd, uint64_t off, uint64_t size)
{
    if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) return WN_METER_EIO;
    m->torn_bytes += size - off;
    return WN_METER_OK;
}

/* A record that fails its checks is a torn write only if it is the last thing in the file:
 * fewer bytes remain than the longest record, or everything left is zero (a file extended
 * but never written). Anything else is damage we must not paper over. */
static int torn_or_corrupt(wn_meter *m, int fd, uint64_t off, uint64_t size, size_t maxrec)
{
    if (size - off <= maxrec || wn_mfile_zero_tail(fd, off, size)) return cut_tail(m, fd, off, size);
    return WN_METER_ECORRUPT;
}

/* Remembers the reading's cumulative volume, if it has one (the last volume seen is what
 * the next one must not fall below). */
void wn_mstate_note_volume(wn_meter *m, const wn_reading *r)
{
    for (unsigned i = 0; i < r->count; i++)
        if (r->m[i].quantity == WN_Q_VOLUME) {
            m->have_volume = 1;
            m->last_volume = r->m[i].value;
            m->last_volume_unit = r->m[i].unit;
            m->last_volume_scale = r->m[i].scale;
        }
}

/* Walks the readings log: every record must decode, belong to this meter and continue
 * the chain of the one before. Sets first/last sequence, chain state and log_end. */
static int scan_readings(wn_meter *m, uint64_t off, uint64_t size)
{
    uint8_t rec[WN_MREC_MAX];
    wn_reading r;

    while (off < size) {
        size_t total;
        int err = wn_mrec_read(m->logfd, off, size, rec, &total);
        if (err == WN_METER_EIO) return err;
        if (err) {
            if ((err = torn_or_corrupt(m, m->logfd, off, size, WN_MREC_MAX))) return err;
            break;
        }
        /* The check matches, so these bytes are what we wrote: a rule broken here is a
         * bug or tampering, not a torn write. */
        size_t len = total - 2 - WN_MREC_CHECK;
        if (wn_reading_decode(&r, rec + 2, len) != WN_READING_OK) return WN_METER_ECORRUPT;
        if (memcmp(r.meter, m->id, WN_XONLY_LEN) != 0 || r.alg != m->alg) return WN_METER_ECORRUPT;
        if (m->last_seq) {
            if (r.seq != m->last_seq + 1 || memcmp(r.prev, m->prev, 32) != 0 || r.time_ms < m->last_time)
                return WN_METER_ECORRUPT;
        } else {
            m->first_seq = r.seq;
        }
        m->last_seq = r.seq;
        m->last_time = r.time_ms;
        m->last_off = off;
        wn_sha256(m->prev, rec + 2, len);
        wn_mstate_note_volume(m, &r);
        off += total;
    }
    m->log_end = off;
    return WN_METER_OK;
}

/* Walks the receipts log and checks each record is for a logged reading (or one compacted
 * away). */
static int scan_receipts(wn_meter *m, uint64_t off, uint64_t size)
{
    uint8_t rec[WN_MRCPT_MAX];
    wn_receipt rc;

    while (off < size) {
        size_t total = 0;
        int err = wn_mrcpt_read(m->rcptfd, off, size, rec, &total);
        if (err == WN_METER_EIO) return err;
        if (err || !wn_receipt_decode(&rc, rec + WN_MRCPT_HDR, total - WN_MRCPT_HDR - WN_MREC_CHECK)) {
            /* Torn only if nothing follows it: too few bytes for a length, or the record its
             * length gives reaches the end of the file, or all zeros from here. */
            uint8_t b[2];
            size_t t = 0;
            if (size - off >= 2) {
                if (!wn_mfile_pread(m->rcptfd, b, 2, off)) return WN_METER_EIO;
                t = (size_t)wn_get_u16(b) + WN_MRCPT_HDR + WN_MREC_CHECK;
            }
            int last = size - off < 2 || (t >= WN_MRCPT_MIN && t <= WN_MRCPT_MAX && off + t >= size);
            if (!last && !wn_mfile_zero_tail(m->rcptfd, off, size)) return WN_METER_ECORRUPT;
            if ((err = cut_tail(m, m->rcptfd, off, size))) return err;
            break;
        }
        uint64_t seq = wn_get_u64(rec + 2);
        if (seq == 0 || seq > m->last_seq) return WN_METER_ECORRUPT; /* the log lost a reading */
        m->rcpt_count++;
        m->rcpt_last_off = off;
        off += total;
    }
    m->rcpt_end = off;
    return WN_METER_OK;
}

/* Recomputes the watermark from the receipts log. Readings before the first logged one
 * are acked (compaction drops only acked readings). Receipts beyond the window get
 * another pass once the watermark has moved. */
static int recover_acks(wn_meter *m)
{
    uint8_t hdr[WN_MRCPT_HDR];
    int beyond = 0;
    m->acked = m->first_seq ? m->first_seq - 1 : 0;
    for (;;) {
        uint64_t base = m->acked;
        beyond = 0;
        memset(m->window, 0, sizeof m->window);
        for (uint64_t off = WN_MFILE_HDR; off < m->rcpt_end;) {
            if (!wn_mfile_pread(m->rcptfd, hdr, sizeof hdr, off)) return WN_METER_EIO;
            off += (uint64_t)wn_get_u16(hdr) + WN_MRCPT_HDR + WN_MREC_CHECK; /* checked by scan_receipts */
            uint64_t seq = wn_get_u64(hdr + 2);
            if (seq <= base) continue;
            if (seq - base - 1 < WN_METER_ACK_WINDOW) m->window[(seq - base - 1) / 64] |= 1ULL << ((seq - base - 1) % 64);
            else beyond = 1;
        }
        while (m->window[0] & 1) { wn_mstate_window_shift(m->window); m->acked++; }
        if (!beyond || m->acked == base) break;
    }
    m->acks_beyond = beyond;
    /* Find the record of acked+1: records hold consecutive sequence numbers. */
    m->ack_off = WN_MFILE_HDR;
    if (m->last_seq == 0 || m->acked >= m->last_seq) { m->ack_off = m->log_end; return WN_METER_OK; }
    for (uint64_t s = m->first_seq; s <= m->acked; s++) {
        size_t t;
        int err = wn_mrec_len_at(m->logfd, m->ack_off, m->log_end, &t);
        if (err) return err;
        m->ack_off += t;
    }
    return WN_METER_OK;
}

/* A receipts log written by an older meter ("WNMRCPT1", fixed 125-byte records of version 1
 * receipts) is rewritten in the current form, every receipt byte for byte, with the atomic
 * replace (a crash leaves the old or the new file). A torn last record is left out; damage
 * before the end refuses the open and changes nothing. */
static int convert_receipts_v1(wn_meter *m)
{
    struct stat st;
    int fd = openat(m->dirfd, WN_MRCPT_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return WN_METER_EIO;
    if (fstat(fd, &st) != 0) { close(fd); return WN_METER_EIO; }
    uint64_t size = (uint64_t)st.st_size, n = size > WN_MFILE_HDR ? (size - WN_MFILE_HDR) / WN_MRCPT_V1_REC : 0;
    uint8_t *out = malloc(WN_MFILE_HDR + n * (WN_MRCPT_HDR + WN_RECEIPT_LEN + WN_MREC_CHECK) + 1);
    if (!out) { close(fd); return WN_METER_EIO; }
    memcpy(out, WN_MRCPT_MAGIC, WN_MFILE_HDR);
    size_t len = WN_MFILE_HDR;
    int err = WN_METER_OK;
    for (uint64_t off = WN_MFILE_HDR; off < size; off += WN_MRCPT_V1_REC) {
        uint8_t rec[WN_MRCPT_V1_REC];
        wn_receipt rc;
        int torn = size - off < WN_MRCPT_V1_REC;
        if (!torn && !wn_mfile_pread(fd, rec, sizeof rec, off)) { err = WN_METER_EIO; break; }
        if (torn || !wn_mrec_check_ok(rec, sizeof rec) || !wn_receipt_decode(&rc, rec + 8, WN_RECEIPT_LEN)) {
            if (!(size - off <= WN_MRCPT_V1_REC || wn_mfile_zero_tail(fd, off, size))) err = WN_METER_ECORRUPT;
            else m->torn_bytes += size - off;
            break;
        }
        len += wn_mrcpt_seal(out + len, wn_get_u64(rec), &rc);
    }
    close(fd);
    if (!err && !wn_mfile_replace(m->dirfd, WN_MRCPT_NAME, out, len)) err = WN_METER_EIO;
    free(out);
    return err;
}

static int load_key(wn_meter *m, const char *dir)
{
    char keypath[PATH_MAX];
    if (!path_in(keypath, dir, WN_MKEY_NAME)) return WN_METER_EIO;
    if (faccessat(m->dirfd, WN_MKEY_NAME, F_OK, 0) != 0) return errno == ENOENT ? WN_METER_ENOENT : WN_METER_EIO;
    if (!wn_keyfile_read(keypath, m->seckey))
        return errno == EINVAL ? WN_METER_ECORRUPT : errno == EPERM ? WN_METER_EKEYMODE : WN_METER_EIO;
    if (!key_of(m->alg, m->seckey, m->pub33, m->id)) return WN_METER_ECORRUPT;
    return WN_METER_OK;
}

int wn_meter_open(wn_meter *m, const char *dir)
{
    uint64_t logsize, rcptsize;
    int err;

    memset(m, 0, sizeof *m);
    m->dirfd = m->logfd = m->rcptfd = -1;
    if ((err = open_locked_dir(dir, &m->dirfd)) != WN_METER_OK) return err;
    /* meter.key first: a directory without it is not a meter (perhaps a create that
     * was cut short), whatever else it holds. */
    if (faccessat(m->dirfd, WN_MKEY_NAME, F_OK, 0) != 0) { err = errno == ENOENT ? WN_METER_ENOENT : WN_METER_EIO; goto fail; }
    if ((err = read_conf(m)) || (err = load_key(m, dir))) goto fail;
    /* A compaction cut short leaves its temporary file; the old log is still in place. */
    if (unlinkat(m->dirfd, WN_MLOG_TMP, 0) != 0 && errno != ENOENT) { err = WN_METER_EIO; goto fail; }
    if ((err = open_log(m, WN_MLOG_NAME, WN_MLOG_MAGIC, &m->logfd, &logsize))) goto fail;
    err = open_log(m, WN_MRCPT_NAME, WN_MRCPT_MAGIC, &m->rcptfd, &rcptsize);
    if (err == WN_METER_ECORRUPT && m->rcptfd >= 0) { /* perhaps an older meter's receipts log */
        char hdr[WN_MFILE_HDR];
        if (wn_mfile_pread(m->rcptfd, hdr, sizeof hdr, 0) && memcmp(hdr, WN_MRCPT_MAGIC_V1, WN_MFILE_HDR) == 0) {
            close(m->rcptfd);
            m->rcptfd = -1;
            if ((err = convert_receipts_v1(m))) goto fail;
            err = open_log(m, WN_MRCPT_NAME, WN_MRCPT_MAGIC, &m->rcptfd, &rcptsize);
        }
    }
    if (err) goto fail;
    if (wn_mstate_load(m, logsize, rcptsize)) {
        /* O(1): the state record checked out; read only what was appended after it */
        uint64_t rcpt_from = m->rcpt_end;
        if ((err = scan_readings(m, m->log_end, logsize)) || (err = scan_receipts(m, rcpt_from, rcptsize))) goto fail;
        uint8_t hdr[WN_MRCPT_HDR];
        for (uint64_t off = rcpt_from; off < m->rcpt_end;) {
            if (!wn_mfile_pread(m->rcptfd, hdr, sizeof hdr, off)) { err = WN_METER_EIO; goto fail; }
            off += (uint64_t)wn_get_u16(hdr) + WN_MRCPT_HDR + WN_MREC_CHECK;
            uint64_t seq = wn_get_u64(hdr + 2);
            if (!wn_meter_is_acked(m, seq) && (err = wn_mstate_mark_acked(m, seq))) goto fail;
        }
        int out_of_order = m->acks_beyond;
        for (size_t i = 0; i < WN_METER_ACK_WINDOW / 64; i++) out_of_order |= m->window[i] != 0;
        if (out_of_order && (err = recover_acks(m))) goto fail; /* rare: see meter_state.c */
    } else if ((err = scan_readings(m, WN_MFILE_HDR, logsize)) || (err = scan_receipts(m, WN_MFILE_HDR, rcptsize)) ||
               (err = recover_acks(m))) {
        goto fail;
    }
    return WN_METER_OK;
fail:
    m->failed = 1; /* nothing to save */
    wn_meter_close(m);
    return err;
}

void wn_meter_close(wn_meter *m)
{
    if (!m->failed && m->logfd >= 0 && m->rcptfd >= 0) wn_mstate_save(m);
    if (m->logfd >= 0) close(m->logfd);
    if (m->rcptfd >= 0) close(m->rcptfd);
    if (m->dirfd >= 0) close(m->dirfd); /* releases the flock */
    explicit_bzero(m->seckey, sizeof m->seckey);
    m->dirfd = m->logfd = m->rcptfd = -1;
    m->failed = 1;
}
