/* feeder.h — fills a real wn-node with ledger entries for tests that look at the whole
 * ledger (tlog-tiles, HTTP audits): a registrar key, BIP-340 meters enrolled through
 * POST /v1/enrolments, and their chained readings posted as binary batches. The bytes of
 * every entry the node accepted are kept in ledger order, so a test can compare what the
 * node serves with what was sent. Also a small HTTP client (libcurl) that keeps the
 * Content-Type and Cache-Control headers of the answer. Nothing here asserts: functions
 * return 0 and write the reason to err. */
#ifndef WN_TEST_FEEDER_H
#define WN_TEST_FEEDER_H

#include <stddef.h>
#include <stdint.h>

/* ---- HTTP ---- */

typedef struct {
    long status;          /* 0: no answer */
    uint8_t *body;        /* malloc'd, NUL-terminated */
    size_t len;
    char type[128];       /* Content-Type, "" if absent */
    char cache[128];      /* Cache-Control, "" if absent */
} wn_test_resp;

/* method base_url+path with an optional body of type ctype. Returns: 1 if the node
 * answered (any status). Free r->body with wn_test_resp_free either way. */
int wn_test_http(const char *base_url, const char *method, const char *path, const char *ctype, const void *body,
                 size_t len, wn_test_resp *r);
void wn_test_resp_free(wn_test_resp *r);

/* ---- ledger contents ---- */

#define WN_FEED_MAX_METERS 16

typedef struct {
    uint8_t sk[32], id[32];
    uint64_t seq;        /* last accepted */
    uint8_t last[32];    /* its digest */
    uint64_t time;
    int64_t vol;
} wn_feed_meter;

typedef struct {
    uint8_t reg_sk[32], reg_pk[32];
    char reg_hex[65];            /* for wn-node --registrar */
    wn_feed_meter m[WN_FEED_MAX_METERS];
    unsigned nmeters;
    uint8_t **entry;             /* accepted entries in ledger order (timed: ledger/entry.h) */
    size_t *entry_len;
    uint64_t n, cap;
    char err[512];
} wn_test_feed;

/* A new registrar key and nmeters (<= WN_FEED_MAX_METERS) meter keys. Returns: 1. */
int wn_test_feed_init(wn_test_feed *f, unsigned nmeters);
void wn_test_feed_free(wn_test_feed *f);

/* Enrols every meter at the node (one entry each, in meter order). Returns: 1 on success. */
int wn_test_feed_enrol(wn_test_feed *f, const char *url);

/* Posts count readings (round robin over the meters, each the meter's next) as one binary
 * batch; every one must be accepted. Returns: 1 on success. */
int wn_test_feed_readings(wn_test_feed *f, const char *url, unsigned count);

/* Posts a second, different reading of meter number `meter` with sequence seq (already
 * used): the node must reject it as an equivocation and append evidence (entry type 0x04),
 * which is remembered as the next entry. Returns: 1 on success. */
int wn_test_feed_equivocate(wn_test_feed *f, const char *url, unsigned meter, uint64_t seq);

/* Waits (up to 30 s) until GET /v1/checkpoint has size >= size. Out: *got (may be NULL).
 * Returns: 1 on success. */
int wn_test_wait_checkpoint(const char *url, uint64_t size, uint64_t *got);

/* Waits (up to 30 s) until the latest checkpoint covers the whole ledger (no entry at its
 * size), so that an evaluation online and bundles fetched after it rest on one tree.
 * Returns: 1 on success. */
int wn_test_settle(const char *url);

#endif
