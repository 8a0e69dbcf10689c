/* report.c — collecting and printing verification reports (see report.h). */
#include "cli/proofs/report.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"

void wn_report_init(wn_report *r, const char *kind)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->info = cJSON_CreateObject();
    if (!r->info) r->oom = 1;
}

void wn_report_free(wn_report *r)
{
    free(r->reasons);
    free(r->warnings);
    free(r->gaps);
    cJSON_Delete(r->info);
    memset(r, 0, sizeof *r);
}

/* Grows *arr (of elements of size sz) to hold one more. Returns: 1, or 0 (sets oom). */
static int grow(wn_report *r, void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap) return 1;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, c * sz);
    if (!p) {
        r->oom = 1;
        return 0;
    }
    *arr = p;
    *cap = c;
    return 1;
}

static void add_item(wn_report *r, int warning, const char *code, const char *fmt, va_list ap)
{
    wn_report_item **arr = warning ? &r->warnings : &r->reasons;
    size_t *n = warning ? &r->n_warnings : &r->n_reasons, *cap = warning ? &r->cap_warnings : &r->cap_reasons;
    if (!grow(r, (void **)arr, cap, *n, sizeof **arr)) return;
    wn_report_item *it = &(*arr)[(*n)++];
    snprintf(it->code, sizeof it->code, "%s", code);
    vsnprintf(it->detail, sizeof it->detail, fmt, ap);
}

void wn_report_fail(wn_report *r, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_item(r, 0, code, fmt, ap);
    va_end(ap);
}

void wn_report_warn(wn_report *r, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_item(r, 1, code, fmt, ap);
    va_end(ap);
}

void wn_report_gap_add(wn_report *r, const wn_report_gap *g)
{
    if (grow(r, (void **)&r->gaps, &r->cap_gaps, r->n_gaps, sizeof *r->gaps)) r->gaps[r->n_gaps++] = *g;
}

void wn_report_count(wn_report *r, const char *name, uint64_t value)
{
    for (size_t i = 0; i < r->n_counts; i++)
        if (strcmp(r->counts[i].name, name) == 0) {
            r->counts[i].value = value;
            return;
        }
    if (r->n_counts == WN_REPORT_MAX_COUNTS) {
        r->oom = 1;
        return;
    }
    r->counts[r->n_counts].name = name;
    r->counts[r->n_counts++].value = value;
}

static void set_info(wn_report *r, const char *name, cJSON *v)
{
    if (!r->info || !v) {
        cJSON_Delete(v);
        r->oom = 1;
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(r->info, name)) cJSON_ReplaceItemInObjectCaseSensitive(r->info, name, v);
    else cJSON_AddItemToObject(r->info, name, v);
}

void wn_report_info_str(wn_report *r, const char *name, const char *s)
{
    set_info(r, name, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void wn_report_info_u64(wn_report *r, const char *name, uint64_t v)
{
    set_info(r, name, cJSON_CreateNumber((double)v));
}

void wn_report_info_hex(wn_report *r, const char *name, const uint8_t *b, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (!hex) {
        r->oom = 1;
        return;
    }
    wn_hex_encode(hex, b, n);
    wn_report_info_str(r, name, hex);
    free(hex);
}

int wn_report_valid(const wn_report *r) { return r->n_reasons == 0 && !r->oom; }

/* Distinct codes with how many items carry each, and how many were printed so far. */
#define MAX_CODES 64
typedef struct { const char *code; size_t total, seen; } code_count;

static code_count *code_slot(code_count *c, size_t *n, const char *code)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(c[i].code, code) == 0) return &c[i];
    if (*n == MAX_CODES) return NULL;
    c[*n] = (code_count){code, 0, 0};
    return &c[(*n)++];
}

static void print_items(const wn_report_item *it, size_t n, const char *label, FILE *out, size_t limit)
{
    code_count c[MAX_CODES];
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        code_count *s = code_slot(c, &nc, it[i].code);
        if (s) s->total++;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(it[i].code, "gap") == 0 && label[0] == 'I') continue; /* printed as GAP lines */
        code_count *s = code_slot(c, &nc, it[i].code);
        size_t seen = s ? s->seen++ : 0;
        if (seen < limit) fprintf(out, "%s [%s]: %s\n", label, it[i].code, it[i].detail);
        else if (seen == limit && s)
            fprintf(out, "%s [%s]: ... and %zu more of this kind\n", label, it[i].code, s->total - limit);
    }
}

void wn_report_print(const wn_report *r, FILE *out, size_t limit)
{
    for (size_t i = 0; i < r->n_gaps; i++) {
        const wn_report_gap *g = &r->gaps[i];
        char a[25] = "", b[25] = "";
        if (g->has_after) wn_time_format(a, g->after_time);
        if (g->has_before) wn_time_format(b, g->before_time);
        uint64_t n = g->last_seq - g->first_seq + 1;
        fprintf(out, "GAP: missing seq %llu..%llu (%llu reading%s)", (unsigned long long)g->first_seq,
                (unsigned long long)g->last_seq, (unsigned long long)n, n == 1 ? "" : "s");
        if (g->has_after && g->has_before)
            fprintf(out, ", between %s (seq %llu) and %s (seq %llu)\n", a, (unsigned long long)(g->first_seq - 1), b,
                    (unsigned long long)(g->last_seq + 1));
        else if (g->has_before)
            fprintf(out, ", before %s (seq %llu)\n", b, (unsigned long long)(g->last_seq + 1));
        else
            fprintf(out, "\n");
    }
    print_items(r->reasons, r->n_reasons, "INVALID", out, limit);
    print_items(r->warnings, r->n_warnings, "WARNING", out, limit);
    if (r->oom) fprintf(out, "INVALID [internal]: out of memory: the report is incomplete\n");
}

static cJSON *items_json(const wn_report_item *it, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddStringToObject(o, "code", it[i].code);
        cJSON_AddStringToObject(o, "detail", it[i].detail);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

char *wn_report_json(const wn_report *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "kind", r->kind);
    cJSON_AddBoolToObject(o, "valid", wn_report_valid(r));
    cJSON *reasons = items_json(r->reasons, r->n_reasons);
    if (r->oom && reasons) {
        wn_report_item it = {"internal", "out of memory: the report is incomplete"};
        cJSON *x = items_json(&it, 1);
        if (x && x->child) cJSON_AddItemToArray(reasons, cJSON_DetachItemFromArray(x, 0));
        cJSON_Delete(x);
    }
    cJSON_AddItemToObject(o, "reasons", reasons);
    cJSON_AddItemToObject(o, "warnings", items_json(r->warnings, r->n_warnings));
    cJSON *gaps = cJSON_AddArrayToObject(o, "gaps");
    for (size_t i = 0; gaps && i < r->n_gaps; i++) {
        const wn_report_gap *g = &r->gaps[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        char t[25];
        cJSON_AddNumberToObject(x, "first_seq", (double)g->first_seq);
        cJSON_AddNumberToObject(x, "last_seq", (double)g->last_seq);
        if (g->has_after) { wn_time_format(t, g->after_time); cJSON_AddStringToObject(x, "after_time", t); }
        else cJSON_AddNullToObject(x, "after_time");
        if (g->has_before) { wn_time_format(t, g->before_time); cJSON_AddStringToObject(x, "before_time", t); }
        else cJSON_AddNullToObject(x, "before_time");
        cJSON_AddItemToArray(gaps, x);
    }
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    for (size_t i = 0; counts && i < r->n_counts; i++)
        cJSON_AddNumberToObject(counts, r->counts[i].name, (double)r->counts[i].value);
    for (const cJSON *f = r->info ? ((cJSON *)r->info)->child : NULL; f; f = f->next)
        if (!cJSON_GetObjectItemCaseSensitive(o, f->string))
            cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
