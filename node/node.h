/* node.h — the notary node as one object: its configuration, keys, ledger, state, and
 * the committer, checkpointer and HTTP server threads. Opening and closing it is
 * lifecycle.h's; the handlers that serve docs/PROTOCOL.md §9 live in the subsystem
 * folders and take a request's parts and fill a wn_response without knowing about HTTP. */
#ifndef WN_NODE_NODE_H
#define WN_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"
#include "node/anchor/anchor.h"
#include "node/ingest/checkpointer.h"
#include "node/ingest/committer.h"
#include "node/http/parse.h"
#include "node/http/reply.h"
#include "node/ingest/state.h"

typedef struct {
    const char *data_dir;       /* --data (required) */
    const char *listen;         /* --listen HOST:PORT (default 127.0.0.1:8420) */
    const char *key_file;       /* --key (default DIR/notary.key, created 0600 if absent) */
    const char *sm2_key_file;   /* --notary-sm2-key: SM2 key co-signing checkpoints (node/datadir/sm2_key.h) */
    const char *registrar_hex;  /* --registrar (default: DIR/registrar.key's, created if absent) */
    const char *authority_hex;  /* --authority: signs savings certificates (default: the registrar) */
    const char *origin;         /* --origin (default "waternotary/" + 16 hex of the notary key) */
    size_t max_body;            /* --max-body (default 4 MiB) */
    uint64_t skew_ms;           /* --skew-ms (default 300000) */
    uint64_t late_window_ms;    /* --late-window-ms (default 30 days): older readings are marked late */
    uint64_t checkpoint_every;  /* --checkpoint-every (default 1000) */
    uint64_t checkpoint_ms;     /* --checkpoint-ms (default 1000) */
    wn_anchor_options anchor;   /* --anchor-* (anchor.h); anchoring is off without --anchor-rpc */
    const char *port_file;      /* --port-file */
    const char *tokens_file;    /* --tokens FILE: bearer tokens for the monitoring API and meters' data */
    const char *web_dir;        /* --web DIR: the monitoring page (default: web/ beside the binary, else ./web) */
    const char *zone;           /* --zone +HH:MM: the bureau's days and buckets (NULL: +08:00; monitor/zone.h) */
    unsigned max_connections;   /* --max-connections (0: default; lowered to fit the open-file limit) */
    unsigned max_per_ip;        /* --max-per-ip (0: no per-address cap) */
    unsigned timeout_ms;        /* --timeout-ms to deliver a whole request (0: default) */
    int allow_damaged;          /* --allow-damaged-entries: start although the newest entries do not
                                   re-hash (node/datadir/startcheck.h) */
} wn_node_config;

#define WN_NODE_DEFAULT_LISTEN "127.0.0.1:8420"
#define WN_NODE_DEFAULT_MAX_BODY (4u << 20)
#define WN_NODE_DEFAULT_SKEW_MS 300000u
#define WN_NODE_DEFAULT_LATE_WINDOW_MS (30ULL * 86400000ULL) /* 30 days */
#define WN_NODE_DEFAULT_CP_EVERY 1000u
#define WN_NODE_DEFAULT_CP_MS 1000u
#define WN_NODE_DEFAULT_MAX_CONNECTIONS 10000u
#define WN_NODE_DEFAULT_MAX_PER_IP 2500u
#define WN_NODE_DEFAULT_TIMEOUT_MS 30000u

struct wn_server;
struct wn_certs;
struct wn_monitor;
struct wn_bureau;
struct wn_access;

typedef struct wn_node {
    wn_node_config cfg;
    uint8_t notary_sk[32];
    wn_signer notary_signer; /* notary_sk prepared for signing receipts */
    uint8_t notary_pk[32];
    int has_sm2;                /* checkpoints are co-signed with SM2 (--notary-sm2-key) */
    uint8_t notary_sm2_sk[32];
    uint8_t notary_sm2_pub[33]; /* compressed */
    uint8_t registrar[32];
    uint8_t authority[32];      /* the evaluating authority's x-only key (certs.c) */
    char origin[WN_ORIGIN_MAX + 1];
    wn_ledger *ledger;
    wn_state *state;
    wn_committer *committer;
    wn_checkpointer *checkpointer;
    wn_anchorer *anchorer;      /* NULL when the node does not anchor (anchor.h) */
    struct wn_certs *certs;     /* savings certificates and their balances (certs.h) */
    struct wn_server *server;
    unsigned port;              /* the port actually bound */
    struct wn_bureau *bureau;   /* settings, plans, acknowledgements (bureau.h) */
    struct wn_monitor *monitor; /* aggregates and alerts for the bureau (monitor.h) */
    struct wn_access *access;   /* bearer tokens; NULL: no access control (access.h) */
    char web_dir[4096];         /* the monitoring page's files (web.h) */
    int lock_fd;                /* holds DIR/node.lock (datadir.h); -1 when not held */
    char key_path[4200];        /* the notary key file (--key or DIR/notary.key), for messages */
} wn_node;

#endif
