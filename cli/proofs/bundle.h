/* bundle.h — proof bundles (docs/PROTOCOL.md §13) for auditors and evaluators: strict
 * parsing, and offline verification of everything a bundle claims with nothing but the
 * notary's public key — the checkpoint signature, every inclusion proof, the enrolment
 * and revocation, each reading's meter, signature (with the enrolled key) and place in the
 * meter's hash chain, the period's boundaries and equivocation evidence. Every failure is
 * recorded in a wn_report (cli/proofs/report.h), gaps with their exact sequence ranges.
 *
 * After wn_bundle_verify, a reading with `valid` set is proved in the checkpoint's tree,
 * decoded into `reading`, signed by the enrolled key and from the enrolled, unrevoked
 * period: what an evaluator may compute with (whether the whole bundle is valid, and so
 * complete and unbroken, is the report's verdict). */
#ifndef WN_CLI_BUNDLE_H
#define WN_CLI_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/proofs/report.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"

#define WN_BUNDLE_FORMAT_V1 "waternotary/bundle@v1"
#define WN_BUNDLE_FILE_MAX (64u << 20) /* largest bundle file read */

enum wn_bundle_boundary { WN_BOUNDARY_NONE = 0, WN_BOUNDARY_BEFORE, WN_BOUNDARY_AFTER };

/* A proved entry: the entry bytes and their inclusion proof; the rest is filled by verify. */
typedef struct {
    uint64_t index;
    uint8_t *entry;          /* malloc'd entry bytes (type byte and payload) */
    size_t len;
    uint8_t (*proof)[32];    /* malloc'd proof hashes (NULL when proof_len is 0) */
    size_t proof_len;
    int boundary;            /* readings: enum wn_bundle_boundary */
    /* set by wn_bundle_verify: */
    int parsed;              /* entry bytes parse (ledger/entry.h); view: kind, commit time, marks */
    wn_entry_view view;      /* payload points into entry */
    int proved;              /* the inclusion proof leads to the checkpoint's root */
    int decoded;             /* readings and evidence: `reading` holds the (conflicting) reading */
    wn_reading reading;
    int valid;               /* readings: every check on this reading alone passed (see above) */
} wn_bundle_entry;

typedef struct {
    uint8_t notary_key_id[4];
    uint8_t meter[32];
    uint64_t from_ms, to_ms;
    char *checkpoint;        /* malloc'd, NUL-terminated signed note */
    size_t checkpoint_len;
    wn_bundle_entry enrolment;
    int has_revocation;
    wn_bundle_entry revocation;
    wn_bundle_entry *readings;
    size_t n_readings;
    wn_bundle_entry *equivocations;
    size_t n_equivocations;
    /* set by wn_bundle_verify: */
    int checkpoint_ok;       /* signed by the notary key */
    int checkpoint_parsed;   /* cp holds the checkpoint body (even if the signature failed) */
    wn_checkpoint cp;
    int enrolment_ok;        /* decoded, registrar signature valid, this meter */
    wn_enrolment enrol;      /* valid when enrolment_ok */
    int revocation_ok;
    wn_revocation revoc;     /* valid when revocation_ok */
} wn_bundle;

/* Returns: 1 if text looks like a bundle (a JSON object naming the bundle format). */
int wn_bundle_sniff(const char *text, size_t len);

/* Parses a bundle strictly (PROTOCOL §13: members, types, hex, base64, times).
 * Returns: 1 on success; 0 with a reason in detail (the bundle is unusable, not merely
 * invalid). Free with wn_bundle_free in either case. */
int wn_bundle_parse(wn_bundle *b, const char *text, size_t len, char *detail, size_t detailcap);
void wn_bundle_free(wn_bundle *b);

/* Parses one proved entry {"index","entry","proof"} (no "boundary") strictly, as a bundle's;
 * what names it in detail. Returns: 1, or 0 with detail (e's buffers may be allocated:
 * free e->entry and e->proof either way). */
int wn_bundle_parse_entry(const void *cjson_obj, wn_bundle_entry *e, const char *what, char *detail, size_t cap);

/* Verifies everything (PROTOCOL §13, "Verification") with the notary's x-only key and,
 * if registrar is not NULL, the registrar key the enrolment must name. Adds every failure,
 * warning and gap to rep (kind "bundle"), with counts and facts. Fills the verify fields
 * of b. Returns: 1 if the bundle is valid (wn_report_valid(rep)). */
int wn_bundle_verify(wn_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep);

/* Writes a summary of a verified bundle for people (the checkpoint, meter, enrolment,
 * readings), without the report's lines. */
void wn_bundle_describe(const wn_bundle *b, FILE *out);

#endif
