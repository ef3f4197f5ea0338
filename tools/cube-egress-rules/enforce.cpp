#include "enforce.hpp"

#include "bindings.hpp"
#include "error.hpp"
#include "store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace cube::egress {
namespace {

using ruleset::AddressPolicy;
using ruleset::Interval;

// What one address should carry, by the state file.
struct Plan {
  uint32_t address = 0;
  std::string sandbox;  // the in_use TAP's sandbox, "" when free
  std::optional<AddressPolicy> policy;
};

std::map<uint32_t, std::string> owners(state::Db& db) {
  std::map<uint32_t, std::string> out;
  for (auto& b : bindings(db)) out[b.address] = std::move(b.sandbox);
  return out;
}

Plan plan_for(EnforceEnv& env, uint32_t address, const std::map<uint32_t, std::string>& owner) {
  Plan p;
  p.address = address;
  if (auto it = owner.find(address); it != owner.end()) p.sandbox = it->second;
  if (p.sandbox.empty()) return p;
  auto st = get(env.db, p.sandbox, WithSecrets::no);
  if (!st) return p;
  try {
    p.policy = ruleset::address_policy(address, p.sandbox, st->revision, compile(st->policy, env.compile));
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("sandbox {}'s stored policy: {}", p.sandbox, e.what()), e.why(), e.hint());
  }
  return p;
}

bool has_element(const std::vector<Interval>& set, uint32_t a) {
  return std::any_of(set.begin(), set.end(), [&](const Interval& i) { return i.first <= a && a <= i.last; });
}

bool member(const KernelTable& k, std::string_view set, uint32_t a) {
  auto it = k.sets.find(std::string(set));
  return it != k.sets.end() && has_element(it->second, a);
}

std::string set_name(uint32_t a, std::string_view suffix) { return ruleset::chain_name(a) + std::string(suffix); }

// Whether the kernel holds anything of this address's own.
bool kernel_has(const KernelTable& k, uint32_t a) {
  if (k.chains.count(ruleset::chain_name(a)) || k.sandboxes.count(a)) return true;
  for (auto suffix : {"_allow", "_deny", "_learned"})
    if (k.sets.count(set_name(a, suffix))) return true;
  return member(k, "l7_sources", a) || member(k, "dns_sources", a);
}

// Every address the kernel has objects for: a_<k> chains and sets, map elements.
std::set<uint32_t> kernel_addresses(const KernelTable& k) {
  std::set<uint32_t> out;
  for (const auto& [name, chain] : k.chains)
    if (auto a = ruleset::chain_address(name)) out.insert(*a);
  for (const auto& [name, elements] : k.sets)
    if (name.size() > 10)
      if (auto a = ruleset::chain_address(std::string_view(name).substr(0, 10)); a && name[10] == '_') out.insert(*a);
  for (const auto& [a, target] : k.sandboxes) out.insert(a);
  return out;
}

ruleset::Base base(EnforceEnv& env) { return {require_node_net(env.db), env.ports}; }

// The address's sets that are there with another definition than ours (known with Detail::elements).
std::vector<std::string> redefined(const KernelTable& k, uint32_t a) {
  std::vector<std::string> out;
  for (const auto& [name, want] : ruleset::address_set_definitions(a))
    if (auto it = k.set_definitions.find(name); it != k.set_definitions.end() && it->second != want)
      out.push_back(name);
  return out;
}

std::string render(const KernelTable& k, const Plan& p, std::vector<Applied>& rows) {
  Applied row;
  row.address = p.address;
  row.sandbox = p.sandbox;
  if (!p.policy) {
    rows.push_back(row);
    return kernel_has(k, p.address) ? ruleset::unbind_commands(p.address, redefined(k, p.address)) : std::string();
  }
  auto before = k.owner(p.address);
  auto redefine = redefined(k, p.address);
  bool keep = before && before->sandbox == p.policy->owner.sandbox && before->names == p.policy->owner.names &&
              k.sets.count(set_name(p.address, "_learned")) && redefine.empty();
  row.revision = p.policy->owner.revision;
  row.allow = p.policy->allow.size();
  row.deny = p.policy->deny.size();
  row.l7 = p.policy->l7;
  row.dns_learning = p.policy->dns_learning;
  row.learned = keep ? "kept" : "emptied";
  rows.push_back(row);
  return ruleset::bind_commands(*p.policy, !keep, redefine);
}

std::vector<Applied> run(EnforceEnv& env, const KernelTable& k, const std::set<uint32_t>& addresses, bool all,
                         std::string_view doing) {
  auto owner = owners(env.db);
  std::string commands = ruleset::base_commands(base(env));
  if (all) commands += ruleset::flush_shared_commands();
  std::vector<Applied> rows;
  for (uint32_t a : addresses) commands += render(k, plan_for(env, a, owner), rows);
  try {
    env.nft.run(commands, doing);
  } catch (const Error& e) {
    if (!e.hint().empty()) throw;
    throw Error(e.code(), e.what(), e.why(),
                "nothing was changed; if the table was changed by hand, run cube-egress-rules reconcile");
  }
  return rows;
}

void diff_address(const KernelTable& k, const Plan& p, std::vector<Drift>& out) {
  uint32_t a = p.address;
  auto add = [&](std::string object, std::string problem) {
    out.push_back({std::move(object), a, p.sandbox, std::move(problem)});
  };
  std::string chain = ruleset::chain_name(a);
  if (!p.policy) {
    if (kernel_has(k, a)) add("chain " + chain, "objects of a policy on an address that has the default policy");
    return;
  }
  auto m = k.sandboxes.find(a);
  if (m == k.sandboxes.end() || m->second != chain)
    add("map sandboxes", "no element for the address, or another target");
  auto c = k.chains.find(chain);
  if (c == k.chains.end())
    add("chain " + chain, "missing");
  else if (c->second.lines != ruleset::address_lines(a))
    add("chain " + chain, "rules differ");
  if (k.owner(a) != p.policy->owner) add("chain " + chain, "its comment names another owner or revision");
  for (const auto& name : redefined(k, a)) add("set " + name, "defined as " + k.set_definitions.at(name));
  for (auto [suffix, want] : {std::pair{"_allow", &p.policy->allow}, {"_deny", &p.policy->deny}}) {
    auto s = k.sets.find(set_name(a, suffix));
    if (s == k.sets.end())
      add("set " + set_name(a, suffix), "missing");
    else if (s->second != *want)
      add("set " + set_name(a, suffix), fmt::format("{} intervals, the policy has {}", s->second.size(), want->size()));
  }
  if (!k.sets.count(set_name(a, "_learned"))) add("set " + set_name(a, "_learned"), "missing");
  for (auto [set, want] : {std::pair{"l7_sources", p.policy->l7}, {"dns_sources", p.policy->dns_learning}})
    if (member(k, set, a) != want) add(fmt::format("set {}", set), want ? "the address is missing" : "stray address");
}

void diff_base(const KernelTable& k, const ruleset::Base& b, std::vector<Drift>& out) {
  for (const auto& [name, lines] : ruleset::base_lines(b)) {
    auto c = k.chains.find(name);
    if (c == k.chains.end())
      out.push_back({"chain " + name, std::nullopt, "", "missing"});
    else if (c->second.lines != lines)
      out.push_back({"chain " + name, std::nullopt, "", "rules differ"});
  }
  auto p = k.sets.find("private_ranges");
  if (p == k.sets.end() || p->second != ruleset::intervals(private_ranges()))
    out.push_back({"set private_ranges", std::nullopt, "", "missing or not the private ranges"});
}

std::set<uint32_t> every_address(state::Db& db, const KernelTable& k) {
  std::set<uint32_t> out = kernel_addresses(k);
  for (const auto& b : bindings(db)) out.insert(b.address);
  return out;
}

}  // namespace

std::vector<Applied> apply_sandbox(EnforceEnv& env, const std::string& sandbox) {
  KernelTable k = read_kernel_table(env.nft, Detail::names);
  std::set<uint32_t> addresses;
  if (auto a = address_of(env.db, sandbox)) addresses.insert(*a);
  for (uint32_t a : kernel_addresses(k))
    if (auto o = k.owner(a); o && o->sandbox == sandbox) addresses.insert(a);
  return run(env, k, addresses, false, fmt::format("applying sandbox {}'s egress policy", sandbox));
}

std::vector<Applied> apply_all(EnforceEnv& env) {
  KernelTable k = read_kernel_table(env.nft, Detail::names);
  return run(env, k, every_address(env.db, k), true, "applying every sandbox's egress policy");
}

std::vector<Drift> reconcile(EnforceEnv& env, bool dry_run) {
  ruleset::Base b = base(env);
  KernelTable k = read_kernel_table(env.nft, Detail::elements);
  std::vector<Drift> out;
  if (!k.exists) out.push_back({"table inet cube_egress", std::nullopt, "", "missing"});
  diff_base(k, b, out);
  auto owner = owners(env.db);
  std::set<uint32_t> bound;
  for (uint32_t a : every_address(env.db, k)) {
    Plan p = plan_for(env, a, owner);
    if (p.policy) bound.insert(a);
    diff_address(k, p, out);
  }
  for (auto set : {"l7_sources", "dns_sources"})
    if (auto s = k.sets.find(set); s != k.sets.end())
      for (const auto& i : s->second)
        for (uint64_t a = i.first; a <= i.last; ++a)
          if (!bound.count(static_cast<uint32_t>(a)) && !k.chains.count(ruleset::chain_name(static_cast<uint32_t>(a))))
            out.push_back({fmt::format("set {}", set), static_cast<uint32_t>(a), "", "stray address"});
  if (!dry_run && !out.empty()) run(env, k, every_address(env.db, k), true, "reconciling table inet cube_egress");
  return out;
}

bool teardown(nft::Context& nft) {
  bool existed = nft.table_exists("inet", ruleset::k_table);
  nft.run(ruleset::teardown_commands(), "removing table inet cube_egress");
  return existed;
}

}  // namespace cube::egress
