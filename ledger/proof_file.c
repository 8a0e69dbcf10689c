/* proof_file.c — inclusion proofs as C2SP tlog-proof v1 files (entry bytes as `extra`)
 * and consistency proofs in our own format built the same way; docs/PROTOCOL.md §7.
 *
 * Parsing checks the file's own lines strictly and says which line is wrong; the embedded
 * checkpoints are only located here and are checked, signature included, by the verify
 * functions through wn_checkpoint_verify. The Merkle math is ledger/tlog/merkle.h's. */
#include "ledger/proof_file.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "ledger/ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INCL_HEADER "c2sp.org/tlog-proof@v1"
#define CONS_HEADER "waternotary/consistency-proof@v1"
#define HASH_B64_LEN WN_B64_LEN(32) /* 44 */
#define SIG_PREFIX "\xe2\x80\x94 "  /* "— ", starts a signature line */

const char *wn_proof_strerror(int err)
{
    switch (err) {
    case WN_PROOF_OK: return "ok";
    case WN_PROOF_EFORMAT: return "malformed proof file";
    case WN_PROOF_ECHECKPOINT: return "checkpoint malformed or not signed by the notary";
    case WN_PROOF_EPROOF: return "the Merkle proof does not verify";
    case WN_PROOF_EENTRY: return "no entry bytes to recompute the leaf hash from";
    case WN_PROOF_ESPACE: return "out of memory or proof too long";
    }
    return "unknown proof error";
}

/* A cursor over the lines of a text. Every line must end in '\n'. */
typedef struct {
    const char *s;
    size_t len, pos;
    unsigned lineno; /* of the line last returned, 1-based */
} lines;

/* Out: *l, *n, the next line without its '\n'. Returns: 1, or 0 at the end of the text or
 * when the last line has no newline (*unterminated set). Counts the line either way, so
 * a message can name the line that is missing or unterminated. */
static int next_line(lines *c, const char **l, size_t *n, int *unterminated)
{
    *unterminated = 0;
    c->lineno++;
    if (c->pos >= c->len) return 0;
    const char *p = memchr(c->s + c->pos, '\n', c->len - c->pos);
    if (!p) { *unterminated = 1; return 0; }
    *l = c->s + c->pos;
    *n = (size_t)(p - *l);
    c->pos = (size_t)(p - c->s) + 1;
    return 1;
}

static int line_is(const char *l, size_t n, const char *lit) { return n == strlen(lit) && memcmp(l, lit, n) == 0; }


/* Reads proof hash lines up to and including the blank line that ends them. */
static int read_hashes(lines *c, uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *count, char *detail, size_t cap)
{
    const char *l;
    size_t n;
    int unterm;
    *count = 0;
    for (;;) {
        if (!next_line(c, &l, &n, &unterm))
            return wn_fail(detail, cap, WN_PROOF_EFORMAT, "line %u: %s", c->lineno,
                        unterm ? "no newline at the end of the line"
                               : "the file ends before the blank line that precedes the checkpoint");
        if (n == 0) return WN_PROOF_OK;
        if (*count == WN_MERKLE_MAX_PROOF)
            return wn_fail(detail, cap, WN_PROOF_EFORMAT, "line %u: more than %d proof hashes", c->lineno,
                        WN_MERKLE_MAX_PROOF);
        size_t got;
        if (n != HASH_B64_LEN || !wn_base64_decode(proof[*count], 32, &got, l, n) || got != 32)
            return wn_fail(detail, cap, WN_PROOF_EFORMAT, "line %u: a proof hash must be the base64 of 32 bytes",
                        c->lineno);
        (*count)++;
    }
}

/* Length of the signed note starting at s[0..len): its text, the blank line and the
 * signature lines ("— ..."), not counting the blank line that may follow. Returns: 0 if
 * the text has no blank line after it. */
static size_t note_extent(const char *s, size_t len)
{
    size_t pos = 0;
    /* The note text ends at its first blank line. */
    for (;;) {
        const char *p = memchr(s + pos, '\n', len - pos);
        if (!p) return 0;
        size_t end = (size_t)(p - s);
        if (end == pos) { pos = end + 1; break; }
        pos = end + 1;
        if (pos >= len) return 0;
    }
    while (pos < len && len - pos >= strlen(SIG_PREFIX) && memcmp(s + pos, SIG_PREFIX, strlen(SIG_PREFIX)) == 0) {
        const char *p = memchr(s + pos, '\n', len - pos);
        if (!p) return len;
        pos = (size_t)(p - s) + 1;
    }
    return pos;
}

/* Appends text to a growing buffer that the caller sized exactly. */
static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

int wn_incl_proof_format(char **out, size_t *len, const uint8_t *entry, size_t entry_len,
                         uint64_t index, const uint8_t (*proof)[32], size_t proof_len,
                         const char *checkpoint, size_t cp_len)
{
    *out = NULL;
    if (proof_len > WN_MERKLE_MAX_PROOF || !checkpoint || cp_len == 0 || checkpoint[cp_len - 1] != '\n' ||
        (entry && entry_len > WN_LEDGER_MAX_ENTRY))
        return WN_PROOF_EFORMAT;
    int has_extra = entry && entry_len > 0;
    size_t cap = sizeof INCL_HEADER + (has_extra ? 7 + WN_B64_LEN(entry_len) : 0) + 6 + 21 +
                 proof_len * (HASH_B64_LEN + 1) + 1 + cp_len + 1;
    char *buf = malloc(cap);
    if (!buf) return WN_PROOF_ESPACE;
    char *p = put(buf, INCL_HEADER "\n", sizeof INCL_HEADER);
    if (has_extra) {
        p = put(p, "extra ", 6);
        p += wn_base64_encode(p, entry, entry_len);
        *p++ = '\n';
    }
    p += sprintf(p, "index %llu\n", (unsigned long long)index);
    for (size_t i = 0; i < proof_len; i++) {
        p += wn_base64_encode(p, proof[i], 32);
        *p++ = '\n';
    }
    *p++ = '\n';
    p = put(p, checkpoint, cp_len);
    *p = '\0';
    *out = buf;
    if (len) *len = (size_t)(p - buf);
    return WN_PROOF_OK;
}

void wn_incl_proof_free(wn_incl_proof *p)
{
    if (!p) return;
    free(p->extra);
    p->extra = NULL;
    p->extra_len = 0;
}

int wn_incl_proof_parse(wn_incl_proof *p, const char *text, size_t len, char *detail, size_t detailcap)
{
    memset(p, 0, sizeof *p);
    if (detail && detailcap) detail[0] = '\0';
    lines c = {text, len, 0, 0};
    const char *l;
    size_t n;
    int unterm;
    if (!next_line(&c, &l, &n, &unterm) || !line_is(l, n, INCL_HEADER))
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line 1: expected \"%s\" (not a tlog-proof file)",
                    INCL_HEADER);
    if (!next_line(&c, &l, &n, &unterm))
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line 2: expected an extra or index line");
    if (n >= 6 && memcmp(l, "extra ", 6) == 0) {
        size_t b64len = n - 6, cap = b64len / 4 * 3;
        if (b64len == 0 || cap > WN_LEDGER_MAX_ENTRY + 2)
            return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: the extra data must be 1 to %u bytes",
                        c.lineno, WN_LEDGER_MAX_ENTRY);
        p->extra = malloc(cap + 1);
        if (!p->extra) return wn_fail(detail, detailcap, WN_PROOF_ESPACE, "out of memory");
        if (!wn_base64_decode(p->extra, cap, &p->extra_len, l + 6, b64len) || p->extra_len == 0 ||
            p->extra_len > WN_LEDGER_MAX_ENTRY) {
            wn_incl_proof_free(p);
            return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: the extra data is not canonical base64 of 1 to %u bytes",
                        c.lineno, WN_LEDGER_MAX_ENTRY);
        }
        if (!next_line(&c, &l, &n, &unterm)) {
            wn_incl_proof_free(p);
            return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: expected an index line", c.lineno);
        }
    }
    if (n < 6 || memcmp(l, "index ", 6) != 0 || !wn_decimal_u64(l + 6, n - 6, &p->index)) {
        wn_incl_proof_free(p);
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT,
                    "line %u: expected \"index N\" (decimal, no leading zeros)", c.lineno);
    }
    int err = read_hashes(&c, p->proof, &p->proof_len, detail, detailcap);
    if (err) { wn_incl_proof_free(p); return err; }
    if (c.pos >= len) {
        wn_incl_proof_free(p);
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: the checkpoint is missing", c.lineno + 1);
    }
    p->checkpoint = text + c.pos;
    p->checkpoint_len = len - c.pos;
    return WN_PROOF_OK;
}

int wn_incl_proof_verify(const wn_incl_proof *p, const uint8_t xonly[32], const uint8_t *entry,
                         size_t entry_len, wn_checkpoint *cp, char *detail, size_t detailcap)
{
    if (detail && detailcap) detail[0] = '\0';
    wn_checkpoint c;
    int err = wn_checkpoint_verify(p->checkpoint, p->checkpoint_len, NULL, xonly, &c);
    if (err) return wn_fail(detail, detailcap, WN_PROOF_ECHECKPOINT, "checkpoint: %s", wn_checkpoint_strerror(err));
    if (!entry) { entry = p->extra; entry_len = p->extra_len; }
    if (!entry || entry_len == 0)
        return wn_fail(detail, detailcap, WN_PROOF_EENTRY, "the proof has no extra line and no entry was given");
    if (p->index >= c.size)
        return wn_fail(detail, detailcap, WN_PROOF_EPROOF, "index %llu is not below the checkpoint's tree size %llu",
                    (unsigned long long)p->index, (unsigned long long)c.size);
    uint8_t leaf[32];
    wn_merkle_leaf_hash(leaf, entry, entry_len);
    if (!wn_merkle_verify_inclusion(leaf, p->index, c.size, (const uint8_t(*)[32])p->proof, p->proof_len, c.root))
        return wn_fail(detail, detailcap, WN_PROOF_EPROOF,
                    "the inclusion proof of entry %llu does not lead to the root of the tree of size %llu",
                    (unsigned long long)p->index, (unsigned long long)c.size);
    if (cp) *cp = c;
    return WN_PROOF_OK;
}

int wn_cons_proof_format(char **out, size_t *len, const uint8_t (*proof)[32], size_t proof_len,
                         const char *old_cp, size_t old_len, const char *new_cp, size_t new_len)
{
    *out = NULL;
    if (proof_len > WN_MERKLE_MAX_PROOF || !old_cp || !new_cp || old_len == 0 || new_len == 0 ||
        old_cp[old_len - 1] != '\n' || new_cp[new_len - 1] != '\n')
        return WN_PROOF_EFORMAT;
    size_t cap = sizeof CONS_HEADER + proof_len * (HASH_B64_LEN + 1) + 1 + old_len + 1 + new_len + 1;
    char *buf = malloc(cap);
    if (!buf) return WN_PROOF_ESPACE;
    char *p = put(buf, CONS_HEADER "\n", sizeof CONS_HEADER);
    for (size_t i = 0; i < proof_len; i++) {
        p += wn_base64_encode(p, proof[i], 32);
        *p++ = '\n';
    }
    *p++ = '\n';
    p = put(p, old_cp, old_len);
    *p++ = '\n';
    p = put(p, new_cp, new_len);
    *p = '\0';
    *out = buf;
    if (len) *len = (size_t)(p - buf);
    return WN_PROOF_OK;
}

int wn_cons_proof_parse(wn_cons_proof *p, const char *text, size_t len, char *detail, size_t detailcap)
{
    memset(p, 0, sizeof *p);
    if (detail && detailcap) detail[0] = '\0';
    lines c = {text, len, 0, 0};
    const char *l;
    size_t n;
    int unterm;
    if (!next_line(&c, &l, &n, &unterm) || !line_is(l, n, CONS_HEADER))
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line 1: expected \"%s\" (not a consistency proof file)",
                    CONS_HEADER);
    int err = read_hashes(&c, p->proof, &p->proof_len, detail, detailcap);
    if (err) return err;
    unsigned old_line = c.lineno + 1;
    if (c.pos >= len)
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: the old checkpoint is missing", old_line);
    const char *old = text + c.pos;
    size_t rest = len - c.pos;
    size_t old_len = note_extent(old, rest);
    if (old_len == 0 || old_len >= rest || old[old_len] != '\n') {
        unsigned at = old_line;
        for (size_t i = 0; i < (old_len ? old_len : rest); i++) at += old[i] == '\n';
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT,
                    "line %u: expected the old checkpoint's signature lines, a blank line and the new checkpoint",
                    at);
    }
    if (old_len + 1 >= rest) {
        unsigned at = old_line;
        for (size_t i = 0; i <= old_len; i++) at += old[i] == '\n';
        return wn_fail(detail, detailcap, WN_PROOF_EFORMAT, "line %u: the new checkpoint is missing", at);
    }
    p->old_cp = old;
    p->old_len = old_len;
    p->new_cp = old + old_len + 1;
    p->new_len = rest - old_len - 1;
    return WN_PROOF_OK;
}

int wn_cons_proof_verify(const wn_cons_proof *p, const uint8_t xonly[32], wn_checkpoint *old_cp,
                         wn_checkpoint *new_cp, char *detail, size_t detailcap)
{
    if (detail && detailcap) detail[0] = '\0';
    wn_checkpoint a, b;
    int err = wn_checkpoint_verify(p->old_cp, p->old_len, NULL, xonly, &a);
    if (err) return wn_fail(detail, detailcap, WN_PROOF_ECHECKPOINT, "old checkpoint: %s", wn_checkpoint_strerror(err));
    err = wn_checkpoint_verify(p->new_cp, p->new_len, NULL, xonly, &b);
    if (err) return wn_fail(detail, detailcap, WN_PROOF_ECHECKPOINT, "new checkpoint: %s", wn_checkpoint_strerror(err));
    if (strcmp(a.origin, b.origin) != 0)
        return wn_fail(detail, detailcap, WN_PROOF_ECHECKPOINT, "the checkpoints have different origins (\"%s\", \"%s\")",
                    a.origin, b.origin);
    if (a.size == 0)
        return wn_fail(detail, detailcap, WN_PROOF_EPROOF, "the old tree size is 0: there is nothing to prove");
    if (a.size > b.size)
        return wn_fail(detail, detailcap, WN_PROOF_EPROOF, "the old tree size %llu is larger than the new one %llu",
                    (unsigned long long)a.size, (unsigned long long)b.size);
    if (!wn_merkle_verify_consistency(a.size, b.size, (const uint8_t(*)[32])p->proof, p->proof_len, a.root, b.root))
        return wn_fail(detail, detailcap, WN_PROOF_EPROOF,
                    "the consistency proof does not show the tree of size %llu is a prefix of the tree of size %llu",
                    (unsigned long long)a.size, (unsigned long long)b.size);
    if (old_cp) *old_cp = a;
    if (new_cp) *new_cp = b;
    return WN_PROOF_OK;
}
