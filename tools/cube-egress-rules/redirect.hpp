// cube::egress redirect — the TPROXY half of the egress path: sandboxes in the set l7_sources send
// their TCP 80 and 443 to the proxy's listeners, sandboxes in dns_sources their port-53 UDP and TCP
// to the DNS relay, all on the node's gateway address (which cube-tap setup put on lo).
//
// Contract (doc/cube-egress-rules.md "Redirection"):
// - up() installs, in table inet cube_egress, the chain `tproxy_redirect` (prerouting, priority
//   mangle; not `redirect`, which nft reads as a keyword): for each port a tproxy rule that marks the packet, then a
//   drop for the same match, because nft's tproxy falls through when no socket listens and the packet would be routed
//   around the proxy. It creates l7_sources and dns_sources (empty) when missing; `apply` fills them. Then the policy
//   routing the mark needs: rule "fwmark MARK lookup TABLE" at k_rule_priority and route "local 0.0.0.0/0 dev lo table
//   TABLE", through libnl-route; and net.ipv4.ip_forward on.
// - up() is idempotent: the chain is flushed and refilled in the same transaction, the rule and the
//   route are added only when absent. down() removes the chain, the rule and the route, and nothing
//   else: the sets are shared with apply, the table with every other writer, and ip_forward belongs
//   to cube-tap setup. Both work in the calling thread's network namespace.
#pragma once

#include "settings.hpp"
#include "state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress::redirect {

inline constexpr const char* k_table = "cube_egress";
inline constexpr const char* k_chain = "tproxy_redirect";  // "redirect" is an nft keyword
inline constexpr uint32_t k_rule_priority = 100;

struct Config {
  uint32_t gateway = 0;  // host order
  uint16_t http_port = 8080, tls_port = 8443, dns_port = 8053;
  uint32_t mark = 0, table = 0;
};

// The gateway address cube-tap setup recorded (tap_node.gateway), or nullopt before setup.
std::optional<uint32_t> recorded_gateway(state::Db& db);
// The same, or Error(not_found) telling the operator to run cube-tap setup.
uint32_t node_gateway(state::Db& db);
Config config(const Settings& s, uint32_t gateway);

// The nft transaction of up() and of down().
std::string up_commands(const Config& c);
std::string down_commands();

void up(const Config& c);
void down(const Config& c);

// One line of status: what, the detail an operator would check, and whether it is in place.
struct Item {
  std::string object;
  std::string detail;
  bool installed = false;
};
std::vector<Item> status(const Config& c);

}  // namespace cube::egress::redirect
