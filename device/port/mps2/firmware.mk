# firmware.mk — `make firmware`: the meter image for QEMU's mps2-an385 (Cortex-M3),
# included by the Makefile. The core (device/core/) and this port are cross-built with
# Debian's gcc-arm-none-eabi and newlib (memcpy, memset, memcmp only), libsecp256k1 from
# Debian's source package of the host's version (scripts/fetch-secp256k1-src.sh) in its
# small-table configuration: ecmult window 2 (verification, 128 B of table) and ecmult_gen
# precision 2 (signing, 32 KiB of table). Figures: docs/FIRMWARE.md.

FW        = $(BUILD)/fw
FW_SECP   = $(FW)/libsecp256k1
FW_CC     = arm-none-eabi-gcc
FW_ARCH   = -mcpu=cortex-m3 -mthumb
FW_CFLAGS = $(FW_ARCH) -Os -g -std=c11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections -I.
FW_SECP_DEFS = -DECMULT_WINDOW_SIZE=2 -DECMULT_GEN_PREC_BITS=2 -DENABLE_MODULE_EXTRAKEYS=1 \
               -DENABLE_MODULE_SCHNORRSIG=1 -DUSE_EXTERNAL_DEFAULT_CALLBACKS=1
FW_SECP_INC = -I$(FW_SECP)/src/include -I$(FW_SECP)/src/src
FW_CORE_OBJ = $(patsubst device/core/%.c,$(FW)/core/%.o,$(wildcard device/core/*.c))
FW_PORT_OBJ = $(patsubst device/port/mps2/%.c,$(FW)/mps2/%.o,$(wildcard device/port/mps2/*.c))
FW_SECP_OBJ = $(FW)/secp/precomputed_ecmult.o $(FW)/secp/precomputed_ecmult_gen.o
FW_ELF    = $(FW)/wn-meter-mps2.elf

.PHONY: firmware firmware-sizes test-firmware

firmware: $(FW_ELF)

$(FW_SECP)/src/include/secp256k1.h:
	@bash scripts/fetch-secp256k1-src.sh $(FW_SECP)

# The core: freestanding, and it must stay so (no libc headers but stddef/stdint).
$(FW)/core/%.o: device/core/%.c $(wildcard device/core/*.h)
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_CFLAGS) -ffreestanding -nostdlib -c $< -o $@

# libsecp256k1 as one unit with the port's SHA-256 hook (third-party code: its own warnings)
$(FW)/mps2/secp256k1_unit.o: device/port/mps2/secp256k1_unit.c device/core/port.h $(FW_SECP)/src/include/secp256k1.h
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_ARCH) -Os -g -std=c11 -ffunction-sections -fdata-sections -I. $(FW_SECP_DEFS) $(FW_SECP_INC) -c $< -o $@

$(FW)/mps2/%.o: device/port/mps2/%.c $(wildcard device/port/mps2/*.h) $(wildcard device/core/*.h) $(FW_SECP)/src/include/secp256k1.h
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_CFLAGS) $(FW_SECP_INC) -c $< -o $@

$(FW)/secp/%.o: $(FW_SECP)/src/include/secp256k1.h
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_ARCH) -Os -g -ffunction-sections -fdata-sections $(FW_SECP_DEFS) $(FW_SECP_INC) \
	  -c $(FW_SECP)/src/src/$*.c -o $@

$(FW_ELF): $(FW_CORE_OBJ) $(FW_PORT_OBJ) $(FW_SECP_OBJ) device/port/mps2/link.ld
	$(FW_CC) $(FW_ARCH) -nostartfiles --specs=nano.specs --specs=nosys.specs -T device/port/mps2/link.ld \
	  -Wl,--gc-sections -Wl,-Map=$(FW)/wn-meter-mps2.map -o $@ $(FW_CORE_OBJ) $(FW_PORT_OBJ) $(FW_SECP_OBJ)
	@arm-none-eabi-size $@

# Sizes of the image and of the core alone (text+rodata = flash; data+bss = static RAM).
firmware-sizes: $(FW_ELF)
	@echo "image:"; arm-none-eabi-size $(FW_ELF)
	@echo "core alone (device/core/*.o):"; arm-none-eabi-size -t $(FW_CORE_OBJ) | tail -1

# make test-firmware (tests/firmware/test_qemu_meter.c): the image under qemu-system-arm
# with a real node, power cuts by SIGKILL. Skipped, saying so, only without QEMU.
FW_TEST = $(BUILD)/tests/firmware/test_qemu_meter
$(FW_TEST): $(BUILD)/tests/firmware/test_qemu_meter.o $(TEST_SUPPORT) $(WN_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT) $(WN_LIBS) $(ALL_LIBS) -lcriterion

test-firmware: $(PROGRAMS)
	@if ! command -v qemu-system-arm >/dev/null 2>&1; then \
	  echo "test-firmware: SKIPPED: qemu-system-arm is not installed (scripts/install-deps.sh installs it)"; \
	else \
	  $(MAKE) --no-print-directory firmware $(FW_TEST) && \
	  WN_BIN=$(abspath $(BINDIR)) WN_FW_ELF=$(abspath $(FW_ELF)) $(FW_TEST) && \
	  $(MAKE) --no-print-directory firmware-sizes; \
	fi
