/* waterdata.c — the synthetic data model behind `wn-meter simulate` (see waterdata.h):
 * fleet layout, hourly flow rates with a working-day pattern, exact volume integrals and
 * water-quality channels, all derived from a seed by hashing, with no state of its own. */
#include "device/agent/waterdata.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HOUR_MS 3600000ULL
#define CST_OFFSET_H 8 /* China Standard Time, UTC+8, no daylight saving */

/* Salts: one per independent random quantity. */
enum { S_BASE = 1, S_NOISE, S_LOSS, S_INIT, S_RECYCLE, S_DISCHARGE, S_SOURCE, S_PH, S_COND,
       S_TURB, S_TEMP, S_FLUO, S_PRESS, S_PHASE };

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform number in [0, 1) determined by (seed, a, salt, b). */
static double unit(uint64_t seed, uint64_t a, uint64_t salt, uint64_t b)
{
    uint64_t h = mix(seed ^ mix(a ^ mix(salt ^ mix(b))));
    return (double)(h >> 11) * 0x1p-53;
}

static unsigned idx_of(unsigned enterprise, unsigned slot) { return enterprise * WN_SIM_PER_ENTERPRISE + slot; }

void wn_water_describe(wn_sim_meter *d, uint64_t seed, unsigned index)
{
    static const uint8_t fresh_sources[] = {WN_SOURCE_SURFACE, WN_SOURCE_GROUNDWATER, WN_SOURCE_TAP};
    unsigned slot = index % WN_SIM_PER_ENTERPRISE;
    memset(d, 0, sizeof *d);
    d->index = index;
    d->enterprise = index / WN_SIM_PER_ENTERPRISE;
    d->parent = -1;
    d->alg = WN_ALG_BIP340;
    uint8_t fresh = fresh_sources[(unsigned)(unit(seed, d->enterprise, S_SOURCE, 0) * 3)];
    switch (slot) {
    case 0:
        d->role = WN_ROLE_INTAKE; d->point = WN_POINT_INTAKE; d->tier = 1; d->source = fresh;
        break;
    case 1: case 2: case 3:
        d->role = WN_ROLE_USE; d->point = WN_POINT_USE; d->tier = 2; d->source = fresh;
        d->parent = (int)idx_of(d->enterprise, 0);
        if (slot == 3) d->alg = WN_ALG_ECDSA; /* a secure element that only does ECDSA */
        break;
    case 4:
        d->role = WN_ROLE_RECYCLING; d->point = WN_POINT_RECYCLING; d->tier = 2; d->source = WN_SOURCE_RECLAIMED;
        break;
    default:
        d->role = WN_ROLE_DISCHARGE; d->point = WN_POINT_DISCHARGE; d->tier = 1; d->source = fresh;
        break;
    }
    /* 18 characters in the shape of a unified social credit code. */
    snprintf(d->enterprise_id, sizeof d->enterprise_id, "91330400MA%07u%c", d->enterprise % 10000000u,
             "0123456789ABCDEFGHJKLMNPQRTUWXY"[mix(seed ^ d->enterprise) % 31]);
    snprintf(d->calibration, sizeof d->calibration, "JJG162-2026-%05u", index % 100000u);
}

void wn_water_enrolment(wn_enrolment *e, const wn_sim_meter *d, const uint8_t id[32], const uint8_t pub33[33],
                        uint8_t alg, const uint8_t parent_id[32], uint64_t time_ms)
{
    memset(e, 0, sizeof *e);
    memcpy(e->meter, id, 32);
    e->alg = alg;
    memcpy(e->pubkey, pub33, 33);
    e->time_ms = time_ms;
    e->point = d->point;
    e->tier = d->tier;
    e->source = d->source;
    if (parent_id) memcpy(e->parent, parent_id, 32);
    snprintf(e->enterprise, sizeof e->enterprise, "%s", d->enterprise_id);
    snprintf(e->calibration, sizeof e->calibration, "%s", d->calibration);
}

/* Load factor of hour h (hours since the epoch): working days 8:00-18:00 local time run
 * at full load, shoulders at 45 %, nights 12 %, weekends a quarter by day. */
static double pattern(uint64_t h)
{
    uint64_t local = h + CST_OFFSET_H;
    unsigned hour = (unsigned)(local % 24);
    unsigned dow = (unsigned)((local / 24 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    int weekend = dow == 0 || dow == 6;
    int day = hour >= 8 && hour < 18;
    if (weekend) return day ? 0.25 : 0.10;
    if (day) return 1.0;
    if ((hour >= 6 && hour < 8) || (hour >= 18 && hour < 22)) return 0.45;
    return 0.12;
}

/* Full-load rate of a workshop meter, m3/h. */
static double use_base(uint64_t seed, unsigned index) { return 5.0 + 35.0 * unit(seed, index, S_BASE, 0); }

static double use_rate(uint64_t seed, unsigned index, uint64_t h)
{
    return use_base(seed, index) * pattern(h) * (0.9 + 0.2 * unit(seed, index, S_NOISE, h));
}

/* The rate of d during hour h (constant within the hour). */
static double rate_in_hour(const wn_sim_meter *d, uint64_t seed, uint64_t h)
{
    double workshops = 0;
    for (unsigned k = 1; k <= 3; k++) workshops += use_rate(seed, idx_of(d->enterprise, k), h);
    double intake = workshops * (1.01 + 0.03 * unit(seed, d->index, S_LOSS, h));
    switch (d->role) {
    case WN_ROLE_USE:
        return use_rate(seed, d->index, h);
    case WN_ROLE_INTAKE:
        return intake;
    case WN_ROLE_RECYCLING: /* cooling and process water reused: 3-12 times the fresh intake */
        return workshops * (3.0 + 9.0 * unit(seed, d->enterprise, S_RECYCLE, 0)) * (0.95 + 0.1 * unit(seed, d->index, S_NOISE, h));
    default: /* discharge: what is not consumed or recycled */
        return intake * (0.55 + 0.25 * unit(seed, d->enterprise, S_DISCHARGE, 0));
    }
}

double wn_water_rate(const wn_sim_meter *d, uint64_t seed, uint64_t t_ms)
{
    return rate_in_hour(d, seed, t_ms / HOUR_MS);
}

double wn_water_volume(const wn_sim_meter *d, uint64_t seed, uint64_t t0, uint64_t t1)
{
    double v = 0;
    while (t0 < t1) {
        uint64_t h = t0 / HOUR_MS, end = (h + 1) * HOUR_MS;
        if (end > t1) end = t1;
        v += rate_in_hour(d, seed, h) * (double)(end - t0) / (double)HOUR_MS;
        t0 = end;
    }
    return v;
}

static int64_t fixed(double x, unsigned scale) { return (int64_t)llround(x * pow(10.0, scale)); }

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void put(wn_measurement *out, size_t *n, uint8_t q, uint8_t u, uint8_t scale, int64_t v)
{
    out[*n] = (wn_measurement){q, u, scale, v};
    (*n)++;
}

size_t wn_water_measure(const wn_sim_meter *d, uint64_t seed, int have_prev, uint64_t prev_time,
                        int64_t prev_volume, uint64_t t, wn_measurement out[WN_READING_MAX_MEAS])
{
    size_t n = 0;
    uint64_t minute = t / 60000, h = t / HOUR_MS;
    int64_t vol;
    double flow;
    if (have_prev) {
        double dv = t > prev_time ? wn_water_volume(d, seed, prev_time, t) : 0;
        vol = prev_volume + fixed(dv, 3);
        flow = t > prev_time ? dv * (double)HOUR_MS / (double)(t - prev_time) : wn_water_rate(d, seed, t);
    } else {
        vol = fixed(1000.0 + 89000.0 * unit(seed, d->index, S_INIT, 0), 3);
        flow = wn_water_rate(d, seed, t);
    }
    put(out, &n, WN_Q_VOLUME, WN_U_M3, 3, vol);
    put(out, &n, WN_Q_FLOW, WN_U_M3_PER_H, 3, fixed(flow, 3));

    double phase = 6.2831853 * unit(seed, d->enterprise, S_PHASE, 0);
    double daily = sin(6.2831853 * (double)((h + CST_OFFSET_H) % 24) / 24.0 + phase);
    if (d->role == WN_ROLE_INTAKE)
        put(out, &n, WN_Q_PRESSURE, WN_U_KPA, 1, fixed(315.0 + 25.0 * daily + 10.0 * (unit(seed, d->index, S_PRESS, minute) - 0.5), 1));
    if (d->role == WN_ROLE_RECYCLING || d->role == WN_ROLE_DISCHARGE) {
        int rec = d->role == WN_ROLE_RECYCLING;
        double ph = 7.3 + 0.35 * daily + 0.3 * (unit(seed, d->index, S_PH, minute) - 0.5);
        double cond = (rec ? 900.0 : 1800.0) + (rec ? 250.0 : 500.0) * daily + 100.0 * (unit(seed, d->index, S_COND, minute) - 0.5);
        double turb = (rec ? 1.5 : 4.5) + (rec ? 0.8 : 2.0) * daily + 0.6 * (unit(seed, d->index, S_TURB, minute) - 0.5);
        put(out, &n, WN_Q_PH, WN_U_PH, 2, fixed(clamp(ph, 6.5, 8.5), 2));
        put(out, &n, WN_Q_CONDUCTIVITY, WN_U_US_PER_CM, 1, fixed(clamp(cond, 50.0, 5000.0), 1));
        put(out, &n, WN_Q_TURBIDITY, WN_U_NTU, 2, fixed(clamp(turb, 0.05, 50.0), 2));
        if (!rec)
            put(out, &n, WN_Q_TEMPERATURE, WN_U_DEGC, 1, fixed(23.0 + 4.0 * daily + unit(seed, d->index, S_TEMP, minute) - 0.5, 1));
        else /* a tracer dosed into recycled water shows up as fluorescence */
            put(out, &n, WN_Q_FLUORESCENCE, WN_U_RFU, 1, fixed(25.0 + 8.0 * daily + 4.0 * (unit(seed, d->index, S_FLUO, minute) - 0.5), 1));
    }
    return n;
}
