#include "context.hpp"

#include <fmt/format.h>

namespace cube::cli {

const config::Config& Context::config() {
  if (!m_config) m_config = config::Config::load(m_globals.config);
  return *m_config;
}

void print_settings(const config::Settings& settings, output::Format format, const cluster::Choice* cluster) {
  output::Table t({{"key", "KEY"}, {"value", "VALUE"}, {"source", "SOURCE"}});
  for (const auto& e : settings.entries())
    t.add({fmt::format("{}.{}", settings.table(), e.key), e.value, std::string(config::source_name(e.source))});
  if (cluster)
    t.add({"state.cluster", cluster::redacted(cluster->url), std::string(config::source_name(cluster->source))});
  output::print(t, format);
}

}  // namespace cube::cli
