/* simulate.c — `wn-meter simulate`: a fleet of simulated meters (layout and data from
 * waterdata.c) kept in a state directory, enrolled at a node with registrar-signed
 * records, each making M readings that are pushed in batches; exits 0 only when every
 * reading has a verified receipt. Run again with the same directory and it continues:
 * the meters, their sequence state and their unacknowledged readings live there. */
#include "device/agent/agent.h"
#include "device/agent/push.h"
#include "device/agent/waterdata.h"

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "device/meter.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *node, *registrar_key, *state, *notary_hex;
    uint64_t meters, readings, interval_ms, start, seed, batch, retries;
    int have_start, have_seed, quiet;
    int alg;                 /* --alg: 0 the layout's (one ECDSA meter in six), -1 mixed, else every meter's */
} sim_opts;

typedef struct {
    wn_meter m;
    wn_sim_meter d;
    char dir[4200];
    uint64_t first_time, step;
    int have_prev;
    uint64_t prev_time;
    int64_t prev_volume;
} sim_unit;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wn-meter simulate --node URL --registrar-key FILE --meters N --readings M --state DIR\n"
            "                         [--notary-pub HEX] [--interval-ms 900000] [--start TIME] [--seed S]\n"
            "                         [--batch 256] [--retries 7] [--alg bip340|ecdsa|p256|sm2|mixed] [--quiet]\n\n"
            "Simulates N meters in enterprises of six: a tier-1 intake meter, three tier-2 workshop\n"
            "meters under it (the third an ECDSA meter), a recycled-water meter and a discharge\n"
            "meter, the last two with pH, conductivity and turbidity. Volumes follow a working-day\n"
            "pattern (China Standard Time). Each meter is created in DIR/meter-NNNNN, enrolled at\n"
            "the node (signed with the registrar key; an already enrolled meter is fine), and makes\n"
            "M new readings, measurement times advancing by the interval from --start (default:\n"
            "now minus M intervals, so that no time is in the future) or from its last reading;\n"
            "readings are pushed in batches and every receipt is verified with the notary key\n"
            "(--notary-pub, else pinned in DIR/notary.pub, else GET /v1/pubkey). Run it again with\n"
            "the same DIR to continue: unacknowledged readings of a run that was cut short are\n"
            "sent first. The seed of the data is fixed at the first run. --alg gives every meter\n"
            "that signature algorithm; mixed gives the workshop meters P-256, SM2 and ECDSA.\n\n"
            "exit codes: 0 every reading has a verified receipt, 1 a reading was rejected or a\n"
            "receipt did not verify (reported), 2 usage or local error, 3 node unreachable\n\n"
            "example:\n  wn-meter simulate --node http://127.0.0.1:8420 --registrar-key registrar.key \\\n"
            "    --meters 12 --readings 96 --state /tmp/fleet\n");
}

static int alg_code(const char *name)
{
    for (unsigned a = 1; a <= WN_ALG_MAX; a++)
        if (strcmp(name, wn_alg_name(a)) == 0) return (int)a;
    return 0;
}

static int parse_opts(int argc, char **argv, sim_opts *o)
{
    static const struct option opts[] = {
        {"node", 1, 0, 'n'}, {"registrar-key", 1, 0, 'r'}, {"meters", 1, 0, 'N'}, {"readings", 1, 0, 'M'},
        {"state", 1, 0, 's'}, {"notary-pub", 1, 0, 'k'}, {"interval-ms", 1, 0, 'i'}, {"start", 1, 0, 't'},
        {"seed", 1, 0, 'S'}, {"batch", 1, 0, 'b'}, {"retries", 1, 0, 'R'}, {"quiet", 0, 0, 'q'},
        {"alg", 1, 0, 'a'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c, have_n = 0, have_m = 0;
    memset(o, 0, sizeof *o);
    o->interval_ms = 900000;
    o->batch = 256;
    o->retries = 7;
    o->seed = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n') o->node = optarg;
        else if (c == 'r') o->registrar_key = optarg;
        else if (c == 'N' && wn_agent_parse_u64(optarg, &o->meters) && o->meters >= 1 && o->meters <= 100000) have_n = 1;
        else if (c == 'M' && wn_agent_parse_u64(optarg, &o->readings) && o->readings <= 100000000) have_m = 1;
        else if (c == 's') o->state = optarg;
        else if (c == 'k') o->notary_hex = optarg;
        else if (c == 'i' && wn_agent_parse_u64(optarg, &o->interval_ms) && o->interval_ms >= 1) {}
        else if (c == 't' && wn_agent_parse_time(optarg, &o->start)) o->have_start = 1;
        else if (c == 'S' && wn_agent_parse_u64(optarg, &o->seed)) o->have_seed = 1;
        else if (c == 'b' && wn_agent_parse_u64(optarg, &o->batch) && o->batch >= 1 && o->batch <= 65536) {}
        else if (c == 'R' && wn_agent_parse_u64(optarg, &o->retries) && o->retries < 100) {}
        else if (c == 'q') o->quiet = 1;
        else if (c == 'a' && strcmp(optarg, "mixed") == 0) o->alg = -1;
        else if (c == 'a' && (o->alg = alg_code(optarg)) > 0) {}
        else if (c == 'h') return 1;
        else return -1;
    }
    if (!o->node || !o->registrar_key || !have_n || !have_m || !o->state || optind != argc) return -1;
    return 0;
}

/* DIR/fleet.conf holds the seed: the data of a continued run must follow the same model. */
static int fleet_seed(const sim_opts *o, uint64_t *seed)
{
    char path[4200], buf[128];
    snprintf(path, sizeof path, "%s/fleet.conf", o->state);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        unsigned long long s;
        if (sscanf(buf, "waternotary-fleet 1\nseed %llu\n", &s) != 1) {
            fprintf(stderr, "wn-meter: %s is malformed\n", path);
            return WN_PUSH_LOCAL;
        }
        *seed = s;
        if (o->have_seed && o->seed != s)
            fprintf(stderr, "wn-meter: %s continues with its seed %llu, not %" PRIu64 "\n", o->state, s, o->seed);
        return 0;
    }
    if (errno != ENOENT) { fprintf(stderr, "wn-meter: cannot read %s\n", path); return WN_PUSH_LOCAL; }
    *seed = o->seed;
    int len = snprintf(buf, sizeof buf, "waternotary-fleet 1\nseed %" PRIu64 "\n", o->seed);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    if (!ok || rename(tmp, path) != 0) { fprintf(stderr, "wn-meter: cannot write %s\n", path); return WN_PUSH_LOCAL; }
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static int open_unit(sim_unit *u, const sim_opts *o, uint64_t seed, unsigned i)
{
    snprintf(u->dir, sizeof u->dir, "%s/meter-%05u", o->state, i);
    wn_water_describe(&u->d, seed, i);
    if (o->alg > 0) u->d.alg = (uint8_t)o->alg;
    if (o->alg < 0) { /* workshop meters 1, 2, 3 of each enterprise: P-256, SM2, ECDSA */
        static const uint8_t mixed[6] = {WN_ALG_BIP340, WN_ALG_P256, WN_ALG_SM2, WN_ALG_ECDSA, WN_ALG_BIP340, WN_ALG_BIP340};
        u->d.alg = mixed[i % 6];
    }
    int err = wn_meter_open(&u->m, u->dir);
    if (err == WN_METER_ENOENT) {
        err = wn_meter_create(u->dir, u->d.alg, NULL, NULL);
        if (!err) err = wn_meter_open(&u->m, u->dir);
    }
    if (err) {
        fprintf(stderr, "wn-meter: %s: %s\n", u->dir, wn_meter_strerror(err));
        return WN_PUSH_LOCAL;
    }
    if (wn_meter_alg(&u->m) != u->d.alg) {
        fprintf(stderr, "wn-meter: %s: the meter's algorithm does not match the fleet layout\n", u->dir);
        return WN_PUSH_LOCAL;
    }
    return 0;
}

/* Where the unit's readings of this run start, and how far apart they are. */
static int plan_unit(sim_unit *u, const sim_opts *o, uint64_t now)
{
    wn_meter_counts k;
    wn_meter_get_counts(&u->m, &k);
    uint64_t span = o->interval_ms * o->readings;
    u->step = o->interval_ms;
    if (k.last_seq == 0) {
        u->first_time = o->have_start ? o->start : (now > span ? now - span : 0);
        return 0;
    }
    /* Continue after the last reading; squeeze the interval if M of them would run past
     * the present (the node refuses times in the future). */
    uint64_t last = k.last_time;
    if (o->readings && last + span > now) u->step = now > last ? (now - last) / o->readings : 0;
    u->first_time = last + u->step;
    if (o->have_start && o->start > u->first_time) u->first_time = o->start;
    uint8_t b[WN_READING_MAX_LEN];
    size_t len;
    wn_reading r;
    int err = wn_meter_get(&u->m, k.last_seq, b, &len);
    if (err || wn_reading_decode(&r, b, len) != WN_READING_OK) {
        fprintf(stderr, "wn-meter: %s: cannot read the last reading\n", u->dir);
        return WN_PUSH_LOCAL;
    }
    for (unsigned i = 0; i < r.count; i++)
        if (r.m[i].quantity == WN_Q_VOLUME && r.m[i].unit == WN_U_M3 && r.m[i].scale == 3) {
            u->have_prev = 1;
            u->prev_time = r.time_ms;
            u->prev_volume = r.m[i].value;
        }
    return 0;
}

static int enrol_unit(sim_unit *units, unsigned i, wn_http *h, const uint8_t registrar_sk[32], uint64_t now)
{
    sim_unit *u = &units[i];
    char marker[4300];
    snprintf(marker, sizeof marker, "%s/enrolled", u->dir);
    if (access(marker, F_OK) == 0) return 0;
    wn_enrolment e;
    const uint8_t *parent = u->d.parent >= 0 ? wn_meter_id(&units[u->d.parent].m) : NULL;
    uint64_t t = u->first_time < now ? u->first_time : now;
    wn_water_enrolment(&e, &u->d, wn_meter_id(&u->m), wn_meter_pubkey(&u->m), wn_meter_alg(&u->m), parent,
                       t > 60000 ? t - 60000 : t);
    int rc = wn_agent_enrol(h, &e, registrar_sk, u->dir);
    if (rc) return rc;
    /* The marker only saves a request next time: if it is lost, the node says
     * already_enrolled. */
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    return 0;
}

static uint64_t total_pending(sim_unit *units, size_t n)
{
    uint64_t p = 0;
    for (size_t i = 0; i < n; i++) {
        wn_meter_counts k;
        wn_meter_get_counts(&units[i].m, &k);
        p += k.pending;
    }
    return p;
}

static int run(const sim_opts *o, sim_unit *units, wn_push_meter *pms, size_t n, wn_http *h, uint64_t seed)
{
    uint8_t registrar_sk[32], registrar[32], node_registrar[32], notary[32];
    int have_node_registrar = 0, rc;
    uint64_t now = wn_agent_now_ms(), made = 0;

    if (!wn_keyfile_read(o->registrar_key, registrar_sk) || !wn_seckey_xonly(registrar, registrar_sk)) {
        fprintf(stderr, "wn-meter: cannot use the registrar key %s: %s\n", o->registrar_key, wn_keyfile_strerror(errno));
        return WN_PUSH_LOCAL;
    }
    if ((rc = wn_agent_notary_key(h, o->notary_hex, o->state, notary, node_registrar, &have_node_registrar))) goto out;
    if (have_node_registrar && memcmp(registrar, node_registrar, 32) != 0) {
        fprintf(stderr, "wn-meter: %s is not the registrar key the node trusts\n", o->registrar_key);
        rc = WN_PUSH_REJECTED;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = open_unit(&units[i], o, seed, (unsigned)i))) goto out;
        pms[i].m = &units[i].m;
        snprintf(pms[i].label, sizeof pms[i].label, "meter-%05zu", i);
        if ((rc = plan_unit(&units[i], o, now)) || (rc = enrol_unit(units, (unsigned)i, h, registrar_sk, now))) goto out;
    }

    wn_pusher p;
    wn_pusher_init(&p, h, notary);
    p.batch = (size_t)o->batch;
    p.quiet = o->quiet;
    /* What an earlier run left unacknowledged goes first. */
    if (total_pending(units, n) && (rc = wn_push(&p, pms, n)) >= WN_PUSH_LOCAL) goto out;

    uint64_t since_push = 0;
    for (uint64_t k = 0; k < o->readings; k++) {
        for (size_t i = 0; i < n; i++) {
            sim_unit *u = &units[i];
            if (pms[i].stopped) continue;
            wn_measurement ms[WN_READING_MAX_MEAS];
            uint64_t t = u->first_time + k * u->step;
            size_t count = wn_water_measure(&u->d, seed, u->have_prev, u->prev_time, u->prev_volume, t, ms);
            int err = wn_meter_read(&u->m, t, 0, ms, count, NULL, NULL, NULL);
            if (err) {
                fprintf(stderr, "wn-meter: %s: cannot make a reading: %s\n", u->dir, wn_meter_strerror(err));
                rc = WN_PUSH_LOCAL;
                goto out;
            }
            u->have_prev = 1;
            u->prev_time = t;
            u->prev_volume = ms[0].value; /* the volume comes first */
            made++;
            since_push++;
        }
        if (since_push >= o->batch || k + 1 == o->readings) {
            int r = wn_push(&p, pms, n);
            if (r > rc) rc = r;
            if (r >= WN_PUSH_LOCAL) goto out;
            since_push = 0;
            if (!o->quiet && k + 1 < o->readings)
                fprintf(stderr, "wn-meter: %llu of %llu readings per meter made, %llu acked\n",
                        (unsigned long long)(k + 1), (unsigned long long)o->readings,
                        (unsigned long long)(p.accepted + p.duplicates));
        }
    }
    if (total_pending(units, n)) { /* M = 0, or meters stopped */
        int r = wn_push(&p, pms, n);
        if (r > rc) rc = r;
    }
    uint64_t pending = total_pending(units, n), stopped = 0;
    for (size_t i = 0; i < n; i++) stopped += pms[i].stopped != 0;
    printf("simulate: %zu meters, %llu readings made, %llu accepted, %llu duplicates, %llu rejected, "
           "%llu bad receipts, %llu pending, %llu meters stopped\n",
           n, (unsigned long long)made, (unsigned long long)p.accepted, (unsigned long long)p.duplicates,
           (unsigned long long)p.rejected, (unsigned long long)p.bad_receipts, (unsigned long long)pending,
           (unsigned long long)stopped);
    if (rc == WN_PUSH_OK && (pending || stopped)) rc = WN_PUSH_REJECTED;
out:
    explicit_bzero(registrar_sk, sizeof registrar_sk);
    return rc;
}

int wn_agent_cmd_simulate(int argc, char **argv)
{
    sim_opts o;
    int r = parse_opts(argc, argv, &o);
    if (r) {
        usage(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : WN_PUSH_LOCAL;
    }
    uint64_t seed;
    if (mkdir(o.state, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "wn-meter: cannot create %s: %s\n", o.state, strerror(errno));
        return WN_PUSH_LOCAL;
    }
    if ((r = fleet_seed(&o, &seed))) return r;
    raise_fd_limit();

    size_t n = (size_t)o.meters;
    sim_unit *units = calloc(n, sizeof *units);
    wn_push_meter *pms = calloc(n, sizeof *pms);
    wn_http h;
    if (!units || !pms || !wn_http_init(&h, o.node)) {
        fprintf(stderr, "wn-meter: out of memory, bad node URL or libcurl failure\n");
        free(units);
        free(pms);
        return WN_PUSH_LOCAL;
    }
    h.attempts = (unsigned)o.retries + 1;
    for (size_t i = 0; i < n; i++) units[i].m.dirfd = units[i].m.logfd = units[i].m.rcptfd = -1;
    r = run(&o, units, pms, n, &h, seed);
    for (size_t i = 0; i < n; i++) wn_meter_close(&units[i].m);
    wn_http_free(&h);
    free(units);
    free(pms);
    return r;
}
