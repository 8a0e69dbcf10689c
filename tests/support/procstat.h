/* procstat.h — what /proc/PID/stat and /proc/PID/task/TID/stat say of a process or
 * thread, for tests and benchmarks that measure the node from outside: its CPU time
 * (which other processes on a shared machine do not take) and its minor page faults. */
#ifndef WN_TEST_PROCSTAT_H
#define WN_TEST_PROCSTAT_H

typedef struct {
    char comm[64];       /* the process's or thread's name */
    double cpu_s;        /* user + system CPU seconds so far */
    double minor_faults; /* minor page faults so far */
} wn_procstat;

/* Reads a stat file (/proc/PID/stat or /proc/PID/task/TID/stat). Returns: 1 on success. */
int wn_procstat_read(const char *path, wn_procstat *out);

/* The same for process pid; a process that is gone reads as zeros. */
wn_procstat wn_procstat_of(int pid);

#endif
