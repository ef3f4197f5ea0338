// cube::log — diagnostics on stderr, never on stdout.
//
// Contract: one process-wide logger set up by the CLI layer (tool name, level from -q/-v, format
// from --log-format). Text lines read `cube-x: warning: …`; JSON lines are one object each with
// ts (RFC 3339 UTC), level, tool and msg. Secrets never reach a line: pass them through redact().
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace cube::log {

enum class Level : int { error = 0, warn = 1, info = 2, debug = 3 };
enum class Format { text, json };

void setup(std::string tool, Level level, Format format);
const std::string& tool_name();
bool enabled(Level level);
void write(Level level, std::string_view message);

// The marker every tool prints in place of a secret.
inline constexpr std::string_view k_redacted = "***REDACTED***";
// The secret's stand-in: k_redacted for any non-empty secret, "" for an empty one.
std::string_view redact(std::string_view secret);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace cube::log
