#include "inventory_feed.hpp"

#include "registry.hpp"
#include "timeutil.hpp"

#include <chrono>
#include <memory>

namespace cube::sched {

InventoryFeed::InventoryFeed(cluster::Target target, Policy policy, int64_t period_ms)
    : m_target(std::move(target)), m_policy(std::move(policy)), m_period_ms(period_ms), m_thread([this] { run(); }) {}

InventoryFeed::~InventoryFeed() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

std::optional<Inventory> InventoryFeed::take() {
  std::lock_guard lock(m_mutex);
  if (m_failed) std::rethrow_exception(std::exchange(m_failed, nullptr));
  return std::exchange(m_ready, std::nullopt);
}

void InventoryFeed::publish(std::optional<Inventory> fresh, std::exception_ptr failed) {
  std::lock_guard lock(m_mutex);
  m_ready = std::move(fresh);  // an inventory nobody took yet is replaced by the newer one
  m_failed = failed;
}

void InventoryFeed::run() {
  std::unique_ptr<cluster::Store> store;
  auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_period_ms);
  for (;;) {
    {
      std::unique_lock lock(m_mutex);
      if (m_wake.wait_until(lock, next, [this] { return m_stopping; })) return;
    }
    next = std::chrono::steady_clock::now() + std::chrono::milliseconds(m_period_ms);
    try {
      if (!store) store = cluster::open(m_target, cluster::Access::read);
      int64_t now = time::now_ms();
      publish(Inventory(load_nodes(*store, true, m_policy.creating_after(now)), m_policy, now), nullptr);
    } catch (...) {
      store.reset();  // a lost connection stays lost: the next load connects again
      publish(std::nullopt, std::current_exception());
    }
  }
}

}  // namespace cube::sched
