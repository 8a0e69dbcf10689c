/* main.c — wn-node: the WaterNotary notary service. Parses options, starts the node
 * (node.c) in the foreground and shuts it down cleanly on SIGTERM or SIGINT. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/node.h"

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
            "  --data DIR              data directory (created if absent): ledger, state, keys\n"
            "  --listen HOST:PORT      address to listen on (default " WN_NODE_DEFAULT_LISTEN "; port 0 = any free)\n"
            "  --key FILE              notary secret key file (default DIR/notary.key, created 0600 if absent)\n"
            "  --registrar PUBHEX      the registrar's x-only public key (64 hex); without it DIR/registrar.key\n"
            "                          is created on first start and its public key used (for demos)\n"
            "  --authority PUBHEX      the evaluating authority's x-only key, which signs savings certificates\n"
            "                          (default: the registrar's)\n"
            "  --origin TEXT           checkpoint origin (default waternotary/<first 16 hex of the notary key>)\n"
            "  --max-body BYTES        largest request body (default %u)\n"
            "  --skew-ms MS            how far a reading's time may be ahead of this clock (default %u)\n"
            "  --checkpoint-every N    sign a checkpoint after N new entries (default %u)\n"
            "  --checkpoint-ms MS      ... or MS milliseconds after the first new entry (default %u)\n"
            "  --port-file FILE        write the bound port to FILE once listening\n"
            "  --tokens FILE           bearer tokens, one per line \"TOKEN bureau\" or \"TOKEN enterprise ID\":\n"
            "                          the monitoring API and meters' data then need one (docs/PROTOCOL.md 18)\n"
            "  --web DIR               the monitoring page served at /ui/ (default: web/ beside the binary's\n"
            "                          bin/ directory, else ./web)\n"
            "  --help                  this text\n"
            "\n"
            "example:\n"
            "  wn-node --data /var/lib/waternotary --listen 127.0.0.1:8420 \\\n"
            "          --registrar 3b1f...e9 --checkpoint-every 1000 --checkpoint-ms 1000\n",
            WN_NODE_DEFAULT_MAX_BODY, WN_NODE_DEFAULT_SKEW_MS, WN_NODE_DEFAULT_CP_EVERY, WN_NODE_DEFAULT_CP_MS);
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

int main(int argc, char **argv)
{
    enum { O_DATA = 1, O_LISTEN, O_KEY, O_REGISTRAR, O_ORIGIN, O_MAX_BODY, O_SKEW, O_CP_EVERY, O_CP_MS,
           O_PORT_FILE, O_HELP, O_AUTHORITY, O_TOKENS, O_WEB };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA},           {"listen", required_argument, 0, O_LISTEN},
        {"key", required_argument, 0, O_KEY},             {"registrar", required_argument, 0, O_REGISTRAR},
        {"origin", required_argument, 0, O_ORIGIN},       {"max-body", required_argument, 0, O_MAX_BODY},
        {"skew-ms", required_argument, 0, O_SKEW},        {"checkpoint-every", required_argument, 0, O_CP_EVERY},
        {"checkpoint-ms", required_argument, 0, O_CP_MS}, {"port-file", required_argument, 0, O_PORT_FILE},
        {"help", no_argument, 0, O_HELP},                 {"authority", required_argument, 0, O_AUTHORITY},
        {"tokens", required_argument, 0, O_TOKENS},       {"web", required_argument, 0, O_WEB},
        {0, 0, 0, 0},
    };
    wn_node_config cfg = {.listen = WN_NODE_DEFAULT_LISTEN, .max_body = WN_NODE_DEFAULT_MAX_BODY,
                          .skew_ms = WN_NODE_DEFAULT_SKEW_MS, .checkpoint_every = WN_NODE_DEFAULT_CP_EVERY,
                          .checkpoint_ms = WN_NODE_DEFAULT_CP_MS};
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: cfg.data_dir = optarg; break;
        case O_LISTEN: cfg.listen = optarg; break;
        case O_KEY: cfg.key_file = optarg; break;
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
