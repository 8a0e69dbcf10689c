/* meter.h — the meter side of WaterNotary: the meter's key, its sequence and hash-chain
 * state, building and signing readings, and a crash-safe local queue of every reading that
 * has no receipt from the notary yet.
 *
 * A meter lives in a state directory (file formats: docs/PROTOCOL.md §10):
 *
 *   meter.key      the secret key (crypto/keyfile.h), 0600
 *   meter.conf     format version and signature algorithm
 *   readings.log   append-only log of signed readings: u16 len || reading || check4
 *   receipts.log   append-only log of receipts:       u16 len || u64 seq || receipt || check4
 *
 * The durability rule: wn_meter_read returns a reading only after its log record is on
 * disk (one write(), then fdatasync). The next sequence number and previous digest are
 * never stored on their own: they are recovered on open from the last record of the log,
 * after cutting off a torn tail record. So a power cut at any instant neither reuses a
 * sequence number that left the meter nor loses a returned reading: a reading whose log
 * write did not complete was never returned, so it was never sent, and reusing its
 * sequence number is safe.
 *
 * Receipts are verified (leaf hash; the notary's signature over the receipt or, version 2,
 * over its commit head, with the leaf's Merkle path to it) before they are logged; a reading
 * with a logged receipt is "acked". Compaction rewrites the readings log keeping every
 * unacked reading and the last one (write-temp, fsync, rename, fsync the directory).
 *
 * Nothing in the signing path allocates: wn_meter_read builds, signs and encodes on the
 * stack. A wn_meter is a plain struct the caller owns (stack, static or heap); its fields
 * are private. One process at a time may have a meter open (flock on the directory).
 * Functions return WN_METER_OK (0) or an error code of enum wn_meter_err. */
#ifndef WN_METER_H
#define WN_METER_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"
#include "protocol/receipt.h"
#include "crypto/sig.h"

/* Receipts arriving out of order are tracked in a window of this many sequence numbers
 * above the ack watermark; one arriving beyond it is logged but the reading stays pending
 * (resending it is harmless: the node answers "duplicate" with the original receipt). */
#define WN_METER_ACK_WINDOW 1024

enum wn_meter_err {
    WN_METER_OK = 0,
    WN_METER_END,       /* iteration: no more readings (not a failure) */
    WN_METER_EIO,       /* a system call failed (errno says which) */
    WN_METER_EEXIST,    /* create: the directory already holds a meter key */
    WN_METER_ENOENT,    /* open: no meter in the directory (meter.key missing) */
    WN_METER_ELOCKED,   /* another open handle (any process) holds the meter */
    WN_METER_ECORRUPT,  /* a state file is damaged in a way a torn write cannot explain */
    WN_METER_EARG,      /* invalid argument: algorithm, measurement fields or count, flags */
    WN_METER_ETIME,     /* time above the maximum or before the previous reading's time */
    WN_METER_EVOLUME,   /* cumulative volume below the previous one without METER_REPLACED */
    WN_METER_ERANGE,    /* a value the node rejects as out_of_range (negative volume, pH
                         * outside 0..14, negative flow, conductivity or turbidity) */
    WN_METER_EFULL,     /* the sequence space (2^53-1) is exhausted */
    WN_METER_ECRYPTO,   /* signing failed or the fresh signature did not verify */
    WN_METER_ENOTFOUND, /* no logged reading (or receipt) with that sequence number */
    WN_METER_ELEAF,     /* the receipt's leaf hash is not the leaf hash of that reading */
    WN_METER_ESIG,      /* the receipt does not verify: its signature (v2: of the head) with the notary key, or (v2) its path to the commit root */
    WN_METER_EFAILED,   /* an earlier write on this handle failed: close and reopen */
    WN_METER_EKEYMODE   /* open: meter.key's mode gives group or others access (chmod 600 it) */
};

/* A sentence saying what the error means. */
const char *wn_meter_strerror(int err);

/* An open meter. Treat every field as private. */
typedef struct {
    int dirfd, logfd, rcptfd;
    int failed;                 /* a write failed; every writer refuses until reopen */
    uint8_t alg;                /* enum wn_sig_alg */
    uint8_t seckey[WN_SECKEY_LEN];
    uint8_t id[WN_XONLY_LEN];   /* meter id: x of the public key */
    uint8_t pub33[WN_PUB33_LEN];
    uint64_t first_seq;         /* sequence of the first logged reading; 0: log empty */
    uint64_t last_seq;          /* sequence of the last logged reading; 0: log empty */
    uint64_t last_off;          /* offset of the last record */
    uint64_t last_time;         /* time of the last reading */
    uint8_t prev[32];           /* digest of the last reading (zeros: none) */
    int have_volume;            /* a reading carried a cumulative volume; the last one: */
    int64_t last_volume;
    uint8_t last_volume_unit, last_volume_scale;
    uint64_t log_end;           /* size of the valid readings log */
    uint64_t rcpt_end;          /* size of the valid receipts log */
    uint64_t rcpt_count;        /* records in the receipts log */
    uint64_t rcpt_last_off;     /* offset of the last receipt record (meter.state checks it) */
    uint64_t since_save;        /* appends since meter.state was written */
    int acks_beyond;            /* a logged receipt lies beyond the window (open re-reads the receipts) */
    uint64_t acked;             /* watermark: every sequence <= acked has a receipt */
    uint64_t ack_off;           /* offset of the record of sequence acked+1 (log_end: none) */
    uint64_t window[WN_METER_ACK_WINDOW / 64]; /* bit i: sequence acked+1+i has a receipt */
    uint64_t torn_bytes;        /* bytes of torn tail records cut off by the last open */
} wn_meter;

/* Creates a meter in dir (created 0700 if missing): a new key (or the given one), the
 * configuration and empty logs, all durable when this returns. A directory left half
 * created by a crash (no meter.key yet) is simply created again.
 * Args: dir     the state directory
 *       alg     WN_ALG_BIP340 or WN_ALG_ECDSA (the meter id is then the x coordinate of
 *               the compressed public key; with BIP-340 it is the x-only key: the same x)
 *       seckey  a secret key to use, or NULL to generate one
 * Out:  id      the meter id (may be NULL)
 * Returns: WN_METER_OK, WN_METER_EEXIST, WN_METER_ELOCKED, WN_METER_EARG or WN_METER_EIO. */
int wn_meter_create(const char *dir, uint8_t alg, const uint8_t *seckey, uint8_t id[WN_XONLY_LEN]);

/* Opens the meter in dir and recovers its state from the logs: a torn record at the end
 * of a log (a write cut short by a crash) is cut off and the cut made durable; any other
 * damage is WN_METER_ECORRUPT and nothing is changed.
 * Out: m (on success; close it with wn_meter_close).
 * Returns: WN_METER_OK, WN_METER_ENOENT, WN_METER_ELOCKED, WN_METER_ECORRUPT, WN_METER_EKEYMODE or WN_METER_EIO. */
int wn_meter_open(wn_meter *m, const char *dir);

/* Closes the files, releases the lock and wipes the key from m. Safe on a closed meter. */
void wn_meter_close(wn_meter *m);

/* The meter's id (x-only), its compressed public key (what an enrolment carries) and
 * its signature algorithm. */
const uint8_t *wn_meter_id(const wn_meter *m);
const uint8_t *wn_meter_pubkey(const wn_meter *m);
uint8_t wn_meter_alg(const wn_meter *m);

/* Makes the next reading: sequence last+1, previous digest of the last reading; sorts the
 * measurements by quantity, checks every field and the values the node would reject,
 * signs, verifies the fresh signature, appends the record to the log and makes it durable.
 * Only then is the reading returned. No allocation.
 * Args: time_ms   measurement time; not before the previous reading's time
 *       flags     WN_FLAG_* bits
 *       ms, count 1..WN_READING_MAX_MEAS measurements, any order, each quantity once
 * Out:  out       the reading's binary form (may be NULL), *outlen its length (may be NULL)
 *       seq       its sequence number (may be NULL)
 * Returns: WN_METER_OK; WN_METER_EARG, ETIME, EVOLUME, ERANGE, EFULL, ECRYPTO (nothing
 *          written, the handle stays usable); WN_METER_EIO (the write or the sync failed:
 *          the handle is failed, close and reopen — the reading may or may not be in the
 *          log, and it was not returned); WN_METER_EFAILED. */
int wn_meter_read(wn_meter *m, uint64_t time_ms, uint16_t flags, const wn_measurement *ms,
                  size_t count, uint8_t out[WN_READING_MAX_LEN], size_t *outlen, uint64_t *seq);

/* One reading to make with wn_meter_read_many. */
typedef struct {
    uint64_t time_ms;
    uint16_t flags;
    const wn_measurement *ms;
    size_t count;
} wn_meter_input;

#define WN_METER_MANY_MAX 4096

/* Makes n readings (1..WN_METER_MANY_MAX) as wn_meter_read would, one after the other,
 * but appends them with one write and makes them durable with one fdatasync: none is
 * returned before all are durable (group commit for a meter that makes many readings at
 * once, e.g. `wn-meter read --count`). A reading that fails a check writes nothing of the
 * group. Allocates one buffer for the records.
 * Out:  out       n * WN_READING_MAX_LEN bytes: reading i at out + i * WN_READING_MAX_LEN
 *                 (may be NULL), lens[i] its length (may be NULL)
 *       first_seq the first reading's sequence (may be NULL)
 * Returns: as wn_meter_read; on a check error *failed_at (may be NULL) says which input failed. */
int wn_meter_read_many(wn_meter *m, const wn_meter_input *in, size_t n, uint8_t *out, size_t *lens,
                       uint64_t *first_seq, size_t *failed_at);

/* Iterators over the readings log, in sequence order. */
typedef struct {
    uint64_t off;
    int pending_only;
} wn_meter_iter;

/* Starts an iteration over the pending (unacked) readings / over every logged reading. */
void wn_meter_pending_begin(const wn_meter *m, wn_meter_iter *it);
void wn_meter_log_begin(const wn_meter *m, wn_meter_iter *it);

/* Returns the next reading of the iteration. Acking readings during an iteration is fine.
 * Out: out (WN_READING_MAX_LEN bytes), *len, *seq (each may be NULL).
 * Returns: WN_METER_OK, WN_METER_END when done, WN_METER_EIO or WN_METER_ECORRUPT. */
int wn_meter_next(wn_meter *m, wn_meter_iter *it, uint8_t out[WN_READING_MAX_LEN], size_t *len,
                  uint64_t *seq);

/* The logged reading with sequence seq.
 * Returns: WN_METER_OK, WN_METER_ENOTFOUND (not in the log: never made, or compacted
 *          away after its receipt), WN_METER_EIO or WN_METER_ECORRUPT. */
int wn_meter_get(wn_meter *m, uint64_t seq, uint8_t out[WN_READING_MAX_LEN], size_t *len);

/* Records the notary's receipt for reading seq, after checking that its leaf hash is
 * SHA-256(0x00 || 0x01 || reading) of the logged reading and that it is signed by
 * notary (x-only key). The receipt is durable when this returns. Acking an acked reading
 * again checks the receipt and writes nothing.
 * Returns: WN_METER_OK, WN_METER_ENOTFOUND, WN_METER_ELEAF, WN_METER_ESIG, WN_METER_EIO,
 *          WN_METER_EFAILED. */
int wn_meter_ack(wn_meter *m, uint64_t seq, const wn_receipt *rc, const uint8_t notary[WN_XONLY_LEN]);

/* Returns: 1 if reading seq is acked (every sequence below the first logged one is). */
int wn_meter_is_acked(const wn_meter *m, uint64_t seq);

/* The last receipt logged for reading seq.
 * Returns: WN_METER_OK, WN_METER_ENOTFOUND, WN_METER_EIO or WN_METER_ECORRUPT. */
int wn_meter_receipt(wn_meter *m, uint64_t seq, wn_receipt *rc);

typedef struct {
    uint64_t next_seq;      /* the sequence the next reading will get */
    uint64_t first_seq;     /* first reading still in the log (0: empty log) */
    uint64_t last_seq;      /* last reading made (0: none) */
    uint64_t last_time;     /* its time (ms) */
    uint64_t logged;        /* readings in the log */
    uint64_t acked_through; /* every reading up to this one has a receipt */
    uint64_t pending;       /* readings without a receipt */
    uint64_t receipts;      /* records in the receipts log */
    uint64_t log_bytes;     /* size of the readings log */
} wn_meter_counts;

void wn_meter_get_counts(const wn_meter *m, wn_meter_counts *c);

/* Rewrites the readings log keeping every unacked reading and the last reading (which
 * carries the chain state), atomically: a crash leaves either the old or the new log.
 * Returns: WN_METER_OK, WN_METER_EIO (the old log stays in use) or WN_METER_EFAILED. */
int wn_meter_compact(wn_meter *m);

#endif
