// cube::tap::cubevs — the eBPF data path's kernel objects as cube-tap manages them: the programs of
// bpf/cubevs.bpf.c and their maps, pinned under <pin root>/v<CUBEVS_LAYOUT>/, attached with tc
// (clsact, direct action) to each TAP and to the uplink. doc/datapath.md says what the programs do.
//
// Contract:
// - install() loads the programs through the verifier and pins them with their maps; maps already
//   pinned for this layout are reused (their entries survive), programs are replaced, so running
//   it again after an upgrade swaps the code without losing a sandbox.
// - Pins::open() only opens what install() pinned; it never loads (ensure stays fast). A missing pin
//   is Error(failed) telling the operator to run `cube-tap setup`.
// - Every attach uses replace semantics (handle 1, priority 1): attaching again is atomic.
// - Map writes are idempotent: put_* overwrites, drop_* ignores a missing key.
#pragma once

#include "cubevs.h"
#include "fd.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cube::tap::cubevs {

// Addresses in host byte order (as cube::ipv4 holds them).
struct NodeConfig {
  uint32_t guest_ip = 0, gateway_ip = 0, node_gw_ip = 0, node_ip = 0;
  int uplink_ifindex = 0;
  std::array<uint8_t, 6> gateway_mac{}, guest_mac{};
};

enum class Program { from_cube, to_cube, from_world };

// <root>/v<CUBEVS_LAYOUT>
std::string layout_dir(const std::string& pin_root);

// Mounts the BPF file system on `pin_root` (or the mount point above it) when it is not on one.
void ensure_bpffs(const std::string& pin_root);

// Loads and pins the programs and maps of this layout (see the contract above).
void install(const std::string& pin_root);

// Unpins everything under the layout directory (the programs stay while attached somewhere).
void uninstall(const std::string& pin_root);

struct MapFill {
  std::string name;
  uint32_t id = 0, entries = 0, max_entries = 0;
  std::string pin;
};

struct ProgramInfo {
  std::string name;
  uint32_t id = 0;
  std::string tag;  // the kernel's hash of the program's instructions, hex
  std::string pin;
};

enum class Hook { ingress, egress };

// The id of the program attached at our tc slot (handle 1, priority 1) of `ifindex`, 0 when none
// (no filter, no clsact qdisc, or no such device).
uint32_t attached_program(int ifindex, Hook hook);

class Pins {
 public:
  static Pins open(const std::string& pin_root);
  static bool installed(const std::string& pin_root);

  void set_config(const NodeConfig& c) const;
  void put_tap(int ifindex, uint32_t sandbox_ip, const std::string& sandbox_id) const;
  void drop_tap(int ifindex) const;
  void put_port(int ifindex, uint16_t guest_port, uint16_t host_port) const;
  void drop_port(int ifindex, uint16_t guest_port, uint16_t host_port) const;

  // from_cube on ingress and to_cube on egress of a TAP; from_world on the uplink's ingress.
  void attach_tap(int ifindex) const;
  void attach_uplink(int ifindex) const;
  // Removes our filter from the uplink, leaving its clsact qdisc and anyone else's filters.
  void detach_uplink(int ifindex) const;

  // The TAP ifindexes the maps hold; the host ports leading to one TAP; the uplink configured.
  std::vector<int> taps() const;
  std::vector<uint16_t> host_ports_of(int ifindex) const;
  void drop_host_port(uint16_t host_port) const;  // and the guest port it led to
  std::vector<int> uplinks() const;
  tap_counters counters(int ifindex) const;  // summed over the CPUs
  uint64_t unknown_tap_packets() const;
  std::vector<MapFill> fill() const;  // every map, in the order of bpf/cubevs.h
  std::vector<ProgramInfo> programs() const;
  int program_fd(Program p) const;

 private:
  std::string m_dir;
  Fd m_progs[3];
  Fd m_config, m_tap_meta, m_guest_port, m_host_port, m_tap_stats, m_unknown;
};

}  // namespace cube::tap::cubevs
