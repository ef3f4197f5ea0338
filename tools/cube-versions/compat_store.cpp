#include "compat_store.hpp"

#include "error.hpp"

#include <fmt/format.h>

namespace cube::versions {
namespace {

void count(RescanResult& r, compat::Status s) {
  (s == compat::Status::ok ? r.ok : s == compat::Status::stale ? r.stale : r.unknown)++;
}

struct Replica {
  std::string template_id, node_id;
  compat::Versions bound;
  compat::Status status;
  compat::Policy policy;
};

std::vector<Replica> ready_replicas(state::Db& db, const char* where, const std::string& key) {
  auto q = db.prepare(fmt::format(
      "SELECT template_id, node_id, guest_image_version, agent_version, kernel_version, compat_status, "
      "compat_policy FROM template_replicas WHERE {} = ?1 AND status = 'READY' ORDER BY template_id, node_id",
      where));
  q.bind(1, key);
  std::vector<Replica> out;
  while (q.step())
    out.push_back({std::string(q.text(0)),
                   std::string(q.text(1)),
                   {std::string(q.text(2)), std::string(q.text(3)), std::string(q.text(4))},
                   compat::parse_status(q.text(5)),
                   compat::parse_policy(q.text(6)).value_or(compat::Policy::strict)});
  return out;
}

void write_status(state::Db& db, const std::string& template_id, const std::string& node_id, compat::Status s,
                  int64_t now_ms) {
  db.prepare(
        "UPDATE template_replicas SET compat_status = ?, compat_checked_ms = ? WHERE template_id = ? AND node_id = ?")
      .bind_all(compat::status_name(s), now_ms, template_id, node_id)
      .run();
}

}  // namespace

bool Changed::matters_to(compat::Policy p) const {
  return guest_image || (agent && compat::compares_agent(p)) || (kernel && compat::compares_kernel(p));
}

Changed changed_between(const compat::Versions& before, const compat::Versions& after) {
  return {before.guest_image != after.guest_image, before.agent != after.agent, before.kernel != after.kernel};
}

RescanResult rescan_node(Both& both, const std::string& node_id, const Clock& clock, const Changed* only) {
  RescanResult r{node_id, false, 0, 0, 0, 0, 0};
  std::optional<compat::Versions> current =
      compat::current_versions(both.cluster(), node_id, clock.now_ms, clock.heartbeat_timeout_ms);
  r.healthy = current.has_value();
  state::Db& db = both.local();
  for (const Replica& rep : ready_replicas(db, "node_id", node_id)) {
    if (only && !only->matters_to(rep.policy)) continue;
    compat::Status s = compat::rescan(rep.status, rep.bound, current, rep.policy);
    write_status(db, rep.template_id, node_id, s, clock.now_ms);
    ++r.checked;
    r.changed += s != rep.status;
    count(r, s);
  }
  return r;
}

std::vector<RescanResult> rescan(Stores& stores, const std::vector<std::string>& nodes, bool all, const Clock& clock) {
  std::vector<RescanResult> out;
  stores.write([&](Both& both) {
    out.clear();  // a rerun starts again
    std::vector<std::string> targets = nodes;
    if (all) {
      targets.clear();
      auto q = both.local().prepare(
          "SELECT DISTINCT node_id FROM template_replicas WHERE status = 'READY' ORDER BY node_id");
      while (q.step()) targets.emplace_back(q.text(0));
    }
    for (const auto& n : targets) out.push_back(rescan_node(both, n, clock));
  });
  return out;
}

void require_template(state::Db& db, const std::string& template_id) {
  auto q = db.prepare("SELECT 1 FROM templates WHERE template_id = ?1");
  q.bind(1, template_id);
  if (!q.step())
    throw Error(Exit::not_found, fmt::format("template {} not found", template_id), "",
                "cube-rootfs list shows the templates");
}

PolicyResult set_policy(Stores& stores, const std::string& template_id, compat::Policy policy, const Clock& clock) {
  PolicyResult out;
  stores.write([&](Both& both) {
    state::Db& db = both.local();
    require_template(db, template_id);
    std::string name(compat::policy_name(policy));
    db.prepare(
          "INSERT INTO template_compat (template_id, policy, updated_ms) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (template_id) DO UPDATE SET policy = excluded.policy, updated_ms = excluded.updated_ms")
        .bind_all(template_id, name, clock.now_ms)
        .run();
    db.prepare("UPDATE template_replicas SET compat_policy = ?1 WHERE template_id = ?2")
        .bind_all(name, template_id)
        .run();
    out = {template_id, policy, 0, 0, 0, 0};
    for (const Replica& rep : ready_replicas(db, "template_id", template_id)) {
      auto current = compat::current_versions(both.cluster(), rep.node_id, clock.now_ms, clock.heartbeat_timeout_ms);
      compat::Status s = compat::rescan(rep.status, rep.bound, current, policy);
      write_status(db, template_id, rep.node_id, s, clock.now_ms);
      ++out.replicas;
      (s == compat::Status::ok ? out.ok : s == compat::Status::stale ? out.stale : out.unknown)++;
    }
  });
  return out;
}

int64_t adopt_baseline(Stores& stores, const std::string& template_id, const Clock& clock) {
  int64_t adopted = 0;
  stores.write([&](Both& both) {
    state::Db& db = both.local();
    require_template(db, template_id);
    auto q = db.prepare(
        "SELECT node_id, compat_policy FROM template_replicas WHERE template_id = ?1 AND status = 'READY' "
        "AND compat_status = 'UNKNOWN' ORDER BY node_id");
    q.bind(1, template_id);
    std::vector<std::pair<std::string, compat::Policy>> candidates;
    while (q.step())
      candidates.emplace_back(q.text(0), compat::parse_policy(q.text(1)).value_or(compat::Policy::strict));
    adopted = 0;
    for (const auto& [node, policy] : candidates) {
      auto current = compat::current_versions(both.cluster(), node, clock.now_ms, clock.heartbeat_timeout_ms);
      // Upstream asks for guest image and agent; a policy that compares the kernel needs it too.
      if (!current || current->guest_image.empty() || current->agent.empty()) continue;
      if (compat::compares_kernel(policy) && current->kernel.empty()) continue;
      db.prepare(
            "UPDATE template_replicas SET guest_image_version = ?, agent_version = ?, kernel_version = ?, "
            "compat_status = 'OK', compat_checked_ms = ? WHERE template_id = ? AND node_id = ?")
          .bind_all(current->guest_image, current->agent, current->kernel, clock.now_ms, template_id, node)
          .run();
      ++adopted;
    }
  });
  return adopted;
}

ForgetResult forget_node(cluster::Store& store, const std::string& node_id) {
  ForgetResult r{node_id, 0, false};
  store.write([&](cluster::Tx& tx) {
    r.components = tx.exec("DELETE FROM node_component_version WHERE node_id = $1", {node_id});
    r.report = tx.exec("DELETE FROM node_version_report WHERE node_id = $1", {node_id}) > 0;
    if (r.components == 0 && !r.report)
      throw Error(Exit::not_found, fmt::format("node {} has no version reports", node_id), "",
                  "cube-versions matrix lists the nodes that reported");
  });
  return r;
}

}  // namespace cube::versions
