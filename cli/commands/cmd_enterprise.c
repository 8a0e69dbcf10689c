/* cmd_enterprise.c — `wn enterprise sign|show|register|bundle`: the registrar signs an
 * enterprise record (protocol/enterprise.h, docs/PROTOCOL.md §5 "Enterprises") naming the
 * keys that may sign for the enterprise, registers it at a node, and anyone fetches the
 * enterprise bundle (every record of a code with inclusion proofs) that offline evaluations
 * need (`wn claim evaluate --bundle`). */
#include "cli/commands.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/net.h"
#include "cli/proofs/entbundle.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/strict_json.h"
#include "protocol/accreditation.h"
#include "protocol/enterprise.h"
#include "protocol/reading.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn enterprise sign --code CODE --name NAME --area AREA --keys HEX[,HEX...]\n"
            "                          --sequence N --registrar-key FILE [--time TIME] [--out FILE]\n"
            "       wn enterprise show FILE\n"
            "       wn enterprise register FILE --node URL\n"
            "       wn enterprise bundle --node URL --code CODE [--notary-pub HEX] [--out FILE]\n"
            "       wn accreditation sign --code CODE --name NAME --number CMA/CNAS --scope NAME[,NAME...]\n"
            "                          --valid-from TIME --valid-to TIME --keys HEX[,HEX...] --sequence N\n"
            "                          --registrar-key FILE [--out FILE]\n"
            "       wn accreditation show|register|bundle ... (as for enterprise records)\n"
            "\n"
            "An enterprise record (docs/PROTOCOL.md section 5, \"Enterprises\") states, under the\n"
            "registrar's signature, which keys may sign for the enterprise with unified social credit\n"
            "code CODE (GB 32100-2015; its check character is verified). A claim is valid only when\n"
            "signed by one of those keys and only over meters enrolled for CODE. To rotate keys, or\n"
            "revoke one, sign a record with a higher --sequence: from its ledger index on, only its\n"
            "keys count.\n"
            "\n"
            "An accreditation record (section 5, \"Certifier accreditation\") states a testing body's\n"
            "CMA/CNAS number, scope (e.g. water_saving), validity [from, to) and certifying keys; a\n"
            "policy with accreditation_scope counts a certification only inside its validity and scope,\n"
            "by a body other than the claimant. The certifier's enrolment names the body by its code.\n"
            "\n"
            "  sign      the registrar signs a record (written as JSON).\n"
            "  show      prints a record and whether its signature verifies.\n"
            "  register  POSTs a record to URL/v1/enterprises.\n"
            "  bundle    fetches every record of CODE with inclusion proofs (an enterprise bundle\n"
            "            for wn claim evaluate --bundle); with --notary-pub also verifies it.\n"
            "\n"
            "options:\n"
            "  --code CODE          the unified social credit code, 18 characters\n"
            "  --name NAME          the registered name, 1..200 bytes\n"
            "  --area AREA          the county, district or industrial park, 1..64 bytes\n"
            "  --keys HEX,...       1..8 x-only keys (64 hex each), comma-separated\n"
            "  --sequence N         1 for the first record of CODE, higher for each rotation\n"
            "  --registrar-key FILE the registrar's secret key file\n"
            "  --time TIME          the record's time (default: now)\n"
            "\n"
            "example:\n"
            "  wn enterprise sign --code 91330400MA2B0000XX --name \"Jiaxing Steel Co.\" --area \"Pinghu\" \\\n"
            "     --keys 3f2a...e1 --sequence 1 --registrar-key registrar.key --out ent.json\n"
            "  wn enterprise register ent.json --node http://127.0.0.1:8080\n"
            "\n"
            "exit codes: 0 done (show: the signature verifies), 1 does not verify or refused by the\n"
            "node, 2 usage error or unreadable input, 3 network or node error\n");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ent_sign(int argc, char **argv)
{
    const char *cmd = argv[0], *code = NULL, *name = NULL, *area = NULL, *keys = NULL, *seq = NULL, *key = NULL,
               *tm = NULL, *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"code", &code, NULL},    {"name", &name, NULL},         {"area", &area, NULL},
                               {"keys", &keys, NULL},    {"sequence", &seq, NULL},     {"registrar-key", &key, NULL},
                               {"time", &tm, NULL},      {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos || !code || !name || !area || !keys || !seq || !key) {
        wn_cli_error(cmd, "give --code, --name, --area, --keys, --sequence and --registrar-key (see wn enterprise --help)");
        return WN_EXIT_USAGE;
    }
    wn_enterprise e;
    memset(&e, 0, sizeof e);
    if (!wn_uscc_valid(code)) {
        char want = strlen(code) >= 17 ? wn_uscc_check_char(code) : 0;
        if (want && strlen(code) == 18)
            wn_cli_error(cmd, "--code %s: the check character of GB 32100-2015 is %c, not %c", code, want, code[17]);
        else
            wn_cli_error(cmd, "--code %s: not a unified social credit code (18 characters: digits and capitals but "
                              "I, O, Z, S, V)", code);
        return WN_EXIT_USAGE;
    }
    if (strlen(name) > WN_ENT_NAME_MAX || strlen(area) > WN_ENT_AREA_MAX) {
        wn_cli_error(cmd, "--name takes at most 200 bytes, --area 64");
        return WN_EXIT_USAGE;
    }
    strcpy(e.code, code);
    strcpy(e.name, name);
    strcpy(e.area, area);
    if (!wn_cli_u64(cmd, "sequence", seq, &e.seq)) return WN_EXIT_USAGE;
    e.time_ms = now_ms();
    if (tm && !wn_time_parse(tm, strlen(tm), &e.time_ms)) {
        wn_cli_error(cmd, "--time takes a time like 2025-02-15T00:00:00.000Z");
        return WN_EXIT_USAGE;
    }
    for (const char *p = keys; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char hex[65];
        if (e.n_keys == WN_ENT_KEYS_MAX || n != 64) {
            wn_cli_error(cmd, "--keys takes 1..8 keys of 64 hex characters, comma-separated");
            return WN_EXIT_USAGE;
        }
        memcpy(hex, p, 64);
        hex[64] = '\0';
        if (!wn_cli_hex32(cmd, "keys", hex, e.keys[e.n_keys++])) return WN_EXIT_USAGE;
        p += n + (end ? 1 : 0);
    }
    uint8_t sk[32];
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: not a readable secret key file (64 hex characters and a newline)", key);
        return WN_EXIT_USAGE;
    }
    int rc = wn_enterprise_sign(&e, sk);
    memset(sk, 0, sizeof sk);
    char json[WN_ENTERPRISE_JSON_MAX];
    size_t len;
    if (rc != WN_ENT_OK || wn_enterprise_to_json(&e, json, sizeof json - 1, &len) != WN_ENT_OK) {
        wn_cli_error(cmd, "the record could not be signed: %s (a key twice, an invalid key, text with control "
                          "characters?)", wn_ent_strerror(rc));
        return WN_EXIT_USAGE;
    }
    json[len++] = '\n';
    return wn_cli_write_file(cmd, out, json, len) ? WN_EXIT_OK : WN_EXIT_USAGE;
}

static int read_record(const char *cmd, const char *path, wn_enterprise *e, char **text_out)
{
    size_t len;
    char *text = wn_cli_read_file(cmd, path, 1u << 16, &len), detail[300];
    if (!text) return 0;
    cJSON *j = wn_json_parse_strict(text, len, detail, sizeof detail);
    int rc = j ? wn_enterprise_from_cjson(e, j, detail, sizeof detail) : WN_ENT_EJSON;
    cJSON_Delete(j);
    if (rc != WN_ENT_OK) {
        wn_cli_error(cmd, "%s: not a valid enterprise record: %s", path, detail);
        free(text);
        return 0;
    }
    if (text_out) *text_out = text;
    else free(text);
    return 1;
}

static int read_acc(const char *cmd, const char *path, wn_accreditation *a)
{
    size_t len;
    char *text = wn_cli_read_file(cmd, path, 1u << 16, &len), detail[300];
    if (!text) return 0;
    cJSON *j = wn_json_parse_strict(text, len, detail, sizeof detail);
    int rc = j ? wn_accreditation_from_cjson(a, j, detail, sizeof detail) : WN_ENT_EJSON;
    cJSON_Delete(j);
    free(text);
    if (rc != WN_ENT_OK) wn_cli_error(cmd, "%s: not a valid accreditation record: %s", path, detail);
    return rc == WN_ENT_OK;
}

/* Splits "a,b,c" into at most max items of at most 64 bytes. Returns: the count, or -1. */
static int split(const char *s, char (*out)[65], int max)
{
    int n = 0;
    for (const char *p = s; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == max || len == 0 || len > 64) return -1;
        memcpy(out[n], p, len);
        out[n++][len] = '\0';
        p += len + (end ? 1 : 0);
    }
    return n;
}

static int acc_sign(int argc, char **argv)
{
    const char *cmd = argv[0], *code = NULL, *name = NULL, *number = NULL, *scope = NULL, *from = NULL, *to = NULL,
               *keys = NULL, *seq = NULL, *key = NULL, *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"code", &code, NULL},   {"name", &name, NULL},         {"number", &number, NULL},
                               {"scope", &scope, NULL}, {"valid-from", &from, NULL},   {"valid-to", &to, NULL},
                               {"keys", &keys, NULL},   {"sequence", &seq, NULL},      {"registrar-key", &key, NULL},
                               {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos || !code || !name || !number || !scope || !from || !to || !keys || !seq || !key) {
        wn_cli_error(cmd, "give --code, --name, --number, --scope, --valid-from, --valid-to, --keys, --sequence and "
                          "--registrar-key (see wn accreditation --help)");
        return WN_EXIT_USAGE;
    }
    wn_accreditation a;
    memset(&a, 0, sizeof a);
    char items[16][65];
    int ns = split(scope, items, WN_ACC_SCOPES_MAX);
    if (!wn_uscc_valid(code) || strlen(name) > WN_ENT_NAME_MAX || strlen(number) > WN_ACC_NUMBER_MAX || ns < 1) {
        wn_cli_error(cmd, "--code must be a unified social credit code, --name at most 200 bytes, --number 64, --scope "
                          "1..16 names");
        return WN_EXIT_USAGE;
    }
    strcpy(a.code, code);
    strcpy(a.name, name);
    strcpy(a.number, number);
    for (int i = 0; i < ns; i++) snprintf(a.scope[a.n_scope++], sizeof a.scope[0], "%.32s", items[i]);
    if (!wn_cli_u64(cmd, "sequence", seq, &a.seq)) return WN_EXIT_USAGE;
    if (!wn_time_parse(from, strlen(from), &a.valid_from_ms) || !wn_time_parse(to, strlen(to), &a.valid_to_ms)) {
        wn_cli_error(cmd, "--valid-from and --valid-to take times like 2025-01-01T00:00:00.000Z");
        return WN_EXIT_USAGE;
    }
    int nkeys = split(keys, items, WN_ENT_KEYS_MAX);
    if (nkeys < 1) return wn_cli_error(cmd, "--keys takes 1..8 keys, comma-separated"), WN_EXIT_USAGE;
    for (int i = 0; i < nkeys; i++)
        if (!wn_cli_hex32(cmd, "keys", items[i], a.keys[a.n_keys++])) return WN_EXIT_USAGE;
    uint8_t sk[32];
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: not a readable secret key file", key);
        return WN_EXIT_USAGE;
    }
    int rc = wn_accreditation_sign(&a, sk);
    memset(sk, 0, sizeof sk);
    char json[WN_ACCREDITATION_JSON_MAX];
    size_t len;
    if (rc != WN_ENT_OK || wn_accreditation_to_json(&a, json, sizeof json - 1, &len) != WN_ENT_OK) {
        wn_cli_error(cmd, "the record could not be signed: %s (a scope name of a-z, 0-9, _? from before to?)",
                     wn_ent_strerror(rc));
        return WN_EXIT_USAGE;
    }
    json[len++] = '\n';
    return wn_cli_write_file(cmd, out, json, len) ? WN_EXIT_OK : WN_EXIT_USAGE;
}

static int acc_show(int argc, char **argv)
{
    const char *cmd = argv[0], *pos[1];
    int want_help;
    size_t npos;
    if (!wn_cli_parse(argc, argv, NULL, 0, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1) return wn_cli_error(cmd, "give FILE (see wn accreditation --help)"), WN_EXIT_USAGE;
    wn_accreditation a;
    if (!read_acc(cmd, pos[0], &a)) return WN_EXIT_USAGE;
    int valid = wn_accreditation_verify(&a) == WN_ENT_OK;
    char h[65], t1[25], t2[25];
    wn_time_format(t1, a.valid_from_ms);
    wn_time_format(t2, a.valid_to_ms);
    printf("certifier    %s\nname         %s\nnumber       %s\nvalid        [%s, %s)\nsequence     %llu\n", a.code,
           a.name, a.number, t1, t2, (unsigned long long)a.seq);
    for (size_t i = 0; i < a.n_scope; i++) printf("scope        %s\n", a.scope[i]);
    for (size_t i = 0; i < a.n_keys; i++) {
        wn_hex_encode(h, a.keys[i], 32);
        printf("key          %s\n", h);
    }
    wn_hex_encode(h, a.registrar, 32);
    printf("registrar    %s\nsignature    %s\n", h, valid ? "valid" : "DOES NOT VERIFY");
    return valid ? WN_EXIT_OK : WN_EXIT_INVALID;
}

static int ent_show(int argc, char **argv)
{
    const char *cmd = argv[0], *pos[1];
    int want_help;
    size_t npos;
    if (!wn_cli_parse(argc, argv, NULL, 0, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1) return wn_cli_error(cmd, "give FILE (see wn enterprise --help)"), WN_EXIT_USAGE;
    wn_enterprise e;
    if (!read_record(cmd, pos[0], &e, NULL)) return WN_EXIT_USAGE;
    int valid = wn_enterprise_verify(&e) == WN_ENT_OK;
    char h[65], t[25];
    wn_time_format(t, e.time_ms);
    printf("enterprise   %s\nname         %s\narea         %s\nsequence     %llu\ntime         %s\n", e.code, e.name,
           e.area, (unsigned long long)e.seq, t);
    for (size_t i = 0; i < e.n_keys; i++) {
        wn_hex_encode(h, e.keys[i], 32);
        printf("key          %s\n", h);
    }
    wn_hex_encode(h, e.registrar, 32);
    printf("registrar    %s\nsignature    %s\n", h, valid ? "valid" : "DOES NOT VERIFY");
    return valid ? WN_EXIT_OK : WN_EXIT_INVALID;
}

static int acc_mode; /* 1: `wn accreditation` */

static int ent_register(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}};
    if (!wn_cli_parse(argc, argv, opts, 1, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !node) return wn_cli_error(cmd, "give FILE and --node URL (see wn enterprise --help)"), WN_EXIT_USAGE;
    char json[WN_ACCREDITATION_JSON_MAX], msg[512];
    if (acc_mode) {
        wn_accreditation a;
        if (!read_acc(cmd, pos[0], &a) || wn_accreditation_to_json(&a, json, sizeof json, NULL) != WN_ENT_OK)
            return WN_EXIT_USAGE;
    } else {
        wn_enterprise e;
        if (!read_record(cmd, pos[0], &e, NULL) || wn_enterprise_to_json(&e, json, sizeof json, NULL) != WN_ENT_OK)
            return WN_EXIT_USAGE;
    }
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "POST", acc_mode ? "/v1/accreditations" : "/v1/enterprises", json, &r)) {
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

static int ent_bundle(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *code = NULL, *pub = NULL, *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}, {"code", &code, NULL}, {"notary-pub", &pub, NULL}, {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos || !node || !code || !wn_uscc_valid(code))
        return wn_cli_error(cmd, "give --node URL and --code CODE, a unified social credit code"), WN_EXIT_USAGE;
    uint8_t notary[32];
    if (pub && !wn_cli_hex32(cmd, "notary-pub", pub, notary)) return WN_EXIT_USAGE;
    char path[128], msg[512];
    snprintf(path, sizeof path, "/v1/%s/bundle?code=%s", acc_mode ? "accreditations" : "enterprises", code);
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
        wn_ent_bundle b;
        wn_report rep;
        char detail[256];
        wn_report_init(&rep, "enterprise-bundle");
        if (!wn_ent_bundle_parse(&b, r.body, r.len, detail, sizeof detail)) {
            wn_cli_error(cmd, "the node's answer is not a bundle of records: %s", detail);
            rc = WN_EXIT_NETWORK;
        } else if (!wn_ent_bundle_verify(&b, notary, NULL, &rep)) {
            wn_report_print(&rep, stderr, 20);
            wn_cli_error(cmd, "the node's bundle does not verify");
            rc = WN_EXIT_INVALID;
        }
        wn_ent_bundle_free(&b);
        wn_report_free(&rep);
    }
    if (rc == WN_EXIT_OK && !wn_cli_write_file(cmd, out, r.body, r.len)) rc = WN_EXIT_USAGE;
    free(r.body);
    return rc;
}

int wn_cmd_accreditation(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"sign", acc_sign}, {"show", acc_show}, {"register", ent_register}, {"bundle", ent_bundle}};
    acc_mode = 1;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        char name[32];
        snprintf(name, sizeof name, "accreditation %s", subs[i].name);
        argv[1] = name;
        return subs[i].fn(argc - 1, argv + 1);
    }
    wn_cli_error("accreditation", "unknown subcommand '%s': sign, show, register or bundle", argv[1]);
    return WN_EXIT_USAGE;
}

int wn_cmd_enterprise(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"sign", ent_sign}, {"show", ent_show}, {"register", ent_register}, {"bundle", ent_bundle}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        char name[32];
        snprintf(name, sizeof name, "enterprise %s", subs[i].name);
        argv[1] = name;
        return subs[i].fn(argc - 1, argv + 1);
    }
    wn_cli_error("enterprise", "unknown subcommand '%s': sign, show, register or bundle (see wn enterprise --help)",
                 argv[1]);
    return WN_EXIT_USAGE;
}
