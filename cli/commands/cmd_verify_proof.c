/* cmd_verify_proof.c — `wn verify-inclusion` and `wn verify-consistency`: offline checks of
 * proof files with nothing but the file and the notary's public key. */
#include "cli/commands.h"
#include "cli/proofs/proofs.h"
#include "cli/util.h"
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>

/* Proof files hold at most one entry (1 MiB, as base64) plus small change. */
#define PROOF_FILE_MAX (2u * WN_LEDGER_MAX_ENTRY)

static void help_incl(FILE *f)
{
    fprintf(f,
            "usage: wn verify-inclusion FILE --notary-pub HEX [--entry ENTRYFILE]\n"
            "\n"
            "Checks an inclusion proof file (C2SP tlog-proof) offline: the checkpoint's signature\n"
            "by the notary key, then that the entry's leaf hash, with the proof, leads to the\n"
            "checkpoint's root. The entry comes from the file's extra line, or from ENTRYFILE\n"
            "(raw entry bytes: type byte and payload). A reading entry is decoded and printed, and\n"
            "its own signature by the meter checked; an enrolment or revocation its registrar's.\n"
            "FILE may be - for standard input.\n"
            "\n"
            "options:\n"
            "  --notary-pub HEX    the notary's x-only public key, 64 hex characters\n"
            "  --entry ENTRYFILE   the entry bytes, if the proof has no extra line\n"
            "\n"
            "example:\n"
            "  wn verify-inclusion proof.tlog-proof --notary-pub $(cat demo-data/notary.pub)\n"
            "\n"
            "exit codes: 0 valid, 1 invalid (the reason is printed),\n"
            "            2 usage error, unreadable or malformed file\n");
}

static void help_cons(FILE *f)
{
    fprintf(f,
            "usage: wn verify-consistency FILE --notary-pub HEX\n"
            "\n"
            "Checks a consistency proof file offline: both checkpoints are signed by the notary\n"
            "key and name the same log, and the proof shows the older tree is a prefix of the\n"
            "newer one, so no entry it held was changed or removed. FILE may be - for standard input.\n"
            "\n"
            "options:\n"
            "  --notary-pub HEX    the notary's x-only public key, 64 hex characters\n"
            "\n"
            "example:\n"
            "  wn verify-consistency grow.proof --notary-pub $(cat demo-data/notary.pub)\n"
            "\n"
            "exit codes: 0 valid, 1 invalid (the reason is printed),\n"
            "            2 usage error, unreadable or malformed file\n");
}

/* Common argument handling. Returns: 0 to go on, else the exit code. */
static int args(int argc, char **argv, void (*help)(FILE *), const char **file, uint8_t pub[32],
                const char **entry)
{
    const char *cmd = argv[0], *pub_s = NULL;
    wn_cli_opt opts[] = {{"notary-pub", &pub_s, NULL}, {"entry", entry, NULL}};
    const char *pos[1];
    size_t npos;
    int want_help;
    if (!wn_cli_parse(argc, argv, opts, entry ? 2 : 1, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) { help(stdout); return -1; }
    if (npos != 1 || !pub_s) {
        wn_cli_error(cmd, "a proof FILE and --notary-pub HEX are required (see wn %s --help)", cmd);
        return WN_EXIT_USAGE;
    }
    if (!wn_cli_hex32(cmd, "notary-pub", pub_s, pub)) return WN_EXIT_USAGE;
    *file = pos[0];
    return 0;
}

int wn_cmd_verify_inclusion(int argc, char **argv)
{
    const char *cmd = argv[0], *file = NULL, *entry_path = NULL;
    uint8_t pub[32];
    int rc = args(argc, argv, help_incl, &file, pub, &entry_path);
    if (rc) return rc < 0 ? WN_EXIT_OK : rc;
    size_t len, elen = 0;
    char *text = wn_cli_read_file(cmd, file, PROOF_FILE_MAX, &len);
    if (!text) return WN_EXIT_USAGE;
    char *entry = NULL;
    if (entry_path) {
        entry = wn_cli_read_file(cmd, entry_path, WN_LEDGER_MAX_ENTRY, &elen);
        if (!entry) { free(text); return WN_EXIT_USAGE; }
        if (elen == 0) {
            wn_cli_error(cmd, "%s is empty: an entry has at least its type byte", entry_path);
            free(text);
            free(entry);
            return WN_EXIT_USAGE;
        }
    }
    wn_cli_incl_result res;
    rc = wn_cli_verify_inclusion(text, len, pub, (const uint8_t *)entry, elen, stdout, &res);
    if (rc == WN_EXIT_USAGE) wn_cli_error(cmd, "%s: %s", file, res.reason);
    free(text);
    free(entry);
    return rc;
}

int wn_cmd_verify_consistency(int argc, char **argv)
{
    const char *cmd = argv[0], *file = NULL;
    uint8_t pub[32];
    int rc = args(argc, argv, help_cons, &file, pub, NULL);
    if (rc) return rc < 0 ? WN_EXIT_OK : rc;
    size_t len;
    char *text = wn_cli_read_file(cmd, file, PROOF_FILE_MAX, &len);
    if (!text) return WN_EXIT_USAGE;
    wn_cli_cons_result res;
    rc = wn_cli_verify_consistency(text, len, pub, stdout, &res);
    if (rc == WN_EXIT_USAGE) wn_cli_error(cmd, "%s: %s", file, res.reason);
    free(text);
    return rc;
}
