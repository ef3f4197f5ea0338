#include "datapath.hpp"

#include "cubevs.hpp"
#include "settings.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace cube::tap {
namespace {

class Ebpf final : public Datapath {
 public:
  explicit Ebpf(const Settings& s) : m_settings(s) {}

  void setup(const NodeNet& node) override {
    cubevs::install(m_settings.bpf_pin_dir);
    m_pins.reset();
    cubevs::NodeConfig c;
    c.guest_ip = m_settings.guest.address.address;
    c.gateway_ip = m_settings.guest.gateway;
    c.node_gw_ip = node.gateway;
    c.node_ip = node.uplink_address;
    c.uplink_ifindex = node.uplink_ifindex;
    c.gateway_mac = m_settings.gateway_mac;
    c.guest_mac = m_settings.guest.mac;
    pins().set_config(c);
    pins().attach_uplink(node.uplink_ifindex);
  }

  void prepare(int ifindex) override { pins().attach_tap(ifindex); }

  void attach(const SandboxTap& tap) override {
    const cubevs::Pins& p = pins();
    // Map entries first: the programs drop a TAP's packets until they know it.
    p.put_tap(tap.ifindex, tap.address, tap.sandbox_id);
    for (const auto& m : tap.ports)
      p.put_port(tap.ifindex, static_cast<uint16_t>(m.container_port), static_cast<uint16_t>(m.host_port));
    p.attach_tap(tap.ifindex);
  }

  void detach(const SandboxTap& tap) override {
    if (tap.ifindex > 0 && cubevs::Pins::installed(m_settings.bpf_pin_dir)) pins().drop_tap(tap.ifindex);
  }

  void reconcile(const std::vector<SandboxTap>& in_use) override {
    const cubevs::Pins& p = pins();
    std::set<int> keep;
    for (const auto& t : in_use) {
      attach(t);
      keep.insert(t.ifindex);
      // A mapping the state no longer has must not keep a host port pointing at the TAP.
      std::set<uint16_t> ports;
      for (const auto& m : t.ports) ports.insert(static_cast<uint16_t>(m.host_port));
      for (uint16_t hp : p.host_ports_of(t.ifindex))
        if (!ports.count(hp)) p.drop_host_port(hp);
    }
    for (int ifindex : p.taps())
      if (!keep.count(ifindex)) p.drop_tap(ifindex);
  }

  void remove_all() override {
    if (!cubevs::Pins::installed(m_settings.bpf_pin_dir)) return;
    for (int ifindex : pins().uplinks()) pins().detach_uplink(ifindex);
    m_pins.reset();
    cubevs::uninstall(m_settings.bpf_pin_dir);
  }

 private:
  const cubevs::Pins& pins() {
    if (!m_pins) m_pins = cubevs::Pins::open(m_settings.bpf_pin_dir);
    return *m_pins;
  }

  const Settings& m_settings;
  std::optional<cubevs::Pins> m_pins;
};

}  // namespace

std::unique_ptr<Datapath> make_datapath(const Settings& settings) { return std::make_unique<Ebpf>(settings); }

}  // namespace cube::tap
