/* notary_sm2.c — the --notary-sm2-pub option and its check (notary_sm2.h). */
#include "cli/notary_sm2.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "ledger/tlog/checkpoint_sm2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex66(const char *s, size_t n, uint8_t pub33[33])
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    return n == 66 && wn_hex_decode(pub33, 33, s, 66);
}

int wn_cli_sm2_pub(const char *cmd, const char *arg, uint8_t pub33[33])
{
    size_t n = strlen(arg);
    int ok = hex66(arg, n, pub33);
    if (!ok && n && strspn(arg, "0123456789abcdefABCDEF") != n) { /* not hex: a file */
        size_t len;
        char *text = wn_cli_read_file(cmd, arg, 200, &len);
        if (!text) return 0;
        ok = hex66(text, len, pub33);
        free(text);
    }
    if (!ok || !wn_sm2_pub_valid(pub33)) {
        wn_cli_error(cmd, "--notary-sm2-pub must be the notary's compressed SM2 public key (66 hex characters, "
                          "02 or 03 then x), or a file holding it, such as the node's notary-sm2.pub");
        return 0;
    }
    return 1;
}

int wn_cli_sm2_check(const char *note, size_t len, const uint8_t pub33[33], char *why, size_t cap)
{
    int err = wn_checkpoint_verify_sm2(note, len, pub33);
    if (err == WN_CHECKPOINT_OK) return 1;
    char hex[67];
    wn_hex_encode(hex, pub33, 33);
    snprintf(why, cap, "%s (SM2 key %s)", wn_checkpoint_sm2_strerror(err), hex);
    return 0;
}
