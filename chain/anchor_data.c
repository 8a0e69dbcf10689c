/* anchor_data.c — the data field of anchoring transactions (see anchor_data.h). */
#include "chain/anchor_data.h"

#include <string.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

void wn_anchor_data_encode(uint8_t out[WN_ANCHOR_DATA_LEN], const char *origin, uint64_t size,
                           const uint8_t root[32])
{
    memcpy(out, WN_ANCHOR_MAGIC, 4);
    wn_sha256(out + 4, origin, strlen(origin));
    wn_put_u64(out + 36, size);
    memcpy(out + 44, root, 32);
}

int wn_anchor_data_is_anchor(const uint8_t *data, size_t len)
{
    return len >= 4 && memcmp(data, WN_ANCHOR_MAGIC, 4) == 0;
}

int wn_anchor_data_decode(const uint8_t *data, size_t len, wn_anchor_data *a)
{
    if (len != WN_ANCHOR_DATA_LEN || !wn_anchor_data_is_anchor(data, len)) return 0;
    memcpy(a->origin_hash, data + 4, 32);
    a->size = wn_get_u64(data + 36);
    memcpy(a->root, data + 44, 32);
    return 1;
}

int wn_anchor_data_matches(const wn_anchor_data *a, const char *origin, uint64_t size, const uint8_t root[32])
{
    uint8_t h[32];
    wn_sha256(h, origin, strlen(origin));
    return memcmp(h, a->origin_hash, 32) == 0 && a->size == size && memcmp(a->root, root, 32) == 0;
}
