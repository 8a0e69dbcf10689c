/* receipt.h — the notary's signed receipt for an accepted entry (docs/PROTOCOL.md §6).
 *
 * Version 1 (one signature per entry, 113 bytes):
 *   0  1  version 0x01
 *   1  8  ledger index
 *   9  32 leaf hash of the entry
 *   41 8  time accepted (ms since epoch)
 *   49 64 BIP-340 signature by the notary over tagged_hash(WN_TAG_RECEIPT, bytes[0..49))
 *
 * Version 2 (one signature per group commit): a *receipt head* the committer signs once
 * for the whole commit, then the entry's index, leaf and Merkle path inside the commit:
 *   0     1   version 0x02
 *   1     1   origin length L (1..255)
 *   2     L   origin (the checkpoint origin, printable ASCII)
 *   2+L   8   first index of the commit
 *   10+L  8   count of entries in the commit (>= 1)
 *   18+L  32  commit root: RFC 6962 MTH of the leaves [first, first+count)
 *   50+L  8   commit time (ms since epoch)
 *   58+L  8   tree size after the commit (= first + count)
 *   66+L  64  BIP-340 signature over tagged_hash(WN_TAG_RECEIPT_HEAD, bytes[0..66+L))
 *   130+L 8   ledger index of the entry (first <= index < first + count)
 *   138+L 32  leaf hash of the entry
 *   170+L 1   path length n (exactly the RFC 6962 inclusion proof length for
 *             (index - first, count))
 *   171+L 32n the inclusion path of the leaf in the commit's tree, leaf's sibling first
 */
#ifndef WN_RECEIPT_H
#define WN_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"

#define WN_TAG_RECEIPT_HEAD "WaterNotary/receipt-head/v1"

#define WN_RECEIPT_LEN 113            /* a version 1 receipt */
#define WN_RECEIPT_ORIGIN_MAX 255
#define WN_RECEIPT_PATH_MAX 63        /* commits hold fewer than 2^63 entries */
#define WN_RECEIPT_HEAD_MAX (130 + WN_RECEIPT_ORIGIN_MAX)
#define WN_RECEIPT_MAX_LEN (WN_RECEIPT_HEAD_MAX + 41 + 32 * WN_RECEIPT_PATH_MAX) /* 2442 */
#define WN_RECEIPT_JSON_MAX 5120

/* The signed head of one group commit (version 2). */
typedef struct {
    uint8_t origin_len;
    char origin[WN_RECEIPT_ORIGIN_MAX + 1]; /* NUL-terminated */
    uint64_t first, count;
    uint8_t root[32];
    uint64_t time_ms;
    uint64_t tree_size;
    uint8_t sig[WN_SIG_LEN];
} wn_receipt_head;

/* A receipt of either version. version is 1 or 2; a zero-initialised receipt is treated as
 * version 1 (older callers fill index, leaf, time_ms and sign). */
typedef struct {
    uint8_t version;
    uint64_t index;
    uint8_t leaf[32];
    uint64_t time_ms;          /* v1: time accepted; v2: a copy of head.time_ms */
    uint8_t sig[WN_SIG_LEN];   /* v1 only */
    wn_receipt_head head;      /* v2 only */
    uint8_t path_len;          /* v2 only */
    uint8_t path[WN_RECEIPT_PATH_MAX][32];
} wn_receipt;

/* Why a receipt does not verify. */
enum wn_receipt_err {
    WN_RECEIPT_OK = 0,
    WN_RECEIPT_ESIG,   /* the (head) signature does not verify with the notary key */
    WN_RECEIPT_EHEAD,  /* v2: head fields inconsistent (count 0, tree size != first + count, index outside) */
    WN_RECEIPT_EPATH,  /* v2: the path does not lead from the leaf to the commit root */
};
const char *wn_receipt_strerror(int err);

/* Signs (index, leaf, time) with the notary key as a version 1 receipt. Receipts are
 * deterministic: BIP-340 with an all-zero auxiliary input, so the same (index, leaf, time)
 * always gives the same bytes and a resent reading gets back exactly its original receipt.
 * Returns: 1 on success. */
int wn_receipt_sign(wn_receipt *r, const uint8_t notary_seckey[WN_SECKEY_LEN]) WN_WARN_UNUSED;
/* The same with a prepared signer. */
int wn_receipt_sign_with(wn_receipt *r, const wn_signer *notary) WN_WARN_UNUSED;

/* Signs a version 2 head (deterministically, as above). origin, first, count, root,
 * time_ms and tree_size must be set. Returns: 1 on success. */
int wn_receipt_head_sign(wn_receipt_head *h, const wn_signer *notary) WN_WARN_UNUSED;
/* The head's signed bytes (without the signature). Out: at most WN_RECEIPT_HEAD_MAX - 64
 * bytes. Returns: their length. */
size_t wn_receipt_head_bytes(const wn_receipt_head *h, uint8_t *out);
/* Returns: 1 if the head's signature verifies with the notary key. */
int wn_receipt_head_verify(const wn_receipt_head *h, const uint8_t notary_xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Full check of either version: v1 the signature; v2 the head's consistency, the path of
 * leaf at index to the commit root, and the head's signature.
 * Returns: WN_RECEIPT_OK or why not. */
int wn_receipt_check(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;
/* Returns: 1 if wn_receipt_check says WN_RECEIPT_OK. */
int wn_receipt_verify(const wn_receipt *r, const uint8_t notary_xonly[WN_XONLY_LEN]) WN_WARN_UNUSED;

/* Binary form. out must hold WN_RECEIPT_MAX_LEN bytes (WN_RECEIPT_LEN for version 1).
 * Returns: the length written. */
size_t wn_receipt_encode(const wn_receipt *r, uint8_t *out);
/* Returns: 1 if in is exactly one receipt of version 1 or 2 (every length checked). */
int wn_receipt_decode(wn_receipt *r, const uint8_t *in, size_t len) WN_WARN_UNUSED;

/* JSON; v1 {"index":n,"leaf":hex,"time":rfc3339,"sig":hex}; v2 {"version":2,"origin":s,
 * "first":n,"count":n,"root":hex,"time":rfc3339,"size":n,"sig":hex,"index":n,"leaf":hex,
 * "path":[hex,...]}; NUL-terminated. Returns: length, 0 if cap too small. */
size_t wn_receipt_to_json(const wn_receipt *r, char *out, size_t cap);
/* Parses either JSON form strictly (a cJSON object passed as void *). Returns: 1 on success. */
int wn_receipt_from_cjson(wn_receipt *r, const void *cjson_obj) WN_WARN_UNUSED;

/* Leaf hash of a reading entry in the untimed form: SHA-256(0x00 || 0x01 || reading bytes). */
void wn_reading_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len);
/* Leaf hash of a reading entry in the timed form (PROTOCOL §3): SHA-256(0x00 || 0x81 ||
 * u64 commit_ms || u8 marks || reading bytes). */
void wn_reading_timed_leaf_hash(uint8_t leaf[32], const uint8_t *reading, size_t len, uint64_t commit_ms,
                                uint8_t marks);
/* Returns: 1 if r->leaf is the leaf of this reading's entry: the timed form committed at
 * the receipt's time (r->time_ms is the commit time the entry carries), marked late or not
 * (the late window is the node's, not the meter's), or the untimed form of ledgers written
 * before commit times. In: reading bytes[0..len). */
int wn_receipt_is_for_reading(const wn_receipt *r, const uint8_t *reading, size_t len) WN_WARN_UNUSED;

/* The RFC 6962 inclusion proof length for leaf index m in a tree of n leaves (m < n). */
unsigned wn_receipt_path_len(uint64_t m, uint64_t n);

#endif
