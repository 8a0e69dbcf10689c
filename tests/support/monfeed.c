/* monfeed.c — meters and readings for the monitoring tests (see monfeed.h). */
#include "tests/support/monfeed.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "crypto/sig.h"

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    wn_mf_resp *r = ctx;
    size_t add = size * n;
    char *b = realloc(r->body, r->len + add + 1);
    if (!b) return 0;
    r->body = b;
    memcpy(r->body + r->len, p, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

int wn_mf_http(const char *url, const char *token, const char *method, const char *path, const char *json,
               wn_mf_resp *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    char full[1024], auth[400];
    snprintf(full, sizeof full, "%s%s", url, path);
    CURL *c = curl_easy_init();
    if (!c) return 0;
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Expect:");
    if (json) h = curl_slist_append(h, "Content-Type: application/json");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(json ? strlen(json) : 0));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK;
}

int wn_mf_meter_new(wn_mf_meter *m)
{
    memset(m, 0, sizeof *m);
    if (!wn_seckey_generate(m->sk) || !wn_seckey_xonly(m->id, m->sk)) return 0;
    wn_hex_encode(m->hex, m->id, 32);
    m->vol = 1000000; /* 1000 m3 */
    return 1;
}

int wn_mf_enrol(const char *url, const uint8_t reg_sk[32], const wn_mf_meter *m, const char *enterprise,
                unsigned point, unsigned tier, unsigned source, const wn_mf_meter *parent, char *err)
{
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, m->id, 32);
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    memcpy(e.pubkey + 1, m->id, 32);
    e.time_ms = 1700000000000ULL;
    e.point = (uint8_t)point;
    e.tier = (uint8_t)tier;
    e.source = (uint8_t)source;
    if (parent) memcpy(e.parent, parent->id, 32);
    snprintf(e.enterprise, sizeof e.enterprise, "%s", enterprise);
    snprintf(e.calibration, sizeof e.calibration, "TEST-CAL");
    char json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    if (wn_enrolment_sign(&e, reg_sk) != WN_ENROL_OK || wn_enrolment_to_json(&e, json, sizeof json, &len) != WN_ENROL_OK) {
        snprintf(err, 256, "cannot build the enrolment");
        return 0;
    }
    wn_mf_resp r;
    int ok = wn_mf_http(url, NULL, "POST", "/v1/enrolments", json, &r) && r.status == 200;
    if (!ok) snprintf(err, 256, "enrolment: %ld %.200s", r.status, r.body ? r.body : "");
    free(r.body);
    return ok;
}

void wn_mf_next(const wn_mf_meter *m, wn_reading *r, uint64_t time_ms, int64_t inc, unsigned flags, int ph100)
{
    memset(r, 0, sizeof *r);
    r->version = 1;
    memcpy(r->meter, m->id, 32);
    r->seq = m->seq + 1;
    r->time_ms = time_ms;
    memcpy(r->prev, m->last, 32);
    r->flags = (uint16_t)flags;
    r->count = 1;
    r->m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->vol + inc};
    if (ph100 >= 0) r->m[r->count++] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, ph100};
    wn_reading_sign(r, m->sk);
}

static int post_body(const char *url, const wn_reading *r, size_t n, wn_mf_resp *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 64 + n * WN_READING_JSON_MAX, len = 0;
    char *body = malloc(cap);
    if (!body) return 0;
    len += (size_t)snprintf(body, cap, "{\"readings\":[");
    for (size_t i = 0; i < n; i++) {
        size_t jl;
        if (i) body[len++] = ',';
        if (wn_reading_to_json(&r[i], body + len, cap - len, &jl) != WN_READING_OK) {
            free(body);
            return 0;
        }
        len += jl;
    }
    snprintf(body + len, cap - len, "]}");
    int ok = wn_mf_http(url, NULL, "POST", "/v1/readings", body, out);
    free(body);
    return ok;
}

int wn_mf_post_one(const char *url, const wn_reading *r, wn_mf_resp *out)
{
    char json[WN_READING_JSON_MAX];
    size_t jl;
    if (wn_reading_to_json(r, json, sizeof json, &jl) != WN_READING_OK) return 0;
    return wn_mf_http(url, NULL, "POST", "/v1/readings", json, out);
}

void wn_mf_advance(wn_mf_meter *m, const wn_reading *r)
{
    m->seq = r->seq;
    wn_reading_digest(r, m->last);
    m->time = r->time_ms;
    m->vol = r->m[0].value;
}

int wn_mf_post(const char *url, const wn_reading *r, size_t n, uint64_t *index, char *err)
{
    wn_mf_resp resp = {0, NULL, 0};
    if (!post_body(url, r, n, &resp) || resp.status != 200) {
        snprintf(err, 256, "POST /v1/readings: %ld %.200s", resp.status, resp.body ? resp.body : "");
        free(resp.body);
        return 0;
    }
    cJSON *j = cJSON_Parse(resp.body);
    const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "results") : NULL;
    int ok = cJSON_GetArraySize(res) == (int)n;
    size_t i = 0;
    for (const cJSON *it = res ? res->child : NULL; ok && it; it = it->next, i++) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
        if (!cJSON_IsString(st) || strcmp(st->valuestring, "accepted") != 0) {
            char *s = cJSON_PrintUnformatted(it);
            snprintf(err, 256, "reading %zu: %.200s", i, s ? s : "?");
            free(s);
            ok = 0;
            break;
        }
        uint64_t idx = (uint64_t)cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "receipt"), "index")->valuedouble;
        if (index) index[i] = idx;
    }
    cJSON_Delete(j);
    free(resp.body);
    return ok;
}

uint32_t wn_mf_cst_day(uint64_t ms) { return (uint32_t)((ms + 8 * 3600000ULL) / 86400000ULL); }
uint64_t wn_mf_cst_day_start(uint32_t day) { return (uint64_t)day * 86400000ULL - 8 * 3600000ULL; }
