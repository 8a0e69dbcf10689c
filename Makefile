# Makefile — builds WaterNotary's libraries, programs (bin/), tests and benchmarks.
#
#   make            build bin/wn, bin/wn-node, bin/wn-meter
#   make test       build and run the Criterion suite (build/)
#   make test-san   the same suite built with -fsanitize=address,undefined (build-san/)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each (clang)
#   make layers     the dependency rules of docs/ARCHITECTURE.md (scripts/check-layers.py)
#   make clone-check  a fresh clone of HEAD alone builds and passes the vector tests
#   make firmware   the meter image for QEMU's mps2-an385 (docs/FIRMWARE.md)
#   make test-firmware  that image under qemu-system-arm against a real node, power cuts
#   make check      deps + layers + clone-check + test + test-san + fuzz + test-firmware: what CI runs
#   make bench      build and run the benchmarks in bench/
#   make demo       the newcomer's demo (see README.md)
#   make deb        the Debian package build/deb/waternotary_<version>_<arch>.deb (debian/)
#   make deb-check  build it and test it unpacked: lintian, the service's unit, a running node
#
# Each module is a directory of .c files compiled into a static library (node/ and cli/
# with their subsystem folders; see docs/ARCHITECTURE.md); new files are picked up by
# wildcard, so adding a file never needs a Makefile edit. Every
# tests/test_*.c is its own Criterion binary; tests/support/*.c is linked into all of them
# (and into the benchmarks, with bench/support/*.c).

CC      ?= cc
BUILD   ?= build
SAN     ?=
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -I. $(SAN)
LDFLAGS += -pthread $(SAN)

LIBS_CRYPTO = -lsecp256k1 -lcrypto
LIBS_LEDGER = -llmdb
LIBS_JSON   = -lcjson
LIBS_NET    = -lcurl -lmicrohttpd
LIBS_NETTLE = -lnettle
LIBS_MODBUS = -lmodbus
LIBS_XLSX   = -lxlsxwriter
ALL_LIBS    = $(LIBS_NET) $(LIBS_LEDGER) $(LIBS_JSON) $(LIBS_CRYPTO) $(LIBS_NETTLE) $(LIBS_XLSX) -lm

src = $(wildcard $(1)/*.c)
obj = $(patsubst %.c,$(BUILD)/%.o,$(call src,$(1)))
# a module with subsystem folders one level down (node/, cli/)
tree_obj = $(call obj,$(1)) $(foreach d,$(wildcard $(1)/*/),$(call obj,$(d:/=)))

CRYPTO_A   = $(BUILD)/libwncrypto.a
PROTOCOL_A = $(BUILD)/libwnprotocol.a
CHAIN_A    = $(BUILD)/libwnchain.a
LEDGER_A   = $(BUILD)/libwnledger.a
SAVINGS_A  = $(BUILD)/libwnsavings.a
DEVICE_A = $(BUILD)/libwndevice.a
NODE_A   = $(BUILD)/libwnnode.a
CLI_A    = $(BUILD)/libwncli.a
AGENT_A  = $(BUILD)/libwnagent.a
GATEWAY_A = $(BUILD)/libwngateway.a

# Link order: users before what they use (docs/ARCHITECTURE.md):
# crypto <- protocol, ledger, chain <- savings <- node, cli; device <- protocol, crypto.
WN_LIBS  = $(NODE_A) $(CLI_A) $(GATEWAY_A) $(AGENT_A) $(DEVICE_A) $(SAVINGS_A) $(LEDGER_A) $(CHAIN_A) $(PROTOCOL_A) $(CRYPTO_A)

BINDIR   ?= bin
PROGRAMS = $(BINDIR)/wn $(BINDIR)/wn-node $(BINDIR)/wn-meter $(BINDIR)/wn-gateway

TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TEST_SUPPORT = $(call obj,tests/support)
BENCH_SRC  = $(wildcard bench/bench_*.c)
BENCH_BINS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
BENCH_SUPPORT = $(call obj,bench/support)
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 20

.PHONY: all deps layers clone-check test test-san fuzz check bench demo deb deb-check clean
.SECONDARY:

all: $(PROGRAMS)

deps:
	@bash scripts/install-deps.sh

$(BUILD)/%.o: %.c $(wildcard */*.h) $(wildcard */*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(CRYPTO_A):   $(call obj,crypto)
$(PROTOCOL_A): $(call obj,protocol)
$(CHAIN_A):    $(call obj,chain)
$(LEDGER_A):   $(call tree_obj,ledger)
$(SAVINGS_A):  $(call obj,savings)
$(DEVICE_A):   $(call obj,device) $(call obj,device/core) $(call obj,device/port/posix)
$(NODE_A):     $(filter-out $(BUILD)/node/main.o,$(call tree_obj,node))
$(CLI_A):      $(filter-out $(BUILD)/cli/main.o,$(call tree_obj,cli))
$(AGENT_A):  $(filter-out $(BUILD)/device/agent/main.o,$(call obj,device/agent))
$(GATEWAY_A): $(filter-out $(BUILD)/device/gateway/main.o,$(call obj,device/gateway))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# bin/ programs are built from build/ objects only when BUILD is the default.
# wn links its objects directly (main.o alone would pull in only what it names).
$(BINDIR)/wn: $(call tree_obj,cli) $(WN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call tree_obj,cli) $(WN_LIBS) $(ALL_LIBS)
$(BINDIR)/wn-node: $(BUILD)/node/main.o $(WN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(WN_LIBS) $(ALL_LIBS)
$(BINDIR)/wn-meter: $(BUILD)/device/agent/main.o $(WN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(WN_LIBS) $(ALL_LIBS)
$(BINDIR)/wn-gateway: $(BUILD)/device/gateway/main.o $(WN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(WN_LIBS) $(ALL_LIBS) $(LIBS_MODBUS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT) $(WN_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_EXTRA) $(TEST_SUPPORT) $(WN_LIBS) $(ALL_LIBS) $(LIBS_MODBUS) -lcriterion

# the benchmarks' load generator has its own test
$(BUILD)/tests/test_loadgen: TEST_EXTRA = $(BENCH_SUPPORT)
$(BUILD)/tests/test_loadgen: $(BENCH_SUPPORT)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_SUPPORT) $(TEST_SUPPORT) $(WN_LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(BENCH_SUPPORT) $(TEST_SUPPORT) $(WN_LIBS) $(ALL_LIBS)

# Tests find the programs through WN_BIN (bin/ for the normal build, build-san/bin for
# the sanitizer build) and the public vectors through WN_VECTORS.
WN_VECTORS ?= $(abspath tests/vectors)
test: $(PROGRAMS) $(TEST_BINS)
	@WN_BIN=$(abspath $(BINDIR)) WN_VECTORS=$(WN_VECTORS) WN_SUMMARY_FILE=$(BUILD)/test-summary \
	  bash scripts/run-tests.sh $(TEST_BINS)

test-san:
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	$(MAKE) BUILD=build-san BINDIR=build-san/bin CC=clang \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  OPT="-O1 -g" test

fuzz:
	@bash scripts/run-fuzz.sh $(FUZZ_SECONDS)

layers:
	@python3 scripts/check-layers.py

clone-check:
	@bash scripts/check-clone.sh

check: deps
	$(MAKE) layers
	$(MAKE) clone-check
	$(MAKE) deb-check
	$(MAKE) test
	$(MAKE) test-san
	$(MAKE) fuzz
	$(MAKE) test-firmware
	@cat build/test-summary build-san/test-summary | \
	  awk '{p += $$1; f += $$2} END {print "check: " p " passed, " f " failed"}'

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

demo: deps all
	@bash scripts/demo.sh

# The package is built by dpkg-buildpackage in a copy of the sources under build/deb/ (its
# results land beside that copy, inside the repository), with ECharts from web/vendor.
deb:
	@bash scripts/build-deb.sh $(BUILD)/deb

deb-check:
	@bash scripts/check-deb.sh $(BUILD)/deb

clean:
	rm -rf build build-san bin

# The meter firmware for QEMU's mps2-an385 (docs/FIRMWARE.md): make firmware, test-firmware.
include device/port/mps2/firmware.mk
