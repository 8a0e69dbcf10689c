/* feeder.c — fill a real wn-node with enrolments and readings, remembering every entry in
 * ledger order (see feeder.h). */
#include "tests/support/feeder.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sig.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"

/* ---- HTTP ---- */

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    wn_test_resp *r = ctx;
    size_t add = size * n;
    uint8_t *b = realloc(r->body, r->len + add + 1);
    if (!b) return 0;
    memcpy(b + r->len, p, add);
    r->body = b;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Keeps the value of header `name` (case-insensitive) without the line end. */
static void keep_header(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    if (vl >= cap) vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    wn_test_resp *r = ctx;
    keep_header(p, size * n, "Content-Type", r->type, sizeof r->type);
    keep_header(p, size * n, "Cache-Control", r->cache, sizeof r->cache);
    return size * n;
}

int wn_test_http(const char *base_url, const char *method, const char *path, const char *ctype, const void *body,
                 size_t len, wn_test_resp *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    char url[1024], ct[200];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    CURL *c = curl_easy_init();
    if (!c || !r->body) {
        if (c) curl_easy_cleanup(c);
        return 0;
    }
    struct curl_slist *h = NULL;
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK;
}

void wn_test_resp_free(wn_test_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- ledger contents ---- */

static int fail(wn_test_feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(wn_test_feed *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int wn_test_feed_init(wn_test_feed *f, unsigned nmeters)
{
    memset(f, 0, sizeof *f);
    if (nmeters > WN_FEED_MAX_METERS) nmeters = WN_FEED_MAX_METERS;
    if (!wn_seckey_generate(f->reg_sk) || !wn_seckey_xonly(f->reg_pk, f->reg_sk)) return fail(f, "registrar key");
    wn_hex_encode(f->reg_hex, f->reg_pk, 32);
    for (unsigned i = 0; i < nmeters; i++) {
        wn_feed_meter *m = &f->m[i];
        if (!wn_seckey_generate(m->sk) || !wn_seckey_xonly(m->id, m->sk)) return fail(f, "meter key");
        m->vol = 1000;
    }
    f->nmeters = nmeters;
    return 1;
}

void wn_test_feed_free(wn_test_feed *f)
{
    for (uint64_t i = 0; i < f->n; i++) free(f->entry[i]);
    free(f->entry);
    free(f->entry_len);
    f->entry = NULL;
    f->entry_len = NULL;
    f->n = f->cap = 0;
}

/* The commit time the node answered with (an RFC 3339 member `name` of o), or 0. */
static uint64_t commit_of(const cJSON *o, const char *name)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, name);
    uint64_t ms = 0;
    if (!cJSON_IsString(t) || !wn_time_parse(t->valuestring, strlen(t->valuestring), &ms)) return 0;
    return ms;
}

/* Records entry `index` = the timed entry (0x80 | kind) || commit time || marks 0 ||
 * payload (ledger/entry.h); it must be the next one. */
static int remember(wn_test_feed *f, uint64_t index, uint8_t kind, uint64_t commit_ms, const uint8_t *payload,
                    size_t len)
{
    if (!commit_ms) return fail(f, "the node's answer for entry %llu has no commit time", (unsigned long long)index);
    if (index != f->n) return fail(f, "the node gave index %llu, expected %llu", (unsigned long long)index,
                                   (unsigned long long)f->n);
    if (f->n == f->cap) {
        uint64_t cap = f->cap ? 2 * f->cap : 256;
        uint8_t **e = realloc(f->entry, cap * sizeof *e);
        if (e) f->entry = e;
        size_t *l = realloc(f->entry_len, cap * sizeof *l);
        if (l) f->entry_len = l;
        if (!e || !l) return fail(f, "out of memory");
        f->cap = cap;
    }
    uint8_t *e = malloc(len + WN_ENTRY_TIMED_HEADER);
    if (!e) return fail(f, "out of memory");
    wn_entry_put_timed_header(e, kind, commit_ms, 0);
    memcpy(e + WN_ENTRY_TIMED_HEADER, payload, len);
    f->entry[f->n] = e;
    f->entry_len[f->n] = len + WN_ENTRY_TIMED_HEADER;
    f->n++;
    return 1;
}

int wn_test_feed_enrol(wn_test_feed *f, const char *url)
{
    for (unsigned i = 0; i < f->nmeters; i++) {
        wn_enrolment e;
        memset(&e, 0, sizeof e);
        memcpy(e.meter, f->m[i].id, 32);
        e.alg = WN_ALG_BIP340;
        e.pubkey[0] = 0x02;
        memcpy(e.pubkey + 1, f->m[i].id, 32);
        e.time_ms = now_ms();
        e.point = WN_POINT_INTAKE;
        e.tier = 1;
        e.source = WN_SOURCE_GROUNDWATER;
        snprintf(e.enterprise, sizeof e.enterprise, "91620700MA000000XX");
        snprintf(e.calibration, sizeof e.calibration, "CAL-2026-%04u", i);
        char json[WN_ENROLMENT_JSON_MAX];
        uint8_t rec[WN_ENROLMENT_MAX_LEN];
        size_t jl, rl;
        if (wn_enrolment_sign(&e, f->reg_sk) != WN_ENROL_OK || wn_enrolment_to_json(&e, json, sizeof json, &jl) ||
            wn_enrolment_encode(&e, rec, sizeof rec, &rl))
            return fail(f, "cannot build the enrolment");
        wn_test_resp r;
        int ok = wn_test_http(url, "POST", "/v1/enrolments", "application/json", json, jl, &r);
        if (!ok || r.status != 200) {
            fail(f, "enrolment: %ld %s", r.status, r.body ? (char *)r.body : "");
            wn_test_resp_free(&r);
            return 0;
        }
        cJSON *j = cJSON_Parse((char *)r.body);
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
        ok = cJSON_IsNumber(idx) && remember(f, (uint64_t)idx->valuedouble, 0x02, commit_of(j, "commit_time"), rec, rl);
        if (!cJSON_IsNumber(idx)) fail(f, "enrolment answer without index: %s", (char *)r.body);
        cJSON_Delete(j);
        wn_test_resp_free(&r);
        if (!ok) return 0;
    }
    return 1;
}

int wn_test_feed_readings(wn_test_feed *f, const char *url, unsigned count)
{
    if (f->nmeters == 0) return fail(f, "no meters");
    uint8_t *bin = malloc((size_t)count * (2 + WN_READING_MAX_LEN));
    uint8_t (*bytes)[WN_READING_MAX_LEN] = malloc((size_t)count * sizeof *bytes);
    size_t *lens = malloc((size_t)count * sizeof *lens);
    if (!bin || !bytes || !lens) {
        free(bin), free(bytes), free(lens);
        return fail(f, "out of memory");
    }
    size_t off = 0;
    uint64_t now = now_ms();
    for (unsigned k = 0; k < count; k++) {
        wn_feed_meter *m = &f->m[k % f->nmeters];
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, m->id, 32);
        r.seq = m->seq + 1;
        r.time_ms = now > m->time ? now : m->time;
        memcpy(r.prev, m->last, 32);
        r.count = 2;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->vol + 10};
        r.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 700 + (int64_t)(k % 50)};
        if (wn_reading_sign(&r, m->sk) != WN_READING_OK ||
            wn_reading_encode(&r, bytes[k], WN_READING_MAX_LEN, &lens[k]) != WN_READING_OK) {
            free(bin), free(bytes), free(lens);
            return fail(f, "cannot sign a reading");
        }
        wn_put_u16(bin + off, (uint16_t)lens[k]);
        memcpy(bin + off + 2, bytes[k], lens[k]);
        off += 2 + lens[k];
        m->seq = r.seq;
        wn_reading_digest(&r, m->last);
        m->time = r.time_ms;
        m->vol = r.m[0].value;
    }
    wn_test_resp r;
    int ok = wn_test_http(url, "POST", "/v1/readings", "application/vnd.waternotary.readings", bin, off, &r);
    free(bin);
    if (!ok || r.status != 200) {
        ok = fail(f, "readings: %ld %.300s", r.status, r.body ? (char *)r.body : "");
        goto out;
    }
    cJSON *j = cJSON_Parse((char *)r.body);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results");
    if (!cJSON_IsArray(res) || cJSON_GetArraySize(res) != (int)count) {
        ok = fail(f, "readings: unexpected answer %.300s", (char *)r.body);
    } else {
        unsigned k = 0;
        for (const cJSON *it = res->child; it && ok; it = it->next, k++) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
            const cJSON *rc = cJSON_GetObjectItemCaseSensitive(it, "receipt");
            const cJSON *idx = cJSON_GetObjectItemCaseSensitive(rc, "index");
            if (!cJSON_IsString(st) || strcmp(st->valuestring, "accepted") != 0 || !cJSON_IsNumber(idx)) {
                char *t = cJSON_PrintUnformatted(it);
                ok = fail(f, "reading %u not accepted: %s", k, t ? t : "?");
                free(t);
                break;
            }
            ok = remember(f, (uint64_t)idx->valuedouble, 0x01, commit_of(rc, "time"), bytes[k], lens[k]);
        }
    }
    cJSON_Delete(j);
out:
    wn_test_resp_free(&r);
    free(bytes);
    free(lens);
    return ok;
}

int wn_test_feed_equivocate(wn_test_feed *f, const char *url, unsigned meter, uint64_t seq)
{
    if (meter >= f->nmeters || seq == 0 || seq > f->m[meter].seq) return fail(f, "no such reading to contradict");
    const wn_feed_meter *m = &f->m[meter];
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    memcpy(r.meter, m->id, 32);
    r.seq = seq;
    r.time_ms = m->time;
    r.count = 1;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 987654321};
    uint8_t bytes[WN_READING_MAX_LEN];
    char json[WN_READING_JSON_MAX];
    size_t len, jl;
    if (wn_reading_sign(&r, m->sk) != WN_READING_OK || wn_reading_encode(&r, bytes, sizeof bytes, &len) ||
        wn_reading_to_json(&r, json, sizeof json, &jl))
        return fail(f, "cannot sign the conflicting reading");
    wn_test_resp resp;
    int ok = wn_test_http(url, "POST", "/v1/readings", "application/json", json, jl, &resp);
    if (!ok || resp.status != 409 || !strstr((char *)resp.body, "\"equivocation\"")) {
        fail(f, "expected 409 equivocation, got %ld %.300s", resp.status, resp.body ? (char *)resp.body : "");
        wn_test_resp_free(&resp);
        return 0;
    }
    wn_test_resp_free(&resp);
    /* the evidence's place and original from the meter's alerts */
    char path[128], hex[65];
    wn_hex_encode(hex, m->id, 32);
    snprintf(path, sizeof path, "/v1/meters/%s", hex);
    if (!wn_test_http(url, "GET", path, NULL, NULL, 0, &resp) || resp.status != 200) {
        wn_test_resp_free(&resp);
        return fail(f, "GET %s failed", path);
    }
    cJSON *j = cJSON_Parse((char *)resp.body);
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(j, "alerts");
    const cJSON *last = NULL;
    for (const cJSON *a = cJSON_IsArray(alerts) ? alerts->child : NULL; a; a = a->next) last = a;
    const cJSON *orig = cJSON_GetObjectItemCaseSensitive(last, "original_index");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(last, "evidence_index");
    ok = cJSON_IsNumber(orig) && cJSON_IsNumber(ev);
    if (!ok) fail(f, "no equivocation alert: %.300s", (char *)resp.body);
    uint64_t commit = 0;
    if (ok) { /* the evidence's commit time: the node names it with the entry */
        snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)ev->valuedouble);
        wn_test_resp er;
        if (wn_test_http(url, "GET", path, NULL, NULL, 0, &er) && er.status == 200) {
            cJSON *ej = cJSON_Parse((char *)er.body);
            commit = commit_of(ej, "commit_time");
            cJSON_Delete(ej);
        }
        wn_test_resp_free(&er);
    }
    if (ok) {
        uint8_t payload[8 + WN_READING_MAX_LEN];
        wn_put_u64(payload, (uint64_t)orig->valuedouble);
        memcpy(payload + 8, bytes, len);
        ok = remember(f, (uint64_t)ev->valuedouble, 0x04, commit, payload, 8 + len);
    }
    cJSON_Delete(j);
    wn_test_resp_free(&resp);
    return ok;
}

int wn_test_settle(const char *url)
{
    struct timespec tick = {0, 20 * 1000000L};
    for (int i = 0; i < 1500; i++) {
        wn_test_resp r;
        uint64_t size = 0;
        if (wn_test_http(url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r) && r.status == 200) {
            wn_checkpoint cp;
            size_t tl;
            if (wn_checkpoint_parse((char *)r.body, r.len, &cp, &tl) == WN_CHECKPOINT_OK) size = cp.size;
        }
        wn_test_resp_free(&r);
        char path[64];
        snprintf(path, sizeof path, "/v1/entries/%llu", (unsigned long long)size);
        long st = 0;
        if (size && wn_test_http(url, "GET", path, NULL, NULL, 0, &r)) st = r.status;
        if (size) wn_test_resp_free(&r);
        if (st == 404) return 1;
        nanosleep(&tick, NULL);
    }
    return 0;
}

int wn_test_wait_checkpoint(const char *url, uint64_t size, uint64_t *got)
{
    struct timespec tick = {0, 20 * 1000000L};
    for (int i = 0; i < 1500; i++) {
        wn_test_resp r;
        if (wn_test_http(url, "GET", "/v1/checkpoint", NULL, NULL, 0, &r) && r.status == 200) {
            wn_checkpoint cp;
            size_t tl;
            if (wn_checkpoint_parse((char *)r.body, r.len, &cp, &tl) == WN_CHECKPOINT_OK && cp.size >= size) {
                if (got) *got = cp.size;
                wn_test_resp_free(&r);
                return 1;
            }
        }
        wn_test_resp_free(&r);
        nanosleep(&tick, NULL);
    }
    return 0;
}
