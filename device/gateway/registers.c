/* registers.c — Modbus register data types to exact decimal values (registers.h). */
#include "device/gateway/registers.h"

#include <math.h>
#include <string.h>

static const char *const type_names[] = {NULL, "u16", "u32", "i32", "float32", "float64", "bcd16", "bcd32"};

const char *wn_reg_strerror(int err)
{
    switch (err) {
    case WN_REG_OK: return "ok";
    case WN_REG_ETYPE: return "unknown register type";
    case WN_REG_EBCD: return "a BCD register holds a nibble above 9";
    case WN_REG_ENAN: return "a float register holds NaN or an infinity";
    case WN_REG_ERANGE: return "the value does not fit a signed 64-bit count of its decimals";
    case WN_REG_EDECIMALS: return "decimals must be 0..9";
    default: return "unknown error";
    }
}

const char *wn_reg_type_name(int type)
{
    return type >= WN_REG_U16 && type <= WN_REG_BCD32 ? type_names[type] : NULL;
}

int wn_reg_type_from_name(const char *name)
{
    for (int t = WN_REG_U16; t <= WN_REG_BCD32; t++)
        if (strcmp(type_names[t], name) == 0) return t;
    return 0;
}

unsigned wn_reg_count(int type)
{
    switch (type) {
    case WN_REG_U16: case WN_REG_BCD16: return 1;
    case WN_REG_U32: case WN_REG_I32: case WN_REG_F32: case WN_REG_BCD32: return 2;
    case WN_REG_F64: return 4;
    default: return 0;
    }
}

uint64_t wn_reg_modulus(int type)
{
    switch (type) {
    case WN_REG_U16: return 1ULL << 16;
    case WN_REG_U32: return 1ULL << 32;
    case WN_REG_BCD16: return 10000ULL;
    case WN_REG_BCD32: return 100000000ULL;
    default: return 0;
    }
}

/* The n registers as one big-endian unsigned integer after undoing word and byte order. */
static uint64_t assemble(const uint16_t *regs, unsigned n, int words, int bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint16_t r = regs[words == WN_WORDS_LITTLE ? n - 1 - i : i];
        if (bytes == WN_BYTES_SWAPPED) r = (uint16_t)((r << 8) | (r >> 8));
        v = (v << 16) | r;
    }
    return v;
}

static int bcd(uint64_t v, unsigned digits, uint64_t *out)
{
    uint64_t r = 0;
    for (int i = (int)digits - 1; i >= 0; i--) {
        unsigned d = (unsigned)(v >> (4 * i)) & 0xf;
        if (d > 9) return 0;
        r = r * 10 + d;
    }
    *out = r;
    return 1;
}

static int round_scaled(double f, unsigned decimals, int64_t *value)
{
    if (!isfinite(f)) return WN_REG_ENAN;
    double s = f * pow(10.0, (double)decimals);
    double r = s < 0 ? -floor(-s + 0.5) : floor(s + 0.5);
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return WN_REG_ERANGE;
    *value = (int64_t)r;
    return WN_REG_OK;
}

int wn_reg_decode(const uint16_t *regs, int type, int words, int bytes, unsigned decimals, int64_t *value,
                  uint64_t *raw)
{
    unsigned n = wn_reg_count(type);
    if (!n) return WN_REG_ETYPE;
    if (decimals > 9) return WN_REG_EDECIMALS;
    uint64_t v = assemble(regs, n, words, bytes), r;
    switch (type) {
    case WN_REG_U16:
    case WN_REG_U32:
        *value = (int64_t)v;
        *raw = v;
        return WN_REG_OK;
    case WN_REG_I32:
        *value = (int64_t)(int32_t)(uint32_t)v;
        *raw = v;
        return WN_REG_OK;
    case WN_REG_BCD16:
    case WN_REG_BCD32:
        if (!bcd(v, 4 * n, &r)) return WN_REG_EBCD;
        *value = (int64_t)r;
        *raw = r;
        return WN_REG_OK;
    case WN_REG_F32: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        *raw = 0;
        return round_scaled((double)f, decimals, value);
    }
    case WN_REG_F64: {
        double d;
        memcpy(&d, &v, sizeof d);
        *raw = 0;
        return round_scaled(d, decimals, value);
    }
    default: return WN_REG_ETYPE;
    }
}
