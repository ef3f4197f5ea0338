// cube-tap in-process benchmark driver (tests/bench/tap runs it inside a private namespace):
//   handoff SOCKET N   the fd over the socket, client side: N fast-path requests (the server holds
//                      the fd), then N hot-path ones (the pooled TAP recycled to a new sandbox
//                      between requests, untimed); one JSON line each with p50/p99 in µs
//   cold N             N ensures that build a fresh TAP (empty pool), each released with destroy
//                      untimed; p50/p99 in µs
#include "config.hpp"
#include "cube-tap/datapath.hpp"
#include "cube-tap/fd_client.hpp"
#include "cube-tap/lifecycle.hpp"
#include "cube-tap/settings.hpp"
#include "error.hpp"
#include "netlink.hpp"
#include "state.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::tap;

namespace {

void report(const char* what, std::vector<int64_t> ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns[std::min(ns.size() - 1, static_cast<size_t>(q * ns.size()))] / 1000.0; };
  std::printf("{\"what\":\"%s\",\"n\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", what, ns.size(), at(0.5), at(0.99));
  std::fflush(stdout);
}

struct World {
  config::Config cfg = config::Config::load("");  // $CUBE_CONFIG: the bench's pin directory
  config::Settings raw{cfg, "tap"};
  Settings settings = load_settings(raw, {});
  state::Db db = state::Db::open(state::path(""), state::Access::write);
  netlink::Socket nl;
  std::unique_ptr<Datapath> dp = make_datapath(settings);
  Env env{db, nl, *dp, settings};
};

void handoff(const std::string& sock, int n) {
  World w;
  ensure(w.env, "bench-0", {});
  std::vector<int64_t> fast, hot;
  request_fd(sock, "bench-0", "", 2000);  // the first is the recovery path
  for (int i = 0; i < n; ++i) {
    int64_t t0 = time::now_ns();
    ReceivedFd fd = request_fd(sock, "bench-0", "", 2000);
    fast.push_back(time::now_ns() - t0);
  }
  for (int i = 1; i <= n; ++i) {
    release(w.env, fmt::format("bench-{}", i - 1), false);
    ensure(w.env, fmt::format("bench-{}", i), {});  // the same TAP, back from the pool
    int64_t t0 = time::now_ns();
    ReceivedFd fd = request_fd(sock, fmt::format("bench-{}", i), "", 2000);
    hot.push_back(time::now_ns() - t0);
  }
  release(w.env, fmt::format("bench-{}", n), true);
  report("handoff_fast", fast);
  report("handoff_hot", hot);
}

void cold(int n) {
  World w;
  std::vector<int64_t> ns;
  for (int i = 0; i < n; ++i) {
    std::string sb = fmt::format("cold-{}", i);
    int64_t t0 = time::now_ns();
    Ensured e = ensure(w.env, sb, {});
    ns.push_back(time::now_ns() - t0);
    if (e.origin != Origin::fresh) std::fprintf(stderr, "cold ensure %d came from the pool\n", i);
    release(w.env, sb, true);
  }
  report("cold_ensure", ns);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "handoff" && argc == 4) return handoff(argv[2], std::atoi(argv[3])), 0;
    if (mode == "cold" && argc == 3) return cold(std::atoi(argv[2])), 0;
    std::fprintf(stderr, "usage: tap-inproc handoff SOCKET N | cold N\n");
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "tap-inproc: %s\n", e.message().c_str());
    return 1;
  }
}
