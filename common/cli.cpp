#include "cli.hpp"

#include "error.hpp"
#include "escape.hpp"
#include "heap.hpp"
#include "log.hpp"
#include "output.hpp"
#include "units.hpp"
#include "version.hpp"

#include <fmt/format.h>

#include <csignal>
#include <iostream>

namespace cube::cli {
namespace {

// The deepest selected subcommand: the verb the user asked for.
const CLI::App* chosen(const CLI::App& app) {
  const CLI::App* at = &app;
  for (;;) {
    auto subs = at->get_subcommands();
    if (subs.empty()) return at;
    at = subs.front();
  }
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a; a = a->get_parent()) path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

void print_error(const std::string& tool, const std::string& message) {
  output::flush();
  // Messages quote flags, IDs, paths and file contents: nothing in them may reach the terminal raw.
  std::string line = fmt::format("{}: error: {}\n", tool, escape_controls(message));
  std::cerr << line << std::flush;
}

log::Level level_of(const Globals& g) {
  if (g.quiet) return log::Level::error;
  if (g.verbose >= 2) return log::Level::debug;
  if (g.verbose == 1) return log::Level::info;
  return log::Level::warn;
}

}  // namespace

Tool::Tool(std::string name, std::string description)
    : Context(std::move(name)), m_app(std::move(description), m_name) {
  m_app.set_help_flag("-h,--help", "Print this help and exit");
  m_app.option_defaults()->always_capture_default();
  m_app.footer(
      fmt::format("Exit status: 0 done, 1 failed, 2 bad usage or input, 3 not found, 4 busy or conflict,\n"
                  "5 a --check found a problem. See {}(1).",
                  m_name));
  auto* g = &m_globals;
  m_app.add_option("--state", g->state, "State file (else $CUBE_STATE, else /var/lib/cube/state.db)")
      ->type_name("PATH");
  m_app.add_option("--config", g->config, "Config file (else $CUBE_CONFIG, else /etc/cube/cube.toml)")
      ->type_name("PATH");
  m_app.add_option("-o,--output", g->output, "Output format")
      ->check(CLI::IsMember({"table", "json", "jsonl", "tsv"}))
      ->type_name("FORMAT");
  m_app.add_flag("-q,--quiet", g->quiet, "Print errors only on stderr");
  m_app.add_flag("-v,--verbose", g->verbose, "Say more on stderr (twice for debug)");
  m_app.add_option("--log-format", g->log_format, "Diagnostics format on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->type_name("FORMAT");
  m_app.add_flag("--version", g->version, "Print the version and exit (with -o json as JSON)");
  add_completion_verb();
}

// A verb inherits -h/--help from the app (CLI11 copies its parent's help flag).
CLI::App* Tool::verb(std::string name, std::string description, Handler handler, CLI::App* parent) {
  CLI::App* where = parent ? parent : &m_app;
  CLI::App* sub = where->add_subcommand(std::move(name), std::move(description));
  sub->fallthrough();
  if (handler) m_handlers[sub] = std::move(handler);
  return sub;
}

CLI::App* Tool::lazy_verb(std::string name, std::string description, Handler handler, Options options,
                          CLI::App* parent) {
  CLI::App* sub = verb(std::move(name), std::move(description), std::move(handler), parent);
  m_lazy.emplace_back(sub, std::move(options));
  return sub;
}

namespace {

bool related(const CLI::App* a, const CLI::App* b) {
  for (const CLI::App* up = b; up; up = up->get_parent())
    if (up == a) return true;
  return false;
}

// Does `word` name an option of one of `apps` that takes its value in the next word
// (`--tail 5`, not `--tail=5`, `-t5` or a flag)?
bool takes_separate_value(const std::vector<const CLI::App*>& apps, const std::string& word) {
  if (word.size() < 2 || word[0] != '-' || word.find('=') != std::string::npos) return false;
  if (word[1] != '-' && word.size() > 2) return false;  // -t10: the value is attached
  for (const CLI::App* app : apps)
    if (const CLI::Option* opt = app->get_option_no_throw(word)) return opt->get_expected_max() != 0;
  return false;
}

// The verb the command line names, read as CLI11 will read it: words that are neither options nor
// their values, matched against the verbs level by level. Null when it asks for help, names no
// verb, or has something this cannot place (then every verb gets its options).
const CLI::App* named_verb(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i)
    if (std::string_view w = argv[i]; w == "-h" || w == "--help" || w == "--help-all") return nullptr;
  const CLI::App* at = &app;
  std::vector<const CLI::App*> places = {at};
  for (int i = first_word(places, 1, argc, argv); i < argc; i = first_word(places, i + 1, argc, argv)) {
    auto subs = at->get_subcommands([&](const CLI::App* v) { return v->get_name() == argv[i]; });
    if (subs.empty()) break;  // an argument of `at`
    at = subs.front();
    places.push_back(at);
  }
  return at == &app || at->get_name() == "completion" ? nullptr : at;
}

}  // namespace

void Tool::add_lazy_options(int argc, char** argv) {
  const CLI::App* named = named_verb(m_app, argc, argv);
  for (auto& [verb, options] : m_lazy)
    if (!named || related(verb, named) || related(named, verb)) options(*verb);
  m_lazy.clear();
}

int first_word(const std::vector<const CLI::App*>& apps, int from, int argc, char** argv) {
  for (int i = from; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") return argc;
    if (word.size() < 2 || word[0] != '-') return i;
    if (takes_separate_value(apps, word)) ++i;
  }
  return argc;
}

void Tool::refuse_empty_values(CLI::App& app) {
  for (CLI::Option* opt : app.get_options([](CLI::Option*) { return true; })) {
    if (opt->get_expected_max() == 0 || opt->get_type_name() == "CMD" || opt->get_type_name() == "ARG") continue;
    opt->check(CLI::Validator(
        [](std::string& text) { return text.empty() ? std::string("an empty value is not allowed") : std::string(); },
        "", "non-empty"));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) refuse_empty_values(*sub);
}

namespace {

template <typename Parse>
CLI::Validator number_check(Parse parse) {
  return CLI::Validator(
      [parse](std::string& text) {
        try {
          parse(text);
          return std::string();
        } catch (const Error& e) {
          return e.message();
        }
      },
      "", "number");
}

}  // namespace

CLI::Validator integer(int64_t min, int64_t max) {
  return number_check([=](const std::string& t) { units::parse_integer(t, min, max, "value"); });
}

CLI::Validator real(double min, double max) {
  return number_check([=](const std::string& t) { units::parse_real(t, min, max, "value"); });
}

void Tool::add_completion_verb() {
  lazy_verb(
      "completion", "Print a shell completion script (bash, zsh, fish) or the option list (words)",
      [this] {
        std::string text = m_completion_shell == "bash"   ? completion_bash(m_app)
                           : m_completion_shell == "zsh"  ? completion_zsh(m_app)
                           : m_completion_shell == "fish" ? completion_fish(m_app)
                                                          : option_words(m_app);
        output::write(text);
      },
      [this](CLI::App& v) {
        v.add_option("shell", m_completion_shell, "bash, zsh, fish, or words")
            ->required()
            ->check(CLI::IsMember({"bash", "zsh", "fish", "words"}));
      });
}

void Tool::dispatch() {
  if (m_globals.version) {
    output::write((m_format == output::Format::table ? version::line(m_name) : version::json(m_name)) + "\n");
    return;
  }
  m_handlers.at(chosen(m_app))();
}

void Tool::cluster_option() {
  m_app
      .add_option("--cluster", m_globals.cluster,
                  "PostgreSQL URL for the cluster tables (else $CUBE_CLUSTER_URL, else [state] cluster)")
      ->type_name("URL");
}

void Tool::migrate_verb(std::vector<cluster::Table> tables) {
  verb("migrate", "Copy this tool's cluster tables from the state file into an empty PostgreSQL schema",
       [this, tables = std::move(tables)] { migrate(tables); })
      ->add_option("--to", m_migrate_to, "The PostgreSQL URL to copy into (its schema must hold none of the rows)")
      ->required()
      ->type_name("URL");
}

void Tool::migrate(const std::vector<cluster::Table>& tables) {
  if (!cluster::is_postgresql(m_migrate_to))
    throw Error(Exit::usage, fmt::format("invalid --to '{}'", cluster::redacted(m_migrate_to)),
                "expected a postgresql:// URL");
  auto from = cluster::open({"", state_path()}, cluster::Access::read);
  auto to = cluster::open({m_migrate_to, ""}, cluster::Access::write);
  output::Table t({{"table", "TABLE"}, {"rows", "ROWS", output::Align::right}});
  int64_t total = 0;
  for (const cluster::Copied& c : cluster::copy_tables(*from, *to, tables)) {
    t.add({std::string(c.table), c.rows});
    total += c.rows;
  }
  log::info("copied {} rows from {} into {}", total, from->where(), to->where());
  output::print(t, format());
}

int Tool::run(int argc, char** argv) {
  // A closed pipe must surface as EPIPE on write, not kill the tool mid-line.
  std::signal(SIGPIPE, SIG_IGN);
  log::setup(m_name, log::Level::warn, log::Format::text);
  try {
    add_lazy_options(argc, argv);
    refuse_empty_values(m_app);
    try {
      m_app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      output::write(chosen(m_app)->help());
      output::flush();
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      output::write(m_app.help("", CLI::AppFormatMode::All));
      output::flush();
      return 0;
    } catch (const CLI::ParseError& e) {
      print_error(m_name, e.what());
      std::cerr << fmt::format("Try '{} --help' for more information.\n", escape_controls(command_path(chosen(m_app))));
      return static_cast<int>(Exit::usage);
    }
    m_format = output::parse_format(m_globals.output);
    log::setup(m_name, level_of(m_globals), m_globals.log_format == "json" ? log::Format::json : log::Format::text);
    const CLI::App* verb = chosen(m_app);
    if (!m_globals.version && !m_handlers.count(verb)) {
      std::string path = command_path(verb);
      print_error(m_name, verb == &m_app ? std::string("a verb is required")
                                         : fmt::format("'{}' needs a verb", path.substr(m_name.size() + 1)));
      std::cerr << fmt::format("Try '{} --help' for more information.\n", path);
      return static_cast<int>(Exit::usage);
    }
    if (!m_long_running.count(verb)) {
      // Most of what a short command allocates comes after the parse: the state file, its SQL,
      // the answer. 512 KiB covered it for each tool's commands that cube-sandbox up runs.
      heap::keep_freed_memory();
      heap::prefault(512 << 10);
    }
    dispatch();
    output::flush();
    return 0;
  } catch (const output::StdoutClosed&) {
    return 0;
  } catch (const Error& e) {
    try {
      print_error(m_name, e.message());
    } catch (const output::StdoutClosed&) {
      std::cerr << fmt::format("{}: error: {}\n", m_name, escape_controls(e.message()));
    }
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << fmt::format("{}: error: out of memory\n", m_name);
    return static_cast<int>(Exit::failed);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("{}: error: internal error: {}\n", m_name, escape_controls(e.what()));
    return static_cast<int>(Exit::failed);
  } catch (...) {
    std::cerr << fmt::format("{}: error: internal error\n", m_name);
    return static_cast<int>(Exit::failed);
  }
}

}  // namespace cube::cli
