# egress — plain make. Every binary lands in $(BUILD)/.
#
#   make            build egressd, egressctl and the test programs
#   make check      deps, build under gcc and clang, unit tests, fuzz smoke (5 s each)
#                   runs, network-namespace tests; unit and netns tests
#                   again with everything under ASan+UBSan
#   make demo       deps, build, run the demo in network namespaces
#   make bench      deps, build, run the benchmarks in bench/ (throughput,
#                   decisions and flow lookups, failover time,
#                   controller fan-out to 100 and 1,000 nodes)
#   make fuzz       run every fuzz target for FUZZ_SECONDS (default 60)
#
# Source layout is the architecture: src/<part>/<concept>.c. A program is
# its own folder src/<program>/ linked with the library: every other folder.

BUILD   ?= build
CC      ?= cc
SAN     ?=
OPT     ?= -O2
CSTD    := -std=c17
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wvla -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -Isrc -MMD -MP
CFLAGS  ?= $(OPT) -g
LDLIBS  += -lcrypto -lsodium -lyaml -ljansson -lmaxminddb -lsqlite3 -lmicrohttpd -lcurl -lm -lpthread

ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

PROGRAMS  := egressd egressctl egress-controller
PROG_SRCS := $(foreach p,$(PROGRAMS),$(wildcard src/$(p)/*.c))
LIB_SRCS  := $(filter-out $(PROG_SRCS),$(sort $(wildcard src/*/*.c)))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# Files served as they are (the controller's dashboard) become C arrays.
EMBEDS    := src/controller/dashboard.html
LIB_OBJS  += $(EMBEDS:src/%.html=$(BUILD)/obj/gen/%_html.o)
prog_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard src/$(1)/*.c)))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TESTS     := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZERS   := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60
# make check builds with every core: three builds (gcc, clang, ASan) and
# the fuzzers' library are most of its time outside the tests.
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps check test unit-tests netns-tests fuzz fuzz-build fuzz-smoke \
        demo bench clean
all: $(addprefix $(BUILD)/,$(PROGRAMS)) $(TESTS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

.PRECIOUS: $(BUILD)/gen/%_html.c
$(BUILD)/gen/%_html.c: src/%.html mk/embed.sh
	@mkdir -p $(dir $@)
	sh mk/embed.sh $(notdir $*)_html $< >$@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/lib.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/egressd: $(call prog_objs,egressd) $(BUILD)/lib.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/egressctl: $(call prog_objs,egressctl) $(BUILD)/lib.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/egress-controller: $(call prog_objs,egress-controller) $(BUILD)/lib.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/lib.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/lib.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

deps:
	@sh mk/deps.sh

# Unit tests print "N passed, N failed"; tests/run-unit sums them.
unit-tests: all
	@sh tests/run-unit $(BUILD)

netns-tests: all
	@EG_SAN=$(EG_SAN) sh tests/netns/run-all $(BUILD)

# Fuzz targets build with clang's libFuzzer, the library under ASan+UBSan.
FUZZ_BUILD := $(BUILD)/fuzz-obj
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) --no-print-directory -j$(JOBS) CC=clang BUILD=$(FUZZ_BUILD) \
	    CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_BUILD)/lib.a
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	  echo "clang $$f"; \
	  clang $(CSTD) $(WARN) -D_GNU_SOURCE -Isrc -O1 -g \
	    -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
	    $$f $(FUZZ_BUILD)/lib.a $(LDLIBS) -o $(BUILD)/fuzz/$$n || exit 1; done

fuzz-smoke: fuzz-build
	@sh fuzz/run $(BUILD)/fuzz 5

fuzz: deps fuzz-build
	@sh fuzz/run $(BUILD)/fuzz $(FUZZ_SECONDS)

# Each stage appends its "N passed, N failed" line to build/check-results;
# the last line of a check is the total.
export RESULTS := $(CURDIR)/build/check-results
check: deps
	@mkdir -p build && rm -f $(RESULTS)
	$(MAKE) --no-print-directory -j$(JOBS) all
	$(MAKE) --no-print-directory -j$(JOBS) CC=clang BUILD=build/clang all
	$(MAKE) --no-print-directory unit-tests
	$(MAKE) --no-print-directory -j$(JOBS) CC=clang SAN=1 BUILD=build/asan all
	$(MAKE) --no-print-directory CC=clang SAN=1 BUILD=build/asan unit-tests
	@sh tests/egressctl/run-render.sh build
	@sh tests/egressctl/run-controller.sh build
	@sh tests/controller/run build
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory netns-tests
	$(MAKE) --no-print-directory CC=clang SAN=1 BUILD=build/asan EG_SAN=1 netns-tests
	@sh tests/summary $(RESULTS)

demo: deps all
	@sh demo/demo.sh $(BUILD)

bench: deps all
	@sh bench/throughput $(BUILD)
	@sh bench/decisions $(BUILD)
	@sh bench/failover $(BUILD)
	@sh bench/controller_fanout $(BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
