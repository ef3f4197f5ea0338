# cube — the one build entry. `make`, `make check`, `make bench`, `make install`, `make demo`.
# V=1 prints commands; SAN=1 builds with ASan + UBSan (in build/san); `make install` strips the
# binaries, KEEP_DEBUG=1 also installs their debug info in $(DEBUGDIR)$(PREFIX)/bin, where gdb looks.

TOOLS := cube-versions cube-sched cube-logs cube-rootfs cube-tap cube-egress-rules

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
DEBUGDIR ?= /usr/lib/debug
BUILD   := build
CXX     ?= g++
CLANG   ?= clang
BPFTOOL ?= bpftool

# Each function and object in its own section, so that the link keeps only what is reached
# (--gc-sections): a smaller text is fewer pages to fault in at start-up.
CXXFLAGS_BASE := -std=c++20 -O2 -g -Wall -Wextra -Werror -pipe -ffunction-sections -fdata-sections
# Start-up is most of a small command's cost, and most of start-up is the dynamic linker binding
# libstdc++: link it statically (and fmt's compiled part from common/fmt_impl.cpp, since libfmt.so
# would load libstdc++.so again), and link a shared library only where a tool uses it.
LDFLAGS_BASE  := -Wl,--as-needed -Wl,--gc-sections
ifeq ($(SAN),1)
BUILD := build/san
CXXFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_BASE  += -fsanitize=address,undefined
else
LDFLAGS_BASE  += -static-libstdc++ -static-libgcc
endif
CPPFLAGS_BASE := -Icommon -Ibpf -I$(BUILD)/gen -I$(BUILD)/bpf
LDLIBS_BASE   := -lsqlite3 -lcrypto
# A tool links statically each of its libraries that Debian also ships as an archive (lib*.a from
# the -dev package): the dynamic linker's relocation of a shared library is page faults, and a
# fault costs 10-25 µs on a virtual machine, so each shared library added 0.5-5 ms to every start
# (libcrypto and libssl: 5 ms) — and a sandbox's `up` starts four tools. An archive brings only the
# objects the tool calls. libarchive and libisal ship no archive and stay shared (libnftables has
# none either, and common/nft.cpp opens it with dlopen() only when a command needs it).
# Unit tests, benchmarks and SAN=1 builds link everything shared: they are not started per command.
LINK_STATIC   := sqlite3 crypto ssl nl-3 nl-route-3 bpf elf z seccomp
static_libs    = $(if $(filter 1,$(SAN)),$(1),$(foreach l,$(1),$(if $(filter $(l:-l%=%),$(LINK_STATIC)),-l:lib$(l:-l%=%).a,$(l))))

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# --- dependencies: a target, never a parse-time check ------------------------------------------------
# `make demo` on a bare machine must reach scripts/install-deps before anything looks for a header,
# so the check is a prerequisite of the build, run after the goals that install. DEPS_ROOT moves the
# place it looks (the test of the bare-machine path points it at an empty directory).
DEPS_ROOT    ?=
INSTALL_DEPS ?= scripts/install-deps
check-deps:
	$(Q)scripts/check-deps "$(DEPS_ROOT)"

# --- build flags: a change of flags (SAN=1) rebuilds everything --------------------------------------
FLAGS_FILE := $(BUILD)/.flags
FLAGS_NOW  := $(CXX) $(CXXFLAGS_BASE) $(CPPFLAGS_BASE) $(LDFLAGS_BASE)
$(shell mkdir -p $(BUILD) && { [ -f $(FLAGS_FILE) ] && [ "$$(cat $(FLAGS_FILE))" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_FILE); })

# --- libcube -------------------------------------------------------------------------------------------
COMMON_SRC := $(wildcard common/*.cpp)
MIGRATIONS := $(sort $(wildcard common/migrations/*.sql))
PG_MIGRATIONS := $(sort $(wildcard common/migrations/pg/*.sql))
GEN_SRC    := $(BUILD)/gen/migrations.cpp $(BUILD)/gen/pg_migrations.cpp $(BUILD)/gen/stamp.cpp
COMMON_OBJ := $(COMMON_SRC:%.cpp=$(BUILD)/obj/%.o) $(GEN_SRC:$(BUILD)/gen/%.cpp=$(BUILD)/obj/gen/%.o)
LIBCUBE    := $(BUILD)/lib/libcube.a

$(BUILD)/gen/migrations.cpp: $(MIGRATIONS) scripts/gen-migrations
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)scripts/gen-migrations $@ $(MIGRATIONS)

$(BUILD)/gen/pg_migrations.cpp: $(PG_MIGRATIONS) scripts/gen-migrations
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)scripts/gen-migrations --array k_pg_migration $@ $(PG_MIGRATIONS)

# No tool links libpq: the cluster store loads it with dlopen() when it first connects to
# PostgreSQL (common/cluster_libpq.hpp says why), so only its header is needed to build.

# The stamp script rewrites the file only when the version or commit changed.
$(BUILD)/gen/stamp.cpp: FORCE
	@mkdir -p $(@D)
	$(Q)scripts/gen-stamp $@

$(BUILD)/obj/%.o: %.cpp $(FLAGS_FILE) | $(BUILD)/gen/migrations.cpp
	$(call msg,CXX,$<)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS_BASE) $(CXXFLAGS_$(firstword $(subst /, ,$(patsubst tools/%,%,$<)))) $(CPPFLAGS_BASE) $(CPPFLAGS_$(firstword $(subst /, ,$<))) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.cpp $(FLAGS_FILE)
	$(call msg,CXX,$<)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS_BASE) $(CPPFLAGS_BASE) -MMD -MP -c $< -o $@

$(LIBCUBE): $(COMMON_OBJ)
	$(call msg,AR,$@)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# --- BPF: bpf/*.bpf.c → .bpf.o → .skel.h ------------------------------------------------------------
BPF_SRC  := $(wildcard bpf/*.bpf.c)
BPF_SKEL := $(BPF_SRC:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# Debian keeps asm/types.h under the multiarch include directory, which clang -target bpf misses.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(shell gcc -dumpmachine) -Ibpf -I$(BUILD)/bpf

define compile_bpf
	$(call msg,BPF,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
endef
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	$(compile_bpf)

# Any program's skeleton, the data path's and the benchmarks' alike.
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# tests/unit/bpf feeds the programs crafted packets (BPF_PROG_TEST_RUN) through their skeletons.
LDLIBS_bpf := -lbpf
$(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard tests/unit/bpf/*.cpp)): $(BPF_SKEL)

# --- tools: tools/<tool>/*.cpp; tools/<tool>/build.mk may set LDLIBS_<tool> / CXXFLAGS_<tool> ------
# and LDFLAGS_<tool> (dropped under SAN=1: the sanitizer runtimes cannot link statically).
-include $(wildcard $(TOOLS:%=tools/%/build.mk))

define tool_rules
$(1)_OBJ := $$(patsubst %.cpp,$(BUILD)/obj/%.o,$$(wildcard tools/$(1)/*.cpp))
$(BUILD)/bin/$(1): $$($(1)_OBJ) $(LIBCUBE) $(BPF_SKEL) $(wildcard tools/$(1)/build.mk)
	$$(call msg,LD,$$@)
	@mkdir -p $$(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $(if $(filter 1,$(SAN)),,$$(LDFLAGS_$(1))) $$($(1)_OBJ) $(LIBCUBE) \
	  $$(call static_libs,$$(LDLIBS_$(1)) $(LDLIBS_BASE)) -o $$@
$$($(1)_OBJ): $(BPF_SKEL)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rules,$(t))))

BINS := $(TOOLS:%=$(BUILD)/bin/%)

# --- man pages and completions ---------------------------------------------------------------------
MAN_SRC := $(wildcard man/*.scd)
MAN_OUT := $(foreach m,$(MAN_SRC),$(BUILD)/man/$(basename $(notdir $(m))))

$(BUILD)/man/%: man/%.scd
	$(call msg,SCDOC,$@)
	@mkdir -p $(@D)
	$(Q)scdoc < $< > $@

COMPLETIONS := $(foreach t,$(TOOLS),completions/bash/$(t) completions/zsh/_$(t) completions/fish/$(t).fish)

completions/bash/%: $(BUILD)/bin/%
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$< completion bash > $@
completions/zsh/_%: $(BUILD)/bin/%
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$< completion zsh > $@
completions/fish/%.fish: $(BUILD)/bin/%
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)$< completion fish > $@

# --- unit tests: tests/unit/<part>/*.cpp → $(BUILD)/tests/unit-<part>, one binary per part -----------
# A tool's tests link that tool's objects (all but main.o) and nothing of the other tools; they name
# its headers as "cube-x/noun.hpp" (-Itools).
UNIT_PARTS := $(notdir $(patsubst %/,%,$(wildcard tests/unit/*/)))
UNIT_BINS  := $(UNIT_PARTS:%=$(BUILD)/tests/unit-%)
CPPFLAGS_tests := -Itools -Itests/unit

define unit_rules
$(1)_UNIT_OBJ := $$(patsubst %.cpp,$(BUILD)/obj/%.o,$$(wildcard tests/unit/$(1)/*.cpp))
$(BUILD)/tests/unit-$(1): $$($(1)_UNIT_OBJ) $$(filter-out %/main.o,$$($(1)_OBJ)) $(LIBCUBE)
	$$(call msg,LD,$$@)
	@mkdir -p $$(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $$^ $$(LDLIBS_$(1)) $(LDLIBS_BASE) -lgtest -lgtest_main -pthread -o $$@
endef
$(foreach p,$(UNIT_PARTS),$(eval $(call unit_rules,$(p))))

# --- test helpers: vmm-relay plays a VMM's network backend (tests/net/vmm_relay.cpp) --------------
TEST_HELPERS := $(BUILD)/tests/vmm-relay
$(BUILD)/tests/vmm-relay: $(BUILD)/obj/tests/net/vmm_relay.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -o $@

# --- fuzz targets: tests/fuzz/<target>.cpp with clang's libFuzzer, ASan and UBSan ------------------------
# tests/fuzz/build.mk lists the sources each target links, compiled again by clang (never libcube.a,
# whose objects are g++'s and under SAN=1 carry g++'s sanitizer). Built only where the libFuzzer
# runtime is installed (Debian: libclang-rt-14-dev); tests/fuzz.bats skips the run otherwise.
-include tests/fuzz/build.mk
FUZZ_TARGETS   := $(basename $(notdir $(wildcard tests/fuzz/*.cpp)))
FUZZ_BINS      := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
FUZZ_FLAGS     := -std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -Icommon -Itools
FUZZ_RUNS      ?= 200000
# FUZZ_SECONDS=N fuzzes each target for N seconds instead of FUZZ_RUNS inputs; FUZZ=a,b picks targets.
FUZZ_SECONDS   ?=
comma          := ,
FUZZ           ?= $(FUZZ_TARGETS)
FUZZ_LIMIT     := $(if $(FUZZ_SECONDS),-max_total_time=$(FUZZ_SECONDS),-runs=$(FUZZ_RUNS))
HAVE_LIBFUZZER := $(wildcard $(shell $(CLANG) -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-*.a)

$(BUILD)/fuzz/obj/%.o: %.cpp
	$(call msg,FUZZ-CXX,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG)++ $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

define fuzz_rules
$(BUILD)/fuzz/$(1): $(BUILD)/fuzz/obj/tests/fuzz/$(1).o $$(patsubst %.cpp,$(BUILD)/fuzz/obj/%.o,$$(FUZZ_SRC_$(1)))
	$$(call msg,FUZZ-LD,$$@)
	$(Q)$(CLANG)++ $(FUZZ_FLAGS) -fsanitize=fuzzer $$^ $$(FUZZ_LIBS_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

# --- benchmark drivers: in-process measurements, built by `make bench` only -------------------------
$(BUILD)/bench/sched-inproc: $(BUILD)/obj/tests/bench/sched_inproc.o $(filter-out %/main.o,$(cube-sched_OBJ)) $(LIBCUBE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ $(LDLIBS_BASE) -o $@
$(BUILD)/bench/cluster-store-inproc: $(BUILD)/obj/tests/bench/cluster_store.o $(filter-out %/main.o,$(cube-sched_OBJ)) $(LIBCUBE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ $(LDLIBS_BASE) -pthread -o $@
$(BUILD)/bench/egress-match-inproc: $(BUILD)/obj/tests/bench/egress_match.o $(filter-out %/main.o,$(cube-egress-rules_OBJ)) $(LIBCUBE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ $(LDLIBS_cube-egress-rules) $(LDLIBS_BASE) -o $@

$(BUILD)/bench/datapath-testrun: $(BUILD)/obj/tests/bench/datapath_testrun.o $(BUILD)/obj/tests/unit/bpf/harness.o \
    $(BUILD)/obj/tests/unit/bpf/packets.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -lbpf -o $@
$(BUILD)/obj/tests/bench/datapath_testrun.o: CPPFLAGS_BASE += -Itests/unit/bpf
$(BUILD)/obj/tests/bench/datapath_testrun.o: $(BPF_SKEL)
# The throughput half of tests/bench/datapath: a world-side sender and a TAP reader.
$(BUILD)/bench/datapath-flood: $(BUILD)/obj/tests/bench/datapath_flood.o $(BUILD)/obj/tests/unit/bpf/packets.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -o $@
$(BUILD)/obj/tests/bench/datapath_flood.o: CPPFLAGS_BASE += -Itests/unit/bpf
$(BUILD)/bench/datapath-drain: $(BUILD)/obj/tests/bench/datapath_drain.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -o $@
# The passthrough floor of tests/bench/egress-proxy: a relay whose bytes never leave the kernel.
$(BUILD)/bench/relay_floor.bpf.o: tests/bench/relay_floor.bpf.c | check-deps
	$(compile_bpf)
$(BUILD)/obj/tests/bench/relay_floor.o: CPPFLAGS_BASE += -I$(BUILD)/bench
$(BUILD)/obj/tests/bench/relay_floor.o: $(BUILD)/bench/relay_floor.skel.h
$(BUILD)/bench/relay-floor: $(BUILD)/obj/tests/bench/relay_floor.o
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -lbpf -o $@
$(BUILD)/bench/tap-inproc: $(BUILD)/obj/tests/bench/tap_inproc.o $(filter-out %/main.o,$(cube-tap_OBJ)) $(LIBCUBE)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ $(LDLIBS_cube-tap) $(LDLIBS_BASE) -o $@

# --- goals ------------------------------------------------------------------------------------------
.PHONY: all check-deps check unit bats bench demo install fmt fmt-check clean completions release-manifest fuzz FORCE

all: $(BINS) $(MAN_OUT)

# Everything the build compiles waits for the dependency check (order-only: it makes nothing).
$(LIBCUBE) $(BUILD)/gen/migrations.cpp $(BUILD)/gen/pg_migrations.cpp $(BPF_SKEL) $(MAN_OUT): | check-deps

completions: $(COMPLETIONS)

check: all $(UNIT_BINS) $(TEST_HELPERS) $(if $(HAVE_LIBFUZZER),$(FUZZ_BINS))
	$(Q)CUBE_BUILD=$(abspath $(BUILD)) CUBE_MAKE_SAN=$(SAN) scripts/run-tests $(UNIT_BINS) -- tests/*.bats

bench: all $(BUILD)/bench/sched-inproc $(BUILD)/bench/cluster-store-inproc $(BUILD)/bench/datapath-testrun \
    $(BUILD)/bench/tap-inproc $(BUILD)/bench/egress-match-inproc $(BUILD)/bench/datapath-flood \
    $(BUILD)/bench/datapath-drain $(BUILD)/bench/relay-floor
	$(Q)for b in tests/bench/*; do [ -x "$$b" ] && [ -f "$$b" ] && { echo "== $$b"; "$$b" || exit 1; }; done; true

# Each fuzz target over its corpus for FUZZ_RUNS inputs (or FUZZ_SECONDS); what it finds new goes to
# $(BUILD)/fuzz/new-<target>, a crash input to $(BUILD)/fuzz/crash-<target>-*.
fuzz: $(FUZZ_BINS)
	$(Q)for t in $(subst $(comma), ,$(FUZZ)); do [ -x $(BUILD)/fuzz/$$t ] || { echo "make fuzz: no target '$$t' (targets: $(FUZZ_TARGETS))" >&2; exit 2; }; \
	  mkdir -p $(BUILD)/fuzz/new-$$t && echo "== fuzz $$t" && \
	  $(BUILD)/fuzz/$$t $(FUZZ_LIMIT) -max_len=4096 -artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
	  $(BUILD)/fuzz/new-$$t tests/fuzz/corpus/$$t || exit 1; done

# The demo from a fresh machine: dependencies first, then build, then the story (the data-path
# chapter's guest is reached through vmm-relay, a test helper).
demo:
	$(Q)$(INSTALL_DEPS)
	$(Q)$(MAKE) --no-print-directory all $(TEST_HELPERS)
	$(Q)CUBE_BUILD=$(abspath $(BUILD)) scripts/cube-demo

# The tools alone: a node's kernel comes with its image (VMLINUX=path to include one).
release-manifest: all
	$(Q)$(BUILD)/bin/cube-versions manifest --bin-dir $(BUILD)/bin $(if $(VMLINUX),--vmlinux $(VMLINUX),--no-kernel) \
	  --out $(BUILD)/release-manifest.json
	@echo "  wrote $(BUILD)/release-manifest.json"

SYSTEMD_UNITS := $(wildcard scripts/systemd/*.service scripts/systemd/*.socket scripts/systemd/*.timer \
  scripts/systemd/*.target)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system
	for b in $(BINS); do install -m 0755 $$b $(DESTDIR)$(PREFIX)/bin/ && strip --strip-debug $(DESTDIR)$(PREFIX)/bin/$${b##*/}; done
ifeq ($(KEEP_DEBUG),1)
	install -d $(DESTDIR)$(DEBUGDIR)$(PREFIX)/bin
	for b in $(BINS); do t=$${b##*/}; d=$(DESTDIR)$(DEBUGDIR)$(PREFIX)/bin/$$t.debug; \
	  objcopy --only-keep-debug $$b $$d && chmod 0644 $$d && \
	  objcopy --add-gnu-debuglink=$$d $(DESTDIR)$(PREFIX)/bin/$$t; done
endif
	for m in $(MAN_OUT); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	for t in $(TOOLS); do \
	  install -m 0644 completions/bash/$$t $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; \
	  install -m 0644 completions/zsh/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t; \
	  install -m 0644 completions/fish/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; \
	done
	install -m 0755 scripts/cube-sandbox $(DESTDIR)$(PREFIX)/bin/cube-sandbox
	install -d $(DESTDIR)$(PREFIX)/lib/cube/guest
	install -m 0755 scripts/guest/build-initramfs scripts/guest/build-web-image $(DESTDIR)$(PREFIX)/lib/cube/guest/
	install -m 0644 scripts/guest/init $(DESTDIR)$(PREFIX)/lib/cube/guest/
	# The units name the binaries under /usr/local; another PREFIX is written into them.
	for u in $(SYSTEMD_UNITS); do \
	  sed 's|/usr/local/|$(PREFIX)/|g' $$u > $(DESTDIR)$(PREFIX)/lib/systemd/system/$${u##*/} && \
	  chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$${u##*/}; done
	install -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 0644 scripts/logrotate/* $(DESTDIR)$(SYSCONFDIR)/logrotate.d/

FMT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.c' 2>/dev/null)
fmt:
	$(Q)clang-format -i $(FMT_FILES)
fmt-check:
	$(Q)clang-format --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
