/* zone.c — the bureau's zone (zone.h): parsing, formatting, and the process's one value. */
#include "node/monitor/zone.h"

#include <stdio.h>
#include <string.h>

static int g_zone_min = WN_ZONE_DEFAULT_MIN;

int wn_zone_parse(const char *s, int *minutes)
{
    if (!s) return 0;
    if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0) {
        *minutes = 0;
        return 1;
    }
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return 0;
    for (int i = 1; i < 6; i++)
        if (i != 3 && (s[i] < '0' || s[i] > '9')) return 0;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    if (m > 59) return 0;
    int v = h * 60 + m;
    if (v > WN_ZONE_MAX_MIN) return 0;
    *minutes = s[0] == '-' ? -v : v;
    return 1;
}

void wn_zone_format(char out[7], int minutes)
{
    int a = minutes < 0 ? -minutes : minutes;
    if (a > WN_ZONE_MAX_MIN) a = WN_ZONE_MAX_MIN;
    snprintf(out, 7, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
}

int wn_zone_minutes(void) { return g_zone_min; }

void wn_zone_set(int minutes)
{
    if (minutes >= -WN_ZONE_MAX_MIN && minutes <= WN_ZONE_MAX_MIN) g_zone_min = minutes;
}

int64_t wn_zone_offset_ms(void) { return (int64_t)g_zone_min * 60000; }

uint64_t wn_zone_local_ms(uint64_t utc_ms)
{
    int64_t off = wn_zone_offset_ms();
    if (off < 0 && utc_ms < (uint64_t)-off) return 0;
    return off < 0 ? utc_ms - (uint64_t)-off : utc_ms + (uint64_t)off;
}
