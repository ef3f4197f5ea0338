# cube-logs: its reader's seccomp allowlist is built with libseccomp at build time, not at run time.
LDLIBS_cube-logs := -lseccomp
# The reader is started once per command, and `--tail 10` is mostly start-up: a static binary skips
# the dynamic linker (about 0.3 ms of 1.2). It links cleanly: nothing in it needs NSS or dlopen.
LDFLAGS_cube-logs := -static

# allowlist.cpp compiled to BPF (confine.hpp says why): a generator links the allowlist with
# libseccomp and writes the programs as a header, which confine.cpp includes.
LOGS_FILTER_GEN := $(BUILD)/gen/cube-logs-filter-gen
$(LOGS_FILTER_GEN): $(BUILD)/obj/tools/cube-logs/gen/filter-gen.o $(BUILD)/obj/tools/cube-logs/allowlist.o $(LIBCUBE)
	$(call msg,LD,$@)
	$(Q)$(CXX) $(LDFLAGS_BASE) $^ -lseccomp $(LDLIBS_BASE) -o $@
$(BUILD)/gen/cube-logs-filter.hpp: $(LOGS_FILTER_GEN)
	$(call msg,GEN,$@)
	$(Q)$< > $@
$(BUILD)/obj/tools/cube-logs/confine.o $(BUILD)/obj/tests/unit/cube-logs/scan_test.o: $(BUILD)/gen/cube-logs-filter.hpp
