// cube::cli::Context — what a verb's handler may know about the command it runs in: the tool's
// name, the global flags, the output format, the state file and the config file.
//
// Handlers (tools/<tool>/commands.cpp) take a Context&, never the CLI11 app: the command line is
// declared in main.cpp alone, so that only main.cpp and common/cli*.cpp compile CLI11's headers
// (most of a clean build's time when every handler included them).
#pragma once

#include "cluster_url.hpp"
#include "config.hpp"
#include "output.hpp"
#include "state.hpp"

#include <optional>
#include <string>

namespace cube::cli {

struct Globals {
  std::string state;
  std::string config;
  std::string cluster;  // --cluster, on the tools that declare it (Tool::cluster_option)
  std::string output = "table";
  std::string log_format = "text";
  bool quiet = false;
  int verbose = 0;
  bool version = false;
};

class Context {
 public:
  explicit Context(std::string name) : m_name(std::move(name)) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const std::string& name() const { return m_name; }
  output::Format format() const { return m_format; }
  const Globals& globals() const { return m_globals; }
  std::string state_path() const { return state::path(m_globals.state); }
  state::Db open_state(state::Access access) const { return state::Db::open(state_path(), access); }
  // The config file, read on first use.
  const config::Config& config();
  // Where the cluster tables live: --cluster, else $CUBE_CLUSTER_URL, else [state] cluster.
  cluster::Choice cluster_choice() { return cluster::choose(m_globals.cluster, config()); }

 protected:
  ~Context() = default;

  std::string m_name;
  Globals m_globals;
  output::Format m_format = output::Format::table;

 private:
  std::optional<config::Config> m_config;
};

// Prints a Settings list for a tool's `config` verb: key, value, source.
// With `cluster` (the tools that use the cluster store), a last row says where it is:
// state.cluster, the URL with its password redacted, "" for the state file.
void print_settings(const config::Settings& settings, output::Format format, const cluster::Choice* cluster = nullptr);

}  // namespace cube::cli
