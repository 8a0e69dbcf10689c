/* bench_audit.c — how fast `wn audit` checks a ledger, against how fast the machine can
 * check signatures at all.
 *
 * Builds (or, with --keep from an earlier run, reuses) a ledger of 1,000,000 real entries
 * in /tmp: 1000 BIP-340 meters enrolled by a registrar, then 999 signed readings each
 * (3 measurements, chained, an hour apart), signed on both cores, appended round by round
 * in batches of 1000 as the node would, with a signed checkpoint every 100,000 entries.
 * Then it measures, in the same run:
 *   - raw: BIP-340 verifications/s on two threads (wn_schnorr_verify over 100,000 of the
 *     ledger's own reading signatures), before and after the audit;
 *   - audit: the audit core fed by the LMDB source (exactly what `wn audit` runs), entries/s;
 * and prints the ratio audit / raw (target >= 0.9: the audit costs little beyond the
 * signature checks it must make). The ledger is deleted at the end unless --keep.
 *
 *   bench_audit [--keep] [--entries N] [--dir DIR]   (default DIR /tmp/wn-bench-audit) */
#include "cli/audit/audit.h"
#include "cli/audit/audit_lmdb.h"
#include "crypto/encoding.h"
#include "protocol/enrolment.h"
#include "protocol/reading.h"
#include "crypto/sha256.h"
#include "crypto/sig.h"
#include "ledger/tlog/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define METERS 1000
#define CP_EVERY 100000
#define RAW_SAMPLE 100000
#define RAW_ROUNDS 4          /* before and again after the audit */
#define MAX_SAMPLES 4096
#define TARGET_RATIO 0.9
#define HOUR 3600000ULL
#define ENTRY_MAX (1 + WN_READING_MAX_LEN)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process so far (every thread, user and system). */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* ---- building the ledger ------------------------------------------------------------- */

typedef struct {
    wn_signer signer;
    uint8_t id[32], prev[32];
    int64_t litres;
} meter;

typedef struct {
    meter *m;
    unsigned lo, hi;          /* meters [lo, hi) */
    uint64_t seq, time;
    uint8_t *out;             /* ENTRY_MAX bytes per meter */
    size_t *len;
    int ok;
} sign_job;

static void *sign_range(void *arg)
{
    sign_job *j = arg;
    static const uint8_t aux[32] = {0};
    j->ok = 1;
    for (unsigned k = j->lo; k < j->hi; k++) {
        meter *m = &j->m[k];
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = WN_READING_VERSION;
        memcpy(r.meter, m->id, 32);
        r.seq = j->seq;
        r.time_ms = j->time + 1000ULL * k;
        memcpy(r.prev, m->prev, 32);
        m->litres += 250 + (int64_t)(k % 97);
        r.count = 3;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_M3, 3, m->litres};
        r.m[1] = (wn_measurement){WN_Q_FLOW, WN_U_M3_PER_H, 2, 25 + (int64_t)(k % 13)};
        r.m[2] = (wn_measurement){WN_Q_PH, WN_U_PH, 2, 700 + (int64_t)(j->seq % 40)};
        r.alg = WN_ALG_BIP340;
        uint8_t d[32];
        wn_reading_signing_digest(&r, d);
        uint8_t *e = j->out + (size_t)k * ENTRY_MAX;
        size_t len;
        e[0] = WN_ENTRY_READING;
        if (!wn_signer_sign(&m->signer, r.sig, d, aux) ||
            wn_reading_encode(&r, e + 1, ENTRY_MAX - 1, &len) != WN_READING_OK) {
            j->ok = 0;
            return NULL;
        }
        j->len[k] = len + 1;
        wn_reading_digest(&r, m->prev);
    }
    return NULL;
}

static int checkpoint(wn_ledger *l, const uint8_t sk[32], const char *origin)
{
    wn_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", origin);
    char note[WN_CHECKPOINT_MAX];
    size_t len;
    return wn_ledger_size(l, &cp.size) == 0 && wn_ledger_root(l, cp.size, cp.root) == 0 &&
           wn_checkpoint_sign(&cp, sk, note, sizeof note, &len) == 0 &&
           wn_ledger_put_checkpoint(l, cp.size, note, len) == 0;
}

/* Builds the ledger in dir/ledger and writes dir/bench.conf. Returns: 1 on success. */
static int build(const char *dir, uint64_t entries)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/ledger", dir);
    if (mkdir(dir, 0755) != 0) return 0;
    uint8_t notary_sk[32], notary[32], reg_sk[32], reg[32];
    if (!wn_seckey_generate(notary_sk) || !wn_seckey_xonly(notary, notary_sk) || !wn_seckey_generate(reg_sk) ||
        !wn_seckey_xonly(reg, reg_sk))
        return 0;
    char nhex[65], origin[64];
    wn_hex_encode(nhex, notary, 32);
    snprintf(origin, sizeof origin, "waternotary/%.16s", nhex);
    wn_ledger *l;
    if (wn_ledger_open(&l, path, 0) != 0) return 0;

    meter *m = calloc(METERS, sizeof *m);
    uint8_t *buf = malloc((size_t)METERS * ENTRY_MAX);
    size_t *len = calloc(METERS, sizeof *len);
    wn_ledger_item *items = calloc(METERS, sizeof *items);
    int ok = m && buf && len && items;
    uint64_t start = 1790000000000ULL, size = 0, next_cp = CP_EVERY;
    double t0 = now();

    /* Enrolments first. */
    for (unsigned k = 0; ok && k < METERS; k++) {
        uint8_t sk[32];
        ok = wn_seckey_generate(sk) && wn_seckey_xonly(m[k].id, sk) && wn_signer_init(&m[k].signer, sk);
        m[k].litres = 1000000LL * (k + 1);
        wn_enrolment e;
        memset(&e, 0, sizeof e);
        memcpy(e.meter, m[k].id, 32);
        e.alg = WN_ALG_BIP340;
        e.pubkey[0] = 0x02;
        memcpy(e.pubkey + 1, m[k].id, 32);
        e.time_ms = start - HOUR;
        e.point = WN_POINT_USE, e.tier = 2, e.source = WN_SOURCE_TAP;
        snprintf(e.enterprise, sizeof e.enterprise, "9133%014u", k / 10);
        uint8_t *p = buf + (size_t)k * ENTRY_MAX;
        size_t n = 0;
        p[0] = WN_ENTRY_ENROLMENT;
        ok = ok && wn_enrolment_sign(&e, reg_sk) == 0 && wn_enrolment_encode(&e, p + 1, ENTRY_MAX - 1, &n) == 0;
        items[k] = (wn_ledger_item){p, n + 1, NULL, 0};
    }
    ok = ok && wn_ledger_append(l, items, METERS, NULL, NULL) == 0;
    size = METERS;

    /* Readings, round by round: every meter's next one, signed on two threads. */
    for (uint64_t seq = 1; ok && size < entries; seq++) {
        unsigned n = entries - size < METERS ? (unsigned)(entries - size) : METERS;
        sign_job jobs[2] = {{m, 0, n / 2, seq, start + (seq - 1) * HOUR, buf, len, 0},
                            {m, n / 2, n, seq, start + (seq - 1) * HOUR, buf, len, 0}};
        pthread_t th;
        if (pthread_create(&th, NULL, sign_range, &jobs[1]) != 0) jobs[1].ok = -1;
        sign_range(&jobs[0]);
        if (jobs[1].ok != -1) pthread_join(th, NULL);
        else sign_range(&jobs[1]);
        ok = jobs[0].ok == 1 && jobs[1].ok == 1;
        for (unsigned k = 0; ok && k < n; k++)
            items[k] = (wn_ledger_item){buf + (size_t)k * ENTRY_MAX, len[k], m[k].id, seq};
        ok = ok && wn_ledger_append(l, items, n, NULL, NULL) == 0;
        size += n;
        if (ok && size >= next_cp) {
            ok = checkpoint(l, notary_sk, origin);
            next_cp += CP_EVERY;
        }
        if (seq % 100 == 0) {
            fprintf(stderr, "\rbuilding: %llu / %llu entries (%.0f s)", (unsigned long long)size,
                    (unsigned long long)entries, now() - t0);
        }
    }
    if (ok && size % CP_EVERY) ok = checkpoint(l, notary_sk, origin);
    fprintf(stderr, "\rbuilt %llu entries in %.1f s%20s\n", (unsigned long long)size, now() - t0, "");
    wn_ledger_close(l);
    for (unsigned k = 0; m && k < METERS; k++) wn_signer_clear(&m[k].signer);
    free(m);
    free(buf);
    free(len);
    free(items);
    if (!ok) return 0;
    char rhex[65];
    wn_hex_encode(rhex, reg, 32);
    snprintf(path, sizeof path, "%s/bench.conf", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fprintf(f, "%s %s %llu\n", nhex, rhex, (unsigned long long)size);
    return fclose(f) == 0;
}

/* ---- raw verification rate ----------------------------------------------------------------- */

typedef struct {
    uint8_t key[32], digest[32], sig[64];
} triple;

typedef struct {
    const triple *t;
    size_t n;
    size_t bad;
} verify_job;

static void *verify_range(void *arg)
{
    verify_job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        if (!wn_schnorr_verify(j->t[i].sig, j->t[i].digest, j->t[i].key)) j->bad++;
    return NULL;
}

/* BIP-340 verifications per second on two threads. Out: *cpu_per (CPU seconds per
 * verification). */
static double raw_rate(const triple *t, size_t n, double *cpu_per)
{
    verify_job j[2] = {{t, n / 2, 0}, {t + n / 2, n - n / 2, 0}};
    pthread_t th;
    double c0 = cpu(), t0 = now();
    int threaded = pthread_create(&th, NULL, verify_range, &j[1]) == 0;
    verify_range(&j[0]);
    if (threaded) pthread_join(th, NULL);
    else verify_range(&j[1]);
    double el = now() - t0;
    *cpu_per = (cpu() - c0) / (double)n;
    if (j[0].bad || j[1].bad) fprintf(stderr, "raw: %zu signatures did not verify\n", j[0].bad + j[1].bad);
    return (double)n / el;
}

/* The signatures of readings [METERS, METERS + n) of the ledger, as the audit sees them. */
static triple *sample(const char *ledger, size_t *n)
{
    wn_ledger *l;
    uint64_t size;
    if (wn_ledger_open(&l, ledger, WN_LEDGER_RDONLY) != 0 || wn_ledger_size(l, &size) != 0) return NULL;
    size_t want = size > METERS + RAW_SAMPLE ? RAW_SAMPLE : size > METERS ? (size_t)(size - METERS) : 0;
    triple *t = calloc(want ? want : 1, sizeof *t);
    size_t k = 0;
    for (size_t i = 0; t && i < want; i++) {
        uint8_t e[ENTRY_MAX];
        size_t len;
        wn_reading r;
        wn_entry_view v;
        if (wn_ledger_get(l, METERS + i, e, sizeof e, &len, NULL, NULL) != 0 || wn_entry_parse(&v, e, len) != 0 ||
            v.kind != WN_ENTRY_READING || wn_reading_decode(&r, v.payload, v.len) != 0)
            continue;
        memcpy(t[k].key, r.meter, 32);
        wn_reading_signing_digest(&r, t[k].digest);
        memcpy(t[k].sig, r.sig, 64);
        k++;
    }
    wn_ledger_close(l);
    *n = k;
    return t;
}

/* The audit's progress: (time, entries fed) every 4096 entries. */
typedef struct {
    double t[MAX_SAMPLES];
    uint64_t done[MAX_SAMPLES];
    size_t n;
} samples;

static void record(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    samples *s = ctx;
    if (s->n < MAX_SAMPLES) {
        s->t[s->n] = now();
        s->done[s->n++] = done;
    }
}

int main(int argc, char **argv)
{
    int keep = 0;
    uint64_t entries = 1000000;
    const char *dir = "/tmp/wn-bench-audit";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keep")) keep = 1;
        else if (!strcmp(argv[i], "--entries") && i + 1 < argc) entries = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_audit [--keep] [--entries N] [--dir DIR]\n");
            return 2;
        }
    }
    if (entries < 2 * METERS) entries = 2 * METERS;

    /* Reuse a kept ledger of the same size, else build one. */
    char conf[4200], ledger[4200], nhex[65] = "", rhex[65] = "";
    unsigned long long have = 0;
    snprintf(conf, sizeof conf, "%s/bench.conf", dir);
    snprintf(ledger, sizeof ledger, "%s/ledger", dir);
    FILE *f = fopen(conf, "r");
    int reuse = f && fscanf(f, "%64s %64s %llu", nhex, rhex, &have) == 3 && have == entries;
    if (f) fclose(f);
    if (reuse) {
        fprintf(stderr, "reusing the ledger of %llu entries in %s\n", have, dir);
    } else {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        if (!build(dir, entries)) {
            fprintf(stderr, "bench_audit: building the ledger in %s failed\n", dir);
            nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
            return 1;
        }
        f = fopen(conf, "r");
        if (!f || fscanf(f, "%64s %64s %llu", nhex, rhex, &have) != 3) return 1;
        fclose(f);
    }
    uint8_t notary[32], reg[32];
    if (!wn_hex_decode(notary, 32, nhex, 64) || !wn_hex_decode(reg, 32, rhex, 64)) return 1;

    size_t nsample;
    triple *t = sample(ledger, &nsample);
    if (!t || !nsample) {
        fprintf(stderr, "bench_audit: cannot read signatures back from %s\n", ledger);
        return 1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load[1] = {0};
    getloadavg(load, 1);

    /* Raw: rounds of half the sample (about a second each), before and after the audit. */
    double raw_sum = 0, raw_best = 0, cpu_raw = 0;
    int rounds = 0;
    size_t half = nsample / 2;
    for (int r = 0; r < RAW_ROUNDS; r++) {
        double c, v = raw_rate(t + (size_t)(r % 2) * half, half, &c);
        raw_sum += v, cpu_raw += c, rounds++;
        if (v > raw_best) raw_best = v;
    }

    wn_audit_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.notary, notary, 32);
    memcpy(cfg.registrar, reg, 32);
    cfg.have_registrar = 1;
    wn_auditor *a;
    char why[512];
    if (wn_auditor_new(&a, &cfg) != WN_AUDIT_OK) return 1;
    samples sm = {{0}, {0}, 0};
    double c0 = cpu(), t0 = now();
    sm.t[0] = t0, sm.n = 1;
    int ok = wn_audit_lmdb_run(a, ledger, record, &sm, why, sizeof why) && wn_auditor_finish(a) == WN_AUDIT_OK;
    double el = now() - t0, cpu_audit = (cpu() - c0);
    if (!ok) {
        fprintf(stderr, "bench_audit: the audit could not read the ledger: %s\n", why);
        return 1;
    }
    const wn_audit_summary *s = wn_auditor_summary(a);
    uint64_t audited = s->entries, problems = s->problems, cps = s->checkpoints_valid;
    wn_auditor_free(a);
    for (int r = 0; r < RAW_ROUNDS; r++) {
        double c, v = raw_rate(t + (size_t)(r % 2) * half, half, &c);
        raw_sum += v, cpu_raw += c, rounds++;
        if (v > raw_best) raw_best = v;
    }
    free(t);

    /* The audit's best window as long as a raw round, from the progress samples. */
    double window = (double)half / raw_best, best = 0;
    for (size_t i = 1, j = 0; i < sm.n; i++) {
        while (j + 1 < i && sm.t[i] - sm.t[j + 1] >= window) j++;
        if (sm.t[i] - sm.t[j] >= window) {
            double v = (double)(sm.done[i] - sm.done[j]) / (sm.t[i] - sm.t[j]);
            if (v > best) best = v;
        }
    }
    double raw = raw_sum / rounds, rate = (double)audited / el, cpu_entry = cpu_audit / (double)audited;
    cpu_raw /= rounds;
    printf("audit of %llu entries (%d meters, %llu checkpoints verified, %llu problems) on %ld CPUs\n",
           (unsigned long long)audited, METERS, (unsigned long long)cps, (unsigned long long)problems, ncpu);
    printf("  audit:         %8.0f entries/s over %.1f s; best %.1f-s window %.0f entries/s\n", rate, el, window, best);
    printf("  raw BIP-340:   %8.0f verifications/s on 2 threads (mean of %d rounds around the audit); best %.0f\n", raw,
           rounds, raw_best);
    printf("  ratio:         %8.3f  (audit / raw, whole runs)\n", rate / raw);
    printf("  ratio:         %8.3f  (best window / best round; target >= %.1f) %s\n", best / raw_best, TARGET_RATIO,
           best / raw_best >= TARGET_RATIO ? "OK" : "BELOW TARGET");
    printf("  CPU per entry: %8.1f us audited, %.1f us per raw verification (ratio %.3f)\n", cpu_entry * 1e6,
           cpu_raw * 1e6, cpu_raw / cpu_entry);
    if (load[0] > 0.5 * (double)ncpu)
        printf("  note: load average %.1f on %ld CPUs when it started: other processes shared the CPUs, so whole-run\n"
               "        rates are noisy; the best windows and the CPU-time ratio are much less affected\n",
               load[0], ncpu);
    if (!keep) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    } else {
        printf("  ledger kept in %s (notary key %s)\n", ledger, nhex);
    }
    return problems ? 1 : 0;
}
