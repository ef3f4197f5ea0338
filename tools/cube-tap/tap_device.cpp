#include "tap_device.hpp"

#include "error.hpp"
#include "log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace cube::tap {
namespace {

constexpr short k_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;

ifreq request(std::string_view name) {
  ifreq ifr{};
  if (name.empty() || name.size() >= IFNAMSIZ) throw Error(Exit::usage, fmt::format("invalid TAP name '{}'", name));
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = k_flags;
  return ifr;
}

Fd open_tun() {
  Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) throw sys_error(errno, "opening /dev/net/tun");
  return fd;
}

Error tun_error(int err, std::string what) {
  if (err == EBUSY) return Error(Exit::conflict, std::move(what), "it is held by another process");
  return sys_error(err, std::move(what));
}

// The ethtool string set ETH_SS_FEATURES, read once per process.
std::vector<std::string> feature_names(int sock, std::string_view ifname) {
  // ethtool_sset_info ends in a flexible array: one u32 of it follows the header here.
  alignas(ethtool_sset_info) char info_buf[sizeof(ethtool_sset_info) + sizeof(uint32_t)] = {};
  auto* info = reinterpret_cast<ethtool_sset_info*>(info_buf);
  info->cmd = ETHTOOL_GSSET_INFO;
  info->sset_mask = 1ULL << ETH_SS_FEATURES;
  ifreq ifr = request(ifname);
  ifr.ifr_data = info_buf;
  if (::ioctl(sock, SIOCETHTOOL, &ifr) != 0) throw sys_error(errno, "reading the ethtool feature count");
  uint32_t n = info->sset_mask ? info->data[0] : 0;
  std::vector<char> buf(sizeof(ethtool_gstrings) + size_t{n} * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(buf.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_FEATURES;
  gs->len = n;
  ifr.ifr_data = buf.data();
  if (::ioctl(sock, SIOCETHTOOL, &ifr) != 0) throw sys_error(errno, "reading the ethtool feature names");
  std::vector<std::string> names;
  for (uint32_t i = 0; i < n; ++i) {
    const char* s = reinterpret_cast<const char*>(gs->data) + size_t{i} * ETH_GSTRING_LEN;
    names.emplace_back(s, strnlen(s, ETH_GSTRING_LEN));
  }
  return names;
}

Fd ethtool_socket() {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw sys_error(errno, "opening an ethtool socket");
  return sock;
}

}  // namespace

Fd attach(std::string_view name) {
  Fd fd = open_tun();
  ifreq ifr = request(name);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) throw tun_error(errno, fmt::format("attaching to TAP {}", name));
  return fd;
}

Fd create_persistent(std::string_view name) {
  Fd fd = attach(name);
  if (::ioctl(fd.get(), TUNSETPERSIST, 1) != 0) throw sys_error(errno, fmt::format("making TAP {} persistent", name));
  set_vnet_hdr_size(fd.get(), name);
  set_offloads(fd.get(), name);
  return fd;
}

Fd reopen(std::string_view name) {
  Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) return {};
  ifreq ifr = request(name);
  int size = 0;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0 || ::ioctl(fd.get(), TUNGETVNETHDRSZ, &size) != 0 ||
      size != k_vnet_hdr_size)
    return {};
  return fd;
}

bool alive(int fd, std::string_view name) {
  ifreq ifr{};
  return ::ioctl(fd, TUNGETIFF, &ifr) == 0 && name == ifr.ifr_name;
}

void set_vnet_hdr_size(int fd, std::string_view name) {
  int size = k_vnet_hdr_size;
  if (::ioctl(fd, TUNSETVNETHDRSZ, &size) != 0)
    throw sys_error(errno, fmt::format("setting the vnet header size of TAP {}", name));
}

void set_offloads(int fd, std::string_view name) {
  if (::ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) != 0)
    throw sys_error(errno, fmt::format("TUNSETOFFLOAD on TAP {}", name));
  try {
    set_ethtool_feature(name, "tx-tcp-mangleid-segmentation", true);
  } catch (const Error& e) {
    log::warn("{}", e.message());
  }
}

bool unpersist(std::string_view name) {
  try {
    Fd fd = attach(name);
    return ::ioctl(fd.get(), TUNSETPERSIST, 0) == 0;
  } catch (const Error&) {
    return false;
  }
}

namespace {

struct FeatureTable {
  std::map<std::string, int, std::less<>> bits;
  uint32_t words = 0;  // ETHTOOL_SFEATURES wants exactly this many blocks
};

const FeatureTable& features(std::string_view probe_if) {
  static std::mutex lock;
  static std::optional<FeatureTable> table;
  std::lock_guard guard(lock);
  if (!table) {
    Fd sock = ethtool_socket();
    auto names = feature_names(sock.get(), probe_if);
    FeatureTable t;
    for (size_t i = 0; i < names.size(); ++i) t.bits.emplace(names[i], static_cast<int>(i));
    t.words = static_cast<uint32_t>((names.size() + 31) / 32);
    table = std::move(t);
  }
  return *table;
}

}  // namespace

int ethtool_feature_bit(std::string_view feature, std::string_view probe_if) {
  const auto& bits = features(probe_if).bits;
  auto it = bits.find(feature);
  return it == bits.end() ? -1 : it->second;
}

void set_ethtool_feature(std::string_view ifname, std::string_view feature, bool on) {
  int bit = ethtool_feature_bit(feature, ifname);
  if (bit < 0)
    throw Error(Exit::failed, fmt::format("ethtool feature {} on {}", feature, ifname),
                "this kernel has no such feature");
  uint32_t blocks = features(ifname).words;
  std::vector<char> buf(sizeof(ethtool_sfeatures) + blocks * sizeof(ethtool_set_features_block));
  auto* sf = reinterpret_cast<ethtool_sfeatures*>(buf.data());
  sf->cmd = ETHTOOL_SFEATURES;
  sf->size = blocks;
  sf->features[bit / 32].valid = 1U << (bit % 32);
  sf->features[bit / 32].requested = on ? 1U << (bit % 32) : 0;
  Fd sock = ethtool_socket();
  ifreq ifr = request(ifname);
  ifr.ifr_data = buf.data();
  // A positive return says the kernel changed the request (ETHTOOL_F_WISH etc.); only < 0 fails.
  if (::ioctl(sock.get(), SIOCETHTOOL, &ifr) < 0)
    throw sys_error(errno, fmt::format("setting ethtool feature {} on {}", feature, ifname));
}

}  // namespace cube::tap
