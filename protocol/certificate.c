/* certificate.c — savings certificates, transfers and retirements (certificate.h,
 * docs/PROTOCOL.md §17): field rules, binary and JSON codecs, signatures. No allocation. */
#include "protocol/certificate.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/strict_json.h"

#define CERT_FIXED 204 /* bytes before the meter ids */
#define OP_SIGNED_TRANSFER 97
#define OP_SIGNED_RETIREMENT 65

const char *wn_cert_strerror(int err)
{
    switch (err) {
    case WN_CERT_OK: return "ok";
    case WN_CERT_EFORMAT: return "the record is malformed or breaks a field rule";
    case WN_CERT_ESIG: return "the signature does not verify";
    case WN_CERT_EJSON: return "the JSON form is malformed";
    case WN_CERT_ESPACE: return "output buffer too small";
    default: return "unknown error";
    }
}

const char *wn_cert_purpose_name(unsigned p)
{
    return p == WN_PURPOSE_SUBSIDY ? "subsidy" : p == WN_PURPOSE_SALE ? "sale" : NULL;
}

/* ---- rules ---- */

static int text_valid(const char *s)
{
    size_t n = strnlen(s, WN_CERT_TEXT_MAX + 1);
    return n >= 1 && n <= WN_CERT_TEXT_MAX && wn_text_ok(s, n);
}

/* Returns: NULL if every field rule holds, else which and why. */
static const char *cert_problem(const wn_certificate *c, int with_authority)
{
    if (c->version != 1 && c->version != 2) return "version: must be 1 or 2";
    if (c->version == 1 && (c->project[0] || c->project_subsidies)) return "project: version 1 has none";
    size_t pn = strnlen(c->project, WN_CERT_PROJECT_MAX + 1);
    if (pn > WN_CERT_PROJECT_MAX || !wn_text_ok(c->project, pn)) return "project: 0..200 bytes of UTF-8 without control characters";
    if (c->project_subsidies && !pn) return "project_subsidies: a limit per project needs the project";
    if (!wn_cert_purpose_name(c->purpose)) return "purpose: must be subsidy or sale";
    if (c->flags & ~WN_CERT_FLAG_SUBSIDY_AND_SALE) return "flags: undefined bits";
    if (c->time_ms > WN_READING_MAX_TIME || c->valid_until_ms > WN_READING_MAX_TIME) return "time: out of range";
    if (c->valid_until_ms <= c->time_ms) return "valid_until: must be after the time issued";
    if (c->volume_l == 0 || c->volume_l > WN_CERT_MAX_AMOUNT) return "volume_l: must be 1 ..= 2^53-1 litres";
    if (c->subsidy_fen > WN_CERT_MAX_AMOUNT) return "subsidy_fen: above 2^53-1";
    if (c->purpose == WN_PURPOSE_SALE && c->subsidy_fen) return "subsidy_fen: a sale certificate carries no subsidy";
    if (!wn_xonly_valid(c->holder)) return "holder: not a valid x-only public key";
    if (c->cp_size == 0 || c->cp_size > WN_CERT_MAX_AMOUNT) return "checkpoint_size: must be 1 ..= 2^53-1";
    if (!(c->baseline_from < c->baseline_to && c->baseline_to <= c->reporting_from &&
          c->reporting_from < c->reporting_to && c->reporting_to <= WN_READING_MAX_TIME))
        return "periods: baseline_from < baseline_to <= reporting_from < reporting_to";
    if (c->n_meters < 1 || c->n_meters > WN_CERT_MAX_METERS) return "meters: 1 ..= 32 meter ids";
    for (size_t i = 0; i < c->n_meters; i++) {
        if (!wn_xonly_valid(c->meters[i])) return "meters: not a valid x-only public key";
        if (i && memcmp(c->meters[i - 1], c->meters[i], 32) >= 0) return "meters: must be strictly ascending";
    }
    if (!text_valid(c->enterprise)) return "enterprise: 1..64 bytes of UTF-8 without control characters";
    if (!text_valid(c->policy_id)) return "policy: 1..64 bytes of UTF-8 without control characters";
    if (!text_valid(c->claim_id)) return "claim: 1..64 bytes of UTF-8 without control characters";
    if (with_authority && !wn_xonly_valid(c->authority)) return "authority: not a valid x-only public key";
    return NULL;
}

static const char *op_problem(const wn_cert_op *op)
{
    if (op->cert_index > WN_CERT_MAX_AMOUNT) return "certificate: index above 2^53-1";
    if (op->op == 0 || op->op > WN_CERT_MAX_AMOUNT) return "op: must be 1 ..= 2^53-1";
    if (op->time_ms > WN_READING_MAX_TIME) return "time: out of range";
    if (op->volume_l == 0 || op->volume_l > WN_CERT_MAX_AMOUNT) return "volume_l: must be 1 ..= 2^53-1 litres";
    if (!wn_xonly_valid(op->from)) return op->is_retirement ? "holder: not a valid x-only public key"
                                                            : "from: not a valid x-only public key";
    if (!op->is_retirement) {
        if (!wn_xonly_valid(op->to)) return "to: not a valid x-only public key";
        if (memcmp(op->from, op->to, 32) == 0) return "to: a transfer goes to another key";
    }
    return NULL;
}

/* ---- certificate binary ---- */

static size_t put_text(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

static size_t cert_signed_len(const wn_certificate *c)
{
    return CERT_FIXED + 32 * c->n_meters + 3 + strlen(c->enterprise) + strlen(c->policy_id) + strlen(c->claim_id) +
           (c->version >= 2 ? 2 + strlen(c->project) : 0) + 32;
}

/* Writes everything before the signature (the caller checked the fields). */
static size_t cert_signed_bytes(const wn_certificate *c, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = c->version;
    *p++ = c->purpose;
    *p++ = c->flags;
    wn_put_u64(p, c->time_ms), p += 8;
    wn_put_u64(p, c->valid_until_ms), p += 8;
    wn_put_u64(p, c->volume_l), p += 8;
    wn_put_u64(p, c->subsidy_fen), p += 8;
    memcpy(p, c->claim_digest, 32), p += 32;
    memcpy(p, c->policy_digest, 32), p += 32;
    memcpy(p, c->holder, 32), p += 32;
    wn_put_u64(p, c->cp_size), p += 8;
    memcpy(p, c->cp_root, 32), p += 32;
    wn_put_u64(p, c->baseline_from), p += 8;
    wn_put_u64(p, c->baseline_to), p += 8;
    wn_put_u64(p, c->reporting_from), p += 8;
    wn_put_u64(p, c->reporting_to), p += 8;
    *p++ = (uint8_t)c->n_meters;
    for (size_t i = 0; i < c->n_meters; i++) memcpy(p, c->meters[i], 32), p += 32;
    p += put_text(p, c->enterprise);
    p += put_text(p, c->policy_id);
    p += put_text(p, c->claim_id);
    if (c->version >= 2) {
        p += put_text(p, c->project);
        *p++ = c->project_subsidies;
    }
    memcpy(p, c->authority, 32), p += 32;
    return (size_t)(p - out);
}

int wn_certificate_sign(wn_certificate *c, const uint8_t authority_seckey[32])
{
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    if (!c->version) c->version = WN_CERT_VERSION;
    if (!wn_seckey_xonly(c->authority, authority_seckey)) return WN_CERT_EFORMAT;
    if (cert_problem(c, 1)) return WN_CERT_EFORMAT;
    size_t n = cert_signed_bytes(c, buf);
    return wn_sign_tagged(c->sig, authority_seckey, WN_TAG_CERTIFICATE, buf, n) ? WN_CERT_OK : WN_CERT_ESIG;
}

int wn_certificate_verify(const wn_certificate *c)
{
    uint8_t buf[WN_CERTIFICATE_MAX_LEN];
    if (cert_problem(c, 1)) return WN_CERT_EFORMAT;
    size_t n = cert_signed_bytes(c, buf);
    return wn_verify_tagged(c->sig, c->authority, WN_TAG_CERTIFICATE, buf, n) ? WN_CERT_OK : WN_CERT_ESIG;
}

int wn_certificate_encode(const wn_certificate *c, uint8_t *out, size_t cap, size_t *len)
{
    if (cert_problem(c, 1)) return WN_CERT_EFORMAT;
    size_t n = cert_signed_len(c) + 64;
    if (cap < n) return WN_CERT_ESPACE;
    size_t k = cert_signed_bytes(c, out);
    memcpy(out + k, c->sig, 64);
    *len = k + 64;
    return WN_CERT_OK;
}

/* Reads a length-prefixed text into out (size WN_CERT_TEXT_MAX + 1). Returns: bytes used, 0 if bad. */
static size_t get_text(const uint8_t *p, size_t avail, char *out)
{
    if (avail < 1 || p[0] < 1 || p[0] > WN_CERT_TEXT_MAX || avail < 1u + p[0]) return 0;
    if (!wn_text_ok((const char *)p + 1, p[0])) return 0;
    memcpy(out, p + 1, p[0]);
    out[p[0]] = '\0';
    return 1u + p[0];
}

int wn_certificate_decode(wn_certificate *c, const uint8_t *in, size_t len)
{
    memset(c, 0, sizeof *c);
    if (len < CERT_FIXED || (in[0] != 1 && in[0] != 2)) return WN_CERT_EFORMAT;
    c->version = in[0];
    const uint8_t *p = in + 1;
    c->purpose = *p++;
    c->flags = *p++;
    c->time_ms = wn_get_u64(p), p += 8;
    c->valid_until_ms = wn_get_u64(p), p += 8;
    c->volume_l = wn_get_u64(p), p += 8;
    c->subsidy_fen = wn_get_u64(p), p += 8;
    memcpy(c->claim_digest, p, 32), p += 32;
    memcpy(c->policy_digest, p, 32), p += 32;
    memcpy(c->holder, p, 32), p += 32;
    c->cp_size = wn_get_u64(p), p += 8;
    memcpy(c->cp_root, p, 32), p += 32;
    c->baseline_from = wn_get_u64(p), p += 8;
    c->baseline_to = wn_get_u64(p), p += 8;
    c->reporting_from = wn_get_u64(p), p += 8;
    c->reporting_to = wn_get_u64(p), p += 8;
    c->n_meters = *p++;
    if (c->n_meters < 1 || c->n_meters > WN_CERT_MAX_METERS) return WN_CERT_EFORMAT;
    size_t at = CERT_FIXED;
    if (len < at + 32 * c->n_meters) return WN_CERT_EFORMAT;
    for (size_t i = 0; i < c->n_meters; i++) memcpy(c->meters[i], in + at + 32 * i, 32);
    at += 32 * c->n_meters;
    size_t k;
    if (!(k = get_text(in + at, len - at, c->enterprise))) return WN_CERT_EFORMAT;
    at += k;
    if (!(k = get_text(in + at, len - at, c->policy_id))) return WN_CERT_EFORMAT;
    at += k;
    if (!(k = get_text(in + at, len - at, c->claim_id))) return WN_CERT_EFORMAT;
    at += k;
    if (c->version >= 2) {
        if (len - at < 2 || in[at] > WN_CERT_PROJECT_MAX || len - at < 2u + in[at]) return WN_CERT_EFORMAT;
        memcpy(c->project, in + at + 1, in[at]);
        c->project[in[at]] = '\0';
        if (strlen(c->project) != in[at]) return WN_CERT_EFORMAT; /* a NUL inside */
        at += 1u + in[at];
        c->project_subsidies = in[at++];
    }
    if (len != at + 96) return WN_CERT_EFORMAT;
    memcpy(c->authority, in + at, 32);
    memcpy(c->sig, in + at + 32, 64);
    return cert_problem(c, 1) ? WN_CERT_EFORMAT : WN_CERT_OK;
}

/* ---- operations binary ---- */

static size_t op_signed_bytes(const wn_cert_op *op, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = 1;
    wn_put_u64(p, op->cert_index), p += 8;
    wn_put_u64(p, op->op), p += 8;
    wn_put_u64(p, op->time_ms), p += 8;
    wn_put_u64(p, op->volume_l), p += 8;
    memcpy(p, op->from, 32), p += 32;
    if (!op->is_retirement) memcpy(p, op->to, 32), p += 32;
    return (size_t)(p - out);
}

static const char *op_tag(const wn_cert_op *op) { return op->is_retirement ? WN_TAG_RETIREMENT : WN_TAG_TRANSFER; }

int wn_cert_op_sign(wn_cert_op *op, const uint8_t holder_seckey[32])
{
    uint8_t buf[WN_TRANSFER_LEN], x[32];
    if (!wn_seckey_xonly(x, holder_seckey) || memcmp(x, op->from, 32) != 0 || op_problem(op)) return WN_CERT_EFORMAT;
    size_t n = op_signed_bytes(op, buf);
    return wn_sign_tagged(op->sig, holder_seckey, op_tag(op), buf, n) ? WN_CERT_OK : WN_CERT_ESIG;
}

int wn_cert_op_verify(const wn_cert_op *op)
{
    uint8_t buf[WN_TRANSFER_LEN];
    if (op_problem(op)) return WN_CERT_EFORMAT;
    size_t n = op_signed_bytes(op, buf);
    return wn_verify_tagged(op->sig, op->from, op_tag(op), buf, n) ? WN_CERT_OK : WN_CERT_ESIG;
}

int wn_cert_op_encode(const wn_cert_op *op, uint8_t *out, size_t cap, size_t *len)
{
    size_t need = op->is_retirement ? WN_RETIREMENT_LEN : WN_TRANSFER_LEN;
    if (op_problem(op)) return WN_CERT_EFORMAT;
    if (cap < need) return WN_CERT_ESPACE;
    size_t k = op_signed_bytes(op, out);
    memcpy(out + k, op->sig, 64);
    *len = k + 64;
    return WN_CERT_OK;
}

int wn_cert_op_decode(wn_cert_op *op, int is_retirement, const uint8_t *in, size_t len)
{
    memset(op, 0, sizeof *op);
    op->is_retirement = is_retirement != 0;
    size_t need = is_retirement ? WN_RETIREMENT_LEN : WN_TRANSFER_LEN;
    if (len != need || in[0] != 1) return WN_CERT_EFORMAT;
    const uint8_t *p = in + 1;
    op->cert_index = wn_get_u64(p), p += 8;
    op->op = wn_get_u64(p), p += 8;
    op->time_ms = wn_get_u64(p), p += 8;
    op->volume_l = wn_get_u64(p), p += 8;
    memcpy(op->from, p, 32), p += 32;
    if (!is_retirement) memcpy(op->to, p, 32), p += 32;
    memcpy(op->sig, p, 64);
    return op_problem(op) ? WN_CERT_EFORMAT : WN_CERT_OK;
}

/* ---- JSON ---- */

static int fail(char *detail, size_t cap, const char *fmt, const char *what)
{
    return wn_fail(detail, cap, WN_CERT_EJSON, fmt, what);
}

/* A plain integer 0 ..= 2^53-1 (cJSON reads numbers as doubles: exact in that range). */
static int json_u64(const cJSON *it, uint64_t *v)
{
    return wn_json_uint(it, WN_CERT_MAX_AMOUNT, v);
}

static int json_time(const cJSON *it, uint64_t *v)
{
    return cJSON_IsString(it) && wn_time_parse(it->valuestring, strlen(it->valuestring), v);
}

static int json_text(const cJSON *it, char *out)
{
    if (!cJSON_IsString(it)) return 0;
    size_t n = strlen(it->valuestring);
    if (n < 1 || n > WN_CERT_TEXT_MAX || !wn_text_ok(it->valuestring, n)) return 0;
    memcpy(out, it->valuestring, n + 1);
    return 1;
}

static size_t json_escaped(char *out, const char *s)
{
    size_t k = 0;
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') out[k++] = '\\';
        out[k++] = *s;
    }
    out[k] = '\0';
    return k;
}

int wn_certificate_to_json(const wn_certificate *c, char *out, size_t cap, size_t *len)
{
    if (cert_problem(c, 1)) return WN_CERT_EFORMAT;
    char t1[25], t2[25], bf[25], bt[25], rf[25], rt[25], cd[65], pd[65], h[65], root[65], a[65], sig[129];
    char ent[2 * WN_CERT_TEXT_MAX + 1], pol[2 * WN_CERT_TEXT_MAX + 1], clm[2 * WN_CERT_TEXT_MAX + 1];
    char prj[2 * WN_CERT_PROJECT_MAX + 64];
    char meters[WN_CERT_MAX_METERS * 67 + 1];
    wn_time_format(t1, c->time_ms);
    wn_time_format(t2, c->valid_until_ms);
    wn_time_format(bf, c->baseline_from);
    wn_time_format(bt, c->baseline_to);
    wn_time_format(rf, c->reporting_from);
    wn_time_format(rt, c->reporting_to);
    wn_hex_encode(cd, c->claim_digest, 32);
    wn_hex_encode(pd, c->policy_digest, 32);
    wn_hex_encode(h, c->holder, 32);
    wn_hex_encode(root, c->cp_root, 32);
    wn_hex_encode(a, c->authority, 32);
    wn_hex_encode(sig, c->sig, 64);
    json_escaped(ent, c->enterprise);
    json_escaped(pol, c->policy_id);
    json_escaped(clm, c->claim_id);
    prj[0] = '\0';
    if (c->version >= 2) {
        size_t q = (size_t)snprintf(prj, sizeof prj, ",\"project\":\"");
        q += json_escaped(prj + q, c->project);
        snprintf(prj + q, sizeof prj - q, "\",\"project_subsidies\":%u", (unsigned)c->project_subsidies);
    }
    size_t k = 0;
    for (size_t i = 0; i < c->n_meters; i++) {
        meters[k++] = i ? ',' : '"';
        if (i) meters[k++] = '"';
        wn_hex_encode(meters + k, c->meters[i], 32);
        k += 64;
        meters[k++] = '"';
    }
    meters[k] = '\0';
    int n = snprintf(out, cap,
                     "{\"version\":%u,\"purpose\":\"%s\",\"subsidy_and_sale\":%s,\"time\":\"%s\",\"valid_until\":\"%s\","
                     "\"volume_l\":%llu,\"subsidy_fen\":%llu,\"claim_digest\":\"%s\",\"policy_digest\":\"%s\","
                     "\"holder\":\"%s\",\"checkpoint_size\":%llu,\"checkpoint_root\":\"%s\",\"baseline_from\":\"%s\","
                     "\"baseline_to\":\"%s\",\"reporting_from\":\"%s\",\"reporting_to\":\"%s\",\"meters\":[%s],"
                     "\"enterprise\":\"%s\",\"policy\":\"%s\",\"claim\":\"%s\"%s,\"authority\":\"%s\",\"sig\":\"%s\"}",
                     (unsigned)c->version, wn_cert_purpose_name(c->purpose), (c->flags & WN_CERT_FLAG_SUBSIDY_AND_SALE) ? "true" : "false", t1,
                     t2, (unsigned long long)c->volume_l, (unsigned long long)c->subsidy_fen, cd, pd, h,
                     (unsigned long long)c->cp_size, root, bf, bt, rf, rt, meters, ent, pol, clm, prj, a, sig);
    if (n < 0 || (size_t)n >= cap) return WN_CERT_ESPACE;
    if (len) *len = (size_t)n;
    return WN_CERT_OK;
}

int wn_certificate_from_cjson(wn_certificate *c, const void *obj, char *detail, size_t cap)
{
    enum { VERSION, PURPOSE, BOTH, TIME, UNTIL, VOLUME, SUBSIDY, CLAIMD, POLICYD, HOLDER, CPSIZE, CPROOT, BF, BT, RF,
           RT, METERS, ENT, POL, CLAIM, AUTH, SIG, PROJECT, PSUBS, N };
    static const char *const names[N] = {"version", "purpose", "subsidy_and_sale", "time", "valid_until", "volume_l",
                                         "subsidy_fen", "claim_digest", "policy_digest", "holder", "checkpoint_size",
                                         "checkpoint_root", "baseline_from", "baseline_to", "reporting_from",
                                         "reporting_to", "meters", "enterprise", "policy", "claim", "authority", "sig",
                                         "project", "project_subsidies"};
    const cJSON *it[N];
    const char *bad, *why;
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject((const cJSON *)obj)) return wn_fail(detail, cap, WN_CERT_EJSON, "not a JSON object");
    uint64_t v;
    if (!json_u64(cJSON_GetObjectItemCaseSensitive((const cJSON *)obj, "version"), &v) || (v != 1 && v != 2))
        return fail(detail, cap, "%s: must be 1 or 2", "version");
    c->version = (uint8_t)v;
    if (wn_json_members(obj, names, it, v == 1 ? N - 2 : N, &bad, &why))
        return wn_fail(detail, cap, WN_CERT_EJSON, "%s: %s", bad, why);
    if (v == 2) {
        if (!cJSON_IsString(it[PROJECT]) || strlen(it[PROJECT]->valuestring) > WN_CERT_PROJECT_MAX ||
            !wn_text_ok(it[PROJECT]->valuestring, strlen(it[PROJECT]->valuestring)))
            return fail(detail, cap, "%s: 0..200 bytes of text", "project");
        memcpy(c->project, it[PROJECT]->valuestring, strlen(it[PROJECT]->valuestring) + 1);
        uint64_t ps;
        if (!json_u64(it[PSUBS], &ps) || ps > 255) return fail(detail, cap, "%s: an integer 0..255", "project_subsidies");
        c->project_subsidies = (uint8_t)ps;
    }
    if (!cJSON_IsString(it[PURPOSE])) return fail(detail, cap, "%s: must be \"subsidy\" or \"sale\"", "purpose");
    if (strcmp(it[PURPOSE]->valuestring, "subsidy") == 0) c->purpose = WN_PURPOSE_SUBSIDY;
    else if (strcmp(it[PURPOSE]->valuestring, "sale") == 0) c->purpose = WN_PURPOSE_SALE;
    else return fail(detail, cap, "%s: must be \"subsidy\" or \"sale\"", "purpose");
    if (!cJSON_IsBool(it[BOTH])) return fail(detail, cap, "%s: must be true or false", "subsidy_and_sale");
    c->flags = cJSON_IsTrue(it[BOTH]) ? WN_CERT_FLAG_SUBSIDY_AND_SALE : 0;
    if (!json_time(it[TIME], &c->time_ms)) return fail(detail, cap, "%s: not an RFC 3339 time", "time");
    if (!json_time(it[UNTIL], &c->valid_until_ms)) return fail(detail, cap, "%s: not an RFC 3339 time", "valid_until");
    if (!json_u64(it[VOLUME], &c->volume_l)) return fail(detail, cap, "%s: not an integer", "volume_l");
    if (!json_u64(it[SUBSIDY], &c->subsidy_fen)) return fail(detail, cap, "%s: not an integer", "subsidy_fen");
    if (!wn_json_hex(it[CLAIMD], c->claim_digest, 32)) return fail(detail, cap, "%s: not 64 hex", "claim_digest");
    if (!wn_json_hex(it[POLICYD], c->policy_digest, 32)) return fail(detail, cap, "%s: not 64 hex", "policy_digest");
    if (!wn_json_hex(it[HOLDER], c->holder, 32)) return fail(detail, cap, "%s: not 64 hex", "holder");
    if (!json_u64(it[CPSIZE], &c->cp_size)) return fail(detail, cap, "%s: not an integer", "checkpoint_size");
    if (!wn_json_hex(it[CPROOT], c->cp_root, 32)) return fail(detail, cap, "%s: not 64 hex", "checkpoint_root");
    if (!json_time(it[BF], &c->baseline_from)) return fail(detail, cap, "%s: not an RFC 3339 time", "baseline_from");
    if (!json_time(it[BT], &c->baseline_to)) return fail(detail, cap, "%s: not an RFC 3339 time", "baseline_to");
    if (!json_time(it[RF], &c->reporting_from)) return fail(detail, cap, "%s: not an RFC 3339 time", "reporting_from");
    if (!json_time(it[RT], &c->reporting_to)) return fail(detail, cap, "%s: not an RFC 3339 time", "reporting_to");
    if (!cJSON_IsArray(it[METERS])) return fail(detail, cap, "%s: not an array", "meters");
    for (const cJSON *e = it[METERS]->child; e; e = e->next) {
        if (c->n_meters == WN_CERT_MAX_METERS) return fail(detail, cap, "%s: more than 32", "meters");
        if (!wn_json_hex(e, c->meters[c->n_meters++], 32)) return fail(detail, cap, "%s: not 64 hex", "meters");
    }
    if (!json_text(it[ENT], c->enterprise)) return fail(detail, cap, "%s: 1..64 bytes of text", "enterprise");
    if (!json_text(it[POL], c->policy_id)) return fail(detail, cap, "%s: 1..64 bytes of text", "policy");
    if (!json_text(it[CLAIM], c->claim_id)) return fail(detail, cap, "%s: 1..64 bytes of text", "claim");
    if (!wn_json_hex(it[AUTH], c->authority, 32)) return fail(detail, cap, "%s: not 64 hex", "authority");
    if (!wn_json_hex(it[SIG], c->sig, 64)) return fail(detail, cap, "%s: not 128 hex", "sig");
    const char *p = cert_problem(c, 1);
    if (p) return wn_fail(detail, cap, WN_CERT_EFORMAT, "%s", p);
    return WN_CERT_OK;
}

int wn_cert_op_to_json(const wn_cert_op *op, char *out, size_t cap, size_t *len)
{
    if (op_problem(op)) return WN_CERT_EFORMAT;
    char t[25], f[65], to[65], sig[129];
    wn_time_format(t, op->time_ms);
    wn_hex_encode(f, op->from, 32);
    wn_hex_encode(to, op->to, 32);
    wn_hex_encode(sig, op->sig, 64);
    int n;
    if (op->is_retirement)
        n = snprintf(out, cap, "{\"version\":1,\"certificate\":%llu,\"op\":%llu,\"time\":\"%s\",\"volume_l\":%llu,"
                               "\"holder\":\"%s\",\"sig\":\"%s\"}",
                     (unsigned long long)op->cert_index, (unsigned long long)op->op, t,
                     (unsigned long long)op->volume_l, f, sig);
    else
        n = snprintf(out, cap, "{\"version\":1,\"certificate\":%llu,\"op\":%llu,\"time\":\"%s\",\"volume_l\":%llu,"
                               "\"from\":\"%s\",\"to\":\"%s\",\"sig\":\"%s\"}",
                     (unsigned long long)op->cert_index, (unsigned long long)op->op, t,
                     (unsigned long long)op->volume_l, f, to, sig);
    if (n < 0 || (size_t)n >= cap) return WN_CERT_ESPACE;
    if (len) *len = (size_t)n;
    return WN_CERT_OK;
}

int wn_cert_op_from_cjson(wn_cert_op *op, int is_retirement, const void *obj, char *detail, size_t cap)
{
    static const char *const tnames[] = {"version", "certificate", "op", "time", "volume_l", "from", "to", "sig"};
    static const char *const rnames[] = {"version", "certificate", "op", "time", "volume_l", "holder", "sig"};
    const cJSON *it[8];
    const char *bad, *why;
    memset(op, 0, sizeof *op);
    op->is_retirement = is_retirement != 0;
    if (!cJSON_IsObject((const cJSON *)obj)) return wn_fail(detail, cap, WN_CERT_EJSON, "not a JSON object");
    if (wn_json_members(obj, is_retirement ? rnames : tnames, it, is_retirement ? 7 : 8, &bad, &why))
        return wn_fail(detail, cap, WN_CERT_EJSON, "%s: %s", bad, why);
    uint64_t v;
    if (!json_u64(it[0], &v) || v != 1) return fail(detail, cap, "%s: must be 1", "version");
    if (!json_u64(it[1], &op->cert_index)) return fail(detail, cap, "%s: not a ledger index", "certificate");
    if (!json_u64(it[2], &op->op)) return fail(detail, cap, "%s: not an integer", "op");
    if (!json_time(it[3], &op->time_ms)) return fail(detail, cap, "%s: not an RFC 3339 time", "time");
    if (!json_u64(it[4], &op->volume_l)) return fail(detail, cap, "%s: not an integer", "volume_l");
    if (!wn_json_hex(it[5], op->from, 32)) return fail(detail, cap, "%s: not 64 hex", is_retirement ? "holder" : "from");
    if (!is_retirement && !wn_json_hex(it[6], op->to, 32)) return fail(detail, cap, "%s: not 64 hex", "to");
    if (!wn_json_hex(it[is_retirement ? 6 : 7], op->sig, 64)) return fail(detail, cap, "%s: not 128 hex", "sig");
    const char *p = op_problem(op);
    if (p) return wn_fail(detail, cap, WN_CERT_EFORMAT, "%s", p);
    return WN_CERT_OK;
}
