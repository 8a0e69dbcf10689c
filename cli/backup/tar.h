/* tar.h — the few POSIX ustar operations a backup file needs: append a regular file (mode
 * 0600) to an archive being written, and read an archive member by member with every header
 * checked (checksum, octal fields, a name from the caller's list, sizes within the file), so
 * a damaged or hostile archive is refused with a reason, never followed outside its folder. */
#ifndef WN_CLI_TAR_H
#define WN_CLI_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WN_TAR_NAME_MAX 99

/* Appends the whole of file src as member name (mode 0600, mtime now) to out.
 * Returns: 1, or 0 with err filled. */
int wn_tar_add_file(FILE *out, const char *name, const char *src, char *err, size_t errlen);

/* Ends the archive (two zero blocks). Returns: 1, or 0 with err filled. */
int wn_tar_finish(FILE *out, char *err, size_t errlen);

/* Reads the next member header. Out: name (NUL-terminated), *size. Returns: 1 for a
 * member, 0 at the end of the archive, -1 on a malformed header (err filled). Only regular
 * files are accepted. */
int wn_tar_next(FILE *in, char name[WN_TAR_NAME_MAX + 1], uint64_t *size, char *err, size_t errlen);

/* Copies the current member's size bytes to out (may be NULL to skip) and skips its padding.
 * Returns: 1, or 0 with err filled (a truncated archive). */
int wn_tar_copy(FILE *in, uint64_t size, FILE *out, char *err, size_t errlen);

#endif
