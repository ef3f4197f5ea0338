// ns per packet of each data-path program on its common paths, from BPF_PROG_TEST_RUN's own timing
// (the kernel runs the program `repeat` times on one skb and reports the average). Run as root:
// it enters a network namespace of its own (tests/unit/bpf/harness.hpp).
#include "harness.hpp"

#include <cstdio>
#include <functional>

using namespace cube::test;

int main(int argc, char** argv) {
  int repeat = argc > 1 ? std::atoi(argv[1]) : 1'000'000;
  if (std::string why = DataPath::enter_namespace(); !why.empty()) {
    std::fprintf(stderr, "datapath-testrun: %s\n", why.c_str());
    return 1;
  }
  DataPath path;
  Frame to_node = guest_frame(6, k_far);
  Frame reply = guest_frame(6, k_world, k_guest_port, 50000);
  Frame inbound;
  inbound.dst = {2, 0, 0, 0, 0, 1}, inbound.src = k_world_mac, inbound.saddr = k_world, inbound.daddr = k_node;
  inbound.sport = 50000, inbound.dport = k_host_port, inbound.payload = Bytes(100, 1);
  Frame to_guest = inbound;
  to_guest.saddr = k_far, to_guest.daddr = k_sandbox, to_guest.dport = 40000;
  Frame passing = inbound;
  passing.dport = 22;

  struct Case {
    const char* name;
    std::function<Verdict()> run;
  };
  const Case cases[] = {
      {"from_cube  tcp, kernel path (address rewrite)", [&] { return path.from_cube(build(to_node), repeat); }},
      {"from_cube  tcp, fast path out (fib + redirect)", [&] { return path.from_cube(build(reply), repeat); }},
      {"from_cube  arp reply", [&] { return path.from_cube(arp_request(k_guest_mac, k_guest, k_gateway), repeat); }},
      {"to_cube    tcp to the guest", [&] { return path.to_cube(build(to_guest), repeat); }},
      {"from_world tcp to a mapped port (redirect)", [&] { return path.from_world(build(inbound), repeat); }},
      {"from_world tcp, not mapped (pass)", [&] { return path.from_world(build(passing), repeat); }},
  };
  std::printf("program and path\tns/packet\tverdict\n");
  for (const Case& c : cases) {
    Verdict v = c.run();
    std::printf("%s\t%u\t%d\n", c.name, v.ns_per_run, v.verdict);
  }
}
