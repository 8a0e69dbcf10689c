/* claim.c — the savings claim codec (claim.h, docs/PROTOCOL.md §16): strict JSON, the
 * canonical binary body that the enterprise and the certifier sign, signing and checking. */
#include "savings/claim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "savings/jsondoc.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "crypto/strict_json.h"

/* ---- JSON ---- */

static int name_code(const cJSON *item, const char *(*name)(unsigned), unsigned max, uint8_t *out)
{
    if (!cJSON_IsString(item)) return 0;
    for (unsigned i = 1; i <= max; i++)
        if (name(i) && strcmp(name(i), item->valuestring) == 0) {
            *out = (uint8_t)i;
            return 1;
        }
    return 0;
}

static int parse_meter(wn_claim_meter *m, const cJSON *o, const char *where, char *detail, size_t cap)
{
    static const char *const names[] = {"meter", "point", "source", "rollover"};
    const cJSON *it[4];
    char sub[WN_CLAIM_ID_MAX + 64];
    if (!wn_jd_members(o, names, it, 4, sub, sizeof sub)) {
        snprintf(detail, cap, "%s: %s", where, sub);
        return 0;
    }
    if (!wn_jd_hex(it[0], "meter", m->meter, 32, sub, sizeof sub) || !wn_xonly_valid(m->meter)) {
        snprintf(detail, cap, "%s: meter: must be a meter id (64 lowercase hex, a valid x-only key)", where);
        return 0;
    }
    if (!name_code(it[1], wn_point_name, WN_POINT_MAX, &m->point) ||
        (m->point != WN_POINT_INTAKE && m->point != WN_POINT_RECYCLING)) {
        snprintf(detail, cap, "%s: point: must be \"intake\" or \"recycling\"", where);
        return 0;
    }
    if (!name_code(it[2], wn_source_name, WN_SOURCE_MAX, &m->source)) {
        snprintf(detail, cap, "%s: source: must be a water source (surface, groundwater, tap, reclaimed, "
                              "rainwater, mine_water)", where);
        return 0;
    }
    m->rollover_l = 0;
    if (!cJSON_IsNull(it[3]) &&
        (!wn_jd_fixed(it[3], "rollover", 3, UINT64_MAX >> 1, &m->rollover_l, sub, sizeof sub) || m->rollover_l == 0)) {
        snprintf(detail, cap, "%s: rollover: null, or the register's capacity in m3 with 3 decimals (above 0)", where);
        return 0;
    }
    return 1;
}

static int parse_period(wn_claim_period *p, const cJSON *o, const char *name, char *detail, size_t cap)
{
    static const char *const names[] = {"from", "to", "output", "meters"};
    const cJSON *it[4];
    char sub[256];
    if (!wn_jd_members(o, names, it, 4, sub, sizeof sub) || !wn_jd_time(it[0], "from", &p->from_ms, sub, sizeof sub) ||
        !wn_jd_time(it[1], "to", &p->to_ms, sub, sizeof sub) ||
        !wn_jd_fixed(it[2], "output", 3, WN_CLAIM_MAX_OUTPUT, &p->output, sub, sizeof sub)) {
        snprintf(detail, cap, "%s: %s", name, sub);
        return 0;
    }
    if (p->from_ms >= p->to_ms) {
        snprintf(detail, cap, "%s: from must be before to (the period is [from, to))", name);
        return 0;
    }
    if (!cJSON_IsArray(it[3]) || cJSON_GetArraySize(it[3]) < 1 || cJSON_GetArraySize(it[3]) > WN_CLAIM_MAX_METERS) {
        snprintf(detail, cap, "%s: meters: must be an array of 1..%d meters", name, WN_CLAIM_MAX_METERS);
        return 0;
    }
    p->n_meters = 0;
    for (const cJSON *e = it[3]->child; e; e = e->next) {
        char where[64];
        snprintf(where, sizeof where, "%s: meters[%zu]", name, p->n_meters);
        wn_claim_meter *m = &p->meters[p->n_meters];
        if (!parse_meter(m, e, where, detail, cap)) return 0;
        for (size_t k = 0; k < p->n_meters; k++)
            if (memcmp(p->meters[k].meter, m->meter, 32) == 0) {
                snprintf(detail, cap, "%s: the meter is listed twice", where);
                return 0;
            }
        p->n_meters++;
    }
    return 1;
}

static int parse_certification(wn_claim *c, const cJSON *o, char *detail, size_t cap)
{
    static const char *const names[] = {"certifier", "time", "reference", "sig"};
    const cJSON *it[4];
    char sub[256];
    if (!wn_jd_members(o, names, it, 4, sub, sizeof sub) ||
        !wn_jd_hex(it[0], "certifier", c->certifier, 32, sub, sizeof sub) ||
        !wn_jd_time(it[1], "time", &c->certified_ms, sub, sizeof sub) ||
        !wn_jd_text(it[2], "reference", 1, WN_CLAIM_REF_MAX, c->reference, sub, sizeof sub) ||
        !wn_jd_hex(it[3], "sig", c->certifier_sig, 64, sub, sizeof sub)) {
        snprintf(detail, cap, "certification: %s", sub);
        return 0;
    }
    c->certified = 1;
    return 1;
}

enum { C_FORMAT, C_ID, C_ENT, C_KEY, C_PROJECT, C_UNIT, C_INVEST, C_BASE, C_REP, C_ESIG, C_CERT, C_PREC, NCLAIM };

int wn_claim_parse(wn_claim *c, const char *text, size_t len, char *detail, size_t cap)
{
    static const char *const names[NCLAIM] = {"format", "id", "enterprise", "enterprise_key", "project",
                                              "output_unit", "investment", "baseline", "reporting",
                                              "enterprise_sig", "certification", "project_record"};
    memset(c, 0, sizeof *c);
    cJSON *root = wn_jd_parse(text, len, detail, cap);
    if (!root) return 0;
    const cJSON *it[NCLAIM];
    int with_record = cJSON_GetObjectItemCaseSensitive(root, "project_record") != NULL;
    it[C_PREC] = NULL;
    int ok = wn_jd_members(root, names, it, with_record ? NCLAIM : NCLAIM - 1, detail, cap);
    if (ok && with_record) {
        char sub[256];
        ok = wn_project_from_cjson(&c->project_record, it[C_PREC], sub, sizeof sub);
        if (!ok) snprintf(detail, cap, "project_record: %s", sub);
        c->has_project_record = ok;
    }
    if (ok && (!cJSON_IsString(it[C_FORMAT]) || strcmp(it[C_FORMAT]->valuestring, WN_CLAIM_FORMAT_V1) != 0)) {
        snprintf(detail, cap, "format: must be \"%s\"", WN_CLAIM_FORMAT_V1);
        ok = 0;
    }
    ok = ok && wn_jd_text(it[C_ID], "id", 1, WN_CLAIM_ID_MAX, c->id, detail, cap);
    ok = ok && wn_jd_text(it[C_ENT], "enterprise", 1, WN_CLAIM_ENTERPRISE_MAX, c->enterprise, detail, cap);
    if (ok && !cJSON_IsNull(it[C_KEY]) &&
        (!wn_jd_hex(it[C_KEY], "enterprise_key", c->enterprise_key, 32, detail, cap) ||
         !wn_xonly_valid(c->enterprise_key))) {
        snprintf(detail, cap, "enterprise_key: null, or an x-only public key (64 lowercase hex)");
        ok = 0;
    }
    ok = ok && wn_jd_text(it[C_PROJECT], "project", 1, WN_CLAIM_PROJECT_MAX, c->project, detail, cap);
    ok = ok && wn_jd_text(it[C_UNIT], "output_unit", 1, WN_CLAIM_UNIT_MAX, c->output_unit, detail, cap);
    ok = ok && wn_jd_fixed(it[C_INVEST], "investment", 2, UINT64_MAX >> 1, &c->investment_fen, detail, cap);
    ok = ok && parse_period(&c->baseline, it[C_BASE], "baseline", detail, cap);
    ok = ok && parse_period(&c->reporting, it[C_REP], "reporting", detail, cap);
    if (ok && !cJSON_IsNull(it[C_ESIG])) {
        ok = wn_jd_hex(it[C_ESIG], "enterprise_sig", c->enterprise_sig, 64, detail, cap);
        c->signed_by_enterprise = ok;
        if (ok && cJSON_IsNull(it[C_KEY])) {
            snprintf(detail, cap, "enterprise_sig: a signature needs the enterprise_key");
            ok = 0;
        }
    }
    if (ok && !cJSON_IsNull(it[C_CERT])) {
        ok = parse_certification(c, it[C_CERT], detail, cap);
        if (ok && !c->signed_by_enterprise) {
            snprintf(detail, cap, "certification: the certifier countersigns the enterprise's signature, which is missing");
            ok = 0;
        }
    }
    cJSON_Delete(root);
    return ok;
}

static void add_fixed(cJSON *o, const char *name, uint64_t v, unsigned scale)
{
    char s[48];
    cJSON_AddStringToObject(o, name, wn_fixed_format(s, (__int128)v, scale));
}

static void add_hex(cJSON *o, const char *name, const uint8_t *b, size_t n)
{
    char h[129];
    wn_hex_encode(h, b, n);
    cJSON_AddStringToObject(o, name, h);
}

static void add_time(cJSON *o, const char *name, uint64_t ms)
{
    char t[25];
    wn_time_format(t, ms);
    cJSON_AddStringToObject(o, name, t);
}

static cJSON *period_json(const wn_claim_period *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_time(o, "from", p->from_ms);
    add_time(o, "to", p->to_ms);
    add_fixed(o, "output", p->output, 3);
    cJSON *a = cJSON_AddArrayToObject(o, "meters");
    for (size_t i = 0; a && i < p->n_meters; i++) {
        const wn_claim_meter *m = &p->meters[i];
        cJSON *e = cJSON_CreateObject();
        if (!e) continue;
        add_hex(e, "meter", m->meter, 32);
        cJSON_AddStringToObject(e, "point", wn_point_name(m->point));
        cJSON_AddStringToObject(e, "source", wn_source_name(m->source));
        if (m->rollover_l) add_fixed(e, "rollover", m->rollover_l, 3);
        else cJSON_AddNullToObject(e, "rollover");
        cJSON_AddItemToArray(a, e);
    }
    return o;
}

char *wn_claim_to_json(const wn_claim *c)
{
    static const uint8_t zero[32];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "format", WN_CLAIM_FORMAT_V1);
    cJSON_AddStringToObject(o, "id", c->id);
    cJSON_AddStringToObject(o, "enterprise", c->enterprise);
    if (memcmp(c->enterprise_key, zero, 32) != 0) add_hex(o, "enterprise_key", c->enterprise_key, 32);
    else cJSON_AddNullToObject(o, "enterprise_key");
    cJSON_AddStringToObject(o, "project", c->project);
    cJSON_AddStringToObject(o, "output_unit", c->output_unit);
    add_fixed(o, "investment", c->investment_fen, 2);
    cJSON_AddItemToObject(o, "baseline", period_json(&c->baseline));
    cJSON_AddItemToObject(o, "reporting", period_json(&c->reporting));
    if (c->signed_by_enterprise) add_hex(o, "enterprise_sig", c->enterprise_sig, 64);
    else cJSON_AddNullToObject(o, "enterprise_sig");
    if (c->certified) {
        cJSON *e = cJSON_AddObjectToObject(o, "certification");
        if (e) {
            add_hex(e, "certifier", c->certifier, 32);
            add_time(e, "time", c->certified_ms);
            cJSON_AddStringToObject(e, "reference", c->reference);
            add_hex(e, "sig", c->certifier_sig, 64);
        }
    } else {
        cJSON_AddNullToObject(o, "certification");
    }
    if (c->has_project_record) cJSON_AddItemToObject(o, "project_record", wn_project_to_cjson(&c->project_record));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* ---- canonical bytes ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int over;
} wbuf;

static void put(wbuf *w, const void *d, size_t n)
{
    if (w->over || n > w->cap - w->len) {
        w->over = 1;
        return;
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void put_u8(wbuf *w, uint8_t v) { put(w, &v, 1); }

static void put_u64(wbuf *w, uint64_t v)
{
    uint8_t b[8];
    wn_put_u64(b, v);
    put(w, b, 8);
}

static void put_text(wbuf *w, const char *s)
{
    size_t n = strlen(s);
    if (n > 255) {
        w->over = 1;
        return;
    }
    put_u8(w, (uint8_t)n);
    put(w, s, n);
}

static void put_period(wbuf *w, const wn_claim_period *p)
{
    put_u64(w, p->from_ms);
    put_u64(w, p->to_ms);
    put_u64(w, p->output);
    put_u8(w, (uint8_t)p->n_meters);
    for (size_t i = 0; i < p->n_meters; i++) {
        put(w, p->meters[i].meter, 32);
        put_u8(w, p->meters[i].point);
        put_u8(w, p->meters[i].source);
        put_u64(w, p->meters[i].rollover_l);
    }
}

int wn_claim_body(const wn_claim *c, uint8_t *out, size_t cap, size_t *len)
{
    wbuf w = {out, 0, cap, 0};
    put_u8(&w, 1);
    put_text(&w, c->id);
    put_text(&w, c->enterprise);
    put(&w, c->enterprise_key, 32);
    put_text(&w, c->project);
    put_text(&w, c->output_unit);
    put_u64(&w, c->investment_fen);
    put_period(&w, &c->baseline);
    put_period(&w, &c->reporting);
    *len = w.len;
    return !w.over;
}

void wn_claim_digest(const wn_claim *c, uint8_t digest[32])
{
    uint8_t body[WN_CLAIM_BODY_MAX];
    size_t len = 0;
    if (!wn_claim_body(c, body, sizeof body, &len)) len = 0;
    wn_sha256(digest, body, len);
}

static int certification_bytes(const wn_claim *c, uint8_t *out, size_t cap, size_t *len)
{
    if (!wn_claim_body(c, out, cap, len)) return 0;
    wbuf w = {out, *len, cap, 0};
    put(&w, c->enterprise_sig, 64);
    put(&w, c->certifier, 32);
    put_u64(&w, c->certified_ms);
    put_text(&w, c->reference);
    *len = w.len;
    return !w.over;
}

int wn_claim_sign(wn_claim *c, const uint8_t seckey[32])
{
    uint8_t body[WN_CLAIM_BODY_MAX];
    size_t len;
    if (!wn_seckey_xonly(c->enterprise_key, seckey)) return 0;
    c->certified = 0;
    memset(c->certifier, 0, 32);
    memset(c->certifier_sig, 0, 64);
    c->reference[0] = '\0';
    c->certified_ms = 0;
    if (!wn_claim_body(c, body, sizeof body, &len)) return 0;
    c->signed_by_enterprise = wn_sign_tagged(c->enterprise_sig, seckey, WN_TAG_CLAIM, body, len);
    return c->signed_by_enterprise;
}

int wn_claim_certify(wn_claim *c, const uint8_t seckey[32], uint64_t time_ms, const char *reference)
{
    uint8_t buf[WN_CLAIM_CERT_MAX];
    size_t len, rl = strlen(reference);
    if (!c->signed_by_enterprise || rl == 0 || rl > WN_CLAIM_REF_MAX || !wn_text_ok(reference, rl)) return 0;
    if (!wn_seckey_xonly(c->certifier, seckey)) return 0;
    c->certified_ms = time_ms;
    memcpy(c->reference, reference, rl + 1);
    if (!certification_bytes(c, buf, sizeof buf, &len)) return 0;
    c->certified = wn_sign_tagged(c->certifier_sig, seckey, WN_TAG_CERTIFICATION, buf, len);
    return c->certified;
}

int wn_claim_verify_enterprise(const wn_claim *c)
{
    uint8_t body[WN_CLAIM_BODY_MAX];
    size_t len;
    if (!c->signed_by_enterprise || !wn_claim_body(c, body, sizeof body, &len)) return 0;
    return wn_verify_tagged(c->enterprise_sig, c->enterprise_key, WN_TAG_CLAIM, body, len);
}

int wn_claim_verify_certification(const wn_claim *c)
{
    uint8_t buf[WN_CLAIM_CERT_MAX];
    size_t len;
    if (!c->certified || !certification_bytes(c, buf, sizeof buf, &len)) return 0;
    return wn_verify_tagged(c->certifier_sig, c->certifier, WN_TAG_CERTIFICATION, buf, len);
}
