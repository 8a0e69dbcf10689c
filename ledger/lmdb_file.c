/* lmdb_file.c — the length check of an LMDB data file against its meta pages (see
 * lmdb_file.h). The layout read here is LMDB 0.9's (mdb.c, MDB_meta on a 64-bit host):
 * a 16-byte page header, then magic u32 0xBEEFC0DE, version u32 1, address (8), map size
 * (8), two MDB_db records of 48 bytes each (the first one's first u32 is the page size),
 * the last page used (8) and the transaction id (8), all in host byte order. */
#include "ledger/lmdb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_OFF 16              /* the page header */
#define META_MAGIC 0xBEEFC0DEu
#define META_VERSION 1u
#define OFF_PSIZE (META_OFF + 24)    /* mm_dbs[FREE_DBI].md_pad */
#define OFF_LAST_PG (META_OFF + 120) /* after magic, version, address, map size, 2 x MDB_db */
#define OFF_TXNID (META_OFF + 128)
#define META_END (OFF_TXNID + 8)

const char *wn_lmdb_file_strerror(int err)
{
    switch (err) {
    case WN_LMDB_FILE_OK: return "complete";
    case WN_LMDB_FILE_NEW: return "absent or empty";
    case WN_LMDB_FILE_SHORT: return "shorter than its LMDB meta page says (truncated)";
    case WN_LMDB_FILE_BADMETA: return "not an LMDB data file (no valid meta page)";
    case WN_LMDB_FILE_EIO: return "unreadable";
    default: return "unknown LMDB file error";
    }
}

static uint32_t u32_at(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t u64_at(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Reads the meta page at off. Returns: 1 if it is a valid meta page. */
static int read_meta(int fd, off_t off, uint32_t *psize, uint64_t *last_pg, uint64_t *txnid)
{
    unsigned char b[META_END];
    if (pread(fd, b, sizeof b, off) != (ssize_t)sizeof b) return 0;
    if (u32_at(b + META_OFF) != META_MAGIC || u32_at(b + META_OFF + 4) != META_VERSION) return 0;
    *psize = u32_at(b + OFF_PSIZE);
    *last_pg = u64_at(b + OFF_LAST_PG);
    *txnid = u64_at(b + OFF_TXNID);
    return 1;
}

int wn_lmdb_file_check(const char *dir, uint64_t *need, uint64_t *have)
{
    char path[4200];
    uint64_t n = 0, h = 0;
    int err = WN_LMDB_FILE_OK;
    if (need) *need = 0;
    if (have) *have = 0;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return WN_LMDB_FILE_EIO;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? WN_LMDB_FILE_NEW : WN_LMDB_FILE_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = WN_LMDB_FILE_EIO;
        goto out;
    }
    h = (uint64_t)st.st_size;
    if (h == 0) {
        err = WN_LMDB_FILE_NEW;
        goto out;
    }
    uint32_t ps0, ps1;
    uint64_t last0, last1, txn0, txn1;
    if (!read_meta(fd, 0, &ps0, &last0, &txn0) || ps0 < 512 || ps0 > 65536 || (ps0 & (ps0 - 1))) {
        err = h < META_END ? WN_LMDB_FILE_SHORT : WN_LMDB_FILE_BADMETA;
        goto out;
    }
    int ok1 = read_meta(fd, (off_t)ps0, &ps1, &last1, &txn1) && ps1 == ps0;
    if (!ok1 && h < (uint64_t)ps0 + META_END) {
        n = 2 * (uint64_t)ps0;
        err = WN_LMDB_FILE_SHORT;
        goto out;
    }
    uint64_t last = ok1 && txn1 > txn0 ? last1 : last0;
    if (last < 1 || last > (UINT64_MAX / ps0) - 1) {
        err = WN_LMDB_FILE_BADMETA;
        goto out;
    }
    n = (last + 1) * (uint64_t)ps0;
    if (h < n) err = WN_LMDB_FILE_SHORT;
out:
    close(fd);
    if (need) *need = n;
    if (have) *have = h;
    return err;
}
