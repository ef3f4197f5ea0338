#include "cubevs.hpp"

#include "cubevs.skel.h"
#include "error.hpp"
#include "log.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <memory>

namespace cube::tap::cubevs {
namespace {

constexpr const char* k_programs[] = {"from_cube", "to_cube", "from_world"};
constexpr const char* k_maps[] = {"cube_config", "tap_meta", "guest_port", "host_port", "tap_stats", "unknown_stats"};

// libbpf speaks only when asked (-vv): its warnings are about the programs, not the operator's input.
int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  std::string_view text(line, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof line - 1) : 0);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  log::debug("libbpf: {}", text);
  return 0;
}

void quiet_libbpf() {
  static bool done = false;
  if (!done) libbpf_set_print(libbpf_log), done = true;
}

bool on_bpffs(const std::string& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

void make_dir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error(errno, "creating " + path);
}

void make_dirs(const std::string& path) {
  for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1))
    make_dir(path.substr(0, at));
  make_dir(path);
}

Fd pinned(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0)
    throw Error(Exit::failed, "the data path is not installed: " + path, errno_text(errno),
                "run cube-tap setup, which loads and pins it");
  return Fd(fd);
}

void check(int rc, const std::string& what) {
  if (rc < 0) throw sys_error(-rc, what);
}

void update(const Fd& map, const void* key, const void* value, const char* name) {
  if (bpf_map_update_elem(map.get(), key, value, BPF_ANY) != 0)
    throw sys_error(errno, fmt::format("updating {}", name));
}

void remove(const Fd& map, const void* key, const char* name) {
  if (bpf_map_delete_elem(map.get(), key) != 0 && errno != ENOENT)
    throw sys_error(errno, fmt::format("deleting from {}", name));
}

template <typename Key>
std::vector<Key> keys_of(const Fd& map) {
  std::vector<Key> out;
  Key key{}, next{};
  for (const Key* at = nullptr; bpf_map_get_next_key(map.get(), at, &next) == 0; at = &key) {
    out.push_back(next);
    key = next;
  }
  return out;
}

void attach(int ifindex, bpf_tc_attach_point where, int prog_fd, const char* name) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
  int rc = bpf_tc_hook_create(&hook);
  if (rc < 0 && rc != -EEXIST) check(rc, fmt::format("adding the clsact qdisc to ifindex {}", ifindex));
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = 1, .priority = 1);
  check(bpf_tc_attach(&hook, &opts), fmt::format("attaching {} to ifindex {}", name, ifindex));
}

struct SkelDeleter {
  void operator()(cubevs_bpf* s) const { cubevs_bpf__destroy(s); }
};

}  // namespace

std::string layout_dir(const std::string& pin_root) { return fmt::format("{}/v{}", pin_root, CUBEVS_LAYOUT); }

void ensure_bpffs(const std::string& pin_root) {
  // The usual place is a directory on the system's BPF mount; mount that one rather than the
  // directory when it is missing, as a node's bpffs unit would.
  const std::string sys = "/sys/fs/bpf";
  bool under_sys = pin_root.rfind(sys + "/", 0) == 0 || pin_root == sys;
  std::string mount_point = under_sys ? sys : pin_root;
  if (!under_sys) make_dirs(pin_root);
  if (!on_bpffs(mount_point) && mount("bpf", mount_point.c_str(), "bpf", 0, "mode=0700") != 0)
    throw sys_error(errno, "mounting the BPF file system on " + mount_point);
  make_dirs(pin_root);
}

void install(const std::string& pin_root) {
  quiet_libbpf();
  ensure_bpffs(pin_root);
  std::string dir = layout_dir(pin_root);
  make_dir(dir);
  std::unique_ptr<cubevs_bpf, SkelDeleter> skel(cubevs_bpf__open());
  if (!skel) throw sys_error(errno, "opening the data-path programs");
  for (const char* name : k_maps)
    check(bpf_map__set_pin_path(bpf_object__find_map_by_name(skel->obj, name), (dir + "/" + name).c_str()),
          fmt::format("setting the pin path of map {}", name));
  if (int rc = cubevs_bpf__load(skel.get()); rc < 0)
    throw Error(Exit::failed, "loading the data-path programs", errno_text(-rc),
                "the kernel's verifier refused them or BPF is not allowed here; -vv shows libbpf's log");
  for (const char* name : k_programs) {
    std::string path = dir + "/prog_" + name;
    bpf_program* prog = bpf_object__find_program_by_name(skel->obj, name);
    // Replace an older program: unlink, pin; a concurrent install may pin between the two.
    for (int tries = 0;; ++tries) {
      if (unlink(path.c_str()) != 0 && errno != ENOENT) throw sys_error(errno, "unpinning " + path);
      int rc = bpf_program__pin(prog, path.c_str());
      if (rc == 0) break;
      if (rc != -EEXIST || tries == 3) check(rc, "pinning " + path);
    }
  }
}

void uninstall(const std::string& pin_root) {
  std::string dir = layout_dir(pin_root);
  for (const char* name : k_programs) unlink((dir + "/prog_" + name).c_str());
  for (const char* name : k_maps) unlink((dir + "/" + name).c_str());
  rmdir(dir.c_str());
}

bool Pins::installed(const std::string& pin_root) {
  struct stat st {};
  return stat((layout_dir(pin_root) + "/prog_from_cube").c_str(), &st) == 0;
}

Pins Pins::open(const std::string& pin_root) {
  quiet_libbpf();
  Pins p;
  p.m_dir = layout_dir(pin_root);
  for (size_t i = 0; i < 3; ++i) p.m_progs[i] = pinned(p.m_dir + "/prog_" + k_programs[i]);
  p.m_config = pinned(p.m_dir + "/cube_config");
  p.m_tap_meta = pinned(p.m_dir + "/tap_meta");
  p.m_guest_port = pinned(p.m_dir + "/guest_port");
  p.m_host_port = pinned(p.m_dir + "/host_port");
  p.m_tap_stats = pinned(p.m_dir + "/tap_stats");
  p.m_unknown = pinned(p.m_dir + "/unknown_stats");
  return p;
}

int Pins::program_fd(Program p) const { return m_progs[static_cast<int>(p)].get(); }

void Pins::set_config(const NodeConfig& c) const {
  cube_config v{};
  v.guest_ip = htonl(c.guest_ip);
  v.gateway_ip = htonl(c.gateway_ip);
  v.node_gw_ip = htonl(c.node_gw_ip);
  v.node_ip = htonl(c.node_ip);
  v.uplink_ifindex = static_cast<__u32>(c.uplink_ifindex);
  std::copy(c.gateway_mac.begin(), c.gateway_mac.end(), v.gateway_mac);
  std::copy(c.guest_mac.begin(), c.guest_mac.end(), v.guest_mac);
  uint32_t zero = 0;
  update(m_config, &zero, &v, "cube_config");
}

void Pins::put_tap(int ifindex, uint32_t sandbox_ip, const std::string& sandbox_id) const {
  tap_meta v{};
  v.sandbox_ip = htonl(sandbox_ip);
  std::memcpy(v.id, sandbox_id.data(), std::min(sandbox_id.size(), sizeof v.id - 1));
  auto key = static_cast<uint32_t>(ifindex);
  update(m_tap_meta, &key, &v, "tap_meta");
}

void Pins::drop_tap(int ifindex) const {
  auto key = static_cast<uint32_t>(ifindex);
  remove(m_tap_meta, &key, "tap_meta");
  remove(m_tap_stats, &key, "tap_stats");
  for (uint16_t port : host_ports_of(ifindex)) drop_host_port(port);
  for (const guest_port_key& k : keys_of<guest_port_key>(m_guest_port))
    if (k.ifindex == key) remove(m_guest_port, &k, "guest_port");
}

void Pins::put_port(int ifindex, uint16_t guest_port, uint16_t host_port) const {
  guest_port_key gk{static_cast<__u32>(ifindex), guest_port, 0};
  uint32_t hp = host_port;
  port_target target{static_cast<__u32>(ifindex), guest_port, 0};
  // The inbound entry last: a connection may start only once its replies have a way out.
  update(m_guest_port, &gk, &hp, "guest_port");
  update(m_host_port, &hp, &target, "host_port");
}

void Pins::drop_port(int ifindex, uint16_t guest_port, uint16_t host_port) const {
  guest_port_key gk{static_cast<__u32>(ifindex), guest_port, 0};
  uint32_t hp = host_port;
  remove(m_host_port, &hp, "host_port");
  remove(m_guest_port, &gk, "guest_port");
}

void Pins::attach_tap(int ifindex) const {
  attach(ifindex, BPF_TC_INGRESS, program_fd(Program::from_cube), "from_cube");
  attach(ifindex, BPF_TC_EGRESS, program_fd(Program::to_cube), "to_cube");
}

void Pins::attach_uplink(int ifindex) const {
  attach(ifindex, BPF_TC_INGRESS, program_fd(Program::from_world), "from_world");
}

void Pins::detach_uplink(int ifindex) const {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
  int rc = bpf_tc_detach(&hook, &opts);
  if (rc < 0 && rc != -ENOENT && rc != -EINVAL && rc != -ENODEV)
    check(rc, fmt::format("detaching from_world from ifindex {}", ifindex));
}

std::vector<int> Pins::taps() const {
  std::vector<int> out;
  for (uint32_t k : keys_of<uint32_t>(m_tap_meta)) out.push_back(static_cast<int>(k));
  return out;
}

std::vector<uint16_t> Pins::host_ports_of(int ifindex) const {
  std::vector<uint16_t> out;
  for (uint32_t port : keys_of<uint32_t>(m_host_port)) {
    port_target t{};
    if (bpf_map_lookup_elem(m_host_port.get(), &port, &t) == 0 && t.ifindex == static_cast<__u32>(ifindex))
      out.push_back(static_cast<uint16_t>(port));
  }
  return out;
}

void Pins::drop_host_port(uint16_t host_port) const {
  uint32_t port = host_port;
  port_target t{};
  if (bpf_map_lookup_elem(m_host_port.get(), &port, &t) != 0) return;
  drop_port(static_cast<int>(t.ifindex), t.port, host_port);
}

std::vector<int> Pins::uplinks() const {
  cube_config c{};
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(m_config.get(), &zero, &c) != 0 || c.uplink_ifindex == 0) return {};
  return {static_cast<int>(c.uplink_ifindex)};
}

tap_counters Pins::counters(int ifindex) const {
  std::vector<tap_counters> per(static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1)));
  tap_counters sum{};
  auto key = static_cast<uint32_t>(ifindex);
  if (bpf_map_lookup_elem(m_tap_stats.get(), &key, per.data()) != 0) return sum;
  for (const tap_counters& c : per) tap_counters_add(&sum, &c);
  return sum;
}

uint64_t Pins::unknown_tap_packets() const {
  std::vector<unknown_counters> per(static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1)));
  uint32_t zero = 0;
  uint64_t n = 0;
  if (bpf_map_lookup_elem(m_unknown.get(), &zero, per.data()) == 0)
    for (const unknown_counters& c : per) n += c.unknown_tap;
  return n;
}

std::vector<MapFill> Pins::fill() const {
  auto one = [&](const Fd& fd, const char* name, size_t entries) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) throw sys_error(errno, fmt::format("reading map {}", name));
    return MapFill{name, info.id, static_cast<uint32_t>(entries), info.max_entries, m_dir + "/" + name};
  };
  // Array maps have every slot from the start: their fill is their size.
  return {one(m_config, "cube_config", keys_of<uint32_t>(m_config).size()),
          one(m_tap_meta, "tap_meta", keys_of<uint32_t>(m_tap_meta).size()),
          one(m_guest_port, "guest_port", keys_of<guest_port_key>(m_guest_port).size()),
          one(m_host_port, "host_port", keys_of<uint32_t>(m_host_port).size()),
          one(m_tap_stats, "tap_stats", keys_of<uint32_t>(m_tap_stats).size()),
          one(m_unknown, "unknown_stats", keys_of<uint32_t>(m_unknown).size())};
}

std::vector<ProgramInfo> Pins::programs() const {
  std::vector<ProgramInfo> out;
  for (size_t i = 0; i < 3; ++i) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(m_progs[i].get(), &info, &len) != 0)
      throw sys_error(errno, fmt::format("reading program {}", k_programs[i]));
    std::string tag;
    for (uint8_t b : info.tag) tag += fmt::format("{:02x}", b);
    out.push_back({k_programs[i], info.id, tag, m_dir + "/prog_" + k_programs[i]});
  }
  return out;
}

uint32_t attached_program(int ifindex, Hook hook) {
  quiet_libbpf();
  LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
              .attach_point = hook == Hook::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
  // Every failure means the same to the caller: nothing of ours is there.
  if (bpf_tc_query(&h, &opts) != 0) return 0;
  return opts.prog_id;
}

}  // namespace cube::tap::cubevs
