#include "replicas.hpp"

#include "error.hpp"

#include <fmt/format.h>

namespace cube::sched {

const ReplicaState* TemplateReplicas::find(const std::string& node) const {
  auto it = by_node.find(node);
  return it == by_node.end() ? nullptr : &it->second;
}

std::shared_ptr<const TemplateReplicas> load_replicas(state::Db& db, const std::string& template_id) {
  auto exists = db.prepare("SELECT 1 FROM templates WHERE template_id = ?1");
  exists.bind(1, template_id);
  if (!exists.step())
    throw Error(Exit::not_found, fmt::format("template {} not found", template_id), "",
                "cube-rootfs list shows the templates");
  auto out = std::make_shared<TemplateReplicas>();
  out->template_id = template_id;
  auto q = db.prepare("SELECT node_id, status, compat_status FROM template_replicas WHERE template_id = ?1");
  q.bind(1, template_id);
  while (q.step()) out->by_node[std::string(q.text(0))] = {std::string(q.text(1)), std::string(q.text(2))};
  return out;
}

namespace {
constexpr const char* k_replica_query =
    "SELECT status, compat_status FROM template_replicas WHERE template_id = $1 AND node_id = $2";
}  // namespace

std::optional<ReplicaState> read_replica(state::Db& db, const std::string& template_id, const std::string& node) {
  auto q = db.prepare(k_replica_query);
  q.bind_all(template_id, node);
  if (!q.step()) return std::nullopt;
  return ReplicaState{std::string(q.text(0)), std::string(q.text(1))};
}

std::optional<ReplicaState> read_replica(cluster::Tx& tx, const std::string& template_id, const std::string& node) {
  auto q = tx.query(k_replica_query, {template_id, node});
  if (!q.next()) return std::nullopt;
  return ReplicaState{std::string(q.text(0)), std::string(q.text(1))};
}

}  // namespace cube::sched
