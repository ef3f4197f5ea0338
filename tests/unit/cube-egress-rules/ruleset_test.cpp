#include "cube-egress-rules/ruleset.hpp"
#include "cube-egress-rules/kernel_table.hpp"
#include "cube-egress-rules/policy_json.hpp"

#include <gtest/gtest.h>

using namespace cube::egress;
using ruleset::Interval;

namespace {

uint32_t ip(const char* text) { return *parse_ipv4(text); }

CompiledPolicy compiled(const char* json) { return compile(parse_policy(json), {{"198.51.100.53"}}); }

}  // namespace

TEST(EgressRuleset, MergeJoinsOverlappingContainedAndTouchingIntervals) {
  auto m = ruleset::merge({{ip("10.0.0.0"), ip("10.0.0.255")},
                           {ip("10.0.1.0"), ip("10.0.1.255")},  // touches the first
                           {ip("10.0.0.10"), ip("10.0.0.20")},  // inside it
                           {ip("192.0.2.1"), ip("192.0.2.1")},
                           {ip("192.0.2.3"), ip("192.0.2.3")}});  // a gap of one: kept apart
  std::vector<Interval> want = {
      {ip("10.0.0.0"), ip("10.0.1.255")}, {ip("192.0.2.1"), ip("192.0.2.1")}, {ip("192.0.2.3"), ip("192.0.2.3")}};
  EXPECT_EQ(m, want);
  auto all = ruleset::merge({{0, UINT32_MAX}, {ip("10.0.0.0"), ip("10.255.255.255")}, {UINT32_MAX, UINT32_MAX}});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (Interval{0, UINT32_MAX}));
}

TEST(EgressRuleset, ElementsPrintAsAddressPrefixOrRange) {
  EXPECT_EQ(ruleset::element_text({ip("203.0.113.7"), ip("203.0.113.7")}), "203.0.113.7");
  EXPECT_EQ(ruleset::element_text({ip("10.0.0.0"), ip("10.255.255.255")}), "10.0.0.0/8");
  EXPECT_EQ(ruleset::element_text({0, UINT32_MAX}), "0.0.0.0/0");
  EXPECT_EQ(ruleset::element_text({ip("10.0.0.0"), ip("10.0.1.255")}), "10.0.0.0/23");
  EXPECT_EQ(ruleset::element_text({ip("10.0.1.0"), ip("10.0.2.255")}), "10.0.1.0-10.0.2.255");
  EXPECT_EQ(ruleset::intervals(private_ranges()).size(), 5u);
}

TEST(EgressRuleset, KeysAndChainNamesRoundTrip) {
  EXPECT_EQ(ruleset::key(ip("192.168.0.2")), "c0a80002");
  EXPECT_EQ(ruleset::chain_name(ip("192.168.0.2")), "a_c0a80002");
  EXPECT_EQ(ruleset::chain_address("a_c0a80002"), ip("192.168.0.2"));
  for (const char* other : {"forward", "a_c0a8000", "a_C0A80002", "a_c0a80002_allow", "b_c0a80002"})
    EXPECT_FALSE(ruleset::chain_address(other)) << other;
}

TEST(EgressRuleset, CommentsNameTheOwnerAndParseBack) {
  ruleset::Owner o{"sb-1_x", 12, "0123abcd"};
  EXPECT_EQ(ruleset::comment(o), "sandbox=sb-1_x revision=12 names=0123abcd");
  EXPECT_EQ(ruleset::parse_comment(ruleset::comment(o)), o);
  for (const char* bad : {"", "sandbox=a", "sandbox=a revision=x names=1", "hello world", "sandbox=a revision=1"})
    EXPECT_FALSE(ruleset::parse_comment(bad)) << bad;
}

TEST(EgressRuleset, AddressPolicyFollowsTheCompiledPolicy) {
  auto closed = ruleset::address_policy(ip("192.168.0.2"), "sb1", 3,
                                        compiled(R"({"allowInternetAccess": false, "allowOut": ["*.example.com"]})"));
  EXPECT_EQ(closed.deny, (std::vector<Interval>{{0, UINT32_MAX}}));
  EXPECT_EQ(closed.allow, (std::vector<Interval>{{ip("198.51.100.53"), ip("198.51.100.53")}}));  // #526
  EXPECT_TRUE(closed.dns_learning);
  EXPECT_FALSE(closed.l7);
  auto no_names = ruleset::address_policy(ip("192.168.0.2"), "sb1", 3, compiled(R"({"allowInternetAccess": false})"));
  EXPECT_TRUE(no_names.allow.empty());  // #490
  EXPECT_NE(no_names.owner.names, closed.owner.names);
  auto same_names = ruleset::address_policy(
      ip("192.168.0.2"), "sb1", 4,
      compiled(R"({"allowInternetAccess": false, "allowOut": ["*.example.com", "203.0.113.0/24"]})"));
  EXPECT_EQ(same_names.owner.names, closed.owner.names);
  auto open = ruleset::address_policy(ip("192.168.0.2"), "sb1", 1, compiled(R"({"denyOut": ["10.1.0.0/16"]})"));
  EXPECT_EQ(open.deny, ruleset::intervals(private_ranges()));  // 10.1/16 inside 10/8
}

TEST(EgressRuleset, BindEmptiesTheLearnedSetOnlyWhenAsked) {
  auto p = ruleset::address_policy(ip("192.168.0.2"), "sb1", 1, compiled(R"({"allowOut": ["203.0.113.7"]})"));
  std::string keep = ruleset::bind_commands(p, false), flush = ruleset::bind_commands(p, true);
  EXPECT_EQ(keep.find("flush set inet cube_egress a_c0a80002_learned"), std::string::npos);
  EXPECT_NE(flush.find("flush set inet cube_egress a_c0a80002_learned"), std::string::npos);
  EXPECT_NE(keep.find("add element inet cube_egress a_c0a80002_allow { 203.0.113.7 }"), std::string::npos);
  EXPECT_NE(keep.find("comment \"sandbox=sb1 revision=1 names="), std::string::npos);
  EXPECT_NE(keep.find("add element inet cube_egress sandboxes { 192.168.0.2 : goto a_c0a80002 }"), std::string::npos);
}

TEST(EgressRuleset, TerseListingsReadOnlyOurTable) {
  const char* text =
      "table inet other {\n"
      "\tchain a_c0a80009 {\n\t\tcomment \"sandbox=x revision=1 names=00000000\"\n\t}\n"
      "}\n"
      "table inet cube_egress {\n"
      "\tset a_c0a80002_allow {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n"
      "\tmap sandboxes {\n\t\ttype ipv4_addr : verdict\n\t}\n"
      "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
      "\t\tip saddr 192.168.0.0/18 goto sandbox_out\n\t}\n"
      "\tchain a_c0a80002 {\n\t\tcomment \"sandbox=sb1 revision=2 names=0123abcd\"\n"
      "\t\tip daddr { 1.2.3.4, 5.6.7.8 } accept\n\t}\n"
      "}\n";
  Terse t = parse_terse(text);
  EXPECT_EQ(t.chains.size(), 2u);
  EXPECT_EQ(t.chains["forward"].lines,
            (std::vector<std::string>{"type filter hook forward priority filter; policy accept;",
                                      "ip saddr 192.168.0.0/18 goto sandbox_out"}));
  EXPECT_EQ(t.chains["a_c0a80002"].comment, "sandbox=sb1 revision=2 names=0123abcd");
  EXPECT_EQ(t.chains["a_c0a80002"].lines, (std::vector<std::string>{"ip daddr { 1.2.3.4, 5.6.7.8 } accept"}));
  EXPECT_EQ(t.sets, (std::vector<std::string>{"a_c0a80002_allow"}));
  EXPECT_EQ(t.maps, (std::vector<std::string>{"sandboxes"}));
}

TEST(EgressRuleset, EveryAddressChainDecidesInCheckOrder) {
  auto lines = ruleset::address_lines(ip("192.168.0.2"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "ip daddr @a_c0a80002_allow accept");
  EXPECT_EQ(lines[1], "ip daddr @a_c0a80002_learned accept");
  EXPECT_EQ(lines[4], "accept");
}

TEST(EgressRuleset, ASetRedefinedByHandIsDeletedBeforeItIsMadeAgain) {
  auto p = ruleset::address_policy(ip("192.168.0.2"), "sb1", 1, compiled(R"({"allowOut": ["203.0.113.7"]})"));
  std::string bind = ruleset::bind_commands(p, false, {"a_c0a80002_deny"});
  size_t del = bind.find("delete set inet cube_egress a_c0a80002_deny\n");
  ASSERT_NE(del, std::string::npos);
  EXPECT_LT(bind.find("delete chain inet cube_egress a_c0a80002\n"), del);  // no rule refers to it any more
  EXPECT_LT(del, bind.find("add set inet cube_egress a_c0a80002_deny { type ipv4_addr; flags interval; }"));
  std::string unbind = ruleset::unbind_commands(ip("192.168.0.2"), {"a_c0a80002_deny"});
  EXPECT_EQ(unbind.find("add set inet cube_egress a_c0a80002_deny"), std::string::npos);  // it would fail
  EXPECT_NE(unbind.find("delete set inet cube_egress a_c0a80002_deny\n"), std::string::npos);
  EXPECT_NE(unbind.find("add set inet cube_egress a_c0a80002_allow"), std::string::npos);
  EXPECT_EQ(ruleset::address_set_definitions(ip("192.168.0.2")).at("a_c0a80002_learned"), "ipv4_addr timeout");
}
