#include "cube-egress-rules/decision.hpp"
#include "cube-egress-rules/policy.hpp"
#include "cube-egress-rules/request.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::egress;

namespace {

constexpr const char* k_policy = R"({
  "allowOut": ["203.0.113.0/24", "*.pypi.org", "10.9.0.0/16"], "denyOut": ["0.0.0.0/0", "198.51.100.0/24"],
  "dnsServers": ["192.0.2.53"],
  "rules": [
    {"name": "gh", "match": {"sni": "api.github.com", "host": "api.github.com", "path": "/repos/*"},
     "action": {"allow": true, "audit": "full", "inject": [{"header": "Authorization", "secret": "tok"}]}},
    {"name": "gh-any", "match": {"sni": "*.github.com"}, "action": {"allow": true,
     "inject": [{"header": "X-A", "secret": "tok2"}]}},
    {"name": "plain", "match": {"host": "example.com"}, "action": {"allow": true,
     "inject": [{"header": "X-B", "secret": "tok3"}]}},
    {"name": "block", "match": {"host": "192.0.2.0/24"}, "action": {"allow": false}}
  ]})";

class EgressDecision : public ::testing::Test {
 protected:
  CompiledPolicy c = compile(parse_policy(k_policy));
  Decision of(std::string_view line) { return decide(c, parse_request_line(line)); }
};

}  // namespace

TEST_F(EgressDecision, L7RulesDecideFirstMatchWins) {
  Decision d =
      of(R"({"scheme":"https","sni":"api.github.com","host":"api.github.com","path":"/repos/a","dst":"140.82.1.1"})");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.reason, Reason::rule_allow);
  EXPECT_EQ(c.matcher.rule(*d.rule).name, "gh");
  EXPECT_TRUE(d.inject);
  EXPECT_EQ(d.audit, Audit::full);
  d = of(
      R"({"scheme":"https","sni":"API.GitHub.com.","host":"api.github.com:443","path":"/other","dst":"140.82.1.1"})");
  EXPECT_EQ(c.matcher.rule(*d.rule).name, "gh-any");
  EXPECT_EQ(d.audit, Audit::metadata);
}

TEST_F(EgressDecision, NoRuleMatchIsADenyAndASecurityEvent) {
  // The Host names an L7 target (api.github.com) but the SNI-only rules need an SNI.
  Decision d = of(R"({"scheme":"http","host":"api.github.com","path":"/","dst":"140.82.1.1"})");
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, Reason::no_rule_match);
  EXPECT_TRUE(d.security_event);
  EXPECT_FALSE(d.rule);
}

TEST_F(EgressDecision, AnL7AddressMakesAnL7Request) {
  Decision d = of(R"({"scheme":"https","sni":"unrelated.org","dst":"192.0.2.7"})");
  EXPECT_EQ(d.reason, Reason::no_rule_match);  // the "block" rule's host is a CIDR: it never equals a name
}

TEST_F(EgressDecision, OtherRequestsFollowTheAddressPolicy) {
  auto by = [&](std::string_view line) {
    Decision d = of(line);
    EXPECT_EQ(d.reason, Reason::not_l7_target);
    return std::string(d.allow ? "allow " : "deny ") + by_text(c, d);
  };
  EXPECT_EQ(by(R"({"scheme":"https","sni":"files.pypi.org","dst":"151.101.1.1"})"),
            "allow allow_out_domain:*.pypi.org");
  EXPECT_EQ(by(R"({"scheme":"https","sni":"pypi.org","dst":"151.101.1.1"})"), "deny deny_out:0.0.0.0/0");
  EXPECT_EQ(by(R"({"scheme":"https","sni":"x.org","dst":"203.0.113.9"})"), "allow allow_out:203.0.113.0/24");
  EXPECT_EQ(by(R"({"scheme":"https","sni":"x.org","dst":"198.51.100.1"})"), "deny deny_out:198.51.100.0/24");
  EXPECT_EQ(by(R"({"scheme":"https","sni":"x.org","dst":"10.1.1.1"})"), "deny private_range:10.0.0.0/8");
  EXPECT_EQ(by(R"({"scheme":"https","sni":"x.org","dst":"10.9.1.1"})"), "allow allow_out:10.9.0.0/16");
}

TEST(EgressDecisionAlone, InternetFlagAndResolvers) {
  CompiledPolicy open = compile(parse_policy(R"({"rules": []})"));
  EXPECT_EQ(by_text(open, decide(open, parse_request_line(R"({"dst":"8.8.8.8"})"))), "internet_allowed");
  EXPECT_EQ(by_text(open, decide(open, parse_request_line(R"({"sni":"x.org"})"))), "no_dst");
  CompiledPolicy closed = compile(parse_policy(R"({"allowInternetAccess": false, "allowOut": ["a.org"],
                                                  "dnsServers": ["192.0.2.53"]})"));
  EXPECT_EQ(by_text(closed, decide(closed, parse_request_line(R"({"dst":"8.8.8.8"})"))), "internet_disabled");
  EXPECT_EQ(by_text(closed, decide(closed, parse_request_line(R"({"dst":"192.0.2.53"})"))), "dns_server:192.0.2.53");
  CompiledPolicy no_names = compile(parse_policy(R"({"allowInternetAccess": false, "dnsServers": ["192.0.2.53"]})"));
  EXPECT_EQ(by_text(no_names, decide(no_names, parse_request_line(R"({"dst":"192.0.2.53"})"))), "internet_disabled");
}

TEST_F(EgressDecision, InjectionGates) {
  Decision d = of(R"({"scheme":"http","host":"example.com","path":"/","dst":"93.184.216.34"})");
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.reason, Reason::g1_not_https);
  EXPECT_FALSE(d.inject);
  EXPECT_FALSE(d.security_event);
  d = of(R"({"scheme":"https","host":"example.com","path":"/","dst":"93.184.216.34"})");
  EXPECT_EQ(d.reason, Reason::g4_missing_sni_or_host);
  EXPECT_TRUE(d.allow);
  EXPECT_TRUE(d.security_event);
  d = of(R"({"scheme":"https","sni":"gist.github.com","host":"evil.org","path":"/","dst":"140.82.1.1"})");
  EXPECT_EQ(c.matcher.rule(*d.rule).name, "gh-any");
  EXPECT_EQ(d.reason, Reason::g4_host_sni_mismatch);
  EXPECT_FALSE(d.inject);
  d = of(R"({"scheme":"https","sni":"Gist.GitHub.com","host":"gist.github.com:443","path":"/","dst":"140.82.1.1"})");
  EXPECT_EQ(d.reason, Reason::rule_allow);
  EXPECT_TRUE(d.inject);
}

TEST(EgressRequest, PathsAreNormalisedAsTheProxyWill) {
  EXPECT_EQ(normalize_path("/a/b?x=1#f"), "/a/b");
  EXPECT_EQ(normalize_path("/public/../admin"), "/admin");
  EXPECT_EQ(normalize_path("/public/%2e%2e/admin"), "/admin");
  EXPECT_EQ(normalize_path("//a///b/./c/"), "/a/b/c/");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("/a/.."), "/");
  EXPECT_EQ(normalize_path("/%41"), "/A");
  EXPECT_FALSE(normalize_path("/.."));
  EXPECT_FALSE(normalize_path("/a%00b"));
  EXPECT_FALSE(normalize_path("/a%zz"));
  EXPECT_FALSE(normalize_path("/a%4"));
  EXPECT_FALSE(normalize_path("a/b"));
  EXPECT_EQ(normalize_host("API.example.com:8443"), "api.example.com");
  EXPECT_EQ(normalize_host("[::1]:443"), "[::1]");
  EXPECT_EQ(normalize_host(""), std::nullopt);
}

TEST(EgressRequest, BadLinesNameTheField) {
  for (const char* bad : {R"({"dst":"1.2.3"})", R"({"sni":5})", R"({"path":"/.."})", R"({"nope":1})", "[]", "{"})
    EXPECT_THROW(parse_request_line(bad), Error) << bad;
}
