/* csv.h — RFC 4180 CSV output: records end with CRLF, fields are separated by commas, and
 * a field is enclosed in double quotes (with each quote doubled) exactly when it holds a
 * comma, a double quote, a CR or an LF, or starts or ends with a space (which some readers
 * would trim). Text is written as given (UTF-8). */
#ifndef WN_CLI_CSV_H
#define WN_CLI_CSV_H

#include <stddef.h>
#include <stdio.h>

#define WN_CSV_EOL "\r\n"

/* Returns: 1 if s[0..n) must be quoted. */
int wn_csv_needs_quotes(const char *s, size_t n);

/* Writes s[0..n) as one field (quoted if needed) to f. Returns: 1, 0 on a write error. */
int wn_csv_field(FILE *f, const char *s, size_t n);

/* Writes fields[0..n) (NUL-terminated strings) as one record, with its CRLF.
 * Returns: 1, 0 on a write error. */
int wn_csv_record(FILE *f, const char *const *fields, size_t n);

#endif
