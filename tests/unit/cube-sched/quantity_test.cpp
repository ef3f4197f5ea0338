#include "cube-sched/quantity.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::sched;

namespace {

__int128 nano(const char* text) {
  auto q = parse_quantity(text);
  EXPECT_TRUE(q.has_value()) << text;
  return q ? q->nano : -1;
}

}  // namespace

TEST(SchedQuantity, Suffixes) {
  const __int128 g = 1'000'000'000;
  EXPECT_EQ(nano("8"), 8 * g);
  EXPECT_EQ(nano("8000m"), 8 * g);
  EXPECT_EQ(nano("64Gi"), static_cast<__int128>(64) * (1LL << 30) * g);
  EXPECT_EQ(nano("65536Mi"), nano("64Gi"));
  EXPECT_EQ(nano("1k"), 1000 * g);
  EXPECT_EQ(nano("1.5"), g + g / 2);
  EXPECT_EQ(nano("1e3"), 1000 * g);
  EXPECT_EQ(nano("1E3"), 1000 * g);
  EXPECT_EQ(nano("2E"), static_cast<__int128>(2'000'000'000'000'000'000LL) * g);
  EXPECT_EQ(nano("-2"), -2 * g);
  EXPECT_EQ(nano("+2"), 2 * g);
  EXPECT_EQ(nano("5n"), 5);
  EXPECT_EQ(nano("0.1n"), 1) << "finer than a nano rounds up";
  EXPECT_EQ(nano(".5"), g / 2);
}

TEST(SchedQuantity, Ordering) {
  EXPECT_GT(*parse_quantity("65537Mi"), *parse_quantity("64Gi"));
  EXPECT_EQ(*parse_quantity("8"), *parse_quantity("8000m"));
  EXPECT_LT(*parse_quantity("7999m"), *parse_quantity("8"));
}

TEST(SchedQuantity, Garbage) {
  for (const char* bad : {"", "abc", "8x", "Gi", "1.2.3", "--1", "1 Gi", "1e", "1e1000",
                          "99999999999999999999999999999999999999999", "8GI", "1ee3", "."})
    EXPECT_FALSE(parse_quantity(bad).has_value()) << bad;
}

TEST(SchedQuantity, Millicores) {
  EXPECT_EQ(parse_millicores("16", "--cpu"), 16000);
  EXPECT_EQ(parse_millicores("2000m", "--cpu"), 2000);
  EXPECT_EQ(parse_millicores("1.5", "--cpu"), 1500);
  for (const char* bad : {"0", "-1", "0.0001", "1500u", "x", ""}) {
    try {
      parse_millicores(bad, "--cpu");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage);
      EXPECT_NE(std::string(e.what()).find("--cpu"), std::string::npos);
    }
  }
}
