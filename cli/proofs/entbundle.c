/* entbundle.c — enterprise bundles parsed and verified (entbundle.h). */
#include "cli/proofs/entbundle.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"

int wn_ent_bundle_sniff(const char *text, size_t len)
{
    /* a meter's bundle (up to 64 MiB) is not parsed twice: only text naming one of the formats is */
    if (!memmem(text, len, WN_ENT_BUNDLE_FORMAT_V1, strlen(WN_ENT_BUNDLE_FORMAT_V1)) &&
        !memmem(text, len, WN_ACC_BUNDLE_FORMAT_V1, strlen(WN_ACC_BUNDLE_FORMAT_V1)))
        return 0;
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *f = j ? cJSON_GetObjectItemCaseSensitive(j, "format") : NULL;
    int yes = !cJSON_IsString(f) ? 0
              : strcmp(f->valuestring, WN_ENT_BUNDLE_FORMAT_V1) == 0 ? 1
              : strcmp(f->valuestring, WN_ACC_BUNDLE_FORMAT_V1) == 0 ? 2 : 0;
    cJSON_Delete(j);
    return yes;
}

int wn_ent_bundle_parse(wn_ent_bundle *b, const char *text, size_t len, char *detail, size_t cap)
{
    enum { F_FORMAT, F_KEYID, F_CODE, F_CP, F_RECORDS, F_N };
    static const char *const names[F_N] = {"format", "notary_key_id", "code", "checkpoint", "records"};
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
    b->acc = cJSON_IsString(it[F_FORMAT]) && strcmp(it[F_FORMAT]->valuestring, WN_ACC_BUNDLE_FORMAT_V1) == 0;
    if (!b->acc && (!cJSON_IsString(it[F_FORMAT]) || strcmp(it[F_FORMAT]->valuestring, WN_ENT_BUNDLE_FORMAT_V1) != 0)) {
        snprintf(detail, cap, "format is not \"" WN_ENT_BUNDLE_FORMAT_V1 "\" or \"" WN_ACC_BUNDLE_FORMAT_V1 "\"");
        goto done;
    }
    if (!wn_json_hex(it[F_KEYID], b->notary_key_id, 4)) {
        snprintf(detail, cap, "notary_key_id is not 8 lowercase hex characters");
        goto done;
    }
    if (!cJSON_IsString(it[F_CODE]) || !wn_uscc_valid(it[F_CODE]->valuestring)) {
        snprintf(detail, cap, "code is not a unified social credit code");
        goto done;
    }
    memcpy(b->code, it[F_CODE]->valuestring, WN_USCC_LEN + 1);
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
    if (n < 1 || n > WN_ENT_BUNDLE_RECORDS_MAX) {
        snprintf(detail, cap, "records is not an array of 1..%d proved entries", WN_ENT_BUNDLE_RECORDS_MAX);
        goto done;
    }
    b->records = calloc((size_t)n, sizeof *b->records);
    b->recs = calloc((size_t)n, sizeof *b->recs);
    b->arecs = calloc((size_t)n, sizeof *b->arecs);
    if (!b->records || !b->recs || !b->arecs) {
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

void wn_ent_bundle_free(wn_ent_bundle *b)
{
    for (size_t i = 0; i < b->n_records; i++) {
        free(b->records[i].entry);
        free(b->records[i].proof);
    }
    free(b->records);
    free(b->recs);
    free(b->arecs);
    free(b->checkpoint);
    memset(b, 0, sizeof *b);
}

int wn_ent_bundle_verify(wn_ent_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep)
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
        wn_enterprise *r = &b->recs[i];
        wn_accreditation *ar = &b->arecs[i];
        const char *code = b->acc ? "accreditation_record" : "enterprise_record";
        wn_entry_view v;
        if (wn_entry_parse(&v, e->entry, e->len) != WN_ENTRY_OK ||
            v.kind != (b->acc ? WN_ENTRY_ACCREDITATION : WN_ENTRY_ENTERPRISE) ||
            (b->acc ? wn_accreditation_decode(ar, v.payload, v.len) : wn_enterprise_decode(r, v.payload, v.len)) != WN_ENT_OK) {
            wn_report_fail(rep, code, "%s: not an %s record (type 0x%02x) that decodes", what,
                           b->acc ? "accreditation" : "enterprise", b->acc ? WN_ENTRY_ACCREDITATION : WN_ENTRY_ENTERPRISE);
            continue;
        }
        const char *rcode = b->acc ? ar->code : r->code;
        const uint8_t *rreg = b->acc ? ar->registrar : r->registrar;
        uint64_t seq = b->acc ? ar->seq : r->seq, prev = i ? (b->acc ? b->arecs[i - 1].seq : b->recs[i - 1].seq) : 0;
        if ((b->acc ? wn_accreditation_verify(ar) : wn_enterprise_verify(r)) != WN_ENT_OK)
            wn_report_fail(rep, code, "%s: the registrar's signature does not verify", what);
        if (strcmp(rcode, b->code) != 0) wn_report_fail(rep, code, "%s: a record of %s, not of %s", what, rcode, b->code);
        if (!reg) reg = rreg;
        if (memcmp(rreg, reg, 32) != 0)
            wn_report_fail(rep, code, "%s: signed by another registrar than %s", what,
                           registrar ? "the one given" : "the first record's");
        if (i && (e->index <= b->records[i - 1].index || seq <= prev))
            wn_report_fail(rep, "order", "%s: ledger indices and sequences must ascend along the records", what);
    }
    wn_report_info_str(rep, "code", b->code);
    if (b->checkpoint_parsed) {
        wn_report_info_str(rep, "origin", b->cp.origin);
        wn_report_info_u64(rep, "size", b->cp.size);
    }
    wn_report_count(rep, "records", b->n_records);
    return wn_report_valid(rep);
}
