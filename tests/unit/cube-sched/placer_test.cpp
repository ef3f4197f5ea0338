// Placement over an in-memory inventory: every operator and edge, filters in order, overcommit
// arithmetic, the physical guards, scores and tie-breaks.
#include "cube-sched/placer.hpp"

#include "cube-sched/inventory.hpp"
#include "cube-sched/policy.hpp"
#include "error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>

using namespace cube;
using namespace cube::sched;

namespace {

constexpr int64_t k_now = 1'800'000'000'000;
constexpr int64_t k_gib = int64_t{1} << 30;

NodeRow node(std::string id, int64_t cpu_m = 16000, int64_t mem = 64 * k_gib) {
  NodeRow r;
  r.reg.id = std::move(id);
  r.reg.cpu_m = cpu_m;
  r.reg.mem_bytes = mem;
  r.heartbeat_ms = k_now - 1000;
  r.ready = true;
  r.cpu_util = 10;
  r.mem_free = 1000 * k_gib;
  return r;
}

Request request(int64_t cpu_m = 1000, int64_t mem = k_gib) {
  Request r;
  r.cpu_m = cpu_m;
  r.mem = mem;
  return r;
}

Requirement requirement(std::string key, Op op, std::vector<std::string> values = {}) {
  return {std::move(key), op, std::move(values), "selector[0]"};
}

// Which of the nodes a single requirement keeps.
std::vector<std::string> matching(const std::vector<NodeRow>& rows, const Requirement& r) {
  Inventory inv(rows, Policy{}, k_now);
  Placer p(inv);
  Request req = request();
  req.requirements = {r};
  CompiledRequest c = p.compile(req);
  std::vector<std::string> out;
  for (size_t i = 0; i < inv.size(); ++i)
    if (p.check(c, req, i).filter == Filter::none) out.push_back(inv.id(i));
  return out;
}

Filter verdict(const NodeRow& row, const Request& req, Policy policy = {}) {
  Inventory inv({row}, std::move(policy), k_now);
  Placer p(inv);
  return p.check(p.compile(req), req, 0).filter;
}

std::vector<NodeRow> labelled() {
  std::vector<NodeRow> rows = {node("a", 8000, 32 * k_gib), node("b", 16000, 64 * k_gib),
                               node("c", 32000, 128 * k_gib)};
  rows[0].reg.zone = "z1";
  rows[1].reg.zone = "z2";
  rows[0].reg.labels = {{"rack", "r1"}, {"gpu", "8"}};
  rows[1].reg.labels = {{"rack", "r2"}, {"gpu", "lots"}};
  return rows;
}

using Names = std::vector<std::string>;

}  // namespace

TEST(SchedPlacer, InAndNotIn) {
  auto rows = labelled();
  EXPECT_EQ(matching(rows, requirement("topology.kubernetes.io/zone", Op::in, {"z1", "z9"})), Names{"a"});
  EXPECT_EQ(matching(rows, requirement("topology.kubernetes.io/zone", Op::not_in, {"z1"})), (Names{"b", "c"}));
  // The canonical zone label exists (empty) on c, so In "" matches it.
  EXPECT_EQ(matching(rows, requirement("topology.kubernetes.io/zone", Op::in, {""})), Names{"c"});
}

TEST(SchedPlacer, NotInIsTrueOnAnAbsentKey) {
  Policy p;
  p.selector_keys = {"rack"};
  Inventory inv(labelled(), p, k_now);
  Placer placer(inv);
  Request req = request();
  req.requirements = {requirement("rack", Op::not_in, {"r1"})};
  auto c = placer.compile(req);
  EXPECT_EQ(placer.check(c, req, 0).filter, Filter::affinity);
  EXPECT_EQ(placer.check(c, req, 1).filter, Filter::none);
  EXPECT_EQ(placer.check(c, req, 2).filter, Filter::none) << "c has no rack label";
  // A key no node has at all: NotIn and DoesNotExist hold everywhere, In and Exists nowhere.
  EXPECT_EQ(matching(labelled(), requirement("nowhere", Op::not_in, {"x"})), (Names{"a", "b", "c"}));
  EXPECT_EQ(matching(labelled(), requirement("nowhere", Op::does_not_exist)), (Names{"a", "b", "c"}));
  EXPECT_TRUE(matching(labelled(), requirement("nowhere", Op::in, {"x"})).empty());
  EXPECT_TRUE(matching(labelled(), requirement("nowhere", Op::exists)).empty());
}

TEST(SchedPlacer, ExistsAndDoesNotExist) {
  Policy p;
  p.selector_keys = {"rack"};
  Inventory inv(labelled(), p, k_now);
  Placer placer(inv);
  for (auto [op, want] : {std::pair{Op::exists, Names{"a", "b"}}, std::pair{Op::does_not_exist, Names{"c"}}}) {
    Request req = request();
    req.requirements = {requirement("rack", op)};
    auto c = placer.compile(req);
    Names got;
    for (size_t i = 0; i < inv.size(); ++i)
      if (placer.check(c, req, i).filter == Filter::none) got.push_back(inv.id(i));
    EXPECT_EQ(got, want);
  }
  // Canonical labels always exist, even when empty.
  EXPECT_EQ(matching(labelled(), requirement("kubernetes.io/cpu-type", Op::exists)), (Names{"a", "b", "c"}));
  EXPECT_TRUE(matching(labelled(), requirement("kubernetes.io/cpu-type", Op::does_not_exist)).empty());
}

TEST(SchedPlacer, GtAndLtAreStrictQuantityComparisons) {
  auto rows = labelled();  // memory-size 32768Mi, 65536Mi, 131072Mi; cpu-cores 8000m, 16000m, 32000m
  const std::string mem = "kubernetes.io/memory-size", cpu = "kubernetes.io/cpu-cores";
  EXPECT_EQ(matching(rows, requirement(mem, Op::gt, {"64Gi"})), Names{"c"}) << "equal is not greater";
  EXPECT_EQ(matching(rows, requirement(mem, Op::lt, {"64Gi"})), Names{"a"}) << "equal is not less";
  EXPECT_EQ(matching(rows, requirement(mem, Op::gt, {"65535Mi"})), (Names{"b", "c"}));
  EXPECT_EQ(matching(rows, requirement(cpu, Op::gt, {"8"})), (Names{"b", "c"}));
  EXPECT_EQ(matching(rows, requirement(cpu, Op::lt, {"16"})), Names{"a"});
  EXPECT_EQ(matching(rows, requirement(cpu, Op::gt, {"15.5"})), (Names{"b", "c"}));
  EXPECT_TRUE(matching(rows, requirement(cpu, Op::gt, {"garbage"})).empty()) << "unparsable value: no match";
  EXPECT_TRUE(matching(rows, requirement(cpu, Op::lt, {"garbage"})).empty());
}

TEST(SchedPlacer, GtOnAnUnparsableLabel) {
  Policy p;
  p.selector_keys = {"gpu"};
  Inventory inv(labelled(), p, k_now);
  Placer placer(inv);
  Request req = request();
  req.requirements = {requirement("gpu", Op::gt, {"4"})};
  auto c = placer.compile(req);
  EXPECT_EQ(placer.check(c, req, 0).filter, Filter::none) << "gpu=8 > 4";
  EXPECT_EQ(placer.check(c, req, 1).filter, Filter::affinity) << "gpu=lots is not a quantity";
  EXPECT_EQ(placer.check(c, req, 2).filter, Filter::affinity) << "no gpu label";
}

TEST(SchedPlacer, EmptySelectorMatchesEveryNode) {
  Inventory inv(labelled(), Policy{}, k_now);
  Placer placer(inv);
  Request req = request();
  auto c = placer.compile(req);
  for (size_t i = 0; i < inv.size(); ++i) EXPECT_EQ(placer.check(c, req, i).filter, Filter::none);
}

TEST(SchedPlacer, RequirementsAreAnded) {
  Request req = request();
  req.requirements = {requirement("topology.kubernetes.io/zone", Op::in, {"z1", "z2"}),
                      requirement("kubernetes.io/cpu-cores", Op::gt, {"8"})};
  req.requirements[1].origin = "selector[1]";
  Inventory inv(labelled(), Policy{}, k_now);
  Placer placer(inv);
  auto c = placer.compile(req);
  Verdict v = placer.check(c, req, 0);
  EXPECT_EQ(v.filter, Filter::affinity);
  EXPECT_EQ(v.requirement, 1u);
  EXPECT_EQ(placer.check(c, req, 1).filter, Filter::none);
  EXPECT_EQ(placer.check(c, req, 2).requirement, 0u);
  EXPECT_EQ(*placer.decide(req).node, 1u);
}

TEST(SchedPlacer, CanonicalLabelsWinOverRegisteredOnes) {
  auto rows = labelled();
  rows[2].reg.labels = {{"topology.kubernetes.io/zone", "z1"}, {"kubernetes.io/cpu-cores", "1m"}};
  EXPECT_EQ(matching(rows, requirement("topology.kubernetes.io/zone", Op::in, {"z1"})), Names{"a"});
  EXPECT_EQ(matching(rows, requirement("kubernetes.io/cpu-cores", Op::in, {"32000m"})), Names{"c"});
}

TEST(SchedPlacer, HealthFromHeartbeatAndReadiness) {
  NodeRow n = node("n");
  EXPECT_EQ(verdict(n, request()), Filter::none);
  n.heartbeat_ms = k_now - 40'000;
  EXPECT_EQ(verdict(n, request()), Filter::none) << "exactly the timeout is still fresh";
  n.heartbeat_ms = k_now - 40'001;
  EXPECT_EQ(verdict(n, request()), Filter::health);
  n.heartbeat_ms = 0;
  EXPECT_EQ(verdict(n, request()), Filter::health);
  n = node("n");
  n.ready = false;
  EXPECT_EQ(verdict(n, request()), Filter::health);
  Policy p;
  p.heartbeat_timeout_ms = 500;
  EXPECT_EQ(verdict(node("n"), request(), p), Filter::health);
}

TEST(SchedPlacer, CordonAndInstanceTypeAndSandboxes) {
  NodeRow n = node("n");
  n.cordoned = true;
  EXPECT_EQ(verdict(n, request()), Filter::cordon);
  n = node("n");
  n.reg.instance_type = "c1";
  Request req = request();
  req.instance_type = "c2";
  EXPECT_EQ(verdict(n, req), Filter::instance_type);
  req.instance_type = "c1";
  EXPECT_EQ(verdict(n, req), Filter::none);
  n.reg.max_sandboxes = 2;
  n.sandboxes = 2;
  EXPECT_EQ(verdict(n, request()), Filter::sandboxes);
  n.sandboxes = 1;
  EXPECT_EQ(verdict(n, request()), Filter::none);
  n.reg.max_sandboxes = 0;
  n.sandboxes = 5;
  Policy p;
  p.max_sandboxes = 5;
  EXPECT_EQ(verdict(n, request(), p), Filter::sandboxes) << "the configured default applies";
}

TEST(SchedPlacer, CapacityWithOvercommitLetsTheLastUnitFit) {
  NodeRow n = node("n", 16000, 64 * k_gib);
  n.alloc_cpu_m = 46'000;  // effective 48000m
  EXPECT_EQ(verdict(n, request(2000)), Filter::none) << "request == free fits (upstream rejected it)";
  EXPECT_EQ(verdict(n, request(2001)), Filter::cpu);
  n = node("n", 16000, 64 * k_gib);
  n.alloc_mem = 128 * k_gib - k_gib;  // effective 128G
  EXPECT_EQ(verdict(n, request(1000, k_gib)), Filter::none);
  EXPECT_EQ(verdict(n, request(1000, k_gib + 1)), Filter::mem);
}

TEST(SchedPlacer, IgnoreRecordedAllocations) {
  NodeRow n = node("n");
  n.alloc_cpu_m = 48'000;
  EXPECT_EQ(verdict(n, request()), Filter::cpu);
  Policy p;
  p.ignore_recorded_allocations = true;
  EXPECT_EQ(verdict(n, request(), p), Filter::none);
  n.mem_free = 2 * k_gib;  // but the physical guard still looks at the real machine
  EXPECT_EQ(verdict(n, request(), p), Filter::mem_free);
}

TEST(SchedPlacer, PhysicalGuardsIgnoreOvercommit) {
  NodeRow n = node("n", 16000, 64 * k_gib);
  n.cpu_util = 80;
  EXPECT_EQ(verdict(n, request()), Filter::cpu_util) << "at the ceiling is rejected";
  n.cpu_util = 79.9;
  EXPECT_EQ(verdict(n, request()), Filter::none);
  n.mem_free = 11 * k_gib;  // reserve 10G: free must exceed request + reserve
  EXPECT_EQ(verdict(n, request(1000, k_gib)), Filter::mem_free);
  n.mem_free = 11 * k_gib + 1;
  EXPECT_EQ(verdict(n, request(1000, k_gib)), Filter::none);
  Policy p;
  p.cpu_util_ceiling = 50;
  n.cpu_util = 60;
  EXPECT_EQ(verdict(n, request(), p), Filter::cpu_util);
}

TEST(SchedPlacer, FilterOrderDecidesTheReportedReason) {
  NodeRow n = node("n", 1000, k_gib);
  n.cordoned = true;
  n.heartbeat_ms = 0;
  EXPECT_EQ(verdict(n, request(99'000)), Filter::health);
  n.heartbeat_ms = k_now;
  EXPECT_EQ(verdict(n, request(99'000)), Filter::cordon);
  n.cordoned = false;
  n.cpu_util = 99;
  EXPECT_EQ(verdict(n, request(99'000, 99 * k_gib)), Filter::cpu);
  EXPECT_EQ(verdict(n, request(1000, 99 * k_gib)), Filter::cpu_util);
}

TEST(SchedPlacer, LeastAllocatedPrefersTheEmptiestAndTiesGoToTheLowestId) {
  std::vector<NodeRow> rows = {node("b"), node("a"), node("c")};
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.reg.id < y.reg.id; });
  rows[2].alloc_cpu_m = 1000;  // c is busier
  Inventory inv(rows, Policy{}, k_now);
  Decision d = Placer(inv).decide(request());
  ASSERT_TRUE(d.node);
  EXPECT_EQ(inv.id(*d.node), "a") << "a and b tie; a has the lower ID";
  Policy most;
  most.strategy = Strategy::most_allocated;
  Inventory inv2(rows, most, k_now);
  EXPECT_EQ(inv2.id(*Placer(inv2).decide(request()).node), "c");
}

TEST(SchedPlacer, ScoreArithmetic) {
  NodeRow n = node("n", 16000, 64 * k_gib);  // effective 48000m and 128G
  n.alloc_cpu_m = 22'000;
  Inventory inv({n}, Policy{}, k_now);
  Score s = Placer(inv).score(request(2000, 32 * k_gib), 0);
  EXPECT_DOUBLE_EQ(s.cpu, 24'000 * 100.0 / 48'000);
  EXPECT_DOUBLE_EQ(s.mem, 75.0);
  EXPECT_DOUBLE_EQ(s.total, (50.0 + 75.0) / 2);
  Policy w;
  w.cpu_weight = 3;
  w.mem_weight = 1;
  Inventory inv2({n}, w, k_now);
  EXPECT_DOUBLE_EQ(Placer(inv2).score(request(2000, 32 * k_gib), 0).total, (3 * 50.0 + 75.0) / 4);
}

TEST(SchedPlacer, RandomTopPicksAmongTheBest) {
  std::vector<NodeRow> rows;
  for (const char* id : {"a", "b", "c", "d"}) rows.push_back(node(id));
  rows[3].alloc_cpu_m = 40'000;  // d is clearly worst
  Inventory inv(rows, Policy{}, k_now);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(inv.id(*Placer(inv).decide(request(), 3).node));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c"}));
}

TEST(SchedPlacer, ExplainGivesNumbersAndSummary) {
  NodeRow a = node("a", 16000), b = node("b");
  a.alloc_cpu_m = 46'500;
  b.heartbeat_ms = k_now - 120'000;
  Inventory inv({a, b}, Policy{}, k_now);
  Explanation e = Placer(inv).explain(request(2000));
  EXPECT_FALSE(e.decision.node);
  EXPECT_EQ(e.nodes[0].reason, "free 1500m < requested 2000m (quota 16000m × 3 − allocated 46500m)");
  EXPECT_EQ(e.nodes[1].summary, "unhealthy (heartbeat 2m ago)");
  EXPECT_EQ(rejection_summary(e.rejections), "1 node: cpu; 1 node: unhealthy (heartbeat 2m ago)");
  EXPECT_EQ(Placer(inv).rejections(request(2000)), e.rejections);
}

// --- policy -------------------------------------------------------------------------------------

TEST(SchedPolicy, RatioClamping) {
  double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(clamp_ratio(nan, 3), 3);
  EXPECT_EQ(clamp_ratio(inf, 3), 3);
  EXPECT_EQ(clamp_ratio(-inf, 3), 3);
  EXPECT_EQ(clamp_ratio(0, 2), 2);
  EXPECT_EQ(clamp_ratio(-1, 2), 2);
  EXPECT_EQ(clamp_ratio(1.5, 2), 1.5);
}

TEST(SchedPolicy, EffectiveQuotaFloorsAndClamps) {
  EXPECT_EQ(effective_quota(16000, 3), 48000);
  EXPECT_EQ(effective_quota(1001, 1.5), 1501);  // 1501.5 floored
  EXPECT_EQ(effective_quota(3, 0.5), 1);
  EXPECT_EQ(effective_quota(std::numeric_limits<int64_t>::max(), 3), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(effective_quota(10, std::numeric_limits<double>::quiet_NaN()), 0);
}

TEST(SchedPlacer, FastPathAgreesWithTheOrderedFilters) {
  // decide() uses fits(); explanations use check(). Over varied nodes they must give one verdict.
  std::mt19937_64 rng(7);
  std::vector<NodeRow> rows;
  for (int i = 0; i < 400; ++i) {
    NodeRow n = node(fmt::format("n{:03}", i), 1000 * (1 + rng() % 16), k_gib * (1 + rng() % 64));
    n.alloc_cpu_m = static_cast<int64_t>(rng() % 40'000);
    n.alloc_mem = static_cast<int64_t>(rng() % (100 * k_gib));
    n.cpu_util = static_cast<double>(rng() % 100);
    n.mem_free = static_cast<int64_t>(rng() % (40 * k_gib));
    n.heartbeat_ms = rng() % 10 == 0 ? 0 : k_now;
    n.ready = rng() % 20 != 0;
    n.cordoned = rng() % 20 == 0;
    n.sandboxes = static_cast<int64_t>(rng() % 5);
    n.reg.max_sandboxes = static_cast<int64_t>(rng() % 6);
    n.reg.zone = fmt::format("z{}", rng() % 3);
    rows.push_back(n);
  }
  Inventory inv(rows, Policy{}, k_now);
  Placer placer(inv);
  for (int k = 0; k < 50; ++k) {
    Request req = request(static_cast<int64_t>(100 + rng() % 8000), static_cast<int64_t>(rng() % (8 * k_gib)) + 1);
    req.requirements = {requirement("topology.kubernetes.io/zone", k % 2 ? Op::in : Op::not_in, {"z1"})};
    CompiledRequest c = placer.compile(req);
    std::optional<size_t> first;
    for (size_t i = 0; i < inv.size(); ++i) {
      ASSERT_EQ(placer.fits(c, req, i), placer.check(c, req, i).filter == Filter::none) << inv.id(i);
      if (placer.fits(c, req, i) && !first) first = i;
    }
    EXPECT_EQ(placer.decide(req).node.has_value(), first.has_value());
  }
}

TEST(SchedPlacer, DiskCeiling) {
  NodeRow n = node("a");
  n.disk_used = 79.9;
  EXPECT_EQ(verdict(n, request()), Filter::none);
  n.disk_used = 80;
  EXPECT_EQ(verdict(n, request()), Filter::disk) << "at the ceiling is full";
  Policy p;
  p.disk_ceiling = 95;
  EXPECT_EQ(verdict(n, request(), p), Filter::none);
}

TEST(SchedPlacer, CreateRateCountsSandboxesStillBeingCreated) {
  NodeRow n = node("a");
  Policy p;
  p.create_limit = 2;
  n.creating = 1;
  EXPECT_EQ(verdict(n, request(), p), Filter::none);
  n.creating = 2;
  EXPECT_EQ(verdict(n, request(), p), Filter::create_rate);
  // A placement in this inventory takes a create slot at once, so a batch cannot overrun the limit.
  n.creating = 1;
  Inventory inv({n}, p, k_now);
  inv.add_allocation(0, 1000, k_gib);
  Placer placer(inv);
  Request req = request();
  EXPECT_EQ(placer.check(placer.compile(req), req, 0).filter, Filter::create_rate);
  EXPECT_FALSE(placer.decide(req).node);
}

TEST(SchedPlacer, AnUnknownInstanceTypeIsNamedInTheExplanation) {
  auto rows = labelled();
  rows[0].reg.instance_type = "small";
  Inventory inv(rows, Policy{}, k_now);
  Placer placer(inv);
  Request req = request();
  req.instance_type = "gpu";
  Explanation e = placer.explain(req);
  ASSERT_EQ(e.rejections.size(), 1u);
  EXPECT_EQ(e.rejections[0].first, "instance-type (no node has \"gpu\")");
  EXPECT_NE(e.nodes[0].reason.find("no node has that instance type"), std::string::npos) << e.nodes[0].reason;
  req.instance_type = "small";
  e = placer.explain(req);
  EXPECT_TRUE(e.decision.node);
  EXPECT_EQ(e.rejections[0].first, "instance-type");
}

TEST(PlacerTemplate, OnlyNodesWithAUsableReplicaFit) {
  std::vector<NodeRow> rows = {node("a", 64000), node("b", 32000), node("c", 16000), node("d", 8000)};
  Inventory inv(rows, Policy{}, k_now);
  Placer p(inv);
  auto reps = std::make_shared<TemplateReplicas>();
  reps->template_id = "tpl-000000000000000000000001";
  reps->by_node["a"] = {"READY", "STALE"};
  reps->by_node["b"] = {"FAILED", "UNKNOWN"};
  reps->by_node["c"] = {"READY", "UNKNOWN"};
  Request req = request();
  req.replicas = reps;
  // a would win on score, but its replica is stale; b's failed; d has none.
  Decision d = p.decide(req);
  ASSERT_TRUE(d.node);
  EXPECT_EQ(inv.id(*d.node), "c");
  CompiledRequest c = p.compile(req);
  EXPECT_EQ(p.check(c, req, 0).filter, Filter::template_replica);
  EXPECT_EQ(p.check(c, req, 3).filter, Filter::template_replica);
  EXPECT_TRUE(p.fits(c, req, 2));
  Explanation e = p.explain(req);
  EXPECT_NE(e.nodes[0].reason.find("is STALE"), std::string::npos);
  EXPECT_NE(e.nodes[1].reason.find("FAILED, not READY"), std::string::npos);
  EXPECT_NE(e.nodes[3].reason.find("no replica"), std::string::npos);
  EXPECT_EQ(filter_name(Filter::template_replica), "template");
}
