/* entbundle.h — enterprise bundles (docs/PROTOCOL.md §13, "Enterprise bundles"): every
 * enterprise record (entry type 0x08) of one unified social credit code, each with its
 * inclusion proof against one signed checkpoint, as GET /v1/enterprises/bundle?code= gives
 * them. Strict parsing and offline verification with the notary's key (and optionally the
 * registrar's): the evidence of who may sign for an enterprise, for evaluators and auditors. */
#ifndef WN_CLI_ENTBUNDLE_H
#define WN_CLI_ENTBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/proofs/bundle.h"
#include "protocol/accreditation.h"
#include "protocol/enterprise.h"

#define WN_ENT_BUNDLE_FORMAT_V1 "waternotary/enterprise-bundle@v1"
#define WN_ACC_BUNDLE_FORMAT_V1 "waternotary/accreditation-bundle@v1" /* the same shape, kind 0x09 records */
#define WN_ENT_BUNDLE_RECORDS_MAX 256

typedef struct {
    int acc;                     /* an accreditation bundle (kind 0x09 records) */
    uint8_t notary_key_id[4];
    char code[WN_USCC_LEN + 1];
    char *checkpoint;            /* malloc'd signed note */
    size_t checkpoint_len;
    wn_bundle_entry *records;    /* in ledger order */
    size_t n_records;
    /* set by wn_ent_bundle_verify: */
    int checkpoint_parsed;
    wn_checkpoint cp;
    wn_enterprise *recs;         /* malloc'd, n_records: the decoded records (valid when the bundle is) */
    wn_accreditation *arecs;     /* the same for an accreditation bundle */
} wn_ent_bundle;

/* Returns: 1 if text names the enterprise bundle format, 2 the accreditation bundle format. */
int wn_ent_bundle_sniff(const char *text, size_t len);
/* Returns: 1, or 0 with detail (free with wn_ent_bundle_free either way). */
int wn_ent_bundle_parse(wn_ent_bundle *b, const char *text, size_t len, char *detail, size_t cap);
void wn_ent_bundle_free(wn_ent_bundle *b);

/* Checks (each failure into rep, kind "enterprise-bundle", in this order): checkpoint,
 * notary_key_id; per record inclusion, then enterprise_record (type 0x08, decodes, the
 * registrar's signature verifies, the code is the bundle's, the registrar is the one given
 * or else the first record's); order (ledger indices and sequences strictly ascend).
 * Returns: 1 if valid. */
int wn_ent_bundle_verify(wn_ent_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep);

#endif
