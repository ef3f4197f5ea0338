#include "kernel_table.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <nftables/libnftables.h>
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
    std::vector<Interval> elements;
    if (s.contains("elem"))
      for (const auto& e : s["elem"]) elements.push_back(element(e));
    t.sets[s["name"].get<std::string>()] = ruleset::merge(std::move(elements));
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

std::map<std::string, KernelChain> parse_chains(std::string_view text) {
  std::map<std::string, KernelChain> out;
  KernelChain* current = nullptr;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    if (line == "}") {
      current = nullptr;
    } else if (current && line.starts_with("comment \"") && line.ends_with("\"") && current->lines.empty()) {
      current->comment = std::string(line.substr(9, line.size() - 10));
    } else if (current) {
      current->lines.emplace_back(line);
    } else if (line.starts_with("chain ") && line.ends_with(" {")) {
      current = &out[std::string(trim(line.substr(6, line.size() - 8)))];
    }  // a set's or map's lines (outside any chain) are no rules
  }
  return out;
}

KernelTable read_kernel_table(nft::Context& nft) {
  KernelTable t;
  if (!nft.table_exists("inet", ruleset::k_table)) return t;
  t.exists = true;
  std::string list = fmt::format("list table inet {}", ruleset::k_table);
  read_objects(nft.list(list, NFT_CTX_OUTPUT_JSON, "reading table inet cube_egress"), t);
  t.chains = parse_chains(nft.list(list, NFT_CTX_OUTPUT_TERSE, "reading table inet cube_egress"));
  return t;
}

}  // namespace cube::egress
