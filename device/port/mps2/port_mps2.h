/* port_mps2.h — the meter core's port on QEMU's mps2-an385 (port_mps2.c). */
#ifndef WN_FW_PORT_MPS2_H
#define WN_FW_PORT_MPS2_H

#include <stdint.h>

#include "device/core/port.h"

/* Opens (creating, erased) the flash file, loads or makes the meter key, fills p.
 * Returns: 1 on success. */
int wn_fw_port_init(wn_port *p, const char *flash_path, uint32_t pages, uint32_t page_size);

/* The clock the bridge sets (ms since the epoch; 0 until it has). */
void wn_fw_port_set_time(uint64_t ms);

#endif
