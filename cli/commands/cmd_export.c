/* cmd_export.c — `wn export`: a meter's or an enterprise's readings from a local ledger as
 * RFC 4180 CSV (docs/PROTOCOL.md §12), one row per measurement, for spreadsheets and
 * reporting tools. An export copies what the ledger holds; it does not audit it (that is
 * `wn audit`): the leaf hash of each row lets anyone prove that row's reading later. */
#include "cli/commands.h"
#include "cli/csv.h"
#include "cli/timearg.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/tlog/merkle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn export --ledger DIR (--meter HEX | --enterprise ID) [--from TIME] [--to TIME]\n"
            "                 --format csv [--tz ZONE] [--out FILE]\n"
            "\n"
            "Writes readings from a local ledger (a node's ledger directory or a copy, opened\n"
            "read-only) as RFC 4180 CSV (UTF-8, CRLF line ends), one row per measurement, in ledger\n"
            "order, under the header\n"
            "  meter,sequence,time,quantity,unit,value,flags,ledger_index,leaf_hash\n"
            "value is the decimal exactly as signed; flags are names joined by '|'; leaf_hash is the\n"
            "entry's RFC 6962 leaf hash (what an inclusion proof proves). See PROTOCOL.md section 12.\n"
            "The export does not check signatures: run wn audit for that.\n"
            "\n"
            "options:\n"
            "  --ledger DIR        the ledger directory\n"
            "  --meter HEX         the readings of this meter (64 hex characters)\n"
            "  --enterprise ID     the readings of every meter whose enrolment names this enterprise\n"
            "  --from TIME         only readings with time >= TIME (inclusive)\n"
            "  --to TIME           only readings with time < TIME (exclusive)\n"
            "                      TIME: 2026-11-23T19:17:38.123Z, 2026-11-24T03:17:38+08:00,\n"
            "                      2026-11-23 (midnight UTC) or milliseconds since 1970\n"
            "  --format csv        the output format (CSV is the only one)\n"
            "  --tz ZONE           write times in this zone: Z (default), +08:00, -05:00\n"
            "  --out FILE          write to FILE (replaced when complete) instead of standard output\n"
            "\n"
            "example:\n"
            "  wn export --ledger /backup/ledger --enterprise 91330400MA2B1234X5 \\\n"
            "            --from 2026-11-01T00:00:00+08:00 --to 2026-12-01T00:00:00+08:00 --format csv \\\n"
            "            --tz +08:00 --out november.csv\n"
            "\n"
            "exit codes: 0 written (perhaps only the header), 2 usage error, unreadable ledger or\n"
            "            the output cannot be written\n");
}

typedef struct {
    const char *cmd;
    FILE *out;
    int by_meter;
    uint8_t meter[32];
    const char *enterprise;
    uint8_t (*set)[32];      /* meters of the enterprise enrolled so far */
    size_t nset, capset;
    uint64_t from, to;
    int zone;
    uint64_t rows, readings;
    int failed;              /* 1 write error, 2 out of memory */
} export_ctx;

static int wanted(const export_ctx *x, const uint8_t meter[32])
{
    if (x->by_meter) return memcmp(meter, x->meter, 32) == 0;
    for (size_t i = 0; i < x->nset; i++)
        if (memcmp(x->set[i], meter, 32) == 0) return 1;
    return 0;
}

static int write_rows(export_ctx *x, uint64_t index, const uint8_t *entry, size_t len, const wn_reading *r)
{
    char meter[65], seq[24], time[32], value[32], flags[128] = "", idx[24], leafhex[65];
    uint8_t leaf[32];
    wn_hex_encode(meter, r->meter, 32);
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)r->seq);
    wn_timearg_format(time, r->time_ms, x->zone);
    for (unsigned b = 0; b < 16; b++) {
        if (!(r->flags & (1u << b))) continue;
        const char *name = wn_flag_name(b);
        if (flags[0]) strcat(flags, "|");
        strcat(flags, name ? name : "?");
    }
    snprintf(idx, sizeof idx, "%llu", (unsigned long long)index);
    wn_merkle_leaf_hash(leaf, entry, len);
    wn_hex_encode(leafhex, leaf, 32);
    for (unsigned i = 0; i < r->count; i++) {
        const char *q = wn_quantity_name(r->m[i].quantity), *u = wn_unit_name(r->m[i].unit);
        wn_decimal_format(value, r->m[i].value, r->m[i].scale);
        const char *f[] = {meter, seq, time, q ? q : "?", u ? u : "?", value, flags, idx, leafhex};
        if (!wn_csv_record(x->out, f, sizeof f / sizeof f[0])) return 0;
        x->rows++;
    }
    x->readings++;
    return 1;
}

static int visit(void *ctx, uint64_t index, const uint8_t *entry, size_t len, const uint8_t leaf[32],
                 const uint8_t chain[32])
{
    (void)leaf;
    (void)chain;
    export_ctx *x = ctx;
    wn_entry_view v;
    if (wn_entry_parse(&v, entry, len) != WN_ENTRY_OK || v.len < 1) return 0; /* wn audit says why */
    if (v.kind == WN_ENTRY_ENROLMENT && !x->by_meter) {
        wn_enrolment e;
        if (wn_enrolment_decode(&e, v.payload, v.len) != WN_ENROL_OK || e.point == WN_POINT_CERTIFIER ||
            strcmp(e.enterprise, x->enterprise) != 0 || wanted(x, e.meter))
            return 0;
        if (x->nset == x->capset) {
            size_t cap = x->capset ? 2 * x->capset : 16;
            uint8_t (*s)[32] = realloc(x->set, cap * sizeof *s);
            if (!s) {
                x->failed = 2;
                return 1;
            }
            x->set = s;
            x->capset = cap;
        }
        memcpy(x->set[x->nset++], e.meter, 32);
        return 0;
    }
    if (v.kind != WN_ENTRY_READING || v.len < 33 || !wanted(x, v.payload + 1)) return 0;
    wn_reading r;
    if (wn_reading_decode(&r, v.payload, v.len) != WN_READING_OK) return 0; /* not a reading: wn audit says why */
    if (r.time_ms < x->from || r.time_ms >= x->to) return 0;
    if (!write_rows(x, index, entry, len, &r)) {
        x->failed = 1;
        return 1;
    }
    return 0;
}

int wn_cmd_export(int argc, char **argv)
{
    const char *cmd = argv[0], *dir = NULL, *meter_s = NULL, *ent = NULL, *from_s = NULL, *to_s = NULL, *fmt = NULL,
               *tz = NULL, *out_path = NULL;
    int want_help;
    wn_cli_opt opts[] = {{"ledger", &dir, NULL},  {"meter", &meter_s, NULL}, {"enterprise", &ent, NULL},
                         {"from", &from_s, NULL}, {"to", &to_s, NULL},       {"format", &fmt, NULL},
                         {"tz", &tz, NULL},       {"out", &out_path, NULL}};
    size_t npos;
    if (!wn_cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) {
        help(stdout);
        return WN_EXIT_OK;
    }
    export_ctx x;
    memset(&x, 0, sizeof x);
    x.cmd = cmd;
    x.to = UINT64_MAX;
    if (!dir || !fmt || (!meter_s == !ent)) {
        wn_cli_error(cmd, "--ledger DIR, one of --meter HEX or --enterprise ID, and --format csv are required "
                          "(see wn export --help)");
        return WN_EXIT_USAGE;
    }
    if (strcmp(fmt, "csv") != 0) {
        wn_cli_error(cmd, "unknown --format '%s': csv is the only format", fmt);
        return WN_EXIT_USAGE;
    }
    if (meter_s) {
        if (!wn_cli_hex32(cmd, "meter", meter_s, x.meter)) return WN_EXIT_USAGE;
        x.by_meter = 1;
    }
    x.enterprise = ent;
    if (from_s && !wn_timearg_parse(from_s, &x.from)) {
        wn_cli_error(cmd, "--from '%s' is not a time (2026-11-23T19:17:38.123Z, +08:00 offsets, a date, or ms)", from_s);
        return WN_EXIT_USAGE;
    }
    if (to_s && !wn_timearg_parse(to_s, &x.to)) {
        wn_cli_error(cmd, "--to '%s' is not a time (2026-11-23T19:17:38.123Z, +08:00 offsets, a date, or ms)", to_s);
        return WN_EXIT_USAGE;
    }
    if (x.from >= x.to) {
        wn_cli_error(cmd, "--from must be before --to");
        return WN_EXIT_USAGE;
    }
    if (tz && !wn_timearg_zone(tz, &x.zone)) {
        wn_cli_error(cmd, "--tz '%s' is not a zone offset: Z, +HH:MM or -HH:MM", tz);
        return WN_EXIT_USAGE;
    }

    wn_ledger *l;
    int err = wn_ledger_open(&l, dir, WN_LEDGER_RDONLY);
    if (err) {
        wn_cli_error(cmd, "cannot open the ledger in %s: %s", dir, wn_ledger_strerror(err));
        return WN_EXIT_USAGE;
    }
    char tmp[4200] = "";
    if (out_path) { /* written next to FILE, renamed over it when complete */
        snprintf(tmp, sizeof tmp, "%s.partXXXXXX", out_path);
        int fd = mkstemp(tmp);
        if (fd < 0 || fchmod(fd, 0644) != 0 || !(x.out = fdopen(fd, "w"))) {
            wn_cli_error(cmd, "cannot write %s: %s", out_path, strerror(errno));
            if (fd >= 0) close(fd), unlink(tmp);
            wn_ledger_close(l);
            return WN_EXIT_USAGE;
        }
    } else {
        x.out = stdout;
    }
    static const char *const header[] = {"meter", "sequence", "time",         "quantity", "unit",
                                         "value", "flags",    "ledger_index", "leaf_hash"};
    int ok = wn_csv_record(x.out, header, sizeof header / sizeof header[0]);
    uint64_t size = 0;
    if (ok && (err = wn_ledger_size(l, &size)) == WN_LEDGER_OK) err = wn_ledger_iterate(l, 0, size, visit, &x);
    wn_ledger_close(l);
    free(x.set);
    int rc = WN_EXIT_OK;
    if (!ok || x.failed == 1) {
        wn_cli_error(cmd, "cannot write the CSV: %s", strerror(errno));
        rc = WN_EXIT_USAGE;
    } else if (x.failed == 2) {
        wn_cli_error(cmd, "out of memory");
        rc = WN_EXIT_USAGE;
    } else if (err) {
        wn_cli_error(cmd, "cannot read the ledger: %s", wn_ledger_strerror(err));
        rc = WN_EXIT_USAGE;
    }
    if (out_path) {
        if (fflush(x.out) != 0 || fsync(fileno(x.out)) != 0) rc = rc ? rc : WN_EXIT_USAGE;
        if (fclose(x.out) != 0) rc = rc ? rc : WN_EXIT_USAGE;
        if (rc == WN_EXIT_OK && rename(tmp, out_path) != 0) {
            wn_cli_error(cmd, "cannot write %s: %s", out_path, strerror(errno));
            rc = WN_EXIT_USAGE;
        }
        if (rc != WN_EXIT_OK) unlink(tmp);
    } else if (fflush(stdout) != 0) {
        wn_cli_error(cmd, "cannot write the CSV: %s", strerror(errno));
        rc = WN_EXIT_USAGE;
    }
    if (rc == WN_EXIT_OK)
        fprintf(stderr, "wn export: %llu readings, %llu rows%s\n", (unsigned long long)x.readings,
                (unsigned long long)x.rows, x.readings ? "" : " (nothing matched)");
    return rc;
}
