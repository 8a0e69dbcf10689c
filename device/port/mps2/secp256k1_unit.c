/* secp256k1_unit.c — libsecp256k1 for the firmware, compiled as one unit (its src/secp256k1.c,
 * from the Debian source package the build unpacks), together with the SHA-256 hook of
 * the port: the hook uses libsecp256k1's own SHA-256 (static functions of that unit), so
 * the image carries one SHA-256 and no other crypto library. */
#include <secp256k1.c> /* libsecp256k1 src/, from the unpacked source package (-I) */

#include "device/core/port.h"

void wn_fw_sha256(void *ctx, uint8_t out[32], const wn_port_buf *parts, size_t n);

void wn_fw_sha256(void *ctx, uint8_t out[32], const wn_port_buf *parts, size_t n)
{
    secp256k1_sha256 h;
    (void)ctx;
    secp256k1_sha256_initialize(&h);
    for (size_t i = 0; i < n; i++) secp256k1_sha256_write(&h, parts[i].p, parts[i].n);
    secp256k1_sha256_finalize(&h, out);
}
