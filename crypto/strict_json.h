/* strict_json.h — helpers shared by the strict JSON and text codecs (readings, enrolments,
 * proof files, claims, certificates): error details, exact member sets, lowercase-hex
 * members, UTF-8 text rules. */
#ifndef WN_STRICT_JSON_H
#define WN_STRICT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Writes a printf-style explanation into detail[0..cap) if detail is not NULL. Returns: err. */
int wn_fail(char *detail, size_t cap, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Finds each of names[0..n) in obj exactly once, in any order, into items[0..n).
 * Returns: 0 if every member is present once and no other exists; otherwise 1 with
 * *bad_name the member and *why "unknown field", "duplicate field" or "missing field". */
int wn_json_members(const cJSON *obj, const char *const *names, const cJSON **items, size_t n,
                    const char **bad_name, const char **why);

/* Returns: 1 if item is a string of exactly 2*n lowercase hex chars, decoded into out. */
int wn_json_hex(const cJSON *item, uint8_t *out, size_t n);

/* Returns: 1 if s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) without control characters (U+0000..U+001F, U+007F..U+009F): the rule for
 * every text field of a signed record (enrolments, claims, certificates). */
int wn_text_ok(const char *s, size_t n);

/* What cJSON would blur, found in the raw text before parsing: NUL bytes, raw control
 * characters in strings, "\u0000" escapes (cJSON cuts the string there), and numbers that
 * are not JSON integers (docs/PROTOCOL.md, conventions: -?(0|[1-9][0-9]*), and not -0) —
 * our formats carry amounts and decimals as strings, so 1.0, 1e0 or 01 would otherwise
 * pass as 1. The reasons for numbers name what is wrong: "not a JSON integer: a fraction",
 * "... an exponent", "... a leading zero", "... minus zero", "malformed number".
 * Returns: NULL if the text is clean, else what is wrong. */
const char *wn_json_lexical_problem(const char *s, size_t len);

/* wn_json_lexical_problem, and *at (if not NULL) the byte offset where the problem starts
 * (the number or string it is in). */
const char *wn_json_lexical_problem_at(const char *s, size_t len, size_t *at);

/* Parses text as exactly one JSON value under the lexical rules above (only whitespace may
 * follow it). The one entry point of the verifier side's JSON readers (bundles, receipts,
 * claims, policies, the audit's node answers).
 * Returns: the value (free with cJSON_Delete), or NULL with the reason in detail, e.g.
 * "JSON text: not a JSON integer: a fraction at byte 117 (5.0)". */
cJSON *wn_json_parse_strict(const char *text, size_t len, char *detail, size_t cap);

/* The value part of a JSON integer (PROTOCOL conventions) in 0 ..= max, max at most
 * 2^53-1: item is a number whose value is a whole number in range. Only meaningful on a
 * value parsed from text that passed wn_json_lexical_problem (which rules out 5.0, 5e0 and
 * 05; below 2^53 a double holds every integer exactly, so the value is the text's).
 * Returns: 1 with *out, else 0. */
int wn_json_uint(const cJSON *item, uint64_t max, uint64_t *out);

#define WN_JSON_INT_MAX 9007199254740991ull /* 2^53-1: the largest JSON integer of our formats */

#endif
