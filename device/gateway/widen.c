/* widen.c — wrapping totaliser counters widened into 64-bit totals (widen.h). */
#include "device/gateway/widen.h"

#include <string.h>

void wn_widen_init(wn_widen *w, uint64_t modulus)
{
    memset(w, 0, sizeof *w);
    w->modulus = modulus;
}

void wn_widen_resume(wn_widen *w, uint64_t modulus, int64_t total)
{
    wn_widen_init(w, modulus);
    if (total < 0) return;
    w->have = 1;
    w->total = total;
    w->last_raw = (uint64_t)total % modulus;
}

int wn_widen_step(wn_widen *w, uint64_t raw, int64_t *total)
{
    if (!w->modulus || raw >= w->modulus) return 0;
    if (!w->have) {
        w->have = 1;
        w->total = (int64_t)raw;
        w->last_raw = raw;
        *total = w->total;
        return 1;
    }
    uint64_t step = (raw + w->modulus - w->last_raw) % w->modulus;
    if ((uint64_t)INT64_MAX - (uint64_t)w->total < step) return 0;
    if (raw < w->last_raw) w->wraps++;
    w->total += (int64_t)step;
    w->last_raw = raw;
    *total = w->total;
    return 1;
}
