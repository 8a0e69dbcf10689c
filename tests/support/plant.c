/* plant.c — hourly readings of a test plant's meter, posted as the node would get them
 * (plant.h). */
#include "tests/support/plant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "protocol/reading.h"
#include "tests/support/feeder.h"
#include "tests/support/testclock.h"

#define HOUR_MS 3600000ULL

int wn_test_post_hours(const char *url, wn_test_meter *m, uint64_t from, long first, long hours, int64_t v0,
                       int64_t rate)
{
    size_t cap = (size_t)hours * (2 + WN_READING_MAX_LEN), len = 0;
    uint8_t *batch = malloc(cap);
    if (!batch || !wn_test_clock_set(from + (uint64_t)(first + hours - 1) * HOUR_MS + 60000)) {
        free(batch);
        return 0;
    }
    for (long h = first; h < first + hours; h++) {
        wn_reading r;
        memset(&r, 0, sizeof r);
        r.version = 1;
        memcpy(r.meter, m->id, 32);
        r.seq = ++m->seq;
        r.time_ms = from + (uint64_t)h * HOUR_MS;
        memcpy(r.prev, m->prev, 32);
        r.count = 1;
        r.m[0] = (wn_measurement){WN_Q_VOLUME, WN_U_LITRE, 3, v0 + (int64_t)h * rate};
        size_t n;
        if (wn_reading_sign(&r, m->sk) != WN_READING_OK ||
            wn_reading_encode(&r, batch + len + 2, cap - len - 2, &n) != WN_READING_OK) {
            free(batch);
            return 0;
        }
        wn_put_u16(batch + len, (uint16_t)n);
        len += 2 + n;
        wn_reading_digest(&r, m->prev);
    }
    wn_test_resp r;
    memset(&r, 0, sizeof r);
    int ok = wn_test_http(url, "POST", "/v1/readings", "application/vnd.waternotary.readings", batch, len, &r) &&
             r.status == 200 && !strstr((char *)r.body, "\"rejected\"");
    if (!ok) fprintf(stderr, "plant: POST /v1/readings: %ld %.500s\n", (long)r.status, r.body ? (char *)r.body : "");
    wn_test_resp_free(&r);
    free(batch);
    return ok;
}
