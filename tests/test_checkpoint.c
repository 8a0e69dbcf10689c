/* test_checkpoint.c — signed checkpoints: round trips, the key id computed independently,
 * and strict rejection (every byte and line tampered, wrong and foreign keys, malformed
 * text lines, control characters, bad UTF-8) with the right error code. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"

static uint8_t sk[32], pk[32], sk2[32], pk2[32];

static void setup(void)
{
    for (int i = 0; i < 32; i++) { sk[i] = (uint8_t)(i + 1); sk2[i] = (uint8_t)(0x40 + i); }
    cr_assert(wn_seckey_xonly(pk, sk));
    cr_assert(wn_seckey_xonly(pk2, sk2));
}

TestSuite(checkpoint, .init = setup);

static wn_checkpoint sample(void)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "waternotary/0123456789abcdef");
    cp.size = 1234;
    for (int i = 0; i < 32; i++) cp.root[i] = (uint8_t)(0xa0 + i);
    return cp;
}

static size_t sign_sample(char *out, size_t cap)
{
    wn_checkpoint cp = sample();
    size_t len = 0;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, out, cap, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(len, strlen(out));
    return len;
}

/* A signature line "— name base64(keyid || sig)\n" for text, computed from first
 * principles (tagged hash and key id by hand), so the tests do not trust the code under
 * test to build what they feed it. */
static size_t sig_line(char *out, size_t cap, const char *text, size_t textlen, const char *name,
                       const uint8_t *seckey, size_t siglen)
{
    uint8_t xonly[32];
    cr_assert(wn_seckey_xonly(xonly, seckey));
    uint8_t buf[512];
    size_t nl = strlen(name);
    memcpy(buf, name, nl);
    buf[nl] = 0x0a;
    buf[nl + 1] = 0xff;
    memcpy(buf + nl + 2, "waternotary-bip340", 18);
    memcpy(buf + nl + 20, xonly, 32);
    uint8_t h[32], blob[4 + 64];
    wn_sha256(h, buf, nl + 52);
    memcpy(blob, h, 4);
    uint8_t th[32];
    wn_tagged_hash(th, "WaterNotary/checkpoint/v1", text, textlen);
    cr_assert(wn_schnorr_sign(blob + 4, seckey, th, NULL));
    char b64[WN_B64_LEN(68) + 1];
    wn_base64_encode(b64, blob, 4 + siglen);
    int n = snprintf(out, cap, "\xe2\x80\x94 %s %s\n", name, b64);
    cr_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* text + "\n" + a valid signature line by sk under name. */
static size_t note_for(char *out, size_t cap, const char *text, const char *name)
{
    size_t tl = strlen(text);
    cr_assert(tl + 1 < cap);
    memcpy(out, text, tl);
    out[tl] = '\n';
    return tl + 1 + sig_line(out + tl + 1, cap - tl - 1, text, tl, name, sk, 64);
}

static int verify(const char *note, size_t len) { return wn_checkpoint_verify(note, len, NULL, pk, NULL); }

Test(checkpoint, round_trip)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    wn_checkpoint want = sample(), got;
    memset(&got, 0x55, sizeof got);
    cr_assert_eq(wn_checkpoint_verify(note, len, want.origin, pk, &got), WN_CHECKPOINT_OK);
    cr_assert_str_eq(got.origin, want.origin);
    cr_assert_eq(got.size, want.size);
    cr_assert_arr_eq(got.root, want.root, 32);
    size_t text_len = 0;
    cr_assert_eq(wn_checkpoint_parse(note, len, &got, &text_len), WN_CHECKPOINT_OK);
    cr_assert_eq(text_len, strlen("waternotary/0123456789abcdef\n1234\n") + 45);
}

Test(checkpoint, exact_text_and_signature_line)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    wn_checkpoint cp = sample();
    char root[45], text[1024];
    wn_base64_encode(root, cp.root, 32);
    snprintf(text, sizeof text, "%s\n1234\n%s\n\n\xe2\x80\x94 %s ", cp.origin, root, cp.origin);
    cr_assert_eq(memcmp(note, text, strlen(text)), 0, "note starts differently:\n%s", note);
    /* Signature: base64 of 68 bytes = 92 chars, then the final newline. */
    cr_assert_eq(len, strlen(text) + 92 + 1);
    cr_assert_eq(note[len - 1], '\n');
    uint8_t blob[68];
    size_t bl;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, note + strlen(text), 92));
    cr_assert_eq(bl, 68);
    /* The signature is BIP-340 over the tagged hash of the three text lines. */
    uint8_t th[32];
    size_t tl = strlen(text) - strlen(cp.origin) - 6;
    wn_tagged_hash(th, "WaterNotary/checkpoint/v1", note, tl);
    cr_assert(wn_schnorr_verify(blob + 4, th, pk));
}

Test(checkpoint, keyid_known_answer)
{
    const char *name = "waternotary/0123456789abcdef";
    uint8_t buf[256];
    size_t nl = strlen(name);
    memcpy(buf, name, nl);
    buf[nl] = '\n';
    buf[nl + 1] = 0xff;
    memcpy(buf + nl + 2, "waternotary-bip340", 18);
    memcpy(buf + nl + 20, pk, 32);
    uint8_t h[32], id[4];
    wn_sha256(h, buf, nl + 52);
    wn_note_keyid(id, name, pk);
    cr_assert_arr_eq(id, h, 4);
    /* And the signature line of a signed note carries exactly this id. */
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    uint8_t blob[68];
    size_t bl;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, note + len - 93, 92));
    cr_assert_arr_eq(blob, h, 4);
    /* A different name or key gives a different id. */
    uint8_t id2[4];
    wn_note_keyid(id2, "waternotary/0123456789abcdeg", pk);
    cr_assert_arr_neq(id, id2, 4);
    wn_note_keyid(id2, name, pk2);
    cr_assert_arr_neq(id, id2, 4);
}

Test(checkpoint, size_zero_and_max)
{
    wn_checkpoint cp = sample(), got;
    char note[WN_CHECKPOINT_MAX];
    size_t len;
    cp.size = 0;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, pk, &got), WN_CHECKPOINT_OK);
    cr_assert_eq(got.size, 0);
    cr_assert(strstr(note, "\n0\n"));
    cp.size = UINT64_MAX;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, pk, &got), WN_CHECKPOINT_OK);
    cr_assert_eq(got.size, UINT64_MAX);
}

Test(checkpoint, every_byte_tampered)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            char t[WN_CHECKPOINT_MAX];
            memcpy(t, note, len);
            t[i] = (char)(t[i] ^ (1 << bit));
            int err = verify(t, len);
            cr_assert_neq(err, WN_CHECKPOINT_OK, "byte %zu bit %d flipped was accepted", i, bit);
        }
    }
}

Test(checkpoint, tampered_fields_give_right_code)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    char t[WN_CHECKPOINT_MAX];
    /* Size 1234 -> 1235: still well formed, so the signature fails. */
    memcpy(t, note, len);
    char *s = strstr(t, "\n1234\n");
    s[4] = '5';
    cr_assert_eq(verify(t, len), WN_CHECKPOINT_ESIG);
    /* One root character changed to another base64 char that keeps it canonical. */
    memcpy(t, note, len);
    s = strstr(t, "\n1234\n") + 6;
    s[0] = s[0] == 'A' ? 'B' : 'A';
    cr_assert_eq(verify(t, len), WN_CHECKPOINT_ESIG);
    /* Origin changed: the key name no longer matches any signature line. */
    memcpy(t, note, len);
    t[0] = 'X';
    cr_assert_eq(verify(t, len), WN_CHECKPOINT_ENOSIG);
    /* A signature byte changed, key id intact. */
    memcpy(t, note, len);
    t[len - 10] = t[len - 10] == 'A' ? 'B' : 'A';
    cr_assert_eq(verify(t, len), WN_CHECKPOINT_ESIG);
}

Test(checkpoint, every_line_deleted_or_duplicated)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    size_t starts[8], n = 0;
    starts[n++] = 0;
    for (size_t i = 0; i < len; i++)
        if (note[i] == '\n' && i + 1 < len) starts[n++] = i + 1;
    cr_assert_eq(n, 5);
    starts[n] = len;
    for (size_t k = 0; k < n; k++) {
        char t[2 * WN_CHECKPOINT_MAX];
        size_t ll = starts[k + 1] - starts[k];
        /* deleted */
        memcpy(t, note, starts[k]);
        memcpy(t + starts[k], note + starts[k + 1], len - starts[k + 1]);
        cr_assert_neq(verify(t, len - ll), WN_CHECKPOINT_OK, "line %zu deleted was accepted", k + 1);
        /* duplicated (a repeated signature line of ours is still a valid signature) */
        memcpy(t, note, starts[k + 1]);
        memcpy(t + starts[k + 1], note + starts[k], len - starts[k]);
        int err = verify(t, len + ll);
        if (k == 4) cr_assert_eq(err, WN_CHECKPOINT_OK);
        else cr_assert_neq(err, WN_CHECKPOINT_OK, "line %zu duplicated was accepted", k + 1);
    }
}

Test(checkpoint, wrong_key)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, pk2, NULL), WN_CHECKPOINT_ENOSIG);
}

Test(checkpoint, expected_origin)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    cr_assert_eq(wn_checkpoint_verify(note, len, "waternotary/0123456789abcdee", pk, NULL), WN_CHECKPOINT_EORIGIN);
    cr_assert_eq(wn_checkpoint_verify(note, len, "waternotary/0123456789abcdef", pk, NULL), WN_CHECKPOINT_OK);
}

Test(checkpoint, foreign_signature_lines_ignored)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    size_t text_len;
    cr_assert_eq(wn_checkpoint_parse(note, len, NULL, &text_len), WN_CHECKPOINT_OK);
    char t[2 * WN_CHECKPOINT_MAX];
    /* A witness line (other name, other key) before ours, and a line with our name but
     * another key's id after it: both ignored. */
    size_t n = text_len + 1;
    memcpy(t, note, n);
    n += sig_line(t + n, sizeof t - n, note, text_len, "witness.example/w1", sk2, 64);
    memcpy(t + n, note + text_len + 1, len - text_len - 1);
    n += len - text_len - 1;
    n += sig_line(t + n, sizeof t - n, note, text_len, "waternotary/0123456789abcdef", sk2, 64);
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_OK);
    /* And the other key verifies its own line. */
    cr_assert_eq(wn_checkpoint_verify(t, n, NULL, pk2, NULL), WN_CHECKPOINT_OK);
    /* Only foreign lines: no signature from our key. */
    n = text_len + 1;
    memcpy(t, note, n);
    n += sig_line(t + n, sizeof t - n, note, text_len, "witness.example/w1", sk2, 64);
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_ENOSIG);
}

Test(checkpoint, our_key_with_bad_blob_length)
{
    const char *text = "a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    char t[WN_CHECKPOINT_MAX];
    size_t tl = strlen(text);
    memcpy(t, text, tl);
    t[tl] = '\n';
    size_t n = tl + 1 + sig_line(t + tl + 1, sizeof t - tl - 1, text, tl, "a.example/log", sk, 63);
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_ESIG);
    /* The same text with a full signature is fine. */
    n = note_for(t, sizeof t, text, "a.example/log");
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_OK);
}

Test(checkpoint, missing_signature)
{
    const char *text = "a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    char t[WN_CHECKPOINT_MAX];
    snprintf(t, sizeof t, "%s", text);
    cr_assert_eq(verify(t, strlen(t)), WN_CHECKPOINT_EFORMAT);
    snprintf(t, sizeof t, "%s\n", text);
    cr_assert_eq(verify(t, strlen(t)), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verify(t, 0), WN_CHECKPOINT_EFORMAT);
}

/* Builds text + a valid signature by sk (key name = first line) and returns the verdict. */
static int verdict(const char *text)
{
    char name[300];
    const char *nl = strchr(text, '\n');
    size_t n = nl ? (size_t)(nl - text) : strlen(text);
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, text, n);
    name[n] = '\0';
    if (n == 0) strcpy(name, "x");
    char t[4 * WN_CHECKPOINT_MAX];
    size_t len = note_for(t, sizeof t, text, name);
    return verify(t, len);
}

#define ROOT "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

Test(checkpoint, text_lines_strict)
{
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\n"), WN_CHECKPOINT_OK);
    /* One extension line is allowed: the commit time (PROTOCOL §4); any other, or two, not. */
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\nextension\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 1765142910494\n"), WN_CHECKPOINT_OK);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 0\n"), WN_CHECKPOINT_OK);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 253402300799999\n"), WN_CHECKPOINT_OK);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 253402300800000\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 01765142910494\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time  1765142910494\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 1765142910494 \n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time -1\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time \n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\nCommit-time 1\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 2025-12-07T21:28:30.494Z\n"),
                 WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 1\ncommit-time 1\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\ncommit-time 1\nextension\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\nextension\ncommit-time 1\n"), WN_CHECKPOINT_EEXTENSION);
    cr_assert_eq(verdict("a.example/log\n5\n"), WN_CHECKPOINT_EFORMAT);
    /* Sizes. */
    cr_assert_eq(verdict("a.example/log\n0\n" ROOT "\n"), WN_CHECKPOINT_OK);
    cr_assert_eq(verdict("a.example/log\n05\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n00\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n+5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n-5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n 5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5 \n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n0x5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n18446744073709551615\n" ROOT "\n"), WN_CHECKPOINT_OK);
    cr_assert_eq(verdict("a.example/log\n18446744073709551616\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n99999999999999999999\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    /* Roots. */
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\n AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\n\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), WN_CHECKPOINT_EFORMAT);
}

Test(checkpoint, origin_rules)
{
    char text[600], origin[300];
    memset(origin, 'o', 255);
    origin[255] = '\0';
    snprintf(text, sizeof text, "%s\n5\n" ROOT "\n", origin);
    cr_assert_eq(verdict(text), WN_CHECKPOINT_OK);
    memset(origin, 'o', 256);
    origin[256] = '\0';
    snprintf(text, sizeof text, "%s\n5\n" ROOT "\n", origin);
    cr_assert_eq(verdict(text), WN_CHECKPOINT_EORIGIN);
    cr_assert_eq(verdict("\n5\n" ROOT "\n"), WN_CHECKPOINT_EORIGIN);
    cr_assert_eq(verdict("a example\n5\n" ROOT "\n"), WN_CHECKPOINT_EORIGIN);
    cr_assert_eq(verdict("a+example\n5\n" ROOT "\n"), WN_CHECKPOINT_EORIGIN);
    cr_assert_eq(verdict("a\xe3\x80\x80" "b\n5\n" ROOT "\n"), WN_CHECKPOINT_EORIGIN); /* U+3000 */
    cr_assert_eq(verdict("wasser.example/z\xc3\xbcrich\n5\n" ROOT "\n"), WN_CHECKPOINT_OK);

    /* Signing refuses what verifying would refuse. */
    wn_checkpoint cp = sample();
    char note[WN_CHECKPOINT_MAX];
    size_t len;
    memset(cp.origin, 'o', 255);
    cp.origin[255] = '\0';
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(verify(note, len), WN_CHECKPOINT_OK);
    memset(cp.origin, 'o', sizeof cp.origin); /* not NUL-terminated: too long */
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_EORIGIN);
    strcpy(cp.origin, "");
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_EORIGIN);
    strcpy(cp.origin, "two words");
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_EORIGIN);
    strcpy(cp.origin, "line\nbreak");
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_EORIGIN);
}

Test(checkpoint, control_chars_and_utf8)
{
    cr_assert_eq(verdict("a.example/log\r\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\r\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.example/log\n5\n" ROOT "\r\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.exa\tmple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.exa\x7fmple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.exa\x1bmple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.exa\xc2\x85mple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT); /* C1 NEL */
    cr_assert_eq(verdict("a.exa\xffmple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(verdict("a.exa\xc0\xafmple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT); /* overlong */
    cr_assert_eq(verdict("a.exa\xed\xa0\x80mple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT); /* surrogate */
    cr_assert_eq(verdict("a.exa\xf4\x90\x80\x80mple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT); /* > U+10FFFF */
    cr_assert_eq(verdict("a.exa\xe2\x80mple/log\n5\n" ROOT "\n"), WN_CHECKPOINT_EFORMAT); /* truncated */

    /* A NUL or CR anywhere in a signed note, including the signature line. */
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    char t[WN_CHECKPOINT_MAX + 1];
    memcpy(t, note, len);
    t[len - 1] = '\r';
    t[len] = '\n';
    cr_assert_eq(verify(t, len + 1), WN_CHECKPOINT_EFORMAT);
    memcpy(t, note, len);
    t[3] = '\0';
    cr_assert_eq(verify(t, len), WN_CHECKPOINT_EFORMAT);
    /* No final newline. */
    cr_assert_eq(verify(note, len - 1), WN_CHECKPOINT_EFORMAT);
    /* Trailing bytes after the last line. */
    memcpy(t, note, len);
    t[len] = 'x';
    cr_assert_eq(verify(t, len + 1), WN_CHECKPOINT_EFORMAT);
}

Test(checkpoint, signature_line_syntax)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    size_t text_len;
    cr_assert_eq(wn_checkpoint_parse(note, len, NULL, &text_len), WN_CHECKPOINT_OK);
    const char *bad[] = {
        "- waternotary/x AAAAAAA=\n",          /* hyphen, not an em dash */
        "\xe2\x80\x94waternotary/x AAAAAAA=\n", /* no space after the dash */
        "\xe2\x80\x94 waternotary/x\n",        /* no signature */
        "\xe2\x80\x94  AAAAAAA=\n",            /* empty name */
        "\xe2\x80\x94 waternotary/x AAAA\n",   /* 3 bytes: shorter than a key id + 1 */
        "\xe2\x80\x94 waternotary/x AAAAAA=\n",  /* not base64 */
        "\xe2\x80\x94 waternotary/x AAAAAAA= \n", /* trailing space */
        "\n",                                  /* blank line among signatures */
        "extension\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char t[2 * WN_CHECKPOINT_MAX];
        memcpy(t, note, len);
        size_t bl = strlen(bad[i]);
        memcpy(t + len, bad[i], bl);
        cr_assert_eq(verify(t, len + bl), WN_CHECKPOINT_EFORMAT, "accepted extra line %zu: %s", i, bad[i]);
    }
    /* A well-formed foreign line is fine. */
    char t[2 * WN_CHECKPOINT_MAX];
    memcpy(t, note, len);
    const char *ok = "\xe2\x80\x94 witness.example AAAAAAA=\n";
    memcpy(t + len, ok, strlen(ok));
    cr_assert_eq(verify(t, len + strlen(ok)), WN_CHECKPOINT_OK);
}

Test(checkpoint, size_limits)
{
    char note[WN_CHECKPOINT_MAX];
    size_t len = sign_sample(note, sizeof note);
    /* Pad with foreign signature lines up to the limit and one byte beyond. */
    char t[WN_CHECKPOINT_MAX + 64];
    memcpy(t, note, len);
    size_t n = len;
    const char *line = "\xe2\x80\x94 w AAAAAAA=\n"; /* 15 bytes */
    while (n + 15 <= WN_CHECKPOINT_MAX) { memcpy(t + n, line, 15); n += 15; }
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_OK);
    /* Grow the last line's name to reach exactly the maximum, then one more byte. */
    size_t pad = WN_CHECKPOINT_MAX - n;
    memmove(t + n - 11 + pad, t + n - 11, 11);
    memset(t + n - 11, 'w', pad);
    n += pad;
    cr_assert_eq(n, WN_CHECKPOINT_MAX);
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_OK);
    memmove(t + n - 10, t + n - 11, 11);
    n++;
    cr_assert_eq(verify(t, n), WN_CHECKPOINT_EFORMAT);

    /* Signing into a buffer too small. */
    wn_checkpoint cp = sample();
    size_t l2;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, len, &l2), WN_CHECKPOINT_ESPACE);
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, len + 1, &l2), WN_CHECKPOINT_OK);
}

Test(checkpoint, strerror_names_every_code)
{
    for (int e = WN_CHECKPOINT_OK; e <= WN_CHECKPOINT_ESPACE; e++) {
        const char *s = wn_checkpoint_strerror(e);
        cr_assert(s && *s);
        cr_assert_str_neq(s, wn_checkpoint_strerror(-1));
    }
}

/* The commit time round trip: signed with the line, parsed back; the signature covers it. */
Test(checkpoint, commit_time_line_round_trip_and_tamper)
{
    uint8_t sk[32], pk[32];
    cr_assert(wn_seckey_generate(sk) && wn_seckey_xonly(pk, sk));
    wn_checkpoint cp, got;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "waternotary/time");
    cp.size = 7;
    memset(cp.root, 0x5a, 32);
    cp.has_time = 1;
    cp.time_ms = 1765142910494ULL;
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert(strstr(note, "\ncommit-time 1765142910494\n\n"), "%s", note);
    cr_assert_eq(wn_checkpoint_verify(note, len, "waternotary/time", pk, &got), WN_CHECKPOINT_OK);
    cr_assert(got.has_time && got.time_ms == cp.time_ms && got.size == 7);
    /* a changed time: well-formed, but the signature no longer verifies */
    char *d = strstr(note, "commit-time ") + 12 + 12; /* the last digit */
    *d = *d == '4' ? '5' : '4';
    cr_assert_eq(wn_checkpoint_parse(note, len, &got, NULL), WN_CHECKPOINT_OK);
    cr_assert_neq(got.time_ms, cp.time_ms);
    cr_assert_eq(wn_checkpoint_verify(note, len, "waternotary/time", pk, NULL), WN_CHECKPOINT_ESIG);
    /* without the line: the three-line form, has_time 0 */
    cp.has_time = 0;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_null(strstr(note, "commit-time"));
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, pk, &got), WN_CHECKPOINT_OK);
    cr_assert_not(got.has_time);
    cp.has_time = 1;
    cp.time_ms = WN_CHECKPOINT_TIME_MAX + 1;
    cr_assert_eq(wn_checkpoint_sign(&cp, sk, note, sizeof note, &len), WN_CHECKPOINT_EEXTENSION);
}
