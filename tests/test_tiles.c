/* test_tiles.c — the node as a C2SP tlog-tiles log (docs/PROTOCOL.md §9, §14).
 *
 * First the tile addressing of ledger/tlog/tile.h against the spec's own examples (paths such
 * as "x001/x234/067", the tiles of trees of size 70000 and 256), including every
 * non-canonical spelling the parser must refuse. Then a real wn-node fed with enrolments
 * and readings, read by a tile client written here independently of ledger/ (its own path
 * encoding, its own RFC 6962 hashing with OpenSSL): it fetches the checkpoint and every
 * tile the checkpoint implies, checks each upper-tile hash against the level below,
 * recomputes the root both from the leaves alone and through the upper tiles as the spec
 * describes, checks the entry bundles against the level-0 hashes and against the entries
 * that were sent, and probes partial widths, caching headers and the 404s beyond the
 * checkpoint (the node holds entries the checkpoint does not cover yet). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crypto/encoding.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/tlog/tile.h"
#include "tests/support/feeder.h"
#include "tests/support/nodeproc.h"
#include "tests/support/testutil.h"

/* ---- tile addressing (ledger/tlog/tile.h) ---- */

static void expect_path(int entries, unsigned level, uint64_t index, unsigned width, const char *path)
{
    wn_tile t = {.entries = entries, .level = level, .index = index, .width = width}, back;
    char out[WN_TILE_PATH_MAX];
    size_t n = wn_tile_format(out, sizeof out, &t);
    cr_assert(n > 0, "format %s", path);
    cr_assert_str_eq(out, path);
    cr_assert_eq(n, strlen(path));
    cr_assert(wn_tile_parse(path, &back), "parse %s", path);
    cr_assert_eq(back.entries, entries, "%s", path);
    cr_assert_eq(back.level, level, "%s", path);
    cr_assert_eq(back.index, index, "%s", path);
    cr_assert_eq(back.width, width, "%s", path);
}

Test(tile_path, spec_examples)
{
    /* "index 1234067 will be encoded as x001/x234/067" */
    expect_path(0, 0, 1234067, 256, "tile/0/x001/x234/067");
    expect_path(0, 0, 0, 256, "tile/0/000");
    expect_path(0, 1, 67, 256, "tile/1/067");
    expect_path(0, 0, 999, 256, "tile/0/999");
    expect_path(0, 0, 1000, 256, "tile/0/x001/000");
    expect_path(0, 2, 1000000, 17, "tile/2/x001/x000/000.p/17");
    expect_path(0, 63, 5, 1, "tile/63/005.p/1");
    expect_path(0, 0, 273, 112, "tile/0/273.p/112");
    expect_path(1, 0, 0, 255, "tile/entries/000.p/255");
    expect_path(1, 0, 1234067, 256, "tile/entries/x001/x234/067");
    expect_path(1, 0, 1234067, 5, "tile/entries/x001/x234/067.p/5");
    /* the largest index: 256 * N must fit 64 bits */
    expect_path(0, 0, WN_TILE_MAX_INDEX, 256, "tile/0/x072/x057/x594/x037/x927/935");
}

Test(tile_path, rejects_non_canonical)
{
    static const char *const bad[] = {
        "", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "tiles/0/000",
        "tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000", "tile/a/000", "tile/ 0/000",
        "tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/1000", "tile/0/x1/000", "tile/0/x001",
        "tile/0/x001/", "tile/0/001/002", "tile/0/x000/001", "tile/0/x000/x001/000", "tile/0/X001/000",
        "tile/0/000/", "tile/0/000.p", "tile/0/000.p/", "tile/0/000.p/0", "tile/0/000.p/256",
        "tile/0/000.p/007", "tile/0/000.p/07", "tile/0/000.p/1/", "tile/0/000.p/-1", "tile/0/000.q/1",
        "tile/0/000p/1", "tile/entries/", "tile/entries/0", "tile/entries/x001", "tile/Entries/000",
        "tile/entries/000.p/256", "tile/data/000", "tile/0/x072/x057/x594/x037/x927/936",
        "tile/0/x999/x999/x999/x999/x999/x999/999", "tile/0/000?x=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wn_tile t;
        cr_expect_not(wn_tile_parse(bad[i], &t), "accepted \"%s\"", bad[i]);
    }
    wn_tile t = {.level = 64, .width = 256};
    char out[WN_TILE_PATH_MAX];
    cr_expect_eq(wn_tile_format(out, sizeof out, &t), 0, "level 64 formatted");
    t = (wn_tile){.level = 0, .width = 0};
    cr_expect_eq(wn_tile_format(out, sizeof out, &t), 0, "width 0 formatted");
    t = (wn_tile){.level = 0, .width = 257};
    cr_expect_eq(wn_tile_format(out, sizeof out, &t), 0, "width 257 formatted");
    t = (wn_tile){.level = 0, .index = 1234067, .width = 256};
    cr_expect_eq(wn_tile_format(out, 10, &t), 0, "formatted into a short buffer");
}

Test(tile_path, round_trip)
{
    wn_test_prng_seed(7);
    for (int i = 0; i < 5000; i++) {
        uint64_t r = wn_test_prng();
        wn_tile t = {.entries = (int)(r & 1), .width = 1 + (unsigned)((r >> 1) % 256)};
        t.level = t.entries ? 0 : (unsigned)((r >> 9) % 64);
        t.index = wn_test_prng() >> (wn_test_prng() % 64);
        if (t.index > WN_TILE_MAX_INDEX) t.index >>= 8;
        char out[WN_TILE_PATH_MAX];
        cr_assert(wn_tile_format(out, sizeof out, &t) > 0);
        wn_tile back;
        cr_assert(wn_tile_parse(out, &back), "%s", out);
        cr_assert(back.entries == t.entries && back.level == t.level && back.index == t.index &&
                  back.width == t.width, "%s", out);
    }
}

Test(tile_width, spec_examples)
{
    /* "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
     * tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
     * partial level 2 tile of width 1" */
    for (uint64_t n = 0; n < 273; n++) cr_assert_eq(wn_tile_width_at(0, n, 70000), 256);
    cr_assert_eq(wn_tile_width_at(0, 273, 70000), 112);
    cr_assert_eq(wn_tile_width_at(0, 274, 70000), 0);
    cr_assert_eq(wn_tile_width_at(1, 0, 70000), 256);
    cr_assert_eq(wn_tile_width_at(1, 1, 70000), 17);
    cr_assert_eq(wn_tile_width_at(1, 2, 70000), 0);
    cr_assert_eq(wn_tile_width_at(2, 0, 70000), 1);
    cr_assert_eq(wn_tile_width_at(3, 0, 70000), 0);
    /* "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
     * tile of width 1" */
    cr_assert_eq(wn_tile_width_at(0, 0, 256), 256);
    cr_assert_eq(wn_tile_width_at(0, 1, 256), 0);
    cr_assert_eq(wn_tile_width_at(1, 0, 256), 1);
    cr_assert_eq(wn_tile_width_at(2, 0, 256), 0);
    cr_assert_eq(wn_tile_width_at(0, 0, 0), 0);
    cr_assert_eq(wn_tile_width_at(0, 0, 1), 1);
    cr_assert_eq(wn_tile_width_at(0, 0, 255), 255);
    cr_assert_eq(wn_tile_width_at(7, 0, UINT64_MAX), 255);
    cr_assert_eq(wn_tile_width_at(6, 0, UINT64_MAX), 256);
    cr_assert_eq(wn_tile_width_at(8, 0, UINT64_MAX), 0);
    cr_assert_eq(wn_tile_width_at(63, 0, UINT64_MAX), 0);
    cr_assert_eq(wn_tile_width_at(0, WN_TILE_MAX_INDEX, UINT64_MAX), 255);
    cr_assert_eq(wn_tile_width_at(0, WN_TILE_MAX_INDEX + 1, UINT64_MAX), 0);
}

/* ---- an independent tile client ---- */

static void sha256(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen, const void *c, size_t clen)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    cr_assert(x && EVP_DigestInit_ex(x, EVP_sha256(), NULL));
    EVP_DigestUpdate(x, a, alen);
    if (blen) EVP_DigestUpdate(x, b, blen);
    if (clen) EVP_DigestUpdate(x, c, clen);
    unsigned n = 0;
    EVP_DigestFinal_ex(x, out, &n);
    EVP_MD_CTX_free(x);
}

static void leaf_hash(uint8_t out[32], const uint8_t *e, size_t len)
{
    static const uint8_t zero = 0x00;
    sha256(out, &zero, 1, e, len, NULL, 0);
}

static void node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    static const uint8_t one = 0x01;
    sha256(out, &one, 1, l, 32, r, 32);
}

/* RFC 6962 MTH over n >= 1 leaf hashes. */
static void mth(uint8_t out[32], const uint8_t (*h)[32], uint64_t n)
{
    if (n == 1) {
        memcpy(out, h[0], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    uint8_t l[32], r[32];
    mth(l, h, k);
    mth(r, h + k, n - k);
    node_hash(out, l, r);
}

/* The spec's path of tile (level or entries, n, width), written independently of ledger/. */
static void tile_url(char *out, size_t cap, int entries, unsigned level, uint64_t n, unsigned width)
{
    char num[64] = "";
    char tmp[64];
    snprintf(num, sizeof num, "%03u", (unsigned)(n % 1000));
    for (uint64_t rest = n / 1000; rest > 0; rest /= 1000) {
        snprintf(tmp, sizeof tmp, "x%03u/%s", (unsigned)(rest % 1000), num);
        memcpy(num, tmp, sizeof num);
    }
    char lv[16];
    if (entries) snprintf(lv, sizeof lv, "entries");
    else snprintf(lv, sizeof lv, "%u", level);
    if (width == 256) snprintf(out, cap, "/tile/%s/%s", lv, num);
    else snprintf(out, cap, "/tile/%s/%s.p/%u", lv, num, width);
}

typedef struct {
    const char *url;
    uint64_t size;
    uint8_t root[32];
    uint8_t (*h[8])[32]; /* h[L]: the hashes of level L, size >> 8L of them */
    uint64_t count[8];
    unsigned levels;
} mirror;

static wn_test_resp fetch(const char *url, const char *path)
{
    wn_test_resp r;
    cr_assert(wn_test_http(url, "GET", path, NULL, NULL, 0, &r), "GET %s: no answer", path);
    return r;
}

static void expect_status(const char *url, const char *path, long status)
{
    wn_test_resp r = fetch(url, path);
    cr_assert_eq(r.status, status, "GET %s: expected %ld, got %ld %s", path, status, r.status, (char *)r.body);
    if (status >= 400) cr_assert(strstr((char *)r.body, "\"error\""), "GET %s: no error body", path);
    wn_test_resp_free(&r);
}

/* Fetches a tile that must exist and checks its headers. */
static wn_test_resp fetch_tile(const char *url, int entries, unsigned level, uint64_t n, unsigned width)
{
    char path[128];
    tile_url(path, sizeof path, entries, level, n, width);
    wn_test_resp r = fetch(url, path);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, (char *)r.body);
    cr_assert_str_eq(r.type, "application/octet-stream", "GET %s", path);
    if (width == 256) cr_assert_str_eq(r.cache, "public, max-age=31536000, immutable", "GET %s", path);
    else cr_assert_str_eq(r.cache, "public, max-age=60", "GET %s", path);
    return r;
}

/* The checkpoint from /checkpoint: same as /v1/checkpoint, signed by the notary. */
static void fetch_checkpoint(mirror *m, const uint8_t notary[32])
{
    wn_test_resp a = fetch(m->url, "/checkpoint"), b = fetch(m->url, "/v1/checkpoint");
    cr_assert_eq(a.status, 200, "/checkpoint: %ld %s", a.status, (char *)a.body);
    cr_assert_str_eq(a.type, "text/plain; charset=utf-8");
    cr_assert_str_eq(a.cache, "no-store");
    cr_assert_eq(b.status, 200);
    cr_assert(a.len == b.len && memcmp(a.body, b.body, a.len) == 0, "/checkpoint differs from /v1/checkpoint");
    wn_checkpoint cp;
    int rc = wn_checkpoint_verify((char *)a.body, a.len, NULL, notary, &cp);
    cr_assert_eq(rc, WN_CHECKPOINT_OK, "checkpoint: %s", wn_checkpoint_strerror(rc));
    /* the root line, read here without ledger/: line 3 of the note, base64 */
    const char *l2 = strchr((char *)a.body, '\n'), *l3 = l2 ? strchr(l2 + 1, '\n') : NULL,
               *end = l3 ? strchr(l3 + 1, '\n') : NULL;
    cr_assert(end);
    size_t rl;
    cr_assert(wn_base64_decode(m->root, 32, &rl, l3 + 1, (size_t)(end - l3 - 1)) && rl == 32);
    cr_assert(memcmp(m->root, cp.root, 32) == 0);
    m->size = strtoull(l2 + 1, NULL, 10);
    cr_assert_eq(m->size, cp.size);
    wn_test_resp_free(&a);
    wn_test_resp_free(&b);
}

/* Fetches every hash tile the checkpoint implies: per level, floor(size / 256^L) hashes in
 * full tiles and one partial tile. */
static void fetch_hash_tiles(mirror *m)
{
    m->levels = 0;
    for (unsigned L = 0; L < 8; L++) {
        uint64_t c = m->size;
        for (unsigned i = 0; i < L; i++) c /= 256;
        if (c == 0) break;
        m->count[L] = c;
        m->h[L] = malloc(c * 32);
        cr_assert(m->h[L]);
        for (uint64_t n = 0; n * 256 < c; n++) {
            unsigned w = c - n * 256 >= 256 ? 256 : (unsigned)(c - n * 256);
            wn_test_resp r = fetch_tile(m->url, 0, L, n, w);
            cr_assert_eq(r.len, (size_t)w * 32, "tile %u/%llu: %zu bytes for width %u", L, (unsigned long long)n, r.len, w);
            memcpy(m->h[L][n * 256], r.body, r.len);
            wn_test_resp_free(&r);
        }
        m->levels = L + 1;
    }
}

/* MTH(D[lo : lo+n]) through the tiles: an aligned subtree of 256^L leaves (L >= 1) is one
 * hash of a level-L tile; anything else is split as RFC 6962 does, down to leaf hashes. */
static void root_via_tiles(const mirror *m, uint8_t out[32], uint64_t lo, uint64_t n, unsigned *used_upper)
{
    uint64_t span = 1;
    unsigned L = 0;
    while (L + 1 < m->levels && span * 256 <= n) span *= 256, L++;
    if (L >= 1 && n == span && lo % span == 0) {
        memcpy(out, m->h[L][lo / span], 32);
        (*used_upper)++;
        return;
    }
    if (n == 1) {
        memcpy(out, m->h[0][lo], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    uint8_t l[32], r[32];
    root_via_tiles(m, l, lo, k, used_upper);
    root_via_tiles(m, r, lo + k, n - k, used_upper);
    node_hash(out, l, r);
}

static void check_tree(const mirror *m)
{
    /* every hash at level L >= 1 is the MTH of a full tile of the level below */
    for (unsigned L = 1; L < m->levels; L++) {
        for (uint64_t j = 0; j < m->count[L]; j++) {
            uint8_t h[32];
            mth(h, m->h[L - 1] + 256 * j, 256);
            cr_assert(memcmp(h, m->h[L][j], 32) == 0, "level %u hash %llu is not the MTH of tile %u/%llu", L,
                      (unsigned long long)j, L - 1, (unsigned long long)j);
        }
    }
    uint8_t root[32];
    mth(root, (const uint8_t(*)[32])m->h[0], m->size);
    cr_assert(memcmp(root, m->root, 32) == 0, "the root of the level-0 hashes is not the checkpoint's");
    unsigned upper = 0;
    root_via_tiles(m, root, 0, m->size, &upper);
    cr_assert(memcmp(root, m->root, 32) == 0, "the root through the upper tiles is not the checkpoint's");
    if (m->size >= 256) cr_assert(upper > 0, "the upper tiles were not used");
}

/* Every entry bundle: u16-length-prefixed entries that hash to the level-0 tile and are
 * the entries that were sent. */
static void check_bundles(const mirror *m, const wn_test_feed *f)
{
    for (uint64_t n = 0; n * 256 < m->size; n++) {
        unsigned w = m->size - n * 256 >= 256 ? 256 : (unsigned)(m->size - n * 256);
        wn_test_resp r = fetch_tile(m->url, 1, 0, n, w);
        size_t off = 0;
        for (unsigned i = 0; i < w; i++) {
            uint64_t idx = n * 256 + i;
            cr_assert(r.len - off >= 2, "bundle %llu cut off before entry %u", (unsigned long long)n, i);
            size_t len = wn_get_u16(r.body + off);
            cr_assert(len >= 1 && r.len - off - 2 >= len, "bundle %llu: entry %u overruns", (unsigned long long)n, i);
            const uint8_t *e = r.body + off + 2;
            uint8_t leaf[32];
            leaf_hash(leaf, e, len);
            cr_assert(memcmp(leaf, m->h[0][idx], 32) == 0, "entry %llu does not hash to its level-0 tile hash",
                      (unsigned long long)idx);
            cr_assert(idx < f->n && f->entry_len[idx] == len && memcmp(f->entry[idx], e, len) == 0,
                      "entry %llu is not the entry that was sent", (unsigned long long)idx);
            off += 2 + len;
        }
        cr_assert_eq(off, r.len, "bundle %llu has bytes after its %u entries", (unsigned long long)n, w);
        wn_test_resp_free(&r);
    }
}

static void mirror_free(mirror *m)
{
    for (unsigned L = 0; L < 8; L++) free(m->h[L]);
}

/* ---- the node ---- */

typedef struct {
    char *tmp;
    wn_test_node proc;
    wn_test_feed feed;
    uint8_t notary[32];
} fixture;

static fixture F;

static void setup(void)
{
    memset(&F, 0, sizeof F);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F.tmp = wn_test_tmpdir("tiles");
    cr_assert(F.tmp);
    wn_test_node_init(&F.proc, F.tmp);
    cr_assert(wn_test_feed_init(&F.feed, 5));
}

static void teardown(void)
{
    wn_test_node_stop(&F.proc, SIGKILL);
    wn_test_feed_free(&F.feed);
    if (!getenv("WN_TEST_KEEP")) wn_test_rmtree(F.tmp);
    free(F.tmp);
    curl_global_cleanup();
}

static void start(const char *every, const char *ms)
{
    const char *args[] = {"--registrar", F.feed.reg_hex, "--checkpoint-every", every, "--checkpoint-ms", ms, NULL};
    if (!wn_test_node_start(&F.proc, args)) {
        char *log = wn_test_read_file(F.proc.log, NULL);
        cr_assert_fail("wn-node did not start: %s", log ? log : "(no log)");
    }
    wn_test_resp r = fetch(F.proc.url, "/v1/pubkey");
    cr_assert_eq(r.status, 200);
    cJSON *j = cJSON_Parse((char *)r.body);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "notary");
    cr_assert(cJSON_IsString(k) && wn_hex_decode(F.notary, 32, k->valuestring, strlen(k->valuestring)));
    cJSON_Delete(j);
    wn_test_resp_free(&r);
}

static uint64_t ledger_size(void)
{
    wn_test_resp r = fetch(F.proc.url, "/healthz");
    cr_assert_eq(r.status, 200);
    cJSON *j = cJSON_Parse((char *)r.body);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "size");
    cr_assert(cJSON_IsNumber(s));
    uint64_t n = (uint64_t)s->valuedouble;
    cJSON_Delete(j);
    wn_test_resp_free(&r);
    return n;
}

Test(tiles, none_before_the_first_checkpoint, .init = setup, .fini = teardown)
{
    start("1000000", "3600000");
    const char *url = F.proc.url;
    expect_status(url, "/checkpoint", 404);
    expect_status(url, "/tile/0/000.p/1", 404);
    expect_status(url, "/tile/entries/000.p/1", 404);
    cr_assert(wn_test_feed_enrol(&F.feed, url), "%s", F.feed.err);
    cr_assert_eq(ledger_size(), 5);
    expect_status(url, "/tile/0/000.p/1", 404); /* entries exist, but no checkpoint covers them */
    expect_status(url, "/tile/entries/000.p/5", 404);
    wn_test_resp r = fetch(url, "/v1/checkpoints");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq((char *)r.body, "{\"checkpoints\":[],\"next\":null}");
    wn_test_resp_free(&r);
}

Test(tiles, mirror_matches_the_checkpoint, .init = setup, .fini = teardown, .timeout = 120)
{
    /* A checkpoint after every request, none on a timer: ..., 5, 400, 1000, 1300. */
    start("1", "3600000");
    const char *url = F.proc.url;
    cr_assert(wn_test_feed_enrol(&F.feed, url), "%s", F.feed.err);
    cr_assert(wn_test_wait_checkpoint(url, 5, NULL));
    static const unsigned batches[] = {395, 600, 300};
    for (size_t i = 0; i < 3; i++) {
        cr_assert(wn_test_feed_readings(&F.feed, url, batches[i]), "%s", F.feed.err);
        cr_assert(wn_test_wait_checkpoint(url, F.feed.n, NULL), "no checkpoint of size %llu", (unsigned long long)F.feed.n);
    }
    cr_assert_eq(F.feed.n, 1300);
    /* Restart without timely checkpoints and append 30 more: the node holds 1330 entries,
     * its latest checkpoint 1300. */
    cr_assert(WIFEXITED(wn_test_node_stop(&F.proc, SIGTERM)));
    start("1000000", "3600000");
    url = F.proc.url;
    cr_assert(wn_test_feed_readings(&F.feed, url, 30), "%s", F.feed.err);
    cr_assert_eq(ledger_size(), 1330);

    mirror m = {.url = url};
    fetch_checkpoint(&m, F.notary);
    cr_assert_eq(m.size, 1300);
    fetch_hash_tiles(&m);
    cr_assert_eq(m.levels, 2);          /* 5 full level-0 tiles + 20, one partial level-1 tile of 5 */
    cr_assert_eq(m.count[1], 5);
    check_tree(&m);
    check_bundles(&m, &F.feed);

    /* partial widths: every width up to what the checkpoint holds, nothing beyond */
    wn_test_resp full = fetch_tile(url, 0, 0, 2, 256);
    for (unsigned w = 1; w < 256; w += 37) {
        wn_test_resp p = fetch_tile(url, 0, 0, 2, w); /* an older tree's partial tile: a prefix */
        cr_assert(p.len == 32u * w && memcmp(p.body, full.body, p.len) == 0, "0/002.p/%u", w);
        wn_test_resp_free(&p);
    }
    wn_test_resp_free(&full);
    wn_test_resp pb = fetch_tile(url, 1, 0, 5, 7);
    wn_test_resp_free(&pb);
    expect_status(url, "/tile/0/005.p/20", 200);
    expect_status(url, "/tile/0/005.p/21", 404);   /* entry 1300 exists, but is not checkpointed */
    expect_status(url, "/tile/0/005", 404);
    expect_status(url, "/tile/entries/005.p/20", 200);
    expect_status(url, "/tile/entries/005.p/21", 404);
    expect_status(url, "/tile/entries/005", 404);
    expect_status(url, "/tile/0/006.p/1", 404);
    expect_status(url, "/tile/1/000.p/5", 200);
    expect_status(url, "/tile/1/000.p/6", 404);
    expect_status(url, "/tile/1/000", 404);
    expect_status(url, "/tile/2/000.p/1", 404);    /* empty tiles are never served */
    expect_status(url, "/tile/8/000.p/1", 404);
    expect_status(url, "/tile/63/000.p/1", 404);
    /* N >= 1000 is parsed (x-prefixed elements) and lies beyond the tree */
    expect_status(url, "/tile/0/x001/000", 404);
    expect_status(url, "/tile/entries/x001/x234/067.p/5", 404);
    /* non-canonical paths are malformed */
    expect_status(url, "/tile/0/1000", 400);
    expect_status(url, "/tile/0/x000/001", 400);
    expect_status(url, "/tile/0/5", 400);
    expect_status(url, "/tile/0/005.p/256", 400);
    expect_status(url, "/tile/64/000", 400);
    expect_status(url, "/tile/entries/005.p/020", 400);
    wn_test_resp post;
    cr_assert(wn_test_http(url, "POST", "/tile/0/000", "application/json", "{}", 2, &post));
    cr_assert_eq(post.status, 405);
    wn_test_resp_free(&post);
    wn_test_resp head;
    cr_assert(wn_test_http(url, "HEAD", "/tile/0/000", NULL, NULL, 0, &head));
    cr_assert_eq(head.status, 200);
    cr_assert_eq(head.len, 0);
    cr_assert_str_eq(head.cache, "public, max-age=31536000, immutable");
    wn_test_resp_free(&head);

    /* GET /v1/checkpoints: every stored checkpoint in ascending size, each signed, with
     * the root of its size (sizes 1..5 may be merged when enrolments commit together) */
    wn_test_resp r = fetch(url, "/v1/checkpoints");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.type, "application/json");
    cJSON *j = cJSON_Parse((char *)r.body);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
    cr_assert(cJSON_IsArray(list));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "next")));
    uint64_t prev = 0;
    unsigned seen = 0;
    for (const cJSON *c = list->child; c; c = c->next) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "size");
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(c, "checkpoint");
        cr_assert(cJSON_IsNumber(s) && cJSON_IsString(note));
        wn_checkpoint cp;
        cr_assert_eq(wn_checkpoint_verify(note->valuestring, strlen(note->valuestring), NULL, F.notary, &cp),
                     WN_CHECKPOINT_OK);
        cr_assert_eq(cp.size, (uint64_t)s->valuedouble);
        cr_assert(cp.size > prev, "sizes not ascending: %s", (char *)r.body);
        prev = cp.size;
        uint8_t root[32];
        mth(root, (const uint8_t(*)[32])m.h[0], cp.size);
        cr_assert(memcmp(root, cp.root, 32) == 0, "checkpoint %llu: root", (unsigned long long)cp.size);
        seen += cp.size == 5 || cp.size == 400 || cp.size == 1000 || cp.size == 1300;
    }
    cr_assert_eq(seen, 4, "the checkpoints after each batch are not all listed");
    cr_assert_eq(prev, 1300);
    cJSON_Delete(j);
    wn_test_resp_free(&r);
    r = fetch(url, "/v1/checkpoints?from=1000");
    cr_assert_eq(r.status, 200);
    j = cJSON_Parse((char *)r.body);
    list = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
    cr_assert_eq(cJSON_GetArraySize(list), 2, "%s", (char *)r.body);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(list->child, "size")->valuedouble, 1000);
    cJSON_Delete(j);
    wn_test_resp_free(&r);
    expect_status(url, "/v1/checkpoints?from=01", 400);
    expect_status(url, "/v1/checkpoints?from=-1", 400);
    mirror_free(&m);
}
