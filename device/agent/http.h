/* http.h — the agent's HTTP client on libcurl: one easy handle reused for every request
 * (so the connection to the node is kept alive), a growing response buffer, and retries
 * with exponential backoff and full jitter on connection errors and 5xx/429 answers.
 * Retrying is safe for everything the agent sends: the node answers a reading it already
 * holds with "duplicate" and the original receipt, and an enrolment with already_enrolled. */
#ifndef WN_AGENT_HTTP_H
#define WN_AGENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    void *curl;                 /* CURL * */
    void *headers_json, *headers_bin; /* struct curl_slist * */
    char base[1024];            /* node URL without a trailing slash */
    long status;                /* HTTP status of the last answer (0: none) */
    char *body;                 /* the last answer's body, NUL-terminated */
    size_t len, cap;
    unsigned attempts;          /* tries per request (default 8) */
    unsigned backoff_ms;        /* first wait (default 200), doubled per retry ... */
    unsigned backoff_max_ms;    /* ... up to this (default 5000) */
    uint64_t requests, retries; /* counters */
    char error[640];            /* why the last request failed */
} wn_http;

/* Returns: 1 on success (0 if url is too long or libcurl fails to start). */
int wn_http_init(wn_http *h, const char *url);
void wn_http_free(wn_http *h);

/* Sends method base+path with an optional body (ctype NULL: no body, "json" or "binary").
 * Retries connection errors, 5xx and 429. Returns: 1 when an answer was received (any
 * status: h->status, h->body, h->len); 0 when every attempt failed (h->error says why). */
int wn_http_request(wn_http *h, const char *method, const char *path, const char *ctype,
                    const void *body, size_t len);

#endif
