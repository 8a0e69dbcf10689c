/* policy.h — a jurisdiction's savings rule as data (a JSON file in policies/, docs/PROTOCOL.md §16):
 * what a retrofit must save, invest and prove to receive a subsidy, how good the metered
 * data must be, and whether a saving may be both subsidised and sold. Every amount is an
 * integer in a fixed unit: litres, fen (0.01 CNY), milliseconds, parts per million. The
 * policy's digest (SHA-256 of its canonical JSON, wn_policy_to_json) names it in
 * evaluations and certificates, so two files that differ only in spacing or member order
 * are the same policy. */
#ifndef WN_POLICY_H
#define WN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define WN_POLICY_FORMAT_V1 "waternotary/policy@v1"
#define WN_POLICY_ID_MAX 64
#define WN_POLICY_TEXT_MAX 2000
#define WN_POLICY_NOTES_MAX 8000 /* notes grow with every rule a policy decides */
#define WN_POLICY_FILE_MAX (1u << 20)

/* Upper bounds that keep every product in the evaluation inside 128 bits. */
#define WN_POLICY_MAX_LITRES 1000000000000000ULL /* 10^12 m3 */
#define WN_POLICY_MAX_FEN 100000000000000ULL     /* 10^12 CNY */
#define WN_POLICY_MAX_MS 3153600000000ULL        /* 100 years of 365 days */

typedef struct {
    char id[WN_POLICY_ID_MAX + 1];       /* e.g. "cn-zj-jiaxing-2024-water-saving-subsidy" */
    char title[WN_POLICY_TEXT_MAX + 1];  /* the text's exact title */
    int in_force;                        /* status: 1 "in_force", 0 "draft" (a consultation draft) */
    uint64_t effective_from_ms;          /* 0: not stated */
    uint64_t effective_to_ms;            /* 0: not stated (open-ended) */
    char source[WN_POLICY_TEXT_MAX + 1]; /* the text the rule comes from */
    char notes[WN_POLICY_NOTES_MAX + 1];  /* what the text does not say and we chose */
    uint64_t min_annual_saving_l;        /* annualised normalised saving must be >= this */
    uint64_t min_investment_fen;         /* equipment investment must be >= this */
    uint64_t subsidy_rate_ppm;           /* subsidy = investment * rate / 10^6 (floor) */
    int has_subsidy_cap;
    uint64_t subsidy_cap_fen;            /* ... at most this, when has_subsidy_cap */
    int require_certification;           /* a qualified third party must certify the claim */
    uint64_t min_completeness_ppm;       /* share of each period covered by readings, per meter */
    uint64_t max_interval_ms;            /* an interval between readings up to this counts as covered */
    uint64_t max_gap_ms;                 /* an interval longer than this inside a period refuses the claim */
    uint64_t min_baseline_ms;            /* shortest baseline period */
    uint64_t min_reporting_ms;           /* shortest reporting period */
    uint16_t disqualifying_flags;        /* WN_FLAG_* bits: a reading with one refuses the claim */
    int nonconventional_is_intake;       /* reclaimed/rain/mine water counts in the intake compared */
    int subsidy_and_sale;                /* the same saving may be both subsidised and sold */
    uint64_t subsidies_per_project;      /* subsidy certificates one project may hold, 1..255; 0: no limit */
    uint64_t certificate_term_ms;        /* a certificate is valid this long after the reporting period */
    int require_registered_enterprise;   /* the claimant must have an enterprise record (PROTOCOL §5) */
    int require_sensor_attestation;      /* meters must sign at the sensor: gateway-attested ones refuse */
    int require_calibration;             /* every reading used must lie in a calibration record's validity
                                            of its meter (PROTOCOL §5 "Meter calibration", §16) */
    char accreditation_scope[33];        /* "": no accreditation required; else the certifier's accreditation
                                            record (PROTOCOL §5) must be valid and cover this scope */
    uint64_t max_commit_delay_ms;        /* a reading counts only if committed within this of its time */
    uint8_t digest[32];                  /* SHA-256 of the canonical JSON */
} wn_policy;

/* Parses a policy document strictly (every member required, none unknown; amounts as
 * fixed-scale decimal strings, durations as plain integers) and computes its digest.
 * Returns: 1, or 0 with the reason in detail. */
int wn_policy_parse(wn_policy *p, const char *text, size_t len, char *detail, size_t cap);

/* The canonical JSON (compact, members in the documented order). Returns: a malloc'd
 * NUL-terminated string, or NULL if out of memory. */
char *wn_policy_to_json(const wn_policy *p);

#endif
