/* startcheck.h — before the node serves or signs anything: do its notary key, its ledger
 * and the last checkpoint it signed (DIR/checkpoint.last, node/datadir/datadir.h) agree, and are
 * the ledger's newest entries intact?
 *
 * The reference checkpoints are DIR/checkpoint.last and the newest checkpoint stored in
 * the ledger (either may be absent). Each present one must
 *   - be signed by the node's notary key (else the key is not the one that signed it),
 *   - be of a size the ledger reaches (else the ledger was emptied, deleted or replaced
 *     by an older copy, and the next checkpoint would contradict the signed one),
 *   - have the root that the ledger's stored hashes give at its size.
 * Then the entries from WN_STARTCHECK_TAIL before the newest reference size to the end
 * are re-hashed: each entry's bytes to its stored leaf hash, the leaf to its chain hash
 * (from the one before), and every stored subtree hash to the two below it. Any
 * disagreement refuses the start with the file, the entry index and what to do.
 * It does not re-read older entries: a page scribbled further back is found by
 * `wn audit`, which replays everything (docs/THREATS.md). With allow_damaged (wn-node
 * --allow-damaged-entries) entries that do not re-hash are logged as an error and the
 * start goes on: the node then serves them as they are, for auditors to see; the
 * contradictions above (key, size, root) refuse the start regardless. */
#ifndef WN_NODE_STARTCHECK_H
#define WN_NODE_STARTCHECK_H

#include <stdint.h>

#include "ledger/ledger.h"

#define WN_STARTCHECK_TAIL 1000 /* entries re-hashed before the newest signed size */

typedef struct {
    uint64_t ledger_size;
    uint64_t signed_size;          /* the newest reference checkpoint's size (0: none) */
    uint64_t from, to;             /* entries [from, to) were re-hashed */
    int wrote_last;                /* checkpoint.last was absent and written from the ledger's */
    int damaged;                   /* entries did not re-hash (only with allow_damaged) */
} wn_startcheck_result;

/* Returns: 1 if the directory holds a history the node signed or ledgered: a non-empty
 * ledger or a DIR/checkpoint.last. Out: *size, the ledger's size. */
int wn_startcheck_has_history(const char *data_dir, wn_ledger *ledger, uint64_t *size);

/* Runs the checks above. key_path names the notary key file in messages.
 * Returns: 1 if everything agrees (out filled); 0 after logging why the node must not start. */
int wn_startcheck_run(const char *data_dir, wn_ledger *ledger, const uint8_t notary_pk[32], const char *key_path,
                      int allow_damaged, wn_startcheck_result *out);

#endif
