#include "compat.hpp"

#include "health.hpp"

#include <algorithm>
#include <cctype>

namespace cube::compat {
namespace {

std::string upper(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)))
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// One dimension: 0 equal, 1 unknown (an empty side), 2 different.
int compare(const std::string& bound, const std::string& current) {
  if (bound.empty() || current.empty()) return 1;
  return bound == current ? 0 : 2;
}

}  // namespace

std::string normalise_version(std::string_view v) {
  size_t b = v.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string_view::npos) return {};
  size_t e = v.find_last_not_of(" \t\r\n\v\f");
  std::string out(v.substr(b, e - b + 1));
  return upper(out) == "UNKNOWN" ? std::string() : out;
}

std::optional<Policy> parse_policy(std::string_view text) {
  std::string p = upper(text);
  if (p.empty() || p == "STRICT") return Policy::strict;
  if (p == "GUEST_ONLY") return Policy::guest_only;
  if (p == "STRICT_KERNEL") return Policy::strict_kernel;
  return std::nullopt;
}

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::strict: return "STRICT";
    case Policy::guest_only: return "GUEST_ONLY";
    case Policy::strict_kernel: return "STRICT_KERNEL";
  }
  return "STRICT";
}

Status parse_status(std::string_view text) {
  // The spellings this module writes first: the compat matrix parses one per replica row.
  if (text == "OK") return Status::ok;
  if (text == "STALE") return Status::stale;
  std::string s = upper(text);
  if (s == "OK") return Status::ok;
  if (s == "STALE") return Status::stale;
  return Status::unknown;
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "OK";
    case Status::stale: return "STALE";
    case Status::unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

bool compares_agent(Policy p) { return p != Policy::guest_only; }
bool compares_kernel(Policy p) { return p == Policy::strict_kernel; }

Status evaluate(const Versions& bound, const Versions& current, Policy p) {
  int worst = compare(bound.guest_image, current.guest_image);
  if (compares_agent(p)) worst = std::max(worst, compare(bound.agent, current.agent));
  if (compares_kernel(p)) worst = std::max(worst, compare(bound.kernel, current.kernel));
  return worst == 2 ? Status::stale : worst == 1 ? Status::unknown : Status::ok;
}

Status rescan(Status stored, const Versions& bound, const std::optional<Versions>& current, Policy p) {
  if (current) return evaluate(bound, *current, p);
  return stored == Status::stale ? Status::stale : Status::unknown;
}

Versions recorded_versions(cluster::Tx& tx, std::string_view node_id) {
  auto q =
      tx.query("SELECT component, version FROM node_component_version WHERE node_id = $1 AND component IN ($2, $3, $4)",
               {node_id, k_guest_image, k_agent, k_kernel});
  Versions v;
  while (q.next()) {
    std::string_view c = q.text(0);
    std::string value = normalise_version(q.text(1));
    (c == k_guest_image ? v.guest_image : c == k_agent ? v.agent : v.kernel) = std::move(value);
  }
  return v;
}

bool node_healthy(cluster::Tx& tx, std::string_view node_id, int64_t now_ms, int64_t timeout_ms) {
  auto q = tx.query(
      "SELECT COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0) FROM nodes n "
      "LEFT JOIN node_heartbeats h ON h.node_id = n.id WHERE n.id = $1",
      {node_id});
  if (!q.next()) return false;
  return health::evaluate(q.integer(0), q.integer(1) != 0, now_ms, timeout_ms).healthy;
}

std::optional<Versions> current_versions(cluster::Tx& tx, std::string_view node_id, int64_t now_ms,
                                         int64_t timeout_ms) {
  if (!node_healthy(tx, node_id, now_ms, timeout_ms)) return std::nullopt;
  return recorded_versions(tx, node_id);
}

Policy template_policy(state::Db& db, std::string_view template_id) {
  auto q = db.prepare("SELECT policy FROM template_compat WHERE template_id = ?1");
  q.bind(1, template_id);
  if (!q.step()) return Policy::strict;
  return parse_policy(q.text(0)).value_or(Policy::strict);
}

}  // namespace cube::compat
