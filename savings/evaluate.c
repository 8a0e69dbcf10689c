/* evaluate.c — the savings evaluation (evaluate.h, docs/PROTOCOL.md §16): per meter and
 * period the intake from the totaliser and the quality of the data, then the periods, the
 * normalised and annualised saving, the subsidy, and every reason the policy refuses the
 * claim for. Pure integer arithmetic; every division floors. Rendering is in
 * evaluate_render.c. */
#include "savings/evaluate.h"
#include "savings/identity.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savings/jsondoc.h"
#include "crypto/encoding.h"

#define NL_PER_L 1000000000LL   /* 10^-12 m3 per litre */
#define LIST_MAX 5              /* occurrences listed in one reason */

typedef __int128 i128;

/* ---- small arithmetic ---- */

/* floor(a / b) for b > 0 */
static i128 floor_div(i128 a, i128 b)
{
    i128 q = a / b;
    if ((a % b != 0) && (a < 0)) q--;
    return q;
}

static i128 pow10i(unsigned e)
{
    i128 v = 1;
    while (e--) v *= 10;
    return v;
}

void wn_eval_reading_from(wn_eval_reading *out, const wn_reading *r, uint64_t index)
{
    memset(out, 0, sizeof *out);
    out->seq = r->seq;
    out->index = index;
    out->time_ms = r->time_ms;
    out->flags = r->flags;
    for (unsigned i = 0; i < r->count; i++) {
        const wn_measurement *m = &r->m[i];
        if (m->quantity != WN_Q_VOLUME) continue;
        /* m3: value * 10^(12 - scale); L: value * 10^(9 - scale); scale <= 9 */
        unsigned e = (m->unit == WN_U_M3 ? 12u : 9u) - m->scale;
        out->volume_nl = (i128)m->value * pow10i(e);
        out->has_volume = 1;
    }
}

void wn_eval_reading_committed(wn_eval_reading *out, uint64_t commit_ms, int late)
{
    out->timed = 1;
    out->commit_ms = commit_ms;
    out->late = late != 0;
}

/* A reading counts toward a totaliser only when the ledger proves it was committed within
 * the policy's tolerance of its measurement (PROTOCOL §16): a reading committed long after
 * it was measured may have been made up. An untimed entry (a ledger from before commit
 * times) proves no commit time and is taken as before. */
static int on_time(const wn_policy *pol, const wn_eval_reading *r)
{
    return !r->timed || r->commit_ms <= r->time_ms || r->commit_ms - r->time_ms <= pol->max_commit_delay_ms;
}

static int counts(const wn_policy *pol, const wn_eval_reading *r) { return r->has_volume && on_time(pol, r); }

/* ---- reasons ---- */

static void reason(wn_eval_result *res, int subsidy_only, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reason(wn_eval_result *res, int subsidy_only, const char *code, const char *fmt, ...)
{
    if (res->n_reasons == res->cap_reasons) {
        size_t cap = res->cap_reasons ? res->cap_reasons * 2 : 16;
        wn_eval_reason *p = realloc(res->reasons, cap * sizeof *p);
        if (!p) {
            res->oom = 1;
            return;
        }
        res->reasons = p;
        res->cap_reasons = cap;
    }
    wn_eval_reason *r = &res->reasons[res->n_reasons++];
    snprintf(r->code, sizeof r->code, "%s", code);
    r->subsidy_only = subsidy_only;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* "meter 1a2b3c4d5e6f7a8b (baseline)": how reasons name a meter in a period */
static const char *who(char out[64], const uint8_t meter[32], const char *period)
{
    char h[17];
    wn_hex_encode(h, meter, 8);
    snprintf(out, 64, "meter %s (%s)", h, period);
    return out;
}

/* Occurrences of one kind in one meter-period, listed up to LIST_MAX. */
typedef struct {
    size_t count;
    char list[300];
} occurrences;

static void occ_add(occurrences *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void occ_add(occurrences *o, const char *fmt, ...)
{
    if (o->count++ >= LIST_MAX) return;
    size_t n = strlen(o->list);
    if (n && n + 2 < sizeof o->list) memcpy(o->list + n, "; ", 3), n += 2;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->list + n, sizeof o->list - n, fmt, ap);
    va_end(ap);
}

static const char *occ_more(char out[48], const occurrences *o)
{
    if (o->count > LIST_MAX) snprintf(out, 48, "; and %zu more", o->count - LIST_MAX);
    else out[0] = '\0';
    return out;
}

/* ---- one meter over one period ---- */

/* The volume between two consecutive totaliser readings a and b (b later), where
 * `replaced` says a reading after a, up to b, carries the meter-replaced flag. */
static i128 delta(const wn_eval_reading *a, const wn_eval_reading *b, int replaced, uint64_t rollover_l,
                  wn_eval_meter *m, int *decreased)
{
    if (!replaced) {
        if (b->volume_nl < a->volume_nl) *decreased = 1;
        return b->volume_nl < a->volume_nl ? 0 : b->volume_nl - a->volume_nl;
    }
    i128 cap = (i128)rollover_l * NL_PER_L;
    if (rollover_l && b->volume_nl < a->volume_nl && a->volume_nl < cap) {
        m->n_rollovers++;
        return cap - a->volume_nl + b->volume_nl;  /* the register wrapped past its capacity */
    }
    m->n_restarts++;
    return b->volume_nl;                           /* a new totaliser counting from zero */
}

static void fmt_time(char out[25], uint64_t ms) { wn_time_format(out, ms); }

/* Under require_calibration: is [t0, t1) — from the first to the last reading the evaluation
 * uses, boundary readings included — inside the union of the validities [calibrated_at,
 * valid_until) of the meter's calibration records? If not, the claim is refused (not just
 * the readings dropped): meter_not_calibrated when no record covers any of it, else
 * calibration_lapsed naming the first uncovered interval. */
static int calibration_covers(wn_eval_result *res, const char *w, const wn_eval_series *s, uint64_t t0, uint64_t t1)
{
    uint64_t t = t0;
    int any = 0;
    while (t < t1) {
        uint64_t reach = t;
        for (size_t i = 0; i < s->n_cals; i++)
            if (wn_calibration_covers(&s->cals[i], t) && s->cals[i].valid_until_ms > reach)
                reach = s->cals[i].valid_until_ms;
        if (reach == t) break;
        any = 1;
        t = reach;
    }
    if (t >= t1) return 1;
    uint64_t end = t1; /* the uncovered interval ends where the next record's validity starts */
    for (size_t i = 0; i < s->n_cals; i++)
        if (s->cals[i].calibrated_ms > t && s->cals[i].calibrated_ms < end) end = s->cals[i].calibrated_ms;
    for (size_t i = 0; !any && i < s->n_cals; i++)
        any = s->cals[i].calibrated_ms < t1 && s->cals[i].valid_until_ms > t0;
    char a[25], b[25], c[25], d[25];
    fmt_time(a, t);
    fmt_time(b, end);
    fmt_time(c, t0);
    fmt_time(d, t1);
    if (!any)
        reason(res, 0, "meter_not_calibrated", "%s: no calibration record of the meter covers the readings used "
                                               "[%s, %s) (%zu record%s known); the policy counts only readings of a "
                                               "calibrated meter", w, c, d, s->n_cals, s->n_cals == 1 ? "" : "s");
    else
        reason(res, 0, "calibration_lapsed", "%s: the meter was not in calibration during [%s, %s), inside the "
                                             "readings used [%s, %s); the policy counts only readings of a "
                                             "calibrated meter", w, a, b, c, d);
    return 0;
}

static void eval_meter(const wn_eval_input *in, wn_eval_result *res, const char *pname, const wn_claim_period *cp,
                       const wn_claim_meter *cm, const wn_eval_series *s, wn_eval_meter *m)
{
    const wn_policy *pol = in->policy;
    const uint64_t P0 = cp->from_ms, P1 = cp->to_ms;
    char w[64], t1[25], t2[25], more[48];
    memset(m, 0, sizeof *m);
    memcpy(m->meter, cm->meter, 32);
    m->point = cm->point;
    m->source = cm->source;
    who(w, cm->meter, pname);
    if (!s->found) {
        reason(res, 0, "meter_not_enrolled", "%s: the meter is not enrolled at the notary", w);
        return;
    }
    m->found = 1;
    m->tier = s->enrol.tier;
    m->enrol_index = s->enrol_index;
    m->cp = s->cp;
    if (s->enrol.point != cm->point)
        reason(res, 0, "meter_point", "%s: claimed as %s but enrolled as %s", w, wn_point_name(cm->point),
               wn_point_name(s->enrol.point) ? wn_point_name(s->enrol.point) : "?");
    if (s->enrol.source != cm->source)
        reason(res, 0, "meter_source", "%s: claimed as %s water but enrolled as %s", w, wn_source_name(cm->source),
               wn_source_name(s->enrol.source) ? wn_source_name(s->enrol.source) : "?");
    if (cm->point == WN_POINT_INTAKE && s->enrol.tier != 1)
        reason(res, 0, "meter_tier", "%s: an intake meter must be a tier-1 meter; it is enrolled as tier %u", w,
               (unsigned)s->enrol.tier);
    if (strcmp(s->enrol.enterprise, in->claim->enterprise) != 0) {
        char d[400];
        reason(res, 0, "meter_enterprise", "%s",
               wn_identity_meter_detail(d, sizeof d, w, s->enrol.enterprise, in->claim->enterprise));
    }
    if (pol->require_sensor_attestation && s->enrol.attestation == WN_ATTEST_GATEWAY)
        reason(res, 0, "meter_attestation", "%s: enrolled with attestation \"gateway\" (gateway \"%s\"): its readings "
                                            "are signed at the gateway, not at the sensor, and the policy requires "
                                            "sensor-signed data", w, s->enrol.gateway);
    if (s->n_equivocations)
        reason(res, 0, "equivocation", "%s: the meter signed two different readings with the same sequence "
                                       "(%zu evidence entries); its readings cannot be trusted", w, s->n_equivocations);
    if (s->from_ms > P0 || s->to_ms < P1) {
        fmt_time(t1, s->from_ms);
        fmt_time(t2, s->to_ms);
        reason(res, 0, "not_covered", "%s: the readings given cover [%s, %s), not the whole period", w, t1, t2);
        return;
    }

    /* readings of the period committed too long after they were measured do not count */
    const wn_eval_reading *R = s->readings;
    size_t n = s->n, si = n, ei = n;
    occurrences late;
    memset(&late, 0, sizeof late);
    for (size_t i = 0; i < n; i++)
        if (R[i].time_ms >= P0 && R[i].time_ms < P1 && !on_time(pol, &R[i])) {
            fmt_time(t1, R[i].time_ms);
            fmt_time(t2, R[i].commit_ms);
            occ_add(&late, "seq %llu measured %s, committed %s", (unsigned long long)R[i].seq, t1, t2);
        }
    if (late.count)
        reason(res, 0, "late_commit", "%s: %zu reading%s committed more than the policy's %llu ms after %s measured, "
                                      "so they do not count: %s%s", w, late.count, late.count == 1 ? "" : "s",
               (unsigned long long)pol->max_commit_delay_ms, late.count == 1 ? "it was" : "they were", late.list,
               occ_more(more, &late));

    /* a baseline must be provably in the ledger before the reporting period starts: data
     * committed later may have been made up once the saving was wanted (every reading of
     * the baseline period, whether it counts or not) */
    if (cp == &in->claim->baseline) {
        occurrences after;
        memset(&after, 0, sizeof after);
        const uint64_t R0 = in->claim->reporting.from_ms;
        for (size_t i = 0; i < n; i++)
            if (R[i].time_ms >= P0 && R[i].time_ms < P1 && R[i].timed && R[i].commit_ms >= R0) {
                fmt_time(t1, R[i].commit_ms);
                occ_add(&after, "seq %llu committed %s", (unsigned long long)R[i].seq, t1);
            }
        if (after.count) {
            fmt_time(t2, R0);
            reason(res, 0, "baseline_committed_late", "%s: %zu baseline reading%s committed at or after the reporting "
                   "period's start %s: %s%s", w, after.count, after.count == 1 ? " was" : "s were", t2, after.list,
                   occ_more(more, &after));
        }
    }

    /* the first totaliser reading at or after P0 and at or after P1, and the ones before */
    for (size_t i = 0; i < n; i++) {
        if (!counts(pol, &R[i])) continue;
        if (si == n && R[i].time_ms >= P0) si = i;
        if (ei == n && R[i].time_ms >= P1) ei = i;
    }
    size_t pi = n, qi = n; /* the totaliser readings before si and before ei */
    for (size_t i = 0; i < n; i++) {
        if (!counts(pol, &R[i])) continue;
        if (i < si) pi = i;
        if (i < ei) qi = i;
    }
    int any = 0;
    for (size_t i = 0; i < n; i++) any |= R[i].has_volume;
    if (!any) {
        reason(res, 0, "no_volume", "%s: no reading around the period carries a totaliser (volume) value", w);
        return;
    }
    int start_exact = si < n && R[si].time_ms == P0, end_exact = ei < n && R[ei].time_ms == P1;
    if (si == n || (!start_exact && pi == n)) {
        fmt_time(t1, P0);
        reason(res, 0, "missing_boundary", "%s: no totaliser reading at or before the start %s%s", w, t1,
               si == n ? " (nor any in or after the period)" : "");
        return;
    }
    if (ei == n) {
        fmt_time(t1, P1);
        reason(res, 0, "missing_boundary", "%s: no totaliser reading at or after the end %s: the period cannot be "
                                           "closed (ask again once the meter has reported after it)", w, t1);
        return;
    }
    size_t first = start_exact ? si : pi; /* the readings used: [first, ei] */
    if (pol->require_calibration && !calibration_covers(res, w, s, R[first].time_ms, R[ei].time_ms + 1)) return;

    /* flags on every reading used */
    occurrences flagged[16];
    memset(flagged, 0, sizeof flagged);
    for (size_t i = first; i <= ei; i++)
        for (unsigned b = 0; b < 16; b++)
            if (R[i].flags & pol->disqualifying_flags & (1u << b)) {
                fmt_time(t1, R[i].time_ms);
                occ_add(&flagged[b], "seq %llu at %s", (unsigned long long)R[i].seq, t1);
            }
    for (unsigned b = 0; b < 16; b++) {
        if (!flagged[b].count) continue;
        char code[32];
        snprintf(code, sizeof code, "flag_%s", wn_flag_name(b));
        reason(res, 0, code, "%s: %zu reading%s flagged %s: %s%s", w, flagged[b].count, flagged[b].count == 1 ? "" : "s",
               wn_flag_name(b), flagged[b].list, occ_more(more, &flagged[b]));
    }

    /* walk the totaliser readings: cumulative volume, coverage, gaps */
    i128 cum = 0, v_start = 0, v_end = 0;
    uint64_t covered = 0;
    occurrences gaps;
    memset(&gaps, 0, sizeof gaps);
    int decreased = 0, replaced = 0;
    size_t prev = first;
    for (size_t i = first + 1; i <= ei; i++) {
        replaced |= (R[i].flags & WN_FLAG_METER_REPLACED) != 0;
        if (!counts(pol, &R[i])) continue;
        const wn_eval_reading *a = &R[prev], *b = &R[i];
        i128 d = delta(a, b, replaced, cm->rollover_l, m, &decreased);
        replaced = 0;
        uint64_t len = b->time_ms - a->time_ms;
        uint64_t lo = a->time_ms > P0 ? a->time_ms : P0, hi = b->time_ms < P1 ? b->time_ms : P1;
        if (hi > lo) {
            if (len <= pol->max_interval_ms) covered += hi - lo;
            if (len > m->longest_interval_ms) m->longest_interval_ms = len;
            if (len > pol->max_gap_ms) {
                fmt_time(t1, a->time_ms);
                fmt_time(t2, b->time_ms);
                occ_add(&gaps, "no reading between seq %llu at %s and seq %llu at %s (%llu ms)",
                        (unsigned long long)a->seq, t1, (unsigned long long)b->seq, t2, (unsigned long long)len);
            }
        }
        /* the totaliser at P0 and P1: linear between the readings either side, floored */
        if (!start_exact && i == si) v_start = cum + floor_div(d * (i128)(P0 - a->time_ms), (i128)len);
        if (!end_exact && i == ei) v_end = cum + floor_div(d * (i128)(P1 - a->time_ms), (i128)len);
        cum += d;
        if (start_exact && i == si) v_start = cum;
        if (end_exact && i == ei) v_end = cum;
        prev = i;
    }
    if (gaps.count)
        reason(res, 0, "gap", "%s: %zu gap%s longer than the policy's %llu ms: %s%s", w, gaps.count,
               gaps.count == 1 ? "" : "s", (unsigned long long)pol->max_gap_ms, gaps.list, occ_more(more, &gaps));
    if (decreased)
        reason(res, 0, "volume_decreased", "%s: the totaliser went down without the meter-replaced flag", w);
    uint64_t plen = P1 - P0;
    m->completeness_ppm = (uint64_t)((i128)covered * 1000000 / (i128)plen);
    if (m->completeness_ppm < pol->min_completeness_ppm) {
        char a[48], b[48];
        reason(res, 0, "completeness", "%s: readings cover %s %% of the period, below the policy's %s %%", w,
               wn_fixed_format(a, m->completeness_ppm, 4), wn_fixed_format(b, pol->min_completeness_ppm, 4));
    }
    m->intake_nl = v_end - v_start;
    m->intake_l = 0;
    if (m->intake_nl > (i128)WN_POLICY_MAX_LITRES * NL_PER_L) {
        reason(res, 0, "implausible", "%s: an intake above 10^12 m3 in one period is not plausible", w);
        return;
    }
    m->intake_l = (int64_t)floor_div(m->intake_nl, NL_PER_L);
    m->first_seq = R[first].seq;
    m->last_seq = R[ei].seq;
    m->first_index = R[first].index;
    m->last_index = R[ei].index;
    m->n_readings = ei - first + 1;
    m->start.exact = start_exact;
    m->end.exact = end_exact;
    m->start.seq_a = R[start_exact ? si : pi].seq;
    m->start.time_a = R[start_exact ? si : pi].time_ms;
    m->start.seq_b = R[si].seq;
    m->start.time_b = R[si].time_ms;
    m->end.seq_a = R[end_exact ? ei : qi].seq;
    m->end.time_a = R[end_exact ? ei : qi].time_ms;
    m->end.seq_b = R[ei].seq;
    m->end.time_b = R[ei].time_ms;
    m->usable = 1;
}

/* ---- periods ---- */

static int is_nonconventional(unsigned source)
{
    return source == WN_SOURCE_RECLAIMED || source == WN_SOURCE_RAINWATER || source == WN_SOURCE_MINE;
}

/* Returns: 1 if every meter of the period is usable. */
static int eval_period(const wn_eval_input *in, wn_eval_result *res, const char *pname, const wn_claim_period *cp,
                       const wn_eval_series *series, wn_eval_period *p)
{
    memset(p, 0, sizeof *p);
    p->from_ms = cp->from_ms;
    p->to_ms = cp->to_ms;
    p->output = cp->output;
    p->n_meters = cp->n_meters;
    int usable = 1, intake_meters = 0;
    for (size_t i = 0; i < cp->n_meters; i++) {
        wn_eval_meter *m = &p->meters[i];
        eval_meter(in, res, pname, cp, &cp->meters[i], &series[i], m);
        usable &= m->usable;
        if (cp->meters[i].point == WN_POINT_RECYCLING) {
            p->has_recycling = 1;
            p->recycled_l += m->intake_l;
        } else {
            intake_meters++;
            if (is_nonconventional(cp->meters[i].source)) p->nonconv_l += m->intake_l;
            else p->fresh_l += m->intake_l;
        }
    }
    if (!intake_meters) {
        reason(res, 0, "no_intake_meter", "%s: the claim names no intake meter", pname);
        usable = 0;
    }
    p->intake_l = p->fresh_l + (in->policy->nonconventional_is_intake ? p->nonconv_l : 0);
    int64_t all = p->recycled_l + p->fresh_l + p->nonconv_l;
    if (p->has_recycling && all > 0) p->reuse_ppm = (uint64_t)((i128)p->recycled_l * 1000000 / all);
    if (p->output > 0) p->per_unit_ml = (uint64_t)((i128)p->intake_l * 1000000 / (i128)p->output);
    return usable;
}

/* ---- claim-level checks ---- */

static void check_signatures(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_eval_signer *cs = &in->certifier;
    char t1[25], t2[25];
    if (!c->signed_by_enterprise)
        reason(res, 0, "enterprise_signature", "the enterprise has not signed the claim");
    else if (!wn_claim_verify_enterprise(c))
        reason(res, 0, "enterprise_signature", "the enterprise's signature does not verify with its key");
    if (!c->certified) {
        if (in->policy->require_certification)
            reason(res, 0, "no_certification", "the policy requires certification by a qualified third-party body, "
                                               "and the claim has none");
        return;
    }
    int ok = 1;
    if (!wn_claim_verify_certification(c)) {
        reason(res, 0, "certifier_signature", "the certifier's signature does not verify");
        ok = 0;
    }
    char h[65];
    wn_hex_encode(h, c->certifier, 32);
    if (!cs->found) {
        reason(res, 0, "certifier_not_enrolled", "the certifier %s is not enrolled at the notary", h);
        ok = 0;
    } else {
        if (cs->enrol.point != WN_POINT_CERTIFIER) {
            reason(res, 0, "certifier_not_certifier", "the key %s is enrolled as a %s meter, not as a certifier", h,
                   wn_point_name(cs->enrol.point) ? wn_point_name(cs->enrol.point) : "?");
            ok = 0;
        }
        if (cs->revoked) {
            reason(res, 0, "certifier_revoked", "the certifier %s was revoked (ledger entry %llu)", h,
                   (unsigned long long)cs->revoke_index);
            ok = 0;
        }
        if (strcmp(cs->enrol.enterprise, c->enterprise) == 0) {
            reason(res, 0, "certifier_not_independent", "the certifier is enrolled for the claimant \"%s\" itself",
                   c->enterprise);
            ok = 0;
        }
    }
    if (c->signed_by_enterprise && memcmp(c->certifier, c->enterprise_key, 32) == 0) {
        reason(res, 0, "certifier_not_independent", "the enterprise certified its own claim: the certifier's key is "
                                                    "the enterprise's");
        ok = 0;
    }
    if (c->certified_ms < c->reporting.to_ms) {
        fmt_time(t1, c->certified_ms);
        fmt_time(t2, c->reporting.to_ms);
        reason(res, 0, "certification_early", "the certification (%s) is dated before the reporting period ends (%s)",
               t1, t2);
        ok = 0;
    }
    res->certifier_ok = ok;
}

/* The certifier's accreditation (policy.accreditation_scope set): a record in force of the
 * organisation its enrolment names, holding its key, valid when it certified, covering the
 * scope, of another organisation than the claimant. */
static void check_accreditation(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_eval_accreditation *ea = &in->accreditation;
    const char *scope = in->policy->accreditation_scope;
    if (!c->certified || !scope[0] || !in->certifier.found || !ea->given) return; /* the commands require it */
    const char *org = in->certifier.enrol.enterprise;
    char h[65], t1[25], t2[25], t3[25];
    wn_hex_encode(h, c->certifier, 32);
    if (!ea->found) {
        reason(res, 0, "certifier_not_accredited", "the certifier's organisation \"%s\" holds no accreditation record "
                                                   "at the notary", org);
        res->certifier_ok = 0;
        return;
    }
    const wn_accreditation *a = &ea->rec;
    if (!wn_accreditation_has_key(a, c->certifier)) {
        reason(res, 0, "certifier_not_accredited", "the key %s is not one of the keys of accreditation %s of \"%s\" "
                                                   "(sequence %llu, ledger entry %llu)",
               h, a->number, a->code, (unsigned long long)a->seq, (unsigned long long)ea->index);
        res->certifier_ok = 0;
    }
    if (c->certified_ms < a->valid_from_ms || c->certified_ms >= a->valid_to_ms) {
        fmt_time(t1, c->certified_ms);
        fmt_time(t2, a->valid_from_ms);
        fmt_time(t3, a->valid_to_ms);
        reason(res, 0, "certification_out_of_validity", "the certification (%s) lies outside accreditation %s's "
                                                        "validity [%s, %s)", t1, a->number, t2, t3);
        res->certifier_ok = 0;
    }
    if (!wn_accreditation_has_scope(a, scope)) {
        reason(res, 0, "certifier_out_of_scope", "accreditation %s does not cover scope \"%s\", which the policy "
                                                 "requires", a->number, scope);
        res->certifier_ok = 0;
    }
    if (strcmp(a->code, c->enterprise) == 0) {
        reason(res, 0, "certifier_not_independent", "the certifier's accreditation is the claimant \"%s\"'s own",
               c->enterprise);
        res->certifier_ok = 0;
    }
}

/* The identity rules (savings/identity.h) against the enterprise record in force at the
 * enterprise bundle's checkpoint; and a certifier must hold none of the claimant's keys. */
static void check_identity(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_eval_enterprise *ee = &in->enterprise;
    if (!ee->given) return; /* the commands require the evidence when the policy requires a record */
    const wn_enterprise *rec = ee->found ? &ee->rec : NULL;
    char d[400];
    const char *code = wn_identity_check_key(rec, ee->index, c->enterprise, c->enterprise_key,
                                             in->policy->require_registered_enterprise, d, sizeof d);
    if (code) reason(res, 0, code, "%s", d);
    if (c->certified && wn_identity_shares_key(rec, c->certifier)) {
        char h[65];
        wn_hex_encode(h, c->certifier, 32);
        reason(res, 0, "certifier_not_independent", "the certifier's key %s is one of the keys of the claimant \"%s\"",
               h, c->enterprise);
        res->certifier_ok = 0;
    }
}

static void check_periods(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_policy *p = in->policy;
    uint64_t bl = c->baseline.to_ms - c->baseline.from_ms, rl = c->reporting.to_ms - c->reporting.from_ms;
    if (bl < p->min_baseline_ms)
        reason(res, 0, "baseline_too_short", "the baseline period lasts %llu ms, the policy requires at least %llu ms",
               (unsigned long long)bl, (unsigned long long)p->min_baseline_ms);
    if (rl < p->min_reporting_ms)
        reason(res, 0, "reporting_too_short", "the reporting period lasts %llu ms, the policy requires at least %llu ms",
               (unsigned long long)rl, (unsigned long long)p->min_reporting_ms);
    if (c->baseline.to_ms > c->reporting.from_ms)
        reason(res, 0, "periods_overlap", "the baseline period must end before the reporting period starts");
    if (c->baseline.output == 0)
        reason(res, 0, "baseline_output_zero", "the baseline output is zero: water per unit product is undefined");
}

/* The project (policy.subsidies_per_project > 0): its registrar-signed record must match the
 * claim, and the project must not already hold as many subsidy certificates as the policy
 * allows. Every reason here refuses the subsidy only: a measured saving may still be sold. */
static void check_project(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_policy *pol = in->policy;
    const wn_project *p = &c->project_record;
    char a[48], b[48], t1[25], t2[25], t3[25], h1[17], h2[17];
    if (!pol->subsidies_per_project) return;
    res->project_checked = 1;
    int ok = 1;
    if (!c->has_project_record) {
        reason(res, 1, "no_project_record",
               "the policy subsidises a project at most %llu time%s, so the claim must carry the registrar-signed "
               "record of project \"%s\" (project_record)",
               (unsigned long long)pol->subsidies_per_project, pol->subsidies_per_project == 1 ? "" : "s", c->project);
        ok = 0;
    } else {
        const uint8_t *reg = NULL; /* the registrar that enrolled the claim's meters */
        for (size_t i = 0; !reg && i < c->baseline.n_meters; i++)
            if (in->baseline[i].found) reg = in->baseline[i].enrol.registrar;
        for (size_t i = 0; !reg && i < c->reporting.n_meters; i++)
            if (in->reporting[i].found) reg = in->reporting[i].enrol.registrar;
        if (!wn_project_verify(p)) {
            reason(res, 1, "project_record", "the project record's registrar signature does not verify");
            ok = 0;
        } else if (!reg || memcmp(reg, p->registrar, 32) != 0) {
            wn_hex_encode(h1, p->registrar, 8);
            if (reg) wn_hex_encode(h2, reg, 8);
            reason(res, 1, "project_record", "the project record is signed by %s, not by the registrar %s that enrolled "
                                             "the claim's meters", h1, reg ? h2 : "(none found)");
            ok = 0;
        }
        if (strcmp(p->id, c->project) != 0) {
            reason(res, 1, "project_record", "the record is of project \"%s\", the claim names \"%s\"", p->id, c->project);
            ok = 0;
        }
        if (strcmp(p->enterprise, c->enterprise) != 0) {
            reason(res, 1, "project_record", "the project belongs to enterprise \"%s\", not the claimant \"%s\"",
                   p->enterprise, c->enterprise);
            ok = 0;
        }
        if (p->investment_fen != c->investment_fen) {
            reason(res, 1, "project_record", "the claim states an equipment investment of %s CNY, the project record %s CNY",
                   wn_fixed_format(a, c->investment_fen, 2), wn_fixed_format(b, p->investment_fen, 2));
            ok = 0;
        }
        if (p->commissioned_ms < c->baseline.to_ms || p->commissioned_ms > c->reporting.from_ms) {
            fmt_time(t1, p->commissioned_ms);
            fmt_time(t2, c->baseline.to_ms);
            fmt_time(t3, c->reporting.from_ms);
            reason(res, 1, "project_commissioning", "the project was commissioned at %s, not between the baseline's end "
                                                    "(%s) and the reporting period's start (%s)", t1, t2, t3);
            ok = 0;
        }
    }
    res->project_ok = ok;
    if (!in->history_given) {
        reason(res, 1, "project_history_unknown", "the ledger's certificates for project \"%s\" were not given, so an "
                                                  "earlier subsidy of it cannot be excluded", c->project);
        return;
    }
    for (size_t i = 0; i < in->n_prior; i++) {
        const wn_certificate *e = &in->prior[i].c;
        if (e->purpose != WN_PURPOSE_SUBSIDY || strcmp(e->project, c->project) != 0) continue;
        if (res->n_prior_subsidies < 8) res->prior_index[res->n_prior_subsidies] = in->prior[i].index;
        res->n_prior_subsidies++;
    }
    if (res->n_prior_subsidies >= pol->subsidies_per_project) {
        char list[8 * 21 + 16] = "";
        for (size_t i = 0; i < res->n_prior_subsidies && i < 8; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%llu", i ? ", " : "",
                     (unsigned long long)res->prior_index[i]);
        reason(res, 1, "project_already_subsidised",
               "project \"%s\" already holds %zu subsidy certificate%s (ledger index %s%s); the policy subsidises a "
               "project at most %llu time%s", c->project, res->n_prior_subsidies,
               res->n_prior_subsidies == 1 ? "" : "s", list, res->n_prior_subsidies > 8 ? ", ..." : "",
               (unsigned long long)pol->subsidies_per_project, pol->subsidies_per_project == 1 ? "" : "s");
    }
}

/* The policy's effective dates, when it states them, must contain the reporting period. */
static void check_policy_dates(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_policy *p = in->policy;
    const wn_claim *c = in->claim;
    char t1[25], t2[25];
    if ((p->effective_from_ms && c->reporting.from_ms < p->effective_from_ms) ||
        (p->effective_to_ms && c->reporting.to_ms > p->effective_to_ms)) {
        if (p->effective_from_ms) fmt_time(t1, p->effective_from_ms);
        else snprintf(t1, sizeof t1, "-");
        if (p->effective_to_ms) fmt_time(t2, p->effective_to_ms);
        else snprintf(t2, sizeof t2, "-");
        reason(res, 0, "policy_not_in_force", "the reporting period is not inside the policy's effective dates [%s, %s)",
               t1, t2);
    }
}

static void keep_largest_cp(wn_eval_result *res, const wn_eval_checkpoint *cp)
{
    if (cp->size > res->cp.size) res->cp = *cp;
}

int wn_evaluate(const wn_eval_input *in, wn_eval_result *res)
{
    const wn_claim *c = in->claim;
    const wn_policy *pol = in->policy;
    memset(res, 0, sizeof *res);
    wn_claim_digest(c, res->claim_digest);
    memcpy(res->policy_digest, pol->digest, 32);

    check_signatures(in, res);
    check_identity(in, res);
    check_accreditation(in, res);
    check_periods(in, res);
    check_policy_dates(in, res);
    int ub = eval_period(in, res, "baseline", &c->baseline, in->baseline, &res->baseline);
    int ur = eval_period(in, res, "reporting", &c->reporting, in->reporting, &res->reporting);
    for (size_t i = 0; i < c->baseline.n_meters; i++)
        if (in->baseline[i].found) keep_largest_cp(res, &in->baseline[i].cp);
    for (size_t i = 0; i < c->reporting.n_meters; i++)
        if (in->reporting[i].found) keep_largest_cp(res, &in->reporting[i].cp);
    for (size_t i = 0; pol->require_calibration && i < c->baseline.n_meters; i++)
        if (in->baseline[i].cal_given) keep_largest_cp(res, &in->baseline[i].cal_cp);
    for (size_t i = 0; pol->require_calibration && i < c->reporting.n_meters; i++)
        if (in->reporting[i].cal_given) keep_largest_cp(res, &in->reporting[i].cal_cp);
    if (c->certified && in->certifier.found) keep_largest_cp(res, &in->certifier.cp);
    if (in->enterprise.given && in->enterprise.found) keep_largest_cp(res, &in->enterprise.cp);
    if (c->certified && in->accreditation.given && in->accreditation.found) keep_largest_cp(res, &in->accreditation.cp);
    check_project(in, res);

    char a[48], b[48];
    res->computed = ub && ur && c->baseline.output > 0;
    if (res->computed) {
        uint64_t rlen = c->reporting.to_ms - c->reporting.from_ms;
        res->expected_l = (int64_t)floor_div((i128)res->baseline.intake_l * (i128)c->reporting.output,
                                             (i128)c->baseline.output);
        res->saving_l = res->expected_l - res->reporting.intake_l;
        res->annual_l = (int64_t)floor_div((i128)res->saving_l * (i128)WN_EVAL_YEAR_MS, (i128)rlen);
        if (res->saving_l <= 0)
            reason(res, 0, "no_saving", "the reporting period used %s m3, not less than the %s m3 the baseline's water "
                                        "per unit product gives for its output",
                   wn_fixed_format(a, res->reporting.intake_l, 3), wn_fixed_format(b, res->expected_l, 3));
        else if ((uint64_t)res->annual_l < pol->min_annual_saving_l)
            reason(res, 1, "saving_below_threshold", "the annualised saving of %s m3 is below the policy's %s m3 a year",
                   wn_fixed_format(a, res->annual_l, 3), wn_fixed_format(b, pol->min_annual_saving_l, 3));
    }
    if (c->investment_fen < pol->min_investment_fen)
        reason(res, 1, "investment_below_threshold", "the equipment investment of %s CNY is below the policy's %s CNY",
               wn_fixed_format(a, c->investment_fen, 2), wn_fixed_format(b, pol->min_investment_fen, 2));

    i128 sub = (i128)c->investment_fen * pol->subsidy_rate_ppm / 1000000;
    if (pol->has_subsidy_cap && sub > (i128)pol->subsidy_cap_fen) sub = pol->subsidy_cap_fen;
    res->subsidy_computed_fen = (uint64_t)sub;

    int general = 0;
    for (size_t i = 0; i < res->n_reasons; i++) general += !res->reasons[i].subsidy_only;
    res->eligible = res->computed && res->n_reasons == 0 && !res->oom;
    res->saleable = res->computed && general == 0 && res->saving_l > 0 && !res->oom;
    res->subsidy_fen = res->eligible ? res->subsidy_computed_fen : 0;
    return !res->oom;
}

void wn_eval_free(wn_eval_result *res)
{
    free(res->reasons);
    res->reasons = NULL;
    res->n_reasons = res->cap_reasons = 0;
}
