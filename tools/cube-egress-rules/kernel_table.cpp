#include "kernel_table.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <algorithm>
#include <nlohmann/json.hpp>

namespace cube::egress {
namespace {

using ruleset::Interval;
using Json = nlohmann::json;

uint32_t address(const Json& j) {
  auto a = j.is_string() ? parse_ipv4(j.get<std::string>()) : std::nullopt;
  if (!a) throw Error(Exit::failed, "reading table inet cube_egress", fmt::format("unexpected element {}", j.dump()));
  return *a;
}

Interval element(const Json& e) {
  if (e.is_string()) return {address(e), address(e)};
  if (e.contains("elem")) return element(e["elem"]["val"]);
  if (e.contains("prefix")) {
    uint32_t a = address(e["prefix"]["addr"]);
    auto len = e["prefix"]["len"].get<uint8_t>();
    return {a, a | ~Cidr::mask(len)};
  }
  if (e.contains("range")) return {address(e["range"][0]), address(e["range"][1])};
  throw Error(Exit::failed, "reading table inet cube_egress", fmt::format("unexpected element {}", e.dump()));
}

void read_map(const Json& m, KernelTable& t) {
  if (m.value("name", "") != "sandboxes" || !m.contains("elem")) return;
  for (const auto& e : m["elem"]) {
    const Json& verdict = e[1];
    std::string target;
    for (auto kind : {"goto", "jump"})
      if (verdict.contains(kind)) target = verdict[kind]["target"].get<std::string>();
    t.sandboxes[address(e[0])] = target;
  }
}

void read_objects(std::string_view json_text, KernelTable& t) {
  Json doc = Json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables"))
    throw Error(Exit::failed, "reading table inet cube_egress", "libnftables printed no JSON document");
  for (const auto& item : doc["nftables"]) {
    if (item.contains("map")) read_map(item["map"], t);
    if (!item.contains("set")) continue;
    const Json& s = item["set"];
    auto name = s["name"].get<std::string>();
    std::string definition = s.value("type", Json("")).is_string() ? s.value("type", "") : "?";
    if (s.contains("flags"))
      for (const auto& f : s["flags"]) definition += " " + (f.is_string() ? f.get<std::string>() : "?");
    std::vector<Interval> elements;
    if (s.contains("elem") && s.value("type", Json("")) == "ipv4_addr")  // a set made by hand may hold anything
      for (const auto& e : s["elem"]) elements.push_back(element(e));
    t.sets[name] = ruleset::merge(std::move(elements));
    t.set_definitions[name] = std::move(definition);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<ruleset::Owner> KernelTable::owner(uint32_t address) const {
  auto it = chains.find(ruleset::chain_name(address));
  if (it == chains.end() || !it->second.comment) return std::nullopt;
  return ruleset::parse_comment(*it->second.comment);
}

Terse parse_terse(std::string_view text) {
  Terse out;
  KernelChain* current = nullptr;
  bool ours = false;  // inside "table inet cube_egress {" (a listing may hold other tables)
  int depth = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    if (line == "}") {
      current = nullptr;
      if (--depth <= 0) ours = false;
    } else if (line.starts_with("table ") && line.ends_with(" {")) {
      ours = line == fmt::format("table inet {} {{", ruleset::k_table);
      depth = 1;
    } else if (!ours) {
      if (line.ends_with(" {")) ++depth;
    } else if (current && line.starts_with("comment \"") && line.ends_with("\"") && current->lines.empty()) {
      current->comment = std::string(line.substr(9, line.size() - 10));
    } else if (current) {
      current->lines.emplace_back(line);
    } else if (line.ends_with(" {")) {
      ++depth;
      std::string_view head = line.substr(0, line.size() - 2);
      if (head.starts_with("chain "))
        current = &out.chains[std::string(trim(head.substr(6)))];
      else if (head.starts_with("set "))
        out.sets.emplace_back(trim(head.substr(4)));
      else if (head.starts_with("map "))
        out.maps.emplace_back(trim(head.substr(4)));
    }  // a set's or map's other lines are no rules
  }
  return out;
}

KernelTable read_kernel_table(nft::Context& nft, Detail detail) {
  KernelTable t;
  constexpr std::string_view doing = "reading table inet cube_egress";
  // Listing the table reads every element of every set: the names alone come from the cheaper lists.
  // Whether the table exists comes from `list chains`, which names every table of the family, chains
  // or none: `list tables` would read every rule and element of every table (libnftables 1.0.6).
  std::string chains = nft.list("list chains inet", NFT_CTX_OUTPUT_TERSE, doing);
  if (chains.find(fmt::format("table inet {} {{\n", ruleset::k_table)) == std::string::npos) return t;
  t.exists = true;
  std::string text = detail == Detail::elements
                         ? nft.list(fmt::format("list table inet {}", ruleset::k_table), NFT_CTX_OUTPUT_TERSE, doing)
                         : chains + nft.list("list sets inet", NFT_CTX_OUTPUT_TERSE, doing) +
                               nft.list("list maps inet", NFT_CTX_OUTPUT_TERSE, doing);
  Terse terse = parse_terse(text);
  t.chains = std::move(terse.chains);
  for (auto& name : terse.sets) t.sets[std::move(name)];
  if (detail == Detail::elements) {
    read_objects(nft.list(fmt::format("list table inet {}", ruleset::k_table), NFT_CTX_OUTPUT_JSON, doing), t);
    return t;
  }
  for (auto [kind, name] : {std::pair{"map", "sandboxes"}, {"set", "l7_sources"}, {"set", "dns_sources"}}) {
    bool present = std::string_view(kind) == "map"
                       ? std::find(terse.maps.begin(), terse.maps.end(), name) != terse.maps.end()
                       : t.sets.count(name) > 0;
    if (present)
      read_objects(
          nft.list(fmt::format("list {} inet {} {}", kind, ruleset::k_table, name), NFT_CTX_OUTPUT_JSON, doing), t);
  }
  return t;
}

}  // namespace cube::egress
