// cube::rootfs sizing: upstream's size model, --size exact and a fixed size.
#include "cube-rootfs/sizing.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube::rootfs;

namespace {

constexpr uint64_t k_mib = 1 << 20;

}  // namespace

// The examples of doc/cube-rootfs.md, "Sizing".
TEST(RootfsSizing, UpstreamModelExamples) {
  ModelKnobs k;
  TreeStats st;
  EXPECT_EQ(model_bytes(st, k), 1024 * k_mib);
  st.data_bytes = 1024 * k_mib;
  st.non_dirs = 10000;
  EXPECT_EQ(model_bytes(st, k), 1536 * k_mib);
  st.data_bytes = 3 * 1024 * k_mib + 5;
  st.non_dirs = 200000;
  EXPECT_EQ(model_bytes(st, k), 3840 * k_mib);
}

TEST(RootfsSizing, FixedSizeTooSmallIsRefused) {
  TreeStats st;
  st.content_blocks = 10000;  // 40 MiB
  st.inodes = 10;
  SizeRequest r;
  r.mode = SizeMode::fixed;
  r.fixed_bytes = 16 * k_mib;
  EXPECT_THROW(plan_size(st, r, {}), cube::Error);
  r.fixed_bytes = 128 * k_mib;
  EXPECT_NO_THROW(plan_size(st, r, {}));
}

TEST(RootfsSizing, ExactLeavesTheHeadroom) {
  TreeStats st;
  st.content_blocks = 5000;
  st.inodes = 100;
  SizeRequest r;
  r.mode = SizeMode::exact;
  FsParams p = plan_size(st, r, {});
  r.headroom = 64 * k_mib;
  FsParams q = plan_size(st, r, {});
  EXPECT_GE(capacity_blocks(p.bytes, p.inodes, p.journal_blocks), needed_blocks(st));
  EXPECT_GE(q.bytes, p.bytes + 64 * k_mib);
}

// Holes cost nothing to declare: 1 GiB of them is free, beyond that they need 64 times as much data.
TEST(RootfsSizing, HolesAreBoundedByTheData) {
  TreeStats st;
  st.hole_bytes = 100ULL << 30;
  st.content_bytes = st.hole_bytes + 512;
  st.content_blocks = 1;
  EXPECT_THROW(plan_size(st, {}, {}), cube::Error);
  st.hole_bytes = 1ULL << 30;
  st.content_bytes = st.hole_bytes + 512;
  EXPECT_NO_THROW(plan_size(st, {}, {}));
  st.hole_bytes = 64ULL << 30;
  st.content_bytes = st.hole_bytes + (1ULL << 30);
  st.content_blocks = 1 << 18;
  EXPECT_NO_THROW(plan_size(st, {SizeMode::exact, 0, 0}, {}));
}

TEST(RootfsSizing, AbsurdSizesAreRefusedBeforeTheArithmetic) {
  TreeStats st;
  EXPECT_THROW(plan_size(st, {SizeMode::exact, 0, ~0ULL}, {}), cube::Error);
  EXPECT_THROW(plan_size(st, {SizeMode::exact, 0, 17ULL << 40}, {}), cube::Error);
  EXPECT_THROW(plan_size(st, {SizeMode::fixed, ~0ULL, 0}, {}), cube::Error);
  EXPECT_NO_THROW(plan_size(st, {SizeMode::exact, 0, 1ULL << 30}, {}));
}
