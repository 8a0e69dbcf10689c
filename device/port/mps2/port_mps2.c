/* port_mps2.c — the meter core's port on the mps2-an385 firmware: flash is a host file
 * reached by semihosting, with NOR rules enforced here (a program only fills erased bytes
 * or zeroes a programmed unit) so the core is held to what a real part allows; entropy
 * is the host's /dev/urandom (standing in for a TRNG); SHA-256, BIP-340 signing and
 * verification are libsecp256k1 built for the target, on a context in static memory. The
 * meter key is generated on the device at first start and kept in a key page after the
 * log pages (on a real part: a read-protected flash page, or a secure element). */
#include "device/port/mps2/port_mps2.h"

#include "device/port/mps2/board.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_preallocated.h>
#include <secp256k1_schnorrsig.h>
#include <string.h>

void wn_fw_sha256(void *ctx, uint8_t out[32], const wn_port_buf *parts, size_t n);

#define ALIGN 8
static int g_fd = -1;
static uint32_t g_size;
static secp256k1_context *g_ctx;
static uint64_t g_ctx_mem[(1024) / 8];
static secp256k1_keypair g_kp;
static secp256k1_xonly_pubkey g_xpub;
static wn_port_signer g_signer;

/* libsecp256k1's callbacks (built with USE_EXTERNAL_DEFAULT_CALLBACKS): an illegal
 * argument or an internal error stops the meter. */
void secp256k1_default_illegal_callback_fn(const char *str, void *data);
void secp256k1_default_error_callback_fn(const char *str, void *data);
void secp256k1_default_illegal_callback_fn(const char *str, void *data) { (void)str; (void)data; wn_fw_host_exit(0); }
void secp256k1_default_error_callback_fn(const char *str, void *data) { (void)str; (void)data; wn_fw_host_exit(0); }

static int f_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    (void)ctx;
    return addr + len <= g_size && wn_fw_host_read(g_fd, addr, buf, len);
}

static int f_erase(void *ctx, uint32_t page)
{
    const wn_port *p = ctx;
    uint8_t ff[256];
    memset(ff, 0xff, sizeof ff);
    for (uint32_t o = 0; o < p->page_size; o += sizeof ff)
        if (!wn_fw_host_write(g_fd, page * p->page_size + o, ff, sizeof ff)) return 0;
    return 1;
}

static int f_program(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    (void)ctx;
    const uint8_t *b = buf;
    uint8_t old[ALIGN];
    if (addr % ALIGN || len % ALIGN || addr + len > g_size) return 0;
    for (uint32_t u = 0; u < len; u += ALIGN) {
        int erased = 1, zeros = 1;
        if (!wn_fw_host_read(g_fd, addr + u, old, ALIGN)) return 0;
        for (uint32_t i = 0; i < ALIGN; i++) { erased &= old[i] == 0xff; zeros &= b[u + i] == 0; }
        if (!erased && !zeros) return 0;
    }
    return wn_fw_host_write(g_fd, addr, b, len);
}

static uint64_t g_now;
static uint64_t f_now(void *ctx) { (void)ctx; return g_now; }
void wn_fw_port_set_time(uint64_t ms) { g_now = ms; }

static int f_entropy(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    int fd = wn_fw_host_open("/dev/urandom", 1);
    if (fd < 0) return 0;
    int ok = wn_fw_host_read(fd, 0, out, (uint32_t)n);
    uint32_t a[1] = {(uint32_t)fd};
    wn_fw_semihost(0x02, a);
    return ok;
}

static int f_verify(void *ctx, const uint8_t sig[64], const uint8_t msg[32], const uint8_t xonly[32])
{
    (void)ctx;
    secp256k1_xonly_pubkey pk;
    return secp256k1_xonly_pubkey_parse(g_ctx, &pk, xonly) && secp256k1_schnorrsig_verify(g_ctx, sig, msg, 32, &pk);
}

static int s_pubkey(void *ctx, uint8_t id[32], uint8_t pub33[33])
{
    (void)ctx;
    if (!secp256k1_xonly_pubkey_serialize(g_ctx, id, &g_xpub)) return 0;
    pub33[0] = 0x02; /* BIP-340: the even point of the x-only key */
    memcpy(pub33 + 1, id, 32);
    return 1;
}

static int s_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    uint8_t aux[32];
    if (!f_entropy(ctx, aux, sizeof aux)) return 0;
    return secp256k1_schnorrsig_sign32(g_ctx, sig, digest, &g_kp, aux);
}

static int s_verify(void *ctx, const uint8_t digest[32], const uint8_t sig[64])
{
    (void)ctx;
    return secp256k1_schnorrsig_verify(g_ctx, sig, digest, 32, &g_xpub);
}

/* The key page: "WNK1" || seckey[32] || check4, after the log's pages. */
static int load_key(wn_port *p, uint8_t sk[32])
{
    uint8_t k[40], h[32];
    uint32_t at = p->page_count * p->page_size;
    if (!wn_fw_host_read(g_fd, at, k, sizeof k)) return 0;
    wn_port_buf one = {k, 36};
    wn_fw_sha256(NULL, h, &one, 1);
    if (memcmp(k, "WNK1", 4) == 0 && memcmp(h, k + 36, 4) == 0) {
        memcpy(sk, k + 4, 32);
        return secp256k1_ec_seckey_verify(g_ctx, sk);
    }
    do { /* first start: a new key from the entropy source */
        if (!f_entropy(p, sk, 32)) return 0;
    } while (!secp256k1_ec_seckey_verify(g_ctx, sk));
    memcpy(k, "WNK1", 4);
    memcpy(k + 4, sk, 32);
    wn_fw_sha256(NULL, h, &one, 1);
    memcpy(k + 36, h, 4);
    return f_erase(p, p->page_count) && f_program(p, at, k, sizeof k);
}

int wn_fw_port_init(wn_port *p, const char *flash_path, uint32_t pages, uint32_t page_size)
{
    uint8_t sk[32], seed[32];
    g_size = (pages + 1) * page_size; /* the log's pages and the key page */
    g_fd = wn_fw_host_open(flash_path, 3); /* r+b */
    if (g_fd < 0) { /* a new part: created and erased */
        uint8_t ff[256];
        memset(ff, 0xff, sizeof ff);
        if ((g_fd = wn_fw_host_open(flash_path, 7)) < 0) return 0; /* w+b */
        for (uint32_t o = 0; o < g_size; o += sizeof ff)
            if (!wn_fw_host_write(g_fd, o, ff, sizeof ff)) return 0;
    }
    size_t need = secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE);
    if (need > sizeof g_ctx_mem) return 0;
    g_ctx = secp256k1_context_preallocated_create(g_ctx_mem, SECP256K1_CONTEXT_NONE);
    *p = (wn_port){p, page_size, pages, ALIGN, f_read, f_erase, f_program, f_now, f_entropy,
                   wn_fw_sha256, f_verify, &g_signer};
    if (!f_entropy(p, seed, 32) || !secp256k1_context_randomize(g_ctx, seed)) return 0;
    if (!load_key(p, sk) || !secp256k1_keypair_create(g_ctx, &g_kp, sk) ||
        !secp256k1_keypair_xonly_pub(g_ctx, &g_xpub, NULL, &g_kp))
        return 0;
    memset(sk, 0, sizeof sk);
    g_signer = (wn_port_signer){p, 1, s_pubkey, s_sign, s_verify};
    return 1;
}
