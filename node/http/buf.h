/* buf.h — a growable text buffer for building replies (JSON, proof files, metrics).
 * Appending never fails loudly: running out of memory sets b->oom, later appends are
 * ignored, and wn_buf_take returns NULL, so callers check once at the end. */
#ifndef WN_NODE_BUF_H
#define WN_NODE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;     /* NUL-terminated while not oom */
    size_t len;
    size_t cap;
    int oom;
} wn_buf;

void wn_buf_init(wn_buf *b);
void wn_buf_free(wn_buf *b);
void wn_buf_add(wn_buf *b, const void *data, size_t len);
void wn_buf_str(wn_buf *b, const char *s);
void wn_buf_printf(wn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string (escaping quotes, backslashes and control bytes). */
void wn_buf_json_str(wn_buf *b, const char *s);
/* Appends "<lowercase hex>" (with the quotes). */
void wn_buf_json_hex(wn_buf *b, const uint8_t *data, size_t len);
/* Hands the text over (malloc'd, NUL-terminated; caller frees). Out: *len (may be NULL).
 * Returns: NULL if an append ran out of memory (the buffer is freed either way). */
char *wn_buf_take(wn_buf *b, size_t *len);

#endif
