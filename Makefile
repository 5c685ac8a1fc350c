# diskless: every admin and developer action is a make target (CONVENTIONS §12).
#   make              build every program into build/
#   make deps         install the Debian packages the project needs (apt-get, idempotent)
#   make check        unit tests (ASan+UBSan; the threaded ones also TSan), fuzz-corpus
#                     replay, integration tests
#   make demo         build an image; a Slurm job powers on and boots a virtual cluster (qemu
#                     nodes behind simulated BMCs, private netns), runs, powers it off
#   make demo-vm      build images/kvm, boot a hypervisor node, start a guest inside it
#   make image IMAGE=<name> [STORE=dir]   build images/<name> into the image store
#                     $(STORE)/images (STORE: /var/lib/diskless)
#   make fuzz FUZZ=<target> SECONDS=60   run one libFuzzer target (clang)
#   make bench        benchmarks beside their references -> docs/benchmarks.md
#   make install      programs, helpers, templates, recipes, config, unit, man pages,
#                     completion (PREFIX, DESTDIR; mk/install.mk); make uninstall
#   make deb          build/diskless_<version>_<arch>.deb (mk/deb.sh)
#   make man          the man pages into build/man

CC      ?= gcc
SANITIZE ?=
WERROR  ?=
IMAGE   ?= tiny
STORE   ?= /var/lib/diskless
SECONDS ?= 60
FUZZ    ?= hostlist

ifeq ($(SANITIZE),1)
BUILD   ?= build/asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      = -O1 -g
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer: the unit tests with threads beside the loop (TSAN_TESTS below).
BUILD   ?= build/tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
OPT      = -O1 -g
else ifeq ($(SANITIZE),fuzz)
# clang + libFuzzer: objects instrumented once, each target linked with the fuzzer main.
CC       = clang
BUILD   ?= build/fuzz-clang
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      = -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPT      = -O2 -g -D_FORTIFY_SOURCE=2
endif

include mk/deps.mk

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
       -Wformat=2 -Wundef -Wvla -Wimplicit-fallthrough -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS_BASE = -std=gnu17 $(OPT) $(WARN) -fstack-protector-strong -D_GNU_SOURCE -MMD -MP \
              -iquote lib -iquote bootsvc $(SANFLAGS)
CFLAGS  = $(CFLAGS_BASE)
LDFLAGS = $(SANFLAGS)

LIB_SRCS        := $(wildcard lib/*.c)
BOOTSVC_SRCS    := $(filter-out bootsvc/main.c,$(wildcard bootsvc/*.c bootsvc/*/*.c))
NODECTL_SRCS    := $(filter-out nodectl/main.c,$(wildcard nodectl/*.c))
IMAGEBUILD_SRCS := $(filter-out imagebuild/main.c,$(wildcard imagebuild/*.c))
INIT_SRCS       := $(wildcard initramfs/*.c)
INIT_LIB_SRCS   := $(filter-out initramfs/main.c,$(INIT_SRCS))
UNIT_SRCS       := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS       := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBDL      = $(BUILD)/libdiskless.a
LIBBOOTSVC = $(BUILD)/libbootsvc.a
LIBNODECTL = $(BUILD)/libnodectl.a
LIBIMGB    = $(BUILD)/libimagebuild.a
LIBINIT    = $(BUILD)/libinit.a

PROGS = $(BUILD)/bootsvc $(BUILD)/nodectl
ifneq ($(wildcard imagebuild/main.c),)
PROGS += $(BUILD)/imagebuild
endif
ifneq ($(INIT_SRCS),)
PROGS += $(BUILD)/init
endif

# Small programs the integration tests drive (powerctl: our IPMI code from the shell).
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS  = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/replay_%,$(FUZZ_SRCS))

.PHONY: install all deps check unit-bins fuzz-bins demo demo-vm image fuzz fuzz-smoke bench clean
all: $(PROGS) $(TOOL_BINS)
# Keep the objects that only a pattern chain reaches (a unit test's, a tool's, a fuzz
# target's): make would delete them as intermediates, and every `make check` in a working
# tree would compile them again.
.SECONDARY:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<

$(LIBDL): $(call obj,$(LIB_SRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBBOOTSVC): $(call obj,$(BOOTSVC_SRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBNODECTL): $(call obj,$(NODECTL_SRCS))
	@rm -f $@; ar rcs $@ $^
$(LIBIMGB): $(call obj,$(IMAGEBUILD_SRCS))
	@rm -f $@; ar rcs $@ $^
# The init's modules minus main(), built like the rest so unit tests and fuzzers reach them.
$(LIBINIT): $(call obj,$(INIT_LIB_SRCS))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/bootsvc: $(call obj,bootsvc/main.c) $(LIBBOOTSVC) $(LIBDL)
	$(CC) $(LDFLAGS) -o $@ $^ $(BOOTSVC_LIBS)
$(BUILD)/nodectl: $(call obj,nodectl/main.c) $(LIBNODECTL) $(LIBDL)
	$(CC) $(LDFLAGS) -o $@ $^ $(NODECTL_LIBS)
$(BUILD)/imagebuild: $(call obj,imagebuild/main.c) $(LIBIMGB) $(LIBDL)
	$(CC) $(LDFLAGS) -o $@ $^ $(IMAGEBUILD_LIBS)

$(BUILD)/tools/%: $(call obj,tests/tools/%.c) $(LIBBOOTSVC) $(LIBDL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBBOOTSVC) $(LIBDL) $(BOOTSVC_LIBS)

# The node's PID 1: static, libc only (plus the lib/ files that are libc-only themselves:
# INIT_FROM_LIB), small. Built with $(CC) like the rest (never sanitized: it runs as the node's
# PID 1); the build fails if the result is not static, since a node's initramfs has no loader.
INIT_CFLAGS = -std=gnu17 -Os -g0 $(WARN) -D_GNU_SOURCE -iquote lib -ffunction-sections -fdata-sections
INIT_FROM_LIB = lib/sha256.c lib/relpath.c lib/tree_digest.c
$(BUILD)/init: $(INIT_SRCS) $(INIT_FROM_LIB) $(wildcard initramfs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(INIT_CFLAGS) -static -Wl,--gc-sections -s -o $@.tmp $(INIT_SRCS) $(INIT_FROM_LIB)
	@if readelf -lW $@.tmp | grep -q 'INTERP\|DYNAMIC'; then \
		echo "$@: not a static executable (readelf shows INTERP or DYNAMIC)" >&2; rm -f $@.tmp; exit 1; fi
	@mv $@.tmp $@

# Unit tests link every library, so any module can be tested without its main().
TEST_LIBS = $(LIBBOOTSVC) $(LIBIMGB) $(LIBNODECTL) $(LIBINIT) $(LIBDL)
$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_PRE) $(TEST_LIBS) $(TEST_LINK)

# dnsmasq's supervision under injected faults: pidfd_open and loop_add_fd fail on demand.
$(BUILD)/tests/test_dnsmasq: TEST_LINK += -Wl,--wrap=spawn_pidfd -Wl,--wrap=loop_add_fd
# nodectl/wait.c as clang compiles it, linked ahead of libnodectl's gcc copy: clang's order
# of a call's arguments is the one that read a pointer before the other argument set it.
# Not instrumented (gcc's sanitizer runtime is not clang's); the test sees what it prints.
WAIT_CLANG = $(BUILD)/obj-clang/nodectl/wait.o
$(WAIT_CLANG): nodectl/wait.c
	@mkdir -p $(dir $@)
	clang -std=gnu17 -O1 -g -D_GNU_SOURCE -iquote lib -iquote bootsvc $(CF_JANSSON) \
	    -c -o $@ $<
$(BUILD)/tests/test_nodectl_wait: $(WAIT_CLANG)
$(BUILD)/tests/test_nodectl_wait: TEST_PRE = $(WAIT_CLANG)
# The VM planner with its allocations failed one by one (tests/unit/test_vm_plan.c).
$(BUILD)/tests/test_vm_plan: TEST_LINK += -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=reallocarray
# spawn_run() with SIGINT raised just before its wait, every run.
$(BUILD)/tests/test_spawn_race: TEST_LINK += -Wl,--wrap=ppoll -Wl,--wrap=poll

# Fuzz targets: replay.c supplies main() so gcc builds replay the corpus (CONVENTIONS §11).
$(BUILD)/fuzz/replay_%: $(call obj,tests/fuzz/%.c) $(call obj,tests/fuzz/replay.c) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call obj,tests/fuzz/$*.c) $(call obj,tests/fuzz/replay.c) $(TEST_LIBS) $(TEST_LINK)

# libFuzzer binaries (SANITIZE=fuzz): tests/fuzz/run-libfuzzer.sh builds and runs them.
$(BUILD)/fuzz/libfuzzer_%: $(call obj,tests/fuzz/%.c) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $< $(TEST_LIBS) $(TEST_LINK)

unit-bins: $(UNIT_BINS)
fuzz-bins: $(FUZZ_BINS)
# Under ThreadSanitizer (SANITIZE=thread): the unit tests whose threads meet the loop's
# (worker pools, the store's readers and checkpointer, a client thread against the loop's
# HTTP and its reader threads, the per-address counts they share). Not test_vm_room: libvirt's event thread locks with GLib's GMutex, raw futexes
# ThreadSanitizer cannot see, so every libvirt call would be reported as a race.
TSAN_TESTS = test_action test_boot_records test_ctrl_power test_http_node test_ip_limit test_store test_store_reader
tsan-bins: $(addprefix $(BUILD)/tests/,$(TSAN_TESTS))

deps:
	./mk/install-deps.sh

# install, uninstall, man, deb: paths and the package (docs/install.md).
include mk/install.mk

# Unit tests and corpus replay run under ASan+UBSan (build/asan); integration tests use
# the normal build, as an admin would run it. The builds take every CPU (JOBS) whatever
# -j make was given (the ASan build: 144 s serial, 81 s on two CPUs).
JOBS ?= $(shell nproc)
check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) SANITIZE=1 unit-bins fuzz-bins
	$(MAKE) -j$(JOBS) SANITIZE=thread tsan-bins
	./tests/run.sh

fuzz: deps
	./tests/fuzz/run-libfuzzer.sh $(FUZZ) $(SECONDS)

# Every fuzz target for a few seconds each: the CI smoke run.
fuzz-smoke: deps
	for t in $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS)); do \
		./tests/fuzz/run-libfuzzer.sh $$t $(SECONDS) || exit 1; done

demo: deps all
	./mk/demo.sh

demo-vm: deps all
	./mk/demo-vm.sh

image: deps all
	$(BUILD)/imagebuild build images/$(IMAGE) --store $(STORE)/images

bench: deps all $(BUILD)/bench/disk_clone
	./bench/run.sh

# bench/disk_clone: bootsvc's clone code on its own (bench/run.sh's clone row)
$(BUILD)/bench/disk_clone: $(call obj,bench/disk_clone.c) $(LIBBOOTSVC) $(LIBDL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(BOOTSVC_LIBS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f -not -path 'build/deb/*' 2>/dev/null)
