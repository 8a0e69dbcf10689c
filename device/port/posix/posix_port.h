/* posix_port.h — the POSIX port of the meter core (device/core/port.h): a file stands in
 * for flash (NOR rules enforced: a program only clears erased bytes or zeroes a
 * programmed unit; every erase and program is made durable with fdatasync), the clock is
 * CLOCK_REALTIME, entropy is getrandom, SHA-256 is crypto/ (OpenSSL) and the key handle
 * is a software secp256k1 key (BIP-340 or ECDSA) held in memory. Used by the host tests
 * of the core and by anyone who wants the firmware's log on a Linux box. */
#ifndef WN_POSIX_PORT_H
#define WN_POSIX_PORT_H

#include <stdint.h>

#include "device/core/port.h"

typedef struct {
    int fd;
    uint8_t seckey[32];
    uint64_t programs, erases; /* counters */
    long cut_after;            /* >0: the cut_after-th program or erase does half its bytes and fails (a power cut) */
    wn_port port;
    wn_port_signer signer;
} wn_posix_port;

/* Opens (creating, filled with 0xff) the flash file path of page_count pages of
 * page_size bytes, program unit align, with the secret key seckey for algorithm alg
 * (1 BIP-340, 2 ECDSA-secp256k1). Returns: 1 on success (0 with errno, or EINVAL). */
int wn_posix_port_open(wn_posix_port *pp, const char *path, uint32_t page_size, uint32_t page_count, uint32_t align,
                       const uint8_t seckey[32], uint8_t alg);

/* A port with only the hooks receipt verification needs (SHA-256, BIP-340 verification),
 * for wn_core_receipt_verify from code that has no flash or key of the core: the file
 * meter (device/meter_queue.c) checks its receipts through the core with it. */
const wn_port *wn_posix_verify_port(void);

/* Closes the file and wipes the key. */
void wn_posix_port_close(wn_posix_port *pp);

#endif
