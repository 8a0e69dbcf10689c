/* jsondoc.h — strict reading of the JSON documents people write and sign for the evaluator
 * (claims, policies): one JSON object and nothing else, exact member sets, texts that are
 * UTF-8 without control characters, plain integers only (no 1.0, 1e3 or leading zeros, so
 * nothing that decides a payment passes through floating point), fixed-scale decimal
 * amounts ("2500000.00" CNY -> fen, "100000.000" m3 -> litres) and RFC 3339 times.
 * Each reader returns 1 on success, or 0 with "member: why" in detail. */
#ifndef WN_JSONDOC_H
#define WN_JSONDOC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Parses text[0..len) as one JSON object, refusing what cJSON would blur (NUL bytes, raw
 * control characters or \u0000 in strings, numbers that are not plain integers) and bytes
 * after the object. Returns: the object (cJSON_Delete it), or NULL with detail. */
cJSON *wn_jd_parse(const char *text, size_t len, char *detail, size_t cap);

/* Finds exactly the members names[0..n) of obj into items (none missing, unknown or
 * repeated). Returns: 1, or 0 with detail naming the member. */
int wn_jd_members(const cJSON *obj, const char *const *names, const cJSON **items, size_t n, char *detail,
                  size_t cap);

/* A string of min..max bytes of well-formed UTF-8 without control characters, copied with
 * its NUL into out (size >= max + 1). */
int wn_jd_text(const cJSON *item, const char *name, size_t min, size_t max, char *out, char *detail, size_t cap);

/* A plain non-negative JSON integer <= max (max <= 2^53 - 1, exact in a double). */
int wn_jd_u64(const cJSON *item, const char *name, uint64_t max, uint64_t *out, char *detail, size_t cap);

/* A JSON boolean. */
int wn_jd_bool(const cJSON *item, const char *name, int *out, char *detail, size_t cap);

/* A string holding an unsigned decimal with exactly `scale` digits after the point
 * ("2500000.00" with scale 2), read as the integer value * 10^scale (250000000), <= max. */
int wn_jd_fixed(const cJSON *item, const char *name, unsigned scale, uint64_t max, uint64_t *out, char *detail,
                size_t cap);

/* A string "YYYY-MM-DDTHH:MM:SS.mmmZ" (PROTOCOL conventions). */
int wn_jd_time(const cJSON *item, const char *name, uint64_t *ms, char *detail, size_t cap);

/* A string of exactly 2n lowercase hex characters. */
int wn_jd_hex(const cJSON *item, const char *name, uint8_t *out, size_t n, char *detail, size_t cap);

/* Writes v / 10^scale with exactly `scale` decimals ("-12.050"); v may be negative.
 * out holds at least 48 bytes. Returns: out. */
char *wn_fixed_format(char out[48], __int128 v, unsigned scale);

/* A growable text buffer for canonical output: appends never fail loudly; running out of
 * memory sets oom and wn_sb_take returns NULL. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} wn_sb;

void wn_sb_printf(wn_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string: quotes, backslash and control bytes escaped, UTF-8 as is. */
void wn_sb_json_str(wn_sb *b, const char *s);
/* Appends "<lowercase hex>" with the quotes. */
void wn_sb_json_hex(wn_sb *b, const uint8_t *d, size_t n);
/* Hands over the text (malloc'd, NUL-terminated) or NULL after oom (freed either way). */
char *wn_sb_take(wn_sb *b);

#endif
