// cube::egress matcher — a policy's L7 rules compiled for first-match-wins decisions whose cost
// does not grow with the number of rules.
//
// Contract:
// - NameTrie holds name patterns in a trie of reversed labels (api.example.com is com → example
//   → api): a lookup walks the request's labels once and meets exactly the patterns that match it,
//   the wildcards ("*.x", strict subdomains) of its proper suffixes and the exact names equal to it.
// - CidrSet finds the most specific of its CIDRs that contains an address: one binary search per
//   prefix length in use.
// - Matcher indexes each rule once: by its SNI pattern when it has one, else by its Host pattern,
//   else with the rules that name neither; within each, by its path (exact, prefix, or none). A
//   decision looks up the request's SNI and Host in the tries and its path in each bucket met,
//   then checks the candidate lists in rule order, stopping at the first whole match and never
//   looking past the best index found so far. Only rules sharing a name and a path (differing by
//   method or scheme) are checked one by one. The upstream limits (1024 names, 8192 addresses)
//   make a large policy many rules per name, hence the path index.
// - Match semantics (doc/cube-egress-rules.md): all present fields must pass; sni and host compare
//   case-insensitively, exactly or as "*.x" wildcards, and a request without the value does not
//   match; method equals one of the upper-cased entries; path is exact or, with a trailing '*', a
//   prefix; scheme is http or https.
#pragma once

#include "policy.hpp"
#include "request.hpp"
#include "targets.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cube::egress {

class NameTrie {
 public:
  void add(const NamePattern& p, uint32_t value);
  // Call once after the last add and before the first lookup.
  void finish();
  // Calls f(std::span<const uint32_t>) with each list of values whose pattern matches `name`
  // (normalised), wildcards of the shorter suffixes first; each list is in insertion order.
  template <typename F>
  void for_each_match(std::string_view name, F&& f) const;
  bool matches(std::string_view name) const;
  // The first value (insertion order) of all patterns matching `name`.
  std::optional<uint32_t> first(std::string_view name) const;
  bool empty() const { return m_nodes.size() <= 1; }

 private:
  struct Node {
    uint32_t first_edge = 0, edge_count = 0;
    std::vector<uint32_t> exact, wildcard;
  };
  struct Edge {
    std::string label;
    uint32_t child;
  };
  std::optional<uint32_t> child(uint32_t node, std::string_view label) const;
  uint32_t child_or_add(uint32_t node, std::string_view label);

  std::vector<Node> m_nodes{Node{}};
  std::vector<Edge> m_edges;  // sorted by (parent, label) after finish(); a node's edges are adjacent
  std::vector<uint32_t> m_edge_parent;
  std::unordered_map<std::string, uint32_t> m_building;  // "parent/label" → child, until finish()
};

template <typename F>
void NameTrie::for_each_match(std::string_view name, F&& f) const {
  uint32_t node = 0;
  for (size_t end = name.size(); end > 0;) {
    size_t dot = name.rfind('.', end - 1);
    size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    // A wildcard here matches: the name has at least one more label below this node.
    if (!m_nodes[node].wildcard.empty()) f(std::span<const uint32_t>(m_nodes[node].wildcard));
    auto next = child(node, name.substr(start, end - start));
    if (!next) return;
    node = *next;
    if (dot == std::string_view::npos) {
      if (!m_nodes[node].exact.empty()) f(std::span<const uint32_t>(m_nodes[node].exact));
      return;
    }
    end = dot;
  }
}

class CidrSet {
 public:
  void add(Cidr c, uint32_t value);  // for a CIDR added twice, the first value stays
  void finish();
  std::optional<uint32_t> find(uint32_t addr) const;
  bool empty() const { return m_prefixes.empty(); }

 private:
  struct Entry {
    uint32_t network, value;
  };
  std::array<std::vector<Entry>, 33> m_by_prefix;
  std::vector<uint8_t> m_prefixes;  // in use, longest first
};

struct CompiledRule {
  std::string name;
  std::optional<NamePattern> sni;
  std::optional<NamePattern> host;   // an address or CIDR is an exact "name" of its text
  std::vector<std::string> methods;  // upper-cased
  enum class PathKind : uint8_t { any, exact, prefix } path_kind = PathKind::any;
  std::string path;
  enum class Scheme : uint8_t { any, http, https } scheme = Scheme::any;
  bool allow = false;
  Audit audit = Audit::metadata;
  struct InjectRef {
    std::string header, secret_ref;
    std::optional<std::string> format;
  };
  std::vector<InjectRef> inject;

  bool matches(const Request& r) const;
};

// One rule compiled (sni and host already checked by compile()).
CompiledRule compile_rule(const Rule& r);

// The rules of one SNI or Host pattern (or of those naming neither), indexed by their path: rules
// without a path, exact paths in a hash map, prefixes in one hash map per prefix length in use.
class PathIndex {
 public:
  void add(const CompiledRule& r, uint32_t index);
  // Calls f(std::span<const uint32_t>) with each list of rules whose path can match `path`.
  template <typename F>
  void for_each_candidates(const std::optional<std::string>& path, F&& f) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::vector<uint32_t>, Hash, std::equal_to<>>;
  std::vector<uint32_t> m_any;
  Map m_exact;
  std::vector<std::pair<size_t, Map>> m_prefix;  // by prefix length, ascending
};

template <typename F>
void PathIndex::for_each_candidates(const std::optional<std::string>& path, F&& f) const {
  if (!m_any.empty()) f(std::span<const uint32_t>(m_any));
  if (!path) return;
  std::string_view p = *path;
  if (auto it = m_exact.find(p); it != m_exact.end()) f(std::span<const uint32_t>(it->second));
  for (const auto& [length, map] : m_prefix) {
    if (length > p.size()) break;
    if (auto it = map.find(p.substr(0, length)); it != map.end()) f(std::span<const uint32_t>(it->second));
  }
}

class Matcher {
 public:
  Matcher() = default;
  explicit Matcher(const std::vector<Rule>& rules);
  // The index of the first rule that matches, or nullopt.
  std::optional<uint32_t> first_match(const Request& r) const;
  const CompiledRule& rule(uint32_t i) const { return m_rules[i]; }
  size_t size() const { return m_rules.size(); }

 private:
  std::vector<CompiledRule> m_rules;
  // One per distinct SNI pattern, one per distinct Host pattern of rules without an SNI, and the
  // last for rules naming neither. The tries' values are indexes into it.
  std::vector<PathIndex> m_buckets{PathIndex{}};
  NameTrie m_by_sni, m_by_host;
};

}  // namespace cube::egress
