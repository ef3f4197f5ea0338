// The data-path programs on a test bench: a network namespace of the process's own where veth
// pairs play the uplink (up0, with a world neighbour) and a TAP (tap0), the programs loaded through
// the verifier with the maps filled as cube-tap fills them for one sandbox with one port mapping,
// and BPF_PROG_TEST_RUN to feed them frames. Shared by the unit tests and the benchmark.
#pragma once

#include "packets.hpp"

#include "cubevs.h"
#include "cubevs.skel.h"

#include <memory>
#include <string>

namespace cube::test {

inline const Mac k_gateway_mac{0x20, 0x90, 0x6f, 0xcf, 0xcf, 0xcf};
inline const Mac k_guest_mac{0x20, 0x90, 0x6f, 0xfc, 0xfc, 0xfc};
inline const Mac k_world_mac{0x02, 0, 0, 0, 0, 0x02};
inline const uint32_t k_guest = ip("169.254.68.6"), k_gateway = ip("169.254.68.5");
inline const uint32_t k_node_gw = ip("192.168.0.1"), k_sandbox = ip("192.168.0.2");
inline const uint32_t k_node = ip("198.51.100.1"), k_world = ip("198.51.100.2"), k_far = ip("203.0.113.9");
inline constexpr uint16_t k_guest_port = 8080, k_host_port = 20001;

struct Verdict {
  int verdict = -1;
  Bytes out;
  uint32_t ns_per_run = 0;  // BPF_PROG_TEST_RUN's average over the repetitions
};

class DataPath {
 public:
  // Moves the process into a new network namespace with up0 and tap0; "" or why it could not.
  static std::string enter_namespace();

  // Loads the programs and fills the maps; throws std::runtime_error naming what failed.
  DataPath();

  Verdict run(bpf_program* prog, const Bytes& in, uint32_t ifindex, int repeat = 1) const;
  Verdict from_cube(const Bytes& in, int repeat = 1) const { return run(m_skel->progs.from_cube, in, tap(), repeat); }
  Verdict from_cube_on(uint32_t ifindex, const Bytes& in) const { return run(m_skel->progs.from_cube, in, ifindex); }
  Verdict to_cube(const Bytes& in, int repeat = 1) const { return run(m_skel->progs.to_cube, in, tap(), repeat); }
  Verdict from_world(const Bytes& in, int repeat = 1) const {
    return run(m_skel->progs.from_world, in, uplink(), repeat);
  }

  // A TAP's counters, summed over the CPUs.
  tap_counters counters(uint32_t ifindex) const;

  static uint32_t uplink();
  static uint32_t tap();

 private:
  struct Deleter {
    void operator()(cubevs_bpf* s) const { cubevs_bpf__destroy(s); }
  };
  std::unique_ptr<cubevs_bpf, Deleter> m_skel;
};

// A frame from the guest to `daddr`, with a 100-byte payload.
Frame guest_frame(uint8_t proto, uint32_t daddr, uint16_t sport = 40000, uint16_t dport = 80);

}  // namespace cube::test
