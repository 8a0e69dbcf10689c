/* test_alg_e2e.c — meters that sign with ECDSA P-256 (alg 3) and SM2/SM3 (alg 4), through
 * a real wn-node:
 * - a mixed fleet (BIP-340, secp256k1 ECDSA, P-256, SM2) pushed by wn-meter simulate is
 *   accepted, `wn audit` passes, and bundles of the P-256 and SM2 meters verify offline;
 * - readings signed by an independent implementation, the `openssl` command line, over the
 *   bytes PROTOCOL.md §1–2 say are signed (the tagged hash with SHA-256, or with SM3 for
 *   SM2), are accepted; the same readings tampered, or claiming another algorithm, are
 *   refused with bad_signature. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/evp_ec.h"
#include "protocol/reading.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char g_npk[65];

static void notary_pub(const char *url)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", "/v1/pubkey", NULL, NULL, 0, &r) && r.status == 200);
    const char *p = strstr((char *)r.body, "\"notary\":\"");
    cr_assert(p);
    memcpy(g_npk, p + 10, 64);
    g_npk[64] = '\0';
    wn_test_resp_free(&r);
}

Test(alg_e2e, mixed_fleet_accepted_audited_bundled, .timeout = 180)
{
    char *dir = wn_test_tmpdir("algmix");
    wn_test_node n;
    wn_test_node_init(&n, dir);
    cr_assert(wn_proc_node_start(&n, 0, NULL));
    notary_pub(n.url);
    char regkey[4300], fleet[4200], ledger[4300];
    snprintf(regkey, sizeof regkey, "%s/registrar.key", n.data);
    snprintf(fleet, sizeof fleet, "%s/fleet", dir);
    snprintf(ledger, sizeof ledger, "%s/ledger", n.data);
    wn_run_result r = wn_proc_runl(dir, "wn-meter", "simulate", "--node", n.url, "--registrar-key", regkey, "--meters",
                                   "12", "--readings", "8", "--state", fleet, "--alg", "mixed", "--quiet", NULL);
    cr_assert_eq(r.code, 0, "simulate: %s %s", r.out, r.err);
    cr_assert(strstr(r.out, "96 accepted"), "%s", r.out);
    wn_run_result_free(&r);
    uint64_t got = 0; /* the audit checks the ledger up to a signed checkpoint: wait for one over all 108 entries */
    cr_assert(wn_test_wait_checkpoint(n.url, 108, &got), "no checkpoint of size 108 (got %llu)", (unsigned long long)got);
    r = wn_proc_runl(dir, "wn", "audit", "--node", n.url, "--notary-pub", g_npk, NULL);
    cr_assert_eq(r.code, 0, "audit: %s %s", r.out, r.err);
    wn_run_result_free(&r);
    const char *meters[] = {"meter-00001", "meter-00002", "meter-00007", "meter-00008"}; /* P-256, SM2, P-256, SM2 */
    const char *algs[] = {"p256", "sm2", "p256", "sm2"};
    for (int i = 0; i < 4; i++) {
        char state[4400], bundle[4400], id[65] = "";
        snprintf(state, sizeof state, "%s/%s", fleet, meters[i]);
        snprintf(bundle, sizeof bundle, "%s/%s.bundle", dir, meters[i]);
        r = wn_proc_runl(dir, "wn-meter", "status", "--state", state, NULL);
        cr_assert_eq(r.code, 0);
        const char *m = strstr(r.out, "meter"), *a = strstr(r.out, "alg");
        cr_assert(m && a && sscanf(m, "meter %64s", id) == 1, "%s", r.out);
        cr_assert(strncmp(a + strspn(a + 3, " ") + 3, algs[i], strlen(algs[i])) == 0, "%s is not %s: %s", meters[i],
                  algs[i], r.out);
        wn_run_result_free(&r);
        r = wn_proc_runl(dir, "wn", "bundle", "--node", n.url, "--meter", id, "--from", "2000-01-01", "--to",
                         "2100-01-01", "--out", bundle, "--notary-pub", g_npk, NULL);
        cr_assert_eq(r.code, 0, "bundle: %s %s", r.out, r.err);
        wn_run_result_free(&r);
        r = wn_proc_runl(dir, "wn", "verify", bundle, "--notary-pub", g_npk, NULL);
        cr_assert_eq(r.code, 0, "verify %s: %s %s", algs[i], r.out, r.err);
        cr_assert(strstr(r.out, "VALID: 8 readings"), "%s", r.out);
        wn_run_result_free(&r);
    }
    wn_test_node_stop(&n, SIGTERM);
    wn_test_rmtree(dir);
    free(dir);
}

/* ---- readings signed by the openssl command line ---- */

/* n - s for a 256-bit big-endian s (the low-S twin of a P-256 signature). */
static void low_s(uint8_t sig[64])
{
    static const char order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    static const char half[] = "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8";
    uint8_t n[32], h[32];
    cr_assert(wn_hex_decode(n, 32, order, 64) && wn_hex_decode(h, 32, half, 64));
    if (memcmp(sig + 32, h, 32) <= 0) return;
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int v = n[i] - sig[32 + i] - borrow;
        borrow = v < 0;
        sig[32 + i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
}

static size_t read_all(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Signs the reading's bytes (all but the signature) with the openssl command line only:
 * the tagged hash is made with `openssl dgst`, the signature with `openssl pkeyutl`. */
static void openssl_sign(const char *dir, const char *key, uint8_t alg, wn_reading *r)
{
    uint8_t bytes[WN_READING_MAX_LEN], der[80];
    size_t len;
    r->alg = alg;
    memset(r->sig, 1, 64);
    cr_assert_eq(wn_reading_encode(r, bytes, sizeof bytes, &len), WN_READING_OK);
    char tbs[4300], tag[4300], th[4300], msg[4300], dg[4300], sig[4300], cmd[40000];
    snprintf(tbs, sizeof tbs, "%s/tbs.bin", dir);
    snprintf(tag, sizeof tag, "%s/tag.txt", dir);
    snprintf(th, sizeof th, "%s/th.bin", dir);
    snprintf(msg, sizeof msg, "%s/msg.bin", dir);
    snprintf(dg, sizeof dg, "%s/digest.bin", dir);
    snprintf(sig, sizeof sig, "%s/sig.der", dir);
    write_file(tbs, bytes, len - 64);
    write_file(tag, "WaterNotary/reading/v1", 22);
    const char *h = alg == WN_ALG_SM2 ? "-sm3" : "-sha256";
    snprintf(cmd, sizeof cmd, "openssl dgst %s -binary %s > %s && cat %s %s %s > %s && openssl dgst %s -binary %s > %s", h,
             tag, th, th, th, tbs, msg, h, msg, dg);
    cr_assert_eq(sh(cmd), 0);
    if (alg == WN_ALG_P256)
        snprintf(cmd, sizeof cmd, "openssl pkeyutl -sign -inkey %s -in %s -out %s", key, dg, sig);
    else
        snprintf(cmd, sizeof cmd,
                 "openssl pkeyutl -sign -inkey %s -rawin -digest sm3 -pkeyopt distid:1234567812345678 -in %s -out %s", key,
                 dg, sig);
    cr_assert_eq(sh(cmd), 0);
    size_t dl = read_all(sig, der, sizeof der);
    cr_assert(wn_ec_sig_from_der(r->sig, der, dl));
    if (alg == WN_ALG_P256) low_s(r->sig);
    /* our own digest of the same bytes is what openssl signed */
    uint8_t ours[32], theirs[32];
    wn_reading_signing_digest(r, ours);
    cr_assert_eq(read_all(dg, theirs, 32), 32);
    cr_assert_arr_eq(ours, theirs, 32, "PROTOCOL's signed digest differs from openssl's for alg %u", alg);
}

static long post_reading(const char *url, const wn_reading *r, char *body, size_t cap)
{
    uint8_t bin[2 + WN_READING_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_reading_encode(r, bin + 2, WN_READING_MAX_LEN, &len), WN_READING_OK);
    bin[0] = (uint8_t)(len >> 8);
    bin[1] = (uint8_t)len;
    wn_test_resp resp;
    cr_assert(wn_test_http(url, "POST", "/v1/readings", "application/vnd.waternotary.readings", bin, len + 2, &resp));
    snprintf(body, cap, "%s", resp.body ? (char *)resp.body : "");
    long st = resp.status;
    wn_test_resp_free(&resp);
    return st;
}

Test(alg_e2e, openssl_signed_readings_accepted, .timeout = 120)
{
    char *dir = wn_test_tmpdir("algssl");
    wn_test_node n;
    wn_test_node_init(&n, dir);
    cr_assert(wn_proc_node_start(&n, 0, NULL));
    char regkey[4300], key[4300], cmd[9000], body[8192];
    snprintf(regkey, sizeof regkey, "%s/registrar.key", n.data);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    const uint8_t algs[2] = {WN_ALG_P256, WN_ALG_SM2};
    for (int a = 0; a < 2; a++) {
        uint8_t alg = algs[a];
        snprintf(cmd, sizeof cmd, "openssl genpkey %s -out %s 2>/dev/null", alg == WN_ALG_SM2 ? "-algorithm SM2"
                 : "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", key);
        cr_assert_eq(sh(cmd), 0);
        snprintf(cmd, sizeof cmd, "openssl pkey -in %s -pubout -outform DER | tail -c 65 | od -An -tx1 -v | tr -d ' \\n'",
                 key);
        FILE *p = popen(cmd, "r");
        char hex[200] = "";
        cr_assert(fgets(hex, sizeof hex, p));
        pclose(p);
        uint8_t unc[65], pub[33], id[32];
        cr_assert(wn_hex_decode(unc, 65, hex, strlen(hex)), "public key %s", hex);
        pub[0] = (uint8_t)(0x02 | (unc[64] & 1));
        memcpy(pub + 1, unc + 1, 32);
        cr_assert(wn_meter_id_of(alg, pub, id));
        char idhex[65], pubhex[67];
        wn_hex_encode(idhex, id, 32);
        wn_hex_encode(pubhex, pub, 33);
        wn_run_result r = wn_proc_runl(dir, "wn", "enrol", "--node", n.url, "--registrar-key", regkey, "--meter", idhex,
                                       "--alg", wn_alg_name(alg), "--pubkey", pubhex, "--enterprise", "91330400MA0000001X",
                                       "--point", "use", "--tier", "2", "--source", "tap", NULL);
        cr_assert_eq(r.code, 0, "enrol %s: %s %s", wn_alg_name(alg), r.out, r.err);
        wn_run_result_free(&r);

        wn_reading rd;
        memset(&rd, 0, sizeof rd);
        rd.version = 1;
        memcpy(rd.meter, id, 32);
        uint64_t t = now_ms(); /* after the enrolment (wn enrol dates it now), within the node's skew */
        for (int k = 1; k <= 3; k++) {
            rd.seq = (uint64_t)k;
            rd.time_ms = t + (uint64_t)k * 1000;
            rd.count = 2;
            rd.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, 1000 * k};
            rd.m[1] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 720};
            openssl_sign(dir, key, alg, &rd);
            cr_assert_eq(wn_reading_verify(&rd, pub, 33), WN_READING_OK, "our verifier refuses openssl's %s reading",
                         wn_alg_name(alg));
            if (k == 2) { /* tampered, and claiming the other algorithm: refused, nothing ledgered */
                wn_reading bad = rd;
                bad.m[1].value = 721;
                cr_assert_eq(post_reading(n.url, &bad, body, sizeof body), 200);
                cr_assert(strstr(body, "bad_signature"), "tampered %s reading: %s", wn_alg_name(alg), body);
                bad = rd;
                bad.alg = alg == WN_ALG_P256 ? WN_ALG_SM2 : WN_ALG_P256;
                cr_assert_eq(post_reading(n.url, &bad, body, sizeof body), 200);
                cr_assert(strstr(body, "bad_signature"), "other algorithm: %s", body);
            }
            long st = post_reading(n.url, &rd, body, sizeof body);
            cr_assert(st == 200 && strstr(body, "\"accepted\""), "openssl-signed %s reading %d: %ld %s",
                      wn_alg_name(alg), k, st, body);
            wn_reading_digest(&rd, rd.prev);
        }
    }
    wn_test_node_stop(&n, SIGTERM);
    wn_test_rmtree(dir);
    free(dir);
}
