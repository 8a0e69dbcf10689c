/* audit.h — an offline audit of a notary's ledger files, as an auditor holding a copy
 * would run it: the ledger is opened read-only (ledger/ledger.h) and everything is
 * recomputed from the entry bytes alone and compared with what is stored:
 *   - every leaf hash SHA-256(0x00 || entry) and chain hash SHA-256(chain[i-1] || leaf);
 *   - every stored complete-subtree hash (a tree rebuilt in memory, merkle.h), the root at
 *     every stored checkpoint and at the full size, and each checkpoint's signature by
 *     the notary key under the expected origin;
 *   - every enrolment's registrar signature (by the expected registrar, each meter once);
 *   - every reading: decodes, its meter is enrolled before it, its signature verifies with
 *     the enrolled key and algorithm, and the meter's chain continues: sequence = last + 1,
 *     previous digest = digest of the last reading, time not decreasing; the ledger's
 *     (meter, sequence) index points at it and each meter's last sequence is its own.
 * Entries of other types (revocations, equivocation evidence) are counted, not expected.
 * Nothing asserts: the first failure is described in err. */
#ifndef WN_TEST_AUDIT_H
#define WN_TEST_AUDIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t id[32];
    uint64_t enrolment_index;
    uint64_t last_seq;        /* readings of this meter in the ledger: 1 .. last_seq */
    uint8_t last_digest[32];
    uint64_t last_time;
} wn_audit_meter;

typedef struct {
    uint64_t size;            /* entries */
    uint64_t enrolments, readings, others;
    uint64_t checkpoints;     /* stored checkpoints, each verified */
    uint64_t last_checkpoint; /* size of the largest one */
    wn_audit_meter *meters;   /* in order of enrolment (malloc'd) */
    size_t nmeters;
    char err[512];
} wn_audit;

/* Audits the ledger in dir (a node's DIR/ledger) against the notary's x-only key, the
 * checkpoint origin and the registrar's x-only key.
 * Returns: 1 if every check passed; 0 with a->err set otherwise. Free with wn_audit_free. */
int wn_audit_ledger(wn_audit *a, const char *dir, const uint8_t notary[32], const char *origin,
                    const uint8_t registrar[32]);
void wn_audit_free(wn_audit *a);

/* The audited meter with id, or NULL. */
const wn_audit_meter *wn_audit_find(const wn_audit *a, const uint8_t id[32]);

#endif
