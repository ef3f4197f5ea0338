// cube::sched request — a placement request from flags or from one JSON Lines line of --batch.
//
// A batch line is an object: {"cpu": "2000m", "mem": "4G", "instance_type": "…", "selector": […]
// or "[…]", "annotations": {"com.nodeaffinity.…": "…"}, "sandbox": "…", "template": "tpl-…"}. cpu and mem are required;
// an unknown field is an error, so a typo cannot silently widen a placement. Errors are
// Error(usage) naming the field.
#pragma once

#include "placer.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cube::sched {

inline constexpr size_t k_max_request_line = 64 * 1024;

struct RequestText {
  std::string cpu;
  std::string mem;
  std::string instance_type;
  std::vector<std::string> annotations;  // KEY=VALUE
  std::optional<std::string> selector;
  std::string sandbox;
  std::string template_id;  // the caller loads its replicas (replicas.hpp) into Request::replicas
};

Request build_request(const RequestText& text, const std::vector<std::string>& extra_keys);
// `template_id`, when given, receives the line's "template" (empty without one).
Request parse_request_line(std::string_view line, const std::vector<std::string>& extra_keys,
                           std::string* template_id = nullptr);

// Checks an instance type, zone, cluster ID or CPU type: a label value (≤ 63 bytes of
// [A-Za-z0-9._-]).
void check_label_value(std::string_view value, std::string_view what);

}  // namespace cube::sched
