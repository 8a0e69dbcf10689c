/* audit_impl.h — private to cli/audit*.c: the audit's state, the meter table, the store of
 * problems (kept in report order, bounded) and the pool of signature workers. */
#ifndef WN_CLI_AUDIT_IMPL_H
#define WN_CLI_AUDIT_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "cli/audit/audit.h"
#include "crypto/verifier.h"
#include "protocol/accreditation.h"
#include "protocol/enterprise.h"

/* Position of a problem in report order: the checkpoint of size N sits between entry N-1
 * and entry N; problems about the whole ledger come last. */
static inline uint64_t wn_audit_i_ord(int where, uint64_t at)
{
    if (where == WN_AUDIT_AT_ENTRY) return 2 * at + 1;
    if (where == WN_AUDIT_AT_CHECKPOINT) return 2 * at;
    return UINT64_MAX;
}

/* ---- meters ---- */

typedef struct wn_audit_mstate {
    uint8_t id[32];
    int enrolled, revoked;
    uint64_t enrol_index, revoke_index;
    uint64_t enrol_ms;       /* the enrolment record's time */
    uint8_t alg, point;
    wn_verifier key;         /* the enrolled key, parsed once */
    uint64_t readings;       /* decodable readings seen */
    uint64_t last_seq, last_time, last_index;
    uint8_t last_digest[32]; /* zeros before the first reading */
    int has_volume;
    __int128 last_volume;    /* in 10^-12 m3, as the node compares */
} wn_audit_mstate;

/* Open addressing on the first 8 bytes of a 32-byte key (keys are hashes or curve points,
 * uniformly spread). */
typedef struct {
    wn_audit_mstate **slots;
    size_t cap, n;
} wn_audit_mtable;

/* Returns the meter with this id, creating it if create (NULL if absent or out of memory). */
wn_audit_mstate *wn_audit_i_meter(wn_audit_mtable *t, const uint8_t id[32], int create);
void wn_audit_i_meters_free(wn_audit_mtable *t);

/* A set of 32-byte digests (equivocation evidence seen). Returns 1 if added, 0 if it was
 * there, -1 out of memory. */
typedef struct {
    uint8_t (*slots)[33]; /* [0] = used flag */
    size_t cap, n;
} wn_audit_digests;
int wn_audit_i_digest_add(wn_audit_digests *s, const uint8_t d[32]);

/* ---- problems ---- */

typedef struct {
    pthread_mutex_t mu;
    wn_audit_problem *items;
    uint64_t *ords;          /* report position of items[k] */
    size_t n, cap, keep;     /* keep the `keep` earliest; cap = 2 * keep */
    int truncated;
    uint64_t total, by_code[WN_AC_COUNT];
    int oom;
} wn_audit_store;

int wn_audit_i_store_init(wn_audit_store *s, size_t keep);
void wn_audit_i_store_free(wn_audit_store *s);
void wn_audit_i_store_add(wn_audit_store *s, const wn_audit_problem *p);
/* Sorts into report order and keeps the first `keep`. */
void wn_audit_i_store_settle(wn_audit_store *s);

/* ---- signature workers ---- */

typedef struct {
    uint64_t index;          /* the entry */
    uint8_t code;            /* problem code when the signature does not verify */
    uint8_t what;            /* 0 reading, 1 enrolment, 2 revocation, 3 evidence,
                                4 certificate, 5 transfer, 6 retirement, 7 enterprise,
                                8 accreditation, 9 calibration record */
    wn_verifier key;
    uint8_t digest[32];
    uint8_t sig[64];
    uint8_t meter[32];
    uint64_t seq;
} wn_audit_sigjob;

#define WN_AUDIT_BATCH 256
#define WN_AUDIT_NBATCH 16

typedef struct {
    wn_audit_sigjob jobs[WN_AUDIT_BATCH];
    unsigned n;
} wn_audit_batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t work, freed;
    wn_audit_batch *batches;           /* WN_AUDIT_NBATCH */
    int free_stack[WN_AUDIT_NBATCH];   /* batches neither queued nor being verified */
    int nfree;
    int queue[WN_AUDIT_NBATCH];        /* ready batches, FIFO */
    int qhead, qlen;
    int busy;                          /* batches being verified */
    int stop;
    int cur;                           /* the batch the main thread fills, or -1 */
    pthread_t *threads;
    unsigned nthreads;
    wn_audit_store *store;
} wn_audit_pool;

int wn_audit_i_pool_start(wn_audit_pool *p, unsigned nthreads, wn_audit_store *store);
/* The next free job slot to fill (queues full batches; helps verify when all are busy). */
wn_audit_sigjob *wn_audit_i_pool_job(wn_audit_pool *p);
/* Queues the partly filled batch and waits until every queued job is verified. */
void wn_audit_i_pool_drain(wn_audit_pool *p);
void wn_audit_i_pool_stop(wn_audit_pool *p);

/* ---- the audit ---- */

/* A certificate as the audit follows it: what later operations are checked against. */
typedef struct {
    uint8_t key[32];
    uint64_t balance;        /* litres */
} wn_audit_holding;

typedef struct {
    uint64_t index;          /* ledger index */
    uint8_t purpose, flags;
    uint64_t time_ms, valid_until_ms, reporting_from, reporting_to;
    uint8_t (*meters)[32];
    size_t n_meters;
    wn_audit_holding *holders;
    size_t n_holders;
    uint64_t ops;            /* operations applied; the next carries ops + 1 */
    int has_project;         /* a version-2 certificate naming a project */
    uint8_t project[32];     /* SHA-256 of the project id */
} wn_audit_cert;

typedef struct {
    uint64_t key_size;       /* the size it was stored under */
    uint64_t size;           /* the size it states */
    uint8_t root[32];
    int has_time;            /* its commit-time line (PROTOCOL §4) */
    uint64_t time_ms;
} wn_audit_pending_cp;

struct wn_auditor {
    wn_audit_config cfg;
    wn_audit_store store;
    wn_audit_pool pool;
    int pool_started;
    wn_audit_mtable meters;
    wn_audit_digests evidence;
    int finished;

    uint64_t next;                 /* index of the next entry */
    uint8_t frontier[64][32];      /* recomputed: last complete subtree at each level */
    uint8_t sfrontier[64][32];     /* the same from stored hashes */
    uint64_t sf_ok;                /* bit L: sfrontier[L] is set */
    uint8_t chain[32];             /* recomputed chain[next-1] */
    uint8_t stored_chain[32];      /* stored chain[next-1], if have_stored_chain */
    int have_stored_chain;

    int have_registrar;            /* cfg.registrar is in force (given, or the first record's) */

    int have_timed;                /* a timed entry was seen (then no untimed one may follow) */
    int last_timed;                /* entry next-1 is timed, committed at: */
    uint64_t last_commit_ms;       /*   the latest commit time seen */

    wn_audit_pending_cp *pending;  /* valid checkpoints not yet reached, by size */
    size_t n_pending, cap_pending, head_pending;
    char origin[256];              /* the first well-formed checkpoint's origin */
    int have_origin;

    wn_enterprise *ents;           /* the latest enterprise record of each code (rotation order, key use) */
    size_t n_ents, cap_ents;
    wn_accreditation *accs;        /* the latest accreditation record of each code (re-accreditation order) */
    size_t n_accs, cap_accs;

    wn_audit_cert *certs;          /* by ledger index */
    size_t n_certs, cap_certs;

    uint64_t *cp_sizes;            /* sizes of the checkpoints passed, with the recomputed */
    uint8_t (*cp_roots)[32];       /*   root at each */
    size_t n_cp, cap_cp;

    wn_audit_summary sum;
};

/* Records a problem at an entry / checkpoint. */
void wn_audit_i_problem(wn_auditor *a, int where, uint64_t at, int code, unsigned sub, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The checks of one entry by type (audit_rules.c). */
void wn_audit_i_entry_rules(wn_auditor *a, uint64_t index, const uint8_t *entry, size_t len);

/* Certificates, transfers and retirements (audit_certs.c). */
void wn_audit_i_certificate(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n);
void wn_audit_i_cert_op(wn_auditor *a, uint64_t index, int retirement, const uint8_t *p, size_t n);
void wn_audit_i_certs_free(wn_auditor *a);

/* The recomputed root of the first `size` entries (size <= next): from the frontier at
 * next, the roots kept at checkpoint sizes, or the source's root_at. Returns: 1 if known. */
int wn_audit_i_root_of(wn_auditor *a, uint64_t size, uint8_t root[32]);

/* The registrar key of a record (audit_rules.c): records it as seen; the first one is in
 * force when none was given; another is a problem. */
void wn_audit_i_check_registrar(wn_auditor *a, uint64_t index, const uint8_t key[32]);

/* Short hex of a 32-byte id for messages: the first 16 characters. */
void wn_audit_i_hex16(char out[17], const uint8_t id[32]);

#endif
