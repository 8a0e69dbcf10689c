/* common.c — helpers shared by wn-meter's subcommands: the notary key (given, pinned or
 * fetched), posting an enrolment, number and time parsing, the clock. */
#include "device/agent/agent.h"
#include "device/agent/push.h"

#include "crypto/encoding.h"
#include "protocol/reading.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t wn_agent_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int wn_agent_parse_u64(const char *s, uint64_t *out)
{
    return s && wn_decimal_u64(s, strlen(s), out);
}

int wn_agent_parse_time(const char *s, uint64_t *ms)
{
    return wn_time_parse(s, strlen(s), ms) || wn_agent_parse_u64(s, ms);
}

static int read_pin(const char *path, uint8_t key[32])
{
    char buf[80];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 64 || !wn_hex_decode(key, 32, buf, 64) || (n > 64 && buf[64] != '\n')) return -1;
    return 1;
}

static int write_pin(const char *dir, const char *path, const uint8_t key[32])
{
    char tmp[4300], text[66];
    wn_hex_encode(text, key, 32);
    text[64] = '\n';
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    int ok = write(fd, text, 65) == 65 && fsync(fd) == 0;
    close(fd);
    ok = ok && rename(tmp, path) == 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return ok;
}

static int fetch_pubkey(wn_http *h, uint8_t notary[32], uint8_t registrar[32], int *have_registrar)
{
    if (!h) return WN_PUSH_NODE;
    if (!wn_http_request(h, "GET", "/v1/pubkey", NULL, NULL, 0)) {
        fprintf(stderr, "wn-meter: cannot fetch the notary key: %s\n", h->error);
        return WN_PUSH_NODE;
    }
    cJSON *doc = h->status == 200 ? cJSON_ParseWithLength(h->body, h->len) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(doc, "notary");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "registrar");
    int ok = cJSON_IsString(n) && wn_hex_decode(notary, 32, n->valuestring, strlen(n->valuestring));
    if (ok && registrar && cJSON_IsString(r) && wn_hex_decode(registrar, 32, r->valuestring, strlen(r->valuestring)) &&
        have_registrar)
        *have_registrar = 1;
    cJSON_Delete(doc);
    if (!ok) {
        fprintf(stderr, "wn-meter: GET /v1/pubkey answered HTTP %ld without a notary key: %.200s\n", h->status, h->body);
        return WN_PUSH_NODE;
    }
    return 0;
}

int wn_agent_notary_key(wn_http *h, const char *hex, const char *dir, uint8_t out[32], uint8_t registrar[32],
                        int *have_registrar)
{
    char path[4200];
    uint8_t pinned[32];
    if (have_registrar) *have_registrar = 0;
    snprintf(path, sizeof path, "%s/notary.pub", dir);
    int pin = read_pin(path, pinned);
    if (pin < 0) {
        fprintf(stderr, "wn-meter: %s is unreadable or malformed (64 hex characters expected)\n", path);
        return WN_PUSH_LOCAL;
    }
    if (hex) {
        if (!wn_hex_decode(out, 32, hex, strlen(hex)) || !wn_xonly_valid(out)) {
            fprintf(stderr, "wn-meter: --notary-pub must be 64 lowercase hex characters of an x-only key\n");
            return WN_PUSH_LOCAL;
        }
    } else if (pin) {
        memcpy(out, pinned, 32);
    } else {
        int err = fetch_pubkey(h, out, registrar, have_registrar);
        if (err) return err;
    }
    if (pin && memcmp(out, pinned, 32) != 0) {
        fprintf(stderr, "wn-meter: the notary key differs from the one pinned in %s: wrong node, or its key changed\n", path);
        return WN_PUSH_REJECTED;
    }
    if (!pin && !write_pin(dir, path, out)) {
        fprintf(stderr, "wn-meter: cannot write %s\n", path);
        return WN_PUSH_LOCAL;
    }
    return 0;
}

int wn_agent_enrol(wn_http *h, wn_enrolment *e, const uint8_t registrar_sk[32], const char *label)
{
    char json[WN_ENROLMENT_JSON_MAX + 64];
    size_t len;
    if (wn_enrolment_sign(e, registrar_sk) != WN_ENROL_OK ||
        wn_enrolment_to_json(e, json, sizeof json, &len) != WN_ENROL_OK) {
        fprintf(stderr, "wn-meter: %s: cannot build the enrolment record\n", label);
        return WN_PUSH_LOCAL;
    }
    if (!wn_http_request(h, "POST", "/v1/enrolments", "json", json, len)) {
        fprintf(stderr, "wn-meter: %s: enrolment failed: %s\n", label, h->error);
        return WN_PUSH_NODE;
    }
    if (h->status == 200) return 0;
    cJSON *doc = cJSON_ParseWithLength(h->body, h->len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "error");
    int already = h->status == 409 && cJSON_IsString(code) && strcmp(code->valuestring, "already_enrolled") == 0;
    cJSON_Delete(doc);
    if (already) return 0;
    fprintf(stderr, "wn-meter: %s: the node refused the enrolment (HTTP %ld): %.300s\n", label, h->status, h->body);
    return h->status >= 400 && h->status < 500 ? WN_PUSH_REJECTED : WN_PUSH_NODE;
}
