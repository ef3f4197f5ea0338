// cube::compat: the replica compatibility rule, dimension by dimension and policy by policy.
#include "compat.hpp"

#include <gtest/gtest.h>

using namespace cube;
using compat::Policy;
using compat::Status;
using compat::Versions;

TEST(Compat, NormalisesVersions) {
  EXPECT_EQ(compat::normalise_version("  1.4.0\n"), "1.4.0");
  EXPECT_EQ(compat::normalise_version("unknown"), "");
  EXPECT_EQ(compat::normalise_version(" UnKnown "), "");
  EXPECT_EQ(compat::normalise_version(""), "");
  EXPECT_EQ(compat::normalise_version("unknown-2"), "unknown-2");
}

TEST(Compat, ParsesPoliciesAndStatuses) {
  EXPECT_EQ(compat::parse_policy(""), Policy::strict);
  EXPECT_EQ(compat::parse_policy("guest_only"), Policy::guest_only);
  EXPECT_EQ(compat::parse_policy("Strict_Kernel"), Policy::strict_kernel);
  EXPECT_FALSE(compat::parse_policy("LOOSE"));
  EXPECT_EQ(compat::parse_status(""), Status::unknown);
  EXPECT_EQ(compat::parse_status("stale"), Status::stale);
  EXPECT_EQ(compat::parse_status("ok"), Status::ok);
  EXPECT_EQ(compat::status_name(Status::stale), "STALE");
  EXPECT_EQ(compat::policy_name(Policy::strict_kernel), "STRICT_KERNEL");
}

TEST(Compat, StrictComparesGuestImageAndAgent) {
  Versions bound{"1.4.0", "0.9.1", "6.6@sha256:a"};
  EXPECT_EQ(compat::evaluate(bound, bound, Policy::strict), Status::ok);
  EXPECT_EQ(compat::evaluate(bound, {"1.5.0", "0.9.1", "6.6@sha256:a"}, Policy::strict), Status::stale);
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "0.9.2", "6.6@sha256:a"}, Policy::strict), Status::stale);
  // The kernel is stored, not compared.
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "0.9.1", "6.7@sha256:b"}, Policy::strict), Status::ok);
}

TEST(Compat, GuestOnlyIgnoresTheAgent) {
  Versions bound{"1.4.0", "0.9.1", ""};
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "0.9.2", ""}, Policy::guest_only), Status::ok);
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "", ""}, Policy::guest_only), Status::ok);
  EXPECT_EQ(compat::evaluate(bound, {"1.5.0", "0.9.1", ""}, Policy::guest_only), Status::stale);
}

TEST(Compat, StrictKernelComparesTheKernelToo) {
  Versions bound{"1.4.0", "0.9.1", "6.6@sha256:a"};
  EXPECT_EQ(compat::evaluate(bound, bound, Policy::strict_kernel), Status::ok);
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "0.9.1", "6.7@sha256:b"}, Policy::strict_kernel), Status::stale);
  EXPECT_EQ(compat::evaluate(bound, {"1.4.0", "0.9.1", ""}, Policy::strict_kernel), Status::unknown);
}

TEST(Compat, EmptyIsUnknownButADifferenceWins) {
  EXPECT_EQ(compat::evaluate({"", "0.9.1", ""}, {"1.4.0", "0.9.1", ""}, Policy::strict), Status::unknown);
  EXPECT_EQ(compat::evaluate({"1.4.0", "0.9.1", ""}, {"1.4.0", "", ""}, Policy::strict), Status::unknown);
  // Agent unknown, guest image different: stale.
  EXPECT_EQ(compat::evaluate({"1.4.0", "", ""}, {"1.5.0", "0.9.1", ""}, Policy::strict), Status::stale);
}

TEST(Compat, UnavailableCurrentNeverClearsStale) {
  Versions bound{"1.4.0", "0.9.1", ""};
  EXPECT_EQ(compat::rescan(Status::stale, bound, std::nullopt, Policy::strict), Status::stale);
  EXPECT_EQ(compat::rescan(Status::ok, bound, std::nullopt, Policy::strict), Status::unknown);
  EXPECT_EQ(compat::rescan(Status::stale, bound, Versions{"1.4.0", "0.9.1", ""}, Policy::strict), Status::ok);
}
