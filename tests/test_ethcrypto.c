/* test_ethcrypto.c — known answers for the Ethereum primitives of anchoring: Keccak-256
 * (chain/keccak.c, not SHA-3), EIP-55 addresses, RLP (chain/rlp.c, the Ethereum wiki's
 * examples) and transactions (chain/ethtx.c: the EIP-155 example from the EIP itself,
 * EIP-1559 signing and sender recovery, tampering). */
#include <criterion/criterion.h>

#include <string.h>

#include "crypto/encoding.h"
#include "chain/ethtx.h"
#include "chain/keccak.h"
#include "chain/rlp.h"

static void unhex(uint8_t *out, size_t len, const char *hex)
{
    cr_assert(wn_hex_decode(out, len, hex, strlen(hex)), "bad constant %s", hex);
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
    char h[2 * 2048 + 1];
    cr_assert(len <= 2048);
    wn_hex_encode(h, got, len);
    cr_assert_str_eq(h, want);
}

/* ---------- Keccak-256 ---------- */

Test(keccak, known_answers)
{
    uint8_t d[32];
    wn_keccak256(d, "", 0);
    assert_hex(d, 32, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    wn_keccak256(d, "abc", 3);
    assert_hex(d, 32, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    wn_keccak256(d, fox, strlen(fox));
    assert_hex(d, 32, "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
    /* Solidity function selectors are the first 4 bytes of Keccak-256 of the signature. */
    wn_keccak256(d, "transfer(address,uint256)", 25);
    assert_hex(d, 4, "a9059cbb");
    /* Not NIST SHA3-256(""), which is a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a. */
    wn_keccak256(d, "", 0);
    cr_assert(d[0] != 0xa7);
}

Test(keccak, incremental_equals_one_shot_across_block_boundaries)
{
    uint8_t msg[700], one[32], inc[32];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
    static const size_t lens[] = {0, 1, 135, 136, 137, 271, 272, 273, 500, 700};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        size_t n = lens[k];
        wn_keccak256(one, msg, n);
        for (size_t split = 0; split <= n; split += (n / 5) + 1) {
            wn_keccak_ctx c;
            wn_keccak256_init(&c);
            wn_keccak256_update(&c, msg, split);
            wn_keccak256_update(&c, msg + split, n - split);
            wn_keccak256_final(&c, inc);
            cr_assert(memcmp(one, inc, 32) == 0, "length %zu split %zu", n, split);
        }
        if (n) { /* every input bit matters */
            msg[n - 1] ^= 1;
            wn_keccak256(inc, msg, n);
            msg[n - 1] ^= 1;
            cr_assert(memcmp(one, inc, 32) != 0);
        }
    }
}

/* ---------- addresses ---------- */

Test(address, anvil_first_development_key)
{
    uint8_t sk[32], addr[20];
    char text[WN_ETH_ADDR_TEXT];
    unhex(sk, 32, "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    cr_assert(wn_eth_address_of_seckey(addr, sk));
    wn_eth_address_format(text, addr);
    cr_assert_str_eq(text, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    uint8_t zero[32] = {0};
    cr_assert_not(wn_eth_address_of_seckey(addr, zero));
}

Test(address, eip55_examples_and_strict_parsing)
{
    static const char *const good[] = {
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint8_t a[20];
        char text[WN_ETH_ADDR_TEXT];
        cr_assert(wn_eth_address_parse(a, good[i]), "%s", good[i]);
        wn_eth_address_format(text, a);
        cr_assert_str_eq(text, good[i]);
        /* all lower or all upper case carries no checksum and is accepted */
        char low[43], up[43];
        for (size_t k = 0; k < 43; k++) {
            low[k] = (char)(good[i][k] >= 'A' && good[i][k] <= 'F' ? good[i][k] + 32 : good[i][k]);
            up[k] = (char)(k >= 2 && good[i][k] >= 'a' && good[i][k] <= 'f' ? good[i][k] - 32 : good[i][k]);
        }
        uint8_t b[20];
        cr_assert(wn_eth_address_parse(b, low) && memcmp(a, b, 20) == 0);
        cr_assert(wn_eth_address_parse(b, up) && memcmp(a, b, 20) == 0);
        cr_assert(wn_eth_address_parse(b, low + 2) && memcmp(a, b, 20) == 0, "without 0x");
    }
    uint8_t a[20];
    cr_assert(wn_eth_address_parse(a, "0x52908400098527886E0F7030069857D2E4169EE7"));
    cr_assert(wn_eth_address_parse(a, "0xde709f2102306220921060314715629080e2fb77"));
    /* a wrong checksum (one letter's case flipped), wrong lengths, non-hex */
    cr_assert_not(wn_eth_address_parse(a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
    cr_assert_not(wn_eth_address_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae"));
    cr_assert_not(wn_eth_address_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00"));
    cr_assert_not(wn_eth_address_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg"));
    cr_assert_not(wn_eth_address_parse(a, ""));
    cr_assert_not(wn_eth_address_parse(a, NULL));
}

/* ---------- RLP ---------- */

static void rlp_done(wn_rlp *r, const char *want)
{
    size_t len;
    cr_assert(wn_rlp_finish(r, &len));
    assert_hex(r->buf, len, want);
}

Test(rlp, wiki_examples)
{
    uint8_t buf[256];
    wn_rlp r;

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_bytes(&r, "dog", 3);
    rlp_done(&r, "83646f67");

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_begin(&r);
    wn_rlp_bytes(&r, "cat", 3);
    wn_rlp_bytes(&r, "dog", 3);
    wn_rlp_list_end(&r);
    rlp_done(&r, "c88363617483646f67");

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_bytes(&r, "", 0);
    rlp_done(&r, "80");

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_begin(&r);
    wn_rlp_list_end(&r);
    rlp_done(&r, "c0");

    static const struct { uint64_t v; const char *enc; } ints[] = {
        {0, "80"}, {15, "0f"}, {127, "7f"}, {128, "8180"}, {1024, "820400"}, {0xffffffffffffffffULL, "88ffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        wn_rlp_init(&r, buf, sizeof buf);
        wn_rlp_uint(&r, ints[i].v);
        rlp_done(&r, ints[i].enc);
    }
    /* the byte 0x00 is a one-byte string, itself */
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_bytes(&r, "\0", 1);
    rlp_done(&r, "00");

    /* the set theoretical representation of three: [ [], [[]], [ [], [[]] ] ] */
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_begin(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_begin(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_end(&r);
    wn_rlp_list_end(&r);
    rlp_done(&r, "c7c0c1c0c3c0c1c0");

    /* 56 bytes: the first string that needs the long form */
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    cr_assert_eq(strlen(lorem), 56);
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_bytes(&r, lorem, 56);
    size_t len;
    cr_assert(wn_rlp_finish(&r, &len));
    cr_assert_eq(len, 58);
    cr_assert(buf[0] == 0xb8 && buf[1] == 0x38 && memcmp(buf + 2, lorem, 56) == 0);

    /* a list whose payload is 56 bytes or more gets a long header too */
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_begin(&r);
    wn_rlp_bytes(&r, lorem, 56);
    wn_rlp_list_end(&r);
    cr_assert(wn_rlp_finish(&r, &len));
    cr_assert(len == 60 && buf[0] == 0xf8 && buf[1] == 58 && buf[2] == 0xb8);

    /* big-endian integers lose their leading zeros */
    uint8_t be[32] = {0};
    be[30] = 0x04;
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_uint_be(&r, be, 32);
    rlp_done(&r, "820400");
}

Test(rlp, errors_are_sticky)
{
    uint8_t buf[4];
    wn_rlp r;
    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_bytes(&r, "dogs", 4); /* 5 bytes needed */
    wn_rlp_bytes(&r, "", 0);
    cr_assert_not(wn_rlp_finish(&r, NULL));

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_begin(&r);
    wn_rlp_bytes(&r, "do", 2);
    cr_assert_not(wn_rlp_finish(&r, NULL), "an open list is an error");
    wn_rlp_list_end(&r);
    size_t len;
    cr_assert(wn_rlp_finish(&r, &len) && len == 4);

    wn_rlp_init(&r, buf, sizeof buf);
    wn_rlp_list_end(&r);
    cr_assert_not(wn_rlp_finish(&r, NULL), "closing a list never opened");

    uint8_t big[64], src[55] = {0};
    wn_rlp_init(&r, big, 57); /* a 56-byte list payload needs 2 header bytes: 58 */
    wn_rlp_list_begin(&r);
    wn_rlp_bytes(&r, src, 55); /* payload 56 */
    wn_rlp_list_end(&r);
    cr_assert_not(wn_rlp_finish(&r, NULL));
}

Test(rlp, reader_is_strict)
{
    wn_rlp_item it;
    size_t used;
    uint8_t dog[] = {0x83, 'd', 'o', 'g'};
    cr_assert(wn_rlp_read(dog, 4, &it, &used) && !it.is_list && it.len == 3 && used == 4);
    uint8_t list[] = {0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g'};
    cr_assert(wn_rlp_read(list, 9, &it, &used) && it.is_list && it.len == 8 && used == 9);
    cr_assert(wn_rlp_read(list + 1, 8, &it, &used) && used == 4, "first item of the list");
    cr_assert_not(wn_rlp_read(dog, 3, &it, &used), "truncated");
    uint8_t low[] = {0x81, 0x05};
    cr_assert_not(wn_rlp_read(low, 2, &it, &used), "0x05 must be encoded as itself");
    uint8_t shortlong[] = {0xb8, 0x02, 'a', 'b'};
    cr_assert_not(wn_rlp_read(shortlong, 4, &it, &used), "long form for a short string");
    uint8_t zerolen[60] = {0xb9, 0x00, 0x38};
    cr_assert_not(wn_rlp_read(zerolen, sizeof zerolen, &it, &used), "length with a leading zero");
    cr_assert_not(wn_rlp_read(dog, 0, &it, &used));
}

/* ---------- transactions ---------- */

/* EIP-155's example: nonce 9, gas price 20 gwei, gas 21000, to 0x3535...35, value 1 ether,
 * no data, chain id 1, signed with the key 0x4646...46. */
static void eip155_example(wn_ethtx *tx, uint8_t sk[32])
{
    memset(tx, 0, sizeof *tx);
    tx->type = WN_ETHTX_LEGACY;
    tx->chain_id = 1;
    tx->nonce = 9;
    tx->gas_price = 20000000000ULL;
    tx->gas_limit = 21000;
    tx->has_to = 1;
    memset(tx->to, 0x35, 20);
    uint64_t ether = 1000000000000000000ULL;
    for (int i = 0; i < 8; i++) tx->value[31 - i] = (uint8_t)(ether >> (8 * i));
    memset(sk, 0x46, 32);
}

Test(ethtx, eip155_example)
{
    wn_ethtx tx;
    uint8_t sk[32], h[32], raw[WN_ETHTX_MAX], txhash[32], again[32];
    eip155_example(&tx, sk);
    cr_assert(wn_ethtx_signing_hash(&tx, h));
    assert_hex(h, 32, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    wn_ethsig sig;
    cr_assert(wn_ethtx_sign(&tx, sk, &sig));
    /* v = 37 = 1 * 2 + 35 + 0 */
    cr_assert_eq(sig.y_parity, 0);
    assert_hex(sig.r, 32, "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
    assert_hex(sig.s, 32, "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    size_t len;
    cr_assert(wn_ethtx_encode_signed(&tx, &sig, raw, sizeof raw, &len, txhash));
    assert_hex(raw, len,
               "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc"
               "2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb19"
               "66a3b6d83");
    wn_keccak256(again, raw, len);
    cr_assert(memcmp(again, txhash, 32) == 0);
    /* the sender is the key's address */
    uint8_t want[20], from[20];
    cr_assert(wn_eth_address_of_seckey(want, sk));
    cr_assert(wn_ethtx_recover(&tx, &sig, from));
    cr_assert(memcmp(from, want, 20) == 0);
    char text[WN_ETH_ADDR_TEXT];
    wn_eth_address_format(text, from);
    cr_assert_str_eq(text, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");

    uint64_t chain;
    unsigned y;
    cr_assert(wn_ethtx_legacy_v(37, &chain, &y) && chain == 1 && y == 0);
    cr_assert(wn_ethtx_legacy_v(0xf4f6, &chain, &y) && chain == 31337 && y == 1);
    cr_assert(wn_ethtx_legacy_v(27, &chain, &y) && chain == 0 && y == 0);
    cr_assert_not(wn_ethtx_legacy_v(29, &chain, &y));
    cr_assert_not(wn_ethtx_legacy_v(0, &chain, &y));
}

Test(ethtx, any_changed_field_changes_the_recovered_sender)
{
    wn_ethtx tx;
    uint8_t sk[32], want[20], from[20];
    eip155_example(&tx, sk);
    wn_ethsig sig;
    cr_assert(wn_ethtx_sign(&tx, sk, &sig));
    cr_assert(wn_eth_address_of_seckey(want, sk));
    for (int f = 0; f < 7; f++) {
        wn_ethtx t = tx;
        uint8_t data[1] = {1};
        switch (f) {
        case 0: t.nonce++; break;
        case 1: t.gas_price++; break;
        case 2: t.gas_limit++; break;
        case 3: t.to[19] ^= 1; break;
        case 4: t.value[31] ^= 1; break;
        case 5: t.data = data; t.data_len = 1; break;
        case 6: t.chain_id = 2; break;
        }
        /* recovery may yield some other key or fail; never the signer */
        if (wn_ethtx_recover(&t, &sig, from)) cr_assert(memcmp(from, want, 20) != 0, "field %d", f);
    }
    wn_ethsig bad = sig;
    bad.y_parity ^= 1;
    if (wn_ethtx_recover(&tx, &bad, from)) cr_assert(memcmp(from, want, 20) != 0);
    bad = sig;
    bad.y_parity = 2;
    cr_assert_not(wn_ethtx_recover(&tx, &bad, from));
    /* high S: n - s is a valid signature mathematically, refused by EIP-2 */
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    bad = sig;
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - sig.s[i] - borrow;
        borrow = d < 0;
        bad.s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    bad.y_parity ^= 1;
    cr_assert_not(wn_ethtx_recover(&tx, &bad, from), "high-S refused");
    memset(bad.r, 0, 32);
    cr_assert_not(wn_ethtx_recover(&tx, &bad, from), "r = 0 refused");
}

Test(ethtx, eip1559_sign_recover_and_encoding_shape)
{
    uint8_t sk[32], want[20], from[20], raw[WN_ETHTX_MAX], h1[32], h2[32];
    unhex(sk, 32, "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    cr_assert(wn_eth_address_of_seckey(want, sk));
    uint8_t data[76];
    memcpy(data, "WNA1", 4);
    for (int i = 4; i < 76; i++) data[i] = (uint8_t)i;
    wn_ethtx tx = {.type = WN_ETHTX_EIP1559, .chain_id = 31337, .nonce = 0, .max_priority_fee = 1000000000,
                   .max_fee = 3000000000ULL, .gas_limit = 30000, .has_to = 1, .data = data, .data_len = 76};
    memcpy(tx.to, want, 20);
    wn_ethsig sig;
    cr_assert(wn_ethtx_sign(&tx, sk, &sig));
    cr_assert(wn_ethtx_recover(&tx, &sig, from));
    cr_assert(memcmp(from, want, 20) == 0);
    size_t len;
    cr_assert(wn_ethtx_encode_signed(&tx, &sig, raw, sizeof raw, &len, h1));
    cr_assert_eq(raw[0], 0x02, "typed transaction envelope");
    wn_rlp_item it;
    size_t used;
    cr_assert(wn_rlp_read(raw + 1, len - 1, &it, &used) && it.is_list && used == len - 1);
    /* twelve fields: chainId nonce tip fee gas to value data accessList yParity r s */
    size_t nfields = 0, off = 0;
    wn_rlp_item f;
    while (off < it.len) {
        cr_assert(wn_rlp_read(it.payload + off, it.len - off, &f, &used));
        if (nfields == 8) cr_assert(f.is_list && f.len == 0, "empty access list");
        if (nfields == 7) cr_assert(f.len == 76 && memcmp(f.payload, data, 76) == 0);
        off += used;
        nfields++;
    }
    cr_assert_eq(nfields, 12);
    /* deterministic: the same transaction signs to the same bytes */
    wn_ethsig sig2;
    cr_assert(wn_ethtx_sign(&tx, sk, &sig2));
    cr_assert(wn_ethtx_encode_signed(&tx, &sig2, raw, sizeof raw, &len, h2));
    cr_assert(memcmp(h1, h2, 32) == 0);
    /* a different type signs a different hash */
    wn_ethtx legacy = tx;
    legacy.type = WN_ETHTX_LEGACY;
    legacy.gas_price = tx.max_fee;
    uint8_t s1[32], s2[32];
    cr_assert(wn_ethtx_signing_hash(&tx, s1) && wn_ethtx_signing_hash(&legacy, s2));
    cr_assert(memcmp(s1, s2, 32) != 0);
    /* limits */
    wn_ethtx big = tx;
    big.data_len = WN_ETHTX_DATA_MAX + 1;
    cr_assert_not(wn_ethtx_signing_hash(&big, s1));
    wn_ethtx odd = tx;
    odd.type = 1;
    cr_assert_not(wn_ethtx_signing_hash(&odd, s1));
    cr_assert_not(wn_ethtx_encode_signed(&tx, &sig, raw, 50, &len, NULL), "buffer too small");
}
