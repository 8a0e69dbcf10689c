/* test_qemu_meter.c — `make test-firmware`: the meter firmware (build/fw/wn-meter-mps2.elf)
 * runs under qemu-system-arm (mps2-an385, -icount shift=0) against a real wn-node on
 * 127.0.0.1 through `wn-meter bridge`, which enrols it with the registrar key and corrupts
 * its first two receipts on purpose. QEMU is killed with SIGKILL at random moments (a
 * power cut, each after the device made 1..4 more readings and a random 0..250 ms) and
 * started again on the same flash file, ten times, then let run until the
 * device has made and had acknowledged every reading it was provisioned for. Then: the
 * device refused exactly the corrupted receipts (it verifies them itself), no sequence
 * number ever carried two different readings, the node holds readings 1..N of the meter
 * once each with no equivocation, and `wn audit` of the node passes. The device's
 * figures (instructions per signature and per receipt check, stack high-water) are
 * printed for docs/FIRMWARE.md. */
#include <criterion/criterion.h>

#include "crypto/encoding.h"
#include "tests/support/nodeproc.h"
#include "tests/support/proc.h"
#include "tests/support/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET 60
#define PAGES 4
#define PAGE_SIZE 2048

static char *find_qemu(void)
{
    const char *path = getenv("PATH");
    static char buf[4200];
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        const char *e = strchr(path, ':');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/qemu-system-arm", (int)n, path);
        if (access(buf, X_OK) == 0) return buf;
        path += n + (e ? 1 : 0);
    }
    return NULL;
}

static int count(const char *text, const char *needle)
{
    int k = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++) k++;
    return k;
}

Test(firmware, power_cuts_under_qemu_lose_and_reuse_nothing, .timeout = 240)
{
    const char *elf = getenv("WN_FW_ELF");
    char *qemu = find_qemu();
    cr_assert(elf && access(elf, R_OK) == 0, "WN_FW_ELF must name the firmware image (make firmware)");
    cr_assert(qemu, "qemu-system-arm not found");
    char *dir = wn_test_tmpdir("fw");
    char prov[4300], flash[4300], uart[4300], bout[4300], qout[4300], regkey[4300];
    snprintf(prov, sizeof prov, "%s/prov.bin", dir);
    snprintf(flash, sizeof flash, "%s/flash.img", dir);
    snprintf(uart, sizeof uart, "%s/uart0", dir);
    snprintf(bout, sizeof bout, "%s/bridge.out", dir);
    snprintf(qout, sizeof qout, "%s/qemu.out", dir);

    wn_test_node n;
    wn_test_node_init(&n, dir);
    const char *nargs[] = {"--checkpoint-ms", "50", NULL};
    cr_assert(wn_test_node_start(&n, nargs), "%s", wn_test_read_file(n.log, NULL));
    snprintf(regkey, sizeof regkey, "%s/registrar.key", n.data);

    /* the notary key, for the provisioning block */
    char url_pub[128];
    snprintf(url_pub, sizeof url_pub, "%s/v1/pubkey", n.url);
    char cmd[4600], keyfile[4300];
    snprintf(keyfile, sizeof keyfile, "%s/pub.json", dir);
    snprintf(cmd, sizeof cmd, "curl -sf -o %s %s", keyfile, url_pub);
    cr_assert_eq(system(cmd), 0);
    char *pub = wn_test_read_file(keyfile, NULL);
    const char *q = pub ? strstr(pub, "\"notary\":\"") : NULL;
    uint8_t notary[32];
    cr_assert(q && wn_hex_decode(notary, 32, q + 10, 64), "%s", pub ? pub : "");
    char notary_hex[65];
    memcpy(notary_hex, q + 10, 64);
    notary_hex[64] = 0;
    free(pub);

    uint8_t pb[4 + 32 + 12 + 200];
    memset(pb, 0, sizeof pb);
    memcpy(pb, "WNP1", 4);
    memcpy(pb + 4, notary, 32);
    wn_put_u32(pb + 36, TARGET);
    wn_put_u32(pb + 40, PAGES);
    wn_put_u32(pb + 44, PAGE_SIZE);
    cr_assert_lt(strlen(flash), 200);
    memcpy(pb + 48, flash, strlen(flash));
    FILE *f = fopen(prov, "wb");
    cr_assert(f && fwrite(pb, sizeof pb, 1, f) == 1);
    fclose(f);

    char *meter = wn_test_bin("wn-meter");
    const char *bargv[] = {meter, "bridge", "--uart", uart, "--node", n.url, "--registrar-key", regkey,
                           "--corrupt-receipts", "2", NULL};
    pid_t bridge = wn_proc_spawn(bargv, bout);
    cr_assert_gt(bridge, 0);
    for (int i = 0; i < 500 && access(uart, F_OK) != 0; i++) wn_proc_sleep_ms(10);
    cr_assert_eq(access(uart, F_OK), 0, "the bridge does not listen");

    char loader[4400], chardev[4400];
    snprintf(loader, sizeof loader, "loader,file=%s,addr=0x003ff000,force-raw=on", prov);
    snprintf(chardev, sizeof chardev, "socket,id=u0,path=%s", uart);
    const char *qargv[] = {qemu, "-M", "mps2-an385", "-nographic", "-monitor", "none", "-kernel", elf,
                           "-device", loader, "-semihosting-config", "enable=on,target=native",
                           "-chardev", chardev, "-serial", "chardev:u0", "-icount", "shift=0,align=off,sleep=off",
                           NULL};
    srand((unsigned)time(NULL));
    int kills = 0, done = 0;
    time_t start = time(NULL);
    for (int round = 0; round < 40 && !done; round++) {
        pid_t qp = wn_proc_spawn(qargv, qout);
        cr_assert_gt(qp, 0);
        int status = 0;
        if (kills < 10) {
            /* A power cut at a random moment after the device made 1..4 more readings (so
             * the cuts fall mid-run however slow the machine), 0..250 ms later. */
            char *o = wn_test_read_file(bout, NULL);
            int before = o ? count(o, "device: made seq=") : 0, want_more = 1 + rand() % 4, ended = 0;
            free(o);
            for (int w = 0; w < 6000 && !ended; w++) { /* at most 60 s */
                if (!wn_proc_running(qp, &status)) { ended = 1; break; }
                o = wn_test_read_file(bout, NULL);
                int now = o ? count(o, "device: made seq=") : 0;
                free(o);
                if (now - before >= want_more) break;
                wn_proc_sleep_ms(10);
            }
            if (!ended && wn_proc_wait(qp, (unsigned)(rand() % 250), &status)) ended = 1;
            if (ended) {
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the firmware stopped with an error: %s\n%s",
                          wn_test_read_file(qout, NULL), wn_test_read_file(bout, NULL));
                done = 1;
            } else {
                wn_proc_kill(qp, SIGKILL);
                kills++;
            }
        } else {
            cr_assert(wn_proc_wait(qp, 120000, &status), "the firmware did not finish");
            cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the firmware stopped with an error: %s\n%s",
                      wn_test_read_file(qout, NULL), wn_test_read_file(bout, NULL));
            done = 1;
        }
        wn_proc_sleep_ms(50); /* the bridge sees the connection close */
    }
    cr_assert(done);
    char *out = wn_test_read_file(bout, NULL);
    cr_assert(out);
    fprintf(stderr, "firmware: %d power cuts, %ld s\n", kills, (long)(time(NULL) - start));

    /* The device verified the receipts itself: it refused the two corrupted ones. */
    char want[128];
    snprintf(want, sizeof want, "device: done last_seq=%d acked=%d ", TARGET, TARGET);
    cr_assert(strstr(out, want), "no '%s' in the bridge's output:\n%s", want, out);
    /* (a power cut may fall between the bridge's corrupting and the device's check) */
    int corrupted = count(out, "bridge: corrupted the receipt"), refused = count(out, "device: refused seq=");
    cr_assert_eq(corrupted, 2);
    cr_assert(refused >= 1 && refused <= 2, "%d refusals\n%s", refused, out);
    cr_assert_eq(count(out, "the receipt's signature does not verify with the notary key"), refused, "%s", out);

    /* The cuts fell while readings were in flight: starts found made, unacknowledged ones. */
    int boots = 0, resumed = 0;
    for (const char *p = out; (p = strstr(p, "device: boot ")); p++) {
        unsigned long long ls, ak;
        if (sscanf(p, "device: boot last_seq=%llu acked=%llu", &ls, &ak) != 2) continue;
        boots++;
        resumed += ls > 0;
        fprintf(stderr, "%.*s\n", (int)strcspn(p, "\n"), p);
    }
    cr_assert_geq(boots, 2, "%s", out);
    cr_assert_geq(resumed, 5, "too few starts found readings on flash:\n%s", out);

    /* No sequence number carried two different readings. */
    static char digest[TARGET + 1][65];
    for (const char *p = out; (p = strstr(p, "bridge: reading ")); p++) {
        unsigned long long s;
        char d[65];
        cr_assert_eq(sscanf(p, "bridge: reading %llu digest %64s", &s, d), 2);
        cr_assert(s >= 1 && s <= TARGET, "reading %llu", s);
        if (digest[s][0]) cr_assert_str_eq(digest[s], d, "sequence %llu was used for two readings", s);
        else memcpy(digest[s], d, 65);
    }
    for (int s = 1; s <= TARGET; s++) cr_assert(digest[s][0], "reading %d never reached the bridge", s);

    /* The node holds 1..TARGET once each; the audit passes. */
    wn_proc_sleep_ms(300); /* a checkpoint covers the last commit */
    wn_run_result a = wn_proc_runl(dir, "wn", "audit", "--node", n.url, "--notary-pub", notary_hex, "--json", NULL);
    cr_assert_eq(a.code, 0, "wn audit: %s %s", a.out, a.err);
    snprintf(want, sizeof want, "\"reading\":%d,", TARGET);
    cr_assert(strstr(a.out, want), "%s", a.out);
    cr_assert(strstr(a.out, "\"equivocation\":0,") && strstr(a.out, "\"valid\":true"), "%s", a.out);
    cr_assert(strstr(a.out, "\"gaps\":{\"count\":0"), "%s", a.out);
    wn_run_result_free(&a);

    /* The figures. */
    const char *fig = strstr(out, "device: figures "), *cal = strstr(out, "device: calibrate ");
    cr_assert(fig && cal);
    unsigned long long sign, verify, readmax, ackmax, used, size, ci, ct;
    cr_assert_eq(sscanf(fig, "device: figures sign_ticks=%llu verify_ticks=%llu read_ticks_max=%llu ack_ticks_max=%llu "
                             "stack_used=%llu stack_size=%llu", &sign, &verify, &readmax, &ackmax, &used, &size), 6);
    cr_assert_eq(sscanf(cal, "device: calibrate insns=%llu ticks=%llu", &ci, &ct), 2);
    cr_assert_gt(ct, 0);
    double ipt = (double)ci / (double)ct;
    fprintf(stderr,
            "firmware figures (-icount shift=0: %.1f instructions per SysTick tick):\n"
            "  BIP-340 signature: %.0f instructions\n"
            "  receipt check (v2: head signature + Merkle path + leaf): %.0f instructions\n"
            "  a whole reading (build, sign, verify own signature, flash log): max %.0f instructions\n"
            "  acknowledgement (receipt check + flash log): max %.0f instructions\n"
            "  stack high-water: %llu of %llu bytes\n",
            ipt, sign * ipt, verify * ipt, readmax * ipt, ackmax * ipt, used, size);
    cr_assert_lt(used, size / 2, "the stack is close to full");

    free(out);
    wn_proc_kill(bridge, SIGTERM);
    wn_test_node_stop(&n, SIGTERM);
    free(meter);
    wn_test_rmtree(dir);
    free(dir);
}
