/* timearg.c — command-line times and zone offsets (see timearg.h), with the civil-date
 * arithmetic of H. Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
#include "cli/timearg.h"
#include "crypto/encoding.h"

#include <stdio.h>
#include <string.h>

#define MAX_MS 253402300799999ULL
#define DAY_MS 86400000LL

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 1;
}

static int leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int date_ok(unsigned y, unsigned m, unsigned d)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1) return 0;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

int wn_timearg_zone(const char *s, int *minutes)
{
    unsigned h, m;
    if (strcmp(s, "Z") == 0) {
        *minutes = 0;
        return 1;
    }
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s + 1, 2, &h) ||
        !digits(s + 4, 2, &m) || h > 23 || m > 59)
        return 0;
    *minutes = (int)(h * 60 + m) * (s[0] == '-' ? -1 : 1);
    return 1;
}

int wn_timearg_parse(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    if (n && s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == n) /* milliseconds */
        return wn_decimal_u64(s, n, ms) && *ms <= MAX_MS;
    unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    if (n < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
        !digits(s + 8, 2, &d) || !date_ok(y, mo, d))
        return 0;
    int zone = 0;
    if (n > 10) {
        if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || !digits(s + 11, 2, &h) ||
            !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59)
            return 0;
        size_t p = 19;
        if (s[p] == '.') {
            size_t k = p + 1;
            while (k < n && s[k] >= '0' && s[k] <= '9') k++;
            size_t nd = k - p - 1;
            if (nd < 1 || nd > 3 || !digits(s + p + 1, nd, &frac)) return 0;
            while (nd++ < 3) frac *= 10;
            p = k;
        }
        if (!wn_timearg_zone(s + p, &zone)) return 0;
    }
    int64_t t = days_from_civil(y, mo, d) * DAY_MS + ((int64_t)h * 3600 + mi * 60 + se) * 1000 + frac -
                (int64_t)zone * 60000;
    if (t < 0 || (uint64_t)t > MAX_MS) return 0;
    *ms = (uint64_t)t;
    return 1;
}

void wn_timearg_format(char out[32], uint64_t ms, int minutes)
{
    int64_t t = (int64_t)ms + (int64_t)minutes * 60000;
    int64_t days = t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS);
    int64_t rem = t - days * DAY_MS, y;
    unsigned m, d, off = (unsigned)(minutes < 0 ? -minutes : minutes) % (24 * 60);
    civil_from_days(days, &y, &m, &d);
    char zone[8] = "Z";
    if (minutes) snprintf(zone, sizeof zone, "%c%02u:%02u", minutes < 0 ? '-' : '+', off / 60, off % 60);
    char buf[96];
    snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03u%s", (long long)y, m, d, (unsigned)(rem / 3600000),
             (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60), (unsigned)(rem % 1000), zone);
    size_t n = strnlen(buf, 31); /* at most 29 for years 1969..9999 */
    memcpy(out, buf, n);
    out[n] = '\0';
}
