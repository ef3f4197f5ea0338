#include "fd_provider.hpp"

#include "error.hpp"
#include "lifecycle.hpp"
#include "log.hpp"
#include "node_setup.hpp"
#include "plumbing.hpp"
#include "store.hpp"
#include "tap_device.hpp"

#include <fmt/format.h>

#include <set>

namespace cube::tap {

std::string_view tier_name(Tier t) {
  switch (t) {
    case Tier::fast: return "fast";
    case Tier::hot: return "hot";
    case Tier::recovery: return "recovery";
  }
  return "?";
}

netlink::Socket& FdProvider::nl() {
  if (!m_nl) m_nl = std::make_unique<netlink::Socket>();
  return *m_nl;
}

Handout FdProvider::get(const std::string& sandbox, std::string_view name) {
  auto row = m_lookup.by_sandbox(sandbox);
  if (!row || row->state != TapState::in_use)
    throw Error(Exit::not_found, fmt::format("sandbox \"{}\" not found", sandbox));
  if (!name.empty() && name != row->name)
    throw Error(Exit::usage, fmt::format("tap name mismatch: want \"{}\" got \"{}\"", row->name, name));
  auto it = m_held.find(row->name);
  if (it == m_held.end()) {
    it = m_held.emplace(row->name, Held{}).first;
    return recover(sandbox, row->name, it->second);
  }
  Held& held = it->second;
  if (held.fd && held.sandbox == sandbox && alive(held.fd.get(), row->name))
    return {held.fd.get(), held.ifindex, Tier::fast};
  held.fd.reset();
  m_closer.flush();  // the TAP attaches to a new fd only once the old one is closed
  if (Fd fd = reopen(row->name)) {
    held = {std::move(fd), sandbox, row->ifindex ? row->ifindex : held.ifindex};
    return {held.fd.get(), held.ifindex, Tier::hot};
  }
  return recover(sandbox, row->name, held);
}

Handout FdProvider::recover(const std::string& sandbox, const std::string& name, Held& held) {
  held.fd.reset();
  auto row = tap_by_sandbox(m_db, sandbox);
  NodeRow node = require_node(m_db);
  TapSpec spec = spec_of(*row, node, m_settings);
  try {
    if (auto link = nl().link(name)) {
      Fd fd = attach(name);
      set_vnet_hdr_size(fd.get(), name);
      set_offloads(fd.get(), name);
      configure(nl(), spec, *link);
      held = {std::move(fd), sandbox, link->ifindex};
    } else {
      Built b = build(nl(), spec);
      held = {std::move(b.fd), sandbox, b.ifindex};
    }
  } catch (const Error& e) {
    m_held.erase(name);
    if (e.code() == Exit::conflict)
      throw Error(Exit::conflict, fmt::format("tap fd unavailable for sandbox \"{}\": tap {} is currently held by "
                                              "another process",
                                              sandbox, name));
    throw;
  }
  return {held.fd.get(), held.ifindex, Tier::recovery};
}

void FdProvider::sweep() {
  std::map<std::string, std::string, std::less<>> rows;  // TAP → the sandbox it serves ("" pooled)
  for (const auto& row : all_taps(m_db))
    rows.emplace(row.name, row.state == TapState::in_use ? row.sandbox_id : std::string());
  for (auto it = m_held.begin(); it != m_held.end();) {
    auto row = rows.find(it->first);
    Held& h = it->second;
    if (row == rows.end() || (h.fd && !alive(h.fd.get(), it->first))) {
      m_closer.close(std::move(h.fd));
      it = m_held.erase(it);  // the TAP is gone
      continue;
    }
    // Released, or serving another sandbox now: close the fd (and drop any frame queued for the
    // last sandbox), but remember the TAP so that its next sandbox gets the hot path.
    if (row->second != h.sandbox) m_closer.close(std::move(h.fd));
    ++it;
  }
}

bool FdProvider::state_changed() {
  m_data_version.step();
  int64_t v = m_data_version.integer(0);
  m_data_version.reset();
  bool changed = m_seen_version >= 0 && v != m_seen_version;
  m_seen_version = v;
  return changed;
}

}  // namespace cube::tap
