/* widen.h — a flowmeter's wrapping totaliser register (a 16- or 32-bit counter, or a 4- or
 * 8-digit BCD counter) widened into the 64-bit, never-decreasing total that readings carry.
 *
 * The total is the sum of every step the counter made, each step taken modulo the
 * counter's range: new total = total + ((raw − last raw) mod M). So a counter that passed
 * its maximum once between two polls counts right, and the wraps are counted
 * (total div M). What no gateway can see is a counter that went round more than once
 * between two polls, or ran backwards: poll faster than the counter can wrap (docs/GATEWAY.md).
 *
 * The state is recovered from the meter's last reading (its volume, which is the total)
 * when the gateway starts, so a restart neither loses nor repeats a step: last raw = total
 * mod M. Never trusted over the log: nothing else is stored. */
#ifndef WN_GATEWAY_WIDEN_H
#define WN_GATEWAY_WIDEN_H

#include <stdint.h>

typedef struct {
    uint64_t modulus; /* M: 2^16, 2^32, 10^4 or 10^8 */
    int have;         /* a total is known */
    int64_t total;    /* the widened total (counts of the register's unit) */
    uint64_t last_raw;
    uint64_t wraps;   /* wraps seen by this process */
} wn_widen;

/* Starts without a total: the first raw value becomes the total (the counter's own value
 * is the meter's total until it first wraps). */
void wn_widen_init(wn_widen *w, uint64_t modulus);

/* Starts from a known total (the meter's last reading). */
void wn_widen_resume(wn_widen *w, uint64_t modulus, int64_t total);

/* Takes the next raw counter value (< modulus) and returns the new total.
 * Returns: 1, or 0 if raw is out of range or the total would overflow (nothing changes). */
int wn_widen_step(wn_widen *w, uint64_t raw, int64_t *total);

#endif
