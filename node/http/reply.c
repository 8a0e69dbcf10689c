/* reply.c — building handler responses: JSON bodies and the uniform error body. */
#include "node/http/reply.h"

#include <stdlib.h>
#include <string.h>

#include "node/http/errors.h"

static const char oom_body[] = "{\"error\":\"internal\",\"detail\":\"out of memory\"}";

void wn_reply_buf(wn_response *out, unsigned status, const char *type, wn_buf *b)
{
    size_t len = 0;
    char *body = wn_buf_take(b, &len);
    if (!body) {
        out->status = 500;
        out->type = WN_TYPE_JSON;
        out->body = strdup(oom_body);
        out->len = out->body ? strlen(out->body) : 0;
        return;
    }
    out->status = status;
    out->type = type;
    out->body = body;
    out->len = len;
}

void wn_reply_error_fields(wn_buf *b, int err, const char *detail)
{
    wn_buf_str(b, "\"error\":");
    wn_buf_json_str(b, wn_nerr_code(err));
    wn_buf_str(b, ",\"detail\":");
    wn_buf_json_str(b, detail ? detail : "");
}

void wn_reply_error(wn_response *out, int err, const char *detail)
{
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_str(&b, "{");
    wn_reply_error_fields(&b, err, detail);
    wn_buf_str(&b, "}");
    wn_reply_buf(out, wn_nerr_status(err), WN_TYPE_JSON, &b);
}

void wn_response_free(wn_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
