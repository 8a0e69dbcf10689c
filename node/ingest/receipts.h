/* receipts.h — version 2 receipts on the node: one signed head per group commit, and each
 * entry's receipt cut from it (the head plus the entry's Merkle path inside the commit),
 * PROTOCOL §6.
 *
 * The committer builds a wn_commit_receipts for every commit it publishes, from the leaves
 * it appended, and hands a reference to each reading of the commit; the HTTP thread that
 * answers the reading takes the reading's receipt from it and drops the reference. A
 * reading resent later is answered from a wn_commit_receipts rebuilt from the ledger's
 * leaves and the commit's range and time kept in the node state (state.h): the head is
 * signed deterministically, so the receipt comes out byte for byte the same. */
#ifndef WN_NODE_RECEIPTS_H
#define WN_NODE_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"
#include "ledger/ledger.h"
#include "protocol/receipt.h"

typedef struct wn_commit_receipts wn_commit_receipts;

/* Builds the commit's tree over leaves[0..count) (entries first .. first+count-1) and signs
 * its head. Returns: the object with one reference, NULL if out of memory or signing failed. */
wn_commit_receipts *wn_commit_receipts_new(const char *origin, const wn_signer *notary, uint64_t first,
                                           const uint8_t (*leaves)[32], size_t count, uint64_t time_ms);
/* The same for the entries [first, end) already in the ledger (their leaves read from it).
 * Returns: NULL if the ledger cannot give them (or out of memory). */
wn_commit_receipts *wn_commit_receipts_load(wn_ledger *l, const char *origin, const wn_signer *notary,
                                            uint64_t first, uint64_t end, uint64_t time_ms);
/* Another reference (thread-safe). */
void wn_commit_receipts_ref(wn_commit_receipts *c);
/* Drops a reference; the last frees c. NULL is ignored. */
void wn_commit_receipts_release(wn_commit_receipts *c);
/* The signed head. */
const wn_receipt_head *wn_commit_receipts_head(const wn_commit_receipts *c);
/* The version 2 receipt of entry index (first <= index < first + count), any thread.
 * Returns: 1 on success. */
int wn_commit_receipts_get(const wn_commit_receipts *c, uint64_t index, wn_receipt *out) WN_WARN_UNUSED;

#endif
