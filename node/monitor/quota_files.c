/* quota_files.c — quota tables read from one JSON file per province (quota_files.h). */
#include "node/monitor/quota_files.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/monitor/monitor_conf.h"

static wn_quota_region g_regions[WN_QUOTA_TABLES_MAX];
static size_t g_nregions;

static int text_field(const cJSON *o, const char *k, char *out, size_t cap, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) {
        out[0] = '\0';
        return !required;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) return 0;
    snprintf(out, cap, "%s", v->valuestring);
    return 1;
}

static int load_one(const char *path, const char *fname, wn_quota_region *r, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return 0;
    }
    char *buf = malloc(WN_QUOTA_FILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, WN_QUOTA_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || len > WN_QUOTA_FILE_MAX) {
        free(buf);
        snprintf(err, cap, "%s: larger than %u bytes", path, WN_QUOTA_FILE_MAX);
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    memset(r, 0, sizeof *r);
    const cJSON *qs = j ? cJSON_GetObjectItemCaseSensitive(j, "quotas") : NULL;
    int ok = cJSON_IsObject(j) && text_field(j, "province", r->province, sizeof r->province, 1) &&
             text_field(j, "name", r->name, sizeof r->name, 1) && text_field(j, "name_en", r->name_en, sizeof r->name_en, 0) &&
             text_field(j, "source", r->source, sizeof r->source, 1) && r->source[0] && cJSON_IsObject(qs);
    if (!ok) {
        snprintf(err, cap, "%s: expected {\"province\":\"PP\",\"name\",\"source\",\"quotas\":{PRODUCT:NUMBER}}", path);
        cJSON_Delete(j);
        return 0;
    }
    if (strlen(r->province) != 2 || r->province[0] < '1' || r->province[0] > '9' || r->province[1] < '0' ||
        r->province[1] > '9' || strncmp(fname, r->province, 2) != 0 || strcmp(fname + 2, ".json") != 0) {
        snprintf(err, cap, "%s: province must be two digits and the file named after it (PP.json)", path);
        cJSON_Delete(j);
        return 0;
    }
    for (const cJSON *q = qs->child; q; q = q->next) {
        const wn_quota *cat = wn_quota_find(q->string);
        if (!cat || !cJSON_IsNumber(q) || !isfinite(q->valuedouble) || q->valuedouble <= 0 ||
            r->n == sizeof r->q / sizeof r->q[0]) {
            snprintf(err, cap, "%s: %s is not a product of the catalogue with a positive quota", path, q->string);
            cJSON_Delete(j);
            return 0;
        }
        r->q[r->n].product = cat->product;
        r->q[r->n++].m3_per_unit = q->valuedouble;
    }
    cJSON_Delete(j);
    return 1;
}

static int by_province(const void *a, const void *b)
{
    return strcmp(((const wn_quota_region *)a)->province, ((const wn_quota_region *)b)->province);
}

int wn_quota_files_load(const char *dir, char *err, size_t cap)
{
    g_nregions = 0;
    DIR *d = opendir(dir);
    if (!d) {
        wn_log("quotas: no directory %s: no quota table (water per unit product is shown without a quota)", dir);
        return 1;
    }
    struct dirent *e;
    int ok = 1;
    while (ok && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
        if (g_nregions == WN_QUOTA_TABLES_MAX) {
            snprintf(err, cap, "%s: more than %u quota tables", dir, WN_QUOTA_TABLES_MAX);
            ok = 0;
            break;
        }
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ok = load_one(path, e->d_name, &g_regions[g_nregions], err, cap);
        if (ok) g_nregions++;
    }
    closedir(d);
    if (!ok) {
        g_nregions = 0;
        return 0;
    }
    qsort(g_regions, g_nregions, sizeof g_regions[0], by_province);
    for (size_t i = 0; i < g_nregions; i++)
        wn_log("quotas: province %s (%s): %zu products, source: %s", g_regions[i].province, g_regions[i].name,
               g_regions[i].n, g_regions[i].source);
    return 1;
}

const wn_quota_region *wn_quota_region_of(const char *province)
{
    for (size_t i = 0; province && i < g_nregions; i++)
        if (strcmp(g_regions[i].province, province) == 0) return &g_regions[i];
    return NULL;
}

double wn_quota_region_value(const wn_quota_region *r, const char *product)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->q[i].product, product) == 0) return r->q[i].m3_per_unit;
    return NAN;
}

const wn_quota_region *wn_quota_regions(size_t *n)
{
    *n = g_nregions;
    return g_regions;
}
