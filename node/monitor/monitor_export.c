/* monitor_export.c — GET /v1/monitor/export?view=V&format=csv|xlsx (monitor_export.h).
 *
 *   view=enterprises                         the enterprise list
 *   view=alerts[&status&kind&enterprise&meter&after&limit]   the alert list (one page, as the API)
 *   view=enterprise&id=E[&from&to][&part=days|months|meters] an enterprise's daily and monthly figures, its meters
 *   view=meter&id=HEX[&from&to&bucket]       a meter's series (hours or days)
 *   view=balance[&enterprise&from&to]        the water balance analysis
 *   view=report&enterprise=E&month=YYYY-MM   the monthly water statistics report (用水统计月报)
 *
 * Each view asks the JSON route of the same name (wn_monitor_api) with the caller's own
 * principal, so access rules and bounds are those of the route; the answer is turned into
 * sheets of cells. A CSV file holds one sheet (part= picks it), preceded by the provenance
 * rows; an .xlsx file holds a provenance sheet and every sheet. The provenance: the node's
 * origin, the ledger range [0, N) the figures reflect (the monitor's watermark, read before
 * and after the figures; they are made again if it moved), the latest signed checkpoint
 * (size and root hash) and the zone. */
#include "node/monitor/monitor_export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "ledger/tlog/checkpoint.h"
#include "node/http/errors.h"
#include "node/log.h"
#include "node/monitor/monitor_api.h"
#include "node/monitor/monitor_int.h"
#include "node/query/bundle.h"

#define MAX_COLS 32

/* ---- parameters: some set by the export, the rest the caller's ---- */

typedef struct {
    const char *k[6], *v[6];
    size_t n;
    wn_query_get get;
    void *ctx;
} params;

static const char *pget(void *ctx, const char *key)
{
    params *p = ctx;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->k[i], key) == 0) return p->v[i];
    return p->get(p->ctx, key);
}

static void pset(params *p, const char *k, const char *v)
{
    if (p->n < 6) p->k[p->n] = k, p->v[p->n++] = v;
}

/* The JSON answer of route name, or NULL after copying its error into out. */
static cJSON *ask(wn_node *n, const wn_principal *who, const char *name, params *p, wn_response *out)
{
    wn_route_match rm;
    memset(&rm, 0, sizeof rm);
    rm.route = WN_ROUTE_MONITOR;
    snprintf(rm.sub, sizeof rm.sub, "%s", name);
    wn_response r = {0};
    wn_monitor_api(n, who, &rm, pget, p, NULL, 0, &r);
    if (r.status != 200) {
        *out = r;
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(r.body, r.len);
    wn_response_free(&r);
    if (!j) wn_reply_error(out, WN_NE_INTERNAL, "the figures could not be read back");
    return j;
}

/* ---- sheets ---- */

typedef struct {
    const char *name;        /* sheet name */
    size_t ncol, nrow, cap;
    const char *head[MAX_COLS];
    uint8_t num[MAX_COLS];   /* numeric column (written as a number in .xlsx) */
    char **cell;             /* nrow x ncol, malloc'd strings ("" for none) */
    int over;                /* more rows than WN_EXPORT_MAX_ROWS */
} sheet;

static void col(sheet *s, const char *head, int num)
{
    if (s->ncol < MAX_COLS) s->head[s->ncol] = head, s->num[s->ncol++] = (uint8_t)num;
}

/* Appends a row; returns its first cell (ncol of them, all ""), or NULL. */
static char **row(sheet *s)
{
    if (s->nrow >= WN_EXPORT_MAX_ROWS) {
        s->over = 1;
        return NULL;
    }
    if (s->nrow == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **c = realloc(s->cell, cap * s->ncol * sizeof *c);
        if (!c) return NULL;
        s->cell = c;
        s->cap = cap;
    }
    char **r = &s->cell[s->nrow++ * s->ncol];
    for (size_t i = 0; i < s->ncol; i++) r[i] = NULL;
    return r;
}

static void put(char **r, size_t i, const char *v)
{
    if (r) r[i] = strdup(v ? v : "");
}

static void sheet_free(sheet *s)
{
    for (size_t i = 0; i < s->nrow * s->ncol; i++) free(s->cell[i]);
    free(s->cell);
}

/* A member as text: strings as they are, numbers as the node wrote them, null as "". */
static void jput(char **r, size_t i, const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    char b[64];
    if (cJSON_IsString(v)) put(r, i, v->valuestring);
    else if (cJSON_IsNumber(v)) {
        snprintf(b, sizeof b, "%.10g", v->valuedouble);
        put(r, i, b);
    } else if (cJSON_IsBool(v)) put(r, i, cJSON_IsTrue(v) ? "1" : "0");
    else put(r, i, "");
}

/* An RFC 3339 time as local "YYYY-MM-DD HH:MM:SS" in the node's zone. */
static void local_time(char out[24], const char *rfc)
{
    uint64_t ms;
    out[0] = '\0';
    if (!rfc || !wn_parse_time_param(rfc, &ms)) return;
    uint64_t l = wn_zone_local_ms(ms);
    uint32_t day = (uint32_t)(l / MON_DAY_MS);
    int y;
    unsigned mo, d;
    mon_civil(day, &y, &mo, &d);
    uint64_t s = (l % MON_DAY_MS) / 1000;
    snprintf(out, 24, "%04d-%02u-%02u %02u:%02u:%02u", y, mo, d, (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
             (unsigned)(s % 60));
}

static void tput(char **r, size_t i, const cJSON *o, const char *k)
{
    char t[24];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    local_time(t, cJSON_IsString(v) ? v->valuestring : NULL);
    put(r, i, t);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *const SOURCES[] = {"surface", "groundwater", "tap", "reclaimed", "rainwater", "mine_water"};
static const char *const SOURCES_ZH[] = {"地表水", "地下水", "自来水", "再生水", "雨水", "矿井水"};

/* ---- views ---- */

static void figures_cols(sheet *s, const char *first)
{
    col(s, first, 0);
    col(s, "取水量合计 (m³)", 1);
    for (size_t i = 0; i < 6; i++) col(s, SOURCES_ZH[i], 1);
    col(s, "非常规水 (m³)", 1);
    col(s, "重复利用水量 (m³)", 1);
    col(s, "排水量 (m³)", 1);
    col(s, "重复利用率 (%)", 1);
    col(s, "非常规水占比 (%)", 1);
}

static void figures_row(sheet *s, const char *first, const cJSON *f)
{
    char **r = row(s);
    if (!r) return;
    put(r, 0, first);
    jput(r, 1, f, "intake_total");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(f, "intake");
    for (size_t i = 0; i < 6; i++) jput(r, 2 + i, in, SOURCES[i]);
    jput(r, 8, f, "nonconventional");
    jput(r, 9, f, "recycled");
    jput(r, 10, f, "discharge");
    jput(r, 11, f, "reuse_rate");
    jput(r, 12, f, "nonconventional_share");
}

static void view_enterprises(const cJSON *j, sheet *s)
{
    s->name = "企业列表";
    const char *h[] = {"统一社会信用代码", "企业名称", "区县", "园区", "计量表", "在线", "离线", "已注销", "未处理告警", "最后上报"};
    for (size_t i = 0; i < 10; i++) col(s, h[i], i >= 4 && i <= 8);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "enterprises"))
    {
        char **r = row(s);
        if (!r) break;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "enterprise_label");
        jput(r, 0, e, "enterprise");
        put(r, 1, jstr(l, "name"));
        put(r, 2, jstr(l, "county"));
        put(r, 3, jstr(l, "park"));
        jput(r, 4, e, "meters");
        jput(r, 5, e, "online");
        jput(r, 6, e, "offline");
        jput(r, 7, e, "revoked");
        jput(r, 8, e, "open_alerts");
        tput(r, 9, e, "last_time");
    }
}

static void view_alerts(const cJSON *j, sheet *s)
{
    s->name = "告警列表";
    const char *h[] = {"告警编号", "开始时间", "结束时间", "类型", "水质指标", "统一社会信用代码", "企业名称", "计量表公钥", "表号",
                       "安装位置", "次数", "数值", "限值", "证据（账本序号）", "已撤销", "确认人", "确认时间", "处理说明"};
    for (size_t i = 0; i < 18; i++) col(s, h[i], i >= 10 && i <= 12);
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "alerts"))
    {
        char **r = row(s);
        if (!r) break;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "label"), *k = cJSON_GetObjectItemCaseSensitive(a, "ack");
        jput(r, 0, a, "id");
        tput(r, 1, a, "time");
        tput(r, 2, a, "end_time");
        jput(r, 3, a, "kind");
        jput(r, 4, a, "quantity");
        jput(r, 5, a, "enterprise");
        jput(r, 6, a, "enterprise_name");
        jput(r, 7, a, "meter");
        put(r, 8, jstr(l, "number"));
        put(r, 9, jstr(l, "location"));
        jput(r, 10, a, "count");
        jput(r, 11, a, "value");
        jput(r, 12, a, "limit");
        char ev[512] = "";
        const cJSON *x;
        size_t n = 0;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(a, "evidence"))
        n += (size_t)snprintf(ev + n, n < sizeof ev ? sizeof ev - n : 0, "%s%.0f", n ? " " : "", x->valuedouble);
        put(r, 13, ev);
        jput(r, 14, a, "cleared");
        put(r, 15, jstr(k, "by"));
        tput(r, 16, k, "time");
        put(r, 17, jstr(k, "note"));
    }
}

static void view_balance(const cJSON *j, sheet *s)
{
    s->name = "水量平衡分析";
    const char *h[] = {"统一社会信用代码", "企业名称", "计量表公钥", "表号", "安装位置", "一级表水量 (m³)", "子表数",
                       "子表合计 (m³)", "差值 (m³)", "差率 (%)", "超限"};
    for (size_t i = 0; i < 11; i++) col(s, h[i], i >= 5 && i <= 9);
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(j, "rows"))
    {
        char **r = row(s);
        if (!r) break;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(b, "label");
        char n[16];
        jput(r, 0, b, "enterprise");
        jput(r, 1, b, "enterprise_name");
        jput(r, 2, b, "meter");
        put(r, 3, jstr(l, "number"));
        put(r, 4, jstr(l, "location"));
        jput(r, 5, b, "volume");
        snprintf(n, sizeof n, "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "children")));
        put(r, 6, n);
        jput(r, 7, b, "children_sum");
        jput(r, 8, b, "imbalance_m3");
        jput(r, 9, b, "imbalance_pct");
        put(r, 10, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "flagged")) ? "是" : "否");
    }
}

/* days and months of an enterprise; a 合计 (total) row closes the days */
static void view_enterprise(const cJSON *j, sheet *days, sheet *months)
{
    days->name = "逐日用水";
    months->name = "逐月用水";
    figures_cols(days, "日期");
    figures_cols(months, "月份");
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "days")) figures_row(days, jstr(d, "day"), d);
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "months")) figures_row(months, jstr(d, "month"), d);
    figures_row(days, "合计", cJSON_GetObjectItemCaseSensitive(j, "totals"));
}

static void view_meters(const cJSON *j, sheet *s)
{
    s->name = "计量表";
    const char *h[] = {"计量表公钥", "表号", "安装位置", "用途", "计量点", "级别", "水源", "上级表公钥", "已注销", "在线", "读数条数",
                       "最新序号", "最后上报"};
    for (size_t i = 0; i < 13; i++) col(s, h[i], i == 5 || i == 10 || i == 11);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "meters"))
    {
        char **r = row(s);
        if (!r) break;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(m, "label");
        jput(r, 0, m, "meter");
        put(r, 1, jstr(l, "number"));
        put(r, 2, jstr(l, "location"));
        put(r, 3, jstr(l, "purpose"));
        jput(r, 4, m, "point");
        jput(r, 5, m, "tier");
        jput(r, 6, m, "source");
        jput(r, 7, m, "parent");
        jput(r, 8, m, "revoked");
        jput(r, 9, m, "online");
        jput(r, 10, m, "readings");
        jput(r, 11, m, "last_seq");
        tput(r, 12, m, "last_time");
    }
}

/* a meter's series: one row per hour or day bucket */
static void view_meter(const cJSON *j, sheet *s)
{
    static const char *const qn[] = {"flow", "ph", "conductivity", "turbidity", "pressure", "temperature"};
    static const char *const qh[18] = {
        "流量 (m³/h) 平均", "流量 (m³/h) 最小", "流量 (m³/h) 最大", "pH 平均", "pH 最小", "pH 最大",
        "电导率 (µS/cm) 平均", "电导率 (µS/cm) 最小", "电导率 (µS/cm) 最大", "浊度 (NTU) 平均", "浊度 (NTU) 最小",
        "浊度 (NTU) 最大", "压力 (kPa) 平均", "压力 (kPa) 最小", "压力 (kPa) 最大", "水温 (°C) 平均", "水温 (°C) 最小",
        "水温 (°C) 最大"};
    s->name = "计量表时序";
    col(s, "时段开始", 0);
    col(s, "读数条数", 1);
    col(s, "水量 (m³)", 1);
    col(s, "首条账本序号", 1);
    col(s, "末条账本序号", 1);
    col(s, "状态标志", 0);
    for (size_t i = 0; i < 18; i++) col(s, qh[i], 1);
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(j, "series"))
    {
        char **r = row(s);
        if (!r) break;
        char t[24], rfc[25];
        const cJSON *tj = cJSON_GetObjectItemCaseSensitive(b, "t");
        wn_time_format(rfc, cJSON_IsNumber(tj) ? (uint64_t)tj->valuedouble : 0);
        local_time(t, rfc);
        put(r, 0, t);
        jput(r, 1, b, "n");
        jput(r, 2, b, "volume");
        jput(r, 3, b, "first_index");
        jput(r, 4, b, "last_index");
        char fl[200] = "";
        size_t n = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(b, "flags"))
        if (cJSON_IsString(x)) n += (size_t)snprintf(fl + n, n < sizeof fl ? sizeof fl - n : 0, "%s%s", n ? "|" : "", x->valuestring);
        put(r, 5, fl);
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(b, "values");
        for (size_t q = 0; q < 6; q++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(vals, qn[q]);
            jput(r, 6 + 3 * q, v, "avg");
            jput(r, 7 + 3 * q, v, "min");
            jput(r, 8 + 3 * q, v, "max");
        }
    }
}

/* ---- provenance ---- */

typedef struct {
    char origin[300], ledger[64], cp_size[32], cp_root[64], zone[8], made[24], title[200], subject[200];
} prov;

static void provenance(wn_node *n, uint64_t applied, prov *p)
{
    snprintf(p->origin, sizeof p->origin, "%s", n->origin);
    snprintf(p->ledger, sizeof p->ledger, "[0, %llu)", (unsigned long long)applied);
    char note[WN_CHECKPOINT_MAX + 1];
    size_t len;
    uint64_t cps = 0;
    p->cp_size[0] = p->cp_root[0] = '\0';
    if (wn_ledger_get_checkpoint(n->ledger, 0, note, sizeof note, &len, &cps) == WN_LEDGER_OK) {
        snprintf(p->cp_size, sizeof p->cp_size, "%llu", (unsigned long long)cps);
        const char *l2 = strchr(note, '\n'), *l3 = l2 ? strchr(l2 + 1, '\n') : NULL; /* origin, size, root */
        const char *e = l3 ? strchr(l3 + 1, '\n') : NULL;
        if (l3 && e && (size_t)(e - l3 - 1) < sizeof p->cp_root) snprintf(p->cp_root, sizeof p->cp_root, "%.*s", (int)(e - l3 - 1), l3 + 1);
    }
    wn_zone_format(p->zone, wn_zone_minutes());
    char t[25];
    wn_time_format(t, wn_now_ms());
    local_time(p->made, t);
}

static size_t prov_rows(const prov *p, const char *k[8], const char *v[8])
{
    static const char *const keys[] = {"文件", "对象", "公证节点 (origin)", "账本范围 (ledger entries)", "检查点大小 (checkpoint size)",
                                       "检查点根哈希 (root hash in base64)", "时区 (zone)", "生成时间"};
    const char *vals[] = {p->title, p->subject, p->origin, p->ledger, p->cp_size[0] ? p->cp_size : "无",
                          p->cp_root, p->zone, p->made};
    for (size_t i = 0; i < 8; i++) k[i] = keys[i], v[i] = vals[i];
    return 8;
}

/* ---- writers ---- */

/* RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
static void csv_field(wn_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        wn_buf_str(b, s);
        return;
    }
    wn_buf_str(b, "\"");
    for (; *s; s++) {
        if (*s == '"') wn_buf_str(b, "\"");
        wn_buf_add(b, s, 1);
    }
    wn_buf_str(b, "\"");
}

/* The whole file at path (malloc'd, NUL-terminated), or NULL. */
static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n + 65536 + 1 > cap) {
            char *p = realloc(buf, cap = n + 65536 + 1);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + n, 1, 65536, f);
        n += got;
    } while (got == 65536);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void write_csv(const prov *p, const sheet *s, wn_response *out)
{
    wn_buf b;
    wn_buf_init(&b);
    wn_buf_add(&b, "\xEF\xBB\xBF", 3); /* a BOM: Excel then reads UTF-8 */
    const char *k[8], *v[8];
    size_t np = prov_rows(p, k, v);
    for (size_t i = 0; i < np; i++) {
        csv_field(&b, k[i]);
        wn_buf_str(&b, ",");
        csv_field(&b, v[i]);
        wn_buf_str(&b, "\r\n");
    }
    wn_buf_str(&b, "\r\n");
    for (size_t c = 0; c < s->ncol; c++) {
        if (c) wn_buf_str(&b, ",");
        csv_field(&b, s->head[c]);
    }
    wn_buf_str(&b, "\r\n");
    for (size_t r = 0; r < s->nrow; r++) {
        for (size_t c = 0; c < s->ncol; c++) {
            if (c) wn_buf_str(&b, ",");
            const char *x = s->cell[r * s->ncol + c];
            csv_field(&b, x ? x : "");
        }
        wn_buf_str(&b, "\r\n");
    }
    wn_reply_buf(out, 200, "text/csv; charset=utf-8; header=present", &b);
}

static void write_xlsx(const prov *p, sheet *const *sheets, size_t nsheets, wn_response *out)
{
    char path[] = "/tmp/wn-export-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        wn_reply_error(out, WN_NE_INTERNAL, "no temporary file for the workbook");
        return;
    }
    close(fd);
    lxw_workbook *wb = workbook_new(path);
    int ok = wb != NULL;
    if (ok) {
        lxw_format *bold = workbook_add_format(wb);
        format_set_bold(bold);
        lxw_worksheet *ws = workbook_add_worksheet(wb, "说明");
        const char *k[8], *v[8];
        size_t np = prov_rows(p, k, v);
        worksheet_set_column(ws, 0, 0, 34, NULL);
        worksheet_set_column(ws, 1, 1, 70, NULL);
        for (size_t i = 0; i < np; i++) {
            worksheet_write_string(ws, (lxw_row_t)i, 0, k[i], bold);
            worksheet_write_string(ws, (lxw_row_t)i, 1, v[i], NULL);
        }
        for (size_t si = 0; si < nsheets; si++) {
            const sheet *s = sheets[si];
            ws = workbook_add_worksheet(wb, s->name);
            if (!ws) continue;
            worksheet_set_column(ws, 0, (lxw_col_t)(s->ncol ? s->ncol - 1 : 0), 16, NULL);
            for (size_t c = 0; c < s->ncol; c++) worksheet_write_string(ws, 0, (lxw_col_t)c, s->head[c], bold);
            for (size_t r = 0; r < s->nrow; r++)
                for (size_t c = 0; c < s->ncol; c++) {
                    const char *x = s->cell[r * s->ncol + c];
                    char *end;
                    double d;
                    if (!x || !*x) continue;
                    if (s->num[c] && (d = strtod(x, &end), *end == '\0'))
                        worksheet_write_number(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, d, NULL);
                    else
                        worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, x, NULL);
                }
        }
        ok = workbook_close(wb) == LXW_NO_ERROR;
    }
    size_t len = 0;
    char *data = ok ? read_whole(path, &len) : NULL;
    unlink(path);
    if (!data) {
        wn_log("export: writing a workbook failed");
        wn_reply_error(out, WN_NE_INTERNAL, "the workbook could not be written");
        return;
    }
    out->status = 200;
    out->type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    out->body = data;
    out->len = len;
}

/* ---- the route ---- */

void wn_monitor_export(wn_node *n, const wn_principal *who, wn_query_get get, void *ctx, wn_response *out)
{
    const char *view = get(ctx, "view"), *format = get(ctx, "format"), *part = get(ctx, "part");
    if (!n->monitor) {
        wn_reply_error(out, WN_NE_NOT_FOUND, "monitoring is not running on this node");
        return;
    }
    wn_monitor_fresh(n->monitor); /* every reading acknowledged so far is exported */
    int xlsx = format && strcmp(format, "xlsx") == 0;
    if (format && !xlsx && strcmp(format, "csv") != 0) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "format must be csv or xlsx");
        return;
    }
    if (!view) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "view must be enterprises, alerts, enterprise, meter, balance or report");
        return;
    }
    params p = {.get = get, .ctx = ctx};
    const char *name = view;
    char from[11], to[11];
    prov pv;
    memset(&pv, 0, sizeof pv);
    if (strcmp(view, "report") == 0) { /* 用水统计月报: the enterprise's days of one month */
        const char *month = get(ctx, "month"), *ent = get(ctx, "enterprise");
        int y;
        unsigned mo;
        char tail;
        if (!ent || !month || strlen(month) != 7 || sscanf(month, "%4d-%2u%c", &y, &mo, &tail) != 2 || month[4] != '-' ||
            y < 1970 || y > 9998 || mo < 1 || mo > 12) {
            wn_reply_error(out, WN_NE_BAD_REQUEST, "report needs enterprise=ID and month=YYYY-MM");
            return;
        }
        snprintf(from, sizeof from, "%04d-%02u-01", y, mo);
        snprintf(to, sizeof to, "%04d-%02u-01", mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1);
        pset(&p, "id", ent);
        pset(&p, "from", from);
        pset(&p, "to", to);
        name = "enterprise";
        snprintf(pv.title, sizeof pv.title, "用水统计月报 %s", month);
    } else if (strcmp(view, "enterprises") && strcmp(view, "alerts") && strcmp(view, "enterprise") &&
               strcmp(view, "balance") && strcmp(view, "meter")) {
        wn_reply_error(out, WN_NE_BAD_REQUEST, "view must be enterprises, alerts, enterprise, meter, balance or report");
        return;
    }
    /* the figures and the watermark they reflect: made again if an entry was applied meanwhile */
    cJSON *j = NULL;
    uint64_t before = 0, after = 1;
    for (int tries = 0; tries < 3 && before != after; tries++) {
        cJSON_Delete(j);
        before = wn_monitor_applied(n->monitor);
        if (!(j = ask(n, who, name, &p, out))) return;
        after = wn_monitor_applied(n->monitor);
    }
    provenance(n, before, &pv);
    if (before != after) snprintf(pv.ledger, sizeof pv.ledger, "[0, %llu) .. [0, %llu)", (unsigned long long)before,
                                  (unsigned long long)after);
    sheet a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    sheet *list[3] = {&a, &b, &c};
    size_t ns = 1;
    if (strcmp(view, "enterprises") == 0) view_enterprises(j, &a), snprintf(pv.title, sizeof pv.title, "企业列表");
    else if (strcmp(view, "alerts") == 0) view_alerts(j, &a), snprintf(pv.title, sizeof pv.title, "告警列表");
    else if (strcmp(view, "balance") == 0) view_balance(j, &a), snprintf(pv.title, sizeof pv.title, "水量平衡分析");
    else if (strcmp(view, "meter") == 0) {
        view_meter(j, &a);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "label");
        snprintf(pv.title, sizeof pv.title, "计量表 %s %s", jstr(j, "meter"), jstr(l, "number"));
    } else {
        view_enterprise(j, &a, &b);
        view_meters(j, &c);
        if (strcmp(view, "report") == 0) a.name = "用水统计月报";
        else snprintf(pv.title, sizeof pv.title, "企业用水 %s .. %s", jstr(j, "from"), jstr(j, "to"));
        ns = 3;
        if (!xlsx && part && strcmp(part, "months") == 0) list[0] = &b;
        if (!xlsx && part && strcmp(part, "meters") == 0) list[0] = &c;
    }
    const char *ent = jstr(j, "enterprise");
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(j, "enterprise_label");
    if (*ent) snprintf(pv.subject, sizeof pv.subject, "%s %s", ent, jstr(lab, "name"));
    else snprintf(pv.subject, sizeof pv.subject, "%s", who->role == WN_ROLE_ENTERPRISE ? who->enterprise : "全部");
    if (a.over || b.over || c.over)
        wn_reply_error(out, WN_NE_BAD_REQUEST, "more than 20000 rows: ask for a shorter window or fewer items");
    else if (xlsx) write_xlsx(&pv, list, ns, out);
    else write_csv(&pv, list[0], out);
    sheet_free(&a);
    sheet_free(&b);
    sheet_free(&c);
    cJSON_Delete(j);
}
