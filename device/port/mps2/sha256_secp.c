/* sha256_secp.c — SHA-256 for the firmware from libsecp256k1's own implementation
 * (src/hash_impl.h of the Debian source package the build unpacks), so the image carries
 * one SHA-256 and no other crypto library. Its functions are static in that header, so
 * this file includes it and exports the one hook the port needs. */
#include <secp256k1.h> /* its macros, which the internal headers use */

#include <hash_impl.h> /* libsecp256k1 src/, from the unpacked source package (-I) */

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
