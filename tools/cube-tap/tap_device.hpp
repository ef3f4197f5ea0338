// cube::tap TAP devices through /dev/net/tun and the ethtool ioctl: create, reopen, offloads.
//
// Every TAP is IFF_TAP|IFF_NO_PI|IFF_VNET_HDR with a 12-byte virtio-net header (the VMM's frames
// carry it), persistent, so it outlives the fd that made it.
#pragma once

#include "fd.hpp"

#include <string>
#include <string_view>

namespace cube::tap {

inline constexpr int k_vnet_hdr_size = 12;

// Opens /dev/net/tun and attaches to (or creates) the TAP `name`: open + TUNSETIFF. Throws
// Error(failed); EBUSY (the TAP is held by another process) becomes Error(conflict).
Fd attach(std::string_view name);
// Creates (or adopts) a persistent TAP and sets its vnet header size and TX offloads; returns the
// fd, still attached.
Fd create_persistent(std::string_view name);
// The hot path's open: open + TUNSETIFF + TUNGETVNETHDRSZ, and nothing else. Returns an invalid
// Fd when the device was not one of ours already (TUNSETIFF made a fresh one, whose header size is
// the kernel's default 10, not 12): closing it removes that stray device again.
Fd reopen(std::string_view name);
// Is the TAP behind `fd` still there (TUNGETIFF)? Another process may have deleted it.
bool alive(int fd, std::string_view name);

// TUNSETOFFLOAD with TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6, then (best effort, a warning on failure)
// the ethtool feature tx-tcp-mangleid-segmentation.
void set_offloads(int fd, std::string_view name);
void set_vnet_hdr_size(int fd, std::string_view name);

// Clears the persist flag; the device goes when its last fd closes. False when it cannot be
// reached through /dev/net/tun (held elsewhere, or gone): delete it through netlink instead.
bool unpersist(std::string_view name);

// The bit of an ethtool feature in the kernel's ETH_SS_FEATURES string set, looked up by name
// through `probe_if` once per process. -1 when the kernel has no such feature.
int ethtool_feature_bit(std::string_view feature, std::string_view probe_if);
// Sets one ethtool feature on `ifname` with ETHTOOL_SFEATURES.
void set_ethtool_feature(std::string_view ifname, std::string_view feature, bool on);

}  // namespace cube::tap
