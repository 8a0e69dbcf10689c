/* profile.c — device profiles in JSON (profile.h; the format is in docs/GATEWAY.md). */
#include "device/gateway/profile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/gateway/registers.h"

#define PROFILE_MAX_BYTES (64 * 1024)

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return 0;
}

/* Each member of o must be one of names (NULL-ended). */
static int only(const cJSON *o, const char *const *names, const char *where, char *err, size_t cap)
{
    for (const cJSON *c = o->child; c; c = c->next) {
        int ok = 0;
        for (const char *const *n = names; *n; n++) ok |= strcmp(c->string, *n) == 0;
        if (!ok) return fail(err, cap, "%s: unknown member \"%s\"", where, c->string);
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0) return fail(err, cap, "%s: \"%s\" appears twice", where, c->string);
    }
    return 1;
}

static int get_uint(const cJSON *o, const char *name, unsigned max, int required, unsigned *out, const char *where,
                    char *err, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) return required ? fail(err, cap, "%s: \"%s\" is required", where, name) : 1;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max || v->valuedouble != (double)(unsigned)v->valuedouble)
        return fail(err, cap, "%s: \"%s\" must be an integer 0..%u", where, name, max);
    *out = (unsigned)v->valuedouble;
    return 1;
}

static int get_order(const cJSON *o, const char *name, const char *a, const char *b, int *out, const char *where,
                     char *err, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) return 1;
    if (cJSON_IsString(v) && strcmp(v->valuestring, a) == 0) *out = 0;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, b) == 0) *out = 1;
    else return fail(err, cap, "%s: \"%s\" must be \"%s\" or \"%s\"", where, name, a, b);
    return 1;
}

static int get_function(const cJSON *o, unsigned dflt, uint8_t *out, const char *where, char *err, size_t cap)
{
    unsigned f = dflt;
    if (!get_uint(o, "function", 4, 0, &f, where, err, cap)) return 0;
    if (f != 3 && f != 4) return fail(err, cap, "%s: \"function\" must be 3 (holding) or 4 (input registers)", where);
    *out = (uint8_t)f;
    return 1;
}

static int name_code(const char *s, const char *(*name)(unsigned), unsigned max)
{
    for (unsigned i = 1; i <= max; i++)
        if (name(i) && strcmp(name(i), s) == 0) return (int)i;
    return 0;
}

static int parse_quantity(wn_profile *p, const cJSON *o, unsigned fn, int words, int bytes, char *err, size_t cap)
{
    static const char *const names[] = {"quantity", "unit", "address", "type", "decimals", "function",
                                        "words", "bytes", "wraps", NULL};
    char where[64];
    snprintf(where, sizeof where, "quantities[%zu]", p->n);
    if (!cJSON_IsObject(o)) return fail(err, cap, "%s must be an object", where);
    if (!only(o, names, where, err, cap)) return 0;
    if (p->n == WN_PROFILE_MAX_QUANTITIES) return fail(err, cap, "at most %d quantities", WN_PROFILE_MAX_QUANTITIES);
    wn_profile_quantity *q = &p->q[p->n];
    memset(q, 0, sizeof *q);
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(o, "quantity"), *us = cJSON_GetObjectItemCaseSensitive(o, "unit"),
                *ts = cJSON_GetObjectItemCaseSensitive(o, "type"), *ws = cJSON_GetObjectItemCaseSensitive(o, "wraps");
    int qc = cJSON_IsString(qs) ? name_code(qs->valuestring, wn_quantity_name, WN_Q_MAX) : 0;
    if (!qc) return fail(err, cap, "%s: \"quantity\" must name a reading quantity (volume, flow, pressure, ...)", where);
    int uc = cJSON_IsString(us) ? name_code(us->valuestring, wn_unit_name, WN_U_MAX) : 0;
    if (!uc || !wn_unit_allowed((unsigned)qc, (unsigned)uc))
        return fail(err, cap, "%s: \"unit\" must be a unit allowed for %s (PROTOCOL §2)", where, qs->valuestring);
    for (size_t i = 0; i < p->n; i++)
        if (p->q[i].quantity == qc) return fail(err, cap, "%s: quantity %s appears twice", where, qs->valuestring);
    q->type = cJSON_IsString(ts) ? wn_reg_type_from_name(ts->valuestring) : 0;
    if (!q->type) return fail(err, cap, "%s: \"type\" must be u16, u32, i32, float32, float64, bcd16 or bcd32", where);
    unsigned addr = 0, dec = 0;
    if (!get_uint(o, "address", 65535, 1, &addr, where, err, cap) || !get_uint(o, "decimals", 9, 1, &dec, where, err, cap))
        return 0;
    if (addr + wn_reg_count(q->type) > 65536) return fail(err, cap, "%s: the registers run past address 65535", where);
    q->words = words;
    q->bytes = bytes;
    if (!get_function(o, fn, &q->function, where, err, cap) ||
        !get_order(o, "words", "big", "little", &q->words, where, err, cap) ||
        !get_order(o, "bytes", "big", "swapped", &q->bytes, where, err, cap))
        return 0;
    if (ws && !cJSON_IsBool(ws)) return fail(err, cap, "%s: \"wraps\" must be true or false", where);
    q->wraps = ws && cJSON_IsTrue(ws);
    if (q->wraps && (qc != WN_Q_VOLUME || !wn_reg_modulus(q->type)))
        return fail(err, cap, "%s: only a volume totaliser of type u16, u32, bcd16 or bcd32 can wrap", where);
    q->quantity = (uint8_t)qc;
    q->unit = (uint8_t)uc;
    q->decimals = (uint8_t)dec;
    q->address = (uint16_t)addr;
    p->n++;
    return 1;
}

static int parse_status(wn_profile *p, const cJSON *o, unsigned fn, char *err, size_t cap)
{
    static const char *const names[] = {"address", "function", "bits", "faults", NULL};
    if (!cJSON_IsObject(o)) return fail(err, cap, "\"status\" must be an object");
    if (!only(o, names, "status", err, cap)) return 0;
    unsigned addr = 0;
    if (!get_uint(o, "address", 65535, 1, &addr, "status", err, cap) ||
        !get_function(o, fn, &p->status_function, "status", err, cap))
        return 0;
    p->status_address = (uint16_t)addr;
    const cJSON *bits = cJSON_GetObjectItemCaseSensitive(o, "bits");
    if (bits && !cJSON_IsObject(bits)) return fail(err, cap, "status: \"bits\" must be an object");
    for (const cJSON *b = bits ? bits->child : NULL; b; b = b->next) {
        char *end;
        errno = 0;
        long bit = strtol(b->string, &end, 10);
        if (errno || *end || end == b->string || bit < 0 || bit > 15)
            return fail(err, cap, "status.bits: \"%s\" is not a bit number 0..15", b->string);
        if (!cJSON_IsString(b)) return fail(err, cap, "status.bits.%s must be a flag name", b->string);
        int f = -1;
        for (unsigned i = 0; i < 16; i++)
            if (wn_flag_name(i) && strcmp(wn_flag_name(i), b->valuestring) == 0) f = (int)i;
        if (f < 0) return fail(err, cap, "status.bits.%s: unknown flag \"%s\"", b->string, b->valuestring);
        p->status_flags[bit] |= (uint16_t)(1u << f);
    }
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(o, "faults");
    if (faults && !cJSON_IsArray(faults)) return fail(err, cap, "status: \"faults\" must be an array of bit numbers");
    for (const cJSON *b = faults ? faults->child : NULL; b; b = b->next) {
        if (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > 15 || b->valuedouble != (double)(int)b->valuedouble)
            return fail(err, cap, "status.faults: each must be a bit number 0..15");
        p->fault_bits |= (uint16_t)(1u << (int)b->valuedouble);
    }
    p->has_status = 1;
    return 1;
}

int wn_profile_parse(wn_profile *p, const char *json, size_t len, char *err, size_t cap)
{
    static const char *const names[] = {"profile", "model", "notes", "function", "words", "bytes", "quantities", "status", NULL};
    memset(p, 0, sizeof *p);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return fail(err, cap, "not valid JSON");
    int ok = 0;
    if (!cJSON_IsObject(root)) { fail(err, cap, "a profile is a JSON object"); goto out; }
    if (!only(root, names, "profile", err, cap)) goto out;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "profile");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, WN_PROFILE_FORMAT) != 0) {
        fail(err, cap, "\"profile\" must be \"%s\"", WN_PROFILE_FORMAT);
        goto out;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsString(model) || !model->valuestring[0] || strlen(model->valuestring) > WN_PROFILE_MODEL_MAX) {
        fail(err, cap, "\"model\" must be a string of 1..%d bytes", WN_PROFILE_MODEL_MAX);
        goto out;
    }
    snprintf(p->model, sizeof p->model, "%s", model->valuestring);
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(root, "notes");
    if (notes && (!cJSON_IsString(notes) || strlen(notes->valuestring) > 4096)) {
        fail(err, cap, "\"notes\" must be a string of at most 4096 bytes");
        goto out;
    }
    uint8_t fn = 3;
    int words = WN_WORDS_BIG, bytes = WN_BYTES_BIG;
    if (!get_function(root, 3, &fn, "profile", err, cap) ||
        !get_order(root, "words", "big", "little", &words, "profile", err, cap) ||
        !get_order(root, "bytes", "big", "swapped", &bytes, "profile", err, cap))
        goto out;
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(root, "quantities");
    if (!cJSON_IsArray(qs) || !qs->child) {
        fail(err, cap, "\"quantities\" must be a non-empty array");
        goto out;
    }
    for (const cJSON *q = qs->child; q; q = q->next)
        if (!parse_quantity(p, q, fn, words, bytes, err, cap)) goto out;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (st && !parse_status(p, st, fn, err, cap)) goto out;
    ok = 1;
out:
    cJSON_Delete(root);
    return ok;
}

int wn_profile_load(wn_profile *p, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, cap, "%s: %s", path, strerror(errno));
    char *buf = malloc(PROFILE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PROFILE_MAX_BYTES + 1, f) : 0;
    int rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err) {
        free(buf);
        return fail(err, cap, "%s: cannot read", path);
    }
    if (n > PROFILE_MAX_BYTES) {
        free(buf);
        return fail(err, cap, "%s: larger than %d bytes", path, PROFILE_MAX_BYTES);
    }
    char inner[200];
    int ok = wn_profile_parse(p, buf, n, inner, sizeof inner);
    free(buf);
    if (!ok) return fail(err, cap, "%s: %s", path, inner);
    return 1;
}
