// cube::tap datapath — the seam where the sandbox data path (eBPF programs on each TAP and on the
// uplink, and the maps that tell them about sandboxes and port mappings) hooks into the lifecycle.
//
// ensure calls attach() once a TAP device exists — before its link goes up when the TAP is new —
// and before the sandbox is recorded as in use; pool warm calls prepare() on each new TAP; release calls detach()
// before the TAP is pooled or destroyed; reconcile calls reconcile() with every TAP the state file holds. Each call
// must be idempotent: a crash between any two steps is finished by running the same step again. setup() (cube-tap
// setup, and reconcile after a reboot emptied the BPF file system) loads and pins the programs and attaches the
// uplink's; doc/datapath.md says what the programs do.
#pragma once

#include "ipv4.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cube::tap {

struct PortMapping {
  uint32_t container_port = 0;
  uint32_t host_port = 0;
};

struct SandboxTap {
  std::string sandbox_id;
  std::string name;
  int ifindex = 0;
  uint32_t address = 0;
  std::vector<PortMapping> ports;
};

// What the programs must know of the node (addresses in host byte order).
struct NodeNet {
  std::string uplink;
  int uplink_ifindex = 0;
  uint32_t uplink_address = 0;
  uint32_t gateway = 0;  // the node's gateway address on lo (CIDR index 1)
};

class Datapath {
 public:
  virtual ~Datapath() = default;
  // Loads (or replaces) the programs, writes the node's settings, attaches to the uplink.
  virtual void setup(const NodeNet& node) = 0;
  // The programs on a TAP that is not up yet, with no map entries: they drop its packets until
  // attach() tells them about its sandbox (pool warm).
  virtual void prepare(int ifindex) = 0;
  // The programs on the TAP and the sandbox's map entries (address ↔ ifindex, port mappings).
  virtual void attach(const SandboxTap& tap) = 0;
  // Removes the sandbox's map entries (and its ports); the TAP keeps its program for reuse.
  virtual void detach(const SandboxTap& tap) = 0;
  // Makes maps and attachments match `in_use`, removing entries for anything else.
  virtual void reconcile(const std::vector<SandboxTap>& in_use) = 0;
  // Detaches from the uplink and unpins everything (teardown).
  virtual void remove_all() = 0;
};

struct Settings;
// The eBPF data path, pinned under settings.bpf_pin_dir.
std::unique_ptr<Datapath> make_datapath(const Settings& settings);

}  // namespace cube::tap
