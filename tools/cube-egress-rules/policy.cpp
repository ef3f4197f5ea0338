#include "policy.hpp"

#include "error.hpp"
#include "secrets.hpp"
#include "targets.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>

namespace cube::egress {
namespace {

using json = nlohmann::json;

constexpr size_t k_max_name = 256;
constexpr size_t k_max_field = 4096;  // host, sni, path, format, one method

[[noreturn]] void bad(std::string_view where, std::string_view what, std::string why = {}) {
  throw Error(Exit::usage, fmt::format("{}: {}", where, what), std::move(why));
}

std::string join(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
}

json parse_json(std::string_view text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() quotes the text near the error, which may be a secret: give the offset only.
    throw Error(Exit::usage, fmt::format("{}: not valid JSON", what), fmt::format("syntax error at byte {}", e.byte));
  } catch (const json::exception&) {  // 1e999: a number no double holds
    throw Error(Exit::usage, fmt::format("{}: not valid JSON", what), "a number out of range");
  }
}

const json& object(const json& j, std::string_view where, std::initializer_list<std::string_view> keys) {
  if (!j.is_object()) bad(where, "expected an object");
  for (const auto& [k, v] : j.items())
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      bad(where, fmt::format("unknown key {}", excerpt(k)), fmt::format("known keys: {}", fmt::join(keys, ", ")));
  return j;
}

bool control_free(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::optional<std::string> text(const json& obj, std::string_view key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  std::string field = join(where, key);
  if (!it->is_string()) bad(field, "expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > k_max_field)
    bad(field, fmt::format("{} bytes", s.size()), fmt::format("the limit is {}", k_max_field));
  if (!control_free(s)) bad(field, "contains a control character");
  return s;
}

// An HTTP token (RFC 9110): header names and methods.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::vector<std::string> strings(const json& obj, std::string_view key, std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  std::string field = join(where, key);
  if (!it->is_array()) bad(field, "expected an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_string()) bad(fmt::format("{}[{}]", field, i), "expected a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Match parse_match(const json& j, const std::string& where) {
  object(j, where, {"sni", "host", "method", "path", "scheme"});
  Match m;
  m.sni = text(j, "sni", where);
  m.host = text(j, "host", where);
  m.path = text(j, "path", where);
  if (m.path) {
    const std::string& p = *m.path;
    size_t star = p.find('*');
    if (p != "*" && (p.empty() || p.front() != '/'))
      bad(where + ".path", fmt::format("{} does not start with '/'", excerpt(p)), "a path is '/…', '/prefix/*' or '*'");
    if (star != std::string::npos && star + 1 != p.size())
      bad(where + ".path", fmt::format("{} has a '*' before its end", excerpt(p)), "only a trailing '*' (a prefix)");
  }
  m.scheme = text(j, "scheme", where);
  if (m.scheme) {
    std::string s = normalize_name(*m.scheme);
    if (s != "http" && s != "https") bad(where + ".scheme", fmt::format("{}", excerpt(*m.scheme)), "http or https");
  }
  m.method = strings(j, "method", where);
  for (size_t i = 0; i < m.method.size(); ++i)
    if (!is_token(m.method[i]) || m.method[i].size() > 32)
      bad(fmt::format("{}.method[{}]", where, i), fmt::format("invalid method {}", excerpt(m.method[i])));
  return m;
}

Inject parse_inject(const json& j, const std::string& where, SecretSource source) {
  object(j, where, {"header", "secret", "secretRef", "format"});
  Inject in;
  in.header = text(j, "header", where).value_or("");
  if (in.header.empty()) bad(where + ".header", "missing or empty");
  if (!is_token(in.header) || in.header.size() > k_max_name)
    bad(where + ".header", fmt::format("invalid header name {}", excerpt(in.header)));
  in.format = text(j, "format", where);
  auto secret = j.find("secret");
  if (source == SecretSource::text) {
    // Checked here by hand: text() would quote neither, but this keeps secrets out of every path.
    if (secret == j.end() || !secret->is_string()) bad(where + ".secret", "missing, or not a string");
    in.secret = secret->get<std::string>();
    check_secret(in.secret, where + ".secret");
    in.secret_ref = egress::secret_ref(in.secret);
  } else {
    if (secret != j.end()) bad(where, "a stored policy carries no secret");
    in.secret_ref = text(j, "secretRef", where).value_or("");
  }
  return in;
}

Rule parse_rule_json(const json& j, size_t index, SecretSource source) {
  std::string where = rule_label(index, "");
  object(j, where, {"name", "match", "action"});
  Rule r;
  r.name = text(j, "name", where).value_or("");
  if (r.name.empty()) bad(where + ".name", "missing or empty", "every rule has a name, unique in its policy");
  if (r.name.size() > k_max_name) bad(where + ".name", fmt::format("longer than {} bytes", k_max_name));
  where = rule_label(index, r.name);
  if (auto m = j.find("match"); m != j.end() && !m->is_null()) r.match = parse_match(*m, where + ": match");
  auto a = j.find("action");
  if (a == j.end() || a->is_null()) return r;
  std::string aw = where + ": action";
  object(*a, aw, {"allow", "audit", "inject"});
  auto allow = a->find("allow");
  if (allow == a->end() || !allow->is_boolean()) bad(aw + ".allow", "missing, or not true or false");
  r.allow = allow->get<bool>();
  if (auto audit = text(*a, "audit", aw)) {
    if (*audit == "full")
      r.audit = Audit::full;
    else if (*audit == "metadata")
      r.audit = Audit::metadata;
    else if (*audit == "none")
      r.audit = Audit::none;
    else
      bad(aw + ".audit", excerpt(*audit), "full, metadata or none");
  }
  auto inject = a->find("inject");
  if (inject == a->end() || inject->is_null()) return r;
  if (!inject->is_array()) bad(aw + ".inject", "expected an array");
  for (size_t i = 0; i < inject->size(); ++i)
    r.inject.push_back(parse_inject((*inject)[i], fmt::format("{}.inject[{}]", aw, i), source));
  return r;
}

// {"cubeNetworkConfig": P} or the legacy {"cubevsContext": P}, as upstream's agent state holds it.
const json& unwrap(const json& j) {
  if (!j.is_object()) bad("policy", "expected an object");
  if (!j.contains("cubeNetworkConfig") && !j.contains("cubevsContext")) return j;
  object(j, "policy", {"cubeNetworkConfig", "cubevsContext"});
  return j.contains("cubeNetworkConfig") ? j["cubeNetworkConfig"] : j["cubevsContext"];
}

}  // namespace

std::string_view audit_name(Audit a) {
  switch (a) {
    case Audit::full: return "full";
    case Audit::none: return "none";
    case Audit::metadata: break;
  }
  return "metadata";
}

std::string rule_label(size_t index, std::string_view name) {
  std::string where = index == k_lone_rule ? "rule" : fmt::format("rules[{}]", index);
  return name.empty() ? where : fmt::format("{} \"{}\"", where, name);
}

Policy parse_policy(std::string_view text_in, SecretSource source) {
  json doc = parse_json(text_in, "policy");
  const json& j = unwrap(doc);
  object(j, "policy", {"allowInternetAccess", "allowOut", "denyOut", "dnsServers", "rules"});
  Policy p;
  if (auto it = j.find("allowInternetAccess"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) bad("allowInternetAccess", "expected true or false");
    p.allow_internet_access = it->get<bool>();
  }
  p.allow_out = strings(j, "allowOut", "");
  p.deny_out = strings(j, "denyOut", "");
  p.dns_servers = strings(j, "dnsServers", "");
  auto rules = j.find("rules");
  if (rules == j.end() || rules->is_null()) return p;
  if (!rules->is_array()) bad("rules", "expected an array");
  for (size_t i = 0; i < rules->size(); ++i) p.rules.push_back(parse_rule_json((*rules)[i], i, source));
  return p;
}

Rule parse_rule(std::string_view text_in) {
  return parse_rule_json(parse_json(text_in, "rule"), k_lone_rule, SecretSource::text);
}

void upsert_rule(Policy& p, Rule r) {
  auto it = std::find_if(p.rules.begin(), p.rules.end(), [&](const Rule& x) { return x.name == r.name; });
  if (it != p.rules.end())
    *it = std::move(r);
  else
    p.rules.push_back(std::move(r));
}

}  // namespace cube::egress
