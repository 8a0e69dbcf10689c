/* project.c — the retrofit project record (project.h, docs/PROTOCOL.md §16): strict JSON,
 * the canonical signed bytes, the registrar's signature. */
#include "savings/project.h"

#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"
#include "protocol/record_text.h"
#include "protocol/reading.h"
#include "savings/jsondoc.h"

enum { P_FORMAT, P_ID, P_ENT, P_DESC, P_INVEST, P_COMM, P_REG, P_SIG, NP };
static const char *const names[NP] = {"format", "id", "enterprise", "description", "investment", "commissioned",
                                      "registrar", "sig"};

int wn_project_from_cjson(wn_project *p, const cJSON *obj, char *detail, size_t cap)
{
    memset(p, 0, sizeof *p);
    const cJSON *it[NP];
    if (!cJSON_IsObject(obj)) {
        snprintf(detail, cap, "not a JSON object");
        return 0;
    }
    if (!wn_jd_members(obj, names, it, NP, detail, cap)) return 0;
    if (!cJSON_IsString(it[P_FORMAT]) || strcmp(it[P_FORMAT]->valuestring, WN_PROJECT_FORMAT_V1) != 0) {
        snprintf(detail, cap, "format: must be \"%s\"", WN_PROJECT_FORMAT_V1);
        return 0;
    }
    return wn_jd_text(it[P_ID], "id", 1, WN_PROJECT_ID_MAX, p->id, detail, cap) &&
           wn_jd_text(it[P_ENT], "enterprise", 1, WN_PROJECT_ENTERPRISE_MAX, p->enterprise, detail, cap) &&
           wn_jd_text(it[P_DESC], "description", 0, WN_PROJECT_DESC_MAX, p->description, detail, cap) &&
           wn_jd_fixed(it[P_INVEST], "investment", 2, UINT64_MAX >> 1, &p->investment_fen, detail, cap) &&
           wn_jd_time(it[P_COMM], "commissioned", &p->commissioned_ms, detail, cap) &&
           wn_jd_hex(it[P_REG], "registrar", p->registrar, 32, detail, cap) &&
           wn_jd_hex(it[P_SIG], "sig", p->sig, 64, detail, cap);
}

int wn_project_parse(wn_project *p, const char *text, size_t len, char *detail, size_t cap)
{
    cJSON *root = wn_jd_parse(text, len, detail, cap);
    if (!root) return 0;
    int ok = wn_project_from_cjson(p, root, detail, cap);
    cJSON_Delete(root);
    return ok;
}

cJSON *wn_project_to_cjson(const wn_project *p)
{
    char s[129];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "format", WN_PROJECT_FORMAT_V1);
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "enterprise", p->enterprise);
    cJSON_AddStringToObject(o, "description", p->description);
    cJSON_AddStringToObject(o, "investment", wn_fixed_format(s, (__int128)p->investment_fen, 2));
    wn_time_format(s, p->commissioned_ms);
    cJSON_AddStringToObject(o, "commissioned", s);
    wn_hex_encode(s, p->registrar, 32);
    cJSON_AddStringToObject(o, "registrar", s);
    wn_hex_encode(s, p->sig, 64);
    cJSON_AddStringToObject(o, "sig", s);
    return o;
}

/* The signed bytes. Returns: their length, 0 if a field breaks a rule. */
static size_t signed_bytes(const wn_project *p, uint8_t out[WN_PROJECT_SIGNED_MAX])
{
    if (!wn_rec_text_ok(p->id, 1, WN_PROJECT_ID_MAX) || !wn_rec_text_ok(p->enterprise, 1, WN_PROJECT_ENTERPRISE_MAX) ||
        !wn_rec_text_ok(p->description, 0, WN_PROJECT_DESC_MAX) || p->commissioned_ms > WN_READING_MAX_TIME ||
        p->investment_fen > (UINT64_MAX >> 1))
        return 0;
    uint8_t *w = out;
    *w++ = 1;
    wn_rec_put_text(&w, p->id);
    wn_rec_put_text(&w, p->enterprise);
    wn_rec_put_text(&w, p->description);
    wn_put_u64(w, p->investment_fen), w += 8;
    wn_put_u64(w, p->commissioned_ms), w += 8;
    memcpy(w, p->registrar, 32), w += 32;
    return (size_t)(w - out);
}

int wn_project_sign(wn_project *p, const uint8_t seckey[32])
{
    uint8_t buf[WN_PROJECT_SIGNED_MAX];
    if (!wn_seckey_xonly(p->registrar, seckey)) return 0;
    size_t n = signed_bytes(p, buf);
    return n && wn_sign_tagged(p->sig, seckey, WN_TAG_PROJECT, buf, n);
}

int wn_project_verify(const wn_project *p)
{
    uint8_t buf[WN_PROJECT_SIGNED_MAX];
    size_t n = signed_bytes(p, buf);
    return n && wn_verify_tagged(p->sig, p->registrar, WN_TAG_PROJECT, buf, n);
}
