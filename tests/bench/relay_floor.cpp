// relay-floor: the fastest relay of a TCP connection this kernel offers, as a floor for
// tests/bench/egress-proxy's passthrough download. Like cube-egress-rules serve it terminates the
// sandbox's TCP connection (TPROXY) and opens one to the original destination, but once the first
// bytes (the ClientHello) are through, no byte reaches user space: an sk_skb program hands each one
// to the other socket inside the kernel (a sockhash, BPF_SK_SKB_VERDICT). It measures; it is not a
// proxy: one connection at a time, no half-close, and it ends a pair when the client ends.
// Prints "ready" once listening.
//
//   relay-floor ADDR PORT
#include "fd.hpp"
#include "relay_floor.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

struct SkelDeleter {
  void operator()(relay_floor_bpf* s) const { relay_floor_bpf__destroy(s); }
};
using Skel = std::unique_ptr<relay_floor_bpf, SkelDeleter>;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "relay-floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

cube::Fd listen_transparent(const char* addr, int port) {
  cube::Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (!s || inet_pton(AF_INET, addr, &a.sin_addr) != 1) die("listening socket");
  setsockopt(s.get(), SOL_IP, IP_TRANSPARENT, &one, sizeof one);
  setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s.get(), 16) != 0) die(addr);
  return s;
}

// The connection to where the client meant to go (TPROXY keeps it as the accepted socket's name).
cube::Fd connect_onward(int client) {
  sockaddr_in dst{};
  socklen_t len = sizeof dst;
  cube::Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s || getsockname(client, reinterpret_cast<sockaddr*>(&dst), &len) != 0 ||
      connect(s.get(), reinterpret_cast<sockaddr*>(&dst), len) != 0)
    return {};
  return s;
}

uint64_t cookie(int fd) {
  uint64_t c = 0;
  socklen_t len = sizeof c;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
  return c;
}

bool pair(int map, int a, int b) {
  uint64_t ka = cookie(a), kb = cookie(b), va = static_cast<uint64_t>(a), vb = static_cast<uint64_t>(b);
  return bpf_map_update_elem(map, &ka, &vb, BPF_ANY) == 0 && bpf_map_update_elem(map, &kb, &va, BPF_ANY) == 0;
}

void unpair(int map, int a, int b) {
  uint64_t ka = cookie(a), kb = cookie(b);
  bpf_map_delete_elem(map, &ka);
  bpf_map_delete_elem(map, &kb);
}

// The ClientHello's record goes through user space, whole: a socket's bytes queued before it joins
// the map are not looked at until more arrive, and a TLS client sends nothing more until the server
// answers. The pair joins the map before the server can answer, so its answer is relayed by the
// kernel.
void relay(int map, int client) {
  cube::Fd up = connect_onward(client);
  if (!up) return;
  int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(up.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  unsigned char hello[5 + (1 << 16)];  // one TLS record: a 5-byte header and up to 64 KiB
  if (recv(client, hello, 5, MSG_WAITALL) != 5 || hello[0] != 22) return;  // 22: a handshake record
  size_t body = static_cast<size_t>(hello[3]) << 8 | hello[4];
  if (recv(client, hello + 5, body, MSG_WAITALL) != static_cast<ssize_t>(body)) return;
  if (!pair(map, client, up.get())) return;
  if (send(up.get(), hello, 5 + body, MSG_NOSIGNAL) == static_cast<ssize_t>(5 + body)) {
    pollfd p{client, POLLRDHUP, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
  }
  unpair(map, client, up.get());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: relay-floor ADDR PORT\n");
    return 2;
  }
  Skel skel(relay_floor_bpf__open_and_load());
  if (!skel) die("loading the sk_skb program");
  int map = bpf_map__fd(skel->maps.peers);
  if (bpf_prog_attach(bpf_program__fd(skel->progs.relay), map, BPF_SK_SKB_VERDICT, 0) != 0) die("attaching it");
  cube::Fd l = listen_transparent(argv[1], std::atoi(argv[2]));
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    cube::Fd c(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c) relay(map, c.get());
  }
}
