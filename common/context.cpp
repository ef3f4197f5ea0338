#include "context.hpp"

#include <fmt/format.h>

namespace cube::cli {

const config::Config& Context::config() {
  if (!m_config) m_config = config::Config::load(m_globals.config);
  return *m_config;
}

void print_settings(const config::Settings& settings, output::Format format) {
  output::Table t({{"key", "KEY"}, {"value", "VALUE"}, {"source", "SOURCE"}});
  for (const auto& e : settings.entries())
    t.add({fmt::format("{}.{}", settings.table(), e.key), e.value, std::string(config::source_name(e.source))});
  output::print(t, format);
}

}  // namespace cube::cli
