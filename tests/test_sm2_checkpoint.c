/* test_sm2_checkpoint.c — the notary's SM2 co-signature of checkpoints (PROTOCOL §4,
 * ledger/tlog/checkpoint_sm2.h): round trip, tampering, a wrong key, a missing line when
 * required; the signature and the key id cross-checked with the openssl command line from
 * the bytes PROTOCOL names (SM3 by `openssl dgst -sm3`, SM2 by `openssl pkeyutl` with
 * distid); and a real wn-node with --notary-sm2-key, checked by wn checkpoint, wn verify
 * (checkpoint, bundle, proofs) and wn consistency with --notary-sm2-pub, and its key file
 * never silently replaced. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "crypto/keyfile.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/checkpoint_sm2.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

/* ---- helpers ---- */

static void make_note(char *note, size_t cap, size_t *len, const uint8_t bip_sk[32], uint64_t size)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "waternotary/test-sm2");
    cp.size = size;
    for (int i = 0; i < 32; i++) cp.root[i] = (uint8_t)(i * 7 + size);
    cr_assert_eq(wn_checkpoint_sign(&cp, bip_sk, note, cap, len), WN_CHECKPOINT_OK);
}

static void keys(uint8_t bip_sk[32], uint8_t bip_pk[32], uint8_t sm2_sk[32], uint8_t sm2_pub[33])
{
    cr_assert(wn_seckey_generate(bip_sk));
    cr_assert(wn_seckey_xonly(bip_pk, bip_sk));
    cr_assert(wn_sm2_seckey_generate(sm2_sk));
    cr_assert(wn_sm2_pub33(sm2_pub, sm2_sk));
}

/* The position of the last signature line (the SM2 one after cosigning). */
static char *last_line(char *note, size_t len)
{
    char *p = note + len - 1; /* the final '\n' */
    while (p > note && p[-1] != '\n') p--;
    return p;
}

/* ---- the library ---- */

Test(sm2_checkpoint, round_trip)
{
    uint8_t bsk[32], bpk[32], ssk[32], spub[33];
    keys(bsk, bpk, ssk, spub);
    char note[WN_CHECKPOINT_MAX + 1], co[WN_CHECKPOINT_MAX + 1];
    size_t len, colen;
    make_note(note, sizeof note, &len, bsk, 42);
    /* Without the line: the BIP-340 signature verifies, the SM2 check finds no line. */
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, bpk, NULL), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(note, len, spub), WN_CHECKPOINT_ENOSIG);
    cr_assert(strstr(wn_checkpoint_sm2_strerror(WN_CHECKPOINT_ENOSIG), "SM2"));

    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co, sizeof co, &colen), WN_CHECKPOINT_OK);
    cr_assert_eq(colen, strlen(co));
    /* The original note is a prefix: one line was added, of the form "— origin base64". */
    cr_assert(colen > len && memcmp(co, note, len) == 0);
    cr_assert(strncmp(co + len, "\xe2\x80\x94 waternotary/test-sm2 ", 4 + 21) == 0);
    cr_assert_eq(colen - len, 4 + 21 + WN_B64_LEN(68) + 1);
    /* Both verify; a BIP-340 verifier ignores the SM2 line (signed-note: unknown key). */
    cr_assert_eq(wn_checkpoint_verify(co, colen, NULL, bpk, NULL), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(co, colen, spub), WN_CHECKPOINT_OK);
    /* The line's key id is the documented one, the signature an SM2 signature of M. */
    uint8_t blob[68], id[4], m[32];
    size_t bl;
    char *l = last_line(co, colen);
    const char *b64 = strrchr(l, ' ') + 1;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, b64, (size_t)(co + colen - 1 - b64)));
    cr_assert_eq(bl, 68);
    wn_note_sm2_keyid(id, "waternotary/test-sm2", spub);
    cr_assert(memcmp(blob, id, 4) == 0);
    cr_assert_eq(wn_checkpoint_sm2_message(m, co, colen), WN_CHECKPOINT_OK);
    uint8_t m2[32];
    size_t text_len = (size_t)(strstr(note, "\n\n") - note) + 1;
    cr_assert(wn_sm3_tagged(m2, "WaterNotary/checkpoint/v1", note, text_len));
    cr_assert(memcmp(m, m2, 32) == 0, "M is the SM3 tagged hash of the note text");
    cr_assert(wn_sm2_verify(blob + 4, spub, "1234567812345678", m, 32));
    cr_assert(!wn_sm2_verify(blob + 4, spub, "another-id", m, 32), "the distinguishing id is part of what is signed");
}

Test(sm2_checkpoint, tampered_note)
{
    uint8_t bsk[32], bpk[32], ssk[32], spub[33];
    keys(bsk, bpk, ssk, spub);
    char note[WN_CHECKPOINT_MAX + 1], co[WN_CHECKPOINT_MAX + 1];
    size_t len, colen;
    make_note(note, sizeof note, &len, bsk, 1234);
    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co, sizeof co, &colen), WN_CHECKPOINT_OK);

    /* Another tree size in the text: both signatures fail. */
    char t[WN_CHECKPOINT_MAX + 1];
    memcpy(t, co, colen + 1);
    char *sz = strchr(t, '\n') + 1;
    cr_assert_eq(sz[0], '1');
    sz[0] = '9';
    cr_assert_eq(wn_checkpoint_verify_sm2(t, colen, spub), WN_CHECKPOINT_ESIG);
    cr_assert_eq(wn_checkpoint_verify(t, colen, NULL, bpk, NULL), WN_CHECKPOINT_ESIG);

    /* One bit of the SM2 signature (s): the SM2 check fails, the BIP-340 one does not. */
    memcpy(t, co, colen + 1);
    char *l = last_line(t, colen);
    char *b64 = strrchr(l, ' ') + 1;
    uint8_t blob[68];
    size_t bl;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, b64, (size_t)(t + colen - 1 - b64)));
    blob[60] ^= 1;
    wn_base64_encode(b64, blob, sizeof blob);
    b64[WN_B64_LEN(68)] = '\n';
    cr_assert_eq(wn_checkpoint_verify_sm2(t, colen, spub), WN_CHECKPOINT_ESIG);
    cr_assert_eq(wn_checkpoint_verify(t, colen, NULL, bpk, NULL), WN_CHECKPOINT_OK);

    /* The right key id with a short signature is not skipped: it is a bad signature. */
    memcpy(t, co, colen + 1);
    l = last_line(t, colen);
    b64 = strrchr(l, ' ') + 1;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, b64, (size_t)(t + colen - 1 - b64)));
    char shortb[WN_B64_LEN(40) + 1];
    wn_base64_encode(shortb, blob, 40);
    size_t keep = (size_t)(b64 - t);
    int n = snprintf(t + keep, sizeof t - keep, "%s\n", shortb);
    cr_assert_eq(wn_checkpoint_verify_sm2(t, keep + (size_t)n, spub), WN_CHECKPOINT_ESIG);

    /* The SM2 line moved under another key name: not the notary's line. */
    memcpy(t, co, colen + 1);
    l = last_line(t, colen);
    char moved[WN_CHECKPOINT_MAX + 1];
    n = snprintf(moved, sizeof moved, "%.*s\xe2\x80\x94 other-name %s", (int)(l - t), t, strrchr(l, ' ') + 1);
    cr_assert_eq(wn_checkpoint_verify_sm2(moved, (size_t)n, spub), WN_CHECKPOINT_ENOSIG);
}

Test(sm2_checkpoint, wrong_key_and_missing_line)
{
    uint8_t bsk[32], bpk[32], ssk[32], spub[33], osk[32], opub[33];
    keys(bsk, bpk, ssk, spub);
    cr_assert(wn_sm2_seckey_generate(osk) && wn_sm2_pub33(opub, osk));
    char note[WN_CHECKPOINT_MAX + 1], co[WN_CHECKPOINT_MAX + 1], co2[WN_CHECKPOINT_MAX + 1];
    size_t len, colen, co2len;
    make_note(note, sizeof note, &len, bsk, 7);
    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co, sizeof co, &colen), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(co, colen, opub), WN_CHECKPOINT_ENOSIG, "another SM2 key has no line");
    /* A line by another key beside the right one is ignored; alone it is not enough. */
    cr_assert_eq(wn_checkpoint_cosign_sm2(co, colen, osk, co2, sizeof co2, &co2len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(co2, co2len, spub), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(co2, co2len, opub), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify(co2, co2len, NULL, bpk, NULL), WN_CHECKPOINT_OK);
    /* The other key's signature put under our key id does not verify. */
    char t[WN_CHECKPOINT_MAX + 1];
    memcpy(t, co2, co2len + 1);
    char *l = last_line(t, co2len);
    char *b64 = strrchr(l, ' ') + 1;
    uint8_t blob[68], id[4];
    size_t bl;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, b64, (size_t)(t + co2len - 1 - b64)));
    wn_note_sm2_keyid(id, "waternotary/test-sm2", spub);
    memcpy(blob, id, 4);
    wn_base64_encode(b64, blob, sizeof blob);
    b64[WN_B64_LEN(68)] = '\n';
    cr_assert_eq(wn_checkpoint_verify_sm2(t, co2len, spub), WN_CHECKPOINT_ESIG);
    /* A malformed note is a format error, not a missing line. */
    cr_assert_eq(wn_checkpoint_verify_sm2(co, colen - 1, spub), WN_CHECKPOINT_EFORMAT);
    cr_assert_eq(wn_checkpoint_cosign_sm2(co, colen - 1, ssk, co2, sizeof co2, &co2len), WN_CHECKPOINT_EFORMAT);
    /* No room: refused, not cut. */
    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co2, len + 10, &co2len), WN_CHECKPOINT_ESPACE);
}

Test(sm2_checkpoint, longest_origin_fits_with_both_lines)
{
    uint8_t bsk[32], bpk[32], ssk[32], spub[33];
    keys(bsk, bpk, ssk, spub);
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memset(cp.origin, 'o', WN_ORIGIN_MAX);
    cp.size = UINT64_MAX;
    char note[WN_CHECKPOINT_MAX + 1], co[WN_CHECKPOINT_MAX + 1];
    size_t len, colen;
    cr_assert_eq(wn_checkpoint_sign(&cp, bsk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co, sizeof co, &colen), WN_CHECKPOINT_OK);
    cr_assert(colen > 1024, "two lines of a 255-byte origin need more than the old 1024-byte cap");
    cr_assert_eq(wn_checkpoint_verify(co, colen, NULL, bpk, NULL), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_checkpoint_verify_sm2(co, colen, spub), WN_CHECKPOINT_OK);
}

/* ---- cross-check with the openssl command line ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* An SM2 key made by openssl: its PEM files and the secret scalar from `openssl pkey -text`. */
static void openssl_sm2_key(const char *dir, uint8_t sk[32], uint8_t pub33[33])
{
    cr_assert_eq(sh("cd '%s' && openssl genpkey -algorithm SM2 -out k.pem 2>/dev/null && "
                    "openssl pkey -in k.pem -pubout -out pub.pem && "
                    "openssl pkey -in k.pem -text -noout | sed -n '/^priv:/,/^pub:/p' | grep '^ ' | "
                    "tr -d ' :\\n' > priv.hex",
                    dir),
                 0);
    char path[4400];
    snprintf(path, sizeof path, "%s/priv.hex", dir);
    size_t n;
    char *hex = wn_test_read_file(path, &n);
    cr_assert(hex);
    /* openssl prints a leading 00 when the top bit is set, and fewer digits for a small key */
    char full[65] = {0};
    size_t off = n > 64 ? n - 64 : 0, pad = n < 64 ? 64 - n : 0;
    memset(full, '0', pad);
    memcpy(full + pad, hex + off, n - off);
    free(hex);
    cr_assert(wn_hex_decode(sk, 32, full, 64), "priv: %s", full);
    cr_assert(wn_sm2_pub33(pub33, sk));
}

Test(sm2_checkpoint, openssl_cross_check)
{
    char *dir = wn_test_tmpdir("sm2cp-openssl");
    uint8_t bsk[32], bpk[32], ssk[32], spub[33];
    cr_assert(wn_seckey_generate(bsk) && wn_seckey_xonly(bpk, bsk));
    openssl_sm2_key(dir, ssk, spub);
    char note[WN_CHECKPOINT_MAX + 1], co[WN_CHECKPOINT_MAX + 1];
    size_t len, colen;
    make_note(note, sizeof note, &len, bsk, 99);
    cr_assert_eq(wn_checkpoint_cosign_sm2(note, len, ssk, co, sizeof co, &colen), WN_CHECKPOINT_OK);

    /* The documented bytes: the note text (the three lines), the tag, the key id input. */
    size_t text_len = (size_t)(strstr(note, "\n\n") - note) + 1;
    char p[4400];
    snprintf(p, sizeof p, "%s/text", dir);
    write_bytes(p, note, text_len);
    snprintf(p, sizeof p, "%s/tag", dir);
    write_bytes(p, "WaterNotary/checkpoint/v1", 25);
    /* M = SM3(SM3(tag) || SM3(tag) || text), computed by openssl alone. */
    cr_assert_eq(sh("cd '%s' && openssl dgst -sm3 -binary tag > th && cat th th text > pre && "
                    "openssl dgst -sm3 -binary pre > M",
                    dir),
                 0);
    uint8_t m[32];
    cr_assert_eq(wn_checkpoint_sm2_message(m, co, colen), WN_CHECKPOINT_OK);
    snprintf(p, sizeof p, "%s/M", dir);
    size_t ml;
    char *om = wn_test_read_file(p, &ml);
    cr_assert(om && ml == 32 && memcmp(om, m, 32) == 0, "openssl's SM3 tagged hash is ours");
    free(om);

    /* Our line's signature, as DER, verifies with openssl (distid, SM3) and openssl's key. */
    char *l = last_line(co, colen);
    const char *b64 = strrchr(l, ' ') + 1;
    uint8_t blob[68], der[80];
    size_t bl, dl;
    cr_assert(wn_base64_decode(blob, sizeof blob, &bl, b64, (size_t)(co + colen - 1 - b64)) && bl == 68);
    cr_assert(wn_ec_sig_to_der(der, sizeof der, &dl, blob + 4));
    snprintf(p, sizeof p, "%s/sig.der", dir);
    write_bytes(p, der, dl);
    const char *verify = "cd '%s' && openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 "
                         "-pkeyopt distid:1234567812345678 -in %s -sigfile sig.der >/dev/null 2>&1";
    cr_assert_eq(sh(verify, dir, "M"), 0, "openssl accepts the node's SM2 co-signature");
    /* ... and refuses it for another message (the note text itself, unhashed). */
    cr_assert_neq(sh(verify, dir, "text"), 0);

    /* The key id: SHA-256(name || 0x0A || 0xff || "waternotary-sm2" || pub33)[0..4) by openssl. */
    snprintf(p, sizeof p, "%s/kid", dir);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    fputs("waternotary/test-sm2\n\xffwaternotary-sm2", f);
    fwrite(spub, 1, 33, f);
    fclose(f);
    cr_assert_eq(sh("cd '%s' && openssl dgst -sha256 -binary kid | head -c 4 > kid4", dir), 0);
    snprintf(p, sizeof p, "%s/kid4", dir);
    char *kid = wn_test_read_file(p, &ml);
    cr_assert(kid && ml == 4 && memcmp(kid, blob, 4) == 0, "the key id is the documented SHA-256 prefix");
    free(kid);

    /* The other way: openssl signs M; that line, put in the note, verifies here. */
    cr_assert_eq(sh("cd '%s' && openssl pkeyutl -sign -inkey k.pem -rawin -digest sm3 "
                    "-pkeyopt distid:1234567812345678 -in M -out osig.der",
                    dir),
                 0);
    snprintf(p, sizeof p, "%s/osig.der", dir);
    char *osig = wn_test_read_file(p, &dl);
    cr_assert(osig);
    uint8_t oblob[68];
    memcpy(oblob, blob, 4);
    cr_assert(wn_ec_sig_from_der(oblob + 4, (const uint8_t *)osig, dl));
    free(osig);
    char ob64[WN_B64_LEN(68) + 1], onote[WN_CHECKPOINT_MAX + 1];
    wn_base64_encode(ob64, oblob, sizeof oblob);
    int n = snprintf(onote, sizeof onote, "%s\xe2\x80\x94 waternotary/test-sm2 %s\n", note, ob64);
    cr_assert_eq(wn_checkpoint_verify_sm2(onote, (size_t)n, spub), WN_CHECKPOINT_OK, "openssl's signature verifies");
    /* signed under another distinguishing id, it does not */
    cr_assert_eq(sh("cd '%s' && openssl pkeyutl -sign -inkey k.pem -rawin -digest sm3 "
                    "-pkeyopt distid:another-id -in M -out osig2.der",
                    dir),
                 0);
    snprintf(p, sizeof p, "%s/osig2.der", dir);
    osig = wn_test_read_file(p, &dl);
    cr_assert(osig && wn_ec_sig_from_der(oblob + 4, (const uint8_t *)osig, dl));
    free(osig);
    wn_base64_encode(ob64, oblob, sizeof oblob);
    n = snprintf(onote, sizeof onote, "%s\xe2\x80\x94 waternotary/test-sm2 %s\n", note, ob64);
    cr_assert_eq(wn_checkpoint_verify_sm2(onote, (size_t)n, spub), WN_CHECKPOINT_ESIG);

    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(dir);
    free(dir);
}

/* ---- a real node with --notary-sm2-key, checked by the CLI ---- */

typedef struct {
    char *tmp;
    wn_test_node proc;
    wn_test_feed feed;
    char notary_hex[65], sm2_hex[67], keyfile[4400], pubfile[4400];
} fixture;

static fixture F;

static void setup(void)
{
    memset(&F, 0, sizeof F);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F.tmp = wn_test_tmpdir("sm2cp-node");
    cr_assert(F.tmp);
    wn_test_node_init(&F.proc, F.tmp);
    cr_assert(wn_test_feed_init(&F.feed, 2));
    snprintf(F.keyfile, sizeof F.keyfile, "%s/notary-sm2.key", F.tmp);
    snprintf(F.pubfile, sizeof F.pubfile, "%s/notary-sm2.pub", F.proc.data);
}

static void teardown(void)
{
    wn_test_node_stop(&F.proc, SIGKILL);
    wn_test_feed_free(&F.feed);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(F.tmp);
    free(F.tmp);
    curl_global_cleanup();
}

/* Starts the node (with --notary-sm2-key keyfile unless NULL); returns 1 if it listens. */
static int start(const char *keyfile)
{
    const char *a1[] = {"--registrar", F.feed.reg_hex, "--checkpoint-ms", "50", "--notary-sm2-key", keyfile, NULL};
    const char *a0[] = {"--registrar", F.feed.reg_hex, "--checkpoint-ms", "50", NULL};
    return wn_test_node_start(&F.proc, keyfile ? a1 : a0);
}

static cJSON *get_json(const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(F.proc.url, "GET", path, NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, (char *)r.body);
    cJSON *j = cJSON_Parse((char *)r.body);
    wn_test_resp_free(&r);
    cr_assert(j);
    return j;
}

static void save(const char *path, const char *name)
{
    wn_test_resp r;
    cr_assert(wn_test_http(F.proc.url, "GET", path, NULL, NULL, 0, &r));
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, (char *)r.body);
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", F.tmp, name);
    write_bytes(p, r.body, r.len);
    wn_test_resp_free(&r);
}

static char *tmpf(const char *name)
{
    static char p[4][4400];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 4400, "%s/%s", F.tmp, name);
    return s;
}

/* Runs wn with args; asserts the exit code and, if given, a text in its output. */
static void wn_expect(int code, const char *text, const char *const *args)
{
    wn_run_result r = wn_proc_run(F.tmp, "wn", args);
    cr_assert_eq(r.code, code, "wn %s ...: exit %d, expected %d\n%s%s", args[0], r.code, code, r.out, r.err);
    if (text) cr_assert(strstr(r.out, text) || strstr(r.err, text), "wn %s: no '%s' in\n%s%s", args[0], text, r.out, r.err);
    wn_run_result_free(&r);
}

static void node_keys(void)
{
    cJSON *j = get_json("/v1/pubkey");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "notary"), *s = cJSON_GetObjectItemCaseSensitive(j, "notary_sm2");
    cr_assert(cJSON_IsString(n));
    snprintf(F.notary_hex, sizeof F.notary_hex, "%s", n->valuestring);
    if (cJSON_IsString(s)) snprintf(F.sm2_hex, sizeof F.sm2_hex, "%s", s->valuestring);
    else cr_assert(cJSON_IsNull(s), "notary_sm2 is null without an SM2 key");
    cJSON_Delete(j);
}

Test(sm2_checkpoint_node, co_signed_checkpoints_checked_by_the_cli, .init = setup, .fini = teardown, .timeout = 120)
{
    /* The key file is created 0600 and its public key pinned in DIR/notary-sm2.pub. */
    cr_assert(start(F.keyfile), "wn-node did not start: %s", wn_test_read_file(F.proc.log, NULL));
    struct stat st;
    cr_assert_eq(stat(F.keyfile, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    uint8_t sk[32], pub[33];
    cr_assert(wn_keyfile_read(F.keyfile, sk) && wn_sm2_pub33(pub, sk));
    char hex[67];
    wn_hex_encode(hex, pub, 33);
    node_keys();
    cr_assert_str_eq(F.sm2_hex, hex, "/v1/pubkey serves the SM2 key");
    size_t pl;
    char *pin = wn_test_read_file(F.pubfile, &pl);
    cr_assert(pin && pl == 67 && memcmp(pin, hex, 66) == 0 && pin[66] == '\n');
    free(pin);

    cr_assert(wn_test_feed_enrol(&F.feed, F.proc.url), "%s", F.feed.err);
    cr_assert(wn_test_feed_readings(&F.feed, F.proc.url, 20), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(F.proc.url, F.feed.n, NULL));
    save("/v1/checkpoint", "cp1.txt");
    char *note = wn_test_read_file(tmpf("cp1.txt"), &pl);
    cr_assert(note);
    cr_assert_eq(wn_checkpoint_verify_sm2(note, pl, pub), WN_CHECKPOINT_OK, "%s", note);
    free(note);

    /* wn checkpoint: with the key (hex or the pinned file), a wrong key, no flag. */
    uint8_t osk[32], opub[33];
    cr_assert(wn_sm2_seckey_generate(osk) && wn_sm2_pub33(opub, osk));
    char other[67];
    wn_hex_encode(other, opub, 33);
    wn_expect(0, "co-signature valid",
              (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex,
                                    "--notary-sm2-pub", F.sm2_hex, NULL});
    wn_expect(0, "co-signature valid",
              (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex,
                                    "--notary-sm2-pub", F.pubfile, NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex,
                                    "--notary-sm2-pub", other, NULL});
    wn_expect(0, NULL, (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex, NULL});
    wn_expect(2, "--notary-sm2-pub must be",
              (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-sm2-pub", "02abcd", NULL});

    /* wn verify of the saved checkpoint, and of it tampered in its SM2 line only. */
    wn_expect(0, "SM2 co-sig: valid",
              (const char *const[]){"verify", tmpf("cp1.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    F.sm2_hex, NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"verify", tmpf("cp1.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    other, "--json", NULL});
    note = wn_test_read_file(tmpf("cp1.txt"), &pl);
    char *l = last_line(note, pl);
    char *b64 = strrchr(l, ' ') + 1;
    b64[10] = b64[10] == 'A' ? 'B' : 'A';
    write_bytes(tmpf("cp1-bad.txt"), note, pl);
    free(note);
    wn_expect(1, "does not verify",
              (const char *const[]){"verify", tmpf("cp1-bad.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    F.sm2_hex, NULL});
    wn_expect(0, NULL, (const char *const[]){"verify", tmpf("cp1-bad.txt"), "--notary-pub", F.notary_hex, NULL});

    /* Bundles and proof files. */
    char meter[65], path[512];
    wn_hex_encode(meter, F.feed.m[0].id, 32);
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=0&to=%llu", meter,
             (unsigned long long)time(NULL) * 1000ULL + 86400000ULL);
    save(path, "b.json");
    wn_expect(0, NULL,
              (const char *const[]){"verify", tmpf("b.json"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    F.sm2_hex, NULL});
    wn_expect(1, "checkpoint_sm2",
              (const char *const[]){"verify", tmpf("b.json"), "--notary-pub", F.notary_hex, "--notary-sm2-pub", other,
                                    "--json", NULL});
    save("/v1/proof/inclusion?index=3", "incl.txt");
    wn_expect(0, NULL,
              (const char *const[]){"verify", tmpf("incl.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    F.sm2_hex, NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"verify", tmpf("incl.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    other, NULL});

    /* More entries; consistency from the saved checkpoint, and a proof from a size no
     * checkpoint was stored for (signed on the spot, co-signed too). */
    cr_assert(wn_test_feed_readings(&F.feed, F.proc.url, 20), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(F.proc.url, F.feed.n, NULL));
    wn_expect(0, "VALID",
              (const char *const[]){"consistency", "--node", F.proc.url, "--from-checkpoint", tmpf("cp1.txt"),
                                    "--notary-pub", F.notary_hex, "--notary-sm2-pub", F.sm2_hex, NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"consistency", "--node", F.proc.url, "--from-checkpoint", tmpf("cp1.txt"),
                                    "--notary-pub", F.notary_hex, "--notary-sm2-pub", other, NULL});
    save("/v1/proof/consistency?from=3", "cons.txt");
    wn_expect(0, NULL,
              (const char *const[]){"verify", tmpf("cons.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    F.sm2_hex, NULL});
    wn_expect(1, "old checkpoint",
              (const char *const[]){"verify", tmpf("cons.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub",
                                    other, NULL});
}

Test(sm2_checkpoint_node, missing_line_refused_when_required, .init = setup, .fini = teardown, .timeout = 60)
{
    cr_assert(start(NULL), "wn-node did not start: %s", wn_test_read_file(F.proc.log, NULL));
    node_keys();
    cr_assert_str_eq(F.sm2_hex, "");
    cr_assert(wn_test_feed_enrol(&F.feed, F.proc.url), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(F.proc.url, F.feed.n, NULL));
    uint8_t osk[32], opub[33];
    cr_assert(wn_sm2_seckey_generate(osk) && wn_sm2_pub33(opub, osk));
    char other[67];
    wn_hex_encode(other, opub, 33);
    wn_expect(0, NULL, (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex, "--out",
                                             tmpf("cp.txt"), NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"checkpoint", "--node", F.proc.url, "--notary-pub", F.notary_hex,
                                    "--notary-sm2-pub", other, NULL});
    wn_expect(1, "no SM2 co-signature line",
              (const char *const[]){"verify", tmpf("cp.txt"), "--notary-pub", F.notary_hex, "--notary-sm2-pub", other,
                                    NULL});
}

Test(sm2_checkpoint_node, key_never_silently_replaced, .init = setup, .fini = teardown, .timeout = 90)
{
    cr_assert(start(F.keyfile), "wn-node did not start: %s", wn_test_read_file(F.proc.log, NULL));
    node_keys();
    char first[67];
    snprintf(first, sizeof first, "%s", F.sm2_hex);
    cr_assert(WIFEXITED(wn_test_node_stop(&F.proc, SIGTERM)));

    /* Another key file: refused, naming the pinned key. */
    uint8_t osk[32];
    cr_assert(wn_sm2_seckey_generate(osk));
    char *otherkey = tmpf("other-sm2.key");
    cr_assert(wn_keyfile_write(otherkey, osk));
    cr_assert(!start(otherkey), "a node started with another SM2 key");
    char *log = wn_test_read_file(F.proc.log, NULL);
    cr_assert(log && strstr(log, "is not the one that co-signed this log") && strstr(log, first), "%s", log);
    free(log);
    /* No --notary-sm2-key while the pin exists: refused. */
    cr_assert(!start(NULL));
    log = wn_test_read_file(F.proc.log, NULL);
    cr_assert(log && strstr(log, "no --notary-sm2-key was given"), "%s", log);
    free(log);
    /* The key file gone: not made anew. */
    char *moved = tmpf("moved.key");
    cr_assert_eq(rename(F.keyfile, moved), 0);
    cr_assert(!start(F.keyfile));
    log = wn_test_read_file(F.proc.log, NULL);
    cr_assert(log && strstr(log, "restore the key from a backup"), "%s", log);
    free(log);
    struct stat st;
    cr_assert_neq(stat(F.keyfile, &st), 0, "no new key file was created");
    /* Readable by others: refused. */
    cr_assert_eq(rename(moved, F.keyfile), 0);
    cr_assert_eq(chmod(F.keyfile, 0644), 0);
    cr_assert(!start(F.keyfile));
    cr_assert_eq(chmod(F.keyfile, 0600), 0);
    /* The right key: starts, same SM2 key. */
    cr_assert(start(F.keyfile), "%s", wn_test_read_file(F.proc.log, NULL));
    node_keys();
    cr_assert_str_eq(F.sm2_hex, first);
}
