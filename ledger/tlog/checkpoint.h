/* checkpoint.h — signed checkpoints: C2SP tlog-checkpoint text in a C2SP signed note,
 * signed with BIP-340 Schnorr over secp256k1.
 *
 *   <origin>\n
 *   <tree size, ASCII decimal, no leading zeros>\n
 *   <base64 root hash>\n
 *   [commit-time <ms since the epoch, ASCII decimal, no leading zeros>\n]
 *   \n
 *   — <key name> <base64(key id (4 bytes) || BIP-340 signature (64 bytes))>\n
 *
 * signed-note has no registered type for secp256k1, so we use its escape hatch: type byte
 * 0xff followed by the identifier "waternotary-bip340":
 *   key id    = SHA-256(key name || 0x0A || 0xff || "waternotary-bip340" || x-only key)[:4]
 *   signature = BIP-340 over tagged_hash(WN_TAG_CHECKPOINT, note text)
 * where the note text is everything up to and including the newline before the blank
 * line. The key name is the origin. The one extension line (C2SP tlog-checkpoint allows
 * extension lines after the root) is the latest commit time of the entries the checkpoint
 * covers (ledger/entry.h); a note with any other extension line, or more than one, is
 * refused. docs/PROTOCOL.md "Checkpoints" is the contract. */
#ifndef WN_CHECKPOINT_H
#define WN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_ORIGIN_MAX 255
#define WN_CHECKPOINT_MAX 2048 /* largest note we write or accept (a few signature lines) */
#define WN_NOTE_SIG_ID "waternotary-bip340"

typedef struct {
    char origin[WN_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[32];
    int has_time;            /* the note carries the commit-time extension line: */
    uint64_t time_ms;        /*   commit time of entry size-1 (ms since the epoch) */
} wn_checkpoint;

#define WN_CHECKPOINT_TIME_MAX 253402300799999ULL /* 9999-12-31T23:59:59.999Z, as for readings */

enum wn_checkpoint_err {
    WN_CHECKPOINT_OK = 0,
    WN_CHECKPOINT_EFORMAT,  /* not a well-formed note / checkpoint body */
    WN_CHECKPOINT_EORIGIN,  /* origin empty, too long, or not the expected one */
    WN_CHECKPOINT_ENOSIG,   /* no signature line from the expected key */
    WN_CHECKPOINT_ESIG,     /* a signature from the expected key does not verify */
    WN_CHECKPOINT_ESPACE,   /* output buffer too small */
    WN_CHECKPOINT_EEXTENSION /* an extension line other than one commit-time line */
};
const char *wn_checkpoint_strerror(int err);

/* Key id of (name, x-only key) as defined above. */
void wn_note_keyid(uint8_t id[4], const char *name, const uint8_t xonly[WN_XONLY_LEN]);

/* Writes the signed note for cp (signed by seckey, key name = cp->origin) into out
 * (NUL-terminated), with the commit-time line when cp->has_time. Out: *len. Returns:
 * WN_CHECKPOINT_OK or an error. */
int wn_checkpoint_sign(const wn_checkpoint *cp, const uint8_t seckey[WN_SECKEY_LEN], char *out,
                       size_t cap, size_t *len);

/* Parses a signed checkpoint note and verifies the signature of the key (origin, xonly).
 * Signature lines from other keys are ignored; there must be one from this key and it must
 * verify. expected_origin may be NULL (then any origin is taken, the key name being the
 * checkpoint's origin). Out: *cp. */
int wn_checkpoint_verify(const char *note, size_t len, const char *expected_origin,
                         const uint8_t xonly[WN_XONLY_LEN], wn_checkpoint *cp);

/* Parses only the checkpoint body (no signature check). Out: *cp, *text_len = length of
 * the note text (body up to and including its last newline). */
int wn_checkpoint_parse(const char *note, size_t len, wn_checkpoint *cp, size_t *text_len);

#endif
