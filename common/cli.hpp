// cube::cli::Tool — the one entry every tool runs through. Only a tool's main.cpp includes this
// header (it brings in CLI11); handlers see the Context it derives from (context.hpp).
//
// Contract:
// - Tool builds the CLI11 app with the global flags (--state, --config, -o/--output, -q, -v,
//   --log-format, --version) and the `completion` verb; each tool adds its verbs with verb().
// - run() parses, sets up logging, calls the chosen verb's handler and maps every outcome to an
//   exit status: CLI11 parse errors → 2 with `cube-x: error: …` and one `Try 'cube-x --help'` line;
//   cube::Error → its code; anything else → 1. No exception and no status ≥ 126 escapes.
// - Verbs are matched whole, never by prefix; global flags are accepted before or after the verb.
// - No option takes an empty value (`--state ''`, `--since ''`: exit 2), except the words of a
//   command to run (options of type CMD or ARG), where an empty word is a word.
#pragma once

#include "cluster_copy.hpp"
#include "context.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cube::cli {

using Handler = std::function<void()>;
// Adds a verb's own options (and sub-verbs) to it.
using Options = std::function<void(CLI::App&)>;

class Tool : public Context {
 public:
  Tool(std::string name, std::string description);
  Tool(const Tool&) = delete;
  Tool& operator=(const Tool&) = delete;

  CLI::App& app() { return m_app; }

  // Adds a verb under `parent` (the app itself when null). A verb without a handler only groups
  // other verbs (`cube-sched node register`).
  CLI::App* verb(std::string name, std::string description, Handler handler = {}, CLI::App* parent = nullptr);
  // The same, with the verb's options added by `options` only when they can matter: when the
  // command line names this verb (or one above or below it), or asks for help or completion, or
  // names no verb Tool can find. Building CLI11 options is most of a short command's start-up
  // (`cube-logs sb --tail 10`), so verbs that will not run stay bare.
  CLI::App* lazy_verb(std::string name, std::string description, Handler handler, Options options,
                      CLI::App* parent = nullptr);

  // Adds the global --cluster flag, for the tools whose tables can live in PostgreSQL
  // (Context::cluster_choice reads it).
  void cluster_option();
  // Adds `migrate --to URL`: copies `tables`, the tool's own cluster tables, from the state file
  // into an empty PostgreSQL schema (cluster::copy_tables) and prints each table's row count.
  void migrate_verb(std::vector<cluster::Table> tables);
  // Marks a verb that runs until stopped (a server, a forwarder): it keeps the C library's memory
  // defaults, which give freed memory back, where a short command's start-up is tuned for speed.
  void long_running(CLI::App* verb) { m_long_running.insert(verb); }

  int run(int argc, char** argv);

 private:
  void add_completion_verb();
  void add_lazy_options(int argc, char** argv);
  void refuse_empty_values(CLI::App& app);
  void dispatch();
  void migrate(const std::vector<cluster::Table>& tables);

  CLI::App m_app;
  std::map<const CLI::App*, Handler> m_handlers;
  std::vector<std::pair<CLI::App*, Options>> m_lazy;  // verbs whose options are not added yet
  std::set<const CLI::App*> m_long_running;
  std::string m_completion_shell;
  std::string m_migrate_to;
};

// Checks for numeric options, run on the text before CLI11 converts it (CLI11's own conversion
// takes "-1" for an unsigned, 0x and octal, and reports an overflow as the wrapped value): every
// option that takes a number has one, with the real limits (units::parse_integer, parse_real).
CLI::Validator integer(int64_t min, int64_t max);
CLI::Validator real(double min, double max);

// Completion scripts and the option list, generated from the app's own definition.
std::string completion_bash(const CLI::App& app);
std::string completion_zsh(const CLI::App& app);
std::string completion_fish(const CLI::App& app);
// One line per option: `<verb path or .>\t<--long or -s>`; what the drift test compares.
std::string option_words(const CLI::App& app);

// The index of the first word of argv from `from` on that is neither an option nor the value of an
// option of `apps`; argc when there is none before `--`.
int first_word(const std::vector<const CLI::App*>& apps, int from, int argc, char** argv);

}  // namespace cube::cli
