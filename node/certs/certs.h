/* certs.h — savings certificates on the node (docs/PROTOCOL.md §17): POST /v1/certificates,
 * /v1/transfers, /v1/retirements and GET /v1/certificates/N, and the state they need —
 * every certificate with the balance of each holder, its next operation number and its
 * (meter, reporting period) claims, which refuse double counting.
 *
 * Decisions are serialised by one mutex held from the check to the durable append (through
 * the committer, as WN_JOB_ENTRY), so two certificates on the same litres cannot both pass.
 * Certificates are few, so the overlap check scans them all.
 *
 * Like state.h, this is a view of the ledger mirrored in its own LMDB environment DIR/certs
 * (no fsync) with a watermark "every certificate entry below W is applied" and the chain
 * hash of entry W-1; at start a mismatch rebuilds it from entry 0, else entries [W, size)
 * are replayed. A clean stop moves the watermark to the ledger's size. */
#ifndef WN_NODE_CERTS_H
#define WN_NODE_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "node/http/reply.h"

struct wn_node;
typedef struct wn_certs wn_certs;

/* Opens (creating, checking, rebuilding) the env in dir and brings it up to the ledger.
 * Returns: 1 on success, 0 on failure (logged). */
int wn_certs_open(wn_certs **out, const char *dir, wn_ledger *ledger);
/* Records the ledger's size as applied (the caller stopped every writer) and frees all. */
void wn_certs_close(wn_certs *c, wn_ledger *ledger);

enum wn_certs_post_kind { WN_CERTS_ISSUE = 1, WN_CERTS_TRANSFER, WN_CERTS_RETIRE };

/* POST /v1/certificates (issue), /v1/transfers, /v1/retirements. */
void wn_certs_post(struct wn_node *n, int kind, const char *content_type, const char *body, size_t len,
                   wn_response *out);
/* GET /v1/certificates/N: the certificate, its holders' balances, retired volume, next
 * operation number and operations. */
void wn_certs_get(struct wn_node *n, uint64_t index, wn_response *out);

/* GET /v1/project/certificates?id=ID: every certificate naming project ID, in ledger order,
 * as {"project":ID,"certificates":[{"index":N,"certificate":{...}},...]} (at most
 * WN_CERTS_PROJECT_MAX; more is answered 500, as no policy allows that many). */
#define WN_CERTS_PROJECT_MAX 1000
void wn_certs_project(struct wn_node *n, const char *id, wn_response *out);

#endif
