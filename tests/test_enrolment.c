/* test_enrolment.c — registrar-signed enrolment and revocation records
 * (protocol/enrolment.h): known answers computed independently from docs/PROTOCOL.md §5,
 * round trips of random records through binary and JSON, every decode rule, every
 * tampering case and the strictness of the JSON forms. */
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "tests/support/testutil.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* ---- known answers ------------------------------------------------------------------
 * From a separate Python script following PROTOCOL.md §5 byte by byte (BIP-340 reference
 * signing, aux = 32 x 0x42): meter key 32 x 0x11 enrolled as ECDSA (its y is odd, so
 * pubkey 03||x), 2026-01-15T08:00:00.000Z, supply, tier 2, groundwater, parent = x-only key
 * of 32 x 0x22, enterprise "91310000MA1FL8XQ3B 上海\"水务\"", calibration
 * "CNAS-L0001/2025-117", registrar key 32 x 0x33. The revocation: same meter,
 * 2027-03-01T00:00:00.000Z, compromised. */
static const char ENR_HEX[] =
    "014f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa02034f355bdcb7cc0af728ef"
    "3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa0000019bc0ab2400030202466d7fcae563e5cb09a0d187"
    "0bb580344804617879a14949cf22285f1bae3f272139313331303030304d4131464c385851334220e4b88ae6b5"
    "b722e6b0b4e58aa12213434e41532d4c303030312f323032352d3131373c72addb4fdf09af94f0c94d7fe92a38"
    "6a7e70cf8a1d85916386bb2535c7b1b116f09b7fd2b1a236cb947936457f7c60208899a816d4d516ba3dd0184d"
    "1fdb83c44c1995feef799aec132d13585cbc4ff675a61ce3db9a6e9d312af917e167f8";
static const char ENR_JSON[] =
    "{\"version\":1,\"meter\":\"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\","
    "\"alg\":\"ecdsa\",\"pubkey\":\"034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\","
    "\"time\":\"2026-01-15T08:00:00.000Z\",\"point\":\"supply\",\"tier\":2,\"source\":\"groundwater\","
    "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\","
    "\"enterprise\":\"91310000MA1FL8XQ3B 上海\\\"水务\\\"\",\"calibration\":\"CNAS-L0001/2025-117\","
    "\"registrar\":\"3c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1\","
    "\"sig\":\"16f09b7fd2b1a236cb947936457f7c60208899a816d4d516ba3dd0184d1fdb83c44c1995feef799aec1"
    "32d13585cbc4ff675a61ce3db9a6e9d312af917e167f8\"}";
static const char REV_HEX[] =
    "014f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa000001a3fe630800013c72ad"
    "db4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1a7f961da664c52de80fa12072b1b7249"
    "2cfb37e6d0474d8e384c5733e48f7cb70d967db38bc5645cbf03025bd4bc771e433a07987acdf653ce3dc42fa5"
    "690846";
static const char REV_JSON[] =
    "{\"version\":1,\"meter\":\"4f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa\","
    "\"time\":\"2027-03-01T00:00:00.000Z\",\"reason\":\"compromised\","
    "\"registrar\":\"3c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1\","
    "\"sig\":\"a7f961da664c52de80fa12072b1b72492cfb37e6d0474d8e384c5733e48f7cb70d967db38bc5645cbf0"
    "3025bd4bc771e433a07987acdf653ce3dc42fa5690846\"}";

static void fill(uint8_t k[32], uint8_t v) { memset(k, v, 32); }

static size_t from_hex(uint8_t *out, const char *hex)
{
    size_t n = strlen(hex) / 2;
    cr_assert(wn_hex_decode(out, n, hex, strlen(hex)), "bad hex in test");
    return n;
}

/* The known-answer enrolment without its signature. */
static void kat_enrolment(wn_enrolment *e)
{
    uint8_t k[32];
    memset(e, 0, sizeof *e);
    fill(k, 0x11);
    cr_assert(wn_seckey_xonly(e->meter, k));
    e->alg = WN_ALG_ECDSA;
    cr_assert(wn_seckey_pub33(e->pubkey, k));
    e->time_ms = 1768464000000ULL;
    e->point = WN_POINT_SUPPLY;
    e->tier = 2;
    e->source = WN_SOURCE_GROUNDWATER;
    fill(k, 0x22);
    cr_assert(wn_seckey_xonly(e->parent, k));
    strcpy(e->enterprise, "91310000MA1FL8XQ3B 上海\"水务\"");
    strcpy(e->calibration, "CNAS-L0001/2025-117");
    fill(k, 0x33);
    cr_assert(wn_seckey_xonly(e->registrar, k));
}

static int enrolment_eq(const wn_enrolment *a, const wn_enrolment *b)
{
    return !memcmp(a->meter, b->meter, 32) && a->alg == b->alg && !memcmp(a->pubkey, b->pubkey, 33) &&
           a->time_ms == b->time_ms && a->point == b->point && a->tier == b->tier && a->source == b->source &&
           !memcmp(a->parent, b->parent, 32) && !strcmp(a->enterprise, b->enterprise) &&
           !strcmp(a->calibration, b->calibration) && !memcmp(a->registrar, b->registrar, 32) &&
           !memcmp(a->sig, b->sig, 64);
}

static int revocation_eq(const wn_revocation *a, const wn_revocation *b)
{
    return !memcmp(a->meter, b->meter, 32) && a->time_ms == b->time_ms && a->reason == b->reason &&
           !memcmp(a->registrar, b->registrar, 32) && !memcmp(a->sig, b->sig, 64);
}

static int enrolment_json(wn_enrolment *e, const char *text, char *detail, size_t cap)
{
    cJSON *j = cJSON_Parse(text);
    int err = wn_enrolment_from_cjson(e, j, detail, cap);
    cJSON_Delete(j);
    return err;
}

static int revocation_json(wn_revocation *r, const char *text, char *detail, size_t cap)
{
    cJSON *j = cJSON_Parse(text);
    int err = wn_revocation_from_cjson(r, j, detail, cap);
    cJSON_Delete(j);
    return err;
}

Test(enrolment_kat, enrolment)
{
    wn_enrolment e, back;
    uint8_t buf[WN_ENROLMENT_MAX_LEN], want[WN_ENROLMENT_MAX_LEN], d[32], aux[32], reg[32];
    char hex[2 * WN_ENROLMENT_MAX_LEN + 1], json[WN_ENROLMENT_JSON_MAX];
    size_t len;
    kat_enrolment(&e);
    /* sign by hand with fixed aux randomness: tagged hash of all bytes before the signature */
    cr_assert_eq(wn_enrolment_encode(&e, buf, sizeof buf, &len), WN_ENROL_OK);
    cr_assert_eq(len, 260);
    wn_tagged_hash(d, WN_TAG_ENROLMENT, buf, len - 64);
    fill(reg, 0x33);
    memset(aux, 0x42, 32);
    cr_assert(wn_schnorr_sign(e.sig, reg, d, aux));
    cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_OK);

    cr_assert_eq(wn_enrolment_encode(&e, buf, sizeof buf, &len), WN_ENROL_OK);
    wn_hex_encode(hex, buf, len);
    cr_assert_str_eq(hex, ENR_HEX);
    cr_assert_eq(wn_enrolment_to_json(&e, json, sizeof json, &len), WN_ENROL_OK);
    cr_assert_str_eq(json, ENR_JSON);
    cr_assert_eq(len, strlen(ENR_JSON));

    size_t n = from_hex(want, ENR_HEX);
    cr_assert_eq(wn_enrolment_decode(&back, want, n), WN_ENROL_OK);
    cr_assert(enrolment_eq(&back, &e));
    cr_assert_eq(wn_enrolment_verify(&back), WN_ENROL_OK);
    char detail[256];
    cr_assert_eq(enrolment_json(&back, ENR_JSON, detail, sizeof detail), WN_ENROL_OK, "%s", detail);
    cr_assert(enrolment_eq(&back, &e));

    /* wn_enrolment_sign gives a signature that verifies (its aux randomness is fresh) */
    cr_assert_eq(wn_enrolment_sign(&back, reg), WN_ENROL_OK);
    cr_assert_eq(wn_enrolment_verify(&back), WN_ENROL_OK);
    cr_assert_arr_eq(back.registrar, e.registrar, 32);
}

Test(enrolment_kat, revocation)
{
    wn_revocation r, back;
    uint8_t buf[WN_REVOCATION_LEN], want[WN_REVOCATION_LEN], d[32], aux[32], k[32];
    char hex[2 * WN_REVOCATION_LEN + 1], json[WN_REVOCATION_JSON_MAX];
    size_t len;
    memset(&r, 0, sizeof r);
    fill(k, 0x11);
    cr_assert(wn_seckey_xonly(r.meter, k));
    r.time_ms = 1803859200000ULL;
    r.reason = WN_REVOKE_COMPROMISED;
    fill(k, 0x33);
    cr_assert(wn_seckey_xonly(r.registrar, k));
    cr_assert_eq(wn_revocation_encode(&r, buf), WN_ENROL_OK);
    wn_tagged_hash(d, WN_TAG_REVOCATION, buf, 74);
    memset(aux, 0x42, 32);
    cr_assert(wn_schnorr_sign(r.sig, k, d, aux));
    cr_assert_eq(wn_revocation_verify(&r), WN_ENROL_OK);
    cr_assert_eq(wn_revocation_encode(&r, buf), WN_ENROL_OK);
    wn_hex_encode(hex, buf, WN_REVOCATION_LEN);
    cr_assert_str_eq(hex, REV_HEX);
    cr_assert_eq(wn_revocation_to_json(&r, json, sizeof json, &len), WN_ENROL_OK);
    cr_assert_str_eq(json, REV_JSON);

    from_hex(want, REV_HEX);
    cr_assert_eq(wn_revocation_decode(&back, want, WN_REVOCATION_LEN), WN_ENROL_OK);
    cr_assert(revocation_eq(&back, &r));
    cr_assert_eq(revocation_json(&back, REV_JSON, NULL, 0), WN_ENROL_OK);
    cr_assert(revocation_eq(&back, &r));
    cr_assert_eq(wn_revocation_sign(&back, k), WN_ENROL_OK);
    cr_assert_eq(wn_revocation_verify(&back), WN_ENROL_OK);
}

/* ---- random records ---------------------------------------------------------------- */

static void random_key(uint8_t k[32])
{
    do wn_test_prng_bytes(k, 32); while (!wn_seckey_valid(k));
}

/* Appends whole UTF-8 characters (ASCII, quotes, backslashes, 2-, 3- and 4-byte forms)
 * while they fit in max bytes. */
static void random_text(char *out, size_t max, size_t min)
{
    static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "é", "上", "水", "💧", "-"};
    size_t want = min + wn_test_prng() % (max - min + 1), n = 0;
    out[0] = '\0';
    for (;;) {
        const char *p = pieces[wn_test_prng() % (sizeof pieces / sizeof pieces[0])];
        if (n + strlen(p) > want) {
            if (n >= min) break;
            p = "x";
        }
        strcpy(out + n, p);
        n += strlen(p);
    }
}

Test(enrolment_roundtrip, random_records)
{
    wn_test_prng_seed(515);
    uint8_t regkey[32];
    random_key(regkey);
    for (int i = 0; i < 200; i++) {
        wn_enrolment e, back;
        uint8_t k[32], buf[WN_ENROLMENT_MAX_LEN], buf2[WN_ENROLMENT_MAX_LEN];
        char json[WN_ENROLMENT_JSON_MAX], json2[WN_ENROLMENT_JSON_MAX], detail[256];
        size_t len, len2;
        memset(&e, 0, sizeof e);
        random_key(k);
        cr_assert(wn_seckey_xonly(e.meter, k));
        e.alg = i % 2 ? WN_ALG_ECDSA : WN_ALG_BIP340;
        if (e.alg == WN_ALG_ECDSA) cr_assert(wn_seckey_pub33(e.pubkey, k));
        else { e.pubkey[0] = 0x02; memcpy(e.pubkey + 1, e.meter, 32); }
        e.time_ms = i % 7 ? wn_test_prng() % (WN_READING_MAX_TIME + 1) : WN_READING_MAX_TIME;
        e.point = (uint8_t)(1 + wn_test_prng() % 6);
        e.tier = (uint8_t)(1 + wn_test_prng() % 3);
        e.source = (uint8_t)(1 + wn_test_prng() % 6);
        if (i % 3) { random_key(k); cr_assert(wn_seckey_xonly(e.parent, k)); }
        random_text(e.enterprise, WN_ENTERPRISE_MAX, 1);
        random_text(e.calibration, WN_CALIBRATION_MAX, 0);
        cr_assert_eq(wn_enrolment_sign(&e, regkey), WN_ENROL_OK, "%d: %s", i, e.enterprise);
        cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_OK);

        cr_assert_eq(wn_enrolment_encode(&e, buf, sizeof buf, &len), WN_ENROL_OK);
        cr_assert_eq(len, 208 + strlen(e.enterprise) + strlen(e.calibration));
        cr_assert_eq(wn_enrolment_decode(&back, buf, len), WN_ENROL_OK);
        cr_assert(enrolment_eq(&e, &back), "binary round trip %d", i);
        cr_assert_eq(wn_enrolment_verify(&back), WN_ENROL_OK);

        cr_assert_eq(wn_enrolment_to_json(&back, json, sizeof json, &len2), WN_ENROL_OK);
        cr_assert_eq(len2, strlen(json));
        cr_assert_eq(enrolment_json(&back, json, detail, sizeof detail), WN_ENROL_OK, "%s: %s", json, detail);
        cr_assert(enrolment_eq(&e, &back), "JSON round trip %d: %s", i, json);
        cr_assert_eq(wn_enrolment_encode(&back, buf2, sizeof buf2, &len2), WN_ENROL_OK);
        cr_assert_eq(len2, len);
        cr_assert_arr_eq(buf, buf2, len);
        cr_assert_eq(wn_enrolment_to_json(&back, json2, sizeof json2, NULL), WN_ENROL_OK);
        cr_assert_str_eq(json, json2);
        if (i % 3 == 0) cr_assert_not_null(strstr(json, "\"parent\":null"));

        wn_revocation r, rback;
        uint8_t rb[WN_REVOCATION_LEN], rb2[WN_REVOCATION_LEN];
        memset(&r, 0, sizeof r);
        memcpy(r.meter, e.meter, 32);
        r.time_ms = wn_test_prng() % (WN_READING_MAX_TIME + 1);
        r.reason = (uint8_t)(i % 4);
        cr_assert_eq(wn_revocation_sign(&r, regkey), WN_ENROL_OK);
        cr_assert_eq(wn_revocation_encode(&r, rb), WN_ENROL_OK);
        cr_assert_eq(wn_revocation_decode(&rback, rb, sizeof rb), WN_ENROL_OK);
        cr_assert(revocation_eq(&r, &rback));
        cr_assert_eq(wn_revocation_verify(&rback), WN_ENROL_OK);
        cr_assert_eq(wn_revocation_to_json(&rback, json, WN_REVOCATION_JSON_MAX, NULL), WN_ENROL_OK);
        cr_assert_eq(revocation_json(&rback, json, detail, sizeof detail), WN_ENROL_OK, "%s: %s", json, detail);
        cr_assert(revocation_eq(&r, &rback));
        cr_assert_eq(wn_revocation_encode(&rback, rb2), WN_ENROL_OK);
        cr_assert_arr_eq(rb, rb2, sizeof rb);
    }
}

/* ---- binary decode rules ------------------------------------------------------------ */

/* An enrolment laid out here straight from the table in PROTOCOL.md §5, field by field,
 * so that rule violations the encoder would refuse can be built. */
typedef struct {
    uint8_t version, meter[32], alg, pubkey[33];
    uint64_t time;
    uint8_t point, tier, source, parent[32];
    const char *ent;
    size_t entlen;
    const char *cal;
    size_t callen;
    uint8_t registrar[32], sig[64];
} raw_enrolment;

static size_t raw_bytes(const raw_enrolment *r, uint8_t *out)
{
    size_t n = 0;
    out[n++] = r->version;
    memcpy(out + n, r->meter, 32); n += 32;
    out[n++] = r->alg;
    memcpy(out + n, r->pubkey, 33); n += 33;
    wn_put_u64(out + n, r->time); n += 8;
    out[n++] = r->point;
    out[n++] = r->tier;
    out[n++] = r->source;
    memcpy(out + n, r->parent, 32); n += 32;
    out[n++] = (uint8_t)r->entlen;
    memcpy(out + n, r->ent, r->entlen); n += r->entlen;
    out[n++] = (uint8_t)r->callen;
    memcpy(out + n, r->cal, r->callen); n += r->callen;
    memcpy(out + n, r->registrar, 32); n += 32;
    memcpy(out + n, r->sig, 64); n += 64;
    return n;
}

static void raw_kat(raw_enrolment *r)
{
    wn_enrolment e;
    kat_enrolment(&e);
    memset(r, 0, sizeof *r);
    r->version = 1;
    memcpy(r->meter, e.meter, 32);
    r->alg = e.alg;
    memcpy(r->pubkey, e.pubkey, 33);
    r->time = e.time_ms;
    r->point = e.point;
    r->tier = e.tier;
    r->source = e.source;
    memcpy(r->parent, e.parent, 32);
    r->ent = "91310000MA1FL8XQ3B";
    r->entlen = 18;
    r->cal = "";
    r->callen = 0;
    memcpy(r->registrar, e.registrar, 32);
}

#define EXPECT_RAW(want, ...)                                                           \
    do {                                                                                \
        raw_enrolment r_;                                                               \
        uint8_t b_[600];                                                                \
        raw_kat(&r_);                                                                   \
        __VA_ARGS__;                                                                    \
        size_t n_ = raw_bytes(&r_, b_);                                                 \
        wn_enrolment e_;                                                                \
        cr_assert_eq(wn_enrolment_decode(&e_, b_, n_), (want), "%s", #__VA_ARGS__);    \
    } while (0)

#define TEXT(field, s) (r_.field = (s), r_.field##len = sizeof(s) - 1)

Test(enrolment_decode, each_rule)
{
#define ENT64 "1234567890123456789012345678901234567890123456789012345678901234"
    static char cal128[129], cal129[130];
    memset(cal128, 'c', 128);
    memset(cal129, 'c', 129);
    EXPECT_RAW(WN_ENROL_OK, (void)0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.version = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.version = 2);
    EXPECT_RAW(WN_ENROL_EFORMAT, memset(r_.meter, 0xff, 32); memset(r_.pubkey + 1, 0xff, 32));
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.alg = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.alg = 3);                          /* P-256 with a secp256k1 key */
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.alg = 5);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.alg = WN_ALG_BIP340);             /* BIP-340 with an 03 key */
    EXPECT_RAW(WN_ENROL_OK, r_.alg = WN_ALG_BIP340; r_.pubkey[0] = 2);
    EXPECT_RAW(WN_ENROL_OK, r_.pubkey[0] = 2);                          /* ECDSA, the other parity */
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.pubkey[0] = 4);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.pubkey[0] = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.pubkey[32] ^= 1);                   /* x is not the meter id */
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.time = WN_READING_MAX_TIME + 1);
    EXPECT_RAW(WN_ENROL_OK, r_.time = WN_READING_MAX_TIME);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.point = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.point = 8);
    EXPECT_RAW(WN_ENROL_OK, r_.point = WN_POINT_RECYCLING);
    EXPECT_RAW(WN_ENROL_OK, r_.point = WN_POINT_CERTIFIER);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.tier = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.tier = 4);
    EXPECT_RAW(WN_ENROL_OK, r_.tier = 3);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.source = 0);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.source = 7);
    EXPECT_RAW(WN_ENROL_OK, r_.source = WN_SOURCE_MINE);
    EXPECT_RAW(WN_ENROL_OK, memset(r_.parent, 0, 32));
    EXPECT_RAW(WN_ENROL_EFORMAT, memset(r_.parent, 0xff, 32));         /* not a key */
    EXPECT_RAW(WN_ENROL_EFORMAT, TEXT(ent, ""));
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, "x"));
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, ENT64));
    EXPECT_RAW(WN_ENROL_EFORMAT, TEXT(ent, ENT64 "5"));
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, "水务💧é"));
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, "\xe2\x80\xa8"));                /* U+2028 is not a control character */
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, "\xef\xbf\xbf"));
    EXPECT_RAW(WN_ENROL_OK, TEXT(ent, "\xf4\x8f\xbf\xbf"));            /* U+10FFFF */
    const char *bad_text[] = {"\x00", "a\000b", "\x01", "\x1f", "\t", "\n", "\x7f", "\xc2\x80", "\xc2\x9f",
                              "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
                              "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                              "\xff", "\x80", "\xbf", "\xe2\x82", "a\xe2", "\xf0\x9f\x92", "\xc3\x28"};
    const size_t bad_len[] = {1, 3, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1, 2, 2, 3, 2};
    cr_assert_eq(sizeof bad_text / sizeof bad_text[0], sizeof bad_len / sizeof bad_len[0] + 0);
    for (size_t i = 0; i < sizeof bad_len / sizeof bad_len[0]; i++) {
        EXPECT_RAW(WN_ENROL_EFORMAT, r_.ent = bad_text[i]; r_.entlen = bad_len[i]);
        EXPECT_RAW(WN_ENROL_EFORMAT, r_.cal = bad_text[i]; r_.callen = bad_len[i]);
    }
    EXPECT_RAW(WN_ENROL_OK, r_.cal = cal128; r_.callen = 128);
    EXPECT_RAW(WN_ENROL_EFORMAT, r_.cal = cal129; r_.callen = 129);
    EXPECT_RAW(WN_ENROL_EFORMAT, memset(r_.registrar, 0xff, 32));
}

Test(enrolment_decode, truncated_and_trailing)
{
    uint8_t buf[WN_ENROLMENT_MAX_LEN + 8];
    wn_enrolment e;
    wn_revocation r;
    size_t n = from_hex(buf, ENR_HEX);
    for (size_t len = 0; len < n; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, buf, len);
        cr_assert_eq(wn_enrolment_decode(&e, p, len), WN_ENROL_EFORMAT, "length %zu", len);
        free(p);
    }
    buf[n] = 0;
    cr_assert_eq(wn_enrolment_decode(&e, buf, n + 1), WN_ENROL_EFORMAT);
    cr_assert_eq(wn_enrolment_decode(&e, buf, n), WN_ENROL_OK);

    n = from_hex(buf, REV_HEX);
    for (size_t len = 0; len < n; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, buf, len);
        cr_assert_eq(wn_revocation_decode(&r, p, len), WN_ENROL_EFORMAT, "length %zu", len);
        free(p);
    }
    buf[n] = 0;
    cr_assert_eq(wn_revocation_decode(&r, buf, n + 1), WN_ENROL_EFORMAT);
    cr_assert_eq(wn_revocation_decode(&r, buf, n), WN_ENROL_OK);
}

Test(enrolment_decode, revocation_rules)
{
    uint8_t good[WN_REVOCATION_LEN], b[WN_REVOCATION_LEN];
    wn_revocation r;
    from_hex(good, REV_HEX);
#define REV(want, ...)                                                                  \
    do {                                                                                \
        memcpy(b, good, sizeof b);                                                      \
        __VA_ARGS__;                                                                    \
        cr_assert_eq(wn_revocation_decode(&r, b, sizeof b), (want), "%s", #__VA_ARGS__); \
    } while (0)
    REV(WN_ENROL_OK, (void)0);
    REV(WN_ENROL_EFORMAT, b[0] = 0);
    REV(WN_ENROL_EFORMAT, b[0] = 2);
    REV(WN_ENROL_EFORMAT, memset(b + 1, 0xff, 32));
    REV(WN_ENROL_EFORMAT, wn_put_u64(b + 33, WN_READING_MAX_TIME + 1));
    REV(WN_ENROL_OK, wn_put_u64(b + 33, WN_READING_MAX_TIME));
    REV(WN_ENROL_EFORMAT, b[41] = 4);
    REV(WN_ENROL_EFORMAT, b[41] = 0xff);
    REV(WN_ENROL_OK, b[41] = WN_REVOKE_REPLACED);
    REV(WN_ENROL_OK, b[41] = WN_REVOKE_OTHER);
    REV(WN_ENROL_EFORMAT, memset(b + 42, 0xff, 32));
#undef REV
}

/* ---- tampering ---------------------------------------------------------------------- */

Test(enrolment_tamper, every_bit_of_an_enrolment)
{
    uint8_t good[WN_ENROLMENT_MAX_LEN], b[WN_ENROLMENT_MAX_LEN];
    wn_enrolment e;
    size_t n = from_hex(good, ENR_HEX);
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, n);
            b[i] ^= (uint8_t)(1u << bit);
            int err = wn_enrolment_decode(&e, b, n);
            if (err == WN_ENROL_OK) err = wn_enrolment_verify(&e);
            cr_assert_neq(err, WN_ENROL_OK, "flip byte %zu bit %d accepted", i, bit);
            if (i >= n - 64) cr_assert_eq(err, WN_ENROL_ESIG);
        }
}

Test(enrolment_tamper, every_bit_of_a_revocation)
{
    uint8_t good[WN_REVOCATION_LEN], b[WN_REVOCATION_LEN];
    wn_revocation r;
    from_hex(good, REV_HEX);
    for (size_t i = 0; i < sizeof good; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, sizeof b);
            b[i] ^= (uint8_t)(1u << bit);
            int err = wn_revocation_decode(&r, b, sizeof b);
            if (err == WN_ENROL_OK) err = wn_revocation_verify(&r);
            cr_assert_neq(err, WN_ENROL_OK, "flip byte %zu bit %d accepted", i, bit);
        }
}

Test(enrolment_tamper, fields_registrars_and_tags)
{
    wn_enrolment good, e;
    uint8_t k[32], buf[WN_ENROLMENT_MAX_LEN];
    size_t n = from_hex(buf, ENR_HEX);
    cr_assert_eq(wn_enrolment_decode(&good, buf, n), WN_ENROL_OK);
#define CHANGED(...)                                                                    \
    do {                                                                                \
        e = good;                                                                       \
        __VA_ARGS__;                                                                    \
        cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_ESIG, #__VA_ARGS__);             \
    } while (0)
    CHANGED(e.pubkey[0] = 0x02);
    CHANGED(e.alg = WN_ALG_BIP340; e.pubkey[0] = 0x02);
    CHANGED(e.time_ms++);
    CHANGED(e.point = WN_POINT_USE);
    CHANGED(e.tier = 1);
    CHANGED(e.source = WN_SOURCE_TAP);
    CHANGED(memset(e.parent, 0, 32));
    CHANGED(strcpy(e.enterprise, "91310000MA1FL8XQ3C"));
    CHANGED(strcat(e.calibration, "x"));
    CHANGED(e.calibration[0] = '\0');
    CHANGED(fill(k, 0x44); cr_assert(wn_seckey_xonly(e.registrar, k)));
    CHANGED(e.sig[5] ^= 4);
#undef CHANGED
    /* the meter id and key together: another meter */
    e = good;
    fill(k, 0x55);
    cr_assert(wn_seckey_xonly(e.meter, k));
    cr_assert(wn_seckey_pub33(e.pubkey, k));
    cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_ESIG);

    /* a revocation-tagged or reading-tagged signature over the same bytes is refused */
    size_t len;
    e = good;
    cr_assert_eq(wn_enrolment_encode(&e, buf, sizeof buf, &len), WN_ENROL_OK);
    fill(k, 0x33);
    cr_assert(wn_sign_tagged(e.sig, k, WN_TAG_REVOCATION, buf, len - 64));
    cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_ESIG);
    cr_assert(wn_sign_tagged(e.sig, k, WN_TAG_ENROLMENT, buf, len - 64));
    cr_assert_eq(wn_enrolment_verify(&e), WN_ENROL_OK);

    wn_revocation r;
    uint8_t rb[WN_REVOCATION_LEN];
    from_hex(rb, REV_HEX);
    cr_assert_eq(wn_revocation_decode(&r, rb, sizeof rb), WN_ENROL_OK);
    cr_assert(wn_sign_tagged(r.sig, k, WN_TAG_ENROLMENT, rb, 74));
    cr_assert_eq(wn_revocation_verify(&r), WN_ENROL_ESIG);
    cr_assert_eq(wn_revocation_decode(&r, rb, sizeof rb), WN_ENROL_OK);
    r.reason = WN_REVOKE_OTHER;
    cr_assert_eq(wn_revocation_verify(&r), WN_ENROL_ESIG);
    r.reason = WN_REVOKE_COMPROMISED;
    r.time_ms--;
    cr_assert_eq(wn_revocation_verify(&r), WN_ENROL_ESIG);
}

Test(enrolment_tamper, sign_refuses_bad_records_and_keys)
{
    wn_enrolment e;
    wn_revocation r;
    uint8_t k[32], zero[32] = {0};
    fill(k, 0x33);
    kat_enrolment(&e);
    e.tier = 9;
    cr_assert_eq(wn_enrolment_sign(&e, k), WN_ENROL_EFORMAT);
    kat_enrolment(&e);
    e.enterprise[0] = '\0';
    cr_assert_eq(wn_enrolment_sign(&e, k), WN_ENROL_EFORMAT);
    kat_enrolment(&e);
    memset(e.enterprise, 'x', sizeof e.enterprise); /* not terminated within 65 bytes */
    cr_assert_eq(wn_enrolment_sign(&e, k), WN_ENROL_EFORMAT);
    uint8_t buf[WN_ENROLMENT_MAX_LEN];
    size_t len;
    cr_assert_eq(wn_enrolment_encode(&e, buf, sizeof buf, &len), WN_ENROL_EFORMAT);
    kat_enrolment(&e);
    cr_assert_eq(wn_enrolment_sign(&e, zero), WN_ENROL_ESIG);
    memset(&r, 0, sizeof r);
    memcpy(r.meter, e.meter, 32);
    r.reason = 4;
    cr_assert_eq(wn_revocation_sign(&r, k), WN_ENROL_EFORMAT);
    r.reason = 0;
    cr_assert_eq(wn_revocation_sign(&r, zero), WN_ENROL_ESIG);
    cr_assert_eq(wn_revocation_sign(&r, k), WN_ENROL_OK);
}

/* ---- JSON strictness ---------------------------------------------------------------- */

static char *with(const char *base, const char *from, const char *to)
{
    const char *p = strstr(base, from);
    cr_assert_not_null(p, "test bug: %s not found", from);
    size_t pre = (size_t)(p - base);
    char *s = malloc(strlen(base) + strlen(to) + 1);
    memcpy(s, base, pre);
    strcpy(s + pre, to);
    strcat(s, p + strlen(from));
    return s;
}

#define EXPECT_ENR(want, from, to)                                                      \
    do {                                                                                \
        char *s_ = with(ENR_JSON, from, to);                                            \
        char d_[300] = "";                                                              \
        wn_enrolment e_;                                                                \
        int got_ = enrolment_json(&e_, s_, d_, sizeof d_);                              \
        cr_assert_eq(got_, (want), "%s -> %s: got %d (%s)", from, to, got_, d_);        \
        if (got_) cr_assert(strlen(d_) > 0);                                            \
        free(s_);                                                                       \
    } while (0)

#define EXPECT_REV(want, from, to)                                                      \
    do {                                                                                \
        char *s_ = with(REV_JSON, from, to);                                            \
        char d_[300] = "";                                                              \
        wn_revocation r_;                                                               \
        int got_ = revocation_json(&r_, s_, d_, sizeof d_);                             \
        cr_assert_eq(got_, (want), "%s -> %s: got %d (%s)", from, to, got_, d_);        \
        free(s_);                                                                       \
    } while (0)

Test(enrolment_json, strict_enrolment)
{
    EXPECT_ENR(WN_ENROL_OK, "{", "{");
    EXPECT_ENR(WN_ENROL_EJSON, "{", "{\"extra\":null,");
    EXPECT_ENR(WN_ENROL_EJSON, "{", "{\"tier\":2,");
    EXPECT_ENR(WN_ENROL_EJSON, "\"tier\":2,", "");
    EXPECT_ENR(WN_ENROL_EJSON, "\"version\":1,", "");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"version\":1", "\"version\":2");
    EXPECT_ENR(WN_ENROL_EJSON, "\"version\":1", "\"version\":\"1\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"version\":1", "\"version\":1.5");
    EXPECT_ENR(WN_ENROL_EJSON, "\"meter\":\"4f", "\"meter\":\"4F");
    EXPECT_ENR(WN_ENROL_EJSON, "\"pubkey\":\"034f", "\"pubkey\":\"4f");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"pubkey\":\"034f", "\"pubkey\":\"044f");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"alg\":\"ecdsa\"", "\"alg\":\"bip340\"");     /* 03 key with BIP-340 */
    EXPECT_ENR(WN_ENROL_EJSON, "\"alg\":\"ecdsa\"", "\"alg\":\"ECDSA\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"alg\":\"ecdsa\"", "\"alg\":2");
    EXPECT_ENR(WN_ENROL_EJSON, "2026-01-15T08:00:00.000Z", "2026-01-15T08:00:00Z");
    EXPECT_ENR(WN_ENROL_EJSON, "2026-01-15T08:00:00.000Z", "2026-02-30T08:00:00.000Z");
    EXPECT_ENR(WN_ENROL_EJSON, "2026-01-15T08:00:00.000Z", "2026-01-15T08:00:00.000+08:00");
    EXPECT_ENR(WN_ENROL_EJSON, "\"point\":\"supply\"", "\"point\":\"Supply\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"point\":\"supply\"", "\"point\":3");
    EXPECT_ENR(WN_ENROL_OK, "\"point\":\"supply\"", "\"point\":\"recycling\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"tier\":2", "\"tier\":\"2\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"tier\":2", "\"tier\":2.5");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"tier\":2", "\"tier\":4");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"tier\":2", "\"tier\":0");
    EXPECT_ENR(WN_ENROL_EJSON, "\"source\":\"groundwater\"", "\"source\":\"mine water\"");
    EXPECT_ENR(WN_ENROL_OK, "\"source\":\"groundwater\"", "\"source\":\"mine_water\"");
    EXPECT_ENR(WN_ENROL_OK, "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\"",
               "\"parent\":null");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\"",
               "\"parent\":\"0000000000000000000000000000000000000000000000000000000000000000\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\"",
               "\"parent\":\"\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\"",
               "\"parent\":false");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"parent\":\"466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f27\"",
               "\"parent\":\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"enterprise\":\"91310000MA1FL8XQ3B 上海\\\"水务\\\"\"", "\"enterprise\":\"\"");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"enterprise\":\"9131", "\"enterprise\":\"\\u0001");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"enterprise\":\"9131", "\"enterprise\":\"\\n");
    EXPECT_ENR(WN_ENROL_EFORMAT, "\"enterprise\":\"9131", "\"enterprise\":\"\\u0085");  /* C1 control */
    EXPECT_ENR(WN_ENROL_EJSON, "\"enterprise\":\"9131",
               "\"enterprise\":\"12345678901234567890123456789012345678901234567890");  /* > 64 bytes */
    EXPECT_ENR(WN_ENROL_EJSON, "\"enterprise\":\"9131", "\"enterprise\":9131");
    EXPECT_ENR(WN_ENROL_OK, "\"calibration\":\"CNAS-L0001/2025-117\"", "\"calibration\":\"\"");
    EXPECT_ENR(WN_ENROL_EJSON, "\"calibration\":\"CNAS-L0001/2025-117\"", "\"calibration\":null");
    EXPECT_ENR(WN_ENROL_EJSON, "\"registrar\":\"3c", "\"registrar\":\"3C");
    EXPECT_ENR(WN_ENROL_EJSON, "\"sig\":\"16", "\"sig\":\"1");
    EXPECT_ENR(WN_ENROL_EJSON, "\"sig\":\"16", "\"sig\":\"16ab");
    wn_enrolment e;
    cr_assert_eq(enrolment_json(&e, "[]", NULL, 0), WN_ENROL_EJSON);
    cr_assert_eq(enrolment_json(&e, "{}", NULL, 0), WN_ENROL_EJSON);
    cr_assert_eq(wn_enrolment_from_cjson(&e, NULL, NULL, 0), WN_ENROL_EJSON);
}

Test(enrolment_json, strict_revocation)
{
    EXPECT_REV(WN_ENROL_OK, "{", "{");
    EXPECT_REV(WN_ENROL_EJSON, "{", "{\"why\":\"x\",");
    EXPECT_REV(WN_ENROL_EJSON, "{", "{\"reason\":\"other\",");
    EXPECT_REV(WN_ENROL_EJSON, "\"reason\":\"compromised\",", "");
    EXPECT_REV(WN_ENROL_EJSON, "\"reason\":\"compromised\"", "\"reason\":\"key compromised\"");
    EXPECT_REV(WN_ENROL_EJSON, "\"reason\":\"compromised\"", "\"reason\":1");
    EXPECT_REV(WN_ENROL_OK, "\"reason\":\"compromised\"", "\"reason\":\"decommissioned\"");
    EXPECT_REV(WN_ENROL_EFORMAT, "\"version\":1", "\"version\":3");
    EXPECT_REV(WN_ENROL_EJSON, "\"meter\":\"4f", "\"meter\":\"4F");
    EXPECT_REV(WN_ENROL_EJSON, "2027-03-01T00:00:00.000Z", "2027-02-29T00:00:00.000Z");
    EXPECT_REV(WN_ENROL_EFORMAT, "\"registrar\":\"3c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1\"",
               "\"registrar\":\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"");
    /* parsing does not verify: a changed reason parses, and then fails verification */
    wn_revocation r;
    char *s = with(REV_JSON, "\"compromised\"", "\"replaced\"");
    cr_assert_eq(revocation_json(&r, s, NULL, 0), WN_ENROL_OK);
    cr_assert_eq(r.reason, WN_REVOKE_REPLACED);
    cr_assert_eq(wn_revocation_verify(&r), WN_ENROL_ESIG);
    free(s);
}

Test(enrolment_json, escapes_space_and_longest_form)
{
    wn_enrolment e;
    uint8_t k[32];
    char out[WN_ENROLMENT_JSON_MAX], detail[256];
    size_t len;
    kat_enrolment(&e);
    fill(k, 0x33);
    strcpy(e.enterprise, "a\"b\\c/d");
    cr_assert_eq(wn_enrolment_sign(&e, k), WN_ENROL_OK);
    cr_assert_eq(wn_enrolment_to_json(&e, out, sizeof out, &len), WN_ENROL_OK);
    cr_assert_not_null(strstr(out, "\"enterprise\":\"a\\\"b\\\\c/d\""), "%s", out);
    wn_enrolment back;
    cr_assert_eq(enrolment_json(&back, out, detail, sizeof detail), WN_ENROL_OK, "%s", detail);
    cr_assert(enrolment_eq(&e, &back));
    for (size_t cap = 0; cap <= len; cap++)
        cr_assert_eq(wn_enrolment_to_json(&e, out, cap, NULL), WN_ENROL_ESPACE, "cap %zu", cap);
    cr_assert_eq(wn_enrolment_to_json(&e, out, len + 1, NULL), WN_ENROL_OK);

    /* longest: every text byte escaped, the longest names, a parent */
    memset(e.enterprise, '"', WN_ENTERPRISE_MAX);
    e.enterprise[WN_ENTERPRISE_MAX] = '\0';
    memset(e.calibration, '\\', WN_CALIBRATION_MAX);
    e.calibration[WN_CALIBRATION_MAX] = '\0';
    e.alg = WN_ALG_BIP340;
    e.pubkey[0] = 0x02;
    e.point = WN_POINT_TREATMENT;
    e.source = WN_SOURCE_GROUNDWATER;
    e.time_ms = WN_READING_MAX_TIME;
    cr_assert_eq(wn_enrolment_sign(&e, k), WN_ENROL_OK);
    cr_assert_eq(wn_enrolment_to_json(&e, out, sizeof out, &len), WN_ENROL_OK);
    cr_assert_lt(len, sizeof out);
    cr_assert_eq(enrolment_json(&back, out, detail, sizeof detail), WN_ENROL_OK, "%s", detail);
    cr_assert(enrolment_eq(&e, &back));

    wn_revocation r;
    char rout[WN_REVOCATION_JSON_MAX];
    memset(&r, 0, sizeof r);
    memcpy(r.meter, e.meter, 32);
    r.time_ms = WN_READING_MAX_TIME;
    r.reason = WN_REVOKE_DECOMMISSIONED;
    cr_assert_eq(wn_revocation_sign(&r, k), WN_ENROL_OK);
    cr_assert_eq(wn_revocation_to_json(&r, rout, sizeof rout, &len), WN_ENROL_OK);
    cr_assert_lt(len, sizeof rout);
    cr_assert_eq(wn_revocation_to_json(&r, rout, len, NULL), WN_ENROL_ESPACE);

    /* an invalid record has no JSON form */
    e.tier = 0;
    cr_assert_eq(wn_enrolment_to_json(&e, out, sizeof out, NULL), WN_ENROL_EFORMAT);
    r.reason = 9;
    cr_assert_eq(wn_revocation_to_json(&r, rout, sizeof rout, NULL), WN_ENROL_EFORMAT);
}

Test(enrolment_names, names)
{
    const char *p[] = {NULL, "intake", "treatment", "supply", "use", "discharge", "recycling", "certifier", NULL};
    const char *s[] = {NULL, "surface", "groundwater", "tap", "reclaimed", "rainwater", "mine_water", NULL, NULL};
    const char *r[] = {"other", "compromised", "decommissioned", "replaced", NULL};
    for (unsigned i = 0; i < 9; i++) {
        if (p[i]) cr_assert_str_eq(wn_point_name(i), p[i]); else cr_assert_null(wn_point_name(i));
        if (s[i]) cr_assert_str_eq(wn_source_name(i), s[i]); else cr_assert_null(wn_source_name(i));
    }
    for (unsigned i = 0; i < 5; i++) {
        if (r[i]) cr_assert_str_eq(wn_revoke_reason_name(i), r[i]); else cr_assert_null(wn_revoke_reason_name(i));
    }
    cr_assert_null(wn_point_name(100000));
    for (int i = 0; i <= WN_ENROL_ESPACE + 1; i++) cr_assert(strlen(wn_enrol_strerror(i)) > 3);
}
