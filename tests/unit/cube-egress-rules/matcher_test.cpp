#include "cube-egress-rules/matcher.hpp"
#include "cube-egress-rules/compiled.hpp"
#include "cube-egress-rules/policy.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

using namespace cube;
using namespace cube::egress;

namespace {

Request https(std::string name, std::string method = "GET", std::string path = "/") {
  Request r;
  r.scheme = "https";
  r.sni = name;
  r.host = name;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

std::optional<uint32_t> first(const Matcher& m, const Request& r) { return m.first_match(r); }

}  // namespace

TEST(EgressNameTrie, ExactAndWildcardLookups) {
  NameTrie t;
  t.add({"example.com", false}, 0);
  t.add({"example.com", true}, 1);
  t.add({"b.example.com", false}, 2);
  t.add({"com", true}, 3);
  t.finish();
  std::vector<uint32_t> seen;
  t.for_each_match("b.example.com", [&](std::span<const uint32_t> v) { seen.insert(seen.end(), v.begin(), v.end()); });
  EXPECT_EQ(seen, (std::vector<uint32_t>{3, 1, 2}));
  EXPECT_EQ(t.first("example.com"), 0u);
  EXPECT_EQ(t.first("x.example.com"), 1u);
  EXPECT_EQ(t.first("org"), std::nullopt);
  EXPECT_EQ(t.first("com"), std::nullopt);  // *.com is not the apex
  EXPECT_EQ(t.first(""), std::nullopt);
  EXPECT_EQ(t.first(".com"), std::nullopt);
}

TEST(EgressCidrSet, MostSpecificWins) {
  CidrSet s;
  s.add(*parse_cidr("0.0.0.0/0"), 0);
  s.add(*parse_cidr("10.0.0.0/8"), 1);
  s.add(*parse_cidr("10.1.0.0/16"), 2);
  s.add(*parse_cidr("10.1.0.0/16"), 9);  // a duplicate keeps the first
  s.finish();
  EXPECT_EQ(s.find(*parse_ipv4("10.1.2.3")), 2u);
  EXPECT_EQ(s.find(*parse_ipv4("10.2.2.3")), 1u);
  EXPECT_EQ(s.find(*parse_ipv4("8.8.8.8")), 0u);
  CidrSet empty;
  empty.finish();
  EXPECT_EQ(empty.find(1), std::nullopt);
}

TEST(EgressMatcher, FirstMatchWinsAcrossIndexes) {
  Policy p = parse_policy(R"({"rules": [
    {"name": "any-post", "match": {"method": ["post"]}},
    {"name": "by-host", "match": {"host": "*.example.com"}, "action": {"allow": true}},
    {"name": "by-sni", "match": {"sni": "api.example.com", "path": "/v1/*"}, "action": {"allow": true}},
    {"name": "catch-all", "match": {}}
  ]})");
  Matcher m(p.rules);
  EXPECT_EQ(first(m, https("api.example.com", "POST")), 0u);
  EXPECT_EQ(first(m, https("api.example.com", "GET", "/v1/x")), 1u);  // host rule comes before the sni rule
  EXPECT_EQ(first(m, https("example.com")), 3u);                      // wildcard is not the apex
  Request no_host = https("api.example.com", "GET", "/v1/x");
  no_host.host.reset();
  EXPECT_EQ(first(m, no_host), 2u);
}

TEST(EgressMatcher, MatchSemantics) {
  Policy p = parse_policy(R"({"rules": [
    {"name": "exact-path", "match": {"host": "a.test", "path": "/x"}},
    {"name": "prefix", "match": {"host": "b.test", "path": "/v1/*"}},
    {"name": "method", "match": {"host": "c.test", "method": ["get", "Put"]}},
    {"name": "scheme", "match": {"host": "d.test", "scheme": "HTTP"}},
    {"name": "sni-case", "match": {"sni": "E.Test"}},
    {"name": "host-ip", "match": {"host": "192.0.2.1:443"}}
  ]})");
  Matcher m(p.rules);
  EXPECT_EQ(first(m, https("a.test", "GET", "/x")), 0u);
  EXPECT_EQ(first(m, https("a.test", "GET", "/x/")), std::nullopt);
  EXPECT_EQ(first(m, https("b.test", "GET", "/v1/")), 1u);
  EXPECT_EQ(first(m, https("b.test", "GET", "/v1/a/b")), 1u);
  EXPECT_EQ(first(m, https("b.test", "GET", "/v1")), std::nullopt);
  EXPECT_EQ(first(m, https("c.test", "PUT")), 2u);
  EXPECT_EQ(first(m, https("c.test", "get")), std::nullopt);  // the request's method is compared as sent
  EXPECT_EQ(first(m, https("d.test")), std::nullopt);
  Request http = https("d.test");
  http.scheme = "http";
  EXPECT_EQ(first(m, http), 3u);
  EXPECT_EQ(first(m, https("e.test")), 4u);
  Request ip = https("x");
  ip.sni.reset();
  ip.host = "192.0.2.1";
  EXPECT_EQ(first(m, ip), 5u);
  Request no_path = https("a.test");
  no_path.path.reset();
  EXPECT_EQ(first(m, no_path), std::nullopt);
}

// The indexed lookup agrees with a plain walk of the rules, over random policies and requests.
TEST(EgressMatcher, AgreesWithALinearScan) {
  std::mt19937 rng(42);
  const char* names[] = {"a.test", "b.a.test", "c.b.a.test", "x.org", "y.x.org", "test", "api.z.test"};
  auto pick = [&](auto& arr) { return arr[rng() % std::size(arr)]; };
  for (int round = 0; round < 200; ++round) {
    std::string rules;
    for (int i = 0; i < 40; ++i) {
      std::string match;
      auto add = [&](std::string kv) { match += (match.empty() ? "" : ",") + kv; };
      if (rng() % 2) add(fmt::format(R"("sni": "{}{}")", rng() % 3 == 0 ? "*." : "", pick(names)));
      if (rng() % 2) add(fmt::format(R"("host": "{}{}")", rng() % 3 == 0 ? "*." : "", pick(names)));
      if (rng() % 4 == 0) add(R"("method": ["POST"])");
      const char* paths[] = {"/v1/*", "/v1/x", "/v*", "/", "/v1/x/*", "*"};
      if (rng() % 2 == 0) add(fmt::format(R"("path": "{}")", pick(paths)));
      rules += fmt::format(R"({}{{"name": "r{}", "match": {{{}}}}})", i ? "," : "", i, match);
    }
    Policy p = parse_policy(fmt::format(R"({{"rules": [{}]}})", rules));
    Matcher m(p.rules);
    for (int q = 0; q < 200; ++q) {
      const char* request_paths[] = {"/v1/x", "/", "/v1/", "/v2/y", "/v1/x/z"};
      Request r = https(pick(names), rng() % 2 ? "GET" : "POST", pick(request_paths));
      if (rng() % 7 == 0) r.path.reset();
      if (rng() % 3 == 0) r.host = std::string(pick(names));
      if (rng() % 5 == 0) r.sni.reset();
      std::optional<uint32_t> linear;
      for (uint32_t i = 0; i < m.size() && !linear; ++i)
        if (m.rule(i).matches(r)) linear = i;
      ASSERT_EQ(m.first_match(r), linear) << "round " << round << " query " << q;
    }
  }
}
