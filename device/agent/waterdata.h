/* waterdata.h — the synthetic water data of `wn-meter simulate`: a fleet of enterprises,
 * each with a tier-1 intake meter, three tier-2 workshop meters under it, a recycled-water
 * meter and a discharge meter, and the readings they would plausibly take.
 *
 * Everything is a pure function of (seed, meter index, time): flow rates are piecewise
 * constant per hour (a working-day pattern in China Standard Time with per-hour noise), so
 * a cumulative volume advances by the exact integral of the rate between two readings
 * whatever their spacing, and a run that stops and continues later produces the same
 * data as one that never stopped. The intake's rate is the sum of its workshops' rates
 * plus 1-4 % losses, so tier 2 sums to roughly tier 1. */
#ifndef WN_AGENT_WATERDATA_H
#define WN_AGENT_WATERDATA_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"

#define WN_SIM_PER_ENTERPRISE 6

enum wn_sim_role { WN_ROLE_INTAKE, WN_ROLE_USE, WN_ROLE_RECYCLING, WN_ROLE_DISCHARGE };

typedef struct {
    unsigned index;      /* meter index in the fleet */
    unsigned enterprise; /* index / WN_SIM_PER_ENTERPRISE */
    unsigned role;       /* enum wn_sim_role */
    int parent;          /* fleet index of the parent meter, -1 for none */
    uint8_t alg;         /* the third workshop meter of each enterprise is an ECDSA meter */
    uint8_t point, tier, source;
    char enterprise_id[WN_ENTERPRISE_MAX + 1];
    char calibration[WN_CALIBRATION_MAX + 1];
} wn_sim_meter;

/* Describes fleet meter index under seed. */
void wn_water_describe(wn_sim_meter *d, uint64_t seed, unsigned index);

/* Fills an enrolment record for d (meter id and public key from the meter, time given);
 * the caller signs it. */
void wn_water_enrolment(wn_enrolment *e, const wn_sim_meter *d, const uint8_t id[32],
                        const uint8_t pub33[33], uint8_t alg, const uint8_t parent_id[32], uint64_t time_ms);

/* Mean volume flow of meter d at time t, m3/h. */
double wn_water_rate(const wn_sim_meter *d, uint64_t seed, uint64_t t_ms);

/* Volume in m3 that flowed through meter d in [t0, t1]. */
double wn_water_volume(const wn_sim_meter *d, uint64_t seed, uint64_t t0_ms, uint64_t t1_ms);

/* The measurements of d's reading at time t. prev_time/prev_volume (milli-m3) are those
 * of the meter's previous reading; have_prev 0 for its first reading (the totaliser then
 * starts at a per-meter value). Returns: the number of measurements written to out. */
size_t wn_water_measure(const wn_sim_meter *d, uint64_t seed, int have_prev, uint64_t prev_time,
                        int64_t prev_volume, uint64_t t_ms, wn_measurement out[WN_READING_MAX_MEAS]);

#endif
