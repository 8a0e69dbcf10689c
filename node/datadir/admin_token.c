/* admin_token.c — DIR/admin.token, the node's bureau token (admin_token.h). Created with
 * O_EXCL at mode 0600 and fsynced, so it is never overwritten and never readable by others. */
#include "node/datadir/admin_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"

/* Writes a new random token to path. Returns: 1, or 0 with errno set. */
static int create(const char *path, char tok[65])
{
    unsigned char r[32];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        got += (size_t)k;
    }
    wn_hex_encode(tok, r, sizeof r);
    memset(r, 0, sizeof r);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    char line[66];
    memcpy(line, tok, 64);
    line[64] = '\n';
    int ok = write(fd, line, 65) == 65 && fsync(fd) == 0;
    int e = errno;
    memset(line, 0, sizeof line);
    if (close(fd) != 0) ok = 0;
    if (!ok) {
        unlink(path);
        errno = e;
    }
    return ok;
}

int wn_admin_token_setup(wn_access *a, const char *dir, char *err, size_t cap)
{
    char path[4200], tok[WN_TOKEN_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", dir, WN_ADMIN_TOKEN_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (!create(path, tok)) {
            snprintf(err, cap, "cannot create the admin token %s: %s", path, strerror(errno));
            return 0;
        }
    } else if (fd < 0) {
        snprintf(err, cap, "cannot read the admin token %s: %s", path, strerror(errno));
        return 0;
    } else {
        struct stat st;
        ssize_t n = -1;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !(st.st_mode & 077)) n = read(fd, tok, sizeof tok - 1);
        close(fd);
        if (n < 0) {
            snprintf(err, cap,
                     "the admin token %s must be a regular file only its owner may read (chmod 600 %s)", path, path);
            return 0;
        }
        tok[n] = '\0';
        while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r')) tok[--n] = '\0';
    }
    char why[200];
    int ok = wn_access_add(a, tok, WN_ROLE_BUREAU, NULL, why, sizeof why);
    memset(tok, 0, sizeof tok);
    if (!ok) snprintf(err, cap, "the admin token %s: %s", path, why);
    return ok;
}
