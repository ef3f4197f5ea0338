// cube::sched::InventoryFeed — a long-running placer's inventory, re-read in the background.
//
// Why: at 5,000 nodes one read of every node with its labels costs about 10 ms on the SQLite state
// file and 40–100 ms on PostgreSQL (doc/cube-sched.md, "A placer that keeps running"). A
// `place --batch` that re-read in line would make the request arriving at that moment pay it; so
// a thread with its own read-only connection loads the next inventory while requests are decided
// on the current one, and take() hands it over between requests, without waiting.
//
// Contract: after construction, a fresh inventory is loaded every `period_ms` (counted from the
// start of the previous load); take() returns the newest one not yet taken, or nullopt. A load
// that fails is rethrown by the next take(), once; the feed drops its connection, so the next load
// connects again (a restarted server is picked up). Decisions may thus see numbers up to one
// period plus one load old; commit re-reads the chosen node inside its transaction (commit.hpp),
// so an old number costs at most a second decision, never an over-committed node. The destructor
// stops the thread, waiting for a load in progress.
#pragma once

#include "cluster.hpp"
#include "inventory.hpp"
#include "policy.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

namespace cube::sched {

class InventoryFeed {
 public:
  InventoryFeed(cluster::Target target, Policy policy, int64_t period_ms);
  ~InventoryFeed();
  InventoryFeed(const InventoryFeed&) = delete;
  InventoryFeed& operator=(const InventoryFeed&) = delete;

  std::optional<Inventory> take();

 private:
  void run();
  void publish(std::optional<Inventory> fresh, std::exception_ptr failed);

  const cluster::Target m_target;
  const Policy m_policy;
  const int64_t m_period_ms;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::optional<Inventory> m_ready;
  std::exception_ptr m_failed;
  std::thread m_thread;  // last: it starts once every member it reads exists
};

}  // namespace cube::sched
