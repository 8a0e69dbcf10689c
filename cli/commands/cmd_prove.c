/* cmd_prove.c — `wn prove` and `wn prove-consistency`: proof files from a local ledger
 * directory (opened read-only), for an auditor or a meter owner to keep and check offline. */
#include "cli/commands.h"
#include "cli/proofs/proofs.h"
#include "cli/util.h"

#include <stdio.h>
#include <stdlib.h>

static void help_prove(FILE *f)
{
    fprintf(f,
            "usage: wn prove --ledger DIR --index N [--size S] [--out FILE]\n"
            "\n"
            "Writes an inclusion proof (C2SP tlog-proof, with the entry bytes as its extra line)\n"
            "that entry N of the ledger in DIR is in the tree of the stored checkpoint of size S\n"
            "(default: the latest stored checkpoint). The ledger is opened read-only; the\n"
            "checkpoint is first checked against the ledger's own root.\n"
            "\n"
            "options:\n"
            "  --ledger DIR   ledger directory (LMDB files data.mdb, lock.mdb)\n"
            "  --index N      zero-based entry index\n"
            "  --size S       tree size of a stored checkpoint that covers N (S > N)\n"
            "  --out FILE     write the proof to FILE instead of standard output\n"
            "\n"
            "example:\n"
            "  wn prove --ledger demo-data/ledger --index 42 --out entry42.tlog-proof\n"
            "  wn verify-inclusion entry42.tlog-proof --notary-pub $(cat demo-data/notary.pub)\n"
            "\n"
            "exit codes: 0 proof written, 1 the ledger disagrees with its checkpoint,\n"
            "            2 usage error, unreadable ledger, or no checkpoint covers N\n");
}

static void help_cons(FILE *f)
{
    fprintf(f,
            "usage: wn prove-consistency --ledger DIR --from M [--to N] [--out FILE]\n"
            "\n"
            "Writes a consistency proof file showing that the tree of the stored checkpoint of\n"
            "size M is a prefix of the tree of the stored checkpoint of size N (default: the latest):\n"
            "nothing in the first M entries was changed or removed since. The file holds the proof\n"
            "and both signed checkpoints. The ledger is opened read-only.\n"
            "\n"
            "options:\n"
            "  --ledger DIR   ledger directory\n"
            "  --from M       tree size of the older stored checkpoint (M >= 1)\n"
            "  --to N         tree size of the newer stored checkpoint (default: latest)\n"
            "  --out FILE     write the proof to FILE instead of standard output\n"
            "\n"
            "example:\n"
            "  wn prove-consistency --ledger demo-data/ledger --from 48 --out grow.proof\n"
            "  wn verify-consistency grow.proof --notary-pub $(cat demo-data/notary.pub)\n"
            "\n"
            "exit codes: 0 proof written, 1 the ledger disagrees with its checkpoints,\n"
            "            2 usage error, unreadable ledger, or no such checkpoint\n");
}

static int open_ledger(const char *cmd, const char *dir, wn_ledger **l)
{
    int err = wn_ledger_open(l, dir, WN_LEDGER_RDONLY);
    if (err) {
        wn_cli_error(cmd, "cannot open the ledger in %s: %s", dir, wn_ledger_strerror(err));
        return 0;
    }
    return 1;
}

/* Writes the proof and says where it went (on stderr, so stdout stays the proof). */
static int emit(const char *cmd, const char *out, char *text, size_t len, const char *what)
{
    int ok = wn_cli_write_file(cmd, out, text, len);
    free(text);
    if (!ok) return WN_EXIT_USAGE;
    if (out) fprintf(stderr, "wrote %s to %s\n", what, out);
    return WN_EXIT_OK;
}

int wn_cmd_prove(int argc, char **argv)
{
    const char *cmd = argv[0], *ledger = NULL, *index_s = NULL, *size_s = NULL, *out = NULL;
    const wn_cli_opt opts[] = {{"ledger", &ledger, NULL}, {"index", &index_s, NULL}, {"size", &size_s, NULL},
                               {"out", &out, NULL}};
    const char *pos[1];
    size_t npos;
    int want_help;
    if (!wn_cli_parse(argc, argv, opts, 4, pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) { help_prove(stdout); return WN_EXIT_OK; }
    if (!ledger || !index_s) {
        wn_cli_error(cmd, "--ledger DIR and --index N are required (see wn prove --help)");
        return WN_EXIT_USAGE;
    }
    uint64_t index, size = 0;
    if (!wn_cli_u64(cmd, "index", index_s, &index)) return WN_EXIT_USAGE;
    if (size_s) {
        if (!wn_cli_u64(cmd, "size", size_s, &size)) return WN_EXIT_USAGE;
        if (size == 0) {
            wn_cli_error(cmd, "--size 0 is the empty tree, which holds no entry");
            return WN_EXIT_USAGE;
        }
    }
    wn_ledger *l;
    if (!open_ledger(cmd, ledger, &l)) return WN_EXIT_USAGE;
    char *text;
    size_t len;
    uint64_t cp_size;
    int rc = wn_cli_build_inclusion(cmd, l, index, size, &text, &len, &cp_size);
    wn_ledger_close(l);
    if (rc) return rc;
    char what[96];
    snprintf(what, sizeof what, "the inclusion proof of entry %llu in the tree of size %llu",
             (unsigned long long)index, (unsigned long long)cp_size);
    return emit(cmd, out, text, len, what);
}

int wn_cmd_prove_consistency(int argc, char **argv)
{
    const char *cmd = argv[0], *ledger = NULL, *from_s = NULL, *to_s = NULL, *out = NULL;
    const wn_cli_opt opts[] = {{"ledger", &ledger, NULL}, {"from", &from_s, NULL}, {"to", &to_s, NULL},
                               {"out", &out, NULL}};
    const char *pos[1];
    size_t npos;
    int want_help;
    if (!wn_cli_parse(argc, argv, opts, 4, pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) { help_cons(stdout); return WN_EXIT_OK; }
    if (!ledger || !from_s) {
        wn_cli_error(cmd, "--ledger DIR and --from M are required (see wn prove-consistency --help)");
        return WN_EXIT_USAGE;
    }
    uint64_t from, to = 0;
    if (!wn_cli_u64(cmd, "from", from_s, &from)) return WN_EXIT_USAGE;
    if (to_s) {
        if (!wn_cli_u64(cmd, "to", to_s, &to)) return WN_EXIT_USAGE;
        if (to == 0) {
            wn_cli_error(cmd, "--to 0 is the empty tree; leave --to out for the latest checkpoint");
            return WN_EXIT_USAGE;
        }
    }
    if (from == 0) {
        wn_cli_error(cmd, "--from must be at least 1: there is nothing to prove about the empty tree");
        return WN_EXIT_USAGE;
    }
    wn_ledger *l;
    if (!open_ledger(cmd, ledger, &l)) return WN_EXIT_USAGE;
    char *text;
    size_t len;
    uint64_t to_size;
    int rc = wn_cli_build_consistency(cmd, l, from, to, &text, &len, &to_size);
    wn_ledger_close(l);
    if (rc) return rc;
    char what[96];
    snprintf(what, sizeof what, "the consistency proof from size %llu to size %llu", (unsigned long long)from,
             (unsigned long long)to_size);
    return emit(cmd, out, text, len, what);
}
