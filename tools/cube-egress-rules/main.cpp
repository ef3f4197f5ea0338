// cube-egress-rules: the command line. The work lives in policy, targets, compiled, matcher,
// decision, secrets and store; the kernel side in bindings, ruleset, kernel_table and enforce.
#include "cli.hpp"
#include "commands.hpp"

using namespace cube;
using namespace cube::egress;

namespace {

CLI::App* sandbox_verb(cli::Tool& tool, const char* name, const char* help, std::string& sandbox,
                       std::function<void()> handler) {
  CLI::App* v = tool.verb(name, help, std::move(handler));
  v->add_option("sandbox", sandbox, "Sandbox ID")->required()->type_name("SANDBOX");
  return v;
}

struct CaArgs {
  cmd::CaInitArgs init;
  cmd::CaExportArgs exp;
  cmd::CaImportArgs imp;
};

void add_ca_verbs(cli::Tool& tool, CaArgs& a) {
  CLI::App* ca = tool.verb("ca", "The cluster CA the proxy signs with: init, export, import, show, path");
  tool.verb(
          "init", "Create the cluster CA (EC P-256) in the config directory", [&] { cmd::ca_init(tool, a.init); }, ca)
      ->add_option("--days", a.init.days, "Validity in days (default 3650)")
      ->check(cli::integer(1, 36500))
      ->type_name("N");
  tool.verb(
          "export", "Write the CA cert (PEM) to stdout", [&] { cmd::ca_export(tool, a.exp); }, ca)
      ->add_flag("--with-key", a.exp.with_key, "Also the private key: only to a pipe or a 0600 file");
  auto* imp = tool.verb(
      "import", "Install a CA cert and key (PEM) from an export --with-key", [&] { cmd::ca_import(tool, a.imp); }, ca);
  imp->add_option("--file", a.imp.file, "The PEM ('-' for stdin, the default)")->type_name("FILE");
  imp->add_flag("--replace", a.imp.replace, "Replace a different CA already installed");
  tool.verb(
      "show", "Show the CA's subject, SHA-256 fingerprint and expiry", [&] { cmd::ca_show(tool); }, ca);
  tool.verb(
      "path", "Print the CA cert's path", [&] { cmd::ca_path(tool); }, ca);
}

}  // namespace

int main(int argc, char** argv) {
  cli::Tool tool("cube-egress-rules",
                 "Egress policy of sandboxes: rules, validation, storage and evaluation (first match wins)");
  cmd::SetArgs set;
  CLI::App* sv_set = sandbox_verb(tool, "set", "Store a sandbox's policy, replacing any it had", set.sandbox,
                                  [&] { cmd::set(tool, set); });
  sv_set->add_option("--file", set.file, "The policy JSON ('-' for stdin)")->required()->type_name("POLICY");
  sv_set->add_flag("--apply", set.apply, "Also install it in nftables, as apply SANDBOX does, in one transaction");

  cmd::PatchArgs patch;
  sandbox_verb(tool, "patch", "Add a rule to a sandbox's policy, or replace the rule of that name", patch.sandbox,
               [&] { cmd::patch(tool, patch); })
      ->add_option("--rule", patch.rule, "One rule's JSON ('-' for stdin)")
      ->required()
      ->type_name("RULE");

  std::string sandbox;
  sandbox_verb(tool, "show", "Show a sandbox's policy, secrets redacted", sandbox, [&] { cmd::show(tool, sandbox); });
  sandbox_verb(tool, "delete", "Delete a sandbox's policy (the default applies again)", sandbox,
               [&] { cmd::remove(tool, sandbox); });
  tool.verb("list", "List the sandboxes that have a policy", [&] { cmd::list(tool); });

  cmd::ValidateArgs validate;
  tool.verb("validate", "Check a policy without storing it", [&] { cmd::validate(tool, validate); })
      ->add_option("--file", validate.file, "The policy JSON ('-' for stdin)")
      ->required()
      ->type_name("POLICY");

  cmd::ExportArgs exp;
  tool.verb("export", "Write every policy as JSON Lines, secrets redacted", [&] { cmd::export_all(tool, exp); })
      ->add_flag("--with-secrets", exp.with_secrets, "Include the secrets (for import on another node)");
  cmd::ImportArgs imp;
  tool.verb("import", "Store the policies of an export, all or none", [&] { cmd::import_all(tool, imp); })
      ->add_option("--file", imp.file, "The JSON Lines ('-' for stdin, the default)")
      ->type_name("FILE");

  cmd::CheckArgs check;
  sandbox_verb(tool, "check", "Decide requests (JSON Lines in) as the proxy would, one decision a line", check.sandbox,
               [&] { cmd::check(tool, check); })
      ->add_option("--file", check.file, "The requests ('-' for stdin, the default)")
      ->type_name("FILE");

  cmd::ApplyArgs apply;
  CLI::App* ap = tool.verb("apply", "Install policies in the kernel's nftables (a SANDBOX's, or --all)",
                           [&] { cmd::apply(tool, apply); });
  ap->add_option("sandbox", apply.sandbox, "Sandbox ID")->type_name("SANDBOX");
  ap->add_flag("--all", apply.all, "Every address the state file or the kernel knows");
  cmd::ReconcileArgs rec;
  tool.verb("reconcile", "Find and fix where the kernel's ruleset and the state file differ",
            [&] { cmd::reconcile(tool, rec); })
      ->add_flag("--dry-run", rec.dry_run, "List the differences only");
  tool.verb("teardown", "Remove the whole nftables table inet cube_egress", [&] { cmd::teardown(tool); });
  CLI::App* redirect = tool.verb("redirect", "The TPROXY rules that send sandboxes' HTTP(S) and DNS to the node");
  tool.verb(
      "up", "Install the TPROXY rules and their policy routing", [&] { cmd::redirect_up(tool); }, redirect);
  tool.verb(
      "down", "Remove what up installed", [&] { cmd::redirect_down(tool); }, redirect);
  tool.verb(
      "status", "Show what is installed", [&] { cmd::redirect_status(tool); }, redirect);
  tool.long_running(tool.verb("dns-relay",
                              "Forward the redirected DNS of sandboxes and learn their allowed names' addresses",
                              [&] { cmd::dns_relay(tool); }));

  CaArgs ca;
  add_ca_verbs(tool, ca);

  cmd::ServeArgs serve;
  auto* sv =
      tool.verb("serve", "Run the transparent L7 egress proxy on the TPROXY ports", [&] { cmd::serve(tool, serve); });
  tool.long_running(sv);
  sv->add_option("--listen", serve.listen, "Address to listen on (default: the node's gateway)")->type_name("ADDR");
  sv->add_option("--audit-log", serve.audit_log, "The audit log (default: [egress] audit_log)")->type_name("FILE");
  sv->add_option("--threads", serve.threads, "Threads of the event loop (default: one per core)")
      ->check(cli::integer(1, 1024))
      ->type_name("N");
  sv->add_option("--health", serve.health, "Serve GET /healthz on this loopback ADDR:PORT")->type_name("ADDR:PORT");
  sv->add_option("--drain-timeout", serve.drain_timeout, "On SIGTERM, how long open connections may go on (10s)")
      ->type_name("DURATION");
  sv->add_flag("--no-seccomp", serve.no_seccomp, "Do not confine the proxy to its system-call allowlist (debugging)");

  tool.verb("config", "Print the effective [egress] settings and their sources", [&] { cmd::config(tool); });
  return tool.run(argc, argv);
}
