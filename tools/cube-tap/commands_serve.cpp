// The fd hand-off and crash recovery verbs: serve, get-fd, reconcile.
#include "commands.hpp"
#include "commands_session.hpp"

#include "error.hpp"
#include "fd_client.hpp"
#include "fd_provider.hpp"
#include "fd_server.hpp"
#include "ids.hpp"
#include "log.hpp"
#include "output.hpp"
#include "reconcile.hpp"
#include "units.hpp"

#include <fmt/format.h>

namespace cube::tap::cmd {

void serve(cli::Context& ctx, const ServeArgs& a) {
  Settings s = settings(ctx, a.flags);
  state::Db db = ctx.open_state(state::Access::read);
  FdProvider provider(db, s);
  FdServer server(provider, s);
  ServeStats stats = server.run([&] { log::info("serving TAP fds on {}", s.socket); });
  log::info("stopped after {} requests ({} refused)", stats.served, stats.refused);
}

void get_fd(cli::Context& ctx, const GetFdArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  if (!a.exec || a.command.empty())
    throw Error(Exit::usage, "get-fd needs --exec CMD [ARGS...]", "the fd is handed to that command as fd 3");
  Settings s = settings(ctx, a.flags);
  int64_t timeout = a.timeout ? units::parse_duration_ms(*a.timeout, "--timeout") : s.fd_timeout_ms;
  ReceivedFd fd = request_fd(s.socket, a.sandbox, a.name, timeout);
  output::flush();
  exec_with_fd(std::move(fd), a.command);
}

void reconcile(cli::Context& ctx, const ReconcileArgs& a) {
  Session s(ctx);
  auto plan = tap::reconcile(s.env, a.dry_run);
  output::Table t({{"tap", "TAP"},
                   {"sandbox", "SANDBOX"},
                   {"state", "STATE"},
                   {"action", "ACTION"},
                   {"ok", "OK"},
                   {"reason", "REASON"}});
  size_t failed = 0;
  for (const auto& p : plan) {
    t.add({p.tap, p.sandbox.empty() ? output::Cell() : output::Cell(p.sandbox), p.state, p.action,
           output::Cell(p.ok, p.ok ? output::Style::plain : output::Style::bad), p.reason});
    failed += p.ok ? 0 : 1;
  }
  output::print(t, ctx.format());
  if (failed > 0)
    throw Error(Exit::failed, fmt::format("{} of {} TAPs could not be put right", failed, plan.size()), "",
                "run cube-tap reconcile again; a TAP failing 3 times is quarantined");
}

}  // namespace cube::tap::cmd
