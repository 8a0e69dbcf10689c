/* keyfile.c — reading and writing secret key files safely (0600, O_EXCL, fsync). */
#include "crypto/keyfile.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wn_keyfile_write(const char *path, const uint8_t seckey[WN_SECKEY_LEN])
{
    char text[2 * WN_SECKEY_LEN + 2];
    wn_hex_encode(text, seckey, WN_SECKEY_LEN);
    text[2 * WN_SECKEY_LEN] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    ssize_t w = write(fd, text, sizeof text - 1);
    int ok = w == (ssize_t)(sizeof text - 1) && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    memset(text, 0, sizeof text);
    if (!ok) { unlink(path); errno = saved ? saved : EIO; }
    return ok;
}

int wn_keyfile_create(const char *path, uint8_t seckey[WN_SECKEY_LEN], uint8_t xonly[WN_XONLY_LEN])
{
    uint8_t sk[WN_SECKEY_LEN];
    if (!wn_seckey_generate(sk)) { errno = EIO; return 0; }
    if (!wn_keyfile_write(path, sk)) return 0;
    if (xonly && !wn_seckey_xonly(xonly, sk)) return 0;
    if (seckey) memcpy(seckey, sk, WN_SECKEY_LEN);
    memset(sk, 0, sizeof sk);
    return 1;
}

int wn_keyfile_read(const char *path, uint8_t seckey[WN_SECKEY_LEN])
{
    char text[2 * WN_SECKEY_LEN + 4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return 0;
    }
    if (S_ISREG(st.st_mode) && (st.st_mode & 077)) { /* a secret others may read or replace */
        close(fd);
        errno = EPERM;
        return 0;
    }
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 2 * WN_SECKEY_LEN) { errno = EINVAL; return 0; }
    size_t len = (size_t)n;
    if (text[len - 1] == '\n') len--;
    int ok = wn_hex_decode(seckey, WN_SECKEY_LEN, text, len) && wn_seckey_valid(seckey);
    memset(text, 0, sizeof text);
    if (!ok) errno = EINVAL;
    return ok;
}

const char *wn_keyfile_strerror(int err)
{
    switch (err) {
    case EPERM: return "its mode gives group or others access (a secret key must be mode 0600: run chmod 600 on it)";
    case EINVAL: return "malformed (it must hold 64 lowercase hex characters and a newline)";
    case ENOENT: return "it does not exist";
    default: return strerror(err);
    }
}
