/* sm2_key.h — the notary's SM2 co-signing key (wn-node --notary-sm2-key FILE), which adds
 * an SM2 signature line to every checkpoint (ledger/tlog/checkpoint_sm2.h).
 *
 * Like DIR/notary.key, the key is created (0600, never overwriting) only when nothing says
 * the log was co-signed before, and it is never silently replaced:
 *   DIR/notary-sm2.pub  the compressed public key (66 hex and a newline) of the SM2 key that
 *                       co-signs this directory's checkpoints, written once (O_EXCL, fsync)
 *                       when the key is first used.
 * Start-up then refuses (with what to do) a FILE whose key is not that one, a FILE that is
 * missing while DIR/notary-sm2.pub exists (restore it; a new key would co-sign the log under
 * another identity), and a start without --notary-sm2-key while DIR/notary-sm2.pub exists
 * (verifiers that require the SM2 line would find it gone; removing the file is the
 * deliberate way to stop co-signing). */
#ifndef WN_NODE_SM2_KEY_H
#define WN_NODE_SM2_KEY_H

#include <stddef.h>
#include <stdint.h>

#define WN_DATADIR_SM2_PUB "notary-sm2.pub"

/* path: the --notary-sm2-key FILE, or NULL. notary_keyid_origin / bip_keyid: the origin and
 * the BIP-340 line's key id, so that a key whose SM2 key id equals it is refused (the
 * BIP-340 verifier would take its line for the notary's).
 * Out: sk, pub33 (when a key is used). Returns: 1 a key is to co-sign, 0 none is, -1 refused
 * (why in err). */
int wn_datadir_sm2_key(const char *dir, const char *path, const char *origin, const uint8_t bip_keyid[4],
                       uint8_t sk[32], uint8_t pub33[33], char *err, size_t cap);

#endif
