/* net.c — one HTTP request to a notary node with libcurl (see net.h). */
#include "cli/net.h"
#include "cli/util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (64u << 20)

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    wn_cli_resp *r = ctx;
    size_t add = size * n;
    if (r->len + add > MAX_ANSWER) return 0;
    char *b = realloc(r->body, r->len + add + 1);
    if (!b) return 0;
    memcpy(b + r->len, p, add);
    r->body = b;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

int wn_cli_http(const char *cmd, const char *node_url, const char *method, const char *path, const char *json,
                wn_cli_resp *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    size_t ul = strlen(node_url);
    while (ul && node_url[ul - 1] == '/') ul--;
    char *url = malloc(ul + strlen(path) + 1);
    if (!r->body || !url) {
        free(url);
        wn_cli_error(cmd, "out of memory");
        return 0;
    }
    memcpy(url, node_url, ul);
    strcpy(url + ul, path);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(url);
        wn_cli_error(cmd, "libcurl cannot start");
        return 0;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wn");
    if (json) {
        h = curl_slist_append(h, "Content-Type: application/json");
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        wn_cli_error(cmd, "cannot reach the node at %s: %s", url, *err ? err : curl_easy_strerror(rc));
        free(url);
        return 0;
    }
    free(url);
    return 1;
}

const char *wn_cli_node_error(const wn_cli_resp *r, char *buf, size_t cap)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "detail") : NULL;
    if (cJSON_IsString(e))
        snprintf(buf, cap, "%s: %s", e->valuestring, cJSON_IsString(d) ? d->valuestring : "");
    else
        snprintf(buf, cap, "HTTP %ld: %.200s", r->status, r->body ? r->body : "");
    cJSON_Delete(j);
    return buf;
}
