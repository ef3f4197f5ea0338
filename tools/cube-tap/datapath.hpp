// cube::tap datapath — the seam where the sandbox data path (eBPF programs on each TAP and on the
// uplink, and the maps that tell them about sandboxes and port mappings) hooks into the lifecycle.
//
// ensure calls attach() once a TAP's kernel objects exist and before the sandbox is recorded as
// in use; release calls detach() before the TAP is pooled or destroyed; reconcile calls
// reconcile() with every TAP the state file holds. Each call must be idempotent: a crash between
// any two steps is finished by running the same step again. Until the programs exist this is the
// kernel stack alone, and every call does nothing.
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

class Datapath {
 public:
  virtual ~Datapath() = default;
  // The programs on the TAP and the sandbox's map entries (address ↔ ifindex, port mappings).
  virtual void attach(const SandboxTap& tap) = 0;
  // Removes the sandbox's map entries (and its ports); the TAP keeps its program for reuse.
  virtual void detach(const SandboxTap& tap) = 0;
  // Makes maps and attachments match `in_use`, removing entries for anything else.
  virtual void reconcile(const std::vector<SandboxTap>& in_use) = 0;
  // Removes everything (teardown).
  virtual void remove_all() = 0;
};

// The data path this build has.
std::unique_ptr<Datapath> make_datapath();

}  // namespace cube::tap
