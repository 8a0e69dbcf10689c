/* testclock.c — see testclock.h. */
#include "tests/support/testclock.h"

#include <stdio.h>
#include <stdlib.h>

static char path[4400];

int wn_test_clock_set(uint64_t ms)
{
    if (!path[0]) return 0;
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return 0;
    int ok = fprintf(f, "%llu\n", (unsigned long long)ms) > 0;
    ok &= fclose(f) == 0;
    return ok && rename(tmp, path) == 0;
}

int wn_test_clock_use(const char *dir, uint64_t ms)
{
    snprintf(path, sizeof path, "%s/commit-clock", dir);
    return wn_test_clock_set(ms) && setenv("WN_TEST_COMMIT_CLOCK_FILE", path, 1) == 0;
}

void wn_test_clock_off(void)
{
    unsetenv("WN_TEST_COMMIT_CLOCK_FILE");
    path[0] = '\0';
}
