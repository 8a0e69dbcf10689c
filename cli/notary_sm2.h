/* notary_sm2.h — `--notary-sm2-pub HEX|FILE`, shared by wn checkpoint, verify and
 * consistency: the notary's SM2 co-signing key, and the check that a checkpoint carries its
 * valid co-signature line (ledger/tlog/checkpoint_sm2.h, PROTOCOL §4). Without the option
 * the commands ignore that line, as signed-note says of unknown keys. */
#ifndef WN_CLI_NOTARY_SM2_H
#define WN_CLI_NOTARY_SM2_H

#include <stddef.h>
#include <stdint.h>

/* arg: 66 hex characters (the compressed SM2 public key, 02/03 || x), or a file holding
 * them (a trailing newline allowed), e.g. a node's DIR/notary-sm2.pub. Out: pub33.
 * Returns: 1, or 0 after printing why (a usage error). */
int wn_cli_sm2_pub(const char *cmd, const char *arg, uint8_t pub33[33]);

/* Checks the SM2 co-signature of pub33 on a checkpoint note. Returns: 1 valid; 0 with the
 * named reason in why. */
int wn_cli_sm2_check(const char *note, size_t len, const uint8_t pub33[33], char *why, size_t cap);

#endif
