#include "matcher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace cube::egress {

// --- NameTrie -------------------------------------------------------------------------------------

uint32_t NameTrie::child_or_add(uint32_t node, std::string_view label) {
  std::string key = fmt::format("{}/{}", node, label);
  auto [it, added] = m_building.try_emplace(std::move(key), static_cast<uint32_t>(m_nodes.size()));
  if (!added) return it->second;
  m_nodes.emplace_back();
  m_edges.push_back({std::string(label), it->second});
  m_edge_parent.push_back(node);
  return it->second;
}

void NameTrie::add(const NamePattern& p, uint32_t value) {
  uint32_t node = 0;
  std::string_view name = p.name;
  for (size_t end = name.size(); end > 0;) {
    size_t dot = name.rfind('.', end - 1);
    size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    node = child_or_add(node, name.substr(start, end - start));
    if (dot == std::string_view::npos) break;
    end = dot;
  }
  (p.wildcard ? m_nodes[node].wildcard : m_nodes[node].exact).push_back(value);
}

void NameTrie::finish() {
  std::vector<uint32_t> order(m_edges.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (m_edge_parent[a] != m_edge_parent[b]) return m_edge_parent[a] < m_edge_parent[b];
    return m_edges[a].label < m_edges[b].label;
  });
  std::vector<Edge> sorted;
  sorted.reserve(order.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    uint32_t parent = m_edge_parent[order[i]];
    Node& n = m_nodes[parent];
    if (n.edge_count == 0) n.first_edge = i;
    ++n.edge_count;
    sorted.push_back(std::move(m_edges[order[i]]));
  }
  m_edges = std::move(sorted);
  m_edge_parent.clear();
  m_building.clear();
  for (Node& n : m_nodes) {
    std::sort(n.exact.begin(), n.exact.end());
    std::sort(n.wildcard.begin(), n.wildcard.end());
  }
}

std::optional<uint32_t> NameTrie::child(uint32_t node, std::string_view label) const {
  const Node& n = m_nodes[node];
  auto first = m_edges.begin() + n.first_edge, last = first + n.edge_count;
  auto it = std::lower_bound(first, last, label, [](const Edge& e, std::string_view l) { return e.label < l; });
  if (it == last || it->label != label) return std::nullopt;
  return it->child;
}

bool NameTrie::matches(std::string_view name) const {
  bool any = false;
  for_each_match(name, [&](std::span<const uint32_t>) { any = true; });
  return any;
}

std::optional<uint32_t> NameTrie::first(std::string_view name) const {
  std::optional<uint32_t> best;
  for_each_match(name, [&](std::span<const uint32_t> values) {
    if (!best || values.front() < *best) best = values.front();
  });
  return best;
}

// --- CidrSet --------------------------------------------------------------------------------------

void CidrSet::add(Cidr c, uint32_t value) { m_by_prefix[c.prefix].push_back({c.network, value}); }

void CidrSet::finish() {
  m_prefixes.clear();
  for (int p = 32; p >= 0; --p) {
    auto& v = m_by_prefix[p];
    if (v.empty()) continue;
    std::stable_sort(v.begin(), v.end(), [](const Entry& a, const Entry& b) { return a.network < b.network; });
    v.erase(std::unique(v.begin(), v.end(), [](const Entry& a, const Entry& b) { return a.network == b.network; }),
            v.end());
    m_prefixes.push_back(static_cast<uint8_t>(p));
  }
}

std::optional<uint32_t> CidrSet::find(uint32_t addr) const {
  for (uint8_t p : m_prefixes) {
    const auto& v = m_by_prefix[p];
    uint32_t net = addr & Cidr::mask(p);
    auto it = std::lower_bound(v.begin(), v.end(), net, [](const Entry& e, uint32_t n) { return e.network < n; });
    if (it != v.end() && it->network == net) return it->value;
  }
  return std::nullopt;
}

// --- rules ----------------------------------------------------------------------------------------

namespace {

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

// A host pattern: "*.x" a wildcard, anything else (a name, an address, a CIDR) compared exactly.
NamePattern host_pattern(std::string_view raw) {
  std::string text = host_pattern_text(raw);
  if (auto p = parse_name_pattern(text); p && p->wildcard) return *p;
  return {text, false};
}

}  // namespace

CompiledRule compile_rule(const Rule& r) {
  CompiledRule c;
  c.name = r.name;
  if (r.match.sni) c.sni = parse_name_pattern(*r.match.sni);
  if (r.match.host) c.host = host_pattern(*r.match.host);
  for (const auto& m : r.match.method) c.methods.push_back(upper(m));
  if (r.match.path) {
    c.path = *r.match.path;
    c.path_kind = CompiledRule::PathKind::exact;
    if (c.path.ends_with('*')) {
      c.path.pop_back();
      c.path_kind = CompiledRule::PathKind::prefix;
    }
  }
  if (r.match.scheme)
    c.scheme = normalize_name(*r.match.scheme) == "https" ? CompiledRule::Scheme::https : CompiledRule::Scheme::http;
  c.allow = r.allow;
  c.audit = r.audit.value_or(Audit::metadata);
  for (const auto& in : r.inject) c.inject.push_back({in.header, in.secret_ref, in.format});
  return c;
}

bool CompiledRule::matches(const Request& r) const {
  if (sni && (!r.sni || !sni->matches(*r.sni))) return false;
  if (host && (!r.host || !host->matches(*r.host))) return false;
  if (!methods.empty() && std::find(methods.begin(), methods.end(), r.method) == methods.end()) return false;
  if (path_kind != PathKind::any) {
    if (!r.path) return false;
    if (path_kind == PathKind::exact ? *r.path != path : !r.path->starts_with(path)) return false;
  }
  switch (scheme) {
    case Scheme::any: return true;
    case Scheme::http: return r.scheme == "http";
    case Scheme::https: return r.scheme == "https";
  }
  return false;
}

void PathIndex::add(const CompiledRule& r, uint32_t index) {
  switch (r.path_kind) {
    case CompiledRule::PathKind::any: m_any.push_back(index); return;
    case CompiledRule::PathKind::exact: m_exact[r.path].push_back(index); return;
    case CompiledRule::PathKind::prefix: break;
  }
  auto it = std::lower_bound(m_prefix.begin(), m_prefix.end(), r.path.size(),
                             [](const auto& e, size_t length) { return e.first < length; });
  if (it == m_prefix.end() || it->first != r.path.size()) it = m_prefix.insert(it, {r.path.size(), Map{}});
  it->second[r.path].push_back(index);
}

Matcher::Matcher(const std::vector<Rule>& rules) {
  m_buckets.clear();
  m_rules.reserve(rules.size());
  std::unordered_map<std::string, uint32_t> sni_buckets, host_buckets;
  std::vector<uint32_t> bucket_of(rules.size());
  for (uint32_t i = 0; i < rules.size(); ++i) {
    m_rules.push_back(compile_rule(rules[i]));
    const CompiledRule& c = m_rules.back();
    if (!c.sni && !c.host) continue;
    auto& buckets = c.sni ? sni_buckets : host_buckets;
    const NamePattern& p = c.sni ? *c.sni : *c.host;
    auto [it, added] = buckets.try_emplace(p.text(), static_cast<uint32_t>(m_buckets.size()));
    if (added) {
      m_buckets.emplace_back();
      (c.sni ? m_by_sni : m_by_host).add(p, it->second);
    }
    bucket_of[i] = it->second;
  }
  auto unindexed = static_cast<uint32_t>(m_buckets.size());
  m_buckets.emplace_back();
  for (uint32_t i = 0; i < rules.size(); ++i)
    m_buckets[m_rules[i].sni || m_rules[i].host ? bucket_of[i] : unindexed].add(m_rules[i], i);
  m_by_sni.finish();
  m_by_host.finish();
}

std::optional<uint32_t> Matcher::first_match(const Request& r) const {
  uint32_t best = UINT32_MAX;
  auto scan = [&](std::span<const uint32_t> candidates) {
    for (uint32_t i : candidates) {
      if (i >= best) return;
      if (m_rules[i].matches(r)) {
        best = i;
        return;
      }
    }
  };
  auto buckets = [&](std::span<const uint32_t> ids) {
    for (uint32_t b : ids) m_buckets[b].for_each_candidates(r.path, scan);
  };
  if (r.sni) m_by_sni.for_each_match(*r.sni, buckets);
  if (r.host) m_by_host.for_each_match(*r.host, buckets);
  m_buckets.back().for_each_candidates(r.path, scan);
  if (best == UINT32_MAX) return std::nullopt;
  return best;
}

}  // namespace cube::egress
