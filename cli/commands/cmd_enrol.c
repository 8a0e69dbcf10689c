/* cmd_enrol.c — `wn enrol` and `wn revoke`: build an enrolment or revocation record
 * (docs/PROTOCOL.md §5), sign it with the registrar's key, POST it to a node
 * (/v1/enrolments, /v1/revocations) and print the ledger index the node gave it. */
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/keyfile.h"

#include <errno.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void enrol_help(FILE *f)
{
    fprintf(f,
            "usage: wn enrol --node URL --registrar-key FILE --meter HEX --enterprise ID --point POINT\n"
            "                --tier 1|2|3 --source SOURCE [--alg bip340|ecdsa|p256|sm2] [--pubkey HEX66]\n"
            "                [--parent HEX] [--calibration REF] [--json]\n"
            "\n"
            "Enrols a meter at a notary node: builds the enrolment record, signs it with the registrar\n"
            "(water bureau) key and POSTs it to URL/v1/enrolments. The node appends it to its ledger,\n"
            "so from that entry on the meter's signed readings are accepted. Prints the ledger index.\n"
            "\n"
            "options:\n"
            "  --node URL            the node, e.g. http://127.0.0.1:8420\n"
            "  --registrar-key FILE  the registrar's secret key file (the node's --registrar key)\n"
            "  --meter HEX           the meter id: its x-only public key (64 hex)\n"
            "  --alg ALG             bip340 (default), ecdsa (secp256k1), p256 or sm2; all but\n"
            "                        bip340 need --pubkey, and p256 and sm2 ids are derived from it\n"
            "  --pubkey HEX66        ecdsa: the meter's compressed key (02/03 || meter id); bip340: optional\n"
            "  --enterprise ID       the enterprise, e.g. its unified social credit code (1..64 bytes)\n"
            "  --point POINT         intake, treatment, supply, use, discharge or recycling\n"
            "  --tier N              metering tier: 1 intake, 2 workshop, 3 equipment\n"
            "  --source SOURCE       surface, groundwater, tap, reclaimed, rainwater or mine_water\n"
            "  --parent HEX          the meter one tier up (64 hex), if any\n"
            "  --calibration REF     calibration certificate reference (0..128 bytes)\n"
            "  --json                print the node's JSON answer instead of a sentence\n"
            "\n"
            "example:\n"
            "  wn enrol --node http://127.0.0.1:8420 --registrar-key bureau.key \\\n"
            "     --meter 5f3c...a1 --enterprise 91620700MA000000XX --point intake --tier 1 \\\n"
            "     --source groundwater --calibration CAL-2026-0042\n"
            "\n"
            "exit codes: 0 enrolled, 1 the node refused it (e.g. already_enrolled), 2 usage error or\n"
            "unreadable key, 3 the node could not be reached or failed\n");
}

static void revoke_help(FILE *f)
{
    fprintf(f,
            "usage: wn revoke --node URL --registrar-key FILE --meter HEX [--reason REASON] [--json]\n"
            "\n"
            "Revokes a meter at a notary node: builds the revocation record, signs it with the\n"
            "registrar key and POSTs it to URL/v1/revocations. From that ledger entry on the node\n"
            "refuses the meter's readings, and the meter id can never be enrolled again.\n"
            "\n"
            "options:\n"
            "  --node URL            the node, e.g. http://127.0.0.1:8420\n"
            "  --registrar-key FILE  the registrar's secret key file\n"
            "  --meter HEX           the meter id (64 hex)\n"
            "  --reason REASON       other (default), compromised, decommissioned or replaced\n"
            "  --json                print the node's JSON answer instead of a sentence\n"
            "\n"
            "example:\n"
            "  wn revoke --node http://127.0.0.1:8420 --registrar-key bureau.key --meter 5f3c...a1 \\\n"
            "     --reason compromised\n"
            "\n"
            "exit codes: 0 revoked, 1 the node refused it (e.g. unknown_meter, already_revoked), 2 usage\n"
            "error or unreadable key, 3 the node could not be reached or failed\n");
}

/* 66 hex characters (either case) into a 33-byte compressed key. Returns: 1 on success. */
static int hex33(const char *s, uint8_t out[33])
{
    char lower[67];
    if (strlen(s) != 66) return 0;
    for (size_t i = 0; i < 66; i++) lower[i] = (char)tolower((unsigned char)s[i]);
    lower[66] = '\0';
    return wn_hex_decode(out, 33, lower, 66);
}

/* The code whose name(code) is name, for codes from..max; -1 if none. */
static int lookup(const char *(*names)(unsigned), unsigned from, unsigned max, const char *name)
{
    for (unsigned i = from; i <= max; i++)
        if (names(i) && strcmp(names(i), name) == 0) return (int)i;
    return -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* POSTs json to path and reports the result. */
static int submit(const char *cmd, const char *node, const char *path, const char *json, int print_json,
                  const char *what, const uint8_t meter[32])
{
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "POST", path, json, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int code = WN_EXIT_OK;
    char msg[512];
    if (r.status == 200) {
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        const cJSON *idx = j ? cJSON_GetObjectItemCaseSensitive(j, "index") : NULL;
        const cJSON *leaf = j ? cJSON_GetObjectItemCaseSensitive(j, "leaf") : NULL;
        if (!cJSON_IsNumber(idx) || !cJSON_IsString(leaf)) {
            wn_cli_error(cmd, "the node answered 200 without an index: %.200s", r.body);
            code = WN_EXIT_NETWORK;
        } else if (print_json) {
            printf("%s\n", r.body);
        } else {
            char hex[65];
            wn_hex_encode(hex, meter, 32);
            printf("%s meter %s at ledger index %.0f (leaf %s)\n", what, hex, idx->valuedouble, leaf->valuestring);
        }
        cJSON_Delete(j);
    } else {
        if (print_json) printf("%s\n", r.body);
        wn_cli_error(cmd, "the node refused it: %s", wn_cli_node_error(&r, msg, sizeof msg));
        code = r.status >= 400 && r.status < 500 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    }
    free(r.body);
    return code;
}

int wn_cmd_enrol(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *node = NULL, *keyfile = NULL, *meter = NULL, *alg = NULL, *pubkey = NULL, *enterprise = NULL,
               *point = NULL, *tier = NULL, *source = NULL, *parent = NULL, *calibration = NULL;
    int json = 0, want_help;
    const wn_cli_opt opts[] = {
        {"node", &node, NULL},       {"registrar-key", &keyfile, NULL}, {"meter", &meter, NULL},
        {"alg", &alg, NULL},         {"pubkey", &pubkey, NULL},         {"enterprise", &enterprise, NULL},
        {"point", &point, NULL},     {"tier", &tier, NULL},             {"source", &source, NULL},
        {"parent", &parent, NULL},   {"calibration", &calibration, NULL}, {"json", NULL, &json},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help))
        return WN_EXIT_USAGE;
    if (want_help) {
        enrol_help(stdout);
        return WN_EXIT_OK;
    }
    if (!node || !keyfile || !meter || !enterprise || !point || !tier || !source) {
        wn_cli_error(cmd, "--node, --registrar-key, --meter, --enterprise, --point, --tier and --source are required "
                          "(see wn enrol --help)");
        return WN_EXIT_USAGE;
    }
    if (!alg) alg = "bip340"; /* defaults after parsing: the parser treats a set value as given */
    if (!calibration) calibration = "";
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    if (!wn_cli_hex32(cmd, "meter", meter, e.meter)) return WN_EXIT_USAGE;
    for (unsigned a = 1; a <= WN_ALG_MAX; a++)
        if (strcmp(alg, wn_alg_name(a)) == 0) e.alg = (uint8_t)a;
    if (!e.alg) {
        wn_cli_error(cmd, "--alg is bip340, ecdsa, p256 or sm2, not '%s'", alg);
        return WN_EXIT_USAGE;
    }
    if (pubkey) {
        if (!hex33(pubkey, e.pubkey)) {
            wn_cli_error(cmd, "--pubkey wants a compressed key as 66 hex characters (got %zu characters)",
                         strlen(pubkey));
            return WN_EXIT_USAGE;
        }
    } else if (e.alg != WN_ALG_BIP340) {
        wn_cli_error(cmd, "--alg %s needs --pubkey HEX66, the meter's compressed public key", alg);
        return WN_EXIT_USAGE;
    } else {
        e.pubkey[0] = 0x02;
        memcpy(e.pubkey + 1, e.meter, 32);
    }
    uint8_t derived[32];
    if ((e.alg == WN_ALG_P256 || e.alg == WN_ALG_SM2) &&
        (!wn_meter_id_of(e.alg, e.pubkey, derived) || memcmp(derived, e.meter, 32) != 0)) {
        wn_cli_error(cmd, "--meter must be the id derived from --pubkey (PROTOCOL.md section 1)");
        return WN_EXIT_USAGE;
    }
    if ((e.alg == WN_ALG_BIP340 || e.alg == WN_ALG_ECDSA) && memcmp(e.pubkey + 1, e.meter, 32) != 0) {
        wn_cli_error(cmd, "--pubkey's x coordinate (after its first byte) must be the meter id");
        return WN_EXIT_USAGE;
    }
    int p = lookup(wn_point_name, 1, WN_POINT_MAX, point), s = lookup(wn_source_name, 1, WN_SOURCE_MAX, source);
    if (p < 0) {
        wn_cli_error(cmd, "--point is intake, treatment, supply, use, discharge or recycling, not '%s'", point);
        return WN_EXIT_USAGE;
    }
    if (s < 0) {
        wn_cli_error(cmd, "--source is surface, groundwater, tap, reclaimed, rainwater or mine_water, not '%s'", source);
        return WN_EXIT_USAGE;
    }
    uint64_t t;
    if (!wn_cli_u64(cmd, "tier", tier, &t)) return WN_EXIT_USAGE;
    if (t < 1 || t > 3) {
        wn_cli_error(cmd, "--tier is 1, 2 or 3");
        return WN_EXIT_USAGE;
    }
    if (parent && !wn_cli_hex32(cmd, "parent", parent, e.parent)) return WN_EXIT_USAGE;
    if (strlen(enterprise) < 1 || strlen(enterprise) > WN_ENTERPRISE_MAX) {
        wn_cli_error(cmd, "--enterprise must be 1..%d bytes", WN_ENTERPRISE_MAX);
        return WN_EXIT_USAGE;
    }
    if (strlen(calibration) > WN_CALIBRATION_MAX) {
        wn_cli_error(cmd, "--calibration must be at most %d bytes", WN_CALIBRATION_MAX);
        return WN_EXIT_USAGE;
    }
    e.point = (uint8_t)p;
    e.source = (uint8_t)s;
    e.tier = (uint8_t)t;
    e.time_ms = now_ms();
    snprintf(e.enterprise, sizeof e.enterprise, "%s", enterprise);
    snprintf(e.calibration, sizeof e.calibration, "%s", calibration);

    uint8_t sk[32];
    if (!wn_keyfile_read(keyfile, sk)) {
        wn_cli_error(cmd, "cannot use the registrar key %s: %s", keyfile, wn_keyfile_strerror(errno));
        return WN_EXIT_USAGE;
    }
    int rc = wn_enrolment_sign(&e, sk);
    memset(sk, 0, sizeof sk);
    char body[2048];
    size_t len;
    if (rc == WN_ENROL_OK) rc = wn_enrolment_to_json(&e, body, sizeof body, &len);
    if (rc != WN_ENROL_OK) {
        wn_cli_error(cmd, "the enrolment is not valid: %s", wn_enrol_strerror(rc));
        return WN_EXIT_USAGE;
    }
    return submit(cmd, node, "/v1/enrolments", body, json, "enrolled", e.meter);
}

int wn_cmd_revoke(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *node = NULL, *keyfile = NULL, *meter = NULL, *reason = NULL;
    int json = 0, want_help;
    const wn_cli_opt opts[] = {
        {"node", &node, NULL},   {"registrar-key", &keyfile, NULL}, {"meter", &meter, NULL},
        {"reason", &reason, NULL}, {"json", NULL, &json},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help))
        return WN_EXIT_USAGE;
    if (want_help) {
        revoke_help(stdout);
        return WN_EXIT_OK;
    }
    if (!node || !keyfile || !meter) {
        wn_cli_error(cmd, "--node, --registrar-key and --meter are required (see wn revoke --help)");
        return WN_EXIT_USAGE;
    }
    if (!reason) reason = "other";
    wn_revocation r;
    memset(&r, 0, sizeof r);
    if (!wn_cli_hex32(cmd, "meter", meter, r.meter)) return WN_EXIT_USAGE;
    int why = lookup(wn_revoke_reason_name, 0, WN_REVOKE_MAX, reason);
    if (why < 0) {
        wn_cli_error(cmd, "--reason is other, compromised, decommissioned or replaced, not '%s'", reason);
        return WN_EXIT_USAGE;
    }
    r.reason = (uint8_t)why;
    r.time_ms = now_ms();
    uint8_t sk[32];
    if (!wn_keyfile_read(keyfile, sk)) {
        wn_cli_error(cmd, "cannot use the registrar key %s: %s", keyfile, wn_keyfile_strerror(errno));
        return WN_EXIT_USAGE;
    }
    int rc = wn_revocation_sign(&r, sk);
    memset(sk, 0, sizeof sk);
    char body[1024];
    size_t len;
    if (rc == WN_ENROL_OK) rc = wn_revocation_to_json(&r, body, sizeof body, &len);
    if (rc != WN_ENROL_OK) {
        wn_cli_error(cmd, "the revocation is not valid: %s", wn_enrol_strerror(rc));
        return WN_EXIT_USAGE;
    }
    return submit(cmd, node, "/v1/revocations", body, json, "revoked", r.meter);
}
