#include "plumbing.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "tap_device.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>
#include <unistd.h>

#include <random>
#include <set>

namespace cube::tap {
namespace {

// IPv4 only, like upstream: no link-local address, no router solicitations from a sandbox TAP.
void disable_ipv6(const std::string& name) {
  std::string path = fmt::format("/proc/sys/net/ipv6/conf/{}/disable_ipv6", name);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return;  // IPv6 is off in this kernel
    throw sys_error(errno, fmt::format("opening {}", path));
  }
  if (::write(fd.get(), "1\n", 2) != 2) throw sys_error(errno, fmt::format("writing {}", path));
}

// A link group number for one batch: random, so that two batches at once do not delete each other's.
uint32_t batch_group() {
  std::random_device rd;
  return 0x40000000U | (rd() & 0x3fffffffU);
}

}  // namespace

Built build(netlink::Socket& nl, const TapSpec& spec, const BeforeUp& before_up) {
  Built out;
  out.fd = create_persistent(spec.name);
  auto link = nl.link(spec.name);
  if (!link) throw Error(Exit::failed, fmt::format("TAP {} vanished while it was being set up", spec.name));
  if (before_up) before_up(link->ifindex);
  configure(nl, spec, *link);
  out.ifindex = link->ifindex;
  return out;
}

void configure(netlink::Socket& nl, const TapSpec& spec, const netlink::Link& link) {
  disable_ipv6(spec.name);
  netlink::LinkChange change;
  if (link.mac != spec.gateway_mac) change.mac = spec.gateway_mac;
  if (link.mtu != spec.mtu) change.mtu = static_cast<unsigned>(spec.mtu);
  if (!(link.flags & IFF_UP)) change.up = true;
  if (change.mac || change.mtu || change.up) nl.change_link(link, change);
  nl.replace_route({spec.address, 32}, link.ifindex);
  nl.replace_neighbour(link.ifindex, spec.address, spec.guest_mac);
}

std::vector<std::string> check(netlink::Socket& nl, const TapSpec& spec) {
  auto link = nl.link(spec.name);
  if (!link) return {"no such device"};
  std::vector<std::string> wrong;
  if (link->kind != "tun")
    wrong.push_back(fmt::format("it is a {} link, not a TAP", link->kind.empty() ? "?" : link->kind));
  if (!(link->flags & IFF_UP)) wrong.push_back("link down");
  if (link->mtu != spec.mtu) wrong.push_back(fmt::format("MTU {} (want {})", link->mtu, spec.mtu));
  if (link->mac != spec.gateway_mac) wrong.push_back("MAC is not the gateway MAC");
  if (nl.route_ifindex({spec.address, 32}) != link->ifindex) wrong.push_back("no /32 route");
  if (nl.neighbour(link->ifindex, spec.address) != spec.guest_mac) wrong.push_back("no guest neighbour entry");
  return wrong;
}

bool destroy(netlink::Socket& nl, const std::string& name) {
  auto link = nl.link(name);
  return link && nl.delete_link(link->ifindex);
}

size_t destroy_batch(netlink::Socket& nl, const std::vector<std::string>& names) {
  if (names.size() == 1) return destroy(nl, names[0]) ? 1 : 0;
  std::set<std::string, std::less<>> wanted(names.begin(), names.end());
  uint32_t group = batch_group();
  size_t found = 0;
  netlink::LinkChange join;
  join.group = group;
  for (const auto& link : nl.links()) {  // one dump instead of a lookup per TAP
    if (!wanted.count(link.name)) continue;
    nl.change_link(link, join);
    ++found;
  }
  if (found > 0) nl.delete_group(group);
  return found;
}

}  // namespace cube::tap
