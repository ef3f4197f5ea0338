// cube::egress kernel_table — the `inet cube_egress` table as the kernel has it, read back through
// libnftables (JSON for set and map elements, terse text for the chains: nft 1.0.6's JSON has no
// chain comments).
//
// Contract: read_kernel_table() works in the calling thread's network namespace; a table that is
// missing reads as exists = false. Set elements come back as merged intervals, so they compare
// with ruleset::intervals() whatever form nft printed them in (address, prefix or range).
// Detail::names reads every chain and set name but the elements of the map and of l7_sources and
// dns_sources only — what binding one sandbox needs, at a cost that does not grow with the other
// sandboxes' policies; Detail::elements reads every set's elements (reconcile).
#pragma once

#include "nft.hpp"
#include "ruleset.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct KernelChain {
  std::optional<std::string> comment;
  std::vector<std::string> lines;  // the hook line of a base chain, then the rules
};

struct KernelTable {
  bool exists = false;
  std::map<std::string, std::vector<ruleset::Interval>> sets;  // by name, maps excluded
  std::map<std::string, std::string> set_definitions;          // Detail::elements: "ipv4_addr interval"
  std::map<uint32_t, std::string> sandboxes;                   // map element → its goto/jump target
  std::map<std::string, KernelChain> chains;

  // The owner an a_<k> chain's comment names, when the chain is there and its comment parses.
  std::optional<ruleset::Owner> owner(uint32_t address) const;
};

enum class Detail { names, elements };
KernelTable read_kernel_table(nft::Context& nft, Detail detail);

// The chains and the set names of a terse `list table` text (exposed for tests).
struct Terse {
  std::map<std::string, KernelChain> chains;
  std::vector<std::string> sets;
  std::vector<std::string> maps;
};
Terse parse_terse(std::string_view text);

}  // namespace cube::egress
