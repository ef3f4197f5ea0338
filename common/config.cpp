#include "config.hpp"

#include "error.hpp"
#include "escape.hpp"
#include "fs.hpp"
#include "log.hpp"
#include "units.hpp"

#include <fmt/format.h>

#include <stdexcept>

// toml++ checks its own invariants with assert(), and some malformed files (`[\n[sc||||[`) reach one
// of those checks instead of a parse error: an abort for the user. Its checks throw instead (through
// a function, because some sit in noexcept members, where nothing changes), so a file the parser
// cannot follow is refused like any other bad file.
namespace cube::config {
struct TomlInvariant : std::logic_error {
  using std::logic_error::logic_error;
};
[[noreturn]] void toml_invariant_failed(const char* expr);
}  // namespace cube::config
#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : ::cube::config::toml_invariant_failed(#expr))
#include <toml++/toml.h>

#include <sys/stat.h>
#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>

namespace cube::config {

void toml_invariant_failed(const char* expr) { throw TomlInvariant(expr); }

namespace {

// Tables of the config file that are not unknown to anyone: each tool's own, and [sandbox], which the
// lifecycle script scripts/cube-sandbox reads (cube-sandbox(1)).
constexpr std::array<std::string_view, 7> k_tool_tables = {"tap",      "egress", "rootfs", "logs",
                                                           "versions", "sched",  "sandbox"};
constexpr uint64_t k_max_config_bytes = 1 << 20;

std::string scalar_text(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = n.value_exact<double>()) return fmt::format("{}", *d);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  std::ostringstream os;
  n.visit([&](const auto& v) { os << v; });
  return os.str();
}

void flatten(const toml::table& table, const std::string& prefix, std::map<std::string, Leaf>& out) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      flatten(*sub, key, out);
      continue;
    }
    Leaf leaf{Leaf::Kind::string, {}, {}, 0, 0, false};
    if (const auto* arr = node.as_array()) {
      leaf.kind = Leaf::Kind::array;
      for (const auto& item : *arr) leaf.items.push_back(scalar_text(item));
      leaf.text = fmt::format("[{}]", fmt::join(leaf.items, ", "));
    } else if (auto i = node.value_exact<int64_t>()) {
      leaf.kind = Leaf::Kind::integer;
      leaf.integer = *i;
      leaf.real = static_cast<double>(*i);
      leaf.text = std::to_string(*i);
    } else if (auto d = node.value_exact<double>()) {
      leaf.kind = Leaf::Kind::real;
      leaf.real = *d;
      leaf.text = fmt::format("{}", *d);
    } else if (auto b = node.value_exact<bool>()) {
      leaf.kind = Leaf::Kind::boolean;
      leaf.boolean = *b;
      leaf.text = *b ? "true" : "false";
    } else {
      leaf.text = scalar_text(node);
    }
    out[key] = std::move(leaf);
  }
}

}  // namespace

Config Config::load(std::string_view flag_path) {
  std::string path(flag_path);
  bool named = !path.empty();
  if (!named) {
    if (const char* env = std::getenv("CUBE_CONFIG"); env && *env) {
      path = env;
      named = true;
    } else {
      path = std::string(k_default_path);
    }
  }
  // /dev/null is how scripts say "no config file"; it is not a regular file, so say it here.
  if (path == "/dev/null") return parse("", path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (named)
      throw Error(Exit::usage, fmt::format("config file {} not found", path), "given by --config or CUBE_CONFIG");
    Config none;
    none.m_path = path;
    return none;
  }
  return parse(fs::read_file(path, k_max_config_bytes), path);
}

namespace {

size_t first_control(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

// Error(usage) "config file PATH:LINE:COLUMN: what" for the byte at `at`.
[[noreturn]] void refuse_at(std::string_view text, size_t at, const std::string& path, const std::string& what) {
  std::string_view before = text.substr(0, at);
  size_t nl = before.rfind('\n');
  size_t column = at - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
  throw Error(Exit::usage, fmt::format("config file {}:{}:{}: {}", path,
                                       std::count(before.begin(), before.end(), '\n') + 1, column, what));
}

}  // namespace

Config Config::parse(std::string_view toml_text, std::string path) {
  Config cfg;
  cfg.m_path = std::move(path);
  cfg.m_loaded = true;
  // TOML is UTF-8 without raw control characters (tab, CR and LF aside); toml++ meets some of both
  // with an internal check or an unreachable branch instead of an error: refuse them here, where
  // the place can be named.
  if (size_t bad = first_invalid_utf8(toml_text); bad != std::string_view::npos)
    refuse_at(toml_text, bad, cfg.m_path, "not valid UTF-8");
  if (size_t bad = first_control(toml_text); bad != std::string_view::npos)
    refuse_at(toml_text, bad, cfg.m_path,
              fmt::format("control character 0x{:02x} (TOML allows one only escaped, in a string)",
                          static_cast<unsigned char>(toml_text[bad])));
  try {
    toml::table doc = toml::parse(toml_text, cfg.m_path);
    flatten(doc, "", cfg.m_leaves);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw Error(Exit::usage,
                fmt::format("config file {}:{}:{}: {}", cfg.m_path, where.line, where.column, e.description()));
  } catch (const TomlInvariant&) {
    throw Error(Exit::usage, fmt::format("config file {}: not valid TOML", cfg.m_path),
                "the parser could not follow it", "look for an unclosed [ or stray characters in a key");
  }
  return cfg;
}

std::string_view source_name(Source s) {
  switch (s) {
    case Source::flag: return "flag";
    case Source::config: return "config";
    case Source::default_value: return "default";
  }
  return "default";
}

Settings::Settings(const Config& cfg, std::string table) : m_cfg(cfg), m_table(std::move(table)) {}

const Leaf* Settings::find(std::string_view key) {
  std::string full = m_table + "." + std::string(key);
  m_known.insert(full);
  auto it = m_cfg.leaves().find(full);
  return it == m_cfg.leaves().end() ? nullptr : &it->second;
}

void Settings::wrong_type(std::string_view key, std::string_view expected) const {
  throw Error(Exit::usage, fmt::format("config file {}: [{}] {} has the wrong type", m_cfg.path(), m_table, key),
              fmt::format("expected {}", expected));
}

void Settings::record(std::string_view key, std::string value, Source source) {
  m_entries.push_back({std::string(key), std::move(value), source});
}

std::string Settings::text(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag) {
  return text_as(key, fallback, flag, "a string");
}

std::string Settings::text_as(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag,
                              std::string_view expected) {
  const Leaf* leaf = find(key);
  if (flag) {
    record(key, *flag, Source::flag);
    return *flag;
  }
  if (leaf) {
    if (leaf->kind != Leaf::Kind::string) wrong_type(key, expected);
    record(key, leaf->text, Source::config);
    return leaf->text;
  }
  record(key, std::string(fallback), Source::default_value);
  return std::string(fallback);
}

template <typename T, typename Accepts, typename Read, typename Text>
T Settings::pick(std::string_view key, T fallback, const std::optional<T>& flag, std::string_view expected,
                 Accepts accepts, Read read, Text text) {
  const Leaf* leaf = find(key);
  T v = fallback;
  Source src = Source::default_value;
  if (flag) {
    v = *flag;
    src = Source::flag;
  } else if (leaf) {
    if (!accepts(*leaf)) wrong_type(key, expected);
    v = read(*leaf);
    src = Source::config;
  }
  record(key, text(v), src);
  return v;
}

int64_t Settings::integer(std::string_view key, int64_t fallback, std::optional<int64_t> flag) {
  return pick<int64_t>(
      key, fallback, flag, "an integer", [](const Leaf& l) { return l.kind == Leaf::Kind::integer; },
      [](const Leaf& l) { return l.integer; }, [](int64_t v) { return std::to_string(v); });
}

double Settings::number(std::string_view key, double fallback, std::optional<double> flag) {
  return pick<double>(
      key, fallback, flag, "a number",
      [](const Leaf& l) { return l.kind == Leaf::Kind::real || l.kind == Leaf::Kind::integer; },
      [](const Leaf& l) { return l.real; }, [](double v) { return fmt::format("{}", v); });
}

bool Settings::boolean(std::string_view key, bool fallback, std::optional<bool> flag) {
  return pick<bool>(
      key, fallback, flag, "true or false", [](const Leaf& l) { return l.kind == Leaf::Kind::boolean; },
      [](const Leaf& l) { return l.boolean; }, [](bool v) { return std::string(v ? "true" : "false"); });
}

int64_t Settings::duration_ms(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag) {
  std::string t = text_as(key, fallback, flag, "a duration in quotes, like \"40s\"");
  return units::parse_duration_ms(t, value_origin(key));
}

uint64_t Settings::size(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag) {
  std::string t = text_as(key, fallback, flag, "a size in quotes, like \"10G\"");
  return units::parse_size(t, value_origin(key));
}

// How an invalid duration or size names the value just recorded: a value from the file names the
// file, as every other config error does, so the operator knows where to fix it.
std::string Settings::value_origin(std::string_view key) const {
  if (m_entries.back().source == Source::config)
    return fmt::format("[{}] {} in config file {}", m_table, key, m_cfg.path());
  return fmt::format("{}.{}", m_table, key);
}

std::vector<std::string> Settings::list(std::string_view key, const std::vector<std::string>& fallback) {
  const Leaf* leaf = find(key);
  if (!leaf) {
    record(key, fmt::format("[{}]", fmt::join(fallback, ", ")), Source::default_value);
    return fallback;
  }
  if (leaf->kind != Leaf::Kind::array) wrong_type(key, "an array");
  record(key, leaf->text, Source::config);
  return leaf->items;
}

std::map<std::string, Leaf> Settings::subtable(std::string_view key) {
  std::string prefix = m_table + "." + std::string(key) + ".";
  m_known_prefixes.push_back(prefix);
  std::map<std::string, Leaf> out;
  for (auto it = m_cfg.leaves().lower_bound(prefix); it != m_cfg.leaves().end() && it->first.starts_with(prefix);
       ++it) {
    out[it->first.substr(prefix.size())] = it->second;
    record(it->first.substr(m_table.size() + 1), it->second.text, Source::config);
  }
  return out;
}

void Settings::finish() {
  std::set<std::string> warned_tables;
  for (const auto& [key, leaf] : m_cfg.leaves()) {
    std::string table = key.substr(0, key.find('.'));
    if (table == m_table) {
      bool known = m_known.count(key) > 0;
      for (const auto& p : m_known_prefixes) known = known || key.starts_with(p);
      if (!known) log::warn("config file {}: unknown key '{}' (ignored)", m_cfg.path(), key);
      continue;
    }
    bool tool_table = std::find(k_tool_tables.begin(), k_tool_tables.end(), table) != k_tool_tables.end();
    if (!tool_table && warned_tables.insert(table).second)
      log::warn("config file {}: unknown table or key '{}' (ignored)", m_cfg.path(), table);
  }
}

}  // namespace cube::config
