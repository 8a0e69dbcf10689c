/* test_timing.c — time that cannot be made up (issue 12): the timed ledger entry form and
 * its one parser (ledger/entry.h, PROTOCOL §3), receipts of timed entries. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit/audit.h"
#include "cli/audit/audit_lmdb.h"
#include "crypto/sha256.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/merkle.h"
#include "protocol/receipt.h"
#include "tests/support/testledger.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = wn_test_tmpdir("timing");
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(timing, .init = setup, .fini = teardown, .timeout = 300);

/* ---- the entry parser ---- */

Test(timing, entry_forms_parse_byte_by_byte)
{
    /* timed reading: 0x81, commit time 0x0102030405060708, marks late, payload "abc" */
    const uint8_t timed[] = {0x81, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 'a', 'b', 'c'};
    wn_entry_view v;
    cr_assert_eq(wn_entry_parse(&v, timed, sizeof timed), WN_ENTRY_OK);
    cr_assert_eq(v.kind, WN_ENTRY_READING);
    cr_assert_eq(v.type, 0x81);
    cr_assert(v.timed);
    cr_assert_eq(v.commit_ms, 0x0102030405060708ULL);
    cr_assert_eq(v.marks, WN_ENTRY_MARK_LATE);
    cr_assert_eq(v.len, 3);
    cr_assert_eq(v.payload, timed + 10);

    /* untimed (legacy) enrolment */
    const uint8_t untimed[] = {0x02, 'x', 'y'};
    cr_assert_eq(wn_entry_parse(&v, untimed, sizeof untimed), WN_ENTRY_OK);
    cr_assert_eq(v.kind, WN_ENTRY_ENROLMENT);
    cr_assert_not(v.timed);
    cr_assert_eq(v.commit_ms, 0);
    cr_assert_eq(v.len, 2);
    cr_assert_eq(v.payload, untimed + 1);

    /* a timed entry with an empty payload is well-formed (each kind checks its own) */
    cr_assert_eq(wn_entry_parse(&v, timed, 10), WN_ENTRY_OK);
    cr_assert_eq(v.len, 0);

    /* the writer writes exactly the header the parser reads */
    uint8_t h[WN_ENTRY_TIMED_HEADER];
    cr_assert_eq(wn_entry_put_timed_header(h, WN_ENTRY_READING, 0x0102030405060708ULL, WN_ENTRY_MARK_LATE), 10);
    cr_assert_arr_eq(h, timed, 10);
}

Test(timing, entry_parser_refuses_what_it_does_not_know)
{
    wn_entry_view v;
    const uint8_t empty[1] = {0};
    cr_assert_eq(wn_entry_parse(&v, empty, 0), WN_ENTRY_ESHORT, "empty");
    for (size_t n = 1; n < 10; n++) {
        const uint8_t t[10] = {0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        cr_assert_eq(wn_entry_parse(&v, t, n), WN_ENTRY_ESHORT, "a timed entry of %zu bytes", n);
    }
    const uint8_t unknown[][11] = {{0x00, 'p'}, {0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'},
                                   {WN_ENTRY_KIND_MAX + 1, 'p'},
                                   {0x80 | (WN_ENTRY_KIND_MAX + 1), 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'},
                                   {0x7f, 'p'}, {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'p'}};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        cr_assert_eq(wn_entry_parse(&v, unknown[i], unknown[i][0] & 0x80 ? 11 : 2), WN_ENTRY_ETYPE,
                     "type 0x%02x", unknown[i][0]);
    for (unsigned bit = 1; bit < 8; bit++) {
        const uint8_t t[] = {0x81, 0, 0, 0, 0, 0, 0, 0, 1, (uint8_t)(1u << bit), 'p'};
        cr_assert_eq(wn_entry_parse(&v, t, sizeof t), WN_ENTRY_EMARKS, "marks bit %u", bit);
        cr_assert_eq(v.kind, 0, "nothing is given out of a refused entry");
    }
    cr_assert_eq(wn_entry_kind((const uint8_t[]){0x85, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10), WN_ENTRY_CERTIFICATE);
    cr_assert_eq(wn_entry_kind((const uint8_t[]){0x85, 0, 0}, 3), 0);
}

/* A receipt is for a reading when its leaf is the timed entry's at the receipt's time (late
 * or not) or, before commit times, the untimed entry's; never at another time. */
Test(timing, receipt_leaf_of_a_timed_reading)
{
    const uint8_t reading[] = {1, 2, 3, 4, 5};
    uint8_t entry[10 + sizeof reading];
    wn_receipt rc;
    memset(&rc, 0, sizeof rc);
    rc.time_ms = 1765142910494ULL;
    for (uint8_t marks = 0; marks <= 1; marks++) {
        wn_entry_put_timed_header(entry, WN_ENTRY_READING, rc.time_ms, marks);
        memcpy(entry + 10, reading, sizeof reading);
        wn_merkle_leaf_hash(rc.leaf, entry, sizeof entry);
        uint8_t leaf[32];
        wn_reading_timed_leaf_hash(leaf, reading, sizeof reading, rc.time_ms, marks);
        cr_assert_arr_eq(leaf, rc.leaf, 32);
        cr_assert(wn_receipt_is_for_reading(&rc, reading, sizeof reading));
        rc.time_ms++;
        cr_assert_not(wn_receipt_is_for_reading(&rc, reading, sizeof reading), "another commit time");
        rc.time_ms--;
    }
    wn_reading_leaf_hash(rc.leaf, reading, sizeof reading);
    cr_assert(wn_receipt_is_for_reading(&rc, reading, sizeof reading), "the untimed form");
    entry[9] = 0x02; /* an unknown mark is no entry at all */
    wn_merkle_leaf_hash(rc.leaf, entry, sizeof entry);
    cr_assert_not(wn_receipt_is_for_reading(&rc, reading, sizeof reading));
}

/* ---- the audit of commit times ---- */

/* Audits the ledger of t (closed here) in this process. Returns: the number of problems;
 * the first in *first, the summary in *sum. */
static long audit_of(wn_tl *t, wn_audit_problem *first, wn_audit_summary *sum)
{
    wn_tl_close(t);
    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.notary, t->notary_pub, 32);
    cfg.workers = 2;
    cfg.max_details = 50;
    wn_auditor *a;
    cr_assert_eq(wn_auditor_new(&a, &cfg), WN_AUDIT_OK);
    char why[512];
    cr_assert(wn_audit_lmdb_run(a, t->dir, NULL, NULL, why, sizeof why), "%s", why);
    cr_assert_eq(wn_auditor_finish(a), WN_AUDIT_OK);
    size_t n;
    const wn_audit_problem *p = wn_auditor_problems(a, &n, NULL);
    long total = (long)wn_auditor_summary(a)->problems;
    if (sum) *sum = *wn_auditor_summary(a);
    if (n && first) *first = *p;
    wn_auditor_free(a);
    return total;
}

#define T0 1765142910494ULL

/* Two meters, enrolled and read with timed entries whose commit times step by `step`
 * (from T0); an untimed prefix of `untimed` entries first (a ledger from before). */
static void timed_ledger(wn_tl *t, const char *name, unsigned untimed)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    cr_assert(wn_tl_create(t, dir));
    wn_tl_add_meter(t, 0, "91330400MA0000001X");
    wn_tl_add_meter(t, 1, "91330400MA0000001X");
    unsigned n = 0;
    for (unsigned k = 0; k < 2; k++, n++) {
        t->commit_ms = n < untimed ? 0 : T0 + 1000 * n;
        cr_assert_neq(wn_tl_enrol(t, k, NULL), WN_TL_FAIL);
    }
    for (unsigned i = 0; i < 6; i++, n++) {
        t->commit_ms = n < untimed ? 0 : T0 + 1000 * n;
        cr_assert_neq(wn_tl_reading(t, i % 2, 0), WN_TL_FAIL);
    }
}

Test(timing, audit_passes_timed_and_upgraded_ledgers_and_counts_them)
{
    for (unsigned untimed = 0; untimed <= 3; untimed += 3) {
        wn_tl t;
        char name[32];
        snprintf(name, sizeof name, "l%u", untimed);
        timed_ledger(&t, name, untimed);
        cr_assert_neq(wn_tl_checkpoint(&t, NULL, NULL), WN_TL_FAIL);
        uint64_t ms;
        cr_assert(wn_entry_commit_time_at(t.l, 7, &ms) && ms == T0 + 7000);
        wn_audit_summary sum;
        wn_audit_problem p;
        long np = audit_of(&t, &p, &sum);
        cr_assert_eq(np, 0, "untimed %u: %s %s", untimed, wn_audit_code_name(p.code), p.detail);
        cr_assert_eq(sum.timed, 8 - untimed);
        cr_assert_eq(sum.first_commit_ms, T0 + 1000 * untimed);
        cr_assert_eq(sum.last_commit_ms, T0 + 7000);
        cr_assert_eq(sum.checkpoints_valid, 1);
    }
}

Test(timing, audit_names_untimed_after_timed_and_time_going_back)
{
    wn_tl t;
    timed_ledger(&t, "after", 0);
    t.commit_ms = 0; /* an untimed entry after timed ones */
    uint64_t bad = wn_tl_reading(&t, 0, 0);
    wn_audit_problem p;
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "untimed_after_timed");

    timed_ledger(&t, "back", 0);
    t.commit_ms = T0 + 6999; /* before entry 7's */
    bad = wn_tl_reading(&t, 1, 0);
    t.commit_ms = T0 + 7000; /* the same as the latest: fine */
    wn_tl_reading(&t, 0, 0);
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "commit_time_backwards");

    timed_ledger(&t, "latemark", 0);
    t.commit_ms = T0 + 9000;
    t.marks = WN_ENTRY_MARK_LATE; /* on a revocation: only readings are late */
    bad = wn_tl_revoke(&t, 1);
    cr_assert_eq(audit_of(&t, &p, NULL), 1);
    cr_assert_eq(p.at, bad);
    cr_assert_str_eq(wn_audit_code_name(p.code), "entry_type");
}

/* A checkpoint signed by the notary whose commit-time line is not entry size-1's, or is
 * missing, or is present on an untimed tail. */
static void put_checkpoint(wn_tl *t, int has_time, uint64_t time_ms)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", t->origin);
    cr_assert_eq(wn_ledger_size(t->l, &cp.size), 0);
    cr_assert_eq(wn_ledger_root(t->l, cp.size, cp.root), 0);
    cp.has_time = has_time;
    cp.time_ms = time_ms;
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    cr_assert_eq(wn_checkpoint_sign(&cp, t->notary_sk, note, sizeof note, &len), WN_CHECKPOINT_OK);
    cr_assert_eq(wn_ledger_put_checkpoint(t->l, cp.size, note, len), 0);
}

Test(timing, audit_checks_the_checkpoint_commit_time)
{
    struct { int untimed, has_time; uint64_t t; unsigned sub; } c[] = {
        {0, 1, T0 + 7001, 2}, /* a time after the last entry's */
        {0, 1, T0 + 6000, 2}, /* before it */
        {0, 0, 0, 1},         /* none, for a timed tail */
        {8, 1, T0, 0},        /* one, for an untimed ledger */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        wn_tl t;
        char name[32];
        snprintf(name, sizeof name, "cp%zu", i);
        timed_ledger(&t, name, (unsigned)c[i].untimed);
        put_checkpoint(&t, c[i].has_time, c[i].t);
        wn_audit_problem p;
        cr_assert_eq(audit_of(&t, &p, NULL), 1, "case %zu", i);
        cr_assert_eq(p.where, WN_AUDIT_AT_CHECKPOINT);
        cr_assert_eq(p.at, 8);
        cr_assert_str_eq(wn_audit_code_name(p.code), "checkpoint_time", "case %zu: %s", i, p.detail);
        cr_assert_eq(p.sub, c[i].sub, "case %zu: %s", i, p.detail);
    }
    wn_tl t; /* and the right one passes */
    timed_ledger(&t, "cpok", 0);
    put_checkpoint(&t, 1, T0 + 7000);
    cr_assert_eq(audit_of(&t, NULL, NULL), 0);
}
