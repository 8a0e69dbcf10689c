/* profile.h — a device profile: how one flowmeter model lays out its Modbus registers
 * (docs/GATEWAY.md). A small JSON file per model names, for each quantity the gateway
 * reads (totaliser, flow rate, pressure, temperature, ...), its register address, function
 * code, data type, word and byte order, decimals and unit, and maps the model's status
 * bits onto reading flags. Profiles ship in profiles/modbus/. */
#ifndef WN_GATEWAY_PROFILE_H
#define WN_GATEWAY_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"

#define WN_PROFILE_FORMAT "waternotary/modbus-profile@v1"
#define WN_PROFILE_MAX_QUANTITIES 8
#define WN_PROFILE_MODEL_MAX 128

typedef struct {
    uint8_t quantity;     /* enum wn_quantity */
    uint8_t unit;         /* enum wn_unit */
    uint8_t decimals;     /* the reading's scale: the register counts 10^-decimals units */
    uint8_t function;     /* 3 read holding registers, 4 read input registers */
    uint16_t address;     /* first register (0-based protocol address) */
    int type;             /* enum wn_reg_type */
    int words, bytes;     /* enum wn_reg_words, wn_reg_bytes */
    int wraps;            /* a totaliser counter that wraps (integer and BCD types only) */
} wn_profile_quantity;

typedef struct {
    char model[WN_PROFILE_MODEL_MAX + 1];
    size_t n;
    wn_profile_quantity q[WN_PROFILE_MAX_QUANTITIES]; /* distinct quantities */
    int has_status;
    uint8_t status_function;
    uint16_t status_address;
    uint16_t status_flags[16]; /* status bit i -> WN_FLAG_* bits set when it is 1 */
    uint16_t fault_bits;       /* status bits that mean the values are not to be trusted */
} wn_profile;

/* Parses a profile from JSON text. Every member is checked; unknown members are errors.
 * Returns: 1, or 0 with a sentence in err naming the member at fault. */
int wn_profile_parse(wn_profile *p, const char *json, size_t len, char *err, size_t errcap);

/* Reads and parses the file at path. Returns: 1, or 0 with err. */
int wn_profile_load(wn_profile *p, const char *path, char *err, size_t errcap);

#endif
