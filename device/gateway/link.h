/* link.h — one Modbus connection of the gateway (libmodbus): Modbus TCP ("tcp:HOST:PORT")
 * or Modbus RTU over a serial line ("rtu:DEVICE:BAUD:8N1", parity N, E or O), with a
 * response timeout, reading holding (function 3) or input (function 4) registers. A
 * failed exchange is told apart as the device's own exception (it answered, with a
 * Modbus exception code) or a communication failure (no answer, a broken frame): the
 * gateway makes no value from either. */
#ifndef WN_GATEWAY_LINK_H
#define WN_GATEWAY_LINK_H

#include <stddef.h>
#include <stdint.h>

enum wn_link_err {
    WN_LINK_OK = 0,
    WN_LINK_EADDR,      /* the address string is not tcp:HOST:PORT or rtu:DEV:BAUD:8N1 */
    WN_LINK_ECONNECT,   /* could not connect or open the serial line */
    WN_LINK_ECOMM,      /* no answer in time, or a broken answer */
    WN_LINK_EEXCEPTION  /* the device answered with a Modbus exception (code in *exception) */
};
const char *wn_link_strerror(int err);

typedef struct wn_link wn_link;

/* Args: address  as above; unit  the slave/unit id (0..247); timeout_ms  response timeout.
 * Returns: WN_LINK_OK or WN_LINK_EADDR (nothing is connected yet: that happens on the
 * first read, and again after a failure). */
int wn_link_new(wn_link **out, const char *address, int unit, unsigned timeout_ms);
void wn_link_free(wn_link *l);

/* Reads n (1..125) registers from address with function 3 or 4 into regs.
 * Returns: WN_LINK_OK, WN_LINK_ECONNECT, WN_LINK_ECOMM or WN_LINK_EEXCEPTION (*exception
 * set to the code: 1 illegal function, 2 illegal address, 3 illegal value, 4 device
 * failure, 6 busy, ...). After ECOMM the connection is closed and reopened next time. */
int wn_link_read(wn_link *l, int function, uint16_t address, unsigned n, uint16_t *regs, int *exception);

#endif
