/* monfeed.h — feeding a real wn-node with meters and readings whose every value a
 * monitoring test chooses (enterprise, point, tier, source, parent; time, volume
 * increment, flags, pH), and an HTTP client that sends a bearer token. Nothing here
 * asserts: functions return 0 and write the reason to err (256 bytes). */
#ifndef WN_TEST_MONFEED_H
#define WN_TEST_MONFEED_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/reading.h"

typedef struct {
    long status;   /* 0: no answer */
    char *body;    /* malloc'd, NUL-terminated */
    size_t len;
} wn_mf_resp;

/* method url+path with the token (NULL: none) and a JSON body (NULL: none).
 * Returns: 1 if the node answered. Free r->body either way. */
int wn_mf_http(const char *url, const char *token, const char *method, const char *path, const char *json,
               wn_mf_resp *r);

typedef struct {
    uint8_t sk[32], id[32];
    char hex[65];
    uint64_t seq;        /* last accepted */
    uint8_t last[32];    /* its digest */
    uint64_t time;       /* its time */
    int64_t vol;         /* its totaliser, 10^-3 m3 */
    uint64_t index;      /* its ledger index */
} wn_mf_meter;

/* A fresh key. */
int wn_mf_meter_new(wn_mf_meter *m);

/* Enrols m (BIP-340) with these facts, signed with the registrar's key. parent may be
 * NULL. Returns: 1 on success. */
int wn_mf_enrol(const char *url, const uint8_t reg_sk[32], const wn_mf_meter *m, const char *enterprise,
                unsigned point, unsigned tier, unsigned source, const wn_mf_meter *parent, char *err);

/* m's next reading (not yet sent): sequence seq+1, chained, at time_ms, totaliser
 * +inc (10^-3 m3), flags, and pH*100 if ph100 >= 0. Signed. */
void wn_mf_next(const wn_mf_meter *m, wn_reading *r, uint64_t time_ms, int64_t inc, unsigned flags, int ph100);

/* m has made r (built by wn_mf_next): its sequence, digest, time and totaliser move on. */
void wn_mf_advance(wn_mf_meter *m, const wn_reading *r);

/* Posts readings as one JSON batch. Every one must be accepted (else 0, with the first
 * refusal in err); index[i] (may be NULL) gets reading i's ledger index. */
int wn_mf_post(const char *url, const wn_reading *r, size_t n, uint64_t *index, char *err);

/* Posts one reading and returns the node's answer (status and body) without asserting. */
int wn_mf_post_one(const char *url, const wn_reading *r, wn_mf_resp *out);

/* The CST day key (days since 1970 in UTC+8) of a time, and the UTC ms a CST day begins. */
uint32_t wn_mf_cst_day(uint64_t ms);
uint64_t wn_mf_cst_day_start(uint32_t day);

#endif
