/* audit.h — the whole-ledger audit (docs/PROTOCOL.md §11), independent of where the ledger
 * comes from. A source (a copy of the node's LMDB files, cli/audit/audit_lmdb.h; later a node
 * over HTTP) feeds the signed checkpoints and then every entry in index order, with the
 * hashes it has stored for it; the audit recomputes every leaf, chain and tree hash,
 * checks every signature with the key that was valid at that index, every meter's
 * sequence, hash chain and clock, every checkpoint's signature and root, and keeps:
 *
 *   - a summary: entries by type, meters, checkpoints, gaps, alerts (equivocations,
 *     readings flagged tamper / substitute / clock_unsync);
 *   - every problem found (not only the first), each with where it is (an entry index, a
 *     checkpoint size or the ledger as a whole), a stable code and words for people.
 *
 * Memory: O(log n) for the tree (the right frontier of complete subtrees: the root at
 * every checkpoint size is computed as the stream passes it), O(meters) for the meter
 * state, a bounded number of problems in detail (the earliest ones; all are counted).
 *
 * Threads: signatures are checked by worker threads in batches while the caller's thread
 * reads and hashes; every result is keyed by (position, check), so the output does not
 * depend on timing. The calls below are made from one thread.
 *
 * Problems are facts about the ledger, not errors of these functions: the functions
 * return WN_AUDIT_OK unless they are misused or out of memory. */
#ifndef WN_CLI_AUDIT_H
#define WN_CLI_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct wn_auditor wn_auditor;

enum wn_audit_err {
    WN_AUDIT_OK = 0,
    WN_AUDIT_EINVAL,  /* an entry out of order, a checkpoint after its size was passed, ... */
    WN_AUDIT_ENOMEM,
    WN_AUDIT_EFETCH   /* the fetch callback failed (recorded as a problem too) */
};

/* The root of the tree of the first `size` entries (size <= the entries fed so far), for
 * certificates, which name the tree their evaluation used. A source that stores subtree
 * hashes computes it from them (they are compared with the recomputed ones as they are
 * fed). Returns: 0 on success, non-zero if it cannot. */
typedef int (*wn_audit_root_fn)(void *ctx, uint64_t size, uint8_t root[32]);

/* Reads entry `index` (< the entries fed so far) again: equivocation evidence refers to
 * an earlier reading. It must give the bytes of the entry as fed: a source reading one
 * snapshot gives them by construction; a network source must check what it got (e.g.
 * with an inclusion proof against wn_auditor_root_now). Out: buf[0..*len).
 * Returns: 0 on success, non-zero if it could not. */
typedef int (*wn_audit_fetch_fn)(void *ctx, uint64_t index, uint8_t *buf, size_t cap, size_t *len);

typedef struct {
    uint8_t notary[32];          /* the notary's x-only key: checkpoints must be signed by it */
    int have_registrar;          /* 1: registrar is THE registrar key; 0: the first enrolment's */
    uint8_t registrar[32];
    int have_authority;          /* 1: authority is the certificates' authority key; */
    uint8_t authority[32];       /*    0: the registrar's (the node's default) */
    unsigned workers;            /* signature threads; 0 = one per online CPU */
    size_t max_details;          /* problems kept in detail; 0 = WN_AUDIT_DEFAULT_DETAILS */
    wn_audit_fetch_fn fetch;     /* may be NULL: evidence then cannot be checked (a problem) */
    void *fetch_ctx;
    wn_audit_root_fn root_at;    /* may be NULL: a certificate's tree is then checked only */
    void *root_ctx;              /*   when its size is a checkpoint's */
} wn_audit_config;

#define WN_AUDIT_DEFAULT_DETAILS 1000

/* Where a problem is. Order of report: by position (checkpoint of size N right after
 * entry N-1), then by check. */
enum wn_audit_where { WN_AUDIT_AT_ENTRY = 0, WN_AUDIT_AT_CHECKPOINT = 1, WN_AUDIT_AT_LEDGER = 2 };

/* Problem codes (stable; docs/PROTOCOL.md §11 lists them). The order is the order of the
 * checks within one entry. */
enum wn_audit_code {
    /* storage, found by the source */
    WN_AC_STORAGE = 0,        /* a stored value or key is malformed */
    /* hashes */
    WN_AC_LEAF_HASH,          /* stored leaf hash != SHA-256(0x00 || entry) */
    WN_AC_CHAIN_HASH,         /* stored chain hash != SHA-256(chain[i-1] || leaf[i]) */
    WN_AC_TREE_HASH,          /* a stored subtree hash != SHA-256(0x01 || left || right) */
    WN_AC_INDEX,              /* the (meter, sequence) index differs from what the ledger writes */
    /* entry */
    WN_AC_ENTRY_TYPE,         /* empty entry or unknown type byte (or kind, or marks bit) */
    WN_AC_UNTIMED_AFTER_TIMED,/* an untimed entry after a timed one (§3) */
    WN_AC_COMMIT_TIME_BACKWARDS,/* a commit time earlier than the previous entry's */
    WN_AC_MALFORMED_READING,  /* detail starts with the §2 reason code */
    WN_AC_MALFORMED_RECORD,   /* enrolment or revocation does not decode */
    WN_AC_MALFORMED_EVIDENCE,
    WN_AC_REGISTRAR_KEY,      /* a record names another registrar key */
    WN_AC_BAD_REGISTRAR_SIGNATURE,
    WN_AC_ALREADY_ENROLLED,
    WN_AC_UNKNOWN_METER,      /* revocation or calibration of a meter never enrolled */
    WN_AC_ALREADY_REVOKED,
    WN_AC_NOT_ENROLLED,       /* a reading (or evidence) before / without its meter's enrolment */
    WN_AC_REVOKED,            /* a reading (or evidence) at or after its meter's revocation */
    WN_AC_ALG_MISMATCH,       /* a reading signed with another algorithm than enrolled */
    WN_AC_BAD_SIGNATURE,      /* a reading's signature does not verify with the enrolled key */
    WN_AC_BEFORE_ENROLMENT,   /* a reading dated before its meter's enrolment time (§9) */
    WN_AC_SEQUENCE_GAP,
    WN_AC_SEQUENCE_REUSED,    /* a sequence at or below the meter's last one */
    WN_AC_CHAIN_MISMATCH,     /* previous digest != digest of the meter's previous reading */
    WN_AC_TIME_TRAVEL,
    WN_AC_VOLUME_DECREASED,
    WN_AC_OUT_OF_RANGE,
    WN_AC_EVIDENCE_SIGNATURE,
    WN_AC_EVIDENCE_REFERENCE, /* the original is not an earlier reading with the same (meter, seq) and other bytes */
    WN_AC_EVIDENCE_DUPLICATE,
    /* savings certificates, transfers, retirements (§17) */
    WN_AC_AUTHORITY_KEY,      /* a certificate signed by another key than the authority */
    WN_AC_BAD_AUTHORITY_SIGNATURE,
    WN_AC_UNKNOWN_CHECKPOINT, /* the certificate's (size, root) is not a tree of this ledger before it */
    WN_AC_DOUBLE_COUNTING,    /* an earlier certificate rests on the same (meter, period) */
    WN_AC_UNKNOWN_CERTIFICATE,/* a transfer / retirement names no earlier certificate */
    WN_AC_BAD_HOLDER_SIGNATURE,
    WN_AC_STALE_OPERATION,    /* not the certificate's next operation number */
    WN_AC_NOT_TRANSFERABLE,   /* a transfer of a subsidy certificate */
    WN_AC_OUTSIDE_TERM,       /* operation time not in [issued, valid until) */
    WN_AC_NOT_HOLDER,
    WN_AC_INSUFFICIENT_BALANCE,
    WN_AC_PROJECT_SUBSIDISED, /* a subsidy for a project holding as many as its policy allows */
    WN_AC_STALE_RECORD,       /* an enterprise record whose sequence is not above its code's last */
    WN_AC_KEY_IN_USE,         /* an enterprise record with a key in force for another enterprise */
    /* checkpoints */
    WN_AC_CHECKPOINT_SIGNATURE,
    WN_AC_CHECKPOINT_SIZE,    /* stored under another size than it states */
    WN_AC_CHECKPOINT_ORIGIN,  /* another origin than the first checkpoint's */
    WN_AC_CHECKPOINT_ROOT,    /* root != the recomputed root at its size */
    WN_AC_CHECKPOINT_BEYOND,  /* size beyond the ledger */
    WN_AC_CHECKPOINT_TIME,    /* commit-time line != commit time of entry size-1, or missing */
    WN_AC_COUNT
};

/* The stable code of a problem ("leaf_hash", "bad_signature", ...). */
const char *wn_audit_code_name(int code);

typedef struct {
    int where;          /* enum wn_audit_where */
    uint64_t at;        /* entry index or checkpoint size (0 for the ledger) */
    int code;           /* enum wn_audit_code */
    unsigned sub;       /* orders several problems of one code at one place */
    char detail[240];
} wn_audit_problem;

enum wn_audit_alert { WN_ALERT_EQUIVOCATION = 0, WN_ALERT_TAMPER, WN_ALERT_SUBSTITUTE, WN_ALERT_CLOCK_UNSYNC,
                      WN_ALERT_COUNT };
const char *wn_audit_alert_name(int alert);

typedef struct {
    int type;           /* enum wn_audit_alert */
    uint64_t index;     /* the entry: the flagged reading, or the evidence entry */
    uint8_t meter[32];
    uint64_t seq;
    uint64_t original;  /* equivocation: index of the accepted reading */
} wn_audit_alert_item;

#define WN_AUDIT_MAX_ALERT_ITEMS 100
#define WN_AUDIT_MAX_REGISTRARS 8

typedef struct {
    uint64_t entries;                  /* entries fed */
    uint64_t readings, enrolments, revocations, equivocations, unknown;
    uint64_t timed, late;              /* entries with a commit time; readings marked late */
    uint64_t first_commit_ms, last_commit_ms; /* of the timed entries (0: none) */
    uint64_t certificates, transfers, retirements;
    uint64_t enterprises;              /* enterprise records (entry type 0x08) */
    uint64_t accreditations;           /* certifier accreditation records (entry type 0x09) */
    uint64_t calibrations;             /* meter calibration records (entry type 0x0A) */
    uint64_t meters;                   /* enrolled meters (point 1..6) */
    uint64_t certifiers;               /* enrolled certifiers (point 7) */
    uint64_t revoked;                  /* of both */
    uint64_t meters_with_readings;
    uint64_t checkpoints;              /* fed */
    uint64_t checkpoints_valid;        /* signature and root verified */
    int have_latest;                   /* a valid checkpoint exists: */
    uint64_t latest_size;              /*   the largest valid checkpoint */
    uint8_t latest_root[32];
    uint64_t gaps, missing;            /* sequence gaps and the readings missing in them */
    uint64_t alerts[WN_ALERT_COUNT];
    wn_audit_alert_item alert_items[WN_AUDIT_MAX_ALERT_ITEMS]; /* the first ones */
    size_t n_alert_items;
    int have_registrar;                /* the registrar key the records were checked against: */
    uint8_t registrar[32];             /*   --registrar, else the first record's */
    uint8_t registrars[WN_AUDIT_MAX_REGISTRARS][32]; /* registrar keys named by records, in order */
    size_t n_registrars;               /* may exceed WN_AUDIT_MAX_REGISTRARS */
    uint8_t root[32];                  /* recomputed root of all entries */
    uint8_t chain[32];                 /* recomputed chain hash of the last entry */
    uint64_t problems;                 /* all problems found */
    uint64_t by_code[WN_AC_COUNT];
} wn_audit_summary;

/* Creates an audit and starts its workers. Returns: WN_AUDIT_OK or an error. */
int wn_auditor_new(wn_auditor **out, const wn_audit_config *cfg);
/* Stops the workers and frees everything. */
void wn_auditor_free(wn_auditor *a);
/* Sets or replaces the callbacks (sources that know them only once open). */
void wn_auditor_set_fetch(wn_auditor *a, wn_audit_fetch_fn fn, void *ctx);
void wn_auditor_set_root_at(wn_auditor *a, wn_audit_root_fn fn, void *ctx);

/* Feeds one signed checkpoint note, stored under key_size (the size the store filed it
 * under; pass the note's own size if the source has no key). Feed every checkpoint
 * before the entries reach its size: the root at a size is computed once, as the stream
 * passes it. Returns: WN_AUDIT_EINVAL if the stream is already past that size. */
int wn_auditor_checkpoint(wn_auditor *a, uint64_t key_size, const char *note, size_t len);

/* What a source has stored with an entry, for comparison with the recomputed values.
 * Any pointer may be NULL (not stored / not known to this source). */
typedef struct {
    const uint8_t *leaf;           /* 32 bytes */
    const uint8_t *chain;          /* 32 bytes */
    const uint8_t (*nodes)[32];    /* the subtree hashes this entry completes, levels 1..n_nodes */
    unsigned n_nodes;              /* must be 0 or wn_merkle_hashes_at(index) - 1 */
} wn_audit_stored;

/* Feeds entry `index` (type byte and payload), which must be the next one (0, 1, ...).
 * Returns: WN_AUDIT_OK, WN_AUDIT_EINVAL (wrong index, n_nodes wrong) or WN_AUDIT_ENOMEM. */
int wn_auditor_entry(wn_auditor *a, uint64_t index, const uint8_t *entry, size_t len, const wn_audit_stored *stored);

/* Records a problem found by the source (storage, index). at: entry index / checkpoint
 * size, ignored for WN_AUDIT_AT_LEDGER. Thread-safe. */
void wn_auditor_report(wn_auditor *a, int where, uint64_t at, int code, unsigned sub, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The recomputed root of the entries fed so far. */
void wn_auditor_root_now(const wn_auditor *a, uint64_t *size, uint8_t root[32]);

/* Ends the audit: waits for every signature, checks what only the end shows (checkpoints
 * beyond the ledger) and fills the summary. No entry or checkpoint may follow.
 * Returns: WN_AUDIT_OK or WN_AUDIT_ENOMEM (problems may then be missing). */
int wn_auditor_finish(wn_auditor *a);

/* Valid after wn_auditor_finish. */
const wn_audit_summary *wn_auditor_summary(const wn_auditor *a);
/* The problems kept in detail, in report order. Out: *n (<= max_details), *truncated
 * (1 if more problems were found than kept: the summary counts them all). */
const wn_audit_problem *wn_auditor_problems(const wn_auditor *a, size_t *n, int *truncated);

/* The summary and problems for people: counts, alerts, then "PROBLEM ..." lines and a
 * last line "AUDIT PASSED: ..." or "AUDIT FAILED: ... first problem at entry N ...". */
void wn_auditor_print_text(const wn_auditor *a, FILE *out);
/* The same as one JSON object (docs/PROTOCOL.md §11). Returns: 1, 0 if out of memory. */
int wn_auditor_print_json(const wn_auditor *a, FILE *out);

#endif
