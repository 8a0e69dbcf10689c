/* cmd_calibration.c — `wn calibration sign|show|register|bundle`: the registrar signs a meter
 * calibration record (protocol/calibration.h, docs/PROTOCOL.md §5 "Meter calibration"): the
 * meter's 检定/校准 certificate reference, issuing body and validity; registers it at a node;
 * anyone fetches the calibration bundle (every record of a meter with inclusion proofs) that
 * offline evaluations need (`wn claim evaluate --bundle`). Shaped like cmd_enterprise.c. */
#include "cli/commands.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/net.h"
#include "cli/proofs/calbundle.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/strict_json.h"
#include "protocol/calibration.h"
#include "protocol/reading.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn calibration sign --meter HEX --reference CERT-NO --body NAME --calibrated-at TIME\n"
            "                           --valid-until TIME --registrar-key FILE [--out FILE]\n"
            "       wn calibration show FILE\n"
            "       wn calibration register FILE --node URL\n"
            "       wn calibration bundle --node URL --meter HEX [--notary-pub HEX] [--out FILE]\n"
            "\n"
            "A calibration record (section 5, \"Meter calibration\") states that a meter holds a\n"
            "verification or calibration certificate (检定/校准, GB 24789, JJG 162) valid over\n"
            "[calibrated-at, valid-until). Re-calibration is a new record, never an edit. A policy\n"
            "with require_calibration counts a reading only inside such a validity of its meter.\n"
            "Times are RFC 3339 in UTC with milliseconds, e.g. 2025-01-01T00:00:00.000Z.\n");
}

static int read_cal(const char *cmd, const char *path, wn_calibration *c)
{
    size_t len;
    char *text = wn_cli_read_file(cmd, path, 1u << 16, &len), detail[300];
    if (!text) return 0;
    cJSON *j = wn_json_parse_strict(text, len, detail, sizeof detail);
    int rc = j ? wn_calibration_from_cjson(c, j, detail, sizeof detail) : WN_ENT_EJSON;
    cJSON_Delete(j);
    free(text);
    if (rc != WN_ENT_OK) wn_cli_error(cmd, "%s: not a valid calibration record: %s", path, detail);
    return rc == WN_ENT_OK;
}

static int cal_sign(int argc, char **argv)
{
    const char *cmd = argv[0], *meter = NULL, *ref = NULL, *body = NULL, *from = NULL, *until = NULL, *key = NULL,
               *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"meter", &meter, NULL},        {"reference", &ref, NULL},        {"body", &body, NULL},
                               {"calibrated-at", &from, NULL}, {"valid-until", &until, NULL},    {"registrar-key", &key, NULL},
                               {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos || !meter || !ref || !body || !from || !until || !key) {
        wn_cli_error(cmd, "give --meter, --reference, --body, --calibrated-at, --valid-until and --registrar-key (see wn "
                          "calibration --help)");
        return WN_EXIT_USAGE;
    }
    wn_calibration c;
    memset(&c, 0, sizeof c);
    if (!wn_cli_hex32(cmd, "meter", meter, c.meter)) return WN_EXIT_USAGE;
    if (strlen(ref) > WN_CAL_REF_MAX || strlen(body) > WN_CAL_BODY_MAX) {
        wn_cli_error(cmd, "--reference takes at most 128 bytes, --body at most 200");
        return WN_EXIT_USAGE;
    }
    strcpy(c.reference, ref);
    strcpy(c.body, body);
    if (!wn_time_parse(from, strlen(from), &c.calibrated_ms) || !wn_time_parse(until, strlen(until), &c.valid_until_ms)) {
        wn_cli_error(cmd, "--calibrated-at and --valid-until take times like 2025-01-01T00:00:00.000Z");
        return WN_EXIT_USAGE;
    }
    uint8_t sk[32];
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: not a readable secret key file", key);
        return WN_EXIT_USAGE;
    }
    int rc = wn_calibration_sign(&c, sk);
    memset(sk, 0, sizeof sk);
    char json[WN_CALIBRATION_JSON_MAX];
    size_t len;
    if (rc != WN_ENT_OK || wn_calibration_to_json(&c, json, sizeof json - 1, &len) != WN_ENT_OK) {
        wn_cli_error(cmd, "the record could not be signed: %s (texts without control characters? calibrated-at "
                          "before valid-until?)", wn_ent_strerror(rc));
        return WN_EXIT_USAGE;
    }
    json[len++] = '\n';
    return wn_cli_write_file(cmd, out, json, len) ? WN_EXIT_OK : WN_EXIT_USAGE;
}

static int cal_show(int argc, char **argv)
{
    const char *cmd = argv[0], *pos[1];
    int want_help;
    size_t npos;
    if (!wn_cli_parse(argc, argv, NULL, 0, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1) return wn_cli_error(cmd, "give FILE (see wn calibration --help)"), WN_EXIT_USAGE;
    wn_calibration c;
    if (!read_cal(cmd, pos[0], &c)) return WN_EXIT_USAGE;
    int valid = wn_calibration_verify(&c) == WN_ENT_OK;
    char h[65], t1[25], t2[25];
    wn_hex_encode(h, c.meter, 32);
    wn_time_format(t1, c.calibrated_ms);
    wn_time_format(t2, c.valid_until_ms);
    printf("meter        %s\ncertificate  %s\nbody         %s\nvalid        [%s, %s)\n", h, c.reference, c.body, t1, t2);
    wn_hex_encode(h, c.registrar, 32);
    printf("registrar    %s\nsignature    %s\n", h, valid ? "valid" : "DOES NOT VERIFY");
    return valid ? WN_EXIT_OK : WN_EXIT_INVALID;
}

static int cal_register(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}};
    if (!wn_cli_parse(argc, argv, opts, 1, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !node) return wn_cli_error(cmd, "give FILE and --node URL (see wn calibration --help)"), WN_EXIT_USAGE;
    char json[WN_CALIBRATION_JSON_MAX], msg[512];
    wn_calibration c;
    if (!read_cal(cmd, pos[0], &c) || wn_calibration_to_json(&c, json, sizeof json, NULL) != WN_ENT_OK) return WN_EXIT_USAGE;
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "POST", "/v1/calibrations", json, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int code = WN_EXIT_OK;
    if (r.status == 200) {
        printf("%.*s\n", (int)r.len, r.body);
    } else {
        wn_cli_error(cmd, "the node refused it: %s", wn_cli_node_error(&r, msg, sizeof msg));
        code = r.status >= 400 && r.status < 500 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    }
    free(r.body);
    return code;
}

static int cal_bundle(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *meter = NULL, *pub = NULL, *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}, {"meter", &meter, NULL}, {"notary-pub", &pub, NULL}, {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    uint8_t m[32], notary[32];
    if (npos || !node || !meter) return wn_cli_error(cmd, "give --node URL and --meter HEX"), WN_EXIT_USAGE;
    if (!wn_cli_hex32(cmd, "meter", meter, m)) return WN_EXIT_USAGE;
    if (pub && !wn_cli_hex32(cmd, "notary-pub", pub, notary)) return WN_EXIT_USAGE;
    char path[128], msg[512];
    snprintf(path, sizeof path, "/v1/calibrations/bundle?meter=%s", meter);
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", path, NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc = WN_EXIT_OK;
    if (r.status != 200) {
        wn_cli_error(cmd, "the node gave no bundle: %s", wn_cli_node_error(&r, msg, sizeof msg));
        rc = r.status == 404 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    } else if (pub) {
        wn_cal_bundle b;
        wn_report rep;
        char detail[256];
        wn_report_init(&rep, "calibration-bundle");
        if (!wn_cal_bundle_parse(&b, r.body, r.len, detail, sizeof detail)) {
            wn_cli_error(cmd, "the node's answer is not a bundle of calibration records: %s", detail);
            rc = WN_EXIT_NETWORK;
        } else if (!wn_cal_bundle_verify(&b, notary, NULL, &rep)) {
            wn_report_print(&rep, stderr, 20);
            wn_cli_error(cmd, "the node's bundle does not verify");
            rc = WN_EXIT_INVALID;
        }
        wn_cal_bundle_free(&b);
        wn_report_free(&rep);
    }
    if (rc == WN_EXIT_OK && !wn_cli_write_file(cmd, out, r.body, r.len)) rc = WN_EXIT_USAGE;
    free(r.body);
    return rc;
}

int wn_cmd_calibration(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"sign", cal_sign}, {"show", cal_show}, {"register", cal_register}, {"bundle", cal_bundle}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        char name[32];
        snprintf(name, sizeof name, "calibration %s", subs[i].name);
        argv[1] = name;
        return subs[i].fn(argc - 1, argv + 1);
    }
    wn_cli_error("calibration", "unknown subcommand '%s': sign, show, register or bundle", argv[1]);
    return WN_EXIT_USAGE;
}
