/* proof_file.h — proof files an auditor can check offline.
 *
 * Inclusion: C2SP tlog-proof v1 (c2sp.org/tlog-proof), with the entry bytes as `extra`:
 *   c2sp.org/tlog-proof@v1\n
 *   extra <base64 entry bytes>\n          (optional: lets a verifier recompute the leaf)
 *   index <zero-based index>\n
 *   <base64 proof hash>\n ...             (leaf's sibling first)
 *   \n
 *   <signed checkpoint, verbatim>
 *
 * Consistency (our format, built the same way):
 *   waternotary/consistency-proof@v1\n
 *   <base64 proof hash>\n ...
 *   \n
 *   <old signed checkpoint, verbatim>
 *   \n
 *   <new signed checkpoint, verbatim>
 * Each checkpoint ends with its signature lines; the proof runs from the old size to the
 * new one. docs/PROTOCOL.md "Proof files" is the contract. */
#ifndef WN_PROOF_FILE_H
#define WN_PROOF_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/merkle.h"

enum wn_proof_err {
    WN_PROOF_OK = 0,
    WN_PROOF_EFORMAT,     /* not a well-formed proof file (reason in detail) */
    WN_PROOF_ECHECKPOINT, /* a checkpoint does not parse or its signature fails */
    WN_PROOF_EPROOF,      /* the Merkle proof does not verify */
    WN_PROOF_EENTRY,      /* no entry bytes to recompute the leaf from */
    WN_PROOF_ESPACE
};
const char *wn_proof_strerror(int err);

typedef struct {
    uint8_t *extra;       /* entry bytes (malloc'd) or NULL */
    size_t extra_len;
    uint64_t index;
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t proof_len;
    const char *checkpoint; /* points into the parsed text */
    size_t checkpoint_len;
} wn_incl_proof;

typedef struct {
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t proof_len;
    const char *old_cp, *new_cp; /* point into the parsed text */
    size_t old_len, new_len;
} wn_cons_proof;

/* Writes an inclusion proof file into a malloc'd NUL-terminated string (*out). */
int wn_incl_proof_format(char **out, size_t *len, const uint8_t *entry, size_t entry_len,
                         uint64_t index, const uint8_t (*proof)[32], size_t proof_len,
                         const char *checkpoint, size_t cp_len);
/* Parses text (which must outlive p). Call wn_incl_proof_free after. */
int wn_incl_proof_parse(wn_incl_proof *p, const char *text, size_t len, char *detail, size_t detailcap);
void wn_incl_proof_free(wn_incl_proof *p);
/* Full offline check: checkpoint signature by (origin from the checkpoint, xonly), leaf =
 * SHA-256(0x00 || entry) with entry from extra (or `entry` if given, which overrides),
 * and the inclusion proof against the checkpoint's root. Out: *cp (may be NULL). */
int wn_incl_proof_verify(const wn_incl_proof *p, const uint8_t xonly[32], const uint8_t *entry,
                         size_t entry_len, wn_checkpoint *cp, char *detail, size_t detailcap);

int wn_cons_proof_format(char **out, size_t *len, const uint8_t (*proof)[32], size_t proof_len,
                         const char *old_cp, size_t old_len, const char *new_cp, size_t new_len);
int wn_cons_proof_parse(wn_cons_proof *p, const char *text, size_t len, char *detail, size_t detailcap);
/* Checks both checkpoint signatures, same origin, and the consistency proof. */
int wn_cons_proof_verify(const wn_cons_proof *p, const uint8_t xonly[32], wn_checkpoint *old_cp,
                         wn_checkpoint *new_cp, char *detail, size_t detailcap);

#endif
