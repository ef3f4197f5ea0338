#include "commands.hpp"

#include "mount_ns.hpp"

#include "forwarder.hpp"
#include "reader.hpp"
#include "timeutil.hpp"

namespace cube::logs::cmd {
namespace {

Settings settings(cli::Context& ctx, const SettingFlags& flags = {}) {
  config::Settings s(ctx.config(), "logs");
  return load_settings(s, flags);
}

}  // namespace

int forward(cli::Context& ctx, const ForwardArgs& a) {
  Settings s = settings(ctx, a.settings);
  ForwardOptions o;
  o.bundle = a.bundle;
  o.rotation.max_size = s.max_size;
  o.rotation.max_files = s.max_files;
  o.stdout_fd = a.stdout_fd;
  o.stderr_fd = a.stderr_fd;
  o.socket_path = a.socket;
  if (!a.vsock.empty()) o.vsock = parse_vsock(a.vsock);
  o.command = a.command;
  return logs::forward(o);
}

void read(cli::Context& ctx, const ReadArgs& a) {
  SettingFlags flags;
  flags.mount_ns = a.mount_ns;
  Settings s = settings(ctx, flags);
  ReadOptions o;
  o.id = a.id;
  o.template_mode = a.template_mode;
  o.root = !a.root.empty() ? a.root : a.template_mode ? s.template_root : s.root;
  if (a.all) o.pick = Pick::all;
  if (a.tail) o.count = static_cast<uint64_t>(*a.tail);
  if (a.head) o.pick = Pick::head, o.count = static_cast<uint64_t>(*a.head);
  // --since or --until alone: the whole window, not its last 100 lines.
  if (!a.tail && !a.head && !a.all && (!a.since.empty() || !a.until.empty())) o.pick = Pick::all;
  int64_t now = time::now_ns();
  if (!a.since.empty()) o.since_ns = parse_time_arg(a.since, "--since", now);
  if (!a.until.empty()) o.until_ns = parse_time_arg(a.until, "--until", now);
  o.stream = a.stderr_only ? "stderr" : a.stream;
  o.follow = a.follow;
  o.style.timestamps = a.timestamps;
  o.style.raw = a.raw;
  o.seccomp = !a.no_seccomp;
  o.mount_ns = resolve_mount_ns(s.mount_ns, s.mount_ns_origin);
  logs::read(o);
}

void config(cli::Context& ctx) {
  config::Settings s(ctx.config(), "logs");
  load_settings(s, {});
  cli::print_settings(s, ctx.format());
}

}  // namespace cube::logs::cmd
