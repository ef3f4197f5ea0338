#include "cube-tap/ipam.hpp"
#include "cube-tap/next_fit.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace cube;
using namespace cube::tap;

namespace {

// A scan over a set, as the state file's index gives it.
OpenScan scan_of(const std::set<uint32_t>& used) {
  return [&used](uint32_t from) -> UsedScan {
    auto it = std::make_shared<std::set<uint32_t>::const_iterator>(used.lower_bound(from));
    return [&used, it]() -> std::optional<uint32_t> {
      if (*it == used.end()) return std::nullopt;
      return *(*it)++;
    };
  };
}

Exit code_of(const char* cidr) {
  try {
    parse_cidr(cidr, "--cidr");
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

}  // namespace

TEST(TapIpam, CidrLimits) {
  EXPECT_EQ(code_of("192.168.0.0/18"), Exit::ok);
  EXPECT_EQ(code_of("10.0.0.0/8"), Exit::ok);
  EXPECT_EQ(code_of("10.0.0.0/30"), Exit::ok);
  for (const char* bad : {"10.0.0.0/7", "10.0.0.0/31", "10.0.0.0/32", "192.168.0.1/18", "192.168.0.0", "::/64",
                          "192.168.0.0/", "300.1.1.0/24", "192.168.0.0/18 ", "010.0.0.0/8", ""})
    EXPECT_EQ(code_of(bad), Exit::usage) << bad;
}

TEST(TapIpam, ReservedIndexes) {
  Cidr c = parse_cidr("192.168.0.0/18", "--cidr");
  EXPECT_EQ(c.size(), 16384u);
  EXPECT_EQ(c.last_index() - c.first_index() + 1, 16381u);
  EXPECT_EQ(c.gateway(), 0xc0a80001u);
  EXPECT_FALSE(c.index_of(0xc0a80000u));  // network
  EXPECT_FALSE(c.index_of(0xc0a80001u));  // gateway
  EXPECT_FALSE(c.index_of(0xc0a83fffu));  // broadcast
  EXPECT_EQ(c.index_of(0xc0a80002u), 2u);
  EXPECT_FALSE(c.index_of(0xc0a84002u));  // outside
}

TEST(TapIpam, NextFitStartsAtTwoAndWraps) {
  Cidr c = parse_cidr("10.0.0.0/29", "--cidr");  // indexes 2..6 usable
  std::set<uint32_t> used;
  uint32_t cursor = 1;
  std::vector<uint32_t> got;
  for (int i = 0; i < 5; ++i) {
    auto idx = next_index(c, cursor, scan_of(used));
    ASSERT_TRUE(idx);
    got.push_back(*idx);
    used.insert(*idx);
    cursor = *idx;
  }
  EXPECT_EQ(got, (std::vector<uint32_t>{2, 3, 4, 5, 6}));
  EXPECT_FALSE(next_index(c, cursor, scan_of(used))) << "exhausted";
  used.erase(3);
  EXPECT_EQ(next_index(c, cursor, scan_of(used)), 3u) << "wraps to the freed one";
  used.insert(3);
  used.erase(5);
  EXPECT_EQ(next_index(c, 3, scan_of(used)), 5u) << "next after the cursor, not the lowest";
}

TEST(TapIpam, NextFitDoesNotReuseAtOnce) {
  Cidr c = parse_cidr("10.0.0.0/24", "--cidr");
  std::set<uint32_t> used{2, 3};
  EXPECT_EQ(next_index(c, 3, scan_of(used)), 4u);
  used.erase(2);
  EXPECT_EQ(next_index(c, 4, scan_of(used)), 5u);
}

TEST(TapIpam, TapNames) {
  EXPECT_EQ(tap_name(0xc0a80002u), "zc0a80002");
  EXPECT_EQ(tap_name(0xffffffffu).size(), 9u);
  EXPECT_EQ(tap_address("zc0a80002"), 0xc0a80002u);
  for (const char* bad : {"zc0a8000", "zc0a800021", "yc0a80002", "zC0A80002", "zc0a8000g", ""})
    EXPECT_FALSE(tap_address(bad)) << bad;
}

TEST(TapNextFit, SkipsAndRanges) {
  std::set<uint32_t> used{10, 11};
  auto skip = [](uint32_t p) { return p == 12; };
  EXPECT_EQ(next_fit(10, 15, 9, scan_of(used), skip), 13u);
  EXPECT_EQ(next_fit(10, 15, 15, scan_of(used), skip), 13u) << "a cursor at the end wraps";
  std::set<uint32_t> all{10, 11, 13, 14, 15};
  EXPECT_FALSE(next_fit(10, 15, 12, scan_of(all), skip));
}
