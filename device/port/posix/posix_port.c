/* posix_port.c — the meter core's port on a POSIX system: flash in a file (see the
 * header), the system clock and entropy, OpenSSL's SHA-256 and a libsecp256k1 key. */
#include "device/port/posix/posix_port.h"

#include "crypto/sha256.h"
#include "crypto/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int p_read(void *ctx, uint32_t addr, void *buf, uint32_t len)
{
    wn_posix_port *pp = ctx;
    return pread(pp->fd, buf, len, addr) == (ssize_t)len;
}

static int p_erase(void *ctx, uint32_t page)
{
    wn_posix_port *pp = ctx;
    uint8_t ff[512];
    memset(ff, 0xff, sizeof ff);
    uint32_t ps = pp->port.page_size;
    if (page >= pp->port.page_count) return 0;
    if (pp->cut_after > 0 && --pp->cut_after == 0) { /* the power cut: the page's second half erased */
        for (uint32_t o = ps / 2; o < ps; o += sizeof ff)
            (void)!pwrite(pp->fd, ff, ps - o < sizeof ff ? ps - o : sizeof ff, (off_t)page * ps + o);
        (void)fdatasync(pp->fd);
        return 0;
    }
    for (uint32_t o = 0; o < ps; o += sizeof ff) {
        uint32_t n = ps - o < sizeof ff ? ps - o : (uint32_t)sizeof ff;
        if (pwrite(pp->fd, ff, n, (off_t)page * ps + o) != (ssize_t)n) return 0;
    }
    pp->erases++;
    return fdatasync(pp->fd) == 0;
}

static int p_program(void *ctx, uint32_t addr, const void *buf, uint32_t len)
{
    wn_posix_port *pp = ctx;
    const uint8_t *b = buf;
    uint8_t old[512];
    uint32_t a = pp->port.prog_align;
    if (len > sizeof old || addr % a || len % a || addr + len > pp->port.page_size * pp->port.page_count) return 0;
    if (pread(pp->fd, old, len, addr) != (ssize_t)len) return 0;
    for (uint32_t u = 0; u < len; u += a) { /* NOR: erased units, or zeros over a programmed unit */
        int erased = 1, zeros = 1;
        for (uint32_t i = u; i < u + a; i++) { erased &= old[i] == 0xff; zeros &= b[i] == 0; }
        if (!erased && !zeros) { errno = EINVAL; return 0; }
    }
    pp->programs++;
    if (pp->cut_after > 0 && --pp->cut_after == 0) { /* the power cut: half the bytes, no more */
        (void)!pwrite(pp->fd, b, len / 2, addr);
        (void)fdatasync(pp->fd);
        return 0;
    }
    return pwrite(pp->fd, b, len, addr) == (ssize_t)len && fdatasync(pp->fd) == 0;
}

static uint64_t p_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int p_entropy(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    return getrandom(out, n, 0) == (ssize_t)n;
}

static void p_sha256(void *ctx, uint8_t out[32], const wn_port_buf *parts, size_t n)
{
    (void)ctx;
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    for (size_t i = 0; i < n; i++) wn_sha256_update(&c, parts[i].p, parts[i].n);
    wn_sha256_final(&c, out);
}

static int p_verify(void *ctx, const uint8_t sig[64], const uint8_t msg[32], const uint8_t xonly[32])
{
    (void)ctx;
    return wn_schnorr_verify(sig, msg, xonly);
}

static int s_pubkey(void *ctx, uint8_t id[32], uint8_t pub33[33])
{
    wn_posix_port *pp = ctx;
    if (!wn_seckey_pub33(pub33, pp->seckey)) return 0;
    memcpy(id, pub33 + 1, 32);
    if (pp->signer.alg == WN_ALG_BIP340) pub33[0] = 0x02; /* BIP-340: the x-only key's even point (PROTOCOL §5) */
    return 1;
}

static int s_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    wn_posix_port *pp = ctx;
    if (pp->signer.alg == WN_ALG_ECDSA) return wn_ecdsa_sign(sig, pp->seckey, digest);
    return wn_schnorr_sign(sig, pp->seckey, digest, NULL);
}

static int s_verify(void *ctx, const uint8_t digest[32], const uint8_t sig[64])
{
    wn_posix_port *pp = ctx;
    uint8_t id[32], pub33[33];
    if (!s_pubkey(ctx, id, pub33)) return 0;
    if (pp->signer.alg == WN_ALG_ECDSA) return wn_ecdsa_verify(sig, digest, pub33, sizeof pub33);
    return wn_schnorr_verify(sig, digest, id);
}

int wn_posix_port_open(wn_posix_port *pp, const char *path, uint32_t page_size, uint32_t page_count, uint32_t align,
                       const uint8_t seckey[32], uint8_t alg)
{
    memset(pp, 0, sizeof *pp);
    pp->fd = -1;
    if ((alg != WN_ALG_BIP340 && alg != WN_ALG_ECDSA) || !wn_seckey_valid(seckey)) { errno = EINVAL; return 0; }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    struct stat st;
    off_t want = (off_t)page_size * page_count;
    if (fstat(fd, &st) != 0) { close(fd); return 0; }
    if (st.st_size < want) { /* a new flash part is erased */
        uint8_t ff[512];
        memset(ff, 0xff, sizeof ff);
        for (off_t o = st.st_size; o < want; o += (off_t)sizeof ff) {
            size_t n = want - o < (off_t)sizeof ff ? (size_t)(want - o) : sizeof ff;
            if (pwrite(fd, ff, n, o) != (ssize_t)n) { close(fd); return 0; }
        }
        if (fdatasync(fd) != 0) { close(fd); return 0; }
    }
    pp->fd = fd;
    memcpy(pp->seckey, seckey, 32);
    pp->signer = (wn_port_signer){pp, alg, s_pubkey, s_sign, s_verify};
    pp->port = (wn_port){pp, page_size, page_count, align, p_read, p_erase, p_program, p_now, p_entropy,
                         p_sha256, p_verify, &pp->signer};
    return 1;
}

const wn_port *wn_posix_verify_port(void)
{
    static const wn_port verify_only = {.sha256 = p_sha256, .verify_bip340 = p_verify};
    return &verify_only;
}

void wn_posix_port_close(wn_posix_port *pp)
{
    if (pp->fd >= 0) close(pp->fd);
    pp->fd = -1;
    explicit_bzero(pp->seckey, sizeof pp->seckey);
}
