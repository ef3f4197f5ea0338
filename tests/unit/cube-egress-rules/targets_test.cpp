#include "cube-egress-rules/targets.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::egress;

namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    return e.message();
  }
  return "no error";
}

}  // namespace

TEST(EgressTargets, Ipv4IsStrictDottedQuad) {
  EXPECT_EQ(parse_ipv4("203.0.113.7"), 0xCB007107u);
  EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xFFFFFFFFu);
  for (const char* bad :
       {"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "", "a.b.c.d", "1..2.3", "1.2.3.4/"})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
}

TEST(EgressTargets, CidrIsMasked) {
  auto c = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->text(), "10.0.0.0/8");
  EXPECT_EQ(parse_cidr("1.2.3.4")->text(), "1.2.3.4");
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->prefix, 0);
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(0xFFFFFFFF));
  for (const char* bad : {"1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/-1", "1.2.3/8"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

TEST(EgressTargets, NamesFollowTheLabelRules) {
  auto p = parse_name_pattern("*.Example.COM.");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->wildcard);
  EXPECT_EQ(p->name, "example.com");
  EXPECT_EQ(p->text(), "*.example.com");
  EXPECT_TRUE(parse_name_pattern("a-b.c0"));
  EXPECT_TRUE(parse_name_pattern(std::string(63, 'a') + ".com"));
  for (std::string bad : {std::string("-a.com"), std::string("a-.com"), std::string("a..com"), std::string("*.*.com"),
                          std::string("a_b.com"), std::string(64, 'a') + ".com", std::string("*"), std::string("*."),
                          std::string("a.com.."), std::string("ex ample.com")})
    EXPECT_FALSE(parse_name_pattern(bad)) << bad;
  std::string long_name;
  for (int i = 0; i < 60; ++i) long_name += "abcd.";
  long_name += "com";  // 303 bytes
  EXPECT_FALSE(parse_name_pattern(long_name));
}

TEST(EgressTargets, WildcardsMatchSubdomainsNotTheApex) {
  NamePattern w{"example.com", true};
  EXPECT_TRUE(w.matches("a.example.com"));
  EXPECT_TRUE(w.matches("a.b.example.com"));
  EXPECT_FALSE(w.matches("example.com"));
  EXPECT_FALSE(w.matches("badexample.com"));
  NamePattern e{"example.com", false};
  EXPECT_TRUE(e.matches("example.com"));
  EXPECT_FALSE(e.matches("a.example.com"));
}

TEST(EgressTargets, AllowOutSplitsWithUpstreamMessages) {
  EXPECT_EQ(parse_allow_target(" 203.0.113.0/24 ", "f").kind, Target::Kind::address);
  EXPECT_EQ(parse_allow_target("pypi.org", "f").name.name, "pypi.org");
  EXPECT_EQ(error_of([] { parse_allow_target("  ", "allowOut[0]"); }), "allowOut[0]: empty target");
  EXPECT_NE(error_of([] {
              parse_allow_target("1.2.3.4/40", "allowOut[1]");
            }).find("allowOut[1]: invalid allow_out CIDR target '1.2.3.4/40'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_allow_target("2001:db8::1", "f"); }).find("unsupported allow_out IP target"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_allow_target("999.1.1.1", "f"); }).find("unsupported allow_out IP target"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_allow_target("bad_name.com", "f"); }).find("invalid allow_out domain target"),
            std::string::npos);
}

TEST(EgressTargets, HostTargetsDropPortsAndIpv6) {
  auto t = parse_host_target("Api.Example.com:8443", "h");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name.name, "api.example.com");
  EXPECT_EQ(parse_host_target("10.1.0.0/16", "h")->cidr.text(), "10.1.0.0/16");
  EXPECT_EQ(parse_host_target("1.2.3.4:80", "h")->cidr.text(), "1.2.3.4");
  EXPECT_FALSE(parse_host_target("[::1]:443", "h"));
  EXPECT_FALSE(parse_host_target("2001:db8::1", "h"));
  EXPECT_FALSE(parse_host_target("1.2.3.999", "h"));
  EXPECT_NE(error_of([] { parse_host_target("a..b", "h"); }).find("invalid host target"), std::string::npos);
  EXPECT_NE(error_of([] { parse_sni_target("1.2.3.4", "s"); }).find("never an address"), std::string::npos);
  EXPECT_EQ(host_pattern_text(" API.example.com.:443 "), "api.example.com");
}

TEST(EgressTargets, ErrorsQuoteAtMost80Bytes) {
  std::string msg = error_of([] { parse_allow_target(std::string(300, '_'), "f"); });
  EXPECT_LT(msg.size(), 250u);
}
