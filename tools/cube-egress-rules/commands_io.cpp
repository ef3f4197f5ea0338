// export, import and check: the JSON Lines verbs.
#include "commands.hpp"

#include "decision.hpp"
#include "error.hpp"
#include "ids.hpp"
#include "json_writer.hpp"
#include "policy_json.hpp"
#include "request.hpp"
#include "store.hpp"
#include "timeutil.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace cube::egress::cmd {
namespace {

constexpr size_t k_max_check_line = 64 * 1024;

// Reads one line of at most `max` bytes; a longer line is consumed and reported through too_long.
bool read_line(std::istream& in, std::string& line, size_t max, bool& too_long) {
  line.clear();
  too_long = false;
  bool any = false;
  for (int c; (c = in.get()) != EOF;) {
    any = true;
    if (c == '\n') return true;
    if (line.size() < max)
      line.push_back(static_cast<char>(c));
    else
      too_long = true;
  }
  return any;
}

struct ImportLine {
  std::string sandbox;
  Policy policy;
};

// {"sandbox": ID, "policy": {...}} as export writes it; "revision" and other keys are ignored.
ImportLine parse_import_line(const std::string& line, const CompileOptions& options) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(Exit::usage, "not valid JSON", fmt::format("syntax error at byte {}", e.byte));
  } catch (const nlohmann::json::exception&) {  // 1e999: a number no double holds
    throw Error(Exit::usage, "not valid JSON", "a number out of range");
  }
  if (!j.is_object() || !j.contains("sandbox") || !j["sandbox"].is_string() || !j.contains("policy"))
    throw Error(Exit::usage, "expected {\"sandbox\": ID, \"policy\": {...}}");
  ImportLine out{j["sandbox"].get<std::string>(), parse_policy(j["policy"].dump())};
  ids::check(out.sandbox, "sandbox ID");
  compile(out.policy, options);
  return out;
}

std::istream& open_input(const std::string& file, std::ifstream& f) {
  if (file == "-") return std::cin;
  f.open(file);
  if (!f) throw sys_error(errno, fmt::format("open {}", file), Exit::not_found);
  return f;
}

void write_check_error(int64_t line, const Error& e) {
  json::Writer w;
  w.begin_object();
  w.field("line", line);
  w.field("error", e.message());
  w.field("exit", static_cast<int64_t>(e.code()));
  w.end_object();
  output::write(w.str() + "\n");
}

}  // namespace

void export_all(cli::Context& tool, const ExportArgs& a) {
  auto db = tool.open_state(state::Access::read);
  for (const auto& st : all(db, a.with_secrets ? WithSecrets::yes : WithSecrets::no)) {
    json::Writer w;
    w.begin_object();
    w.field("sandbox", st.sandbox);
    w.field("revision", st.revision);
    w.key("policy");
    write_policy(w, st.policy, a.with_secrets ? SecretOutput::included : SecretOutput::redacted);
    w.end_object();
    output::write(w.str() + "\n");
  }
}

void import_all(cli::Context& tool, const ImportArgs& a) {
  Settings s = settings(tool);
  CompileOptions options = compile_options(s);
  std::ifstream f;
  std::istream& in = open_input(a.file, f);
  std::vector<ImportLine> lines;
  std::string line;
  bool too_long = false;
  for (int64_t n = 1; read_line(in, line, s.max_policy_size, too_long); ++n) {
    if (line.empty()) continue;
    try {
      if (too_long) throw Error(Exit::usage, fmt::format("longer than max_policy_size ({} bytes)", s.max_policy_size));
      lines.push_back(parse_import_line(line, options));
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("line {}: {}", n, e.what()), e.why(), "nothing was imported");
    }
  }
  auto db = tool.open_state(state::Access::write);
  state::Transaction tx(db);
  int64_t now = time::now_ms();
  for (const auto& l : lines) put(db, l.sandbox, l.policy, now);
  tx.commit();
  output::Table t(std::vector<output::Column>{{"imported", "Imported"}});
  t.add({lines.size()});
  output::print_record(t, tool.format());
}

void check(cli::Context& tool, const CheckArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Settings s = settings(tool);
  std::optional<Stored> st;
  {
    auto db = tool.open_state(state::Access::read);
    st = get(db, a.sandbox, WithSecrets::no);
  }
  if (!st)
    throw Error(Exit::not_found, fmt::format("no egress policy for sandbox {}", a.sandbox), "",
                "without one the default applies: internet allowed, private ranges denied");
  CompiledPolicy c = compile(st->policy, compile_options(s));
  std::ifstream f;
  std::istream& in = open_input(a.file, f);
  std::ios::sync_with_stdio(false);
  Exit worst = Exit::ok;
  std::string line;
  bool too_long = false;
  for (int64_t n = 1; read_line(in, line, k_max_check_line, too_long); ++n) {
    try {
      if (too_long) throw Error(Exit::usage, fmt::format("line longer than {} bytes", k_max_check_line));
      Decision d = decide(c, parse_request_line(line));
      json::Writer w;
      w.begin_object();
      w.field("line", n);
      write_decision(w, c, d);
      w.end_object();
      output::write(w.str() + "\n");
    } catch (const Error& e) {
      write_check_error(n, e);
      if (worst == Exit::ok) worst = e.code();
    }
  }
  if (worst != Exit::ok)
    throw Error(worst, "some requests could not be decided", "", "each such line has \"error\" and \"exit\"");
}

}  // namespace cube::egress::cmd
