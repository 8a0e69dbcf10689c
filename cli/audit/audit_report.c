/* audit_report.c — an audit's result for people (text) and for programs (the JSON of
 * docs/PROTOCOL.md §11), from the public summary and problem list only. */
#include "cli/audit/audit.h"
#include "protocol/reading.h"
#include "crypto/encoding.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void where_text(char *out, size_t cap, const wn_audit_problem *p)
{
    if (p->where == WN_AUDIT_AT_ENTRY) snprintf(out, cap, "entry %llu", (unsigned long long)p->at);
    else if (p->where == WN_AUDIT_AT_CHECKPOINT) snprintf(out, cap, "checkpoint %llu", (unsigned long long)p->at);
    else snprintf(out, cap, "ledger");
}

void wn_auditor_print_text(const wn_auditor *a, FILE *out)
{
    const wn_audit_summary *s = wn_auditor_summary(a);
    char hex[65], b64[45];
    fprintf(out, "entries: %llu (%llu readings, %llu enrolments, %llu revocations, %llu equivocation evidence",
            (unsigned long long)s->entries, (unsigned long long)s->readings, (unsigned long long)s->enrolments,
            (unsigned long long)s->revocations, (unsigned long long)s->equivocations);
    if (s->certificates || s->transfers || s->retirements)
        fprintf(out, ", %llu certificates, %llu transfers, %llu retirements", (unsigned long long)s->certificates,
                (unsigned long long)s->transfers, (unsigned long long)s->retirements);
    if (s->enterprises) fprintf(out, ", %llu enterprise records", (unsigned long long)s->enterprises);
    if (s->accreditations) fprintf(out, ", %llu accreditation records", (unsigned long long)s->accreditations);
    if (s->calibrations) fprintf(out, ", %llu calibration records", (unsigned long long)s->calibrations);
    if (s->unknown) fprintf(out, ", %llu of unknown type", (unsigned long long)s->unknown);
    fprintf(out, ")\n");
    if (s->timed) {
        char t1[25], t2[25];
        wn_time_format(t1, s->first_commit_ms);
        wn_time_format(t2, s->last_commit_ms);
        fprintf(out, "commit times: %llu timed entries, committed %s .. %s, never going back unless a problem says so; "
                "%llu readings marked late\n", (unsigned long long)s->timed, t1, t2, (unsigned long long)s->late);
    }
    fprintf(out, "meters: %llu enrolled, %llu with readings; certifiers: %llu; revoked: %llu\n",
            (unsigned long long)s->meters, (unsigned long long)s->meters_with_readings,
            (unsigned long long)s->certifiers, (unsigned long long)s->revoked);
    if (s->have_registrar) {
        wn_hex_encode(hex, s->registrar, 32);
        fprintf(out, "registrar: %s\n", hex);
    }
    if (s->n_registrars > 1) {
        fprintf(out, "WARNING: %zu registrar keys sign records:", s->n_registrars);
        for (size_t i = 0; i < s->n_registrars && i < WN_AUDIT_MAX_REGISTRARS; i++) {
            wn_hex_encode(hex, s->registrars[i], 32);
            fprintf(out, " %.16s", hex);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "checkpoints: %llu stored, %llu verified (signature and root)\n", (unsigned long long)s->checkpoints,
            (unsigned long long)s->checkpoints_valid);
    if (s->have_latest) {
        wn_base64_encode(b64, s->latest_root, 32);
        fprintf(out, "latest verified checkpoint: size %llu, root %s\n", (unsigned long long)s->latest_size, b64);
        if (s->latest_size < s->entries)
            fprintf(out, "note: the last %llu entries are not yet covered by a signed checkpoint\n",
                    (unsigned long long)(s->entries - s->latest_size));
    } else {
        fprintf(out, "note: no verified checkpoint: nothing signed by the notary covers these entries\n");
    }
    wn_base64_encode(b64, s->root, 32);
    wn_hex_encode(hex, s->chain, 32);
    fprintf(out, "recomputed: root %s over %llu entries, chain %s\n", b64, (unsigned long long)s->entries, hex);
    fprintf(out, "gaps: %llu (%llu readings missing)\n", (unsigned long long)s->gaps, (unsigned long long)s->missing);
    fprintf(out, "alerts: %llu equivocations, %llu tamper, %llu substitute, %llu clock_unsync\n",
            (unsigned long long)s->alerts[WN_ALERT_EQUIVOCATION], (unsigned long long)s->alerts[WN_ALERT_TAMPER],
            (unsigned long long)s->alerts[WN_ALERT_SUBSTITUTE], (unsigned long long)s->alerts[WN_ALERT_CLOCK_UNSYNC]);
    for (size_t i = 0; i < s->n_alert_items; i++) {
        const wn_audit_alert_item *it = &s->alert_items[i];
        wn_hex_encode(hex, it->meter, 32);
        fprintf(out, "  ALERT %s: entry %llu, meter %.16s, sequence %llu", wn_audit_alert_name(it->type),
                (unsigned long long)it->index, hex, (unsigned long long)it->seq);
        if (it->type == WN_ALERT_EQUIVOCATION) fprintf(out, " (accepted reading: entry %llu)", (unsigned long long)it->original);
        fprintf(out, "\n");
    }
    uint64_t shown_alerts = 0;
    for (int t = 0; t < WN_ALERT_COUNT; t++) shown_alerts += s->alerts[t];
    if (shown_alerts > s->n_alert_items)
        fprintf(out, "  (%llu more alerts not listed)\n", (unsigned long long)(shown_alerts - s->n_alert_items));

    size_t n;
    int truncated;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, &truncated);
    fprintf(out, "problems: %llu\n", (unsigned long long)s->problems);
    for (int c = 0; c < WN_AC_COUNT; c++)
        if (s->by_code[c]) fprintf(out, "  %-24s %llu\n", wn_audit_code_name(c), (unsigned long long)s->by_code[c]);
    char where[48];
    for (size_t i = 0; i < n; i++) {
        where_text(where, sizeof where, &p[i]);
        fprintf(out, "PROBLEM %s [%s]: %s\n", where, wn_audit_code_name(p[i].code), p[i].detail);
    }
    if (truncated)
        fprintf(out, "(%llu more problems not listed)\n", (unsigned long long)(s->problems - n));
    if (s->problems == 0) {
        fprintf(out, "AUDIT PASSED: %llu entries re-hashed and re-verified, %llu checkpoints verified\n",
                (unsigned long long)s->entries, (unsigned long long)s->checkpoints_valid);
    } else {
        where_text(where, sizeof where, &p[0]);
        fprintf(out, "AUDIT FAILED: %llu problems; the first at %s [%s]: %s\n", (unsigned long long)s->problems, where,
                wn_audit_code_name(p[0].code), p[0].detail);
    }
}

static cJSON *hex_item(const uint8_t *b, size_t n)
{
    char h[129];
    wn_hex_encode(h, b, n);
    return cJSON_CreateString(h);
}

static cJSON *b64_item(const uint8_t b[32])
{
    char t[45];
    wn_base64_encode(t, b, 32);
    return cJSON_CreateString(t);
}

static void num(cJSON *o, const char *name, uint64_t v) { cJSON_AddItemToObject(o, name, cJSON_CreateNumber((double)v)); }

static cJSON *problem_json(const wn_audit_problem *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (p->where == WN_AUDIT_AT_ENTRY) {
        cJSON_AddStringToObject(o, "where", "entry");
        num(o, "index", p->at);
    } else if (p->where == WN_AUDIT_AT_CHECKPOINT) {
        cJSON_AddStringToObject(o, "where", "checkpoint");
        num(o, "size", p->at);
    } else {
        cJSON_AddStringToObject(o, "where", "ledger");
    }
    cJSON_AddStringToObject(o, "code", wn_audit_code_name(p->code));
    cJSON_AddStringToObject(o, "detail", p->detail);
    return o;
}

int wn_auditor_print_json(const wn_auditor *a, FILE *out)
{
    const wn_audit_summary *s = wn_auditor_summary(a);
    size_t n;
    int truncated;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, &truncated);
    cJSON *o = cJSON_CreateObject(), *x;
    if (!o) return 0;
    cJSON_AddBoolToObject(o, "valid", s->problems == 0);

    x = cJSON_AddObjectToObject(o, "entries");
    if (x) {
        num(x, "total", s->entries);
        num(x, "reading", s->readings);
        num(x, "enrolment", s->enrolments);
        num(x, "revocation", s->revocations);
        num(x, "equivocation", s->equivocations);
        num(x, "certificate", s->certificates);
        num(x, "transfer", s->transfers);
        num(x, "retirement", s->retirements);
        num(x, "unknown", s->unknown);
        num(x, "timed", s->timed);
        num(x, "late", s->late);
        if (s->timed) {
            char t[25];
            wn_time_format(t, s->first_commit_ms);
            cJSON_AddStringToObject(x, "first_commit_time", t);
            wn_time_format(t, s->last_commit_ms);
            cJSON_AddStringToObject(x, "last_commit_time", t);
        }
    }
    x = cJSON_AddObjectToObject(o, "meters");
    if (x) {
        num(x, "enrolled", s->meters);
        num(x, "with_readings", s->meters_with_readings);
        num(x, "certifiers", s->certifiers);
        num(x, "revoked", s->revoked);
    }
    cJSON_AddItemToObject(o, "registrar", s->have_registrar ? hex_item(s->registrar, 32) : cJSON_CreateNull());
    x = cJSON_AddArrayToObject(o, "registrars");
    for (size_t i = 0; x && i < s->n_registrars && i < WN_AUDIT_MAX_REGISTRARS; i++)
        cJSON_AddItemToArray(x, hex_item(s->registrars[i], 32));
    x = cJSON_AddObjectToObject(o, "checkpoints");
    if (x) {
        num(x, "stored", s->checkpoints);
        num(x, "verified", s->checkpoints_valid);
        if (s->have_latest) {
            num(x, "latest_size", s->latest_size);
            cJSON_AddItemToObject(x, "latest_root", b64_item(s->latest_root));
        } else {
            cJSON_AddNullToObject(x, "latest_size");
            cJSON_AddNullToObject(x, "latest_root");
        }
    }
    num(o, "size", s->entries);
    cJSON_AddItemToObject(o, "root", b64_item(s->root));
    cJSON_AddItemToObject(o, "chain", hex_item(s->chain, 32));
    x = cJSON_AddObjectToObject(o, "gaps");
    if (x) {
        num(x, "count", s->gaps);
        num(x, "missing", s->missing);
    }
    x = cJSON_AddObjectToObject(o, "alerts");
    if (x) {
        for (int t = 0; t < WN_ALERT_COUNT; t++) num(x, wn_audit_alert_name(t), s->alerts[t]);
        cJSON *items = cJSON_AddArrayToObject(x, "items");
        for (size_t i = 0; items && i < s->n_alert_items; i++) {
            const wn_audit_alert_item *it = &s->alert_items[i];
            cJSON *e = cJSON_CreateObject();
            if (!e) break;
            cJSON_AddStringToObject(e, "type", wn_audit_alert_name(it->type));
            num(e, "index", it->index);
            cJSON_AddItemToObject(e, "meter", hex_item(it->meter, 32));
            num(e, "seq", it->seq);
            if (it->type == WN_ALERT_EQUIVOCATION) num(e, "original_index", it->original);
            cJSON_AddItemToArray(items, e);
        }
    }
    x = cJSON_AddObjectToObject(o, "problems");
    if (x) {
        num(x, "total", s->problems);
        cJSON *bc = cJSON_AddObjectToObject(x, "by_code");
        for (int c = 0; bc && c < WN_AC_COUNT; c++)
            if (s->by_code[c]) num(bc, wn_audit_code_name(c), s->by_code[c]);
        cJSON_AddItemToObject(x, "first", n ? problem_json(&p[0]) : cJSON_CreateNull());
        cJSON *list = cJSON_AddArrayToObject(x, "list");
        for (size_t i = 0; list && i < n; i++) cJSON_AddItemToArray(list, problem_json(&p[i]));
        cJSON_AddBoolToObject(x, "truncated", truncated);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return 0;
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    free(text);
    return ok;
}
