// cube::egress commands — the command layer: runs a verb's module calls and prints the result
// through common/output. main.cpp only wires flags to these.
#pragma once

#include "compiled.hpp"
#include "context.hpp"
#include "settings.hpp"

#include <optional>
#include <string>

namespace cube::egress::cmd {

struct SetArgs {
  std::string sandbox;
  std::string file;    // "-" for stdin
  bool apply = false;  // also install it, in the same transaction
};

struct PatchArgs {
  std::string sandbox;
  std::string rule;  // a file with one rule, "-" for stdin
};

struct ValidateArgs {
  std::string file;
};

struct ExportArgs {
  bool with_secrets = false;
};

struct ImportArgs {
  std::string file = "-";
};

struct CheckArgs {
  std::string sandbox;
  std::string file = "-";
};

struct ApplyArgs {
  std::optional<std::string> sandbox;
  bool all = false;
};

struct ReconcileArgs {
  bool dry_run = false;
};

void set(cli::Context& tool, const SetArgs& a);
void patch(cli::Context& tool, const PatchArgs& a);
void show(cli::Context& tool, const std::string& sandbox);
void remove(cli::Context& tool, const std::string& sandbox);
void list(cli::Context& tool);
void validate(cli::Context& tool, const ValidateArgs& a);
void export_all(cli::Context& tool, const ExportArgs& a);
void import_all(cli::Context& tool, const ImportArgs& a);
void check(cli::Context& tool, const CheckArgs& a);
void config(cli::Context& tool);
// commands_apply.cpp: the kernel side.
void apply(cli::Context& tool, const ApplyArgs& a);
// set --apply: what apply SANDBOX does, inside the caller's write transaction.
void apply_in(state::Db& db, const Settings& s, const std::string& sandbox);
void reconcile(cli::Context& tool, const ReconcileArgs& a);
void teardown(cli::Context& tool);

// commands_redirect.cpp: TPROXY redirection and the DNS relay.
void redirect_up(cli::Context& tool);
void redirect_down(cli::Context& tool);
void redirect_status(cli::Context& tool);
void dns_relay(cli::Context& tool);

// The cluster CA (commands_ca.cpp).
struct CaInitArgs {
  int days = 3650;
};
struct CaExportArgs {
  bool with_key = false;
};
struct CaImportArgs {
  std::string file = "-";
  bool replace = false;
};
void ca_init(cli::Context& tool, const CaInitArgs& a);
void ca_export(cli::Context& tool, const CaExportArgs& a);
void ca_import(cli::Context& tool, const CaImportArgs& a);
void ca_show(cli::Context& tool);
void ca_path(cli::Context& tool);

// The transparent proxy (commands_serve.cpp).
struct ServeArgs {
  std::string listen;                    // else tap_node.gateway
  std::optional<std::string> audit_log;  // else [egress] audit_log
  int threads = 0;                       // 0: one per core
  std::string health;                    // ADDR:PORT on loopback for GET /healthz; empty: none
  std::string drain_timeout = "10s";     // SIGTERM: how long open connections may go on
  bool no_seccomp = false;
};
void serve(cli::Context& tool, const ServeArgs& a);

// Shared by the handlers: the [egress] settings; a file's or stdin's text within the size limit;
// the compile options and the warnings of a compile printed on stderr.
Settings settings(cli::Context& tool);
std::string read_input(const std::string& file, uint64_t max_bytes, std::string_view what);
CompileOptions compile_options(const Settings& s);
void warn(const CompiledPolicy& c);

}  // namespace cube::egress::cmd
