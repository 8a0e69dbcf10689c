/* quota_files.h — quota tables as data (docs/PROTOCOL.md §18 "Indicators"): one JSON file per
 * province, QUOTAS_DIR/PP.json (PP: the province's two-digit administrative division code),
 *   {"province":"PP","name":..,"name_en":..,"source":..,"quotas":{PRODUCT: m3 per unit, ...}}
 * where PRODUCT is a name of the product catalogue (monitor_conf.h: wn_quota_find) and the
 * unit is the catalogue's. The node reads the directory `quotas/` of its page (--web) once at
 * start, before the monitor opens; a malformed file stops the start (a typo must not drop a
 * quota silently). Shipped: 43.json, Hunan Province 2020 averages. Read-only afterwards. */
#ifndef WN_NODE_QUOTA_FILES_H
#define WN_NODE_QUOTA_FILES_H

#include <stddef.h>

#define WN_QUOTA_FILE_MAX (64u << 10) /* bytes of one file */
#define WN_QUOTA_TABLES_MAX 40u       /* provinces */

typedef struct {
    char province[3];
    char name[64], name_en[64];
    char source[400];
    size_t n;
    struct {
        const char *product; /* the catalogue's (static) */
        double m3_per_unit;
    } q[64];
} wn_quota_region;

/* Loads every dir/PP.json (a missing dir: no tables, logged). Returns: 1, or 0 with err filled. */
int wn_quota_files_load(const char *dir, char *err, size_t cap);

/* The table of province PP ("43"), or NULL. */
const wn_quota_region *wn_quota_region_of(const char *province);
/* Its quota of product, or NAN. */
double wn_quota_region_value(const wn_quota_region *r, const char *product);
/* The loaded tables (in province order). */
const wn_quota_region *wn_quota_regions(size_t *n);

#endif
