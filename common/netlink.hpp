// cube::netlink — rtnetlink through libnl-route-3, in the few shapes the network tools need: links,
// IPv4 addresses, /32 routes, permanent neighbours, and link groups for deleting many links in one
// request. A thin RAII layer: libnl does the protocol; this file owns its handles and turns its
// error codes into cube::Error.
//
// Contract: every call works in the network namespace of the calling thread. Errors throw
// Error(failed) "<doing> <object>" with libnl's words, and the CAP_NET_ADMIN hint on EPERM.
// Lookups of something absent return nullopt / false, never throw. No libnl type leaks out of
// this header, so callers need not compile against libnl's include path.
#pragma once

#include "ipv4.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct nl_sock;

namespace cube::netlink {

struct Link {
  int ifindex = 0;
  std::string name;
  std::string kind;    // IFLA_INFO_KIND: "tun", "veth", … ("" when the driver gives none)
  unsigned flags = 0;  // IFF_UP, IFF_LOWER_UP, …
  unsigned mtu = 0;
  uint32_t group = 0;
  ipv4::Mac mac{};
};

// An IPv4 policy-routing rule "priority PRIORITY fwmark MARK/MASK lookup TABLE".
struct MarkRule {
  uint32_t priority = 0;
  uint32_t mark = 0, mask = 0xFFFFFFFF;
  uint32_t table = 0;
  bool operator==(const MarkRule&) const = default;
};

struct LinkChange {
  std::optional<bool> up;
  std::optional<unsigned> mtu;
  std::optional<ipv4::Mac> mac;
  std::optional<uint32_t> group;
};

class Socket {
 public:
  Socket();  // a NETLINK_ROUTE socket; throws when it cannot be opened
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  std::optional<Link> link(std::string_view name);
  std::optional<Link> link(int ifindex);
  std::vector<Link> links();
  void change_link(const Link& link, const LinkChange& change);
  // Deletes one link; false when it was already gone.
  bool delete_link(int ifindex);
  // Deletes every link in `group` with one RTM_DELLINK request.
  void delete_group(uint32_t group);

  std::vector<ipv4::Prefix> ipv4_addresses(int ifindex);
  // Adds the address; an address already there is fine.
  void add_address(int ifindex, const ipv4::Prefix& p);
  // False when the address was not there.
  bool delete_address(int ifindex, const ipv4::Prefix& p);

  // A link-scope route to `dst` through `ifindex` in the main table, replacing any route to dst.
  void replace_route(const ipv4::Prefix& dst, int ifindex);
  // The ifindex of the main-table route to exactly `dst`, if there is one.
  std::optional<int> route_ifindex(const ipv4::Prefix& dst);
  // A permanent neighbour entry `address` → `mac` on `ifindex`, replacing any other.
  void replace_neighbour(int ifindex, uint32_t address, const ipv4::Mac& mac);
  std::optional<ipv4::Mac> neighbour(int ifindex, uint32_t address);

  // Policy routing (TPROXY): a rule exactly like `r` (one already there is fine; no duplicate is
  // made), its removal (false when it was not there), and whether it is there.
  void add_mark_rule(const MarkRule& r);
  bool delete_mark_rule(const MarkRule& r);
  bool has_mark_rule(const MarkRule& r);
  // "local 0.0.0.0/0 dev IFINDEX table TABLE": every address is local to what that table routes.
  void replace_local_default(uint32_t table, int ifindex);
  bool delete_local_default(uint32_t table, int ifindex);
  bool has_local_default(uint32_t table, int ifindex);

 private:
  struct Free {
    void operator()(nl_sock* s) const;
  };
  std::unique_ptr<nl_sock, Free> m_sock;
};

}  // namespace cube::netlink
