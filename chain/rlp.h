/* rlp.h — Ethereum's Recursive Length Prefix encoding (Yellow Paper, appendix B), as
 * needed to build and hash transactions (chain/ethtx.h), plus a strict reader of one
 * item for checking encodings.
 *
 *   byte string s, one byte < 0x80      that byte
 *   byte string, length 0..55           0x80 + length, then s
 *   byte string, longer                 0xb7 + n, the length in n big-endian bytes, then s
 *   list with payload length 0..55      0xc0 + length, then the items' encodings
 *   list, longer                        0xf7 + n, the length in n bytes, then the payload
 *
 * Integers are byte strings of their big-endian value without leading zero bytes (0 is
 * the empty string, 0x80).
 *
 * The writer fills a caller's buffer; a list's header is inserted when the list is
 * closed (its payload moved up by the header's size). Errors (no room, lists not
 * balanced) are sticky and reported by wn_rlp_finish, so a sequence of writes needs one
 * check at the end. No allocation. */
#ifndef WN_RLP_H
#define WN_RLP_H

#include <stddef.h>
#include <stdint.h>

#define WN_RLP_MAX_DEPTH 8

typedef struct {
    uint8_t *buf;
    size_t cap, len;
    size_t open[WN_RLP_MAX_DEPTH]; /* payload start of each open list */
    unsigned depth;
    int err;
} wn_rlp;

/* Starts writing into buf[0..cap). */
void wn_rlp_init(wn_rlp *r, uint8_t *buf, size_t cap);
/* A byte string. */
void wn_rlp_bytes(wn_rlp *r, const void *data, size_t len);
/* An unsigned integer (big-endian, no leading zeros). */
void wn_rlp_uint(wn_rlp *r, uint64_t v);
/* An unsigned integer given as len big-endian bytes (e.g. a 256-bit value); leading
 * zero bytes are dropped. */
void wn_rlp_uint_be(wn_rlp *r, const uint8_t *be, size_t len);
/* Opens a list (at most WN_RLP_MAX_DEPTH deep); close it with wn_rlp_list_end. */
void wn_rlp_list_begin(wn_rlp *r);
void wn_rlp_list_end(wn_rlp *r);
/* Returns: 1 if every write fitted and every list was closed; then *len (may be NULL)
 * is the encoding's length. 0 otherwise. */
int wn_rlp_finish(const wn_rlp *r, size_t *len) __attribute__((warn_unused_result));

/* One item read from an encoding. */
typedef struct {
    int is_list;
    const uint8_t *payload; /* the string's bytes, or the list's concatenated items */
    size_t len;             /* payload length */
} wn_rlp_item;

/* Reads the item at the start of p[0..len). Strict: the header must be canonical (a
 * single byte < 0x80 is never given a 0x81 header, lengths < 56 use the short form,
 * long lengths have no leading zero byte) and the payload must fit.
 * Out: *item, *used (bytes of header and payload). Returns: 1 on success. */
int wn_rlp_read(const uint8_t *p, size_t len, wn_rlp_item *item, size_t *used) __attribute__((warn_unused_result));

#endif
