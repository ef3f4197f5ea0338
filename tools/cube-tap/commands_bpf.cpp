// The data-path verbs: bpf status (what is loaded, attached and pinned) and bpf stats (the per-TAP
// counters). Both read the kernel and the state file and change nothing.
#include "commands.hpp"

#include "cubevs.hpp"
#include "error.hpp"
#include "ids.hpp"
#include "output.hpp"
#include "store.hpp"

#include <fmt/format.h>
#include <net/if.h>

#include <algorithm>
#include <map>
#include <optional>

namespace cube::tap::cmd {
namespace {

using output::Align;
using output::Cell;
using output::Style;

// A map this full is about to refuse sandboxes or ports.
constexpr double k_fill_warn = 0.9;

output::Table status_table() {
  return output::Table({{"kind", "KIND"},
                        {"name", "NAME"},
                        {"sandbox", "SANDBOX"},
                        {"interface", "INTERFACE"},
                        {"hook", "HOOK"},
                        {"id", "ID", Align::right},
                        {"tag", "TAG"},
                        {"entries", "ENTRIES", Align::right},
                        {"max_entries", "MAX", Align::right},
                        {"state", "STATE"},
                        {"path", "PATH"}});
}

// One attach point: which program sits at our tc slot, and whether it is the one that should.
void add_attach(output::Table& t, const std::vector<cubevs::ProgramInfo>& progs, const Cell& sandbox,
                const std::string& dev, int ifindex, cubevs::Hook hook, const std::string& want) {
  uint32_t id = ifindex > 0 ? cubevs::attached_program(ifindex, hook) : 0;
  bool ours = std::any_of(progs.begin(), progs.end(), [&](const auto& p) { return p.id == id && p.name == want; });
  std::string state = id == 0 ? "missing" : ours ? "attached" : "foreign";
  t.add({"attach", want, sandbox, dev, hook == cubevs::Hook::ingress ? "ingress" : "egress", id ? Cell(id) : Cell(),
         Cell(), Cell(), Cell(), Cell(state, ours ? Style::good : Style::bad), Cell()});
}

int uplink_ifindex(const std::optional<cubevs::Pins>& pins, const std::string& uplink) {
  if (pins)
    for (int i : pins->uplinks()) return i;
  return static_cast<int>(if_nametoindex(uplink.c_str()));
}

}  // namespace

void bpf_status(cli::Context& ctx) {
  Settings s = settings(ctx);
  state::Db db = ctx.open_state(state::Access::read);
  std::optional<cubevs::Pins> pins;
  if (cubevs::Pins::installed(s.bpf_pin_dir)) pins = cubevs::Pins::open(s.bpf_pin_dir);
  output::Table t = status_table();
  t.add({"layout", fmt::format("v{}", CUBEVS_LAYOUT), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(),
         pins ? Cell("installed", Style::good) : Cell("not_installed", Style::bad), cubevs::layout_dir(s.bpf_pin_dir)});
  std::vector<cubevs::ProgramInfo> progs;
  if (pins) progs = pins->programs();
  for (const auto& p : progs)
    t.add({"program", p.name, Cell(), Cell(), Cell(), p.id, p.tag, Cell(), Cell(), Cell("loaded", Style::good), p.pin});
  if (std::optional<NodeRow> node = load_node(db))
    add_attach(t, progs, Cell(), node->uplink, uplink_ifindex(pins, node->uplink), cubevs::Hook::ingress, "from_world");
  for (const TapRow& tap : all_taps(db)) {
    if (tap.state != TapState::in_use && tap.state != TapState::pooled) continue;
    Cell owner = tap.sandbox_id.empty() ? Cell() : Cell(tap.sandbox_id);
    add_attach(t, progs, owner, tap.name, tap.ifindex, cubevs::Hook::ingress, "from_cube");
    add_attach(t, progs, owner, tap.name, tap.ifindex, cubevs::Hook::egress, "to_cube");
  }
  if (pins)
    for (const auto& m : pins->fill()) {
      bool full = m.max_entries && m.entries >= k_fill_warn * m.max_entries && m.max_entries > 1;
      t.add({"map", m.name, Cell(), Cell(), Cell(), m.id, Cell(), m.entries, m.max_entries,
             full ? Cell("nearly_full", Style::warn) : Cell("ok", Style::good), m.pin});
    }
  output::print(t, ctx.format());
}

void bpf_stats(cli::Context& ctx, const SandboxArgs& a) {
  if (!a.sandbox.empty()) ids::check(a.sandbox, "sandbox ID");
  Settings s = settings(ctx);
  state::Db db = ctx.open_state(state::Access::read);
  cubevs::Pins pins = cubevs::Pins::open(s.bpf_pin_dir);
  // The TAPs the programs know, named from the state file where it has them.
  std::map<int, const TapRow*> by_ifindex;
  std::vector<TapRow> taps = all_taps(db);
  for (const TapRow& tap : taps)
    if (tap.ifindex > 0) by_ifindex[tap.ifindex] = &tap;
  std::vector<int> known = pins.taps();
  if (!a.sandbox.empty()) {
    auto tap = std::find_if(taps.begin(), taps.end(), [&](const TapRow& r) { return r.sandbox_id == a.sandbox; });
    if (tap == taps.end())
      throw Error(Exit::not_found, fmt::format("sandbox {} not found", a.sandbox), "it has no TAP here");
    known = {tap->ifindex};
  }
  std::sort(known.begin(), known.end());
  output::Table t({{"sandbox", "SANDBOX"},
                   {"tap", "TAP"},
                   {"ifindex", "IFINDEX", Align::right},
                   {"rewritten", "REWRITTEN", Align::right},
                   {"fast_in", "FAST IN", Align::right},
                   {"fast_out", "FAST OUT", Align::right},
                   {"fast_to_kernel", "FAST→KERNEL", Align::right},
                   {"syn_drop", "SYN DROP", Align::right},
                   {"arp_reply", "ARP REPLY", Align::right},
                   {"dropped", "DROPPED", Align::right},
                   {"unknown_tap", "UNKNOWN TAP", Align::right}});
  for (int ifindex : known) {
    tap_counters c = pins.counters(ifindex);
    auto row = by_ifindex.find(ifindex);
    Cell sandbox, name;
    if (row != by_ifindex.end() && !row->second->sandbox_id.empty()) sandbox = row->second->sandbox_id;
    if (row != by_ifindex.end()) name = row->second->name;
    t.add({sandbox, name, ifindex, c.rewritten, c.fast_in, c.fast_out, c.fast_to_kernel,
           c.syn_drop ? Cell(c.syn_drop, Style::warn) : Cell(c.syn_drop), c.arp_reply, c.dropped, Cell()});
  }
  // Packets from TAPs the maps do not know: a row of their own, as they belong to no sandbox.
  if (a.sandbox.empty()) {
    uint64_t unknown = pins.unknown_tap_packets();
    t.add({Cell(), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(), Cell(),
           unknown ? Cell(unknown, Style::bad) : Cell(unknown)});
  }
  output::print(t, ctx.format());
}

}  // namespace cube::tap::cmd
