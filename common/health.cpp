#include "health.hpp"

namespace cube::health {

Status evaluate(int64_t heartbeat_ms, bool reported_ready, int64_t now_ms, int64_t timeout_ms) {
  if (heartbeat_ms <= 0 || now_ms - heartbeat_ms > timeout_ms) return {false, Reason::heartbeat_expired};
  if (!reported_ready) return {false, Reason::reported_not_ready};
  return {true, Reason::none};
}

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::none: return "";
    case Reason::heartbeat_expired: return "HeartbeatExpired";
    case Reason::reported_not_ready: return "ReportedNotReady";
  }
  return "";
}

}  // namespace cube::health
