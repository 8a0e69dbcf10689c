/* reading_json.c — the JSON form of a reading (docs/PROTOCOL.md §2), and the two text
 * codecs it is made of: decimal strings for measured values and RFC 3339 UTC times with
 * milliseconds.
 *
 * The JSON form maps one-to-one onto the binary form, so parsing is strict: every field
 * required, none unknown or repeated, exact JSON types, lowercase hex, canonical decimals
 * and times. Parsing ends with wn_reading_check, so JSON and binary obey the same rules.
 * cJSON hides some lexical detail (1.0 and 1 are the same number to it, "\u0000" cuts a
 * string short), so wn_reading_from_json first scans the raw text for what cJSON would
 * blur. */
#include "protocol/reading.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- decimal strings -------------------------------------------------------------- */

static const uint64_t pow10_table[10] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL,
};

size_t wn_decimal_format(char *out, int64_t value, unsigned scale)
{
    if (scale > WN_READING_MAX_SCALE) { out[0] = '\0'; return 0; }
    /* magnitude without overflow, also for INT64_MIN */
    uint64_t mag = value < 0 ? (uint64_t)(-(value + 1)) + 1 : (uint64_t)value;
    uint64_t ip = mag / pow10_table[scale], fp = mag % pow10_table[scale];
    char digits[24];
    size_t nd = 0, n = 0;
    do { digits[nd++] = (char)('0' + ip % 10); ip /= 10; } while (ip);
    if (value < 0) out[n++] = '-';
    while (nd) out[n++] = digits[--nd];
    if (scale > 0) {
        out[n++] = '.';
        for (unsigned i = scale; i > 0; i--) {
            out[n + i - 1] = (char)('0' + fp % 10);
            fp /= 10;
        }
        n += scale;
    }
    out[n] = '\0';
    return n;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int wn_decimal_parse(const char *s, size_t len, int64_t *value, unsigned *scale)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && s[i] == '-') { neg = 1; i++; }
    size_t int_start = i;
    while (i < len && is_digit(s[i])) i++;
    size_t int_digits = i - int_start;
    if (int_digits == 0) return 0;
    if (int_digits > 1 && s[int_start] == '0') return 0; /* leading zero */
    unsigned sc = 0;
    size_t frac_start = i;
    if (i < len && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < len && is_digit(s[i])) i++;
        if (i - frac_start == 0 || i - frac_start > WN_READING_MAX_SCALE) return 0;
        sc = (unsigned)(i - frac_start);
    }
    if (i != len) return 0;

    /* magnitude of all digits as one integer, refusing anything above 2^63 */
    const uint64_t limit = (uint64_t)INT64_MAX + 1;
    uint64_t mag = 0;
    for (size_t k = int_start; k < len; k++) {
        if (s[k] == '.') continue;
        unsigned d = (unsigned)(s[k] - '0');
        if (mag > (limit - d) / 10) return 0;
        mag = mag * 10 + d;
    }
    if (neg && mag == 0) return 0; /* -0, with any scale */
    if (!neg && mag > (uint64_t)INT64_MAX) return 0;
    *value = neg ? (mag == limit ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    *scale = sc;
    return 1;
}

/* ---- times ------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
 * algorithms, restricted to years >= 1970 so everything stays unsigned). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    y -= m <= 2;
    uint64_t era = y / 400, yoe = y - era * 400;
    uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(uint64_t z, unsigned *y, unsigned *m, unsigned *d)
{
    z += 719468;
    uint64_t era = z / 146097, doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m];
}

/* Writes v as exactly n decimal digits (v < 10^n). */
static void put_digits(char *p, unsigned v, unsigned n)
{
    for (unsigned i = n; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Times above the maximum have no 4-digit year: they are written as a string of the
 * same shape that wn_time_parse rejects, never as something that looks valid. */
void wn_time_format(char out[25], uint64_t time_ms)
{
    if (time_ms > WN_READING_MAX_TIME) {
        memcpy(out, "0000-00-00T00:00:00.000Z", 25);
        return;
    }
    unsigned y, mo, d;
    uint64_t secs = time_ms / 1000, days = secs / 86400, sod = secs % 86400;
    civil_from_days(days, &y, &mo, &d);
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_digits(out, y, 4);
    put_digits(out + 5, mo, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, (unsigned)(sod / 3600), 2);
    put_digits(out + 14, (unsigned)(sod / 60 % 60), 2);
    put_digits(out + 17, (unsigned)(sod % 60), 2);
    put_digits(out + 20, (unsigned)(time_ms % 1000), 3);
}

/* Reads n digits at s; Returns: their value, or -1 if one is not a digit. */
static long digits_at(const char *s, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int wn_time_parse(const char *s, size_t len, uint64_t *time_ms)
{
    if (len != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[23] != 'Z')
        return 0;
    long y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
    long h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), se = digits_at(s + 17, 2);
    long ms = digits_at(s + 20, 3);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 59 || ms < 0)
        return 0;
    if ((unsigned long)d > days_in_month((unsigned)y, (unsigned)mo)) return 0;
    uint64_t days = days_from_civil((unsigned)y, (unsigned)mo, (unsigned)d);
    *time_ms = ((days * 86400 + (uint64_t)(h * 3600 + mi * 60 + se)) * 1000) + (uint64_t)ms;
    return 1;
}

/* ---- writing JSON ----------------------------------------------------------------- */

/* Appends formatted text to a fixed buffer, remembering whether it ever ran out. */
typedef struct {
    char *buf;
    size_t cap, len;
    int full;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *o, const char *fmt, ...)
{
    if (o->full) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) { o->full = 1; return; }
    o->len += (size_t)n;
}

int wn_reading_to_json(const wn_reading *r, char *out, size_t cap, size_t *len)
{
    int err = wn_reading_check(r); /* names below exist only for valid codes */
    if (err) return err;
    if (cap == 0) return WN_READING_ESPACE;
    out_buf o = {out, cap, 0, 0};
    char meter[65], prev[65], sig[129], t[25], val[24];
    wn_hex_encode(meter, r->meter, 32);
    wn_hex_encode(prev, r->prev, 32);
    wn_hex_encode(sig, r->sig, WN_SIG_LEN);
    wn_time_format(t, r->time_ms);
    put(&o, "{\"version\":%u,\"meter\":\"%s\",\"seq\":%llu,\"time\":\"%s\",\"prev\":\"%s\",\"flags\":[",
        (unsigned)r->version, meter, (unsigned long long)r->seq, t, prev);
    const char *sep = "";
    for (unsigned bit = 0; bit < 16; bit++) {
        if (!(r->flags >> bit & 1)) continue;
        put(&o, "%s\"%s\"", sep, wn_flag_name(bit));
        sep = ",";
    }
    put(&o, "],\"measurements\":[");
    for (unsigned i = 0; i < r->count; i++) {
        const wn_measurement *m = &r->m[i];
        wn_decimal_format(val, m->value, m->scale);
        put(&o, "%s{\"quantity\":\"%s\",\"unit\":\"%s\",\"value\":\"%s\"}", i ? "," : "",
            wn_quantity_name(m->quantity), wn_unit_name(m->unit), val);
    }
    put(&o, "],\"alg\":\"%s\",\"sig\":\"%s\"}", wn_alg_name(r->alg), sig);
    if (o.full) { out[0] = '\0'; return WN_READING_ESPACE; }
    if (len) *len = o.len;
    return WN_READING_OK;
}

/* ---- reading JSON ----------------------------------------------------------------- */



/* Returns: 1 and *v if item is a JSON number with an integral value. (Every double of
 * magnitude 2^63 or more is integral; below that, the cast back must give it again.) */
static int json_integer(const cJSON *item, double *v)
{
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (d != d) return 0;
    if (d > -9.2e18 && d < 9.2e18 && d != (double)(int64_t)d) return 0;
    *v = d;
    return 1;
}

static int lookup(const char *s, const char *(*name)(unsigned), unsigned max)
{
    for (unsigned k = 0; k <= max; k++) {
        const char *nm = name(k);
        if (nm && strcmp(nm, s) == 0) return (int)k;
    }
    return -1;
}

static const char *alg_name(unsigned a) { return wn_alg_name(a); }

static int measurement_from_cjson(wn_measurement *m, const cJSON *o, unsigned i, char *detail, size_t cap)
{
    static const char *const names[] = {"quantity", "unit", "value"};
    const cJSON *it[3];
    const char *bad, *why;
    if (!cJSON_IsObject(o)) return wn_fail(detail, cap, WN_READING_EJSON, "measurements[%u]: not an object", i);
    if (wn_json_members(o, names, it, 3, &bad, &why))
        return wn_fail(detail, cap, WN_READING_EJSON, "measurements[%u]: %s '%s'", i, why, bad);
    for (int k = 0; k < 3; k++)
        if (!cJSON_IsString(it[k]))
            return wn_fail(detail, cap, WN_READING_EJSON, "measurements[%u].%s: not a string", i, names[k]);
    int q = lookup(it[0]->valuestring, wn_quantity_name, WN_Q_MAX);
    if (q < 0) return wn_fail(detail, cap, WN_READING_EQUANTITY, "measurements[%u].quantity: unknown quantity", i);
    int u = lookup(it[1]->valuestring, wn_unit_name, WN_U_MAX);
    if (u < 0) return wn_fail(detail, cap, WN_READING_EUNIT, "measurements[%u].unit: unknown unit", i);
    if (!wn_unit_allowed((unsigned)q, (unsigned)u))
        return wn_fail(detail, cap, WN_READING_EUNIT, "measurements[%u].unit: not allowed for %s", i,
                    it[0]->valuestring);
    unsigned scale;
    const char *v = it[2]->valuestring;
    if (!wn_decimal_parse(v, strlen(v), &m->value, &scale))
        return wn_fail(detail, cap, WN_READING_EJSON,
                    "measurements[%u].value: not a canonical decimal string with at most 9 decimals", i);
    m->quantity = (uint8_t)q;
    m->unit = (uint8_t)u;
    m->scale = (uint8_t)scale;
    return WN_READING_OK;
}

int wn_reading_from_cjson(wn_reading *r, const void *cjson_obj, char *detail, size_t cap)
{
    enum { VERSION, METER, SEQ, TIME, PREV, FLAGS, MEAS, ALG, SIG, NFIELDS };
    static const char *const names[NFIELDS] = {"version", "meter", "seq", "time", "prev",
                                               "flags", "measurements", "alg", "sig"};
    const cJSON *obj = cjson_obj, *it[NFIELDS];
    const char *bad, *why;
    double num;
    if (detail && cap) detail[0] = '\0';
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(obj)) return wn_fail(detail, cap, WN_READING_EJSON, "a reading must be a JSON object");
    if (wn_json_members(obj, names, it, NFIELDS, &bad, &why)) return wn_fail(detail, cap, WN_READING_EJSON, "%s '%s'", why, bad);

    if (!json_integer(it[VERSION], &num)) return wn_fail(detail, cap, WN_READING_EJSON, "version: not an integer");
    if (num != WN_READING_VERSION) return wn_fail(detail, cap, WN_READING_EVERSION, "version: must be 1");
    r->version = WN_READING_VERSION;

    if (!wn_json_hex(it[METER], r->meter, 32))
        return wn_fail(detail, cap, WN_READING_EJSON, "meter: not 64 lowercase hex characters");

    if (!json_integer(it[SEQ], &num)) return wn_fail(detail, cap, WN_READING_EJSON, "seq: not a JSON integer");
    /* Integers up to 2^53-1 are exact in a double, and any larger one rounds to at least
     * 2^53, so this range test is exact. */
    if (num < 1 || num > (double)WN_READING_MAX_SEQ)
        return wn_fail(detail, cap, WN_READING_ESEQ, "seq: must be 1 ..= 2^53-1");
    r->seq = (uint64_t)num;

    if (!cJSON_IsString(it[TIME])) return wn_fail(detail, cap, WN_READING_EJSON, "time: not a string");
    if (!wn_time_parse(it[TIME]->valuestring, strlen(it[TIME]->valuestring), &r->time_ms))
        return wn_fail(detail, cap, WN_READING_ETIME, "time: not a valid time of the form 2026-11-23T19:17:38.123Z");

    if (!wn_json_hex(it[PREV], r->prev, 32))
        return wn_fail(detail, cap, WN_READING_EJSON, "prev: not 64 lowercase hex characters");

    if (!cJSON_IsArray(it[FLAGS])) return wn_fail(detail, cap, WN_READING_EJSON, "flags: not an array");
    int last_bit = -1;
    for (const cJSON *f = it[FLAGS]->child; f; f = f->next) {
        if (!cJSON_IsString(f)) return wn_fail(detail, cap, WN_READING_EJSON, "flags: not an array of strings");
        int bit = lookup(f->valuestring, wn_flag_name, 15);
        if (bit < 0) return wn_fail(detail, cap, WN_READING_EFLAGS, "flags: unknown flag");
        if (bit <= last_bit) return wn_fail(detail, cap, WN_READING_EFLAGS, "flags: not in bit order, or repeated");
        r->flags |= (uint16_t)(1u << bit);
        last_bit = bit;
    }

    if (!cJSON_IsArray(it[MEAS])) return wn_fail(detail, cap, WN_READING_EJSON, "measurements: not an array");
    int count = cJSON_GetArraySize(it[MEAS]);
    if (count < 1 || count > WN_READING_MAX_MEAS)
        return wn_fail(detail, cap, WN_READING_ECOUNT, "measurements: must hold 1 ..= 16 measurements");
    unsigned i = 0;
    for (const cJSON *m = it[MEAS]->child; m; m = m->next, i++) {
        int err = measurement_from_cjson(&r->m[i], m, i, detail, cap);
        if (err) return err;
        if (i > 0 && r->m[i].quantity <= r->m[i - 1].quantity)
            return wn_fail(detail, cap, WN_READING_EORDER,
                        "measurements[%u]: quantities must be strictly ascending (volume, flow, ph, "
                        "conductivity, turbidity, pressure, temperature, fluorescence)", i);
    }
    r->count = (uint8_t)count;

    if (!cJSON_IsString(it[ALG])) return wn_fail(detail, cap, WN_READING_EJSON, "alg: not a string");
    int alg = lookup(it[ALG]->valuestring, alg_name, WN_ALG_MAX);
    if (alg < 0) return wn_fail(detail, cap, WN_READING_EALG, "alg: must be \"bip340\", \"ecdsa\", \"p256\" or \"sm2\"");
    r->alg = (uint8_t)alg;

    if (!wn_json_hex(it[SIG], r->sig, WN_SIG_LEN))
        return wn_fail(detail, cap, WN_READING_EJSON, "sig: not 128 lowercase hex characters");

    /* The binary rules, for what the steps above did not already settle. */
    int err = wn_reading_check(r);
    if (err) {
        const char *field = err == WN_READING_EMETER ? "meter" : err == WN_READING_ESEQ ? "seq"
                          : err == WN_READING_ETIME ? "time" : err == WN_READING_EPREV ? "prev"
                          : "reading";
        return wn_fail(detail, cap, err, "%s: %s", field, wn_reading_strerror(err));
    }
    return WN_READING_OK;
}

int wn_reading_from_json(wn_reading *r, const char *text, size_t len, char *detail, size_t cap)
{
    memset(r, 0, sizeof *r);
    if (detail && cap) detail[0] = '\0';
    cJSON *root = wn_json_parse_strict(text, len, detail, cap); /* the JSON integer rule, once */
    if (!root) return WN_READING_EJSON;
    int err = wn_reading_from_cjson(r, root, detail, cap);
    cJSON_Delete(root);
    return err;
}
