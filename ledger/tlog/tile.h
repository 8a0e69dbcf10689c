/* tile.h — C2SP tlog-tiles addressing (c2sp.org/tlog-tiles) as pure functions: which tiles
 * a tree of a given size has, and their URL paths. Shared by the node, which serves the
 * tiles, and by clients (wn audit --node) that fetch them.
 *
 * A hash tile (level L, index N) holds the hashes of the complete Merkle subtrees at tree
 * level 8L with indices 256N .. 256N+W-1 (at L = 0: leaf hashes). An entry bundle (index N)
 * holds entries 256N .. 256N+W-1, each as a big-endian u16 length and the entry bytes.
 * A tile of width W = 256 is full; 1 <= W <= 255 is a partial tile.
 *
 * Paths: "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]". L is decimal 0..63 without
 * leading zeros; N is written in zero-padded 3-digit elements, all but the last prefixed
 * with "x" (1234067 -> "x001/x234/067"); W is decimal 1..255 without leading zeros, and
 * present only for partial tiles. The parser accepts only this canonical spelling (so each
 * tile has exactly one path): no leading "x000" element, no missing padding. */
#ifndef WN_TILE_H
#define WN_TILE_H

#include <stddef.h>
#include <stdint.h>

#define WN_TILE_HEIGHT 8
#define WN_TILE_WIDTH 256            /* hashes or entries in a full tile */
#define WN_TILE_MAX_LEVEL 63         /* the spec's range of L */
#define WN_TILE_MAX_INDEX (UINT64_MAX >> WN_TILE_HEIGHT) /* largest N with 256N in u64 */
#define WN_TILE_PATH_MAX 64          /* longest path + NUL */

typedef struct {
    int entries;     /* 1: an entry bundle (tile/entries/...); 0: a hash tile */
    unsigned level;  /* L (0 for entry bundles) */
    uint64_t index;  /* N, at most WN_TILE_MAX_INDEX */
    unsigned width;  /* W: 1..255 for a partial tile, WN_TILE_WIDTH for a full one */
} wn_tile;

/* Parses a tile path starting at "tile/" (no leading slash, no query string).
 * Out: *t. Returns: 1 if path is a canonical tile path as above; 0 otherwise. */
int wn_tile_parse(const char *path, wn_tile *t);

/* Writes t's canonical path ("tile/...", no leading slash) and a NUL into out.
 * Returns: the path length; 0 if t is out of range or cap is too small
 * (WN_TILE_PATH_MAX always suffices). */
size_t wn_tile_format(char *out, size_t cap, const wn_tile *t);

/* How many hashes of hash tile (level, index) exist in a tree of size leaves, i.e. the
 * number of complete subtrees at tree level 8*level among indices 256*index ..
 * 256*index+255. For entry bundles use level 0. Returns: 0 .. WN_TILE_WIDTH. */
unsigned wn_tile_width_at(unsigned level, uint64_t index, uint64_t size);

#endif
