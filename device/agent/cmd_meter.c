/* cmd_meter.c — the local wn-meter subcommands: init (create a meter), read (make one
 * signed, durable reading), status (what the meter's state holds). */
#include "device/agent/agent.h"
#include "device/agent/push.h"

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "device/meter.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *alg_name(uint8_t alg) { return wn_alg_name(alg) ? wn_alg_name(alg) : "?"; }

static int open_meter(wn_meter *m, const char *dir)
{
    int err = wn_meter_open(m, dir);
    if (err) fprintf(stderr, "wn-meter: %s: %s\n", dir, wn_meter_strerror(err));
    return err ? WN_PUSH_LOCAL : 0;
}

/* ---- init ------------------------------------------------------------------------- */

static void init_usage(FILE *f)
{
    fprintf(f, "usage: wn-meter init --state DIR [--alg bip340|ecdsa|p256|sm2]\n\n"
               "Creates a meter in DIR (a new secret key, empty logs) and prints its id, the\n"
               "32 bytes that readings carry. --alg ecdsa makes a meter that signs with ECDSA on\n"
               "secp256k1 (its id is the x of its compressed key), p256 with ECDSA on NIST P-256\n"
               "and sm2 with SM2/SM3, as secure elements do (their id is derived from the key,\n"
               "PROTOCOL.md section 1). wn-meter enrol sends the algorithm and the full key.\n\n"
               "example:\n  wn-meter init --state /var/lib/wn-meter/m1\n");
}

int wn_agent_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"state", 1, 0, 's'}, {"alg", 1, 0, 'a'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *state = NULL;
    uint8_t alg = WN_ALG_BIP340, id[32];
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's') state = optarg;
        else if (c == 'a' && strcmp(optarg, "bip340") == 0) alg = WN_ALG_BIP340;
        else if (c == 'a' && strcmp(optarg, "ecdsa") == 0) alg = WN_ALG_ECDSA;
        else if (c == 'a' && strcmp(optarg, "p256") == 0) alg = WN_ALG_P256;
        else if (c == 'a' && strcmp(optarg, "sm2") == 0) alg = WN_ALG_SM2;
        else if (c == 'h') { init_usage(stdout); return 0; }
        else { init_usage(stderr); return WN_PUSH_LOCAL; }
    }
    if (!state || optind != argc) { init_usage(stderr); return WN_PUSH_LOCAL; }
    int err = wn_meter_create(state, alg, NULL, id);
    if (err) {
        fprintf(stderr, "wn-meter: %s: %s\n", state, wn_meter_strerror(err));
        return WN_PUSH_LOCAL;
    }
    char hex[65];
    wn_hex_encode(hex, id, 32);
    printf("%s\n", hex);
    return 0;
}

/* ---- read ------------------------------------------------------------------------- */

static const struct {
    const char *opt;
    uint8_t quantity;
} quantity_opts[] = {
    {"volume", WN_Q_VOLUME}, {"flow", WN_Q_FLOW}, {"ph", WN_Q_PH}, {"conductivity", WN_Q_CONDUCTIVITY},
    {"turbidity", WN_Q_TURBIDITY}, {"pressure", WN_Q_PRESSURE}, {"temperature", WN_Q_TEMPERATURE},
    {"fluorescence", WN_Q_FLUORESCENCE},
};
#define NQOPTS (sizeof quantity_opts / sizeof quantity_opts[0])

static void read_usage(FILE *f)
{
    fprintf(f, "usage: wn-meter read --state DIR [--volume V] [--flow V] [--ph V] [--conductivity V]\n"
               "                     [--turbidity V] [--pressure V] [--temperature V] [--fluorescence V]\n"
               "                     [--time TIME] [--flags NAME,...]\n\n"
               "Makes the meter's next reading: signs it, writes it durably to the meter's queue\n"
               "and prints its JSON form. Each value is a decimal, optionally followed by a unit\n"
               "(default the first): volume m3|L, flow m3/h|L/s, ph pH, conductivity uS/cm,\n"
               "turbidity NTU, pressure kPa|MPa, temperature degC, fluorescence RFU. The digits\n"
               "after the point are kept exactly (the reading's scale). TIME is RFC 3339 UTC with\n"
               "milliseconds or ms since the epoch (default now). Flags: tamper, reverse_flow,\n"
               "power_loss, meter_replaced, clock_unsync, substitute.\n\n"
               "example:\n  wn-meter read --state /var/lib/wn-meter/m1 --volume 123.456 --ph 7.21\n");
}

/* "12.5L" -> value 125, scale 1, unit L. */
static int parse_value(uint8_t quantity, const char *s, wn_measurement *out)
{
    size_t n = 0;
    while (s[n] == '-' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9')) n++;
    int64_t v;
    unsigned scale;
    if (!wn_decimal_parse(s, n, &v, &scale)) return 0;
    uint8_t unit = 0;
    for (unsigned u = 1; u <= WN_U_MAX; u++) {
        if (!wn_unit_allowed(quantity, u)) continue;
        if (!unit && !s[n]) unit = (uint8_t)u; /* no suffix: the first allowed unit */
        if (s[n] && strcmp(s + n, wn_unit_name(u)) == 0) unit = (uint8_t)u;
    }
    if (!unit) return 0;
    *out = (wn_measurement){quantity, unit, (uint8_t)scale, v};
    return 1;
}

static int parse_flags(const char *s, uint16_t *flags)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    *flags = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (unsigned bit = 0; bit < 16; bit++)
            if (wn_flag_name(bit) && strcmp(wn_flag_name(bit), tok) == 0) { *flags |= (uint16_t)(1u << bit); found = 1; }
        if (!found) return 0;
    }
    return 1;
}

int wn_agent_cmd_read(int argc, char **argv)
{
    struct option opts[NQOPTS + 5];
    for (size_t i = 0; i < NQOPTS; i++) opts[i] = (struct option){quantity_opts[i].opt, 1, 0, (int)(1000 + i)};
    opts[NQOPTS] = (struct option){"state", 1, 0, 's'};
    opts[NQOPTS + 1] = (struct option){"time", 1, 0, 't'};
    opts[NQOPTS + 2] = (struct option){"flags", 1, 0, 'f'};
    opts[NQOPTS + 3] = (struct option){"help", 0, 0, 'h'};
    opts[NQOPTS + 4] = (struct option){0, 0, 0, 0};
    const char *state = NULL;
    uint64_t time_ms = wn_agent_now_ms();
    uint16_t flags = 0;
    wn_measurement ms[WN_READING_MAX_MEAS];
    size_t count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c >= 1000 && c < 1000 + (int)NQOPTS) {
            uint8_t q = quantity_opts[c - 1000].quantity;
            if (!parse_value(q, optarg, &ms[count])) {
                fprintf(stderr, "wn-meter: --%s %s: not a decimal with an allowed unit\n", quantity_opts[c - 1000].opt, optarg);
                return WN_PUSH_LOCAL;
            }
            count++;
        } else if (c == 's') state = optarg;
        else if (c == 't' && wn_agent_parse_time(optarg, &time_ms)) {}
        else if (c == 'f' && parse_flags(optarg, &flags)) {}
        else if (c == 'h') { read_usage(stdout); return 0; }
        else { read_usage(stderr); return WN_PUSH_LOCAL; }
    }
    if (!state || optind != argc || count == 0) { read_usage(stderr); return WN_PUSH_LOCAL; }

    wn_meter m;
    uint8_t bytes[WN_READING_MAX_LEN];
    size_t len;
    if (open_meter(&m, state)) return WN_PUSH_LOCAL;
    int err = wn_meter_read(&m, time_ms, flags, ms, count, bytes, &len, NULL);
    wn_meter_close(&m);
    if (err) {
        fprintf(stderr, "wn-meter: %s: no reading made: %s\n", state, wn_meter_strerror(err));
        return WN_PUSH_LOCAL;
    }
    wn_reading r;
    char json[WN_READING_JSON_MAX];
    if (wn_reading_decode(&r, bytes, len) != WN_READING_OK || wn_reading_to_json(&r, json, sizeof json, &len) != WN_READING_OK) {
        fprintf(stderr, "wn-meter: the reading was made but cannot be shown\n");
        return WN_PUSH_LOCAL;
    }
    printf("%s\n", json);
    return 0;
}

/* ---- status ----------------------------------------------------------------------- */

static void status_usage(FILE *f)
{
    fprintf(f, "usage: wn-meter status --state DIR [--json]\n\n"
               "Shows the meter's id, key, sequence state and queue: readings made, pending\n"
               "(no receipt yet) and acknowledged.\n\n"
               "example:\n  wn-meter status --state /var/lib/wn-meter/m1\n");
}

int wn_agent_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"state", 1, 0, 's'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *state = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's') state = optarg;
        else if (c == 'j') json = 1;
        else if (c == 'h') { status_usage(stdout); return 0; }
        else { status_usage(stderr); return WN_PUSH_LOCAL; }
    }
    if (!state || optind != argc) { status_usage(stderr); return WN_PUSH_LOCAL; }
    wn_meter m;
    wn_meter_counts k;
    if (open_meter(&m, state)) return WN_PUSH_LOCAL;
    wn_meter_get_counts(&m, &k);
    char id[65], pub[67], t[25] = "";
    wn_hex_encode(id, wn_meter_id(&m), 32);
    wn_hex_encode(pub, wn_meter_pubkey(&m), 33);
    if (k.last_seq) wn_time_format(t, k.last_time);
    const char *alg = alg_name(wn_meter_alg(&m));
    wn_meter_close(&m);
    if (json) {
        printf("{\"meter\":\"%s\",\"alg\":\"%s\",\"pubkey\":\"%s\",\"next_seq\":%llu,\"last_seq\":%llu,"
               "\"last_time\":%s%s%s,\"logged\":%llu,\"pending\":%llu,\"acked_through\":%llu,\"receipts\":%llu,"
               "\"log_bytes\":%llu}\n",
               id, alg, pub, (unsigned long long)k.next_seq, (unsigned long long)k.last_seq, *t ? "\"" : "",
               *t ? t : "null", *t ? "\"" : "", (unsigned long long)k.logged, (unsigned long long)k.pending,
               (unsigned long long)k.acked_through, (unsigned long long)k.receipts, (unsigned long long)k.log_bytes);
        return 0;
    }
    printf("meter          %s\nalg            %s\npubkey         %s\nnext seq       %llu\nlast reading   %s\n"
           "in log         %llu (from seq %llu, %llu bytes)\npending        %llu\nacked through  %llu\nreceipts       %llu\n",
           id, alg, pub, (unsigned long long)k.next_seq, *t ? t : "none", (unsigned long long)k.logged,
           (unsigned long long)k.first_seq, (unsigned long long)k.log_bytes, (unsigned long long)k.pending,
           (unsigned long long)k.acked_through, (unsigned long long)k.receipts);
    return 0;
}
