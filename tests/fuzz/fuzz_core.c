/* fuzz_core.c — libFuzzer target for the freestanding meter core's two parsers of bytes
 * it does not control: receipts from the host bridge (wn_core_receipt_verify) and the
 * flash log read back at start (wn_core_open, then every pending reading and an
 * acknowledgement attempt), with the flash image taken from the input.
 * fuzz-sources: device/core/log.c device/core/reading.c device/core/receipt.c */
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "device/core/core.h"

#include <stdint.h>
#include <string.h>

#define PS 512
#define PN 4
static uint8_t g_flash[PS * PN];
static uint8_t g_sk[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

static int f_read(void *c, uint32_t a, void *b, uint32_t n) { (void)c; if (a + n > sizeof g_flash) return 0; memcpy(b, g_flash + a, n); return 1; }
static int f_erase(void *c, uint32_t p) { (void)c; if (p >= PN) return 0; memset(g_flash + p * PS, 0xff, PS); return 1; }
static int f_prog(void *c, uint32_t a, const void *b, uint32_t n) { (void)c; if (a + n > sizeof g_flash) return 0; memcpy(g_flash + a, b, n); return 1; }
static uint64_t f_now(void *c) { (void)c; return 0; }
static int f_ent(void *c, uint8_t *o, size_t n) { (void)c; memset(o, 1, n); return 1; }
static void f_sha(void *c, uint8_t out[32], const wn_port_buf *p, size_t n)
{
    (void)c;
    wn_sha256_ctx h;
    wn_sha256_init(&h);
    for (size_t i = 0; i < n; i++) wn_sha256_update(&h, p[i].p, p[i].n);
    wn_sha256_final(&h, out);
}
static int f_ver(void *c, const uint8_t s[64], const uint8_t m[32], const uint8_t x[32]) { (void)c; return wn_schnorr_verify(s, m, x); }
static int s_pub(void *c, uint8_t id[32], uint8_t pub33[33])
{
    (void)c;
    if (!wn_seckey_xonly(id, g_sk)) return 0;
    pub33[0] = 2;
    memcpy(pub33 + 1, id, 32);
    return 1;
}
static int s_sign(void *c, const uint8_t d[32], uint8_t sig[64]) { (void)c; return wn_schnorr_sign(sig, g_sk, d, g_sk); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const wn_port_signer signer = {NULL, 1, s_pub, s_sign, NULL};
    static const wn_port port = {NULL, PS, PN, 8, f_read, f_erase, f_prog, f_now, f_ent, f_sha, f_ver, &signer};
    static const uint8_t notary[32] = {0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
                                       0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98};
    if (size < 1) return 0;
    if (data[0] & 1) {
        uint8_t leaf[32] = {0};
        uint64_t idx;
        (void)wn_core_receipt_verify(&port, data + 1, size - 1, notary, leaf, &idx);
        return 0;
    }
    memset(g_flash, 0xff, sizeof g_flash);
    memcpy(g_flash, data + 1, size - 1 < sizeof g_flash ? size - 1 : sizeof g_flash);
    wn_core_meter m;
    if (wn_core_open(&m, &port) != WN_CORE_OK) return 0;
    uint8_t r[WN_CORE_READING_MAX];
    size_t len;
    uint64_t seq = 0;
    for (int i = 0; i < 64 && wn_core_next_pending(&m, seq, r, &len, &seq) == WN_CORE_OK; i++)
        (void)wn_core_ack(&m, seq, data, size, notary, NULL);
    wn_core_meas ms[1] = {{1, 1, 0, 5}};
    (void)wn_core_read(&m, 1, 0, ms, 1, NULL, NULL, NULL);
    return 0;
}
