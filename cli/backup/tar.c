/* tar.c — minimal POSIX ustar writer and strict reader for backup files (see tar.h). */
#include "cli/backup/tar.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define BLOCK 512

static void octal(char *field, size_t width, uint64_t v)
{
    /* width-1 octal digits, NUL-terminated, zero-padded */
    field[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static int parse_octal(const char *field, size_t width, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && field[i] == ' ') i++;
    size_t digits = 0;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; i++, digits++) {
        if (v >> 60) return 0;
        v = (v << 3) | (uint64_t)(field[i] - '0');
    }
    for (; i < width; i++)
        if (field[i] != '\0' && field[i] != ' ') return 0;
    if (!digits) return 0;
    *out = v;
    return 1;
}

static unsigned checksum(const unsigned char *h)
{
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

int wn_tar_add_file(FILE *out, const char *name, const char *src, char *err, size_t errlen)
{
    if (strlen(name) > WN_TAR_NAME_MAX) {
        snprintf(err, errlen, "member name too long: %s", name);
        return 0;
    }
    FILE *in = fopen(src, "rb");
    if (!in) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return 0;
    }
    if (fseeko(in, 0, SEEK_END) != 0) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        fclose(in);
        return 0;
    }
    uint64_t size = (uint64_t)ftello(in);
    rewind(in);
    unsigned char h[BLOCK] = {0};
    memcpy(h, name, strlen(name));
    octal((char *)h + 100, 8, 0600);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, (uint64_t)time(NULL));
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    char sum[8];
    octal(sum, 7, checksum(h));
    memcpy(h + 148, sum, 7);
    h[155] = ' ';
    int ok = fwrite(h, 1, BLOCK, out) == BLOCK;
    char buf[1 << 16];
    uint64_t left = size;
    while (ok && left > 0) {
        size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
        size_t got = fread(buf, 1, want, in);
        if (got == 0) break;
        ok = fwrite(buf, 1, got, out) == got;
        left -= got;
    }
    if (ok && left != 0) {
        snprintf(err, errlen, "%s changed while it was archived", src);
        fclose(in);
        return 0;
    }
    fclose(in);
    static const unsigned char zeros[BLOCK];
    size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);
    if (ok && pad) ok = fwrite(zeros, 1, pad, out) == pad;
    if (!ok) snprintf(err, errlen, "cannot write the archive: %s", strerror(errno));
    return ok;
}

int wn_tar_finish(FILE *out, char *err, size_t errlen)
{
    static const unsigned char zeros[2 * BLOCK];
    if (fwrite(zeros, 1, sizeof zeros, out) != sizeof zeros) {
        snprintf(err, errlen, "cannot write the archive: %s", strerror(errno));
        return 0;
    }
    return 1;
}

int wn_tar_next(FILE *in, char name[WN_TAR_NAME_MAX + 1], uint64_t *size, char *err, size_t errlen)
{
    unsigned char h[BLOCK];
    size_t got = fread(h, 1, BLOCK, in);
    if (got != BLOCK) {
        snprintf(err, errlen, "truncated archive (no end marker)");
        return -1;
    }
    int zero = 1;
    for (int i = 0; i < BLOCK && zero; i++) zero = h[i] == 0;
    if (zero) return 0;
    uint64_t sum;
    if (!parse_octal((char *)h + 148, 8, &sum) || sum != checksum(h)) {
        snprintf(err, errlen, "damaged archive: a header's checksum does not match");
        return -1;
    }
    if (h[156] != '0' && h[156] != '\0') {
        snprintf(err, errlen, "archive member of type '%c': only regular files belong in a backup", h[156]);
        return -1;
    }
    if (memchr(h, '\0', 100) == NULL || h[345] != '\0') { /* no prefix field in our archives */
        snprintf(err, errlen, "archive member with a name this program does not write");
        return -1;
    }
    memcpy(name, h, 100);
    name[WN_TAR_NAME_MAX] = '\0';
    if (!parse_octal((char *)h + 124, 12, size)) {
        snprintf(err, errlen, "damaged archive: bad size of %s", name);
        return -1;
    }
    return 1;
}

int wn_tar_copy(FILE *in, uint64_t size, FILE *out, char *err, size_t errlen)
{
    char buf[1 << 16];
    uint64_t left = size + (BLOCK - size % BLOCK) % BLOCK;
    uint64_t data = size;
    while (left > 0) {
        size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
        size_t got = fread(buf, 1, want, in);
        if (got != want) {
            snprintf(err, errlen, "truncated archive");
            return 0;
        }
        size_t use = data < got ? (size_t)data : got;
        if (out && use && fwrite(buf, 1, use, out) != use) {
            snprintf(err, errlen, "cannot write: %s", strerror(errno));
            return 0;
        }
        data -= use;
        left -= got;
    }
    return 1;
}
