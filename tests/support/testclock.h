/* testclock.h — the commit clock of a test's wn-node (WN_TEST_COMMIT_CLOCK_FILE, read by
 * node/ingest/committer.c): tests that post months of readings in seconds post them as a
 * meter would, each batch committed just after it was measured, so the ledger's commit
 * times are those of honest data (docs/PROTOCOL.md §3, §16). */
#ifndef WN_TEST_TESTCLOCK_H
#define WN_TEST_TESTCLOCK_H

#include <stdint.h>

/* Points WN_TEST_COMMIT_CLOCK_FILE at dir/commit-clock (for nodes started after this) and
 * sets the clock to ms. Returns: 1 on success. */
int wn_test_clock_use(const char *dir, uint64_t ms);
/* Sets the clock (atomically: a temporary file renamed). Returns: 1 on success. */
int wn_test_clock_set(uint64_t ms);
/* Stops using it (unsets the variable). */
void wn_test_clock_off(void);

#endif
