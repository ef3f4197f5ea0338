// cube::tap plumbing — the kernel objects of one sandbox TAP: the device (tap_device), its MAC,
// MTU, IPv6 off and link up, the /32 route to it and the guest's permanent neighbour entry
// (netlink). Every step replaces what is there, so building again repairs a half-built TAP.
#pragma once

#include "fd.hpp"
#include "ipv4.hpp"
#include "netlink.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cube::tap {

struct TapSpec {
  std::string name;
  uint32_t address = 0;  // the sandbox's host-side address
  int64_t mtu = 1500;
  ipv4::Mac gateway_mac{};  // the TAP's own MAC
  ipv4::Mac guest_mac{};
};

struct Built {
  int ifindex = 0;
  Fd fd;  // still attached to the TAP; close it to let the TAP rest in the kernel
};

// Runs on a TAP that exists but is not yet up, with its ifindex.
using BeforeUp = std::function<void(int ifindex)>;

// Creates the TAP when it is missing (or adopts it) and sets everything; the full restore.
// `before_up` runs once the device exists and before the link goes up: a clsact qdisc added to a
// link that is up costs the kernel an RCU grace period (milliseconds), one added before is free.
Built build(netlink::Socket& nl, const TapSpec& spec, const BeforeUp& before_up = {});

// The netlink half of build, for a TAP that exists (and may be held by a VMM): MAC, MTU, IPv6 off,
// link up, route, neighbour.
void configure(netlink::Socket& nl, const TapSpec& spec, const netlink::Link& link);

// What is wrong with a TAP's kernel objects, in words; empty when all is as the spec says.
std::vector<std::string> check(netlink::Socket& nl, const TapSpec& spec);

// Deletes one TAP (its route and neighbour go with it); false when it was already gone.
bool destroy(netlink::Socket& nl, const std::string& name);
// Deletes many TAPs with one netlink request: each joins a link group, and the group is deleted.
// Returns how many existed.
size_t destroy_batch(netlink::Socket& nl, const std::vector<std::string>& names);

}  // namespace cube::tap
