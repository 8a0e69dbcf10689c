/* bureau.h — what the water bureau (and enterprises) tell the node, as opposed to what
 * the ledger proves: monitoring settings, annual water plans, production figures, alert
 * acknowledgements and the sequence gaps the node refused. None of it can be rebuilt from
 * the ledger, so it lives in its own LMDB environment DIR/bureau, committed durably
 * (fsync) before any call returns. Values are opaque bytes to this module; the monitor
 * (monitor.h) gives them meaning. Safe to call from any thread. */
#ifndef WN_NODE_BUREAU_H
#define WN_NODE_BUREAU_H

#include <stddef.h>

enum wn_bureau_table {
    WN_BT_SETTINGS = 0, /* "settings" -> JSON object of thresholds */
    WN_BT_PLANS,        /* enterprise NUL u32 year -> JSON {"plan_m3":...,"by":...,"time":...} */
    WN_BT_PRODUCTION,   /* enterprise NUL "YYYY-MM" NUL product -> JSON record */
    WN_BT_ACKS,         /* alert id (16 bytes) -> JSON {"by":...,"role":...,"token":...,"time":...,"note":...} */
    WN_BT_GAPS,         /* meter id (32) || u64 expected sequence -> sequence-gap alert record */
    WN_BT_LABELS,       /* 'm' meter id (32) | 'e' enterprise id -> JSON label (names.h) */
    WN_BT_LABEL_LOG,    /* u64 change number (big-endian) -> JSON {who, when, old -> new} (names.h) */
    WN_BT_VALUE_ADDED,  /* enterprise NUL u32 year -> JSON {"value_added_10k_cny","by","token","time"} (indicators.h) */
    WN_BT_COUNT
};

typedef struct wn_bureau wn_bureau;

/* Opens (creating) the environment in dir. Returns: 1 on success, 0 (logged) on failure. */
int wn_bureau_open(wn_bureau **out, const char *dir);
void wn_bureau_close(wn_bureau *b);

/* Stores key -> value in table, durably. Returns: 1 on success (0 logged). */
int wn_bureau_put(wn_bureau *b, int table, const void *key, size_t klen, const void *val, size_t vlen);

/* Deletes key from table, durably (a missing key is no error). Returns: 1 on success (0 logged). */
int wn_bureau_del(wn_bureau *b, int table, const void *key, size_t klen);

/* Several puts and deletes in one durable transaction: all or none. */
typedef struct {
    int table, del;              /* del: delete key (a missing key is no error), else put */
    const void *key, *val;
    size_t klen, vlen;
} wn_bureau_op;
/* Returns: 1 on success (0 logged). */
int wn_bureau_write(wn_bureau *b, const wn_bureau_op *ops, size_t n);

/* Calls fn for every record of table whose key starts with prefix (plen may be 0), in key
 * order; fn returns non-zero to stop. Returns: 1 on success, 0 if the env could not be read. */
typedef int (*wn_bureau_visit)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int wn_bureau_each(wn_bureau *b, int table, const void *prefix, size_t plen, wn_bureau_visit fn, void *ctx);
/* The same for every record from key start on (to the table's end). */
int wn_bureau_each_from(wn_bureau *b, int table, const void *start, size_t slen, wn_bureau_visit fn, void *ctx);

#endif
