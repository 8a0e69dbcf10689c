/* entry.h — what a ledger entry is, and the one parser every reader of entry bytes uses.
 *
 * An entry is one of two forms (docs/PROTOCOL.md §3 "Ledger entries"):
 *
 *   untimed (written before commit times, still valid):  kind || payload
 *   timed   (what the node writes now):
 *       (0x80 | kind) || u64 commit time, ms since the Unix epoch, big-endian
 *                     || u8 marks || payload
 *
 * marks: bit 0 = late (a reading whose measurement time was older than the node's late
 * window when it was committed); every other bit must be 0. The kinds and payloads:
 *
 *   0x01 reading     payload = a Reading v1 in its binary form (protocol/reading.h)
 *   0x02 enrolment   payload = an enrolment record signed by the registrar (node issue)
 *   0x03 revocation  payload = a revocation record signed by the registrar (node issue)
 *   0x04 equivocation evidence
 *                    payload = u64 ledger index of the accepted reading with the same
 *                    (meter, sequence) || the conflicting reading, binary form, whose
 *                    signature the node verified with the meter's enrolled key
 *   0x05 savings certificate   payload = a certificate signed by the evaluating authority
 *   0x06 certificate transfer  payload = a transfer signed by the certificate's holder
 *   0x07 certificate retirement payload = a retirement signed by the holder
 *                    (protocol/certificate.h, docs/PROTOCOL.md §17)
 *   0x08 enterprise record      payload = a record signed by the registrar: an enterprise's
 *                    credit code, name, area and signing keys (protocol/enterprise.h, §5)
 *   0x09 certifier accreditation payload = a record signed by the registrar: a testing
 *                    body's credit code, CMA/CNAS number, scope, validity and keys
 *                    (protocol/accreditation.h, §5)
 *   0x0A calibration record     payload = a record signed by the registrar: a meter's
 *                    检定/校准 certificate reference, issuing body and validity
 *                    (protocol/calibration.h, §5)
 *
 * The leaf hash of an entry is SHA-256(0x00 || entry bytes), per RFC 6962, so it covers the
 * commit time and marks. Unknown kinds, short input and unknown marks are an error for every
 * reader (wn_entry_parse). All entries of one group commit carry the same commit time, and
 * commit times never go backwards along the index (the node keeps them so; `wn audit`
 * checks it). */
#ifndef WN_ENTRY_H
#define WN_ENTRY_H

#include <stddef.h>
#include <stdint.h>

enum wn_entry_type {
    WN_ENTRY_READING = 0x01,
    WN_ENTRY_ENROLMENT = 0x02,
    WN_ENTRY_REVOCATION = 0x03,
    WN_ENTRY_EQUIVOCATION = 0x04,
    WN_ENTRY_CERTIFICATE = 0x05,
    WN_ENTRY_TRANSFER = 0x06,
    WN_ENTRY_RETIREMENT = 0x07,
    WN_ENTRY_ENTERPRISE = 0x08,
    WN_ENTRY_ACCREDITATION = 0x09,
    WN_ENTRY_CALIBRATION = 0x0A
};

#define WN_ENTRY_KIND_MAX 0x0A      /* the highest kind this build knows */
#define WN_ENTRY_TIMED 0x80u        /* type byte flag of the timed form */
#define WN_ENTRY_TIMED_HEADER 10u   /* type || u64 commit time || u8 marks */
#define WN_ENTRY_MARK_LATE 0x01u    /* marks bit 0 */
#define WN_ENTRY_MARKS_KNOWN 0x01u

enum wn_entry_err {
    WN_ENTRY_OK = 0,
    WN_ENTRY_ESHORT, /* empty, or a timed entry shorter than its 10-byte header */
    WN_ENTRY_ETYPE,  /* a kind this build does not know */
    WN_ENTRY_EMARKS  /* a marks bit other than those defined is set */
};

const char *wn_entry_strerror(int err);

/* One entry seen through its form: the kind, and where its payload lies (inside the bytes
 * given to wn_entry_parse, valid as long as they are). */
typedef struct {
    uint8_t kind;          /* WN_ENTRY_READING .. WN_ENTRY_KIND_MAX */
    uint8_t type;          /* the first byte as stored: kind, or 0x80 | kind */
    int timed;             /* 1: the timed form */
    uint64_t commit_ms;    /* timed: the node's commit time; untimed: 0 */
    uint8_t marks;         /* timed: the marks byte; untimed: 0 */
    const uint8_t *payload;
    size_t len;            /* payload length (may be 0; each kind checks its own) */
} wn_entry_view;

/* Parses entry bytes. Returns: WN_ENTRY_OK or an error (v is then zeroed).
 * Out: *v. In: bytes[0..len). */
int wn_entry_parse(wn_entry_view *v, const uint8_t *bytes, size_t len) __attribute__((warn_unused_result));

/* Writes the timed header (0x80 | kind, commit time, marks) into out[0..10).
 * Returns: WN_ENTRY_TIMED_HEADER. */
size_t wn_entry_put_timed_header(uint8_t out[WN_ENTRY_TIMED_HEADER], uint8_t kind, uint64_t commit_ms,
                                 uint8_t marks);

/* Shorthand: the kind of entry bytes, or 0 when they do not parse. */
uint8_t wn_entry_kind(const uint8_t *bytes, size_t len);

struct wn_ledger;
/* The commit time of ledger entry `index` (what a checkpoint of size index+1 carries).
 * Returns: 1 and *ms if the entry is timed; 0 if it is untimed, does not parse or cannot
 * be read. */
int wn_entry_commit_time_at(struct wn_ledger *l, uint64_t index, uint64_t *ms);

#endif
