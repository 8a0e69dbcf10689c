/* cmd_cert.c — `wn cert issue|show|transfer|retire`: savings certificates on a node
 * (docs/PROTOCOL.md §17). The evaluating authority issues a certificate for an accepted
 * evaluation (a subsidy, or a water-rights sale); the holder transfers volume to a buyer or
 * retires it; anyone reads a certificate's balances. The node refuses double counting,
 * transfers above a balance, by a non-holder, outside the term or replayed. */
#include "cli/commands.h"

#include <errno.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "savings/claim.h"
#include "cli/claimdata.h"
#include "cli/projecthist.h"
#include "savings/evaluate.h"
#include "savings/jsondoc.h"
#include "cli/net.h"
#include "savings/policy.h"
#include "cli/util.h"
#include "protocol/certificate.h"
#include "crypto/encoding.h"
#include "crypto/strict_json.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"

#define MAX_BUNDLES 256

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn cert issue CLAIM --purpose subsidy|sale --policy FILE --authority-key FILE\n"
            "                     --node URL --notary-pub HEX [--bundle FILE...] [--registrar-pub HEX]\n"
            "                     [--valid-until TIME] [--json]\n"
            "       wn cert show N --node URL [--json]\n"
            "       wn cert project ID --node URL [--out FILE]\n"
            "       wn cert transfer N --node URL --holder-key FILE --to HEX --volume M3 [--json]\n"
            "       wn cert retire N --node URL --holder-key FILE --volume M3 [--json]\n"
            "\n"
            "Savings certificates (docs/PROTOCOL.md section 17) live in the notary's ledger; N is a\n"
            "certificate's ledger index.\n"
            "\n"
            "  issue     evaluates CLAIM exactly as `wn claim evaluate` does (bundles from --node, or the\n"
            "            --bundle files), and if it is eligible for the purpose signs a certificate with\n"
            "            the evaluating authority's key (the node's --authority) and registers it at the\n"
            "            node: the saving measured over the reporting period in litres (the annualised\n"
            "            figure only decides eligibility), the claim, policy, project, checkpoint, meters\n"
            "            and periods it rests on; the enterprise's key holds it. A subsidy needs an eligible\n"
            "            claim, a sale a saving with no data or certification problem. The project's\n"
            "            earlier certificates are fetched from the node. The node refuses a certificate on a\n"
            "            (meter, reporting period) another one rests on, unless the policy lets one subsidy\n"
            "            and one sale share it, and a subsidy for a project that already holds as many as\n"
            "            its policy allows (project_already_subsidised).\n"
            "  show      prints a certificate, its holders' balances, retired volume and operations.\n"
            "  project   prints (or writes to --out) every certificate of project ID, verified: what\n"
            "            wn claim evaluate --certificates reads offline.\n"
            "  transfer  the holder sells VOLUME of a sale certificate to the key --to (a part: a split).\n"
            "  retire    the holder retires VOLUME (used, or the subsidy paid).\n"
            "\n"
            "options:\n"
            "  --purpose P           subsidy or sale\n"
            "  --policy FILE         the policy the claim is evaluated under\n"
            "  --authority-key FILE  the evaluating authority's secret key file\n"
            "  --valid-until TIME    end of the certificate's term (default: the reporting period's end\n"
            "                        plus the policy's certificate_term_ms)\n"
            "  --holder-key FILE     the holder's secret key file\n"
            "  --to HEX              the buyer's x-only public key\n"
            "  --volume M3           cubic metres, up to 3 decimals (e.g. 100000 or 2500.125)\n"
            "  --node URL, --notary-pub HEX, --bundle FILE..., --registrar-pub HEX: as for wn claim evaluate\n"
            "  --json                print the node's JSON answer\n"
            "\n"
            "examples:\n"
            "  wn cert issue claim.json --purpose sale --policy policies/jiaxing-2024.json \\\n"
            "     --authority-key bureau.key --node http://127.0.0.1:8420 --notary-pub 26285c...297a\n"
            "  wn cert transfer 1234 --node http://127.0.0.1:8420 --holder-key enterprise.key \\\n"
            "     --to 9a0f...c3 --volume 100000\n"
            "  wn cert show 1234 --node http://127.0.0.1:8420\n"
            "\n"
            "exit codes: 0 done, 1 refused (not eligible, or by the node: e.g. double_counting,\n"
            "insufficient_balance, not_holder), 2 usage error or unreadable input, 3 the node could not be\n"
            "reached or failed\n");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int read_key(const char *cmd, const char *path, uint8_t sk[32])
{
    if (wn_keyfile_read(path, sk)) return 1;
    wn_cli_error(cmd, "%s: cannot use this secret key file: %s", path, wn_keyfile_strerror(errno));
    return 0;
}

/* POSTs json to path; prints the node's answer. Out: *answer (may be NULL), the parsed 200 body. */
static int post(const char *cmd, const char *node, const char *path, const char *json, int print_json, cJSON **answer)
{
    wn_cli_resp r;
    if (answer) *answer = NULL;
    if (!wn_cli_http(cmd, node, "POST", path, json, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc = WN_EXIT_OK;
    if (print_json) printf("%s\n", r.body);
    if (r.status == 200) {
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "index"))) {
            wn_cli_error(cmd, "the node answered 200 without an index: %.200s", r.body);
            rc = WN_EXIT_NETWORK;
            cJSON_Delete(j);
        } else if (answer) {
            *answer = j;
        } else {
            cJSON_Delete(j);
        }
    } else {
        char msg[512];
        wn_cli_error(cmd, "the node refused it: %s", wn_cli_node_error(&r, msg, sizeof msg));
        rc = r.status >= 400 && r.status < 500 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    }
    free(r.body);
    return rc;
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

static int cert_issue(int argc, char **argv)
{
    const char *cmd = argv[0], *purpose_s = NULL, *policy_f = NULL, *akey = NULL, *node = NULL, *pub = NULL,
               *bundle = NULL, *reg = NULL, *until_s = NULL, *pos[MAX_BUNDLES];
    int json = 0, want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"purpose", &purpose_s, NULL}, {"policy", &policy_f, NULL}, {"authority-key", &akey, NULL},
                               {"node", &node, NULL},         {"notary-pub", &pub, NULL},   {"bundle", &bundle, NULL},
                               {"registrar-pub", &reg, NULL}, {"valid-until", &until_s, NULL}, {"json", NULL, &json}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, MAX_BUNDLES, &npos, &want_help))
        return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos < 1 || !purpose_s || !policy_f || !akey || !node || !pub || (!bundle && npos > 1)) {
        wn_cli_error(cmd, "give CLAIM, --purpose, --policy, --authority-key, --node and --notary-pub (see wn cert --help)");
        return WN_EXIT_USAGE;
    }
    int purpose = strcmp(purpose_s, "subsidy") == 0 ? WN_PURPOSE_SUBSIDY : strcmp(purpose_s, "sale") == 0 ? WN_PURPOSE_SALE : 0;
    if (!purpose) {
        wn_cli_error(cmd, "--purpose is subsidy or sale, not '%s'", purpose_s);
        return WN_EXIT_USAGE;
    }
    uint8_t notary[32], registrar[32], sk[32];
    uint64_t until = 0;
    if (!wn_cli_hex32(cmd, "notary-pub", pub, notary)) return WN_EXIT_USAGE;
    if (reg && !wn_cli_hex32(cmd, "registrar-pub", reg, registrar)) return WN_EXIT_USAGE;
    if (until_s && !wn_time_parse(until_s, strlen(until_s), &until)) {
        wn_cli_error(cmd, "--valid-until takes a time like 2026-12-31T00:00:00.000Z");
        return WN_EXIT_USAGE;
    }
    wn_claim c;
    wn_policy p;
    char detail[300];
    size_t len;
    char *text = wn_cli_read_file(cmd, pos[0], WN_CLAIM_FILE_MAX, &len);
    if (!text) return WN_EXIT_USAGE;
    int ok = wn_claim_parse(&c, text, len, detail, sizeof detail);
    free(text);
    if (!ok) return wn_cli_error(cmd, "%s: not a valid claim: %s", pos[0], detail), WN_EXIT_USAGE;
    if (!(text = wn_cli_read_file(cmd, policy_f, WN_POLICY_FILE_MAX, &len))) return WN_EXIT_USAGE;
    ok = wn_policy_parse(&p, text, len, detail, sizeof detail);
    free(text);
    if (!ok) return wn_cli_error(cmd, "%s: not a valid policy: %s", policy_f, detail), WN_EXIT_USAGE;
    if (!read_key(cmd, akey, sk)) return WN_EXIT_USAGE;

    wn_claim_data d;
    int rc;
    if (bundle) {
        const char *files[MAX_BUNDLES];
        size_t nf = 0;
        files[nf++] = bundle;
        for (size_t i = 1; i < npos; i++) files[nf++] = pos[i];
        rc = wn_claim_data_from_files(cmd, &d, &c, files, nf, notary, reg ? registrar : NULL);
    } else {
        rc = wn_claim_data_fetch(cmd, &d, &c, node, notary, reg ? registrar : NULL, 10);
    }
    if (rc == WN_EXIT_OK) rc = wn_claim_data_need_enterprise(cmd, &d, &c, &p);
    wn_eval_result res;
    memset(&res, 0, sizeof res);
    wn_eval_prior *prior = NULL;
    size_t n_prior = 0;
    if (rc == WN_EXIT_OK && p.subsidies_per_project)
        rc = wn_project_history_fetch(cmd, node, c.project, &prior, &n_prior, NULL, NULL);
    if (rc == WN_EXIT_OK) {
        wn_eval_input in = wn_claim_data_input(&d, &c, &p);
        in.history_given = p.subsidies_per_project != 0;
        in.prior = prior;
        in.n_prior = n_prior;
        if (!wn_evaluate(&in, &res)) rc = WN_EXIT_USAGE;
    }
    if (rc == WN_EXIT_OK && !(purpose == WN_PURPOSE_SUBSIDY ? res.eligible : res.saleable)) {
        wn_cli_error(cmd, "the claim is not eligible for a %s certificate:", purpose_s);
        for (size_t i = 0; i < res.n_reasons; i++)
            if (purpose == WN_PURPOSE_SUBSIDY || !res.reasons[i].subsidy_only)
                fprintf(stderr, "  [%s] %s\n", res.reasons[i].code, res.reasons[i].detail);
        if (!res.computed && !res.n_reasons) fprintf(stderr, "  the saving could not be computed\n");
        rc = WN_EXIT_INVALID;
    }
    wn_certificate cert;
    memset(&cert, 0, sizeof cert);
    if (rc == WN_EXIT_OK) {
        cert.purpose = (uint8_t)purpose;
        cert.flags = p.subsidy_and_sale ? WN_CERT_FLAG_SUBSIDY_AND_SALE : 0;
        cert.time_ms = now_ms();
        cert.valid_until_ms = until ? until : c.reporting.to_ms + p.certificate_term_ms;
        cert.volume_l = (uint64_t)res.saving_l; /* measured in the reporting period, not annualised */
        cert.subsidy_fen = purpose == WN_PURPOSE_SUBSIDY ? res.subsidy_fen : 0;
        memcpy(cert.claim_digest, res.claim_digest, 32);
        memcpy(cert.policy_digest, res.policy_digest, 32);
        memcpy(cert.holder, c.enterprise_key, 32);
        cert.cp_size = res.cp.size;
        memcpy(cert.cp_root, res.cp.root, 32);
        cert.baseline_from = c.baseline.from_ms;
        cert.baseline_to = c.baseline.to_ms;
        cert.reporting_from = c.reporting.from_ms;
        cert.reporting_to = c.reporting.to_ms;
        cert.n_meters = c.reporting.n_meters;
        for (size_t i = 0; i < c.reporting.n_meters; i++) memcpy(cert.meters[i], c.reporting.meters[i].meter, 32);
        qsort(cert.meters, cert.n_meters, 32, cmp32);
        snprintf(cert.enterprise, sizeof cert.enterprise, "%s", c.enterprise);
        snprintf(cert.policy_id, sizeof cert.policy_id, "%s", p.id);
        snprintf(cert.claim_id, sizeof cert.claim_id, "%s", c.id);
        snprintf(cert.project, sizeof cert.project, "%s", c.project);
        cert.project_subsidies = (uint8_t)p.subsidies_per_project;
        if (cert.valid_until_ms <= cert.time_ms) {
            char t[25];
            wn_time_format(t, cert.valid_until_ms);
            wn_cli_error(cmd, "the certificate's term would already be over (%s)", t);
            rc = WN_EXIT_INVALID;
        } else if (wn_certificate_sign(&cert, sk) != WN_CERT_OK) {
            wn_cli_error(cmd, "the certificate could not be signed (a field out of range?)");
            rc = WN_EXIT_USAGE;
        }
    }
    memset(sk, 0, sizeof sk);
    free(prior);
    wn_eval_free(&res);
    wn_claim_data_free(&d);
    if (rc != WN_EXIT_OK) return rc;
    char cj[WN_CERTIFICATE_JSON_MAX];
    if (wn_certificate_to_json(&cert, cj, sizeof cj, NULL) != WN_CERT_OK) return WN_EXIT_USAGE;
    cJSON *answer;
    rc = post(cmd, node, "/v1/certificates", cj, json, &answer);
    if (rc == WN_EXIT_OK && !json) {
        char v[48], s[48];
        printf("%s certificate at ledger index %.0f: %s m3 saved in the reporting period", purpose_s,
               cJSON_GetObjectItemCaseSensitive(answer, "index")->valuedouble,
               wn_fixed_format(v, (__int128)cert.volume_l, 3));
        if (purpose == WN_PURPOSE_SUBSIDY) printf(", subsidy %s CNY", wn_fixed_format(s, (__int128)cert.subsidy_fen, 2));
        printf("\n");
    }
    cJSON_Delete(answer);
    return rc;
}

static int cert_project(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}, {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, 2, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !node) return wn_cli_error(cmd, "give ID and --node URL (see wn cert --help)"), WN_EXIT_USAGE;
    wn_eval_prior *prior = NULL;
    size_t n = 0, len = 0;
    char *raw = NULL;
    int rc = wn_project_history_fetch(cmd, node, pos[0], &prior, &n, &raw, &len);
    if (rc == WN_EXIT_OK && !wn_cli_write_file(cmd, out, raw, len)) rc = WN_EXIT_USAGE;
    if (rc == WN_EXIT_OK && out)
        fprintf(stderr, "%zu certificate%s of project \"%s\", each verified; written to %s\n", n, n == 1 ? "" : "s",
                pos[0], out);
    free(raw);
    free(prior);
    return rc;
}

static int get_index(const char *cmd, const char *s, uint64_t *index)
{
    return wn_cli_u64(cmd, "certificate index", s, index);
}

static int cert_show(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *pos[1];
    int json = 0, want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}, {"json", NULL, &json}};
    if (!wn_cli_parse(argc, argv, opts, 2, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    uint64_t index;
    if (npos != 1 || !node) return wn_cli_error(cmd, "give N and --node URL (see wn cert --help)"), WN_EXIT_USAGE;
    if (!get_index(cmd, pos[0], &index)) return WN_EXIT_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/v1/certificates/%llu", (unsigned long long)index);
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", path, NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc = WN_EXIT_OK;
    if (r.status != 200) {
        char msg[512];
        wn_cli_error(cmd, "%s", wn_cli_node_error(&r, msg, sizeof msg));
        rc = r.status == 404 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    } else if (json) {
        printf("%s\n", r.body);
    } else {
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "certificate");
        const char *fields[] = {"purpose", "enterprise", "claim", "policy", "time", "valid_until", "reporting_from",
                                "reporting_to", "holder", "authority"};
        printf("certificate %llu\n", (unsigned long long)index);
        for (size_t i = 0; c && i < sizeof fields / sizeof fields[0]; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, fields[i]);
            if (cJSON_IsString(f)) printf("  %-15s %s\n", fields[i], f->valuestring);
        }
        char v[48], w[48];
        const char *nums[] = {"volume_l", "subsidy_fen", "checkpoint_size"};
        for (size_t i = 0; c && i < 3; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, nums[i]);
            if (cJSON_IsNumber(f)) printf("  %-15s %.0f\n", nums[i], f->valuedouble);
        }
        const cJSON *bal = cJSON_GetObjectItemCaseSensitive(j, "balance_l"), *ret = cJSON_GetObjectItemCaseSensitive(j, "retired_l");
        if (cJSON_IsNumber(bal) && cJSON_IsNumber(ret))
            printf("  balance         %s m3 held, %s m3 retired; next operation %.0f%s\n",
                   wn_fixed_format(v, (__int128)bal->valuedouble, 3),
                   wn_fixed_format(w, (__int128)ret->valuedouble, 3),
                   cJSON_GetObjectItemCaseSensitive(j, "next_op")->valuedouble,
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "expired")) ? "; the term is over" : "");
        const cJSON *hs = cJSON_GetObjectItemCaseSensitive(j, "holders");
        for (const cJSON *h = hs ? hs->child : NULL; h; h = h->next) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(h, "key"), *b = cJSON_GetObjectItemCaseSensitive(h, "balance_l");
            if (cJSON_IsString(k) && cJSON_IsNumber(b))
                printf("  holder %s  %s m3\n", k->valuestring, wn_fixed_format(v, (__int128)b->valuedouble, 3));
        }
        const cJSON *hn = cJSON_GetObjectItemCaseSensitive(j, "holders_next");
        if (cJSON_IsNumber(hn)) /* the node pages its holders (PROTOCOL §17) */
            printf("  (more holders: GET /v1/certificates/%llu?from=%.0f)\n", (unsigned long long)index, hn->valuedouble);
        cJSON_Delete(j);
    }
    free(r.body);
    return rc;
}

/* The certificate's next operation number, from the node. */
static int next_op(const char *cmd, const char *node, uint64_t index, uint64_t *op)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/certificates/%llu", (unsigned long long)index);
    wn_cli_resp r;
    if (!wn_cli_http(cmd, node, "GET", path, NULL, &r)) {
        free(r.body);
        return WN_EXIT_NETWORK;
    }
    int rc = WN_EXIT_OK;
    char why[200] = "";
    cJSON *j = r.status == 200 ? wn_json_parse_strict(r.body, r.len, why, sizeof why) : NULL;
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "next_op") : NULL;
    if (r.status != 200) {
        char msg[512];
        wn_cli_error(cmd, "%s", wn_cli_node_error(&r, msg, sizeof msg));
        rc = r.status == 404 ? WN_EXIT_INVALID : WN_EXIT_NETWORK;
    } else if (!wn_json_uint(n, WN_JSON_INT_MAX, op)) { /* signed into the operation: a JSON integer */
        wn_cli_error(cmd, "the node's answer has no next_op that is a JSON integer%s%s", *why ? ": " : "", why);
        rc = WN_EXIT_NETWORK;
    }
    cJSON_Delete(j);
    free(r.body);
    return rc;
}

/* "100000", "2500.125": m3 with up to 3 decimals, in litres. */
static int parse_volume(const char *cmd, const char *s, uint64_t *litres)
{
    int64_t v;
    unsigned scale;
    if (!wn_decimal_parse(s, strlen(s), &v, &scale) || scale > 3 || v <= 0 || v > (int64_t)(WN_CERT_MAX_AMOUNT / 1000)) {
        wn_cli_error(cmd, "--volume takes cubic metres above 0 with at most 3 decimals, not '%s'", s);
        return 0;
    }
    *litres = (uint64_t)v;
    for (unsigned i = scale; i < 3; i++) *litres *= 10;
    return 1;
}

static int cert_op(int argc, char **argv, int retire)
{
    const char *cmd = argv[0], *node = NULL, *key = NULL, *to_s = NULL, *vol_s = NULL, *pos[1];
    int json = 0, want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"node", &node, NULL}, {"holder-key", &key, NULL}, {"to", &to_s, NULL},
                               {"volume", &vol_s, NULL}, {"json", NULL, &json}};
    if (!wn_cli_parse(argc, argv, opts, 5, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !node || !key || !vol_s || (!retire && !to_s) || (retire && to_s)) {
        wn_cli_error(cmd, "give N, --node, --holder-key, --volume%s (see wn cert --help)", retire ? "" : " and --to");
        return WN_EXIT_USAGE;
    }
    wn_cert_op op;
    memset(&op, 0, sizeof op);
    op.is_retirement = retire;
    uint8_t sk[32];
    if (!get_index(cmd, pos[0], &op.cert_index) || !parse_volume(cmd, vol_s, &op.volume_l)) return WN_EXIT_USAGE;
    if (!retire && !wn_cli_hex32(cmd, "to", to_s, op.to)) return WN_EXIT_USAGE;
    if (!read_key(cmd, key, sk)) return WN_EXIT_USAGE;
    int ok = wn_seckey_xonly(op.from, sk);
    int rc = ok ? next_op(cmd, node, op.cert_index, &op.op) : WN_EXIT_USAGE;
    if (rc == WN_EXIT_OK) {
        op.time_ms = now_ms();
        if (wn_cert_op_sign(&op, sk) != WN_CERT_OK) {
            wn_cli_error(cmd, "the %s could not be signed (is --to another key than the holder's?)",
                         retire ? "retirement" : "transfer");
            rc = WN_EXIT_USAGE;
        }
    }
    memset(sk, 0, sizeof sk);
    if (rc != WN_EXIT_OK) return rc;
    char body[WN_TRANSFER_JSON_MAX];
    if (wn_cert_op_to_json(&op, body, sizeof body, NULL) != WN_CERT_OK) return WN_EXIT_USAGE;
    cJSON *answer;
    rc = post(cmd, node, retire ? "/v1/retirements" : "/v1/transfers", body, json, &answer);
    if (rc == WN_EXIT_OK && !json) {
        char v[48], b[48];
        const cJSON *bal = cJSON_GetObjectItemCaseSensitive(answer, "balance_l");
        printf("%s of %s m3 of certificate %llu at ledger index %.0f; the holder keeps %s m3\n",
               retire ? "retirement" : "transfer", wn_fixed_format(v, (__int128)op.volume_l, 3),
               (unsigned long long)op.cert_index, cJSON_GetObjectItemCaseSensitive(answer, "index")->valuedouble,
               wn_fixed_format(b, cJSON_IsNumber(bal) ? (__int128)bal->valuedouble : 0, 3));
    }
    cJSON_Delete(answer);
    return rc;
}

static int cert_transfer(int argc, char **argv) { return cert_op(argc, argv, 0); }
static int cert_retire(int argc, char **argv) { return cert_op(argc, argv, 1); }

int wn_cmd_cert(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"issue", cert_issue}, {"show", cert_show}, {"project", cert_project}, {"transfer", cert_transfer}, {"retire", cert_retire}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        char name[32];
        snprintf(name, sizeof name, "cert %s", subs[i].name);
        argv[1] = name;
        return subs[i].fn(argc - 1, argv + 1);
    }
    wn_cli_error("cert", "unknown subcommand '%s': issue, show, project, transfer or retire (see wn cert --help)", argv[1]);
    return WN_EXIT_USAGE;
}
