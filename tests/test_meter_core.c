/* test_meter_core.c — the freestanding meter core (device/core/) through its POSIX port:
 * its readings are the protocol's (decoded, verified and chained by protocol/), it refuses
 * what the notary would refuse, it verifies receipts of both versions and refuses every
 * tampered one with a named reason, its flash log survives a power cut at every single
 * program and erase (no reading lost or reused, chain unbroken, pages reused only after
 * their readings are acknowledged), and a real wn-node accepts its readings and issues
 * receipts the core verifies. */
#include <criterion/criterion.h>

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "device/agent/agent.h"
#include "device/agent/http.h"
#include "device/core/core.h"
#include "device/meter.h"
#include "device/port/posix/posix_port.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1795000000000ULL

static char *g_dir;
static char g_flash[4200];
static uint8_t g_sk[32], g_notary_sk[32], g_notary[32];

static void setup(void)
{
    g_dir = wn_test_tmpdir("mcore");
    cr_assert(g_dir);
    snprintf(g_flash, sizeof g_flash, "%s/flash.img", g_dir);
    memset(g_sk, 0x42, 32);
    memset(g_notary_sk, 0x33, 32);
    cr_assert(wn_seckey_xonly(g_notary, g_notary_sk));
}

static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
}

TestSuite(meter_core, .init = setup, .fini = teardown);

static void meas(wn_core_meas ms[2], int64_t vol_l, int64_t flow)
{
    ms[0] = (wn_core_meas){2, 3, 3, flow};  /* flow m3/h, 3 decimals (given first: the core sorts) */
    ms[1] = (wn_core_meas){1, 2, 0, vol_l}; /* volume in litres */
}

/* A v1 receipt of the reading by the test notary, binary. */
static size_t receipt_v1(uint8_t out[WN_RECEIPT_MAX_LEN], const uint8_t *r, size_t len, uint64_t index)
{
    wn_receipt rc;
    memset(&rc, 0, sizeof rc);
    rc.version = 1;
    rc.index = index;
    rc.time_ms = T0;
    wn_reading_leaf_hash(rc.leaf, r, len);
    cr_assert(wn_receipt_sign(&rc, g_notary_sk));
    return wn_receipt_encode(&rc, out);
}

static void check_protocol_reading(const uint8_t *b, size_t len, uint64_t seq, const uint8_t prev[32], uint8_t alg,
                                   const uint8_t pub33[33])
{
    wn_reading r;
    cr_assert_eq(wn_reading_decode(&r, b, len), WN_READING_OK, "the core's reading decodes");
    cr_assert_eq(r.seq, seq);
    cr_assert_eq(r.alg, alg);
    cr_assert_eq(memcmp(r.prev, prev, 32), 0, "chain: prev is the digest of the previous reading");
    cr_assert_eq(wn_reading_verify(&r, alg == WN_ALG_BIP340 ? NULL : pub33, alg == WN_ALG_BIP340 ? 0 : 33),
                 WN_READING_OK, "the signature verifies as the notary verifies it");
    cr_assert(r.m[0].quantity == 1 && r.m[1].quantity == 2, "measurements sorted by quantity");
}

static void readings_are_protocol(uint8_t alg)
{
    wn_posix_port pp;
    wn_core_meter m;
    cr_assert(wn_posix_port_open(&pp, g_flash, 1024, 4, 8, g_sk, alg));
    cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
    uint8_t prev[32] = {0}, b[WN_CORE_READING_MAX], pub33[33];
    cr_assert(wn_seckey_pub33(pub33, g_sk));
    for (uint64_t i = 1; i <= 12; i++) {
        wn_core_meas ms[2];
        size_t len;
        uint64_t seq;
        meas(ms, (int64_t)(1000 * i), 5000);
        cr_assert_eq(wn_core_read(&m, T0 + i, 0, ms, 2, b, &len, &seq), WN_CORE_OK);
        cr_assert_eq(seq, i);
        check_protocol_reading(b, len, i, prev, alg, pub33);
        wn_sha256(prev, b, len);
    }
    wn_posix_port_close(&pp);
    /* reopened: the chain state comes back from flash */
    cr_assert(wn_posix_port_open(&pp, g_flash, 1024, 4, 8, g_sk, alg));
    cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
    wn_core_meas ms[2];
    size_t len;
    meas(ms, 13000, 5000);
    cr_assert_eq(wn_core_read(&m, T0 + 13, 0, ms, 2, b, &len, NULL), WN_CORE_OK);
    check_protocol_reading(b, len, 13, prev, alg, pub33);
    wn_posix_port_close(&pp);
}

Test(meter_core, readings_are_the_protocols_bip340) { readings_are_protocol(WN_ALG_BIP340); }
Test(meter_core, readings_are_the_protocols_ecdsa) { readings_are_protocol(WN_ALG_ECDSA); }

Test(meter_core, refuses_what_the_notary_refuses)
{
    wn_posix_port pp;
    wn_core_meter m;
    cr_assert(wn_posix_port_open(&pp, g_flash, 1024, 4, 8, g_sk, WN_ALG_BIP340));
    cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
    wn_core_meas ms[2];
    meas(ms, 5000, 100);
    cr_assert_eq(wn_core_read(&m, T0, 0, ms, 2, NULL, NULL, NULL), WN_CORE_OK);
    meas(ms, 4999, 100);
    cr_assert_eq(wn_core_read(&m, T0, 0, ms, 2, NULL, NULL, NULL), WN_CORE_EVOLUME, "volume backwards");
    ms[1] = (wn_core_meas){1, 1, 3, 4998}; /* 4.998 m3 < 5000 L */
    cr_assert_eq(wn_core_read(&m, T0, 0, ms, 2, NULL, NULL, NULL), WN_CORE_EVOLUME, "volume backwards in m3");
    cr_assert_eq(wn_core_read(&m, T0, WN_CORE_FLAG_METER_REPLACED, ms, 2, NULL, NULL, NULL), WN_CORE_OK,
                 "a replaced meter may restart its totaliser");
    meas(ms, 5000, 100);
    cr_assert_eq(wn_core_read(&m, T0 - 1, 0, ms, 2, NULL, NULL, NULL), WN_CORE_ETIME, "time backwards");
    cr_assert_eq(wn_core_read(&m, WN_CORE_MAX_TIME + 1, 0, ms, 2, NULL, NULL, NULL), WN_CORE_ETIME);
    cr_assert_eq(wn_core_read(&m, T0, 0x40, ms, 2, NULL, NULL, NULL), WN_CORE_EARG, "undefined flag");
    wn_core_meas bad[2] = {{2, 1, 0, 1}, {1, 1, 0, 6000}};
    cr_assert_eq(wn_core_read(&m, T0, 0, bad, 2, NULL, NULL, NULL), WN_CORE_EARG, "m3 is no flow unit");
    wn_core_meas dup[2] = {{1, 1, 0, 6000}, {1, 1, 0, 6000}};
    cr_assert_eq(wn_core_read(&m, T0, 0, dup, 2, NULL, NULL, NULL), WN_CORE_EARG, "a quantity twice");
    wn_core_meas ph[1] = {{3, 5, 1, 141}};
    cr_assert_eq(wn_core_read(&m, T0, 0, ph, 1, NULL, NULL, NULL), WN_CORE_ERANGE, "pH 14.1");
    wn_core_meas sc[1] = {{7, 10, 10, 1}};
    cr_assert_eq(wn_core_read(&m, T0, 0, sc, 1, NULL, NULL, NULL), WN_CORE_EARG, "scale 10");
    cr_assert_eq(wn_core_read(&m, T0, 0, ms, 0, NULL, NULL, NULL), WN_CORE_EARG, "no measurement");
    wn_core_counts c;
    wn_core_get_counts(&m, &c);
    cr_assert_eq(c.last_seq, 2, "refused readings use no sequence number");
    wn_posix_port_close(&pp);
}

/* The log fills with unacknowledged readings and refuses more; receipts free pages. */
Test(meter_core, pages_are_reused_only_after_receipts)
{
    wn_posix_port pp;
    wn_core_meter m;
    cr_assert(wn_posix_port_open(&pp, g_flash, 512, 3, 8, g_sk, WN_ALG_BIP340));
    cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
    wn_core_meas ms[2];
    uint64_t n = 0;
    int err;
    for (;;) {
        meas(ms, (int64_t)n, 1);
        if ((err = wn_core_read(&m, T0 + n, 0, ms, 2, NULL, NULL, NULL))) break;
        n++;
    }
    cr_assert_eq(err, WN_CORE_EFULL, "%s", wn_core_strerror(err));
    cr_assert_geq(n, 5);
    uint8_t b[WN_CORE_READING_MAX], rc[WN_RECEIPT_MAX_LEN];
    size_t len;
    uint64_t seq;
    /* a receipt out of order verifies but acknowledges nothing */
    cr_assert_eq(wn_core_get(&m, 2, b, &len), WN_CORE_OK);
    size_t rl = receipt_v1(rc, b, len, 101);
    cr_assert_eq(wn_core_ack(&m, 2, rc, rl, g_notary, NULL), WN_CORE_END);
    for (uint64_t s = 0; wn_core_next_pending(&m, s, b, &len, &seq) == WN_CORE_OK; s = seq) {
        rl = receipt_v1(rc, b, len, 100 + seq);
        cr_assert_eq(wn_core_ack(&m, seq, rc, rl, g_notary, NULL), WN_CORE_OK);
    }
    meas(ms, (int64_t)n, 1);
    cr_assert_eq(wn_core_read(&m, T0 + n, 0, ms, 2, NULL, NULL, &seq), WN_CORE_OK, "acknowledged pages are reused");
    cr_assert_eq(seq, n + 1);
    wn_posix_port_close(&pp);
}

/* A power cut at program or erase number k, for every k of a scenario that makes and
 * acknowledges readings across several page reuses. */
Test(meter_core, power_cut_at_every_flash_operation, .timeout = 300)
{
    enum { N = 40 };
    static uint8_t returned[N + 2][WN_CORE_READING_MAX];
    static size_t rlen[N + 2];
    unsigned cuts = 0;
    for (long k = 1;; k++) {
        memset(rlen, 0, sizeof rlen);
        unlink(g_flash);
        wn_posix_port pp;
        wn_core_meter m;
        cr_assert(wn_posix_port_open(&pp, g_flash, 512, 3, 8, g_sk, WN_ALG_BIP340));
        pp.cut_after = k;
        cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
        uint64_t made = 0;
        int err = 0;
        while (made < N && !err) {
            wn_core_meas ms[2];
            uint8_t b[WN_CORE_READING_MAX], rc[WN_RECEIPT_MAX_LEN];
            size_t len;
            uint64_t seq;
            meas(ms, (int64_t)made * 10, 7);
            err = wn_core_read(&m, T0 + made, 0, ms, 2, b, &len, &seq);
            if (err) break;
            made = seq;
            memcpy(returned[seq], b, len);
            rlen[seq] = len;
            if (seq % 2 == 0) /* acknowledge in pairs, so pages fill and are reused */
                for (uint64_t s = 0; !err && wn_core_next_pending(&m, s, b, &len, &s) == WN_CORE_OK;) {
                    size_t rl = receipt_v1(rc, b, len, s);
                    err = wn_core_ack(&m, s, rc, rl, g_notary, NULL);
                }
        }
        long left = pp.cut_after;
        wn_posix_port_close(&pp);
        if (!err) { cr_assert_gt(left, 0); break; } /* the scenario ran out of operations before k */
        cr_assert_eq(err, WN_CORE_EFLASH, "k=%ld: %s", k, wn_core_strerror(err));
        cuts++;

        /* Power back. */
        cr_assert(wn_posix_port_open(&pp, g_flash, 512, 3, 8, g_sk, WN_ALG_BIP340));
        err = wn_core_open(&m, &pp.port);
        cr_assert_eq(err, WN_CORE_OK, "k=%ld: open after the cut: %s", k, wn_core_strerror(err));
        wn_core_counts c;
        wn_core_get_counts(&m, &c);
        cr_assert_geq(c.last_seq, made, "k=%ld: a returned reading is lost (last %llu < %llu)", k,
                      (unsigned long long)c.last_seq, (unsigned long long)made);
        cr_assert_leq(c.last_seq, made + 1, "k=%ld", k);
        for (uint64_t s = c.acked + 1; s <= made; s++) {
            uint8_t b[WN_CORE_READING_MAX];
            size_t len;
            cr_assert_eq(wn_core_get(&m, s, b, &len), WN_CORE_OK, "k=%ld: unacknowledged reading %llu gone", k,
                         (unsigned long long)s);
            cr_assert(len == rlen[s] && memcmp(b, returned[s], len) == 0, "k=%ld: reading %llu changed", k,
                      (unsigned long long)s);
        }
        /* The next reading continues the chain from the last one on flash. */
        uint8_t last[WN_CORE_READING_MAX], b[WN_CORE_READING_MAX], prev[32];
        size_t llen, len;
        uint64_t seq;
        if (c.last_seq > made) { /* the torn-looking record was whole: it is the next one */
            cr_assert_eq(wn_core_get(&m, c.last_seq, last, &llen), WN_CORE_OK);
        } else {
            memcpy(last, returned[made], rlen[made]);
            llen = rlen[made];
        }
        if (c.last_seq == 0) memset(prev, 0, 32);
        else wn_sha256(prev, last, llen);
        wn_core_meas ms[2];
        meas(ms, 100000, 7);
        err = wn_core_read(&m, T0 + 100000, 0, ms, 2, b, &len, &seq);
        if (err == WN_CORE_EFULL) { wn_posix_port_close(&pp); continue; }
        cr_assert_eq(err, WN_CORE_OK, "k=%ld: %s", k, wn_core_strerror(err));
        cr_assert_eq(seq, c.last_seq + 1, "k=%ld: sequence reused or skipped", k);
        cr_assert_eq(memcmp(b + 49, prev, 32), 0, "k=%ld: chain broken", k);
        wn_posix_port_close(&pp);
    }
    cr_assert_gt(cuts, 60, "the scenario cut %u times", cuts);
}

/* The file meter (wn-meter, device/meter_queue.c) checks receipts through the core's
 * receipt code: a flipped signature bit (v1, v2) or a path that misses the root is refused. */
Test(meter_core, the_file_meter_checks_receipts_through_the_core)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/m", g_dir);
    uint8_t id[32];
    cr_assert_eq(wn_meter_create(dir, WN_ALG_BIP340, g_sk, id), WN_METER_OK);
    wn_meter m;
    cr_assert_eq(wn_meter_open(&m, dir), WN_METER_OK);
    wn_measurement ms[1] = {{WN_Q_VOLUME, WN_U_M3, 0, 5}};
    uint8_t b[WN_READING_MAX_LEN];
    size_t len;
    uint64_t seq;
    cr_assert_eq(wn_meter_read(&m, T0, 0, ms, 1, b, &len, &seq), WN_METER_OK);

    wn_receipt v1;
    memset(&v1, 0, sizeof v1);
    v1.version = 1;
    v1.index = 3;
    v1.time_ms = T0;
    wn_reading_leaf_hash(v1.leaf, b, len);
    cr_assert(wn_receipt_sign(&v1, g_notary_sk));
    wn_receipt bad = v1;
    bad.sig[5] ^= 0x20;
    cr_assert_eq(wn_meter_ack(&m, seq, &bad, g_notary), WN_METER_ESIG, "v1: a flipped signature bit");

    /* version 2: a commit of two leaves, this reading first, a made-up neighbour second */
    wn_receipt v2;
    memset(&v2, 0, sizeof v2);
    v2.version = 2;
    v2.head.origin_len = 4;
    memcpy(v2.head.origin, "test", 5);
    v2.head.first = 10;
    v2.head.count = 2;
    v2.head.tree_size = 12;
    v2.head.time_ms = T0;
    v2.index = 10;
    memcpy(v2.leaf, v1.leaf, 32);
    v2.path_len = 1;
    memset(v2.path[0], 0x44, 32);
    uint8_t one = 1;
    wn_sha256_ctx h;
    wn_sha256_init(&h);
    wn_sha256_update(&h, &one, 1);
    wn_sha256_update(&h, v2.leaf, 32);
    wn_sha256_update(&h, v2.path[0], 32);
    wn_sha256_final(&h, v2.head.root);
    wn_signer sg;
    cr_assert(wn_signer_init(&sg, g_notary_sk));
    cr_assert(wn_receipt_head_sign(&v2.head, &sg));
    v2.time_ms = v2.head.time_ms;
    bad = v2;
    bad.head.sig[63] ^= 1;
    cr_assert_eq(wn_meter_ack(&m, seq, &bad, g_notary), WN_METER_ESIG, "v2: a flipped head signature bit");
    bad = v2;
    bad.path[0][0] ^= 1;
    cr_assert_eq(wn_meter_ack(&m, seq, &bad, g_notary), WN_METER_ESIG, "v2: a path that misses the root");
    cr_assert(!wn_meter_is_acked(&m, seq));
    cr_assert_eq(wn_meter_ack(&m, seq, &v2, g_notary), WN_METER_OK);
    cr_assert(wn_meter_is_acked(&m, seq));
    wn_meter_close(&m);
}

/* ---- a real node -------------------------------------------------------------------- */

static cJSON *post_reading(wn_http *h, const uint8_t *b, size_t len)
{
    uint8_t body[2 + WN_CORE_READING_MAX];
    body[0] = (uint8_t)(len >> 8);
    body[1] = (uint8_t)len;
    memcpy(body + 2, b, len);
    cr_assert(wn_http_request(h, "POST", "/v1/readings", "binary", body, len + 2), "%s", h->error);
    cr_assert_eq(h->status, 200, "%s", h->body);
    cJSON *doc = cJSON_Parse(h->body);
    const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    cr_assert(res, "%s", h->body);
    return doc;
}

Test(meter_core, a_real_node_accepts_and_its_receipts_verify_on_the_core, .timeout = 120)
{
    wn_test_node n;
    wn_test_node_init(&n, g_dir);
    cr_assert(wn_test_node_start(&n, NULL), "%s", wn_test_read_file(n.log, NULL));
    wn_http h;
    cr_assert(wn_http_init(&h, n.url));
    uint8_t notary[32], registrar_sk[32];
    cr_assert_eq(wn_agent_notary_key(&h, NULL, g_dir, notary, NULL, NULL), 0);
    char regkey[4300];
    snprintf(regkey, sizeof regkey, "%s/registrar.key", n.data);
    cr_assert(wn_keyfile_read(regkey, registrar_sk));

    wn_posix_port pp;
    wn_core_meter m;
    cr_assert(wn_posix_port_open(&pp, g_flash, 1024, 8, 8, g_sk, WN_ALG_BIP340));
    cr_assert_eq(wn_core_open(&m, &pp.port), WN_CORE_OK);
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.meter, m.id, 32);
    memcpy(e.pubkey, m.pub33, 33);
    e.alg = m.alg;
    e.point = WN_POINT_USE;
    e.source = WN_SOURCE_TAP;
    e.tier = 2;
    snprintf(e.enterprise, sizeof e.enterprise, "%s", "fw-test");
    e.time_ms = wn_agent_now_ms();
    cr_assert_eq(wn_agent_enrol(&h, &e, registrar_sk, "core"), 0);

    for (int i = 1; i <= 5; i++) {
        wn_core_meas ms[2];
        uint8_t b[WN_CORE_READING_MAX], rb[WN_RECEIPT_MAX_LEN];
        size_t len;
        uint64_t seq, index;
        meas(ms, 1000 * i, 42);
        cr_assert_eq(wn_core_read(&m, wn_agent_now_ms(), 0, ms, 2, b, &len, &seq), WN_CORE_OK);
        cJSON *doc = post_reading(&h, b, len);
        const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
        cr_assert(cJSON_IsString(st) && strcmp(st->valuestring, "accepted") == 0, "%s", h.body);
        wn_receipt rc;
        cr_assert(wn_receipt_from_cjson(&rc, cJSON_GetObjectItemCaseSensitive(res, "receipt")));
        cJSON_Delete(doc);
        cr_assert_eq(rc.version, 2, "the node issues version 2 receipts");
        size_t rl = wn_receipt_encode(&rc, rb);
        uint8_t leaf[32], t[WN_RECEIPT_MAX_LEN];
        wn_core_leaf_hash(&pp.port, leaf, b, len);
        size_t L = rb[1];
        /* every tampering refused, with its reason */
        memcpy(t, rb, rl); t[66 + L] ^= 1;   /* head signature */
        cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_ESIG);
        memcpy(t, rb, rl); t[2 + L + 16] ^= 1; /* commit root */
        cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_EPATH);
        memcpy(t, rb, rl); t[2 + L + 8 + 7] ^= 2; /* count */
        cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_ERECEIPT);
        memcpy(t, rb, rl); t[58 + L + 7] ^= 1; /* tree size: not first + count */
        cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_ERECEIPT);
        memcpy(t, rb, rl); t[50 + L + 7] ^= 1; /* commit time: signed */
        cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_ESIG);
        cr_assert_eq(wn_core_receipt_verify(&pp.port, rb, rl - 1, notary, leaf, NULL), WN_CORE_ERECEIPT);
        cr_assert_eq(wn_core_receipt_verify(&pp.port, rb, rl, g_notary, leaf, NULL), WN_CORE_ESIG, "another notary");
        uint8_t other[32];
        memcpy(other, leaf, 32); other[0] ^= 1;
        cr_assert_eq(wn_core_receipt_verify(&pp.port, rb, rl, notary, other, NULL), WN_CORE_ELEAF);
        if (rc.path_len > 0) {
            memcpy(t, rb, rl); t[171 + L] ^= 1; /* path */
            cr_assert_eq(wn_core_receipt_verify(&pp.port, t, rl, notary, leaf, NULL), WN_CORE_EPATH);
        }
        cr_assert_eq(wn_core_ack(&m, seq, rb, rl, notary, &index), WN_CORE_OK);
        cr_assert_eq(index, rc.index);
        /* sent again: duplicate, the same receipt, still verifies */
        doc = post_reading(&h, b, len);
        res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(res, "status")->valuestring, "duplicate");
        cJSON_Delete(doc);
    }
    /* a batch of three: a commit with more than one leaf, receipts with non-empty paths */
    uint8_t body[3 * (2 + WN_CORE_READING_MAX)], bs[3][WN_CORE_READING_MAX];
    size_t used = 0, lens[3];
    uint64_t seqs[3];
    for (int i = 0; i < 3; i++) {
        wn_core_meas ms[2];
        meas(ms, 10000 + i, 42);
        cr_assert_eq(wn_core_read(&m, wn_agent_now_ms(), 0, ms, 2, bs[i], &lens[i], &seqs[i]), WN_CORE_OK);
        body[used] = (uint8_t)(lens[i] >> 8);
        body[used + 1] = (uint8_t)lens[i];
        memcpy(body + used + 2, bs[i], lens[i]);
        used += 2 + lens[i];
    }
    cr_assert(wn_http_request(&h, "POST", "/v1/readings", "binary", body, used));
    cJSON *doc = cJSON_Parse(h.body);
    for (int i = 0; i < 3; i++) {
        const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), i);
        wn_receipt rc;
        uint8_t rb[WN_RECEIPT_MAX_LEN];
        cr_assert(wn_receipt_from_cjson(&rc, cJSON_GetObjectItemCaseSensitive(res, "receipt")), "%s", h.body);
        size_t rl = wn_receipt_encode(&rc, rb);
        cr_assert_eq(wn_core_ack(&m, seqs[i], rb, rl, notary, NULL), WN_CORE_OK, "reading %d", i);
    }
    cJSON_Delete(doc);
    wn_core_counts c;
    wn_core_get_counts(&m, &c);
    cr_assert_eq(c.acked, 8);
    wn_posix_port_close(&pp);
    wn_http_free(&h);
    wn_test_node_stop(&n, SIGTERM);
}
