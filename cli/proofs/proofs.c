/* proofs.c — building proof files from a local ledger and verifying them with a report a
 * person can read (see proofs.h). Verification is ledger/proof_file.c's; this file adds
 * the checks an auditor wants on top: that the stored checkpoint matches the ledger
 * before a proof is handed out, and that the proved entry is itself a validly signed
 * reading, enrolment or revocation. */
#include "cli/proofs/proofs.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "ledger/proof_file.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void wn_cli_root_b64(char out[45], const uint8_t root[32]) { wn_base64_encode(out, root, 32); }

/* Reads the stored checkpoint of `size` (0: latest), parses it and checks that its root
 * is the ledger's root at that size. Out: note (NUL-terminated), *len, *cp. */
static int stored_checkpoint(const char *cmd, wn_ledger *l, uint64_t size, char note[WN_CHECKPOINT_MAX + 1],
                             size_t *len, wn_checkpoint *cp)
{
    uint64_t found = 0;
    int err = wn_ledger_get_checkpoint(l, size, note, WN_CHECKPOINT_MAX + 1, len, &found);
    if (err == WN_LEDGER_ENOTFOUND) {
        if (size) wn_cli_error(cmd, "the ledger has no checkpoint of size %llu", (unsigned long long)size);
        else wn_cli_error(cmd, "the ledger has no checkpoint yet (a notary node signs one after each batch)");
        return WN_EXIT_USAGE;
    }
    if (err) {
        wn_cli_error(cmd, "cannot read the checkpoint: %s", wn_ledger_strerror(err));
        return WN_EXIT_USAGE;
    }
    int perr = wn_checkpoint_parse(note, *len, cp, NULL);
    if (perr || cp->size != found) {
        wn_cli_error(cmd, "the stored checkpoint of size %llu is malformed: %s", (unsigned long long)found,
                     perr ? wn_checkpoint_strerror(perr) : "it names another size");
        return WN_EXIT_INVALID;
    }
    uint8_t root[32];
    err = wn_ledger_root(l, cp->size, root);
    if (err) {
        wn_cli_error(cmd, "cannot compute the ledger's root at size %llu: %s", (unsigned long long)cp->size,
                     wn_ledger_strerror(err));
        return err == WN_LEDGER_ERANGE ? WN_EXIT_INVALID : WN_EXIT_USAGE;
    }
    if (memcmp(root, cp->root, 32) != 0) {
        wn_cli_error(cmd, "the stored checkpoint of size %llu does not match the ledger's root: the ledger or its "
                     "checkpoints were altered", (unsigned long long)cp->size);
        return WN_EXIT_INVALID;
    }
    return WN_EXIT_OK;
}

int wn_cli_build_inclusion(const char *cmd, wn_ledger *l, uint64_t index, uint64_t size, char **text, size_t *len,
                           uint64_t *cp_size)
{
    char note[WN_CHECKPOINT_MAX + 1];
    size_t note_len;
    wn_checkpoint cp;
    int rc = stored_checkpoint(cmd, l, size, note, &note_len, &cp);
    if (rc) return rc;
    if (index >= cp.size) {
        wn_cli_error(cmd, "entry %llu is not covered by the %s checkpoint (tree size %llu)%s", (unsigned long long)index,
                     size ? "requested" : "latest", (unsigned long long)cp.size,
                     size ? "" : "; wait for the next checkpoint");
        return WN_EXIT_USAGE;
    }
    uint8_t *entry = malloc(WN_LEDGER_MAX_ENTRY);
    if (!entry) { wn_cli_error(cmd, "out of memory"); return WN_EXIT_USAGE; }
    size_t entry_len;
    int err = wn_ledger_get(l, index, entry, WN_LEDGER_MAX_ENTRY, &entry_len, NULL, NULL);
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen = 0;
    if (!err) err = wn_ledger_prove_inclusion(l, index, cp.size, proof, &plen);
    if (err) {
        wn_cli_error(cmd, "cannot read entry %llu from the ledger: %s", (unsigned long long)index,
                     wn_ledger_strerror(err));
        free(entry);
        return WN_EXIT_USAGE;
    }
    err = wn_incl_proof_format(text, len, entry, entry_len, index, (const uint8_t(*)[32])proof, plen, note, note_len);
    free(entry);
    if (err) {
        wn_cli_error(cmd, "cannot format the proof: %s", wn_proof_strerror(err));
        return WN_EXIT_USAGE;
    }
    if (cp_size) *cp_size = cp.size;
    return WN_EXIT_OK;
}

int wn_cli_build_consistency(const char *cmd, wn_ledger *l, uint64_t from, uint64_t to, char **text, size_t *len,
                             uint64_t *to_size)
{
    if (from == 0) {
        wn_cli_error(cmd, "--from must be at least 1: there is nothing to prove about the empty tree");
        return WN_EXIT_USAGE;
    }
    char a[WN_CHECKPOINT_MAX + 1], b[WN_CHECKPOINT_MAX + 1];
    size_t al, bl;
    wn_checkpoint ca, cb;
    int rc = stored_checkpoint(cmd, l, from, a, &al, &ca);
    if (rc) return rc;
    rc = stored_checkpoint(cmd, l, to, b, &bl, &cb);
    if (rc) return rc;
    if (ca.size > cb.size) {
        wn_cli_error(cmd, "--from %llu is beyond the %s checkpoint (size %llu)", (unsigned long long)ca.size,
                     to ? "--to" : "latest", (unsigned long long)cb.size);
        return WN_EXIT_USAGE;
    }
    uint8_t proof[WN_MERKLE_MAX_PROOF][32];
    size_t plen;
    int err = wn_ledger_prove_consistency(l, ca.size, cb.size, proof, &plen);
    if (err) {
        wn_cli_error(cmd, "cannot build the consistency proof: %s", wn_ledger_strerror(err));
        return WN_EXIT_USAGE;
    }
    err = wn_cons_proof_format(text, len, (const uint8_t(*)[32])proof, plen, a, al, b, bl);
    if (err) {
        wn_cli_error(cmd, "cannot format the proof: %s", wn_proof_strerror(err));
        return WN_EXIT_USAGE;
    }
    if (to_size) *to_size = cb.size;
    return WN_EXIT_OK;
}

static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *out, const char *fmt, ...)
{
    if (!out) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

static const char *nz(const char *s) { return s ? s : "?"; }

static void say_hex(FILE *out, const char *label, const uint8_t *b, size_t n)
{
    char hex[2 * 64 + 1];
    wn_hex_encode(hex, b, n);
    say(out, "%s%s\n", label, hex);
}

/* Reports a reading entry; checks its own signature. Returns: 1 if valid. */
static int describe_reading(FILE *out, const uint8_t *p, size_t n, char *reason, size_t cap)
{
    wn_reading r;
    int err = wn_reading_decode(&r, p, n);
    if (err) {
        snprintf(reason, cap, "the entry is not a valid reading: %s (%s)", wn_reading_strerror(err),
                 wn_reading_errcode(err));
        return 0;
    }
    char t[25];
    wn_time_format(t, r.time_ms);
    say(out, "  entry:       reading (%zu bytes)\n", n);
    say_hex(out, "    meter:     ", r.meter, 32);
    say(out, "    sequence:  %llu\n    time:      %s\n", (unsigned long long)r.seq, t);
    say(out, "    flags:     ");
    if (!r.flags) say(out, "none");
    for (unsigned b = 0, first = 1; b < 16; b++)
        if (r.flags & (1u << b)) { say(out, "%s%s", first ? "" : ", ", nz(wn_flag_name(b))); first = 0; }
    say(out, "\n");
    for (unsigned i = 0; i < r.count; i++) {
        char v[32];
        wn_decimal_format(v, r.m[i].value, r.m[i].scale);
        char label[32];
        snprintf(label, sizeof label, "%s:", nz(wn_quantity_name(r.m[i].quantity)));
        say(out, "    %-11s%s %s\n", label, v, nz(wn_unit_name(r.m[i].unit)));
    }
    if (r.alg == WN_ALG_BIP340) {
        err = wn_reading_verify(&r, NULL, 0);
    } else {
        /* Offline we lack the enrolled key's parity; a key of either parity with x = meter id
         * belongs to the same secret (up to negation), so either is the meter's. */
        uint8_t pub[33];
        memcpy(pub + 1, r.meter, 32);
        pub[0] = 0x02;
        err = wn_reading_verify(&r, pub, 33);
        if (err == WN_READING_ESIG) {
            pub[0] = 0x03;
            err = wn_reading_verify(&r, pub, 33);
        }
    }
    const char *alg = r.alg == WN_ALG_BIP340 ? "BIP-340" : "ECDSA";
    if (err) {
        say(out, "    signature: INVALID (%s)\n", alg);
        snprintf(reason, cap, "the reading's own signature does not verify: %s", wn_reading_strerror(err));
        return 0;
    }
    say(out, "    signature: valid (%s, by the meter)\n", alg);
    return 1;
}

static int describe_enrolment(FILE *out, const uint8_t *p, size_t n, char *reason, size_t cap)
{
    wn_enrolment e;
    int err = wn_enrolment_decode(&e, p, n);
    if (err) {
        snprintf(reason, cap, "the entry is not a valid enrolment record: %s", wn_enrol_strerror(err));
        return 0;
    }
    char t[25];
    wn_time_format(t, e.time_ms);
    say(out, "  entry:       enrolment (%zu bytes)\n", n);
    say_hex(out, "    meter:     ", e.meter, 32);
    say(out, "    algorithm: %s\n    time:      %s\n", e.alg == WN_ALG_BIP340 ? "BIP-340" : "ECDSA", t);
    say(out, "    point:     %s\n    tier:      %u\n    source:    %s\n", nz(wn_point_name(e.point)), e.tier,
        nz(wn_source_name(e.source)));
    say(out, "    enterprise: %s\n", e.enterprise);
    say_hex(out, "    registrar: ", e.registrar, 32);
    if (wn_enrolment_verify(&e) != WN_ENROL_OK) {
        say(out, "    signature: INVALID (registrar)\n");
        snprintf(reason, cap, "the enrolment's registrar signature does not verify");
        return 0;
    }
    say(out, "    signature: valid (by the registrar key above: check it is your water bureau's)\n");
    return 1;
}

static int describe_revocation(FILE *out, const uint8_t *p, size_t n, char *reason, size_t cap)
{
    wn_revocation r;
    int err = wn_revocation_decode(&r, p, n);
    if (err) {
        snprintf(reason, cap, "the entry is not a valid revocation record: %s", wn_enrol_strerror(err));
        return 0;
    }
    char t[25];
    wn_time_format(t, r.time_ms);
    say(out, "  entry:       revocation (%zu bytes)\n", n);
    say_hex(out, "    meter:     ", r.meter, 32);
    say(out, "    time:      %s\n    reason:    %s\n", t, nz(wn_revoke_reason_name(r.reason)));
    say_hex(out, "    registrar: ", r.registrar, 32);
    if (wn_revocation_verify(&r) != WN_ENROL_OK) {
        say(out, "    signature: INVALID (registrar)\n");
        snprintf(reason, cap, "the revocation's registrar signature does not verify");
        return 0;
    }
    say(out, "    signature: valid (by the registrar key above: check it is your water bureau's)\n");
    return 1;
}

/* Reports what the entry is and checks its own signature. Returns: 1 if valid. */
static int describe_entry(FILE *out, const uint8_t *e, size_t n, char *reason, size_t cap)
{
    wn_entry_view v;
    int err = wn_entry_parse(&v, e, n);
    if (err != WN_ENTRY_OK) {
        snprintf(reason, cap, "%s (type 0x%02x)", wn_entry_strerror(err), n ? e[0] : 0u);
        return 0;
    }
    if (v.timed) {
        char t[25];
        wn_time_format(t, v.commit_ms);
        say(out, "  committed:   %s (the node's commit time, in the entry)%s\n", t,
            (v.marks & WN_ENTRY_MARK_LATE) ? "; marked LATE: measured before the node's late window" : "");
    }
    switch (v.kind) {
    case WN_ENTRY_READING: return describe_reading(out, v.payload, v.len, reason, cap);
    case WN_ENTRY_ENROLMENT: return describe_enrolment(out, v.payload, v.len, reason, cap);
    case WN_ENTRY_REVOCATION: return describe_revocation(out, v.payload, v.len, reason, cap);
    }
    snprintf(reason, cap, "entry type 0x%02x is not one this command describes", e[0]);
    return 0;
}

int wn_cli_verify_inclusion(const char *text, size_t len, const uint8_t notary[32], const uint8_t *entry,
                            size_t entry_len, FILE *out, wn_cli_incl_result *res)
{
    memset(res, 0, sizeof *res);
    wn_incl_proof p;
    int err = wn_incl_proof_parse(&p, text, len, res->reason, sizeof res->reason);
    if (err) return WN_EXIT_USAGE;
    res->index = p.index;
    err = wn_incl_proof_verify(&p, notary, entry, entry_len, &res->cp, res->reason, sizeof res->reason);
    if (err == WN_PROOF_EENTRY) {
        snprintf(res->reason, sizeof res->reason,
                 "the proof file has no extra line with the entry; give the entry bytes with --entry FILE");
        wn_incl_proof_free(&p);
        return WN_EXIT_USAGE;
    }
    if (err) {
        say(out, "INVALID: %s\n", res->reason);
        wn_incl_proof_free(&p);
        return WN_EXIT_INVALID;
    }
    const uint8_t *e = entry ? entry : p.extra;
    size_t elen = entry ? entry_len : p.extra_len;
    char root[45];
    wn_cli_root_b64(root, res->cp.root);
    uint8_t leaf[32];
    wn_merkle_leaf_hash(leaf, e, elen);
    say(out, "inclusion proof checked against the notary key\n");
    say(out, "  log origin:  %s\n  tree size:   %llu\n  root hash:   %s\n", res->cp.origin,
        (unsigned long long)res->cp.size, root);
    say(out, "  entry index: %llu\n", (unsigned long long)p.index);
    say_hex(out, "  leaf hash:   ", leaf, 32);
    int ok = describe_entry(out, e, elen, res->reason, sizeof res->reason);
    wn_incl_proof_free(&p);
    if (!ok) {
        say(out, "INVALID: %s\n", res->reason);
        return WN_EXIT_INVALID;
    }
    say(out, "VALID: entry %llu is in the tree of size %llu with root %s\n", (unsigned long long)res->index,
        (unsigned long long)res->cp.size, root);
    return WN_EXIT_OK;
}

int wn_cli_verify_consistency(const char *text, size_t len, const uint8_t notary[32], FILE *out,
                              wn_cli_cons_result *res)
{
    memset(res, 0, sizeof *res);
    wn_cons_proof p;
    int err = wn_cons_proof_parse(&p, text, len, res->reason, sizeof res->reason);
    if (err) return WN_EXIT_USAGE;
    err = wn_cons_proof_verify(&p, notary, &res->old_cp, &res->new_cp, res->reason, sizeof res->reason);
    if (err) {
        say(out, "INVALID: %s\n", res->reason);
        return WN_EXIT_INVALID;
    }
    char r1[45], r2[45];
    wn_cli_root_b64(r1, res->old_cp.root);
    wn_cli_root_b64(r2, res->new_cp.root);
    say(out, "consistency proof checked against the notary key\n");
    say(out, "  log origin:  %s\n", res->old_cp.origin);
    say(out, "  old tree:    size %llu, root %s\n", (unsigned long long)res->old_cp.size, r1);
    say(out, "  new tree:    size %llu, root %s\n", (unsigned long long)res->new_cp.size, r2);
    say(out, "VALID: the tree of size %llu is a prefix of the tree of size %llu (nothing was changed or removed)\n",
        (unsigned long long)res->old_cp.size, (unsigned long long)res->new_cp.size);
    return WN_EXIT_OK;
}
