// cube::tap fd provider — a sandbox's TAP fd for `serve`, in three tiers:
//
//   fast      the server already holds an fd for this sandbox's TAP: one TUNGETIFF proves the
//             device still exists (another process may have deleted it), then it is handed over.
//   hot       the server knew the TAP but holds no fd for this sandbox (it came back through the
//             pool, and the old fd was closed so that no frame queued for the last sandbox
//             reaches the next): open + TUNSETIFF + the vnet header check, nothing else.
//   recovery  nothing known (the server just started), or the hot path failed: the full restore —
//             netlink lookup, attach, vnet header, offloads, MAC, MTU, link up, route, neighbour
//             (the device is rebuilt when it is gone).
//
// The server keeps each fd it opened, so the next request for the same sandbox is fast.
#pragma once

#include "closer.hpp"
#include "fd.hpp"
#include "netlink.hpp"
#include "settings.hpp"
#include "state.hpp"
#include "store.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace cube::tap {

enum class Tier { fast, hot, recovery };
std::string_view tier_name(Tier t);

struct Handout {
  int fd = -1;  // borrowed: the provider keeps it
  int ifindex = 0;
  Tier tier = Tier::fast;
};

class FdProvider {
 public:
  FdProvider(state::Db& db, const Settings& settings)
      : m_db(db), m_settings(settings), m_lookup(db), m_data_version(db.prepare("PRAGMA data_version")) {}

  // Throws Error: not_found for an unknown sandbox, usage for a TAP name that is not its TAP,
  // conflict when another process holds the TAP.
  Handout get(const std::string& sandbox, std::string_view name);
  // Closes fds of TAPs that are gone or no longer serve the sandbox they were opened for — on the
  // closer's thread, so that the TAP's next sandbox finds it closed and takes the hot path.
  void sweep();
  // True when another process changed the state file since the last call (the server sweeps then,
  // so a released TAP's fd is closed long before its next sandbox asks for it).
  bool state_changed();
  size_t held() const { return m_held.size(); }

 private:
  struct Held {
    Fd fd;
    std::string sandbox;
    int ifindex = 0;
  };
  Handout recover(const std::string& sandbox, const std::string& name, Held& held);
  netlink::Socket& nl();

  state::Db& m_db;
  const Settings& m_settings;
  TapLookup m_lookup;
  state::Statement m_data_version;
  int64_t m_seen_version = -1;
  Closer m_closer;
  std::unique_ptr<netlink::Socket> m_nl;  // opened on the first recovery
  std::map<std::string, Held, std::less<>> m_held;
};

}  // namespace cube::tap
