/* cmd_consistency.c — `wn consistency`: is the node's log today an extension of the log
 * an auditor saw before? Takes a saved signed checkpoint, fetches the node's latest one and
 * a consistency proof from the saved size, and checks both signatures and the proof against
 * the saved root. Two signed trees that disagree — same size and different roots, a proof
 * that fails, a tree that shrank — are a fork: evidence that the notary showed different
 * logs to different people. That is reported loudly ("FORK: ..." on stderr). */
#include "cli/commands.h"
#include "cli/notary_sm2.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/proof_file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn consistency --node URL --from-checkpoint FILE --notary-pub HEX\n"
            "                      [--notary-sm2-pub HEX|FILE] [--save FILE] [--json]\n"
            "\n"
            "Checks that the node's log still contains, unchanged, everything of the checkpoint you saved\n"
            "earlier (with wn checkpoint --out, or --save here): fetches the node's latest signed\n"
            "checkpoint and a consistency proof from your checkpoint's size (GET /v1/proof/consistency),\n"
            "verifies both signatures with the notary key and the proof against your saved root.\n"
            "If they disagree, that is a FORK, reported on stderr with both roots: keep both signed\n"
            "checkpoints, they prove the notary signed two different histories.\n"
            "\n"
            "options:\n"
            "  --node URL              the node, e.g. http://127.0.0.1:8420\n"
            "  --from-checkpoint FILE  a signed checkpoint you saved earlier\n"
            "  --notary-pub HEX        the notary's x-only public key (64 hex)\n"
            "  --notary-sm2-pub HEX|FILE  also require every checkpoint (saved, latest, the proof's) to\n"
            "                          carry the notary's SM2 co-signature by this compressed SM2 key\n"
            "                          (PROTOCOL §4); without it that line is ignored\n"
            "  --save FILE             on success, write the node's new checkpoint to FILE (for next time;\n"
            "                          it may be the same file as --from-checkpoint)\n"
            "  --json                  print {\"consistent\",\"fork\",\"old_size\",\"old_root\",\"new_size\",\n"
            "                          \"new_root\",\"reason\"} instead of text\n"
            "\n"
            "example:\n"
            "  wn consistency --node http://127.0.0.1:8420 --from-checkpoint cp-saved.txt \\\n"
            "      --notary-pub 26285c...297a --save cp-saved.txt\n"
            "\n"
            "exit codes: 0 consistent, 1 FORK or a signature that does not verify, 2 usage error or\n"
            "            unreadable file, 3 the node could not be reached or answered something else\n");
}

typedef struct {
    const char *cmd;
    int json;
    wn_checkpoint old_cp, new_cp;
    int have_new;
} ctx;

static void b64(char out[WN_B64_LEN(32) + 1], const uint8_t root[32]) { wn_base64_encode(out, root, 32); }

static void print_json(const ctx *c, int consistent, int fork, const char *reason)
{
    char r1[WN_B64_LEN(32) + 1], r2[WN_B64_LEN(32) + 1];
    cJSON *o = cJSON_CreateObject();
    b64(r1, c->old_cp.root);
    cJSON_AddBoolToObject(o, "consistent", consistent);
    cJSON_AddBoolToObject(o, "fork", fork);
    cJSON_AddNumberToObject(o, "old_size", (double)c->old_cp.size);
    cJSON_AddStringToObject(o, "old_root", r1);
    if (c->have_new) {
        b64(r2, c->new_cp.root);
        cJSON_AddNumberToObject(o, "new_size", (double)c->new_cp.size);
        cJSON_AddStringToObject(o, "new_root", r2);
    } else {
        cJSON_AddNullToObject(o, "new_size");
        cJSON_AddNullToObject(o, "new_root");
    }
    if (reason) cJSON_AddStringToObject(o, "reason", reason);
    else cJSON_AddNullToObject(o, "reason");
    char *s = cJSON_PrintUnformatted(o);
    printf("%s\n", s ? s : "{}");
    free(s);
    cJSON_Delete(o);
}

/* A fork: stderr, loudly, with both roots. Returns: WN_EXIT_INVALID. */
static int fork_found(const ctx *c, uint64_t size, const uint8_t node_root[32], const char *what)
{
    char r1[WN_B64_LEN(32) + 1], r2[WN_B64_LEN(32) + 1];
    b64(r1, c->old_cp.root);
    b64(r2, node_root);
    fprintf(stderr, "FORK: %s\n", what);
    fprintf(stderr, "FORK:   saved checkpoint: size %llu, root %s\n", (unsigned long long)c->old_cp.size, r1);
    fprintf(stderr, "FORK:   the node's tree:  size %llu, root %s\n", (unsigned long long)size, r2);
    fprintf(stderr, "FORK: keep both signed checkpoints: together they prove the notary signed two histories\n");
    if (c->json) print_json(c, 0, 1, what);
    else printf("INVALID: FORK: %s\n", what);
    return WN_EXIT_INVALID;
}

static int invalid(const ctx *c, const char *why)
{
    if (c->json) print_json(c, 0, 0, why);
    else printf("INVALID: %s\n", why);
    return WN_EXIT_INVALID;
}

/* GETs path; anything but 200 is a node error. Returns: exit code. */
static int get(const ctx *c, const char *node, const char *path, wn_cli_resp *r)
{
    if (!wn_cli_http(c->cmd, node, "GET", path, NULL, r)) return WN_EXIT_NETWORK;
    if (r->status == 200) return WN_EXIT_OK;
    char msg[512];
    wn_cli_error(c->cmd, "GET %s: %s", path, wn_cli_node_error(r, msg, sizeof msg));
    return WN_EXIT_NETWORK;
}

/* Verifies the proof file against the saved checkpoint and the node's latest. */
static int check_proof(ctx *c, const uint8_t notary[32], const uint8_t *sm2, const wn_cli_resp *r)
{
    wn_cons_proof p;
    char detail[256];
    if (wn_cons_proof_parse(&p, r->body, r->len, detail, sizeof detail) != WN_PROOF_OK) {
        wn_cli_error(c->cmd, "the node's consistency proof is malformed: %s", detail);
        return WN_EXIT_NETWORK;
    }
    wn_checkpoint po, pn;
    if (wn_checkpoint_verify(p.old_cp, p.old_len, NULL, notary, &po) != WN_CHECKPOINT_OK ||
        wn_checkpoint_verify(p.new_cp, p.new_len, NULL, notary, &pn) != WN_CHECKPOINT_OK)
        return invalid(c, "a checkpoint in the node's consistency proof is not signed by the notary key");
    char why[400], w[300];
    if (sm2 && (!wn_cli_sm2_check(p.old_cp, p.old_len, sm2, w, sizeof w) ||
                !wn_cli_sm2_check(p.new_cp, p.new_len, sm2, w, sizeof w))) {
        snprintf(why, sizeof why, "a checkpoint in the node's consistency proof: %s", w);
        return invalid(c, why);
    }
    if (po.size != c->old_cp.size || pn.size != c->new_cp.size)
        return invalid(c, "the node's consistency proof is between other sizes than asked for");
    if (memcmp(po.root, c->old_cp.root, 32) != 0)
        return fork_found(c, po.size, po.root, "the node signed another root for the saved checkpoint's size");
    if (memcmp(pn.root, c->new_cp.root, 32) != 0)
        return fork_found(c, pn.size, pn.root, "the node signed two different roots for its latest size");
    if (!wn_merkle_verify_consistency(c->old_cp.size, c->new_cp.size, (const uint8_t(*)[32])p.proof, p.proof_len,
                                      c->old_cp.root, c->new_cp.root))
        return fork_found(c, c->new_cp.size, c->new_cp.root,
                          "the consistency proof from the saved checkpoint to the node's latest does not verify");
    return WN_EXIT_OK;
}

int wn_cmd_consistency(int argc, char **argv)
{
    ctx c = {.cmd = argv[0]};
    const char *node = NULL, *from = NULL, *pub = NULL, *save = NULL, *sm2arg = NULL;
    int want_help;
    const wn_cli_opt opts[] = {
        {"node", &node, NULL}, {"from-checkpoint", &from, NULL}, {"notary-pub", &pub, NULL},
        {"save", &save, NULL}, {"json", NULL, &c.json}, {"notary-sm2-pub", &sm2arg, NULL},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!node || !from || !pub) {
        wn_cli_error(c.cmd, "--node, --from-checkpoint and --notary-pub are required (see wn consistency --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t notary[32];
    if (!wn_cli_hex32(c.cmd, "notary-pub", pub, notary)) return WN_EXIT_USAGE;
    uint8_t sm2buf[33], *sm2 = NULL;
    if (sm2arg) {
        if (!wn_cli_sm2_pub(c.cmd, sm2arg, sm2buf)) return WN_EXIT_USAGE;
        sm2 = sm2buf;
    }
    size_t olen;
    char *old_note = wn_cli_read_file(c.cmd, from, WN_CHECKPOINT_MAX, &olen);
    if (!old_note) return WN_EXIT_USAGE;
    int err = wn_checkpoint_parse(old_note, olen, &c.old_cp, NULL);
    if (err) {
        wn_cli_error(c.cmd, "%s is not a signed checkpoint: %s", from, wn_checkpoint_strerror(err));
        free(old_note);
        return WN_EXIT_USAGE;
    }
    err = wn_checkpoint_verify(old_note, olen, NULL, notary, &c.old_cp);
    char sm2why[300];
    int sm2ok = !err && (!sm2 || wn_cli_sm2_check(old_note, olen, sm2, sm2why, sizeof sm2why));
    free(old_note);
    if (err) {
        char why[300];
        snprintf(why, sizeof why, "the saved checkpoint %s is not signed by the notary key: %s", from,
                 wn_checkpoint_strerror(err));
        return invalid(&c, why);
    }
    if (!sm2ok) {
        char why[600];
        snprintf(why, sizeof why, "the saved checkpoint %s: %s", from, sm2why);
        return invalid(&c, why);
    }

    wn_cli_resp r;
    int rc = get(&c, node, "/v1/checkpoint", &r);
    if (rc) {
        free(r.body);
        return rc;
    }
    err = wn_checkpoint_verify(r.body, r.len, NULL, notary, &c.new_cp);
    if (err) {
        char why[300];
        snprintf(why, sizeof why, "the node's checkpoint is not signed by the notary key: %s", wn_checkpoint_strerror(err));
        free(r.body);
        return invalid(&c, why);
    }
    if (sm2 && !wn_cli_sm2_check(r.body, r.len, sm2, sm2why, sizeof sm2why)) {
        char why[600];
        snprintf(why, sizeof why, "the node's checkpoint: %s", sm2why);
        free(r.body);
        return invalid(&c, why);
    }
    c.have_new = 1;
    char *new_note = r.body;
    size_t new_len = r.len;
    if (strcmp(c.old_cp.origin, c.new_cp.origin) != 0) {
        free(new_note);
        return invalid(&c, "the saved checkpoint is of another log (origin) than the node's");
    }
    if (c.new_cp.size < c.old_cp.size) {
        rc = fork_found(&c, c.new_cp.size, c.new_cp.root,
                        "the node's latest tree is smaller than the saved checkpoint's: it lost or hid entries");
    } else if (c.new_cp.size == c.old_cp.size) {
        rc = memcmp(c.new_cp.root, c.old_cp.root, 32) == 0
                 ? WN_EXIT_OK
                 : fork_found(&c, c.new_cp.size, c.new_cp.root, "the node signed another root for the same tree size");
    } else {
        char path[128];
        snprintf(path, sizeof path, "/v1/proof/consistency?from=%llu&to=%llu", (unsigned long long)c.old_cp.size,
                 (unsigned long long)c.new_cp.size);
        wn_cli_resp pr;
        rc = get(&c, node, path, &pr);
        if (!rc) rc = check_proof(&c, notary, sm2, &pr);
        free(pr.body);
    }
    if (rc == WN_EXIT_OK) {
        if (save && !wn_cli_write_file(c.cmd, save, new_note, new_len)) rc = WN_EXIT_USAGE;
        char r1[WN_B64_LEN(32) + 1], r2[WN_B64_LEN(32) + 1];
        b64(r1, c.old_cp.root);
        b64(r2, c.new_cp.root);
        if (c.json) {
            print_json(&c, 1, 0, NULL);
        } else {
            printf("consistency checked against the notary key\n  log origin: %s\n", c.old_cp.origin);
            printf("  old tree:   size %llu, root %s (saved)\n", (unsigned long long)c.old_cp.size, r1);
            printf("  new tree:   size %llu, root %s (the node's latest)\n", (unsigned long long)c.new_cp.size, r2);
            if (save && rc == WN_EXIT_OK) printf("  saved:      %s\n", save);
            printf("VALID: the tree of size %llu is a prefix of the tree of size %llu (nothing was changed or removed)\n",
                   (unsigned long long)c.old_cp.size, (unsigned long long)c.new_cp.size);
        }
    }
    free(new_note);
    return rc;
}
