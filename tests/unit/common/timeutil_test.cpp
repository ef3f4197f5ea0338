// cube::time: RFC 3339 formatting and parsing, including before 1970 and at the edges.
#include "timeutil.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace cube;

namespace {

constexpr int64_t k_ns = 1'000'000'000;

// parse_rfc3339 as an optional, for compact assertions.
std::optional<int64_t> parse(std::string_view s) {
  int64_t ns = 0;
  if (!time::parse_rfc3339(s, ns)) return std::nullopt;
  return ns;
}

}  // namespace

TEST(Time, FormatsTheEpoch) {
  EXPECT_EQ(time::rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(time::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(time::rfc3339_nano(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(Time, FormatsKnownInstants) {
  EXPECT_EQ(time::rfc3339(1'700'000'000'123), "2023-11-14T22:13:20Z");
  EXPECT_EQ(time::rfc3339_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(time::rfc3339_ms(1'700'000'000'007), "2023-11-14T22:13:20.007Z");
  EXPECT_EQ(time::rfc3339_nano(1'700'000'000'000'000'001), "2023-11-14T22:13:20.000000001Z");
  EXPECT_EQ(time::rfc3339(951'782'400'000), "2000-02-29T00:00:00Z");  // leap day
}

TEST(Time, FormatsBefore1970) {
  EXPECT_EQ(time::rfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(time::rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(time::rfc3339_ms(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(time::rfc3339_ms(-1001), "1969-12-31T23:59:58.999Z");
  EXPECT_EQ(time::rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(time::rfc3339(-86'400'000), "1969-12-31T00:00:00Z");
}

TEST(Time, NowIsNow) {
  int64_t ms = time::now_ms(), ns = time::now_ns();
  EXPECT_GT(ms, 1'600'000'000'000);  // after 2020
  EXPECT_LE(ms, ns / 1'000'000);
  int64_t back = 0;
  ASSERT_TRUE(time::parse_rfc3339(time::rfc3339_nano(ns), back));
  EXPECT_EQ(back, ns);
}

TEST(Time, ParseRoundTripsWhatWeFormat) {
  for (int64_t ns :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'700'000'000'123'456'789}, int64_t{-2'208'988'800} * k_ns,
        int64_t{951'782'400} * k_ns + 999'999'999, int64_t{4'102'444'800} * k_ns}) {
    EXPECT_EQ(parse(time::rfc3339_nano(ns)), ns) << time::rfc3339_nano(ns);
    int64_t ms = ns / 1'000'000 - (ns % 1'000'000 < 0);
    EXPECT_EQ(parse(time::rfc3339_ms(ms)), ms * 1'000'000) << time::rfc3339_ms(ms);
  }
}

TEST(Time, ParseOffsetsAndFractions) {
  int64_t base = int64_t{1'700'000'000} * k_ns;  // 2023-11-14T22:13:20Z
  EXPECT_EQ(parse("2023-11-14T22:13:20Z"), base);
  EXPECT_EQ(parse("2023-11-14t22:13:20z"), base);
  EXPECT_EQ(parse("2023-11-14 22:13:20Z"), base);
  EXPECT_EQ(parse("2023-11-15T00:13:20+02:00"), base);
  EXPECT_EQ(parse("2023-11-14T16:43:20-05:30"), base);
  EXPECT_EQ(parse("2023-11-14T22:13:20+00:00"), base);
  EXPECT_EQ(parse("2023-11-14T22:13:20-00:00"), base);
  EXPECT_EQ(parse("2023-11-14T22:13:20.5Z"), base + 500'000'000);
  EXPECT_EQ(parse("2023-11-14T22:13:20.000000001Z"), base + 1);
  EXPECT_EQ(parse("2023-11-14T22:13:20.123456789+01:00"), base - 3600 * k_ns + 123'456'789);
  EXPECT_EQ(parse("2024-02-29T00:00:00Z"), int64_t{1'709'164'800} * k_ns);
  EXPECT_EQ(parse("2000-02-29T00:00:00Z"), int64_t{951'782'400} * k_ns);
  EXPECT_EQ(parse("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(parse("1970-01-01T00:00:00Z"), 0);
}

TEST(Time, ParseRejectsGarbage) {
  for (std::string_view bad : {"",
                               "garbage",
                               "2023",
                               "2023-11-14",
                               "2023-11-14T22:13Z",
                               "2023-11-14T22:13:20",  // no zone
                               "2023-11-14T22:13:20.Z",
                               "2023-11-14T22:13:20.1234567890Z",
                               "2023-11-14T22:13:20+0200",
                               "2023-11-14T22:13:20+02",
                               "2023-11-14T22:13:20+02:0",
                               "2023-11-14T22:13:20ZZ",
                               "2023-11-14T22:13:20Z ",
                               " 2023-11-14T22:13:20Z",
                               "2023-11-14X22:13:20Z",
                               "2023/11/14T22:13:20Z",
                               "2023-1-14T22:13:20Z",
                               "2023-00-14T22:13:20Z",
                               "2023-13-14T22:13:20Z",
                               "2023-11-00T22:13:20Z",
                               "2023-11-32T22:13:20Z",
                               "2023-11-14T24:00:00Z",
                               "2023-11-14T22:60:00Z",
                               "2023-11-14T22:13:61Z",
                               "2023-11-14T22:13:20.5",
                               "+2023-11-14T22:13:20Z",
                               "2023-11-14T22:13:2xZ",
                               "２０２３-11-14T22:13:20Z"})
    EXPECT_EQ(parse(bad), std::nullopt) << bad;
}

TEST(Time, ParseRejectsDatesThatDoNotExist) {
  for (std::string_view bad : {"2023-02-29T00:00:00Z", "2023-02-30T00:00:00Z", "2023-04-31T00:00:00Z",
                               "1900-02-29T00:00:00Z", "2023-06-31T12:00:00Z", "2023-11-31T00:00:00Z"})
    EXPECT_EQ(parse(bad), std::nullopt) << bad;
  EXPECT_NE(parse("2023-01-31T00:00:00Z"), std::nullopt);
  EXPECT_NE(parse("2023-12-31T00:00:00Z"), std::nullopt);
}

TEST(Time, ParseRejectsImpossibleOffsets) {
  EXPECT_EQ(parse("2023-11-14T22:13:20+24:00"), std::nullopt);
  EXPECT_EQ(parse("2023-11-14T22:13:20+02:60"), std::nullopt);
  EXPECT_EQ(parse("2023-11-14T22:13:20+99:99"), std::nullopt);
  EXPECT_NE(parse("2023-11-14T22:13:20+23:59"), std::nullopt);
}

TEST(Time, ParseRejectsInstantsOutsideTheNanosecondRange) {
  // int64 nanoseconds reach 1677-09-21 to 2262-04-11; beyond that the result would overflow.
  EXPECT_EQ(parse("9999-12-31T23:59:59Z"), std::nullopt);
  EXPECT_EQ(parse("2263-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse("0001-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse("2262-04-11T23:47:16.854775808Z"), std::nullopt);
  EXPECT_NE(parse("1677-09-21T00:12:44Z"), std::nullopt);
}

TEST(Time, Age) {
  EXPECT_EQ(time::age(-5), "0s");
  EXPECT_EQ(time::age(0), "0s");
  EXPECT_EQ(time::age(45'000), "45s");
  EXPECT_EQ(time::age(119'999), "119s");
  EXPECT_EQ(time::age(120'000), "2m");
  EXPECT_EQ(time::age(3 * 3'600'000), "3h");
  EXPECT_EQ(time::age(4 * 86'400'000), "4d");
}

TEST(Time, JitterStaysInTheHalfOpenRange) {
  int64_t lo = INT64_MAX, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    int64_t d = time::jittered_ms(40'000);
    ASSERT_GE(d, 40'000);
    ASSERT_LT(d, 60'000);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // Spread over the range, not stuck at one end (2000 draws: missing a 10% band has odds 0.9^2000).
  EXPECT_LT(lo, 42'000);
  EXPECT_GT(hi, 58'000);
  EXPECT_EQ(time::jittered_ms(1), 1);
  for (int i = 0; i < 50; ++i) EXPECT_LT(time::jittered_ms(3), 5);  // 3 or 4, under 4.5
  EXPECT_EQ(time::jittered_ms(0), 0);
  EXPECT_EQ(time::jittered_ms(-5), 0);
}

TEST(Time, SleepSleepsAtLeastAsLongAsAsked) {
  int64_t start = time::now_ns();
  time::sleep_ms(20);
  EXPECT_GE(time::now_ns() - start, 20'000'000);  // a lower bound only: never an upper one
  time::sleep_ms(0);
  time::sleep_ms(-1);
}

TEST(Time, SteadyClocksAreOneClockInTwoUnits) {
  int64_t us0 = time::steady_us();
  int64_t ms = time::steady_ms();
  time::sleep_ms(5);
  int64_t us1 = time::steady_us();
  EXPECT_GE(ms, us0 / 1000);  // read after us0, in whole milliseconds of the same clock
  EXPECT_LE(ms, us1 / 1000);
  EXPECT_GE(us1 - us0, 5'000);  // a lower bound only: never an upper one
}
