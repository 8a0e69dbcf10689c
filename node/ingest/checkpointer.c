/* checkpointer.c — signs and stores checkpoints every N entries or T ms (see checkpointer.h). */
#include "node/ingest/checkpointer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/checkpoint_sm2.h"
#include "node/log.h"
#include "node/metrics.h"

struct wn_checkpointer {
    wn_checkpointer_config cfg;
    char origin[WN_ORIGIN_MAX + 1];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t size;          /* ledger size as last notified */
    uint64_t cp_size;       /* size of the latest stored checkpoint */
    uint64_t pending_since; /* monotonic ms when size first exceeded cp_size */
    int stopping;
};

/* Signs and stores the checkpoint of `size`. Returns: 1 on success. */
static int make_checkpoint(wn_checkpointer *cp, uint64_t size)
{
    wn_checkpoint c;
    memset(&c, 0, sizeof c);
    memcpy(c.origin, cp->origin, sizeof c.origin);
    c.size = size;
    c.has_time = size > 0 && wn_entry_commit_time_at(cp->cfg.ledger, size - 1, &c.time_ms); /* PROTOCOL §4 */
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len = 0;
    int err = wn_ledger_root(cp->cfg.ledger, size, c.root);
    if (err) {
        wn_log("checkpoint: cannot compute the root of size %llu: %s", (unsigned long long)size,
               wn_ledger_strerror(err));
        return 0;
    }
    int cerr = wn_checkpoint_sign(&c, cp->cfg.seckey, note, sizeof note, &len);
    if (cerr != WN_CHECKPOINT_OK) {
        wn_log("checkpoint: cannot sign: %s", wn_checkpoint_strerror(cerr));
        return 0;
    }
    if (cp->cfg.sm2_seckey) {
        char bip[WN_CHECKPOINT_MAX + 1];
        memcpy(bip, note, len + 1);
        if ((cerr = wn_checkpoint_cosign_sm2(bip, len, cp->cfg.sm2_seckey, note, sizeof note, &len))) {
            wn_log("checkpoint: cannot co-sign with SM2: %s", wn_checkpoint_strerror(cerr));
            return 0;
        }
    }
    /* Kept outside the ledger first: if the store below fails, the kept note is still one
     * of entries the ledger holds. */
    if (cp->cfg.on_signed && !cp->cfg.on_signed(cp->cfg.on_signed_ctx, size, note, len)) return 0;
    if ((err = wn_ledger_put_checkpoint(cp->cfg.ledger, size, note, len))) {
        wn_log("checkpoint: cannot store size %llu: %s", (unsigned long long)size, wn_ledger_strerror(err));
        return 0;
    }
    char root[WN_B64_LEN(32) + 1];
    wn_base64_encode(root, c.root, 32);
    wn_log("checkpoint: size %llu root %s", (unsigned long long)size, root);
    wn_metrics_checkpoint_size(size);
    return 1;
}

static void deadline(struct timespec *ts, uint64_t mono_ms)
{
    ts->tv_sec = (time_t)(mono_ms / 1000);
    ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

static void *checkpointer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "wn-checkpoint"); /* for top -H and bench_node */
    wn_checkpointer *cp = arg;
    pthread_mutex_lock(&cp->mu);
    for (;;) {
        if (cp->size > cp->cp_size) {
            uint64_t due = cp->pending_since + cp->cfg.ms;
            if (cp->stopping || cp->size - cp->cp_size >= cp->cfg.every || wn_mono_ms() >= due) {
                uint64_t size = cp->size;
                pthread_mutex_unlock(&cp->mu);
                int ok = make_checkpoint(cp, size);
                pthread_mutex_lock(&cp->mu);
                if (ok) {
                    cp->cp_size = size;
                    cp->pending_since = wn_mono_ms();
                } else if (cp->stopping) {
                    break;
                } else {
                    cp->pending_since = wn_mono_ms(); /* retry after another interval */
                }
                continue;
            }
            struct timespec ts;
            deadline(&ts, due);
            pthread_cond_timedwait(&cp->cv, &cp->mu, &ts);
        } else {
            if (cp->stopping) break;
            pthread_cond_wait(&cp->cv, &cp->mu);
        }
    }
    pthread_mutex_unlock(&cp->mu);
    return NULL;
}

int wn_checkpointer_start(wn_checkpointer **out, const wn_checkpointer_config *cfg)
{
    wn_checkpointer *cp = calloc(1, sizeof *cp);
    if (!cp) return 0;
    cp->cfg = *cfg;
    if (cp->cfg.every == 0) cp->cfg.every = 1;
    strncpy(cp->origin, cfg->origin, WN_ORIGIN_MAX);
    char buf[WN_CHECKPOINT_MAX + 1];
    size_t len;
    uint64_t found = 0;
    int err = wn_ledger_get_checkpoint(cfg->ledger, 0, buf, sizeof buf, &len, &found);
    if (err != WN_LEDGER_OK && err != WN_LEDGER_ENOTFOUND) {
        wn_log("checkpoint: cannot read the latest checkpoint: %s", wn_ledger_strerror(err));
        free(cp);
        return 0;
    }
    cp->cp_size = err == WN_LEDGER_OK ? found : 0;
    if ((err = wn_ledger_size(cfg->ledger, &cp->size))) {
        free(cp);
        return 0;
    }
    wn_metrics_checkpoint_size(cp->cp_size);
    cp->pending_since = 0; /* if the ledger is ahead, the first checkpoint is due at once */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cp->cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&cp->mu, NULL);
    if (pthread_create(&cp->thread, NULL, checkpointer_main, cp) != 0) {
        pthread_cond_destroy(&cp->cv);
        pthread_mutex_destroy(&cp->mu);
        free(cp);
        return 0;
    }
    *out = cp;
    return 1;
}

void wn_checkpointer_notify(void *arg, uint64_t size)
{
    wn_checkpointer *cp = arg;
    pthread_mutex_lock(&cp->mu);
    if (size > cp->size) {
        if (cp->size == cp->cp_size) cp->pending_since = wn_mono_ms(); /* the interval starts now */
        cp->size = size;
        pthread_cond_signal(&cp->cv);
    }
    pthread_mutex_unlock(&cp->mu);
}

void wn_checkpointer_stop(wn_checkpointer *cp)
{
    if (!cp) return;
    pthread_mutex_lock(&cp->mu);
    cp->stopping = 1;
    pthread_cond_signal(&cp->cv);
    pthread_mutex_unlock(&cp->mu);
    pthread_join(cp->thread, NULL);
    pthread_cond_destroy(&cp->cv);
    pthread_mutex_destroy(&cp->mu);
    free(cp);
}
