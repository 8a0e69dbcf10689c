/* anvil.c — start, call and stop a local anvil chain for tests (see anvil.h). */
#include "tests/support/anvil.h"
#include "tests/support/proc.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "chain/ethtx.h"
#include "chain/ethrpc.h"

const char *wn_test_anvil_bin(void)
{
    static char path[4200];
    const char *env = getenv("WN_ANVIL");
    if (env && *env) return access(env, X_OK) == 0 ? env : NULL;
    struct utsname u;
    const char *arch = uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0 ? "arm64" : "amd64";
    snprintf(path, sizeof path, "tools/anvil/node_modules/@foundry-rs/anvil-linux-%s/bin/anvil", arch);
    return access(path, X_OK) == 0 ? path : NULL;
}

/* A port that was free a moment ago. */
static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    unsigned port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(s, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (s >= 0) close(s);
    return port;
}

int wn_test_anvil_rpc(const wn_test_anvil *a, const char *method, const char *params, char **result)
{
    wn_ethrpc *c;
    char *res = NULL;
    if (!wn_ethrpc_open(&c, a->url, 10000, NULL)) return 0;
    int err = wn_ethrpc_call(c, method, params, &res);
    wn_ethrpc_close(c);
    if (err) return 0;
    if (result) *result = res;
    else free(res);
    return 1;
}

static int try_start(wn_test_anvil *a, const char *bin, unsigned port, const char *const *args)
{
    char p[16];
    snprintf(p, sizeof p, "%u", port);
    const char *argv[48];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = p;
    for (int i = 0; args && args[i] && n < 47; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = wn_proc_spawn(argv, a->log);
    if (pid < 0) return 0;
    a->port = port;
    snprintf(a->url, sizeof a->url, "http://127.0.0.1:%u", port);
    for (int i = 0; i < 600; i++) {
        if (!wn_proc_running(pid, NULL)) return 0;
        if (wn_test_anvil_rpc(a, "eth_chainId", "[]", NULL)) {
            a->pid = pid;
            return 1;
        }
        wn_proc_sleep_ms(50);
    }
    wn_proc_kill(pid, 9);
    return 0;
}

int wn_test_anvil_start(wn_test_anvil *a, const char *dir, unsigned port, const char *const *args)
{
    const char *bin = wn_test_anvil_bin();
    a->pid = 0;
    snprintf(a->log, sizeof a->log, "%s/anvil.log", dir);
    if (!bin) return 0;
    for (int attempt = 0; attempt < 20; attempt++) {
        unsigned p = port ? port : free_port();
        if (p && try_start(a, bin, p, args)) return 1;
        wn_proc_sleep_ms(200); /* taken meanwhile, or a released port not yet usable */
    }
    return 0;
}

int wn_test_anvil_stop(wn_test_anvil *a)
{
    if (a->pid <= 0) return 1;
    wn_proc_kill(a->pid, 15);
    a->pid = 0;
    return 1;
}

int wn_test_anvil_fund(const wn_test_anvil *a, const char *address)
{
    char p[128];
    snprintf(p, sizeof p, "[\"%s\",\"0x56BC75E2D63100000\"]", address);
    return wn_test_anvil_rpc(a, "anvil_setBalance", p, NULL);
}

/* Reads a quantity result "\"0x..\"". */
static int quantity(const char *json, uint64_t *v)
{
    return json && sscanf(json, "\"0x%llx\"", (unsigned long long *)v) == 1;
}

int wn_test_anvil_send(const wn_test_anvil *a, const uint8_t seckey[32], const uint8_t to[20], const uint8_t *data,
                       size_t len, uint8_t hash[32])
{
    return wn_test_anvil_send_value(a, seckey, to, 0, data, len, hash);
}

int wn_test_anvil_send_value(const wn_test_anvil *a, const uint8_t seckey[32], const uint8_t to[20], uint64_t wei,
                             const uint8_t *data, size_t len, uint8_t hash[32])
{
    uint8_t from[20], raw[WN_ETHTX_MAX], mine[32];
    char fromhex[43], *res = NULL, params[128];
    uint64_t nonce, chain;
    if (!wn_eth_address_of_seckey(from, seckey)) return 0;
    wn_eth_hex(fromhex, from, 20);
    snprintf(params, sizeof params, "[\"%s\",\"pending\"]", fromhex);
    if (!wn_test_anvil_rpc(a, "eth_getTransactionCount", params, &res) || !quantity(res, &nonce)) goto fail;
    free(res);
    res = NULL;
    if (!wn_test_anvil_rpc(a, "eth_chainId", "[]", &res) || !quantity(res, &chain)) goto fail;
    free(res);
    res = NULL;
    wn_ethtx tx = {.type = WN_ETHTX_EIP1559, .chain_id = chain, .nonce = nonce, .max_priority_fee = 1000000000,
                   .max_fee = 100000000000ULL, .gas_limit = 100000, .has_to = 1, .data = data, .data_len = len};
    memcpy(tx.to, to, 20);
    for (int i = 0; i < 8; i++) tx.value[31 - i] = (uint8_t)(wei >> (8 * i));
    wn_ethsig sig;
    size_t rl;
    if (!wn_ethtx_sign(&tx, seckey, &sig) || !wn_ethtx_encode_signed(&tx, &sig, raw, sizeof raw, &rl, mine)) return 0;
    char *p = malloc(2 * rl + 16);
    if (!p) return 0;
    strcpy(p, "[\"");
    wn_eth_hex(p + 2, raw, rl);
    strcat(p, "\"]");
    int ok = wn_test_anvil_rpc(a, "eth_sendRawTransaction", p, &res);
    free(p);
    uint8_t theirs[32];
    char h[80];
    ok = ok && res && sscanf(res, "\"%70[0-9a-fx]\"", h) == 1 && wn_eth_parse_bytes(h, theirs, 32) &&
         memcmp(theirs, mine, 32) == 0;
    free(res);
    if (ok) memcpy(hash, mine, 32);
    return ok;
fail:
    free(res);
    return 0;
}
