/* checkpoint_sm2.c — the notary's SM2 co-signature line on a checkpoint note (see
 * checkpoint_sm2.h; docs/PROTOCOL.md §4). The note's shape is checked by
 * wn_checkpoint_parse before any line is looked at. */
#include "ledger/tlog/checkpoint_sm2.h"
#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/sha256.h"

#include <stdio.h>
#include <string.h>

#define SIG_PREFIX "\xe2\x80\x94 " /* "— " */
#define SIG_PREFIX_LEN 4
#define BLOB_LEN (4 + WN_SIG_LEN)  /* key id || r || s */

void wn_note_sm2_keyid(uint8_t id[4], const char *name, const uint8_t pub33[WN_PUB33_LEN])
{
    static const uint8_t sep[] = {0x0a, 0xff};
    uint8_t h[32];
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    wn_sha256_update(&c, name, strlen(name));
    wn_sha256_update(&c, sep, sizeof sep);
    wn_sha256_update(&c, WN_NOTE_SM2_SIG_ID, strlen(WN_NOTE_SM2_SIG_ID));
    wn_sha256_update(&c, pub33, WN_PUB33_LEN);
    wn_sha256_final(&c, h);
    memcpy(id, h, 4);
}

const char *wn_checkpoint_sm2_strerror(int err)
{
    switch (err) {
    case WN_CHECKPOINT_ENOSIG: return "no SM2 co-signature line by the expected SM2 notary key";
    case WN_CHECKPOINT_ESIG: return "the SM2 co-signature of the expected SM2 notary key does not verify";
    default: return wn_checkpoint_strerror(err);
    }
}

int wn_checkpoint_sm2_message(uint8_t m[32], const char *note, size_t len)
{
    size_t text_len;
    int err = wn_checkpoint_parse(note, len, NULL, &text_len);
    if (err) return err;
    return wn_sm3_tagged(m, WN_TAG_CHECKPOINT, note, text_len) ? WN_CHECKPOINT_OK : WN_CHECKPOINT_EFORMAT;
}

int wn_checkpoint_cosign_sm2(const char *note, size_t len, const uint8_t sm2_seckey[WN_SECKEY_LEN], char *out,
                             size_t cap, size_t *outlen)
{
    wn_checkpoint cp;
    size_t text_len;
    int err = wn_checkpoint_parse(note, len, &cp, &text_len);
    if (err) return err;
    uint8_t m[32], pub[WN_PUB33_LEN], blob[BLOB_LEN];
    if (!wn_sm3_tagged(m, WN_TAG_CHECKPOINT, note, text_len)) return WN_CHECKPOINT_ESIG;
    if (!wn_sm2_pub33(pub, sm2_seckey)) return WN_CHECKPOINT_ESIG;
    wn_note_sm2_keyid(blob, cp.origin, pub);
    if (!wn_sm2_sign(blob + 4, sm2_seckey, WN_SM2_DEFAULT_ID, m, sizeof m)) return WN_CHECKPOINT_ESIG;
    char b64[WN_B64_LEN(BLOB_LEN) + 1];
    wn_base64_encode(b64, blob, sizeof blob);
    int n = snprintf(out, cap, "%.*s" SIG_PREFIX "%s %s\n", (int)len, note, cp.origin, b64);
    if (n < 0 || (size_t)n >= cap || (size_t)n > WN_CHECKPOINT_MAX) return WN_CHECKPOINT_ESPACE;
    if (outlen) *outlen = (size_t)n;
    return WN_CHECKPOINT_OK;
}

int wn_checkpoint_verify_sm2(const char *note, size_t len, const uint8_t pub33[WN_PUB33_LEN])
{
    wn_checkpoint cp;
    size_t text_len;
    int err = wn_checkpoint_parse(note, len, &cp, &text_len);
    if (err) return err;
    uint8_t id[4], m[32];
    wn_note_sm2_keyid(id, cp.origin, pub33);
    if (!wn_sm3_tagged(m, WN_TAG_CHECKPOINT, note, text_len)) return WN_CHECKPOINT_ESIG;
    size_t olen = strlen(cp.origin);
    int found = 0;
    size_t pos = text_len + 1; /* after the blank line */
    while (pos < len) {
        const char *nl = memchr(note + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - note) : len;
        const char *name = note + pos + SIG_PREFIX_LEN; /* parse checked "— " and one space */
        const char *b64 = name + olen + 1;
        if (b64 <= note + end && memcmp(name, cp.origin, olen) == 0 && name[olen] == ' ') {
            uint8_t blob[WN_CHECKPOINT_MAX];
            size_t bloblen;
            if (wn_base64_decode(blob, sizeof blob, &bloblen, b64, (size_t)(note + end - b64)) && bloblen >= 4 &&
                memcmp(blob, id, 4) == 0) {
                if (bloblen != BLOB_LEN || !wn_sm2_verify(blob + 4, pub33, WN_SM2_DEFAULT_ID, m, sizeof m))
                    return WN_CHECKPOINT_ESIG;
                found = 1;
            }
        }
        pos = end + 1;
    }
    return found ? WN_CHECKPOINT_OK : WN_CHECKPOINT_ENOSIG;
}
