# The fuzz targets (tests/fuzz/<target>.cpp) and the sources each one links, built by clang with
# libFuzzer, ASan and UBSan into $(BUILD)/fuzz/<target>. tests/fuzz.bats runs each over its corpus
# (tests/fuzz/corpus/<target>/) in `make check`; `make fuzz FUZZ_RUNS=N` runs them longer.
FUZZ_SRC_dns_message   := tools/cube-egress-rules/dns_message.cpp
FUZZ_SRC_egress_target := tools/cube-egress-rules/targets.cpp common/error.cpp common/fmt_impl.cpp
FUZZ_SRC_egress_policy := $(addprefix tools/cube-egress-rules/,policy.cpp targets.cpp compiled.cpp matcher.cpp \
    secrets.cpp request.cpp) common/error.cpp common/fmt_impl.cpp common/sha256.cpp
FUZZ_LIBS_egress_policy := -lcrypto
FUZZ_SRC_http_head := $(addprefix tools/cube-egress-rules/,proxy_http_head.cpp proxy_http_redact.cpp request.cpp \
    targets.cpp) common/error.cpp common/fmt_impl.cpp common/json_writer.cpp
