#include "netlink.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <cstring>

namespace cube::netlink {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using RulePtr = std::unique_ptr<rtnl_rule, Deleter<rtnl_rule, rtnl_rule_put>>;
using NeighPtr = std::unique_ptr<rtnl_neigh, Deleter<rtnl_neigh, rtnl_neigh_put>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache, nl_cache_free>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nl_msg, nlmsg_free>>;

// libnl returns negative NLE_* codes; NLE_PERM is the one an operator can fix.
[[noreturn]] void raise(int err, std::string what) {
  int code = err < 0 ? -err : err;
  std::string hint = code == NLE_PERM ? "run as root or with CAP_NET_ADMIN" : "";
  throw Error(Exit::failed, std::move(what), nl_geterror(code), std::move(hint));
}

NlAddrPtr v4(uint32_t address, int length) {
  uint32_t be = htonl(address);
  NlAddrPtr a(nl_addr_build(AF_INET, &be, sizeof be));
  if (!a) throw Error(Exit::failed, "nl_addr_build failed", "out of memory");
  nl_addr_set_prefixlen(a.get(), length);
  return a;
}

NlAddrPtr lladdr(const ipv4::Mac& mac) {
  NlAddrPtr a(nl_addr_build(AF_LLC, mac.data(), mac.size()));
  if (!a) throw Error(Exit::failed, "nl_addr_build failed", "out of memory");
  return a;
}

Link to_link(rtnl_link* l) {
  Link out;
  out.ifindex = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) out.name = n;
  if (const char* k = rtnl_link_get_type(l)) out.kind = k;
  out.flags = rtnl_link_get_flags(l);
  out.mtu = rtnl_link_get_mtu(l);
  out.group = rtnl_link_get_group(l);
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == 6)
    std::memcpy(out.mac.data(), nl_addr_get_binary_addr(a), 6);
  return out;
}

std::optional<Link> get_link(nl_sock* sock, int ifindex, const char* name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock, ifindex, name, &raw);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV || err == -NLE_INVAL) return std::nullopt;
  if (err < 0) raise(err, fmt::format("looking up link {}", name ? name : std::to_string(ifindex)));
  LinkPtr link(raw);
  return to_link(link.get());
}

}  // namespace

void Socket::Free::operator()(nl_sock* s) const { nl_socket_free(s); }

Socket::Socket() : m_sock(nl_socket_alloc()) {
  if (!m_sock) throw Error(Exit::failed, "opening a netlink socket", "out of memory");
  if (int err = nl_connect(m_sock.get(), NETLINK_ROUTE); err < 0) raise(err, "opening a netlink socket");
}

Socket::~Socket() = default;

std::optional<Link> Socket::link(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
  return get_link(m_sock.get(), 0, std::string(name).c_str());
}

std::optional<Link> Socket::link(int ifindex) { return get_link(m_sock.get(), ifindex, nullptr); }

std::vector<Link> Socket::links() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(m_sock.get(), AF_UNSPEC, &raw); err < 0) raise(err, "listing links");
  CachePtr cache(raw);
  std::vector<Link> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
    out.push_back(to_link(reinterpret_cast<rtnl_link*>(o)));
  return out;
}

void Socket::change_link(const Link& link, const LinkChange& c) {
  LinkPtr orig(rtnl_link_alloc()), want(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), link.ifindex);
  rtnl_link_set_ifindex(want.get(), link.ifindex);
  if (c.up) {
    if (*c.up)
      rtnl_link_set_flags(want.get(), IFF_UP);
    else
      rtnl_link_unset_flags(want.get(), IFF_UP);
  }
  if (c.mtu) rtnl_link_set_mtu(want.get(), *c.mtu);
  if (c.group) rtnl_link_set_group(want.get(), *c.group);
  NlAddrPtr mac;
  if (c.mac) {
    mac = lladdr(*c.mac);
    rtnl_link_set_addr(want.get(), mac.get());
  }
  if (int err = rtnl_link_change(m_sock.get(), orig.get(), want.get(), 0); err < 0)
    raise(err, fmt::format("changing link {}", link.name));
}

bool Socket::delete_link(int ifindex) {
  LinkPtr l(rtnl_link_alloc());
  rtnl_link_set_ifindex(l.get(), ifindex);
  int err = rtnl_link_delete(m_sock.get(), l.get());
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) raise(err, fmt::format("deleting link {}", ifindex));
  return true;
}

void Socket::delete_group(uint32_t group) {
  // libnl builds RTM_DELLINK only for one named link; the group form is a bare ifinfomsg plus
  // IFLA_GROUP, which the kernel takes as "every link in this group".
  MsgPtr msg(nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (!msg || nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(msg.get(), IFLA_GROUP, group) < 0)
    throw Error(Exit::failed, "building a link-group delete", "out of memory");
  int err = nl_send_auto_complete(m_sock.get(), msg.get());
  if (err >= 0) err = nl_wait_for_ack(m_sock.get());
  if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
    raise(err, fmt::format("deleting link group {}", group));
}

std::vector<ipv4::Prefix> Socket::ipv4_addresses(int ifindex) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(m_sock.get(), &raw); err < 0) raise(err, "listing addresses");
  CachePtr cache(raw);
  std::vector<ipv4::Prefix> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    nl_addr* local = rtnl_addr_get_local(a);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET || !local) continue;
    uint32_t be;
    std::memcpy(&be, nl_addr_get_binary_addr(local), 4);
    out.push_back({ntohl(be), rtnl_addr_get_prefixlen(a)});
  }
  return out;
}

void Socket::add_address(int ifindex, const ipv4::Prefix& p) {
  AddrPtr a(rtnl_addr_alloc());
  NlAddrPtr local = v4(p.address, p.length);
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_local(a.get(), local.get());
  int err = rtnl_addr_add(m_sock.get(), a.get(), 0);
  if (err < 0 && err != -NLE_EXIST) raise(err, fmt::format("adding address {}", ipv4::format(p)));
}

bool Socket::delete_address(int ifindex, const ipv4::Prefix& p) {
  AddrPtr a(rtnl_addr_alloc());
  NlAddrPtr local = v4(p.address, p.length);
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_local(a.get(), local.get());
  int err = rtnl_addr_delete(m_sock.get(), a.get(), 0);
  if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return false;
  if (err < 0) raise(err, fmt::format("deleting address {}", ipv4::format(p)));
  return true;
}

void Socket::replace_route(const ipv4::Prefix& dst, int ifindex) {
  RoutePtr r(rtnl_route_alloc());
  NlAddrPtr d = v4(dst.address, dst.length);
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_dst(r.get(), d.get());
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_scope(r.get(), RT_SCOPE_LINK);
  rtnl_route_set_protocol(r.get(), RTPROT_STATIC);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();  // owned by the route once added
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(r.get(), nh);
  if (int err = rtnl_route_add(m_sock.get(), r.get(), NLM_F_REPLACE); err < 0)
    raise(err, fmt::format("adding route {}", ipv4::format(dst)));
}

std::optional<int> Socket::route_ifindex(const ipv4::Prefix& dst) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(m_sock.get(), AF_INET, 0, &raw); err < 0) raise(err, "listing routes");
  CachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    nl_addr* d = rtnl_route_get_dst(r);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || !d || nl_addr_get_prefixlen(d) != static_cast<unsigned>(dst.length))
      continue;
    uint32_t be = 0;
    if (nl_addr_get_len(d) == 4) std::memcpy(&be, nl_addr_get_binary_addr(d), 4);
    if (ntohl(be) != dst.address || rtnl_route_get_nnexthops(r) < 1) continue;
    return rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
  }
  return std::nullopt;
}

void Socket::replace_neighbour(int ifindex, uint32_t address, const ipv4::Mac& mac) {
  NeighPtr n(rtnl_neigh_alloc());
  NlAddrPtr dst = v4(address, 32), ll = lladdr(mac);
  rtnl_neigh_set_ifindex(n.get(), ifindex);
  rtnl_neigh_set_family(n.get(), AF_INET);
  rtnl_neigh_set_dst(n.get(), dst.get());
  rtnl_neigh_set_lladdr(n.get(), ll.get());
  rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
  if (int err = rtnl_neigh_add(m_sock.get(), n.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    raise(err, fmt::format("adding neighbour {}", ipv4::format(address)));
}

std::optional<ipv4::Mac> Socket::neighbour(int ifindex, uint32_t address) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_neigh_alloc_cache(m_sock.get(), &raw); err < 0) raise(err, "listing neighbours");
  CachePtr cache(raw);
  NlAddrPtr dst = v4(address, 32);
  NeighPtr n(rtnl_neigh_get(cache.get(), ifindex, dst.get()));
  if (!n) return std::nullopt;
  nl_addr* ll = rtnl_neigh_get_lladdr(n.get());
  if (!ll || nl_addr_get_len(ll) != 6) return std::nullopt;
  ipv4::Mac mac;
  std::memcpy(mac.data(), nl_addr_get_binary_addr(ll), 6);
  return mac;
}

namespace {

RulePtr mark_rule(const MarkRule& r) {
  RulePtr rule(rtnl_rule_alloc());
  if (!rule) throw Error(Exit::failed, "rtnl_rule_alloc failed", "out of memory");
  rtnl_rule_set_family(rule.get(), AF_INET);
  rtnl_rule_set_prio(rule.get(), r.priority);
  rtnl_rule_set_mark(rule.get(), r.mark);
  rtnl_rule_set_mask(rule.get(), r.mask);
  rtnl_rule_set_table(rule.get(), r.table);
  rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
  return rule;
}

std::string rule_text(const MarkRule& r) {
  return fmt::format("rule {}: fwmark {:#x}/{:#x} lookup {}", r.priority, r.mark, r.mask, r.table);
}

RoutePtr local_default(uint32_t table, int ifindex) {
  RoutePtr r(rtnl_route_alloc());
  NlAddrPtr any = v4(0, 0);
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_dst(r.get(), any.get());
  rtnl_route_set_table(r.get(), table);
  rtnl_route_set_type(r.get(), RTN_LOCAL);
  rtnl_route_set_scope(r.get(), RT_SCOPE_HOST);
  rtnl_route_set_protocol(r.get(), RTPROT_STATIC);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();  // owned by the route once added
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(r.get(), nh);
  return r;
}

}  // namespace

void Socket::add_mark_rule(const MarkRule& r) {
  // Without NLM_F_EXCL the kernel would add a second, identical rule.
  int err = rtnl_rule_add(m_sock.get(), mark_rule(r).get(), NLM_F_EXCL);
  if (err < 0 && err != -NLE_EXIST) raise(err, "adding " + rule_text(r));
}

bool Socket::delete_mark_rule(const MarkRule& r) {
  if (!has_mark_rule(r)) return false;
  int err = rtnl_rule_delete(m_sock.get(), mark_rule(r).get(), 0);
  if (err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) raise(err, "deleting " + rule_text(r));
  return true;
}

bool Socket::has_mark_rule(const MarkRule& r) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_rule_alloc_cache(m_sock.get(), AF_INET, &raw); err < 0) raise(err, "listing rules");
  CachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* x = reinterpret_cast<rtnl_rule*>(o);
    if (rtnl_rule_get_prio(x) == r.priority && rtnl_rule_get_mark(x) == r.mark && rtnl_rule_get_mask(x) == r.mask &&
        rtnl_rule_get_table(x) == r.table && rtnl_rule_get_action(x) == FR_ACT_TO_TBL)
      return true;
  }
  return false;
}

void Socket::replace_local_default(uint32_t table, int ifindex) {
  if (int err = rtnl_route_add(m_sock.get(), local_default(table, ifindex).get(), NLM_F_REPLACE); err < 0)
    raise(err, fmt::format("adding route local 0.0.0.0/0 table {}", table));
}

bool Socket::delete_local_default(uint32_t table, int ifindex) {
  if (!has_local_default(table, ifindex)) return false;
  int err = rtnl_route_delete(m_sock.get(), local_default(table, ifindex).get(), 0);
  if (err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) raise(err, fmt::format("deleting route local 0.0.0.0/0 table {}", table));
  return true;
}

bool Socket::has_local_default(uint32_t table, int ifindex) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(m_sock.get(), AF_INET, 0, &raw); err < 0) raise(err, "listing routes");
  CachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    nl_addr* d = rtnl_route_get_dst(r);
    if (rtnl_route_get_table(r) != table || rtnl_route_get_type(r) != RTN_LOCAL || !d || nl_addr_get_prefixlen(d) != 0)
      continue;
    if (rtnl_route_get_nnexthops(r) >= 1 && rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) == ifindex)
      return true;
  }
  return false;
}

}  // namespace cube::netlink
