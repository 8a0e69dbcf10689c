/* core_int.h — internal to device/core/: byte order helpers, hashing through the port
 * and the record types of the flash log. The core uses the compiler's built-in memcpy,
 * memset and memcmp (which a freestanding C toolchain provides) and no other library. */
#ifndef WN_CORE_INT_H
#define WN_CORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "device/core/core.h"

#define wn_core_memcpy __builtin_memcpy
#define wn_core_memset __builtin_memset
#define wn_core_memcmp __builtin_memcmp

static inline void wn_core_put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}
static inline uint64_t wn_core_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
static inline void wn_core_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t wn_core_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* tagged_hash(tag, msg) of PROTOCOL §1, with SHA-256 from the port. */
void wn_core_tagged_hash(const wn_port *port, uint8_t out[32], const char *tag, const uint8_t *msg, size_t len);


/* The cumulative volume a reading carries. Returns: 1 and fills the fields, or 0 (none). */
int wn_core_reading_volume(const uint8_t *r, size_t len, int64_t *value, uint8_t *unit, uint8_t *scale);

/* Log record types (docs/FIRMWARE.md). */
enum { WN_CORE_REC_READING = 1, WN_CORE_REC_STATE = 2, WN_CORE_REC_ACK = 3 };
#define WN_CORE_STATE_LEN 67  /* last_seq 8, last_time 8, prev 32, have_volume 1, unit 1, scale 1, volume 8, acked 8 */
#define WN_CORE_ACK_LEN 16    /* seq 8, ledger index 8 */

#endif
