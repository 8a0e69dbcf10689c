/* meter.c — per-meter rules: the order-dependent checks of a new reading and the state it
 * leaves behind. The node compares totalisers across units and scales by normalising to
 * 10^-12 m3 in 128 bits (|value| < 2^63, times at most 10^12, fits easily). */
#include "node/ingest/meter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/http/errors.h"

static __int128 pow10_i128(unsigned e)
{
    __int128 p = 1;
    while (e--) p *= 10;
    return p;
}

int wn_meter_set_key(wn_meter *m, uint8_t alg, const uint8_t pubkey[33])
{
    m->alg = alg;
    memcpy(m->pubkey, pubkey, 33);
    if (alg == WN_ALG_BIP340) return wn_verifier_bip340(&m->key, m->meter);
    if (alg == WN_ALG_ECDSA) return wn_verifier_ecdsa(&m->key, pubkey);
    if (alg == WN_ALG_P256 || alg == WN_ALG_SM2) return wn_verifier_evp(&m->key, alg, pubkey);
    memset(&m->key, 0, sizeof m->key);
    return 0;
}

int wn_meter_volume_of(const wn_reading *r, __int128 *v)
{
    for (unsigned i = 0; i < r->count && i < WN_READING_MAX_MEAS; i++) {
        const wn_measurement *m = &r->m[i];
        if (m->quantity != WN_Q_VOLUME) continue;
        unsigned scale = m->scale <= WN_READING_MAX_SCALE ? m->scale : WN_READING_MAX_SCALE;
        unsigned exp = (m->unit == WN_U_LITRE ? 9u : 12u) - scale;
        *v = (__int128)m->value * pow10_i128(exp);
        return 1;
    }
    return 0;
}

static void fmt_value(char out[32], const wn_measurement *m)
{
    wn_decimal_format(out, m->value, m->scale);
}

int wn_meter_check_ranges(const wn_reading *r, char *detail, size_t cap)
{
    for (unsigned i = 0; i < r->count && i < WN_READING_MAX_MEAS; i++) {
        const wn_measurement *m = &r->m[i];
        const char *q = wn_quantity_name(m->quantity);
        char v[32];
        int bad = 0;
        switch (m->quantity) {
        case WN_Q_VOLUME:
        case WN_Q_FLOW:
        case WN_Q_CONDUCTIVITY:
        case WN_Q_TURBIDITY:
            bad = m->value < 0;
            break;
        case WN_Q_PH:
            bad = m->value < 0 || (__int128)m->value > 14 * pow10_i128(m->scale);
            break;
        default:
            break;
        }
        if (bad) {
            fmt_value(v, m);
            snprintf(detail, cap, "%s %s %s is outside its sane range (%s)", q ? q : "?", v,
                     wn_unit_name(m->unit) ? wn_unit_name(m->unit) : "?",
                     m->quantity == WN_Q_PH ? "0..14" : "not negative");
            return WN_NE_OUT_OF_RANGE;
        }
    }
    return WN_NE_OK;
}

int wn_meter_check(const wn_meter *m, const wn_reading *r, uint64_t now_ms, uint64_t skew_ms, char *detail,
                   size_t cap)
{
    if (r->seq != m->last_seq + 1) {
        snprintf(detail, cap, "sequence %llu, expected %llu", (unsigned long long)r->seq,
                 (unsigned long long)(m->last_seq + 1));
        return WN_NE_SEQUENCE_GAP;
    }
    if (memcmp(r->prev, m->last_digest, 32) != 0) {
        snprintf(detail, cap, "previous digest is not the digest of reading %llu", (unsigned long long)m->last_seq);
        return WN_NE_CHAIN_MISMATCH;
    }
    if (m->last_seq > 0 && r->time_ms < m->last_time) {
        char a[25], b[25];
        wn_time_format(a, r->time_ms);
        wn_time_format(b, m->last_time);
        snprintf(detail, cap, "time %s is before the previous reading's %s", a, b);
        return WN_NE_TIME_TRAVEL;
    }
    if (r->time_ms > now_ms + skew_ms) {
        char a[25];
        wn_time_format(a, r->time_ms);
        snprintf(detail, cap, "time %s is more than %llu ms ahead of the node's clock", a,
                 (unsigned long long)skew_ms);
        return WN_NE_FUTURE_TIME;
    }
    __int128 v;
    if (m->has_volume && wn_meter_volume_of(r, &v) && v < m->last_volume && !(r->flags & WN_FLAG_METER_REPLACED)) {
        snprintf(detail, cap, "cumulative volume went down without the meter_replaced flag");
        return WN_NE_VOLUME_DECREASED;
    }
    return wn_meter_check_ranges(r, detail, cap);
}

void wn_meter_advance(wn_meter *m, const wn_reading *r, const uint8_t digest[32], uint64_t index)
{
    m->last_seq = r->seq;
    m->last_index = index;
    m->last_time = r->time_ms;
    memcpy(m->last_digest, digest, 32);
    __int128 v;
    if (wn_meter_volume_of(r, &v)) {
        m->has_volume = 1;
        m->last_volume = v;
    }
}

int wn_meter_add_alert(wn_meter *m, const wn_alert *a)
{
    wn_alert *p = realloc(m->alerts, (m->n_alerts + 1) * sizeof *p);
    if (!p) return 0;
    p[m->n_alerts++] = *a;
    m->alerts = p;
    return 1;
}

long wn_meter_find_alert(const wn_meter *m, uint64_t seq, const uint8_t digest[32])
{
    for (size_t i = 0; i < m->n_alerts; i++)
        if (m->alerts[i].seq == seq && memcmp(m->alerts[i].digest, digest, 32) == 0) return (long)i;
    return -1;
}

int wn_meter_copy(wn_meter *dst, const wn_meter *src)
{
    *dst = *src;
    dst->alerts = NULL;
    if (src->n_alerts) {
        dst->alerts = malloc(src->n_alerts * sizeof *dst->alerts);
        if (!dst->alerts) {
            dst->n_alerts = 0;
            return 0;
        }
        memcpy(dst->alerts, src->alerts, src->n_alerts * sizeof *dst->alerts);
    }
    return 1;
}

void wn_meter_free_alerts(wn_meter *m)
{
    free(m->alerts);
    m->alerts = NULL;
    m->n_alerts = 0;
}
