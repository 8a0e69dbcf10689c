/* identity.h — the identity rules of the money path (docs/PROTOCOL.md §16, "Identities"),
 * one implementation for the node (when it registers a certificate, node/certs/certs.c) and
 * the evaluator (`wn claim evaluate`, `wn cert issue`, savings/evaluate.c), so both refuse
 * with the same reason codes and the same words:
 *
 *   enterprise_not_registered  the policy requires an enterprise record and none of the
 *                              claimed enterprise's credit code is in force
 *   key_not_enterprise         the signing key is not among the keys of the record in force
 *                              (never enrolled for it, or removed by a later record)
 *   meter_enterprise           a meter is enrolled for another enterprise than the claimed one
 *
 * The record *in force* at a ledger position P is the enterprise's record with the highest
 * ledger index below P: the node takes P = its ledger's size when it registers a
 * certificate; an evaluator takes P = the size of the checkpoint its enterprise bundle is
 * proved against. A key a later record leaves out is no longer valid from that record's
 * index on. Nothing here does I/O. */
#ifndef WN_SAVINGS_IDENTITY_H
#define WN_SAVINGS_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enterprise.h"

/* rec: the record in force (NULL: none) at ledger index rec_index; enterprise: the code the
 * claim or certificate names; key: the key that signed it (the holder); required: the
 * policy requires a record. Returns: NULL if the rules hold, else the reason code, with
 * the words in detail. */
const char *wn_identity_check_key(const wn_enterprise *rec, uint64_t rec_index, const char *enterprise,
                                  const uint8_t key[32], int required, char *detail, size_t cap);

/* The words of meter_enterprise: who (e.g. "meter 0011223344556677 (reporting)") is
 * enrolled for `enrolled`, not for `claimed`. Returns: detail. */
const char *wn_identity_meter_detail(char *detail, size_t cap, const char *who, const char *enrolled,
                                     const char *claimed);

/* Returns: 1 if key is one of rec's keys (rec may be NULL: 0). */
int wn_identity_shares_key(const wn_enterprise *rec, const uint8_t key[32]);

#endif
