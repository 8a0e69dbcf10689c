/* committer.h — group commit: the one thread that writes the ledger.
 *
 * HTTP threads decode and verify what they received (in parallel), wrap it in a job and
 * call wn_committer_run, which queues the job and sleeps until it is decided. The
 * committer thread takes every job queued so far, runs the order-dependent checks against
 * per-meter state that includes the earlier readings of the same group (sequence, chain,
 * time, volume, duplicates, equivocation; already enrolled / revoked for records), appends
 * all resulting entries with ONE wn_ledger_append (one fsync for the whole group), then
 * updates the node state, wakes the checkpointer and answers every job. A job's result is
 * therefore only visible once its entries are durable. */
#ifndef WN_NODE_COMMITTER_H
#define WN_NODE_COMMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/ledger.h"
#include "node/http/parse.h"
#include "node/ingest/receipts.h"
#include "node/ingest/state.h"

/* One reading handed to the committer; its signature has been verified. */
typedef struct wn_job_reading {
    const wn_reading *r;
    const uint8_t *bytes;     /* binary form */
    size_t len;
    uint8_t digest[32];       /* SHA-256 of bytes */
    /* results */
    int err;                  /* WN_NE_OK accepted, WN_NE_REPLAY duplicate, or why rejected */
    char detail[WN_DETAIL_MAX];
    uint64_t index;           /* accepted / duplicate: the reading's entry index */
    uint8_t leaf[32];         /* and its leaf hash */
    uint64_t time_ms;         /* and its receipt time */
    struct wn_commit_receipts *receipts; /* the signed head of its commit (receipts.h), one
                                 * reference the answering thread releases; NULL: a reading
                                 * of a commit answered with version 1 receipts */
    struct wn_job_reading *dup_of; /* private: duplicate of an earlier reading of the group */
} wn_job_reading;

/* WN_JOB_ENTRY appends one entry of type entry_type with payload `record` as it is: the
 * caller decided it already (certs.c serialises its own decisions). */
enum wn_job_kind { WN_JOB_READINGS = 1, WN_JOB_ENROL, WN_JOB_REVOKE, WN_JOB_ENTRY };

typedef struct wn_job {
    int kind;
    wn_job_reading *readings; /* WN_JOB_READINGS: n readings */
    size_t n;
    const uint8_t *meter;     /* WN_JOB_ENROL / WN_JOB_REVOKE: the meter id (32) */
    const uint8_t *record;    /* and the encoded, registrar-verified record (WN_JOB_ENTRY: the payload) */
    size_t record_len;
    uint8_t entry_type;       /* WN_JOB_ENTRY: the entry's type byte (ledger/entry.h) */
    uint8_t alg;              /* WN_JOB_ENROL: the enrolled key */
    const uint8_t *pubkey;    /* 33 bytes */
    uint8_t point;            /* WN_JOB_ENROL: the metering point (enum wn_point) */
    uint64_t time_ms;         /* WN_JOB_ENROL: the record's time */
    /* results of WN_JOB_ENROL / WN_JOB_REVOKE / WN_JOB_ENTRY */
    int err;
    char detail[WN_DETAIL_MAX];
    uint64_t index;
    uint8_t leaf[32];
    uint64_t commit_ms;       /* the commit time in the entry (ledger/entry.h) */
    /* wn_committer_submit: called on the committer thread once the job is decided */
    void (*on_done)(void *ctx, struct wn_job *job);
    void *on_done_ctx;
    /* private */
    int done;
    struct wn_job *next;
} wn_job;

typedef struct {
    wn_ledger *ledger;
    wn_state *state;
    uint64_t skew_ms;                                  /* --skew-ms */
    uint64_t late_window_ms;                           /* --late-window-ms: older readings are marked late */
    const char *origin;                                /* the log origin, in receipt heads */
    const wn_signer *notary;                           /* signs one receipt head per commit */
    void (*on_commit)(void *ctx, uint64_t size);       /* after each durable append */
    void *on_commit_ctx;
} wn_committer_config;

typedef struct wn_committer wn_committer;

/* Starts the committer thread. Returns: 1 on success. */
int wn_committer_start(wn_committer **out, const wn_committer_config *cfg);
/* Queues job and waits until it is decided (and, if accepted, durable). Jobs queued after
 * wn_committer_stop began are answered WN_NE_INTERNAL. */
void wn_committer_run(wn_committer *c, wn_job *job);
/* The same without waiting, for a caller that must not block (the HTTP server's threads):
 * queues job and returns 1; job->on_done(job->on_done_ctx, job) is then called on the
 * committer thread once the job is decided (and durable), after which the committer no
 * longer touches job. Returns: 0 if the committer is stopping: job is answered
 * WN_NE_INTERNAL at once and on_done is not called. */
int wn_committer_submit(wn_committer *c, wn_job *job);
/* Decides every queued job, stops the thread and frees c. */
void wn_committer_stop(wn_committer *c);

#endif
