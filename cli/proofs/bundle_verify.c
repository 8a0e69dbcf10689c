/* bundle_verify.c — every check of docs/PROTOCOL.md §13 "Verification" on a parsed
 * bundle, in the order of the table there. Nothing stops at the first failure: each check
 * that can still be made is made and each failure is recorded with its code, so that an
 * auditor sees the whole damage at once (a removed reading shows up as a gap with its
 * exact sequence range, not as a broken chain). */
#include "cli/proofs/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"

typedef struct {
    wn_bundle *b;
    wn_report *rep;
    const uint8_t *notary, *registrar;
} ctx;

/* "reading seq 12 (index 57)" or "readings[3] (index 57)" */
static void reading_label(char *out, size_t cap, const wn_bundle_entry *e, size_t i)
{
    if (e->decoded) snprintf(out, cap, "reading seq %llu (index %llu)", (unsigned long long)e->reading.seq,
                             (unsigned long long)e->index);
    else snprintf(out, cap, "readings[%zu] (index %llu)", i, (unsigned long long)e->index);
}

static void check_checkpoint(ctx *c)
{
    wn_bundle *b = c->b;
    char hex[65];
    wn_hex_encode(hex, c->notary, 32);
    b->checkpoint_parsed = wn_checkpoint_parse(b->checkpoint, b->checkpoint_len, &b->cp, NULL) == WN_CHECKPOINT_OK;
    wn_checkpoint cp;
    int err = wn_checkpoint_verify(b->checkpoint, b->checkpoint_len, NULL, c->notary, &cp);
    b->checkpoint_ok = err == WN_CHECKPOINT_OK;
    if (!b->checkpoint_ok)
        wn_report_fail(c->rep, "checkpoint", "the checkpoint is not validly signed by the notary key %s: %s", hex,
                       wn_checkpoint_strerror(err));
    if (!b->checkpoint_parsed) return;
    if (b->cp.has_time) { /* the latest commit time of the entries it covers (PROTOCOL §4) */
        char t[25];
        wn_time_format(t, b->cp.time_ms);
        wn_report_info_str(c->rep, "commit_time", t);
    }
    uint8_t id[4];
    wn_note_keyid(id, b->cp.origin, c->notary);
    if (memcmp(id, b->notary_key_id, 4) != 0) {
        char want[9], got[9];
        wn_hex_encode(want, b->notary_key_id, 4);
        wn_hex_encode(got, id, 4);
        wn_report_fail(c->rep, "notary_key_id",
                       "the bundle names notary key id %s, but the key given has id %s for origin %s: is it the "
                       "right notary key?", want, got, b->cp.origin);
    }
}

/* The inclusion proof of e against the checkpoint's root. */
static void check_proof(ctx *c, wn_bundle_entry *e, const char *what)
{
    const wn_bundle *b = c->b;
    if (!b->checkpoint_parsed) {
        e->proved = 0;
        wn_report_fail(c->rep, "inclusion", "%s: cannot be proved, the checkpoint does not parse", what);
        return;
    }
    uint8_t leaf[32];
    wn_merkle_leaf_hash(leaf, e->entry, e->len);
    e->proved = e->index < b->cp.size &&
                wn_merkle_verify_inclusion(leaf, e->index, b->cp.size, (const uint8_t(*)[32])e->proof,
                                           e->proof_len, b->cp.root);
    if (!e->proved)
        wn_report_fail(c->rep, "inclusion", "%s: the inclusion proof does not lead to the root of the checkpoint "
                       "(tree size %llu)", what, (unsigned long long)b->cp.size);
    /* a timed entry cannot have been committed after the checkpoint that covers it */
    wn_entry_view v;
    if (b->cp.has_time && wn_entry_parse(&v, e->entry, e->len) == WN_ENTRY_OK && v.timed &&
        v.commit_ms > b->cp.time_ms) {
        char t1[25], t2[25];
        wn_time_format(t1, v.commit_ms);
        wn_time_format(t2, b->cp.time_ms);
        wn_report_fail(c->rep, "commit_time", "%s says it was committed at %s, after the checkpoint's commit time %s",
                       what, t1, t2);
    }
}

/* Parses e's bytes into e->view. Returns: 1 if they parse and are of kind `kind`; else 0
 * after reporting under `check`. */
static int entry_of(ctx *c, wn_bundle_entry *e, uint8_t kind, const char *check, const char *what,
                    const char *kind_name)
{
    int err = wn_entry_parse(&e->view, e->entry, e->len);
    e->parsed = err == WN_ENTRY_OK;
    if (err != WN_ENTRY_OK) {
        wn_report_fail(c->rep, check, "%s: %s (type 0x%02x)", what, wn_entry_strerror(err), e->len ? e->entry[0] : 0u);
        return 0;
    }
    if (e->view.kind != kind) {
        wn_report_fail(c->rep, check, "%s is not %s entry (type 0x%02x)", what, kind_name, e->entry[0]);
        return 0;
    }
    return 1;
}

static void check_enrolment(ctx *c)
{
    wn_bundle *b = c->b;
    wn_bundle_entry *e = &b->enrolment;
    char what[64], hex[65], hex2[65];
    snprintf(what, sizeof what, "the enrolment (index %llu)", (unsigned long long)e->index);
    check_proof(c, e, what);
    if (!entry_of(c, e, WN_ENTRY_ENROLMENT, "enrolment", what, "an enrolment")) return;
    int err = wn_enrolment_decode(&b->enrol, e->view.payload, e->view.len);
    if (err) {
        wn_report_fail(c->rep, "enrolment", "%s does not decode: %s", what, wn_enrol_strerror(err));
        return;
    }
    int ok = 1;
    if (wn_enrolment_verify(&b->enrol) != WN_ENROL_OK) {
        wn_report_fail(c->rep, "enrolment", "%s: the registrar's signature does not verify", what);
        ok = 0;
    }
    if (memcmp(b->enrol.meter, b->meter, 32) != 0) {
        wn_hex_encode(hex, b->enrol.meter, 32);
        wn_report_fail(c->rep, "enrolment", "%s is for meter %s, not the bundle's meter", what, hex);
        ok = 0;
    }
    if (c->registrar && memcmp(b->enrol.registrar, c->registrar, 32) != 0) {
        wn_hex_encode(hex, b->enrol.registrar, 32);
        wn_hex_encode(hex2, c->registrar, 32);
        wn_report_fail(c->rep, "enrolment", "%s is signed by registrar %s, not by the registrar key given (%s)", what,
                       hex, hex2);
        ok = 0;
    }
    /* accepted (PROTOCOL §13): only an enrolment that passed every check, its inclusion
     * proof included, gives the enrolled key and period; an enrolment outside the log or
     * by another registrar enrols nothing, so no reading of the bundle counts as valid */
    b->enrolment_ok = ok && e->proved;
    wn_report_info_hex(c->rep, "registrar", b->enrol.registrar, 32);
    /* who signed the readings: the sensor itself, or a gateway reading an installed meter */
    wn_report_info_str(c->rep, "attestation", b->enrol.attestation == WN_ATTEST_GATEWAY ? "gateway" : "sensor");
    if (b->enrol.attestation == WN_ATTEST_GATEWAY) wn_report_info_str(c->rep, "gateway", b->enrol.gateway);
}

static void check_revocation(ctx *c)
{
    wn_bundle *b = c->b;
    wn_bundle_entry *e = &b->revocation;
    char what[64], hex[65];
    snprintf(what, sizeof what, "the revocation (index %llu)", (unsigned long long)e->index);
    check_proof(c, e, what);
    if (!entry_of(c, e, WN_ENTRY_REVOCATION, "revocation", what, "a revocation")) return;
    int err = wn_revocation_decode(&b->revoc, e->view.payload, e->view.len);
    if (err) {
        wn_report_fail(c->rep, "revocation", "%s does not decode: %s", what, wn_enrol_strerror(err));
        return;
    }
    int ok = 1;
    if (wn_revocation_verify(&b->revoc) != WN_ENROL_OK) {
        wn_report_fail(c->rep, "revocation", "%s: the registrar's signature does not verify", what);
        ok = 0;
    }
    if (memcmp(b->revoc.meter, b->meter, 32) != 0) {
        wn_hex_encode(hex, b->revoc.meter, 32);
        wn_report_fail(c->rep, "revocation", "%s is for meter %s, not the bundle's meter", what, hex);
        ok = 0;
    }
    if (e->index <= b->enrolment.index)
        wn_report_fail(c->rep, "revocation", "%s comes before the enrolment (index %llu)", what,
                       (unsigned long long)b->enrolment.index);
    if (b->enrolment_ok && memcmp(b->revoc.registrar, b->enrol.registrar, 32) != 0) {
        wn_hex_encode(hex, b->revoc.registrar, 32);
        wn_report_fail(c->rep, "revocation", "%s is signed by registrar %s, not by the enrolment's", what, hex);
    }
    b->revocation_ok = ok;
    char t[25];
    wn_time_format(t, b->revoc.time_ms);
    wn_report_warn(c->rep, "revoked_meter", "the meter was revoked at index %llu (%s, reason %s): later readings are "
                   "invalid", (unsigned long long)e->index, t, wn_revoke_reason_name(b->revoc.reason) ?
                   wn_revoke_reason_name(b->revoc.reason) : "?");
}

/* Verifies r's signature with the enrolled key (or, without a valid enrolment, with the
 * key the meter id gives: itself for BIP-340, either parity for ECDSA). Returns: 1 if valid;
 * else 0 with why. */
static int reading_signed(const wn_bundle *b, const wn_reading *r, const char **why)
{
    *why = "the signature does not verify with the enrolled key";
    if (b->enrolment_ok) {
        if (r->alg != b->enrol.alg) {
            *why = "signed with another algorithm than the meter's enrolled key";
            return 0;
        }
        if (r->alg != WN_ALG_BIP340) return wn_reading_verify(r, b->enrol.pubkey, 33) == WN_READING_OK;
        return wn_reading_verify(r, NULL, 0) == WN_READING_OK;
    }
    *why = "the signature does not verify with the meter's key";
    if (r->alg == WN_ALG_BIP340) return wn_reading_verify(r, NULL, 0) == WN_READING_OK;
    uint8_t pub[33];
    memcpy(pub + 1, r->meter, 32);
    for (pub[0] = 0x02; pub[0] <= 0x03; pub[0]++)
        if (wn_reading_verify(r, pub, 33) == WN_READING_OK) return 1;
    return 0;
}

static void check_reading(ctx *c, wn_bundle_entry *e, size_t i)
{
    wn_bundle *b = c->b;
    char what[96], hex[65];
    /* as for every proved entry: the inclusion proof first, then what the entry says */
    int err = wn_entry_parse(&e->view, e->entry, e->len);
    e->parsed = err == WN_ENTRY_OK;
    err = !e->parsed || e->view.kind != WN_ENTRY_READING ? -1 : wn_reading_decode(&e->reading, e->view.payload, e->view.len);
    e->decoded = err == 0;
    reading_label(what, sizeof what, e, i);
    check_proof(c, e, what);
    if (err < 0) {
        (void)entry_of(c, e, WN_ENTRY_READING, "reading", what, "a reading");
        return;
    }
    if (err) {
        wn_report_fail(c->rep, "reading", "%s does not decode: %s (%s)", what, wn_reading_strerror(err),
                       wn_reading_errcode(err));
        return;
    }
    int ok = e->proved && b->checkpoint_ok && b->enrolment_ok;
    if (memcmp(e->reading.meter, b->meter, 32) != 0) {
        wn_hex_encode(hex, e->reading.meter, 32);
        wn_report_fail(c->rep, "reading_meter", "%s is a reading of meter %s, not of the bundle's meter", what, hex);
        ok = 0;
    }
    const char *why;
    if (!reading_signed(b, &e->reading, &why)) {
        wn_report_fail(c->rep, "reading_signature", "%s: %s", what, why);
        ok = 0;
    }
    if (e->index <= b->enrolment.index) {
        wn_report_fail(c->rep, "not_enrolled", "%s comes before the meter's enrolment (index %llu)", what,
                       (unsigned long long)b->enrolment.index);
        ok = 0;
    }
    if (b->has_revocation && e->index > b->revocation.index) {
        wn_report_fail(c->rep, "revoked", "%s was appended after the meter's revocation (index %llu)", what,
                       (unsigned long long)b->revocation.index);
        ok = 0;
    }
    e->valid = ok;
}

/* Sorting decoded readings by (sequence, position in the bundle). */
typedef struct {
    const wn_bundle_entry *e;
    size_t pos;
} ref;

static int by_seq(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    if (x->e->reading.seq != y->e->reading.seq) return x->e->reading.seq < y->e->reading.seq ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Order along the array; then, sorted by sequence, gaps, duplicates, the hash chain and
 * times; then the boundaries. */
static void check_sequence(ctx *c)
{
    wn_bundle *b = c->b;
    wn_report *rep = c->rep;
    ref *s = malloc((b->n_readings ? b->n_readings : 1) * sizeof *s);
    if (!s) {
        rep->oom = 1;
        return;
    }
    size_t n = 0;
    const wn_bundle_entry *prev = NULL;
    for (size_t i = 0; i < b->n_readings; i++) {
        const wn_bundle_entry *e = &b->readings[i];
        if (!e->decoded) continue;
        if (prev && e->reading.seq <= prev->reading.seq)
            wn_report_fail(rep, "order", "reading seq %llu (index %llu) comes after seq %llu in the bundle: readings "
                           "must ascend by sequence", (unsigned long long)e->reading.seq, (unsigned long long)e->index,
                           (unsigned long long)prev->reading.seq);
        else if (prev && e->index <= prev->index)
            wn_report_fail(rep, "order", "reading seq %llu is at ledger index %llu, not after seq %llu's index %llu",
                           (unsigned long long)e->reading.seq, (unsigned long long)e->index,
                           (unsigned long long)prev->reading.seq, (unsigned long long)prev->index);
        prev = e;
        s[n++] = (ref){e, i};
    }
    qsort(s, n, sizeof *s, by_seq);
    uint64_t missing = 0;
    size_t gaps = 0;
    char t1[25], t2[25];
    for (size_t k = 1; k < n; k++) {
        const wn_reading *a = &s[k - 1].e->reading, *r = &s[k].e->reading;
        if (r->seq == a->seq) {
            wn_report_fail(rep, "order", "sequence %llu appears more than once (indexes %llu and %llu)",
                           (unsigned long long)r->seq, (unsigned long long)s[k - 1].e->index,
                           (unsigned long long)s[k].e->index);
            continue;
        }
        if (r->seq > a->seq + 1) {
            wn_report_gap g = {a->seq + 1, r->seq - 1, 1, 1, a->time_ms, r->time_ms};
            wn_report_gap_add(rep, &g);
            wn_time_format(t1, a->time_ms);
            wn_time_format(t2, r->time_ms);
            uint64_t m = r->seq - a->seq - 1;
            wn_report_fail(rep, "gap", "missing seq %llu..%llu (%llu reading%s), between %s (seq %llu) and %s (seq %llu)",
                           (unsigned long long)g.first_seq, (unsigned long long)g.last_seq, (unsigned long long)m,
                           m == 1 ? "" : "s", t1, (unsigned long long)a->seq, t2, (unsigned long long)r->seq);
            missing += m;
            gaps++;
        } else {
            uint8_t d[32];
            wn_reading_digest(a, d);
            if (memcmp(d, r->prev, 32) != 0)
                wn_report_fail(rep, "chain", "reading seq %llu does not carry the digest of seq %llu as its previous "
                               "digest: the hash chain is broken", (unsigned long long)r->seq, (unsigned long long)a->seq);
        }
        if (r->time_ms < a->time_ms) {
            wn_time_format(t1, a->time_ms);
            wn_time_format(t2, r->time_ms);
            wn_report_fail(rep, "time_order", "reading seq %llu (%s) is earlier than seq %llu (%s)",
                           (unsigned long long)r->seq, t2, (unsigned long long)a->seq, t1);
        }
    }
    if (n && s[0].e->reading.seq > 1 && s[0].e->boundary != WN_BOUNDARY_BEFORE) {
        const wn_reading *r = &s[0].e->reading;
        wn_report_gap g = {r->seq - 1, r->seq - 1, 0, 1, 0, r->time_ms};
        wn_report_gap_add(rep, &g);
        wn_time_format(t1, r->time_ms);
        wn_report_fail(rep, "missing_boundary", "the lowest sequence in the bundle is %llu (%s) and it is not marked "
                       "before: the meter's reading seq %llu, which exists, is missing",
                       (unsigned long long)r->seq, t1, (unsigned long long)(r->seq - 1));
        missing++;
        gaps++;
    }
    free(s);

    size_t in_period = 0, boundary = 0;
    char f[25], t[25], rt[25];
    wn_time_format(f, b->from_ms);
    wn_time_format(t, b->to_ms);
    int has_after = 0;
    for (size_t i = 0; i < b->n_readings; i++) {
        const wn_bundle_entry *e = &b->readings[i];
        if (e->boundary != WN_BOUNDARY_NONE) boundary++;
        if (e->boundary == WN_BOUNDARY_AFTER) has_after = 1;
        if (!e->decoded) continue;
        const wn_reading *r = &e->reading;
        unsigned long long q = (unsigned long long)r->seq;
        wn_time_format(rt, r->time_ms);
        if (e->boundary == WN_BOUNDARY_BEFORE) {
            if (i != 0) wn_report_fail(rep, "boundary", "reading seq %llu is marked before but is not the first", q);
            if (r->time_ms >= b->from_ms)
                wn_report_fail(rep, "boundary", "reading seq %llu is marked before but lies at %s, not before %s", q, rt, f);
        } else if (e->boundary == WN_BOUNDARY_AFTER) {
            if (i + 1 != b->n_readings)
                wn_report_fail(rep, "boundary", "reading seq %llu is marked after but is not the last", q);
            if (r->time_ms < b->to_ms)
                wn_report_fail(rep, "boundary", "reading seq %llu is marked after but lies at %s, before %s", q, rt, t);
        } else {
            in_period++;
            if (r->time_ms < b->from_ms || r->time_ms >= b->to_ms)
                wn_report_fail(rep, "boundary", "reading seq %llu lies at %s, outside the period [%s, %s)", q, rt, f, t);
        }
    }
    if (!has_after)
        wn_report_warn(rep, "open_end", "no reading at or after %s is in the bundle: nothing proves that the meter made "
                       "no later reading in the period", t);
    wn_report_count(rep, "in_period", in_period);
    wn_report_count(rep, "boundary", boundary);
    wn_report_count(rep, "gaps", gaps);
    wn_report_count(rep, "missing", missing);
}

static void check_equivocation(ctx *c, wn_bundle_entry *e, size_t i)
{
    wn_bundle *b = c->b;
    char what[96];
    snprintf(what, sizeof what, "equivocation evidence %zu (index %llu)", i, (unsigned long long)e->index);
    check_proof(c, e, what);
    if (!entry_of(c, e, WN_ENTRY_EQUIVOCATION, "equivocation", what, "an equivocation evidence")) return;
    if (e->view.len < 9) {
        wn_report_fail(c->rep, "equivocation", "%s is too short for equivocation evidence", what);
        return;
    }
    int err = wn_reading_decode(&e->reading, e->view.payload + 8, e->view.len - 8);
    if (err) {
        wn_report_fail(c->rep, "equivocation", "%s: the conflicting reading does not decode: %s", what,
                       wn_reading_errcode(err));
        return;
    }
    e->decoded = 1;
    if (memcmp(e->reading.meter, b->meter, 32) != 0)
        wn_report_fail(c->rep, "equivocation", "%s: the conflicting reading is another meter's", what);
    const char *why;
    if (!reading_signed(b, &e->reading, &why))
        wn_report_fail(c->rep, "equivocation", "%s: the conflicting reading: %s", what, why);
    uint64_t orig = wn_get_u64(e->view.payload);
    for (size_t k = 0; k < b->n_readings; k++) {
        const wn_bundle_entry *r = &b->readings[k];
        if (!r->decoded || r->index != orig) continue;
        uint8_t d1[32], d2[32];
        wn_reading_digest(&r->reading, d1);
        wn_reading_digest(&e->reading, d2);
        if (r->reading.seq != e->reading.seq || memcmp(d1, d2, 32) == 0)
            wn_report_fail(c->rep, "equivocation", "%s does not conflict with the reading at index %llu", what,
                           (unsigned long long)orig);
    }
    wn_report_warn(c->rep, "equivocations", "the meter signed two different readings with seq %llu (the accepted one "
                   "at index %llu; evidence at index %llu)", (unsigned long long)e->reading.seq,
                   (unsigned long long)orig, (unsigned long long)e->index);
}

int wn_bundle_verify(wn_bundle *b, const uint8_t notary[32], const uint8_t *registrar, wn_report *rep)
{
    ctx c = {b, rep, notary, registrar};
    b->checkpoint_ok = b->checkpoint_parsed = b->enrolment_ok = b->revocation_ok = 0;
    char t[25];
    wn_report_info_hex(rep, "meter", b->meter, 32);
    wn_time_format(t, b->from_ms);
    wn_report_info_str(rep, "from", t);
    wn_time_format(t, b->to_ms);
    wn_report_info_str(rep, "to", t);
    wn_report_info_hex(rep, "notary_key_id", b->notary_key_id, 4);

    check_checkpoint(&c);
    if (b->checkpoint_parsed) {
        char root[WN_B64_LEN(32) + 1];
        wn_base64_encode(root, b->cp.root, 32);
        wn_report_info_str(rep, "origin", b->cp.origin);
        wn_report_info_u64(rep, "size", b->cp.size);
        wn_report_info_str(rep, "root", root);
    }
    wn_report_info_str(rep, "registrar", NULL);
    check_enrolment(&c);
    wn_report_info_u64(rep, "enrolment_index", b->enrolment.index);
    if (b->has_revocation) {
        check_revocation(&c);
        wn_report_info_u64(rep, "revocation_index", b->revocation.index);
    } else {
        wn_report_info_str(rep, "revocation_index", NULL);
    }
    size_t valid = 0;
    for (size_t i = 0; i < b->n_readings; i++) {
        check_reading(&c, &b->readings[i], i);
        valid += b->readings[i].valid;
    }
    check_sequence(&c);
    for (size_t i = 0; i < b->n_equivocations; i++) check_equivocation(&c, &b->equivocations[i], i);
    wn_report_count(rep, "readings", b->n_readings);
    wn_report_count(rep, "valid_readings", valid);
    wn_report_count(rep, "equivocations", b->n_equivocations);
    return wn_report_valid(rep);
}
