/* test_gateway.c — wn-gateway, the Modbus gateway (device/gateway/):
 * - register data types in every word and byte order against known answers, totaliser
 *   widening through wraps, profile and configuration errors each named;
 * - end to end: a simulated flowmeter (a libmodbus TCP server on 127.0.0.1 in this
 *   process, whose totaliser advances and wraps, with a status register, that can stop
 *   answering or answer with exceptions), a real wn-node, a meter made with wn-meter init
 *   and enrolled by the registrar, and bin/wn-gateway --once run round by round, killed
 *   with SIGKILL at random points, with the node killed and restarted in between: every
 *   reading in the ledger equals the simulated register history exactly (no duplicates,
 *   no invented values, wraps right), silent and failing rounds leave gaps, and a fault
 *   the meter reported shows in the next reading's flags. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "device/gateway/config.h"
#include "device/gateway/profile.h"
#include "device/gateway/registers.h"
#include "device/gateway/widen.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

/* ---- register data types ---- */

static int64_t dec(const uint16_t *r, int type, int words, int bytes, unsigned decimals)
{
    int64_t v = 0;
    uint64_t raw;
    int rc = wn_reg_decode(r, type, words, bytes, decimals, &v, &raw);
    cr_assert_eq(rc, WN_REG_OK, "decode %s: %s", wn_reg_type_name(type), wn_reg_strerror(rc));
    return v;
}

Test(gateway_registers, integer_types_in_every_order)
{
    /* 0x12345678 as ABCD, CDAB, BADC, DCBA */
    const uint16_t abcd[2] = {0x1234, 0x5678}, cdab[2] = {0x5678, 0x1234}, badc[2] = {0x3412, 0x7856},
                   dcba[2] = {0x7856, 0x3412};
    cr_assert_eq(dec(abcd, WN_REG_U32, WN_WORDS_BIG, WN_BYTES_BIG, 0), 0x12345678);
    cr_assert_eq(dec(cdab, WN_REG_U32, WN_WORDS_LITTLE, WN_BYTES_BIG, 0), 0x12345678);
    cr_assert_eq(dec(badc, WN_REG_U32, WN_WORDS_BIG, WN_BYTES_SWAPPED, 0), 0x12345678);
    cr_assert_eq(dec(dcba, WN_REG_U32, WN_WORDS_LITTLE, WN_BYTES_SWAPPED, 0), 0x12345678);
    const uint16_t u16 = 0xfffe, neg[2] = {0xffff, 0xfffe};
    cr_assert_eq(dec(&u16, WN_REG_U16, 0, 0, 0), 65534);
    cr_assert_eq(dec(neg, WN_REG_I32, WN_WORDS_BIG, WN_BYTES_BIG, 0), -2);
    cr_assert_eq(dec(neg, WN_REG_U32, WN_WORDS_BIG, WN_BYTES_BIG, 0), 4294967294LL);
    const uint16_t b16 = 0x9876, b32[2] = {0x1234, 0x5678}, badbcd = 0x12a4;
    cr_assert_eq(dec(&b16, WN_REG_BCD16, 0, 0, 0), 9876);
    cr_assert_eq(dec(b32, WN_REG_BCD32, WN_WORDS_BIG, WN_BYTES_BIG, 0), 12345678);
    cr_assert_eq(dec(b32, WN_REG_BCD32, WN_WORDS_LITTLE, WN_BYTES_BIG, 0), 56781234);
    int64_t v;
    uint64_t raw;
    cr_assert_eq(wn_reg_decode(&badbcd, WN_REG_BCD16, 0, 0, 0, &v, &raw), WN_REG_EBCD);
    cr_assert_eq(wn_reg_decode(&b16, 99, 0, 0, 0, &v, &raw), WN_REG_ETYPE);
    cr_assert_eq(wn_reg_decode(&b16, WN_REG_U16, 0, 0, 10, &v, &raw), WN_REG_EDECIMALS);
}

Test(gateway_registers, floats_rounded_to_their_decimals)
{
    /* 12.5f = 0x41480000; -0.0625f = 0xbd800000; 1234.5678 as float64 = 0x40934a456d5cfaad */
    const uint16_t f_abcd[2] = {0x4148, 0x0000}, f_cdab[2] = {0x0000, 0x4148}, f_dcba[2] = {0x0000, 0x4841},
                   f_neg[2] = {0xbd80, 0x0000};
    cr_assert_eq(dec(f_abcd, WN_REG_F32, WN_WORDS_BIG, WN_BYTES_BIG, 3), 12500);
    cr_assert_eq(dec(f_cdab, WN_REG_F32, WN_WORDS_LITTLE, WN_BYTES_BIG, 3), 12500);
    cr_assert_eq(dec(f_dcba, WN_REG_F32, WN_WORDS_LITTLE, WN_BYTES_SWAPPED, 1), 125);
    cr_assert_eq(dec(f_neg, WN_REG_F32, WN_WORDS_BIG, WN_BYTES_BIG, 3), -63, "ties round away from zero");
    const uint16_t d[4] = {0x4093, 0x4a45, 0x6d5c, 0xfaad}, d_le[4] = {0xfaad, 0x6d5c, 0x4a45, 0x4093};
    cr_assert_eq(dec(d, WN_REG_F64, WN_WORDS_BIG, WN_BYTES_BIG, 4), 12345678);
    cr_assert_eq(dec(d_le, WN_REG_F64, WN_WORDS_LITTLE, WN_BYTES_BIG, 2), 123457);
    const uint16_t nan[2] = {0x7fc0, 0x0000}, inf[2] = {0x7f80, 0x0000}, huge[4] = {0x7fe0, 0, 0, 0};
    int64_t v = 77;
    uint64_t raw;
    cr_assert_eq(wn_reg_decode(nan, WN_REG_F32, 0, 0, 3, &v, &raw), WN_REG_ENAN);
    cr_assert_eq(wn_reg_decode(inf, WN_REG_F32, 0, 0, 3, &v, &raw), WN_REG_ENAN);
    cr_assert_eq(wn_reg_decode(huge, WN_REG_F64, 0, 0, 0, &v, &raw), WN_REG_ERANGE);
    cr_assert_eq(v, 77, "nothing is written on an error");
}

Test(gateway_widen, wraps_counted_and_resumed)
{
    wn_widen w;
    int64_t t = 0;
    wn_widen_init(&w, 1u << 16);
    cr_assert(wn_widen_step(&w, 65000, &t));
    cr_assert_eq(t, 65000, "the first value is the total");
    cr_assert(wn_widen_step(&w, 65535, &t));
    cr_assert_eq(t, 65535);
    cr_assert(wn_widen_step(&w, 100, &t));
    cr_assert_eq(t, 65536 + 100, "one wrap");
    cr_assert(wn_widen_step(&w, 100, &t));
    cr_assert_eq(t, 65636, "no movement");
    cr_assert_eq(w.wraps, 1);
    cr_assert(!wn_widen_step(&w, 65536, &t), "raw beyond the counter");
    cr_assert_eq(t, 65636);
    /* resumed from a total far beyond the counter: the last raw is total mod M */
    wn_widen_resume(&w, 1ULL << 32, 3 * 4294967296LL + 4294967000LL);
    cr_assert(wn_widen_step(&w, 500, &t));
    cr_assert_eq(t, 3 * 4294967296LL + 4294967000LL + 796, "a wrap across a restart");
    wn_widen_resume(&w, 10000, 9990);
    cr_assert(wn_widen_step(&w, 5, &t));
    cr_assert_eq(t, 10005, "a BCD counter wraps at 10^4");
    wn_widen_resume(&w, 1u << 16, INT64_MAX - 1);
    cr_assert(!wn_widen_step(&w, (uint64_t)(INT64_MAX % 65536 + 5) % 65536, &t), "overflow refused");
}

/* ---- profiles and configuration ---- */

static void profile_err(const char *json, const char *want)
{
    wn_profile p;
    char err[300] = "";
    cr_assert(!wn_profile_parse(&p, json, strlen(json), err, sizeof err), "accepted: %s", json);
    cr_assert(strstr(err, want), "error \"%s\" lacks \"%s\" for %s", err, want, json);
}

#define PROFILE_HEAD "{\"profile\":\"waternotary/modbus-profile@v1\",\"model\":\"m\","

Test(gateway_profile, shipped_profiles_load)
{
    const char *files[] = {"profiles/modbus/generic-u32-litres.json", "profiles/modbus/ultrasonic-cdab-input.json",
                           "profiles/modbus/pulse-counter-bcd16.json"};
    for (size_t i = 0; i < 3; i++) {
        wn_profile p;
        char err[300];
        cr_assert(wn_profile_load(&p, files[i], err, sizeof err), "%s", err);
        cr_assert(p.n >= 2);
        cr_assert_eq(p.q[0].quantity, WN_Q_VOLUME);
        cr_assert(p.q[0].wraps);
    }
    wn_profile p;
    char err[300];
    cr_assert(wn_profile_load(&p, "profiles/modbus/ultrasonic-cdab-input.json", err, sizeof err));
    cr_assert_eq(p.q[0].function, 4);
    cr_assert_eq(p.q[0].words, WN_WORDS_LITTLE);
    cr_assert_eq(p.status_flags[2], WN_FLAG_REVERSE_FLOW);
    cr_assert_eq(p.fault_bits, (1u << 0) | (1u << 3) | (1u << 4));
}

Test(gateway_profile, every_mistake_named)
{
    profile_err("[]", "JSON object");
    profile_err("{\"profile\":\"other@v1\"}", "\"profile\" must be");
    profile_err(PROFILE_HEAD "\"quantities\":[]}", "non-empty");
    profile_err(PROFILE_HEAD "\"colour\":1,\"quantities\":[]}", "unknown member \"colour\"");
    profile_err(PROFILE_HEAD "\"model\":\"n\",\"quantities\":[]}", "appears twice");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"beer\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0}]}",
                "\"quantity\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"kPa\",\"address\":0,\"type\":\"u16\",\"decimals\":0}]}",
                "\"unit\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u24\",\"decimals\":0}]}",
                "\"type\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":65535,\"type\":\"u32\",\"decimals\":0}]}",
                "past address 65535");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":10}]}",
                "\"decimals\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":1.5}]}",
                "\"decimals\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"flow\",\"unit\":\"m3/h\",\"address\":0,\"type\":\"u16\",\"decimals\":0,\"wraps\":true}]}",
                "only a volume totaliser");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"float32\",\"decimals\":0,\"wraps\":true}]}",
                "only a volume totaliser");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0,\"function\":6}]}",
                "\"function\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0,\"words\":\"middle\"}]}",
                "\"words\"");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0},"
                "{\"quantity\":\"volume\",\"unit\":\"L\",\"address\":1,\"type\":\"u16\",\"decimals\":0}]}",
                "appears twice");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0}],"
                "\"status\":{\"address\":9,\"bits\":{\"16\":\"tamper\"}}}",
                "bit number");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0}],"
                "\"status\":{\"address\":9,\"bits\":{\"3\":\"leak\"}}}",
                "unknown flag");
    profile_err(PROFILE_HEAD "\"quantities\":[{\"quantity\":\"volume\",\"unit\":\"m3\",\"address\":0,\"type\":\"u16\",\"decimals\":0}],"
                "\"status\":{\"bits\":{}}}",
                "\"address\" is required");
}

static void config_err(const char *text, const char *want)
{
    static wn_gateway_config c;
    char err[300] = "";
    cr_assert(!wn_gateway_config_parse(&c, text, strlen(text), err, sizeof err), "accepted: %s", text);
    cr_assert(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
}

Test(gateway_config, parsed_and_mistakes_named)
{
    static wn_gateway_config c;
    const char *good = "# a gateway\nnode = http://127.0.0.1:8420\npoll-ms = 1000\nsign-ms = 60000\n\n"
                       "[channel a]\nstate = /s/a\nprofile = p.json\nmodbus = tcp:127.0.0.1:502\n"
                       "[channel b]\nstate=/s/b\nprofile=p.json\nmodbus=rtu:/dev/ttyUSB0:9600:8N1\nunit=7\n";
    char err[300];
    cr_assert(wn_gateway_config_parse(&c, good, strlen(good), err, sizeof err), "%s", err);
    cr_assert_eq(c.nchannels, 2);
    cr_assert_eq(c.poll_ms, 1000);
    cr_assert_eq(c.sign_ms, 60000);
    cr_assert_eq(c.timeout_ms, WN_GATEWAY_DEFAULT_TIMEOUT_MS);
    cr_assert_str_eq(c.channels[1].address, "rtu:/dev/ttyUSB0:9600:8N1");
    cr_assert_eq(c.channels[0].unit, 1);
    cr_assert_eq(c.channels[1].unit, 7);
    config_err("node = x\n", "no [channel");
    config_err("colour = red\n", "line 1: unknown key");
    config_err("[channel a]\nstate = s\nprofile = p\n", "has no \"modbus\"");
    config_err("[channel a]\nstate = s\nstate = t\n", "line 3: \"state\" is given twice");
    config_err("[channel a]\nnode = x\n", "before the first");
    config_err("state = s\n", "in a [channel NAME] section");
    config_err("[channel a]\nstate=s\nprofile=p\nmodbus=m\n[channel a]\n", "appears twice");
    config_err("poll-ms = 10\n[channel a]\nstate=s\nprofile=p\nmodbus=m\n", "line 1: bad value");
    config_err("poll-ms = 60000\nsign-ms = 1000\n[channel a]\nstate=s\nprofile=p\nmodbus=m\n", "sign-ms");
    config_err("[channel a]\nstate=s\nprofile=p\nmodbus=m\nunit=248\n", "line 5: bad value");
    config_err("[chanel a]\n", "a section is");
}

/* ---- a simulated flowmeter: libmodbus TCP server on 127.0.0.1 ---- */

enum { SIM_ANSWER = 0, SIM_SILENT, SIM_EXCEPTION };

typedef struct {
    modbus_t *ctx;
    modbus_mapping_t *map;
    int listen_fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    atomic_int mode;
    atomic_int stop;
    atomic_ulong answered;
} sim;

static void *sim_run(void *arg)
{
    sim *s = arg;
    uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    while (!atomic_load(&s->stop)) {
        struct pollfd pf = {s->listen_fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) continue;
        int fd = s->listen_fd;
        if (modbus_tcp_accept(s->ctx, &fd) < 0) continue;
        while (!atomic_load(&s->stop)) {
            int rc = modbus_receive(s->ctx, q);
            if (rc < 0 && errno == ETIMEDOUT) continue; /* the indication timeout: check stop */
            if (rc < 0) break;                          /* the gateway closed: accept the next */
            if (rc == 0) continue;
            int mode = atomic_load(&s->mode);
            pthread_mutex_lock(&s->mu);
            if (mode == SIM_ANSWER) modbus_reply(s->ctx, q, rc, s->map);
            else if (mode == SIM_EXCEPTION) modbus_reply_exception(s->ctx, q, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE);
            pthread_mutex_unlock(&s->mu);
            if (mode == SIM_ANSWER) atomic_fetch_add(&s->answered, 1);
        }
        modbus_close(s->ctx);
    }
    return NULL;
}

static void sim_start(sim *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->ctx = modbus_new_tcp("127.0.0.1", 0);
    cr_assert(s->ctx);
    modbus_set_indication_timeout(s->ctx, 0, 100000);
    s->map = modbus_mapping_new(0, 0, 128, 128);
    cr_assert(s->map);
    s->listen_fd = modbus_tcp_listen(s->ctx, 4);
    cr_assert(s->listen_fd >= 0, "modbus_tcp_listen: %s", modbus_strerror(errno));
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    cr_assert_eq(getsockname(s->listen_fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->thread, NULL, sim_run, s), 0);
}

static void sim_stop(sim *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    modbus_mapping_free(s->map);
    modbus_free(s->ctx);
    pthread_mutex_destroy(&s->mu);
}

/* Layout A (profiles/modbus/generic-u32-litres.json): u32 litres at 0, float32 flow at 2,
 * float32 temperature at 4, status at 10. */
static void sim_set(sim *s, uint32_t litres, float flow, float temp, uint16_t status)
{
    uint32_t fu, tu;
    memcpy(&fu, &flow, 4);
    memcpy(&tu, &temp, 4);
    pthread_mutex_lock(&s->mu);
    uint16_t *r = s->map->tab_registers;
    r[0] = (uint16_t)(litres >> 16);
    r[1] = (uint16_t)litres;
    r[2] = (uint16_t)(fu >> 16);
    r[3] = (uint16_t)fu;
    r[4] = (uint16_t)(tu >> 16);
    r[5] = (uint16_t)tu;
    r[10] = status;
    pthread_mutex_unlock(&s->mu);
}

/* ---- end to end ---- */

typedef struct {
    int64_t litres_total; /* widened total in litres = the reading's value at scale 3 */
    int optional;         /* the round was cut by SIGKILL: the reading may or may not exist */
    uint16_t flags;       /* flags the reading must carry */
} expect;

static int run_gateway(const char *dir, const char *config)
{
    wn_run_result r = wn_proc_runl(dir, "wn-gateway", "--config", config, "--once", "--quiet", NULL);
    int code = r.code;
    if (code != 0 && code != 4 && code != 3) cr_log_warn("wn-gateway exit %d: %s%s", code, r.out, r.err);
    wn_run_result_free(&r);
    return code;
}

Test(gateway_e2e, ledger_equals_register_history, .timeout = 240)
{
    char *dir = wn_test_tmpdir("gateway");
    wn_test_node node;
    wn_test_node_init(&node, dir);
    cr_assert(wn_proc_node_start(&node, 0, NULL), "node did not start");
    char state[4200], regkey[4300], config[4200];
    snprintf(state, sizeof state, "%s/meter", dir);
    snprintf(regkey, sizeof regkey, "%s/registrar.key", node.data);
    snprintf(config, sizeof config, "%s/gateway.conf", dir);

    wn_run_result r = wn_proc_runl(dir, "wn-meter", "init", "--state", state, NULL);
    cr_assert_eq(r.code, 0, "init: %s", r.err);
    char meter[65] = "";
    sscanf(r.out, "%64[0-9a-f]", meter);
    wn_run_result_free(&r);
    cr_assert_eq(strlen(meter), 64, "init printed no meter id");
    r = wn_proc_runl(dir, "wn-meter", "enrol", "--state", state, "--node", node.url, "--registrar-key", regkey,
                     "--enterprise", "91330400MA0000001X", "--point", "intake", "--tier", "1", NULL);
    cr_assert_eq(r.code, 0, "enrol: %s", r.err);
    wn_run_result_free(&r);

    sim s;
    sim_start(&s);
    FILE *f = fopen(config, "w");
    cr_assert(f);
    fprintf(f, "node = %s\ntimeout-ms = 300\n\n[channel intake-1]\nstate = %s\n"
               "profile = profiles/modbus/generic-u32-litres.json\nmodbus = tcp:127.0.0.1:%d\nunit = 1\n",
            node.url, state, s.port);
    fclose(f);

    wn_test_prng_seed(17);
    enum { ROUNDS = 40 };
    expect exp[ROUNDS];
    size_t nexp = 0;
    uint32_t litres = 4294960000u; /* near the top: the u32 counter wraps during the test */
    int64_t total = -1;
    uint16_t pending_flags = 0;
    for (int k = 0; k < ROUNDS; k++) {
        uint32_t step = (uint32_t)(wn_test_prng() % 3000);
        litres += step; /* wraps modulo 2^32 */
        uint16_t status = 0;
        int mode = SIM_ANSWER;
        if (k % 9 == 4) mode = SIM_SILENT;
        if (k % 11 == 6) mode = SIM_EXCEPTION;
        if (k == 13) status = 0x0001;      /* power loss: a fault bit, the values are not used */
        if (k == 21) status = 0x0002;      /* reverse flow: not a fault, the reading carries it */
        atomic_store(&s.mode, mode);
        sim_set(&s, litres, 1.5f + (float)k, 18.0f, status);
        int good = mode == SIM_ANSWER && !(status & 1);
        if (mode == SIM_ANSWER && (status & 1)) pending_flags |= WN_FLAG_POWER_LOSS;
        int64_t next_total = total < 0 ? (int64_t)litres : total + (int64_t)(uint32_t)(litres - (uint32_t)(total % 4294967296LL));

        if (k == 18) { /* the node dies: readings queue up, pushed after its restart */
            cr_assert(wn_test_node_stop(&node, SIGKILL) != -1);
            int code = run_gateway(dir, config);
            cr_assert_eq(code, 3, "with the node down the gateway says so (exit %d)", code);
            cr_assert(good, "round 18 must read the meter: its reading waits in the queue");
            cr_assert(wn_proc_node_start(&node, node.port, NULL), "node did not restart");
        } else if (k % 7 == 3 && good) { /* SIGKILL the gateway at a random point */
            char *bin = wn_test_bin("wn-gateway");
            const char *argv[] = {bin, "--config", config, "--once", "--quiet", NULL};
            pid_t pid = wn_proc_spawn(argv, NULL);
            free(bin);
            wn_proc_sleep_ms((unsigned)(wn_test_prng() % 120));
            wn_proc_kill(pid, SIGKILL);
            exp[nexp++] = (expect){next_total, 1, (uint16_t)(pending_flags | (status & 2 ? WN_FLAG_REVERSE_FLOW : 0))};
            total = next_total;
            continue;
        } else {
            int code = run_gateway(dir, config);
            cr_assert_eq(code, good ? 0 : 4, "round %d (mode %d, status %u): exit %d", k, mode, status, code);
        }
        if (good) {
            exp[nexp++] = (expect){next_total, 0, (uint16_t)(pending_flags | (status & 2 ? WN_FLAG_REVERSE_FLOW : 0))};
            total = next_total;
            pending_flags = 0;
        }
    }
    /* a last clean round pushes whatever a killed run left queued */
    atomic_store(&s.mode, SIM_ANSWER);
    litres += 10;
    sim_set(&s, litres, 2.0f, 18.0f, 0);
    cr_assert_eq(run_gateway(dir, config), 0);
    exp[nexp++] = (expect){total + (int64_t)(uint32_t)(litres - (uint32_t)(total % 4294967296LL)), 0, 0};
    sim_stop(&s);

    if (getenv("WN_GATEWAY_DEBUG"))
        for (size_t i = 0; i < nexp; i++)
            fprintf(stderr, "expect %zu: %lld optional %d flags %u\n", i, (long long)exp[i].litres_total, exp[i].optional,
                    exp[i].flags);
    char ledger[4300];
    snprintf(ledger, sizeof ledger, "%s/ledger", node.data);
    r = wn_proc_runl(dir, "wn", "export", "--ledger", ledger, "--meter", meter, "--format", "csv", NULL);
    cr_assert_eq(r.code, 0, "export: %s", r.err);
    /* rows: meter,sequence,time,quantity,unit,value,flags,ledger_index,leaf_hash */
    size_t e = 0;
    uint64_t last_seq = 0, nvol = 0;
    char *save = NULL;
    for (char *line = strtok_r(r.out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char m[65], q[32], unit[16], value[40], flags[128] = "";
        unsigned long long seq;
        if (sscanf(line, "%64[^,],%llu,%*[^,],%31[^,],%15[^,],%39[^,],%127[^,]", m, &seq, q, unit, value, flags) < 5)
            continue;
        if (strcmp(q, "volume") != 0) continue;
        if (flags[0] >= '0' && flags[0] <= '9') flags[0] = '\0'; /* empty flags column: the index came next */
        nvol++;
        if (getenv("WN_GATEWAY_DEBUG")) fprintf(stderr, "ledger seq %llu value %s flags %s\n", seq, value, flags);
        cr_assert_eq(seq, last_seq + 1, "sequence %llu after %llu: a duplicate or a hole in the meter's chain", seq,
                     (unsigned long long)last_seq);
        last_seq = seq;
        while (e < nexp) {
            char want[40];
            snprintf(want, sizeof want, "%lld.%03lld", (long long)(exp[e].litres_total / 1000),
                     (long long)(exp[e].litres_total % 1000));
            if (strcmp(value, want) == 0) break;
            cr_assert(exp[e].optional, "reading %llu is %s m3, expected %s m3 (round %zu)", seq, value, want, e);
            e++;
        }
        cr_assert(e < nexp, "reading %llu (%s m3) matches no simulated register value", seq, value);
        if (exp[e].flags & WN_FLAG_POWER_LOSS) cr_assert(strstr(flags, "power_loss"), "reading %llu lacks power_loss", seq);
        else cr_assert(!strstr(flags, "power_loss"), "reading %llu has an invented power_loss", seq);
        if (exp[e].flags & WN_FLAG_REVERSE_FLOW)
            cr_assert(strstr(flags, "reverse_flow"), "reading %llu lacks reverse_flow", seq);
        e++;
    }
    for (; e < nexp; e++) cr_assert(exp[e].optional, "expected reading %zu is missing from the ledger", e);
    cr_assert(nvol >= 20, "only %llu readings", (unsigned long long)nvol);
    cr_assert(exp[0].litres_total < 4294967296LL && exp[nexp - 1].litres_total > 4294967296LL,
              "the counter wrapped during the test");
    wn_run_result_free(&r);
    wn_test_node_stop(&node, SIGTERM);
    wn_test_rmtree(dir);
    free(dir);
}
