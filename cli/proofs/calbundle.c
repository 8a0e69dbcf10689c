/* calbundle.c — calibration bundles parsed and verified (calbundle.h), in the shape of
 * enterprise bundles (entbundle.c). */
#include "cli/proofs/calbundle.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"

int wn_cal_bundle_sniff(const char *text, size_t len)
{
    /* a meter's bundle (up to 64 MiB) is not parsed twice: only text naming the format is */
    if (!memmem(text, len, WN_CAL_BUNDLE_FORMAT_V1, strlen(WN_CAL_BUNDLE_FORMAT_V1))) return 0;
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *f = j ? cJSON_GetObjectItemCaseSensitive(j, "format") : NULL;
    int yes = cJSON_IsString(f) && strcmp(f->valuestring, WN_CAL_BUNDLE_FORMAT_V1) == 0;
    cJSON_Delete(j);
    return yes;
}

int wn_cal_bundle_parse(wn_cal_bundle *b, const char *text, size_t len, char *detail, size_t cap)
{
    enum { F_FORMAT, F_KEYID, F_METER, F_CP, F_RECORDS, F_N };
    static const char *const names[F_N] = {"format", "notary_key_id", "meter", "checkpoint", "records"};
    memset(b, 0, sizeof *b);
    cJSON *j = wn_json_parse_strict(text, len, detail, cap);
    if (!j) return 0;
    const cJSON *it[F_N];
    const char *bad, *why;
    int ok = 0;
    if (!cJSON_IsObject(j)) {
        snprintf(detail, cap, "not a JSON object");
        goto done;
    }
    if (wn_json_members(j, names, it, F_N, &bad, &why)) {
        snprintf(detail, cap, "%s %s", why, bad);
        goto done;
    }
    if (!cJSON_IsString(it[F_FORMAT]) || strcmp(it[F_FORMAT]->valuestring, WN_CAL_BUNDLE_FORMAT_V1) != 0) {
        snprintf(detail, cap, "format is not \"" WN_CAL_BUNDLE_FORMAT_V1 "\"");
        goto done;
    }
    if (!wn_json_hex(it[F_KEYID], b->notary_key_id, 4)) {
        snprintf(detail, cap, "notary_key_id is not 8 lowercase hex characters");
        goto done;
    }
    if (!wn_json_hex(it[F_METER], b->meter, 32)) {
        snprintf(detail, cap, "meter is not 64 lowercase hex characters");
        goto done;
    }
    if (!cJSON_IsString(it[F_CP]) || strlen(it[F_CP]->valuestring) > WN_CHECKPOINT_MAX) {
        snprintf(detail, cap, "checkpoint is not a string of at most %d bytes", WN_CHECKPOINT_MAX);
        goto done;
    }
    b->checkpoint_len = strlen(it[F_CP]->valuestring);
    if (!(b->checkpoint = strdup(it[F_CP]->valuestring))) {
        snprintf(detail, cap, "out of memory");
        goto done;
    }
    int n = cJSON_IsArray(it[F_RECORDS]) ? cJSON_GetArraySize(it[F_RECORDS]) : -1;
    if (n < 1 || n > WN_CAL_BUNDLE_RECORDS_MAX) {
        snprintf(detail, cap, "records is not an array of 1..%d proved entries", WN_CAL_BUNDLE_RECORDS_MAX);
        goto done;
    }
    b->records = calloc((size_t)n, sizeof *b->records);
    b->recs = calloc((size_t)n, sizeof *b->recs);
    if (!b->records || !b->recs) {
        snprintf(detail, cap, "out of memory");
        goto done;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, it[F_RECORDS])
    {
        char what[32];
        snprintf(what, sizeof what, "records[%zu]", b->n_records);
        if (!wn_bundle_parse_entry(o, &b->records[b->n_records++], what, detail, cap)) goto done;
    }
    ok = 1;
done:
    cJSON_Delete(j);
    return ok;
}

void wn_cal_bundle_free(wn_cal_bundle *b)
{
    for (size_t i = 0; i < b->n_records; i++) {
        free(b->records[i].entry);
        free(b->records[i].proof);
    }
    free(b->records);
    free(b->recs);
    free(b->checkpoint);
    memset(b, 0, sizeof *b);
}

int wn_cal_bundle_verify(wn_cal_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep)
{
    char hex[65];
    wn_hex_encode(hex, notary, 32);
    b->checkpoint_parsed = wn_checkpoint_parse(b->checkpoint, b->checkpoint_len, &b->cp, NULL) == WN_CHECKPOINT_OK;
    wn_checkpoint cp;
    int err = wn_checkpoint_verify(b->checkpoint, b->checkpoint_len, NULL, notary, &cp);
    if (err != WN_CHECKPOINT_OK)
        wn_report_fail(rep, "checkpoint", "the checkpoint is not validly signed by the notary key %s: %s", hex,
                       wn_checkpoint_strerror(err));
    if (b->checkpoint_parsed) {
        uint8_t id[4];
        wn_note_keyid(id, b->cp.origin, notary);
        if (memcmp(id, b->notary_key_id, 4) != 0)
            wn_report_fail(rep, "notary_key_id", "the bundle's notary key id is not the key given for origin %s",
                           b->cp.origin);
    }
    const uint8_t *reg = registrar;
    for (size_t i = 0; i < b->n_records; i++) {
        wn_bundle_entry *e = &b->records[i];
        char what[64];
        snprintf(what, sizeof what, "record %zu (index %llu)", i, (unsigned long long)e->index);
        uint8_t leaf[32];
        wn_merkle_leaf_hash(leaf, e->entry, e->len);
        e->proved = b->checkpoint_parsed && e->index < b->cp.size &&
                    wn_merkle_verify_inclusion(leaf, e->index, b->cp.size, (const uint8_t(*)[32])e->proof,
                                               e->proof_len, b->cp.root);
        if (!e->proved)
            wn_report_fail(rep, "inclusion", "%s: the inclusion proof does not lead to the checkpoint's root", what);
        wn_calibration *r = &b->recs[i];
        wn_entry_view v;
        if (wn_entry_parse(&v, e->entry, e->len) != WN_ENTRY_OK || v.kind != WN_ENTRY_CALIBRATION ||
            wn_calibration_decode(r, v.payload, v.len) != WN_ENT_OK) {
            wn_report_fail(rep, "calibration_record", "%s: not a calibration record (type 0x%02x) that decodes", what,
                           WN_ENTRY_CALIBRATION);
            continue;
        }
        if (wn_calibration_verify(r) != WN_ENT_OK)
            wn_report_fail(rep, "calibration_record", "%s: the registrar's signature does not verify", what);
        if (memcmp(r->meter, b->meter, 32) != 0)
            wn_report_fail(rep, "calibration_record", "%s: a record of another meter than the bundle's", what);
        if (!reg) reg = r->registrar;
        if (memcmp(r->registrar, reg, 32) != 0)
            wn_report_fail(rep, "calibration_record", "%s: signed by another registrar than %s", what,
                           registrar ? "the one given" : "the first record's");
        if (i && e->index <= b->records[i - 1].index)
            wn_report_fail(rep, "order", "%s: ledger indices must ascend along the records", what);
    }
    wn_hex_encode(hex, b->meter, 32);
    wn_report_info_str(rep, "meter", hex);
    if (b->checkpoint_parsed) {
        wn_report_info_str(rep, "origin", b->cp.origin);
        wn_report_info_u64(rep, "size", b->cp.size);
    }
    wn_report_count(rep, "records", b->n_records);
    return wn_report_valid(rep);
}
