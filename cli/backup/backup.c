/* backup.c — making, unpacking and checking backup files (see backup.h). */
#include "cli/backup/backup.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/backup/tar.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"

/* The environments of a data directory, in copy order: derived state first, the ledger last. */

/* snprintf into a path buffer; the inputs are checked to be short enough beforehand, so a
 * truncation cannot happen (the buffers hold an input path plus a short suffix). */
static void pathf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static const char *const k_envs[] = {"state", "certs", "bureau", "ledger"};
#define NENVS (sizeof k_envs / sizeof k_envs[0])

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}
static void rmtree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int file_sha256(const char *path, uint8_t out[32], uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    char buf[1 << 16];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        wn_sha256_update(&c, buf, n);
        *size += n;
    }
    int ok = !ferror(f);
    fclose(f);
    wn_sha256_final(&c, out);
    return ok;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return 0;
    int ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Copies the LMDB environment src_dir into dst_dir/data.mdb with mdb_env_copyfd2. */
static int copy_env(const char *src_dir, const char *dst_dir, int compact, char *err, size_t errlen)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (!rc) rc = mdb_env_set_maxdbs(env, 32);
    if (!rc) rc = mdb_env_set_maxreaders(env, 1024); /* only if we create the lock file */
    if (!rc) rc = mdb_env_open(env, src_dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc) {
        snprintf(err, errlen, "cannot open %s: %s", src_dir, mdb_strerror(rc));
        mdb_env_close(env);
        return 0;
    }
    char path[4200];
    pathf(path, sizeof path, "%s/data.mdb", dst_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        mdb_env_close(env);
        return 0;
    }
    rc = mdb_env_copyfd2(env, fd, compact ? MDB_CP_COMPACT : 0);
    if (!rc && fsync(fd) != 0) rc = errno;
    close(fd);
    mdb_env_close(env);
    if (rc) snprintf(err, errlen, "cannot copy %s: %s", src_dir, mdb_strerror(rc));
    return rc == 0;
}

/* Reads the latest checkpoint and the size of the ledger copy in dir/ledger. */
static int copy_checkpoint(const char *ledger_dir, char *note, size_t cap, size_t *len, uint64_t *cp_size,
                           uint64_t *entries, char *err, size_t errlen)
{
    wn_ledger *l;
    int e = wn_ledger_open(&l, ledger_dir, WN_LEDGER_RDONLY);
    if (e) {
        snprintf(err, errlen, "the copied ledger does not open: %s", wn_ledger_strerror(e));
        return 0;
    }
    e = wn_ledger_size(l, entries);
    *len = 0;
    *cp_size = 0;
    if (!e) {
        e = wn_ledger_get_checkpoint(l, 0, note, cap, len, cp_size);
        if (e == WN_LEDGER_ENOTFOUND) {
            e = WN_LEDGER_OK;
            *len = 0;
            *cp_size = 0;
        }
    }
    wn_ledger_close(l);
    if (e) snprintf(err, errlen, "cannot read the copied ledger: %s", wn_ledger_strerror(e));
    return e == WN_LEDGER_OK;
}

int wn_backup_make(const char *dir, const char *out, int compact, const uint8_t *notary, wn_backup_info *info,
                   char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    if (strlen(dir) > WN_BACKUP_PATH_MAX || strlen(out) > WN_BACKUP_PATH_MAX) {
        snprintf(err, errlen, "path longer than %u bytes", WN_BACKUP_PATH_MAX);
        return 0;
    }
    char path[4200], tmpdir[4200], tmpfile[4200];
    struct stat st;
    pathf(path, sizeof path, "%s/ledger/data.mdb", dir);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s holds no ledger (%s: %s)", dir, path, strerror(errno));
        return 0;
    }
    if (lstat(out, &st) == 0) {
        snprintf(err, errlen, "%s exists: a backup never replaces a file", out);
        return 0;
    }
    if (notary) {
        memcpy(info->notary, notary, 32);
        info->have_notary = 1;
    } else {
        uint8_t sk[WN_SECKEY_LEN];
        pathf(path, sizeof path, "%s/notary.key", dir);
        if (wn_keyfile_read(path, sk) && wn_seckey_xonly(info->notary, sk)) info->have_notary = 1;
        memset(sk, 0, sizeof sk);
    }
    pathf(tmpdir, sizeof tmpdir, "%s.tmp-XXXXXX", out);
    if (!mkdtemp(tmpdir)) {
        snprintf(err, errlen, "cannot create a temporary folder beside %s: %s", out, strerror(errno));
        return 0;
    }
    pathf(tmpfile, sizeof tmpfile, "%s/backup.tar", tmpdir);
    int ok = 1;
    int have[NENVS] = {0};
    for (size_t i = 0; ok && i < NENVS; i++) {
        char src[4200], dst[4200];
        pathf(src, sizeof src, "%s/%s", dir, k_envs[i]);
        pathf(path, sizeof path, "%s/data.mdb", src);
        if (stat(path, &st) != 0) continue; /* e.g. an old data directory without bureau/ */
        pathf(dst, sizeof dst, "%s/%s", tmpdir, k_envs[i]);
        if (mkdir(dst, 0700) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", dst, strerror(errno));
            ok = 0;
            break;
        }
        ok = copy_env(src, dst, compact, err, errlen);
        have[i] = ok;
    }
    char note[WN_CHECKPOINT_MAX + 1];
    size_t note_len = 0;
    if (ok) {
        pathf(path, sizeof path, "%s/ledger", tmpdir);
        ok = copy_checkpoint(path, note, sizeof note, &note_len, &info->checkpoint_size, &info->entries, err,
                             errlen);
        pathf(path, sizeof path, "%s/ledger/lock.mdb", tmpdir);
        unlink(path);
    }
    /* the manifest and the checkpoint as files of the temporary folder */
    char manifest[8192];
    size_t m = 0;
    if (ok) {
        char ts[32], nhex[65];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (info->have_notary) wn_hex_encode(nhex, info->notary, 32);
        else strcpy(nhex, "unknown");
        m += (size_t)snprintf(manifest + m, sizeof manifest - m,
                              WN_BACKUP_MAGIC "\ncreated %s\nsource %s\nnotary %s\nentries %llu\ncheckpoint %llu\n"
                              "compacted %s\n",
                              ts, dir, nhex, (unsigned long long)info->entries,
                              (unsigned long long)info->checkpoint_size, compact ? "yes" : "no");
        pathf(path, sizeof path, "%s/checkpoint", tmpdir);
        FILE *f = fopen(path, "wb");
        ok = f && fwrite(note, 1, note_len, f) == note_len;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    const char *members[NENVS + 1];
    size_t nmembers = 0;
    static char names[NENVS][32];
    if (ok) {
        members[nmembers++] = "checkpoint";
        for (size_t i = 0; i < NENVS; i++)
            if (have[i]) {
                snprintf(names[i], sizeof names[i], "%s/data.mdb", k_envs[i]);
                members[nmembers++] = names[i];
            }
        for (size_t i = 0; ok && i < nmembers; i++) {
            uint8_t h[32];
            uint64_t size;
            char hx[65];
            pathf(path, sizeof path, "%s/%s", tmpdir, members[i]);
            ok = file_sha256(path, h, &size);
            if (!ok) {
                snprintf(err, errlen, "cannot read %s", path);
                break;
            }
            wn_hex_encode(hx, h, 32);
            m += (size_t)snprintf(manifest + m, sizeof manifest - m, "file %s %llu %s\n", members[i],
                                  (unsigned long long)size, hx);
        }
    }
    if (ok) {
        pathf(path, sizeof path, "%s/" WN_BACKUP_MANIFEST, tmpdir);
        FILE *f = fopen(path, "wb");
        ok = f && fwrite(manifest, 1, m, f) == m;
        if (f && fclose(f) != 0) ok = 0;
        if (!ok) snprintf(err, errlen, "cannot write %s", path);
    }
    if (ok) {
        int fd = open(tmpfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!f) {
            snprintf(err, errlen, "cannot create %s: %s", tmpfile, strerror(errno));
            if (fd >= 0) close(fd);
            ok = 0;
        } else {
            pathf(path, sizeof path, "%s/" WN_BACKUP_MANIFEST, tmpdir);
            ok = wn_tar_add_file(f, WN_BACKUP_MANIFEST, path, err, errlen);
            for (size_t i = 0; ok && i < nmembers; i++) {
                pathf(path, sizeof path, "%s/%s", tmpdir, members[i]);
                ok = wn_tar_add_file(f, members[i], path, err, errlen);
            }
            if (ok) ok = wn_tar_finish(f, err, errlen);
            if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
                snprintf(err, errlen, "cannot write %s: %s", tmpfile, strerror(errno));
                ok = 0;
            }
            if (fclose(f) != 0 && ok) {
                snprintf(err, errlen, "cannot write %s: %s", tmpfile, strerror(errno));
                ok = 0;
            }
        }
    }
    if (ok) {
        /* link() refuses to replace a file that appeared meanwhile; rename() would not. */
        if (link(tmpfile, out) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
            ok = 0;
        } else {
            char parent[4200];
            pathf(parent, sizeof parent, "%s", out);
            char *slash = strrchr(parent, '/');
            if (slash == parent) slash[1] = '\0';
            else if (slash) *slash = '\0';
            else strcpy(parent, ".");
            fsync_path(parent, 1);
            if (stat(out, &st) == 0) info->bytes = (uint64_t)st.st_size;
        }
    }
    rmtree(tmpdir);
    return ok;
}

/* ---- unpack ---------------------------------------------------------------------------- */

typedef struct {
    char name[WN_TAR_NAME_MAX + 1];
    uint64_t size;
    uint8_t sha[32];
    int seen;
} manifest_file;

static int allowed_member(const char *name)
{
    if (strcmp(name, "checkpoint") == 0) return 1;
    for (size_t i = 0; i < NENVS; i++) {
        char want[32];
        snprintf(want, sizeof want, "%s/data.mdb", k_envs[i]);
        if (strcmp(name, want) == 0) return 1;
    }
    return 0;
}

static int parse_manifest(const char *text, manifest_file *files, size_t *nfiles, wn_backup_info *info, char *err,
                          size_t errlen)
{
    size_t n = 0;
    if (strncmp(text, WN_BACKUP_MAGIC "\n", strlen(WN_BACKUP_MAGIC) + 1) != 0) {
        snprintf(err, errlen, "not a WaterNotary backup of a format this program reads (first line: %.40s)", text);
        return 0;
    }
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        if (!e) break;
        char line[512];
        size_t len = (size_t)(e - p);
        if (len >= sizeof line) {
            snprintf(err, errlen, "manifest line too long");
            return 0;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p = e + 1;
        char a[128], b[128];
        unsigned long long u;
        if (strncmp(line, "file ", 5) == 0) {
            char hx[80];
            if (n >= NENVS + 1 || sscanf(line, "file %99s %llu %79s", a, &u, hx) != 3 || !allowed_member(a) ||
                strlen(hx) != 64 || !wn_hex_decode(files[n].sha, 32, hx, 64)) {
                snprintf(err, errlen, "manifest: bad line \"%.80s\"", line);
                return 0;
            }
            for (size_t i = 0; i < n; i++)
                if (strcmp(files[i].name, a) == 0) {
                    snprintf(err, errlen, "manifest names %s twice", a);
                    return 0;
                }
            snprintf(files[n].name, sizeof files[n].name, "%s", a);
            files[n].size = u;
            files[n].seen = 0;
            n++;
        } else if (sscanf(line, "notary %127s", a) == 1) {
            info->have_notary = strlen(a) == 64 && wn_hex_decode(info->notary, 32, a, 64);
        } else if (sscanf(line, "entries %llu", &u) == 1) {
            info->entries = u;
        } else if (sscanf(line, "checkpoint %llu", &u) == 1) {
            info->checkpoint_size = u;
        }
        (void)b;
    }
    *nfiles = n;
    return 1;
}

int wn_backup_unpack(const char *file, const char *dest, wn_backup_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    if (strlen(dest) > WN_BACKUP_PATH_MAX) {
        snprintf(err, errlen, "path longer than %u bytes", WN_BACKUP_PATH_MAX);
        return 0;
    }
    FILE *in = fopen(file, "rb");
    if (!in) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", file);
        fclose(in);
        return 0;
    }
    info->bytes = (uint64_t)st.st_size;
    if (mkdir(dest, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dest, strerror(errno));
        fclose(in);
        return 0;
    }
    manifest_file files[NENVS + 1];
    size_t nfiles = 0;
    char name[WN_TAR_NAME_MAX + 1];
    uint64_t size;
    int ok = 1, first = 1, r;
    char path[4300];
    while (ok && (r = wn_tar_next(in, name, &size, err, errlen)) == 1) {
        if (size > (uint64_t)st.st_size) {
            snprintf(err, errlen, "damaged archive: %s is larger than the file", name);
            ok = 0;
            break;
        }
        if (first) {
            first = 0;
            if (strcmp(name, WN_BACKUP_MANIFEST) != 0 || size > 8192) {
                snprintf(err, errlen, "not a WaterNotary backup (no manifest first)");
                ok = 0;
                break;
            }
            char text[8193];
            FILE *mem = fmemopen(text, sizeof text, "wb");
            ok = mem && wn_tar_copy(in, size, mem, err, errlen);
            if (mem) fclose(mem);
            text[size] = '\0';
            if (ok) ok = parse_manifest(text, files, &nfiles, info, err, errlen);
            continue;
        }
        manifest_file *mf = NULL;
        for (size_t i = 0; i < nfiles; i++)
            if (strcmp(files[i].name, name) == 0) mf = &files[i];
        if (!mf || mf->seen) {
            snprintf(err, errlen, "archive member %s is %s", name, mf ? "there twice" : "not in the manifest");
            ok = 0;
            break;
        }
        mf->seen = 1;
        if (mf->size != size) {
            snprintf(err, errlen, "%s: %llu bytes, the manifest says %llu", name, (unsigned long long)size,
                     (unsigned long long)mf->size);
            ok = 0;
            break;
        }
        char *slash = strchr(name, '/');
        if (slash) {
            *slash = '\0';
            pathf(path, sizeof path, "%s/%s", dest, name);
            *slash = '/';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
                ok = 0;
                break;
            }
        }
        pathf(path, sizeof path, "%s/%s", dest, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!out) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            ok = 0;
            break;
        }
        ok = wn_tar_copy(in, size, out, err, errlen);
        if (ok && (fflush(out) != 0 || fsync(fileno(out)) != 0)) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            ok = 0;
        }
        fclose(out);
        if (!ok) break;
        uint8_t h[32];
        uint64_t got;
        if (!file_sha256(path, h, &got) || got != size || memcmp(h, mf->sha, 32) != 0) {
            snprintf(err, errlen, "%s does not match its SHA-256 in the manifest: the backup is damaged", name);
            ok = 0;
        }
    }
    if (ok && r < 0) ok = 0;
    fclose(in);
    if (ok && first) {
        snprintf(err, errlen, "an empty archive is not a backup");
        ok = 0;
    }
    int have_ledger = 0;
    for (size_t i = 0; ok && i < nfiles; i++) {
        if (!files[i].seen) {
            snprintf(err, errlen, "%s is in the manifest but not in the archive (truncated?)", files[i].name);
            ok = 0;
        }
        if (strcmp(files[i].name, "ledger/data.mdb") == 0) have_ledger = 1;
    }
    if (ok && !have_ledger) {
        snprintf(err, errlen, "the backup holds no ledger");
        ok = 0;
    }
    /* The checkpoint member is the copy's latest checkpoint, and says what the manifest says. */
    if (ok) {
        char note[WN_CHECKPOINT_MAX + 1], lpath[4300];
        size_t len = 0;
        uint64_t cp_size = 0, entries = 0;
        pathf(lpath, sizeof lpath, "%s/ledger", dest);
        ok = copy_checkpoint(lpath, note, sizeof note, &len, &cp_size, &entries, err, errlen);
        pathf(path, sizeof path, "%s/ledger/lock.mdb", dest);
        unlink(path);
        size_t flen = 0;
        char fnote[WN_CHECKPOINT_MAX + 2];
        pathf(path, sizeof path, "%s/checkpoint", dest);
        FILE *f = ok ? fopen(path, "rb") : NULL;
        if (f) {
            flen = fread(fnote, 1, sizeof fnote, f);
            fclose(f);
        }
        if (ok && (!f || flen != len || memcmp(fnote, note, len) != 0)) {
            snprintf(err, errlen, "the backup's checkpoint is not the latest checkpoint of its ledger");
            ok = 0;
        }
        if (ok && (cp_size != info->checkpoint_size || entries != info->entries)) {
            snprintf(err, errlen, "the ledger holds %llu entries and a checkpoint of size %llu; the manifest says "
                     "%llu and %llu", (unsigned long long)entries, (unsigned long long)cp_size,
                     (unsigned long long)info->entries, (unsigned long long)info->checkpoint_size);
            ok = 0;
        }
        if (ok && info->have_notary && len > 0) {
            wn_checkpoint cp;
            int e = wn_checkpoint_verify(note, len, NULL, info->notary, &cp);
            if (e) {
                snprintf(err, errlen, "the backup's checkpoint does not verify with the notary key: %s",
                         wn_checkpoint_strerror(e));
                ok = 0;
            }
        }
    }
    return ok;
}

int wn_backup_env_in_use(const char *env_dir)
{
    char path[4200];
    pathf(path, sizeof path, "%s/lock.mdb", env_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    /* LMDB keeps a read lock on byte 0 of lock.mdb while the environment is open. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    int busy = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return busy;
}
