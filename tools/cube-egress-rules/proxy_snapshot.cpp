#include "proxy_snapshot.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "store.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

namespace cube::egress {

namespace {

void add_policy(Snapshot& s, Stored& st, const CompileOptions& options, const Snapshot* previous) {
  if (previous) {
    auto it = previous->policies.find(st.sandbox);
    if (it != previous->policies.end() && it->second.revision == st.revision) {
      s.policies.emplace(st.sandbox, it->second);
      return;
    }
  }
  try {
    auto c = std::make_shared<const CompiledPolicy>(compile(st.policy, options));
    auto secrets = std::make_shared<const SecretStore>(st.policy);
    s.policies.emplace(st.sandbox, SandboxPolicy{std::move(c), std::move(secrets), st.revision});
  } catch (const Error& e) {
    s.failures.push_back(fmt::format("{}: {}", st.sandbox, e.message()));
  }
}

}  // namespace

std::shared_ptr<const Snapshot> load_snapshot(state::Db& db, const CompileOptions& options, const Snapshot* previous) {
  auto s = std::make_shared<Snapshot>();
  // One read transaction: the addresses and the policies are of the same moment.
  db.exec("BEGIN");
  try {
    auto taps = db.prepare("SELECT address, sandbox_id FROM taps WHERE state = 'in_use' AND sandbox_id IS NOT NULL");
    while (taps.step())
      if (auto a = ipv4::parse_address(taps.text(0))) s->sandbox_by_address[*a] = std::string(taps.text(1));
    auto stored = all(db, WithSecrets::yes);
    for (auto& st : stored) add_policy(*s, st, options, previous);
    for (auto& st : stored) forget_secrets(st.policy);
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  db.exec("COMMIT");
  s->loaded_ms = time::steady_ms();  // for its age only
  return s;
}

Lookup find_source(const Snapshot& s, uint32_t source) {
  Lookup l;
  auto a = s.sandbox_by_address.find(source);
  if (a == s.sandbox_by_address.end()) return l;
  l.sandbox = a->second;
  auto p = s.policies.find(l.sandbox);
  if (p == s.policies.end()) {
    l.status = Lookup::Status::no_policy;
    return l;
  }
  l.status = Lookup::Status::ok;
  l.policy = p->second.policy;
  l.secrets = p->second.secrets;
  return l;
}

std::optional<uint32_t> node_gateway(state::Db& db) {
  auto s = db.prepare("SELECT gateway FROM tap_node WHERE id = 1");
  if (!s.step()) return std::nullopt;
  return ipv4::parse_address(s.text(0));
}

bool Watcher::changed() {
  auto s = m_db.prepare("PRAGMA data_version");
  s.step();
  int64_t v = s.integer(0);
  bool changed = v != m_version;
  m_version = v;
  return changed;
}

}  // namespace cube::egress
