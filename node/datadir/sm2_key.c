/* sm2_key.c — loading, creating and pinning the notary's SM2 co-signing key (sm2_key.h). */
#include "node/datadir/sm2_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/keyfile.h"
#include "ledger/tlog/checkpoint_sm2.h"
#include "node/log.h"

/* Reads DIR/notary-sm2.pub. Returns: 1 read (pub33 set), 0 absent, -1 unreadable/malformed. */
static int read_pin(const char *path, uint8_t pub33[33])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    char buf[80];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 66 || (n > 66 && !(n == 67 && buf[66] == '\n'))) return -1;
    return wn_hex_decode(pub33, 33, buf, 66) && wn_sm2_pub_valid(pub33) ? 1 : -1;
}

/* Writes DIR/notary-sm2.pub once (O_EXCL), durably. Returns: 1, or 0 with errno set. */
static int write_pin(const char *dir, const char *path, const uint8_t pub33[33])
{
    char line[68];
    wn_hex_encode(line, pub33, 33);
    line[66] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    int ok = write(fd, line, 67) == 67 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0) ok = 0;
    if (!ok) {
        unlink(path);
        errno = saved ? saved : EIO;
        return 0;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return 0;
    ok = fsync(dfd) == 0;
    close(dfd);
    return ok;
}

int wn_datadir_sm2_key(const char *dir, const char *path, const char *origin, const uint8_t bip_keyid[4],
                       uint8_t sk[32], uint8_t pub33[33], char *err, size_t cap)
{
    char pin_path[4200], pin_hex[67] = "";
    uint8_t pinned[33];
    snprintf(pin_path, sizeof pin_path, "%s/%s", dir, WN_DATADIR_SM2_PUB);
    int pin = read_pin(pin_path, pinned);
    if (pin < 0) {
        snprintf(err, cap, "%s is unreadable or not a compressed SM2 public key in hex: restore it from a backup",
                 pin_path);
        return -1;
    }
    if (pin) wn_hex_encode(pin_hex, pinned, 33);
    if (!path) {
        if (!pin) return 0;
        snprintf(err, cap,
                 "%s says this log's checkpoints are co-signed with the SM2 key %s, but no --notary-sm2-key was "
                 "given: start with --notary-sm2-key FILE (verifiers that require the SM2 line would find it "
                 "missing), or remove %s to stop co-signing deliberately",
                 pin_path, pin_hex, pin_path);
        return -1;
    }
    if (access(path, F_OK) == 0) {
        if (!wn_keyfile_read(path, sk)) {
            snprintf(err, cap, "cannot use the SM2 notary key %s: %s", path, wn_keyfile_strerror(errno));
            return -1;
        }
        if (!wn_sm2_pub33(pub33, sk)) {
            memset(sk, 0, 32);
            snprintf(err, cap, "%s is not an SM2 secret key (it must be in [1, n-2] of the SM2 curve)", path);
            return -1;
        }
    } else if (pin) {
        snprintf(err, cap,
                 "the SM2 notary key %s does not exist, but %s says this log was co-signed with the SM2 key %s: "
                 "restore the key from a backup (a new key would co-sign the log under another identity)",
                 path, pin_path, pin_hex);
        return -1;
    } else {
        if (!wn_sm2_seckey_generate(sk) || !wn_sm2_pub33(pub33, sk)) {
            snprintf(err, cap, "cannot generate an SM2 key");
            return -1;
        }
        if (!wn_keyfile_write(path, sk)) {
            snprintf(err, cap, "cannot create the SM2 notary key %s: %s", path, strerror(errno));
            memset(sk, 0, 32);
            return -1;
        }
        wn_log("created SM2 notary key %s", path);
    }
    uint8_t id[4];
    wn_note_sm2_keyid(id, origin, pub33);
    if (memcmp(id, bip_keyid, 4) == 0) {
        memset(sk, 0, 32);
        snprintf(err, cap, "the SM2 key %s has the same signed-note key id as the notary key for origin %s: make "
                 "another SM2 key", path, origin);
        return -1;
    }
    char hex[67];
    wn_hex_encode(hex, pub33, 33);
    if (pin && memcmp(pinned, pub33, 33) != 0) {
        memset(sk, 0, 32);
        snprintf(err, cap,
                 "the SM2 notary key %s (public key %s) is not the one that co-signed this log (%s holds %s): "
                 "restore that key, or remove %s to co-sign with a new key deliberately",
                 path, hex, pin_path, pin_hex, pin_path);
        return -1;
    }
    if (!pin && !write_pin(dir, pin_path, pub33)) {
        memset(sk, 0, 32);
        snprintf(err, cap, "cannot write %s: %s", pin_path, strerror(errno));
        return -1;
    }
    return 1;
}
