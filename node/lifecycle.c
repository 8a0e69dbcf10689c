/* lifecycle.c — assembling the node: data directory, notary and registrar keys, origin, ledger,
 * state, committer, checkpointer and HTTP server, started in dependency order and
 * stopped in reverse (so every request in flight is answered and the last entries get a
 * checkpoint before the ledger closes).
 *
 * DIR/ledger  the ledger (ledger/ledger.h)         DIR/notary.key     default notary key
 * DIR/state   the node state (ingest/state.h)      DIR/registrar.key  demo registrar key
 *             and the monitor's aggregates (monitor/monitor.h)
 * DIR/bureau  bureau settings, plans, acknowledgements (monitor/bureau.h)
 * DIR/certs   savings certificates (certs/certs.h)     DIR/admin.token  bureau token (admin_token.h)
 * DIR/anchors anchor records, DIR/anchor.key the anchoring key (anchor/anchor.h; with --anchor-rpc) */
#include "node/lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/admin_token.h"
#include "node/certs/certs.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/server.h"
#include "node/http/access.h"
#include "node/monitor/bureau.h"
#include "node/monitor/monitor.h"
#include "node/http/web.h"

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Reads the key at path, or creates it (0600) if absent and create is set. */
static int load_key(const char *path, int create, uint8_t sk[32], const char *what)
{
    if (access(path, F_OK) == 0) {
        if (!wn_keyfile_read(path, sk)) {
            wn_log("%s key %s is unreadable or malformed (64 hex characters and a newline, mode 0600)", what, path);
            return 0;
        }
        return 1;
    }
    if (!create) {
        wn_log("%s key %s does not exist", what, path);
        return 0;
    }
    if (!wn_keyfile_create(path, sk, NULL)) {
        wn_log("cannot create %s key %s: %s", what, path, strerror(errno));
        return 0;
    }
    wn_log("created %s key %s", what, path);
    return 1;
}

/* mkdir -p dir (mode 0700 for what it creates). Returns: 1, or 0 with errno set. */
static int mkdirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return 0;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) return 0;
        *c = '/';
    }
    return mkdir(p, 0700) == 0 || errno == EEXIST;
}

static int origin_ok(const char *o)
{
    size_t n = strlen(o);
    if (n == 0 || n > WN_ORIGIN_MAX) return 0;
    for (const unsigned char *c = (const unsigned char *)o; *c; c++)
        if (*c <= 0x20 || *c == '+' || *c == 0x7f) return 0;
    return 1;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return 0;
    int ok = fprintf(f, "%u\n", port) > 0;
    ok &= fclose(f) == 0;
    return ok && rename(tmp, path) == 0;
}

/* Checks what can be checked before anything is created on disk. */
static int check_config(wn_node *n)
{
    const wn_node_config *cfg = &n->cfg;
    if (cfg->registrar_hex &&
        (!wn_parse_hex32(cfg->registrar_hex, n->registrar) || !wn_xonly_valid(n->registrar))) {
        wn_log("--registrar must be the registrar's x-only public key: 64 lowercase hex characters");
        return 0;
    }
    if (cfg->authority_hex &&
        (!wn_parse_hex32(cfg->authority_hex, n->authority) || !wn_xonly_valid(n->authority))) {
        wn_log("--authority must be the evaluating authority's x-only public key: 64 lowercase hex characters");
        return 0;
    }
    if (cfg->origin && !origin_ok(cfg->origin)) {
        wn_log("--origin must be 1..%d printable characters without spaces or '+'", WN_ORIGIN_MAX);
        return 0;
    }
    if (!wn_server_check_listen(cfg->listen)) {
        wn_log("--listen '%s' is not a usable HOST:PORT", cfg->listen);
        return 0;
    }
    char why[200];
    if (!wn_anchor_options_check(&cfg->anchor, why, sizeof why)) {
        wn_log("%s", why);
        return 0;
    }
    return 1;
}

static int setup_keys(wn_node *n)
{
    char path[4200];
    const wn_node_config *cfg = &n->cfg;
    if (cfg->key_file) snprintf(path, sizeof path, "%s", cfg->key_file);
    else path_in(path, sizeof path, cfg->data_dir, "notary.key");
    if (!load_key(path, cfg->key_file == NULL, n->notary_sk, "notary")) return 0;
    if (!wn_seckey_xonly(n->notary_pk, n->notary_sk) || !wn_signer_init(&n->notary_signer, n->notary_sk)) return 0;

    if (!cfg->registrar_hex) {
        uint8_t rsk[32];
        path_in(path, sizeof path, cfg->data_dir, "registrar.key");
        if (!load_key(path, 1, rsk, "registrar")) return 0;
        int ok = wn_seckey_xonly(n->registrar, rsk);
        memset(rsk, 0, sizeof rsk);
        if (!ok) return 0;
        char hex[65];
        wn_hex_encode(hex, n->registrar, 32);
        wn_log("registrar: no --registrar given, using %s (public key %s); for demos only", path, hex);
    }
    if (!cfg->authority_hex) memcpy(n->authority, n->registrar, 32); /* the water bureau evaluates */
    if (cfg->origin) {
        snprintf(n->origin, sizeof n->origin, "%s", cfg->origin);
    } else {
        char hex[65];
        wn_hex_encode(hex, n->notary_pk, 32);
        snprintf(n->origin, sizeof n->origin, "waternotary/%.16s", hex);
    }
    return 1;
}

/* --tokens and --web, checked before anything is created on disk. */
static int setup_access(wn_node *n)
{
    char err[512];
    if (n->cfg.tokens_file) {
        if (!wn_access_load(&n->access, n->cfg.tokens_file, err, sizeof err)) {
            wn_log("--tokens: %s", err);
            return 0;
        }
        wn_log("access: %zu bearer tokens from %s; meters' data and /v1/monitor need one", wn_access_count(n->access),
               n->cfg.tokens_file);
    } else {
        wn_log("access: no --tokens file: monitoring data and meters' data are served to anyone who can connect; "
               "changing monitoring data needs the admin token");
        if (!(n->access = wn_access_new())) return 0;
    }
    if (n->cfg.web_dir) snprintf(n->web_dir, sizeof n->web_dir, "%s", n->cfg.web_dir);
    else wn_web_default_dir(n->web_dir, sizeof n->web_dir);
    return 1;
}

/* After each durable append (committer thread): the monitor's aggregates catch up before
 * any request of the group is answered, then the checkpointer is told. */
static void on_commit(void *ctx, uint64_t size)
{
    wn_node *n = ctx;
    if (n->monitor) wn_monitor_catch_up(n->monitor);
    wn_checkpointer_notify(n->checkpointer, size);
}

int wn_node_open(wn_node **out, const wn_node_config *cfg)
{
    char path[4200];
    wn_node *n = calloc(1, sizeof *n);
    if (!n) return 0;
    n->cfg = *cfg;
    if (!check_config(n)) goto fail;
    if (!setup_access(n)) goto fail;
    if (!mkdirs(cfg->data_dir)) {
        wn_log("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        goto fail;
    }
    if (!setup_keys(n)) goto fail;
    char terr[4400];
    if (!wn_admin_token_setup(n->access, cfg->data_dir, terr, sizeof terr)) {
        wn_log("%s", terr);
        goto fail;
    }

    path_in(path, sizeof path, cfg->data_dir, "ledger");
    int err = wn_ledger_open(&n->ledger, path, 0);
    if (err) {
        char why[600] = "";
        if (err == WN_LEDGER_EVERSION) wn_ledger_version_problem(path, why, sizeof why);
        wn_log("cannot open the ledger in %s: %s%s%s", path, wn_ledger_strerror(err), *why ? ": " : "", why);
        goto fail;
    }
    path_in(path, sizeof path, cfg->data_dir, "state");
    if (!wn_state_open(&n->state, path, n->ledger)) goto fail;
    wn_metrics_ledger_size(wn_state_applied(n->state));
    path_in(path, sizeof path, cfg->data_dir, "certs");
    if (!wn_certs_open(&n->certs, path, n->ledger)) goto fail;
    path_in(path, sizeof path, cfg->data_dir, "bureau");
    if (!wn_bureau_open(&n->bureau, path)) goto fail;
    if (!wn_monitor_open(&n->monitor, wn_state_env(n->state), n->ledger, n->bureau)) goto fail;

    wn_checkpointer_config cc = {.ledger = n->ledger, .seckey = n->notary_sk, .origin = n->origin,
                                 .every = cfg->checkpoint_every, .ms = cfg->checkpoint_ms};
    if (!wn_checkpointer_start(&n->checkpointer, &cc)) {
        wn_log("cannot start the checkpointer");
        goto fail;
    }
    if (cfg->anchor.rpc_url && !wn_anchorer_start(&n->anchorer, &cfg->anchor, cfg->data_dir, n->ledger, n->origin))
        goto fail;
    wn_committer_config mc = {.ledger = n->ledger, .state = n->state, .skew_ms = cfg->skew_ms,
                              .origin = n->origin, .notary = &n->notary_signer,
                              .on_commit = on_commit, .on_commit_ctx = n};
    if (!wn_committer_start(&n->committer, &mc)) {
        wn_log("cannot start the committer");
        goto fail;
    }
    if (!wn_server_start(&n->server, n, cfg->listen, cfg->max_body, &n->port)) goto fail;
    if (cfg->port_file && !write_port_file(cfg->port_file, n->port)) {
        wn_log("cannot write the port file %s: %s", cfg->port_file, strerror(errno));
        goto fail;
    }
    char pk[65], rk[65];
    wn_hex_encode(pk, n->notary_pk, 32);
    wn_hex_encode(rk, n->registrar, 32);
    wn_log("listening on %s (port %u); notary %s, registrar %s, origin %s, ledger size %llu", cfg->listen, n->port, pk,
           rk, n->origin, (unsigned long long)wn_state_applied(n->state));
    *out = n;
    return 1;
fail:
    wn_node_close(n);
    return 0;
}

void wn_node_close(wn_node *n)
{
    if (!n) return;
    wn_server_stop(n->server);             /* answers every request in flight first */
    wn_committer_stop(n->committer);
    if (n->checkpointer) wn_checkpointer_stop(n->checkpointer); /* signs the last entries */
    wn_anchorer_stop(n->anchorer);         /* reads the ledger: before it closes */
    wn_certs_close(n->certs, n->ledger);   /* after the last writer: its watermark is the ledger's size */
    wn_monitor_close(n->monitor);          /* before the state env it lives in */
    wn_state_close(n->state);
    if (n->ledger) wn_ledger_close(n->ledger);
    wn_bureau_close(n->bureau);
    wn_access_free(n->access);
    if (n->server && n->cfg.port_file) unlink(n->cfg.port_file);
    memset(n->notary_sk, 0, sizeof n->notary_sk);
    wn_signer_clear(&n->notary_signer);
    free(n);
}
