/* cmd_verify.c — `wn verify`: one offline check for everything an auditor may be handed —
 * a proof bundle, a receipt (JSON), a meter's receipts log or state directory, an
 * inclusion proof (.tlog-proof), a consistency proof, or a signed checkpoint. The kind is
 * recognised from the content. Every failure is reported (not just the first), for people
 * or, with --json, as the stable report of docs/PROTOCOL.md §13. */
#include "cli/proofs/bundle.h"
#include "cli/commands.h"
#include "cli/notary_sm2.h"
#include "cli/proofs/meterlog.h"
#include "cli/proofs/proofs.h"
#include "cli/proofs/report.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/proof_file.h"
#include "ledger/ledger.h"
#include "ledger/proof_file.h"
#include "ledger/tlog/merkle.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROOF_FILE_MAX (2u * WN_LEDGER_MAX_ENTRY)
#define LOG_FILE_MAX (256u << 20)
#define TEXT_LIMIT 20 /* lines printed per reason code (--json lists all) */

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn verify FILE --notary-pub HEX [--notary-sm2-pub HEX|FILE] [--registrar-pub HEX]\n"
            "                 [--entry ENTRYFILE] [--json]\n"
            "\n"
            "Checks FILE offline with nothing but the notary's public key, and reports every problem\n"
            "found, not just the first. What FILE is, is recognised from its content:\n"
            "  proof bundle (wn bundle, GET /v1/bundle)   the checkpoint signature, every inclusion\n"
            "        proof, the enrolment (registrar signature, meter id; the registrar key is shown),\n"
            "        every reading's meter and signature with the enrolled key (BIP-340 or ECDSA),\n"
            "        sequence and hash-chain continuity (gaps reported with their sequence range and\n"
            "        times), readings after a revocation, the period's boundary readings, and\n"
            "        equivocation evidence (docs/PROTOCOL.md section 13)\n"
            "  receipt JSON {\"index\",\"leaf\",\"time\",\"sig\"}   the notary's signature; with --entry, that\n"
            "        it is the receipt of that entry\n"
            "  a meter's receipts.log, or its state directory   every receipt's signature, and that it\n"
            "        is for the logged reading with its sequence\n"
            "  inclusion proof (.tlog-proof), consistency proof, signed checkpoint\n"
            "FILE may be - for standard input.\n"
            "\n"
            "options:\n"
            "  --notary-pub HEX      the notary's x-only public key, 64 hex characters\n"
            "  --notary-sm2-pub HEX|FILE  bundles, checkpoints and proofs: also require every checkpoint\n"
            "                        to carry the notary's SM2 co-signature (PROTOCOL §4) by this\n"
            "                        compressed SM2 key (66 hex, or a file holding it); without it that\n"
            "                        line is ignored\n"
            "  --registrar-pub HEX   bundles: also require the enrolment to be signed by this registrar\n"
            "  --entry ENTRYFILE     receipts and inclusion proofs: the entry, as raw bytes (type byte\n"
            "                        and payload) or as a reading in JSON (section 2)\n"
            "  --json                print the report as one JSON object: kind, valid, reasons[],\n"
            "                        warnings[], gaps[], counts{} and what was checked\n"
            "\n"
            "examples:\n"
            "  wn verify meter-42-march.bundle.json --notary-pub 26285c...297a\n"
            "  wn verify receipt.json --notary-pub 26285c...297a --entry reading.json\n"
            "  wn verify fleet/meter-00003 --notary-pub $(cat fleet/notary.pub) --json\n"
            "\n"
            "exit codes: 0 valid, 1 invalid (every reason is printed), 2 usage error or unreadable,\n"
            "            unrecognised or malformed input\n");
}

typedef struct {
    const char *cmd;
    uint8_t notary[32], registrar[32];
    int has_registrar;
    uint8_t *entry;
    size_t elen;
    int reading_json;       /* --entry was a reading in JSON: entry = 0x01 || reading (untimed) */
    int json;
    int has_sm2;            /* --notary-sm2-pub: checkpoints must carry its co-signature */
    uint8_t sm2[33];
} verify_opts;

/* With --notary-sm2-pub, the checkpoint note must carry that key's valid SM2 line. */
static void check_sm2(const verify_opts *o, wn_report *rep, const char *what, const char *note, size_t len)
{
    char why[300];
    if (o->has_sm2 && !wn_cli_sm2_check(note, len, o->sm2, why, sizeof why))
        wn_report_fail(rep, "checkpoint_sm2", "%s: %s", what, why);
}

/* Prints the report (JSON, or its lines and a verdict) and returns the exit code. */
static int finish(wn_report *rep, const verify_opts *o, const char *valid_line)
{
    int valid = wn_report_valid(rep);
    if (o->json) {
        char *s = wn_report_json(rep);
        printf("%s\n", s ? s : "{\"valid\":false}");
        free(s);
    } else {
        wn_report_print(rep, stdout, TEXT_LIMIT);
        if (valid) printf("VALID: %s\n", valid_line);
        else printf("INVALID: %zu problem%s found\n", rep->n_reasons, rep->n_reasons == 1 ? "" : "s");
    }
    wn_report_free(rep);
    if (fflush(stdout) != 0) return WN_EXIT_USAGE;
    return valid ? WN_EXIT_OK : WN_EXIT_INVALID;
}

/* Input that cannot be checked at all: exit 2, with a JSON report too under --json. */
static int unusable(const verify_opts *o, const char *kind, const char *what, const char *why)
{
    wn_cli_error(o->cmd, "%s: %s", what, why);
    if (o->json) {
        wn_report rep;
        wn_report_init(&rep, kind);
        wn_report_fail(&rep, "malformed", "%s", why);
        char *s = wn_report_json(&rep);
        printf("%s\n", s ? s : "{\"valid\":false}");
        free(s);
        wn_report_free(&rep);
    }
    return WN_EXIT_USAGE;
}

static int verify_bundle(const verify_opts *o, const char *path, const char *text, size_t len)
{
    wn_bundle b;
    char detail[256];
    if (!wn_bundle_parse(&b, text, len, detail, sizeof detail)) {
        wn_bundle_free(&b);
        return unusable(o, "bundle", path, detail);
    }
    wn_report rep;
    wn_report_init(&rep, "bundle");
    wn_bundle_verify(&b, o->notary, o->has_registrar ? o->registrar : NULL, &rep);
    check_sm2(o, &rep, "the bundle's checkpoint", b.checkpoint, b.checkpoint_len);
    if (!o->json) wn_bundle_describe(&b, stdout);
    char line[200];
    size_t in = 0;
    for (size_t i = 0; i < b.n_readings; i++) in += b.readings[i].boundary == WN_BOUNDARY_NONE;
    snprintf(line, sizeof line, "%zu reading%s in the period, all signed, chained and in the notary's log", in,
             in == 1 ? "" : "s");
    wn_bundle_free(&b);
    return finish(&rep, o, line);
}

/* The receipt object: the file itself, or its "receipt" member (a result of POST /v1/readings). */
static int verify_receipt(const verify_opts *o, const char *path, const char *text, size_t len)
{
    char detail[200];
    if (o->has_sm2) return unusable(o, "receipt", path, "--notary-sm2-pub checks checkpoints, and a receipt holds none");
    cJSON *j = wn_json_parse_strict(text, len, detail, sizeof detail);
    if (!j) return unusable(o, "receipt", path, detail);
    const cJSON *obj = j;
    if (j && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "receipt")))
        obj = cJSON_GetObjectItemCaseSensitive(j, "receipt");
    wn_receipt rc;
    if (!j || !wn_receipt_from_cjson(&rc, obj)) {
        cJSON_Delete(j);
        return unusable(o, "receipt", path, "not a receipt: expected {\"index\":n,\"leaf\":hex,\"time\":...,\"sig\":hex} or a version 2 "
                        "receipt (PROTOCOL §6)");
    }
    cJSON_Delete(j);
    wn_report rep;
    wn_report_init(&rep, "receipt");
    char leaf[65], t[25];
    wn_hex_encode(leaf, rc.leaf, 32);
    wn_time_format(t, rc.time_ms);
    wn_report_info_u64(&rep, "index", rc.index);
    wn_report_info_str(&rep, "leaf", leaf);
    wn_report_info_str(&rep, "time", t);
    wn_report_info_u64(&rep, "version", rc.version);
    if (rc.version == 2) {
        char root[65];
        wn_hex_encode(root, rc.head.root, 32);
        wn_report_info_str(&rep, "origin", rc.head.origin);
        wn_report_info_u64(&rep, "commit_first", rc.head.first);
        wn_report_info_u64(&rep, "commit_count", rc.head.count);
        wn_report_info_str(&rep, "commit_root", root);
        wn_report_info_u64(&rep, "size", rc.head.tree_size);
    }
    int e = wn_receipt_check(&rc, o->notary), sig = e == WN_RECEIPT_OK;
    if (e == WN_RECEIPT_ESIG) wn_report_fail(&rep, "receipt_signature", "the receipt is not validly signed by the notary key");
    else if (e == WN_RECEIPT_EPATH) wn_report_fail(&rep, "receipt_path", "%s", wn_receipt_strerror(e));
    else if (e != WN_RECEIPT_OK) wn_report_fail(&rep, "receipt_head", "%s", wn_receipt_strerror(e));
    int match = -1;
    if (o->entry) {
        uint8_t h[32];
        wn_merkle_leaf_hash(h, o->entry, o->elen);
        /* a reading in JSON: its entry is the timed form at the receipt's time (or untimed) */
        match = o->reading_json ? wn_receipt_is_for_reading(&rc, o->entry + 1, o->elen - 1)
                                : memcmp(h, rc.leaf, 32) == 0;
        if (!match) wn_report_fail(&rep, "receipt_leaf", "the receipt's leaf is not the leaf of the entry given");
    } else {
        wn_report_warn(&rep, "no_entry", "no --entry given: the receipt is checked, not what it is for");
    }
    if (!o->json) {
        printf("receipt checked against the notary key\n  index:      %llu\n  leaf:       %s\n  accepted:   %s\n"
               "  signature:  %s\n  entry:      %s\n",
               (unsigned long long)rc.index, leaf, t, sig ? "valid" : "INVALID",
               match < 0 ? "not given" : match ? "its leaf is the receipt's" : "ANOTHER leaf");
    }
    char line[200];
    snprintf(line, sizeof line, "the notary accepted entry %llu (leaf %.16s...) at %s", (unsigned long long)rc.index,
             leaf, t);
    return finish(&rep, o, line);
}

static int verify_receipts_log(const verify_opts *o, const uint8_t *rcpt, size_t rlen, const uint8_t *readings,
                               size_t rdlen)
{
    if (o->has_sm2)
        return unusable(o, "receipts-log", "receipts log", "--notary-sm2-pub checks checkpoints, and a receipts log holds none");
    wn_report rep;
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify(rcpt, rlen, readings, rdlen, o->notary, &rep);
    uint64_t n = rep.n_counts ? rep.counts[0].value : 0, matched = rep.n_counts > 1 ? rep.counts[1].value : 0;
    if (!o->json)
        printf("receipts log checked against the notary key\n  receipts:   %llu\n  readings:   %s\n",
               (unsigned long long)n, readings ? "compared with the readings log" : "no readings log given");
    char line[200];
    snprintf(line, sizeof line, "%llu receipt%s signed by the notary (%llu compared with the logged reading)",
             (unsigned long long)n, n == 1 ? "" : "s", (unsigned long long)matched);
    return finish(&rep, o, line);
}

/* A meter state directory: its receipts.log, with its readings.log if present. */
static int verify_state_dir(const verify_opts *o, const char *dir)
{
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/receipts.log", dir);
    snprintf(p2, sizeof p2, "%s/readings.log", dir);
    size_t rlen, dlen = 0;
    char *rcpt = wn_cli_read_file(o->cmd, p1, LOG_FILE_MAX, &rlen);
    if (!rcpt) return unusable(o, "receipts-log", dir, "not a meter state directory (no readable receipts.log)");
    struct stat st;
    char *readings = stat(p2, &st) == 0 ? wn_cli_read_file(o->cmd, p2, LOG_FILE_MAX, &dlen) : NULL;
    int rc = verify_receipts_log(o, (const uint8_t *)rcpt, rlen, (const uint8_t *)readings, dlen);
    free(rcpt);
    free(readings);
    return rc;
}

static int verify_checkpoint(const verify_opts *o, const char *path, const char *text, size_t len)
{
    wn_checkpoint cp;
    wn_report rep;
    int perr = wn_checkpoint_parse(text, len, &cp, NULL);
    if (perr != WN_CHECKPOINT_OK) {
        /* A signed note (text, blank line, "— " signature line) that does not parse is a
         * damaged checkpoint, not something unknown. */
        if (!memmem(text, len, "\n\n\xe2\x80\x94 ", 6))
            return unusable(o, "checkpoint", path,
                            "not a bundle, receipt, receipts log, proof file or signed checkpoint");
        wn_report_init(&rep, "checkpoint");
        wn_report_fail(&rep, "checkpoint", "a signed note that is not a well-formed checkpoint: %s",
                       wn_checkpoint_strerror(perr));
        return finish(&rep, o, "");
    }
    wn_report_init(&rep, "checkpoint");
    char root[WN_B64_LEN(32) + 1];
    wn_base64_encode(root, cp.root, 32);
    wn_report_info_str(&rep, "origin", cp.origin);
    wn_report_info_u64(&rep, "size", cp.size);
    wn_report_info_str(&rep, "root", root);
    char ct[25] = "";
    if (cp.has_time) {
        wn_time_format(ct, cp.time_ms);
        wn_report_info_str(&rep, "commit_time", ct);
    }
    int err = wn_checkpoint_verify(text, len, NULL, o->notary, &cp);
    if (err) wn_report_fail(&rep, "checkpoint", "not validly signed by the notary key: %s", wn_checkpoint_strerror(err));
    size_t nfail = rep.n_reasons;
    check_sm2(o, &rep, "the checkpoint", text, len);
    if (!o->json)
        printf("checkpoint checked against the notary key\n  log origin: %s\n  tree size:  %llu\n  root hash:  %s\n"
               "  committed:  %s\n  signature:  %s\n", cp.origin, (unsigned long long)cp.size, root,
               cp.has_time ? ct : "not stated (no commit-time line)", err ? "INVALID" : "valid");
    if (!o->json && o->has_sm2) printf("  SM2 co-sig: %s\n", rep.n_reasons > nfail ? "INVALID or missing" : "valid");
    char line[240];
    snprintf(line, sizeof line, "the notary signed tree size %llu with root %s%s%s", (unsigned long long)cp.size, root,
             cp.has_time ? ", entries committed by " : "", ct);
    return finish(&rep, o, line);
}

/* Proof files: proofs.c's verifiers; under --json their result becomes a report. */
static int verify_proof(const verify_opts *o, const char *path, const char *text, size_t len, int inclusion)
{
    const char *kind = inclusion ? "inclusion-proof" : "consistency-proof";
    wn_cli_incl_result ir;
    wn_cli_cons_result cr;
    FILE *out = o->json ? NULL : stdout;
    if (o->has_sm2) { /* the proof's checkpoints must carry the SM2 co-signature */
        char detail[256], why[400] = "";
        wn_incl_proof ip;
        wn_cons_proof cp;
        memset(&ip, 0, sizeof ip);
        int parsed;
        if (inclusion) {
            parsed = wn_incl_proof_parse(&ip, text, len, detail, sizeof detail) == WN_PROOF_OK;
            if (parsed) wn_cli_sm2_check(ip.checkpoint, ip.checkpoint_len, o->sm2, why, sizeof why);
            wn_incl_proof_free(&ip);
        } else {
            parsed = wn_cons_proof_parse(&cp, text, len, detail, sizeof detail) == WN_PROOF_OK;
            char w2[300];
            if (parsed && !wn_cli_sm2_check(cp.old_cp, cp.old_len, o->sm2, w2, sizeof w2))
                snprintf(why, sizeof why, "the old checkpoint: %s", w2);
            else if (parsed && !wn_cli_sm2_check(cp.new_cp, cp.new_len, o->sm2, w2, sizeof w2))
                snprintf(why, sizeof why, "the new checkpoint: %s", w2);
        }
        if (!parsed) return unusable(o, kind, path, detail);
        if (*why) {
            wn_report rep;
            wn_report_init(&rep, kind);
            wn_report_fail(&rep, "checkpoint_sm2", "%s", why);
            return finish(&rep, o, "");
        }
    }
    const uint8_t *entry = o->entry;
    size_t elen = o->elen;
    wn_incl_proof p;
    char why[200];
    if (inclusion && o->reading_json && wn_incl_proof_parse(&p, text, len, why, sizeof why) == WN_PROOF_OK) {
        /* a reading in JSON does not say when it was committed: the proof's own entry bytes
         * are used when they are this reading's entry (any form); else the untimed form */
        wn_entry_view v;
        if (p.extra && wn_entry_parse(&v, p.extra, p.extra_len) == WN_ENTRY_OK && v.kind == WN_ENTRY_READING &&
            v.len == o->elen - 1 && memcmp(v.payload, o->entry + 1, v.len) == 0)
            entry = NULL, elen = 0;
        wn_incl_proof_free(&p);
    }
    int rc = inclusion ? wn_cli_verify_inclusion(text, len, o->notary, entry, elen, out, &ir)
                       : wn_cli_verify_consistency(text, len, o->notary, out, &cr);
    const char *reason = inclusion ? ir.reason : cr.reason;
    if (rc == WN_EXIT_USAGE) return unusable(o, kind, path, reason);
    if (!o->json) return rc;
    wn_report rep;
    wn_report_init(&rep, kind);
    if (rc != WN_EXIT_OK) wn_report_fail(&rep, inclusion ? "inclusion" : "consistency", "%s", reason);
    if (rc == WN_EXIT_OK && inclusion) {
        wn_report_info_u64(&rep, "index", ir.index);
        wn_report_info_u64(&rep, "size", ir.cp.size);
    } else if (rc == WN_EXIT_OK) {
        wn_report_info_u64(&rep, "old_size", cr.old_cp.size);
        wn_report_info_u64(&rep, "new_size", cr.new_cp.size);
    }
    return finish(&rep, o, "");
}

/* The --entry file: raw entry bytes, or a reading in JSON (then entry = 0x01 || reading). */
static int load_entry(verify_opts *o, const char *path)
{
    size_t len;
    char *data = wn_cli_read_file(o->cmd, path, WN_LEDGER_MAX_ENTRY, &len);
    if (!data) return 0;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) i++;
    if (i < len && data[i] == '{') {
        wn_reading r;
        char detail[200] = "";
        uint8_t *e = malloc(1 + WN_READING_MAX_LEN);
        size_t n = 0;
        int err = wn_reading_from_json(&r, data, len, detail, sizeof detail);
        if (!err && e) err = wn_reading_encode(&r, e + 1, WN_READING_MAX_LEN, &n);
        free(data);
        if (err || !e) {
            wn_cli_error(o->cmd, "%s: not a reading in JSON: %s", path, *detail ? detail : wn_reading_strerror(err));
            free(e);
            return 0;
        }
        e[0] = WN_ENTRY_READING;
        o->entry = e;
        o->elen = n + 1;
        o->reading_json = 1;
        return 1;
    }
    if (len == 0) {
        wn_cli_error(o->cmd, "%s is empty: an entry has at least its type byte", path);
        free(data);
        return 0;
    }
    o->entry = (uint8_t *)data;
    o->elen = len;
    return 1;
}

static int starts(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(text, prefix, n) == 0;
}

int wn_cmd_verify(int argc, char **argv)
{
    verify_opts o = {.cmd = argv[0]};
    const char *pub = NULL, *reg = NULL, *entry = NULL, *sm2 = NULL;
    int want_help;
    const wn_cli_opt opts[] = {
        {"notary-pub", &pub, NULL}, {"registrar-pub", &reg, NULL}, {"entry", &entry, NULL}, {"json", NULL, &o.json},
        {"notary-sm2-pub", &sm2, NULL},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (npos != 1 || !pub) {
        wn_cli_error(o.cmd, "a FILE and --notary-pub HEX are required (see wn verify --help)");
        return WN_EXIT_USAGE;
    }
    if (sm2) {
        if (!wn_cli_sm2_pub(o.cmd, sm2, o.sm2)) return WN_EXIT_USAGE;
        o.has_sm2 = 1;
    }
    if (!wn_cli_hex32(o.cmd, "notary-pub", pub, o.notary)) return WN_EXIT_USAGE;
    if (reg) {
        if (!wn_cli_hex32(o.cmd, "registrar-pub", reg, o.registrar)) return WN_EXIT_USAGE;
        o.has_registrar = 1;
    }
    if (entry && !load_entry(&o, entry)) return WN_EXIT_USAGE;

    const char *path = pos[0];
    struct stat st;
    int rc;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = verify_state_dir(&o, path);
        free(o.entry);
        return rc;
    }
    size_t len;
    char *text = wn_cli_read_file(o.cmd, path, WN_BUNDLE_FILE_MAX, &len);
    if (!text) {
        free(o.entry);
        return WN_EXIT_USAGE;
    }
    if (starts(text, len, "c2sp.org/tlog-proof@v1\n")) rc = verify_proof(&o, path, text, len, 1);
    else if (starts(text, len, "waternotary/consistency-proof@v1\n")) rc = verify_proof(&o, path, text, len, 0);
    else if (wn_meterlog_sniff((const uint8_t *)text, len))
        rc = verify_receipts_log(&o, (const uint8_t *)text, len, NULL, 0);
    else if (wn_bundle_sniff(text, len)) rc = verify_bundle(&o, path, text, len);
    else if (len && strspn(text, " \t\r\n") < len && text[strspn(text, " \t\r\n")] == '{')
        rc = verify_receipt(&o, path, text, len);
    else rc = verify_checkpoint(&o, path, text, len);
    free(text);
    free(o.entry);
    return rc;
}
