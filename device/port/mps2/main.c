/* main.c — the meter firmware for QEMU's mps2-an385: a simulated flow sensor read into
 * signed readings by the meter core, each pushed over UART0 to the host bridge
 * (`wn-meter bridge`), which sends it to a notary node and returns the receipt; the
 * device verifies every receipt before the reading's place in its flash log may be
 * reused. After a restart (power cut) it sends what is still unacknowledged first.
 *
 * UART frames, one per line: a type letter, the payload in hex, '*', the CRC-32 of the
 * payload in 8 hex digits, '\n'. Device to bridge: H hello (alg || id || pub33), Q time
 * request, R reading, S status text. Bridge to device: T time (u64 ms), A receipt (u64 seq
 * || receipt), N rejected (u64 seq || reason text), E the node is unreachable. A frame
 * that fails its CRC is dropped; the device repeats its request after a timeout. */
#include "device/core/core.h"
#include "device/port/mps2/board.h"
#include "device/port/mps2/port_mps2.h"

#include <string.h>

#define LINE_MAX_ (2 * (9 + WN_CORE_RECEIPT_MAX) + 16)
#define TIMEOUT_TICKS (3ull * 25000000ull) /* 3 s of the 25 MHz core clock */

static wn_core_meter g_m;
static wn_port g_port;
static char g_line[LINE_MAX_];
static uint8_t g_payload[9 + WN_CORE_RECEIPT_MAX];
static const wn_fw_prov *g_prov = (const wn_fw_prov *)WN_FW_PROV_ADDR;

/* statistics for the figures */
static uint64_t g_sign_min = ~0ull, g_sign_max, g_read_max, g_verify_min = ~0ull, g_verify_max, g_ack_max;
static uint32_t g_acked, g_refused;

static uint32_t crc32(const uint8_t *b, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void put_hex(const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) { wn_fw_uart_put((uint8_t)hx[b[i] >> 4]); wn_fw_uart_put((uint8_t)hx[b[i] & 15]); }
}

static void send_frame(char type, const uint8_t *b, size_t n)
{
    uint8_t c[4];
    uint32_t v = crc32(b, n);
    c[0] = (uint8_t)(v >> 24); c[1] = (uint8_t)(v >> 16); c[2] = (uint8_t)(v >> 8); c[3] = (uint8_t)v;
    wn_fw_uart_put((uint8_t)type);
    put_hex(b, n);
    wn_fw_uart_put('*');
    put_hex(c, 4);
    wn_fw_uart_put('\n');
}

/* A status line for the host: S frames carry text. */
static char g_text[200];
static size_t g_tlen;
static void t_str(const char *s) { while (*s && g_tlen < sizeof g_text) g_text[g_tlen++] = *s++; }
static void t_u64(uint64_t v)
{
    char b[21];
    int i = 20;
    b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    t_str(b + i);
}
static void t_send(void) { send_frame('S', (const uint8_t *)g_text, g_tlen); g_tlen = 0; }

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Waits for a frame until the timeout. Returns its type (0: timeout); *n payload bytes. */
static char recv_frame(size_t *n)
{
    uint64_t start = wn_fw_ticks();
    size_t len = 0;
    while (wn_fw_ticks() - start < TIMEOUT_TICKS) {
        uint8_t c;
        if (!wn_fw_uart_get(&c)) continue;
        if (c != '\n') {
            if (len < sizeof g_line) g_line[len++] = (char)c;
            continue;
        }
        /* T hex * crc8 */
        size_t l = len;
        len = 0;
        if (l < 10 || g_line[l - 9] != '*' || (l - 10) % 2) continue;
        size_t pn = (l - 10) / 2;
        int bad = 0;
        for (size_t i = 0; i < pn; i++) {
            int a = unhex(g_line[1 + 2 * i]), b = unhex(g_line[2 + 2 * i]);
            if (a < 0 || b < 0) { bad = 1; break; }
            g_payload[i] = (uint8_t)(a << 4 | b);
        }
        uint8_t cb[4];
        for (size_t i = 0; i < 4 && !bad; i++) {
            int a = unhex(g_line[l - 8 + 2 * i]), b = unhex(g_line[l - 7 + 2 * i]);
            if (a < 0 || b < 0) bad = 1;
            else cb[i] = (uint8_t)(a << 4 | b);
        }
        if (bad || get32(cb) != crc32(g_payload, pn)) continue; /* damaged: dropped */
        *n = pn;
        return g_line[0];
    }
    return 0;
}

static void ask_time(void)
{
    for (int tries = 0; tries < 3; tries++) {
        size_t n;
        send_frame('Q', NULL, 0);
        char t = recv_frame(&n);
        if (t == 'T' && n == 8) { wn_fw_port_set_time(get64(g_payload)); return; }
    }
}

/* Sends reading seq and handles the bridge's answer. Returns: 1 acknowledged, 0 not
 * (retry later), -1 rejected by the node (the meter stops). */
static int push_one(const uint8_t *r, size_t len, uint64_t seq)
{
    size_t n;
    send_frame('R', r, len);
    char t = recv_frame(&n);
    if (t == 'N' && n >= 8 && get64(g_payload) == seq) {
        t_str("rejected seq="); t_u64(seq); t_send();
        return -1;
    }
    if (t != 'A' || n < 9 || get64(g_payload) != seq) return 0;
    const uint8_t *rc = g_payload + 8;
    size_t rl = n - 8;
    /* the receipt check alone, for the figures; then the acknowledgement */
    uint64_t t0, dt, index;
    t0 = wn_fw_ticks();
    int v = wn_core_receipt_verify_reading(&g_port, rc, rl, g_prov->notary, r, len, NULL);
    dt = wn_fw_ticks() - t0;
    if (dt < g_verify_min) g_verify_min = dt;
    if (dt > g_verify_max) g_verify_max = dt;
    t0 = wn_fw_ticks();
    int err = wn_core_ack(&g_m, seq, rc, rl, g_prov->notary, &index);
    dt = wn_fw_ticks() - t0;
    if (dt > g_ack_max) g_ack_max = dt;
    if (err != WN_CORE_OK || v != WN_CORE_OK) {
        g_refused++;
        t_str("refused seq="); t_u64(seq); t_str(" "); t_str(wn_core_strerror(err)); t_send();
        if (err == WN_CORE_EFLASH || err == WN_CORE_EFAILED) wn_fw_host_exit(0);
        return 0;
    }
    g_acked++;
    t_str("acked seq="); t_u64(seq); t_str(" index="); t_u64(index); t_str(" verify_ticks="); t_u64(dt); t_send();
    return 1;
}

/* Sends every unacknowledged reading, oldest first. Returns: 0 all acked, 1 some left, -1 stop. */
static int flush(void)
{
    uint8_t r[WN_CORE_READING_MAX];
    size_t len;
    uint64_t seq;
    for (int rounds = 0; rounds < 64; rounds++) {
        int err = wn_core_next_pending(&g_m, 0, r, &len, &seq);
        if (err == WN_CORE_END) return 0;
        if (err) { t_str("log: "); t_str(wn_core_strerror(err)); t_send(); return -1; }
        int k = push_one(r, len, seq);
        if (k < 0) return -1;
    }
    return 1;
}

/* The simulated flow sensor: a pulse counter (1 pulse = 1 L) that advances by a
 * pseudo-random 20..120 pulses per reading; the flow rate is derived from it. */
static uint64_t g_rng;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13; g_rng ^= g_rng >> 7; g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

static void calibrate(void)
{
    /* 2 instructions per iteration (subs, bne): ticks per 2,000,000 instructions */
    uint64_t t0 = wn_fw_ticks();
    uint32_t n = 1000000;
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
    uint64_t dt = wn_fw_ticks() - t0;
    t_str("calibrate insns=2000000 ticks="); t_u64(dt); t_send();
}

int main(void)
{
    wn_fw_uart_init();
    wn_fw_ticks_init();
    if (memcmp(g_prov->magic, "WNP1", 4) != 0) { t_str("no provisioning block"); t_send(); wn_fw_host_exit(0); }
    uint32_t target = get32(g_prov->target), pages = get32(g_prov->pages), psize = get32(g_prov->page_size);
    if (!wn_fw_port_init(&g_port, g_prov->flash_path, pages, psize)) { t_str("port init failed"); t_send(); wn_fw_host_exit(0); }
    int err = wn_core_open(&g_m, &g_port);
    if (err) { t_str("open: "); t_str(wn_core_strerror(err)); t_send(); wn_fw_host_exit(0); }
    wn_core_counts c;
    wn_core_get_counts(&g_m, &c);
    t_str("boot last_seq="); t_u64(c.last_seq); t_str(" acked="); t_u64(c.acked); t_str(" torn=");
    t_u64(c.torn_records); t_str(" pages_used="); t_u64(c.pages_used); t_send();
    calibrate();
    uint8_t hello[66];
    hello[0] = g_m.alg;
    memcpy(hello + 1, g_m.id, 32);
    memcpy(hello + 33, g_m.pub33, 33);
    send_frame('H', hello, sizeof hello);
    (void)g_port.entropy(g_port.ctx, (uint8_t *)&g_rng, sizeof g_rng);
    g_rng |= 1;
    uint16_t flags = c.last_seq ? 0x04 : 0; /* power_loss: this start followed a power cut or reset */

    for (;;) {
        int f = flush();
        if (f < 0) wn_fw_host_exit(0);
        wn_core_get_counts(&g_m, &c);
        if (c.last_seq >= target) {
            if (f == 0 && c.acked == c.last_seq) break;
            continue;
        }
        ask_time();
        uint64_t now = g_port.now_ms(g_port.ctx);
        uint16_t fl = flags;
        if (now == 0) fl |= 0x10; /* clock_unsync */
        if (now < c.last_time) now = c.last_time;
        uint32_t pulses = 20 + rnd() % 101;
        int64_t vol = (c.have_volume ? c.last_volume : 0) + pulses;
        wn_core_meas ms[2] = {{1, 2, 0, vol}, {2, 3, 3, (int64_t)pulses * 36}}; /* L; m3/h over 100 s */
        uint8_t r[WN_CORE_READING_MAX];
        size_t len;
        uint64_t seq, t0 = wn_fw_ticks();
        err = wn_core_read(&g_m, now, fl, ms, 2, r, &len, &seq);
        uint64_t dt = wn_fw_ticks() - t0;
        if (err == WN_CORE_EFULL) continue; /* wait for receipts to free a page */
        if (err) { t_str("read: "); t_str(wn_core_strerror(err)); t_send(); wn_fw_host_exit(0); }
        flags = 0;
        if (dt > g_read_max) g_read_max = dt;
        t_str("made seq="); t_u64(seq); t_str(" ticks="); t_u64(dt); t_send();
    }
    /* the signature alone, for the figures */
    uint8_t d[32], sig[64];
    memset(d, 0x5a, sizeof d);
    for (int i = 0; i < 3; i++) {
        uint64_t t0 = wn_fw_ticks();
        if (!g_port.signer->sign(g_port.signer->ctx, d, sig)) break;
        uint64_t dt = wn_fw_ticks() - t0;
        if (dt < g_sign_min) g_sign_min = dt;
        if (dt > g_sign_max) g_sign_max = dt;
    }
    wn_core_get_counts(&g_m, &c);
    t_str("done last_seq="); t_u64(c.last_seq); t_str(" acked="); t_u64(c.acked); t_str(" refused="); t_u64(g_refused);
    t_str(" pages_used="); t_u64(c.pages_used); t_send();
    t_str("figures sign_ticks="); t_u64(g_sign_min); t_str(" verify_ticks="); t_u64(g_verify_min);
    t_str(" read_ticks_max="); t_u64(g_read_max); t_str(" ack_ticks_max="); t_u64(g_ack_max);
    t_str(" stack_used="); t_u64(wn_fw_stack_used()); t_str(" stack_size="); t_u64(wn_fw_stack_size()); t_send();
    (void)g_sign_max; (void)g_verify_max; (void)g_acked;
    wn_fw_host_exit(1);
}
