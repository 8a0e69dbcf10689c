/* meter.h — what the node knows about one meter, and the per-meter rules of PROTOCOL §9:
 * the order-dependent checks a new reading must pass (sequence, chain, time, volume,
 * ranges) and how an accepted reading advances the meter's state. Pure functions: the
 * committer runs them against its overlay, startup replay against the ledger. */
#ifndef WN_NODE_METER_H
#define WN_NODE_METER_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"
#include "crypto/verifier.h"

/* An open equivocation alert: a second, different signed reading for a used sequence.
 * Only the first conflicting reading of a (meter, sequence) becomes evidence; further
 * different ones are refused and counted in `more`, which lives in memory only (they are
 * in no ledger entry, so it counts since the node started). */
typedef struct {
    uint64_t seq;            /* the sequence used twice */
    uint64_t original_index; /* ledger index of the accepted reading with that sequence */
    uint64_t evidence_index; /* ledger index of the 0x04 evidence entry */
    uint8_t digest[32];      /* digest of the conflicting reading */
    uint64_t more;           /* further conflicting readings refused without evidence */
} wn_alert;

typedef struct {
    uint8_t meter[32];
    uint8_t alg;             /* enrolled key algorithm (enum wn_sig_alg) */
    uint8_t pubkey[33];      /* enrolled compressed key */
    wn_verifier key;         /* that key parsed once (wn_meter_set_key), for verifying readings */
    uint64_t enrol_index;    /* ledger index of the enrolment */
    uint8_t point;           /* the enrolment's metering point (enum wn_point) */
    uint64_t enrol_time;     /* the enrolment record's time (ms): no reading is older */
    int revoked;
    uint64_t revoke_index;   /* valid when revoked */
    uint64_t last_seq;       /* 0: no reading yet */
    uint64_t last_index;     /* ledger index of the last reading (valid when last_seq > 0) */
    uint64_t last_time;      /* its time (ms) */
    uint8_t last_digest[32]; /* its digest; zeros before the first reading */
    int has_volume;          /* a totaliser value has been seen */
    __int128 last_volume;    /* the latest totaliser value, in 10^-12 m3 */
    size_t n_alerts;
    wn_alert *alerts;        /* malloc'd, n_alerts long (NULL when 0) */
} wn_meter;

/* Sets m's enrolled key (alg, pubkey; m->meter must be set) and prepares m->key from it:
 * the x-only meter id for BIP-340, the 33-byte compressed key for ECDSA, as PROTOCOL §2
 * verifies readings. Returns: 1; 0 if the key does not parse (an enrolment that passed
 * its checks always parses), and then m->key is left unprepared (its alg 0): whoever
 * verifies must then use the key bytes (wn_reading_verify). */
int wn_meter_set_key(wn_meter *m, uint8_t alg, const uint8_t pubkey[33]);

/* The reading's totaliser value in 10^-12 m3. Returns: 1 if it has a volume measurement. */
int wn_meter_volume_of(const wn_reading *r, __int128 *v);

/* Sane ranges: volume, flow, conductivity and turbidity not negative; pH within 0..14.
 * Returns: WN_NE_OK or WN_NE_OUT_OF_RANGE (detail says which value). */
int wn_meter_check_ranges(const wn_reading *r, char *detail, size_t detailcap);

/* The checks for a reading whose sequence is above m's last (a lower or equal one is a
 * duplicate or an equivocation, which the caller decides from the ledger), in the order of
 * PROTOCOL §9: sequence_gap, chain_mismatch, time_travel, future_time, volume_decreased,
 * out_of_range. Returns: WN_NE_OK or the first rule broken; detail explains. */
int wn_meter_check(const wn_meter *m, const wn_reading *r, uint64_t now_ms, uint64_t skew_ms, char *detail,
                   size_t detailcap);

/* Advances m past an accepted reading (digest = its digest, index = its ledger index). */
void wn_meter_advance(wn_meter *m, const wn_reading *r, const uint8_t digest[32], uint64_t index);

/* Appends an alert (copying). Returns: 1, or 0 if out of memory. */
int wn_meter_add_alert(wn_meter *m, const wn_alert *a);
/* Index of the alert for (seq, digest), or -1. */
long wn_meter_find_alert(const wn_meter *m, uint64_t seq, const uint8_t digest[32]);
/* Index of the alert for seq (whatever its digest), or -1. */
long wn_meter_find_alert_seq(const wn_meter *m, uint64_t seq);

/* Deep copy (alerts duplicated). Returns: 1, or 0 if out of memory. */
int wn_meter_copy(wn_meter *dst, const wn_meter *src);
void wn_meter_free_alerts(wn_meter *m);

#endif
