/* main.c — `wn-gateway`: notarises the flowmeters an enterprise already has. It polls
 * Modbus TCP / RTU devices by their device profiles (profile.h), signs each channel's
 * readings with the channel's own meter key held by the gateway (channel.h, device/meter.h),
 * and pushes them to a notary node through the same crash-safe queue and push path as
 * wn-meter (device/agent/push.h). docs/GATEWAY.md is the operator's guide. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/agent/agent.h"
#include "device/agent/push.h"
#include "device/gateway/channel.h"
#include "device/gateway/config.h"

#define EXIT_DEVICE 4 /* --once: a device could not be read (no reading for it) */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wn-gateway --config FILE [--node URL] [--once] [--quiet]\n\n"
            "Polls the Modbus flowmeters listed in FILE (one [channel NAME] section each, with its\n"
            "meter state directory, device profile and Modbus address), signs a reading per channel\n"
            "at every multiple of sign-ms from the last good poll, and pushes the readings to the\n"
            "node, keeping every unacknowledged reading in the channel's crash-safe queue. A poll\n"
            "that fails (no answer, a Modbus exception, a fault bit in the meter's status) gives\n"
            "no value: the gap stays visible. Each channel's meter is created with `wn-meter init`\n"
            "and enrolled by the registrar with `wn-meter enrol ... --attestation gateway`.\n\n"
            "  --config FILE  the configuration (see docs/GATEWAY.md)\n"
            "  --node URL     the node (overrides `node` in FILE)\n"
            "  --once         poll each channel once, sign what was read, push, and exit\n"
            "  --quiet        no progress lines\n\n"
            "exit codes: 0 ok, 1 a reading was rejected or a receipt did not verify, 2 usage,\n"
            "configuration or local state error, 3 node unreachable, 4 (--once) a device could\n"
            "not be read\n\n"
            "example FILE:\n"
            "  node = http://127.0.0.1:8420\n"
            "  poll-ms = 60000\n"
            "  sign-ms = 900000\n"
            "  [channel intake-1]\n"
            "  state = /var/lib/wn-gateway/intake-1\n"
            "  profile = /usr/share/waternotary/profiles/modbus/generic-u32-litres.json\n"
            "  modbus = tcp:192.168.10.21:502\n"
            "  unit = 1\n");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls one channel and says so when its state changes (never a line per failed poll). */
static int poll_one(wn_channel *ch, uint64_t t, int quiet, int *last_rc)
{
    int rc = wn_channel_poll(ch, t);
    if (rc != *last_rc && (rc || !quiet))
        fprintf(stderr, "wn-gateway: %s: %s\n", ch->cfg.name, rc ? ch->last_error : "polled again");
    *last_rc = rc;
    return rc;
}

static int sign_all(wn_channel *chs, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (wn_channel_sign(&chs[i]) < 0) {
            fprintf(stderr, "wn-gateway: %s: %s\n", chs[i].cfg.name, chs[i].last_error);
            bad = 1;
        }
    return bad;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", 1, 0, 'c'}, {"node", 1, 0, 'n'}, {"once", 0, 0, 'o'},
                                         {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *config = NULL, *node = NULL;
    int once = 0, quiet = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') config = optarg;
        else if (c == 'n') node = optarg;
        else if (c == 'o') once = 1;
        else if (c == 'q') quiet = 1;
        else if (c == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return WN_PUSH_LOCAL; }
    }
    if (!config || optind != argc) { usage(stderr); return WN_PUSH_LOCAL; }
    static wn_gateway_config cfg;
    char err[400];
    if (!wn_gateway_config_load(&cfg, config, err, sizeof err)) {
        fprintf(stderr, "wn-gateway: %s\n", err);
        return WN_PUSH_LOCAL;
    }
    if (node) snprintf(cfg.node, sizeof cfg.node, "%s", node);
    if (!cfg.node[0]) { fprintf(stderr, "wn-gateway: no node: give `node = URL` in %s or --node\n", config); return WN_PUSH_LOCAL; }

    wn_channel *chs = calloc(cfg.nchannels, sizeof *chs);
    wn_push_meter *pms = calloc(cfg.nchannels, sizeof *pms);
    int *last = calloc(cfg.nchannels, sizeof *last);
    size_t opened = 0;
    int rc = WN_PUSH_LOCAL, http_ok = 0;
    wn_http h;
    if (!chs || !pms || !last) goto out;
    for (; opened < cfg.nchannels; opened++) {
        if (!wn_channel_open(&chs[opened], &cfg.channels[opened], (unsigned)cfg.timeout_ms)) {
            fprintf(stderr, "wn-gateway: channel %s: %s\n", cfg.channels[opened].name, chs[opened].last_error);
            goto out;
        }
        pms[opened].m = &chs[opened].meter;
        snprintf(pms[opened].label, sizeof pms[opened].label, "%s", cfg.channels[opened].name);
        last[opened] = -1;
    }
    if (!(http_ok = wn_http_init(&h, cfg.node))) { fprintf(stderr, "wn-gateway: bad node URL\n"); goto out; }
    uint8_t notary[32];
    if ((rc = wn_agent_notary_key(&h, cfg.notary_pub[0] ? cfg.notary_pub : NULL, cfg.channels[0].state_dir, notary,
                                  NULL, NULL)))
        goto out;
    wn_pusher p;
    wn_pusher_init(&p, &h, notary);
    p.quiet = quiet;

    if (once) {
        int device_bad = 0;
        uint64_t t = now_ms();
        for (size_t i = 0; i < opened; i++) device_bad |= poll_one(&chs[i], t, 1, &last[i]) != WN_POLL_OK;
        int sign_bad = sign_all(chs, opened);
        rc = wn_push(&p, pms, opened);
        if (!rc && sign_bad) rc = WN_PUSH_LOCAL;
        if (!rc && device_bad) rc = EXIT_DEVICE;
        goto out;
    }

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    uint64_t t = now_ms(), next_poll = t, next_sign = (t / cfg.sign_ms + 1) * cfg.sign_ms;
    int push_due = 1; /* readings left in the queues by an earlier run */
    uint64_t next_push = 0;
    if (!quiet) fprintf(stderr, "wn-gateway: %zu channels, poll every %llu ms, sign every %llu ms\n", opened,
                        (unsigned long long)cfg.poll_ms, (unsigned long long)cfg.sign_ms);
    while (!stop) {
        t = now_ms();
        if (t >= next_poll) {
            for (size_t i = 0; i < opened && !stop; i++) poll_one(&chs[i], t, quiet, &last[i]);
            next_poll += cfg.poll_ms;
            if (next_poll <= t) next_poll = t + cfg.poll_ms; /* a slow poll round: skip, never burst */
        }
        if (t >= next_sign) {
            sign_all(chs, opened);
            next_sign = (t / cfg.sign_ms + 1) * cfg.sign_ms;
            push_due = 1;
        }
        if (push_due && t >= next_push && !stop) {
            int prc = wn_push(&p, pms, opened);
            push_due = prc == WN_PUSH_NODE; /* the node was down: try again a poll interval later */
            if (push_due) {
                next_push = now_ms() + cfg.poll_ms;
                fprintf(stderr, "wn-gateway: node unreachable; readings stay queued\n");
            }
        }
        uint64_t wake = next_poll < next_sign ? next_poll : next_sign;
        t = now_ms();
        if (wake > t) sleep_ms(wake - t > 200 ? 200 : wake - t);
    }
    rc = 0;
out:
    for (size_t i = 0; i < opened; i++) wn_channel_close(&chs[i]);
    if (http_ok) wn_http_free(&h);
    free(chs);
    free(pms);
    free(last);
    return rc;
}
