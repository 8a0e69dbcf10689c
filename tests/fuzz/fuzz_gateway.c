/* fuzz_gateway.c — libFuzzer target for the gateway's parsers: device profiles (JSON),
 * the configuration file, and register decoding of every type in every order. Accepted
 * profiles must be internally consistent (registers within the address space, wrapping
 * only on counters).
 * fuzz-sources: device/gateway/profile.c device/gateway/registers.c device/gateway/config.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/gateway/config.h"
#include "device/gateway/profile.h"
#include "device/gateway/registers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    char err[300];
    wn_profile p;
    if (wn_profile_parse(&p, (const char *)data + 1, size - 1, err, sizeof err)) {
        if (p.n < 1 || p.n > WN_PROFILE_MAX_QUANTITIES) abort();
        for (size_t i = 0; i < p.n; i++) {
            if ((unsigned)p.q[i].address + wn_reg_count(p.q[i].type) > 65536) abort();
            if (p.q[i].wraps && !wn_reg_modulus(p.q[i].type)) abort();
        }
    }
    static wn_gateway_config c;
    if (memchr(data + 1, '\0', size - 1) == NULL) wn_gateway_config_parse(&c, (const char *)data + 1, size - 1, err, sizeof err);
    uint16_t regs[4] = {0};
    memcpy(regs, data + 1, size - 1 < sizeof regs ? size - 1 : sizeof regs);
    int64_t v;
    uint64_t raw;
    wn_reg_decode(regs, 1 + data[0] % 7, data[0] >> 3 & 1, data[0] >> 4 & 1, (data[0] >> 5) % 10, &v, &raw);
    return 0;
}
