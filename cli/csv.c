/* csv.c — RFC 4180 field quoting and records (see csv.h). */
#include "cli/csv.h"

int wn_csv_needs_quotes(const char *s, size_t n)
{
    if (n && (s[0] == ' ' || s[n - 1] == ' ')) return 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') return 1;
    return 0;
}

int wn_csv_field(FILE *f, const char *s, size_t n)
{
    if (!wn_csv_needs_quotes(s, n)) return fwrite(s, 1, n, f) == n;
    if (putc('"', f) == EOF) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' && putc('"', f) == EOF) return 0;
        if (putc(s[i], f) == EOF) return 0;
    }
    return putc('"', f) != EOF;
}

int wn_csv_record(FILE *f, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && putc(',', f) == EOF) return 0;
        size_t len = 0;
        while (fields[i][len]) len++;
        if (!wn_csv_field(f, fields[i], len)) return 0;
    }
    return fputs(WN_CSV_EOL, f) != EOF;
}
