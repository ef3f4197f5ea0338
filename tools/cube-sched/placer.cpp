#include "placer.hpp"

#include "timeutil.hpp"
#include "units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

namespace cube::sched {
namespace {

bool in_values(const std::string& v, const std::vector<std::string>& values) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// Whether a present label with this value (and its parsed quantity) satisfies the requirement.
bool accepts(const Requirement& r, const std::string& value, const std::optional<Quantity>& q,
             const std::optional<Quantity>& bound) {
  switch (r.op) {
    case Op::in: return in_values(value, r.values);
    case Op::not_in: return !in_values(value, r.values);
    case Op::exists: return true;
    case Op::does_not_exist: return false;
    case Op::gt: return q && bound && *q > *bound;
    case Op::lt: return q && bound && *q < *bound;
  }
  return false;
}

std::string millicores(int64_t m) { return fmt::format("{}m", m); }
std::string bytes(int64_t b) { return b < 0 ? "-" + units::format_size(-b) : units::format_size(b); }

std::string quota_text(const NodeState& n, bool cpu, bool ignored) {
  auto amount = cpu ? millicores : bytes;
  int64_t quota = cpu ? n.cpu_quota : n.mem_quota;
  int64_t allocated = cpu ? n.alloc_cpu : n.alloc_mem;
  return fmt::format("quota {} × {} − allocated {}{}", amount(quota), cpu ? n.cpu_ratio : n.mem_ratio,
                     amount(allocated), ignored ? " (recorded allocations ignored)" : "");
}

}  // namespace

std::string_view filter_name(Filter f) {
  switch (f) {
    case Filter::none: return "";
    case Filter::health: return "health";
    case Filter::cordon: return "cordon";
    case Filter::instance_type: return "instance-type";
    case Filter::affinity: return "affinity";
    case Filter::template_replica: return "template";
    case Filter::sandboxes: return "sandboxes";
    case Filter::cpu: return "cpu";
    case Filter::cpu_util: return "cpu-util";
    case Filter::mem: return "mem";
    case Filter::mem_free: return "mem-free";
    case Filter::create_rate: return "create-rate";
    case Filter::disk: return "disk";
  }
  return "";
}

CompiledRequirement Placer::compile_one(const Requirement& r, size_t source) const {
  CompiledRequirement c;
  c.source = source;
  bool absent_ok = r.op == Op::not_in || r.op == Op::does_not_exist;
  const LabelColumn* col = m_inv.column(r.key);
  if (!col) {
    c.accept = {static_cast<uint8_t>(absent_ok)};
    return c;
  }
  std::optional<Quantity> bound;
  if (r.op == Op::gt || r.op == Op::lt) bound = parse_quantity(r.values.front());
  c.column = &col->value_of;
  c.accept.resize(col->values.size());
  c.accept[0] = absent_ok;
  for (size_t v = 1; v < col->values.size(); ++v) c.accept[v] = accepts(r, col->values[v], col->quantities[v], bound);
  return c;
}

CompiledRequest Placer::compile(const Request& req) const {
  CompiledRequest c;
  if (!req.instance_type.empty())
    c.type.push_back(compile_one({std::string(k_label_instance_type), Op::in, {req.instance_type}, ""}, 0));
  for (size_t i = 0; i < req.requirements.size(); ++i) c.affinity.push_back(compile_one(req.requirements[i], i));
  if (req.replicas) {
    c.replica_ok.resize(m_inv.size());
    for (size_t i = 0; i < m_inv.size(); ++i) {
      const ReplicaState* r = req.replicas->find(m_inv.id(i));
      c.replica_ok[i] = r && r->usable();
    }
  }
  return c;
}

Verdict Placer::check(const CompiledRequest& c, const Request& req, size_t i) const {
  const NodeState& n = m_inv.node(i);
  auto matches = [i](const CompiledRequirement& r) { return r.accept[r.column ? (*r.column)[i] : 0] != 0; };
  if (n.health != health::Reason::none) return {Filter::health};
  if (n.cordoned) return {Filter::cordon};
  for (const auto& r : c.type)
    if (!matches(r)) return {Filter::instance_type};
  for (const auto& r : c.affinity)
    if (!matches(r)) return {Filter::affinity, r.source};
  if (!c.replica_ok.empty() && !c.replica_ok[i]) return {Filter::template_replica};
  if (n.sandboxes >= n.max_sandboxes) return {Filter::sandboxes};
  if (n.creating >= m_inv.policy().create_limit) return {Filter::create_rate};
  if (req.cpu_m > n.eff_cpu - n.alloc_cpu) return {Filter::cpu};
  if (n.cpu_util >= m_inv.policy().cpu_util_ceiling) return {Filter::cpu_util};
  if (req.mem > n.eff_mem - n.alloc_mem) return {Filter::mem};
  // Physical guard: overcommit does not create real memory (doc/cube-sched.md, "Filters").
  if (req.mem >= n.mem_free - n.mem_reserve) return {Filter::mem_free};
  if (n.disk_used >= m_inv.policy().disk_ceiling) return {Filter::disk};
  return {};
}

namespace {

// One score for both score() and the decision loop, so they cannot disagree.
inline Score score_of(const HotNode& n, int64_t cpu_m, int64_t mem, const Policy& p) {
  // free − want is "free after placing"; eff − free + want is "allocated after placing".
  auto part = [&](int64_t eff, int64_t free, int64_t want) {
    if (eff <= 0) return 0.0;
    int64_t used = p.strategy == Strategy::most_allocated ? eff - free + want : free - want;
    return static_cast<double>(used) * 100.0 / static_cast<double>(eff);
  };
  Score s;
  s.cpu = part(n.eff_cpu, n.free_cpu, cpu_m);
  s.mem = part(n.eff_mem, n.free_mem, mem);
  double weights = p.cpu_weight + p.mem_weight;
  s.total = weights > 0 ? (p.cpu_weight * s.cpu + p.mem_weight * s.mem) / weights : 0.0;
  return s;
}

// A compiled requirement as two raw arrays, for the decision loop.
struct Lookup {
  const uint32_t* column;
  const uint8_t* accept;
};

}  // namespace

Score Placer::score(const Request& req, size_t i) const {
  return score_of(m_inv.hot()[i], req.cpu_m, req.mem, m_inv.policy());
}

bool Placer::fits(const CompiledRequest& c, const Request& req, size_t i) const {
  // The same verdict as check() == Filter::none, cheapest tests first; the order only matters
  // for which filter an explanation names.
  const HotNode& h = m_inv.hot()[i];
  if (!h.eligible || req.cpu_m > h.free_cpu || req.mem > h.free_mem || req.mem >= h.mem_room) return false;
  auto matches = [i](const CompiledRequirement& r) { return r.accept[r.column ? (*r.column)[i] : 0] != 0; };
  for (const auto& r : c.type)
    if (!matches(r)) return false;
  for (const auto& r : c.affinity)
    if (!matches(r)) return false;
  return c.replica_ok.empty() || c.replica_ok[i];
}

Decision Placer::decide(const Request& req, size_t random_top) const {
  CompiledRequest c = compile(req);
  // fits(), unrolled into raw arrays: this loop is the whole cost of a decision.
  std::vector<Lookup> lookups;
  for (const auto* group : {&c.type, &c.affinity})
    for (const auto& r : *group) {
      if (r.column)
        lookups.push_back({r.column->data(), r.accept.data()});
      else if (!r.accept[0])
        return {};  // a label no node has, required: nothing can match
    }
  const HotNode* hot = m_inv.hot().data();
  const Policy& policy = m_inv.policy();
  const int64_t cpu = req.cpu_m, mem = req.mem;
  // Each pass compacts the surviving node indexes without a branch (write, then advance by the
  // verdict): node data is random, so branches would mispredict about half the time. Survivors
  // stay in ID order, which keeps ties going to the lowest ID.
  static thread_local std::vector<uint32_t> scratch;
  scratch.resize(m_inv.size());
  uint32_t* alive = scratch.data();
  size_t count = 0;
  for (size_t i = 0, n = m_inv.size(); i < n; ++i) {
    const HotNode& h = hot[i];
    alive[count] = static_cast<uint32_t>(i);
    count += h.eligible & (cpu <= h.free_cpu) & (mem <= h.free_mem) & (mem < h.mem_room);
  }
  for (const Lookup& l : lookups) {
    size_t kept = 0;
    for (size_t j = 0; j < count; ++j) {
      uint32_t i = alive[j];
      alive[kept] = i;
      kept += l.accept[l.column[i]] != 0;
    }
    count = kept;
  }
  if (!c.replica_ok.empty()) {
    size_t kept = 0;
    for (size_t j = 0; j < count; ++j) {
      uint32_t i = alive[j];
      alive[kept] = i;
      kept += c.replica_ok[i];
    }
    count = kept;
  }
  Decision best;
  std::vector<std::pair<double, size_t>> top;
  for (size_t j = 0; j < count; ++j) {
    size_t i = alive[j];
    Score s = score_of(hot[i], cpu, mem, policy);
    if (random_top > 0) top.emplace_back(s.total, i);
    if (!best.node || s.total > best.score.total) best = {i, s};
  }
  if (random_top == 0 || top.empty()) return best;
  size_t n = std::min(random_top, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<ptrdiff_t>(n), top.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  size_t pick = top[std::uniform_int_distribution<size_t>(0, n - 1)(rng)].second;
  return {pick, score(req, pick)};
}

bool Placer::has_type(const std::string& type) const {
  const LabelColumn* col = m_inv.column(k_label_instance_type);
  return col && col->ids.count(type) > 0;
}

std::string Placer::summary(const Request& req, const Verdict& v, size_t i) const {
  const NodeState& n = m_inv.node(i);
  switch (v.filter) {
    case Filter::health:
      if (n.gone) return "removed";
      if (n.health == health::Reason::reported_not_ready) return "unhealthy (reported not ready)";
      if (n.heartbeat_ms <= 0) return "unhealthy (no heartbeat yet)";
      return fmt::format("unhealthy (heartbeat {} ago)", time::age(m_inv.loaded_ms() - n.heartbeat_ms));
    case Filter::affinity: return fmt::format("affinity ({})", req.requirements[v.requirement].origin);
    case Filter::template_replica: {
      const ReplicaState* r = req.replicas->find(m_inv.id(i));
      if (!r) return "template (no replica)";
      return fmt::format("template (replica {})", r->status != "READY" ? r->status : r->compat_status);
    }
    case Filter::instance_type:
      if (!has_type(req.instance_type)) return fmt::format("instance-type (no node has \"{}\")", req.instance_type);
      return "instance-type";
    default: return std::string(filter_name(v.filter));
  }
}

NodeReport Placer::report(const Request& req, const Verdict& v, size_t i) const {
  const NodeState& n = m_inv.node(i);
  const Policy& p = m_inv.policy();
  NodeReport r{i, v.filter, "", summary(req, v, i), {}, {}};
  switch (v.filter) {
    case Filter::none:
      r.score = score(req, i);
      r.reason = fmt::format("fits; score {:.2f} (cpu {:.2f} × {}, mem {:.2f} × {}, {})", r.score.total, r.score.cpu,
                             p.cpu_weight, r.score.mem, p.mem_weight, strategy_name(p.strategy));
      break;
    case Filter::health:
      if (n.gone)
        r.reason = "removed";
      else if (n.health == health::Reason::reported_not_ready)
        r.reason = "the node reported not ready";
      else if (n.heartbeat_ms <= 0)
        r.reason = "no heartbeat yet";
      else
        r.reason = fmt::format("heartbeat {} ago (timeout {})", time::age(m_inv.loaded_ms() - n.heartbeat_ms),
                               time::age(p.heartbeat_timeout_ms));
      r.numbers = {{"heartbeat_ms", n.heartbeat_ms}};
      break;
    case Filter::cordon: r.reason = "cordoned"; break;
    case Filter::instance_type: {
      const std::string* t = m_inv.label(*m_inv.column(k_label_instance_type), i);
      r.reason = fmt::format("instance type \"{}\" is not \"{}\"", t ? *t : "", req.instance_type);
      // Upstream would place on any healthy node here; say why we do not (doc/cube-sched.md).
      if (!has_type(req.instance_type))
        r.reason += "; no node has that instance type, and an unknown type matches no node";
      break;
    }
    case Filter::affinity: {
      const Requirement& q = req.requirements[v.requirement];
      const LabelColumn* col = m_inv.column(q.key);
      const std::string* value = col ? m_inv.label(*col, i) : nullptr;
      r.reason = fmt::format("{} ({}) does not match: label {}", q.origin, describe(q),
                             value ? fmt::format("is \"{}\"", *value) : std::string("absent"));
      break;
    }
    case Filter::template_replica: {
      const std::string& tpl = req.replicas->template_id;
      const ReplicaState* rep = req.replicas->find(m_inv.id(i));
      if (!rep)
        r.reason = fmt::format("no replica of {} on this node", tpl);
      else if (rep->status != "READY")
        r.reason = fmt::format("the replica of {} is {}, not READY", tpl, rep->status);
      else
        r.reason = fmt::format(
            "the replica of {} is STALE: the node's guest image, agent or kernel changed since it was built "
            "(cube-versions compat show {})",
            tpl, tpl);
      break;
    }
    case Filter::sandboxes:
      r.reason = fmt::format("{} sandboxes, the maximum is {}", n.sandboxes, n.max_sandboxes);
      r.numbers = {{"sandboxes", n.sandboxes}, {"max_sandboxes", n.max_sandboxes}};
      break;
    case Filter::cpu:
      r.reason = fmt::format("free {} < requested {} ({})", millicores(n.eff_cpu - n.alloc_cpu), millicores(req.cpu_m),
                             quota_text(n, true, p.ignore_recorded_allocations));
      r.numbers = {{"free_cpu_m", n.eff_cpu - n.alloc_cpu},
                   {"requested_cpu_m", req.cpu_m},
                   {"quota_cpu_m", n.cpu_quota},
                   {"ratio", n.cpu_ratio},
                   {"allocated_cpu_m", n.alloc_cpu}};
      break;
    case Filter::cpu_util:
      r.reason = fmt::format("utilisation {:.1f}% ≥ ceiling {}%", n.cpu_util, p.cpu_util_ceiling);
      r.numbers = {{"cpu_util", n.cpu_util}, {"ceiling", p.cpu_util_ceiling}};
      break;
    case Filter::mem:
      r.reason = fmt::format("free {} < requested {} ({})", bytes(n.eff_mem - n.alloc_mem), bytes(req.mem),
                             quota_text(n, false, p.ignore_recorded_allocations));
      r.numbers = {{"free_mem", n.eff_mem - n.alloc_mem},
                   {"requested_mem", req.mem},
                   {"quota_mem", n.mem_quota},
                   {"ratio", n.mem_ratio},
                   {"allocated_mem", n.alloc_mem}};
      break;
    case Filter::mem_free:
      r.reason = fmt::format("real free memory {} ≤ requested {} + reserve {}", bytes(n.mem_free), bytes(req.mem),
                             bytes(n.mem_reserve));
      r.numbers = {{"real_free_mem", n.mem_free}, {"requested_mem", req.mem}, {"reserve_mem", n.mem_reserve}};
      break;
    case Filter::create_rate:
      r.reason = fmt::format(
          "{} sandboxes still being created, the limit is {} (an allocation counts until "
          "cube-sched started or {} after placing)",
          n.creating, p.create_limit, time::age(p.create_window_ms));
      r.numbers = {{"creating", n.creating}, {"create_limit", p.create_limit}};
      break;
    case Filter::disk:
      r.reason = fmt::format("disk usage {:.1f}% ≥ ceiling {}%", n.disk_used, p.disk_ceiling);
      r.numbers = {{"disk_used", n.disk_used}, {"ceiling", p.disk_ceiling}};
      break;
  }
  return r;
}

namespace {

Rejections sorted_counts(const std::map<std::string, size_t>& counts) {
  Rejections out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace

Explanation Placer::explain(const Request& req) const {
  Explanation e;
  e.decision = decide(req);
  CompiledRequest c = compile(req);
  std::map<std::string, size_t> counts;
  for (size_t i = 0; i < m_inv.size(); ++i) {
    e.nodes.push_back(report(req, check(c, req, i), i));
    if (e.nodes.back().filter != Filter::none) ++counts[e.nodes.back().summary];
  }
  e.rejections = sorted_counts(counts);
  return e;
}

Rejections Placer::rejections(const Request& req) const {
  CompiledRequest c = compile(req);
  // Counted per verdict first, so only groups (not nodes) pay for their text; health groups by age.
  std::map<std::pair<Filter, size_t>, size_t> by_verdict;
  std::map<std::string, size_t> counts;
  for (size_t i = 0; i < m_inv.size(); ++i) {
    Verdict v = check(c, req, i);
    if (v.filter == Filter::health || v.filter == Filter::template_replica)
      ++counts[summary(req, v, i)];
    else if (v.filter != Filter::none)
      ++by_verdict[{v.filter, v.requirement}];
  }
  for (const auto& [key, n] : by_verdict) counts[summary(req, {key.first, key.second}, 0)] += n;
  return sorted_counts(counts);
}

std::string rejection_summary(const Rejections& rejections) {
  std::string out;
  for (const auto& [what, count] : rejections)
    out += fmt::format("{}{} node{}: {}", out.empty() ? "" : "; ", count, count == 1 ? "" : "s", what);
  return out.empty() ? "no nodes are registered" : out;
}

}  // namespace cube::sched
