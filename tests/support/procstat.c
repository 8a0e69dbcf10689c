/* procstat.c — reading /proc stat files for tests and benchmarks. See procstat.h. */
#include "tests/support/procstat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int wn_procstat_read(const char *path, wn_procstat *out)
{
    memset(out, 0, sizeof *out);
    char buf[2048];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    unsigned long long minflt = 0, ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!open || !close || close < open ||
        sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u %llu %llu", &minflt, &ut, &st) != 3)
        return 0;
    size_t len = (size_t)(close - open - 1);
    if (len >= sizeof out->comm) len = sizeof out->comm - 1;
    memcpy(out->comm, open + 1, len);
    out->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    out->minor_faults = (double)minflt;
    return 1;
}

wn_procstat wn_procstat_of(int pid)
{
    char path[64];
    wn_procstat s;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    wn_procstat_read(path, &s);
    return s;
}
