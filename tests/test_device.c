/* test_device.c — the meter library (device/meter.h): state directory round trips,
 * sequence and chain continuity across reopen, torn tails cut at every byte, receipts
 * (and refused bad ones), compaction, ECDSA meters, value checks, no malloc when signing. */
#include <criterion/criterion.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sha256.h"
#include "device/meter.h"
#include "tests/support/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1795000000000ULL /* 2026-11-18 */

static char *g_dir;
static char g_meter[4096];
static uint8_t g_notary_sk[32], g_notary[32];

static void setup(void)
{
    g_dir = wn_test_tmpdir("device");
    cr_assert(g_dir);
    snprintf(g_meter, sizeof g_meter, "%s/m", g_dir);
    wn_test_prng_seed(42);
    wn_test_prng_bytes(g_notary_sk, 32);
    g_notary_sk[0] = 0x11; /* well below the group order */
    cr_assert(wn_seckey_xonly(g_notary, g_notary_sk));
}

static void teardown(void)
{
    wn_test_rmtree(g_dir);
    free(g_dir);
}

TestSuite(device, .init = setup, .fini = teardown);

static wn_measurement vol(int64_t milli_m3) { return (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, milli_m3}; }

/* Makes reading k (time T0 + k minutes, volume 1000*k) and checks the call succeeded. */
static uint64_t make(wn_meter *m, uint64_t k, uint8_t *out, size_t *len)
{
    wn_measurement ms[2] = {{WN_Q_PH, WN_U_PH, 2, 700 + (int64_t)(k % 50)}, vol(1000 * (int64_t)k)};
    uint64_t seq = 0;
    int err = wn_meter_read(m, T0 + 60000 * k, 0, ms, 2, out, len, &seq);
    cr_assert_eq(err, WN_METER_OK, "read %llu: %s", (unsigned long long)k, wn_meter_strerror(err));
    return seq;
}

static void open_ok(wn_meter *m)
{
    int err = wn_meter_open(m, g_meter);
    cr_assert_eq(err, WN_METER_OK, "open: %s", wn_meter_strerror(err));
}

static void receipt_for(wn_receipt *rc, const uint8_t *reading, size_t len, uint64_t index)
{
    rc->index = index;
    wn_reading_leaf_hash(rc->leaf, reading, len);
    rc->time_ms = T0 + 1;
    cr_assert(wn_receipt_sign(rc, g_notary_sk));
}

static char *path(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", g_meter, name);
    return p;
}

static void write_file(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static off_t file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    return st.st_size;
}

Test(device, create_open_round_trip)
{
    uint8_t id[32], sk[32];
    wn_meter m;
    wn_meter_counts c;
    memset(sk, 0x22, sizeof sk);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, sk, id), WN_METER_OK);
    uint8_t x[32];
    cr_assert(wn_seckey_xonly(x, sk));
    cr_assert_arr_eq(id, x, 32);
    cr_assert_eq(file_size(path("meter.key")), 65);
    struct stat st;
    cr_assert_eq(stat(path("meter.key"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);

    open_ok(&m);
    cr_assert_arr_eq(wn_meter_id(&m), id, 32);
    cr_assert_eq(wn_meter_alg(&m), WN_ALG_BIP340);
    cr_assert_eq(wn_meter_pubkey(&m)[0], 0x02);
    cr_assert_arr_eq(wn_meter_pubkey(&m) + 1, id, 32);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.next_seq, 1);
    cr_assert_eq(c.logged, 0);
    cr_assert_eq(c.pending, 0);
    wn_meter_iter it;
    wn_meter_pending_begin(&m, &it);
    cr_assert_eq(wn_meter_next(&m, &it, NULL, NULL, NULL), WN_METER_END);
    wn_meter_close(&m);
    wn_meter_close(&m); /* twice is harmless */
}

Test(device, create_refuses_existing_and_open_refuses_missing_or_locked)
{
    wn_meter m, m2;
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ENOENT);
    cr_assert_eq(wn_meter_create(g_meter, 7, NULL, NULL), WN_METER_EARG);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_EEXIST);
    open_ok(&m);
    cr_assert_eq(wn_meter_open(&m2, g_meter), WN_METER_ELOCKED);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_ELOCKED);
    wn_meter_close(&m);
    open_ok(&m2);
    wn_meter_close(&m2);

    /* A create cut short before the key was written is simply created again... */
    cr_assert_eq(unlink(path("meter.key")), 0);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ENOENT);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_ECDSA, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    cr_assert_eq(wn_meter_alg(&m), WN_ALG_ECDSA);
    make(&m, 1, NULL, NULL);
    wn_meter_close(&m);
    /* ...but never over a log that holds readings. */
    cr_assert_eq(unlink(path("meter.key")), 0);
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_EEXIST);
}

Test(device, readings_verify_and_chain_across_reopen)
{
    uint8_t bytes[10][WN_READING_MAX_LEN], prev[32] = {0};
    size_t lens[10];
    wn_meter m;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    for (int k = 0; k < 10; k++) {
        open_ok(&m); /* reopen before every reading: the state comes from the log */
        cr_assert_eq(make(&m, (uint64_t)k + 1, bytes[k], &lens[k]), (uint64_t)k + 1);
        wn_meter_close(&m);
    }
    for (int k = 0; k < 10; k++) {
        wn_reading r;
        cr_assert_eq(wn_reading_decode(&r, bytes[k], lens[k]), WN_READING_OK);
        cr_assert_eq(wn_reading_verify(&r, NULL, 0), WN_READING_OK);
        cr_assert_eq(r.seq, (uint64_t)k + 1);
        cr_assert_arr_eq(r.prev, prev, 32);
        cr_assert_eq(r.time_ms, T0 + 60000 * ((uint64_t)k + 1));
        cr_assert_eq(r.count, 2);
        cr_assert_eq(r.m[0].quantity, WN_Q_VOLUME); /* sorted by quantity */
        wn_sha256(prev, bytes[k], lens[k]);
    }
    open_ok(&m);
    wn_meter_iter it;
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len;
    uint64_t seq;
    wn_meter_log_begin(&m, &it);
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_OK);
        cr_assert_eq(seq, (uint64_t)k + 1);
        cr_assert_eq(len, lens[k]);
        cr_assert_arr_eq(buf, bytes[k], len);
        cr_assert_eq(wn_meter_get(&m, seq, buf, &len), WN_METER_OK);
        cr_assert_arr_eq(buf, bytes[k], len);
    }
    cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_END);
    cr_assert_eq(wn_meter_get(&m, 11, buf, &len), WN_METER_ENOTFOUND);
    cr_assert_eq(wn_meter_get(&m, 0, buf, &len), WN_METER_ENOTFOUND);
    wn_meter_counts c;
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.pending, 10);
    cr_assert_eq(c.logged, 10);
    cr_assert_eq(c.next_seq, 11);
    wn_meter_close(&m);
}

Test(device, ecdsa_meter_readings_verify)
{
    uint8_t id[32], buf[WN_READING_MAX_LEN], prev[32];
    size_t len;
    wn_meter m;
    wn_reading r;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_ECDSA, NULL, id), WN_METER_OK);
    open_ok(&m);
    const uint8_t *pub = wn_meter_pubkey(&m);
    cr_assert(pub[0] == 2 || pub[0] == 3);
    cr_assert_arr_eq(pub + 1, id, 32);
    make(&m, 1, buf, &len);
    wn_sha256(prev, buf, len);
    cr_assert_eq(wn_reading_decode(&r, buf, len), WN_READING_OK);
    cr_assert_eq(r.alg, WN_ALG_ECDSA);
    cr_assert_eq(wn_reading_verify(&r, pub, 33), WN_READING_OK);
    cr_assert_arr_eq(r.meter, id, 32);
    uint8_t pub_copy[33];
    memcpy(pub_copy, pub, 33);
    wn_meter_close(&m);

    open_ok(&m);
    cr_assert_eq(wn_meter_alg(&m), WN_ALG_ECDSA);
    cr_assert_arr_eq(wn_meter_pubkey(&m), pub_copy, 33);
    make(&m, 2, buf, &len);
    cr_assert_eq(wn_reading_decode(&r, buf, len), WN_READING_OK);
    cr_assert_eq(r.seq, 2);
    cr_assert_arr_eq(r.prev, prev, 32);
    cr_assert_eq(wn_reading_verify(&r, pub_copy, 33), WN_READING_OK);
    r.m[0].value++; /* tampering breaks it */
    cr_assert_eq(wn_reading_verify(&r, pub_copy, 33), WN_READING_ESIG);
    wn_meter_close(&m);
}

/* Cutting the log anywhere inside its last record recovers the state before that record;
 * the next reading reuses its sequence number and chains to the one before. */
Test(device, torn_tail_at_every_offset)
{
    uint8_t prev4[32], buf[WN_READING_MAX_LEN];
    size_t len;
    wn_meter m;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    for (uint64_t k = 1; k <= 4; k++) make(&m, k, buf, &len);
    wn_sha256(prev4, buf, len);
    wn_meter_close(&m);
    off_t s4 = file_size(path("readings.log"));
    open_ok(&m);
    make(&m, 5, buf, &len);
    wn_meter_close(&m);
    size_t full_len;
    uint8_t *full = (uint8_t *)wn_test_read_file(path("readings.log"), &full_len);
    cr_assert_eq(full_len, (size_t)s4 + len + 6);

    for (size_t cut = (size_t)s4; cut < full_len; cut++) {
        write_file(path("readings.log"), full, cut);
        open_ok(&m);
        wn_meter_counts c;
        wn_meter_get_counts(&m, &c);
        cr_assert_eq(c.last_seq, 4, "cut at %zu", cut);
        cr_assert_eq(c.log_bytes, (uint64_t)s4, "log_end %llu s4 %lld last %llu", (unsigned long long)c.log_bytes, (long long)s4, (unsigned long long)c.last_seq);
        cr_assert_eq(m.torn_bytes, cut - (size_t)s4);
        cr_assert_eq(file_size(path("readings.log")), s4, "the cut is made on disk");
        if (cut % 7 == 0 || cut + 1 == full_len) {
            wn_reading r;
            uint8_t b[WN_READING_MAX_LEN];
            size_t l;
            cr_assert_eq(make(&m, 5, b, &l), 5);
            cr_assert_eq(wn_reading_decode(&r, b, l), WN_READING_OK);
            cr_assert_arr_eq(r.prev, prev4, 32);
        }
        wn_meter_close(&m);
    }
    /* The complete file recovers everything. */
    write_file(path("readings.log"), full, full_len);
    open_ok(&m);
    cr_assert_eq(m.last_seq, 5);
    cr_assert_eq(m.torn_bytes, 0);
    wn_meter_close(&m);
    free(full);
}

Test(device, zero_tail_is_torn_but_damage_is_corrupt)
{
    wn_meter m;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    for (uint64_t k = 1; k <= 6; k++) make(&m, k, NULL, NULL);
    wn_meter_close(&m);
    size_t n;
    uint8_t *log = (uint8_t *)wn_test_read_file(path("readings.log"), &n);

    /* A file extended with zeros (size updated, data never written) is a torn tail. */
    uint8_t *z = calloc(1, n + 5000);
    memcpy(z, log, n);
    write_file(path("readings.log"), z, n + 5000);
    open_ok(&m);
    cr_assert_eq(m.last_seq, 6);
    cr_assert_eq(m.torn_bytes, 5000);
    wn_meter_close(&m);

    /* Garbage longer than any record after the last one is not a torn write. */
    memset(z + n, 0x5a, 1000);
    write_file(path("readings.log"), z, n + 1000);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ECORRUPT);
    cr_assert_eq(file_size(path("readings.log")), (off_t)n + 1000, "nothing is changed");

    /* A flipped byte in an early record is damage, not a torn tail. */
    memcpy(z, log, n);
    z[8 + 50] ^= 1;
    write_file(path("readings.log"), z, n);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ECORRUPT);

    /* A bad magic too. */
    memcpy(z, log, n);
    z[0] = 'X';
    write_file(path("readings.log"), z, n);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ECORRUPT);

    /* A missing log is never silently recreated (that would restart the sequence). */
    cr_assert_eq(unlink(path("readings.log")), 0);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ECORRUPT);
    free(z);
    free(log);
}

Test(device, receipts_ack_and_bad_receipts_refused)
{
    uint8_t b[8][WN_READING_MAX_LEN];
    size_t l[8];
    wn_receipt rc[8];
    wn_meter m;
    wn_meter_counts c;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    for (int k = 1; k <= 7; k++) {
        make(&m, (uint64_t)k, b[k], &l[k]);
        receipt_for(&rc[k], b[k], l[k], 100 + (uint64_t)k);
    }
    cr_assert_eq(wn_meter_ack(&m, 1, &rc[1], g_notary), WN_METER_OK);
    cr_assert_eq(wn_meter_ack(&m, 2, &rc[2], g_notary), WN_METER_OK);
    cr_assert_eq(wn_meter_ack(&m, 2, &rc[2], g_notary), WN_METER_OK); /* again: no-op */

    /* Wrong notary key, wrong leaf, tampered signature, unknown sequence. */
    uint8_t other[32];
    memcpy(other, g_notary, 32);
    other[5] ^= 1;
    cr_assert_eq(wn_meter_ack(&m, 3, &rc[3], wn_meter_id(&m)), WN_METER_ESIG);
    cr_assert_eq(wn_meter_ack(&m, 4, &rc[3], g_notary), WN_METER_ELEAF);
    wn_receipt bad = rc[3];
    bad.index++;
    cr_assert_eq(wn_meter_ack(&m, 3, &bad, g_notary), WN_METER_ESIG);
    bad = rc[3];
    bad.leaf[0] ^= 1;
    cr_assert_eq(wn_meter_ack(&m, 3, &bad, g_notary), WN_METER_ELEAF);
    cr_assert_eq(wn_meter_ack(&m, 9, &rc[3], g_notary), WN_METER_ENOTFOUND);
    cr_assert_eq(wn_meter_ack(&m, 0, &rc[3], g_notary), WN_METER_ENOTFOUND);

    /* Out of order: 5 before 3 and 4. */
    cr_assert_eq(wn_meter_ack(&m, 5, &rc[5], g_notary), WN_METER_OK);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.acked_through, 2);
    cr_assert_eq(c.pending, 4); /* 3, 4, 6, 7 */
    cr_assert_eq(c.receipts, 3);
    cr_assert(wn_meter_is_acked(&m, 5));
    cr_assert(!wn_meter_is_acked(&m, 4));
    wn_meter_close(&m);

    open_ok(&m); /* the acks are durable */
    wn_meter_iter it;
    uint64_t seq, expect[] = {3, 4, 6, 7};
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len;
    wn_meter_pending_begin(&m, &it);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_OK);
        cr_assert_eq(seq, expect[i]);
        cr_assert_arr_eq(buf, b[seq], len);
        cr_assert_eq(wn_meter_ack(&m, seq, &rc[seq], g_notary), WN_METER_OK); /* ack while iterating */
    }
    cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_END);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.acked_through, 7);
    cr_assert_eq(c.pending, 0);
    wn_receipt got;
    cr_assert_eq(wn_meter_receipt(&m, 5, &got), WN_METER_OK);
    cr_assert_arr_eq(&got, &rc[5], sizeof got);
    cr_assert_eq(wn_meter_receipt(&m, 8, &got), WN_METER_ENOTFOUND);
    wn_meter_close(&m);
    open_ok(&m);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.acked_through, 7);
    cr_assert_eq(c.pending, 0);
    wn_meter_close(&m);
}

Test(device, torn_receipt_record_is_cut_and_reading_pending_again)
{
    uint8_t b[WN_READING_MAX_LEN];
    size_t l;
    wn_receipt rc;
    wn_meter m;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    for (uint64_t k = 1; k <= 2; k++) {
        make(&m, k, b, &l);
        receipt_for(&rc, b, l, k);
        cr_assert_eq(wn_meter_ack(&m, k, &rc, g_notary), WN_METER_OK);
    }
    wn_meter_close(&m);
    size_t n;
    uint8_t *log = (uint8_t *)wn_test_read_file(path("receipts.log"), &n);
    cr_assert_eq(n, 8 + 2 * 127); /* version 1 receipts in WNMRCPT2 records: 10 + 113 + 4 */
    for (size_t cut = n - 127; cut < n; cut++) {
        write_file(path("receipts.log"), log, cut);
        open_ok(&m);
        wn_meter_counts c;
        wn_meter_get_counts(&m, &c);
        cr_assert_eq(c.acked_through, 1);
        cr_assert_eq(c.pending, 1);
        cr_assert_eq(c.receipts, 1);
        wn_meter_close(&m);
        cr_assert_eq(file_size(path("receipts.log")), (off_t)(n - 127));
    }
    /* A damaged receipt record followed by another is corruption. */
    log[8 + 3] ^= 1;
    write_file(path("receipts.log"), log, n);
    cr_assert_eq(wn_meter_open(&m, g_meter), WN_METER_ECORRUPT);
    free(log);
}

Test(device, compaction_keeps_every_pending_reading)
{
    uint8_t b[31][WN_READING_MAX_LEN], buf[WN_READING_MAX_LEN];
    size_t l[31], len;
    wn_receipt rc[31];
    wn_meter m;
    wn_meter_counts c;
    uint64_t seq;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    cr_assert_eq(wn_meter_compact(&m), WN_METER_OK); /* empty: nothing to do */
    for (int k = 1; k <= 20; k++) {
        make(&m, (uint64_t)k, b[k], &l[k]);
        receipt_for(&rc[k], b[k], l[k], (uint64_t)k);
    }
    for (int k = 1; k <= 12; k++) cr_assert_eq(wn_meter_ack(&m, (uint64_t)k, &rc[k], g_notary), WN_METER_OK);
    cr_assert_eq(wn_meter_ack(&m, 15, &rc[15], g_notary), WN_METER_OK);
    off_t before = file_size(path("readings.log"));
    cr_assert_eq(wn_meter_compact(&m), WN_METER_OK);
    cr_assert_lt(file_size(path("readings.log")), before);
    cr_assert_eq(access(path("readings.log.tmp"), F_OK), -1);

    for (int pass = 0; pass < 2; pass++) { /* the same before and after reopening */
        wn_meter_get_counts(&m, &c);
        cr_assert_eq(c.first_seq, 13);
        cr_assert_eq(c.logged, 8);
        cr_assert_eq(c.pending, 7);
        cr_assert_eq(c.acked_through, 12);
        cr_assert(wn_meter_is_acked(&m, 5));
        cr_assert_eq(wn_meter_get(&m, 5, buf, &len), WN_METER_ENOTFOUND);
        wn_meter_iter it;
        uint64_t expect[] = {13, 14, 16, 17, 18, 19, 20};
        wn_meter_pending_begin(&m, &it);
        for (int i = 0; i < 7; i++) {
            cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_OK);
            cr_assert_eq(seq, expect[i]);
            cr_assert_eq(len, l[seq]);
            cr_assert_arr_eq(buf, b[seq], len);
        }
        cr_assert_eq(wn_meter_next(&m, &it, buf, &len, &seq), WN_METER_END);
        wn_meter_close(&m);
        open_ok(&m);
    }
    /* The chain continues from the last reading. */
    uint8_t prev[32];
    wn_reading r;
    wn_sha256(prev, b[20], l[20]);
    make(&m, 21, b[21], &l[21]);
    cr_assert_eq(wn_reading_decode(&r, b[21], l[21]), WN_READING_OK);
    cr_assert_eq(r.seq, 21);
    cr_assert_arr_eq(r.prev, prev, 32);
    receipt_for(&rc[21], b[21], l[21], 21);

    /* Everything acked: compaction keeps only the last reading, which holds the chain. */
    for (int k = 13; k <= 21; k++) cr_assert_eq(wn_meter_ack(&m, (uint64_t)k, &rc[k], g_notary), WN_METER_OK);
    cr_assert_eq(wn_meter_compact(&m), WN_METER_OK);
    cr_assert_eq(file_size(path("readings.log")), (off_t)(8 + l[21] + 6));
    wn_meter_close(&m);
    open_ok(&m);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.first_seq, 21);
    cr_assert_eq(c.pending, 0);
    cr_assert_eq(c.acked_through, 21);
    wn_sha256(prev, b[21], l[21]);
    make(&m, 22, buf, &len);
    cr_assert_eq(wn_reading_decode(&r, buf, len), WN_READING_OK);
    cr_assert_eq(r.seq, 22);
    cr_assert_arr_eq(r.prev, prev, 32);
    wn_meter_close(&m);

    /* A compaction cut short before its rename leaves a temporary file: ignored. */
    write_file(path("readings.log.tmp"), "WNMRLOG1junk", 12);
    open_ok(&m);
    cr_assert_eq(m.last_seq, 22);
    cr_assert_eq(access(path("readings.log.tmp"), F_OK), -1);
    wn_meter_close(&m);
}

Test(device, values_the_notary_would_reject_are_refused)
{
    wn_meter m;
    uint64_t seq;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    wn_measurement v = vol(5000);
    cr_assert_eq(wn_meter_read(&m, T0, 0, &v, 1, NULL, NULL, &seq), WN_METER_OK);
    /* time travel, volume going down (also in litres), out of range */
    cr_assert_eq(wn_meter_read(&m, T0 - 1, 0, &v, 1, NULL, NULL, NULL), WN_METER_ETIME);
    cr_assert_eq(wn_meter_read(&m, WN_READING_MAX_TIME + 1, 0, &v, 1, NULL, NULL, NULL), WN_METER_ETIME);
    v = vol(4999);
    cr_assert_eq(wn_meter_read(&m, T0, 0, &v, 1, NULL, NULL, NULL), WN_METER_EVOLUME);
    wn_measurement litres = {WN_Q_VOLUME, WN_U_LITRE, 0, 4999};
    cr_assert_eq(wn_meter_read(&m, T0, 0, &litres, 1, NULL, NULL, NULL), WN_METER_EVOLUME);
    litres.value = 5000; /* 5000 L == 5.000 m3: equal is fine */
    cr_assert_eq(wn_meter_read(&m, T0, 0, &litres, 1, NULL, NULL, &seq), WN_METER_OK);
    cr_assert_eq(seq, 2);
    wn_measurement ph = {WN_Q_PH, WN_U_PH, 2, 1401};
    cr_assert_eq(wn_meter_read(&m, T0, 0, &ph, 1, NULL, NULL, NULL), WN_METER_ERANGE);
    ph.value = 1400;
    cr_assert_eq(wn_meter_read(&m, T0, 0, &ph, 1, NULL, NULL, NULL), WN_METER_OK);
    wn_measurement flow = {WN_Q_FLOW, WN_U_M3_PER_H, 1, -1};
    cr_assert_eq(wn_meter_read(&m, T0, 0, &flow, 1, NULL, NULL, NULL), WN_METER_ERANGE);
    wn_measurement temp = {WN_Q_TEMPERATURE, WN_U_DEGC, 1, -5}; /* below zero is allowed */
    cr_assert_eq(wn_meter_read(&m, T0, 0, &temp, 1, NULL, NULL, NULL), WN_METER_OK);
    /* Field errors: duplicate quantity, bad unit, count, flags, scale. */
    wn_measurement two[2] = {vol(6000), vol(6000)};
    cr_assert_eq(wn_meter_read(&m, T0, 0, two, 2, NULL, NULL, NULL), WN_METER_EARG);
    wn_measurement badunit = {WN_Q_PH, WN_U_M3, 0, 7};
    cr_assert_eq(wn_meter_read(&m, T0, 0, &badunit, 1, NULL, NULL, NULL), WN_METER_EARG);
    cr_assert_eq(wn_meter_read(&m, T0, 0, &temp, 0, NULL, NULL, NULL), WN_METER_EARG);
    cr_assert_eq(wn_meter_read(&m, T0, 0x40, &temp, 1, NULL, NULL, NULL), WN_METER_EARG);
    wn_measurement badscale = {WN_Q_TEMPERATURE, WN_U_DEGC, 10, 1};
    cr_assert_eq(wn_meter_read(&m, T0, 0, &badscale, 1, NULL, NULL, NULL), WN_METER_EARG);
    /* A replaced meter body may restart its totaliser. */
    v = vol(1);
    cr_assert_eq(wn_meter_read(&m, T0, WN_FLAG_METER_REPLACED, &v, 1, NULL, NULL, &seq), WN_METER_OK);
    cr_assert_eq(seq, 5);
    wn_meter_close(&m);
    /* None of the refused readings used a sequence number, also after reopening; the
     * volume rule survives reopening. */
    open_ok(&m);
    cr_assert_eq(m.last_seq, 5);
    v = vol(0);
    cr_assert_eq(wn_meter_read(&m, T0, 0, &v, 1, NULL, NULL, NULL), WN_METER_EVOLUME);
    wn_meter_close(&m);
}

Test(device, failed_write_fails_the_handle_until_reopen)
{
    wn_meter m;
    uint8_t b[WN_READING_MAX_LEN];
    size_t l;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    make(&m, 1, b, &l);
    /* Swap the log descriptor for a read-only one: the next write fails. */
    int ro = open(path("readings.log"), O_RDONLY);
    cr_assert_geq(ro, 0);
    cr_assert_geq(dup2(ro, m.logfd), 0);
    close(ro);
    wn_measurement v = vol(9000);
    cr_assert_eq(wn_meter_read(&m, T0 + 120000, 0, &v, 1, NULL, NULL, NULL), WN_METER_EIO);
    cr_assert_eq(wn_meter_read(&m, T0 + 120000, 0, &v, 1, NULL, NULL, NULL), WN_METER_EFAILED);
    wn_receipt rc;
    receipt_for(&rc, b, l, 1);
    cr_assert_eq(wn_meter_ack(&m, 1, &rc, g_notary), WN_METER_EFAILED);
    cr_assert_eq(wn_meter_compact(&m), WN_METER_EFAILED);
    wn_meter_close(&m);
    open_ok(&m);
    cr_assert_eq(make(&m, 2, NULL, NULL), 2);
    wn_meter_close(&m);
}

/* Receipts for more readings than the out-of-order window still recover: several passes. */
Test(device, many_out_of_order_receipts_recover)
{
    enum { N = WN_METER_ACK_WINDOW + 100 };
    wn_meter m;
    static wn_receipt rc[N + 1];
    uint8_t b[WN_READING_MAX_LEN];
    size_t l;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    for (uint64_t k = 1; k <= N; k++) {
        wn_measurement v = vol((int64_t)k);
        cr_assert_eq(wn_meter_read(&m, T0 + k, 0, &v, 1, b, &l, NULL), WN_METER_OK);
        receipt_for(&rc[k], b, l, k);
    }
    /* Ack everything but 1 (the receipts of 2..N pile up beyond the window), then 1. */
    for (uint64_t k = 2; k <= N; k++) cr_assert_eq(wn_meter_ack(&m, k, &rc[k], g_notary), WN_METER_OK);
    wn_meter_counts c;
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.acked_through, 0);
    cr_assert_eq(c.pending, N - (WN_METER_ACK_WINDOW - 1));
    wn_meter_close(&m);
    open_ok(&m);
    cr_assert_eq(wn_meter_ack(&m, 1, &rc[1], g_notary), WN_METER_OK);
    wn_meter_close(&m);
    open_ok(&m);
    wn_meter_get_counts(&m, &c);
    cr_assert_eq(c.acked_through, N);
    cr_assert_eq(c.pending, 0);
    wn_meter_close(&m);
}

/* ---- no allocation in the signing path ------------------------------------------------ */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WN_NO_MALLOC_HOOK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WN_NO_MALLOC_HOOK 1
#endif

#ifndef WN_NO_MALLOC_HOOK
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static _Thread_local int t_counting, t_allocs;
void *malloc(size_t n) { if (t_counting) t_allocs++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (t_counting) t_allocs++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (t_counting) t_allocs++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }

Test(device, signing_path_does_not_allocate)
{
    wn_meter m;
    uint8_t b[WN_READING_MAX_LEN];
    size_t l;
    cr_assert_eq(wn_meter_create(g_meter, WN_ALG_BIP340, NULL, NULL), WN_METER_OK);
    open_ok(&m);
    make(&m, 1, b, &l); /* warm-up */
    t_allocs = 0;
    t_counting = 1;
    for (uint64_t k = 2; k <= 20; k++) {
        wn_measurement ms[3] = {{WN_Q_PH, WN_U_PH, 2, 700}, vol(1000 * (int64_t)k), {WN_Q_FLOW, WN_U_M3_PER_H, 3, 12}};
        if (wn_meter_read(&m, T0 + 60000 + k, 0, ms, 3, b, &l, NULL) != WN_METER_OK) break;
    }
    t_counting = 0;
    cr_assert_eq(t_allocs, 0, "%d allocations while signing", t_allocs);
    cr_assert_eq(m.last_seq, 20);
    wn_meter_close(&m);

    /* The same for an ECDSA meter. */
    char d2[4200];
    snprintf(d2, sizeof d2, "%s/e", g_dir);
    cr_assert_eq(wn_meter_create(d2, WN_ALG_ECDSA, NULL, NULL), WN_METER_OK);
    cr_assert_eq(wn_meter_open(&m, d2), WN_METER_OK);
    wn_measurement v = vol(1);
    cr_assert_eq(wn_meter_read(&m, T0, 0, &v, 1, b, &l, NULL), WN_METER_OK);
    t_counting = 1;
    v = vol(2);
    int err = wn_meter_read(&m, T0 + 1, 0, &v, 1, b, &l, NULL);
    t_counting = 0;
    cr_assert_eq(err, WN_METER_OK);
    cr_assert_eq(t_allocs, 0);
    wn_meter_close(&m);
}
#endif
