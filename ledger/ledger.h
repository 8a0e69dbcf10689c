/* ledger.h — WaterNotary's append-only ledger on LMDB: what it stores and promises.
 *
 * One LMDB environment (a directory) holds, for every entry in order:
 *   - the entry bytes (opaque here; see entry.h for what the node puts in them),
 *   - its RFC 6962 leaf hash SHA-256(0x00 || entry) and every complete Merkle subtree
 *     hash that the entry completes (see merkle.h), so roots and proofs take O(log n) reads,
 *   - a running chain hash: chain[i] = SHA-256(chain[i-1] || leaf[i]), chain[-1] = 32 zeros;
 * plus an index (meter id, sequence) -> entry index with each meter's last sequence,
 * and the signed checkpoints (by tree size). The byte layout is in docs/PROTOCOL.md.
 *
 * DURABILITY: wn_ledger_append writes a whole batch in one LMDB write transaction and
 * returns WN_LEDGER_OK only after mdb_txn_commit has returned 0, which (LMDB's default
 * sync mode, used here) means the data and meta pages have been fsync'd: everything in
 * that batch survives a crash or power cut from then on. A batch whose call has not
 * returned is either wholly present or wholly absent after a crash — never partly.
 * wn_ledger_put_checkpoint is durable on return in the same way.
 *
 * CONCURRENCY: one writer at a time (calls to append/put_checkpoint are serialised by
 * the caller or by LMDB's write lock); any number of threads may read concurrently
 * with the writer, and readers see only committed batches.
 *
 * All functions return WN_LEDGER_OK (0) or a wn_ledger_err; wn_ledger_strerror names it. */
#ifndef WN_LEDGER_H
#define WN_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/tlog/merkle.h"

typedef struct wn_ledger wn_ledger;

enum wn_ledger_err {
    WN_LEDGER_OK = 0,
    WN_LEDGER_EIO,       /* LMDB or the file system failed; see errno / logs */
    WN_LEDGER_ECORRUPT,  /* stored data is inconsistent (bad lengths, missing hashes) */
    WN_LEDGER_EEXISTS,   /* (meter, sequence) is already in the index: batch not written */
    WN_LEDGER_ENOTFOUND, /* no such entry, index key or checkpoint */
    WN_LEDGER_ERANGE,    /* index or size beyond the tree */
    WN_LEDGER_EINVAL,    /* bad argument (empty entry, zero-length batch, ...) */
    WN_LEDGER_EFULL,     /* the LMDB map is full */
    WN_LEDGER_EVERSION,  /* the directory holds an unknown ledger format version */
    WN_LEDGER_ESPACE,    /* caller's buffer too small */
    WN_LEDGER_ERDONLY,   /* write to a ledger opened read-only */
    WN_LEDGER_ETRUNCATED /* data.mdb is shorter than its LMDB meta page says, or has no valid
                            meta page (lmdb_file.h): refused before it is mapped */
};

const char *wn_ledger_strerror(int err);

#define WN_LEDGER_RDONLY 1u /* open without write access (audits of copied files) */

/* Opens (creating if absent and not read-only) the ledger in directory dir.
 * Out: *out. Returns: WN_LEDGER_OK or an error. */
int wn_ledger_open(wn_ledger **out, const char *dir, unsigned flags);
void wn_ledger_close(wn_ledger *l);

/* One entry to append. meter == NULL: the entry is not indexed by (meter, sequence). */
typedef struct {
    const uint8_t *data;
    size_t len;          /* 1 .. WN_LEDGER_MAX_ENTRY */
    const uint8_t *meter; /* 32 bytes or NULL */
    uint64_t seq;
} wn_ledger_item;

#define WN_LEDGER_MAX_ENTRY (1u << 20)

/* Appends items[0..n) in order as one durable transaction (see DURABILITY).
 * Out: *first (may be NULL), the index given to items[0]; the rest follow.
 * If any (meter, seq) is already indexed, nothing is written and WN_LEDGER_EEXISTS
 * is returned with *bad (may be NULL) set to the offending item's position. */
int wn_ledger_append(wn_ledger *l, const wn_ledger_item *items, size_t n, uint64_t *first, size_t *bad);

/* Number of entries (the current tree size). */
int wn_ledger_size(wn_ledger *l, uint64_t *size);

/* Root of the tree of the first size entries. */
int wn_ledger_root(wn_ledger *l, uint64_t size, uint8_t root[32]);

/* Copies entry index into buf[0..cap). Out: *len; leaf and chain (each may be NULL). */
int wn_ledger_get(wn_ledger *l, uint64_t index, uint8_t *buf, size_t cap, size_t *len,
                  uint8_t leaf[32], uint8_t chain[32]);

/* Looks up (meter, seq). Out: *index. */
int wn_ledger_find(wn_ledger *l, const uint8_t meter[32], uint64_t seq, uint64_t *index);

/* A meter's last indexed sequence and that entry's index. WN_LEDGER_ENOTFOUND if none. */
int wn_ledger_meter_last(wn_ledger *l, const uint8_t meter[32], uint64_t *seq, uint64_t *index);

/* Inclusion proof of entry index in the tree of size entries. */
int wn_ledger_prove_inclusion(wn_ledger *l, uint64_t index, uint64_t size,
                              uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len);

/* Consistency proof from size m to size n (0 < m <= n <= current size). */
int wn_ledger_prove_consistency(wn_ledger *l, uint64_t m, uint64_t n,
                                uint8_t proof[WN_MERKLE_MAX_PROOF][32], size_t *len);

/* Stores a signed checkpoint note for tree size `size` (durable on return). Replacing
 * the checkpoint of a size already stored is allowed only with identical text. */
int wn_ledger_put_checkpoint(wn_ledger *l, uint64_t size, const char *note, size_t len);

/* Copies the checkpoint for `size` (or the latest one when size == 0) into buf (NUL-
 * terminated, so cap must exceed the note length). Out: *len, *found_size (may be NULL). */
int wn_ledger_get_checkpoint(wn_ledger *l, uint64_t size, char *buf, size_t cap, size_t *len,
                             uint64_t *found_size);

/* Calls fn for each entry index in [from, to) in order, with the entry bytes, leaf hash
 * and chain hash as stored (valid only during the call). fn returns 0 to continue, or a
 * non-zero value that stops the walk and is returned. One read transaction throughout. */
typedef int (*wn_ledger_visit)(void *ctx, uint64_t index, const uint8_t *entry, size_t len,
                               const uint8_t leaf[32], const uint8_t chain[32]);
int wn_ledger_iterate(wn_ledger *l, uint64_t from, uint64_t to, wn_ledger_visit fn, void *ctx);

/* Calls fn for each stored checkpoint in ascending size order (note valid during call). */
typedef int (*wn_ledger_cp_visit)(void *ctx, uint64_t size, const char *note, size_t len);
int wn_ledger_iterate_checkpoints(wn_ledger *l, wn_ledger_cp_visit fn, void *ctx);

/* A wn_hash_reader over the committed ledger, for callers that run merkle.h functions
 * themselves (e.g. audits). Opens a read transaction that lasts until
 * wn_ledger_reader_end. */
typedef struct wn_ledger_reader wn_ledger_reader;
int wn_ledger_reader_begin(wn_ledger *l, wn_ledger_reader **out);
int wn_ledger_reader_hash(void *reader, unsigned level, uint64_t index, uint8_t out[32]);
void wn_ledger_reader_end(wn_ledger_reader *r);

/* The ledger format this program reads and writes (stored in every ledger; a ledger of
 * another format is refused with WN_LEDGER_EVERSION: ledger_format.c). */
uint32_t wn_ledger_format_current(void);
/* Reads the format of the ledger in dir without opening it as a ledger. Out: *format.
 * Returns: WN_LEDGER_OK; WN_LEDGER_ENOTFOUND if dir holds no format record (another LMDB
 * database); WN_LEDGER_ECORRUPT if the record is malformed; WN_LEDGER_EIO. */
int wn_ledger_format_of(const char *dir, uint32_t *format);
/* After WN_LEDGER_EVERSION: one sentence saying exactly why (newer format: upgrade; older:
 * no conversion; not a ledger) into out. */
void wn_ledger_version_problem(const char *dir, char *out, size_t cap);

#endif
