#include "cluster_targets.hpp"

#include "cluster_reader.hpp"
#include "error.hpp"
#include "health.hpp"
#include "ids.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace cube::rootfs {
namespace {

constexpr size_t k_max_pattern = 4096;

[[noreturn]] void bad_pattern(std::string_view pattern, std::string_view why) {
  throw Error(Exit::usage, fmt::format("[rootfs] node_store = {:?}: {}", pattern, why),
              "it names each node's store directory, such as \"/srv/cube/nodes/{node}/store\"");
}

// Why a registered node is not a target, or "" when it is one.
std::string exclusion(const ClusterQuery& q, std::string_view id, std::string_view type, int64_t heartbeat_ms,
                      bool ready) {
  if (!ids::is_path_safe(id)) return "not a path-safe node ID";
  if (!q.scope.empty() && std::find(q.scope.begin(), q.scope.end(), id) == q.scope.end())
    return "not in the template's node scope";
  if (type != q.instance_type) return fmt::format("instance type {}, not {}", type, q.instance_type);
  health::Status h = health::evaluate(heartbeat_ms, ready, q.now_ms, q.settings.heartbeat_timeout_ms);
  if (!h.healthy) return fmt::format("unhealthy ({})", health::reason_name(h.reason));
  if (id != q.settings.node && q.settings.node_store.empty())
    return "no store directory ([rootfs] node_store is not set)";
  return "";
}

}  // namespace

ClusterTargets cluster_targets(state::Db& db, const ClusterQuery& q) {
  ClusterTargets out;
  std::set<std::string, std::less<>> registered;
  ClusterReader(db, q.settings.url).read([&](cluster::Tx& tx) {
    out = {};
    registered.clear();
    auto s = tx.query(
        "SELECT n.id, n.address, n.instance_type, COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0) FROM nodes n "
        "LEFT JOIN node_heartbeats h ON h.node_id = n.id ORDER BY n.id");
    while (s.next()) {
      std::string id(s.text(0));
      registered.insert(id);
      bool scoped = std::find(q.scope.begin(), q.scope.end(), id) != q.scope.end();
      std::string why = exclusion(q, id, s.text(2), s.integer(3), s.integer(4) != 0);
      if (!why.empty()) {
        out.excluded.push_back({id, why, scoped});
      } else if (id == q.settings.node) {
        out.targets.push_back({id, q.local_store, std::string(s.text(1)), true});
      } else {
        out.targets.push_back({id, expand_node_store(q.settings.node_store, id), std::string(s.text(1)), false});
      }
    }
  });
  for (const auto& n : q.scope)
    if (!registered.count(n)) out.excluded.push_back({n, "in the template's node scope but not registered", true});
  return out;
}

std::string explain(const std::vector<Exclusion>& excluded, size_t limit) {
  if (excluded.empty()) return "no node is registered";
  std::string out;
  for (size_t i = 0; i < excluded.size() && i < limit; ++i)
    out += fmt::format("{}{}: {}", i ? "; " : "", excluded[i].node, excluded[i].why);
  if (excluded.size() > limit) out += fmt::format("; and {} more (-v lists them)", excluded.size() - limit);
  return out;
}

void check_node_store(std::string_view p) {
  if (p.empty()) return;  // unset: only this node has a store
  if (p.size() > k_max_pattern) bad_pattern(p.substr(0, 64), fmt::format("longer than {} bytes", k_max_pattern));
  if (p[0] != '/') bad_pattern(p, "not an absolute path");
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) bad_pattern(p, "a control character");
  if (p.find(k_node_placeholder) == std::string_view::npos)
    bad_pattern(p, "no {node} in it, so every node would share one directory");
  for (size_t at = 0; (at = p.find_first_of("{}", at)) != std::string_view::npos;) {
    if (p.substr(at, k_node_placeholder.size()) != k_node_placeholder) bad_pattern(p, "the only placeholder is {node}");
    at += k_node_placeholder.size();
  }
  for (size_t at = 0; at < p.size();) {
    size_t end = p.find('/', at);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(at, end - at);
    if (part == "." || part == "..") bad_pattern(p, fmt::format("a {:?} component", part));
    at = end + 1;
  }
}

std::string expand_node_store(std::string_view pattern, std::string_view node) {
  std::string out;
  for (size_t at = 0;;) {
    size_t hit = pattern.find(k_node_placeholder, at);
    out.append(pattern.substr(at, hit == std::string_view::npos ? std::string_view::npos : hit - at));
    if (hit == std::string_view::npos) return out;
    out.append(node);
    at = hit + k_node_placeholder.size();
  }
}

}  // namespace cube::rootfs
