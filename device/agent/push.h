/* push.h — sends the pending readings of one or many meters to a notary node in binary
 * batches (application/vnd.waternotary.readings: repeated u16 length || reading), checks
 * every receipt (notary signature, leaf hash of the reading sent) and records it in the
 * meter's receipts log. "duplicate" answers carry the original receipt and count as acks.
 * Any other per-reading rejection means a bug or tampering: it is reported and that
 * meter sends nothing more. */
#ifndef WN_AGENT_PUSH_H
#define WN_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "device/agent/http.h"
#include "device/meter.h"

typedef struct {
    wn_meter *m;
    char label[64];      /* how messages name the meter (e.g. its directory) */
    int stopped;         /* a reading was rejected or a receipt did not verify */
    /* private */
    wn_meter_iter it;
    int drained;
} wn_push_meter;

typedef struct {
    wn_http *http;
    uint8_t notary[32];  /* the notary's x-only key: receipts must verify with it */
    size_t batch;        /* readings per request; halved on 413 body_too_large */
    int quiet;           /* no progress lines */
    size_t compact_after; /* compact a meter's log once this many acked readings are in it */
    uint64_t accepted, duplicates, rejected, bad_receipts, batches;
} wn_pusher;

/* Result codes (also the process exit codes of wn-meter push/simulate). */
enum {
    WN_PUSH_OK = 0,       /* every pending reading of every meter is acked */
    WN_PUSH_REJECTED = 1, /* a meter was stopped: a rejection or a receipt that failed */
    WN_PUSH_LOCAL = 2,    /* a meter's state could not be read or written */
    WN_PUSH_NODE = 3      /* the node could not be reached or answered out of protocol */
};

/* Initialises p with defaults (batch 256, compact_after 1024). */
void wn_pusher_init(wn_pusher *p, wn_http *http, const uint8_t notary[32]);

/* Pushes until every meter that is not stopped has nothing pending.
 * Returns: a WN_PUSH_* code (the worst seen). */
int wn_push(wn_pusher *p, wn_push_meter *ms, size_t n);

#endif
