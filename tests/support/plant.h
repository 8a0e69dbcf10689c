/* plant.h — the metered plant of the money-path tests (test_money, test_identity,
 * test_calibration): one intake meter's hourly totaliser readings, posted a batch at a
 * time, each batch committed a minute after its last reading (the test commit clock,
 * testclock.h), as a meter that pushes every day would have them committed. */
#ifndef WN_TEST_PLANT_H
#define WN_TEST_PLANT_H

#include <stdint.h>

/* A meter's key and the state its next reading continues. */
typedef struct {
    uint8_t sk[32], id[32];
    uint64_t seq;     /* last sequence used */
    uint8_t prev[32]; /* digest of the last reading */
} wn_test_meter;

/* Signs hours first .. first+hours-1 after `from` (one reading an hour, the totaliser at
 * v0 + h * rate, litres with scale 3), sets the commit clock to a minute after the last,
 * and POSTs them to url as one binary batch. Returns: 1 if every reading was accepted;
 * else 0, with the node's answer on stderr. */
int wn_test_post_hours(const char *url, wn_test_meter *m, uint64_t from, long first, long hours, int64_t v0,
                       int64_t rate);

#endif
