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

TEST(Units, Limits) {
  EXPECT_EQ(units::parse_duration_ms("9223372036854775807ms", "t"), INT64_MAX);
  EXPECT_EQ(units::parse_duration_ms("9223372036854775s", "t"), 9'223'372'036'854'775'000);
  EXPECT_THROW(units::parse_duration_ms("9223372036854776s", "t"), Error);
  EXPECT_THROW(units::parse_duration_ms("9223372036854775808ms", "t"), Error);
  EXPECT_EQ(units::parse_size("8388607T", "t"), 8388607ull << 40);
  EXPECT_THROW(units::parse_size("8388608T", "t"), Error);
  EXPECT_EQ(units::parse_duration_ms("0s", "t"), 0);
}

TEST(Units, SizeSpellings) {
  for (const char* k : {"1K", "1k", "1KB", "1KiB", "1Ki"}) EXPECT_EQ(units::parse_size(k, "s"), 1024u) << k;
  EXPECT_EQ(units::parse_size("7B", "s"), 7u);
  for (const char* bad : {"", "K", "-1", "+1", "1.5G", "1 G", "1P", "1KK", "1iB", "0x10", "1g"}) {
    try {
      units::parse_size(bad, "--max-size");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("--max-size"), std::string::npos);
    }
  }
}

TEST(Units, FormatSizeBoundaries) {
  EXPECT_EQ(units::format_size(0), "0");
  EXPECT_EQ(units::format_size(1023), "1023");
  EXPECT_EQ(units::format_size(1024), "1K");
  EXPECT_EQ(units::format_size(10 * 1024), "10K");
  EXPECT_EQ(units::format_size(10 * 1024 - 1), "10K");    // 9.999K rounds to 10K, not "10.0K"
  EXPECT_EQ(units::format_size((1ull << 20) - 1), "1M");  // not "1024K"
  EXPECT_EQ(units::format_size(1ull << 40), "1T");
  EXPECT_EQ(units::format_size(UINT64_MAX), "16E");
}

TEST(Units, IntegersAreDecimalWholeAndInRange) {
  EXPECT_EQ(units::parse_integer("0", 0, 10, "n"), 0);
  EXPECT_EQ(units::parse_integer("1000", 1, 1000, "n"), 1000);
  EXPECT_EQ(units::parse_integer("-5", -5, 5, "n"), -5);
  EXPECT_EQ(units::parse_integer("9223372036854775807", 0, INT64_MAX, "n"), INT64_MAX);
  auto message = [](const char* text, int64_t min, int64_t max) {
    try {
      units::parse_integer(text, min, max, "--max-files");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << text;
      return e.message();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("99999999999999999999", 1, 1000), "--max-files 99999999999999999999 is too large (at most 1000)");
  EXPECT_EQ(message("-99999999999999999999", -1, 1000), "--max-files -99999999999999999999 is too small (at least -1)");
  EXPECT_EQ(message("1001", 1, 1000), "--max-files 1001 is too large (at most 1000)");
  EXPECT_EQ(message("0", 1, 1000), "--max-files 0 is too small (at least 1)");
  EXPECT_EQ(message("-1", 0, 1000), "--max-files -1 is too small (at least 0)");
  for (const char* bad : {"", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "-", "--1", "1k"})
    EXPECT_NE(message(bad, 0, 1000).find("invalid --max-files"), std::string::npos) << bad;
}

TEST(Units, RealsAreFiniteDecimalsInRange) {
  EXPECT_DOUBLE_EQ(units::parse_real("1.5", 0, 100, "x"), 1.5);
  EXPECT_DOUBLE_EQ(units::parse_real("100", 0, 100, "x"), 100);
  for (const char* bad : {"", "nan", "inf", "1e2", "0x1p3", "1.", ".5", " 1", "1x", "-1", "100.1"}) {
    try {
      units::parse_real(bad, 0, 100, "--cpu-util");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
    }
  }
}

TEST(Units, SizeOverflowSaysSo) {
  try {
    units::parse_size("99999999999999999999", "--max-size");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("value too large"), std::string::npos) << e.message();
  }
}
