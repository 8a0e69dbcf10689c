/* cmd_demo.c — `wn demo`: the newcomer's tour in one command. It creates a notary key and
 * meter keys, a real LMDB ledger, appends signed readings with plausible water data in
 * batches (one per hour of simulated time), signs checkpoints half-way and at the end,
 * writes an inclusion proof of one reading and verifies it with the same code as
 * `wn verify-inclusion`, then shows how to check it yourself. */
#include "cli/commands.h"
#include "cli/proofs/proofs.h"
#include "cli/util.h"
#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "protocol/reading.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_METERS 100
#define MAX_READINGS 100000
#define HOUR_MS 3600000ULL

static void help(FILE *f)
{
    fprintf(f,
            "usage: wn demo --dir DIR [--meters N] [--readings M]\n"
            "\n"
            "Builds a small notarised water ledger from scratch and proves one reading in it:\n"
            "  1. creates DIR (which must not exist or be empty), a notary key and N meter keys;\n"
            "  2. appends M hourly signed readings per meter (cumulative volume in m3, flow in\n"
            "     m3/h following a working-day pattern, pH) to a ledger in DIR/ledger, one batch\n"
            "     per hour, and signs checkpoints half-way and at the end;\n"
            "  3. writes an inclusion proof of one reading to DIR/proof.tlog-proof and verifies it.\n"
            "Prints the checkpoint, the notary public key and the command to verify the proof.\n"
            "\n"
            "options:\n"
            "  --dir DIR        where to put everything (keys, ledger, proof)\n"
            "  --meters N       number of simulated meters, 1..%d (default 3)\n"
            "  --readings M     readings per meter, 1..%d (default 48)\n"
            "\n"
            "example:\n"
            "  wn demo --dir demo-data/first --meters 3 --readings 48\n"
            "\n"
            "exit codes: 0 done and the proof verified, 1 the proof did not verify,\n"
            "            2 usage error, DIR not empty, or a file could not be written\n",
            MAX_METERS, MAX_READINGS);
}

typedef struct {
    uint8_t seckey[32];
    uint8_t id[32];
    uint8_t prev[32];
    int64_t litres;  /* totaliser, in litres = m3 with scale 3 */
    double rate;     /* m3/h at full working-day demand */
    uint64_t rng;
} meter;

static uint64_t next_rng(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

/* Uniform in [-1, 1). */
static double jitter(uint64_t *s) { return (double)(next_rng(s) >> 11) / (double)(1ULL << 52) - 1.0; }

/* Share of full demand at a UTC time: a working day runs 07-18, with shoulders at 06 and
 * 18-19; nights and weekends draw little. */
static double demand(uint64_t t_ms)
{
    uint64_t days = t_ms / 86400000ULL;
    unsigned hour = (unsigned)(t_ms / HOUR_MS % 24);
    unsigned weekday = (unsigned)((days + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    if (weekday == 0 || weekday == 6) return 0.12;
    if (hour >= 7 && hour < 18) return 1.0;
    if (hour == 6 || hour == 18 || hour == 19) return 0.4;
    return 0.08;
}

/* Builds, signs and encodes meter m's next reading (sequence seq) into out as a timed ledger
 * entry committed at commit_ms (ledger/entry.h: header, then the reading). Returns: the
 * entry length, 0 on failure. */
static size_t next_reading(meter *m, uint64_t seq, uint64_t t_ms, uint64_t commit_ms, uint8_t *out)
{
    double used = m->rate * demand(t_ms) * (1.0 + 0.08 * jitter(&m->rng)); /* m3 this hour */
    int64_t litres = (int64_t)(used * 1000.0 + 0.5);
    m->litres += litres;
    wn_reading r;
    memset(&r, 0, sizeof r);
    r.version = WN_READING_VERSION;
    memcpy(r.meter, m->id, 32);
    r.seq = seq;
    r.time_ms = t_ms;
    memcpy(r.prev, m->prev, 32);
    r.count = 3;
    r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->litres};
    r.m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 2, (litres + 5) / 10};
    r.m[2] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 725 + (int64_t)(25.0 * jitter(&m->rng))};
    if (wn_reading_sign(&r, m->seckey) != WN_READING_OK) return 0;
    size_t len;
    size_t h = wn_entry_put_timed_header(out, WN_ENTRY_READING, commit_ms, 0);
    if (wn_reading_encode(&r, out + h, WN_READING_MAX_LEN, &len) != WN_READING_OK) return 0;
    wn_reading_digest(&r, m->prev);
    return len + h;
}

/* Signs a checkpoint of the ledger's current size and stores it. Out: note, *len. */
static int checkpoint(const char *cmd, wn_ledger *l, const char *origin, const uint8_t sk[32],
                      char note[WN_CHECKPOINT_MAX], size_t *len, uint64_t *size)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", origin);
    int err = wn_ledger_size(l, &cp.size);
    if (!err) err = wn_ledger_root(l, cp.size, cp.root);
    if (err) {
        wn_cli_error(cmd, "cannot read the ledger's root: %s", wn_ledger_strerror(err));
        return 0;
    }
    cp.has_time = cp.size > 0 && wn_entry_commit_time_at(l, cp.size - 1, &cp.time_ms);
    int cerr = wn_checkpoint_sign(&cp, sk, note, WN_CHECKPOINT_MAX, len);
    if (cerr) {
        wn_cli_error(cmd, "cannot sign the checkpoint: %s", wn_checkpoint_strerror(cerr));
        return 0;
    }
    err = wn_ledger_put_checkpoint(l, cp.size, note, *len);
    if (err) {
        wn_cli_error(cmd, "cannot store the checkpoint: %s", wn_ledger_strerror(err));
        return 0;
    }
    *size = cp.size;
    return 1;
}

static int new_key(const char *cmd, const char *path, uint8_t sk[32], uint8_t pub[32])
{
    if (!wn_keyfile_create(path, sk, pub)) {
        wn_cli_error(cmd, "cannot create key file %s: %s", path, strerror(errno));
        return 0;
    }
    return 1;
}

/* Everything after the arguments are checked; returns the exit code. */
static int run(const char *cmd, const char *dir, unsigned nmeters, unsigned nreadings)
{
    char path[4200];
    if (!wn_cli_dir_absent_or_empty(dir)) {
        wn_cli_error(cmd, "%s exists and is not an empty directory; choose a new --dir", dir);
        return WN_EXIT_USAGE;
    }
    if (!wn_cli_mkdirs(dir)) {
        wn_cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
        return WN_EXIT_USAGE;
    }

    /* Keys. */
    uint8_t notary_sk[32], notary_pub[32];
    char pubhex[65];
    snprintf(path, sizeof path, "%s/notary.key", dir);
    if (!new_key(cmd, path, notary_sk, notary_pub)) return WN_EXIT_USAGE;
    wn_hex_encode(pubhex, notary_pub, 32);
    char publine[66];
    snprintf(publine, sizeof publine, "%s\n", pubhex);
    snprintf(path, sizeof path, "%s/notary.pub", dir);
    if (!wn_cli_write_file(cmd, path, publine, 65)) return WN_EXIT_USAGE;
    char origin[64];
    snprintf(origin, sizeof origin, "waternotary/%.16s", pubhex);

    int rc = WN_EXIT_USAGE;
    meter *meters = calloc(nmeters, sizeof *meters);
    uint8_t *entries = malloc((size_t)nmeters * (WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN));
    wn_ledger_item *items = calloc(nmeters, sizeof *items);
    wn_ledger *l = NULL;
    char *proof = NULL;
    if (!meters || !entries || !items) { wn_cli_error(cmd, "out of memory"); goto done; }
    for (unsigned m = 0; m < nmeters; m++) {
        snprintf(path, sizeof path, "%s/meter-%02u.key", dir, m + 1);
        if (!new_key(cmd, path, meters[m].seckey, meters[m].id)) goto done;
        meters[m].litres = 10000000LL * (m + 1) + 123456LL * m; /* the totaliser did not start at 0 */
        meters[m].rate = 4.0 + 2.5 * m;
        meters[m].rng = 0x9e3779b97f4a7c15ULL * (m + 1);
    }

    /* Ledger: one batch per simulated hour, ending at the last full hour before now. */
    snprintf(path, sizeof path, "%s/ledger", dir);
    if (!wn_cli_mkdirs(path)) { wn_cli_error(cmd, "cannot create %s: %s", path, strerror(errno)); goto done; }
    int err = wn_ledger_open(&l, path, 0);
    if (err) { wn_cli_error(cmd, "cannot create the ledger in %s: %s", path, wn_ledger_strerror(err)); goto done; }
    uint64_t now_h = (uint64_t)time(NULL) * 1000ULL / HOUR_MS * HOUR_MS;
    uint64_t start = now_h - (uint64_t)nreadings * HOUR_MS;
    char note[WN_CHECKPOINT_MAX];
    size_t note_len = 0;
    uint64_t mid_size = 0, size = 0;
    for (unsigned h = 0; h < nreadings; h++) {
        for (unsigned m = 0; m < nmeters; m++) {
            uint8_t *e = entries + (size_t)m * (WN_ENTRY_TIMED_HEADER + WN_READING_MAX_LEN);
            /* Meters report a few seconds apart; the hour's batch is committed a minute
             * after the hour. */
            size_t len = next_reading(&meters[m], h + 1, start + h * HOUR_MS + 7000ULL * m,
                                      start + h * HOUR_MS + 60000ULL + 7000ULL * nmeters, e);
            if (!len) { wn_cli_error(cmd, "cannot sign a reading"); goto done; }
            items[m] = (wn_ledger_item){e, len, meters[m].id, h + 1};
        }
        err = wn_ledger_append(l, items, nmeters, NULL, NULL);
        if (err) { wn_cli_error(cmd, "cannot append to the ledger: %s", wn_ledger_strerror(err)); goto done; }
        if (nreadings >= 2 && h + 1 == nreadings / 2 &&
            !checkpoint(cmd, l, origin, notary_sk, note, &note_len, &mid_size))
            goto done;
    }
    if (!checkpoint(cmd, l, origin, notary_sk, note, &note_len, &size)) goto done;

    /* Prove meter 1's middle reading against the final checkpoint, then verify it. */
    uint64_t seq = (nreadings + 1) / 2, index;
    err = wn_ledger_find(l, meters[0].id, seq, &index);
    if (err) { wn_cli_error(cmd, "cannot find meter 1's reading %llu: %s", (unsigned long long)seq, wn_ledger_strerror(err)); goto done; }
    size_t proof_len;
    rc = wn_cli_build_inclusion(cmd, l, index, 0, &proof, &proof_len, NULL);
    if (rc) goto done;
    rc = WN_EXIT_USAGE;
    snprintf(path, sizeof path, "%s/proof.tlog-proof", dir);
    if (!wn_cli_write_file(cmd, path, proof, proof_len)) goto done;
    wn_cli_incl_result res;
    rc = wn_cli_verify_inclusion(proof, proof_len, notary_pub, NULL, 0, NULL, &res);
    if (rc) {
        wn_cli_error(cmd, "the demo's own proof did not verify: %s", res.reason);
        goto done;
    }

    char root[45];
    wn_cli_root_b64(root, res.cp.root);
    printf("WaterNotary demo in %s\n\n", dir);
    printf("%u meters each signed %u hourly readings (volume, flow, pH); the notary appended\n"
           "them to the ledger in %s/ledger in %u batches: %llu entries.\n\n",
           nmeters, nreadings, dir, nreadings, (unsigned long long)size);
    if (mid_size)
        printf("checkpoints signed by the notary: size %llu (half-way) and size %llu (latest):\n\n",
               (unsigned long long)mid_size, (unsigned long long)size);
    else
        printf("checkpoint signed by the notary (size %llu):\n\n", (unsigned long long)size);
    fwrite(note, 1, note_len, stdout);
    printf("\nproof file:        %s (reading %llu of meter 1, entry %llu)\n", path, (unsigned long long)seq,
           (unsigned long long)index);
    printf("notary public key: %s (also in %s/notary.pub)\n\n", pubhex, dir);
    printf("proof verified: entry %llu is in the tree of size %llu with root %s\n\n", (unsigned long long)res.index,
           (unsigned long long)res.cp.size, root);
    printf("verify it yourself:\n  %s verify-inclusion %s --notary-pub %s\n", program_invocation_name, path, pubhex);
    if (mid_size)
        printf("and check that the ledger only grew between the two checkpoints:\n"
               "  %s prove-consistency --ledger %s/ledger --from %llu --out %s/consistency.proof\n"
               "  %s verify-consistency %s/consistency.proof --notary-pub %s\n",
               program_invocation_name, dir, (unsigned long long)mid_size, dir, program_invocation_name, dir,
               pubhex);
    rc = fflush(stdout) == 0 ? WN_EXIT_OK : WN_EXIT_USAGE;
done:
    if (l) wn_ledger_close(l);
    free(proof);
    free(items);
    free(entries);
    if (meters) memset(meters, 0, nmeters * sizeof *meters);
    free(meters);
    memset(notary_sk, 0, sizeof notary_sk);
    return rc;
}

int wn_cmd_demo(int argc, char **argv)
{
    const char *cmd = argv[0], *dir = NULL, *meters_s = NULL, *readings_s = NULL;
    const wn_cli_opt opts[] = {{"dir", &dir, NULL}, {"meters", &meters_s, NULL}, {"readings", &readings_s, NULL}};
    const char *pos[1];
    size_t npos;
    int want_help;
    if (!wn_cli_parse(argc, argv, opts, 3, pos, 0, &npos, &want_help)) return WN_EXIT_USAGE;
    if (want_help) { help(stdout); return WN_EXIT_OK; }
    if (!dir) {
        wn_cli_error(cmd, "--dir DIR is required (see wn demo --help)");
        return WN_EXIT_USAGE;
    }
    uint64_t nm = 3, nr = 48;
    if (meters_s && !wn_cli_u64(cmd, "meters", meters_s, &nm)) return WN_EXIT_USAGE;
    if (readings_s && !wn_cli_u64(cmd, "readings", readings_s, &nr)) return WN_EXIT_USAGE;
    if (nm < 1 || nm > MAX_METERS || nr < 1 || nr > MAX_READINGS) {
        wn_cli_error(cmd, "--meters must be 1..%d and --readings 1..%d", MAX_METERS, MAX_READINGS);
        return WN_EXIT_USAGE;
    }
    return run(cmd, dir, (unsigned)nm, (unsigned)nr);
}
