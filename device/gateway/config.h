/* config.h — wn-gateway's configuration file: global `key = value` lines, then one
 * `[channel NAME]` section per metered channel (docs/GATEWAY.md has an example).
 * '#' starts a comment line; unknown keys, repeated keys and missing required keys are
 * errors that name the line. */
#ifndef WN_GATEWAY_CONFIG_H
#define WN_GATEWAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "device/gateway/channel.h"

#define WN_GATEWAY_MAX_CHANNELS 256
#define WN_GATEWAY_DEFAULT_POLL_MS 60000u
#define WN_GATEWAY_DEFAULT_SIGN_MS 900000u
#define WN_GATEWAY_DEFAULT_TIMEOUT_MS 1000u

typedef struct {
    char node[512];           /* node URL (required unless given with --node) */
    char notary_pub[65];      /* hex; empty: pinned in the first channel's notary.pub or fetched */
    uint64_t poll_ms;         /* poll every channel this often */
    uint64_t sign_ms;         /* sign a reading per channel at each multiple of this (wall clock) */
    uint64_t timeout_ms;      /* Modbus response timeout */
    size_t nchannels;
    wn_channel_config channels[WN_GATEWAY_MAX_CHANNELS];
} wn_gateway_config;

/* Parses text (len bytes). Returns: 1, or 0 with a sentence in err ("line N: ..."). */
int wn_gateway_config_parse(wn_gateway_config *c, const char *text, size_t len, char *err, size_t errcap);
/* Reads and parses a file. Returns: 1, or 0 with err. */
int wn_gateway_config_load(wn_gateway_config *c, const char *path, char *err, size_t errcap);

#endif
