#include "store.hpp"

#include "error.hpp"
#include "policy_json.hpp"

#include <fmt/format.h>

namespace cube::egress {
namespace {

constexpr std::string_view k_columns = "sandbox_id, policy, rules, revision, created_ms, updated_ms";

Stored row(const state::Statement& s) {
  Stored out;
  out.sandbox = std::string(s.text(0));
  out.policy = parse_policy(s.text(1), SecretSource::stored);
  out.rules = s.integer(2);
  out.revision = s.integer(3);
  out.created_ms = s.integer(4);
  out.updated_ms = s.integer(5);
  return out;
}

void fill_secrets(state::Db& db, Stored& st) {
  auto s = db.prepare("SELECT rule, position, secret, secret_ref FROM egress_secrets WHERE sandbox_id = ?");
  s.bind_all(st.sandbox);
  while (s.step()) {
    std::string_view name = s.text(0);
    auto position = static_cast<size_t>(s.integer(1));
    Inject* in = nullptr;
    for (auto& r : st.policy.rules)
      if (r.name == name && position < r.inject.size()) in = &r.inject[position];
    if (!in || in->secret_ref != s.text(3))
      throw Error(Exit::failed,
                  fmt::format("the state file's secrets of sandbox {} do not match its policy", st.sandbox),
                  fmt::format("rule \"{}\" inject[{}]", name, position), "set the sandbox's policy again");
    in->secret = std::string(s.text(2));
  }
}

}  // namespace

int64_t put(state::Db& db, const std::string& sandbox, const Policy& p, int64_t now_ms) {
  db.prepare("DELETE FROM egress_secrets WHERE sandbox_id = ?").bind_all(sandbox).run();
  db.prepare(
        "INSERT INTO egress_rules (sandbox_id, policy, rules, revision, created_ms, updated_ms) VALUES (?, ?, ?, 1, ?, "
        "?) "
        "ON CONFLICT (sandbox_id) DO UPDATE SET policy = excluded.policy, rules = excluded.rules, "
        "revision = revision + 1, updated_ms = excluded.updated_ms")
      .bind_all(sandbox, policy_json(p, SecretOutput::stored), static_cast<int64_t>(p.rules.size()), now_ms, now_ms)
      .run();
  auto ins =
      db.prepare("INSERT INTO egress_secrets (sandbox_id, rule, position, secret, secret_ref) VALUES (?, ?, ?, ?, ?)");
  for (const auto& r : p.rules)
    for (size_t i = 0; i < r.inject.size(); ++i)
      ins.bind_all(sandbox, r.name, static_cast<int64_t>(i), r.inject[i].secret, r.inject[i].secret_ref).run();
  auto rev = db.prepare("SELECT revision FROM egress_rules WHERE sandbox_id = ?");
  rev.bind_all(sandbox);
  rev.step();
  return rev.integer(0);
}

std::optional<Stored> get(state::Db& db, const std::string& sandbox, WithSecrets secrets) {
  auto s = db.prepare(fmt::format("SELECT {} FROM egress_rules WHERE sandbox_id = ?", k_columns));
  s.bind_all(sandbox);
  if (!s.step()) return std::nullopt;
  Stored out = row(s);
  if (secrets == WithSecrets::yes) fill_secrets(db, out);
  return out;
}

bool remove(state::Db& db, const std::string& sandbox) {
  db.prepare("DELETE FROM egress_rules WHERE sandbox_id = ?").bind_all(sandbox).run();
  return db.changes() > 0;
}

std::vector<Stored> all(state::Db& db, WithSecrets secrets) {
  std::vector<Stored> out;
  auto s = db.prepare(fmt::format("SELECT {} FROM egress_rules ORDER BY sandbox_id", k_columns));
  while (s.step()) out.push_back(row(s));
  if (secrets == WithSecrets::yes)
    for (auto& st : out) fill_secrets(db, st);
  return out;
}

}  // namespace cube::egress
