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
 * DIR/anchors anchor records, DIR/anchor.key the anchoring key (anchor/anchor.h; with --anchor-rpc)
 * DIR/node.lock  held while the node runs; DIR/checkpoint.last  the last checkpoint it signed
 *             (datadir.h). Before anything is served, key, ledger and that checkpoint must agree
 *             (startcheck.h); a key is created only for a directory without a history. */
#include "node/lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "node/datadir/admin_token.h"
#include "ledger/lmdb_file.h"
#include "node/certs/certs.h"
#include "node/certs/certs_state.h"
#include "node/datadir/datadir.h"
#include "node/log.h"
#include "node/metrics.h"
#include "node/server.h"
#include "node/datadir/startcheck.h"
#include "node/datadir/sm2_key.h"
#include "node/http/access.h"
#include "node/monitor/bureau.h"
#include "node/monitor/monitor.h"
#include "node/monitor/quota_files.h"
#include "node/monitor/zone.h"
#include "node/http/web.h"

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Reads the key at path, or creates it (0600) if absent and create is set. missing, if not
 * NULL, is what to say when the key is absent and may not be created. */
static int load_key(const char *path, int create, uint8_t sk[32], const char *what, const char *missing)
{
    if (access(path, F_OK) == 0) {
        if (!wn_keyfile_read(path, sk)) {
            wn_log("cannot use the %s key %s: %s", what, path, wn_keyfile_strerror(errno));
            return 0;
        }
        return 1;
    }
    if (!create) {
        wn_log("%s key %s does not exist%s", what, path, missing ? missing : "");
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

/* The keys, after the ledger is open: a key is made only for a directory without a history
 * (a new key for an existing ledger would sign it under a new identity). */
static int setup_keys(wn_node *n)
{
    char path[4200], missing[600];
    const wn_node_config *cfg = &n->cfg;
    uint64_t size = 0;
    int history = wn_startcheck_has_history(cfg->data_dir, n->ledger, &size);
    if (cfg->key_file) snprintf(path, sizeof path, "%s", cfg->key_file);
    else path_in(path, sizeof path, cfg->data_dir, "notary.key");
    snprintf(n->key_path, sizeof n->key_path, "%s", path);
    snprintf(missing, sizeof missing,
             ", but %s holds a ledger of %llu entries or a checkpoint signed with it (" WN_DATADIR_CHECKPOINT
             "): restore the key "
             "from a backup (a new key would sign this ledger under a new identity; a new key needs a new "
             "--data directory)",
             cfg->data_dir, (unsigned long long)size);
    if (!load_key(path, cfg->key_file == NULL && !history, n->notary_sk, "notary", history ? missing : NULL)) return 0;
    if (!wn_seckey_xonly(n->notary_pk, n->notary_sk) || !wn_signer_init(&n->notary_signer, n->notary_sk)) return 0;

    if (!cfg->registrar_hex) {
        uint8_t rsk[32];
        path_in(path, sizeof path, cfg->data_dir, "registrar.key");
        snprintf(missing, sizeof missing,
                 ", but the ledger in %s holds %llu entries, whose enrolments it may have signed: restore it from "
                 "a backup, or start with --registrar PUBHEX naming the registrar that signed them",
                 cfg->data_dir, (unsigned long long)size);
        if (!load_key(path, size == 0, rsk, "registrar", size ? missing : NULL)) return 0;
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
    uint8_t bip_id[4];
    char why[5000];
    wn_note_keyid(bip_id, n->origin, n->notary_pk);
    int sm2 = wn_datadir_sm2_key(cfg->data_dir, cfg->sm2_key_file, n->origin, bip_id, n->notary_sm2_sk,
                                 n->notary_sm2_pub, why, sizeof why);
    if (sm2 < 0) {
        wn_log("%s", why);
        return 0;
    }
    n->has_sm2 = sm2;
    if (sm2) {
        char hex[67];
        wn_hex_encode(hex, n->notary_sm2_pub, 33);
        wn_log("checkpoints are co-signed with the SM2 key %s (public key %s)", cfg->sm2_key_file, hex);
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

/* An LMDB store that cannot be rebuilt from the ledger: refuse one whose data.mdb is shorter
 * than LMDB says (mapping it would end the node with SIGBUS). */
static int store_file_ok(const char *dir, const char *what)
{
    uint64_t need, have;
    int e = wn_lmdb_file_check(dir, &need, &have);
    if (e == WN_LMDB_FILE_SHORT || e == WN_LMDB_FILE_BADMETA) {
        wn_log("%s/data.mdb (%s) is %s: %llu bytes where %llu are needed. Restore %s from a backup",
               dir, what, wn_lmdb_file_strerror(e), (unsigned long long)have, (unsigned long long)need, dir);
        return 0;
    }
    return 1;
}

/* checkpointer on_signed: DIR/checkpoint.last follows every signed checkpoint. */
static int keep_checkpoint(void *ctx, uint64_t size, const char *note, size_t len)
{
    wn_node *n = ctx;
    if (wn_datadir_save_checkpoint(n->cfg.data_dir, note, len)) return 1;
    wn_log("checkpoint: cannot write %s/%s for size %llu: %s", n->cfg.data_dir, WN_DATADIR_CHECKPOINT,
           (unsigned long long)size, strerror(errno));
    return 0;
}

/* After each durable append (committer thread): the monitor is told (it catches up on its
 * own thread, and every monitor reader catches up first, so answers still reflect every
 * acknowledged reading), then the checkpointer. */
static void on_commit(void *ctx, uint64_t size)
{
    wn_node *n = ctx;
    if (n->monitor) wn_monitor_nudge(n->monitor, size);
    wn_checkpointer_notify(n->checkpointer, size);
}

/* The page's enterprise names (node/monitor/names.h): the registered name of the record in
 * force, from the certificate store, which keeps every enterprise record (entry 0x08). */
static int registered_name(void *ctx, const char *ent, char *name, size_t cap)
{
    wn_certs *s = ctx;
    pthread_rwlock_rdlock(&s->lock);
    const wn_ent_rec *r = wn_certs_enterprise(s, ent, UINT64_MAX, NULL);
    if (r) snprintf(name, cap, "%s", r->e.name);
    pthread_rwlock_unlock(&s->lock);
    return r != NULL;
}

int wn_node_open(wn_node **out, const wn_node_config *cfg)
{
    char path[4200];
    wn_node *n = calloc(1, sizeof *n);
    if (!n) return 0;
    n->cfg = *cfg;
    n->lock_fd = -1;
    if (!check_config(n)) goto fail;
    if (!setup_access(n)) goto fail;
    if (!mkdirs(cfg->data_dir)) {
        wn_log("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        goto fail;
    }
    if ((n->lock_fd = wn_datadir_lock(cfg->data_dir)) < 0) goto fail;

    path_in(path, sizeof path, cfg->data_dir, "ledger");
    int err = wn_ledger_open(&n->ledger, path, 0);
    if (err == WN_LEDGER_ETRUNCATED) {
        wn_log("the ledger %s/data.mdb is truncated or damaged (shorter than its LMDB meta page says, or no valid "
               "meta page): it cannot be used. Do not start this node on it: restore %s from a backup",
               path, path);
        goto fail;
    }
    if (err) {
        char why[600] = "";
        if (err == WN_LEDGER_EVERSION) wn_ledger_version_problem(path, why, sizeof why);
        wn_log("cannot open the ledger in %s: %s%s%s", path, wn_ledger_strerror(err), *why ? ": " : "", why);
        goto fail;
    }
    if (!setup_keys(n)) goto fail;
    char terr[4400];
    if (!wn_admin_token_setup(n->access, cfg->data_dir, terr, sizeof terr)) {
        wn_log("%s", terr);
        goto fail;
    }
    uint64_t t0 = wn_mono_ms();
    wn_startcheck_result sc;
    if (!wn_startcheck_run(cfg->data_dir, n->ledger, n->notary_pk, n->key_path, cfg->allow_damaged, &sc)) goto fail;
    wn_log("start check: ledger of %llu entries agrees with the notary key and the signed checkpoint of size %llu; "
           "entries %llu..%llu re-hashed%s in %llu ms%s",
           (unsigned long long)sc.ledger_size, (unsigned long long)sc.signed_size, (unsigned long long)sc.from,
           (unsigned long long)(sc.to ? sc.to - 1 : 0), sc.damaged ? " (DAMAGED: see the error above)" : "",
           (unsigned long long)(wn_mono_ms() - t0),
           sc.wrote_last ? "; " WN_DATADIR_CHECKPOINT " written from the ledger's newest checkpoint" : "");
    path_in(path, sizeof path, cfg->data_dir, "state");
    if (!wn_state_open(&n->state, path, n->ledger)) goto fail;
    wn_metrics_ledger_size(wn_state_applied(n->state));
    path_in(path, sizeof path, cfg->data_dir, "certs");
    if (!wn_certs_open(&n->certs, path, n->ledger)) goto fail;
    path_in(path, sizeof path, cfg->data_dir, "bureau");
    if (!store_file_ok(path, "the bureau's settings, plans and acknowledgements")) goto fail;
    if (!wn_bureau_open(&n->bureau, path)) goto fail;
    char qdir[4200], qerr[600];
    snprintf(qdir, sizeof qdir, "%s/quotas", n->web_dir);
    if (!wn_quota_files_load(qdir, qerr, sizeof qerr)) {
        wn_log("quota tables: %s", qerr);
        goto fail;
    }
    int zone = WN_ZONE_DEFAULT_MIN;
    if (n->cfg.zone && !wn_zone_parse(n->cfg.zone, &zone)) goto fail; /* main checked it */
    wn_zone_set(zone);
    if (!wn_monitor_open(&n->monitor, wn_state_env(n->state), n->ledger, n->bureau)) goto fail;
    wn_monitor_set_name_registry(n->monitor, registered_name, n->certs);

    wn_checkpointer_config cc = {.ledger = n->ledger, .seckey = n->notary_sk, .origin = n->origin,
                                 .sm2_seckey = n->has_sm2 ? n->notary_sm2_sk : NULL,
                                 .every = cfg->checkpoint_every, .ms = cfg->checkpoint_ms,
                                 .on_signed = keep_checkpoint, .on_signed_ctx = n};
    if (!wn_checkpointer_start(&n->checkpointer, &cc)) {
        wn_log("cannot start the checkpointer");
        goto fail;
    }
    if (cfg->anchor.rpc_url) {
        path_in(path, sizeof path, cfg->data_dir, "anchors");
        if (!store_file_ok(path, "the anchor records")) goto fail;
    }
    if (cfg->anchor.rpc_url && !wn_anchorer_start(&n->anchorer, &cfg->anchor, cfg->data_dir, n->ledger, n->origin))
        goto fail;
    wn_committer_config mc = {.ledger = n->ledger, .state = n->state, .skew_ms = cfg->skew_ms,
                              .late_window_ms = cfg->late_window_ms,
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
    wn_datadir_unlock(n->lock_fd);         /* last: nothing of DIR is open any more */
    memset(n->notary_sk, 0, sizeof n->notary_sk);
    memset(n->notary_sm2_sk, 0, sizeof n->notary_sm2_sk);
    wn_signer_clear(&n->notary_signer);
    free(n);
}
