/* datadir.h — the node's hold on its data directory, and the copy of the last checkpoint
 * it signed that lives outside the ledger's LMDB environment.
 *
 * DIR/node.lock        held with an exclusive flock(2) for the node's lifetime and holding
 *                      its PID: a second wn-node on the same directory refuses to start
 *                      (two writers would each accept what the other refused).
 * DIR/checkpoint.last  the signed note of the last checkpoint the node signed, replaced
 *                      atomically (temporary file, fsync, rename, fsync of DIR) each time
 *                      the checkpointer signs. At start the ledger must agree with it
 *                      (node/datadir/startcheck.h): a ledger emptied, deleted or swapped for an
 *                      older copy cannot then be signed again into a fork. */
#ifndef WN_NODE_DATADIR_H
#define WN_NODE_DATADIR_H

#include <stddef.h>

#define WN_DATADIR_LOCK "node.lock"
#define WN_DATADIR_CHECKPOINT "checkpoint.last"

/* Takes DIR/node.lock (created 0600 if absent) and writes this process's PID into it.
 * Returns: the open descriptor that holds the lock (>= 0); -1 after logging why (another
 * process holds it: the message names the directory and that process's PID). */
int wn_datadir_lock(const char *dir);

/* Releases the lock (closing fd; -1 is ignored). The file stays. */
void wn_datadir_unlock(int fd);

/* Replaces DIR/checkpoint.last with note[0..len) durably (see above).
 * Returns: 1 on success; 0 with errno set. */
int wn_datadir_save_checkpoint(const char *dir, const char *note, size_t len);

/* Reads DIR/checkpoint.last into buf (NUL-terminated; cap must exceed the note).
 * Out: *len. Returns: 1 read; 0 absent; -1 unreadable or larger than cap-1 (errno set). */
int wn_datadir_load_checkpoint(const char *dir, char *buf, size_t cap, size_t *len);

#endif
