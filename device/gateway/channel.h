/* channel.h — one metered channel of the gateway: a flowmeter read over Modbus by its
 * device profile, and the WaterNotary meter (device/meter.h: key, sequence, hash chain,
 * crash-safe queue) that signs what was read, in the channel's state directory.
 *
 * Polls read every register of the profile; only a poll in which every read succeeded and
 * no fault bit was set gives values. A failed poll (no answer, a Modbus exception, a fault
 * reported by the meter) gives none: nothing is made up, the gap stays visible as missing
 * readings, and the flags that the meter's status mapped to (a fault, a power loss ...)
 * are kept and set on the next reading that is signed (so are the flags of good polls that
 * were not signed themselves). A reading is signed from the last good poll, with that
 * poll's time, at most once per poll. */
#ifndef WN_GATEWAY_CHANNEL_H
#define WN_GATEWAY_CHANNEL_H

#include <stdint.h>

#include "device/gateway/link.h"
#include "device/gateway/profile.h"
#include "device/gateway/widen.h"
#include "device/meter.h"

#define WN_CHANNEL_NAME_MAX 64

typedef struct {
    char name[WN_CHANNEL_NAME_MAX + 1];
    char state_dir[1024];
    char profile_path[1024];
    char address[256];          /* tcp:HOST:PORT or rtu:DEV:BAUD:8N1 */
    int unit;                   /* Modbus unit (slave) id */
} wn_channel_config;

typedef struct {
    wn_channel_config cfg;
    wn_profile profile;
    wn_link *link;
    wn_meter meter;
    int meter_open;
    wn_widen widen[WN_PROFILE_MAX_QUANTITIES];
    /* the last good poll, not yet signed */
    int have_poll;
    uint64_t poll_time;
    wn_measurement poll_values[WN_PROFILE_MAX_QUANTITIES];
    uint16_t sticky_flags;      /* flags the status showed at any poll since the last reading */
    uint64_t polls, good_polls, comm_errors, exceptions, faults, readings;
    int last_exception;
    char last_error[1400];
} wn_channel;

enum wn_channel_poll { WN_POLL_OK = 0, WN_POLL_COMM, WN_POLL_EXCEPTION, WN_POLL_FAULT, WN_POLL_VALUE };

/* Loads the profile, opens the meter and resumes each wrapping totaliser from the meter's
 * last reading. Returns: 1, or 0 with ch->last_error. */
int wn_channel_open(wn_channel *ch, const wn_channel_config *cfg, unsigned timeout_ms);
void wn_channel_close(wn_channel *ch);

/* One poll at now_ms. Returns: a WN_POLL_* code (ch->last_error says more). */
int wn_channel_poll(wn_channel *ch, uint64_t now_ms);

/* Signs a reading from the last good poll not yet signed (no-op without one).
 * Returns: 1 if a reading was made, 0 if there was nothing to sign, -1 on an error
 * (ch->last_error: the meter refused, e.g. a totaliser that ran backwards). */
int wn_channel_sign(wn_channel *ch);

#endif
