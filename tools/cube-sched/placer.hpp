// cube::sched::Placer — filters and scores over an Inventory, in process (doc/cube-sched.md,
// "Filters" and "Scores").
//
// Contract: a node fits when it passes, in this order: health, cordon, instance-type (when the
// request names one), affinity (every required expression), template (a READY replica of the
// request's template that is not STALE, when it names one), sandboxes (count < maximum),
// create-rate (sandboxes still being created < create_limit), cpu (request ≤ effective quota −
// allocated), cpu-util (utilisation < ceiling), mem (as cpu), mem-free (real free > request +
// reserve), disk (store usage < disk_usage_max_percent). Survivors are scored by the policy's strategy; the
// highest score wins and ties go to the lowest node ID, unless random_top > 0, which picks uniformly
// among the best random_top. Requests are compiled once against the inventory: matching a node is
// a few array lookups, no string work.
#pragma once

#include "inventory.hpp"
#include "replicas.hpp"
#include "selector.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cube::sched {

struct Request {
  int64_t cpu_m = 0;
  int64_t mem = 0;
  std::string instance_type;  // empty: any
  std::vector<Requirement> requirements;
  std::string sandbox;  // required to commit
  // With a template: only nodes holding a usable replica of it (READY, not STALE).
  std::shared_ptr<const TemplateReplicas> replicas;
};

enum class Filter : uint8_t {
  none,
  health,
  cordon,
  instance_type,
  affinity,
  template_replica,
  sandboxes,
  create_rate,
  cpu,
  cpu_util,
  mem,
  mem_free,
  disk
};
std::string_view filter_name(Filter f);

// A requirement resolved against the inventory: accept[value ID of the node's label].
struct CompiledRequirement {
  const std::vector<uint32_t>* column = nullptr;  // nullptr: no node has the label
  std::vector<uint8_t> accept;                    // [0] = accepts an absent label
  size_t source = 0;                              // index into Request::requirements
};

struct CompiledRequest {
  std::vector<CompiledRequirement> type;      // the --instance-type filter, 0 or 1 entries
  std::vector<CompiledRequirement> affinity;  // the required expressions
  std::vector<uint8_t> replica_ok;            // per node, with a template; empty without
};

struct Score {
  double cpu = 0, mem = 0, total = 0;
};

struct Verdict {
  Filter filter = Filter::none;
  size_t requirement = 0;  // for affinity: which Request::requirements entry failed
};

struct Decision {
  std::optional<size_t> node;
  Score score;
};

// Why one node was rejected, or how it scored.
struct NodeReport {
  size_t node = 0;
  Filter filter = Filter::none;
  std::string reason;   // "free 1500m < requested 2000m (quota 16000m × 3 − allocated 46500m)"
  std::string summary;  // how rejections are grouped: "cpu", "unhealthy (heartbeat 2m ago)"
  std::vector<std::pair<std::string, std::variant<int64_t, double>>> numbers;
  Score score;
};

// {summary, count}, most frequent first: "812 nodes: cpu".
using Rejections = std::vector<std::pair<std::string, size_t>>;

struct Explanation {
  Decision decision;
  std::vector<NodeReport> nodes;  // every node, in ID order
  Rejections rejections;
};

class Placer {
 public:
  explicit Placer(const Inventory& inv) : m_inv(inv) {}

  CompiledRequest compile(const Request& req) const;
  // The first filter node i fails, in the documented order (for explanations).
  Verdict check(const CompiledRequest& c, const Request& req, size_t i) const;
  // check(...).filter == Filter::none, faster: what decide() uses.
  bool fits(const CompiledRequest& c, const Request& req, size_t i) const;
  Score score(const Request& req, size_t i) const;
  Decision decide(const Request& req, size_t random_top = 0) const;
  Explanation explain(const Request& req) const;
  // Only the counts, without per-node reasons: what a failed decision reports.
  Rejections rejections(const Request& req) const;

 private:
  CompiledRequirement compile_one(const Requirement& r, size_t source) const;
  NodeReport report(const Request& req, const Verdict& v, size_t i) const;
  std::string summary(const Request& req, const Verdict& v, size_t i) const;
  bool has_type(const std::string& type) const;  // some node is of this instance type

  const Inventory& m_inv;
};

// "812 nodes: cpu; 3 nodes: unhealthy (heartbeat 2m ago)"
std::string rejection_summary(const Rejections& r);

}  // namespace cube::sched
