/* cmd_keygen.c — `wn keygen --out FILE`: a new secp256k1 secret key in a 0600 file that is
 * never overwritten; prints the BIP-340 x-only public key as 64 hex characters. */
#include "cli/commands.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn keygen --out FILE\n"
            "\n"
            "Creates a new secp256k1 secret key and writes it to FILE as 64 hex characters and a\n"
            "newline, readable only by you (mode 0600). An existing FILE is never overwritten.\n"
            "Prints the BIP-340 x-only public key (64 hex characters) on standard output: give it\n"
            "to whoever verifies what this key signs (e.g. --notary-pub for a notary key).\n"
            "\n"
            "options:\n"
            "  --out FILE   where to write the secret key (must not exist)\n"
            "\n"
            "example:\n"
            "  wn keygen --out notary.key > notary.pub\n"
            "\n"
            "exit codes: 0 key written, 2 usage error or the file exists / cannot be written\n");
}

int wn_cmd_keygen(int argc, char **argv)
{
    const char *cmd = argv[0], *out = NULL;
    const wn_cli_opt opts[] = {{"out", &out, NULL}};
    const char *pos[1];
    size_t npos;
    int want_help;
    if (!wn_cli_parse(argc, argv, opts, 1, pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) { help(stdout); return WN_EXIT_OK; }
    if (!out) {
        wn_cli_error(cmd, "--out FILE is required (see wn keygen --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t xonly[32];
    if (!wn_keyfile_create(out, NULL, xonly)) {
        if (errno == EEXIST)
            wn_cli_error(cmd, "%s already exists; refusing to overwrite a key file (choose another path)", out);
        else
            wn_cli_error(cmd, "cannot create %s: %s", out, strerror(errno));
        return WN_EXIT_USAGE;
    }
    char hex[65];
    wn_hex_encode(hex, xonly, 32);
    printf("%s\n", hex);
    return fflush(stdout) == 0 ? WN_EXIT_OK : WN_EXIT_USAGE;
}
