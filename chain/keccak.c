/* keccak.c — Keccak-256 (Ethereum's, padding 0x01) over nettle's Keccak-f[1600]
 * permutation, and Ethereum addresses with EIP-55 checksums (see keccak.h).
 *
 * The sponge: the 200-byte state is 25 little-endian 64-bit lanes; each 136-byte block of
 * input is XORed into the first 17 lanes and the state permuted. The last block is padded
 * with 0x01, zeros, and 0x80 in its last byte (both in one byte when only one is left).
 * The digest is the first 32 bytes of the state. */
#include "chain/keccak.h"

#include <nettle/sha3.h>
#include <secp256k1.h>
#include <string.h>

#define RATE 136

_Static_assert(sizeof(struct sha3_state) == 25 * sizeof(uint64_t), "nettle's Keccak state is 25 lanes");

static void absorb(uint64_t a[25], const uint8_t block[RATE])
{
    for (size_t i = 0; i < RATE / 8; i++) {
        uint64_t lane = 0;
        for (size_t k = 0; k < 8; k++) lane |= (uint64_t)block[8 * i + k] << (8 * k);
        a[i] ^= lane;
    }
    sha3_permute((struct sha3_state *)a);
}

void wn_keccak256_init(wn_keccak_ctx *c)
{
    memset(c, 0, sizeof *c);
}

void wn_keccak256_update(wn_keccak_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t take = RATE - c->n < len ? RATE - c->n : len;
        memcpy(c->buf + c->n, p, take);
        c->n += take;
        p += take;
        len -= take;
        if (c->n == RATE) {
            absorb(c->a, c->buf);
            c->n = 0;
        }
    }
}

void wn_keccak256_final(wn_keccak_ctx *c, uint8_t out[WN_KECCAK_LEN])
{
    memset(c->buf + c->n, 0, RATE - c->n);
    c->buf[c->n] ^= 0x01;
    c->buf[RATE - 1] ^= 0x80;
    absorb(c->a, c->buf);
    for (size_t i = 0; i < WN_KECCAK_LEN; i++) out[i] = (uint8_t)(c->a[i / 8] >> (8 * (i % 8)));
    memset(c, 0, sizeof *c);
}

void wn_keccak256(uint8_t out[WN_KECCAK_LEN], const void *data, size_t len)
{
    wn_keccak_ctx c;
    wn_keccak256_init(&c);
    wn_keccak256_update(&c, data, len);
    wn_keccak256_final(&c, out);
}

void wn_eth_address_of_pub64(uint8_t addr[WN_ETH_ADDR_LEN], const uint8_t pub64[64])
{
    uint8_t h[WN_KECCAK_LEN];
    wn_keccak256(h, pub64, 64);
    memcpy(addr, h + 12, WN_ETH_ADDR_LEN);
}

int wn_eth_address_of_seckey(uint8_t addr[WN_ETH_ADDR_LEN], const uint8_t seckey[WN_SECKEY_LEN])
{
    uint8_t pub33[33], pub65[65];
    secp256k1_pubkey pk;
    size_t len = sizeof pub65;
    /* Parsing and serialising need no precomputation: the static context will do. */
    if (!wn_seckey_pub33(pub33, seckey) || !secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, pub33, 33) ||
        !secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub65, &len, &pk, SECP256K1_EC_UNCOMPRESSED))
        return 0;
    wn_eth_address_of_pub64(addr, pub65 + 1);
    return 1;
}

/* EIP-55: the i-th hex letter is upper case iff the i-th nibble of Keccak-256 of the
 * lowercase hex text (without 0x) is >= 8. */
static void checksum_case(char hex40[40])
{
    uint8_t h[WN_KECCAK_LEN];
    wn_keccak256(h, hex40, 40);
    for (size_t i = 0; i < 40; i++) {
        unsigned nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
        if (hex40[i] >= 'a' && hex40[i] <= 'f' && nib >= 8) hex40[i] = (char)(hex40[i] - 'a' + 'A');
    }
}

void wn_eth_address_format(char out[WN_ETH_ADDR_TEXT], const uint8_t addr[WN_ETH_ADDR_LEN])
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < WN_ETH_ADDR_LEN; i++) {
        out[2 + 2 * i] = digits[addr[i] >> 4];
        out[3 + 2 * i] = digits[addr[i] & 0xf];
    }
    out[42] = '\0';
    checksum_case(out + 2);
}

int wn_eth_address_parse(uint8_t addr[WN_ETH_ADDR_LEN], const char *text)
{
    if (!text) return 0;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text += 2;
    if (strlen(text) != 40) return 0;
    char lower[40];
    int upper = 0, low = 0;
    for (size_t i = 0; i < 40; i++) {
        char ch = text[i];
        if (ch >= 'A' && ch <= 'F') {
            upper = 1;
            ch = (char)(ch - 'A' + 'a');
        } else if (ch >= 'a' && ch <= 'f') {
            low = 1;
        } else if (ch < '0' || ch > '9') {
            return 0;
        }
        lower[i] = ch;
    }
    for (size_t i = 0; i < WN_ETH_ADDR_LEN; i++) {
        unsigned hi = (unsigned)(lower[2 * i] <= '9' ? lower[2 * i] - '0' : lower[2 * i] - 'a' + 10);
        unsigned lo = (unsigned)(lower[2 * i + 1] <= '9' ? lower[2 * i + 1] - '0' : lower[2 * i + 1] - 'a' + 10);
        addr[i] = (uint8_t)(hi << 4 | lo);
    }
    if (upper && low) { /* mixed case: must be the EIP-55 spelling */
        char want[40];
        memcpy(want, lower, 40);
        checksum_case(want);
        if (memcmp(want, text, 40) != 0) return 0;
    }
    return 1;
}
