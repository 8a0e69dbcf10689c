/* cmd_checkpoint.c — `wn checkpoint`: fetch a node's latest signed checkpoint, verify its
 * signature (with a pinned notary key, or trust-on-first-use with the key the node itself
 * reports), print it, and optionally save the note for later consistency checks. */
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/notary_sm2.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "ledger/tlog/checkpoint.h"
#include "protocol/reading.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn checkpoint --node URL [--notary-pub HEX] [--notary-sm2-pub HEX|FILE] [--origin TEXT]\n"
            "                     [--out FILE] [--json]\n"
            "\n"
            "Fetches the node's latest signed checkpoint (GET URL/v1/checkpoint: origin, tree size and\n"
            "root hash, signed by the notary), verifies the signature and prints it. With --notary-pub\n"
            "the signature must be that key's. Without it the key is taken from the node itself\n"
            "(GET /v1/pubkey): trust on first use, which proves nothing about a node that lies; pin\n"
            "the key you got the first time with --notary-pub from then on.\n"
            "\n"
            "options:\n"
            "  --node URL          the node, e.g. http://127.0.0.1:8420\n"
            "  --notary-pub HEX    the notary's x-only public key (64 hex) to verify with\n"
            "  --notary-sm2-pub HEX|FILE  also require the notary's SM2 co-signature line (PROTOCOL §4) by\n"
            "                      this compressed SM2 key (66 hex, or a file holding it); without it the\n"
            "                      line is ignored\n"
            "  --origin TEXT       require this origin (default: the node's, or any with --notary-pub)\n"
            "  --out FILE          also write the signed checkpoint, verbatim, to FILE\n"
            "  --json              print {\"origin\",\"size\",\"root\",\"notary\",\"pinned\"} instead of text\n"
            "\n"
            "example:\n"
            "  wn checkpoint --node http://127.0.0.1:8420 --notary-pub 26285c...297a --out cp-latest.txt\n"
            "\n"
            "exit codes: 0 valid, 1 the signature does not verify, 2 usage error, 3 the node could not\n"
            "be reached, has no checkpoint yet or answered something else\n");
}

/* GET /v1/pubkey: the notary key and origin the node reports. */
static int node_pubkey(const char *cmd, const char *node, uint8_t pk[32], char *origin, size_t cap)
{
    wn_cli_resp r;
    int ok = 0;
    if (!wn_cli_http(cmd, node, "GET", "/v1/pubkey", NULL, &r)) {
        free(r.body);
        return 0;
    }
    cJSON *j = r.status == 200 ? cJSON_ParseWithLength(r.body, r.len) : NULL;
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "notary") : NULL;
    const cJSON *o = j ? cJSON_GetObjectItemCaseSensitive(j, "origin") : NULL;
    if (cJSON_IsString(n) && cJSON_IsString(o) && wn_hex_decode(pk, 32, n->valuestring, strlen(n->valuestring))) {
        snprintf(origin, cap, "%s", o->valuestring);
        ok = 1;
    } else {
        wn_cli_error(cmd, "GET /v1/pubkey answered HTTP %ld without a notary key: %.200s", r.status, r.body);
    }
    cJSON_Delete(j);
    free(r.body);
    return ok;
}

int wn_cmd_checkpoint(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *pub = NULL, *origin = NULL, *out = NULL, *sm2 = NULL;
    int json = 0, want_help;
    const wn_cli_opt opts[] = {
        {"node", &node, NULL}, {"notary-pub", &pub, NULL}, {"origin", &origin, NULL},
        {"out", &out, NULL},   {"json", NULL, &json}, {"notary-sm2-pub", &sm2, NULL},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help))
        return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!node) {
        wn_cli_error(cmd, "--node URL is required (see wn checkpoint --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t pk[32];
    char node_origin[WN_ORIGIN_MAX + 1] = "";
    int pinned = pub != NULL;
    if (pinned && !wn_cli_hex32(cmd, "notary-pub", pub, pk)) return WN_EXIT_USAGE;
    uint8_t sm2_pub[33];
    if (sm2 && !wn_cli_sm2_pub(cmd, sm2, sm2_pub)) return WN_EXIT_USAGE;

    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", "/v1/checkpoint", NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    if (r.status != 200) {
        char msg[512];
        wn_cli_error(cmd, "no checkpoint from the node: %s", wn_cli_node_error(&r, msg, sizeof msg));
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    if (!pinned) {
        if (!node_pubkey(cmd, node, pk, node_origin, sizeof node_origin)) {
            free(r.body);
            return WN_EXIT_NETWORK;
        }
        char hex[65];
        wn_hex_encode(hex, pk, 32);
        fprintf(stderr,
                "wn checkpoint: trust on first use: verifying with the notary key the node reports (%s);\n"
                "               pin it with --notary-pub to notice if it ever changes\n",
                hex);
        if (!origin) origin = node_origin;
    }
    wn_checkpoint cp;
    int rc = wn_checkpoint_verify(r.body, r.len, origin, pk, &cp);
    if (rc != WN_CHECKPOINT_OK) {
        printf("INVALID: %s\n", wn_checkpoint_strerror(rc));
        free(r.body);
        return WN_EXIT_INVALID;
    }
    char why[300];
    if (sm2 && !wn_cli_sm2_check(r.body, r.len, sm2_pub, why, sizeof why)) {
        printf("INVALID: %s\n", why);
        free(r.body);
        return WN_EXIT_INVALID;
    }
    if (out && !wn_cli_write_file(cmd, out, r.body, r.len)) {
        free(r.body);
        return WN_EXIT_USAGE;
    }
    char root_hex[65], root_b64[WN_B64_LEN(32) + 1], pk_hex[65];
    wn_hex_encode(root_hex, cp.root, 32);
    wn_base64_encode(root_b64, cp.root, 32);
    wn_hex_encode(pk_hex, pk, 32);
    char t[25] = "";
    if (cp.has_time) wn_time_format(t, cp.time_ms);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "origin", cp.origin);
        cJSON_AddNumberToObject(o, "size", (double)cp.size);
        cJSON_AddStringToObject(o, "root", root_hex);
        if (cp.has_time) cJSON_AddStringToObject(o, "commit_time", t);
        cJSON_AddStringToObject(o, "notary", pk_hex);
        cJSON_AddBoolToObject(o, "pinned", pinned);
        if (sm2) {
            char h[67];
            wn_hex_encode(h, sm2_pub, 33);
            cJSON_AddStringToObject(o, "notary_sm2", h);
        }
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(o);
    } else {
        printf("origin     %s\nsize       %llu\nroot       %s (hex %s)\n", cp.origin, (unsigned long long)cp.size,
               root_b64, root_hex);
        if (cp.has_time) printf("committed  %s (latest commit time of the entries it covers)\n", t);
        else printf("committed  not stated (a checkpoint without the commit-time line)\n");
        printf("signature  valid, notary key %s (%s)\n", pk_hex, pinned ? "pinned with --notary-pub" : "trust on first use");
        if (sm2) {
            char h[67];
            wn_hex_encode(h, sm2_pub, 33);
            printf("sm2        co-signature valid, SM2 key %s (pinned with --notary-sm2-pub)\n", h);
        }
    }
    free(r.body);
    return fflush(stdout) == 0 ? WN_EXIT_OK : WN_EXIT_USAGE;
}
