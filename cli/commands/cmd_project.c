/* cmd_project.c — `wn project sign|show`: the registrar signs a retrofit project record
 * (savings/project.h, docs/PROTOCOL.md §16 "Projects") that a claim then carries (`wn claim
 * sign --project FILE`), so that one project is subsidised as often as its policy allows. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "savings/jsondoc.h"
#include "savings/project.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn project sign --id ID --enterprise CODE --investment CNY --commissioned TIME\n"
            "                       --registrar-key FILE [--description TEXT] [--out FILE]\n"
            "       wn project show FILE\n"
            "\n"
            "A project record (docs/PROTOCOL.md section 16, \"Projects\") states, under the registrar's\n"
            "signature, that retrofit project ID of enterprise CODE invested CNY in equipment and was\n"
            "commissioned at TIME. A claim carries it (wn claim sign --project FILE); the evaluator\n"
            "checks it against the claim and refuses a subsidy for a project that already holds as\n"
            "many subsidy certificates as the policy allows (project_already_subsidised).\n"
            "\n"
            "  sign   the registrar (the key that enrols the enterprise's meters) signs a new record.\n"
            "  show   prints a record and whether its signature verifies.\n"
            "\n"
            "options:\n"
            "  --id ID              the project's id, 1..200 bytes, unique at the registrar\n"
            "  --enterprise CODE    the enterprise, as in its meters' enrolments\n"
            "  --investment CNY     the equipment investment, with 2 decimals (2500000.00)\n"
            "  --commissioned TIME  when the retrofit went into service (2025-02-15T00:00:00.000Z)\n"
            "  --description TEXT   0..200 bytes\n"
            "  --registrar-key FILE the registrar's secret key file\n"
            "  --out FILE           write there instead of stdout\n"
            "\n"
            "exit codes: 0 done (show: the signature verifies), 1 the signature does not verify,\n"
            "2 usage error or unreadable input\n");
}

static int project_sign(int argc, char **argv)
{
    const char *cmd = argv[0], *id = NULL, *ent = NULL, *inv = NULL, *comm = NULL, *desc = NULL, *key = NULL,
               *out = NULL, *pos[1];
    int want_help;
    size_t npos;
    const wn_cli_opt opts[] = {{"id", &id, NULL},           {"enterprise", &ent, NULL}, {"investment", &inv, NULL},
                               {"commissioned", &comm, NULL}, {"description", &desc, NULL},
                               {"registrar-key", &key, NULL}, {"out", &out, NULL}};
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos || !id || !ent || !inv || !comm || !key) {
        wn_cli_error(cmd, "give --id, --enterprise, --investment, --commissioned and --registrar-key (see wn project --help)");
        return WN_EXIT_USAGE;
    }
    if (!desc) desc = "";
    wn_project p;
    memset(&p, 0, sizeof p);
    int64_t v;
    unsigned scale;
    if (!wn_decimal_parse(inv, strlen(inv), &v, &scale) || scale != 2 || v < 0) {
        wn_cli_error(cmd, "--investment takes CNY with exactly 2 decimals (2500000.00), not '%s'", inv);
        return WN_EXIT_USAGE;
    }
    p.investment_fen = (uint64_t)v;
    if (!wn_time_parse(comm, strlen(comm), &p.commissioned_ms)) {
        wn_cli_error(cmd, "--commissioned takes a time like 2025-02-15T00:00:00.000Z");
        return WN_EXIT_USAGE;
    }
    if (strlen(id) > WN_PROJECT_ID_MAX || strlen(ent) > WN_PROJECT_ENTERPRISE_MAX || strlen(desc) > WN_PROJECT_DESC_MAX) {
        wn_cli_error(cmd, "--id and --description take at most 200 bytes, --enterprise 64");
        return WN_EXIT_USAGE;
    }
    strcpy(p.id, id);
    strcpy(p.enterprise, ent);
    strcpy(p.description, desc);
    uint8_t sk[32];
    if (!wn_keyfile_read(key, sk)) {
        wn_cli_error(cmd, "%s: not a readable secret key file (64 hex characters and a newline)", key);
        return WN_EXIT_USAGE;
    }
    int ok = wn_project_sign(&p, sk);
    memset(sk, 0, sizeof sk);
    if (!ok) return wn_cli_error(cmd, "the record could not be signed (an empty id, or text with control characters?)"), WN_EXIT_USAGE;
    cJSON *o = wn_project_to_cjson(&p);
    char *json = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!json) return wn_cli_error(cmd, "out of memory"), WN_EXIT_USAGE;
    size_t n = strlen(json);
    char *text = realloc(json, n + 2);
    if (!text) return free(json), wn_cli_error(cmd, "out of memory"), WN_EXIT_USAGE;
    text[n] = '\n';
    ok = wn_cli_write_file(cmd, out, text, n + 1);
    free(text);
    return ok ? WN_EXIT_OK : WN_EXIT_USAGE;
}

static int project_show(int argc, char **argv)
{
    const char *cmd = argv[0], *pos[1];
    int want_help;
    size_t npos, len;
    if (!wn_cli_parse(argc, argv, NULL, 0, pos, 1, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) return help(stdout), WN_EXIT_OK;
    if (npos != 1) return wn_cli_error(cmd, "give FILE (see wn project --help)"), WN_EXIT_USAGE;
    char *text = wn_cli_read_file(cmd, pos[0], 1u << 16, &len), detail[300], h[65], a[48], t[25];
    if (!text) return WN_EXIT_USAGE;
    wn_project p;
    int ok = wn_project_parse(&p, text, len, detail, sizeof detail);
    free(text);
    if (!ok) return wn_cli_error(cmd, "%s: not a valid project record: %s", pos[0], detail), WN_EXIT_USAGE;
    int valid = wn_project_verify(&p);
    wn_hex_encode(h, p.registrar, 32);
    wn_time_format(t, p.commissioned_ms);
    printf("project      %s\nenterprise   %s\ndescription  %s\ninvestment   %s CNY\ncommissioned %s\n"
           "registrar    %s\nsignature    %s\n",
           p.id, p.enterprise, p.description, wn_fixed_format(a, (__int128)p.investment_fen, 2), t, h,
           valid ? "valid" : "DOES NOT VERIFY");
    return valid ? WN_EXIT_OK : WN_EXIT_INVALID;
}

int wn_cmd_project(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? WN_EXIT_USAGE : WN_EXIT_OK;
    }
    int (*fn)(int, char **) = strcmp(argv[1], "sign") == 0 ? project_sign : strcmp(argv[1], "show") == 0 ? project_show : NULL;
    if (!fn) {
        wn_cli_error("project", "unknown subcommand '%s': sign or show (see wn project --help)", argv[1]);
        return WN_EXIT_USAGE;
    }
    char name[32];
    snprintf(name, sizeof name, "project %s", argv[1]);
    argv[1] = name;
    return fn(argc - 1, argv + 1);
}
