/* cmd_bundle.c — `wn bundle`: fetch a proof bundle of one meter's readings over a period
 * from a node (GET /v1/bundle), verify it exactly as `wn verify` does (cli/proofs/bundle.h), and
 * write it only if it is valid, so that a file made by wn bundle is evidence that checks. */
#include "cli/proofs/bundle.h"
#include "cli/commands.h"
#include "cli/net.h"
#include "cli/notary_sm2.h"
#include "cli/nodekey.h"
#include "cli/proofs/report.h"
#include "cli/util.h"
#include "crypto/encoding.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn bundle --node URL --meter ID --from TIME --to TIME --out FILE\n"
            "                 [--notary-pub HEX] [--notary-sm2-pub HEX|FILE] [--registrar-pub HEX]\n"
            "                 [--wait SECONDS] [--json]\n"
            "\n"
            "Fetches from the node a proof bundle of the meter's readings with FROM <= time < TO, plus\n"
            "the last reading before FROM and the first at or after TO (to interpolate totalisers at\n"
            "the period's ends), with the meter's enrolment, revocation and equivocation evidence, all\n"
            "proved against one signed checkpoint (docs/PROTOCOL.md section 13). The bundle is verified\n"
            "as wn verify does and written to FILE only if it is valid; an invalid one is reported,\n"
            "every reason, and not written. Check the file again at any time, offline, with\n"
            "wn verify FILE --notary-pub HEX.\n"
            "\n"
            "options:\n"
            "  --node URL            the node, e.g. http://127.0.0.1:8420\n"
            "  --meter ID            the meter id, 64 hex characters\n"
            "  --from TIME, --to TIME  the period: RFC 3339 (2026-03-01T00:00:00.000Z, 2026-03-01T00:00:00Z),\n"
            "                        a date (2026-03-01, midnight UTC) or milliseconds since 1970\n"
            "  --out FILE            where to write the bundle (- for standard output; the report then\n"
            "                        goes to standard error)\n"
            "  --notary-pub HEX      the notary's x-only public key; without it the key the node reports\n"
            "                        is used (trust on first use, announced on stderr)\n"
            "  --notary-sm2-pub HEX|FILE  also require the checkpoint's SM2 co-signature by this\n"
            "                        compressed SM2 key (PROTOCOL §4); without it that line is ignored\n"
            "  --registrar-pub HEX   also require the enrolment to be signed by this registrar\n"
            "  --wait SECONDS        if the latest checkpoint does not cover the readings yet, ask again\n"
            "                        for up to this long (default 10; 0: do not wait)\n"
            "  --json                print the verification report as JSON (as wn verify --json)\n"
            "\n"
            "example:\n"
            "  wn bundle --node http://127.0.0.1:8420 --meter 9f3c...e1 --from 2026-03-01 --to 2026-04-01 \\\n"
            "      --notary-pub 26285c...297a --out meter-9f3c-march.bundle.json\n"
            "\n"
            "exit codes: 0 valid and written, 1 the bundle is invalid (not written), 2 usage error or\n"
            "            the file cannot be written, 3 the node could not be reached or refused\n");
}

/* RFC 3339 (with or without milliseconds), a date, or milliseconds. Returns: 1 on success. */
static int parse_time(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    char buf[32];
    if (n && strspn(s, "0123456789") == n) return wn_decimal_u64(s, n, ms) && *ms <= WN_READING_MAX_TIME;
    if (n == 24) return wn_time_parse(s, n, ms);
    if (n == 20 && s[19] == 'Z') snprintf(buf, sizeof buf, "%.19s.000Z", s);
    else if (n == 10) snprintf(buf, sizeof buf, "%sT00:00:00.000Z", s);
    else return 0;
    return wn_time_parse(buf, strlen(buf), ms);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Returns: 1 if the answer is the node's not_checkpointed error. */
static int not_checkpointed(const wn_cli_resp *r)
{
    if (r->status != 404) return 0;
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
    int yes = cJSON_IsString(e) && strcmp(e->valuestring, "not_checkpointed") == 0;
    cJSON_Delete(j);
    return yes;
}

/* GET the bundle, asking again while the checkpoint lags (up to wait_s). Returns: exit code. */
static int fetch(const char *cmd, const char *node, const char *path, uint64_t wait_s, wn_cli_resp *r)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (!wn_cli_http(cmd, node, "GET", path, NULL, r)) return WN_EXIT_NETWORK;
        if (r->status == 200) return WN_EXIT_OK;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double waited = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (!not_checkpointed(r) || waited >= (double)wait_s) break;
        free(r->body);
        sleep_ms(200);
    }
    char msg[512];
    wn_cli_error(cmd, "the node gave no bundle: %s", wn_cli_node_error(r, msg, sizeof msg));
    return WN_EXIT_NETWORK;
}

int wn_cmd_bundle(int argc, char **argv)
{
    const char *cmd = argv[0], *node = NULL, *meter_s = NULL, *from_s = NULL, *to_s = NULL, *out = NULL, *pub = NULL,
               *reg = NULL, *wait_s = NULL, *sm2 = NULL;
    int json = 0, want_help;
    const wn_cli_opt opts[] = {
        {"node", &node, NULL},       {"meter", &meter_s, NULL},      {"from", &from_s, NULL},
        {"to", &to_s, NULL},         {"out", &out, NULL},            {"notary-pub", &pub, NULL},
        {"registrar-pub", &reg, NULL}, {"wait", &wait_s, NULL},      {"json", NULL, &json},
        {"notary-sm2-pub", &sm2, NULL},
    };
    const char *pos[1];
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    if (!node || !meter_s || !from_s || !to_s || !out) {
        wn_cli_error(cmd, "--node, --meter, --from, --to and --out are required (see wn bundle --help)");
        return WN_EXIT_USAGE;
    }
    uint8_t meter[32], registrar[32], notary[32];
    uint64_t from, to, wait = 10;
    if (!wn_cli_hex32(cmd, "meter", meter_s, meter)) return WN_EXIT_USAGE;
    if (reg && !wn_cli_hex32(cmd, "registrar-pub", reg, registrar)) return WN_EXIT_USAGE;
    if (wait_s && !wn_cli_u64(cmd, "wait", wait_s, &wait)) return WN_EXIT_USAGE;
    uint8_t sm2_pub[33];
    if (sm2 && !wn_cli_sm2_pub(cmd, sm2, sm2_pub)) return WN_EXIT_USAGE;
    if (!parse_time(from_s, &from) || !parse_time(to_s, &to)) {
        wn_cli_error(cmd, "--from and --to take 2026-03-01T00:00:00.000Z, 2026-03-01T00:00:00Z, 2026-03-01 or "
                          "milliseconds since 1970");
        return WN_EXIT_USAGE;
    }
    if (from >= to) {
        wn_cli_error(cmd, "--from must be before --to (the period is [from, to))");
        return WN_EXIT_USAGE;
    }
    int pinned, rc = wn_cli_notary_key(cmd, node, pub, notary, &pinned);
    if (rc) return rc;

    char hex[65], f[25], t[25], path[256];
    wn_hex_encode(hex, meter, 32);
    wn_time_format(f, from);
    wn_time_format(t, to);
    snprintf(path, sizeof path, "/v1/bundle?meter=%s&from=%s&to=%s", hex, f, t);
    wn_cli_resp r;
    rc = fetch(cmd, node, path, wait, &r);
    if (rc) {
        free(r.body);
        return rc;
    }
    int to_stdout = strcmp(out, "-") == 0;
    FILE *rout = to_stdout ? stderr : stdout;
    wn_bundle b;
    char detail[256];
    if (!wn_bundle_parse(&b, r.body, r.len, detail, sizeof detail)) {
        fprintf(rout, "INVALID: the node's answer is not a proof bundle: %s\n", detail);
        wn_cli_error(cmd, "not written");
        wn_bundle_free(&b);
        free(r.body);
        return WN_EXIT_INVALID;
    }
    wn_report rep;
    wn_report_init(&rep, "bundle");
    if (memcmp(b.meter, meter, 32) != 0 || b.from_ms != from || b.to_ms != to)
        wn_report_fail(&rep, "request", "the node sent a bundle for another meter or period than asked for");
    wn_bundle_verify(&b, notary, reg ? registrar : NULL, &rep);
    char why[300];
    if (sm2 && !wn_cli_sm2_check(b.checkpoint, b.checkpoint_len, sm2_pub, why, sizeof why))
        wn_report_fail(&rep, "checkpoint_sm2", "the bundle's checkpoint: %s", why);
    int valid = wn_report_valid(&rep);
    if (json) {
        char *s = wn_report_json(&rep);
        fprintf(rout, "%s\n", s ? s : "{\"valid\":false}");
        free(s);
    } else {
        wn_bundle_describe(&b, rout);
        wn_report_print(&rep, rout, 20);
        if (valid) fprintf(rout, "VALID: verified%s\n", pinned ? "" : " (with the key the node reports)");
        else fprintf(rout, "INVALID: %zu problem%s found; the bundle is not written\n", rep.n_reasons,
                     rep.n_reasons == 1 ? "" : "s");
    }
    wn_report_free(&rep);
    wn_bundle_free(&b);
    if (!valid) {
        free(r.body);
        return WN_EXIT_INVALID;
    }
    rc = wn_cli_write_file(cmd, to_stdout ? NULL : out, r.body, r.len) ? WN_EXIT_OK : WN_EXIT_USAGE;
    if (rc == WN_EXIT_OK && !to_stdout && !json) printf("written to %s (%zu bytes)\n", out, r.len);
    free(r.body);
    return rc;
}
