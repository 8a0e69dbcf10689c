/* fuzz_rlp.c — libFuzzer target for what anchoring reads from strangers: RLP (chain/rlp.c),
 * Ethereum addresses (chain/keccak.c) and anchor data fields (chain/anchor_data.c).
 * Invariants: no crash or out-of-bounds read; RLP the strict reader accepts is canonical,
 * so writing the item tree it read back with the writer gives exactly the input; an
 * address that parses formats (EIP-55) to a spelling that parses to the same bytes; anchor
 * data that decodes re-encodes to the same bytes when its origin hash matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/keccak.h"
#include "chain/rlp.h"
#include "chain/anchor_data.h"

/* Reads one item from p and writes it again into w. Returns: bytes read, 0 if refused. */
static size_t copy_item(const uint8_t *p, size_t len, wn_rlp *w, int depth)
{
    wn_rlp_item it;
    size_t used;
    if (!wn_rlp_read(p, len, &it, &used)) return 0;
    if (used > len || (it.len && (it.payload < p || it.payload + it.len > p + used))) abort();
    if (!it.is_list) {
        wn_rlp_bytes(w, it.payload, it.len);
        return used;
    }
    if (depth == WN_RLP_MAX_DEPTH) return 0;
    wn_rlp_list_begin(w);
    for (size_t off = 0; off < it.len;) {
        size_t n = copy_item(it.payload + off, it.len - off, w, depth + 1);
        if (!n) return 0;
        off += n;
    }
    wn_rlp_list_end(w);
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* so that reads past the end are caught */
    if (!copy) return 0;
    memcpy(copy, data, size);

    uint8_t *out = malloc(size + 16);
    if (out) {
        wn_rlp w;
        wn_rlp_init(&w, out, size + 16);
        size_t used = copy_item(copy, size, &w, 0);
        size_t len;
        if (used && wn_rlp_finish(&w, &len) && (len != used || memcmp(out, copy, used) != 0)) abort();
        free(out);
    }

    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, copy, n);
    text[n] = '\0';
    uint8_t addr[WN_ETH_ADDR_LEN], again[WN_ETH_ADDR_LEN];
    if (wn_eth_address_parse(addr, text)) {
        char f[WN_ETH_ADDR_TEXT];
        wn_eth_address_format(f, addr);
        if (!wn_eth_address_parse(again, f) || memcmp(addr, again, sizeof addr) != 0) abort();
    }

    wn_anchor_data a;
    if (wn_anchor_data_decode(copy, size, &a)) {
        if (size != WN_ANCHOR_DATA_LEN) abort();
        uint8_t buf[WN_ANCHOR_DATA_LEN];
        wn_anchor_data_encode(buf, "", a.size, a.root);
        if (memcmp(buf, copy, 4) != 0 || memcmp(buf + 36, copy + 36, 40) != 0) abort();
    }
    free(copy);
    return 0;
}
