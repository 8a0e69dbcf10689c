/* http.c — libcurl client with keep-alive, response buffering and retry with backoff. */
#include "device/agent/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    wn_http *h = ud;
    size_t add = size * n;
    if (h->len + add + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + add + 1) cap *= 2;
        char *b = realloc(h->body, cap);
        if (!b) return 0; /* makes curl fail the transfer */
        h->body = b;
        h->cap = cap;
    }
    memcpy(h->body + h->len, p, add);
    h->len += add;
    h->body[h->len] = '\0';
    return add;
}

int wn_http_init(wn_http *h, const char *url)
{
    memset(h, 0, sizeof *h);
    size_t n = strlen(url);
    while (n && url[n - 1] == '/') n--;
    if (n == 0 || n >= sizeof h->base) return 0;
    memcpy(h->base, url, n);
    h->attempts = 8;
    h->backoff_ms = 200;
    h->backoff_max_ms = 5000;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c) return 0;
    h->curl = c;
    /* "Expect:" turns off curl's 100-continue round trip for large bodies. */
    h->headers_json = curl_slist_append(curl_slist_append(NULL, "Expect:"), "Content-Type: application/json");
    h->headers_bin = curl_slist_append(curl_slist_append(NULL, "Expect:"), "Content-Type: application/vnd.waternotary.readings");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wn-meter/1");
    return h->headers_json && h->headers_bin;
}

void wn_http_free(wn_http *h)
{
    if (h->curl) curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers_json);
    curl_slist_free_all(h->headers_bin);
    free(h->body);
    memset(h, 0, sizeof *h);
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {}
}

/* Full jitter: a uniform wait in [base/2, base], so that many meters that lost the node
 * at the same moment do not come back in lockstep. */
static unsigned jitter(unsigned base)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint32_t)clock();
    return base / 2 + (base ? r % (base / 2 + 1) : 0);
}

int wn_http_request(wn_http *h, const char *method, const char *path, const char *ctype,
                    const void *body, size_t len)
{
    char url[2048];
    CURL *c = h->curl;
    snprintf(url, sizeof url, "%s%s", h->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, ctype && strcmp(ctype, "binary") == 0 ? h->headers_bin : h->headers_json);
    }
    unsigned wait = h->backoff_ms;
    for (unsigned attempt = 1;; attempt++) {
        h->len = 0;
        if (h->body) h->body[0] = '\0';
        h->status = 0;
        h->requests++;
        CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
            if (h->status < 500 && h->status != 429) {
                if (!h->body && !on_data("", 1, 0, h)) return 0; /* always a NUL-terminated body */
                return 1;
            }
            snprintf(h->error, sizeof h->error, "%s %.300s: HTTP %ld %.160s", method, url, h->status, h->body ? h->body : "");
        } else {
            snprintf(h->error, sizeof h->error, "%s %.300s: %.200s", method, url, curl_easy_strerror(rc));
        }
        if (attempt >= h->attempts) return 0;
        h->retries++;
        fprintf(stderr, "wn-meter: %s; retry %u/%u\n", h->error, attempt, h->attempts - 1);
        sleep_ms(jitter(wait));
        wait = wait * 2 > h->backoff_max_ms ? h->backoff_max_ms : wait * 2;
    }
}
