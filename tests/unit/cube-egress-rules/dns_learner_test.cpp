#include "cube-egress-rules/dns_learner.hpp"
#include "cube-egress-rules/policy.hpp"
#include "cube-egress-rules/relay_policy.hpp"

#include <gtest/gtest.h>

using namespace cube::egress;

namespace {

using Bytes = std::vector<uint8_t>;

void u16(Bytes& b, uint16_t v) {
  b.push_back(v >> 8);
  b.push_back(v & 0xFF);
}
void name(Bytes& b, std::string_view n) {
  size_t start = 0;
  while (start < n.size()) {
    size_t dot = n.find('.', start);
    if (dot == std::string_view::npos) dot = n.size();
    b.push_back(static_cast<uint8_t>(dot - start));
    b.insert(b.end(), n.begin() + start, n.begin() + dot);
    start = dot + 1;
  }
  b.push_back(0);
}
// A response for `qname` with A records (address, ttl) all named qname.
Bytes answer(std::string_view qname, std::vector<std::pair<uint32_t, uint32_t>> records, uint16_t flags = 0x8180) {
  Bytes b;
  for (uint16_t v : {uint16_t{7}, flags, uint16_t{1}, static_cast<uint16_t>(records.size()), uint16_t{0}, uint16_t{0}})
    u16(b, v);
  name(b, qname);
  u16(b, 1);
  u16(b, 1);
  for (auto [addr, ttl] : records) {
    name(b, qname);
    u16(b, 1);
    u16(b, 1);
    u16(b, ttl >> 16);
    u16(b, ttl & 0xFFFF);
    u16(b, 4);
    u16(b, addr >> 16);
    u16(b, addr & 0xFFFF);
  }
  return b;
}

// What the relay adds to the sandbox's set for `response`: the answer's addresses when the set
// learns its name (Learner::learn, without nftables).
std::vector<dns::Address> learnable_addresses(const CompiledPolicy& c, const Bytes& response) {
  auto a = answer_of(response);
  return a && learnable(c, a->name) ? a->addresses : std::vector<dns::Address>{};
}

CompiledPolicy policy(std::vector<std::string> allow_out, bool internet = false) {
  Policy p;
  p.allow_internet_access = internet;
  p.allow_out = std::move(allow_out);
  p.dns_servers = {"198.51.100.1"};
  return compile(p);
}

}  // namespace

TEST(EgressDnsLearner, LearnsTheARecordsOfAllowedNamesOnly) {
  CompiledPolicy c = policy({"*.example.com", "exact.org"});
  EXPECT_EQ(learnable_addresses(c, answer("api.example.com", {{0x01020304, 30}})),
            (std::vector<dns::Address>{{0x01020304, 30}}));
  EXPECT_EQ(learnable_addresses(c, answer("EXACT.org", {{0x01020305, 30}})).size(), 1u);
  EXPECT_TRUE(learnable_addresses(c, answer("example.com", {{0x01020304, 30}})).empty());  // wildcard: not the apex
  EXPECT_TRUE(learnable_addresses(c, answer("sub.exact.org", {{0x01020304, 30}})).empty());
  EXPECT_TRUE(learnable_addresses(c, answer("evil.net", {{0x01020304, 30}})).empty());
}

TEST(EgressDnsLearner, ZeroTtlsErrorsAndDuplicatesAddNothing) {
  CompiledPolicy c = policy({"*.example.com"});
  EXPECT_TRUE(learnable_addresses(c, answer("a.example.com", {{1, 0}})).empty());
  EXPECT_TRUE(learnable_addresses(c, answer("a.example.com", {{1, 30}}, 0x8183)).empty());  // NXDOMAIN
  EXPECT_TRUE(learnable_addresses(c, answer("a.example.com", {{1, 30}}, 0x0100)).empty());  // a query
  auto dup = learnable_addresses(c, answer("a.example.com", {{1, 30}, {1, 60}, {2, 999999}}));
  EXPECT_EQ(dup, (std::vector<dns::Address>{{1, 30}, {2, k_max_ttl_s}}));
}

TEST(EgressDnsLearner, APolicyWithoutDomainsLearnsNothing) {
  CompiledPolicy c = policy({"203.0.113.0/24"}, true);
  EXPECT_TRUE(learnable_addresses(c, answer("api.example.com", {{1, 30}})).empty());
}

TEST(EgressDnsLearner, TheProxysNamesAreAllowOutDomainsAndL7Names) {
  CompiledPolicy c = compile(parse_policy(R"({"allowInternetAccess": false, "allowOut": ["*.cdn.example"],
    "dnsServers": ["198.51.100.1"], "rules": [
      {"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}},
      {"name": "web", "match": {"host": "*.web.example"}, "action": {"allow": true}}]})"));
  constexpr uint32_t own = 0xC6336401, other = 0xC6336403;  // 198.51.100.1 (its dnsServer), .3
  EXPECT_TRUE(names_kept(c, own, "x.cdn.example"));
  EXPECT_TRUE(names_kept(c, own, "api.example.com"));
  EXPECT_TRUE(names_kept(c, own, "a.web.example"));
  EXPECT_FALSE(names_kept(c, own, "other.example.com"));
  EXPECT_FALSE(names_kept(c, other, "api.example.com"));  // a resolver the policy did not name
  // The set learns only the allowOut domain: an L7 name is reached through the proxy, not the set.
  EXPECT_TRUE(learnable_addresses(c, answer("api.example.com", {{1, 30}})).empty());
  auto a = answer_of(answer("API.example.com", {{1, 30}, {1, 60}, {2, 0}}));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "api.example.com");
  EXPECT_EQ(a->addresses, (std::vector<dns::Address>{{1, 30}}));
  EXPECT_FALSE(answer_of(answer("api.example.com", {{1, 0}})));
  EXPECT_FALSE(names_kept(compile(Policy{}), own, "api.example.com"));  // no names, no learning
}

TEST(EgressDnsLearner, AKeptAnswerNeverVouchesForAnAddressThePolicyDeniesByName) {
  CompiledPolicy open = compile(parse_policy(R"({"dnsServers": ["198.51.100.1"], "allowOut": ["10.1.2.3"],
    "denyOut": ["203.0.113.64/26"],
    "rules": [{"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]})"));
  EXPECT_TRUE(names_may_vouch(open, 0xCB00710A));   // 203.0.113.10
  EXPECT_FALSE(names_may_vouch(open, 0xCB007141));  // 203.0.113.65: denyOut
  EXPECT_FALSE(names_may_vouch(open, 0xA9FEA9FE));  // 169.254.169.254: a private range
  EXPECT_FALSE(names_may_vouch(open, 0x0A000001));  // 10.0.0.1
  EXPECT_TRUE(names_may_vouch(open, 0x0A010203));   // 10.1.2.3: allowed by address
  CompiledPolicy closed = compile(parse_policy(R"({"allowInternetAccess": false, "dnsServers": ["198.51.100.1"],
    "rules": [{"name": "api", "match": {"sni": "api.example.com"}, "action": {"allow": true}}]})"));
  EXPECT_TRUE(names_may_vouch(closed, 0xCB00710A));   // closed, yet the rule allows by name
  EXPECT_FALSE(names_may_vouch(closed, 0xC0A80001));  // 192.168.0.1
  EXPECT_FALSE(names_may_vouch(closed, 0x00000000));  // 0.0.0.0: the node itself
  EXPECT_FALSE(names_may_vouch(closed, 0xE0000001));  // 224.0.0.1: multicast
  EXPECT_FALSE(names_may_vouch(closed, 0xFFFFFFFF));  // reserved
  // Domains with internet access must deny the rest (0.0.0.0/0): that catch-all is what names
  // let through, while a narrower denyOut entry still holds.
  CompiledPolicy named = compile(parse_policy(R"({"dnsServers": ["198.51.100.1"], "allowOut": ["api.example.com"],
    "denyOut": ["0.0.0.0/0", "203.0.113.64/26"]})"));
  EXPECT_TRUE(names_may_vouch(named, 0xCB00710A));   // 203.0.113.10
  EXPECT_FALSE(names_may_vouch(named, 0xCB007141));  // 203.0.113.65
  EXPECT_FALSE(names_may_vouch(named, 0x0A000001));  // 10.0.0.1
}

TEST(EgressDnsLearner, CommandsReplaceEachElementWithItsTtl) {
  std::string t = learn_commands(0xC0A80002, {{0xCB00710A, 2}});
  EXPECT_EQ(t,
            "add element inet cube_egress a_c0a80002_learned { 203.0.113.10 timeout 1s }\n"
            "delete element inet cube_egress a_c0a80002_learned { 203.0.113.10 }\n"
            "add element inet cube_egress a_c0a80002_learned { 203.0.113.10 timeout 2s }\n");
}

TEST(EgressRelayPolicy, AResolverIsAllowedAsTheSandboxsOwnRuleSays) {
  CompiledPolicy closed = policy({"*.example.com"});
  EXPECT_TRUE(resolver_allowed(closed, 0xC6336401));   // 198.51.100.1, its dnsServer
  EXPECT_FALSE(resolver_allowed(closed, 0xC6336403));  // internet disabled
  CompiledPolicy open = compile(Policy{});
  EXPECT_TRUE(resolver_allowed(open, 0x08080808));
  EXPECT_FALSE(resolver_allowed(open, 0x0A000001));  // a private range
}
