// cube::health: the one node-health rule, at its boundaries.
#include "health.hpp"

#include <gtest/gtest.h>

using namespace cube;
using health::Reason;

namespace {
constexpr int64_t k_now = 1'800'000'000'000;
constexpr int64_t k_timeout = health::k_default_timeout_ms;
}  // namespace

TEST(Health, DefaultTimeoutIs40Seconds) { EXPECT_EQ(health::k_default_timeout_ms, 40'000); }

TEST(Health, FreshAndReadyIsHealthy) {
  auto s = health::evaluate(k_now - 1000, true, k_now);
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.reason, Reason::none);
  EXPECT_TRUE(health::evaluate(k_now, true, k_now).healthy);
}

TEST(Health, StaleIsExpiredEvenIfReady) {
  auto s = health::evaluate(k_now - 60'000, true, k_now);
  EXPECT_FALSE(s.healthy);
  EXPECT_EQ(s.reason, Reason::heartbeat_expired);
  EXPECT_EQ(health::evaluate(k_now - 60'000, false, k_now).reason, Reason::heartbeat_expired);
}

TEST(Health, FreshButNotReady) {
  auto s = health::evaluate(k_now - 1000, false, k_now);
  EXPECT_FALSE(s.healthy);
  EXPECT_EQ(s.reason, Reason::reported_not_ready);
}

TEST(Health, BoundaryIsAtMostTheTimeout) {
  EXPECT_TRUE(health::evaluate(k_now - k_timeout, true, k_now).healthy);
  auto over = health::evaluate(k_now - k_timeout - 1, true, k_now);
  EXPECT_FALSE(over.healthy);
  EXPECT_EQ(over.reason, Reason::heartbeat_expired);
  EXPECT_TRUE(health::evaluate(k_now - 5000, true, k_now, 5000).healthy);
  EXPECT_FALSE(health::evaluate(k_now - 5001, true, k_now, 5000).healthy);
}

TEST(Health, NoHeartbeatIsExpired) {
  EXPECT_EQ(health::evaluate(0, true, k_now).reason, Reason::heartbeat_expired);
  EXPECT_EQ(health::evaluate(0, true, 0).reason, Reason::heartbeat_expired);  // even "now" at 0
  EXPECT_EQ(health::evaluate(-5, true, k_now).reason, Reason::heartbeat_expired);
  EXPECT_FALSE(health::Status{}.healthy);
}

TEST(Health, ReasonNames) {
  EXPECT_EQ(health::reason_name(Reason::none), "");
  EXPECT_EQ(health::reason_name(Reason::heartbeat_expired), "HeartbeatExpired");
  EXPECT_EQ(health::reason_name(Reason::reported_not_ready), "ReportedNotReady");
}
