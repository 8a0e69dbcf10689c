/* bridge.c — `wn-meter bridge`: the host side of a meter's UART (the firmware of
 * device/port/mps2/, under QEMU or on a board behind a serial-to-socket adapter). It
 * listens on a Unix socket, takes one device connection at a time (a device that
 * restarts connects again), and relays: each reading frame is POSTed to the node as a
 * binary batch of one, and the node's receipt (accepted or duplicate) goes back to the
 * device in binary form; the device, not the bridge, verifies it before it frees the
 * reading's place in its flash log. The bridge also answers time requests, prints the
 * device's status lines, and, given the registrar key, enrols the meter on its hello.
 * Frame format: device/port/mps2/main.c and docs/FIRMWARE.md. */
#include "device/agent/agent.h"
#include "device/agent/http.h"

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "protocol/receipt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FRAME_MAX (2 * (8 + WN_RECEIPT_MAX_LEN) + 16)

typedef struct {
    wn_http http;
    int fd;
    uint8_t registrar_sk[32];
    int have_registrar;
    char enterprise[WN_ENTERPRISE_MAX + 1];
    unsigned corrupt; /* receipts still to corrupt (a test of the device's check) */
    int enrolled;
} bridge;

static uint32_t crc32(const uint8_t *b, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int send_frame(bridge *b, char type, const uint8_t *p, size_t n)
{
    static char line[FRAME_MAX];
    uint8_t c[4];
    wn_put_u32(c, crc32(p, n));
    line[0] = type;
    wn_hex_encode(line + 1, p, n);
    line[1 + 2 * n] = '*';
    wn_hex_encode(line + 2 + 2 * n, c, 4);
    line[10 + 2 * n] = '\n';
    size_t len = 11 + 2 * n, off = 0;
    while (off < len) {
        ssize_t w = write(b->fd, line + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        off += (size_t)w;
    }
    return 1;
}

static void send_u64_text(bridge *b, char type, uint64_t v, const char *text)
{
    uint8_t p[8 + 200];
    size_t tl = strlen(text) < 200 ? strlen(text) : 200;
    wn_put_u64(p, v);
    memcpy(p + 8, text, tl);
    send_frame(b, type, p, 8 + tl);
}

static void on_hello(bridge *b, const uint8_t *p, size_t n)
{
    char hex[65];
    if (n != 66) return;
    wn_hex_encode(hex, p + 1, 32);
    printf("bridge: device hello: meter %s, algorithm %u\n", hex, p[0]);
    if (!b->have_registrar || b->enrolled) return;
    wn_enrolment e;
    memset(&e, 0, sizeof e);
    e.alg = p[0];
    memcpy(e.meter, p + 1, 32);
    memcpy(e.pubkey, p + 33, 33);
    e.point = WN_POINT_USE;
    e.source = WN_SOURCE_TAP;
    e.tier = 2;
    snprintf(e.enterprise, sizeof e.enterprise, "%s", b->enterprise);
    e.time_ms = wn_agent_now_ms();
    if (wn_agent_enrol(&b->http, &e, b->registrar_sk, "bridge") == 0) {
        b->enrolled = 1;
        printf("bridge: meter %s enrolled\n", hex);
    }
}

static void on_reading(bridge *b, const uint8_t *r, size_t n)
{
    uint8_t body[2 + 512];
    if (n < 84 || n > 512) return;
    uint64_t seq = wn_get_u64(r + 33);
    uint8_t d[32];
    char dh[65];
    wn_sha256(d, r, n);
    wn_hex_encode(dh, d, 32);
    printf("bridge: reading %llu digest %s\n", (unsigned long long)seq, dh);
    wn_put_u16(body, (uint16_t)n);
    memcpy(body + 2, r, n);
    if (!wn_http_request(&b->http, "POST", "/v1/readings", "binary", body, n + 2) || b->http.status != 200) {
        fprintf(stderr, "wn-meter: bridge: the node did not take reading %llu: %s\n", (unsigned long long)seq,
                b->http.status ? b->http.body : b->http.error);
        send_u64_text(b, 'E', seq, "node unreachable");
        return;
    }
    cJSON *doc = cJSON_ParseWithLength(b->http.body, b->http.len);
    const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
    wn_receipt rc;
    if (cJSON_IsString(st) && (strcmp(st->valuestring, "accepted") == 0 || strcmp(st->valuestring, "duplicate") == 0) &&
        wn_receipt_from_cjson(&rc, cJSON_GetObjectItemCaseSensitive(res, "receipt"))) {
        static uint8_t p[8 + WN_RECEIPT_MAX_LEN];
        wn_put_u64(p, seq);
        size_t rl = wn_receipt_encode(&rc, p + 8);
        if (b->corrupt > 0) { /* flip a bit of the notary's signature */
            b->corrupt--;
            p[8 + (p[8] == 2 ? 66 + p[9] : 49)] ^= 0x01;
            printf("bridge: corrupted the receipt of reading %llu on purpose\n", (unsigned long long)seq);
        }
        send_frame(b, 'A', p, 8 + rl);
    } else {
        const cJSON *er = cJSON_GetObjectItemCaseSensitive(res, "error");
        const char *why = cJSON_IsString(er) ? er->valuestring : "no result";
        printf("bridge: the node rejected reading %llu: %s\n", (unsigned long long)seq, why);
        send_u64_text(b, 'N', seq, why);
    }
    cJSON_Delete(doc);
}

static void on_frame(bridge *b, char type, const uint8_t *p, size_t n)
{
    if (type == 'S') {
        printf("device: %.*s\n", (int)n, (const char *)p);
    } else if (type == 'H') {
        on_hello(b, p, n);
    } else if (type == 'Q') {
        uint8_t t[8];
        wn_put_u64(t, wn_agent_now_ms());
        send_frame(b, 'T', t, 8);
    } else if (type == 'R') {
        on_reading(b, p, n);
    }
    fflush(stdout);
}

/* Reads frames from one device connection until it closes. */
static void serve(bridge *b)
{
    static char line[FRAME_MAX];
    static uint8_t payload[FRAME_MAX / 2];
    size_t len = 0;
    char buf[4096];
    for (;;) {
        ssize_t r = read(b->fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != '\n') {
                if (len < sizeof line) line[len++] = buf[i];
                continue;
            }
            size_t l = len, pn;
            len = 0;
            uint8_t c[4];
            if (l < 10 || line[l - 9] != '*' || (l - 10) % 2) continue;
            pn = (l - 10) / 2;
            if (!wn_hex_decode(payload, pn, line + 1, 2 * pn) || !wn_hex_decode(c, 4, line + l - 8, 8) ||
                wn_get_u32(c) != crc32(payload, pn)) {
                fprintf(stderr, "wn-meter: bridge: a damaged frame from the device, dropped\n");
                continue;
            }
            on_frame(b, line[0], payload, pn);
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wn-meter bridge --uart SOCKET --node URL [--registrar-key FILE --enterprise ID]\n\n"
               "The host side of a meter's UART (docs/FIRMWARE.md): listens on the Unix socket\n"
               "SOCKET, to which the device's serial line is connected (QEMU: -serial unix:SOCKET),\n"
               "one device connection at a time, and relays each reading the device sends to the\n"
               "node (POST /v1/readings) and the node's receipt back to the device, which verifies\n"
               "it before it frees the reading's place in its flash log. Answers the device's time\n"
               "requests and prints its status lines. With --registrar-key, enrols the meter when\n"
               "it says hello (already enrolled is fine). Runs until killed.\n\n"
               "  --corrupt-receipts N  for tests: flip a signature bit of the first N receipts\n"
               "                        relayed, to show the device refuses them\n\n"
               "example:\n  wn-meter bridge --uart /run/wn-meter/uart0 --node http://127.0.0.1:8420\n");
}

int wn_agent_cmd_bridge(int argc, char **argv)
{
    static const struct option opts[] = {{"uart", 1, 0, 'u'}, {"node", 1, 0, 'n'}, {"registrar-key", 1, 0, 'r'},
                                         {"enterprise", 1, 0, 'e'}, {"corrupt-receipts", 1, 0, 'C'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *uart = NULL, *node = NULL, *keyfile = NULL;
    static bridge b;
    uint64_t corrupt = 0;
    int c;
    snprintf(b.enterprise, sizeof b.enterprise, "%s", "firmware");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'u') uart = optarg;
        else if (c == 'n') node = optarg;
        else if (c == 'r') keyfile = optarg;
        else if (c == 'e' && strlen(optarg) >= 1 && strlen(optarg) <= WN_ENTERPRISE_MAX) snprintf(b.enterprise, sizeof b.enterprise, "%s", optarg);
        else if (c == 'C' && wn_agent_parse_u64(optarg, &corrupt) && corrupt < 1000) {}
        else if (c == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!uart || !node || optind != argc || strlen(uart) >= sizeof sa.sun_path) { usage(stderr); return 2; }
    b.corrupt = (unsigned)corrupt;
    if (keyfile) {
        if (!wn_keyfile_read(keyfile, b.registrar_sk)) {
            fprintf(stderr, "wn-meter: cannot use the registrar key %s: %s\n", keyfile, wn_keyfile_strerror(errno));
            return 2;
        }
        b.have_registrar = 1;
    }
    if (!wn_http_init(&b.http, node)) { fprintf(stderr, "wn-meter: bad node URL\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    memcpy(sa.sun_path, uart, strlen(uart));
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(uart);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0) {
        fprintf(stderr, "wn-meter: bridge: cannot listen on %s: %s\n", uart, strerror(errno));
        return 2;
    }
    printf("bridge: listening on %s\n", uart);
    fflush(stdout);
    for (;;) {
        b.fd = accept(ls, NULL, NULL);
        if (b.fd < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "wn-meter: bridge: accept: %s\n", strerror(errno));
            return 2;
        }
        printf("bridge: device connected\n");
        fflush(stdout);
        serve(&b);
        close(b.fd);
        printf("bridge: device disconnected\n");
        fflush(stdout);
    }
}
