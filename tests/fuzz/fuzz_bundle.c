/* fuzz_bundle.c — libFuzzer target for what `wn verify` reads from strangers: proof bundles
 * (wn_bundle_parse, then every check of wn_bundle_verify and the JSON report) and meter
 * receipts logs (wn_meterlog_verify, alone and with the input as readings log too).
 * Invariants: no crash or out-of-bounds read; a rejected bundle has a reason; the report is
 * valid JSON; a valid report has every reading valid, no gaps and a valid checkpoint. The
 * seed corpus was signed by a node whose notary secret key is the bytes 1..32, the key
 * used here, so verification gets past the signatures.
 * fuzz-sources: cli/proofs/bundle.c cli/proofs/bundle_verify.c cli/proofs/report.c cli/proofs/meterlog.c */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/proofs/bundle.h"
#include "cli/proofs/meterlog.h"
#include "cli/proofs/report.h"
#include "crypto/sig.h"

static uint8_t pub[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        uint8_t sk[32];
        for (int i = 0; i < 32; i++) sk[i] = (uint8_t)(i + 1);
        if (!wn_seckey_xonly(pub, sk)) abort();
        init = 1;
    }
    char *text = malloc(size ? size : 1); /* a copy, so that reads past the end are caught */
    if (!text) return 0;
    memcpy(text, data, size);

    wn_bundle b;
    char detail[256] = "";
    if (wn_bundle_parse(&b, text, size, detail, sizeof detail)) {
        wn_report rep;
        wn_report_init(&rep, "bundle");
        int valid = wn_bundle_verify(&b, pub, NULL, &rep);
        if (valid != wn_report_valid(&rep)) abort();
        if (valid) {
            if (!b.checkpoint_ok || !b.enrolment_ok || rep.n_gaps) abort();
            for (size_t i = 0; i < b.n_readings; i++)
                if (!b.readings[i].valid) abort();
        }
        char *json = wn_report_json(&rep);
        if (json) {
            cJSON *j = cJSON_Parse(json);
            if (!j) abort();
            cJSON_Delete(j);
            free(json);
        }
        wn_report_free(&rep);
    } else if (!detail[0]) {
        abort();
    }
    wn_bundle_free(&b);

    wn_report rep;
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify(data, size, NULL, 0, pub, &rep);
    wn_report_free(&rep);
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify(data, size, data, size, pub, &rep);
    wn_report_free(&rep);
    free(text);
    return 0;
}
