// ca init, export, import, show, path: the cluster CA the proxy signs with and templates trust.
#include "ca_store.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "log.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cube::egress::cmd {
namespace {

constexpr int64_t k_day_ms = 86'400'000;

cluster_ca::Paths ca_paths(cli::Context& tool) { return cluster_ca::paths(tool.config()); }

void warn_expiry(const ca::Info& i) {
  int64_t left = i.not_after_ms - time::now_ms();
  if (left <= 0)
    log::warn("the cluster CA expired on {}: the proxy cannot mint certificates with it; create or import a new one",
              time::rfc3339(i.not_after_ms));
  else if (left < ca::k_warn_days * k_day_ms)
    log::warn("the cluster CA expires in {} days, on {}; import a new one on every node before then", left / k_day_ms,
              time::rfc3339(i.not_after_ms));
}

// The one record every ca verb prints; `outcome` is init's and import's (created/unchanged/replaced).
void print_ca(cli::Context& tool, const cluster_ca::Paths& p, X509& cert, std::string_view outcome = {}) {
  ca::Info i = ca::inspect(cert);
  std::vector<output::Column> cols = {{"subject", "Subject"},
                                      {"fingerprint_sha256", "SHA-256 fingerprint"},
                                      {"pem_sha256", "PEM SHA-256"},
                                      {"not_before", "Not before"},
                                      {"not_after", "Not after"},
                                      {"days_left", "Days left"},
                                      {"cert", "Cert"},
                                      {"key", "Key"}};
  int64_t days = (i.not_after_ms - time::now_ms()) / k_day_ms;
  auto style = days < ca::k_warn_days ? output::Style::bad : output::Style::good;
  std::vector<output::Cell> row = {i.subject,
                                   i.fingerprint,
                                   i.pem_sha256,
                                   time::rfc3339(i.not_before_ms),
                                   time::rfc3339(i.not_after_ms),
                                   output::Cell(days, style),
                                   p.cert,
                                   fs::exists(p.key) ? output::Cell(p.key) : output::Cell()};
  if (!outcome.empty()) {
    cols.insert(cols.begin(), {"outcome", "Outcome"});
    row.insert(row.begin(), std::string(outcome));
  }
  output::Table t(std::move(cols));
  t.add(std::move(row));
  output::print_record(t, tool.format());
  warn_expiry(i);
}

std::string_view outcome_name(ca::Outcome o) {
  switch (o) {
    case ca::Outcome::created: return "created";
    case ca::Outcome::unchanged: return "unchanged";
    case ca::Outcome::replaced: return "replaced";
  }
  return "";
}

// The key may go to a pipe or socket (`| ssh node …`) or to a regular file nobody else can read;
// never to a terminal (a screen, a scrollback, a recorded session) or a file others can read.
void check_key_destination() {
  if (::isatty(STDOUT_FILENO))
    throw Error(Exit::usage, "ca export --with-key: stdout is a terminal", "the private key is never shown on a screen",
                "pipe it (| ssh NODE cube-egress-rules ca import) or write it to a 0600 file");
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) != 0) throw sys_error(errno, "cannot stat stdout");
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return;
  if (S_ISREG(st.st_mode) && (st.st_mode & 077) == 0 && st.st_uid == ::geteuid()) return;
  if (S_ISREG(st.st_mode))
    throw Error(
        Exit::usage,
        fmt::format("ca export --with-key: stdout is a file other users may read (mode {:04o})", st.st_mode & 07777),
        "", "write it with (umask 077; cube-egress-rules ca export --with-key > FILE)");
  throw Error(Exit::usage, "ca export --with-key: stdout is neither a pipe nor a regular file",
              "the private key goes only to a pipe or a 0600 file");
}

}  // namespace

void ca_init(cli::Context& tool, const CaInitArgs& a) {
  cluster_ca::Paths p = ca_paths(tool);
  if (ca::installed(p))
    throw Error(Exit::conflict, fmt::format("a cluster CA is already installed at {}", p.dir), "",
                "one CA serves the whole cluster: `ca show` describes it; `ca import --replace` replaces it");
  ca::Authority auth = ca::generate(a.days);
  ca::install(p, auth, ca::Replace::no);
  print_ca(tool, p, *auth.cert, "created");
}

void ca_export(cli::Context& tool, const CaExportArgs& a) {
  if (a.with_key) check_key_destination();
  ca::Authority auth = ca::load(ca_paths(tool), a.with_key ? ca::WithKey::yes : ca::WithKey::no);
  output::write(ca::cert_pem(*auth.cert));
  if (a.with_key) output::write(ca::key_pem(*auth.key).text());
}

void ca_import(cli::Context& tool, const CaImportArgs& a) {
  cluster_ca::Paths p = ca_paths(tool);
  std::string what = a.file == "-" ? "stdin" : a.file;
  ca::SecretText pem(read_input(a.file, 1 << 20, "the CA"));
  ca::Authority auth = ca::parse(pem.text(), what);
  if (!auth.key)
    throw Error(Exit::usage, fmt::format("{}: no private key beside the certificate", what), "",
                "export it with `cube-egress-rules ca export --with-key`");
  ca::check(auth, what);
  ca::Outcome o = ca::install(p, auth, a.replace ? ca::Replace::yes : ca::Replace::no);
  print_ca(tool, p, *auth.cert, outcome_name(o));
}

void ca_show(cli::Context& tool) {
  cluster_ca::Paths p = ca_paths(tool);
  ca::Authority auth = ca::load(p, ca::WithKey::no);
  print_ca(tool, p, *auth.cert);
}

void ca_path(cli::Context& tool) {
  cluster_ca::Paths p = ca_paths(tool);
  if (tool.format() == output::Format::table) return output::write(p.cert + "\n");
  output::Table t({{"cert", "Cert"}, {"key", "Key"}, {"installed", "Installed"}});
  t.add({p.cert, p.key, fs::exists(p.cert)});
  output::print_record(t, tool.format());
}

}  // namespace cube::egress::cmd
