/* backup.h — `wn backup`: a consistent copy of a node's data directory taken while the node
 * runs, as one ustar file, and its verification and restore (docs/OPERATIONS.md "Backup").
 *
 * A backup file holds, in this order:
 *   WATERNOTARY-BACKUP   a text manifest: format, time, source, notary key, ledger size,
 *                        latest checkpoint size, and "file NAME SIZE SHA256" per member;
 *   checkpoint           the ledger's latest signed checkpoint (as stored in the copy);
 *   state/, certs/, bureau/data.mdb   the node's other LMDB environments, copied first;
 *   ledger/data.mdb      the ledger, copied last (so nothing derived is ahead of it).
 * Each environment is copied with LMDB's copy API (mdb_env_copyfd2, in one read
 * transaction: a snapshot of committed data, never a half-written batch), compacted unless
 * asked otherwise. Members are mode 0600 and the file is created 0600: no secret key is
 * ever put in a backup (keys are backed up once, offline: OPERATIONS.md). */
#ifndef WN_CLI_BACKUP_H
#define WN_CLI_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#define WN_BACKUP_MAGIC "waternotary-backup 1"
#define WN_BACKUP_MANIFEST "WATERNOTARY-BACKUP"
#define WN_BACKUP_PATH_MAX 4000u /* longest DIR, FILE or folder name taken */

typedef struct {
    uint64_t entries;        /* ledger size in the copy */
    uint64_t checkpoint_size;/* size of its latest checkpoint (0: none) */
    int have_notary;
    uint8_t notary[32];      /* from --notary-pub or DIR/notary.key at backup time */
    uint64_t bytes;          /* size of the backup file */
} wn_backup_info;

/* Writes a backup of data directory dir to out (which must not exist; written to a
 * temporary name beside it, fsync'd, then renamed). notary: the notary's x-only key or NULL
 * (then DIR/notary.key is read if it can be). Returns: 1, or 0 with err filled. */
int wn_backup_make(const char *dir, const char *out, int compact, const uint8_t *notary, wn_backup_info *info,
                   char *err, size_t errlen);

/* Unpacks backup file `file` into directory dest (created 0700; must be absent or empty)
 * checking the manifest: every member named and of the size and SHA-256 it says, nothing
 * else, a ledger present, and the checkpoint member equal to the copy's latest checkpoint.
 * Out: *info (notary as the manifest says). Returns: 1, or 0 with err filled. */
int wn_backup_unpack(const char *file, const char *dest, wn_backup_info *info, char *err, size_t errlen);

/* Returns: 1 if some process has the LMDB environment in env_dir open (a running node:
 * LMDB holds a lock on its lock.mdb while open), 0 if not or there is no lock file. */
int wn_backup_env_in_use(const char *env_dir);

#endif
