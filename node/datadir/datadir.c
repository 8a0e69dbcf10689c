/* datadir.c — the data directory's lock file and the checkpoint.last file (datadir.h). */
#include "node/datadir/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"

int wn_datadir_lock(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, WN_DATADIR_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        wn_log("cannot open the lock file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\r\n")] = '\0';
        }
        close(fd);
        if (e == EWOULDBLOCK)
            wn_log("data directory %s is in use by another wn-node (PID %s, holding %s): one node per directory; "
                   "stop that node first, or give this one another --data",
                   dir, pid[0] ? pid : "unknown", path);
        else
            wn_log("cannot lock the data directory %s (%s): %s", dir, path, strerror(e));
        return -1;
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len)
        wn_log("warning: cannot write this node's PID into %s: %s", path, strerror(errno));
    return fd;
}

void wn_datadir_unlock(int fd)
{
    if (fd >= 0) close(fd); /* closing the last descriptor releases the flock */
}

int wn_datadir_save_checkpoint(const char *dir, const char *note, size_t len)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", dir, WN_DATADIR_CHECKPOINT);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, note + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    int ok = off == len && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) saved = errno;
        unlink(tmp);
        errno = saved ? saved : EIO;
        return 0;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return 0;
    ok = fsync(dfd) == 0;
    saved = errno;
    close(dfd);
    errno = saved;
    return ok;
}

int wn_datadir_load_checkpoint(const char *dir, char *buf, size_t cap, size_t *len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, WN_DATADIR_CHECKPOINT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    size_t n = 0;
    for (;;) {
        if (n == cap - 1) { /* full: one more byte means too large */
            char extra;
            ssize_t r = read(fd, &extra, 1);
            close(fd);
            if (r != 0) {
                errno = EFBIG;
                return -1;
            }
            break;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0) {
            close(fd);
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return 1;
}
