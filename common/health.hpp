// cube::health — the one rule for node health, upstream's (doc/upstream.md), used by every tool
// that shows it.
//
// A node is healthy iff it has sent a heartbeat, that heartbeat is at most `timeout` old, and the
// node reported itself ready. Staleness is checked first, so a silent node reads HeartbeatExpired
// whatever it last said.
#pragma once

#include <cstdint>
#include <string_view>

namespace cube::health {

inline constexpr int64_t k_default_timeout_ms = 40'000;

enum class Reason { none, heartbeat_expired, reported_not_ready };

struct Status {
  bool healthy = false;
  Reason reason = Reason::heartbeat_expired;
};

Status evaluate(int64_t heartbeat_ms, bool reported_ready, int64_t now_ms, int64_t timeout_ms = k_default_timeout_ms);

// "HeartbeatExpired", "ReportedNotReady", or "" for none.
std::string_view reason_name(Reason r);

}  // namespace cube::health
