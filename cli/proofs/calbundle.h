/* calbundle.h — calibration bundles (docs/PROTOCOL.md §13, "Calibration bundles"): every
 * calibration record (entry type 0x0A) of one meter, each with its inclusion proof against
 * one signed checkpoint, as GET /v1/calibrations/bundle?meter= gives them. Strict parsing
 * and offline verification with the notary's key (and optionally the registrar's): the
 * evidence of when a meter was in calibration, for evaluators and auditors. */
#ifndef WN_CLI_CALBUNDLE_H
#define WN_CLI_CALBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/proofs/bundle.h"
#include "protocol/calibration.h"

#define WN_CAL_BUNDLE_FORMAT_V1 "waternotary/calibration-bundle@v1"
#define WN_CAL_BUNDLE_RECORDS_MAX 256

typedef struct {
    uint8_t notary_key_id[4];
    uint8_t meter[32];
    char *checkpoint;            /* malloc'd signed note */
    size_t checkpoint_len;
    wn_bundle_entry *records;    /* in ledger order */
    size_t n_records;
    /* set by wn_cal_bundle_verify: */
    int checkpoint_parsed;
    wn_checkpoint cp;
    wn_calibration *recs;        /* malloc'd, n_records: the decoded records (valid when the bundle is) */
} wn_cal_bundle;

/* Returns: 1 if text names the calibration bundle format. */
int wn_cal_bundle_sniff(const char *text, size_t len);
/* Returns: 1, or 0 with detail (free with wn_cal_bundle_free either way). */
int wn_cal_bundle_parse(wn_cal_bundle *b, const char *text, size_t len, char *detail, size_t cap);
void wn_cal_bundle_free(wn_cal_bundle *b);

/* Checks (each failure into rep, kind "calibration-bundle", in this order): checkpoint,
 * notary_key_id; per record inclusion, then calibration_record (type 0x0A, decodes, the
 * registrar's signature verifies, the meter is the bundle's, the registrar is the one given
 * or else the first record's); order (ledger indices strictly ascend). Returns: 1 if valid. */
int wn_cal_bundle_verify(wn_cal_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep);

#endif
