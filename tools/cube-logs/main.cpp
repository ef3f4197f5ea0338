// cube-logs: the command line. The handlers are in commands.cpp; the work in forwarder and reader.
#include "cli.hpp"
#include "commands.hpp"

#include <climits>
#include <cstdint>
#include <vector>

namespace {

using namespace cube;
using namespace cube::logs;

// `cube-logs SANDBOX [flags]` (the upstream form) means `cube-logs read SANDBOX [flags]`: when the
// first word that is neither an option nor an option's value is not a verb, it is a sandbox ID.
// Options may come first (`cube-logs --tail 5 sb1`).
std::vector<char*> with_read_verb(int argc, char** argv, const CLI::App& app, const CLI::App& read) {
  std::vector<char*> args(argv, argv + argc);
  static char read_word[] = "read";
  int i = cli::first_word({&app, &read}, 1, argc, argv);
  if (i == argc || !app.get_subcommands([&](const CLI::App* v) { return v->get_name() == argv[i]; }).empty())
    return args;
  args.insert(args.begin() + 1, read_word);
  return args;
}

void forward_options(CLI::App& v, cmd::ForwardArgs& a) {
  v.add_option("--bundle", a.bundle, "Directory for the stdout and stderr files (created 0700)")
      ->required()
      ->type_name("DIR");
  v.add_option("--stdout-fd", a.stdout_fd, "Read stdout from this inherited fd")
      ->type_name("N")
      ->check(cli::integer(0, INT_MAX));
  v.add_option("--stderr-fd", a.stderr_fd, "Read stderr from this inherited fd")
      ->type_name("N")
      ->check(cli::integer(0, INT_MAX));
  v.add_option("--socket", a.socket, "Connect to this Unix socket and read the framed multiplex")->type_name("PATH");
  v.add_option("--vsock", a.vsock, "Connect to this vsock address and read the framed multiplex")
      ->type_name("CID:PORT");
  v.add_option("--max-size", a.settings.max_size, "Rotate a file before it would pass this size (0: never)")
      ->type_name("SIZE");
  v.add_option("--max-files", a.settings.max_files, "Files kept per stream with rotation, the current one included")
      ->type_name("N")
      ->check(cli::integer(1, 1000));
  v.add_option("command", a.command, "Run CMD ARGS… (after --) and forward its output; exit with its status")
      ->type_name("CMD");
}

void read_options(CLI::App& v, cmd::ReadArgs& a) {
  v.add_option("sandbox", a.id, "Sandbox ID (template ID with --template)")->required()->type_name("ID");
  auto* t = v.add_option("-t,--tail", a.tail, "Print the last N lines (default 100)")
                ->type_name("N")
                ->check(cli::integer(0, INT64_MAX));
  auto* h = v.add_option("-H,--head", a.head, "Print the first N lines")
                ->type_name("N")
                ->check(cli::integer(0, INT64_MAX))
                ->excludes(t);
  v.add_flag_callback(
       "-a,--all", [&a] { a.all = true; }, "Print every line")
      ->excludes(t)
      ->excludes(h);
  auto* e = v.add_flag_callback(
      "-e,--stderr", [&a] { a.stderr_only = true; }, "Read stderr instead of stdout");
  v.add_option("--stream", a.stream, "stdout, stderr, or all (merged by time)")
      ->check(CLI::IsMember({"stdout", "stderr", "all"}))
      ->type_name("STREAM")
      ->excludes(e);
  v.add_option("--since", a.since, "Only lines at or after T (RFC 3339, or a duration back from now: 10m)")
      ->type_name("T");
  auto* u = v.add_option("--until", a.until, "Only lines at or before T")->type_name("T");
  v.add_flag("-f,--follow", a.follow, "Keep printing lines as they are written, through rotation")
      ->excludes(h)
      ->excludes(u);
  v.add_flag("--timestamps", a.timestamps, "Prefix each line with its time");
  v.add_flag("--raw", a.raw, "Print the stored CRI lines as they are");
  v.add_flag("--template", a.template_mode, "Read a template build's log (/data/log/template/ID/)");
  v.add_option("--root", a.root, "Directory holding the per-sandbox log directories")->type_name("DIR");
  v.add_option("--mount-ns", a.mount_ns,
               "Enter this mount namespace first: /proc/PID/ns/mnt, pid:N or unit:NAME (default: [logs] mount_ns)")
      ->type_name("NS");
  v.add_flag_callback(
      "--no-seccomp", [&a] { a.no_seccomp = true; }, "Do not confine the reader (debugging)");
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-logs", "Container logs: forward stdout/stderr into CRI-format files, and read them back");

  // forward's options are built only when the command line can run it: start-up is most of a
  // short `cube-logs sb --tail 10`.
  cmd::ForwardArgs fwd;
  int status = 0;
  CLI::App* forward = tool.lazy_verb(
      "forward", "Forward a container's stdout and stderr into <bundle>/stdout and <bundle>/stderr",
      [&] { status = cmd::forward(tool, fwd); }, [&](CLI::App& v) { forward_options(v, fwd); });
  tool.long_running(forward);

  cmd::ReadArgs rd;
  CLI::App* read = tool.verb("read", "Print a sandbox's (or template build's) log; also `cube-logs SANDBOX`",
                             [&] { cmd::read(tool, rd); });
  read_options(*read, rd);

  tool.verb("config", "Print the effective [logs] settings and where each came from", [&] { cmd::config(tool); });

  std::vector<char*> args = with_read_verb(argc, argv, tool.app(), *read);
  int rc = tool.run(static_cast<int>(args.size()), args.data());
  return rc != 0 ? rc : status;
}
