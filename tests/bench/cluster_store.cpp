// In-process driver of tests/bench/cluster-store (issue 19): the cluster store under a fleet's
// heartbeats, with placements committed meanwhile, on the SQLite state file or on PostgreSQL.
//
// A real fleet's heartbeats come from thousands of hosts, each one `cube-sched heartbeat`, i.e. one
// connection writing one transaction; a process per heartbeat cannot reach 2,000/s on a small
// machine, so this measures the store instead: WRITERS threads, each with its own Store (its own
// connection, as separate hosts have), call record_heartbeat for random nodes, paced together to
// RATE per second (0: as fast as they can), while one placer thread places and commits sandboxes
// through the real path, alternating two ways: as one `cube-sched place --commit` does once its
// process has started (connect, load the inventory — every node with labels —, place_and_commit),
// and on a connection kept open, as a long-running placer has it; and, given --sched, through a
// real `cube-sched place --batch --commit` process, one request line at a time, timed from the
// line written to its answer read (the whole per-request cost of a control plane's placer). Each
// allocation is released untimed so that capacity stays. The nodes are seeded through register_node and
// record_heartbeat.
//
// Each round runs a paced phase at RATE and then an unpaced one (the most the store sustains with
// a placer beside it), SECONDS each, and prints one JSON object per phase: heartbeats/s achieved,
// heartbeat latency, placement latency as a whole and per step (open, load, commit; kept_*: on the
// kept connection; batch_*: through the --batch process), the transaction bodies run again after a serialization
// failure (PostgreSQL) and the writes that gave up (busy: SQLite's 5 s lock timeout, or ten conflicts in a row).
//
// Usage: cluster-store-inproc --config CFG (--state FILE | --url URL) [--nodes N] [--seconds S]
//          [--rate R] [--writers W] [--rounds K] [--sched CUBE_SCHED]
// The --batch process finds its store as the tools do ($CUBE_STATE, $CUBE_CLUSTER_URL): the caller
// sets them to what --state or --url names.
#include "cluster.hpp"
#include "config.hpp"
#include "cube-sched/commit.hpp"
#include "cube-sched/inventory.hpp"
#include "cube-sched/registry.hpp"
#include "cube-sched/request.hpp"
#include "cube-sched/settings.hpp"
#include "error.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <latch>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace cube;
using namespace cube::sched;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string config;
  cluster::Target target;
  int nodes = 5000;
  double seconds = 10;
  double rate = 2000;
  int writers = 8;
  int rounds = 3;
  std::string sched;  // cube-sched's path: time a --batch process too
};

// Counts what the store's transactions did: bodies run (a retried one runs again) and the writes
// asked for, so that bodies − writes is the number of retries the backend made.
struct Counters {
  std::atomic<int64_t> writes{0}, bodies{0}, gave_up{0};
  int64_t retries() const { return bodies - writes; }
};

// The real store underneath, with every write body counted on its way in.
class CountingStore final : public cluster::Store {
 public:
  CountingStore(std::unique_ptr<cluster::Store> inner, Counters& c) : m_inner(std::move(inner)), m_counters(c) {}
  cluster::Backend backend() const override { return m_inner->backend(); }
  const std::string& where() const override { return m_inner->where(); }
  int schema_version() const override { return m_inner->schema_version(); }
  void write(const cluster::Body& body) override {
    ++m_counters.writes;
    m_inner->write([&](cluster::Tx& tx) {
      ++m_counters.bodies;
      body(tx);
    });
  }
  void read(const cluster::Body& body) override { m_inner->read(body); }
  state::Db* state_file() override { return m_inner->state_file(); }

 private:
  // A heartbeat is one statement, which PostgreSQL's store retries inside (Store::write_one), out
  // of sight of these counters: heartbeat retries are not counted.
  int64_t do_write_one(std::string_view sql, cluster::ParamSpan params) override {
    ++m_counters.writes;
    ++m_counters.bodies;
    return m_inner->write_one(sql, params);
  }

  std::unique_ptr<cluster::Store> m_inner;
  Counters& m_counters;
};

std::string node_id(int i) { return fmt::format("node-{:05}", i); }

Registration registration(int i) {
  static const char* types[] = {"c1.small", "c1.large", "m1.xlarge"};
  Registration r;
  r.id = node_id(i);
  r.address = fmt::format("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255);
  r.instance_type = types[i % 3];
  r.zone = fmt::format("z{}", i % 8);
  r.cluster_id = "bench";
  r.cpu_type = "x86_64";
  r.cpu_m = 64000;
  r.mem_bytes = int64_t{256} << 30;
  r.labels = {{"rack", fmt::format("r{}", i % 200)}};
  return r;
}

// Healthy and roomy: every node passes every filter, so placement always has a choice to make.
Heartbeat heartbeat(std::mt19937_64& random) {
  Heartbeat hb;
  hb.at_ms = time::now_ms();
  hb.cpu_util = std::uniform_real_distribution<double>(5, 60)(random);
  hb.mem_free = int64_t{128} << 30;
  hb.disk_used = 30;
  return hb;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// p50 / p99 / max of a sample, in ms; zeros for an empty one.
struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  return {at(0.50), at(0.99), v.back()};
}

// The first unexpected error a thread met, reported once at the end of the phase.
class FirstError {
 public:
  void note(const std::string& what) {
    std::lock_guard lock(m_mutex);
    if (m_text.empty()) m_text = what;
  }
  std::string take() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_text, "");
  }

 private:
  std::mutex m_mutex;
  std::string m_text;
};

std::string describe(const Error& e) { return e.why().empty() ? e.message() : e.message() + ": " + e.why(); }

// Seeds the nodes, WRITERS connections at once (each with its own connection, as a fleet would).
void seed(const Options& o, Counters& c) {
  std::vector<std::thread> threads;
  FirstError failure;
  for (int t = 0; t < o.writers; ++t)
    threads.emplace_back([&, t] {
      try {
        CountingStore store(cluster::open(o.target, cluster::Access::write), c);
        std::mt19937_64 random(t);
        for (int i = t; i < o.nodes; i += o.writers) {
          register_node(store, registration(i));
          record_heartbeat(store, node_id(i), heartbeat(random));
        }
      } catch (const Error& e) {
        failure.note(describe(e));
      }
    });
  for (auto& t : threads) t.join();
  if (std::string why = failure.take(); !why.empty()) throw Error(Exit::failed, "seeding failed", why);
}

// What a phase's threads share. They connect first and meet at the start line, so that the phase
// is timed from when every connection is open; a thread that fails before it still counts down.
struct Phase {
  Phase(const Options& o, double r) : opt(o), rate(r), connected(o.writers + 2) {}
  const Options& opt;
  double rate;  // heartbeats/s in total; 0: unpaced
  std::latch connected;
  std::atomic<bool> stop{false};
  Counters heartbeats, placements;
  FirstError failure;
};

class StartLine {
 public:
  explicit StartLine(std::latch& l) : m_latch(l) {}
  ~StartLine() {
    if (!m_crossed) m_latch.count_down();
  }
  StartLine(const StartLine&) = delete;
  StartLine& operator=(const StartLine&) = delete;
  void wait() {
    m_crossed = true;
    m_latch.arrive_and_wait();
  }

 private:
  std::latch& m_latch;
  bool m_crossed = false;
};

struct WriterResult {
  int64_t done = 0;
  std::vector<double> ms;
};

// One host's worth of connection, writing heartbeats for random nodes until `stop`: at its share
// of `rate` (catching up without sleeping when behind), or flat out when rate is 0.
void writer(Phase& ph, int index, WriterResult& out) {
  const Options& o = ph.opt;
  std::mt19937_64 random(1000 + index);
  std::uniform_int_distribution<int> pick(0, o.nodes - 1);
  StartLine start(ph.connected);
  try {
    CountingStore store(cluster::open(o.target, cluster::Access::write), ph.heartbeats);
    auto interval = std::chrono::duration<double>(ph.rate > 0 ? o.writers / ph.rate : 0);
    start.wait();
    // Staggered, so that the writers' beats interleave instead of arriving in bursts.
    auto next = Clock::now() + std::chrono::duration_cast<Clock::duration>(interval * index / o.writers);
    while (!ph.stop) {
      if (ph.rate > 0) {
        std::this_thread::sleep_until(next);
        next += std::chrono::duration_cast<Clock::duration>(interval);
        if (ph.stop) break;
      }
      auto t0 = Clock::now();
      try {
        record_heartbeat(store, node_id(pick(random)), heartbeat(random));
        out.ms.push_back(ms_between(t0, Clock::now()));
        ++out.done;
      } catch (const Error& e) {
        if (e.code() != Exit::conflict) throw;  // busy: the lock timeout or too many conflicts
        ++ph.heartbeats.gave_up;
      }
    }
  } catch (const Error& e) {
    ph.failure.note(describe(e));
  }
}

// Per-placement latencies, ms. `fresh`: what one `cube-sched place --commit` does after its process
// starts (connect, load every node, place and commit); `kept`: the same on a connection kept
// open, as a long-running placer has it (a --batch process reloads at most once a second, so per
// request it pays about kept_commit).
struct PlacerResult {
  std::vector<double> fresh, open, load, commit;
  std::vector<double> kept, kept_load, kept_commit;
  std::vector<double> batch;
};

// A `cube-sched place --batch --commit` child: a request line in, its decision line out.
class BatchPlacer {
 public:
  explicit BatchPlacer(const std::string& sched) {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0)
      throw Error(Exit::failed, "pipe", std::strerror(errno));
    m_pid = ::fork();
    if (m_pid < 0) throw Error(Exit::failed, "fork", std::strerror(errno));
    if (m_pid == 0) {
      ::dup2(to[0], 0);
      ::dup2(from[1], 1);
      ::execl(sched.c_str(), sched.c_str(), "place", "--batch", "--commit", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    m_in = ::fdopen(to[1], "w");
    m_out = ::fdopen(from[0], "r");
  }
  ~BatchPlacer() {
    std::fclose(m_in);  // end of input: the process exits
    std::fclose(m_out);
    ::waitpid(m_pid, nullptr, 0);
  }
  BatchPlacer(const BatchPlacer&) = delete;
  BatchPlacer& operator=(const BatchPlacer&) = delete;

  // The decision's line, or an Error when the process answered something else or nothing.
  std::string ask(const std::string& line) {
    std::fputs(line.c_str(), m_in);
    std::fputc('\n', m_in);
    std::fflush(m_in);
    char buf[4096];
    if (!std::fgets(buf, sizeof buf, m_out)) throw Error(Exit::failed, "the --batch process stopped answering");
    std::string answer(buf);
    if (answer.find("\"committed\":true") == std::string::npos)
      throw Error(Exit::failed, "the --batch process did not place", answer);
    return answer;
  }

 private:
  pid_t m_pid = -1;
  FILE* m_in = nullptr;
  FILE* m_out = nullptr;
};

// Loads the inventory, places one sandbox and commits it; the load and commit times, and the
// allocation released untimed so that the nodes' capacity stays.
std::pair<double, double> place_once(cluster::Store& store, const Policy& policy, const std::string& sandbox) {
  Request req =
      parse_request_line(fmt::format(R"({{"cpu":"500m","mem":"1G","sandbox":"{}"}})", sandbox), policy.selector_keys);
  auto t0 = Clock::now();
  int64_t now = time::now_ms();
  Inventory inv(load_nodes(store, true, policy.creating_after(now)), policy, now);
  auto t1 = Clock::now();
  Decision d = place_and_commit(store, nullptr, inv, req, 0);
  auto t2 = Clock::now();
  if (!d.node) throw Error(Exit::failed, "no node fits the bench's request");
  release(store, sandbox);
  return {ms_between(t0, t1), ms_between(t1, t2)};
}

// Requests sent to the --batch process per turn of the placer: a fresh placement costs 10–100 ms,
// a batch request a few, so that the batch's p99 rests on hundreds of samples per phase.
constexpr int k_batch_per_turn = 10;

// One placer, taking turns: a placement on a fresh connection, one on a kept connection and, with
// --sched, k_batch_per_turn through the --batch process.
void placer(Phase& ph, const Policy& policy, const std::string& prefix, PlacerResult& out) {
  const Options& o = ph.opt;
  Counters& c = ph.placements;
  StartLine start(ph.connected);
  try {
    CountingStore kept(cluster::open(o.target, cluster::Access::write), c);
    std::optional<BatchPlacer> batch;
    if (!o.sched.empty()) {
      batch.emplace(o.sched);
      batch->ask(fmt::format(R"({{"cpu":"500m","mem":"1G","sandbox":"{}-warm"}})", prefix));  // started, loaded
      release(kept, prefix + "-warm");
    }
    start.wait();
    for (int64_t n = 0; !ph.stop; ++n) {
      try {
        auto t0 = Clock::now();
        CountingStore fresh(cluster::open(o.target, cluster::Access::write), c);
        double opened = ms_between(t0, Clock::now());
        auto [load, commit] = place_once(fresh, policy, fmt::format("{}-fresh-{}", prefix, n));
        out.open.push_back(opened);
        out.load.push_back(load);
        out.commit.push_back(commit);
        out.fresh.push_back(opened + load + commit);
      } catch (const Error& e) {
        if (e.code() != Exit::conflict) throw;
        ++c.gave_up;
      }
      if (ph.stop) break;
      try {
        auto [load, commit] = place_once(kept, policy, fmt::format("{}-kept-{}", prefix, n));
        out.kept_load.push_back(load);
        out.kept_commit.push_back(commit);
        out.kept.push_back(load + commit);
      } catch (const Error& e) {
        if (e.code() != Exit::conflict) throw;
        ++c.gave_up;
      }
      for (int k = 0; batch && k < k_batch_per_turn && !ph.stop; ++k) {
        std::string sandbox = fmt::format("{}-batch-{}-{}", prefix, n, k);
        auto t0 = Clock::now();
        batch->ask(fmt::format(R"({{"cpu":"500m","mem":"1G","sandbox":"{}"}})", sandbox));
        out.batch.push_back(ms_between(t0, Clock::now()));
        release(kept, sandbox);
      }
    }
  } catch (const Error& e) {
    ph.failure.note(describe(e));
  }
}

std::string json_percentiles(std::string_view name, const Percentiles& p) {
  return fmt::format(R"("{0}_p50_ms":{1:.2f},"{0}_p99_ms":{2:.2f},"{0}_max_ms":{3:.2f})", name, p.p50, p.p99, p.max);
}

// One phase: writers and the placer together for o.seconds; one JSON line.
void phase(const Options& o, const Policy& policy, int round, bool paced, bool report) {
  Phase ph(o, paced ? o.rate : 0);
  std::vector<WriterResult> results(o.writers);
  PlacerResult placed;
  std::vector<std::thread> threads;
  for (int w = 0; w < o.writers; ++w) threads.emplace_back(writer, std::ref(ph), w, std::ref(results[w]));
  std::string prefix = fmt::format("bench-{}-{}", round, paced ? "paced" : "unpaced");
  threads.emplace_back(placer, std::ref(ph), std::cref(policy), prefix, std::ref(placed));
  ph.connected.arrive_and_wait();
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  ph.stop = true;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : threads) t.join();
  if (std::string why = ph.failure.take(); !why.empty()) throw Error(Exit::failed, "the bench failed", why);
  if (!report) return;
  int64_t beats = 0;
  std::vector<double> hb_ms;
  for (auto& r : results) {
    beats += r.done;
    hb_ms.insert(hb_ms.end(), r.ms.begin(), r.ms.end());
  }
  bool pg = !o.target.url.empty();
  fmt::print(
      "{{\"backend\":\"{}\",\"round\":{},\"phase\":\"{}\",\"nodes\":{},\"writers\":{},\"target_per_s\":{:.0f},"
      "\"seconds\":{:.1f},\"heartbeats\":{},\"heartbeats_per_s\":{:.0f},{},\"heartbeat_retries\":{},"
      "\"heartbeat_gave_up\":{},\"placements\":{},{},{},{},{},{},{},{},{},\"place_retries\":{},\"place_gave_up\":{}}}"
      "\n",
      pg ? "postgresql" : "sqlite", round, paced ? "paced" : "unpaced", o.nodes, o.writers, ph.rate, elapsed, beats,
      beats / elapsed, json_percentiles("heartbeat", percentiles(hb_ms)), ph.heartbeats.retries(),
      ph.heartbeats.gave_up.load(), placed.fresh.size() + placed.kept.size() + placed.batch.size(),
      json_percentiles("place", percentiles(placed.fresh)), json_percentiles("open", percentiles(placed.open)),
      json_percentiles("load", percentiles(placed.load)), json_percentiles("commit", percentiles(placed.commit)),
      json_percentiles("kept_place", percentiles(placed.kept)),
      json_percentiles("kept_load", percentiles(placed.kept_load)),
      json_percentiles("kept_commit", percentiles(placed.kept_commit)),
      json_percentiles("batch", percentiles(placed.batch)), ph.placements.retries(), ph.placements.gave_up.load());
  std::fflush(stdout);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) throw Error(Exit::usage, fmt::format("{} needs a value", flag));
    std::string value = argv[++i];
    if (flag == "--config")
      o.config = value;
    else if (flag == "--state")
      o.target.state_path = value;
    else if (flag == "--url")
      o.target.url = value;
    else if (flag == "--nodes")
      o.nodes = std::stoi(value);
    else if (flag == "--seconds")
      o.seconds = std::stod(value);
    else if (flag == "--rate")
      o.rate = std::stod(value);
    else if (flag == "--writers")
      o.writers = std::stoi(value);
    else if (flag == "--rounds")
      o.rounds = std::stoi(value);
    else if (flag == "--sched")
      o.sched = value;
    else
      throw Error(Exit::usage, fmt::format("unknown flag {}", flag));
  }
  if (o.config.empty() || (o.target.state_path.empty() && o.target.url.empty()))
    throw Error(Exit::usage, "--config and --state or --url are required");
  if (o.nodes < 1 || o.writers < 1 || o.seconds <= 0 || o.rate < 0) throw Error(Exit::usage, "bad numbers");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o = parse(argc, argv);
    config::Config cfg = config::Config::load(o.config);
    config::Settings s(cfg, "sched");
    Policy policy = load_settings(s).policy;
    Counters seeding;
    auto t0 = Clock::now();
    seed(o, seeding);
    std::fprintf(stderr, "cluster-store-inproc: seeded %d nodes in %.1f s (%lld retries)\n", o.nodes,
                 std::chrono::duration<double>(Clock::now() - t0).count(), static_cast<long long>(seeding.retries()));
    Options warm = o;
    warm.seconds = std::min(1.0, o.seconds);
    phase(warm, policy, 0, true, false);  // connections, caches and the server's plans warmed
    for (int r = 1; r <= o.rounds; ++r) {
      phase(o, policy, r, true, true);
      phase(o, policy, r, false, true);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "cluster-store-inproc: error: %s\n", describe(e).c_str());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster-store-inproc: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
