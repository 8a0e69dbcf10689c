/* audit_lmdb.h — feeds an audit (audit.h) from a copy of the node's ledger directory, read
 * straight from the LMDB files as docs/PROTOCOL.md §8 lays them out, without the ledger
 * module: an auditor relies on the published format, not on the node's code. Besides the
 * entries and checkpoints it checks everything else the files hold: every stored hash,
 * each entry's meter link (recomputed as the ledger writes it) and the meters, heads,
 * mseq and meta tables.
 *
 * The environment is opened read-only (data.mdb is never written). Damaged files can make
 * LMDB read outside the file or fail an internal assertion; while this runs, such a fault
 * inside the mapped file ends the process with exit code 2 and a message (a process-wide
 * signal handler: for the `wn` process and benchmarks, one audit at a time). */
#ifndef WN_CLI_AUDIT_LMDB_H
#define WN_CLI_AUDIT_LMDB_H

#include <stddef.h>
#include <stdint.h>

#include "cli/audit/audit.h"

/* Called every few thousand entries and at the end: done of total entries. */
typedef void (*wn_audit_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Feeds every checkpoint and then every entry of the ledger in dir to a, and reports
 * storage and index problems to it. Does not call wn_auditor_finish.
 * Returns: 1 when the whole ledger was read (its problems are in a); 0 when it cannot be
 * read (not a ledger, unknown format, LMDB error, out of memory), with why[0..cap). */
int wn_audit_lmdb_run(wn_auditor *a, const char *dir, wn_audit_progress_fn progress, void *pctx, char *why,
                      size_t cap);

#endif
