#include "harness.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace cube::test {
namespace {

void update(bpf_map* map, const void* key, size_t key_size, const void* value, size_t value_size) {
  if (bpf_map__update_elem(map, key, key_size, value, value_size, 0) != 0)
    throw std::runtime_error(std::string("filling map ") + bpf_map__name(map) + ": " + strerror(errno));
}

}  // namespace

std::string DataPath::enter_namespace() {
  if (unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + strerror(errno);
  // The fast path's FIB lookup needs forwarding on the uplink, as cube-tap setup leaves it.
  int rc = std::system(
      "ip link add up0 type veth peer name w0 && ip link add tap0 type veth peer name g0 && "
      "ip link set up0 up && ip link set w0 up && ip link set tap0 up && "
      "ip addr add 198.51.100.1/24 dev up0 && "
      "ip neigh add 198.51.100.2 lladdr 02:00:00:00:00:02 dev up0 nud permanent && "
      "sysctl -qw net.ipv4.conf.all.forwarding=1");
  return rc == 0 ? "" : "setting up the namespace's links with ip(8) failed";
}

uint32_t DataPath::uplink() { return if_nametoindex("up0"); }
uint32_t DataPath::tap() { return if_nametoindex("tap0"); }

DataPath::DataPath() : m_skel(cubevs_bpf__open_and_load()) {
  if (!m_skel) throw std::runtime_error(std::string("the programs did not load: ") + strerror(errno));
  cube_config cfg{};
  cfg.guest_ip = k_guest;
  cfg.gateway_ip = k_gateway;
  cfg.node_gw_ip = k_node_gw;
  cfg.node_ip = k_node;
  cfg.uplink_ifindex = uplink();
  std::copy(k_gateway_mac.begin(), k_gateway_mac.end(), cfg.gateway_mac);
  std::copy(k_guest_mac.begin(), k_guest_mac.end(), cfg.guest_mac);
  uint32_t zero = 0, ifindex = tap(), hport = k_host_port;
  update(m_skel->maps.cube_config, &zero, sizeof zero, &cfg, sizeof cfg);
  tap_meta meta{};
  meta.sandbox_ip = k_sandbox;
  update(m_skel->maps.tap_meta, &ifindex, sizeof ifindex, &meta, sizeof meta);
  guest_port_key gk{ifindex, k_guest_port, 0};
  update(m_skel->maps.guest_port, &gk, sizeof gk, &hport, sizeof hport);
  port_target pt{ifindex, k_guest_port, 0};
  update(m_skel->maps.host_port, &hport, sizeof hport, &pt, sizeof pt);
}

Verdict DataPath::run(bpf_program* prog, const Bytes& in, uint32_t ifindex, int repeat) const {
  Verdict v;
  v.out.resize(in.size() + 256);
  __sk_buff ctx{};
  ctx.ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = v.out.data(),
              .data_size_in = static_cast<uint32_t>(in.size()), .data_size_out = static_cast<uint32_t>(v.out.size()),
              .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = repeat);
  if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) != 0)
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + strerror(errno));
  v.out.resize(opts.data_size_out);
  v.verdict = static_cast<int>(opts.retval);
  v.ns_per_run = opts.duration;
  return v;
}

tap_counters DataPath::counters(uint32_t ifindex) const {
  std::vector<tap_counters> per(static_cast<size_t>(libbpf_num_possible_cpus()));
  tap_counters sum{};
  if (bpf_map__lookup_elem(m_skel->maps.tap_stats, &ifindex, sizeof ifindex, per.data(),
                           per.size() * sizeof(tap_counters), 0) != 0)
    return sum;
  for (const tap_counters& c : per) tap_counters_add(&sum, &c);
  return sum;
}

Frame guest_frame(uint8_t proto, uint32_t daddr, uint16_t sport, uint16_t dport) {
  Frame f;
  f.dst = k_gateway_mac, f.src = k_guest_mac, f.saddr = k_guest, f.daddr = daddr, f.proto = proto;
  f.sport = sport, f.dport = dport;
  f.payload = Bytes(100, 0xab);
  return f;
}

}  // namespace cube::test
