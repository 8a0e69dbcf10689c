/* registers.h — turning Modbus registers into exact decimal values: the data types that
 * flowmeters use for their registers (u16, u32, i32, float32, float64, BCD), in any word
 * and byte order, read as an integer count of 10^-decimals units (a reading's value and
 * scale, PROTOCOL §2). Pure functions, no I/O. */
#ifndef WN_GATEWAY_REGISTERS_H
#define WN_GATEWAY_REGISTERS_H

#include <stddef.h>
#include <stdint.h>

enum wn_reg_type { WN_REG_U16 = 1, WN_REG_U32, WN_REG_I32, WN_REG_F32, WN_REG_F64, WN_REG_BCD16, WN_REG_BCD32 };

/* Word order: which register holds the most significant 16 bits. Byte order: whether the
 * two bytes inside each register are swapped (a register is big-endian on the wire). The
 * four common layouts of a 32-bit value with bytes A (most significant) to D:
 * ABCD = words big, bytes big; CDAB = words little, bytes big; BADC = words big, bytes
 * swapped; DCBA = words little, bytes swapped. */
enum wn_reg_words { WN_WORDS_BIG = 0, WN_WORDS_LITTLE };
enum wn_reg_bytes { WN_BYTES_BIG = 0, WN_BYTES_SWAPPED };

enum wn_reg_err {
    WN_REG_OK = 0,
    WN_REG_ETYPE,     /* unknown type */
    WN_REG_EBCD,      /* a nibble above 9 in a BCD register */
    WN_REG_ENAN,      /* a float register holds NaN or an infinity */
    WN_REG_ERANGE,    /* the value times 10^decimals does not fit a signed 64-bit integer */
    WN_REG_EDECIMALS  /* decimals outside 0..9 */
};
const char *wn_reg_strerror(int err);

/* The type's name in profiles ("u16", "u32", "i32", "float32", "float64", "bcd16",
 * "bcd32") and back (0 if unknown). */
const char *wn_reg_type_name(int type);
int wn_reg_type_from_name(const char *name);

/* Registers the type spans: 1, 2 or 4 (0 for an unknown type). */
unsigned wn_reg_count(int type);

/* Bits of the type's raw counter for wrap-around (16 or 32 for u16/u32/bcd16/bcd32 — a
 * BCD counter wraps at 10^4 or 10^8, see wn_reg_modulus); 0 for types that do not wrap. */
uint64_t wn_reg_modulus(int type);

/* Decodes regs[0 .. wn_reg_count(type)) as read from the device.
 * Integer and BCD types: *value = the integer read (the register counts 10^-decimals
 * units), *raw the same as unsigned. Floats: *value = the float × 10^decimals rounded to
 * the nearest integer (ties away from zero), *raw = 0.
 * Returns: WN_REG_OK or an error (nothing written). */
int wn_reg_decode(const uint16_t *regs, int type, int words, int bytes, unsigned decimals, int64_t *value,
                  uint64_t *raw);

#endif
