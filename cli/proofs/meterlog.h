/* meterlog.h — a meter's own evidence (docs/PROTOCOL.md §10) checked offline: every
 * receipt record of its receipts.log (either form, receipts of version 1 or 2) against the
 * notary key and, when its readings.log is
 * at hand, against the leaf of the reading with that sequence. Read here from the format
 * alone (the CLI does not use the device library), as an independent verifier would. */
#ifndef WN_CLI_METERLOG_H
#define WN_CLI_METERLOG_H

#include <stddef.h>
#include <stdint.h>

#include "cli/proofs/report.h"

#define WN_RECEIPTS_MAGIC "WNMRCPT2"    /* u16 len || u64 seq || receipt[len] || check4 */
#define WN_RECEIPTS_MAGIC_V1 "WNMRCPT1" /* older meters: u64 seq || receipt[113] || check4 */
#define WN_READINGS_MAGIC "WNMRLOG1"

/* Returns: 1 if data starts with a receipts-log magic (either form). */
int wn_meterlog_sniff(const uint8_t *data, size_t len);

/* Checks the receipts log rcpt[0..rlen): record check bytes, receipt version and notary
 * signature of every record (a torn last record, as a power cut leaves it, is a warning).
 * readings (may be NULL) is the meter's readings.log: every receipt whose sequence it
 * holds must carry SHA-256(0x00 || 0x01 || reading) as leaf. Adds failures to rep (kind
 * "receipts-log") with counts "receipts", "matched" (receipts compared with a logged
 * reading) and "unacknowledged" (logged readings without a receipt). */
void wn_meterlog_verify(const uint8_t *rcpt, size_t rlen, const uint8_t *readings, size_t rdlen,
                        const uint8_t notary[32], wn_report *rep);

#endif
