/* main.c — wn-node: the WaterNotary notary service. Parses options, starts the node
 * (node.c) in the foreground and shuts it down cleanly on SIGTERM or SIGINT. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/config_file.h"
#include "node/log.h"
#include "node/lifecycle.h"
#include "node/monitor/zone.h"

/* The anchoring options (node/anchor/anchor.h). */
static void usage_anchor(FILE *f)
{
    fprintf(f,
            "\n"
            "anchoring checkpoints on an Ethereum-compatible chain (docs/PROTOCOL.md section 15; off without\n"
            "--anchor-rpc). Fund the anchoring key's address (logged at start) with ether for gas.\n"
            "  --anchor-rpc URL           the chain's JSON-RPC endpoint (http:// or https://)\n"
            "  --anchor-chain-id N        the chain's id (required with --anchor-rpc; EIP-155)\n"
            "  --anchor-key FILE          the anchoring secp256k1 key (default DIR/anchor.key, created 0600 if absent);\n"
            "                             use it for nothing else: the node manages its nonces\n"
            "  --anchor-every K           anchor the latest checkpoint after K new checkpoints (default %u)\n"
            "  --anchor-ms T              ... or T milliseconds after the first new one (default %u)\n"
            "  --anchor-confirmations C   blocks (the anchor's included) before an anchor is final (default %u)\n"
            "  --anchor-poll-ms P         how often ledger and chain are looked at (default %u)\n"
            "  --anchor-replace-ms R      replace a transaction still unmined after R ms, fees +25%% (default %u)\n"
            "example:\n"
            "  wn-node --data /var/lib/waternotary --anchor-rpc http://127.0.0.1:8545 --anchor-chain-id 31337 \\\n"
            "          --anchor-every 10 --anchor-ms 60000 --anchor-confirmations 2\n",
            (unsigned)WN_ANCHOR_DEFAULT_EVERY, (unsigned)WN_ANCHOR_DEFAULT_MS, (unsigned)WN_ANCHOR_DEFAULT_CONFIRMATIONS,
            (unsigned)WN_ANCHOR_DEFAULT_POLL_MS, (unsigned)WN_ANCHOR_DEFAULT_REPLACE_MS);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wn-node --data DIR [options]\n"
            "\n"
            "Runs the WaterNotary notary node in the foreground: meters' signed readings are checked,\n"
            "appended to the ledger in DIR and answered with signed receipts; checkpoints and proofs\n"
            "are served over HTTP (docs/PROTOCOL.md section 9). Logs one line per event to stderr;\n"
            "SIGTERM or SIGINT stops it cleanly.\n"
            "\n"
            "options:\n"
            "  --config FILE           read options from FILE: one \"key = value\" per line, the keys being\n"
            "                          these long options without \"--\" (\"data = /var/lib/waternotary\"),\n"
            "                          '#' starts a comment line, \"key = true\" for a flag; unknown keys\n"
            "                          are errors; options on the command line override the file's\n"
            "  --data DIR              data directory (created if absent): ledger, state, keys\n"
            "  --listen HOST:PORT      address to listen on (default " WN_NODE_DEFAULT_LISTEN "; port 0 = any free)\n"
            "  --key FILE              notary secret key file (default DIR/notary.key, created 0600 if absent\n"
            "                          while DIR holds no ledger yet; never made anew for an existing one)\n"
            "  --notary-sm2-key FILE   also co-sign every checkpoint with this SM2 key (GB/T 32918; created\n"
            "                          0600 if absent and DIR/notary-sm2.pub does not name another key; its\n"
            "                          public key is pinned in DIR/notary-sm2.pub and served by /v1/pubkey)\n"
            "  --registrar PUBHEX      the registrar's x-only public key (64 hex); without it DIR/registrar.key\n"
            "                          is created on first start and its public key used (for demos)\n"
            "  --authority PUBHEX      the evaluating authority's x-only key, which signs savings certificates\n"
            "                          (default: the registrar's)\n"
            "  --origin TEXT           checkpoint origin (default waternotary/<first 16 hex of the notary key>)\n"
            "  --max-body BYTES        largest request body (default %u)\n"
            "  --skew-ms MS            how far a reading's time may be ahead of this clock (default %u)\n"
            "  --late-window-ms MS     a reading measured more than MS before it is committed is accepted but\n"
            "                          marked late in the ledger (store-and-forward tolerance; default %llu,\n"
            "                          30 days); evaluators may refuse late readings (docs/PROTOCOL.md 3, 16)\n"
            "  --checkpoint-every N    sign a checkpoint after N new entries (default %u)\n"
            "  --checkpoint-ms MS      ... or MS milliseconds after the first new entry (default %u)\n"
            "  --port-file FILE        write the bound port to FILE once listening\n"
            "  --tokens FILE           bearer tokens, one per line \"TOKEN bureau\" or \"TOKEN enterprise ID\":\n"
            "                          the monitoring API and meters' data then need one (docs/PROTOCOL.md 18)\n"
            "  --web DIR               the monitoring page served at /ui/ (default: web/ beside the binary's\n"
            "                          bin/ directory, else share/waternotary/web/ there (the package's\n"
            "                          /usr/share/waternotary/web), else ./web)\n"
            "  --zone +HH:MM           the bureau's zone, a fixed offset from UTC (default +08:00, China Standard\n"
            "                          Time): the monitor's hours, days, months and plan years, its API, page and\n"
            "                          exports; changing it rebuilds the stored aggregates from the ledger\n"
            "  --max-connections N     most connections open at once (default %u, lowered to fit the open-file\n"
            "                          limit, whose soft value is raised to the hard one); connections opened\n"
            "                          above 7/8 of N are answered 503 with Retry-After and closed\n"
            "  --max-per-ip N          most connections from one client address (default %u; 0 = no cap)\n"
            "  --timeout-ms MS         time a connection has to send a whole request (headers and body), from\n"
            "                          opening or from its previous answer; idle or slower ones are closed\n"
            "                          (default %u)\n"
            "  --allow-damaged-entries start although the ledger's newest entries do not re-hash (logged as\n"
            "                          an error; they are served as they are, for auditors): see docs/THREATS.md.\n"
            "                          A ledger shorter than the checkpoint signed before, or another key, still\n"
            "                          refuses the start\n"
            "  --help                  this text\n"
            "\n"
            "example:\n"
            "  wn-node --data /var/lib/waternotary --listen 127.0.0.1:8420 \\\n"
            "          --registrar 3b1f...e9 --checkpoint-every 1000 --checkpoint-ms 1000\n",
            WN_NODE_DEFAULT_MAX_BODY, WN_NODE_DEFAULT_SKEW_MS, (unsigned long long)WN_NODE_DEFAULT_LATE_WINDOW_MS,
            WN_NODE_DEFAULT_CP_EVERY, WN_NODE_DEFAULT_CP_MS,
            WN_NODE_DEFAULT_MAX_CONNECTIONS, WN_NODE_DEFAULT_MAX_PER_IP, WN_NODE_DEFAULT_TIMEOUT_MS);
    usage_anchor(f);
}

static int number(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!wn_parse_u64(s, max, out) || *out < min) {
        fprintf(stderr, "wn-node: %s must be a whole number from %llu to %llu\n", opt, (unsigned long long)min,
                (unsigned long long)max);
        return 0;
    }
    return 1;
}

/* The argument vector built from --config and the command line: cfg points into it, so it
 * lives until exit (freed then, so that every early return is leak-free too). */
static char **g_argv;
static int g_argc;
static void free_argv(void) { wn_config_free_argv(g_argc, g_argv); }

int main(int argc, char **argv)
{
    enum { O_DATA = 1, O_LISTEN, O_KEY, O_REGISTRAR, O_ORIGIN, O_MAX_BODY, O_SKEW, O_CP_EVERY, O_CP_MS,
           O_PORT_FILE, O_HELP, O_AUTHORITY, O_TOKENS, O_WEB,
           O_ANCHOR_RPC, O_ANCHOR_KEY, O_ANCHOR_CHAIN, O_ANCHOR_EVERY, O_ANCHOR_MS, O_ANCHOR_CONF, O_ANCHOR_POLL,
           O_ANCHOR_REPLACE, O_MAX_CONN, O_MAX_PER_IP, O_TIMEOUT, O_CONFIG, O_ALLOW_DAMAGED, O_ZONE,
           O_SM2_KEY, O_LATE_WINDOW };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA},           {"listen", required_argument, 0, O_LISTEN},
        {"key", required_argument, 0, O_KEY},             {"registrar", required_argument, 0, O_REGISTRAR},
        {"origin", required_argument, 0, O_ORIGIN},       {"max-body", required_argument, 0, O_MAX_BODY},
        {"skew-ms", required_argument, 0, O_SKEW},        {"checkpoint-every", required_argument, 0, O_CP_EVERY},
        {"checkpoint-ms", required_argument, 0, O_CP_MS}, {"port-file", required_argument, 0, O_PORT_FILE},
        {"help", no_argument, 0, O_HELP},                 {"authority", required_argument, 0, O_AUTHORITY},
        {"tokens", required_argument, 0, O_TOKENS},       {"web", required_argument, 0, O_WEB},
        {"anchor-rpc", required_argument, 0, O_ANCHOR_RPC}, {"anchor-key", required_argument, 0, O_ANCHOR_KEY},
        {"anchor-chain-id", required_argument, 0, O_ANCHOR_CHAIN},
        {"anchor-every", required_argument, 0, O_ANCHOR_EVERY}, {"anchor-ms", required_argument, 0, O_ANCHOR_MS},
        {"anchor-confirmations", required_argument, 0, O_ANCHOR_CONF},
        {"anchor-poll-ms", required_argument, 0, O_ANCHOR_POLL},
        {"anchor-replace-ms", required_argument, 0, O_ANCHOR_REPLACE},
        {"max-connections", required_argument, 0, O_MAX_CONN}, {"max-per-ip", required_argument, 0, O_MAX_PER_IP},
        {"timeout-ms", required_argument, 0, O_TIMEOUT},
        {"late-window-ms", required_argument, 0, O_LATE_WINDOW},
        {"config", required_argument, 0, O_CONFIG}, /* consumed by wn_config_merge_argv */
        {"allow-damaged-entries", no_argument, 0, O_ALLOW_DAMAGED},
        {"zone", required_argument, 0, O_ZONE},
        {"notary-sm2-key", required_argument, 0, O_SM2_KEY},
        {0, 0, 0, 0},
    };
    wn_node_config cfg = {.listen = WN_NODE_DEFAULT_LISTEN, .max_body = WN_NODE_DEFAULT_MAX_BODY,
                          .skew_ms = WN_NODE_DEFAULT_SKEW_MS, .late_window_ms = WN_NODE_DEFAULT_LATE_WINDOW_MS,
                          .checkpoint_every = WN_NODE_DEFAULT_CP_EVERY,
                          .checkpoint_ms = WN_NODE_DEFAULT_CP_MS, .max_connections = WN_NODE_DEFAULT_MAX_CONNECTIONS,
                          .max_per_ip = WN_NODE_DEFAULT_MAX_PER_IP, .timeout_ms = WN_NODE_DEFAULT_TIMEOUT_MS};
    uint64_t v;
    int c;
    char cerr[512];
    /* the --config file's options, then the command line's (node/config_file.h) */
    if (!wn_config_merge_argv(argc, argv, opts, &g_argc, &g_argv, cerr, sizeof cerr)) {
        fprintf(stderr, "wn-node: %s\n", cerr);
        return 2;
    }
    atexit(free_argv);
    argc = g_argc;
    argv = g_argv;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: cfg.data_dir = optarg; break;
        case O_LISTEN: cfg.listen = optarg; break;
        case O_KEY: cfg.key_file = optarg; break;
        case O_SM2_KEY: cfg.sm2_key_file = optarg; break;
        case O_REGISTRAR: cfg.registrar_hex = optarg; break;
        case O_AUTHORITY: cfg.authority_hex = optarg; break;
        case O_ORIGIN: cfg.origin = optarg; break;
        case O_MAX_BODY:
            if (!number("--max-body", optarg, 1, 1u << 30, &v)) return 2;
            cfg.max_body = (size_t)v;
            break;
        case O_SKEW:
            if (!number("--skew-ms", optarg, 0, 1ULL << 40, &v)) return 2;
            cfg.skew_ms = v;
            break;
        case O_LATE_WINDOW:
            if (!number("--late-window-ms", optarg, 1, 1ULL << 45, &v)) return 2;
            cfg.late_window_ms = v;
            break;
        case O_CP_EVERY:
            if (!number("--checkpoint-every", optarg, 1, 1ULL << 40, &v)) return 2;
            cfg.checkpoint_every = v;
            break;
        case O_CP_MS:
            if (!number("--checkpoint-ms", optarg, 1, 1ULL << 40, &v)) return 2;
            cfg.checkpoint_ms = v;
            break;
        case O_PORT_FILE: cfg.port_file = optarg; break;
        case O_TOKENS: cfg.tokens_file = optarg; break;
        case O_WEB: cfg.web_dir = optarg; break;
        case O_ZONE: {
            int zm;
            if (!wn_zone_parse(optarg, &zm)) {
                fprintf(stderr, "wn-node: --zone must be an offset from UTC, +HH:MM or -HH:MM up to 14:00 (e.g. +08:00)\n");
                return 2;
            }
            cfg.zone = optarg;
            break;
        }
        case O_ALLOW_DAMAGED: cfg.allow_damaged = 1; break;
        case O_ANCHOR_RPC: cfg.anchor.rpc_url = optarg; break;
        case O_ANCHOR_KEY: cfg.anchor.key_file = optarg; break;
        case O_ANCHOR_CHAIN:
            if (!number("--anchor-chain-id", optarg, 1, 1ULL << 52, &cfg.anchor.chain_id)) return 2;
            break;
        case O_ANCHOR_EVERY:
            if (!number("--anchor-every", optarg, 1, 1ULL << 40, &cfg.anchor.every)) return 2;
            break;
        case O_ANCHOR_MS:
            if (!number("--anchor-ms", optarg, 1, 1ULL << 40, &cfg.anchor.ms)) return 2;
            break;
        case O_ANCHOR_CONF:
            if (!number("--anchor-confirmations", optarg, 1, 1000000, &cfg.anchor.confirmations)) return 2;
            break;
        case O_ANCHOR_POLL:
            if (!number("--anchor-poll-ms", optarg, 10, 3600000, &cfg.anchor.poll_ms)) return 2;
            break;
        case O_ANCHOR_REPLACE:
            if (!number("--anchor-replace-ms", optarg, 100, 1ULL << 40, &cfg.anchor.replace_ms)) return 2;
            break;
        case O_MAX_CONN:
            if (!number("--max-connections", optarg, 1, 1000000, &v)) return 2;
            cfg.max_connections = (unsigned)v;
            break;
        case O_MAX_PER_IP:
            if (!number("--max-per-ip", optarg, 0, 1000000, &v)) return 2;
            cfg.max_per_ip = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (!number("--timeout-ms", optarg, 100, 3600000, &v)) return 2;
            cfg.timeout_ms = (unsigned)v;
            break;
        case O_CONFIG: fprintf(stderr, "wn-node: write --config in full\n"); return 2;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !cfg.data_dir) {
        fprintf(stderr, "wn-node: %s\n\n", optind < argc ? "unexpected argument" : "--data DIR is required");
        usage(stderr);
        return 2;
    }

    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    wn_node *node;
    if (!wn_node_open(&node, &cfg)) {
        wn_log("not started");
        return 1;
    }
    int sig = 0;
    sigwait(&stop, &sig);
    wn_log("%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    wn_node_close(node);
    wn_log("stopped");
    return 0;
}
