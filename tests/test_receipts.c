/* test_receipts.c — version 2 receipts (PROTOCOL §6): the head and a receipt built byte by
 * byte (known answer), the Merkle path check against ledger/tlog/merkle.c, every tampering
 * refused with its reason, version 1 receipts still verifying, the node's commit receipts
 * (node/ingest/receipts.c) and a meter's old-form receipts log converted byte for byte. */
#include <criterion/criterion.h>

#include "cli/proofs/meterlog.h"
#include "cli/proofs/report.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "device/meter.h"
#include "ledger/tlog/merkle.h"
#include "node/ingest/receipts.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "tests/support/testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN "waternotary/0123456789abcdef"
#define T_COMMIT 1795461458123ULL /* 2026-11-23T19:17:38.123Z */

static uint8_t g_sk[32], g_pk[32];
static wn_signer g_signer;

static void setup(void)
{
    wn_test_prng_seed(14);
    wn_test_prng_bytes(g_sk, 32);
    g_sk[0] = 0x21;
    cr_assert(wn_seckey_xonly(g_pk, g_sk));
    cr_assert(wn_signer_init(&g_signer, g_sk));
}

TestSuite(receipts, .init = setup);

static void leaves_of(uint8_t (*leaves)[32], size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t e[3] = {0x01, seed, (uint8_t)i};
        wn_merkle_leaf_hash(leaves[i], e, sizeof e);
    }
}

/* A commit of 5 entries starting at 40; the receipt of entry 42 (position 2). */
static wn_commit_receipts *commit5(uint8_t leaves[5][32])
{
    leaves_of(leaves, 5, 7);
    wn_commit_receipts *c = wn_commit_receipts_new(ORIGIN, &g_signer, 40, (const uint8_t(*)[32])leaves, 5, T_COMMIT);
    cr_assert(c);
    return c;
}

Test(receipts, head_and_receipt_byte_by_byte)
{
    uint8_t leaves[5][32];
    wn_commit_receipts *c = commit5(leaves);
    wn_receipt r;
    cr_assert(wn_commit_receipts_get(c, 42, &r));

    /* The commit root by hand: MTH of 5 leaves = H(H(H(l0,l1),H(l2,l3)), l4). */
    uint8_t a[32], b[32], ab[32], root[32];
    wn_merkle_node_hash(a, leaves[0], leaves[1]);
    wn_merkle_node_hash(b, leaves[2], leaves[3]);
    wn_merkle_node_hash(ab, a, b);
    wn_merkle_node_hash(root, ab, leaves[4]);
    cr_assert(memcmp(r.head.root, root, 32) == 0, "commit root is not RFC 6962 MTH of the commit's leaves");

    /* The head, PROTOCOL §6, built here. */
    const size_t L = strlen(ORIGIN);
    uint8_t want[WN_RECEIPT_MAX_LEN];
    size_t n = 0;
    want[n++] = 0x02;
    want[n++] = (uint8_t)L;
    memcpy(want + n, ORIGIN, L), n += L;
    wn_put_u64(want + n, 40), n += 8;
    wn_put_u64(want + n, 5), n += 8;
    memcpy(want + n, root, 32), n += 32;
    const uint8_t t[8] = {0x00, 0x00, 0x01, 0xa2, 0x09, 0xd7, 0xa8, 0xcb};
    memcpy(want + n, t, 8), n += 8;
    wn_put_u64(want + n, 45), n += 8;
    cr_assert_eq(n, 66 + L);
    uint8_t d[32];
    wn_tagged_hash(d, "WaterNotary/receipt-head/v1", want, n);
    cr_assert(wn_schnorr_verify(r.head.sig, d, g_pk), "head signature is not BIP-340 over the tagged head");
    memcpy(want + n, r.head.sig, 64), n += 64;
    /* the entry: index, leaf, path (sibling l3, then H(l0,l1), then l4) */
    wn_put_u64(want + n, 42), n += 8;
    memcpy(want + n, leaves[2], 32), n += 32;
    want[n++] = 3;
    memcpy(want + n, leaves[3], 32), n += 32;
    memcpy(want + n, a, 32), n += 32;
    memcpy(want + n, leaves[4], 32), n += 32;

    uint8_t enc[WN_RECEIPT_MAX_LEN];
    size_t len = wn_receipt_encode(&r, enc);
    cr_assert_eq(len, n);
    cr_assert(memcmp(enc, want, n) == 0, "receipt layout differs from PROTOCOL §6");
    /* Deterministic: BIP-340 with zero aux over the same head gives the same bytes (the
     * known answer pins the signature too). */
    char hex[129];
    wn_hex_encode(hex, r.head.sig, 64);
    cr_log_info("head signature: %s", hex);
    wn_commit_receipts *c2 = wn_commit_receipts_new(ORIGIN, &g_signer, 40, (const uint8_t(*)[32])leaves, 5, T_COMMIT);
    wn_receipt r2;
    cr_assert(wn_commit_receipts_get(c2, 42, &r2));
    uint8_t enc2[WN_RECEIPT_MAX_LEN];
    cr_assert_eq(wn_receipt_encode(&r2, enc2), len);
    cr_assert(memcmp(enc, enc2, len) == 0, "the same commit must give the same receipt bytes");
    cr_assert_eq(wn_receipt_check(&r, g_pk), WN_RECEIPT_OK);

    /* decode and JSON round trips */
    wn_receipt dr;
    cr_assert(wn_receipt_decode(&dr, enc, len));
    cr_assert_eq(dr.version, 2);
    cr_assert_eq(wn_receipt_encode(&dr, enc2), len);
    cr_assert(memcmp(enc, enc2, len) == 0);
    char json[WN_RECEIPT_JSON_MAX];
    cr_assert(wn_receipt_to_json(&r, json, sizeof json));
    cJSON *j = cJSON_Parse(json);
    cr_assert(j, "%s", json);
    cr_assert(wn_receipt_from_cjson(&dr, j), "%s", json);
    cJSON_Delete(j);
    cr_assert_eq(wn_receipt_encode(&dr, enc2), len);
    cr_assert(memcmp(enc, enc2, len) == 0, "JSON round trip changed the receipt: %s", json);
    cr_assert(strstr(json, "\"version\":2,\"origin\":\"" ORIGIN "\",\"first\":40,\"count\":5,"), "%s", json);
    cr_assert(strstr(json, "\"time\":\"2026-11-23T19:17:38.123Z\",\"size\":45,"), "%s", json);
    /* the head is shared: one signature for every receipt of the commit */
    for (uint64_t i = 40; i < 45; i++) {
        wn_receipt x;
        cr_assert(wn_commit_receipts_get(c, i, &x));
        cr_assert(memcmp(x.head.sig, r.head.sig, 64) == 0);
        cr_assert(memcmp(x.leaf, leaves[i - 40], 32) == 0);
        cr_assert_eq(wn_receipt_check(&x, g_pk), WN_RECEIPT_OK, "entry %llu", (unsigned long long)i);
    }
    cr_assert_not(wn_commit_receipts_get(c, 39, &r2));
    cr_assert_not(wn_commit_receipts_get(c, 45, &r2));
    wn_commit_receipts_release(c);
    wn_commit_receipts_release(c2);
}

/* The path check written out in protocol/receipt.c agrees with ledger/tlog/merkle.c. */
Test(receipts, path_check_matches_ledger_merkle)
{
    enum { N = 70 };
    uint8_t leaves[N][32];
    leaves_of(leaves, N, 3);
    for (uint64_t n = 1; n <= N; n++) {
        wn_commit_receipts *c = wn_commit_receipts_new(ORIGIN, &g_signer, 1000, (const uint8_t(*)[32])leaves, n, T_COMMIT);
        cr_assert(c);
        for (uint64_t m = 0; m < n; m++) {
            wn_receipt r;
            cr_assert(wn_commit_receipts_get(c, 1000 + m, &r));
            cr_assert_eq(r.path_len, wn_receipt_path_len(m, n), "(%llu, %llu)", (unsigned long long)m,
                         (unsigned long long)n);
            cr_assert(wn_merkle_verify_inclusion(r.leaf, m, n, (const uint8_t(*)[32])r.path, r.path_len, r.head.root));
            cr_assert_eq(wn_receipt_check(&r, g_pk), WN_RECEIPT_OK, "(%llu, %llu)", (unsigned long long)m,
                         (unsigned long long)n);
            /* another leaf's place: the same path does not fit */
            if (n > 1) {
                wn_receipt o = r;
                o.index = 1000 + (m + 1) % n;
                cr_assert_neq(wn_receipt_check(&o, g_pk), WN_RECEIPT_OK);
            }
        }
        wn_commit_receipts_release(c);
    }
    /* the lengths for larger trees, against merkle.c's proofs */
    wn_merkle_mem mem;
    wn_merkle_mem_init(&mem);
    for (uint64_t n = 1; n <= 300; n++) {
        uint8_t l[32];
        wn_merkle_leaf_hash(l, &n, sizeof n);
        cr_assert(wn_merkle_mem_append(&mem, l));
        for (uint64_t m = 0; m < n; m++) {
            uint8_t proof[WN_MERKLE_MAX_PROOF][32];
            size_t len;
            cr_assert(wn_merkle_prove_inclusion(proof, &len, m, n, wn_merkle_mem_read, &mem));
            cr_assert_eq(len, wn_receipt_path_len(m, n));
        }
    }
    wn_merkle_mem_free(&mem);
}

Test(receipts, every_tampering_refused)
{
    uint8_t leaves[5][32];
    wn_commit_receipts *c = commit5(leaves);
    wn_receipt r, d;
    cr_assert(wn_commit_receipts_get(c, 42, &r));
    uint8_t enc[WN_RECEIPT_MAX_LEN], t[WN_RECEIPT_MAX_LEN];
    size_t len = wn_receipt_encode(&r, enc);
    size_t refused = 0;
    for (size_t i = 0; i < len; i++)
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(t, enc, len);
            t[i] ^= (uint8_t)(1u << bit);
            if (wn_receipt_decode(&d, t, len) && wn_receipt_check(&d, g_pk) == WN_RECEIPT_OK)
                cr_assert(0, "byte %zu bit %u: a tampered receipt verified", i, bit);
            refused++;
        }
    cr_assert_eq(refused, 8 * len);
    /* named reasons */
    d = r;
    d.path[1][5] ^= 1;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EPATH);
    d = r;
    d.path_len = 2; /* truncated path */
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EPATH);
    d = r;
    d.leaf[0] ^= 1;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EPATH);
    d = r;
    d.index = 43; /* another index of the same commit */
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EPATH);
    d = r;
    d.index = 45; /* outside the commit */
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EHEAD);
    d = r;
    d.head.tree_size = 46;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EHEAD);
    d = r;
    d.head.time_ms++;
    d.time_ms++;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    d = r;
    d.head.origin[3] = 'X';
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    d = r;
    d.head.root[0] ^= 1;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_EPATH);
    d = r;
    d.head.sig[10] ^= 1;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    /* a head that moved its first index and tree size together */
    d = r;
    d.head.first++;
    d.head.tree_size++;
    d.index++;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    /* another key */
    uint8_t sk2[32], pk2[32];
    cr_assert(wn_seckey_generate(sk2));
    cr_assert(wn_seckey_xonly(pk2, sk2));
    cr_assert_eq(wn_receipt_check(&r, pk2), WN_RECEIPT_ESIG);
    /* a head signed under another tag (the v1 receipt tag) */
    d = r;
    uint8_t hb[WN_RECEIPT_HEAD_MAX];
    size_t hn = wn_receipt_head_bytes(&d.head, hb);
    cr_assert(wn_sign_tagged(d.head.sig, g_sk, WN_TAG_RECEIPT, hb, hn));
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    /* wrong lengths */
    cr_assert_not(wn_receipt_decode(&d, enc, len - 1));
    memcpy(t, enc, len);
    t[len] = 0;
    cr_assert_not(wn_receipt_decode(&d, t, len + 1));
    cr_assert_not(wn_receipt_decode(&d, enc, 0));
    wn_commit_receipts_release(c);
}

Test(receipts, version_1_still_verifies)
{
    wn_receipt r;
    memset(&r, 0, sizeof r);
    r.index = 42;
    for (int i = 0; i < 32; i++) r.leaf[i] = (uint8_t)(0xa0 + i);
    r.time_ms = T_COMMIT;
    cr_assert(wn_receipt_sign(&r, g_sk));
    cr_assert_eq(r.version, 1);
    uint8_t enc[WN_RECEIPT_MAX_LEN];
    cr_assert_eq(wn_receipt_encode(&r, enc), WN_RECEIPT_LEN);
    wn_receipt d;
    cr_assert(wn_receipt_decode(&d, enc, WN_RECEIPT_LEN));
    cr_assert_eq(d.version, 1);
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_OK);
    d.index++;
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_ESIG);
    /* v1 JSON still parses as v1 */
    char json[WN_RECEIPT_JSON_MAX];
    cr_assert(wn_receipt_to_json(&r, json, sizeof json));
    cr_assert_eq(strncmp(json, "{\"index\":42,", 12), 0, "%s", json);
    cJSON *j = cJSON_Parse(json);
    cr_assert(wn_receipt_from_cjson(&d, j));
    cJSON_Delete(j);
    cr_assert_eq(d.version, 1);
    cr_assert_eq(wn_receipt_check(&d, g_pk), WN_RECEIPT_OK);
    /* a v1 signature is no v2 head signature (tags differ) */
    uint8_t leaves[5][32];
    wn_commit_receipts *c = commit5(leaves);
    wn_receipt v2;
    cr_assert(wn_commit_receipts_get(c, 42, &v2));
    memcpy(v2.head.sig, r.sig, 64);
    cr_assert_eq(wn_receipt_check(&v2, g_pk), WN_RECEIPT_ESIG);
    wn_commit_receipts_release(c);
}

/* A meter made by an older version: its WNMRCPT1 receipts log of version 1 receipts is
 * converted on open, every receipt byte for byte; both forms pass `wn verify`'s check. */
Test(receipts, old_meter_receipts_log_converted_and_verifies)
{
    char *dir = wn_test_tmpdir("receipts");
    char mdir[4200], p[4300];
    snprintf(mdir, sizeof mdir, "%s/m", dir);
    cr_assert_eq(wn_meter_create(mdir, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    wn_meter m;
    cr_assert_eq(wn_meter_open(&m, mdir), WN_METER_OK);
    uint8_t b[3][WN_READING_MAX_LEN];
    size_t l[3];
    wn_receipt rc[3];
    /* the old log, written as an older meter did: u64 seq || v1 receipt || check4 */
    uint8_t old[8 + 2 * 125];
    memcpy(old, "WNMRCPT1", 8);
    for (int k = 0; k < 3; k++) {
        wn_measurement ms[1] = {{WN_Q_VOLUME, WN_U_M3, 3, 1000 * (k + 1)}};
        uint64_t seq;
        cr_assert_eq(wn_meter_read(&m, 1795000000000ULL + 60000ULL * (uint64_t)k, 0, ms, 1, b[k], &l[k], &seq), WN_METER_OK);
        memset(&rc[k], 0, sizeof rc[k]);
        rc[k].index = 10 + (uint64_t)k;
        wn_reading_leaf_hash(rc[k].leaf, b[k], l[k]);
        rc[k].time_ms = 1795000000000ULL + 99;
        cr_assert(wn_receipt_sign(&rc[k], g_sk));
        if (k < 2) {
            uint8_t *rec = old + 8 + 125 * k, h[32];
            wn_put_u64(rec, seq);
            wn_receipt_encode(&rc[k], rec + 8);
            wn_sha256(h, rec, 121);
            memcpy(rec + 121, h, 4);
        }
    }
    wn_meter_close(&m);
    snprintf(p, sizeof p, "%s/receipts.log", mdir);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(old, 1, sizeof old, f), sizeof old);
    fclose(f);

    /* wn verify's check reads the old form */
    wn_report rep;
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify(old, sizeof old, NULL, 0, g_pk, &rep);
    cr_assert_eq(rep.n_reasons, 0, "%s", rep.n_reasons ? rep.reasons[0].detail : "");
    wn_report_free(&rep);

    cr_assert_eq(wn_meter_open(&m, mdir), WN_METER_OK);
    wn_meter_counts cnt;
    wn_meter_get_counts(&m, &cnt);
    cr_assert_eq(cnt.receipts, 2);
    cr_assert_eq(cnt.acked_through, 2);
    cr_assert_eq(cnt.pending, 1);
    for (int k = 0; k < 2; k++) {
        wn_receipt got;
        cr_assert_eq(wn_meter_receipt(&m, (uint64_t)k + 1, &got), WN_METER_OK);
        uint8_t e1[WN_RECEIPT_MAX_LEN], e2[WN_RECEIPT_MAX_LEN];
        cr_assert_eq(wn_receipt_encode(&got, e1), WN_RECEIPT_LEN);
        wn_receipt_encode(&rc[k], e2);
        cr_assert(memcmp(e1, e2, WN_RECEIPT_LEN) == 0, "receipt %d changed in the conversion", k);
    }
    /* a version 2 receipt for the third reading, then a tampered one refused */
    uint8_t leaves[4][32];
    leaves_of(leaves, 4, 9);
    wn_reading_leaf_hash(leaves[1], b[2], l[2]);
    wn_commit_receipts *c = wn_commit_receipts_new(ORIGIN, &g_signer, 20, (const uint8_t(*)[32])leaves, 4, T_COMMIT);
    wn_receipt v2, bad;
    cr_assert(wn_commit_receipts_get(c, 21, &v2));
    bad = v2;
    bad.path[0][0] ^= 1;
    cr_assert_eq(wn_meter_ack(&m, 3, &bad, g_pk), WN_METER_ESIG, "a receipt with a bad path was accepted");
    bad = v2;
    bad.index = 22;
    cr_assert_eq(wn_meter_ack(&m, 3, &bad, g_pk), WN_METER_ESIG, "a receipt for another index was accepted");
    cr_assert(wn_commit_receipts_get(c, 22, &bad));
    cr_assert_eq(wn_meter_ack(&m, 3, &bad, g_pk), WN_METER_ELEAF, "another entry's receipt was accepted");
    cr_assert_eq(wn_meter_ack(&m, 3, &v2, g_pk), WN_METER_OK);
    wn_meter_close(&m);
    cr_assert_eq(wn_meter_open(&m, mdir), WN_METER_OK);
    wn_meter_get_counts(&m, &cnt);
    cr_assert_eq(cnt.acked_through, 3);
    cr_assert_eq(cnt.pending, 0);
    wn_receipt got;
    cr_assert_eq(wn_meter_receipt(&m, 3, &got), WN_METER_OK);
    uint8_t e1[WN_RECEIPT_MAX_LEN], e2[WN_RECEIPT_MAX_LEN];
    size_t n1 = wn_receipt_encode(&got, e1);
    cr_assert_eq(n1, wn_receipt_encode(&v2, e2));
    cr_assert(memcmp(e1, e2, n1) == 0);
    wn_meter_close(&m);

    /* the converted log (both versions) passes wn verify's check too */
    size_t rl, dl;
    char *rlog = wn_test_read_file(p, &rl);
    snprintf(p, sizeof p, "%s/readings.log", mdir);
    char *dlog = wn_test_read_file(p, &dl);
    cr_assert(rlog && dlog);
    cr_assert_eq(memcmp(rlog, "WNMRCPT2", 8), 0);
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify((uint8_t *)rlog, rl, (uint8_t *)dlog, dl, g_pk, &rep);
    cr_assert_eq(rep.n_reasons, 0, "%s", rep.n_reasons ? rep.reasons[0].detail : "");
    wn_report_free(&rep);
    /* a tampered path in the log is reported as receipt_path */
    ((uint8_t *)rlog)[rl - 4 - 1] ^= 1;           /* last byte of the path... */
    uint8_t h[32];
    size_t start = rl - (10 + n1 + 4);
    wn_sha256(h, (uint8_t *)rlog + start, 10 + n1); /* ...with a fixed-up check */
    memcpy(rlog + rl - 4, h, 4);
    wn_report_init(&rep, "receipts-log");
    wn_meterlog_verify((uint8_t *)rlog, rl, (uint8_t *)dlog, dl, g_pk, &rep);
    cr_assert_eq(rep.n_reasons, 1);
    cr_assert_str_eq(rep.reasons[0].code, "receipt_path");
    wn_report_free(&rep);
    free(rlog);
    free(dlog);
    wn_commit_receipts_release(c);
    wn_test_rmtree(dir);
    free(dir);
}
