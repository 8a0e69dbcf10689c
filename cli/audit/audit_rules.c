/* audit_rules.c — what each entry must be (docs/PROTOCOL.md §11): a reading from a meter
 * enrolled and not yet revoked at that index, signed with the enrolled key and algorithm,
 * continuing the meter's sequence, hash chain and clock as the node requires (§9); an
 * enrolment or revocation signed by the one registrar, in a sensible order; equivocation
 * evidence whose conflicting reading is signed by the meter and really conflicts with the
 * earlier reading it names. Signatures go to the worker pool; everything that depends on
 * order is checked here, on the main thread, in index order.
 *
 * A meter's state follows every reading that decodes, valid or not, so that one bad
 * reading is reported once and not again at every later reading of the meter. */
#include "cli/audit/audit_impl.h"
#include "crypto/encoding.h"
#include "protocol/calibration.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "ledger/entry.h"

#include <stdlib.h>
#include <string.h>

#define AT WN_AUDIT_AT_ENTRY

static __int128 pow10_i128(unsigned e)
{
    __int128 p = 1;
    while (e--) p *= 10;
    return p;
}

/* The reading's cumulative volume in 10^-12 m3 (the node's unit of comparison). */
static int volume_of(const wn_reading *r, __int128 *v)
{
    for (unsigned i = 0; i < r->count; i++) {
        const wn_measurement *m = &r->m[i];
        if (m->quantity != WN_Q_VOLUME) continue;
        *v = (__int128)m->value * pow10_i128((m->unit == WN_U_LITRE ? 9u : 12u) - m->scale);
        return 1;
    }
    return 0;
}

/* The node's sane ranges (§9 out_of_range). Returns the first offending measurement or -1. */
static int out_of_range(const wn_reading *r)
{
    for (unsigned i = 0; i < r->count; i++) {
        const wn_measurement *m = &r->m[i];
        switch (m->quantity) {
        case WN_Q_VOLUME:
        case WN_Q_FLOW:
        case WN_Q_CONDUCTIVITY:
        case WN_Q_TURBIDITY:
            if (m->value < 0) return (int)i;
            break;
        case WN_Q_PH:
            if (m->value < 0 || (__int128)m->value > 14 * pow10_i128(m->scale)) return (int)i;
            break;
        default:
            break;
        }
    }
    return -1;
}

static void alert(wn_auditor *a, int type, uint64_t index, const uint8_t meter[32], uint64_t seq, uint64_t original)
{
    wn_audit_summary *s = &a->sum;
    s->alerts[type]++;
    if (s->n_alert_items < WN_AUDIT_MAX_ALERT_ITEMS) {
        wn_audit_alert_item *it = &s->alert_items[s->n_alert_items++];
        it->type = type;
        it->index = index;
        memcpy(it->meter, meter, 32);
        it->seq = seq;
        it->original = original;
    }
}

static void oom(wn_auditor *a) { a->store.oom = 1; }

/* The registrar key of a record: the one in force, or the first seen becomes it. */
void wn_audit_i_check_registrar(wn_auditor *a, uint64_t index, const uint8_t key[32])
{
    wn_audit_summary *s = &a->sum;
    size_t known = s->n_registrars < WN_AUDIT_MAX_REGISTRARS ? s->n_registrars : WN_AUDIT_MAX_REGISTRARS;
    int seen = 0;
    for (size_t i = 0; i < known; i++) seen |= memcmp(s->registrars[i], key, 32) == 0;
    if (!seen) {
        if (s->n_registrars < WN_AUDIT_MAX_REGISTRARS) memcpy(s->registrars[s->n_registrars], key, 32);
        s->n_registrars++;
    }
    if (!a->have_registrar) { /* no --registrar: the first record's key is the registrar */
        memcpy(a->cfg.registrar, key, 32);
        a->cfg.have_registrar = 1;
        a->have_registrar = 1;
        return;
    }
    if (memcmp(a->cfg.registrar, key, 32) != 0) {
        char k[65], r[65];
        wn_hex_encode(k, key, 32);
        wn_hex_encode(r, a->cfg.registrar, 32);
        wn_audit_i_problem(a, AT, index, WN_AC_REGISTRAR_KEY, 0, "signed by registrar key %s, not the registrar %s", k,
                           r);
    }
}

/* Queues a registrar signature over tagged_hash(tag, rec[0 .. len-64)) by the record's key. */
static void queue_record_sig(wn_auditor *a, uint64_t index, int what, const char *tag, const uint8_t *rec, size_t len,
                             const uint8_t registrar[32], const uint8_t meter[32])
{
    wn_audit_sigjob *j = wn_audit_i_pool_job(&a->pool);
    j->index = index;
    j->code = WN_AC_BAD_REGISTRAR_SIGNATURE;
    j->what = (uint8_t)what;
    if (!wn_verifier_bip340(&j->key, registrar)) memset(&j->key, 0, sizeof j->key); /* alg 0: never verifies */
    wn_tagged_hash(j->digest, tag, rec, len - 64);
    memcpy(j->sig, rec + len - 64, 64);
    memcpy(j->meter, meter, 32);
    j->seq = 0;
}

static void enrolment(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_enrolment e;
    a->sum.enrolments++;
    if (wn_enrolment_decode(&e, p, n) != WN_ENROL_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the enrolment record does not decode (section 5)");
        return;
    }
    wn_audit_i_check_registrar(a, index, e.registrar);
    queue_record_sig(a, index, 1, WN_TAG_ENROLMENT, p, n, e.registrar, e.meter);
    wn_audit_mstate *m = wn_audit_i_meter(&a->meters, e.meter, 1);
    if (!m) return oom(a);
    char id[17];
    wn_audit_i_hex16(id, e.meter);
    if (m->enrolled) {
        wn_audit_i_problem(a, AT, index, WN_AC_ALREADY_ENROLLED, 0, "meter %s was already enrolled at entry %llu%s", id,
                           (unsigned long long)m->enrol_index, m->revoked ? " (and revoked)" : "");
        return;
    }
    int ok = e.alg == WN_ALG_ECDSA                          ? wn_verifier_ecdsa(&m->key, e.pubkey)
             : e.alg == WN_ALG_P256 || e.alg == WN_ALG_SM2 ? wn_verifier_evp(&m->key, e.alg, e.pubkey)
                                                           : wn_verifier_bip340(&m->key, e.meter);
    if (!ok) { /* the decoder checked the key; this cannot happen with a valid record */
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 1, "meter %s: the enrolled key is not a curve point", id);
        return;
    }
    m->enrolled = 1;
    m->enrol_index = index;
    m->enrol_ms = e.time_ms;
    m->alg = e.alg;
    m->point = e.point;
    if (e.point == WN_POINT_CERTIFIER) a->sum.certifiers++;
    else a->sum.meters++;
}

/* An enterprise record (PROTOCOL §5 "Enterprises"): decodes, is signed by the registrar,
 * carries a sequence above its code's last record, and names no key in force for another
 * enterprise — what the node checked when it accepted it. */
static void enterprise(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_enterprise e;
    a->sum.enterprises++;
    if (wn_enterprise_decode(&e, p, n) != WN_ENT_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the enterprise record does not decode (section 5)");
        return;
    }
    wn_audit_i_check_registrar(a, index, e.registrar);
    queue_record_sig(a, index, 7, WN_TAG_ENTERPRISE, p, n, e.registrar, e.keys[0]);
    size_t at = a->n_ents;
    for (size_t i = 0; i < a->n_ents; i++) {
        if (strcmp(a->ents[i].code, e.code) == 0) {
            at = i;
            continue;
        }
        for (size_t k = 0; k < e.n_keys; k++)
            if (wn_enterprise_has_key(&a->ents[i], e.keys[k])) {
                char h[17];
                wn_audit_i_hex16(h, e.keys[k]);
                wn_audit_i_problem(a, AT, index, WN_AC_KEY_IN_USE, 0, "enterprise %s: key %s is in force for enterprise %s",
                                   e.code, h, a->ents[i].code);
            }
    }
    if (at < a->n_ents) {
        if (e.seq <= a->ents[at].seq) {
            wn_audit_i_problem(a, AT, index, WN_AC_STALE_RECORD, 0,
                               "enterprise %s: a record of sequence %llu after one of sequence %llu", e.code,
                               (unsigned long long)e.seq, (unsigned long long)a->ents[at].seq);
            return;
        }
        a->ents[at] = e;
        return;
    }
    if (a->n_ents == a->cap_ents) {
        size_t cap = a->cap_ents ? 2 * a->cap_ents : 16;
        wn_enterprise *q = realloc(a->ents, cap * sizeof *q);
        if (!q) return oom(a);
        a->ents = q;
        a->cap_ents = cap;
    }
    a->ents[a->n_ents++] = e;
}

/* An accreditation record: decodes, is signed by the registrar, carries a sequence above its
 * code's last record. */
static void accreditation(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_accreditation r;
    a->sum.accreditations++;
    if (wn_accreditation_decode(&r, p, n) != WN_ENT_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the accreditation record does not decode (section 5)");
        return;
    }
    wn_audit_i_check_registrar(a, index, r.registrar);
    queue_record_sig(a, index, 8, WN_TAG_ACCREDITATION, p, n, r.registrar, r.keys[0]);
    for (size_t i = 0; i < a->n_accs; i++) {
        if (strcmp(a->accs[i].code, r.code) != 0) continue;
        if (r.seq <= a->accs[i].seq) {
            wn_audit_i_problem(a, AT, index, WN_AC_STALE_RECORD, 0,
                               "certifier %s: an accreditation of sequence %llu after one of sequence %llu", r.code,
                               (unsigned long long)r.seq, (unsigned long long)a->accs[i].seq);
            return;
        }
        a->accs[i] = r;
        return;
    }
    if (a->n_accs == a->cap_accs) {
        size_t cap = a->cap_accs ? 2 * a->cap_accs : 16;
        wn_accreditation *q = realloc(a->accs, cap * sizeof *q);
        if (!q) return oom(a);
        a->accs = q;
        a->cap_accs = cap;
    }
    a->accs[a->n_accs++] = r;
}

/* A meter calibration record (PROTOCOL §5 "Meter calibration"): decodes (so its validity is
 * not empty), is signed by the registrar and names a meter enrolled before it — what the
 * node checked when it accepted it. */
static void calibration(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_calibration c;
    a->sum.calibrations++;
    if (wn_calibration_decode(&c, p, n) != WN_ENT_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the calibration record does not decode (section 5)");
        return;
    }
    wn_audit_i_check_registrar(a, index, c.registrar);
    queue_record_sig(a, index, 9, WN_TAG_CALIBRATION, p, n, c.registrar, c.meter);
    wn_audit_mstate *m = wn_audit_i_meter(&a->meters, c.meter, 0);
    if (!m || !m->enrolled) {
        char id[17];
        wn_audit_i_hex16(id, c.meter);
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_METER, 0, "calibrates meter %s, which is not enrolled", id);
    }
}

static void revocation(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_revocation r;
    a->sum.revocations++;
    if (wn_revocation_decode(&r, p, n) != WN_ENROL_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_RECORD, 0, "the revocation record does not decode (section 5)");
        return;
    }
    wn_audit_i_check_registrar(a, index, r.registrar);
    queue_record_sig(a, index, 2, WN_TAG_REVOCATION, p, n, r.registrar, r.meter);
    wn_audit_mstate *m = wn_audit_i_meter(&a->meters, r.meter, 0);
    char id[17];
    wn_audit_i_hex16(id, r.meter);
    if (!m || !m->enrolled) {
        wn_audit_i_problem(a, AT, index, WN_AC_UNKNOWN_METER, 0, "revokes meter %s, which is not enrolled", id);
        return;
    }
    if (m->revoked) {
        wn_audit_i_problem(a, AT, index, WN_AC_ALREADY_REVOKED, 0, "meter %s was already revoked at entry %llu", id,
                           (unsigned long long)m->revoke_index);
        return;
    }
    m->revoked = 1;
    m->revoke_index = index;
    a->sum.revoked++;
}

/* Is meter m's key valid at index (enrolled before, not revoked before)? Reports why not. */
static int key_valid(wn_auditor *a, uint64_t index, const wn_audit_mstate *m, const char *what, const char *id)
{
    if (!m->enrolled) {
        wn_audit_i_problem(a, AT, index, WN_AC_NOT_ENROLLED, 0, "%s of meter %s, which has no enrolment before it", what,
                           id);
        return 0;
    }
    if (m->revoked) {
        wn_audit_i_problem(a, AT, index, WN_AC_REVOKED, 0, "%s of meter %s after its revocation at entry %llu", what, id,
                           (unsigned long long)m->revoke_index);
        return 0;
    }
    return 1;
}

static void queue_reading_sig(wn_auditor *a, uint64_t index, int what, int code, const wn_audit_mstate *m,
                              const uint8_t *rd, size_t n, uint64_t seq)
{
    wn_audit_sigjob *j = wn_audit_i_pool_job(&a->pool);
    j->index = index;
    j->code = (uint8_t)code;
    j->what = (uint8_t)what;
    j->key = m->key;
    wn_reading_signing_digest_of(m->key.alg, rd, n - 64, j->digest);
    memcpy(j->sig, rd + n - 64, 64);
    memcpy(j->meter, m->id, 32);
    j->seq = seq;
}

static void reading(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    wn_reading r;
    a->sum.readings++;
    int err = wn_reading_decode(&r, p, n);
    if (err) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_READING, 0, "%s: %s", wn_reading_errcode(err),
                           wn_reading_strerror(err));
        return;
    }
    wn_audit_mstate *m = wn_audit_i_meter(&a->meters, r.meter, 1);
    if (!m) return oom(a);
    char id[17];
    wn_audit_i_hex16(id, r.meter);
    if (key_valid(a, index, m, "a reading", id)) {
        if (r.alg != m->alg)
            wn_audit_i_problem(a, AT, index, WN_AC_ALG_MISMATCH, 0, "signed with %s, but meter %s is enrolled for %s",
                               wn_alg_name(r.alg), id, wn_alg_name(m->alg) ? wn_alg_name(m->alg) : "?");
        else
            queue_reading_sig(a, index, 0, WN_AC_BAD_SIGNATURE, m, p, n, r.seq);
        if (r.time_ms < m->enrol_ms) {
            char t1[25], t2[25];
            wn_time_format(t1, r.time_ms);
            wn_time_format(t2, m->enrol_ms);
            wn_audit_i_problem(a, AT, index, WN_AC_BEFORE_ENROLMENT, 0,
                               "meter %s sequence %llu is dated %s, before the meter's enrolment at %s (entry %llu)",
                               id, (unsigned long long)r.seq, t1, t2, (unsigned long long)m->enrol_index);
        }
    }

    uint8_t digest[32];
    wn_sha256(digest, p, n);
    uint64_t last = m->last_seq;
    if (r.seq == last + 1) {
        if (memcmp(r.prev, m->last_digest, 32) != 0)
            wn_audit_i_problem(a, AT, index, WN_AC_CHAIN_MISMATCH, 0,
                               "meter %s sequence %llu: previous digest is not the digest of sequence %llu (entry %llu)",
                               id, (unsigned long long)r.seq, (unsigned long long)last,
                               (unsigned long long)m->last_index);
    } else if (r.seq > last + 1) {
        a->sum.gaps++;
        a->sum.missing += r.seq - last - 1;
        if (last)
            wn_audit_i_problem(a, AT, index, WN_AC_SEQUENCE_GAP, 0,
                               "meter %s: sequences %llu..%llu are missing between entry %llu and this one", id,
                               (unsigned long long)last + 1, (unsigned long long)r.seq - 1,
                               (unsigned long long)m->last_index);
        else
            wn_audit_i_problem(a, AT, index, WN_AC_SEQUENCE_GAP, 0,
                               "meter %s: its first reading has sequence %llu; 1..%llu are missing", id,
                               (unsigned long long)r.seq, (unsigned long long)r.seq - 1);
    } else {
        wn_audit_i_problem(a, AT, index, WN_AC_SEQUENCE_REUSED, 0,
                           "meter %s: sequence %llu again, after sequence %llu at entry %llu", id,
                           (unsigned long long)r.seq, (unsigned long long)last, (unsigned long long)m->last_index);
    }
    if (m->readings && r.time_ms < m->last_time) {
        char t1[25], t2[25];
        wn_time_format(t1, r.time_ms);
        wn_time_format(t2, m->last_time);
        wn_audit_i_problem(a, AT, index, WN_AC_TIME_TRAVEL, 0, "meter %s sequence %llu: time %s is before %s (entry %llu)",
                           id, (unsigned long long)r.seq, t1, t2, (unsigned long long)m->last_index);
    }
    __int128 vol;
    int has_vol = volume_of(&r, &vol);
    if (has_vol && m->has_volume && vol < m->last_volume && !(r.flags & WN_FLAG_METER_REPLACED))
        wn_audit_i_problem(a, AT, index, WN_AC_VOLUME_DECREASED, 0,
                           "meter %s sequence %llu: the cumulative volume went down without the meter_replaced flag", id,
                           (unsigned long long)r.seq);
    int bad = out_of_range(&r);
    if (bad >= 0) {
        char v[32];
        wn_decimal_format(v, r.m[bad].value, r.m[bad].scale);
        wn_audit_i_problem(a, AT, index, WN_AC_OUT_OF_RANGE, 0, "meter %s sequence %llu: %s %s %s is outside its sane range",
                           id, (unsigned long long)r.seq, wn_quantity_name(r.m[bad].quantity), v,
                           wn_unit_name(r.m[bad].unit));
    }

    if (r.flags & WN_FLAG_TAMPER) alert(a, WN_ALERT_TAMPER, index, r.meter, r.seq, 0);
    if (r.flags & WN_FLAG_SUBSTITUTE) alert(a, WN_ALERT_SUBSTITUTE, index, r.meter, r.seq, 0);
    if (r.flags & WN_FLAG_CLOCK_UNSYNC) alert(a, WN_ALERT_CLOCK_UNSYNC, index, r.meter, r.seq, 0);

    m->readings++;
    if (r.seq > last) {
        m->last_seq = r.seq;
        m->last_index = index;
        m->last_time = r.time_ms;
        memcpy(m->last_digest, digest, 32);
        if (has_vol) {
            m->has_volume = 1;
            m->last_volume = vol;
        }
    }
}

static void evidence(wn_auditor *a, uint64_t index, const uint8_t *p, size_t n)
{
    a->sum.equivocations++;
    if (n < 8) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_EVIDENCE, 0, "shorter than the index of the original reading");
        return;
    }
    uint64_t orig = wn_get_u64(p);
    const uint8_t *rd = p + 8;
    size_t rn = n - 8;
    wn_reading r;
    int err = wn_reading_decode(&r, rd, rn);
    if (err) {
        wn_audit_i_problem(a, AT, index, WN_AC_MALFORMED_EVIDENCE, 0, "the conflicting reading does not decode: %s: %s",
                           wn_reading_errcode(err), wn_reading_strerror(err));
        return;
    }
    char id[17];
    wn_audit_i_hex16(id, r.meter);
    alert(a, WN_ALERT_EQUIVOCATION, index, r.meter, r.seq, orig);
    wn_audit_mstate *m = wn_audit_i_meter(&a->meters, r.meter, 1);
    if (!m) return oom(a);
    if (key_valid(a, index, m, "equivocation evidence", id)) {
        if (r.alg != m->alg)
            wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_SIGNATURE, 0,
                               "the conflicting reading is signed with another algorithm than meter %s's enrolled one", id);
        else
            queue_reading_sig(a, index, 3, WN_AC_EVIDENCE_SIGNATURE, m, rd, rn, r.seq);
    }

    uint8_t digest[32];
    wn_sha256(digest, rd, rn);
    int added = wn_audit_i_digest_add(&a->evidence, digest);
    if (added < 0) return oom(a);
    if (added == 0)
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_DUPLICATE, 0,
                           "this conflicting reading (meter %s, sequence %llu) is already recorded as evidence", id,
                           (unsigned long long)r.seq);

    /* The original: an earlier reading with the same (meter, sequence) and other bytes. */
    if (orig >= index) {
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_REFERENCE, 0, "names entry %llu, which is not an earlier entry",
                           (unsigned long long)orig);
        return;
    }
    uint8_t buf[WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN];
    size_t len = 0;
    if (!a->cfg.fetch || a->cfg.fetch(a->cfg.fetch_ctx, orig, buf, sizeof buf, &len) != 0 || len > sizeof buf) {
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_REFERENCE, 0,
                           "cannot read entry %llu, the original reading it names (or it is not a reading)",
                           (unsigned long long)orig);
        return;
    }
    wn_reading o;
    wn_entry_view ov;
    if (wn_entry_parse(&ov, buf, len) != WN_ENTRY_OK || ov.kind != WN_ENTRY_READING ||
        wn_reading_decode(&o, ov.payload, ov.len) != WN_READING_OK) {
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_REFERENCE, 0, "entry %llu, which it names, is not a valid reading",
                           (unsigned long long)orig);
        return;
    }
    if (memcmp(o.meter, r.meter, 32) != 0 || o.seq != r.seq) {
        char oid[17];
        wn_audit_i_hex16(oid, o.meter);
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_REFERENCE, 0,
                           "entry %llu is meter %s sequence %llu, not meter %s sequence %llu", (unsigned long long)orig,
                           oid, (unsigned long long)o.seq, id, (unsigned long long)r.seq);
        return;
    }
    if (ov.len == rn && memcmp(ov.payload, rd, rn) == 0)
        wn_audit_i_problem(a, AT, index, WN_AC_EVIDENCE_REFERENCE, 0,
                           "the conflicting reading is identical to entry %llu: no equivocation", (unsigned long long)orig);
}

/* Commit times (PROTOCOL §3): once entries are timed they stay timed, their commit times
 * never go back, and only readings are marked late. */
static void timing(wn_auditor *a, uint64_t index, const wn_entry_view *v)
{
    char t1[25], t2[25];
    if (!v->timed) {
        if (a->have_timed)
            wn_audit_i_problem(a, AT, index, WN_AC_UNTIMED_AFTER_TIMED, 0,
                               "an untimed entry (type 0x%02x) after timed ones: the node writes only timed entries "
                               "once it has written one", v->type);
        a->last_timed = 0;
        return;
    }
    if (a->have_timed && v->commit_ms < a->last_commit_ms) {
        wn_time_format(t1, v->commit_ms);
        wn_time_format(t2, a->last_commit_ms);
        wn_audit_i_problem(a, AT, index, WN_AC_COMMIT_TIME_BACKWARDS, 0,
                           "committed at %s, before an earlier entry's commit time %s", t1, t2);
    }
    if ((v->marks & WN_ENTRY_MARK_LATE) && v->kind != WN_ENTRY_READING)
        wn_audit_i_problem(a, AT, index, WN_AC_ENTRY_TYPE, 1, "a %s entry marked late: only readings are",
                           v->kind == WN_ENTRY_EQUIVOCATION ? "evidence" : "non-reading");
    if (!a->have_timed) a->sum.first_commit_ms = v->commit_ms;
    a->have_timed = a->last_timed = 1;
    if (v->commit_ms > a->last_commit_ms) a->last_commit_ms = v->commit_ms;
    a->sum.last_commit_ms = a->last_commit_ms;
    a->sum.timed++;
    if (v->marks & WN_ENTRY_MARK_LATE) a->sum.late++;
}

void wn_audit_i_entry_rules(wn_auditor *a, uint64_t index, const uint8_t *entry, size_t len)
{
    wn_entry_view v;
    int err = wn_entry_parse(&v, entry, len);
    if (err != WN_ENTRY_OK) {
        a->sum.unknown++;
        wn_audit_i_problem(a, AT, index, WN_AC_ENTRY_TYPE, 0, "%s (type 0x%02x, %zu bytes)", wn_entry_strerror(err),
                           len ? entry[0] : 0u, len);
        return;
    }
    timing(a, index, &v);
    const uint8_t *p = v.payload;
    size_t n = v.len;
    switch (v.kind) {
    case WN_ENTRY_READING: reading(a, index, p, n); break;
    case WN_ENTRY_ENROLMENT: enrolment(a, index, p, n); break;
    case WN_ENTRY_REVOCATION: revocation(a, index, p, n); break;
    case WN_ENTRY_EQUIVOCATION: evidence(a, index, p, n); break;
    case WN_ENTRY_CERTIFICATE: wn_audit_i_certificate(a, index, p, n); break;
    case WN_ENTRY_TRANSFER: wn_audit_i_cert_op(a, index, 0, p, n); break;
    case WN_ENTRY_RETIREMENT: wn_audit_i_cert_op(a, index, 1, p, n); break;
    case WN_ENTRY_ENTERPRISE: enterprise(a, index, p, n); break;
    case WN_ENTRY_ACCREDITATION: accreditation(a, index, p, n); break;
    case WN_ENTRY_CALIBRATION: calibration(a, index, p, n); break;
    default:
        a->sum.unknown++;
        wn_audit_i_problem(a, AT, index, WN_AC_ENTRY_TYPE, 0, "unknown entry type 0x%02x", entry[0]);
    }
}
