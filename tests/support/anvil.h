/* anvil.h — a real local Ethereum chain for tests: anvil (Foundry), installed by
 * scripts/install-deps.sh from the pinned npm package into tools/anvil. Started on
 * 127.0.0.1 only, on a free port (or a chosen one, to restart it where it was), its output
 * in a log file, killed with the test (PR_SET_PDEATHSIG) if the test dies first, stopped by
 * its pid. JSON-RPC calls go through chain/ethrpc.h. Nothing here asserts: functions
 * return 0 on failure and the test decides. */
#ifndef WN_TEST_ANVIL_H
#define WN_TEST_ANVIL_H

#include <stdint.h>
#include <sys/types.h>

/* anvil's well-known development keys (mnemonic "test test ... junk"), funded at start. */
#define WN_ANVIL_KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define WN_ANVIL_KEY1 "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#define WN_ANVIL_CHAIN_ID 31337

typedef struct {
    pid_t pid;           /* 0 when not running */
    unsigned port;
    char url[64];        /* http://127.0.0.1:PORT */
    char log[4200];
} wn_test_anvil;

/* The anvil binary: $WN_ANVIL, else tools/anvil/node_modules/@foundry-rs/anvil-linux-<arch>/bin/anvil
 * (relative to the working directory, the repository root under make). Returns: a static
 * path, or NULL when anvil is not installed. */
const char *wn_test_anvil_bin(void);

/* Starts anvil --host 127.0.0.1 --port PORT args... (port 0: a free one) with its output
 * appended to dir/anvil.log, and waits (up to 30 s) until eth_chainId answers.
 * Returns: 1 when it answers. */
int wn_test_anvil_start(wn_test_anvil *a, const char *dir, unsigned port, const char *const *args);

/* SIGTERM (anvil then writes --state / --dump-state) and waits for it. Returns: 1. */
int wn_test_anvil_stop(wn_test_anvil *a);

/* Calls method with params (JSON array text). Out: *result (malloc'd JSON text; may be
 * NULL to ignore). Returns: 1 on a JSON-RPC result. */
int wn_test_anvil_rpc(const wn_test_anvil *a, const char *method, const char *params, char **result);

/* Sets the balance of address (0x + 40 hex) to 100 ether. Returns: 1 on success. */
int wn_test_anvil_fund(const wn_test_anvil *a, const char *address);

/* Signs (with seckey) and sends an EIP-1559 transaction to `to` (20 bytes) with data,
 * nonce from the chain's pending count. Out: hash (the chain's answer, checked against
 * ours). Returns: 1 on success. */
int wn_test_anvil_send(const wn_test_anvil *a, const uint8_t seckey[32], const uint8_t to[20], const uint8_t *data,
                       size_t len, uint8_t hash[32]);

/* The same, moving `wei` to `to` (for transactions an anchor must not be). */
int wn_test_anvil_send_value(const wn_test_anvil *a, const uint8_t seckey[32], const uint8_t to[20], uint64_t wei,
                             const uint8_t *data, size_t len, uint8_t hash[32]);

#endif
