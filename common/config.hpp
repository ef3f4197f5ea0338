// cube::config — the optional TOML file, one table per tool ([tap], [egress], [rootfs], [logs],
// [versions], [sched]), [sandbox] for scripts/cube-sandbox and [state], which every tool shares.
//
// Contract:
// - File: --config PATH, else $CUBE_CONFIG, else /etc/cube/cube.toml. The default path may be
//   missing (built-in defaults apply); a path the user named must exist. A syntax error or a value
//   of the wrong type is Error(usage) naming the file, the key and what was expected.
// - Precedence: flag, then config, then built-in default; each Settings getter records which one
//   won, and `cube-<tool> config` prints that list.
// - finish() warns once per key in the tool's table that no getter asked for, and once per table
//   that belongs to no tool. A valid key never warns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cube::config {

inline constexpr std::string_view k_default_path = "/etc/cube/cube.toml";

// A leaf of the file, flattened: "sched.overcommit.cpu_ratio" → its value.
struct Leaf {
  enum class Kind { string, integer, real, boolean, array } kind;
  std::string text;                // scalars: the value as text
  std::vector<std::string> items;  // arrays: each item as text
  int64_t integer = 0;
  double real = 0;
  bool boolean = false;
};

class Config {
 public:
  // Reads the file chosen by flag, $CUBE_CONFIG and the default.
  static Config load(std::string_view flag_path);
  static Config parse(std::string_view toml_text, std::string path);

  const std::string& path() const { return m_path; }
  bool loaded() const { return m_loaded; }
  const std::map<std::string, Leaf>& leaves() const { return m_leaves; }

 private:
  std::string m_path;
  bool m_loaded = false;
  std::map<std::string, Leaf> m_leaves;
};

enum class Source { flag, config, default_value };
std::string_view source_name(Source s);

struct Entry {
  std::string key;  // without the table prefix
  std::string value;
  Source source;
};

class Settings {
 public:
  Settings(const Config& cfg, std::string table);

  std::string text(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag = {});
  int64_t integer(std::string_view key, int64_t fallback, std::optional<int64_t> flag = {});
  double number(std::string_view key, double fallback, std::optional<double> flag = {});
  bool boolean(std::string_view key, bool fallback, std::optional<bool> flag = {});
  // Durations and sizes are written as text in the file ("40s", "10G") and parsed by cube::units.
  int64_t duration_ms(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag = {});
  uint64_t size(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag = {});
  std::vector<std::string> list(std::string_view key, const std::vector<std::string>& fallback = {});
  // Every leaf under `key.` (a sub-table), keyed by the rest of its dotted name; all count as known.
  std::map<std::string, Leaf> subtable(std::string_view key);

  const std::vector<Entry>& entries() const { return m_entries; }
  const std::string& table() const { return m_table; }
  // Warns about unknown keys and tables; call once every getter has run.
  void finish();

 private:
  const Leaf* find(std::string_view key);
  std::string text_as(std::string_view key, std::string_view fallback, const std::optional<std::string>& flag,
                      std::string_view expected);
  std::string value_origin(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, std::string_view expected) const;
  void record(std::string_view key, std::string value, Source source);
  // The flag, else the file's value (which `accepts` must take), else the fallback; recorded.
  template <typename T, typename Accepts, typename Read, typename Text>
  T pick(std::string_view key, T fallback, const std::optional<T>& flag, std::string_view expected, Accepts accepts,
         Read read, Text text);

  const Config& m_cfg;
  std::string m_table;
  std::set<std::string> m_known;
  std::vector<std::string> m_known_prefixes;
  std::vector<Entry> m_entries;
};

}  // namespace cube::config
