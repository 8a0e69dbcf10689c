/* record_text.h — the text fields of the registrar's records (enterprise, accreditation,
 * calibration; PROTOCOL §5) and of project records (§16): in binary a u8 length and that many
 * bytes of UTF-8 without control characters, in JSON a string. One copy of the rules. */
#ifndef WN_RECORD_TEXT_H
#define WN_RECORD_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Returns: 1 if s is min..max bytes of well-formed UTF-8 without control characters. */
int wn_rec_text_ok(const char *s, size_t min, size_t max);
/* Writes u8 length || bytes of s at *w and advances *w (s at most 255 bytes: checked by
 * wn_rec_text_ok before). */
void wn_rec_put_text(uint8_t **w, const char *s);
/* Reads u8 length || bytes from *p (not beyond end) into out (max bytes and a NUL), and
 * advances *p. Returns: 1; 0 if short, longer than max, or holding a NUL byte. */
int wn_rec_get_text(const uint8_t **p, const uint8_t *end, char *out, size_t max);
/* Copies a JSON string member (a cJSON item passed as const void *) of at most max bytes
 * into out. Returns: 1; 0 if not a string or too long (the rules: wn_rec_text_ok). */
int wn_rec_text_member(const void *cjson_item, char *out, size_t max);

#endif
