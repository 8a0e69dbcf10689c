/* fuzz_backup.c — libFuzzer target for what reads a backup file from elsewhere (`wn backup
 * verify` / `restore`): the ustar reader (cli/backup/tar.c) and wn_backup_unpack (manifest,
 * member names and sizes, SHA-256 checks, the copied ledger opened read-only). Invariants:
 * no crash, no out-of-bounds access, nothing written outside the destination folder (only
 * the manifest's allowed names can appear), every refusal has a reason.
 * fuzz-sources: cli/backup/tar.c cli/backup/backup.c */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/backup/backup.h"
#include "cli/backup/tar.h"

static char g_dest[256];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the tar reader alone, from memory */
    FILE *f = fmemopen((void *)data, size ? size : 1, "rb");
    if (f && size) {
        char name[WN_TAR_NAME_MAX + 1], err[256];
        uint64_t len;
        int r;
        for (int i = 0; i < 64 && (r = wn_tar_next(f, name, &len, err, sizeof err)) == 1; i++) {
            if (strlen(name) > WN_TAR_NAME_MAX) abort();
            if (!wn_tar_copy(f, len, NULL, err, sizeof err)) {
                if (!*err) abort();
                break;
            }
        }
    }
    if (f) fclose(f);

    /* the whole unpack, from a file */
    if (!*g_dest) {
        snprintf(g_dest, sizeof g_dest, "/tmp/wn-fuzz-backup-%d", (int)getpid());
    }
    nftw(g_dest, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    int fd = memfd_create("backup", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    wn_backup_info info;
    char err[600] = "";
    int ok = wn_backup_unpack(path, g_dest, &info, err, sizeof err);
    if (!ok && !*err) abort();
    close(fd);
    /* only allowed names under the destination */
    DIR *d = opendir(g_dest);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *n = e->d_name;
            if (strcmp(n, ".") && strcmp(n, "..") && strcmp(n, "checkpoint") && strcmp(n, "ledger") &&
                strcmp(n, "state") && strcmp(n, "certs") && strcmp(n, "bureau"))
                abort();
        }
        closedir(d);
    }
    return 0;
}
