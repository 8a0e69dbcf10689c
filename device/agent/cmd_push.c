/* cmd_push.c — the networked wn-meter subcommands: push (send pending readings, store
 * receipts) and enrol (register a meter at the node with a registrar-signed record). */
#include "device/agent/agent.h"
#include "device/agent/push.h"

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "device/meter.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- push ------------------------------------------------------------------------- */

static void push_usage(FILE *f)
{
    fprintf(f, "usage: wn-meter push --state DIR [--state DIR ...] --node URL [--notary-pub HEX]\n"
               "                     [--batch N] [--retries N] [--quiet]\n\n"
               "Sends every pending reading of the meter(s) to the node in binary batches over one\n"
               "kept-alive connection, retrying connection errors and 5xx answers with exponential\n"
               "backoff, and stores each receipt after checking it against the notary key and the\n"
               "reading. The notary key is --notary-pub, else the one pinned in the first DIR's\n"
               "notary.pub, else fetched from GET /v1/pubkey and pinned. A reading the node\n"
               "rejects stops its meter (a bug or tampering): reported, exit 1.\n\n"
               "exit codes: 0 nothing pending, 1 rejected reading or bad receipt, 2 usage or\n"
               "local error, 3 node unreachable or out of protocol\n\n"
               "example:\n  wn-meter push --state /var/lib/wn-meter/m1 --node http://127.0.0.1:8420\n");
}

int wn_agent_cmd_push(int argc, char **argv)
{
    static const struct option opts[] = {{"state", 1, 0, 's'}, {"node", 1, 0, 'n'}, {"notary-pub", 1, 0, 'k'},
                                         {"batch", 1, 0, 'b'}, {"retries", 1, 0, 'r'}, {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *node = NULL, *notary_hex = NULL;
    const char **states = calloc((size_t)argc, sizeof *states);
    size_t nstates = 0;
    uint64_t batch = 256, retries = 7;
    int quiet = 0, c, rc = WN_PUSH_LOCAL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's') states[nstates++] = optarg;
        else if (c == 'n') node = optarg;
        else if (c == 'k') notary_hex = optarg;
        else if (c == 'b' && wn_agent_parse_u64(optarg, &batch) && batch >= 1 && batch <= 65536) {}
        else if (c == 'r' && wn_agent_parse_u64(optarg, &retries) && retries < 100) {}
        else if (c == 'q') quiet = 1;
        else if (c == 'h') { push_usage(stdout); free(states); return 0; }
        else { push_usage(stderr); free(states); return WN_PUSH_LOCAL; }
    }
    if (!nstates || !node || optind != argc) { push_usage(stderr); free(states); return WN_PUSH_LOCAL; }

    wn_meter *meters = calloc(nstates, sizeof *meters);
    wn_push_meter *pms = calloc(nstates, sizeof *pms);
    wn_http h;
    uint8_t notary[32];
    size_t opened = 0;
    int http_ok = wn_http_init(&h, node);
    if (!http_ok) { fprintf(stderr, "wn-meter: bad node URL or libcurl failure\n"); goto out; }
    h.attempts = (unsigned)retries + 1;
    for (; opened < nstates; opened++) {
        int err = wn_meter_open(&meters[opened], states[opened]);
        if (err) { fprintf(stderr, "wn-meter: %s: %s\n", states[opened], wn_meter_strerror(err)); goto out; }
        pms[opened].m = &meters[opened];
        snprintf(pms[opened].label, sizeof pms[opened].label, "%s", states[opened]);
    }
    if ((rc = wn_agent_notary_key(&h, notary_hex, states[0], notary, NULL, NULL))) goto out;
    wn_pusher p;
    wn_pusher_init(&p, &h, notary);
    p.batch = (size_t)batch;
    p.quiet = quiet;
    rc = wn_push(&p, pms, nstates);
    uint64_t pending = 0;
    for (size_t i = 0; i < nstates; i++) {
        wn_meter_counts k;
        wn_meter_get_counts(&meters[i], &k);
        pending += k.pending;
    }
    printf("push: %llu accepted, %llu duplicates, %llu rejected, %llu bad receipts, %llu pending, %llu requests\n",
           (unsigned long long)p.accepted, (unsigned long long)p.duplicates, (unsigned long long)p.rejected,
           (unsigned long long)p.bad_receipts, (unsigned long long)pending, (unsigned long long)h.requests);
out:
    for (size_t i = 0; i < opened; i++) wn_meter_close(&meters[i]);
    if (http_ok) wn_http_free(&h);
    free(meters);
    free(pms);
    free(states);
    return rc;
}

/* ---- enrol ------------------------------------------------------------------------ */

static void enrol_usage(FILE *f)
{
    fprintf(f, "usage: wn-meter enrol --state DIR --node URL --registrar-key FILE --enterprise ID\n"
               "                      [--point intake|treatment|supply|use|discharge|recycling]\n"
               "                      [--tier 1|2|3] [--source surface|groundwater|tap|reclaimed|\n"
               "                      rainwater|mine_water] [--parent HEX] [--calibration REF]\n"
               "                      [--attestation sensor|gateway --gateway ID]\n\n"
               "Enrols the meter in DIR at the node: an enrolment record (PROTOCOL.md section 5)\n"
               "with the meter's key, signed with the registrar key. Defaults: point use, tier 2,\n"
               "source tap, no parent. A meter that is already enrolled is fine.\n\n"
               "example:\n  wn-meter enrol --state /var/lib/wn-meter/m1 --node http://127.0.0.1:8420 \\\n"
               "    --registrar-key registrar.key --enterprise 91330400MA0000001X --point intake --tier 1\n");
}

static int name_code(const char *s, const char *(*name)(unsigned), unsigned max, uint8_t *out)
{
    for (unsigned i = 1; i <= max; i++)
        if (name(i) && strcmp(name(i), s) == 0) { *out = (uint8_t)i; return 1; }
    return 0;
}

int wn_agent_cmd_enrol(int argc, char **argv)
{
    static const struct option opts[] = {{"state", 1, 0, 's'}, {"node", 1, 0, 'n'}, {"registrar-key", 1, 0, 'r'},
                                         {"enterprise", 1, 0, 'e'}, {"point", 1, 0, 'p'}, {"tier", 1, 0, 't'},
                                         {"source", 1, 0, 'o'}, {"parent", 1, 0, 'a'}, {"calibration", 1, 0, 'c'},
                                         {"attestation", 1, 0, 'A'}, {"gateway", 1, 0, 'g'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *state = NULL, *node = NULL, *keyfile = NULL;
    wn_enrolment e;
    uint64_t tier = 2;
    int c;
    memset(&e, 0, sizeof e);
    e.point = WN_POINT_USE;
    e.source = WN_SOURCE_TAP;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's') state = optarg;
        else if (c == 'n') node = optarg;
        else if (c == 'r') keyfile = optarg;
        else if (c == 'e' && strlen(optarg) >= 1 && strlen(optarg) <= WN_ENTERPRISE_MAX) snprintf(e.enterprise, sizeof e.enterprise, "%s", optarg);
        else if (c == 'p' && name_code(optarg, wn_point_name, WN_POINT_MAX, &e.point)) {}
        else if (c == 't' && wn_agent_parse_u64(optarg, &tier) && tier >= 1 && tier <= 3) {}
        else if (c == 'o' && name_code(optarg, wn_source_name, WN_SOURCE_MAX, &e.source)) {}
        else if (c == 'a' && wn_hex_decode(e.parent, 32, optarg, strlen(optarg))) {}
        else if (c == 'c' && strlen(optarg) <= WN_CALIBRATION_MAX) snprintf(e.calibration, sizeof e.calibration, "%s", optarg);
        else if (c == 'A' && strcmp(optarg, "sensor") == 0) e.attestation = WN_ATTEST_SENSOR;
        else if (c == 'A' && strcmp(optarg, "gateway") == 0) e.attestation = WN_ATTEST_GATEWAY;
        else if (c == 'g' && strlen(optarg) >= 1 && strlen(optarg) <= WN_GATEWAY_ID_MAX) snprintf(e.gateway, sizeof e.gateway, "%s", optarg);
        else if (c == 'h') { enrol_usage(stdout); return 0; }
        else { enrol_usage(stderr); return WN_PUSH_LOCAL; }
    }
    if (!state || !node || !keyfile || !e.enterprise[0] || optind != argc) { enrol_usage(stderr); return WN_PUSH_LOCAL; }
    if ((e.attestation == WN_ATTEST_GATEWAY) != (e.gateway[0] != '\0')) {
        fprintf(stderr, "wn-meter: --attestation gateway and --gateway ID go together (a meter read by wn-gateway)\n");
        return WN_PUSH_LOCAL;
    }
    e.tier = (uint8_t)tier;

    uint8_t registrar_sk[32];
    if (!wn_keyfile_read(keyfile, registrar_sk)) {
        fprintf(stderr, "wn-meter: cannot use the registrar key %s: %s\n", keyfile, wn_keyfile_strerror(errno));
        return WN_PUSH_LOCAL;
    }
    wn_meter m;
    int err = wn_meter_open(&m, state);
    if (err) { fprintf(stderr, "wn-meter: %s: %s\n", state, wn_meter_strerror(err)); return WN_PUSH_LOCAL; }
    memcpy(e.meter, wn_meter_id(&m), 32);
    memcpy(e.pubkey, wn_meter_pubkey(&m), 33);
    e.alg = wn_meter_alg(&m);
    e.time_ms = wn_agent_now_ms();
    wn_meter_close(&m);

    wn_http h;
    if (!wn_http_init(&h, node)) { fprintf(stderr, "wn-meter: bad node URL\n"); return WN_PUSH_LOCAL; }
    int rc = wn_agent_enrol(&h, &e, registrar_sk, state);
    explicit_bzero(registrar_sk, sizeof registrar_sk);
    wn_http_free(&h);
    if (rc == 0) {
        char hex[65];
        wn_hex_encode(hex, e.meter, 32);
        printf("%s enrolled\n", hex);
    }
    return rc;
}
