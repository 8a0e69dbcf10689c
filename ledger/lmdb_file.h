/* lmdb_file.h — checks an LMDB environment's data file against its own meta pages before
 * it is mapped. LMDB maps data.mdb and trusts its length: a file cut short (a bad copy, a
 * full disk during a restore, a careless truncate) is mapped anyway, and the first read
 * past its end kills the process with SIGBUS. This check reads the two meta pages (pages 0
 * and 1, as LMDB 0.9 lays them out), takes the valid one with the newer transaction id, as
 * LMDB does, and compares the file's length with (last page used + 1) x page size.
 * It does not find damage inside the file: a scribbled page is the Merkle checks' business. */
#ifndef WN_LMDB_FILE_H
#define WN_LMDB_FILE_H

#include <stdint.h>

enum wn_lmdb_file_err {
    WN_LMDB_FILE_OK = 0,   /* long enough for every page its meta page says is in use */
    WN_LMDB_FILE_NEW,      /* absent or empty: LMDB will make a new environment */
    WN_LMDB_FILE_SHORT,    /* shorter than the newest meta page says: truncated */
    WN_LMDB_FILE_BADMETA,  /* neither meta page is an LMDB meta page (or cut inside one) */
    WN_LMDB_FILE_EIO       /* cannot be read (errno set) */
};

const char *wn_lmdb_file_strerror(int err);

/* Checks dir/data.mdb. Out: *need, the length the meta page asks for, and *have, the
 * file's length (either may be NULL). Returns: a wn_lmdb_file_err. */
int wn_lmdb_file_check(const char *dir, uint64_t *need, uint64_t *have);

#endif
