#include "cube-egress-rules/proxy_plan.hpp"
#include "cube-egress-rules/policy.hpp"
#include "ipv4.hpp"

#include <gtest/gtest.h>

using namespace cube;
using namespace cube::egress;

namespace {

constexpr const char* k_policy = R"({
  "allowOut": ["*.pypi.org"], "denyOut": ["0.0.0.0/0"],
  "rules": [
    {"name": "pinned", "match": {"sni": "pinned.example.com"}, "action": {"allow": true}},
    {"name": "blocked", "match": {"sni": "*.blocked.example"}, "action": {"allow": false, "audit": "full"}},
    {"name": "http-only", "match": {"sni": "plain.example.com", "scheme": "http"}, "action": {"allow": false}},
    {"name": "plain-later", "match": {"sni": "plain.example.com"}, "action": {"allow": true}},
    {"name": "paths", "match": {"sni": "api.example.com", "path": "/v1/*"}, "action": {"allow": true}},
    {"name": "api-rest", "match": {"sni": "api.example.com"}, "action": {"allow": false}},
    {"name": "by-addr", "match": {"host": "192.0.2.7"}, "action": {"allow": true}}
  ]})";

uint32_t ip(const char* text) { return *ipv4::parse_address(text); }

class ProxyPlan : public ::testing::Test {
 protected:
  CompiledPolicy c = compile(parse_policy(k_policy));
  TlsPlan plan(std::optional<std::string> sni, const char* dst = "203.0.113.9") { return plan_tls(c, sni, ip(dst)); }
  std::string rule(const TlsPlan& p) { return p.decision.rule ? c.matcher.rule(*p.decision.rule).name : ""; }
};

}  // namespace

TEST_F(ProxyPlan, SniOnlyRulesRelayOrRefuseWithoutDecrypting) {
  TlsPlan p = plan("pinned.example.com");
  EXPECT_EQ(p.action, TlsAction::relay);
  EXPECT_EQ(rule(p), "pinned");
  EXPECT_TRUE(p.by_name);
  p = plan("x.blocked.example");
  EXPECT_EQ(p.action, TlsAction::refuse);
  EXPECT_EQ(p.decision.reason, Reason::rule_deny);
  EXPECT_EQ(p.decision.audit, Audit::full);
  // A rule for http only cannot match a TLS connection: the next one decides.
  EXPECT_EQ(rule(plan("plain.example.com")), "plain-later");
}

TEST_F(ProxyPlan, ARuleThatNeedsHttpFieldsMeansDecrypt) {
  EXPECT_EQ(plan("api.example.com").action, TlsAction::decrypt);
  // An L7 address without an SNI: only the Host inside can match its rule.
  EXPECT_EQ(plan(std::nullopt, "192.0.2.7").action, TlsAction::decrypt);
}

TEST_F(ProxyPlan, OtherNamesGetTheAddressPolicy) {
  TlsPlan p = plan("files.pypi.org");
  EXPECT_EQ(p.action, TlsAction::relay);
  EXPECT_EQ(p.decision.reason, Reason::not_l7_target);
  EXPECT_TRUE(p.by_name);
  p = plan("elsewhere.example.org");
  EXPECT_EQ(p.action, TlsAction::refuse);
  EXPECT_EQ(p.decision.reason, Reason::not_l7_target);
  EXPECT_FALSE(plan(std::nullopt).by_name);
}

TEST_F(ProxyPlan, NoRuleThatCanMatchIsADenyAndASecurityEvent) {
  CompiledPolicy only = compile(parse_policy(R"({"rules": [
    {"name": "h", "match": {"sni": "a.example.com", "scheme": "http"}, "action": {"allow": true}}]})"));
  TlsPlan p = plan_tls(only, std::string("a.example.com"), ip("203.0.113.1"));
  EXPECT_EQ(p.action, TlsAction::refuse);
  EXPECT_EQ(p.decision.reason, Reason::no_rule_match);
  EXPECT_TRUE(p.decision.security_event);
}
