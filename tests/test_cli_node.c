/* test_cli_node.c — `wn enrol`, `wn revoke` and `wn checkpoint` (the real bin/wn) against a
 * real bin/wn-node on 127.0.0.1: output, exit codes, refusals by the node, the pinned and
 * trust-on-first-use checkpoint checks, usage errors and an unreachable node. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;
static wn_test_node node;
static char reg_key[4300], other_key[4300], reg_pub[65], notary_pub[65];

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

static void new_key(char *path, size_t cap, const char *name, char pub[65])
{
    uint8_t sk[32], xonly[32];
    snprintf(path, cap, "%s/%s", tmp, name);
    cr_assert(wn_keyfile_create(path, sk, xonly));
    if (pub) wn_hex_encode(pub, xonly, 32);
}

static void setup(void)
{
    tmp = wn_test_tmpdir("clinode");
    cr_assert_not_null(tmp);
    new_key(reg_key, sizeof reg_key, "registrar.key", reg_pub);
    new_key(other_key, sizeof other_key, "other.key", NULL);
    wn_test_node_init(&node, tmp);
    const char *args[] = {"--registrar", reg_pub, "--checkpoint-ms", "20", NULL};
    if (!wn_test_node_start(&node, args)) {
        char *log = wn_test_read_file(node.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "");
    }
    char nk[4300];
    snprintf(nk, sizeof nk, "%s/notary.key", node.data);
    uint8_t sk[32], pk[32];
    cr_assert(wn_keyfile_read(nk, sk));
    cr_assert(wn_seckey_xonly(pk, sk));
    wn_hex_encode(notary_pub, pk, 32);
}

static void teardown(void)
{
    wn_test_node_stop(&node, SIGKILL);
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(cli_node, .init = setup, .fini = teardown, .timeout = 60);

static void meter_key(char pub[65], char pub33[67])
{
    uint8_t sk[32], p33[33];
    cr_assert(wn_seckey_generate(sk));
    cr_assert(wn_seckey_pub33(p33, sk));
    wn_hex_encode(pub, p33 + 1, 32);
    if (pub33) wn_hex_encode(pub33, p33, 33);
}

Test(cli_node, enrol_and_revoke)
{
    char m[65], m2[65], m2_33[67];
    meter_key(m, NULL);
    meter_key(m2, m2_33);
    result r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m, "--enterprise",
                  "91620700MA000000XX", "--point", "intake", "--tier", "1", "--source", "groundwater",
                  "--calibration", "CAL-1", NULL);
    cr_assert_eq(r.code, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    cr_assert(strstr(r.out, "at ledger index 0"), "%s", r.out);
    result_free(&r);

    /* again: the node refuses */
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m, "--enterprise", "X", "--point",
           "use", "--tier", "2", "--source", "tap", NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.err, "already_enrolled"), "%s", r.err);
    result_free(&r);

    /* signed by a key that is not the node's registrar */
    r = wn("enrol", "--node", node.url, "--registrar-key", other_key, "--meter", m2, "--enterprise", "X", "--point",
           "use", "--tier", "2", "--source", "tap", NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.err, "bad_registrar_signature"), "%s", r.err);
    result_free(&r);

    /* an ECDSA meter with its compressed key, a parent, JSON output */
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m2, "--alg", "ecdsa", "--pubkey",
           m2_33, "--parent", m, "--enterprise", "X", "--point", "recycling", "--tier", "3", "--source",
           "reclaimed", "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert(j, "%s", r.out);
    cr_assert_eq(cJSON_GetObjectItem(j, "index")->valuedouble, 1);
    cJSON_Delete(j);
    result_free(&r);

    /* usage errors */
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m, NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m2, "--alg", "ecdsa", "--enterprise",
           "X", "--point", "use", "--tier", "2", "--source", "tap", NULL);
    cr_assert_eq(r.code, 2, "ecdsa without --pubkey");
    result_free(&r);
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m2, "--enterprise", "X", "--point",
           "pond", "--tier", "2", "--source", "tap", NULL);
    cr_assert_eq(r.code, 2);
    cr_assert(strstr(r.err, "--point"));
    result_free(&r);
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m2, "--enterprise", "X", "--point",
           "use", "--tier", "4", "--source", "tap", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);

    /* revoke */
    r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", m, "--reason", "compromised", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "revoked meter") && strstr(r.out, "at ledger index 2"), "%s", r.out);
    result_free(&r);
    r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", m, NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.err, "already_revoked"), "%s", r.err);
    result_free(&r);
    char m3[65];
    meter_key(m3, NULL);
    r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", m3, NULL);
    cr_assert_eq(r.code, 1);
    cr_assert(strstr(r.err, "unknown_meter"), "%s", r.err);
    result_free(&r);
    r = wn("revoke", "--node", node.url, "--registrar-key", reg_key, "--meter", m2, "--reason", "lost", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);

    r = wn("enrol", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:"));
    result_free(&r);
    r = wn("revoke", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:"));
    result_free(&r);
}

Test(cli_node, checkpoint_pinned_and_tofu)
{
    char m[65];
    meter_key(m, NULL);
    result r = wn("checkpoint", "--node", node.url, NULL);
    cr_assert_eq(r.code, 3, "no checkpoint yet: %s %s", r.out, r.err);
    result_free(&r);
    r = wn("enrol", "--node", node.url, "--registrar-key", reg_key, "--meter", m, "--enterprise", "X", "--point",
           "intake", "--tier", "1", "--source", "surface", NULL);
    cr_assert_eq(r.code, 0);
    result_free(&r);
    /* wait for the checkpoint of size 1 */
    for (int i = 0; i < 1000; i++) {
        r = wn("checkpoint", "--node", node.url, "--notary-pub", notary_pub, NULL);
        if (r.code == 0) break;
        result_free(&r);
        usleep(20000);
    }
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "size       1\n"), "%s", r.out);
    cr_assert(strstr(r.out, "pinned"), "%s", r.out);
    result_free(&r);

    /* trust on first use says so */
    char out[4300];
    snprintf(out, sizeof out, "%s/cp.txt", tmp);
    r = wn("checkpoint", "--node", node.url, "--out", out, "--json", NULL);
    cr_assert_eq(r.code, 0, "%s %s", r.out, r.err);
    cr_assert(strstr(r.err, "trust on first use"), "%s", r.err);
    cJSON *j = cJSON_Parse(r.out);
    cr_assert(j, "%s", r.out);
    cr_assert_eq(cJSON_GetObjectItem(j, "size")->valuedouble, 1);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "pinned")));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "notary")->valuestring, notary_pub);
    cJSON_Delete(j);
    result_free(&r);
    size_t len;
    char *note = wn_test_read_file(out, &len);
    uint8_t pk[32];
    cr_assert(wn_hex_decode(pk, 32, notary_pub, 64));
    wn_checkpoint cp;
    cr_assert_eq(wn_checkpoint_verify(note, len, NULL, pk, &cp), WN_CHECKPOINT_OK, "the saved note verifies");
    free(note);

    /* another key: invalid */
    r = wn("checkpoint", "--node", node.url, "--notary-pub", reg_pub, NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    cr_assert(strstr(r.out, "INVALID"), "%s", r.out);
    result_free(&r);
    /* another origin: invalid */
    r = wn("checkpoint", "--node", node.url, "--notary-pub", notary_pub, "--origin", "example.com/log", NULL);
    cr_assert_eq(r.code, 1, "%s %s", r.out, r.err);
    result_free(&r);

    r = wn("checkpoint", "--node", "http://127.0.0.1:1", NULL);
    cr_assert_eq(r.code, 3);
    cr_assert(strstr(r.err, "cannot reach"), "%s", r.err);
    result_free(&r);
    r = wn("checkpoint", NULL);
    cr_assert_eq(r.code, 2);
    result_free(&r);
    r = wn("checkpoint", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:"));
    result_free(&r);
}
