/* certs_state.h — inside the certificates module (certs.h): the certificates with their
 * holders' balances and operations, in memory (sorted by ledger index) under a rwlock and
 * mirrored in the LMDB env DIR/certs. certs.c decides; this file only applies what the
 * ledger holds. */
#ifndef WN_NODE_CERTS_STATE_H
#define WN_NODE_CERTS_STATE_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/certificate.h"
#include "protocol/accreditation.h"
#include "protocol/calibration.h"
#include "protocol/enterprise.h"
#include "ledger/ledger.h"
#include "node/certs/certs.h"

typedef struct {
    uint8_t key[32];
    uint64_t balance;        /* litres */
} wn_holding;

typedef struct {
    uint64_t index;          /* ledger index of the transfer or retirement */
    uint8_t type;            /* WN_ENTRY_TRANSFER or WN_ENTRY_RETIREMENT */
} wn_cert_opref;

typedef struct {
    uint64_t index;          /* ledger index of the certificate */
    wn_certificate c;
    uint64_t retired;        /* litres retired so far */
    wn_holding *holders;     /* every key that held volume, in order of first holding */
    size_t n_holders;
    wn_cert_opref *ops;      /* n_ops operations; the next carries op number n_ops + 1 */
    size_t n_ops;
} wn_cert_rec;

/* An enterprise record (entry type 0x08) and where the ledger holds it. */
typedef struct {
    uint64_t index;
    wn_enterprise e;
} wn_ent_rec;

/* A certifier accreditation record (entry type 0x09) and where the ledger holds it. */
typedef struct {
    uint64_t index;
    wn_accreditation a;
} wn_acc_rec;

/* A meter calibration record (entry type 0x0A) and where the ledger holds it. */
typedef struct {
    uint64_t index;
    wn_calibration c;
} wn_cal_rec;

struct wn_certs {
    pthread_mutex_t decide;  /* held by certs.c from a decision to its durable append */
    pthread_rwlock_t lock;   /* guards recs for readers (GET) against apply */
    wn_cert_rec *recs;
    size_t n, cap;
    wn_ent_rec *ents;        /* every enterprise record, in ledger order */
    size_t n_ents, cap_ents;
    wn_acc_rec *accs;        /* every accreditation record, in ledger order */
    size_t n_accs, cap_accs;
    wn_cal_rec *cals;        /* every calibration record, in ledger order */
    size_t n_cals, cap_cals;
    uint64_t applied;        /* every certificate and enterprise entry below this index is applied */
    MDB_env *env;
    MDB_dbi meta, certs[4];  /* certs[0]: "certs", certs[1]: "enterprises", certs[2]: "accreditations",
                              * certs[3]: "calibrations" */
    wn_ledger *ledger;       /* what open replays */
    int env_failed;
    char dir[4096];
};

/* The certificate at ledger index `index`, or NULL. Caller holds lock or decide. */
const wn_cert_rec *wn_certs_find(const wn_certs *s, uint64_t index);
/* The holding of key in r, or NULL. */
const wn_holding *wn_certs_holding(const wn_cert_rec *r, const uint8_t key[32]);

/* The latest enterprise record of code with ledger index below `before` (the record in
 * force there), or NULL; *n_before (if not NULL): how many records of code lie below it.
 * Caller holds lock or decide. */
const wn_ent_rec *wn_certs_enterprise(const wn_certs *s, const char *code, uint64_t before, size_t *n_before);

/* The latest accreditation record of code below `before`, or NULL (as wn_certs_enterprise). */
const wn_acc_rec *wn_certs_accreditation(const wn_certs *s, const char *code, uint64_t before);

/* Applies the certificate-type, enterprise, accreditation or calibration entry at index (entry bytes e[0..len), chain = its chain
 * hash) to memory (under the write lock) and the env. Returns: 1; 0 if the entry does not
 * fit the state (a ledger the node did not write) or memory ran out (logged). */
int wn_certs_apply(wn_certs *s, uint64_t index, const uint8_t *e, size_t len, const uint8_t chain[32]);

#endif
