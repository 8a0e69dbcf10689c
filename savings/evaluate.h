/* evaluate.h — the savings evaluation as a pure function (docs/PROTOCOL.md §16, "Evaluation"):
 * from a claim, a policy and, per claimed meter and period, the meter's verified readings
 * with their provenance, compute each meter's intake over each period from its totaliser
 * (interpolating linearly at the period boundaries, restarting after a meter replacement,
 * adding the register's capacity after a rollover), the data's completeness and gaps,
 * water per unit product, the normalised saving (baseline water per unit product x
 * reporting output - reporting intake) and its annualised value, the repeated utilisation
 * rate and the non-conventional water used; then apply the policy: eligible or not, every
 * reason, the subsidy.
 *
 * Everything is integer arithmetic: totalisers in 10^-12 m3 (nanolitres) with 128-bit
 * sums, volumes compared in litres, money in fen, shares in parts per million, times in ms.
 * Every division rounds toward minus infinity (floor); the rules are in PROTOCOL §16. The
 * same input gives the same result and byte-identical renderings, whatever the readings
 * came from (a node or bundle files). Nothing here does I/O. */
#ifndef WN_EVALUATE_H
#define WN_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "savings/claim.h"
#include "savings/policy.h"
#include "protocol/certificate.h"
#include "protocol/enrolment.h"
#include "protocol/accreditation.h"
#include "protocol/calibration.h"
#include "protocol/enterprise.h"
#include "protocol/reading.h"
#include "ledger/tlog/checkpoint.h"

#define WN_EVAL_METHOD "waternotary/evaluation@v1"
#define WN_EVAL_YEAR_MS 31536000000ULL /* annualisation: a year of 365 days */

/* One verified reading: only what the evaluation uses, and where it is in the ledger. */
typedef struct {
    uint64_t seq;
    uint64_t index;          /* ledger index */
    uint64_t time_ms;
    uint16_t flags;          /* WN_FLAG_* */
    int has_volume;
    __int128 volume_nl;      /* totaliser in 10^-12 m3, exact */
    int timed;               /* the ledger entry carries its commit time (PROTOCOL §3): */
    uint64_t commit_ms;      /*   when the node committed it */
    int late;                /*   and whether the node marked it late */
} wn_eval_reading;

/* The checkpoint data are proved against. */
typedef struct {
    char origin[WN_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[32];
} wn_eval_checkpoint;

/* One meter over one period, as a verified proof bundle gives it: every reading of the
 * meter with from <= time < to, the last one before and the first one at or after. */
typedef struct {
    int found;               /* 0: the meter is not enrolled (or nothing was given) */
    wn_enrolment enrol;
    uint64_t enrol_index;
    int revoked;
    uint64_t revoke_index;
    uint64_t from_ms, to_ms; /* the period the readings are complete for */
    const wn_eval_reading *readings; /* ascending sequence, consecutive */
    size_t n;
    size_t n_equivocations;  /* equivocation evidence entries for the meter */
    wn_eval_checkpoint cp;
    /* the meter's calibration records (protocol/calibration.h), as a calibration bundle or
     * the node gives them; read only when the policy requires calibration */
    int cal_given;           /* a calibration bundle of the meter was given (else: no record known) */
    const wn_calibration *cals;
    size_t n_cals;
    wn_eval_checkpoint cal_cp;
} wn_eval_series;

/* A signer's enrolment (the certifier), as a bundle of its "meter" gives it. */
typedef struct {
    int found;
    wn_enrolment enrol;
    uint64_t enrol_index;
    int revoked;
    uint64_t revoke_index;
    wn_eval_checkpoint cp;
} wn_eval_signer;

/* The claimant's enterprise records (protocol/enterprise.h), as an enterprise bundle or
 * the node gives them: the record in force at the bundle's checkpoint (savings/identity.h). */
typedef struct {
    int given;               /* the evidence was asked for (a node) or given (a bundle file) */
    int found;               /* a record of the claim's enterprise is in force */
    wn_enterprise rec;       /* the latest record (highest sequence) below the checkpoint */
    uint64_t index;          /* its ledger index */
    size_t n_records;        /* records of the code in the bundle (rotations + 1) */
    wn_eval_checkpoint cp;
} wn_eval_enterprise;

/* The certifier's accreditation records (protocol/accreditation.h), as an accreditation
 * bundle of the code its enrolment names gives them: the record in force at its checkpoint. */
typedef struct {
    int given;
    int found;
    wn_accreditation rec;
    uint64_t index;
    wn_eval_checkpoint cp;
} wn_eval_accreditation;

/* A certificate the ledger holds at `index` (the project's history). */
typedef struct {
    uint64_t index;
    wn_certificate c;
} wn_eval_prior;

typedef struct {
    const wn_claim *claim;
    const wn_policy *policy;
    const wn_eval_series *baseline;  /* claim->baseline.n_meters, in the claim's order */
    const wn_eval_series *reporting; /* claim->reporting.n_meters */
    wn_eval_signer certifier;        /* used when the claim is certified */
    wn_eval_enterprise enterprise;   /* the claimant's enterprise records (identity rules) */
    wn_eval_accreditation accreditation; /* the certifier's accreditation records */
    /* The ledger's certificates for the claim's project (verified by the caller; others
     * may be among them and are ignored), when the policy limits subsidies per project. */
    int history_given;
    const wn_eval_prior *prior;
    size_t n_prior;
} wn_eval_input;

/* ---- result ---- */

typedef struct {
    char code[32];           /* stable, for programs: "gap", "flag_tamper", ... */
    char detail[400];
    int subsidy_only;        /* refuses the subsidy but not a water-rights sale */
} wn_eval_reason;

/* How the totaliser was read at a period boundary. */
typedef struct {
    int exact;               /* a reading at exactly that time */
    uint64_t seq_a, time_a;  /* interpolated between reading a ... (exact: the reading) */
    uint64_t seq_b, time_b;  /* ... and reading b */
} wn_eval_boundary;

typedef struct {
    uint8_t meter[32];
    uint8_t point, source, tier; /* as claimed (point, source) and enrolled (tier) */
    int found;               /* the meter's enrolment is known */
    int usable;              /* the intake could be computed */
    __int128 intake_nl;      /* exact intake over the period */
    int64_t intake_l;        /* floor(intake_nl / 10^9) */
    uint64_t completeness_ppm;
    uint64_t longest_interval_ms;
    uint64_t first_seq, last_seq, first_index, last_index, n_readings;
    wn_eval_boundary start, end;
    size_t n_restarts, n_rollovers;
    uint64_t enrol_index;
    wn_eval_checkpoint cp;
} wn_eval_meter;

typedef struct {
    uint64_t from_ms, to_ms, output;
    wn_eval_meter meters[WN_CLAIM_MAX_METERS];
    size_t n_meters;
    int64_t fresh_l;         /* intake from surface, ground and tap water */
    int64_t nonconv_l;       /* intake from reclaimed, rain and mine water */
    int64_t intake_l;        /* what is compared: fresh (+ non-conventional if the policy says so) */
    int has_recycling;
    int64_t recycled_l;
    uint64_t reuse_ppm;      /* recycled / (recycled + fresh + non-conventional) */
    uint64_t per_unit_ml;    /* intake per unit of output, millilitres */
} wn_eval_period;

typedef struct {
    uint8_t claim_digest[32];
    uint8_t policy_digest[32];
    wn_eval_period baseline, reporting;
    int computed;            /* both periods usable and baseline output > 0: the saving is known */
    int64_t expected_l;      /* floor(baseline intake x reporting output / baseline output) */
    int64_t saving_l;        /* expected - reporting intake (may be negative) */
    int64_t annual_l;        /* floor(saving x WN_EVAL_YEAR_MS / reporting length) */
    uint64_t subsidy_computed_fen; /* min(floor(investment x rate / 10^6), cap) */
    uint64_t subsidy_fen;    /* subsidy_computed_fen if eligible, else 0 */
    int certifier_ok;        /* the certification verified and the certifier is enrolled */
    int project_checked;     /* the policy limits subsidies per project: the project was checked */
    int project_ok;          /* the project record holds (signature, registrar, id, enterprise, ...) */
    size_t n_prior_subsidies;        /* subsidy certificates the project already holds */
    uint64_t prior_index[8];         /* the first 8 of them (ledger indices) */
    int eligible;            /* no reason at all: the subsidy is due */
    int saleable;            /* no reason but subsidy-only ones: the saving may be sold */
    wn_eval_checkpoint cp;   /* the largest checkpoint the data are proved against */
    wn_eval_reason *reasons;
    size_t n_reasons, cap_reasons;
    int oom;
} wn_eval_result;

/* Evaluates. Returns: 1; 0 only if out of memory (res->oom). Free with wn_eval_free. */
int wn_evaluate(const wn_eval_input *in, wn_eval_result *res);
void wn_eval_free(wn_eval_result *res);

/* The canonical renderings (the same bytes for the same input). Return malloc'd
 * NUL-terminated text, or NULL if out of memory. */
char *wn_eval_text(const wn_eval_input *in, const wn_eval_result *res);
char *wn_eval_json(const wn_eval_input *in, const wn_eval_result *res);

/* What the evaluation uses of a verified reading at ledger index `index`. */
void wn_eval_reading_from(wn_eval_reading *out, const wn_reading *r, uint64_t index);
/* ... and the commit time and marks of its timed entry (not called for an untimed one). */
void wn_eval_reading_committed(wn_eval_reading *out, uint64_t commit_ms, int late);

#endif
