#include "cli.hpp"
#include "forwarder.hpp"
#include "reader.hpp"
#include "timeutil.hpp"
#include "units.hpp"

#include <cstring>
#include <vector>

namespace {

using namespace cube;

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

// Every [logs] key, read in one place so that no verb warns about a key another verb uses.
struct LogsConfig {
  std::string root, template_root;
  uint64_t max_size = 0;
  int max_files = 5;
};
LogsConfig logs_config(cli::Tool& tool, const std::optional<std::string>& max_size = {},
                       std::optional<int64_t> max_files = {}, bool print = false) {
  config::Settings s(tool.config(), "logs");
  LogsConfig c;
  c.root = s.text("root", logs::k_sandbox_root);
  c.template_root = s.text("template_root", logs::k_template_root);
  c.max_size = s.size("max_size", "0", max_size);
  c.max_files = static_cast<int>(s.integer("max_files", 5, max_files));
  s.finish();
  if (print) cli::print_settings(s, tool.format());
  return c;
}

void add_forward(cli::Tool& tool, logs::ForwardOptions& o, std::optional<std::string>& max_size,
                 std::optional<int64_t>& max_files, std::string& vsock, int& status) {
  auto run = [&] {
    LogsConfig c = logs_config(tool, max_size, max_files);
    o.rotation.max_size = c.max_size;
    o.rotation.max_files = c.max_files;
    if (!vsock.empty()) o.vsock = logs::parse_vsock(vsock);
    status = logs::forward(o);
  };
  auto options = [&](CLI::App& v) {
    v.add_option("--bundle", o.bundle, "Directory for the stdout and stderr files (created 0700)")
        ->required()
        ->type_name("DIR");
    v.add_option("--stdout-fd", o.stdout_fd, "Read stdout from this inherited fd")->type_name("N");
    v.add_option("--stderr-fd", o.stderr_fd, "Read stderr from this inherited fd")->type_name("N");
    v.add_option("--socket", o.socket_path, "Connect to this Unix socket and read the framed multiplex")
        ->type_name("PATH");
    v.add_option("--vsock", vsock, "Connect to this vsock address and read the framed multiplex")
        ->type_name("CID:PORT");
    v.add_option("--max-size", max_size, "Rotate a file before it would pass this size (0: never)")->type_name("SIZE");
    v.add_option("--max-files", max_files, "Files kept per stream with rotation, the current one included")
        ->type_name("N");
    v.add_option("command", o.command, "Run CMD ARGS… (after --) and forward its output; exit with its status")
        ->type_name("CMD");
  };
  tool.lazy_verb("forward", "Forward a container's stdout and stderr into <bundle>/stdout and <bundle>/stderr", run,
                 options);
}

CLI::App* add_read(cli::Tool& tool, logs::ReadOptions& o, std::optional<int64_t>& tail, std::optional<int64_t>& head,
                   std::string& since, std::string& until, std::string& root) {
  auto* v = tool.verb("read", "Print a sandbox's (or template build's) log; also `cube-logs SANDBOX`", [&] {
    LogsConfig c = logs_config(tool);
    o.root = !root.empty() ? root : o.template_mode ? c.template_root : c.root;
    if (tail) o.count = static_cast<uint64_t>(*tail);
    if (head) o.pick = logs::Pick::head, o.count = static_cast<uint64_t>(*head);
    bool all = o.pick == logs::Pick::all;
    if (!tail && !head && !all && (!since.empty() || !until.empty())) o.pick = logs::Pick::all;
    int64_t now = time::now_ns();
    if (!since.empty()) o.since_ns = logs::parse_time_arg(since, "--since", now);
    if (!until.empty()) o.until_ns = logs::parse_time_arg(until, "--until", now);
    logs::read(o);
  });
  v->add_option("sandbox", o.id, "Sandbox ID (template ID with --template)")->required()->type_name("ID");
  auto* t = v->add_option("-t,--tail", tail, "Print the last N lines (default 100)")
                ->type_name("N")
                ->check(CLI::NonNegativeNumber);
  auto* h = v->add_option("-H,--head", head, "Print the first N lines")
                ->type_name("N")
                ->check(CLI::NonNegativeNumber)
                ->excludes(t);
  v->add_flag_callback(
       "-a,--all", [&o] { o.pick = logs::Pick::all; }, "Print every line")
      ->excludes(t)
      ->excludes(h);
  auto* e = v->add_flag_callback(
      "-e,--stderr", [&o] { o.stream = "stderr"; }, "Read stderr instead of stdout");
  v->add_option("--stream", o.stream, "stdout, stderr, or all (merged by time)")
      ->check(CLI::IsMember({"stdout", "stderr", "all"}))
      ->type_name("STREAM")
      ->excludes(e);
  v->add_option("--since", since, "Only lines at or after T (RFC 3339, or a duration back from now: 10m)")
      ->type_name("T");
  auto* u = v->add_option("--until", until, "Only lines at or before T")->type_name("T");
  v->add_flag("-f,--follow", o.follow, "Keep printing lines as they are written, through rotation")
      ->excludes(h)
      ->excludes(u);
  v->add_flag("--timestamps", o.style.timestamps, "Prefix each line with its time");
  v->add_flag("--raw", o.style.raw, "Print the stored CRI lines as they are");
  v->add_flag("--template", o.template_mode, "Read a template build's log (/data/log/template/ID/)");
  v->add_option("--root", root, "Directory holding the per-sandbox log directories")->type_name("DIR");
  v->add_option("--mount-ns", o.mount_ns, "Enter this mount namespace first (e.g. /proc/PID/ns/mnt)")
      ->type_name("PATH");
  v->add_flag_callback(
      "--no-seccomp", [&o] { o.seccomp = false; }, "Do not confine the reader (debugging)");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-logs", "Container logs: forward stdout/stderr into CRI-format files, and read them back");
  logs::ForwardOptions fwd;
  std::optional<std::string> max_size;
  std::optional<int64_t> max_files;
  std::string vsock;
  int status = 0;
  add_forward(tool, fwd, max_size, max_files, vsock, status);
  logs::ReadOptions rd;
  std::optional<int64_t> tail, head;
  std::string since, until, root;
  const CLI::App* read = add_read(tool, rd, tail, head, since, until, root);
  tool.verb("config", "Print the effective [logs] settings and where each came from",
            [&] { logs_config(tool, {}, {}, true); });
  std::vector<char*> args = with_read_verb(argc, argv, tool.app(), *read);
  int rc = tool.run(static_cast<int>(args.size()), args.data());
  return rc != 0 ? rc : status;
}
