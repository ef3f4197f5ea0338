#include "cube-logs/stamp_clock.hpp"

#include <gtest/gtest.h>

#include <vector>

using cube::logs::StampClock;

TEST(StampClock, HoldsTheTimeWhenTheClockStepsBackAndCountsIt) {
  std::vector<int64_t> times = {5'000'000'000, 6'000'000'000, 2'000'000'000, 3'000'000'000, 7'000'000'000};
  size_t i = 0;
  StampClock clock(0, [&] { return times[i++]; });
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:05.000000000Z");
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:06.000000000Z");
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:06.000000000Z");
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:06.000000000Z");
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:07.000000000Z");
  EXPECT_EQ(clock.clamped(), 2u);
}

TEST(StampClock, StartsNoEarlierThanTheFilesNewestRecord) {
  StampClock clock(9'000'000'000, [] { return int64_t{1'000'000'000}; });
  EXPECT_EQ(clock.stamp(), "1970-01-01T00:00:09.000000000Z");
  EXPECT_EQ(clock.clamped(), 1u);
}
