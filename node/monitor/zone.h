/* zone.h — the one zone of the bureau's days (wn-node --zone, docs/PROTOCOL.md §18): a fixed
 * offset from UTC ("+08:00", the default, China Standard Time; no daylight saving) by which
 * the monitor's stored hour, day, month, year and plan-year buckets, the API's days and
 * times, the page and the exports are cut. Set once at start, before the monitor opens and
 * before any thread reads it; read-only afterwards. */
#ifndef WN_NODE_ZONE_H
#define WN_NODE_ZONE_H

#include <stddef.h>
#include <stdint.h>

#define WN_ZONE_DEFAULT_MIN 480 /* +08:00 */
#define WN_ZONE_MAX_MIN 840     /* offsets from -14:00 to +14:00 */

/* Parses "+HH:MM" / "-HH:MM" (also "Z" and "UTC" for +00:00) into minutes east of UTC.
 * Returns: 1 if s is a zone, else 0. */
int wn_zone_parse(const char *s, int *minutes);

/* Writes minutes as "+HH:MM" (out >= 7 bytes). */
void wn_zone_format(char out[7], int minutes);

/* The zone in effect (minutes east of UTC; default WN_ZONE_DEFAULT_MIN). */
int wn_zone_minutes(void);
/* Sets it; call before wn_monitor_open, from one thread. */
void wn_zone_set(int minutes);

/* The offset as milliseconds, and ms + offset (clamped at 0: local time since the epoch). */
int64_t wn_zone_offset_ms(void);
uint64_t wn_zone_local_ms(uint64_t utc_ms);

#endif
