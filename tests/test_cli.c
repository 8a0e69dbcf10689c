/* test_cli.c — the real `wn` program (from $WN_BIN) run as a child process: exit codes,
 * keygen, the demo, proofs built from the demo's ledger and verified offline, tampered and
 * malformed files, and a ledger holding a reading with a bad signature. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = wn_test_tmpdir("cli");
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)
static char *path_in(const char *name)
{
    char *p = malloc(4200);
    snprintf(p, 4200, "%s/%s", tmp, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int is_hex64_line(const char *s)
{
    if (strlen(s) != 65 || s[64] != '\n') return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* Runs the demo in tmp/demo; Out: the notary key hex (65 bytes). */
static char *demo(unsigned meters, unsigned readings, char pub[65])
{
    char *dir = path_in("demo");
    char m[16], r[16];
    snprintf(m, sizeof m, "%u", meters);
    snprintf(r, sizeof r, "%u", readings);
    result res = wn("demo", "--dir", dir, "--meters", m, "--readings", r, NULL);
    cr_assert_eq(res.code, 0, "demo failed: %s%s", res.out, res.err);
    cr_assert(strstr(res.out, "proof verified: entry "), "%s", res.out);
    cr_assert(strstr(res.out, "verify-inclusion"), "%s", res.out);
    char pp[4300];
    snprintf(pp, sizeof pp, "%s/notary.pub", dir);
    char *p = wn_test_read_file(pp, NULL);
    cr_assert(p && is_hex64_line(p));
    memcpy(pub, p, 64);
    pub[64] = '\0';
    cr_assert(strstr(res.out, pub), "the demo prints the notary key");
    free(p);
    result_free(&res);
    return dir;
}

Test(cli, usage_and_help)
{
    result r = wn(NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "verify-inclusion"));
    result_free(&r);
    r = wn("no-such-command", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    const char *cmds[] = {"keygen", "demo", "prove", "prove-consistency", "verify-inclusion", "verify-consistency"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = wn(cmds[i], "--help", NULL);
        cr_assert_eq(r.code, 0, "%s --help", cmds[i]);
        char want[64];
        snprintf(want, sizeof want, "usage: wn %s ", cmds[i]);
        cr_assert(strstr(r.out, want), "%s --help:\n%s", cmds[i], r.out);
        cr_assert(strstr(r.out, "example"), "%s --help has no example", cmds[i]);
        cr_assert(strstr(r.out, "exit codes"), "%s --help has no exit codes", cmds[i]);
        result_free(&r);
        /* An unknown option is a usage error. */
        r = wn(cmds[i], "--bogus", NULL);
        cr_assert_eq(r.code, 2, "%s --bogus", cmds[i]);
        cr_assert(strstr(r.err, "--bogus"));
        result_free(&r);
    }
}

Test(cli, keygen)
{
    char *key = path_in("k.key");
    result r = wn("keygen", "--out", key, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(is_hex64_line(r.out), "keygen printed: %s", r.out);
    struct stat st;
    cr_assert_eq(stat(key, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    uint8_t sk[32], pk[32], printed[32];
    cr_assert(wn_keyfile_read(key, sk));
    cr_assert(wn_seckey_xonly(pk, sk));
    cr_assert(wn_hex_decode(printed, 32, r.out, 64));
    cr_assert_arr_eq(pk, printed, 32);
    char *before = wn_test_read_file(key, NULL);
    result_free(&r);

    /* Never overwrites. */
    r = wn("keygen", "--out", key, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "already exists"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
    char *after = wn_test_read_file(key, NULL);
    cr_assert_str_eq(before, after);
    result_free(&r);

    r = wn("keygen", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("keygen", "--out", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("keygen", "--out", "/nonexistent-dir/x.key", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    /* Two keys differ. */
    char *key2 = path_in("k2.key");
    r = wn("keygen", "--out", key2, NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(wn_keyfile_read(key2, sk));
    cr_assert(wn_seckey_xonly(printed, sk));
    cr_assert_arr_neq(pk, printed, 32);
    result_free(&r);
    free(before);
    free(after);
    free(key);
    free(key2);
}

Test(cli, demo_proof_verifies_and_tampering_is_caught)
{
    char pub[65];
    char *dir = demo(2, 10, pub);
    char proof[4300];
    snprintf(proof, sizeof proof, "%s/proof.tlog-proof", dir);
    result r = wn("verify-inclusion", proof, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "VALID: entry "), "%s", r.out);
    cr_assert(strstr(r.out, "tree size:   20"), "%s", r.out);
    cr_assert(strstr(r.out, "reading"), "%s", r.out);
    cr_assert(strstr(r.out, "volume:"), "%s", r.out);
    cr_assert(strstr(r.out, "signature: valid"), "%s", r.out);
    result_free(&r);
    /* Upper-case hex is accepted too. */
    char upper[65];
    for (int i = 0; i < 65; i++) upper[i] = (char)(pub[i] >= 'a' && pub[i] <= 'f' ? pub[i] - 32 : pub[i]);
    r = wn("verify-inclusion", proof, "--notary-pub", upper, NULL);
    cr_assert_eq(r.code, 0);
    result_free(&r);

    /* Another notary key: invalid. */
    uint8_t sk[32], pk[32];
    for (int i = 0; i < 32; i++) sk[i] = (uint8_t)(i + 1);
    cr_assert(wn_seckey_xonly(pk, sk));
    char other[65];
    wn_hex_encode(other, pk, 32);
    r = wn("verify-inclusion", proof, "--notary-pub", other, NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.out, "INVALID"), "%s", r.out);
    result_free(&r);

    /* A tampered copy: the first proof hash changed (still valid base64). */
    size_t len;
    char *text = wn_test_read_file(proof, &len);
    char *line = strstr(text, "\nindex ");
    line = strchr(line + 1, '\n') + 1;
    line[0] = line[0] == 'A' ? 'B' : 'A';
    char *bad = path_in("tampered.tlog-proof");
    write_file(bad, text, len);
    r = wn("verify-inclusion", bad, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "INVALID"), "%s", r.out);
    result_free(&r);
    /* The index changed. */
    free(text);
    text = wn_test_read_file(proof, &len);
    char *idx = strstr(text, "\nindex ") + 7;
    idx[0] = idx[0] == '1' ? '2' : '1';
    write_file(bad, text, len);
    r = wn("verify-inclusion", bad, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 1, "%s%s", r.out, r.err);
    result_free(&r);
    free(text);

    /* Garbage, empty, missing: exit 2. */
    char *junk = path_in("junk");
    write_file(junk, "hello\nworld\n", 12);
    r = wn("verify-inclusion", junk, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "line 1"), "%s", r.err);
    result_free(&r);
    write_file(junk, "", 0);
    r = wn("verify-inclusion", junk, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-inclusion", "/nonexistent/proof", "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);

    /* Usage errors: no key, bad key, no file, two files. */
    r = wn("verify-inclusion", proof, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-inclusion", proof, "--notary-pub", "abc", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-inclusion", "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-inclusion", proof, proof, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);

    /* The demo refuses a non-empty directory. */
    r = wn("demo", "--dir", dir, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "not an empty directory"), "%s", r.err);
    result_free(&r);
    r = wn("demo", "--dir", dir, "--meters", "0", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("demo", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    free(bad);
    free(junk);
    free(dir);
}

Test(cli, entry_option)
{
    char pub[65];
    char *dir = demo(1, 4, pub);
    char proof[4300];
    snprintf(proof, sizeof proof, "%s/proof.tlog-proof", dir);
    size_t len;
    char *text = wn_test_read_file(proof, &len);
    char *x = strstr(text, "extra ") + 6;
    size_t xl = (size_t)(strchr(x, '\n') - x);
    uint8_t entry[1024];
    size_t elen;
    cr_assert(wn_base64_decode(entry, sizeof entry, &elen, x, xl));
    char *ef = path_in("entry.bin");
    write_file(ef, entry, elen);
    result r = wn("verify-inclusion", proof, "--notary-pub", pub, "--entry", ef, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    result_free(&r);
    entry[elen - 1] ^= 1;
    write_file(ef, entry, elen);
    r = wn("verify-inclusion", proof, "--notary-pub", pub, "--entry", ef, NULL);
    cr_assert_eq(r.code, 1);
    result_free(&r);
    /* Without the extra line, the entry is required. */
    char *noextra = path_in("noextra.tlog-proof");
    char *nl = strchr(text, '\n') + 1; /* start of the extra line */
    char *after = strchr(nl, '\n') + 1;
    memmove(nl, after, strlen(after) + 1);
    write_file(noextra, text, strlen(text));
    r = wn("verify-inclusion", noextra, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--entry"), "%s", r.err);
    result_free(&r);
    entry[elen - 1] ^= 1;
    write_file(ef, entry, elen);
    r = wn("verify-inclusion", noextra, "--notary-pub", pub, "--entry", ef, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    result_free(&r);
    free(noextra);
    free(ef);
    free(text);
    free(dir);
}

Test(cli, prove_and_consistency_on_demo_ledger)
{
    char pub[65];
    char *dir = demo(3, 10, pub); /* checkpoints at sizes 15 and 30 */
    char ledger[4300];
    snprintf(ledger, sizeof ledger, "%s/ledger", dir);
    char *p0 = path_in("e0.tlog-proof");
    result r = wn("prove", "--ledger", ledger, "--index", "0", "--out", p0, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("verify-inclusion", p0, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "tree size:   30"), "%s", r.out);
    cr_assert(strstr(r.out, "entry index: 0"), "%s", r.out);
    result_free(&r);
    /* To standard output: the same bytes as --out. */
    r = wn("prove", "--ledger", ledger, "--index", "0", NULL);
    cr_assert_eq(r.code, 0);
    char *f0 = wn_test_read_file(p0, NULL);
    cr_assert_str_eq(r.out, f0);
    free(f0);
    result_free(&r);
    /* Against the half-way checkpoint. */
    r = wn("prove", "--ledger", ledger, "--index", "14", "--size", "15", "--out", p0, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("verify-inclusion", p0, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "tree size:   15"), "%s", r.out);
    result_free(&r);
    /* Not covered, no such checkpoint, beyond the ledger, bad numbers: exit 2. */
    const char *bad[][2] = {{"15", "15"}, {"3", "16"}, {"30", NULL}, {"99", NULL}, {"01", NULL}, {"-1", NULL}, {"x", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i][1]) r = wn("prove", "--ledger", ledger, "--index", bad[i][0], "--size", bad[i][1], NULL);
        else r = wn("prove", "--ledger", ledger, "--index", bad[i][0], NULL);
        cr_assert_eq(r.code, 2, "prove --index %s --size %s", bad[i][0], bad[i][1] ? bad[i][1] : "-");
        cr_assert_str_eq(r.out, "");
        result_free(&r);
    }
    r = wn("prove", "--ledger", "/nonexistent/ledger", "--index", "0", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("prove", "--index", "0", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);

    /* Consistency 15 -> 30. */
    char *c = path_in("c.proof");
    r = wn("prove-consistency", "--ledger", ledger, "--from", "15", "--out", c, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("verify-consistency", c, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "size 15"), "%s", r.out);
    cr_assert(strstr(r.out, "size 30"), "%s", r.out);
    cr_assert(strstr(r.out, "VALID"), "%s", r.out);
    result_free(&r);
    r = wn("prove-consistency", "--ledger", ledger, "--from", "15", "--to", "30", NULL);
    cr_assert_eq(r.code, 0);
    char *cf = wn_test_read_file(c, NULL);
    cr_assert_str_eq(r.out, cf);
    result_free(&r);
    /* Tampered: a proof hash changed. */
    cf[33] = cf[33] == 'A' ? 'B' : 'A';
    char *ct = path_in("ct.proof");
    write_file(ct, cf, strlen(cf));
    r = wn("verify-consistency", ct, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "INVALID"));
    result_free(&r);
    free(cf);
    /* Wrong kind of file, wrong key. */
    r = wn("verify-consistency", p0, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-inclusion", c, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("verify-consistency", c, "--notary-pub", "0000000000000000000000000000000000000000000000000000000000000001", NULL);
    cr_assert_eq(r.code, 1);
    result_free(&r);
    /* Bad ranges. */
    const char *bf[][2] = {{"0", NULL}, {"7", NULL}, {"30", "15"}, {"15", "31"}, {"15", "0"}};
    for (size_t i = 0; i < sizeof bf / sizeof bf[0]; i++) {
        if (bf[i][1]) r = wn("prove-consistency", "--ledger", ledger, "--from", bf[i][0], "--to", bf[i][1], NULL);
        else r = wn("prove-consistency", "--ledger", ledger, "--from", bf[i][0], NULL);
        cr_assert_eq(r.code, 2, "--from %s --to %s", bf[i][0], bf[i][1] ? bf[i][1] : "-");
        result_free(&r);
    }
    /* Same size both ends: a valid (empty) proof. */
    r = wn("prove-consistency", "--ledger", ledger, "--from", "30", "--out", c, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = wn("verify-consistency", c, "--notary-pub", pub, NULL);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    result_free(&r);
    free(ct);
    free(c);
    free(p0);
    free(dir);
}

/* A ledger made here (not by the demo) whose entries are a reading with a broken
 * signature and an entry of unknown type: the proofs verify, the entries do not. */
Test(cli, bad_entries_make_the_result_invalid)
{
    char *ldir = path_in("ledger");
    cr_assert_eq(mkdir(ldir, 0700), 0);
    wn_ledger *l;
    cr_assert_eq(wn_ledger_open(&l, ldir, 0), WN_LEDGER_OK);
    uint8_t msk[32], nsk[32], npk[32];
    for (int i = 0; i < 32; i++) { msk[i] = (uint8_t)(0x11 + i); nsk[i] = (uint8_t)(0x51 + i); }
    cr_assert(wn_seckey_xonly(npk, nsk));
    wn_reading rd;
    memset(&rd, 0, sizeof rd);
    rd.version = 1;
    cr_assert(wn_seckey_xonly(rd.meter, msk));
    rd.seq = 1;
    rd.time_ms = 1764000000000ULL;
    rd.count = 1;
    rd.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 123456};
    cr_assert_eq(wn_reading_sign(&rd, msk), WN_READING_OK);
    uint8_t good[1 + WN_READING_MAX_LEN], badsig[1 + WN_READING_MAX_LEN];
    size_t rl;
    good[0] = 0x01;
    cr_assert_eq(wn_reading_encode(&rd, good + 1, WN_READING_MAX_LEN, &rl), WN_READING_OK);
    memcpy(badsig, good, rl + 1);
    badsig[rl] ^= 0x01; /* last signature byte */
    uint8_t unknown[] = {0x7f, 1, 2, 3}; /* a kind nobody defines */
    wn_ledger_item items[] = {{good, rl + 1, NULL, 0}, {badsig, rl + 1, NULL, 0}, {unknown, sizeof unknown, NULL, 0}};
    cr_assert_eq(wn_ledger_append(l, items, 3, NULL, NULL), WN_LEDGER_OK);
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "waternotary/test");
    cp.size = 3;
    cr_assert_eq(wn_ledger_root(l, 3, cp.root), WN_LEDGER_OK);
    char note[WN_CHECKPOINT_MAX];
    size_t nlen;
    cr_assert_eq(wn_checkpoint_sign(&cp, nsk, note, sizeof note, &nlen), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_ledger_put_checkpoint(l, 3, note, nlen), WN_LEDGER_OK);
    wn_ledger_close(l);

    char pub[65];
    wn_hex_encode(pub, npk, 32);
    char *pf = path_in("p.tlog-proof");
    const char *idx[] = {"0", "1", "2"};
    int want[] = {0, 1, 1};
    const char *why[] = {"VALID", "signature", "unknown entry type"};
    for (int i = 0; i < 3; i++) {
        result r = wn("prove", "--ledger", ldir, "--index", idx[i], "--out", pf, NULL);
        cr_assert_eq(r.code, 0, "%s", r.err);
        result_free(&r);
        r = wn("verify-inclusion", pf, "--notary-pub", pub, NULL);
        cr_assert_eq(r.code, want[i], "entry %s: %s%s", idx[i], r.out, r.err);
        cr_assert(strstr(r.out, why[i]), "entry %s: %s", idx[i], r.out);
        result_free(&r);
    }

    /* A checkpoint that disagrees with the ledger is refused by prove (exit 1). */
    cr_assert_eq(wn_ledger_open(&l, ldir, 0), WN_LEDGER_OK);
    cp.size = 2;
    memset(cp.root, 0x42, 32);
    cr_assert_eq(wn_checkpoint_sign(&cp, nsk, note, sizeof note, &nlen), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_ledger_put_checkpoint(l, 2, note, nlen), WN_LEDGER_OK);
    wn_ledger_close(l);
    result r = wn("prove", "--ledger", ldir, "--index", "0", "--size", "2", NULL);
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "does not match"), "%s", r.err);
    result_free(&r);
    free(pf);
    free(ldir);
}
