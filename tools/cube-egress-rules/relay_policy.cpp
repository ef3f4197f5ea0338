#include "relay_policy.hpp"

#include "error.hpp"
#include "ipv4.hpp"
#include "log.hpp"

namespace cube::egress {
namespace {

std::shared_ptr<const CompiledPolicy> default_policy(const CompileOptions& options) {
  return std::make_shared<const CompiledPolicy>(compile(Policy{}, options));
}

}  // namespace

Policies Policies::load(state::Db& db, const CompileOptions& options) {
  Policies out;
  out.m_default = {"", default_policy(options)};
  auto q = db.prepare(
      "SELECT t.address, t.sandbox_id, r.policy FROM taps t LEFT JOIN egress_rules r ON r.sandbox_id = t.sandbox_id "
      "WHERE t.state = 'in_use' AND t.sandbox_id IS NOT NULL");
  while (q.step()) {
    auto address = ipv4::parse_address(q.text(0));
    if (!address) continue;
    SandboxPolicy sp{std::string(q.text(1)), out.m_default.policy};
    if (!q.is_null(2)) {
      try {
        sp.policy =
            std::make_shared<const CompiledPolicy>(compile(parse_policy(q.text(2), SecretSource::stored), options));
      } catch (const Error& e) {
        log::warn("sandbox {}: its stored policy does not compile, the default applies ({})", sp.sandbox, e.message());
      }
    }
    out.m_by_address.emplace(*address, std::move(sp));
  }
  return out;
}

const SandboxPolicy& Policies::find(uint32_t address) const {
  auto it = m_by_address.find(address);
  return it == m_by_address.end() ? m_default : it->second;
}

PolicyWatcher::PolicyWatcher(const std::string& state_path, CompileOptions options, int64_t interval_ms)
    : m_db(state::Db::open(state_path, state::Access::read)),
      m_options(std::move(options)),
      m_interval_ms(interval_ms) {
  m_version = data_version();
  m_policies = Policies::load(m_db, m_options);
}

int64_t PolicyWatcher::data_version() {
  auto q = m_db.prepare("PRAGMA data_version");
  return q.step() ? q.integer(0) : 0;
}

bool PolicyWatcher::poll(int64_t now_ms) {
  if (now_ms < m_next_ms) return false;
  m_next_ms = now_ms + m_interval_ms;
  int64_t v = data_version();
  if (v == m_version) return false;
  m_version = v;
  m_policies = Policies::load(m_db, m_options);
  log::debug("policies reloaded: {} sandbox addresses", m_policies.size());
  return true;
}

bool resolver_allowed(const CompiledPolicy& c, uint32_t resolver) {
  return c.allow_set.find(resolver) || !c.deny_set.find(resolver);
}

bool learnable(const CompiledPolicy& c, std::string_view name) {
  return !name.empty() && c.allow_domain_trie.matches(name);
}

}  // namespace cube::egress
