/* cmd_audit.c — `wn audit`: the auditor's whole-ledger check of a copy of the node's LMDB
 * files (docs/PROTOCOL.md §11), or of a running node over HTTP (--node, cli/audit/audit_http.h):
 * every entry re-read, re-hashed and re-verified, every checkpoint's signature and root,
 * every meter's sequence and chain, the stored index. */
#include "cli/audit/audit.h"
#include "cli/audit/audit_http.h"
#include "cli/audit/audit_lmdb.h"
#include "cli/commands.h"
#include "cli/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn audit (--ledger DIR | --node URL) --notary-pub HEX [--registrar HEX] [--authority HEX] [--json]\n"
            "\n"
            "Audits a whole ledger without trusting the notary. DIR is a copy of the node's ledger\n"
            "directory (data.mdb), opened read-only. Every entry is read again and its leaf hash,\n"
            "chain hash and Merkle tree recomputed and compared with what is stored; every reading's\n"
            "signature is checked with the key its meter was enrolled with (valid from the enrolment\n"
            "up to the revocation); every enrolment and revocation with the registrar's key, every\n"
            "equivocation evidence, every checkpoint's signature (notary key) and root; each meter's\n"
            "sequence, hash chain and clock; and the stored (meter, sequence) index.\n"
            "Prints a summary (entries by type, meters, checkpoints, gaps, alerts) and every\n"
            "problem found (the first %d in detail, each with its entry index and reason).\n"
            "A progress bar is shown on a terminal.\n"
            "\n"
            "options:\n"
            "  --ledger DIR        the copied ledger directory\n"
            "  --node URL          instead, a running node: its tree up to the latest checkpoint, read\n"
            "                      through its tlog-tiles interface (every entry bundle and hash tile;\n"
            "                      served hashes that differ from the recomputed tree are problems)\n"
            "  --notary-pub HEX    the notary's x-only public key (64 hex characters)\n"
            "  --registrar HEX     the registrar's x-only key; default: the key of the first\n"
            "                      enrolment (a record signed by any other key is a problem)\n"
            "  --authority HEX     the key that signs savings certificates; default: the registrar\n"
            "  --json              print the summary as one JSON object (PROTOCOL.md section 11)\n"
            "  --workers N         signature threads (default: one per CPU)\n"
            "\n"
            "example:\n"
            "  wn audit --ledger /backup/ledger --notary-pub $(cat demo-data/notary.pub)\n"
            "  wn audit --node http://127.0.0.1:8420 --notary-pub $(cat demo-data/notary.pub) --json\n"
            "\n"
            "exit codes: 0 no problem found, 1 problems found (listed; the first names the entry),\n"
            "            2 usage error or the ledger cannot be read, 3 the node could not be read\n",
            WN_AUDIT_DEFAULT_DETAILS);
}

typedef struct {
    double start, last;
    int shown;
} bar;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    bar *b = ctx;
    double t = now_s();
    if (done < total && t - b->last < 0.2) return;
    b->last = t;
    b->shown = 1;
    double el = t - b->start, rate = el > 0 ? (double)done / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    enum { width = 30 };
    int fill = total ? (int)((double)done / (double)total * width) : width;
    char line[width + 1];
    for (int i = 0; i < width; i++) line[i] = i < fill ? '#' : '.';
    line[width] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %llu/%llu entries  %.0f/s  %02d:%02d left ", line,
            total ? (int)(100.0 * (double)done / (double)total) : 100, (unsigned long long)done,
            (unsigned long long)total, rate, (int)left / 60, (int)left % 60);
    fflush(stderr);
}

int wn_cmd_audit(int argc, char **argv)
{
    const char *cmd = argv[0], *dir = NULL, *pub_s = NULL, *reg_s = NULL, *auth_s = NULL, *workers_s = NULL;
    const char *node = NULL;
    int json = 0, want_help;
    wn_cli_opt opts[] = {{"ledger", &dir, NULL}, {"notary-pub", &pub_s, NULL}, {"registrar", &reg_s, NULL},
                         {"authority", &auth_s, NULL}, {"node", &node, NULL},
                         {"json", NULL, &json}, {"workers", &workers_s, NULL}};
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!dir == !node || !pub_s) {
        wn_cli_error(cmd, "--ledger DIR or --node URL (one of them) and --notary-pub HEX are required "
                          "(see wn audit --help)");
        return WN_EXIT_USAGE;
    }
    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!wn_cli_hex32(cmd, "notary-pub", pub_s, cfg.notary)) return WN_EXIT_USAGE;
    if (reg_s) {
        if (!wn_cli_hex32(cmd, "registrar", reg_s, cfg.registrar)) return WN_EXIT_USAGE;
        cfg.have_registrar = 1;
    }
    if (auth_s) {
        if (!wn_cli_hex32(cmd, "authority", auth_s, cfg.authority)) return WN_EXIT_USAGE;
        cfg.have_authority = 1;
    }
    if (workers_s) {
        uint64_t w;
        if (!wn_cli_u64(cmd, "workers", workers_s, &w)) return WN_EXIT_USAGE;
        if (w < 1 || w > 64) {
            wn_cli_error(cmd, "--workers must be 1..64");
            return WN_EXIT_USAGE;
        }
        cfg.workers = (unsigned)w;
    }

    wn_auditor *a;
    int err = wn_auditor_new(&a, &cfg);
    if (err) {
        wn_cli_error(cmd, err == WN_AUDIT_EINVAL ? "the --registrar or --authority key is not a valid x-only key"
                                                 : "cannot start the audit: out of memory");
        return WN_EXIT_USAGE;
    }
    bar b = {now_s(), 0, 0};
    int tty = isatty(2);
    char why[512] = "";
    if (node && !wn_audit_http_feed(a, cmd, node, NULL)) {
        wn_auditor_free(a);
        return WN_EXIT_NETWORK;
    }
    int ok = node || wn_audit_lmdb_run(a, dir, tty ? progress : NULL, &b, why, sizeof why);
    if (b.shown) fprintf(stderr, "\n");
    if (!ok) {
        wn_cli_error(cmd, "%s", why);
        wn_auditor_free(a);
        return WN_EXIT_USAGE;
    }
    if (wn_auditor_finish(a) != WN_AUDIT_OK) {
        wn_cli_error(cmd, "out of memory while auditing");
        wn_auditor_free(a);
        return WN_EXIT_USAGE;
    }
    if (json) {
        if (!wn_auditor_print_json(a, stdout)) {
            wn_cli_error(cmd, "cannot write the JSON summary");
            wn_auditor_free(a);
            return WN_EXIT_USAGE;
        }
    } else {
        wn_auditor_print_text(a, stdout);
    }
    int rc = wn_auditor_summary(a)->problems ? WN_EXIT_INVALID : WN_EXIT_OK;
    wn_auditor_free(a);
    if (fflush(stdout) != 0) return WN_EXIT_USAGE;
    return rc;
}
