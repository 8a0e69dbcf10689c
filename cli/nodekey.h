/* nodekey.h — the notary key a `wn` command verifies a node's answers with: pinned with
 * --notary-pub, or, without it, the key the node reports (GET /v1/pubkey) — trust on first
 * use, announced on stderr, since a lying node would report its own key. */
#ifndef WN_CLI_NODEKEY_H
#define WN_CLI_NODEKEY_H

#include <stdint.h>

/* Out: pk, *pinned (1 if pub_hex was given). Returns: an exit code from cli/commands.h
 * (WN_EXIT_OK, WN_EXIT_USAGE for a malformed key, WN_EXIT_NETWORK if the node could not
 * tell), after printing why. */
int wn_cli_notary_key(const char *cmd, const char *node, const char *pub_hex, uint8_t pk[32], int *pinned);

#endif
