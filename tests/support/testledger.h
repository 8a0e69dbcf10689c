/* testledger.h — builds real LMDB ledgers for audit and export tests, the way the node
 * fills them (enrolments, readings indexed by (meter, sequence), revocations, evidence,
 * signed checkpoints), straight through ledger.h and the crypto APIs, plus the means to
 * append what the node never would (bad signatures, gaps, broken chains, ...).
 *
 * Meters: BIP-340 or ECDSA keys generated per ledger; readings carry volume (m3, scale 3),
 * flow (m3/h, scale 2) and pH (scale 2), an hour apart per meter. Functions return the
 * index of the entry they appended, or UINT64_MAX after printing what failed. */
#ifndef WN_TEST_TESTLEDGER_H
#define WN_TEST_TESTLEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"
#include "ledger/ledger.h"

#define WN_TL_MAX_METERS 16
#define WN_TL_FAIL UINT64_MAX

typedef struct {
    uint8_t sk[32], id[32], pub33[33];
    int ecdsa;
    uint64_t seq;            /* last reading's sequence (0: none) */
    uint8_t prev[32];        /* its digest */
    uint64_t time;           /* its time (ms) */
    int64_t litres;          /* totaliser, m3 * 1000 */
    char enterprise[65];
} wn_tl_meter;

typedef struct {
    char dir[4096];
    wn_ledger *l;
    uint8_t notary_sk[32], notary_pub[32];
    char notary_hex[65];
    uint8_t registrar_sk[32], registrar_pub[32];
    char registrar_hex[65];
    char origin[64];
    wn_tl_meter m[WN_TL_MAX_METERS];
    unsigned nmeters;
    uint64_t start_ms;       /* first reading time */
    uint64_t commit_ms;      /* 0: entries are written untimed (as before commit times); else
                              * timed (ledger/entry.h) with this commit time and these marks */
    uint8_t marks;
} wn_tl;

/* Creates keys and an empty ledger in dir (created). Returns: 1 on success. */
int wn_tl_create(wn_tl *t, const char *dir);
void wn_tl_close(wn_tl *t);

/* A new meter (keys only). Returns its number. */
unsigned wn_tl_add_meter(wn_tl *t, int ecdsa, const char *enterprise);

/* Enrolment of meter k signed by the registrar (or by other_sk if not NULL). */
uint64_t wn_tl_enrol(wn_tl *t, unsigned k, const uint8_t *other_sk);
/* Revocation of meter k. */
uint64_t wn_tl_revoke(wn_tl *t, unsigned k);

/* Fills r with meter k's next reading (sequence last + 1, previous digest, one hour later,
 * volume up), unsigned. */
void wn_tl_next(wn_tl *t, unsigned k, wn_reading *r);
/* Signs r with meter k's key and algorithm (or BIP-340 with other_sk if not NULL),
 * appends it indexed by (meter, seq) and, if it follows on, advances meter k's state. */
uint64_t wn_tl_append_reading(wn_tl *t, unsigned k, wn_reading *r, const uint8_t *other_sk);
/* Next reading of meter k with flags, signed and appended. */
uint64_t wn_tl_reading(wn_tl *t, unsigned k, uint16_t flags);

/* Equivocation evidence: a second reading of meter k with sequence seq (another time),
 * signed by the meter, naming entry orig. */
uint64_t wn_tl_evidence(wn_tl *t, unsigned k, uint64_t seq, uint64_t orig);

/* Appends raw entry bytes (not indexed). */
uint64_t wn_tl_append_raw(wn_tl *t, const uint8_t *entry, size_t len);

/* Signs a checkpoint of the current size with the notary key (or other_sk) and stores it.
 * root: NULL for the true root, else this root is signed instead. Returns its size. */
uint64_t wn_tl_checkpoint(wn_tl *t, const uint8_t *other_sk, const uint8_t *root);

/* The standard clean ledger: 3 BIP-340 meters and 1 ECDSA meter enrolled (enterprises
 * "ACME-1", "ACME-1", "Beta, Ltd", "ACME-1"), 8 readings each interleaved (meter 0's 2nd
 * flagged tamper, meter 1's 3rd substitute, meter 3's 4th clock_unsync), an equivocation
 * evidence for meter 0 sequence 3, meter 2 revoked after its readings, checkpoints after
 * the enrolments, in the middle and at the end. 4 + 32 + 1 + 1 = 38 entries. */
int wn_tl_standard(wn_tl *t, const char *dir);
#define WN_TL_STD_ENTRIES 38
#define WN_TL_STD_CHECKPOINTS 3

/* Copies directory src (files only) to dst (created). Returns: 1 on success. */
int wn_tl_copy_dir(const char *src, const char *dst);

#endif
