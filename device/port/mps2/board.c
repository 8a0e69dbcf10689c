/* board.c — reset code, vector table, UART, SysTick and semihosting of the mps2-an385
 * firmware (board.h). */
#include "device/port/mps2/board.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

#define PAINT 0xa5a5a5a5u

static void fault(void)
{
    wn_fw_host_exit(0);
}

__attribute__((noreturn)) void wn_fw_reset(void)
{
    uint32_t *s = &_sidata, *d = &_sdata;
    while (d < &_edata) *d++ = *s++;
    for (d = &_sbss; d < &_ebss; d++) *d = 0;
    /* Paint the stack below the current frame so the high-water mark can be measured. */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (d = &_ebss; d < sp - 16; d++) *d = PAINT;
    main();
    wn_fw_host_exit(0);
}

uint32_t wn_fw_stack_size(void) { return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_ebss); }

uint32_t wn_fw_stack_used(void)
{
    const uint32_t *p = &_ebss;
    while (p < &_estack && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (void *)wn_fw_reset, (void *)fault, (void *)fault, (void *)fault, (void *)fault, (void *)fault,
    0, 0, 0, 0, (void *)fault, (void *)fault, 0, (void *)fault, (void *)fault,
};

/* CMSDK APB UART0 */
#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART_BAUDDIV (*(volatile uint32_t *)0x40004010u)

void wn_fw_uart_init(void)
{
    UART_BAUDDIV = 25000000u / 115200u;
    UART_CTRL = 3; /* TX and RX enabled */
}

void wn_fw_uart_put(uint8_t c)
{
    while (UART_STATE & 1u) {}
    UART_DATA = c;
}

int wn_fw_uart_get(uint8_t *c)
{
    if (!(UART_STATE & 2u)) return 0;
    *c = (uint8_t)UART_DATA;
    return 1;
}

/* SysTick */
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)

static uint64_t g_wraps;
static uint32_t g_last;

void wn_fw_ticks_init(void)
{
    SYST_RVR = 0xffffffu;
    SYST_CVR = 0;
    SYST_CSR = 5; /* enabled, core clock, no interrupt */
    g_last = 0xffffffu;
}

uint64_t wn_fw_ticks(void)
{
    uint32_t v = SYST_CVR & 0xffffffu;
    if (v > g_last) g_wraps++; /* counted down through zero and reloaded */
    g_last = v;
    return g_wraps * 0x1000000u + (0xffffffu - v);
}

int wn_fw_semihost(int op, void *args)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int wn_fw_host_open(const char *path, int mode)
{
    size_t n = 0;
    while (path[n]) n++;
    uint32_t a[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)n};
    return wn_fw_semihost(0x01, a);
}

static int host_seek(int fd, uint32_t pos)
{
    uint32_t a[2] = {(uint32_t)fd, pos};
    return wn_fw_semihost(0x0a, a) == 0;
}

int wn_fw_host_read(int fd, uint32_t pos, void *buf, uint32_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    return host_seek(fd, pos) && wn_fw_semihost(0x06, a) == 0;
}

int wn_fw_host_write(int fd, uint32_t pos, const void *buf, uint32_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    return host_seek(fd, pos) && wn_fw_semihost(0x05, a) == 0;
}

void wn_fw_host_exit(int ok)
{
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (QEMU exits 0) or RunTimeErrorUnknown (1) */
    wn_fw_semihost(0x18, (void *)(uintptr_t)(ok ? 0x20026u : 0x20023u));
    for (;;) {}
}
