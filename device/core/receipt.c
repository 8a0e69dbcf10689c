/* receipt.c — the notary's receipts checked on the meter (PROTOCOL §6): version 2 (the
 * signed head of a group commit and the reading's RFC 6962 inclusion path in that commit)
 * and version 1 (one signature per entry). The order of checks is the protocol's: head,
 * path, signature, leaf. The notary signs with BIP-340, verified through the port. */
#include "device/core/core_int.h"

void wn_core_leaf_hash(const wn_port *port, uint8_t leaf[32], const uint8_t *reading, size_t len)
{
    static const uint8_t prefix[2] = {0x00, 0x01}; /* RFC 6962 leaf, entry type reading */
    wn_port_buf parts[2] = {{prefix, 2}, {reading, len}};
    port->sha256(port->ctx, leaf, parts, 2);
}

void wn_core_timed_leaf_hash(const wn_port *port, uint8_t leaf[32], const uint8_t *reading, size_t len,
                             uint64_t commit_ms, uint8_t marks)
{
    uint8_t prefix[11] = {0x00, 0x81}; /* RFC 6962 leaf, timed reading (0x80 | 0x01) */
    wn_core_put64(prefix + 2, commit_ms);
    prefix[10] = marks;
    wn_port_buf parts[2] = {{prefix, 11}, {reading, len}};
    port->sha256(port->ctx, leaf, parts, 2);
}

static void node_hash(const wn_port *port, uint8_t out[32], const uint8_t *l, const uint8_t *r)
{
    static const uint8_t one = 0x01;
    wn_port_buf parts[3] = {{&one, 1}, {l, 32}, {r, 32}};
    port->sha256(port->ctx, out, parts, 3);
}

/* RFC 9162 §2.1.3.2: the leaf at index in a tree of size leaves, with path[0..n). */
static int path_ok(const wn_port *port, uint64_t index, uint64_t size, const uint8_t *leaf, const uint8_t *path,
                   unsigned n, const uint8_t root[32])
{
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    wn_core_memcpy(r, leaf, 32);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = path + 32 * i;
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            node_hash(port, r, p, r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) { fn >>= 1; sn >>= 1; }
        } else {
            node_hash(port, r, r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && wn_core_memcmp(r, root, 32) == 0;
}

int wn_core_receipt_verify(const wn_port *port, const uint8_t *b, size_t len, const uint8_t notary[32],
                           const uint8_t leaf32[32], uint64_t *index)
{
    uint8_t msg[32];
    if (!b || len < 1) return WN_CORE_ERECEIPT;
    if (b[0] == 1) {
        if (len != 113) return WN_CORE_ERECEIPT;
        wn_core_tagged_hash(port, msg, "WaterNotary/receipt/v1", b, 49);
        if (!port->verify_bip340(port->ctx, b + 49, msg, notary)) return WN_CORE_ESIG;
        if (wn_core_memcmp(b + 9, leaf32, 32) != 0) return WN_CORE_ELEAF;
        if (index) *index = wn_core_get64(b + 1);
        return WN_CORE_OK;
    }
    if (b[0] != 2 || len < 2) return WN_CORE_ERECEIPT;
    size_t L = b[1];
    if (L == 0 || len < 171 + L) return WN_CORE_ERECEIPT;
    for (size_t i = 0; i < L; i++)
        if (b[2 + i] < 0x21 || b[2 + i] > 0x7e) return WN_CORE_ERECEIPT;
    const uint8_t *h = b + 2 + L;
    uint64_t first = wn_core_get64(h), count = wn_core_get64(h + 8), size = wn_core_get64(h + 56);
    const uint8_t *root = h + 16, *sig = h + 64;
    const uint8_t *t = b + 130 + L;
    uint64_t idx = wn_core_get64(t);
    const uint8_t *leaf = t + 8;
    unsigned n = t[40];
    if (n > 63 || len != 171 + L + 32 * (size_t)n) return WN_CORE_ERECEIPT;
    /* 1. head: count >= 1, size = first + count (no overflow), first <= index < size */
    if (count == 0 || first + count < first || size != first + count || idx < first || idx >= size)
        return WN_CORE_ERECEIPT;
    /* 2. path from the leaf to the commit root */
    if (!path_ok(port, idx - first, count, leaf, t + 41, n, root)) return WN_CORE_EPATH;
    /* 3. the notary's signature of the head */
    wn_core_tagged_hash(port, msg, "WaterNotary/receipt-head/v1", b, 66 + L);
    if (!port->verify_bip340(port->ctx, sig, msg, notary)) return WN_CORE_ESIG;
    /* 4. the leaf is this reading's */
    if (wn_core_memcmp(leaf, leaf32, 32) != 0) return WN_CORE_ELEAF;
    if (index) *index = idx;
    return WN_CORE_OK;
}

int wn_core_receipt_verify_reading(const wn_port *port, const uint8_t *b, size_t rlen, const uint8_t notary[32],
                                   const uint8_t *reading, size_t len, uint64_t *index)
{
    uint8_t leaf[32];
    /* the receipt's commit time and leaf, where its format puts them (checked in full by
     * wn_core_receipt_verify below) */
    const uint8_t *t = 0, *l = 0;
    if (b && rlen == 113 && b[0] == 1) t = b + 41, l = b + 9;
    else if (b && rlen >= 2 && b[0] == 2 && rlen >= 171 + (size_t)b[1]) t = b + 2 + b[1] + 48, l = b + 130 + b[1] + 8;
    if (t) {
        for (unsigned marks = 0; marks <= 1; marks++) { /* marks bit 0: late */
            wn_core_timed_leaf_hash(port, leaf, reading, len, wn_core_get64(t), (uint8_t)marks);
            if (wn_core_memcmp(leaf, l, 32) == 0) return wn_core_receipt_verify(port, b, rlen, notary, leaf, index);
        }
    }
    wn_core_leaf_hash(port, leaf, reading, len);
    return wn_core_receipt_verify(port, b, rlen, notary, leaf, index);
}
