/* keyfile.h — secret key files: 64 lowercase hex chars and a newline, mode 0600.
 * Writing never overwrites an existing file (O_EXCL), so a key cannot be lost by a typo. */
#ifndef WN_KEYFILE_H
#define WN_KEYFILE_H

#include <stdint.h>
#include "crypto/sig.h"

/* Generates a key and writes it to path (0600, refusing to overwrite).
 * Out: seckey, xonly (may be NULL).  Returns: 1 on success; 0 with errno set
 * (EEXIST if the file exists). */
int wn_keyfile_create(const char *path, uint8_t seckey[WN_SECKEY_LEN], uint8_t xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Writes a given key to path (0600, refusing to overwrite). */
int wn_keyfile_write(const char *path, const uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Reads and validates a key file. A file whose mode gives group or others any access
 * (0644, 0666, ...) is refused: the key may have been read or replaced.
 * Returns: 1 on success; 0 with errno EPERM (group/other mode bits: chmod 600 FILE),
 * EINVAL (malformed) or the error of open/read. */
int wn_keyfile_read(const char *path, uint8_t seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;

/* Why wn_keyfile_read failed, from its errno, in words that say what to do. */
const char *wn_keyfile_strerror(int err);

#endif
