/* policy.c — the policy document codec (policy.h, docs/PROTOCOL.md §16): strict parsing into
 * integer units and the canonical JSON whose SHA-256 is the policy's digest. */
#include "savings/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "savings/jsondoc.h"
#include "protocol/accreditation.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"

enum { F_FORMAT, F_ID, F_TITLE, F_STATUS, F_EFROM, F_ETO, F_SOURCE, F_SAVING, F_INVEST, F_RATE, F_CAP, F_CERT, F_COMPLETE, F_INTERVAL,
       F_GAP, F_BASELINE, F_REPORTING, F_FLAGS, F_NONCONV, F_BOTH, F_PERPROJECT, F_TERM, F_IDENT, F_SENSOR, F_CALIB, F_ACCSCOPE, F_DELAY, F_NOTES, NFIELDS };

static const char *const names[NFIELDS] = {
    "format", "id", "title", "status", "effective_from", "effective_to", "source", "min_annual_saving", "min_investment", "subsidy_rate", "subsidy_cap",
    "require_certification", "min_completeness", "max_interval_ms", "max_gap_ms", "min_baseline_ms",
    "min_reporting_ms", "disqualifying_flags", "nonconventional_is_intake", "subsidy_and_sale",
    "subsidies_per_project", "certificate_term_ms", "require_registered_enterprise", "require_sensor_attestation",
    "require_calibration", "accreditation_scope", "max_commit_delay_ms", "notes",
};

static int flags_parse(const cJSON *a, uint16_t *out, char *detail, size_t cap)
{
    *out = 0;
    int last = -1;
    if (!cJSON_IsArray(a)) goto bad;
    for (const cJSON *e = a->child; e; e = e->next) {
        int bit = -1;
        for (int b = 0; b < 16 && cJSON_IsString(e); b++)
            if (wn_flag_name((unsigned)b) && strcmp(wn_flag_name((unsigned)b), e->valuestring) == 0) bit = b;
        if (bit <= last) goto bad;
        last = bit;
        *out |= (uint16_t)(1u << bit);
    }
    return 1;
bad:
    snprintf(detail, cap, "disqualifying_flags: must list reading flag names (tamper, reverse_flow, power_loss, "
                          "meter_replaced, clock_unsync, substitute) once each, in that order");
    return 0;
}

int wn_policy_parse(wn_policy *p, const char *text, size_t len, char *detail, size_t cap)
{
    memset(p, 0, sizeof *p);
    cJSON *root = wn_jd_parse(text, len, detail, cap);
    if (!root) return 0;
    const cJSON *it[NFIELDS];
    int ok = wn_jd_members(root, names, it, NFIELDS, detail, cap);
    if (ok && (!cJSON_IsString(it[F_FORMAT]) || strcmp(it[F_FORMAT]->valuestring, WN_POLICY_FORMAT_V1) != 0)) {
        snprintf(detail, cap, "format: must be \"%s\"", WN_POLICY_FORMAT_V1);
        ok = 0;
    }
    ok = ok && wn_jd_text(it[F_ID], "id", 1, WN_POLICY_ID_MAX, p->id, detail, cap);
    ok = ok && wn_jd_text(it[F_TITLE], "title", 1, WN_POLICY_TEXT_MAX, p->title, detail, cap);
    if (ok && cJSON_IsString(it[F_STATUS]) && strcmp(it[F_STATUS]->valuestring, "in_force") == 0) p->in_force = 1;
    else if (ok && !(cJSON_IsString(it[F_STATUS]) && strcmp(it[F_STATUS]->valuestring, "draft") == 0)) {
        snprintf(detail, cap, "status: must be \"draft\" or \"in_force\"");
        ok = 0;
    }
    if (ok && !cJSON_IsNull(it[F_EFROM]))
        ok = wn_jd_time(it[F_EFROM], "effective_from", &p->effective_from_ms, detail, cap);
    if (ok && !cJSON_IsNull(it[F_ETO])) ok = wn_jd_time(it[F_ETO], "effective_to", &p->effective_to_ms, detail, cap);
    if (ok && p->effective_to_ms && p->effective_to_ms <= p->effective_from_ms) {
        snprintf(detail, cap, "effective_to: must be after effective_from");
        ok = 0;
    }
    ok = ok && wn_jd_text(it[F_SOURCE], "source", 0, WN_POLICY_TEXT_MAX, p->source, detail, cap);
    ok = ok && wn_jd_fixed(it[F_SAVING], "min_annual_saving", 3, WN_POLICY_MAX_LITRES, &p->min_annual_saving_l,
                           detail, cap);
    ok = ok && wn_jd_fixed(it[F_INVEST], "min_investment", 2, WN_POLICY_MAX_FEN, &p->min_investment_fen, detail, cap);
    ok = ok && wn_jd_fixed(it[F_RATE], "subsidy_rate", 4, 1000000, &p->subsidy_rate_ppm, detail, cap);
    if (ok && !cJSON_IsNull(it[F_CAP])) {
        p->has_subsidy_cap = 1;
        ok = wn_jd_fixed(it[F_CAP], "subsidy_cap", 2, WN_POLICY_MAX_FEN, &p->subsidy_cap_fen, detail, cap);
    }
    ok = ok && wn_jd_bool(it[F_CERT], "require_certification", &p->require_certification, detail, cap);
    ok = ok && wn_jd_fixed(it[F_COMPLETE], "min_completeness", 4, 1000000, &p->min_completeness_ppm, detail, cap);
    ok = ok && wn_jd_u64(it[F_INTERVAL], "max_interval_ms", WN_POLICY_MAX_MS, &p->max_interval_ms, detail, cap);
    ok = ok && wn_jd_u64(it[F_GAP], "max_gap_ms", WN_POLICY_MAX_MS, &p->max_gap_ms, detail, cap);
    ok = ok && wn_jd_u64(it[F_BASELINE], "min_baseline_ms", WN_POLICY_MAX_MS, &p->min_baseline_ms, detail, cap);
    ok = ok && wn_jd_u64(it[F_REPORTING], "min_reporting_ms", WN_POLICY_MAX_MS, &p->min_reporting_ms, detail, cap);
    ok = ok && flags_parse(it[F_FLAGS], &p->disqualifying_flags, detail, cap);
    ok = ok && wn_jd_bool(it[F_NONCONV], "nonconventional_is_intake", &p->nonconventional_is_intake, detail, cap);
    ok = ok && wn_jd_bool(it[F_BOTH], "subsidy_and_sale", &p->subsidy_and_sale, detail, cap);
    ok = ok && wn_jd_u64(it[F_PERPROJECT], "subsidies_per_project", 255, &p->subsidies_per_project, detail, cap);
    ok = ok && wn_jd_u64(it[F_TERM], "certificate_term_ms", WN_POLICY_MAX_MS, &p->certificate_term_ms, detail, cap);
    ok = ok && wn_jd_bool(it[F_IDENT], "require_registered_enterprise", &p->require_registered_enterprise, detail, cap);
    ok = ok && wn_jd_bool(it[F_SENSOR], "require_sensor_attestation", &p->require_sensor_attestation, detail, cap);
    ok = ok && wn_jd_bool(it[F_CALIB], "require_calibration", &p->require_calibration, detail, cap);
    if (ok && !cJSON_IsNull(it[F_ACCSCOPE])) {
        ok = wn_jd_text(it[F_ACCSCOPE], "accreditation_scope", 1, WN_ACC_SCOPE_MAX, p->accreditation_scope, detail, cap);
        if (ok && !wn_scope_name_ok(p->accreditation_scope)) {
            snprintf(detail, cap, "accreditation_scope: a scope name, 1..32 characters of a-z, 0-9 and _, or null");
            ok = 0;
        }
    }
    ok = ok && wn_jd_u64(it[F_DELAY], "max_commit_delay_ms", WN_POLICY_MAX_MS, &p->max_commit_delay_ms, detail, cap);
    ok = ok && wn_jd_text(it[F_NOTES], "notes", 0, WN_POLICY_NOTES_MAX, p->notes, detail, cap);
    if (ok && (p->max_interval_ms == 0 || p->max_gap_ms < p->max_interval_ms)) {
        snprintf(detail, cap, "max_gap_ms: must be at least max_interval_ms, which must be above 0");
        ok = 0;
    }
    if (ok && (p->min_baseline_ms == 0 || p->min_reporting_ms == 0)) {
        snprintf(detail, cap, "min_baseline_ms, min_reporting_ms: must be above 0");
        ok = 0;
    }
    cJSON_Delete(root);
    if (!ok) return 0;
    char *canon = wn_policy_to_json(p);
    if (!canon) {
        snprintf(detail, cap, "out of memory");
        return 0;
    }
    wn_sha256(p->digest, canon, strlen(canon));
    free(canon);
    return 1;
}

static void add_fixed(cJSON *o, const char *name, uint64_t v, unsigned scale)
{
    char s[48];
    cJSON_AddStringToObject(o, name, wn_fixed_format(s, (__int128)v, scale));
}

char *wn_policy_to_json(const wn_policy *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "format", WN_POLICY_FORMAT_V1);
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "title", p->title);
    cJSON_AddStringToObject(o, "status", p->in_force ? "in_force" : "draft");
    char t[25];
    if (p->effective_from_ms) wn_time_format(t, p->effective_from_ms), cJSON_AddStringToObject(o, "effective_from", t);
    else cJSON_AddNullToObject(o, "effective_from");
    if (p->effective_to_ms) wn_time_format(t, p->effective_to_ms), cJSON_AddStringToObject(o, "effective_to", t);
    else cJSON_AddNullToObject(o, "effective_to");
    cJSON_AddStringToObject(o, "source", p->source);
    add_fixed(o, "min_annual_saving", p->min_annual_saving_l, 3);
    add_fixed(o, "min_investment", p->min_investment_fen, 2);
    add_fixed(o, "subsidy_rate", p->subsidy_rate_ppm, 4);
    if (p->has_subsidy_cap) add_fixed(o, "subsidy_cap", p->subsidy_cap_fen, 2);
    else cJSON_AddNullToObject(o, "subsidy_cap");
    cJSON_AddBoolToObject(o, "require_certification", p->require_certification);
    add_fixed(o, "min_completeness", p->min_completeness_ppm, 4);
    cJSON_AddNumberToObject(o, "max_interval_ms", (double)p->max_interval_ms);
    cJSON_AddNumberToObject(o, "max_gap_ms", (double)p->max_gap_ms);
    cJSON_AddNumberToObject(o, "min_baseline_ms", (double)p->min_baseline_ms);
    cJSON_AddNumberToObject(o, "min_reporting_ms", (double)p->min_reporting_ms);
    cJSON *flags = cJSON_AddArrayToObject(o, "disqualifying_flags");
    for (unsigned b = 0; flags && b < 16; b++)
        if (p->disqualifying_flags & (1u << b)) cJSON_AddItemToArray(flags, cJSON_CreateString(wn_flag_name(b)));
    cJSON_AddBoolToObject(o, "nonconventional_is_intake", p->nonconventional_is_intake);
    cJSON_AddBoolToObject(o, "subsidy_and_sale", p->subsidy_and_sale);
    cJSON_AddNumberToObject(o, "subsidies_per_project", (double)p->subsidies_per_project);
    cJSON_AddNumberToObject(o, "certificate_term_ms", (double)p->certificate_term_ms);
    cJSON_AddBoolToObject(o, "require_registered_enterprise", p->require_registered_enterprise);
    cJSON_AddBoolToObject(o, "require_sensor_attestation", p->require_sensor_attestation);
    cJSON_AddBoolToObject(o, "require_calibration", p->require_calibration);
    if (p->accreditation_scope[0]) cJSON_AddStringToObject(o, "accreditation_scope", p->accreditation_scope);
    else cJSON_AddNullToObject(o, "accreditation_scope");
    cJSON_AddNumberToObject(o, "max_commit_delay_ms", (double)p->max_commit_delay_ms);
    cJSON_AddStringToObject(o, "notes", p->notes);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
