// cube::egress store — policies in the state file (tables egress_rules and egress_secrets).
//
// Contract: the caller validates (compile) before writing; put() replaces a sandbox's policy and
// its secrets together and bumps its revision. Writers run inside the caller's Transaction, so a
// read-modify-write (patch) cannot race another process. Secrets are read only when asked for
// (WithSecrets::yes): show, list and check never load them.
#pragma once

#include "policy.hpp"
#include "state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct Stored {
  std::string sandbox;
  Policy policy;
  int64_t rules = 0;
  int64_t revision = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

enum class WithSecrets { no, yes };

// Returns the new revision.
int64_t put(state::Db& db, const std::string& sandbox, const Policy& p, int64_t now_ms);
std::optional<Stored> get(state::Db& db, const std::string& sandbox, WithSecrets secrets);
// True when there was a policy to delete.
bool remove(state::Db& db, const std::string& sandbox);
// Every policy, by sandbox ID.
std::vector<Stored> all(state::Db& db, WithSecrets secrets);

}  // namespace cube::egress
