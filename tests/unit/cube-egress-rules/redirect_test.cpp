#include "cube-egress-rules/redirect.hpp"

#include <gtest/gtest.h>

using namespace cube::egress;

namespace {

redirect::Config sample() { return {0xC0A80001, 8080, 8443, 8053, 0x63756265, 100}; }

size_t count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(EgressRedirect, EachTproxyRuleIsFollowedByADropForTheSameMatch) {
  std::string t = redirect::up_commands(sample());
  EXPECT_NE(t.find("add rule inet cube_egress tproxy_redirect ip saddr @l7_sources tcp dport 443 tproxy ip to "
                   "192.168.0.1:8443 meta mark set 0x63756265 accept\n"
                   "add rule inet cube_egress tproxy_redirect ip saddr @l7_sources tcp dport 443 drop\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("ip saddr @l7_sources tcp dport 80 tproxy ip to 192.168.0.1:8080"), std::string::npos);
  EXPECT_NE(t.find("ip saddr @dns_sources udp dport 53 tproxy ip to 192.168.0.1:8053"), std::string::npos);
  EXPECT_NE(t.find("ip saddr @dns_sources tcp dport 53 tproxy ip to 192.168.0.1:8053"), std::string::npos);
  EXPECT_EQ(count(t, " tproxy ip to "), 4u);
  EXPECT_EQ(count(t, " drop\n"), 4u);
}

TEST(EgressRedirect, UpRefillsTheChainAndCreatesTheSharedSetsAsTheContractDefinesThem) {
  std::string t = redirect::up_commands(sample());
  EXPECT_EQ(t.find("add table inet cube_egress\n"), 0u);
  EXPECT_NE(t.find("add set inet cube_egress l7_sources { type ipv4_addr; }\n"), std::string::npos);
  EXPECT_NE(t.find("add set inet cube_egress dns_sources { type ipv4_addr; }\n"), std::string::npos);
  EXPECT_LT(t.find("flush chain inet cube_egress tproxy_redirect\n"), t.find("add rule"));
  EXPECT_EQ(t.find("delete"), std::string::npos);
}

TEST(EgressRedirect, DownDeletesOnlyTheChain) {
  std::string t = redirect::down_commands();
  EXPECT_NE(t.find("delete chain inet cube_egress tproxy_redirect\n"), std::string::npos);
  EXPECT_EQ(count(t, "delete"), 1u);
  EXPECT_EQ(t.find("delete table"), std::string::npos);
  EXPECT_EQ(t.find("set"), std::string::npos);
}

TEST(EgressRedirect, MarksPrintAsNftPrintsThem) {
  redirect::Config c = sample();
  c.mark = 0x10;
  EXPECT_NE(redirect::up_commands(c).find("meta mark set 0x00000010 accept"), std::string::npos);
}
