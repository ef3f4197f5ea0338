// cube::egress policy — a sandbox's egress policy as the user writes it (upstream's
// CubeNetworkConfig, camelCase JSON), parsed with every field checked.
//
// Contract:
// - parse_policy takes the object itself, or one wrapped as {"cubeNetworkConfig": …} or the legacy
//   {"cubevsContext": …} (the new key wins when both are there). Unknown keys are errors: a
//   mistyped match key would otherwise widen a rule to match everything.
// - Every error is Error(usage) naming where: "rules[2] \"api\": match.method[0]: …". Secrets are
//   never quoted; a JSON syntax error gives only its byte offset, since the text near it may be one.
// - What parsing checks is the shape of each field (types, audit level, method and header
//   tokens, path form, secrets); what needs the whole policy (target syntax, duplicate names,
//   limits, the allowOut-domain rule) is checked by compile() (compiled.hpp), which `validate` and
//   every write run before anything is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cube::egress {

enum class Audit : uint8_t { metadata, full, none };
std::string_view audit_name(Audit a);

struct Inject {
  std::string header;
  std::string secret;  // empty when loaded without secrets (show, check)
  std::string secret_ref;
  std::optional<std::string> format;  // "${SECRET}" when absent or empty
};

struct Match {
  std::optional<std::string> sni, host, path, scheme;
  std::vector<std::string> method;  // empty: any method
};

struct Rule {
  std::string name;
  Match match;
  bool allow = false;  // an absent action denies, as upstream's wire translation
  std::optional<Audit> audit;
  std::vector<Inject> inject;
};

struct Policy {
  std::optional<bool> allow_internet_access;  // absent: allowed
  std::vector<std::string> allow_out, deny_out, dns_servers;
  std::vector<Rule> rules;
};

// Where the secrets of injects come from: the user's text (each inject has "secret"), or the
// state file's policy column (each inject has "secretRef"; the secrets are filled in separately).
enum class SecretSource { text, stored };

Policy parse_policy(std::string_view text, SecretSource source = SecretSource::text);
// One rule, for `patch`.
Rule parse_rule(std::string_view text);
// Replaces the rule of the same name in place, or appends it.
void upsert_rule(Policy& p, Rule r);

// How a rule is named in errors: `rules[3] "name"`, or `rules[3]` while it has none; a rule given
// alone (patch) is `rule "name"`.
inline constexpr size_t k_lone_rule = SIZE_MAX;
std::string rule_label(size_t index, std::string_view name);

}  // namespace cube::egress
