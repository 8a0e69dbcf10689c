/* proofs.h — the CLI's one code path for proof files: building them from a local ledger
 * (wn prove, wn prove-consistency, wn demo) and verifying them offline with a report for
 * people (wn verify-inclusion, wn verify-consistency, and the demo's own check).
 * Every function returns an exit code from cli/commands.h. */
#ifndef WN_CLI_PROOFS_H
#define WN_CLI_PROOFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"

/* Inclusion proof file for entry `index` against the stored checkpoint of tree size `size`
 * (0: the latest stored checkpoint), after checking that checkpoint against the ledger's
 * own root. Out: *text (malloc'd, NUL-terminated), *len, *cp_size (may be NULL).
 * Problems are printed to stderr as "wn <cmd>: ...". */
int wn_cli_build_inclusion(const char *cmd, wn_ledger *l, uint64_t index, uint64_t size, char **text, size_t *len,
                           uint64_t *cp_size);

/* Consistency proof file from the stored checkpoint of size `from` to that of size `to`
 * (0: the latest). Out: *text, *len, *to_size (may be NULL). */
int wn_cli_build_consistency(const char *cmd, wn_ledger *l, uint64_t from, uint64_t to, char **text, size_t *len,
                             uint64_t *to_size);

typedef struct {
    wn_checkpoint cp;  /* the verified checkpoint (valid when the result is WN_EXIT_OK) */
    uint64_t index;
    char reason[512];  /* why the proof is invalid (exit 1) or unusable (exit 2) */
} wn_cli_incl_result;

/* Verifies an inclusion proof file (text[0..len)) with the notary's x-only key. The leaf is
 * recomputed from `entry` if given, else from the file's extra line. A reading entry is
 * decoded and its own signature checked, an enrolment or revocation its registrar
 * signature; a bad one makes the result invalid. Writes a report of what was verified to
 * out (may be NULL), ending in a "VALID: ..." or "INVALID: ..." line; when the file is
 * malformed or has no entry (exit 2) it writes nothing and only fills res->reason.
 * Returns: WN_EXIT_OK, WN_EXIT_INVALID or WN_EXIT_USAGE. */
int wn_cli_verify_inclusion(const char *text, size_t len, const uint8_t notary[32], const uint8_t *entry,
                            size_t entry_len, FILE *out, wn_cli_incl_result *res);

typedef struct {
    wn_checkpoint old_cp, new_cp; /* valid when the result is WN_EXIT_OK */
    char reason[512];
} wn_cli_cons_result;

/* Verifies a consistency proof file; report and return codes as above. */
int wn_cli_verify_consistency(const char *text, size_t len, const uint8_t notary[32], FILE *out,
                              wn_cli_cons_result *res);

/* Writes "<base64 root>" of cp into out (45 bytes). */
void wn_cli_root_b64(char out[45], const uint8_t root[32]);

#endif
