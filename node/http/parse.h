/* parse.h — everything the node reads from a request, as pure functions that need no
 * running server (so tests/fuzz/fuzz_http.c can drive them): the route of a path, the
 * media type, reading bodies (one JSON reading, a JSON batch, a binary batch), enrolment
 * and revocation bodies, and query parameters. Formats are docs/PROTOCOL.md §2, §5, §9. */
#ifndef WN_NODE_PARSE_H
#define WN_NODE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/tlog/tile.h"

#define WN_DETAIL_MAX 200
#define WN_BATCH_MAX_ITEMS 65536 /* readings in one request */
#define WN_BINARY_TYPE "application/vnd.waternotary.readings"

/* ---- routes ---- */

enum wn_route {
    WN_ROUTE_ENROL = 1,       /* POST /v1/enrolments */
    WN_ROUTE_REVOKE,          /* POST /v1/revocations */
    WN_ROUTE_READINGS,        /* POST /v1/readings */
    WN_ROUTE_CHECKPOINT,      /* GET /v1/checkpoint */
    WN_ROUTE_ENTRY,           /* GET /v1/entries/N */
    WN_ROUTE_PROOF_INCL,      /* GET /v1/proof/inclusion */
    WN_ROUTE_PROOF_CONS,      /* GET /v1/proof/consistency */
    WN_ROUTE_METER,           /* GET /v1/meters/HEX */
    WN_ROUTE_PUBKEY,          /* GET /v1/pubkey */
    WN_ROUTE_HEALTH,          /* GET /healthz */
    WN_ROUTE_METRICS,         /* GET /metrics */
    WN_ROUTE_BUNDLE,          /* GET /v1/bundle (bundle.h) */
    WN_ROUTE_TILE,            /* GET /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>] (tiles.h) */
    WN_ROUTE_CHECKPOINTS,     /* GET /v1/checkpoints (tiles.h) */
    WN_ROUTE_ANCHORS,         /* GET /v1/anchors (anchor.h) */
    WN_ROUTE_CHECKPOINT_ANCHOR, /* GET /v1/checkpoint/anchor (anchor.h) */
    WN_ROUTE_CERTIFICATES,    /* POST /v1/certificates (certs.h) */
    WN_ROUTE_TRANSFERS,       /* POST /v1/transfers (certs.h) */
    WN_ROUTE_RETIREMENTS,     /* POST /v1/retirements (certs.h) */
    WN_ROUTE_CERTIFICATE,     /* GET /v1/certificates/N (certs.h) */
    WN_ROUTE_PROJECT_CERTS,   /* GET /v1/project/certificates?id=ID (certs.h) */
    WN_ROUTE_ENTERPRISES,     /* POST /v1/enterprises (enterprises.h) */
    WN_ROUTE_ENTERPRISE_BUNDLE, /* GET /v1/enterprises/bundle?code=CODE (enterprises.h) */
    WN_ROUTE_ACCREDITATIONS,  /* POST /v1/accreditations (enterprises.h) */
    WN_ROUTE_ACCREDITATION_BUNDLE, /* GET /v1/accreditations/bundle?code=CODE (enterprises.h) */
    WN_ROUTE_CALIBRATIONS,    /* POST /v1/calibrations (calibrations.h) */
    WN_ROUTE_CALIBRATION_BUNDLE, /* GET /v1/calibrations/bundle?meter=HEX (calibrations.h) */
    WN_ROUTE_MONITOR,         /* GET/POST /v1/monitor/NAME (monitor_api.c; NAME in sub) */
    WN_ROUTE_UI               /* GET /ui/FILE, /ui, / (web.c; FILE in sub) */
};

typedef struct {
    int route;          /* enum wn_route */
    int is_post;        /* the route takes a body */
    uint64_t index;     /* WN_ROUTE_ENTRY, WN_ROUTE_CERTIFICATE */
    uint8_t meter[32];  /* WN_ROUTE_METER */
    wn_tile tile;       /* WN_ROUTE_TILE */
    char sub[96];       /* WN_ROUTE_MONITOR: NAME; WN_ROUTE_UI: FILE ("" for / and /ui) */
} wn_route_match;

/* Matches method (GET, HEAD or POST) and path (without the query string). GET /checkpoint
 * (tlog-tiles) is WN_ROUTE_CHECKPOINT, like GET /v1/checkpoint.
 * Returns: WN_NE_OK, WN_NE_NOT_FOUND, WN_NE_METHOD_NOT_ALLOWED or WN_NE_BAD_REQUEST
 * (a malformed index or meter id in the path); detail explains. */
int wn_route_parse(const char *method, const char *path, wn_route_match *m, char *detail, size_t detailcap);

/* ---- scalars ---- */

/* Strict decimal: digits only, no sign, no leading zeros (except "0"), value <= max.
 * Returns: 1 on success. */
int wn_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Exactly 64 lowercase hex characters. Returns: 1 on success. */
int wn_parse_hex32(const char *s, uint8_t out[32]);

/* ---- media types ---- */

enum wn_body_kind { WN_BODY_JSON = 1, WN_BODY_BINARY };

/* Content-Type of a readings request (NULL means JSON). Parameters after ';' are ignored.
 * Out: *kind. Returns: WN_NE_OK or WN_NE_UNSUPPORTED_MEDIA. */
int wn_parse_media_type(const char *content_type, int allow_binary, int *kind);

/* ---- readings ---- */

/* One reading of a request: decoded, or the reason it could not be. */
typedef struct {
    int err;                   /* WN_NE_OK or WN_NE_MALFORMED_READING */
    char detail[WN_DETAIL_MAX];
    int has_meter, has_seq;    /* meter/seq known (from the reading or the malformed input) */
    uint8_t meter[32];
    uint64_t seq;
    wn_reading r;              /* valid when err == WN_NE_OK */
    uint8_t bytes[WN_READING_MAX_LEN];
    size_t len;
} wn_parsed_reading;

typedef struct {
    wn_parsed_reading *items;
    size_t n;
    int single;                /* the body was one bare JSON reading object */
} wn_parsed_batch;

/* Parses a readings body: a JSON reading object, {"readings":[...]}, or (kind
 * WN_BODY_BINARY) repeated u16 length || reading bytes. Per-reading problems are reported
 * in the items; what makes the whole body unusable is returned: WN_NE_MALFORMED_JSON
 * (not JSON, not an object, wrong shape), WN_NE_MALFORMED_READING (binary framing, too
 * many readings), WN_NE_INTERNAL (out of memory). Out: *out (free with
 * wn_parsed_batch_free, also after an error). Signatures are not verified here. */
int wn_parse_readings(wn_parsed_batch *out, const char *body, size_t len, int kind, char *detail,
                      size_t detailcap);

/* Says whether meter is an id already known to be a valid key, such as an enrolled
 * meter's (its key was checked at enrolment). Returns: 1 if so. */
typedef int (*wn_known_meter)(void *ctx, const uint8_t meter[32]);

/* wn_parse_readings, but a binary reading whose meter id known() confirms is decoded
 * without the id's curve-point check (wn_reading_decode_known_meter), which can change no
 * result for such an id; other ids get the full decode, so `bad_meter_id` is still
 * reported before anything the node checks later. known may be NULL (no id is known). */
int wn_parse_readings_known(wn_parsed_batch *out, const char *body, size_t len, int kind, wn_known_meter known,
                            void *known_ctx, char *detail, size_t detailcap);
void wn_parsed_batch_free(wn_parsed_batch *b);

/* ---- enrolment records ---- */

/* Parse the JSON forms of PROTOCOL §5. Returns: WN_NE_OK, WN_NE_MALFORMED_JSON (not a JSON
 * object) or WN_NE_MALFORMED_RECORD (the record breaks a rule); detail explains.
 * The registrar's signature is not checked here. */
int wn_parse_enrolment(wn_enrolment *e, const char *body, size_t len, char *detail, size_t detailcap);
int wn_parse_revocation(wn_revocation *r, const char *body, size_t len, char *detail, size_t detailcap);

/* ---- query parameters ---- */

/* Looks up a query parameter's value; NULL if absent. */
typedef const char *(*wn_query_get)(void *ctx, const char *key);

typedef struct {
    int by_meter;       /* meter=HEX&seq=N instead of index=N */
    uint64_t index;
    uint8_t meter[32];
    uint64_t seq;
    uint64_t size;      /* 0: the latest checkpoint */
} wn_incl_query;

/* GET /v1/proof/inclusion: index=N or meter=HEX&seq=N, optional size=S (S >= 1).
 * Returns: WN_NE_OK or WN_NE_BAD_REQUEST. */
int wn_parse_incl_query(wn_query_get get, void *ctx, wn_incl_query *q, char *detail, size_t detailcap);
/* GET /v1/proof/consistency: from=M (M >= 1), optional to=N (0: latest), M <= N. */
int wn_parse_cons_query(wn_query_get get, void *ctx, uint64_t *from, uint64_t *to, char *detail,
                        size_t detailcap);
/* GET /v1/checkpoint: optional size=N (0: latest). */
int wn_parse_checkpoint_query(wn_query_get get, void *ctx, uint64_t *size, char *detail, size_t detailcap);

#endif
