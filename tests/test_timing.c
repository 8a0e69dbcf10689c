/* test_timing.c — time that cannot be made up (issue 12): the timed ledger entry form and
 * its one parser (ledger/entry.h, PROTOCOL §3), receipts of timed entries. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "crypto/sha256.h"
#include "ledger/entry.h"
#include "ledger/tlog/merkle.h"
#include "protocol/receipt.h"

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
