/* link.c — Modbus TCP and RTU reads through libmodbus (link.h). */
#include "device/gateway/link.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wn_link {
    modbus_t *ctx;
    int connected;
};

const char *wn_link_strerror(int err)
{
    switch (err) {
    case WN_LINK_OK: return "ok";
    case WN_LINK_EADDR: return "bad Modbus address (tcp:HOST:PORT or rtu:DEVICE:BAUD:8N1)";
    case WN_LINK_ECONNECT: return "cannot connect to the Modbus device";
    case WN_LINK_ECOMM: return "no answer from the Modbus device in time, or a broken answer";
    case WN_LINK_EEXCEPTION: return "the Modbus device answered with an exception";
    default: return "unknown error";
    }
}

static modbus_t *new_ctx(const char *address)
{
    char buf[256];
    if (strlen(address) >= sizeof buf) return NULL;
    snprintf(buf, sizeof buf, "%s", address);
    if (strncmp(buf, "tcp:", 4) == 0) {
        char *host = buf + 4, *colon = strrchr(host, ':'), *end;
        if (!colon || colon == host) return NULL;
        *colon = '\0';
        long port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535) return NULL;
        return modbus_new_tcp(host, (int)port);
    }
    if (strncmp(buf, "rtu:", 4) == 0) {
        char *dev = buf + 4, *p1 = strchr(dev, ':'), *end;
        if (!p1) return NULL;
        *p1 = '\0';
        char *p2 = strchr(p1 + 1, ':');
        if (!p2) return NULL;
        *p2 = '\0';
        long baud = strtol(p1 + 1, &end, 10);
        const char *fmt = p2 + 1;
        if (*end || baud < 300 || baud > 1000000 || strlen(fmt) != 3 || (fmt[0] != '7' && fmt[0] != '8') ||
            (fmt[1] != 'N' && fmt[1] != 'E' && fmt[1] != 'O') || (fmt[2] != '1' && fmt[2] != '2'))
            return NULL;
        return modbus_new_rtu(dev, (int)baud, fmt[1], fmt[0] - '0', fmt[2] - '0');
    }
    return NULL;
}

int wn_link_new(wn_link **out, const char *address, int unit, unsigned timeout_ms)
{
    if (unit < 0 || unit > 247) return WN_LINK_EADDR;
    modbus_t *ctx = new_ctx(address);
    if (!ctx) return WN_LINK_EADDR;
    wn_link *l = calloc(1, sizeof *l);
    if (!l) {
        modbus_free(ctx);
        return WN_LINK_ECONNECT;
    }
    l->ctx = ctx;
    modbus_set_slave(ctx, unit);
    modbus_set_response_timeout(ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
    modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);
    *out = l;
    return WN_LINK_OK;
}

void wn_link_free(wn_link *l)
{
    if (!l) return;
    if (l->connected) modbus_close(l->ctx);
    modbus_free(l->ctx);
    free(l);
}

int wn_link_read(wn_link *l, int function, uint16_t address, unsigned n, uint16_t *regs, int *exception)
{
    *exception = 0;
    if (n < 1 || n > MODBUS_MAX_READ_REGISTERS) return WN_LINK_ECOMM;
    if (!l->connected) {
        if (modbus_connect(l->ctx) != 0) return WN_LINK_ECONNECT;
        l->connected = 1;
    }
    int rc = function == 4 ? modbus_read_input_registers(l->ctx, address, (int)n, regs)
                           : modbus_read_registers(l->ctx, address, (int)n, regs);
    if (rc == (int)n) return WN_LINK_OK;
    /* libmodbus reports a device's exception code as errno MODBUS_ENOBASE + code */
    if (rc < 0 && errno >= EMBXILFUN && errno <= EMBXGTAR) {
        *exception = errno - MODBUS_ENOBASE;
        return WN_LINK_EEXCEPTION;
    }
    modbus_close(l->ctx); /* resynchronise: a late answer must not be taken for the next one */
    l->connected = 0;
    return WN_LINK_ECOMM;
}
