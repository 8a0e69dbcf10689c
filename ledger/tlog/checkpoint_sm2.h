/* checkpoint_sm2.h — the notary's SM2 co-signature of a checkpoint: a second signed-note
 * signature line, so that a verifier restricted to the national algorithms (GB/T 32918 SM2,
 * GB/T 32905 SM3) can check the log's checkpoints. docs/PROTOCOL.md §4 is the contract:
 *
 *   — <key name> <base64(key id (4 bytes) || SM2 signature r || s (64 bytes))>\n
 *
 *   key name  = the checkpoint's origin (as for the BIP-340 line)
 *   key id    = SHA-256(key name || 0x0A || 0xff || "waternotary-sm2" || pub33)[:4],
 *               pub33 the 33-byte compressed SM2 public key (0x02/0x03 || x)
 *   M         = SM3(SM3(tag) || SM3(tag) || note text), tag "WaterNotary/checkpoint/v1"
 *   signature = SM2 (GB/T 32918.2) of the message M with the distinguishing id
 *               "1234567812345678": e = SM3(Z_A || M)
 *
 * The note text is what wn_checkpoint_parse says it is (the lines before the blank line).
 * The line is added to a note already signed with BIP-340 (wn_checkpoint_sign) and is
 * ignored by a verifier that does not ask for it (signed-note: unknown keys are ignored). */
#ifndef WN_CHECKPOINT_SM2_H
#define WN_CHECKPOINT_SM2_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"

#define WN_NOTE_SM2_SIG_ID "waternotary-sm2"

/* Key id of (name, compressed SM2 key) as defined above. */
void wn_note_sm2_keyid(uint8_t id[4], const char *name, const uint8_t pub33[WN_PUB33_LEN]);

/* Out: m, the SM3 tagged hash of the note's text: the message the SM2 line signs.
 * Returns: WN_CHECKPOINT_OK or WN_CHECKPOINT_EFORMAT. */
int wn_checkpoint_sm2_message(uint8_t m[32], const char *note, size_t len);

/* Copies the signed note into out (NUL-terminated) with an SM2 co-signature line by
 * sm2_seckey appended. Out: *outlen. Returns: WN_CHECKPOINT_OK, EFORMAT (note does not
 * parse), ESIG (the key cannot sign) or ESPACE (out too small, or the result would be
 * longer than WN_CHECKPOINT_MAX). */
int wn_checkpoint_cosign_sm2(const char *note, size_t len, const uint8_t sm2_seckey[WN_SECKEY_LEN], char *out,
                             size_t cap, size_t *outlen);

/* Checks the SM2 co-signature of the key pub33 on a checkpoint note (only that: the
 * BIP-340 line is wn_checkpoint_verify's). Every line with the key name = origin and
 * this key's id must be 68 bytes and verify, and there must be one.
 * Returns: WN_CHECKPOINT_OK, EFORMAT, ENOSIG (no line of this SM2 key) or ESIG. */
int wn_checkpoint_verify_sm2(const char *note, size_t len, const uint8_t pub33[WN_PUB33_LEN]) WN_WARN_UNUSED;

/* Error text for wn_checkpoint_verify_sm2's results, naming the SM2 co-signature. */
const char *wn_checkpoint_sm2_strerror(int err);

#endif
