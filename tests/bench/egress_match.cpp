// In-process decision time of cube-egress-rules' compiled matcher, from 10 to 100,000 rules,
// against a linear first-match walk of the same rules (what upstream's proxy does per request).
// Each size gets a fresh policy within upstream's limits (at most 1024 names: from 1000 rules on,
// rules share their names and differ by path, as an API's rules do): exact and wildcard SNI and
// Host rules, exact and prefix paths, some methods, a few rules that name neither at the end. The
// request mix: a rule's own name and path, a wildcard's subdomain, names of no rule (decided by
// the address policy), and near misses. Prints one JSON object per size and method.
// Usage: egress-match-inproc [DECISIONS] [SIZES...]
#include "cube-egress-rules/decision.hpp"
#include "cube-egress-rules/policy.hpp"
#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::egress;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t k_names = 1000;

std::string name_of(size_t i) {
  i %= k_names;
  return fmt::format("svc{}.team{}.corp{}.example", i, i % 97, i % 13);
}

std::string path_of(size_t i) { return fmt::format("/api/v{}/r{}/", i % 4, i / k_names); }

Policy make_policy(size_t rules) {
  Policy p;
  p.allow_out = {"203.0.113.0/24"};
  for (size_t i = 0; i < rules; ++i) {
    Rule r;
    r.name = fmt::format("r{}", i);
    std::string n = name_of(i);
    if (i % 5 == 3) n = "*." + n;
    (i % 2 ? r.match.host : r.match.sni) = n;
    if (i % 7 == 0) r.match.method = {"GET", "POST"};
    if (i >= k_names || i % 11 == 0) r.match.path = path_of(i) + (i % 2 ? "*" : "items");
    r.allow = i % 3 != 0;
    if (i % 17 == 0) r.inject.push_back({"Authorization", "", fmt::format("fp-{:08x}", i), std::nullopt});
    p.rules.push_back(std::move(r));
  }
  for (int i = 0; i < 3; ++i) {
    Rule r;
    r.name = fmt::format("generic{}", i);
    r.match.path = fmt::format("/generic{}/*", i);
    p.rules.push_back(std::move(r));
  }
  return p;
}

std::vector<Request> make_requests(size_t rules, size_t count) {
  std::mt19937_64 rng(7);
  std::vector<Request> out;
  for (size_t k = 0; k < count; ++k) {
    size_t i = rng() % rules;
    Request r;
    r.scheme = "https";
    r.method = k % 4 ? "GET" : "DELETE";
    r.path = k % 3 ? path_of(i) + "items" : "/other";
    r.dst = 0xCB007100 | (k & 255);
    std::string n = name_of(i);
    switch (k % 4) {
      case 0: break;                                    // the rule's own name
      case 1: n = "api." + n; break;                    // a wildcard's subdomain (or no rule)
      case 2: n = fmt::format("free{}.org", k); break;  // no L7 target: the address policy
      case 3: n = name_of(i) + "x"; break;              // a near miss
    }
    r.sni = n;
    r.host = n;
    out.push_back(std::move(r));
  }
  return out;
}

struct Stats {
  double p50, p99, max, per_second;
};

template <typename F>
Stats time_each(const std::vector<Request>& reqs, size_t decisions, F&& decide_one) {
  std::vector<double> ns(decisions);
  size_t allowed = 0;
  auto start = Clock::now();
  for (size_t i = 0; i < decisions; ++i) {
    auto t0 = Clock::now();
    allowed += decide_one(reqs[i % reqs.size()]);
    ns[i] = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) { return ns[std::min(ns.size() - 1, static_cast<size_t>(p * ns.size()))]; };
  if (allowed == SIZE_MAX) std::puts("");  // keeps the work observable
  return {pct(0.50), pct(0.99), ns.back(), decisions / seconds};
}

void report(size_t rules, const char* method, size_t decisions, const Stats& s, double compile_ms) {
  fmt::print(
      "{{\"rules\":{},\"method\":\"{}\",\"decisions\":{},\"p50_ns\":{:.0f},\"p99_ns\":{:.0f},\"max_ns\":{:.0f},"
      "\"per_second\":{:.0f},\"compile_ms\":{:.1f}}}\n",
      rules, method, decisions, s.p50, s.p99, s.max, s.per_second, compile_ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  size_t decisions = argc > 1 ? std::stoul(argv[1]) : 200000;
  std::vector<size_t> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(std::stoul(argv[i]));
  if (sizes.empty()) sizes = {10, 100, 1000, 10000, 100000};
  try {
    for (size_t n : sizes) {
      Policy p = make_policy(n);
      auto t0 = Clock::now();
      CompiledPolicy c = compile(p);
      double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::vector<Request> reqs = make_requests(n, 4096);
      auto indexed = [&](const Request& r) { return decide(c, r).allow; };
      time_each(reqs, std::min<size_t>(decisions, 20000), indexed);  // warm-up
      report(n, "trie", decisions, time_each(reqs, decisions, indexed), compile_ms);
      // The baseline: every rule in order until one matches, as a proxy without an index does.
      auto linear = [&](const Request& r) {
        for (uint32_t i = 0; i < c.matcher.size(); ++i)
          if (c.matcher.rule(i).matches(r)) return c.matcher.rule(i).allow;
        return false;
      };
      size_t linear_decisions = std::max<size_t>(200, std::min(decisions, decisions * 100 / n));
      report(n, "linear", linear_decisions, time_each(reqs, linear_decisions, linear), compile_ms);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "egress-match-inproc: error: %s\n", e.message().c_str());
    return static_cast<int>(e.code());
  }
  return 0;
}
