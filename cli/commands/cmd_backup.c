/* cmd_backup.c — `wn backup`: a consistent backup file of a (running) node's data directory,
 * `wn backup verify` (the file's manifest and checkpoint, then the whole-ledger audit of
 * cli/audit/ on the copy) and `wn backup restore` (verify, then unpack into a data directory
 * no node is using). cli/backup/backup.h holds the file format. */
#include "cli/backup/backup.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* snprintf into a path buffer; the inputs are checked to be short enough beforehand, so a
 * truncation cannot happen (the buffers hold an input path plus a short suffix). */
static void pathf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn backup --data DIR --out FILE [--notary-pub HEX] [--no-compact]\n"
            "       wn backup verify FILE [--notary-pub HEX] [--registrar HEX] [--authority HEX]\n"
            "       wn backup restore FILE --data DIR [--notary-pub HEX] [--registrar HEX] [--authority HEX]\n"
            "\n"
            "wn backup copies a node's data directory DIR into one file FILE while the node runs:\n"
            "each LMDB environment (state, certs, bureau, then the ledger) with LMDB's copy API in\n"
            "one read transaction, so the copy holds whole committed batches only; with the ledger's\n"
            "latest signed checkpoint and a manifest of SHA-256 sums. FILE is created 0600 and must\n"
            "not exist. Secret keys are never copied: back them up once, offline.\n"
            "\n"
            "wn backup verify checks FILE: every member against the manifest, the checkpoint against\n"
            "the notary key and the copied ledger, then audits the whole copied ledger (wn audit):\n"
            "every hash, signature, sequence and checkpoint.\n"
            "\n"
            "wn backup restore verifies FILE, then unpacks it into DIR, which must hold no ledger\n"
            "and must not be in use by a running node (stop it first). Put the notary key back\n"
            "into DIR (notary.key, 0600) from its own backup before starting the node.\n"
            "\n"
            "options:\n"
            "  --data DIR          the node's data directory (wn-node --data)\n"
            "  --out FILE          the backup file to create\n"
            "  --notary-pub HEX    the notary's x-only key (default: from DIR/notary.key when backing\n"
            "                      up, from the backup's manifest when verifying)\n"
            "  --registrar HEX     passed to the audit (see wn audit --help)\n"
            "  --authority HEX     passed to the audit\n"
            "  --no-compact        copy the LMDB files page by page instead of compacting them\n"
            "\n"
            "example:\n"
            "  wn backup --data /var/lib/waternotary --out /srv/backup/wn-$(date +%%F).wnbak\n"
            "  wn backup verify /srv/backup/wn-2026-12-07.wnbak\n"
            "  systemctl stop wn-node; mv /var/lib/waternotary /var/lib/waternotary.old\n"
            "  wn backup restore /srv/backup/wn-2026-12-07.wnbak --data /var/lib/waternotary\n"
            "\n"
            "exit codes: 0 done / the backup is sound, 1 the backup is damaged or its audit found\n"
            "            problems, 2 usage error or unreadable input\n");
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int long_path(const char *cmd, const char *p)
{
    if (p && strlen(p) > WN_BACKUP_PATH_MAX) {
        wn_cli_error(cmd, "path longer than %u bytes: %.60s...", WN_BACKUP_PATH_MAX, p);
        return 1;
    }
    return 0;
}

/* Unpacks file into dest and audits the ledger copy. Returns an exit code. */
static int verify_into(const char *cmd, const char *file, const char *dest, const char *pub_s, const char *reg_s,
                       const char *auth_s)
{
    char err[600];
    wn_backup_info info;
    if (!wn_backup_unpack(file, dest, &info, err, sizeof err)) {
        wn_cli_error(cmd, "%s: %s", file, err);
        return WN_EXIT_INVALID;
    }
    char hex[65];
    if (pub_s) {
        uint8_t pk[32];
        if (!wn_cli_hex32(cmd, "notary-pub", pub_s, pk)) return WN_EXIT_USAGE;
        if (info.have_notary && memcmp(pk, info.notary, 32) != 0) {
            wn_cli_error(cmd, "%s was made for another notary key than --notary-pub", file);
            return WN_EXIT_INVALID;
        }
        memcpy(info.notary, pk, 32);
        info.have_notary = 1;
    }
    if (!info.have_notary) {
        wn_cli_error(cmd, "%s does not name the notary key: give --notary-pub HEX", file);
        return WN_EXIT_USAGE;
    }
    wn_hex_encode(hex, info.notary, 32);
    printf("backup %s: %llu bytes, %llu entries, latest checkpoint at size %llu, notary %s\n", file,
           (unsigned long long)info.bytes, (unsigned long long)info.entries,
           (unsigned long long)info.checkpoint_size, hex);
    fflush(stdout);
    char ledger[4300];
    pathf(ledger, sizeof ledger, "%s/ledger", dest);
    char *argv[12];
    int argc = 0;
    argv[argc++] = (char *)cmd;
    argv[argc++] = "--ledger";
    argv[argc++] = ledger;
    argv[argc++] = "--notary-pub";
    argv[argc++] = hex;
    if (reg_s) {
        argv[argc++] = "--registrar";
        argv[argc++] = (char *)reg_s;
    }
    if (auth_s) {
        argv[argc++] = "--authority";
        argv[argc++] = (char *)auth_s;
    }
    argv[argc] = NULL;
    int rc = wn_cmd_audit(argc, argv); /* cli/audit/: the whole ledger, every check */
    char lock[4400];
    pathf(lock, sizeof lock, "%s/lock.mdb", ledger);
    unlink(lock);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    const char *cmd = "backup verify", *pub_s = NULL, *reg_s = NULL, *auth_s = NULL, *pos[1];
    int want_help;
    size_t npos;
    wn_cli_opt opts[] = {{"notary-pub", &pub_s, NULL}, {"registrar", &reg_s, NULL}, {"authority", &auth_s, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (npos != 1) {
        wn_cli_error(cmd, "the backup FILE is required (see wn backup --help)");
        return WN_EXIT_USAGE;
    }
    const char *base = getenv("TMPDIR");
    char tmp[4200];
    pathf(tmp, sizeof tmp, "%s/wn-backup-verify-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) {
        wn_cli_error(cmd, "cannot create a temporary folder in %s: %s", tmp, strerror(errno));
        return WN_EXIT_USAGE;
    }
    int rc = verify_into(cmd, pos[0], tmp, pub_s, reg_s, auth_s);
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc == WN_EXIT_OK) printf("backup %s: sound\n", pos[0]);
    return rc;
}

static int cmd_restore(int argc, char **argv)
{
    const char *cmd = "backup restore", *dir = NULL, *pub_s = NULL, *reg_s = NULL, *auth_s = NULL, *pos[1];
    int want_help;
    size_t npos;
    wn_cli_opt opts[] = {{"data", &dir, NULL}, {"notary-pub", &pub_s, NULL}, {"registrar", &reg_s, NULL},
                         {"authority", &auth_s, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (npos != 1 || !dir) {
        wn_cli_error(cmd, "the backup FILE and --data DIR are required (see wn backup --help)");
        return WN_EXIT_USAGE;
    }
    if (long_path(cmd, dir)) return WN_EXIT_USAGE;
    char path[4300];
    static const char *const envs[] = {"ledger", "state", "certs", "bureau"};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        pathf(path, sizeof path, "%s/%s", dir, envs[i]);
        if (wn_backup_env_in_use(path)) {
            wn_cli_error(cmd, "a running program (a node?) has %s open: stop it first (systemctl stop wn-node)",
                         path);
            return WN_EXIT_USAGE;
        }
        struct stat st;
        if (lstat(path, &st) == 0) {
            wn_cli_error(cmd, "%s already exists: restore only into a data directory without a ledger "
                              "(move the old one aside: mv %s %s.old)", path, dir, dir);
            return WN_EXIT_USAGE;
        }
    }
    if (!wn_cli_mkdirs(dir) || chmod(dir, 0700) != 0) {
        wn_cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
        return WN_EXIT_USAGE;
    }
    /* Unpack beside the target (same file system), verify, then move the environments in. */
    char tmp[4300];
    pathf(tmp, sizeof tmp, "%s/.restore-XXXXXX", dir);
    if (!mkdtemp(tmp)) {
        wn_cli_error(cmd, "cannot create %s: %s", tmp, strerror(errno));
        return WN_EXIT_USAGE;
    }
    int rc = verify_into(cmd, pos[0], tmp, pub_s, reg_s, auth_s);
    if (rc == WN_EXIT_OK) {
        for (size_t i = 0; i < sizeof envs / sizeof envs[0] && rc == WN_EXIT_OK; i++) {
            char from[4400];
            pathf(from, sizeof from, "%s/%s", tmp, envs[i]);
            pathf(path, sizeof path, "%s/%s", dir, envs[i]);
            struct stat st;
            if (stat(from, &st) != 0) continue;
            if (rename(from, path) != 0) {
                wn_cli_error(cmd, "cannot move %s to %s: %s", from, path, strerror(errno));
                rc = WN_EXIT_USAGE;
            }
        }
    }
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != WN_EXIT_OK) return rc;
    pathf(path, sizeof path, "%s/notary.key", dir);
    struct stat st;
    printf("restored %s into %s\n", pos[0], dir);
    if (stat(path, &st) != 0)
        printf("next: put the notary key back (%s, mode 0600, owned by the node's user) before starting "
               "the node: a node with a ledger and no key refuses to start\n", path);
    return WN_EXIT_OK;
}

int wn_cmd_backup(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) return cmd_verify(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "restore") == 0) return cmd_restore(argc - 1, argv + 1);
    const char *cmd = argv[0], *dir = NULL, *out = NULL, *pub_s = NULL;
    int no_compact = 0, want_help;
    size_t npos;
    wn_cli_opt opts[] = {{"data", &dir, NULL}, {"out", &out, NULL}, {"notary-pub", &pub_s, NULL},
                         {"no-compact", NULL, &no_compact}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!dir || !out) {
        wn_cli_error(cmd, "--data DIR and --out FILE are required (see wn backup --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t pk[32];
    if (pub_s && !wn_cli_hex32(cmd, "notary-pub", pub_s, pk)) return WN_EXIT_USAGE;
    char err[600];
    wn_backup_info info;
    if (!wn_backup_make(dir, out, !no_compact, pub_s ? pk : NULL, &info, err, sizeof err)) {
        wn_cli_error(cmd, "%s", err);
        return WN_EXIT_USAGE;
    }
    printf("backup %s: %llu bytes, %llu entries, latest checkpoint at size %llu%s\n", out,
           (unsigned long long)info.bytes, (unsigned long long)info.entries,
           (unsigned long long)info.checkpoint_size,
           info.have_notary ? "" : " (notary key not readable: verify with --notary-pub)");
    return WN_EXIT_OK;
}
