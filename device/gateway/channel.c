/* channel.c — polling one flowmeter and signing its readings (channel.h). */
#include "device/gateway/channel.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/gateway/registers.h"

/* The total of the meter's last reading for quantity q at scale decimals, if any. */
static int last_total(wn_channel *ch, const wn_profile_quantity *q, int64_t *total)
{
    wn_meter_counts k;
    wn_meter_get_counts(&ch->meter, &k);
    if (!k.last_seq) return 0;
    uint8_t buf[WN_READING_MAX_LEN];
    size_t len;
    wn_reading r;
    if (wn_meter_get(&ch->meter, k.last_seq, buf, &len) != WN_METER_OK || wn_reading_decode(&r, buf, len) != WN_READING_OK)
        return 0;
    for (unsigned i = 0; i < r.count; i++)
        if (r.m[i].quantity == q->quantity && r.m[i].unit == q->unit && r.m[i].scale == q->decimals) {
            *total = r.m[i].value;
            return 1;
        }
    return 0;
}

/* The flags seen since the last reading survive a restart in STATE/gateway.flags
 * ("0x%04x\n"), replaced atomically when they change and emptied once a reading carries
 * them. A crash between the reading and the emptying sets them on one more reading: a flag
 * is never lost, at worst repeated. */
static int flags_path(const wn_channel *ch, char *path, size_t cap)
{
    return snprintf(path, cap, "%s/gateway.flags", ch->cfg.state_dir) < (int)cap;
}

static uint16_t flags_load(const wn_channel *ch)
{
    char path[1100], buf[16] = "";
    if (!flags_path(ch, path, sizeof path)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    unsigned long v = strtoul(buf, NULL, 16);
    return (uint16_t)(v & WN_FLAG_ALL);
}

static int flags_save(const wn_channel *ch, uint16_t flags)
{
    char path[1100], tmp[1120], buf[16];
    if (!flags_path(ch, path, sizeof path)) return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int n = snprintf(buf, sizeof buf, "0x%04x\n", flags);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    int ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    ok = ok && rename(tmp, path) == 0;
    int dfd = open(ch->cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ok = ok && fsync(dfd) == 0;
        close(dfd);
    }
    return ok;
}

/* Adds flags to the sticky set, durably when it grows. */
static void flags_add(wn_channel *ch, uint16_t flags)
{
    if ((ch->sticky_flags | flags) == ch->sticky_flags) return;
    ch->sticky_flags |= flags;
    if (!flags_save(ch, ch->sticky_flags))
        snprintf(ch->last_error, sizeof ch->last_error, "cannot write %s/gateway.flags", ch->cfg.state_dir);
}

int wn_channel_open(wn_channel *ch, const wn_channel_config *cfg, unsigned timeout_ms)
{
    memset(ch, 0, sizeof *ch);
    ch->cfg = *cfg;
    char err[300];
    if (!wn_profile_load(&ch->profile, cfg->profile_path, err, sizeof err)) {
        snprintf(ch->last_error, sizeof ch->last_error, "profile %s", err);
        return 0;
    }
    int rc = wn_link_new(&ch->link, cfg->address, cfg->unit, timeout_ms);
    if (rc) {
        snprintf(ch->last_error, sizeof ch->last_error, "%s: %s", cfg->address, wn_link_strerror(rc));
        return 0;
    }
    if ((rc = wn_meter_open(&ch->meter, cfg->state_dir))) {
        snprintf(ch->last_error, sizeof ch->last_error, "meter %s: %s", cfg->state_dir, wn_meter_strerror(rc));
        wn_link_free(ch->link);
        ch->link = NULL;
        return 0;
    }
    ch->meter_open = 1;
    ch->sticky_flags = flags_load(ch);
    for (size_t i = 0; i < ch->profile.n; i++) {
        const wn_profile_quantity *q = &ch->profile.q[i];
        int64_t total;
        if (!q->wraps) continue;
        if (last_total(ch, q, &total)) wn_widen_resume(&ch->widen[i], wn_reg_modulus(q->type), total);
        else wn_widen_init(&ch->widen[i], wn_reg_modulus(q->type));
    }
    return 1;
}

void wn_channel_close(wn_channel *ch)
{
    if (ch->meter_open) wn_meter_close(&ch->meter);
    ch->meter_open = 0;
    wn_link_free(ch->link);
    ch->link = NULL;
}

static int read_fail(wn_channel *ch, int rc, int exception, const char *what)
{
    if (rc == WN_LINK_EEXCEPTION) {
        ch->exceptions++;
        ch->last_exception = exception;
        snprintf(ch->last_error, sizeof ch->last_error, "%s: Modbus exception %d", what, exception);
        return WN_POLL_EXCEPTION;
    }
    ch->comm_errors++;
    snprintf(ch->last_error, sizeof ch->last_error, "%s: %s", what, wn_link_strerror(rc));
    return WN_POLL_COMM;
}

int wn_channel_poll(wn_channel *ch, uint64_t now_ms)
{
    const wn_profile *p = &ch->profile;
    uint16_t regs[WN_PROFILE_MAX_QUANTITIES][4], status = 0;
    int exception, rc;
    ch->polls++;
    for (size_t i = 0; i < p->n; i++) {
        const wn_profile_quantity *q = &p->q[i];
        rc = wn_link_read(ch->link, q->function, q->address, wn_reg_count(q->type), regs[i], &exception);
        if (rc) return read_fail(ch, rc, exception, wn_quantity_name(q->quantity));
    }
    if (p->has_status) {
        rc = wn_link_read(ch->link, p->status_function, p->status_address, 1, &status, &exception);
        if (rc) return read_fail(ch, rc, exception, "status");
    }
    uint16_t flags = 0;
    for (unsigned b = 0; b < 16; b++)
        if (status >> b & 1) flags |= p->status_flags[b];
    if (status & p->fault_bits) { /* the meter says its values are not to be trusted: use none */
        ch->faults++;
        flags_add(ch, flags);
        snprintf(ch->last_error, sizeof ch->last_error, "the meter reports a fault (status 0x%04x)", status);
        return WN_POLL_FAULT;
    }
    wn_measurement ms[WN_PROFILE_MAX_QUANTITIES];
    wn_widen next[WN_PROFILE_MAX_QUANTITIES]; /* committed only when the whole poll is good */
    memcpy(next, ch->widen, sizeof next);
    for (size_t i = 0; i < p->n; i++) {
        const wn_profile_quantity *q = &p->q[i];
        uint64_t raw;
        rc = wn_reg_decode(regs[i], q->type, q->words, q->bytes, q->decimals, &ms[i].value, &raw);
        if (rc) {
            snprintf(ch->last_error, sizeof ch->last_error, "%s: %s", wn_quantity_name(q->quantity), wn_reg_strerror(rc));
            return WN_POLL_VALUE;
        }
        if (q->wraps && !wn_widen_step(&next[i], raw, &ms[i].value)) {
            snprintf(ch->last_error, sizeof ch->last_error, "%s: counter value out of range",
                     wn_quantity_name(q->quantity));
            return WN_POLL_VALUE;
        }
        ms[i].quantity = q->quantity;
        ms[i].unit = q->unit;
        ms[i].scale = q->decimals;
    }
    memcpy(ch->widen, next, sizeof next);
    memcpy(ch->poll_values, ms, sizeof ms);
    ch->poll_time = now_ms;
    flags_add(ch, flags);
    ch->have_poll = 1;
    ch->good_polls++;
    return WN_POLL_OK;
}

int wn_channel_sign(wn_channel *ch)
{
    if (!ch->have_poll) return 0;
    uint64_t seq;
    int rc = wn_meter_read(&ch->meter, ch->poll_time, ch->sticky_flags, ch->poll_values,
                           ch->profile.n, NULL, NULL, &seq);
    if (rc) {
        snprintf(ch->last_error, sizeof ch->last_error, "signing a reading: %s", wn_meter_strerror(rc));
        ch->have_poll = 0; /* the same values would be refused again */
        return -1;
    }
    ch->have_poll = 0;
    if (ch->sticky_flags) flags_save(ch, 0);
    ch->sticky_flags = 0;
    ch->readings++;
    return 1;
}
