/* audit_http.h — the whole-ledger audit (cli/audit/audit.h) fed from a running notary node over
 * HTTP, through its C2SP tlog-tiles interface (docs/PROTOCOL.md §14):
 *
 *   1. GET /checkpoint: the latest checkpoint; its size S is the tree audited;
 *   2. GET /v1/checkpoints, page by page: every stored checkpoint up to S, fed first so the
 *      audit checks each one's signature and root as the entries pass its size;
 *   3. per 256 entries, GET /tile/entries/N and GET /tile/0/N (".p/W" for the last): every
 *      entry is fed in index order with the served level-0 hash as its stored leaf hash, so
 *      a served hash that is not SHA-256(0x00 || entry) is a leaf_hash problem at that entry;
 *   4. GET /tile/L/N for L >= 1: every served upper hash is compared with the subtree hash
 *      recomputed from the entries (tree_hash problem at the subtree's last entry).
 *
 * Equivocation evidence refers to earlier readings: they are fetched again and accepted
 * only if their bundle hashes to what was recomputed when it was fed. Memory: 64 bytes
 * per 256 entries, plus one bundle. */
#ifndef WN_CLI_AUDIT_HTTP_H
#define WN_CLI_AUDIT_HTTP_H

#include <stdint.h>

#include "cli/audit/audit.h"

typedef struct {
    uint64_t size;      /* the tree size audited (the latest checkpoint's; 0 if none yet) */
    uint64_t requests;  /* HTTP requests made */
    uint64_t bytes;     /* bytes received */
} wn_audit_http_stats;

/* Feeds audit a with the ledger of the node at node_url as above (it does not call
 * wn_auditor_finish). cmd prefixes error messages. Out: *st (may be NULL).
 * Returns: 1 if every resource the checkpoint implies was fetched (the ledger's problems
 * are in a); 0 after printing why the node could not be read (exit code 3). */
int wn_audit_http_feed(wn_auditor *a, const char *cmd, const char *node_url, wn_audit_http_stats *st);

#endif
