/* report.h — the result of an offline verification (`wn verify`, `wn bundle`): every
 * failure found (reasons, each with a stable code), warnings, gaps in a meter's sequence,
 * counters and facts about what was checked; printed for people or as the stable JSON of
 * docs/PROTOCOL.md §13. A verifier adds to it and never stops at the first failure. */
#ifndef WN_CLI_REPORT_H
#define WN_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char code[32];    /* stable, for programs ("inclusion", "gap", ...) */
    char detail[320]; /* for people */
} wn_report_item;

/* A missing range of sequence numbers, with the times of the readings either side. */
typedef struct {
    uint64_t first_seq, last_seq;
    int has_after, has_before;    /* a reading before the gap / after it is known */
    uint64_t after_time, before_time;
} wn_report_gap;

#define WN_REPORT_MAX_COUNTS 12

typedef struct {
    const char *kind; /* "bundle", "receipt", ... (a static string) */
    wn_report_item *reasons, *warnings;
    size_t n_reasons, n_warnings, cap_reasons, cap_warnings;
    wn_report_gap *gaps;
    size_t n_gaps, cap_gaps;
    struct { const char *name; uint64_t value; } counts[WN_REPORT_MAX_COUNTS];
    size_t n_counts;
    void *info;       /* cJSON object of facts ("meter", "size", ...) */
    int oom;          /* an allocation failed: the report is incomplete */
} wn_report;

void wn_report_init(wn_report *r, const char *kind);
void wn_report_free(wn_report *r);

/* Records a failure (the result is invalid) / a warning. */
void wn_report_fail(wn_report *r, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void wn_report_warn(wn_report *r, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a gap (the caller also records a "gap" failure with the words it wants). */
void wn_report_gap_add(wn_report *r, const wn_report_gap *g);
/* Sets counter name (a static string) to value. */
void wn_report_count(wn_report *r, const char *name, uint64_t value);
/* Facts: a string, an unsigned number, a lowercase hex string, or null (s == NULL). */
void wn_report_info_str(wn_report *r, const char *name, const char *s);
void wn_report_info_u64(wn_report *r, const char *name, uint64_t v);
void wn_report_info_hex(wn_report *r, const char *name, const uint8_t *b, size_t n);

/* Returns: 1 if no failure was recorded (and the report is complete). */
int wn_report_valid(const wn_report *r);

/* Writes "GAP: ...", "INVALID [code]: ...", "WARNING [code]: ..." lines (at most `limit`
 * per code, then how many more) and nothing else. */
void wn_report_print(const wn_report *r, FILE *out, size_t limit);

/* The stable JSON report: {"kind","valid","reasons","warnings","gaps","counts", facts...}.
 * Returns: malloc'd compact JSON text, or NULL if out of memory. */
char *wn_report_json(const wn_report *r);

#endif
