/* claimdata.h — the verified data a savings evaluation rests on: for each meter and period
 * of a claim, and for its certifier, a proof bundle (docs/PROTOCOL.md §13), read from files
 * or fetched from a node, verified with the notary's key, and turned into the evaluator's
 * input (savings/evaluate.h). Both ways go through the same code from the bundle's bytes on,
 * so the same bundles give byte-identical evaluations online and offline.
 *
 * Offline, each (meter, period) takes, among the valid bundles of that meter whose
 * [from, to) contains the period, the one with the largest checkpoint (the first given on
 * a tie); the certifier takes its bundle with the largest checkpoint, and each claimed meter
 * its calibration bundle with the largest checkpoint (none given: no record known, as a
 * node's 404 says). Online, the node is
 * asked for exactly the claim's periods; a meter the node does not know (404) counts as
 * not enrolled. Every function returns an exit code from cli/commands.h after printing
 * what went wrong ("wn <cmd>: ..."), and for an invalid bundle its report. */
#ifndef WN_CLI_CLAIMDATA_H
#define WN_CLI_CLAIMDATA_H

#include <stddef.h>
#include <stdint.h>

#include "cli/proofs/bundle.h"
#include "cli/proofs/calbundle.h"
#include "cli/proofs/entbundle.h"
#include "savings/claim.h"
#include "savings/evaluate.h"

typedef struct {
    wn_bundle *bundles;                 /* every bundle read, parsed and verified */
    size_t n_bundles;
    wn_eval_reading **arrays;           /* one per bundle: its readings for the evaluator */
    wn_eval_series baseline[WN_CLAIM_MAX_METERS], reporting[WN_CLAIM_MAX_METERS];
    wn_eval_signer certifier;
    wn_ent_bundle *ent_bundles;         /* every enterprise bundle read, parsed and verified */
    size_t n_ent_bundles;
    wn_eval_enterprise enterprise;      /* the claimant's records: the bundle of its code with the largest checkpoint */
    wn_eval_accreditation accreditation; /* the certifier's: the accreditation bundle of the code its enrolment names */
    wn_cal_bundle *cal_bundles;         /* every calibration bundle read, parsed and verified; each series takes
                                           its meter's with the largest checkpoint */
    size_t n_cal_bundles;
} wn_claim_data;

/* Verifies the bundle texts texts[0..n) (names: file names, for messages) and picks what
 * the claim needs. registrar (may be NULL): the key enrolments must name. */
int wn_claim_data_from_texts(const char *cmd, wn_claim_data *d, const wn_claim *c, char *const *texts,
                             const size_t *lens, const char *const *names, size_t n, const uint8_t notary[32],
                             const uint8_t *registrar);

/* Reads bundle files and does the same. */
int wn_claim_data_from_files(const char *cmd, wn_claim_data *d, const wn_claim *c, const char *const *paths, size_t n,
                             const uint8_t notary[32], const uint8_t *registrar);

/* Fetches the bundles the claim needs from node (waiting up to wait_s seconds for a
 * checkpoint that covers them) and does the same. */
int wn_claim_data_fetch(const char *cmd, wn_claim_data *d, const wn_claim *c, const char *node,
                        const uint8_t notary[32], const uint8_t *registrar, uint64_t wait_s);

/* When the policy requires an enterprise record and no evidence of the claimant's records
 * was given (offline: no enterprise bundle of its code), says how to fetch it.
 * Returns: WN_EXIT_OK or WN_EXIT_USAGE. */
int wn_claim_data_need_enterprise(const char *cmd, const wn_claim_data *d, const wn_claim *c, const wn_policy *p);

/* The evaluator's input over d. */
wn_eval_input wn_claim_data_input(const wn_claim_data *d, const wn_claim *c, const wn_policy *p);

void wn_claim_data_free(wn_claim_data *d);

#endif
