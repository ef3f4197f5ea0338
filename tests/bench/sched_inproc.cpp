// In-process placement throughput: loads the inventory from a state file once, then times
// Placer::decide (selector compilation included) over the requests of a JSON Lines file, cycling
// through them. Prints decisions/s and latency percentiles as one JSON object per round.
// Usage: sched-inproc STATE CONFIG REQUESTS [DECISIONS] [ROUNDS]
#include "cluster.hpp"
#include "config.hpp"
#include "cube-sched/inventory.hpp"
#include "cube-sched/placer.hpp"
#include "cube-sched/registry.hpp"
#include "cube-sched/request.hpp"
#include "cube-sched/settings.hpp"
#include "error.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::sched;

namespace {

std::vector<Request> read_requests(const std::string& path, const Policy& p) {
  std::ifstream in(path);
  std::vector<Request> out;
  for (std::string line; std::getline(in, line);) out.push_back(parse_request_line(line, p.selector_keys));
  if (out.empty()) throw Error(Exit::usage, fmt::format("no requests in {}", path));
  return out;
}

void round(const Inventory& inv, const std::vector<Request>& reqs, size_t decisions, bool report = true) {
  using clock = std::chrono::steady_clock;
  Placer placer(inv);
  std::vector<double> us(decisions);
  size_t placed = 0;
  auto start = clock::now();
  for (size_t i = 0; i < decisions; ++i) {
    auto t0 = clock::now();
    Decision d = placer.decide(reqs[i % reqs.size()]);
    us[i] = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    placed += d.node.has_value();
  }
  double seconds = std::chrono::duration<double>(clock::now() - start).count();
  if (!report) return;
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))]; };
  fmt::print(
      "{{\"nodes\":{},\"decisions\":{},\"placed\":{},\"per_second\":{:.0f},\"p50_us\":{:.1f},\"p99_us\":{:.1f},\"max_"
      "us\":{:.1f}}}\n",
      inv.size(), decisions, placed, decisions / seconds, pct(0.50), pct(0.99), us.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fputs("usage: sched-inproc STATE CONFIG REQUESTS [DECISIONS] [ROUNDS]\n", stderr);
    return 2;
  }
  try {
    config::Config cfg = config::Config::load(argv[2]);
    config::Settings s(cfg, "sched");
    Policy policy = load_settings(s).policy;
    auto store = cluster::open({"", argv[1]}, cluster::Access::read);
    int64_t now = time::now_ms();
    Inventory inv(load_nodes(*store, true, policy.creating_after(now)), policy, now);
    std::vector<Request> reqs = read_requests(argv[3], policy);
    size_t decisions = argc > 4 ? std::stoul(argv[4]) : 20000;
    int rounds = argc > 5 ? std::stoi(argv[5]) : 3;
    round(inv, reqs, std::min<size_t>(decisions, 2000), false);  // warm-up
    for (int r = 0; r < rounds; ++r) round(inv, reqs, decisions);
  } catch (const Error& e) {
    std::fprintf(stderr, "sched-inproc: error: %s\n", e.message().c_str());
    return static_cast<int>(e.code());
  }
  return 0;
}
