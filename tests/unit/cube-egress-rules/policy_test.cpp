#include "cube-egress-rules/policy.hpp"
#include "cube-egress-rules/compiled.hpp"
#include "cube-egress-rules/policy_json.hpp"
#include "cube-egress-rules/secrets.hpp"
#include "error.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace cube;
using namespace cube::egress;

namespace {

constexpr const char* k_secret = "s3cr3t-PLANTED-7f1e";

std::string error_of(std::string_view text) {
  try {
    compile(parse_policy(text));
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage) << e.message();
    EXPECT_EQ(e.message().find(k_secret), std::string::npos) << e.message();
    return e.message();
  }
  return "no error";
}

std::string rule_policy(std::string_view rule) { return fmt::format(R"({{"rules": [{}]}})", rule); }

}  // namespace

TEST(EgressPolicy, ParsesTheCubeNetworkConfigShape) {
  Policy p = parse_policy(fmt::format(R"({{"allowInternetAccess": false, "allowOut": ["1.2.3.4"], "rules": [
    {{"name": "a", "match": {{"sni": "x.com", "method": ["get"], "path": "/v1/*", "scheme": "HTTPS"}},
     "action": {{"allow": true, "audit": "full", "inject": [{{"header": "Authorization", "secret": "{}"}}]}}}},
    {{"name": "b"}}]}})",
                                      k_secret));
  EXPECT_EQ(p.allow_internet_access, false);
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_TRUE(p.rules[0].allow);
  EXPECT_EQ(p.rules[0].inject[0].secret_ref, secret_ref(k_secret));
  EXPECT_EQ(p.rules[0].inject[0].secret_ref.size(), 11u);
  EXPECT_FALSE(p.rules[1].allow);  // no action: deny
}

TEST(EgressPolicy, AcceptsTheWrappedAndLegacyKeys) {
  EXPECT_EQ(parse_policy(R"({"cubevsContext": {"allowOut": ["1.1.1.1"]}})").allow_out.size(), 1u);
  Policy both = parse_policy(R"({"cubevsContext": {"allowOut": []}, "cubeNetworkConfig": {"allowOut": ["1.1.1.1"]}})");
  EXPECT_EQ(both.allow_out.size(), 1u);  // the new key wins
}

TEST(EgressPolicy, ErrorsNameTheRuleAndTheField) {
  EXPECT_EQ(error_of("[]"), "policy: expected an object");
  EXPECT_NE(error_of(R"({"rules": {}})").find("rules: expected an array"), std::string::npos);
  EXPECT_NE(error_of(R"({"rules": [1]})").find("rules[0]: expected an object"), std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"match": {}})")).find("rules[0].name: missing or empty"), std::string::npos);
  EXPECT_NE(error_of(R"({"rules": [{"name": "a"}, {"name": "a"}]})").find("rules[1] \"a\": name: the same as rules[0]"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": []})")).find("rules[0] \"r\": match: expected an object"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"hots": "x"}})")).find("unknown key 'hots'"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": []})")).find("rules[0] \"r\": action: expected an object"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": {"allow": "yes"}})")).find("action.allow"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "audit": "all"}})")).find("action.audit"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "inject": {}}})")).find("action.inject"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "inject": [1]}})"))
                .find("action.inject[0]: expected an object"),
            std::string::npos);
  EXPECT_NE(
      error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "inject": [{"header": "", "secret": "x"}]}})"))
          .find("inject[0].header: missing or empty"),
      std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "inject": [{"header": "A"}]}})"))
                .find("inject[0].secret: missing"),
            std::string::npos);
  EXPECT_NE(
      error_of(rule_policy(R"({"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": ""}]}})"))
          .find("inject[0].secret: empty secret"),
      std::string::npos);
  EXPECT_NE(
      error_of(rule_policy(R"({"name": "r", "match": {"method": "GET"}})")).find("match.method: expected an array"),
      std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"path": "v1/*"}})")).find("match.path"), std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"path": "/*/x"}})")).find("before its end"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"scheme": "ftp"}})")).find("match.scheme"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"sni": "1.2.3.4"}})")).find("rules[0] \"r\": match.sni"),
            std::string::npos);
  EXPECT_NE(error_of(rule_policy(R"({"name": "r", "match": {"host": "a..b"}})")).find("rules[0] \"r\": match.host"),
            std::string::npos);
}

TEST(EgressPolicy, SecretsAreCheckedAndNeverQuoted) {
  std::string big(k_max_secret + 1, 'x');
  big.replace(0, std::string_view(k_secret).size(), k_secret);
  std::string msg = error_of(rule_policy(fmt::format(
      R"({{"name": "r", "action": {{"allow": true, "inject": [{{"header": "A", "secret": "{}"}}]}}}})", big)));
  EXPECT_NE(msg.find("secret of 65537 bytes"), std::string::npos);
  std::string exact(k_max_secret, 'y');
  EXPECT_NO_THROW(parse_policy(rule_policy(fmt::format(
      R"({{"name": "r", "action": {{"allow": true, "inject": [{{"header": "A", "secret": "{}"}}]}}}})", exact))));
  msg = error_of(rule_policy(fmt::format(
      R"({{"name": "r", "action": {{"allow": true, "inject": [{{"header": "A", "secret": "{}\r\nX: y"}}]}}}})",
      k_secret)));
  EXPECT_NE(msg.find("NUL, CR or LF"), std::string::npos);
  msg = error_of(rule_policy(
      R"({"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": "***REDACTED***"}]}})"));
  EXPECT_NE(msg.find("redaction marker"), std::string::npos);
  // A syntax error next to a secret gives the offset, not the text.
  msg = error_of(fmt::format(R"({{"rules": [{{"name": "r", "action": {{"inject": [{{"secret": "{}" ]}})", k_secret));
  EXPECT_NE(msg.find("syntax error at byte"), std::string::npos);
}

TEST(EgressPolicy, AllowOutDomainsNeedTheRestClosed) {
  EXPECT_NE(error_of(R"({"allowOut": ["1.1.1.1", "pypi.org"]})").find("allowOut[1]: when specifying allowed domains"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"allowOut": ["pypi.org"], "allowInternetAccess": false})"), "no error");
  EXPECT_EQ(error_of(R"({"allowOut": ["pypi.org"], "denyOut": ["0.0.0.0/0"]})"), "no error");
  EXPECT_NE(error_of(R"({"allowOut": ["pypi.org"], "denyOut": ["0.0.0.0/1"]})").find("when specifying"),
            std::string::npos);
}

TEST(EgressPolicy, LimitsCountUniqueEntriesWithUpstreamMessages) {
  auto addresses = [](size_t n, const char* key) {
    std::string items;
    for (size_t i = 0; i < n; ++i)
      items += fmt::format("{}\"10.{}.{}.{}\"", i ? "," : "", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return fmt::format(R"({{"{}": [{}, "10.0.0.0"]}})", key, items);  // one duplicate
  };
  EXPECT_EQ(error_of(addresses(8192, "allowOut")), "no error");
  EXPECT_EQ(error_of(addresses(8193, "allowOut")),
            "allowOut: network.allow_out_v2 exceeds maximum entries: got 8193, max 8192");
  EXPECT_EQ(error_of(addresses(8192 - 5, "denyOut")), "no error");  // plus the five private ranges
  EXPECT_EQ(error_of(addresses(8192 - 4, "denyOut")),
            "denyOut: network.deny_out exceeds maximum entries: got 8193, max 8192");
  std::string names;
  for (int i = 0; i < 1025; ++i) names += fmt::format("{}\"n{}.example.com\"", i ? "," : "", i);
  EXPECT_EQ(error_of(fmt::format(R"({{"allowInternetAccess": false, "allowOut": [{}]}})", names)),
            "allowOut: network.dns_allow exceeds maximum entries: got 1025, max 1024");
}

TEST(EgressPolicy, DenyAndResolversFollowTheInternetFlagAndDomains) {
  CompiledPolicy open = compile(parse_policy(R"({"denyOut": ["203.0.113.0/24"], "dnsServers": ["9.9.9.9"]})"));
  EXPECT_EQ(open.deny.size(), 6u);
  EXPECT_TRUE(open.resolvers.empty());  // no domain: resolvers are not allowed (#490)
  CompiledPolicy closed = compile(parse_policy(
      R"({"allowInternetAccess": false, "denyOut": ["203.0.113.0/24"], "allowOut": ["x.org"],
          "dnsServers": ["9.9.9.9", "1.1.1.1", "9.9.9.9", "2001:db8::53"]})"));
  ASSERT_EQ(closed.deny.size(), 1u);
  EXPECT_EQ(closed.deny[0].kind, DenyKind::internet_disabled);
  EXPECT_EQ(closed.resolvers.size(), 2u);  // sorted, unique, IPv6 skipped (#526)
  EXPECT_EQ(closed.warnings.size(), 2u);   // denyOut ignored, IPv6 skipped
  CompiledPolicy l7 =
      compile(parse_policy(R"({"rules": [{"name": "a", "match": {"host": "api.x.org"}}]})"), {{"198.51.100.53"}});
  EXPECT_TRUE(l7.dns_learning);
  EXPECT_EQ(l7.resolvers.size(), 1u);  // an L7 name counts; the config's resolver is used
  CompiledPolicy ip_only =
      compile(parse_policy(R"({"rules": [{"name": "a", "match": {"host": "1.2.3.4"}}]})"), {{"198.51.100.53"}});
  EXPECT_FALSE(ip_only.dns_learning);  // an address host is no domain
  EXPECT_EQ(ip_only.allow.size(), 1u);
  EXPECT_EQ(ip_only.allow[0].flags, AllowFlag::l7_target);
}

TEST(EgressPolicy, RedactedJsonNeverCarriesTheSecret) {
  Policy p = parse_policy(rule_policy(fmt::format(
      R"({{"name": "r", "action": {{"allow": true, "inject": [{{"header": "A", "secret": "{}", "format": "B ${{SECRET}}"}}]}}}})",
      k_secret)));
  for (auto mode : {SecretOutput::stored, SecretOutput::redacted})
    EXPECT_EQ(policy_json(p, mode).find(k_secret), std::string::npos);
  EXPECT_NE(policy_json(p, SecretOutput::redacted).find("***REDACTED***"), std::string::npos);
  EXPECT_NE(policy_json(p, SecretOutput::included).find(k_secret), std::string::npos);
  Policy back = parse_policy(policy_json(p, SecretOutput::stored), SecretSource::stored);
  EXPECT_EQ(back.rules[0].inject[0].secret_ref, secret_ref(k_secret));
  EXPECT_TRUE(back.rules[0].inject[0].secret.empty());
  EXPECT_EQ(parse_policy(policy_json(p, SecretOutput::included)).rules[0].inject[0].secret, k_secret);
}

TEST(EgressPolicy, UpsertReplacesByNameOrAppends) {
  Policy p = parse_policy(R"({"rules": [{"name": "a"}, {"name": "b"}]})");
  upsert_rule(p, parse_rule(R"({"name": "a", "action": {"allow": true}})"));
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_TRUE(p.rules[0].allow);
  upsert_rule(p, parse_rule(R"({"name": "c"})"));
  EXPECT_EQ(p.rules.back().name, "c");
  try {
    parse_rule(R"({"name": "x", "match": {"sni": 5}})");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("rule \"x\": match.sni: expected a string"), std::string::npos) << e.message();
  }
}
