/* core.h — the meter's freestanding core: canonical v1 readings (PROTOCOL §2) made with
 * the next sequence number and the hash chain, checked as the notary will check them,
 * signed through the port's key handle and kept in a power-loss-safe log on flash pages;
 * and the notary's receipts (PROTOCOL §6, versions 1 and 2) verified before a reading's
 * place in the log may be reused. It builds with -ffreestanding: it includes only
 * <stddef.h>, <stdint.h> and device/core/, allocates nothing and reaches the board only
 * through device/core/port.h. Flash log layout and power-loss rules: docs/FIRMWARE.md.
 *
 * Functions return WN_CORE_OK (0) or an enum wn_core_err code. */
#ifndef WN_CORE_H
#define WN_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "device/core/port.h"

#define WN_CORE_READING_FIXED 149
#define WN_CORE_MEAS_LEN 11
#define WN_CORE_MAX_MEAS 8               /* eight quantities in reading version 1 */
#define WN_CORE_READING_MAX (WN_CORE_READING_FIXED + WN_CORE_MEAS_LEN * WN_CORE_MAX_MEAS)
#define WN_CORE_MAX_SEQ ((1ULL << 53) - 1)
#define WN_CORE_MAX_TIME 253402300799999ULL
#define WN_CORE_FLAG_ALL 0x3f
#define WN_CORE_FLAG_METER_REPLACED 0x08
#define WN_CORE_MAX_PAGES 64             /* flash pages the log may span */
#define WN_CORE_RECEIPT_MAX (385 + 41 + 32 * 63)

enum wn_core_err {
    WN_CORE_OK = 0,
    WN_CORE_END,        /* iteration: nothing more (not a failure) */
    WN_CORE_EFLASH,     /* a flash hook failed: the meter is failed until reopened */
    WN_CORE_ECORRUPT,   /* the flash holds a log that no power cut can explain */
    WN_CORE_EPORT,      /* the port is unusable: page geometry, missing hook, signer failed */
    WN_CORE_EARG,       /* a measurement, unit, scale, count or flag is invalid */
    WN_CORE_ETIME,      /* time above the maximum or before the previous reading */
    WN_CORE_EVOLUME,    /* cumulative volume below the last one without METER_REPLACED */
    WN_CORE_ERANGE,     /* a value the node rejects as out_of_range */
    WN_CORE_ESEQ,       /* the sequence space is used up */
    WN_CORE_EFULL,      /* the log has no page free of unacknowledged readings */
    WN_CORE_ECRYPTO,    /* signing failed or the fresh signature did not verify */
    WN_CORE_ENOTFOUND,  /* no reading with that sequence in the log */
    WN_CORE_ERECEIPT,   /* the receipt is malformed or its head is inconsistent */
    WN_CORE_EPATH,      /* the receipt's Merkle path does not reach its commit root */
    WN_CORE_ESIG,       /* the notary's signature does not verify */
    WN_CORE_ELEAF,      /* the receipt is for another entry than this reading */
    WN_CORE_EFAILED     /* an earlier flash write failed: reopen */
};

const char *wn_core_strerror(int err);

/* One measurement (PROTOCOL §2): value / 10^scale in unit. */
typedef struct {
    uint8_t quantity, unit, scale;
    int64_t value;
} wn_core_meas;

/* An open meter. Fields are private. */
typedef struct {
    const wn_port *port;
    int failed;
    uint8_t alg, id[32], pub33[33];
    /* chain state: the last reading made */
    uint64_t last_seq, last_time;
    uint8_t prev[32];
    int have_volume;
    int64_t last_volume;
    uint8_t vol_unit, vol_scale;
    uint64_t acked;      /* every reading <= acked has a verified receipt */
    uint64_t first_seq;  /* lowest reading still on flash (0: none) */
    /* the log */
    uint32_t head, head_off, hdr_len;
    int head_sealed;     /* the head page's tail is not clean: next append opens a page */
    int state_page;      /* page holding the newest record that carries the chain state */
    uint32_t next_gen;
    uint32_t gen[WN_CORE_MAX_PAGES];     /* 0: free (no valid header) */
    uint64_t max_seq[WN_CORE_MAX_PAGES]; /* highest reading sequence in the page (0: none) */
    uint32_t torn_records;               /* torn records found by the last open */
} wn_core_meter;

/* Opens the meter on port's flash and recovers its state from the log (an erased flash
 * is a new meter whose first reading will be sequence 1). The key handle gives the id.
 * Returns: WN_CORE_OK, WN_CORE_EPORT, WN_CORE_EFLASH or WN_CORE_ECORRUPT. */
int wn_core_open(wn_core_meter *m, const wn_port *port);

/* Makes the next reading (sequence last+1, previous digest of the last reading), checks
 * it, signs it, verifies the signature and programs it into the log; only then is it
 * returned in out (WN_CORE_READING_MAX bytes), *len, *seq (each may be NULL).
 * Returns: WN_CORE_OK; EARG, ETIME, EVOLUME, ERANGE, ESEQ, EFULL, ECRYPTO (nothing
 * written); EFLASH (the meter is failed: reopen); EFAILED. */
int wn_core_read(wn_core_meter *m, uint64_t time_ms, uint16_t flags, const wn_core_meas *ms, size_t count,
                 uint8_t *out, size_t *len, uint64_t *seq);

/* Builds the bytes of the next reading of m, all but the signature (64 zero bytes):
 * sequence last+1, the previous digest, measurements sorted by quantity, every check of
 * wn_core_read. Only m's chain fields (alg, id, last_seq, last_time, prev, have_volume,
 * last_volume, vol_unit, vol_scale) are read, so a meter that keeps its chain elsewhere
 * (the file meter, device/meter_read.c) builds its readings here too.
 * Out: out (WN_CORE_READING_MAX bytes), *len the reading's full length.
 * Returns: WN_CORE_OK, EARG, ETIME, EVOLUME, ERANGE or ESEQ. */
int wn_core_reading_build(const wn_core_meter *m, uint64_t time_ms, uint16_t flags, const wn_core_meas *ms,
                          size_t count, uint8_t out[WN_CORE_READING_MAX], size_t *len);

/* The first reading above sequence after that has no verified receipt.
 * Returns: WN_CORE_OK, WN_CORE_END, WN_CORE_EFLASH. */
int wn_core_next_pending(wn_core_meter *m, uint64_t after, uint8_t *out, size_t *len, uint64_t *seq);

/* The reading with sequence seq from the log. Returns: WN_CORE_OK, WN_CORE_ENOTFOUND, EFLASH. */
int wn_core_get(wn_core_meter *m, uint64_t seq, uint8_t *out, size_t *len);

/* Verifies receipt (binary, version 1 or 2, PROTOCOL §6) for reading seq against notary
 * (x-only key) and the logged reading's leaf hash; if it verifies and seq is the next
 * unacknowledged reading, records the acknowledgement in the log (readings acked in
 * order; an already acked one is checked and nothing written). Out: *index (may be NULL)
 * the reading's ledger index.
 * Returns: WN_CORE_OK; ENOTFOUND; ERECEIPT, EPATH, ESIG, ELEAF (refused, nothing
 * written); WN_CORE_END (verified, but an earlier reading is still unacknowledged:
 * nothing written); EFLASH; EFAILED. */
int wn_core_ack(wn_core_meter *m, uint64_t seq, const uint8_t *receipt, size_t len, const uint8_t notary[32],
                uint64_t *index);

/* Verifies a receipt alone: head, path, signature and that its leaf is leaf32.
 * Returns: WN_CORE_OK, ERECEIPT, EPATH, ESIG or ELEAF. */
int wn_core_receipt_verify(const wn_port *port, const uint8_t *receipt, size_t len, const uint8_t notary[32],
                           const uint8_t leaf32[32], uint64_t *index);

/* SHA-256(0x00 || 0x01 || reading): the reading's leaf hash in the untimed form (PROTOCOL §3). */
void wn_core_leaf_hash(const wn_port *port, uint8_t leaf[32], const uint8_t *reading, size_t len);
/* SHA-256(0x00 || 0x81 || u64 commit_ms || marks || reading): the timed form (PROTOCOL §3). */
void wn_core_timed_leaf_hash(const wn_port *port, uint8_t leaf[32], const uint8_t *reading, size_t len,
                             uint64_t commit_ms, uint8_t marks);

/* Verifies a receipt for reading[0..len) (PROTOCOL §6): as wn_core_receipt_verify, the
 * reading's leaf being its timed entry's at the receipt's commit time, marked late or not
 * (the late window is the node's), or its untimed entry's (ledgers from before commit
 * times). Returns: as wn_core_receipt_verify. */
int wn_core_receipt_verify_reading(const wn_port *port, const uint8_t *receipt, size_t rlen, const uint8_t notary[32],
                                   const uint8_t *reading, size_t len, uint64_t *index);

typedef struct {
    uint64_t last_seq, last_time, acked, first_seq;
    uint32_t pages_used, pages, bytes_free_in_head, torn_records;
    int have_volume;     /* a reading carried a cumulative volume; the last one: */
    int64_t last_volume; /* (in the last reading's unit and scale) */
} wn_core_counts;
void wn_core_get_counts(const wn_core_meter *m, wn_core_counts *c);

#endif
