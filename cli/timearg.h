/* timearg.h — times as people type them on the command line and as exports print them:
 * RFC 3339 with a zone ("2026-11-23T19:17:38.123Z", "2026-11-24T03:17:38+08:00"), a date
 * alone (midnight UTC), or milliseconds since the epoch; zone offsets "Z" / "+HH:MM" /
 * "-HH:MM". Calendar dates follow the Gregorian rule, years 1970..9999 as in the protocol. */
#ifndef WN_CLI_TIMEARG_H
#define WN_CLI_TIMEARG_H

#include <stdint.h>

/* Parses one of: YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|+HH:MM|-HH:MM), YYYY-MM-DD, or a decimal
 * count of milliseconds. Returns: 1 and *ms (0 .. 253402300799999); 0 otherwise. */
int wn_timearg_parse(const char *s, uint64_t *ms);

/* Parses a zone offset "Z", "+HH:MM" or "-HH:MM" (HH <= 23, MM <= 59) into minutes east of
 * UTC. Returns: 1 on success. */
int wn_timearg_zone(const char *s, int *minutes);

/* Writes time ms as "YYYY-MM-DDTHH:MM:SS.mmm" in the zone `minutes` east of UTC, followed by
 * "Z" when minutes is 0 and "+HH:MM" / "-HH:MM" otherwise (at most 30 bytes with the NUL). */
void wn_timearg_format(char out[32], uint64_t ms, int minutes);

#endif
