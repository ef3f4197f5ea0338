// cube::tap host ports — the mapped-port range 20000–29999, handed out next-fit (wrapping) and
// never one the kernel's ip_local_reserved_ports lists; and `--port CONTAINER[:HOST]` requests.
#pragma once

#include "next_fit.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cube::tap {

inline constexpr uint32_t k_port_min = 20000;
inline constexpr uint32_t k_port_max = 29999;
inline constexpr size_t k_max_ports = 64;  // mappings per sandbox

struct PortRequest {
  uint32_t container_port = 0;
  uint32_t host_port = 0;  // 0: allocate
  bool operator==(const PortRequest&) const = default;
};

// Parses `--port` values: CONTAINER or CONTAINER:HOST, 1–65535 each. Duplicated container ports
// keep the last, and the result is sorted by container port. Throws Error(usage) naming the value.
std::vector<PortRequest> parse_port_requests(const std::vector<std::string>& values);

// The reserved ports inside the mapped range, from the text of ip_local_reserved_ports ("a,b-c").
// Throws Error(failed) on text that is not such a list.
std::set<uint32_t> parse_reserved_ports(std::string_view text);
// Reads /proc/sys/net/ipv4/ip_local_reserved_ports (missing: none reserved).
std::set<uint32_t> reserved_ports();

std::optional<uint32_t> next_port(uint32_t cursor, const OpenScan& used, const std::set<uint32_t>& reserved);

}  // namespace cube::tap
