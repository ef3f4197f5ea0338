#include "log.hpp"

#include "escape.hpp"
#include "json_writer.hpp"
#include "timeutil.hpp"

#include <unistd.h>

namespace cube::log {
namespace {

struct Logger {
  std::string tool = "cube";
  Level level = Level::warn;
  Format format = Format::text;
};

Logger& logger() {
  static Logger instance;
  return instance;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::error: return "error";
    case Level::warn: return "warning";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "unknown";
}

void write_all(std::string_view text) {
  // One write(2) per line keeps lines from concurrent processes whole on a shared stderr.
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void setup(std::string tool, Level level, Format format) { logger() = Logger{std::move(tool), level, format}; }

const std::string& tool_name() { return logger().tool; }

bool enabled(Level level) { return static_cast<int>(level) <= static_cast<int>(logger().level); }

void write(Level level, std::string_view message) {
  const Logger& l = logger();
  if (l.format == Format::json) {
    json::Writer w;
    w.begin_object();
    w.field("ts", time::rfc3339_ms(time::now_ms()));
    w.field("level", level_name(level));
    w.field("tool", l.tool);
    w.field("msg", message);
    w.end_object();
    write_all(w.str() + "\n");
    return;
  }
  write_all(fmt::format("{}: {}: {}\n", l.tool, level_name(level), escape_controls(message)));
}

std::string_view redact(std::string_view secret) { return secret.empty() ? std::string_view{} : k_redacted; }

}  // namespace cube::log
