// cube::egress proxy_snapshot — what the running proxy decides with: every sandbox's compiled
// policy and which sandbox each source address belongs to, loaded from the state file as one
// consistent read, and swapped whole when the state file changes.
//
// Contract:
// - A Snapshot is immutable; connections hold a shared_ptr to the one current when they start, so
//   each decision is made against one consistent view.
// - Addresses come from cube-tap's `taps` table (documented columns address, sandbox_id, state):
//   only in_use rows bind an address to a sandbox.
// - Policies come from egress_rules; one that fails to compile is left out and named in
//   `failures` (its sandbox then has no policy: the proxy denies it, fail closed). Their secrets
//   are read in the same transaction and moved into a SecretStore at once. Policies whose
//   revision did not change are reused from the previous snapshot, not compiled again.
// - Watcher::changed() asks SQLite's data_version whether any other connection committed since
//   the last call: a cheap poll (no table read) the proxy runs every 100 ms.
#pragma once

#include "compiled.hpp"
#include "proxy_inject_secrets.hpp"
#include "state.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cube::egress {

struct SandboxPolicy {
  std::shared_ptr<const CompiledPolicy> policy;
  std::shared_ptr<const SecretStore> secrets;  // what its injects render (proxy_inject_secrets.hpp)
  int64_t revision = 0;
};

struct Snapshot {
  std::unordered_map<uint32_t, std::string> sandbox_by_address;
  std::unordered_map<std::string, SandboxPolicy> policies;
  std::vector<std::string> failures;  // "<sandbox>: <error>"
  int64_t loaded_ms = 0;              // time::steady_ms() when it was read
};

std::shared_ptr<const Snapshot> load_snapshot(state::Db& db, const CompileOptions& options, const Snapshot* previous);

// What a connection from `source` is decided with.
struct Lookup {
  enum class Status { ok, unknown_source, no_policy } status = Status::unknown_source;
  std::string sandbox;
  std::shared_ptr<const CompiledPolicy> policy;
  std::shared_ptr<const SecretStore> secrets;
};
Lookup find_source(const Snapshot& s, uint32_t source);

// cube-tap's tap_node.gateway (the node's address on lo that sandboxes reach), if the node is set up.
std::optional<uint32_t> node_gateway(state::Db& db);

class Watcher {
 public:
  explicit Watcher(state::Db& db) : m_db(db) { changed(); }
  bool changed();

 private:
  state::Db& m_db;
  int64_t m_version = -1;
};

}  // namespace cube::egress
