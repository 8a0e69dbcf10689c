/* names.h — what people call meters and enterprises on the bureau's page and in its exports
 * (docs/PROTOCOL.md §18 "Labels"). Today: labels the bureau maintains through
 * POST /v1/monitor/labels — a meter's number, location and purpose; an enterprise's name,
 * county and park. They are not signed data and prove nothing: every figure stays keyed by
 * the meter's key and the enterprise's id, which answers always carry beside the label.
 * Every change is logged durably in the bureau store with who (the name given, the role and
 * the token's id), when, and the old and new label, in the same transaction as the change.
 *
 * THE ONE LOOKUP OF NAMES: wn_names_enterprise and wn_names_meter (and the JSON writers
 * built on them). An enterprise's name comes first from its registrar-signed enterprise
 * record in force (PROTOCOL §5, looked up through the registry the node wires in,
 * wn_names_set_registry), then from the bureau's label.
 *
 * Bounds: fields are at most WN_NAME_FIELD_MAX bytes of text without control characters;
 * at most WN_NAMES_MAX labels of each kind; the change log keeps the latest
 * WN_NAMES_LOG_MAX changes (the oldest is deleted with the change that passes it). Safe
 * to call from any thread. */
#ifndef WN_NODE_NAMES_H
#define WN_NODE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "node/http/access.h"
#include "node/http/buf.h"
#include "node/monitor/bureau.h"

#define WN_NAME_FIELD_MAX 96      /* bytes per field (32 Chinese characters) */
#define WN_NAMES_MAX 100000u      /* labels of meters; and of enterprises */
#define WN_NAMES_LOG_MAX 100000u  /* changes kept in the log */

typedef struct {
    char number[WN_NAME_FIELD_MAX + 1], location[WN_NAME_FIELD_MAX + 1], purpose[WN_NAME_FIELD_MAX + 1];
} wn_meter_name;

typedef struct {
    char name[WN_NAME_FIELD_MAX + 1], county[WN_NAME_FIELD_MAX + 1], park[WN_NAME_FIELD_MAX + 1];
} wn_ent_name;

typedef struct wn_names wn_names;

/* Loads the labels and the log's bounds from the bureau store. Returns: 1, or 0 (logged). */
int wn_names_open(wn_names **out, wn_bureau *b);
void wn_names_close(wn_names *n);

/* Where registrar-signed enterprise records are found (node/lifecycle.c wires the
 * certificate store's): writes the registered name of ent's record in force into
 * name[0..cap). Returns: 1 if ent has a record. Called without any names lock held. */
typedef int (*wn_names_registry_fn)(void *ctx, const char *ent, char *name, size_t cap);
void wn_names_set_registry(wn_names *n, wn_names_registry_fn fn, void *ctx);

/* Copies the label. Returns: 1 if the meter / enterprise has one (else *out is empty). */
int wn_names_meter(wn_names *n, const uint8_t id[32], wn_meter_name *out);
int wn_names_enterprise(wn_names *n, const char *ent, wn_ent_name *out);

/* ,"label":{"number","location","purpose"}|null */
void wn_names_json_meter(wn_names *n, wn_buf *b, const uint8_t id[32]);
/* ,"enterprise_name":NAME|null,"enterprise_label":{"name","county","park"}|null: the name
 * is the registered one (enterprise record), else the label's */
void wn_names_json_enterprise(wn_names *n, wn_buf *b, const char *ent);

/* POST /v1/monitor/labels: {"meter":HEX,"number","location","purpose","by"} or
 * {"enterprise":ID,"name","county","park","by"}; fields left out are kept, all fields
 * empty deletes the label. Returns: a node error code (errors.h), detail for people. */
int wn_names_set(wn_names *n, const wn_principal *who, const char *body, size_t len, char *detail, size_t cap);

/* Whether an enterprise principal may see a label: visible(ctx, enterprise id) for an
 * enterprise label; for a meter label, meter_ent(ctx, id, out) gives its enterprise. */
typedef struct {
    void *ctx;
    int (*visible)(void *ctx, const char *ent);
    int (*meter_ent)(void *ctx, const uint8_t id[32], char ent[65]);
} wn_names_filter;

/* GET /v1/monitor/labels?kind=meter|enterprise: a page of labels in key order from position
 * from, at most limit: {"labels":[...],"next":N|null}. */
void wn_names_list(wn_names *n, wn_buf *b, int meters, uint64_t from, uint64_t limit, const wn_names_filter *f);
/* GET /v1/monitor/label_log: changes from number from on, oldest first, at most limit:
 * {"changes":[{"change","time","by","role","token","meter"|"enterprise","old","new"}],"first","next"}. */
void wn_names_log(wn_names *n, wn_buf *b, uint64_t from, uint64_t limit);

#endif
