/* board.h — the firmware's view of QEMU's mps2-an385 (Cortex-M3, 25 MHz): the CMSDK
 * UART0 at 0x40004000 (QEMU's first -serial), SysTick as a cycle counter, ARM
 * semihosting (the host's files stand in for the part's flash and its TRNG: see
 * docs/FIRMWARE.md), and the provisioning block a meter maker writes at commissioning
 * (here QEMU's -device loader puts it at WN_FW_PROV_ADDR). */
#ifndef WN_FW_BOARD_H
#define WN_FW_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define WN_FW_PROV_ADDR 0x003ff000u

/* The provisioning block: big-endian fields. */
typedef struct {
    char magic[4];          /* "WNP1" */
    uint8_t notary[32];     /* the notary's x-only key: receipts must verify with it */
    uint8_t target[4];      /* readings to make in all (then the firmware stops QEMU) */
    uint8_t pages[4];       /* flash log pages (2 .. 64) */
    uint8_t page_size[4];   /* bytes per page */
    char flash_path[200];   /* the host file that holds the emulated flash (semihosting) */
} wn_fw_prov;

void wn_fw_uart_init(void);
void wn_fw_uart_put(uint8_t c);
int wn_fw_uart_get(uint8_t *c); /* 1 if a byte was waiting */

/* SysTick: a 24-bit down-counter at the core clock. wn_fw_ticks() counts up (wraps are
 * accumulated by polling, which the firmware does often enough). */
void wn_fw_ticks_init(void);
uint64_t wn_fw_ticks(void);

/* Semihosting (ARM DUI 0471): returns r0. */
int wn_fw_semihost(int op, void *args);
int wn_fw_host_open(const char *path, int mode); /* -1 on failure */
int wn_fw_host_read(int fd, uint32_t pos, void *buf, uint32_t len);   /* 1 if all read */
int wn_fw_host_write(int fd, uint32_t pos, const void *buf, uint32_t len); /* 1 if all written */
void wn_fw_host_exit(int ok) __attribute__((noreturn));

/* Stack high-water: bytes of the stack ever used (the reset code paints it). */
uint32_t wn_fw_stack_used(void);
uint32_t wn_fw_stack_size(void);

#endif
