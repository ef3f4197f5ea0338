# The fuzz targets (tests/fuzz/<target>.cpp) and the sources each one links, built by clang with
# libFuzzer, ASan and UBSan into $(BUILD)/fuzz/<target>. tests/fuzz.bats runs each over its corpus
# (tests/fuzz/corpus/<target>/) in `make check`; `make fuzz FUZZ_RUNS=N` runs them longer.
FUZZ_SRC_dns_message   := tools/cube-egress-rules/dns_message.cpp
FUZZ_SRC_egress_target := tools/cube-egress-rules/targets.cpp common/error.cpp common/fmt_impl.cpp
FUZZ_SRC_egress_policy := $(addprefix tools/cube-egress-rules/,policy.cpp targets.cpp compiled.cpp matcher.cpp \
    secrets.cpp request.cpp) common/error.cpp common/fmt_impl.cpp common/sha256.cpp common/fs.cpp
FUZZ_LIBS_egress_policy := -lcrypto
FUZZ_SRC_logs_scan := $(addprefix tools/cube-logs/,chain.cpp cri.cpp scan.cpp) \
    $(addprefix common/,fs.cpp error.cpp fmt_impl.cpp timeutil.cpp)
FUZZ_SRC_logs_framing := $(addprefix tools/cube-logs/,framer.cpp cri.cpp) common/error.cpp common/fmt_impl.cpp \
    common/timeutil.cpp
# report.cpp also holds ingest, which writes through the cluster store (stores.cpp): linked whole.
FUZZ_SRC_versions_ingest := $(addprefix tools/cube-versions/,report.cpp component.cpp compat_store.cpp stores.cpp) \
    common/compat.cpp common/health.cpp $(BUILD)/gen/migrations.cpp $(BUILD)/gen/pg_migrations.cpp \
    $(addprefix common/,error.cpp fmt_impl.cpp sha256.cpp state.cpp migrations.cpp fs.cpp log.cpp json_writer.cpp \
    timeutil.cpp escape.cpp cluster.cpp cluster_sqlite.cpp cluster_pg.cpp cluster_libpq.cpp dl.cpp cluster_url.cpp \
    context.cpp config.cpp output.cpp units.cpp)
FUZZ_LIBS_versions_ingest := -lsqlite3 -lcrypto
FUZZ_SRC_sched_selector := $(addprefix tools/cube-sched/,selector.cpp quantity.cpp labels.cpp) common/error.cpp \
    common/fmt_impl.cpp
FUZZ_SRC_units := $(addprefix common/,units.cpp error.cpp fmt_impl.cpp timeutil.cpp escape.cpp)
FUZZ_SRC_config := $(addprefix common/,config.cpp error.cpp fmt_impl.cpp fs.cpp log.cpp units.cpp json_writer.cpp \
    timeutil.cpp escape.cpp)
# cube-rootfs: a layer into a temporary ext4 image and back; an OCI layout's JSON; corrupted images.
FUZZ_ROOTFS_CORE := $(addprefix tools/cube-rootfs/,archive_stream.cpp inflater.cpp read_ahead.cpp layer_spool.cpp \
    layer_tree.cpp ext4_writer.cpp image_writes.cpp ext4_lister.cpp dir_blocks.cpp ext2_errors.cpp sizing.cpp) \
    common/error.cpp common/fmt_impl.cpp common/sha256.cpp common/log.cpp common/fs.cpp common/units.cpp common/heap.cpp \
    common/json_writer.cpp common/timeutil.cpp common/escape.cpp
FUZZ_ROOTFS_LIBS := -larchive -lisal -lext2fs -lcom_err -lcrypto -pthread
FUZZ_SRC_rootfs_layer  := $(FUZZ_ROOTFS_CORE)
FUZZ_LIBS_rootfs_layer := $(FUZZ_ROOTFS_LIBS)
FUZZ_SRC_ext4_image    := $(FUZZ_ROOTFS_CORE)
FUZZ_LIBS_ext4_image   := $(FUZZ_ROOTFS_LIBS)
FUZZ_SRC_oci_layout    := $(FUZZ_ROOTFS_CORE) tools/cube-rootfs/image_source.cpp common/ids.cpp
FUZZ_LIBS_oci_layout   := $(FUZZ_ROOTFS_LIBS)
FUZZ_SRC_client_hello  := $(addprefix tools/cube-egress-rules/,client_hello.cpp targets.cpp) common/error.cpp \
    common/fmt_impl.cpp
FUZZ_SRC_http_head := $(addprefix tools/cube-egress-rules/,proxy_http_head.cpp proxy_http_redact.cpp request.cpp \
    targets.cpp) common/error.cpp common/fmt_impl.cpp common/json_writer.cpp
