/* checkpointer.h — the thread that signs checkpoints: whenever the ledger has grown by
 * `every` entries since the last checkpoint, or `ms` milliseconds have passed since it first
 * grew beyond it, whichever comes first, it computes the root, signs the note with the
 * notary key (ledger/tlog/checkpoint.h) and stores it (wn_ledger_put_checkpoint). On stop it
 * signs a last checkpoint if the ledger is ahead of the latest one. */
#ifndef WN_NODE_CHECKPOINTER_H
#define WN_NODE_CHECKPOINTER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

typedef struct {
    wn_ledger *ledger;
    const uint8_t *seckey; /* 32 bytes, the notary key; must outlive the checkpointer */
    const uint8_t *sm2_seckey; /* NULL, or the SM2 key that co-signs each checkpoint (checkpoint_sm2.h) */
    const char *origin;    /* key name and origin line */
    uint64_t every;        /* --checkpoint-every (entries, >= 1) */
    uint64_t ms;           /* --checkpoint-ms */
    /* Called with each new signed note before it is stored in the ledger (NULL: none);
     * the node keeps it outside the ledger (node/datadir/datadir.h). Returns 1; 0 makes this
     * checkpoint fail (nothing stored; retried after another interval). */
    int (*on_signed)(void *ctx, uint64_t size, const char *note, size_t len);
    void *on_signed_ctx;
} wn_checkpointer_config;

typedef struct wn_checkpointer wn_checkpointer;

/* Starts the thread. The ledger's latest stored checkpoint and current size are read
 * here; if the ledger is ahead, a checkpoint is due at once. Returns: 1 on success. */
int wn_checkpointer_start(wn_checkpointer **out, const wn_checkpointer_config *cfg);
/* The ledger now has size entries (called by the committer after each commit). */
void wn_checkpointer_notify(void *cp, uint64_t size);
void wn_checkpointer_stop(wn_checkpointer *cp);

#endif
