/* testutil.h — small helpers shared by the Criterion test binaries. */
#ifndef WN_TESTUTIL_H
#define WN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A fresh empty directory under $TMPDIR (or /tmp), removed by wn_test_rmtree. */
char *wn_test_tmpdir(const char *tag);
void wn_test_rmtree(const char *path);

/* Path of a file under the public vectors ($WN_VECTORS, default tests/vectors: the copies in the repository). */
char *wn_test_vector_path(const char *rel);

/* Path of a program in $WN_BIN (default ./bin), e.g. wn_test_bin("wn"). */
char *wn_test_bin(const char *name);

/* Reads a whole file (NUL-terminated, malloc'd). Returns NULL if unreadable. */
char *wn_test_read_file(const char *path, size_t *len);

/* Deterministic pseudo-random bytes (xorshift), for reproducible test data. */
void wn_test_prng_seed(uint64_t seed);
uint64_t wn_test_prng(void);
void wn_test_prng_bytes(uint8_t *out, size_t len);

#endif
