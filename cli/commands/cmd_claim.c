/* cmd_claim.c — `wn claim sign`, `wn claim certify` and `wn claim evaluate`: the enterprise
 * signs its savings claim, a qualified third-party certifier countersigns it, and anyone
 * evaluates it against a policy from notarised readings alone — fetched from a node or read
 * from proof bundle files, with the same result byte for byte (docs/PROTOCOL.md §16). */
#include "cli/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "savings/claim.h"
#include "cli/claimdata.h"
#include "cli/projecthist.h"
#include "savings/evaluate.h"
#include "savings/policy.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"

#define MAX_BUNDLES 256

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn claim sign CLAIM --enterprise-key FILE [--project FILE] [--out FILE]\n"
            "       wn claim certify CLAIM --certifier-key FILE --reference REF [--time TIME] [--out FILE]\n"
            "       wn claim evaluate CLAIM --policy FILE --notary-pub HEX (--node URL | --bundle FILE [FILE...])\n"
            "                         [--certificates FILE] [--registrar-pub HEX] [--wait SECONDS] [--json]\n"
            "                         [--out FILE]\n"
            "\n"
            "A savings claim (JSON, docs/PROTOCOL.md section 16) names an enterprise's retrofit project, its\n"
            "tier-1 intake (and recycling) meters, a baseline and a reporting period with the production\n"
            "output in each, and the equipment investment.\n"
            "\n"
            "  sign      the enterprise signs the claim (sets enterprise_key and enterprise_sig; drops any\n"
            "            certification, which covered the old signature). Writes CLAIM, or --out.\n"
            "  certify   a third-party certifier, enrolled at the notary with point \"certifier\" (wn enrol\n"
            "            --point certifier), countersigns the signed claim with its report number REF at TIME\n"
            "            (default now).\n"
            "  evaluate  computes each meter's intake per period from its verified totaliser readings,\n"
            "            the water per unit product, the normalised and annualised saving, the repeated\n"
            "            utilisation rate and non-conventional water, applies the policy and prints the\n"
            "            decision with every reason, the subsidy and the provenance of every number. The\n"
            "            readings come from proof bundles: fetched from --node (one per meter and period,\n"
            "            and the certifier's), or read from bundle files (wn bundle); both give the same\n"
            "            output byte for byte. Integer arithmetic only; every division rounds down.\n"
            "            The claim must be signed by a key of the enterprise it names (its enterprise\n"
            "            record, wn enterprise) and rest on that enterprise's meters; offline give its\n"
            "            enterprise bundle (wn enterprise bundle) among the bundle files. Under a policy\n"
            "            with require_calibration give each meter's calibration bundle too (wn\n"
            "            calibration bundle); a meter without one counts as never calibrated.\n"
            "\n"
            "options:\n"
            "  --enterprise-key FILE  the enterprise's secret key file\n"
            "  --project FILE         attach the registrar-signed project record (wn project sign); the\n"
            "                         claim's \"project\" becomes the record's id\n"
            "  --certificates FILE    offline: the project's certificates as the node lists them (wn cert\n"
            "                         project); online they are fetched. A policy that limits subsidies\n"
            "                         per project needs them, or the claim is not eligible for a subsidy\n"
            "  --certifier-key FILE   the certifier's secret key file\n"
            "  --reference REF        the certifier's report number (1..128 bytes)\n"
            "  --time TIME            2025-04-10T00:00:00.000Z or milliseconds since 1970 (default now)\n"
            "  --policy FILE          the policy (e.g. policies/jiaxing-2024.json)\n"
            "  --notary-pub HEX       the notary's x-only public key: every bundle is verified with it\n"
            "  --node URL             fetch the bundles from this node\n"
            "  --bundle FILE...       bundle files: every further argument is one too\n"
            "  --registrar-pub HEX    also require enrolments signed by this registrar key\n"
            "  --wait SECONDS         how long to wait for a checkpoint covering new readings (default 10)\n"
            "  --json                 the evaluation as JSON, for programs\n"
            "  --out FILE             write there instead of CLAIM (sign, certify) or stdout (evaluate)\n"
            "\n"
            "examples:\n"
            "  wn claim sign claim.json --enterprise-key enterprise.key\n"
            "  wn claim certify claim.json --certifier-key lab.key --reference ZJ-CMA-2025-117\n"
            "  wn claim evaluate claim.json --policy policies/jiaxing-2024.json \\\n"
            "     --node http://127.0.0.1:8420 --notary-pub 26285c...297a\n"
            "  wn claim evaluate claim.json --policy policies/jiaxing-2024.json --notary-pub 26285c...297a \\\n"
            "     --bundle intake-baseline.json intake-reporting.json certifier.json\n"
            "\n"
            "exit codes: sign, certify: 0 written, 2 usage error or unreadable input.\n"
            "evaluate: 0 eligible for the subsidy, 1 not eligible (the reasons are printed; the output also\n"
            "says whether the saving may be certified for sale) or a bundle is invalid, 2 usage error or\n"
            "unreadable input, 3 the node could not be reached or failed\n");
}

static int read_claim(const char *cmd, const char *path, wn_claim *c)
{
    size_t len;
    char *text = wn_cli_read_file(cmd, path, WN_CLAIM_FILE_MAX, &len);
    if (!text) return 0;
    char detail[300];
    int ok = wn_claim_parse(c, text, len, detail, sizeof detail);
    if (!ok) wn_cli_error(cmd, "%s: not a valid claim: %s", path, detail);
    free(text);
    return ok;
}

static int write_claim(const char *cmd, const char *path, const wn_claim *c)
{
    char *json = wn_claim_to_json(c);
    if (!json) {
        wn_cli_error(cmd, "out of memory");
        return WN_EXIT_USAGE;
    }
    size_t n = strlen(json);
    json[n] = '\n';
    int ok = wn_cli_write_file(cmd, path, json, n + 1);
    free(json);
    return ok ? WN_EXIT_OK : WN_EXIT_USAGE;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_time(const char *cmd, const char *s, uint64_t *ms)
{
    if (wn_time_parse(s, strlen(s), ms)) return 1;
    if (wn_cli_u64(cmd, "time", s, ms) && *ms <= WN_READING_MAX_TIME) return 1;
    wn_cli_error(cmd, "--time takes 2025-04-10T00:00:00.000Z or milliseconds since 1970");
    return 0;
}

static int claim_sign(int argc, char **argv)
{
    const char *cmd = argv[0], *key = NULL, *out = NULL, *project = NULL, *pos[1];
    size_t npos;
    int want_help;
    const wn_cli_opt opts[] = {{"enterprise-key", &key, NULL}, {"out", &out, NULL}, {"project", &project, NULL}};
    if (!wn_cli_parse(argc, argv, opts, 3, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !key) {
        wn_cli_error(cmd, "give CLAIM and --enterprise-key FILE (see wn claim --help)");
        return WN_EXIT_USAGE;
    }
    wn_claim c;
    uint8_t sk[32];
    if (!read_claim(cmd, pos[0], &c)) return WN_EXIT_USAGE;
    if (project) {
        size_t plen;
        char *ptext = wn_cli_read_file(cmd, project, 1u << 16, &plen), detail[300];
        if (!ptext) return WN_EXIT_USAGE;
        int pok = wn_project_parse(&c.project_record, ptext, plen, detail, sizeof detail);
        free(ptext);
        if (!pok) return wn_cli_error(cmd, "%s: not a valid project record: %s", project, detail), WN_EXIT_USAGE;
        c.has_project_record = 1;
        snprintf(c.project, sizeof c.project, "%s", c.project_record.id);
    }
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: cannot use this secret key file: %s", key, wn_keyfile_strerror(errno));
        return WN_EXIT_USAGE;
    }
    int ok = wn_claim_sign(&c, sk);
    memset(sk, 0, sizeof sk);
    if (!ok) {
        wn_cli_error(cmd, "the claim could not be signed");
        return WN_EXIT_USAGE;
    }
    int rc = write_claim(cmd, out ? out : pos[0], &c);
    if (rc == WN_EXIT_OK) {
        char h[65];
        wn_hex_encode(h, c.enterprise_key, 32);
        fprintf(stderr, "signed by the enterprise key %s; written to %s\n", h, out ? out : pos[0]);
    }
    return rc;
}

static int claim_certify(int argc, char **argv)
{
    const char *cmd = argv[0], *key = NULL, *out = NULL, *ref = NULL, *time_s = NULL, *pos[1];
    size_t npos;
    int want_help;
    const wn_cli_opt opts[] = {{"certifier-key", &key, NULL}, {"reference", &ref, NULL}, {"time", &time_s, NULL},
                               {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, 4, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1 || !key || !ref) {
        wn_cli_error(cmd, "give CLAIM, --certifier-key FILE and --reference REF (see wn claim --help)");
        return WN_EXIT_USAGE;
    }
    wn_claim c;
    uint8_t sk[32];
    uint64_t t = now_ms();
    if (!read_claim(cmd, pos[0], &c)) return WN_EXIT_USAGE;
    if (time_s && !parse_time(cmd, time_s, &t)) return WN_EXIT_USAGE;
    if (!c.signed_by_enterprise || !wn_claim_verify_enterprise(&c)) {
        wn_cli_error(cmd, "the claim carries no valid enterprise signature: the enterprise signs first (wn claim sign)");
        return WN_EXIT_USAGE;
    }
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: cannot use this secret key file: %s", key, wn_keyfile_strerror(errno));
        return WN_EXIT_USAGE;
    }
    int ok = wn_claim_certify(&c, sk, t, ref);
    memset(sk, 0, sizeof sk);
    if (!ok) {
        wn_cli_error(cmd, "the claim could not be certified (is --reference 1..128 bytes of text?)");
        return WN_EXIT_USAGE;
    }
    int rc = write_claim(cmd, out ? out : pos[0], &c);
    if (rc == WN_EXIT_OK) {
        char h[65];
        wn_hex_encode(h, c.certifier, 32);
        fprintf(stderr, "certified by %s (reference %s); written to %s\n", h, c.reference, out ? out : pos[0]);
    }
    return rc;
}

/* Shared with `wn cert issue` through cli/claimdata.h: reads the policy and the data. */
static int claim_evaluate(int argc, char **argv)
{
    const char *cmd = argv[0], *policy_f = NULL, *pub = NULL, *node = NULL, *bundle = NULL, *reg = NULL,
               *wait_s = NULL, *out = NULL, *certs_f = NULL, *pos[MAX_BUNDLES];
    int json = 0, want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"policy", &policy_f, NULL}, {"notary-pub", &pub, NULL}, {"node", &node, NULL},
                               {"bundle", &bundle, NULL},   {"registrar-pub", &reg, NULL}, {"wait", &wait_s, NULL},
                               {"out", &out, NULL},         {"json", NULL, &json}, {"certificates", &certs_f, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, MAX_BUNDLES, &npos, &want_help))
        return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos < 1 || !policy_f || !pub || (!node == !bundle) || (node && npos > 1)) {
        wn_cli_error(cmd, "give CLAIM, --policy FILE, --notary-pub HEX and either --node URL or --bundle FILE... "
                          "(see wn claim --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t notary[32], registrar[32];
    uint64_t wait = 10;
    if (!wn_cli_hex32(cmd, "notary-pub", pub, notary)) return WN_EXIT_USAGE;
    if (reg && !wn_cli_hex32(cmd, "registrar-pub", reg, registrar)) return WN_EXIT_USAGE;
    if (wait_s && !wn_cli_u64(cmd, "wait", wait_s, &wait)) return WN_EXIT_USAGE;
    wn_claim c;
    wn_policy p;
    if (!read_claim(cmd, pos[0], &c)) return WN_EXIT_USAGE;
    size_t plen;
    char *ptext = wn_cli_read_file(cmd, policy_f, WN_POLICY_FILE_MAX, &plen), detail[300];
    if (!ptext) return WN_EXIT_USAGE;
    int ok = wn_policy_parse(&p, ptext, plen, detail, sizeof detail);
    free(ptext);
    if (!ok) {
        wn_cli_error(cmd, "%s: not a valid policy: %s", policy_f, detail);
        return WN_EXIT_USAGE;
    }

    wn_claim_data d;
    int rc;
    if (node) {
        rc = wn_claim_data_fetch(cmd, &d, &c, node, notary, reg ? registrar : NULL, wait);
    } else {
        const char *files[MAX_BUNDLES];
        size_t nf = 0;
        files[nf++] = bundle;
        for (size_t i = 1; i < npos; i++) files[nf++] = pos[i];
        rc = wn_claim_data_from_files(cmd, &d, &c, files, nf, notary, reg ? registrar : NULL);
    }
    if (rc == WN_EXIT_OK) rc = wn_claim_data_need_enterprise(cmd, &d, &c, &p);
    wn_eval_prior *prior = NULL;
    size_t n_prior = 0;
    int history = 0;
    if (rc == WN_EXIT_OK && p.subsidies_per_project && (node || certs_f)) {
        rc = certs_f ? wn_project_history_file(cmd, certs_f, c.project, &prior, &n_prior)
                     : wn_project_history_fetch(cmd, node, c.project, &prior, &n_prior, NULL, NULL);
        history = rc == WN_EXIT_OK;
    }
    if (rc != WN_EXIT_OK) {
        wn_claim_data_free(&d);
        return rc;
    }
    wn_eval_input in = wn_claim_data_input(&d, &c, &p);
    in.history_given = history;
    in.prior = prior;
    in.n_prior = n_prior;
    wn_eval_result res;
    char *text = NULL;
    if (wn_evaluate(&in, &res)) text = json ? wn_eval_json(&in, &res) : wn_eval_text(&in, &res);
    if (!text) {
        wn_cli_error(cmd, "out of memory");
        rc = WN_EXIT_USAGE;
    } else if (!wn_cli_write_file(cmd, out, text, strlen(text))) {
        rc = WN_EXIT_USAGE;
    } else {
        rc = res.eligible ? WN_EXIT_OK : WN_EXIT_INVALID;
    }
    free(text);
    free(prior);
    wn_eval_free(&res);
    wn_claim_data_free(&d);
    return rc;
}

int wn_cmd_claim(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {{"sign", claim_sign}, {"certify", claim_certify}, {"evaluate", claim_evaluate}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0) continue;
        char name[32];
        snprintf(name, sizeof name, "claim %s", subs[i].name);
        argv[1] = name; /* messages read "wn claim evaluate: ..." */
        return subs[i].fn(argc - 1, argv + 1);
    }
    wn_cli_error("claim", "unknown subcommand '%s': sign, certify or evaluate (see wn claim --help)", argv[1]);
    return WN_EXIT_USAGE;
}
