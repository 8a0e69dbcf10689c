/* ethtx.c — EIP-155 legacy and EIP-1559 transactions: RLP encodings, recoverable ECDSA
 * signatures through libsecp256k1 (secp256k1_recovery.h) and sender recovery (see ethtx.h). */
#include "chain/ethtx.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "chain/rlp.h"

static secp256k1_context *g_ctx; /* signing context, created once */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ctx_init(void)
{
    g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
}

/* The fields every kind has, in its own order. */
static void common_fields(wn_rlp *r, const wn_ethtx *tx)
{
    if (tx->type == WN_ETHTX_EIP1559) {
        wn_rlp_uint(r, tx->chain_id);
        wn_rlp_uint(r, tx->nonce);
        wn_rlp_uint(r, tx->max_priority_fee);
        wn_rlp_uint(r, tx->max_fee);
    } else {
        wn_rlp_uint(r, tx->nonce);
        wn_rlp_uint(r, tx->gas_price);
    }
    wn_rlp_uint(r, tx->gas_limit);
    wn_rlp_bytes(r, tx->to, tx->has_to ? WN_ETH_ADDR_LEN : 0);
    wn_rlp_uint_be(r, tx->value, 32);
    wn_rlp_bytes(r, tx->data, tx->data_len);
    if (tx->type == WN_ETHTX_EIP1559) {
        wn_rlp_list_begin(r); /* the access list: always empty */
        wn_rlp_list_end(r);
    }
}

static int supported(const wn_ethtx *tx)
{
    return (tx->type == WN_ETHTX_LEGACY || tx->type == WN_ETHTX_EIP1559) && tx->data_len <= WN_ETHTX_DATA_MAX &&
           (tx->data || tx->data_len == 0);
}

/* Encodes the unsigned (sig == NULL) or signed transaction. Returns: 1 on success. */
static int encode(const wn_ethtx *tx, const wn_ethsig *sig, uint8_t *out, size_t cap, size_t *len)
{
    if (!supported(tx) || cap < 1) return 0;
    size_t off = 0;
    if (tx->type == WN_ETHTX_EIP1559) out[off++] = 0x02;
    wn_rlp r;
    wn_rlp_init(&r, out + off, cap - off);
    wn_rlp_list_begin(&r);
    common_fields(&r, tx);
    if (sig) {
        if (tx->type == WN_ETHTX_EIP1559) wn_rlp_uint(&r, sig->y_parity);
        else if (tx->chain_id) wn_rlp_uint(&r, tx->chain_id * 2 + 35 + sig->y_parity);
        else wn_rlp_uint(&r, 27 + sig->y_parity);
        wn_rlp_uint_be(&r, sig->r, 32);
        wn_rlp_uint_be(&r, sig->s, 32);
    } else if (tx->type == WN_ETHTX_LEGACY && tx->chain_id) {
        wn_rlp_uint(&r, tx->chain_id); /* EIP-155: chainId, 0, 0 */
        wn_rlp_uint(&r, 0);
        wn_rlp_uint(&r, 0);
    }
    wn_rlp_list_end(&r);
    size_t n;
    if (!wn_rlp_finish(&r, &n)) return 0;
    *len = off + n;
    return 1;
}

int wn_ethtx_signing_hash(const wn_ethtx *tx, uint8_t hash[WN_KECCAK_LEN])
{
    uint8_t buf[WN_ETHTX_MAX];
    size_t len;
    if (tx->chain_id > (UINT64_MAX - 36) / 2 || !encode(tx, NULL, buf, sizeof buf, &len)) return 0;
    wn_keccak256(hash, buf, len);
    return 1;
}

int wn_ethtx_sign(const wn_ethtx *tx, const uint8_t seckey[WN_SECKEY_LEN], wn_ethsig *sig)
{
    uint8_t h[WN_KECCAK_LEN], compact[64];
    secp256k1_ecdsa_recoverable_signature rs;
    int recid = 0;
    if (!wn_ethtx_signing_hash(tx, h)) return 0;
    pthread_once(&g_once, ctx_init);
    /* RFC 6979 nonces (the default); libsecp256k1 always produces low-S signatures. */
    if (!g_ctx || !secp256k1_ecdsa_sign_recoverable(g_ctx, &rs, h, seckey, NULL, NULL) ||
        !secp256k1_ecdsa_recoverable_signature_serialize_compact(secp256k1_context_static, compact, &recid, &rs))
        return 0;
    memcpy(sig->r, compact, 32);
    memcpy(sig->s, compact + 32, 32);
    sig->y_parity = (unsigned)recid;
    return 1;
}

int wn_ethtx_encode_signed(const wn_ethtx *tx, const wn_ethsig *sig, uint8_t *out, size_t cap, size_t *len,
                           uint8_t hash[WN_KECCAK_LEN])
{
    if (sig->y_parity > 1 || tx->chain_id > (UINT64_MAX - 36) / 2 || !encode(tx, sig, out, cap, len)) return 0;
    if (hash) wn_keccak256(hash, out, *len);
    return 1;
}

int wn_ethtx_recover(const wn_ethtx *tx, const wn_ethsig *sig, uint8_t from[WN_ETH_ADDR_LEN])
{
    uint8_t h[WN_KECCAK_LEN], compact[64], pub65[65];
    secp256k1_ecdsa_recoverable_signature rs;
    secp256k1_ecdsa_signature plain;
    secp256k1_pubkey pk;
    size_t len = sizeof pub65;
    if (sig->y_parity > 1 || !wn_ethtx_signing_hash(tx, h)) return 0;
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    const secp256k1_context *c = secp256k1_context_static;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, compact, (int)sig->y_parity)) return 0;
    /* EIP-2: s must be in the lower half; normalize reports (and fixes) a high s. */
    if (!secp256k1_ecdsa_recoverable_signature_convert(c, &plain, &rs) ||
        secp256k1_ecdsa_signature_normalize(c, NULL, &plain))
        return 0;
    if (!secp256k1_ecdsa_recover(c, &pk, &rs, h) ||
        !secp256k1_ec_pubkey_serialize(c, pub65, &len, &pk, SECP256K1_EC_UNCOMPRESSED))
        return 0;
    wn_eth_address_of_pub64(from, pub65 + 1);
    return 1;
}

int wn_ethtx_legacy_v(uint64_t v, uint64_t *chain_id, unsigned *y_parity)
{
    if (v == 27 || v == 28) {
        *chain_id = 0;
        *y_parity = (unsigned)(v - 27);
        return 1;
    }
    if (v < 35) return 0;
    *chain_id = (v - 35) / 2;
    *y_parity = (unsigned)((v - 35) % 2);
    return 1;
}
