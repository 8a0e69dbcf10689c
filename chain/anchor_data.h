/* anchor_data.h — what an anchoring transaction carries (docs/PROTOCOL.md §15): the data
 * field that commits a checkpoint to a blockchain, written by the node's anchoring thread
 * and read by `wn verify-anchor` and `wn anchors`.
 *
 *   offset  size  field
 *   0       4     magic, ASCII "WNA1"
 *   4       32    SHA-256 of the checkpoint's origin line (its UTF-8 bytes, no newline)
 *   36      8     tree size, u64 big-endian
 *   44      32    root hash
 *   = 76 bytes, nothing after.
 *
 * The transaction is sent by the anchoring key's address to that same address, value 0. */
#ifndef WN_ANCHOR_DATA_H
#define WN_ANCHOR_DATA_H

#include <stddef.h>
#include <stdint.h>

#define WN_ANCHOR_MAGIC "WNA1"
#define WN_ANCHOR_DATA_LEN 76

typedef struct {
    uint8_t origin_hash[32];
    uint64_t size;
    uint8_t root[32];
} wn_anchor_data;

/* Writes the data field committing to (origin, size, root). */
void wn_anchor_data_encode(uint8_t out[WN_ANCHOR_DATA_LEN], const char *origin, uint64_t size,
                           const uint8_t root[32]);

/* Returns: 1 if data[0..len) starts with the magic (a transaction meant as an anchor). */
int wn_anchor_data_is_anchor(const uint8_t *data, size_t len);

/* Reads an anchor's data field: exactly WN_ANCHOR_DATA_LEN bytes with the magic.
 * Out: *a. Returns: 1 on success. */
int wn_anchor_data_decode(const uint8_t *data, size_t len, wn_anchor_data *a) __attribute__((warn_unused_result));

/* Returns: 1 if a commits to (origin, size, root). */
int wn_anchor_data_matches(const wn_anchor_data *a, const char *origin, uint64_t size, const uint8_t root[32]);

#endif
