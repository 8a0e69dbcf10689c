/* reply.h — what a handler answers, independent of the HTTP library: a status, a media
 * type and a malloc'd body. server.c turns it into an HTTP response. Errors are always
 * {"error":CODE,"detail":TEXT} with the code's status (errors.h). */
#ifndef WN_NODE_REPLY_H
#define WN_NODE_REPLY_H

#include <stddef.h>

#include "node/http/buf.h"

#define WN_TYPE_JSON "application/json"
#define WN_TYPE_TEXT "text/plain; charset=utf-8"
#define WN_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    unsigned status;
    const char *type; /* a static string */
    char *body;       /* malloc'd, NUL-terminated (owned by the response) */
    size_t len;
    const char *cache; /* Cache-Control value (a static string); NULL: "no-store" */
} wn_response;

/* Takes b's text as the body (a 500 error instead if b ran out of memory). */
void wn_reply_buf(wn_response *out, unsigned status, const char *type, wn_buf *b);
/* {"error":code,"detail":detail} with the code's status. */
void wn_reply_error(wn_response *out, int err, const char *detail);
/* Appends "error":CODE,"detail":TEXT (no braces) to b. */
void wn_reply_error_fields(wn_buf *b, int err, const char *detail);
void wn_response_free(wn_response *r);

#endif
