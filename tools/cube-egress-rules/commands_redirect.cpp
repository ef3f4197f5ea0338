// redirect up|down|status, and dns-relay.
#include "commands.hpp"

#include "dns_relay.hpp"
#include "ipv4.hpp"
#include "log.hpp"
#include "output.hpp"
#include "redirect.hpp"

namespace cube::egress::cmd {
namespace {

// up and the relay need the gateway; down and status work after cube-tap teardown too, since the
// rule and the route do not depend on it.
enum class Gateway { required, if_recorded };

redirect::Config redirect_config(cli::Context& tool, Gateway need) {
  Settings s = settings(tool);
  auto db = tool.open_state(state::Access::read);
  uint32_t gw = need == Gateway::required ? redirect::node_gateway(db) : redirect::recorded_gateway(db).value_or(0);
  return redirect::config(s, gw);
}

void print_status(cli::Context& tool, const std::vector<redirect::Item>& items) {
  output::Table t({{"object", "OBJECT"}, {"detail", "DETAIL"}, {"installed", "INSTALLED"}});
  for (const auto& i : items)
    t.add({i.object, i.detail, output::Cell(i.installed, i.installed ? output::Style::plain : output::Style::bad)});
  output::print(t, tool.format());
}

}  // namespace

void redirect_up(cli::Context& tool) {
  redirect::Config c = redirect_config(tool, Gateway::required);
  redirect::up(c);
  print_status(tool, redirect::status(c));
}

void redirect_down(cli::Context& tool) {
  redirect::Config c = redirect_config(tool, Gateway::if_recorded);
  redirect::down(c);
  print_status(tool, redirect::status(c));
}

void redirect_status(cli::Context& tool) {
  print_status(tool, redirect::status(redirect_config(tool, Gateway::if_recorded)));
}

void dns_relay(cli::Context& tool) {
  Settings s = settings(tool);
  redirect::Config c = redirect_config(tool, Gateway::required);
  RelayOptions o{c.gateway, c.dns_port, tool.state_path(), compile_options(s)};
  DnsRelay relay(o);
  RelayStats st = relay.run([&] { log::info("relaying DNS on {}:{}", ipv4::format(c.gateway), c.dns_port); });
  log::info("stopped after {} queries ({} forwarded, {} refused, {} addresses learned)", st.queries, st.forwarded,
            st.refused, st.learned);
}

}  // namespace cube::egress::cmd
