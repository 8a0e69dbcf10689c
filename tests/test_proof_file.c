/* test_proof_file.c — inclusion (tlog-proof) and consistency proof files: format/parse
 * round trips, strict parsing with line numbers, every kind of tampering rejected with the
 * right code, and real proofs from a real LMDB ledger in a temp dir. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"
#include "ledger/proof_file.h"
#include "tests/support/testutil.h"

#define ORIGIN "waternotary/test"

static uint8_t sk[32], pk[32], sk2[32], pk2[32];
static wn_merkle_mem tree;
static uint8_t entries[100][40];
static size_t entry_len[100];

static void setup(void)
{
    for (int i = 0; i < 32; i++) { sk[i] = (uint8_t)(i + 7); sk2[i] = (uint8_t)(0x70 - i); }
    cr_assert(wn_seckey_xonly(pk, sk));
    cr_assert(wn_seckey_xonly(pk2, sk2));
    wn_test_prng_seed(42);
    wn_merkle_mem_init(&tree);
    for (int i = 0; i < 100; i++) {
        entry_len[i] = 1 + wn_test_prng() % 40;
        wn_test_prng_bytes(entries[i], entry_len[i]);
        uint8_t leaf[32];
        wn_merkle_leaf_hash(leaf, entries[i], entry_len[i]);
        cr_assert(wn_merkle_mem_append(&tree, leaf));
    }
}

static void teardown(void) { wn_merkle_mem_free(&tree); }

TestSuite(proof_file, .init = setup, .fini = teardown);

/* Signed checkpoint of the in-memory tree at size, by key, under origin. */
static size_t make_cp(char *out, uint64_t size, const uint8_t *key, const char *origin)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", origin);
    cp.size = size;
    cr_assert(wn_merkle_root(cp.root, size, wn_merkle_mem_read, &tree));
    size_t len;
    cr_assert_eq(wn_checkpoint_sign(&cp, key, out, WN_CHECKPOINT_MAX, &len), WN_CHECKPOINT_OK);
    return len;
}

/* An inclusion proof file for entry index in the tree of size. Caller frees. */
static char *incl_file(uint64_t index, uint64_t size, int with_extra, size_t *len)
{
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    cr_assert(wn_merkle_prove_inclusion(proof, &plen, index, size, wn_merkle_mem_read, &tree));
    char cp[WN_CHECKPOINT_MAX];
    size_t cplen = make_cp(cp, size, sk, ORIGIN);
    char *out;
    cr_assert_eq(wn_incl_proof_format(&out, len, with_extra ? entries[index] : NULL, entry_len[index], index,
                                      (const uint8_t(*)[32])proof, plen, cp, cplen),
                 WN_PROOF_OK);
    cr_assert_eq(*len, strlen(out));
    return out;
}

/* Parse + verify in one go; returns the first error. */
static int check_incl(const char *text, size_t len, const uint8_t *key, char *detail, size_t cap)
{
    wn_incl_proof p;
    int err = wn_incl_proof_parse(&p, text, len, detail, cap);
    if (err) return err;
    err = wn_incl_proof_verify(&p, key, NULL, 0, NULL, detail, cap);
    wn_incl_proof_free(&p);
    return err;
}

static char *cons_file(uint64_t m, uint64_t n, size_t *len)
{
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    cr_assert(wn_merkle_prove_consistency(proof, &plen, m, n, wn_merkle_mem_read, &tree));
    char a[WN_CHECKPOINT_MAX], b[WN_CHECKPOINT_MAX];
    size_t al = make_cp(a, m, sk, ORIGIN), bl = make_cp(b, n, sk, ORIGIN);
    char *out;
    cr_assert_eq(wn_cons_proof_format(&out, len, (const uint8_t(*)[32])proof, plen, a, al, b, bl), WN_PROOF_OK);
    return out;
}

static int check_cons(const char *text, size_t len, const uint8_t *key, char *detail, size_t cap)
{
    wn_cons_proof p;
    int err = wn_cons_proof_parse(&p, text, len, detail, cap);
    if (err) return err;
    return wn_cons_proof_verify(&p, key, NULL, NULL, detail, cap);
}

Test(proof_file, inclusion_round_trip)
{
    uint64_t sizes[] = {1, 2, 3, 7, 8, 37, 64, 100};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (uint64_t i = 0; i < sizes[s]; i += 1 + sizes[s] / 9) {
            size_t len;
            char *f = incl_file(i, sizes[s], 1, &len);
            wn_incl_proof p;
            char detail[256];
            cr_assert_eq(wn_incl_proof_parse(&p, f, len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
            cr_assert_eq(p.index, i);
            cr_assert_eq(p.extra_len, entry_len[i]);
            cr_assert_arr_eq(p.extra, entries[i], entry_len[i]);
            uint8_t proof[WN_MERKLE_MAX_PROOF][32];
            size_t plen;
            cr_assert(wn_merkle_prove_inclusion(proof, &plen, i, sizes[s], wn_merkle_mem_read, &tree));
            cr_assert_eq(p.proof_len, plen);
            cr_assert_arr_eq(p.proof, proof, 32 * plen);
            wn_checkpoint cp;
            cr_assert_eq(wn_incl_proof_verify(&p, pk, NULL, 0, &cp, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
            cr_assert_eq(cp.size, sizes[s]);
            cr_assert_str_eq(cp.origin, ORIGIN);
            /* Formatting the parsed proof again gives the same bytes. */
            char *again;
            size_t alen;
            cr_assert_eq(wn_incl_proof_format(&again, &alen, p.extra, p.extra_len, p.index,
                                              (const uint8_t(*)[32])p.proof, p.proof_len, p.checkpoint,
                                              p.checkpoint_len),
                         WN_PROOF_OK);
            cr_assert_eq(alen, len);
            cr_assert_str_eq(again, f);
            free(again);
            wn_incl_proof_free(&p);
            free(f);
        }
    }
}

Test(proof_file, inclusion_exact_layout)
{
    size_t len;
    char *f = incl_file(5, 8, 1, &len);
    char b64[WN_B64_LEN(40) + 1];
    wn_base64_encode(b64, entries[5], entry_len[5]);
    char head[256];
    snprintf(head, sizeof head, "c2sp.org/tlog-proof@v1\nextra %s\nindex 5\n", b64);
    cr_assert_eq(strncmp(f, head, strlen(head)), 0, "file:\n%s", f);
    /* Three proof hashes for a tree of 8, a blank line, then the checkpoint verbatim. */
    const char *p = f + strlen(head);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(p[44], '\n');
        p += 45;
    }
    cr_assert_eq(*p, '\n');
    char cp[WN_CHECKPOINT_MAX];
    size_t cplen = make_cp(cp, 8, sk, ORIGIN);
    /* Signatures are randomised; compare the text and the key name. */
    cr_assert_eq(strncmp(p + 1, cp, cplen - 92 - 1), 0);
    cr_assert_eq(len, (size_t)(p + 1 - f) + cplen);
    free(f);
}

Test(proof_file, inclusion_without_extra)
{
    size_t len;
    char *f = incl_file(3, 10, 0, &len);
    cr_assert_eq(strncmp(f, "c2sp.org/tlog-proof@v1\nindex 3\n", 31), 0);
    wn_incl_proof p;
    char detail[256];
    cr_assert_eq(wn_incl_proof_parse(&p, f, len, detail, sizeof detail), WN_PROOF_OK);
    cr_assert_null(p.extra);
    cr_assert_eq(wn_incl_proof_verify(&p, pk, NULL, 0, NULL, detail, sizeof detail), WN_PROOF_EENTRY);
    cr_assert_eq(wn_incl_proof_verify(&p, pk, entries[3], entry_len[3], NULL, detail, sizeof detail), WN_PROOF_OK,
                 "%s", detail);
    cr_assert_eq(wn_incl_proof_verify(&p, pk, entries[4], entry_len[4], NULL, detail, sizeof detail), WN_PROOF_EPROOF);
    wn_incl_proof_free(&p);
    free(f);
}

Test(proof_file, entry_argument_overrides_extra)
{
    size_t len;
    char *f = incl_file(3, 10, 1, &len);
    wn_incl_proof p;
    cr_assert_eq(wn_incl_proof_parse(&p, f, len, NULL, 0), WN_PROOF_OK);
    cr_assert_eq(wn_incl_proof_verify(&p, pk, entries[4], entry_len[4], NULL, NULL, 0), WN_PROOF_EPROOF);
    cr_assert_eq(wn_incl_proof_verify(&p, pk, entries[3], entry_len[3], NULL, NULL, 0), WN_PROOF_OK);
    wn_incl_proof_free(&p);
    free(f);
}

/* Replaces line k (0-based) of f with repl; returns a new string. */
static char *replace_line(const char *f, unsigned k, const char *repl)
{
    const char *s = f;
    for (unsigned i = 0; i < k; i++) s = strchr(s, '\n') + 1;
    const char *e = strchr(s, '\n');
    size_t n = (size_t)(s - f), rl = strlen(repl);
    char *out = malloc(strlen(f) + rl + 1);
    memcpy(out, f, n);
    memcpy(out + n, repl, rl);
    strcpy(out + n + rl, e);
    return out;
}

/* The base64 of a hash line with its first character changed (still canonical). */
static void bump_b64(char *line) { line[0] = line[0] == 'A' ? 'B' : 'A'; }

Test(proof_file, inclusion_tampering)
{
    size_t len;
    char *f = incl_file(21, 37, 1, &len);
    char detail[256];
    cr_assert_eq(check_incl(f, len, pk, detail, sizeof detail), WN_PROOF_OK);

    /* Every proof hash line. */
    wn_incl_proof p;
    cr_assert_eq(wn_incl_proof_parse(&p, f, len, NULL, 0), WN_PROOF_OK);
    size_t plen = p.proof_len;
    wn_incl_proof_free(&p);
    cr_assert_geq(plen, 5);
    for (unsigned k = 0; k < plen; k++) {
        char line[64];
        const char *s = f;
        for (unsigned i = 0; i < 3 + k; i++) s = strchr(s, '\n') + 1;
        memcpy(line, s, 44);
        line[44] = '\0';
        bump_b64(line);
        char *t = replace_line(f, 3 + k, line);
        cr_assert_eq(check_incl(t, len, pk, detail, sizeof detail), WN_PROOF_EPROOF, "proof line %u", k);
        free(t);
    }
    /* A proof line dropped, or one added. */
    char *t = replace_line(f, 3, "");
    memmove(strstr(t, "\n\n"), strstr(t, "\n\n") + 1, strlen(strstr(t, "\n\n")));
    cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(t);
    t = replace_line(f, 3, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(t);

    /* Index: another leaf's position, or beyond the tree. */
    const char *idx[] = {"index 20", "index 22", "index 0", "index 36", "index 37", "index 1000"};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        t = replace_line(f, 2, idx[i]);
        cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_EPROOF, "%s", idx[i]);
        free(t);
    }

    /* Extra: another entry's bytes, or one byte changed. */
    char b64[WN_B64_LEN(40) + 8];
    uint8_t e[40];
    memcpy(e, entries[21], entry_len[21]);
    e[0] ^= 1;
    strcpy(b64, "extra ");
    wn_base64_encode(b64 + 6, e, entry_len[21]);
    t = replace_line(f, 1, b64);
    cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(t);
    wn_base64_encode(b64 + 6, entries[22], entry_len[22]);
    t = replace_line(f, 1, b64);
    cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(t);

    /* Checkpoint: size changed (signature fails), another key, another checkpoint. */
    unsigned cpline = 3 + (unsigned)plen + 1;
    t = replace_line(f, cpline + 1, "38");
    cr_assert_eq(check_incl(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    cr_assert(strstr(detail, "checkpoint"));
    free(t);
    cr_assert_eq(check_incl(f, len, pk2, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    free(f);
}

Test(proof_file, inclusion_against_other_signed_checkpoint)
{
    /* A genuine checkpoint of a different size, signed by the right key: the proof does
     * not lead to its root. */
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    cr_assert(wn_merkle_prove_inclusion(proof, &plen, 5, 16, wn_merkle_mem_read, &tree));
    char cp[WN_CHECKPOINT_MAX];
    size_t cplen = make_cp(cp, 17, sk, ORIGIN);
    char *out;
    size_t len;
    cr_assert_eq(wn_incl_proof_format(&out, &len, entries[5], entry_len[5], 5, (const uint8_t(*)[32])proof, plen,
                                      cp, cplen),
                 WN_PROOF_OK);
    cr_assert_eq(check_incl(out, len, pk, NULL, 0), WN_PROOF_EPROOF);
    free(out);
}

Test(proof_file, inclusion_every_byte_flipped)
{
    size_t len;
    char *f = incl_file(2, 5, 1, &len);
    cr_assert_eq(check_incl(f, len, pk, NULL, 0), WN_PROOF_OK);
    for (size_t i = 0; i < len; i++) {
        f[i] ^= 0x04;
        cr_assert_neq(check_incl(f, len, pk, NULL, 0), WN_PROOF_OK, "byte %zu flipped was accepted", i);
        f[i] ^= 0x04;
    }
    /* Truncated anywhere. */
    for (size_t n = 0; n < len; n++)
        cr_assert_neq(check_incl(f, n, pk, NULL, 0), WN_PROOF_OK, "truncated to %zu accepted", n);
    free(f);
}

/* Asserts that text fails to parse as an inclusion proof with a detail mentioning want. */
static void bad_incl(const char *text, const char *want)
{
    wn_incl_proof p;
    char detail[256];
    int err = wn_incl_proof_parse(&p, text, strlen(text), detail, sizeof detail);
    if (err == WN_PROOF_OK) wn_incl_proof_free(&p);
    cr_assert_eq(err, WN_PROOF_EFORMAT, "accepted:\n%s", text);
    cr_assert(strstr(detail, want), "detail \"%s\" lacks \"%s\" for:\n%s", detail, want, text);
}

#define H "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
#define CP "o\n1\n" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" "\n\n\xe2\x80\x94 o AAAAAAA=\n"

Test(proof_file, inclusion_parse_strict)
{
    wn_incl_proof p;
    cr_assert_eq(wn_incl_proof_parse(&p, "c2sp.org/tlog-proof@v1\nindex 0\n\n" CP, strlen("c2sp.org/tlog-proof@v1\nindex 0\n\n" CP), NULL, 0), WN_PROOF_OK);
    cr_assert_eq(p.proof_len, 0);
    cr_assert_eq(p.checkpoint_len, strlen(CP));
    wn_incl_proof_free(&p);

    bad_incl("", "line 1");
    bad_incl("c2sp.org/tlog-proof@v2\nindex 0\n\n" CP, "line 1");
    bad_incl("c2sp.org/tlog-proof@v1\r\nindex 0\n\n" CP, "line 1");
    bad_incl("c2sp.org/tlog-proof@v1\n", "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 01\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex -1\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex \n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1 \n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex  1\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nIndex 1\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\r\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nextra \nindex 1\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nextra AB=\nindex 1\n\n" CP, "line 2");
    bad_incl("c2sp.org/tlog-proof@v1\nextra AB==\nindex 1\n\n" CP, "line 2"); /* non-canonical */
    bad_incl("c2sp.org/tlog-proof@v1\nextra AQ==\n\n" CP, "line 3");
    bad_incl("c2sp.org/tlog-proof@v1\nextra AQ==\nextra AQ==\nindex 1\n\n" CP, "line 3");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\nextra AQ==\n\n" CP, "line 3");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" H "AAAA\n\n" CP, "line 4");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" H "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n" CP, "line 4");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" H H " \n\n" CP, "line 5");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" H, "line 4");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" H "\n", "line 5");
    bad_incl("c2sp.org/tlog-proof@v1\nindex 1\n" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "line 3");

    /* At most WN_MERKLE_MAX_PROOF hashes. */
    char *big = malloc(64 + 70 * 45 + sizeof CP);
    strcpy(big, "c2sp.org/tlog-proof@v1\nindex 1\n");
    for (int i = 0; i < WN_MERKLE_MAX_PROOF; i++) strcat(big, H);
    strcat(big, "\n" CP);
    cr_assert_eq(wn_incl_proof_parse(&p, big, strlen(big), NULL, 0), WN_PROOF_OK);
    cr_assert_eq(p.proof_len, WN_MERKLE_MAX_PROOF);
    wn_incl_proof_free(&p);
    strcpy(big, "c2sp.org/tlog-proof@v1\nindex 1\n");
    for (int i = 0; i <= WN_MERKLE_MAX_PROOF; i++) strcat(big, H);
    strcat(big, "\n" CP);
    bad_incl(big, "line 67");
    free(big);
}

Test(proof_file, consistency_round_trip)
{
    uint64_t pairs[][2] = {{1, 1}, {1, 2}, {3, 7}, {4, 8}, {5, 100}, {37, 64}, {64, 65}, {99, 100}, {100, 100}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t len;
        char *f = cons_file(pairs[i][0], pairs[i][1], &len);
        wn_cons_proof p;
        char detail[256];
        cr_assert_eq(wn_cons_proof_parse(&p, f, len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
        wn_checkpoint a, b;
        cr_assert_eq(wn_cons_proof_verify(&p, pk, &a, &b, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
        cr_assert_eq(a.size, pairs[i][0]);
        cr_assert_eq(b.size, pairs[i][1]);
        char *again;
        size_t alen;
        cr_assert_eq(wn_cons_proof_format(&again, &alen, (const uint8_t(*)[32])p.proof, p.proof_len, p.old_cp,
                                          p.old_len, p.new_cp, p.new_len),
                     WN_PROOF_OK);
        cr_assert_str_eq(again, f);
        free(again);
        free(f);
    }
}

Test(proof_file, consistency_layout)
{
    size_t len;
    char *f = cons_file(3, 7, &len);
    cr_assert_eq(strncmp(f, "waternotary/consistency-proof@v1\n", 33), 0);
    wn_cons_proof p;
    cr_assert_eq(wn_cons_proof_parse(&p, f, len, NULL, 0), WN_PROOF_OK);
    cr_assert_eq(p.old_cp, f + 33 + 45 * p.proof_len + 1);
    cr_assert_eq(p.new_cp, p.old_cp + p.old_len + 1);
    cr_assert_eq(p.old_cp[p.old_len], '\n');
    cr_assert_eq(p.new_cp + p.new_len, f + len);
    cr_assert_eq(strncmp(p.old_cp, ORIGIN "\n3\n", strlen(ORIGIN) + 3), 0);
    cr_assert_eq(strncmp(p.new_cp, ORIGIN "\n7\n", strlen(ORIGIN) + 3), 0);
    free(f);
}

Test(proof_file, consistency_tampering)
{
    size_t len;
    char *f = cons_file(5, 37, &len);
    char detail[256];
    cr_assert_eq(check_cons(f, len, pk, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    wn_cons_proof p;
    cr_assert_eq(wn_cons_proof_parse(&p, f, len, NULL, 0), WN_PROOF_OK);
    size_t plen = p.proof_len;
    cr_assert_geq(plen, 3);
    for (unsigned k = 0; k < plen; k++) {
        char line[64];
        const char *s = f;
        for (unsigned i = 0; i < 1 + k; i++) s = strchr(s, '\n') + 1;
        memcpy(line, s, 44);
        line[44] = '\0';
        bump_b64(line);
        char *t = replace_line(f, 1 + k, line);
        cr_assert_eq(check_cons(t, len, pk, detail, sizeof detail), WN_PROOF_EPROOF, "proof line %u", k);
        free(t);
    }
    char *t = replace_line(f, 1, H "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    cr_assert_eq(check_cons(t, strlen(t), pk, NULL, 0), WN_PROOF_EPROOF);
    free(t);
    /* Old size changed in the signed text. */
    t = replace_line(f, 1 + (unsigned)plen + 2, "6");
    cr_assert_eq(check_cons(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    cr_assert(strstr(detail, "old checkpoint"), "%s", detail);
    free(t);
    /* New size changed. */
    t = replace_line(f, 1 + (unsigned)plen + 1 + 7, "38");
    cr_assert_eq(check_cons(t, strlen(t), pk, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    cr_assert(strstr(detail, "new checkpoint"), "%s", detail);
    free(t);
    cr_assert_eq(check_cons(f, len, pk2, NULL, 0), WN_PROOF_ECHECKPOINT);
    /* Every byte flipped. */
    for (size_t i = 0; i < len; i++) {
        f[i] ^= 0x02;
        cr_assert_neq(check_cons(f, len, pk, NULL, 0), WN_PROOF_OK, "byte %zu flipped was accepted", i);
        f[i] ^= 0x02;
    }
    free(f);
}

Test(proof_file, consistency_checkpoint_rules)
{
    char a[WN_CHECKPOINT_MAX], b[WN_CHECKPOINT_MAX];
    char *out;
    size_t len;
    char detail[256];
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    /* Old and new swapped: old size above new. */
    cr_assert(wn_merkle_prove_consistency(proof, &plen, 5, 9, wn_merkle_mem_read, &tree));
    size_t al = make_cp(a, 9, sk, ORIGIN), bl = make_cp(b, 5, sk, ORIGIN);
    cr_assert_eq(wn_cons_proof_format(&out, &len, (const uint8_t(*)[32])proof, plen, a, al, b, bl), WN_PROOF_OK);
    cr_assert_eq(check_cons(out, len, pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(out);
    /* Different origins (same key). */
    al = make_cp(a, 5, sk, ORIGIN);
    bl = make_cp(b, 9, sk, "waternotary/other");
    cr_assert_eq(wn_cons_proof_format(&out, &len, (const uint8_t(*)[32])proof, plen, a, al, b, bl), WN_PROOF_OK);
    cr_assert_eq(check_cons(out, len, pk, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    cr_assert(strstr(detail, "origin"), "%s", detail);
    free(out);
    /* Old size 0 is not allowed. */
    al = make_cp(a, 0, sk, ORIGIN);
    bl = make_cp(b, 9, sk, ORIGIN);
    cr_assert_eq(wn_cons_proof_format(&out, &len, NULL, 0, a, al, b, bl), WN_PROOF_OK);
    cr_assert_eq(check_cons(out, len, pk, detail, sizeof detail), WN_PROOF_EPROOF);
    free(out);
    /* Same size, empty proof: fine. */
    al = make_cp(a, 9, sk, ORIGIN);
    cr_assert_eq(wn_cons_proof_format(&out, &len, NULL, 0, a, al, b, bl), WN_PROOF_OK);
    cr_assert_eq(check_cons(out, len, pk, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    free(out);
    /* Old checkpoint from another key: rejected even if the new one is ours. */
    al = make_cp(a, 5, sk2, ORIGIN);
    cr_assert_eq(wn_cons_proof_format(&out, &len, (const uint8_t(*)[32])proof, plen, a, al, b, bl), WN_PROOF_OK);
    cr_assert_eq(check_cons(out, len, pk, detail, sizeof detail), WN_PROOF_ECHECKPOINT);
    free(out);
}

Test(proof_file, consistency_with_cosignatures)
{
    /* Foreign signature lines on the old checkpoint do not confuse where it ends. */
    char a[2 * WN_CHECKPOINT_MAX], b[WN_CHECKPOINT_MAX];
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    cr_assert(wn_merkle_prove_consistency(proof, &plen, 6, 11, wn_merkle_mem_read, &tree));
    size_t al = make_cp(a, 6, sk, ORIGIN), bl = make_cp(b, 11, sk, ORIGIN);
    const char *w = "\xe2\x80\x94 witness.example/w AAAAAAA=\n\xe2\x80\x94 w2 AAAAAAA=\n";
    strcpy(a + al, w);
    al += strlen(w);
    char *out;
    size_t len;
    cr_assert_eq(wn_cons_proof_format(&out, &len, (const uint8_t(*)[32])proof, plen, a, al, b, bl), WN_PROOF_OK);
    wn_cons_proof p;
    char detail[256];
    cr_assert_eq(wn_cons_proof_parse(&p, out, len, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    cr_assert_eq(p.old_len, al);
    cr_assert_eq(p.new_len, bl);
    cr_assert_eq(wn_cons_proof_verify(&p, pk, NULL, NULL, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    free(out);
}

static void bad_cons(const char *text, const char *want)
{
    wn_cons_proof p;
    char detail[256];
    cr_assert_eq(wn_cons_proof_parse(&p, text, strlen(text), detail, sizeof detail), WN_PROOF_EFORMAT, "accepted:\n%s", text);
    cr_assert(strstr(detail, want), "detail \"%s\" lacks \"%s\" for:\n%s", detail, want, text);
}

Test(proof_file, consistency_parse_strict)
{
    wn_cons_proof p;
    const char *ok = "waternotary/consistency-proof@v1\n" H "\n" CP "\n" CP;
    cr_assert_eq(wn_cons_proof_parse(&p, ok, strlen(ok), NULL, 0), WN_PROOF_OK);
    cr_assert_eq(p.proof_len, 1);
    cr_assert_eq(p.old_len, strlen(CP));
    cr_assert_eq(p.new_len, strlen(CP));
    bad_cons("", "line 1");
    bad_cons("c2sp.org/tlog-proof@v1\n" H "\n" CP "\n" CP, "line 1");
    bad_cons("waternotary/consistency-proof@v1\n" "AAAA\n\n" CP "\n" CP, "line 2");
    bad_cons("waternotary/consistency-proof@v1\n" H, "line 3");
    bad_cons("waternotary/consistency-proof@v1\n" H "\n", "line 4");
    bad_cons("waternotary/consistency-proof@v1\n" H "\n" CP, "line 9");
    bad_cons("waternotary/consistency-proof@v1\n" H "\n" CP "\n", "line 10");
    bad_cons("waternotary/consistency-proof@v1\n" H "\n" CP "junk\n" CP, "line 9");
    bad_cons("waternotary/consistency-proof@v1\n" H "\n" "o\n1\n", "line 6");
}

/* Real proofs from a real ledger: entries appended in batches to LMDB in a temp dir,
 * checkpoints signed over the ledger's own roots, proofs from wn_ledger_prove_*. */
Test(proof_file, real_ledger)
{
    char *dir = wn_test_tmpdir("prooffile");
    cr_assert_not_null(dir);
    wn_ledger *l;
    cr_assert_eq(wn_ledger_open(&l, dir, 0), WN_LEDGER_OK);
    for (int b = 0; b < 10; b++) {
        wn_ledger_item items[10];
        for (int i = 0; i < 10; i++) {
            items[i].data = entries[b * 10 + i];
            items[i].len = entry_len[b * 10 + i];
            items[i].meter = NULL;
            items[i].seq = 0;
        }
        uint64_t first;
        cr_assert_eq(wn_ledger_append(l, items, 10, &first, NULL), WN_LEDGER_OK);
        cr_assert_eq(first, (uint64_t)b * 10);
    }
    uint64_t sizes[] = {13, 100};
    char notes[2][WN_CHECKPOINT_MAX];
    size_t nlen[2];
    for (int s = 0; s < 2; s++) {
        wn_checkpoint cp;
        memset(&cp, 0, sizeof cp);
        strcpy(cp.origin, ORIGIN);
        cp.size = sizes[s];
        cr_assert_eq(wn_ledger_root(l, sizes[s], cp.root), WN_LEDGER_OK);
        uint8_t mem_root[32];
        cr_assert(wn_merkle_root(mem_root, sizes[s], wn_merkle_mem_read, &tree));
        cr_assert_arr_eq(cp.root, mem_root, 32);
        cr_assert_eq(wn_checkpoint_sign(&cp, sk, notes[s], sizeof notes[s], &nlen[s]), WN_CHECKPOINT_OK);
        cr_assert_eq(wn_ledger_put_checkpoint(l, sizes[s], notes[s], nlen[s]), WN_LEDGER_OK);
    }
    for (uint64_t i = 0; i < 100; i += 7) {
        uint8_t proof[WN_MERKLE_MAX_PROOF][32];
        size_t plen;
        cr_assert_eq(wn_ledger_prove_inclusion(l, i, 100, proof, &plen), WN_LEDGER_OK);
        uint8_t buf[64];
        size_t blen;
        cr_assert_eq(wn_ledger_get(l, i, buf, sizeof buf, &blen, NULL, NULL), WN_LEDGER_OK);
        char cpbuf[WN_CHECKPOINT_MAX + 1];
        size_t cplen;
        uint64_t found;
        cr_assert_eq(wn_ledger_get_checkpoint(l, 0, cpbuf, sizeof cpbuf, &cplen, &found), WN_LEDGER_OK);
        cr_assert_eq(found, 100);
        char *f;
        size_t flen;
        cr_assert_eq(wn_incl_proof_format(&f, &flen, buf, blen, i, (const uint8_t(*)[32])proof, plen, cpbuf, cplen),
                     WN_PROOF_OK);
        char detail[256];
        cr_assert_eq(check_incl(f, flen, pk, detail, sizeof detail), WN_PROOF_OK, "entry %llu: %s",
                     (unsigned long long)i, detail);
        free(f);
    }
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    cr_assert_eq(wn_ledger_prove_consistency(l, 13, 100, proof, &plen), WN_LEDGER_OK);
    char *f;
    size_t flen;
    cr_assert_eq(wn_cons_proof_format(&f, &flen, (const uint8_t(*)[32])proof, plen, notes[0], nlen[0], notes[1],
                                      nlen[1]),
                 WN_PROOF_OK);
    char detail[256];
    cr_assert_eq(check_cons(f, flen, pk, detail, sizeof detail), WN_PROOF_OK, "%s", detail);
    free(f);
    wn_ledger_close(l);
    wn_test_rmtree(dir);
    free(dir);
}

Test(proof_file, strerror_names_every_code)
{
    for (int e = WN_PROOF_OK; e <= WN_PROOF_ESPACE; e++) {
        const char *s = wn_proof_strerror(e);
        cr_assert(s && *s);
        cr_assert_str_neq(s, wn_proof_strerror(-1));
    }
}
