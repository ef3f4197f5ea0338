// set, patch, show, delete, list, validate, config.
#include "commands.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "ids.hpp"
#include "json_writer.hpp"
#include "log.hpp"
#include "policy_json.hpp"
#include "store.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace cube::egress::cmd {
namespace {

output::Table summary_table() {
  using output::Align;
  return output::Table({{"sandbox", "SANDBOX"},
                        {"revision", "REVISION", Align::right},
                        {"rules", "RULES", Align::right},
                        {"internet", "INTERNET"},
                        {"l7", "L7"},
                        {"dns_learning", "DNS LEARNING"},
                        {"allow", "ALLOW", Align::right},
                        {"deny", "DENY", Align::right},
                        {"domains", "DOMAINS", Align::right},
                        {"l7_names", "L7 NAMES", Align::right},
                        {"l7_addresses", "L7 ADDRESSES", Align::right},
                        {"resolvers", "RESOLVERS", Align::right}});
}

void print_summary(cli::Context& tool, const std::string& sandbox, output::Cell revision, const CompiledPolicy& c) {
  output::Table t = summary_table();
  t.add({sandbox, std::move(revision), c.matcher.size(), c.internet, c.l7, c.dns_learning, c.allow.size(),
         c.deny.size(), c.allow_domains.size(), c.l7_names.size(), c.l7_addresses.size(), c.resolvers.size()});
  output::print_record(t, tool.format());
}

[[noreturn]] void no_policy(const std::string& sandbox, std::string_view hint) {
  throw Error(Exit::not_found, fmt::format("no egress policy for sandbox {}", sandbox), "", std::string(hint));
}

std::string inject_text(const Rule& r) {
  std::string out;
  for (const auto& in : r.inject) out += fmt::format("{}{}={}", out.empty() ? "" : ",", in.header, in.secret_ref);
  return out;
}

void print_rules(const Stored& st, output::Format format) {
  output::Table t({{"name", "RULE"},
                   {"allow", "ALLOW"},
                   {"sni", "SNI"},
                   {"host", "HOST"},
                   {"method", "METHOD"},
                   {"path", "PATH"},
                   {"scheme", "SCHEME"},
                   {"audit", "AUDIT"},
                   {"inject", "INJECT"}});
  auto opt = [](const std::optional<std::string>& v) { return v ? output::Cell(*v) : output::Cell(); };
  for (const auto& r : st.policy.rules)
    t.add({r.name, r.allow, opt(r.match.sni), opt(r.match.host), fmt::format("{}", fmt::join(r.match.method, ",")),
           opt(r.match.path), opt(r.match.scheme), std::string(audit_name(r.audit.value_or(Audit::metadata))),
           inject_text(r)});
  output::print(t, format);
}

void show_table(const Stored& st) {
  const Policy& p = st.policy;
  output::Table t({{"sandbox", "Sandbox"},
                   {"revision", "Revision"},
                   {"updated_ms", "Updated"},
                   {"internet", "Internet"},
                   {"allow_out", "Allow out"},
                   {"deny_out", "Deny out"},
                   {"dns_servers", "DNS servers"}});
  t.add({st.sandbox, st.revision, time::rfc3339(st.updated_ms), p.allow_internet_access.value_or(true),
         fmt::format("{}", fmt::join(p.allow_out, " ")), fmt::format("{}", fmt::join(p.deny_out, " ")),
         fmt::format("{}", fmt::join(p.dns_servers, " "))});
  output::print_record(t, output::Format::table);
  output::write("\n");
  print_rules(st, output::Format::table);
}

}  // namespace

Settings settings(cli::Context& tool) {
  config::Settings s(tool.config(), "egress");
  return load_settings(s);
}

std::string read_input(const std::string& file, uint64_t max_bytes, std::string_view what) {
  if (file == "-") return fs::read_fd(STDIN_FILENO, max_bytes, fmt::format("{} on stdin", what));
  return fs::read_file(file, max_bytes);
}

CompileOptions compile_options(const Settings& s) { return {s.dns_servers}; }

void warn(const CompiledPolicy& c) {
  for (const auto& w : c.warnings) log::warn("{}", w);
}

void set(cli::Context& tool, const SetArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Settings s = settings(tool);
  Policy p = parse_policy(read_input(a.file, s.max_policy_size, "the policy"));
  CompiledPolicy c = compile(p, compile_options(s));
  warn(c);
  auto db = tool.open_state(state::Access::write);
  state::Transaction tx(db);
  int64_t revision = put(db, a.sandbox, p, time::now_ms());
  if (a.apply) apply_in(db, s, a.sandbox);
  tx.commit();
  print_summary(tool, a.sandbox, revision, c);
}

void patch(cli::Context& tool, const PatchArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Settings s = settings(tool);
  Rule rule = parse_rule(read_input(a.rule, s.max_policy_size, "the rule"));
  auto db = tool.open_state(state::Access::write);
  state::Transaction tx(db);
  auto st = get(db, a.sandbox, WithSecrets::yes);
  if (!st) no_policy(a.sandbox, "patch changes a policy that set created");
  upsert_rule(st->policy, std::move(rule));
  CompiledPolicy c = compile(st->policy, compile_options(s));
  warn(c);
  int64_t revision = put(db, a.sandbox, st->policy, time::now_ms());
  tx.commit();
  print_summary(tool, a.sandbox, revision, c);
}

void show(cli::Context& tool, const std::string& sandbox) {
  ids::check(sandbox, "sandbox ID");
  auto db = tool.open_state(state::Access::read);
  auto st = get(db, sandbox, WithSecrets::no);
  if (!st) no_policy(sandbox, "");
  switch (tool.format()) {
    case output::Format::table: return show_table(*st);
    case output::Format::tsv: return print_rules(*st, output::Format::tsv);
    case output::Format::json:
    case output::Format::jsonl: break;
  }
  json::Writer w;
  w.begin_object();
  w.field("sandbox", st->sandbox);
  w.field("revision", st->revision);
  w.field("created_ms", st->created_ms);
  w.field("updated_ms", st->updated_ms);
  w.key("policy");
  write_policy(w, st->policy, SecretOutput::redacted);
  w.end_object();
  output::write(w.str() + "\n");
}

void remove(cli::Context& tool, const std::string& sandbox) {
  ids::check(sandbox, "sandbox ID");
  auto db = tool.open_state(state::Access::write);
  state::Transaction tx(db);
  bool deleted = egress::remove(db, sandbox);
  tx.commit();
  output::Table t({{"sandbox", "Sandbox"}, {"deleted", "Deleted"}});
  t.add({sandbox, deleted});
  output::print_record(t, tool.format());
}

void list(cli::Context& tool) {
  using output::Align;
  output::Table t({{"sandbox", "SANDBOX"},
                   {"rules", "RULES", Align::right},
                   {"internet", "INTERNET"},
                   {"allow_out", "ALLOW OUT", Align::right},
                   {"deny_out", "DENY OUT", Align::right},
                   {"revision", "REVISION", Align::right},
                   {"updated_ms", "UPDATED MS", Align::right}});
  auto db = tool.open_state(state::Access::read);
  for (const auto& st : all(db, WithSecrets::no))
    t.add({st.sandbox, st.rules, st.policy.allow_internet_access.value_or(true), st.policy.allow_out.size(),
           st.policy.deny_out.size(), st.revision, st.updated_ms});
  output::print(t, tool.format());
}

void validate(cli::Context& tool, const ValidateArgs& a) {
  Settings s = settings(tool);
  CompiledPolicy c = compile(parse_policy(read_input(a.file, s.max_policy_size, "the policy")), compile_options(s));
  warn(c);
  print_summary(tool, "", output::Cell(), c);
}

void config(cli::Context& tool) {
  config::Settings s(tool.config(), "egress");
  load_settings(s);
  cli::print_settings(s, tool.format());
}

}  // namespace cube::egress::cmd
