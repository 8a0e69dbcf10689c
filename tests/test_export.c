/* test_export.c — `wn export` as a child process on real ledgers: the CSV is parsed back
 * with an independent RFC 4180 reader and compared field by field with the readings in
 * the ledger (meter, sequence, time in the asked zone, quantity, unit, the exact decimal,
 * flags, index, leaf hash); meter and enterprise selection; inclusive --from, exclusive
 * --to; usage errors; the quoting helper and the time arguments on their own. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/csv.h"
#include "cli/timearg.h"
#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"
#include "tests/support/testledger.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = wn_test_tmpdir("export");
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    wn_test_rmtree(tmp);
    free(tmp);
}

TestSuite(export, .init = setup, .fini = teardown, .timeout = 60);

typedef wn_run_result result;
#define result_free wn_run_result_free
#define wn(...) wn_proc_runl(tmp, "wn", __VA_ARGS__)

/* ---- an independent RFC 4180 reader ------------------------------------------------------ */

typedef struct {
    char **f;
    size_t n;
} row;

typedef struct {
    row *rows;
    size_t n;
} table;

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->rows[i].n; j++) free(t->rows[i].f[j]);
        free(t->rows[i].f);
    }
    free(t->rows);
}

/* Parses text[0..len): every record must end with CRLF. Returns: 1, 0 if malformed. */
static int csv_parse(const char *s, size_t len, table *t)
{
    memset(t, 0, sizeof *t);
    size_t i = 0;
    while (i < len) {
        row r = {NULL, 0};
        for (;;) {
            char *buf = malloc(len + 1);
            size_t k = 0;
            if (i < len && s[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) return 0;
                    if (s[i] == '"') {
                        if (i + 1 < len && s[i + 1] == '"') buf[k++] = '"', i += 2;
                        else { i++; break; }
                    } else {
                        buf[k++] = s[i++];
                    }
                }
            } else {
                while (i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n') {
                    if (s[i] == '"') return 0; /* a quote inside an unquoted field */
                    buf[k++] = s[i++];
                }
            }
            buf[k] = '\0';
            r.f = realloc(r.f, (r.n + 1) * sizeof *r.f);
            r.f[r.n++] = buf;
            if (i < len && s[i] == ',') { i++; continue; }
            if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') { i += 2; break; }
            return 0; /* a record must end with CRLF */
        }
        t->rows = realloc(t->rows, (t->n + 1) * sizeof *t->rows);
        t->rows[t->n++] = r;
    }
    return 1;
}

/* ---- the quoting helper ------------------------------------------------------------------- */

static char *field_text(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(wn_csv_field(f, s, strlen(s)));
    fclose(f);
    return buf;
}

Test(export, quoting_helper_quotes_exactly_when_needed)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\rhere", "\"cr\rhere\""},
        {"crlf\r\n", "\"crlf\r\n\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"in side", "in side"},
        {"tamper|substitute", "tamper|substitute"},
        {"嘉兴市水务, 有限公司", "\"嘉兴市水务, 有限公司\""},
        {"水务集团", "水务集团"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = field_text(cases[i].in);
        cr_assert_str_eq(t, cases[i].out, "field %zu", i);
        free(t);
    }
    /* A record of awkward fields reads back as the same fields. */
    const char *fields[] = {"a,b", "\"q\"", "x\r\ny", "", " s ", "Beta, Ltd", "ünïcödé"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(wn_csv_record(f, fields, 7));
    cr_assert(wn_csv_record(f, fields, 7));
    fclose(f);
    table t;
    cr_assert(csv_parse(buf, len, &t), "%s", buf);
    cr_assert_eq(t.n, 2);
    for (size_t r = 0; r < 2; r++) {
        cr_assert_eq(t.rows[r].n, 7);
        for (size_t j = 0; j < 7; j++) cr_assert_str_eq(t.rows[r].f[j], fields[j]);
    }
    table_free(&t);
    free(buf);
}

/* ---- time arguments ----------------------------------------------------------------------- */

Test(export, time_arguments_and_zones)
{
    uint64_t ms;
    cr_assert(wn_timearg_parse("2026-11-23T19:17:38.123Z", &ms));
    char z[25];
    wn_time_format(z, ms);
    cr_assert_str_eq(z, "2026-11-23T19:17:38.123Z");
    uint64_t same;
    cr_assert(wn_timearg_parse("2026-11-24T03:17:38.123+08:00", &same));
    cr_assert_eq(same, ms);
    cr_assert(wn_timearg_parse("2026-11-23T14:17:38.123-05:00", &same));
    cr_assert_eq(same, ms);
    cr_assert(wn_timearg_parse("2026-11-23T19:17:38.1Z", &same));
    cr_assert_eq(same, ms - 23);
    cr_assert(wn_timearg_parse("2026-11-23T19:17:38Z", &same));
    cr_assert_eq(same, ms - 123);
    cr_assert(wn_timearg_parse("2026-11-23", &same));
    cr_assert_eq(same, ms - (19 * 3600 + 17 * 60 + 38) * 1000ULL - 123);
    char digits[24];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)ms);
    cr_assert(wn_timearg_parse(digits, &same));
    cr_assert_eq(same, ms);
    cr_assert(wn_timearg_parse("2028-02-29T00:00:00Z", &same), "a leap day");
    cr_assert(wn_timearg_parse("2000-02-29", &same), "2000 is a leap year");
    cr_assert(wn_timearg_parse("1970-01-01T00:00:00Z", &same) && same == 0);
    cr_assert(wn_timearg_parse("9999-12-31T23:59:59.999Z", &same) && same == 253402300799999ULL);
    static const char *const bad[] = {"2027-02-29",           "1900-02-29",           "2026-13-01",
                                      "2026-11-31",           "2026-11-23T24:00:00Z", "2026-11-23T19:60:00Z",
                                      "2026-11-23T19:17:60Z", "2026-11-23T19:17:38",  "2026-11-23T19:17:38.1234Z",
                                      "2026-11-23T19:17:38.Z", "2026-11-23 19:17:38Z", "2026-11-23T19:17:38+0800",
                                      "2026-11-23T19:17:38+24:00", "1969-12-31",       "1970-01-01T00:00:00+00:01",
                                      "0123",                 "",                     "-5",
                                      "2026-1-23",            "99999999999999999999", "253402300800000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!wn_timearg_parse(bad[i], &same), "'%s' must be refused", bad[i]);

    int m;
    cr_assert(wn_timearg_zone("Z", &m) && m == 0);
    cr_assert(wn_timearg_zone("+08:00", &m) && m == 480);
    cr_assert(wn_timearg_zone("-05:30", &m) && m == -330);
    cr_assert(wn_timearg_zone("+00:00", &m) && m == 0);
    cr_assert(!wn_timearg_zone("+8:00", &m) && !wn_timearg_zone("UTC", &m) && !wn_timearg_zone("+24:00", &m) &&
              !wn_timearg_zone("+08:60", &m) && !wn_timearg_zone("z", &m));

    char out[32];
    wn_timearg_format(out, ms, 0);
    cr_assert_str_eq(out, "2026-11-23T19:17:38.123Z");
    wn_timearg_format(out, ms, 480);
    cr_assert_str_eq(out, "2026-11-24T03:17:38.123+08:00");
    wn_timearg_format(out, ms, -330);
    cr_assert_str_eq(out, "2026-11-23T13:47:38.123-05:30");
    wn_timearg_format(out, 0, -60);
    cr_assert_str_eq(out, "1969-12-31T23:00:00.000-01:00");
    wn_timearg_format(out, 253402300799999ULL, 840);
    cr_assert_str_eq(out, "10000-01-01T13:59:59.999+14:00");
    /* Round trips over many times and zones. */
    wn_test_prng_seed(7);
    for (int i = 0; i < 2000; i++) {
        uint64_t t = wn_test_prng() % 253402300799999ULL;
        int zone = (int)(wn_test_prng() % (2 * 23 * 60 + 1)) - 23 * 60;
        wn_timearg_format(out, t, zone);
        uint64_t back;
        if (t + (int64_t)zone * 60000 > 253402300799999ULL || (int64_t)t + (int64_t)zone * 60000 < 0) continue;
        cr_assert(wn_timearg_parse(out, &back), "%s", out);
        cr_assert_eq(back, t, "%s", out);
        char utc[25];
        wn_time_format(utc, t);
        wn_timearg_format(out, t, 0);
        cr_assert_str_eq(out, utc);
    }
}

/* ---- exports of a real ledger --------------------------------------------------------------- */

static const char *const HEADER[] = {"meter", "sequence", "time", "quantity", "unit", "value", "flags", "ledger_index",
                                     "leaf_hash"};

/* The standard ledger plus readings with more quantities, negative values and two flags. */
static void build(wn_tl *t)
{
    char *dir = malloc(4200);
    snprintf(dir, 4200, "%s/ledger", tmp);
    cr_assert(wn_tl_standard(t, dir));
    free(dir);
    wn_reading r;
    wn_tl_next(t, 1, &r);
    r.count = 5;
    r.m[3] = (wn_measurement){WN_Q_TURBIDITY, WN_U_NTU, 1, 0};
    r.m[4] = (wn_measurement){WN_Q_TEMPERATURE, WN_U_DEGC, 2, -105};
    r.flags = WN_FLAG_TAMPER | WN_FLAG_SUBSTITUTE;
    cr_assert_neq(wn_tl_append_reading(t, 1, &r, NULL), WN_TL_FAIL);
    wn_tl_next(t, 1, &r);
    r.count = 1;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 0, t->m[1].litres + 5};
    cr_assert_neq(wn_tl_append_reading(t, 1, &r, NULL), WN_TL_FAIL);
    wn_tl_close(t);
}

/* Every reading of the ledger whose meter is in ids[0..n) and time in [from, to), as the CSV
 * rows it must give (zone minutes east), compared with the table's rows 1.. in order. */
static void compare(const char *dir, const table *csv, const uint8_t (*ids)[32], size_t n, uint64_t from, uint64_t to,
                    int zone)
{
    wn_ledger *l;
    cr_assert_eq(wn_ledger_open(&l, dir, WN_LEDGER_RDONLY), 0);
    uint64_t size;
    cr_assert_eq(wn_ledger_size(l, &size), 0);
    cr_assert_geq(csv->n, 1);
    cr_assert_eq(csv->rows[0].n, 9);
    for (size_t j = 0; j < 9; j++) cr_assert_str_eq(csv->rows[0].f[j], HEADER[j]);
    size_t at = 1;
    for (uint64_t i = 0; i < size; i++) {
        uint8_t e[600], leaf[32];
        size_t len;
        cr_assert_eq(wn_ledger_get(l, i, e, sizeof e, &len, NULL, NULL), 0);
        wn_reading r;
        wn_entry_view v;
        cr_assert_eq(wn_entry_parse(&v, e, len), WN_ENTRY_OK);
        if (v.kind != WN_ENTRY_READING) continue;
        cr_assert_eq(wn_reading_decode(&r, v.payload, v.len), 0);
        int mine = 0;
        for (size_t k = 0; k < n; k++) mine |= memcmp(ids[k], r.meter, 32) == 0;
        if (!mine || r.time_ms < from || r.time_ms >= to) continue;
        char hex[65], seq[24], tm[32], idx[24], value[32], flags[128] = "", lh[65];
        wn_hex_encode(hex, r.meter, 32);
        snprintf(seq, sizeof seq, "%llu", (unsigned long long)r.seq);
        wn_timearg_format(tm, r.time_ms, zone);
        snprintf(idx, sizeof idx, "%llu", (unsigned long long)i);
        wn_merkle_leaf_hash(leaf, e, len);
        wn_hex_encode(lh, leaf, 32);
        for (unsigned b = 0; b < 6; b++)
            if (r.flags & (1u << b)) {
                if (flags[0]) strcat(flags, "|");
                strcat(flags, wn_flag_name(b));
            }
        for (unsigned m = 0; m < r.count; m++, at++) {
            cr_assert_lt(at, csv->n, "missing rows from entry %llu on", (unsigned long long)i);
            const row *w = &csv->rows[at];
            cr_assert_eq(w->n, 9);
            wn_decimal_format(value, r.m[m].value, r.m[m].scale);
            cr_assert_str_eq(w->f[0], hex);
            cr_assert_str_eq(w->f[1], seq);
            cr_assert_str_eq(w->f[2], tm);
            cr_assert_str_eq(w->f[3], wn_quantity_name(r.m[m].quantity));
            cr_assert_str_eq(w->f[4], wn_unit_name(r.m[m].unit));
            cr_assert_str_eq(w->f[5], value);
            cr_assert_str_eq(w->f[6], flags);
            cr_assert_str_eq(w->f[7], idx);
            cr_assert_str_eq(w->f[8], lh);
            /* and the value reads back as the signed integer and scale */
            int64_t v;
            unsigned sc;
            cr_assert(wn_decimal_parse(w->f[5], strlen(w->f[5]), &v, &sc));
            cr_assert(v == r.m[m].value && sc == r.m[m].scale);
            uint64_t back;
            cr_assert(wn_timearg_parse(w->f[2], &back) && back == r.time_ms);
        }
    }
    cr_assert_eq(at, csv->n, "%zu rows too many", csv->n - at);
    wn_ledger_close(l);
}

static table parse_out(const result *r)
{
    table t;
    cr_assert(csv_parse(r->out, r->outlen, &t), "not RFC 4180 CSV with CRLF: %s", r->out);
    return t;
}

Test(export, a_meter_parsed_back_equals_its_readings)
{
    wn_tl t;
    build(&t);
    char hex[65];
    wn_hex_encode(hex, t.m[1].id, 32);
    result r = wn("export", "--ledger", t.dir, "--meter", hex, "--format", "csv", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    table csv = parse_out(&r);
    compare(t.dir, &csv, &t.m[1].id, 1, 0, UINT64_MAX, 0);
    cr_assert_eq(csv.n, 1 + 8 * 3 + 5 + 1);
    int both = 0, neg = 0;
    for (size_t i = 1; i < csv.n; i++) {
        both |= !strcmp(csv.rows[i].f[6], "tamper|substitute");
        neg |= !strcmp(csv.rows[i].f[5], "-1.05");
    }
    cr_assert(both && neg);
    cr_assert(strstr(r.err, "10 readings, 30 rows"), "%s", r.err);
    table_free(&csv);
    result_free(&r);

    /* The same in +08:00 and -05:30, to a file. */
    char out[4300];
    snprintf(out, sizeof out, "%s/m1.csv", tmp);
    r = wn("export", "--ledger", t.dir, "--meter", hex, "--format", "csv", "--tz", "+08:00", "--out", out, NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(r.outlen, 0, "nothing on stdout with --out");
    result_free(&r);
    size_t len;
    char *text = wn_test_read_file(out, &len);
    cr_assert_not_null(text);
    cr_assert(csv_parse(text, len, &csv));
    compare(t.dir, &csv, &t.m[1].id, 1, 0, UINT64_MAX, 480);
    cr_assert(strstr(text, "+08:00,volume,"));
    table_free(&csv);
    free(text);
    r = wn("export", "--ledger", t.dir, "--meter", hex, "--format", "csv", "--tz", "-05:30", NULL);
    csv = parse_out(&r);
    compare(t.dir, &csv, &t.m[1].id, 1, 0, UINT64_MAX, -330);
    table_free(&csv);
    result_free(&r);
    /* No temporary file is left next to the output. */
    DIR *d = opendir(tmp);
    struct dirent *de;
    while ((de = readdir(d))) cr_assert_null(strstr(de->d_name, ".part"), "%s left behind", de->d_name);
    closedir(d);
}

Test(export, enterprises_select_their_enrolled_meters)
{
    wn_tl t;
    build(&t);
    result r = wn("export", "--ledger", t.dir, "--enterprise", "ACME-1", "--format", "csv", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    table csv = parse_out(&r);
    uint8_t acme[3][32];
    memcpy(acme[0], t.m[0].id, 32);
    memcpy(acme[1], t.m[1].id, 32);
    memcpy(acme[2], t.m[3].id, 32);
    compare(t.dir, &csv, (const uint8_t(*)[32])acme, 3, 0, UINT64_MAX, 0);
    table_free(&csv);
    result_free(&r);

    r = wn("export", "--ledger", t.dir, "--enterprise", "Beta, Ltd", "--format", "csv", NULL);
    cr_assert_eq(r.code, 0);
    csv = parse_out(&r);
    compare(t.dir, &csv, &t.m[2].id, 1, 0, UINT64_MAX, 0);
    cr_assert_eq(csv.n, 1 + 8 * 3);
    table_free(&csv);
    result_free(&r);

    r = wn("export", "--ledger", t.dir, "--enterprise", "Nobody", "--format", "csv", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert_str_eq(r.out, "meter,sequence,time,quantity,unit,value,flags,ledger_index,leaf_hash\r\n");
    cr_assert(strstr(r.err, "nothing matched"), "%s", r.err);
    result_free(&r);
}

Test(export, from_is_inclusive_and_to_exclusive)
{
    wn_tl t;
    build(&t);
    char hex[65], from[32], to[32];
    wn_hex_encode(hex, t.m[0].id, 32);
    /* Meter 0's readings are an hour apart: from = its 3rd reading's time, to = its 6th's. */
    uint64_t t3 = t.start_ms + 2 * 3600000ULL, t6 = t.start_ms + 5 * 3600000ULL;
    wn_timearg_format(from, t3, 0);
    wn_timearg_format(to, t6, 480);
    result r = wn("export", "--ledger", t.dir, "--meter", hex, "--from", from, "--to", to, "--format", "csv", NULL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    table csv = parse_out(&r);
    compare(t.dir, &csv, &t.m[0].id, 1, t3, t6, 0);
    cr_assert_eq(csv.n, 1 + 3 * 3, "sequences 3, 4 and 5");
    cr_assert_str_eq(csv.rows[1].f[1], "3");
    cr_assert_str_eq(csv.rows[csv.n - 1].f[1], "5");
    table_free(&csv);
    result_free(&r);
    /* Milliseconds work too, and one millisecond more leaves the 3rd out. */
    snprintf(from, sizeof from, "%llu", (unsigned long long)t3 + 1);
    r = wn("export", "--ledger", t.dir, "--meter", hex, "--from", from, "--format", "csv", NULL);
    csv = parse_out(&r);
    compare(t.dir, &csv, &t.m[0].id, 1, t3 + 1, UINT64_MAX, 0);
    cr_assert_str_eq(csv.rows[1].f[1], "4");
    table_free(&csv);
    result_free(&r);
}

Test(export, usage_errors_exit_2)
{
    wn_tl t;
    build(&t);
    char hex[65];
    wn_hex_encode(hex, t.m[0].id, 32);
    static const char *const cases[][10] = {
        {"--ledger", "L", "--format", "csv"},
        {"--ledger", "L", "--meter", "M", "--enterprise", "ACME-1", "--format", "csv"},
        {"--ledger", "L", "--meter", "M"},
        {"--ledger", "L", "--meter", "M", "--format", "json"},
        {"--ledger", "L", "--meter", "M", "--format", "csv", "--from", "yesterday"},
        {"--ledger", "L", "--meter", "M", "--format", "csv", "--from", "2026-11-02", "--to", "2026-11-01"},
        {"--ledger", "L", "--meter", "M", "--format", "csv", "--tz", "CST"},
        {"--ledger", "L", "--meter", "abc", "--format", "csv"},
        {"--ledger", "/nonexistent/ledger", "--meter", "M", "--format", "csv"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *a[10];
        for (size_t i = 0; i < 10; i++)
            a[i] = !cases[c][i] ? NULL : !strcmp(cases[c][i], "L") ? t.dir : !strcmp(cases[c][i], "M") ? hex : cases[c][i];
        result r = wn("export", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
        cr_assert_eq(r.code, 2, "case %zu: exit %d", c, r.code);
        cr_assert_neq(strlen(r.err), 0);
        result_free(&r);
    }
    result r = wn("export", "--help", NULL);
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "example:") && strstr(r.out, "leaf_hash"));
    result_free(&r);
}
