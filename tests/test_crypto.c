/* test_crypto.c — known answers and strictness of the crypto wrappers: hex and base64
 * codecs (crypto/encoding.c), SHA-256 (crypto/sha256.c), secret key files
 * (crypto/keyfile.c), notary receipts (protocol/receipt.c) and ECDSA (crypto/sig.c). */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#define CHECK(cond, ...) do { if (!(cond)) cr_assert_fail(__VA_ARGS__); } while (0)

static void unhex(uint8_t *out, size_t len, const char *hex)
{
    cr_assert(wn_hex_decode(out, len, hex, strlen(hex)), "bad constant %s", hex);
}

/* ---------- hex ---------- */

Test(hex, known_answers_and_round_trip)
{
    char out[2 * 256 + 1];
    uint8_t all[256], back[256];
    wn_hex_encode(out, NULL, 0);
    cr_assert_str_eq(out, "");
    const uint8_t b[] = {0x00, 0xff, 0x1a, 0xb2, 0x09};
    wn_hex_encode(out, b, sizeof b);
    cr_assert_str_eq(out, "00ff1ab209");
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    wn_hex_encode(out, all, 256);
    cr_assert_eq(strlen(out), 512);
    cr_assert(wn_hex_decode(back, 256, out, 512));
    cr_assert(memcmp(all, back, 256) == 0);
    cr_assert(wn_hex_decode(back, 0, "", 0));
}

Test(hex, strict)
{
    uint8_t o[4];
    /* Exactly 2*outlen characters: odd, short and long inputs are refused. */
    cr_assert_not(wn_hex_decode(o, 2, "abc", 3));
    cr_assert_not(wn_hex_decode(o, 2, "ab", 2));
    cr_assert_not(wn_hex_decode(o, 2, "abcdef", 6));
    cr_assert_not(wn_hex_decode(o, 0, "a", 1));
    /* Upper case, mixed case, prefixes, whitespace and other bytes are refused. */
    const char *bad[] = {"ABCD", "aBcd", "abcD", "0xab", " abc", "abc ", "ab\ncd", "abcg", "zz00", "-1ab"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(wn_hex_decode(o, 2, bad[i], 4), "accepted \"%s\"", bad[i]);
    cr_assert_not(wn_hex_decode(o, 2, "ab\0d", 4), "embedded NUL accepted");
    /* Every byte value in either position: only [0-9a-f] pass, and decode to their value. */
    for (int c = 0; c < 256; c++) {
        int valid = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        int v = c <= '9' ? c - '0' : c - 'a' + 10;
        char s[2] = {(char)c, '0'};
        int ok = wn_hex_decode(o, 1, s, 2);
        CHECK(ok == valid, "char %d high: %d", c, ok);
        if (ok) CHECK(o[0] == (uint8_t)(v << 4), "char %d value", c);
        s[0] = '0';
        s[1] = (char)c;
        ok = wn_hex_decode(o, 1, s, 2);
        CHECK(ok == valid, "char %d low: %d", c, ok);
        if (ok) CHECK(o[0] == (uint8_t)v, "char %d value", c);
    }
}

/* ---------- base64 ---------- */

static int b64_ok(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    return wn_base64_decode(out, cap, n, s, strlen(s));
}

Test(base64, rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[64];
    uint8_t dec[64];
    size_t n;
    for (int i = 0; i < 7; i++) {
        size_t len = strlen(plain[i]);
        cr_assert_eq(wn_base64_encode(out, (const uint8_t *)plain[i], len), strlen(enc[i]));
        cr_assert_str_eq(out, enc[i]);
        cr_assert_eq(WN_B64_LEN(len), strlen(enc[i]));
        cr_assert(b64_ok(enc[i], dec, sizeof dec, &n), "\"%s\" rejected", enc[i]);
        cr_assert_eq(n, len);
        cr_assert(memcmp(dec, plain[i], len) == 0);
    }
    /* Every byte value survives (the '+' and '/' characters included). */
    uint8_t all[3] = {0xfb, 0xff, 0xbf};
    wn_base64_encode(out, all, 3);
    cr_assert_str_eq(out, "+/+/");
}

Test(base64, strict)
{
    uint8_t d[64];
    size_t n;
    /* Canonical trailing bits: one encoding per byte string. */
    cr_assert(b64_ok("QQ==", d, sizeof d, &n) && n == 1 && d[0] == 'A');
    cr_assert_not(b64_ok("QR==", d, sizeof d, &n), "stray bits after one byte accepted");
    cr_assert_not(b64_ok("QX==", d, sizeof d, &n));
    cr_assert(b64_ok("QUI=", d, sizeof d, &n) && n == 2 && d[0] == 'A' && d[1] == 'B');
    cr_assert_not(b64_ok("QUJ=", d, sizeof d, &n), "stray bits after two bytes accepted");
    cr_assert_not(b64_ok("QUL=", d, sizeof d, &n));
    /* Padding: required, only at the end, at most two. */
    const char *bad[] = {
        "QQ", "QQ=", "QUI", "Q===", "====", "=QQQ", "Q=Q=", "QQ=Q", "QQ==QQ==", "QQ==Zm9v", "Zm9vYg=",
        "Zm9vYg", "Zm9vY", "Zm9vYmF", "Zm9v=", "Zm9v====",
        /* whitespace anywhere */
        " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm9v\r\n", "Zm\t9v", "\nZm9v",
        /* other alphabets and characters */
        "Zm9-", "Zm9_", "Zm9.", "Zm9*", "Zm9v\x80\x80\x80\x80", "Zm9\xc3\xa9", "Zm9v%3D%3D",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(b64_ok(bad[i], d, sizeof d, &n), "accepted \"%s\"", bad[i]);
    cr_assert_not(wn_base64_decode(d, sizeof d, &n, "Zm\0v", 4), "embedded NUL accepted");
    /* Output capacity: exact fits, one less is refused. */
    cr_assert(b64_ok("Zm9vYmFy", d, 6, &n) && n == 6);
    cr_assert_not(b64_ok("Zm9vYmFy", d, 5, &n));
    cr_assert(b64_ok("Zm9vYg==", d, 4, &n) && n == 4);
    cr_assert_not(b64_ok("Zm9vYg==", d, 3, &n));
    /* Any byte that is not in the alphabet, at any position of a valid text, is refused. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char s[9];
    for (int c = 0; c < 256; c++) {
        if (c && strchr(alphabet, c)) continue;
        for (int pos = 0; pos < 8; pos++) {
            memcpy(s, "Zm9vYmFy", 9);
            s[pos] = (char)c;
            CHECK(!wn_base64_decode(d, sizeof d, &n, s, 8), "byte %d at %d accepted", c, pos);
        }
    }
}

Test(base64, round_trips_and_stray_bits)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const size_t extra[] = {255, 256, 257, 766, 767, 768, 769, 770, 1000, 4096, 100000};
    wn_test_prng_seed(4648);
    for (size_t k = 0; k <= 100 + sizeof extra / sizeof *extra; k++) {
        size_t len = k <= 100 ? k : extra[k - 101];
        uint8_t *data = malloc(len + 1), *back = malloc(len + 4);
        char *text = malloc(WN_B64_LEN(len) + 1);
        wn_test_prng_bytes(data, len);
        size_t tl = wn_base64_encode(text, data, len), n = 12345;
        CHECK(tl == WN_B64_LEN(len) && strlen(text) == tl, "length %zu: encoded length", len);
        CHECK(wn_base64_decode(back, len, &n, text, tl), "length %zu: round trip rejected", len);
        CHECK(n == len && memcmp(back, data, len) == 0, "length %zu: round trip differs", len);
        if (len) CHECK(!wn_base64_decode(back, len - 1, &n, text, tl), "length %zu: capacity ignored", len);
        CHECK(!wn_base64_decode(back, len + 4, &n, text, tl ? tl - 1 : 0) || tl == 0, "length %zu: truncated text", len);
        /* The last data character carries 4 (one byte left) or 2 (two bytes left) stray
         * bits: every character that differs only there is refused; others decode to
         * other data. */
        size_t rem = len % 3;
        if (rem) {
            size_t pos = tl - (rem == 1 ? 3 : 2);
            unsigned stray = rem == 1 ? 0x0f : 0x03;
            unsigned orig = (unsigned)(strchr(alphabet, text[pos]) - alphabet);
            for (unsigned v = 0; v < 64; v++) {
                char saved = text[pos];
                text[pos] = alphabet[v];
                int ok = wn_base64_decode(back, len + 4, &n, text, tl);
                CHECK(ok == ((v & stray) == 0), "length %zu: char %c at %zu: %d", len, alphabet[v], pos, ok);
                if (ok) CHECK((v == orig) == (memcmp(back, data, len) == 0), "length %zu: char %c", len, alphabet[v]);
                text[pos] = saved;
            }
        }
        /* Whitespace inside a long text is refused too. */
        if (tl >= 8) {
            char saved = text[tl / 2];
            text[tl / 2] = '\n';
            CHECK(!wn_base64_decode(back, len + 4, &n, text, tl), "length %zu: newline accepted", len);
            text[tl / 2] = saved;
        }
        free(data);
        free(back);
        free(text);
    }
}

/* ---------- SHA-256 ---------- */

Test(sha256, known_answers)
{
    uint8_t got[32], want[32];
    wn_sha256(got, "", 0);
    unhex(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(\"\")");
    wn_sha256(got, NULL, 0);
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(NULL, 0)");
    wn_sha256(got, "abc", 3);
    unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(\"abc\")");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    wn_sha256(got, m448, strlen(m448));
    unhex(want, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(448-bit message)");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    wn_sha256(got, m896, strlen(m896));
    unhex(want, 32, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(896-bit message)");

    /* One million 'a' through the incremental API, in uneven pieces. */
    static char block[1000];
    memset(block, 'a', sizeof block);
    wn_sha256_ctx c;
    wn_sha256_init(&c);
    size_t fed = 0, step = 1;
    while (fed < 1000000) {
        size_t take = step % 1000;
        if (take > 1000000 - fed) take = 1000000 - fed;
        wn_sha256_update(&c, block, take);
        fed += take;
        step = step * 7 + 3;
    }
    wn_sha256_update(&c, NULL, 0);
    wn_sha256_final(&c, got);
    unhex(want, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    cr_assert(memcmp(got, want, 32) == 0, "SHA-256(10^6 x 'a')");
}

Test(sha256, incremental_and_two_part_agree)
{
    uint8_t data[300], one[32], inc[32], two[32];
    wn_test_prng_seed(256);
    wn_test_prng_bytes(data, sizeof data);
    for (size_t len = 0; len <= sizeof data; len += (len < 130 ? 1 : 17)) {
        wn_sha256(one, data, len);
        for (size_t cut = 0; cut <= len; cut += (len < 70 ? 1 : 13)) {
            wn_sha256_ctx c;
            wn_sha256_init(&c);
            wn_sha256_update(&c, data, cut);
            wn_sha256_update(&c, data + cut, len - cut);
            wn_sha256_final(&c, inc);
            wn_sha256_2(two, data, cut, data + cut, len - cut);
            CHECK(memcmp(one, inc, 32) == 0, "incremental %zu/%zu", cut, len);
            CHECK(memcmp(one, two, 32) == 0, "two-part %zu/%zu", cut, len);
        }
    }
}

/* ---------- key files ---------- */

static char *g_dir;

static void keydir_setup(void) { g_dir = wn_test_tmpdir("keyfile"); }
static void keydir_teardown(void) { wn_test_rmtree(g_dir); free(g_dir); }

static char *kpath(const char *name)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", g_dir, name);
    return p;
}

static void write_raw(const char *path, const char *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

Test(keyfile, create_read_and_no_overwrite, .init = keydir_setup, .fini = keydir_teardown)
{
    char *p = kpath("notary.key");
    uint8_t sk[32], xonly[32], back[32], x2[32];
    mode_t old = umask(0); /* the file must be 0600 by itself, not thanks to the umask */
    cr_assert(wn_keyfile_create(p, sk, xonly));
    umask(old);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", (unsigned)(st.st_mode & 07777));
    cr_assert(S_ISREG(st.st_mode));
    /* 64 lowercase hex characters and a newline. */
    size_t len;
    char *text = wn_test_read_file(p, &len);
    cr_assert_eq(len, 65);
    cr_assert_eq(text[64], '\n');
    char hex[65];
    wn_hex_encode(hex, sk, 32);
    cr_assert(memcmp(text, hex, 64) == 0);
    cr_assert(wn_seckey_xonly(x2, sk));
    cr_assert(memcmp(x2, xonly, 32) == 0);
    cr_assert(wn_keyfile_read(p, back));
    cr_assert(memcmp(back, sk, 32) == 0);
    /* Never overwrite: create and write both fail with EEXIST and leave the file as it was. */
    uint8_t sk2[32];
    errno = 0;
    cr_assert_not(wn_keyfile_create(p, sk2, NULL));
    cr_assert_eq(errno, EEXIST);
    errno = 0;
    cr_assert_not(wn_keyfile_write(p, sk2));
    cr_assert_eq(errno, EEXIST);
    char *again = wn_test_read_file(p, &len);
    cr_assert_eq(len, 65);
    cr_assert(memcmp(again, text, 65) == 0, "existing key file changed");
    /* Create may be given NULL outputs. */
    char *p2 = kpath("other.key");
    cr_assert(wn_keyfile_create(p2, NULL, NULL));
    cr_assert(wn_keyfile_read(p2, back));
    cr_assert(memcmp(back, sk, 32) != 0, "two generated keys are equal");
    /* A given key written and read back. */
    char *p3 = kpath("given.key");
    uint8_t given[32];
    unhex(given, 32, "0000000000000000000000000000000000000000000000000000000000000003");
    cr_assert(wn_keyfile_write(p3, given));
    cr_assert(wn_keyfile_read(p3, back));
    cr_assert(memcmp(back, given, 32) == 0);
    free(text); free(again); free(p); free(p2); free(p3);
}

Test(keyfile, refuses_links_and_missing_dirs, .init = keydir_setup, .fini = keydir_teardown)
{
    char *link = kpath("link.key"), *target = kpath("target.key"), *nodir = kpath("no/such/dir.key");
    uint8_t sk[32];
    /* A dangling symlink is an existing name: the key is not written through it. */
    cr_assert_eq(symlink(target, link), 0);
    errno = 0;
    cr_assert_not(wn_keyfile_create(link, sk, NULL));
    cr_assert_eq(errno, EEXIST);
    cr_assert_neq(access(target, F_OK), 0, "key written through a symlink");
    errno = 0;
    cr_assert_not(wn_keyfile_create(nodir, sk, NULL));
    cr_assert_eq(errno, ENOENT);
    cr_assert_not(wn_keyfile_read(nodir, sk));
    cr_assert_not(wn_keyfile_read(g_dir, sk), "a directory read as a key");
    free(link); free(target); free(nodir);
}

Test(keyfile, rejects_malformed, .init = keydir_setup, .fini = keydir_teardown)
{
    const char *good = "c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b14e5c9";
    char buf[256];
    uint8_t sk[32], want[32];
    unhex(want, 32, good);
    struct { const char *what; const char *fmt; } bad[] = {
        {"empty", ""},
        {"newline only", "\n"},
        {"63 hex", "%.63s\n"},
        {"65 hex", "%s0\n"},
        {"uppercase", "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9\n"},
        {"mixed case", "C%s\n"},
        {"CRLF", "%s\r\n"},
        {"two newlines", "%s\n\n"},
        {"trailing space", "%s \n"},
        {"leading space", " %s\n"},
        {"second line", "%s\n%s\n"},
        {"non-hex", "g90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b14e5c9\n"},
        {"0x prefix", "0x%.62s\n"},
        {"zero key", "0000000000000000000000000000000000000000000000000000000000000000\n"},
        {"group order", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141\n"},
        {"above order", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"},
        {"NUL inside", "c90fdaa22168c234c4c6628b80dc1cd1\0" "29024e088a67cc74020bbea63b14e5c9\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.key", i);
        char *p = kpath(name);
        size_t len;
        if (strcmp(bad[i].what, "mixed case") == 0) len = (size_t)snprintf(buf, sizeof buf, bad[i].fmt, good + 1);
        else if (strcmp(bad[i].what, "second line") == 0) len = (size_t)snprintf(buf, sizeof buf, bad[i].fmt, good, good);
        else if (strcmp(bad[i].what, "NUL inside") == 0) { memcpy(buf, bad[i].fmt, 66); len = 66; }
        else len = (size_t)snprintf(buf, sizeof buf, bad[i].fmt, good);
        write_raw(p, buf, len);
        errno = 0;
        cr_assert_not(wn_keyfile_read(p, sk), "%s accepted", bad[i].what);
        cr_assert_eq(errno, EINVAL, "%s: errno %d", bad[i].what, errno);
        free(p);
    }
    /* The good form, and (deliberately tolerated) the same without its final newline:
     * the key is unambiguous and editors often drop the newline. */
    char *p = kpath("good.key");
    snprintf(buf, sizeof buf, "%s\n", good);
    write_raw(p, buf, 65);
    cr_assert(wn_keyfile_read(p, sk));
    cr_assert(memcmp(sk, want, 32) == 0);
    char *q = kpath("nonl.key");
    write_raw(q, good, 64);
    cr_assert(wn_keyfile_read(q, sk));
    cr_assert(memcmp(sk, want, 32) == 0);
    free(p); free(q);
}

/* ---------- receipts ---------- */

static void make_receipt(wn_receipt *r, uint8_t sk[32], uint8_t xonly[32])
{
    wn_test_prng_seed(6);
    wn_test_prng_bytes(sk, 32);
    cr_assert(wn_seckey_xonly(xonly, sk));
    memset(r, 0, sizeof *r);
    r->index = 42;
    for (int i = 0; i < 32; i++) r->leaf[i] = (uint8_t)(0xa0 + i);
    r->time_ms = 1795461458123ULL; /* 2026-11-23T19:17:38.123Z */
    cr_assert(wn_receipt_sign(r, sk));
}

Test(receipt, layout_sign_verify)
{
    wn_receipt r, d;
    uint8_t sk[32], xonly[32], enc[WN_RECEIPT_LEN], digest[32];
    make_receipt(&r, sk, xonly);
    cr_assert(wn_receipt_verify(&r, xonly));
    wn_receipt_encode(&r, enc);
    /* PROTOCOL §6, built here byte by byte. */
    uint8_t want[49] = {0x01, 0, 0, 0, 0, 0, 0, 0, 42};
    for (int i = 0; i < 32; i++) want[9 + i] = (uint8_t)(0xa0 + i);
    const uint8_t t[8] = {0x00, 0x00, 0x01, 0xa2, 0x09, 0xd7, 0xa8, 0xcb}; /* 1795461458123 */
    memcpy(want + 41, t, 8);
    cr_assert(memcmp(enc, want, 49) == 0, "receipt layout differs from PROTOCOL §6");
    cr_assert(memcmp(enc + 49, r.sig, 64) == 0);
    /* The signature is BIP-340 over tagged_hash("WaterNotary/receipt/v1", bytes[0..49)). */
    wn_tagged_hash(digest, "WaterNotary/receipt/v1", enc, 49);
    cr_assert(wn_schnorr_verify(r.sig, digest, xonly));
    cr_assert(wn_receipt_decode(&d, enc, sizeof enc));
    cr_assert(d.index == r.index && d.time_ms == r.time_ms && memcmp(d.leaf, r.leaf, 32) == 0 &&
              memcmp(d.sig, r.sig, 64) == 0);
    cr_assert(wn_receipt_verify(&d, xonly));
    /* Wrong length or version. */
    cr_assert_not(wn_receipt_decode(&d, enc, sizeof enc - 1));
    uint8_t longer[WN_RECEIPT_LEN + 1];
    memcpy(longer, enc, sizeof enc);
    longer[WN_RECEIPT_LEN] = 0;
    cr_assert_not(wn_receipt_decode(&d, longer, sizeof longer));
    cr_assert_not(wn_receipt_decode(&d, enc, 0));
    /* Another key, or a signature made under another tag, does not verify. */
    uint8_t sk2[32], x2[32];
    cr_assert(wn_seckey_generate(sk2));
    cr_assert(wn_seckey_xonly(x2, sk2));
    cr_assert_not(wn_receipt_verify(&r, x2), "verified with the wrong key");
    wn_receipt o = r;
    cr_assert(wn_sign_tagged(o.sig, sk, WN_TAG_CHECKPOINT, enc, 49));
    cr_assert_not(wn_receipt_verify(&o, xonly), "a checkpoint-tagged signature verified as a receipt");
}

Test(receipt, every_byte_tampered)
{
    wn_receipt r, d;
    uint8_t sk[32], xonly[32], enc[WN_RECEIPT_LEN], t[WN_RECEIPT_LEN];
    make_receipt(&r, sk, xonly);
    wn_receipt_encode(&r, enc);
    size_t cases = 0;
    for (size_t i = 0; i < WN_RECEIPT_LEN; i++)
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(t, enc, sizeof t);
            t[i] ^= (uint8_t)(1u << bit);
            /* Byte 0 is the version: decoding refuses it. Every other change decodes but
             * no longer verifies. */
            int dec = wn_receipt_decode(&d, t, sizeof t);
            CHECK(dec == (i != 0), "byte %zu bit %u: decode %d", i, bit, dec);
            if (dec) CHECK(!wn_receipt_verify(&d, xonly), "byte %zu bit %u: tampered receipt verified", i, bit);
            cases++;
        }
    cr_assert_eq(cases, 8 * WN_RECEIPT_LEN);
}

Test(receipt, json_round_trip_and_strictness)
{
    wn_receipt r, d;
    uint8_t sk[32], xonly[32];
    make_receipt(&r, sk, xonly);
    char js[WN_RECEIPT_JSON_MAX], sig[129];
    size_t n = wn_receipt_to_json(&r, js, sizeof js);
    cr_assert_gt(n, 0);
    cr_assert_eq(n, strlen(js));
    wn_hex_encode(sig, r.sig, 64);
    char want[WN_RECEIPT_JSON_MAX];
    snprintf(want, sizeof want,
             "{\"index\":42,\"leaf\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\","
             "\"time\":\"2026-11-23T19:17:38.123Z\",\"sig\":\"%s\"}", sig);
    cr_assert_str_eq(js, want);
    cr_assert_eq(wn_receipt_to_json(&r, js, n), 0, "cap without room for the NUL accepted");
    cr_assert_eq(wn_receipt_to_json(&r, js, sizeof js), n);
    cJSON *o = cJSON_Parse(js);
    cr_assert(wn_receipt_from_cjson(&d, o));
    cJSON_Delete(o);
    cr_assert(d.index == r.index && d.time_ms == r.time_ms && memcmp(d.leaf, r.leaf, 32) == 0 &&
              memcmp(d.sig, r.sig, 64) == 0);
    cr_assert(wn_receipt_verify(&d, xonly));
    /* The largest index JSON carries exactly. */
    r.index = 9007199254740991ULL;
    cr_assert(wn_receipt_sign(&r, sk));
    n = wn_receipt_to_json(&r, js, sizeof js);
    o = cJSON_Parse(js);
    cr_assert(wn_receipt_from_cjson(&d, o));
    cJSON_Delete(o);
    cr_assert_eq(d.index, r.index);
    cr_assert(wn_receipt_verify(&d, xonly));

    const char *leaf = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
    const char *time = "2026-11-23T19:17:38.123Z";
    struct { const char *what; char text[512]; } bad[16];
    size_t nb = 0;
#define BAD(w, ...) do { bad[nb].what = w; snprintf(bad[nb].text, sizeof bad[nb].text, __VA_ARGS__); nb++; } while (0)
    BAD("missing sig", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"%s\"}", leaf, time);
    BAD("extra field", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\",\"x\":1}", leaf, time, sig);
    BAD("renamed field", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"%s\",\"sgn\":\"%s\"}", leaf, time, sig);
    BAD("negative index", "{\"index\":-1,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf, time, sig);
    BAD("fractional index", "{\"index\":1.5,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf, time, sig);
    BAD("index 2^53", "{\"index\":9007199254740992,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf, time, sig);
    BAD("string index", "{\"index\":\"1\",\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf, time, sig);
    BAD("uppercase leaf", "{\"index\":1,\"leaf\":\"A0%s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf + 2, time, sig);
    BAD("short leaf", "{\"index\":1,\"leaf\":\"%.62s\",\"time\":\"%s\",\"sig\":\"%s\"}", leaf, time, sig);
    BAD("short sig", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"%s\",\"sig\":\"%.126s\"}", leaf, time, sig);
    BAD("time without ms", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"2026-11-23T19:17:38Z\",\"sig\":\"%s\"}", leaf, sig);
    BAD("time with offset", "{\"index\":1,\"leaf\":\"%s\",\"time\":\"2026-11-23T19:17:38.123+00:00\",\"sig\":\"%s\"}", leaf, sig);
    BAD("time as number", "{\"index\":1,\"leaf\":\"%s\",\"time\":1795461458123,\"sig\":\"%s\"}", leaf, sig);
    BAD("not an object", "[1,2,3,4]");
    for (size_t i = 0; i < nb; i++) {
        o = cJSON_Parse(bad[i].text);
        cr_assert(o != NULL, "%s: test JSON does not parse", bad[i].what);
        cr_assert_not(wn_receipt_from_cjson(&d, o), "%s accepted", bad[i].what);
        cJSON_Delete(o);
    }
}

Test(receipt, reading_leaf_hash)
{
    uint8_t reading[200], got[32], want[32], buf[202];
    wn_test_prng_seed(11);
    wn_test_prng_bytes(reading, sizeof reading);
    wn_reading_leaf_hash(got, reading, sizeof reading);
    buf[0] = 0x00; /* RFC 6962 leaf prefix */
    buf[1] = 0x01; /* entry type: reading */
    memcpy(buf + 2, reading, sizeof reading);
    wn_sha256(want, buf, sizeof buf);
    cr_assert(memcmp(got, want, 32) == 0);
}

/* ---------- ECDSA ---------- */

struct ecdsa_kat { const char *seckey, *msg, *sig; };

/* RFC 6979 deterministic ECDSA over SHA-256(msg), low-S normalised: the widely published
 * secp256k1 vectors, recomputed with an independent implementation (OpenSSL via Python). */
static const struct ecdsa_kat k_ecdsa[] = {
    {"0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
     "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
     "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"},
    {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
     "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0"
     "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5"},
    {"0000000000000000000000000000000000000000000000000000000000000001",
     "All those moments will be lost in time, like tears in rain. Time to die...",
     "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b"
     "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21"},
};

Test(ecdsa, rfc6979_known_answers)
{
    for (size_t i = 0; i < sizeof k_ecdsa / sizeof *k_ecdsa; i++) {
        uint8_t sk[32], d[32], sig[64], want[64], pub[33];
        unhex(sk, 32, k_ecdsa[i].seckey);
        unhex(want, 64, k_ecdsa[i].sig);
        wn_sha256(d, k_ecdsa[i].msg, strlen(k_ecdsa[i].msg));
        cr_assert(wn_ecdsa_sign(sig, sk, d));
        cr_assert(memcmp(sig, want, 64) == 0, "vector %zu: signature differs", i);
        cr_assert(wn_seckey_pub33(pub, sk));
        cr_assert(wn_ecdsa_verify(sig, d, pub, 33));
    }
}

Test(ecdsa, round_trip_low_s_and_rejections)
{
    uint8_t half[32], order[32];
    unhex(half, 32, "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
    unhex(order, 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    wn_test_prng_seed(2);
    for (int k = 0; k < 100; k++) {
        uint8_t sk[32], d[32], sig[64], sig2[64], pub33[33], pub65[65], other[33];
        cr_assert(wn_seckey_generate(sk));
        cr_assert(wn_seckey_pub33(pub33, sk));
        cr_assert(pub33[0] == 0x02 || pub33[0] == 0x03);
        secp256k1_pubkey pk;
        size_t l = 65;
        cr_assert(secp256k1_ec_pubkey_parse(ctx, &pk, pub33, 33));
        cr_assert(secp256k1_ec_pubkey_serialize(ctx, pub65, &l, &pk, SECP256K1_EC_UNCOMPRESSED));
        wn_test_prng_bytes(d, 32);
        cr_assert(wn_ecdsa_sign(sig, sk, d));
        cr_assert(wn_ecdsa_sign(sig2, sk, d));
        CHECK(memcmp(sig, sig2, 64) == 0, "RFC 6979 signing is not deterministic");
        CHECK(memcmp(sig + 32, half, 32) <= 0, "signature %d is high-S", k);
        CHECK(wn_ecdsa_verify(sig, d, pub33, 33), "round trip %d (33-byte key)", k);
        CHECK(wn_ecdsa_verify(sig, d, pub65, 65), "round trip %d (65-byte key)", k);
        /* The high-S twin (r, n - s) is mathematically valid and must be refused. */
        uint8_t hi[64];
        memcpy(hi, sig, 32);
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            int v = order[i] - sig[32 + i] - borrow;
            borrow = v < 0;
            hi[32 + i] = (uint8_t)(v + (borrow ? 256 : 0));
        }
        CHECK(!wn_ecdsa_verify(hi, d, pub33, 33), "high-S twin accepted");
        /* Any bit of signature or digest, another key, a malformed key. */
        for (unsigned b = 0; b < 512; b += 7) {
            memcpy(sig2, sig, 64);
            sig2[b / 8] ^= (uint8_t)(1u << (b % 8));
            CHECK(!wn_ecdsa_verify(sig2, d, pub33, 33), "sig bit %u accepted", b);
        }
        uint8_t d2[32];
        memcpy(d2, d, 32);
        d2[k % 32] ^= 0x10;
        CHECK(!wn_ecdsa_verify(sig, d2, pub33, 33), "other digest accepted");
        uint8_t sk2[32];
        cr_assert(wn_seckey_generate(sk2));
        cr_assert(wn_seckey_pub33(other, sk2));
        CHECK(!wn_ecdsa_verify(sig, d, other, 33), "other key accepted");
        memcpy(other, pub33, 33);
        other[0] ^= 0x01; /* the point with the other y */
        CHECK(!wn_ecdsa_verify(sig, d, other, 33), "negated key accepted");
        CHECK(!wn_ecdsa_verify(sig, d, pub33, 32), "32-byte key accepted");
        CHECK(!wn_ecdsa_verify(sig, d, pub65, 64), "64-byte key accepted");
        other[0] = 0x04;
        CHECK(!wn_ecdsa_verify(sig, d, other, 33), "0x04 prefix with 33 bytes accepted");
    }
    /* r or s zero, or not below the order. */
    uint8_t sk[32], d[32], pub[33], sig[64];
    cr_assert(wn_seckey_generate(sk));
    cr_assert(wn_seckey_pub33(pub, sk));
    wn_sha256(d, "m", 1);
    cr_assert(wn_ecdsa_sign(sig, sk, d));
    uint8_t z[64];
    memcpy(z, sig, 64);
    memset(z, 0, 32);
    cr_assert_not(wn_ecdsa_verify(z, d, pub, 33));
    memcpy(z, sig, 64);
    memset(z + 32, 0, 32);
    cr_assert_not(wn_ecdsa_verify(z, d, pub, 33));
    memcpy(z, order, 32);
    memcpy(z + 32, sig + 32, 32);
    cr_assert_not(wn_ecdsa_verify(z, d, pub, 33));
    /* Invalid secret keys cannot sign. */
    uint8_t zero[32] = {0};
    cr_assert_not(wn_ecdsa_sign(sig, zero, d));
    cr_assert_not(wn_ecdsa_sign(sig, order, d));
    cr_assert_not(wn_seckey_pub33(pub, zero));
    secp256k1_context_destroy(ctx);
}

Test(decimal, strict_u64)
{
    uint64_t v = 7;
    cr_assert(wn_decimal_u64("0", 1, &v) && v == 0);
    cr_assert(wn_decimal_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
    cr_assert(wn_decimal_u64("1234", 4, &v) && v == 1234);
    cr_assert(wn_decimal_u64("12345", 2, &v) && v == 12, "only the given length is read");
    const char *bad[] = {"", "01", "00", "-1", "+1", "1a", " 1", "1 ", "18446744073709551616",
                         "99999999999999999999", "123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!wn_decimal_u64(bad[i], strlen(bad[i]), &v), "accepted '%s'", bad[i]);
}

Test(receipt, deterministic_and_signer_matches_key)
{
    uint8_t sk[32], pk[32];
    cr_assert(wn_seckey_generate(sk) && wn_seckey_xonly(pk, sk));
    wn_receipt a = {.index = 77, .time_ms = 1763900000123ULL}, b;
    memset(a.leaf, 0x5a, 32);
    b = a;
    cr_assert(wn_receipt_sign(&a, sk));
    wn_signer s;
    cr_assert(wn_signer_init(&s, sk));
    cr_assert(wn_receipt_sign_with(&b, &s));
    cr_assert(memcmp(a.sig, b.sig, 64) == 0, "the same receipt signed twice must give the same bytes");
    cr_assert(wn_receipt_verify(&b, pk));
    b.time_ms++;
    cr_assert(wn_receipt_sign_with(&b, &s));
    cr_assert(memcmp(a.sig, b.sig, 64) != 0);
    uint8_t d[32] = {1}, sig[64];
    cr_assert(wn_signer_sign(&s, sig, d, NULL) && wn_schnorr_verify(sig, d, pk));
    wn_signer_clear(&s);
    uint8_t zero[sizeof s.opaque] = {0};
    cr_assert(memcmp(s.opaque, zero, sizeof zero) == 0);
}
