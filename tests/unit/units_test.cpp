#include "units.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube;

TEST(Units, Durations) {
  EXPECT_EQ(units::parse_duration_ms("500ms", "t"), 500);
  EXPECT_EQ(units::parse_duration_ms("10s", "t"), 10'000);
  EXPECT_EQ(units::parse_duration_ms("5m", "t"), 300'000);
  EXPECT_EQ(units::parse_duration_ms("1h", "t"), 3'600'000);
  EXPECT_EQ(units::parse_duration_ms("2d", "t"), 172'800'000);
}

TEST(Units, DurationErrorsAreUsage) {
  for (const char* bad : {"", "10", "s", "-1s", "1.5s", "10 s", "10sec", "99999999999999999999s"}) {
    try {
      units::parse_duration_ms(bad, "--interval");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("--interval"), std::string::npos);
    }
  }
}

TEST(Units, Sizes) {
  EXPECT_EQ(units::parse_size("0", "s"), 0u);
  EXPECT_EQ(units::parse_size("512K", "s"), 512u * 1024);
  EXPECT_EQ(units::parse_size("4M", "s"), 4u << 20);
  EXPECT_EQ(units::parse_size("10G", "s"), 10ull << 30);
  EXPECT_EQ(units::parse_size("1GiB", "s"), 1ull << 30);
  EXPECT_EQ(units::parse_size("2Mi", "s"), 2u << 20);
  EXPECT_THROW(units::parse_size("4X", "s"), Error);
  EXPECT_THROW(units::parse_size("99999999999T", "s"), Error);
}

TEST(Units, FormatSize) {
  EXPECT_EQ(units::format_size(100), "100");
  EXPECT_EQ(units::format_size(1536), "1.5K");
  EXPECT_EQ(units::format_size(10ull << 30), "10G");
}
