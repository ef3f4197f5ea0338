// cube::egress relay_policy — what the DNS relay knows of each sandbox: its compiled policy, found
// by the source address of a query (cube-tap's taps table, state in_use, joined with egress_rules),
// kept current without a restart.
//
// Contract:
// - Policies::load() reads every in-use address with its policy; an address whose sandbox has no
//   policy, and an address not in taps at all, get the default policy (internet allowed, the
//   private ranges denied, no names). A stored policy that no longer compiles gets the default too,
//   with a warning.
// - PolicyWatcher::poll() reloads when the state file changed (SQLite's data_version, which moves
//   with every commit of another connection), at most once per `interval_ms`; cheap otherwise.
// - resolver_allowed() applies the sandbox's own L3 rule to the resolver it asked, since the relay's
//   query leaves from the node's address and the sandbox's rules would not see it: allowed when in
//   the allow set (where the resolvers are), else denied when in the deny set, else allowed.
// - learnable() says whether answers for `name` (normalised) are learned: it matches an allowOut
//   domain of the policy.
#pragma once

#include "compiled.hpp"
#include "state.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace cube::egress {

struct SandboxPolicy {
  std::string sandbox;  // "" for an address with no in-use TAP
  std::shared_ptr<const CompiledPolicy> policy;
};

class Policies {
 public:
  static Policies load(state::Db& db, const CompileOptions& options);
  const SandboxPolicy& find(uint32_t address) const;
  size_t size() const { return m_by_address.size(); }

 private:
  std::unordered_map<uint32_t, SandboxPolicy> m_by_address;
  SandboxPolicy m_default;
};

class PolicyWatcher {
 public:
  PolicyWatcher(const std::string& state_path, CompileOptions options, int64_t interval_ms);
  // Reloads when due and changed; true when it did.
  bool poll(int64_t now_ms);
  const Policies& policies() const { return m_policies; }

 private:
  int64_t data_version();
  state::Db m_db;
  CompileOptions m_options;
  int64_t m_interval_ms;
  int64_t m_next_ms = 0;
  int64_t m_version = -1;
  Policies m_policies;
};

bool resolver_allowed(const CompiledPolicy& c, uint32_t resolver);
bool learnable(const CompiledPolicy& c, std::string_view name);

}  // namespace cube::egress
