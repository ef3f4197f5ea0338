// cube-tap in-process benchmark driver (tests/bench/tap runs it inside a private namespace):
//   handoff SOCKET N   the fd over the socket, client side: N fast-path requests (the server holds
//                      the fd), then N hot-path ones (the pooled TAP recycled to a new sandbox
//                      between requests, untimed, 80 ms before the request); one JSON line each
//                      with p50/p99 in µs
//   floor SOCKET N     the same exchange with a server that does no work (accept, read, reply with
//                      an fd it holds): what any socket hand-off costs on this machine, so that
//                      the hand-off's own share can be read off
//   cold N             N ensures that build a fresh TAP (empty pool), each released with destroy
//                      untimed; p50/p99 in µs
//   cold-floor N       only the kernel work no cold ensure can skip: create the TAP, attach the
//                      two programs, close the creating fd; what is left of `cold` is cube-tap's
#include "config.hpp"
#include "cube-tap/cubevs.hpp"
#include "cube-tap/datapath.hpp"
#include "cube-tap/fd_client.hpp"
#include "cube-tap/lifecycle.hpp"
#include "cube-tap/plumbing.hpp"
#include "cube-tap/settings.hpp"
#include "cube-tap/tap_device.hpp"
#include "error.hpp"
#include "netlink.hpp"
#include "state.hpp"
#include "timeutil.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
    // As in a real lifecycle, where a VMM boots between ensure and its request: the server notices
    // the release within 50 ms and closes the old fd off its serving thread (fd_server.cpp).
    time::sleep_ms(80);
    int64_t t0 = time::now_ns();
    ReceivedFd fd = request_fd(sock, fmt::format("bench-{}", i), "", 2000);
    hot.push_back(time::now_ns() - t0);
  }
  release(w.env, fmt::format("bench-{}", n), true);
  report("handoff_fast", fast);
  report("handoff_hot", hot);
}

[[noreturn]] void floor_server(int listener) {
  static const char k_reply[] = R"({"errCode":"0","errMsg":"Success","ifindex":1})";
  int held = ::open("/dev/null", O_RDWR);
  for (;;) {
    int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[4096];
    if (c < 0 || ::recv(c, buf, sizeof buf, 0) <= 0) {
      if (c >= 0) ::close(c);
      continue;
    }
    iovec iov{const_cast<char*>(k_reply), sizeof k_reply - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &held, sizeof held);
    ::sendmsg(c, &msg, MSG_NOSIGNAL);
    ::close(c);
  }
}

void floor(const std::string& sock, int n) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ::unlink(sock.c_str());
  int l = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l, 256) != 0)
    throw Error(Exit::failed, "floor: cannot listen on " + sock);
  pid_t child = ::fork();
  if (child == 0) floor_server(l);
  ::close(l);
  std::vector<int64_t> ns;
  for (int i = 0; i < n; ++i) {
    int64_t t0 = time::now_ns();
    ReceivedFd fd = request_fd(sock, "bench-0", "", 2000);
    ns.push_back(time::now_ns() - t0);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  report("handoff_floor", ns);
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

void cold_floor(int n) {
  World w;
  cubevs::Pins pins = cubevs::Pins::open(w.settings.bpf_pin_dir);
  std::vector<int64_t> ns;
  for (int i = 0; i < n; ++i) {
    std::string name = fmt::format("zfloor{}", i);
    int64_t t0 = time::now_ns();
    {
      Fd fd = create_persistent(name);
      pins.attach_tap(static_cast<int>(if_nametoindex(name.c_str())));
    }
    ns.push_back(time::now_ns() - t0);
    destroy(w.nl, name);
  }
  report("cold_floor", ns);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "handoff" && argc == 4) return handoff(argv[2], std::atoi(argv[3])), 0;
    if (mode == "floor" && argc == 4) return floor(argv[2], std::atoi(argv[3])), 0;
    if (mode == "cold-floor" && argc == 3) return cold_floor(std::atoi(argv[2])), 0;
    if (mode == "cold" && argc == 3) return cold(std::atoi(argv[2])), 0;
    std::fprintf(stderr, "usage: tap-inproc handoff SOCKET N | floor SOCKET N | cold N | cold-floor N\n");
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "tap-inproc: %s\n", e.message().c_str());
    return 1;
  }
}
