#include "request.hpp"

#include "error.hpp"
#include "ids.hpp"
#include "json_writer.hpp"
#include "sha256.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace cube::rootfs {
namespace {

using json = nlohmann::json;

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_cidr(const std::string& s) {
  size_t slash = s.find('/');
  std::string addr = s.substr(0, slash);
  if (!is_ip(addr)) return false;
  if (slash == std::string::npos) return true;
  std::string bits = s.substr(slash + 1);
  int max = addr.find(':') == std::string::npos ? 32 : 128;
  return !bits.empty() && bits.size() <= 3 && std::all_of(bits.begin(), bits.end(), ::isdigit) &&
         std::stoi(bits) <= max;
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A DNS name with at least two labels, an optional leading "*." and trailing dot; the last label
// is letters only (so an address is never taken for a name).
bool is_domain(std::string s) {
  if (s.starts_with("*.")) s = s.substr(2);
  if (s.ends_with(".")) s.pop_back();
  if (s.empty() || s.size() > 253) return false;
  size_t labels = 0, start = 0;
  std::string last;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string::npos) dot = s.size();
    std::string l = s.substr(start, dot - start);
    if (l.empty() || l.size() > 63 || !is_alnum(l.front()) || !is_alnum(l.back())) return false;
    for (char c : l)
      if (!is_alnum(c) && c != '-') return false;
    ++labels;
    last = l;
    start = dot + 1;
  }
  return labels >= 2 && last.size() >= 2 &&
         std::all_of(last.begin(), last.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

bool is_reference(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || std::strchr("._:/@-", c); });
}

bool has_env_key(const std::string& e) {
  size_t eq = e.find('=');
  if (eq == 0 || eq == std::string::npos || std::isdigit(static_cast<unsigned char>(e[0]))) return false;
  return std::all_of(e.begin(), e.begin() + static_cast<long>(eq), [](char c) { return is_alnum(c) || c == '_'; });
}

[[noreturn]] void bad(std::string what, std::string why = {}) {
  throw Error(Exit::usage, std::move(what), std::move(why));
}

}  // namespace

void normalise(TemplateRequest& r) {
  if (r.image.empty()) bad("IMAGE is empty");
  if (r.image[0] == '-' && r.image != "-") bad(fmt::format("image \"{}\" starts with '-'", r.image), "refused");
  if (r.pull) {
    if (r.image.starts_with("docker://")) r.image = r.image.substr(9);
    if (r.image.empty() || r.image[0] == '-' || !is_reference(r.image))
      bad(fmt::format("--pull reference \"{:.100}\" is not allowed", r.image),
          "a reference is letters, digits and . _ : / @ - and does not start with '-'");
  }
  if (!r.pull && (!r.registry_auth.empty() || !r.tls_verify || !r.cert_dir.empty()))
    bad("--registry-auth, --no-tls-verify and --cert-dir need --pull");
  // Paths that reach skopeo are absolute (the caller resolves them), so none reads as an option.
  for (const auto* p : {&r.registry_auth, &r.cert_dir})
    if (!p->empty() && (p->front() != '/' || p->find('\n') != std::string::npos))
      bad(fmt::format("path \"{:.100}\" is not absolute", *p));
  if (r.writable_layer_size == 0) bad("--writable-layer-size must be more than 0");
  std::sort(r.ports.begin(), r.ports.end());
  r.ports.erase(std::unique(r.ports.begin(), r.ports.end()), r.ports.end());
  for (int p : r.ports)
    if (p < 1 || p > 65535) bad(fmt::format("--expose {} is out of range", p), "ports are 1 to 65535");
  size_t custom = std::count_if(r.ports.begin(), r.ports.end(), [](int p) { return p != k_builtin_port; });
  if (custom > k_max_custom_ports)
    bad(fmt::format("{} ports exposed", custom),
        fmt::format("at most {} custom ports ({} is built in and does not count)", k_max_custom_ports, k_builtin_port));
  for (const auto& e : r.env)
    if (!has_env_key(e)) bad(fmt::format("--env \"{:.80}\" is not KEY=VALUE", e));
  for (const auto& d : r.dns)
    if (!is_ip(d)) bad(fmt::format("--dns \"{:.80}\" is not an IP address", d));
  bool has_domain = false;
  for (const auto& a : r.allow_out) {
    if (is_cidr(a)) continue;
    if (!is_domain(a)) bad(fmt::format("--allow-out \"{:.80}\" is neither a CIDR nor a domain", a));
    has_domain = true;
  }
  for (const auto& d : r.deny_out)
    if (!is_cidr(d)) bad(fmt::format("--deny-out \"{:.80}\" is not a CIDR", d));
  // A domain allow list is only meaningful when everything else is denied (doc/cube-rootfs.md,
  // "Requests").
  if (has_domain && !r.no_internet && std::find(r.deny_out.begin(), r.deny_out.end(), "0.0.0.0/0") == r.deny_out.end())
    bad("when specifying allowed domains in --allow-out, you must disable public outbound traffic",
        "add --no-internet or --deny-out 0.0.0.0/0");
  for (const auto& n : r.node_scope) ids::check(n, "node ID");
  ids::check(r.instance_type, "instance type");
  if (r.network_type != "tap" && r.network_type != "none")
    bad(fmt::format("--network-type \"{:.40}\" is unknown", r.network_type), "tap or none");
  if (r.safety_margin < 1.0) r.safety_margin = 1.5;  // upstream ignores values below 1
  for (const auto& t : r.targets) ids::check(t.node, "node ID");
}

std::string new_template_id() { return "tpl-" + ids::random_hex24(); }

Target parse_target(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    bad(fmt::format("--to \"{:.100}\" is not NODE=DIR", spec));
  Target t{spec.substr(0, eq), spec.substr(eq + 1), {}, false};
  ids::check(t.node, "node ID");
  return t;
}

std::string to_json(const TemplateRequest& r) {
  json j;
  j["template_id"] = r.template_id;
  j["image"] = r.image;
  j["pull"] = r.pull;
  j["registry_user"] = r.registry_user;
  j["registry_auth"] = r.registry_auth;
  j["tls_verify"] = r.tls_verify;
  j["cert_dir"] = r.cert_dir;
  j["store"] = r.store;
  j["work_dir"] = r.work_dir;
  j["instance_type"] = r.instance_type;
  j["network_type"] = r.network_type;
  j["writable_layer_size"] = r.writable_layer_size;
  j["exposed_ports"] = r.ports;
  j["env"] = r.env;
  j["cmd"] = r.cmd;
  j["dns"] = r.dns;
  j["allow_out"] = r.allow_out;
  j["deny_out"] = r.deny_out;
  j["allow_internet_access"] = !r.no_internet;
  j["node_scope"] = r.node_scope;
  j["add_files"] = json::array();
  for (const auto& a : r.add_files) j["add_files"].push_back({{"src", a.src}, {"dest", a.dest}, {"mode", a.mode}});
  j["ca_path"] = r.ca_path;
  j["ca_fingerprint"] = r.ca_fingerprint;
  j["dedup_hardlink"] = r.dedup_hardlink;
  j["size"] = r.size;
  j["headroom"] = r.headroom;
  j["max_entries"] = r.max_entries;
  j["safety_margin"] = r.safety_margin;
  j["seccomp"] = r.seccomp;
  j["targets"] = json::array();
  for (const auto& t : r.targets) j["targets"].push_back({{"node", t.node}, {"dir", t.dir}});
  j["via"] = r.via;
  return j.dump();
}

TemplateRequest request_from_json(std::string_view text) {
  json j = json::parse(text);
  TemplateRequest r;
  r.template_id = j.value("template_id", "");
  r.image = j.value("image", "");
  r.pull = j.value("pull", false);
  r.registry_user = j.value("registry_user", "");
  r.registry_auth = j.value("registry_auth", "");
  r.tls_verify = j.value("tls_verify", true);
  r.cert_dir = j.value("cert_dir", "");
  r.store = j.value("store", "");
  r.work_dir = j.value("work_dir", "");
  r.instance_type = j.value("instance_type", "cubebox");
  r.network_type = j.value("network_type", "tap");
  r.writable_layer_size = j.value("writable_layer_size", uint64_t(0));
  r.ports = j.value("exposed_ports", std::vector<int>{});
  r.env = j.value("env", std::vector<std::string>{});
  r.cmd = j.value("cmd", std::vector<std::string>{});
  r.dns = j.value("dns", std::vector<std::string>{});
  r.allow_out = j.value("allow_out", std::vector<std::string>{});
  r.deny_out = j.value("deny_out", std::vector<std::string>{});
  r.no_internet = !j.value("allow_internet_access", true);
  r.node_scope = j.value("node_scope", std::vector<std::string>{});
  for (const auto& a : j.value("add_files", json::array()))
    r.add_files.push_back({a.value("src", ""), a.value("dest", ""), a.value("mode", 0644u)});
  r.ca_path = j.value("ca_path", "");
  r.ca_fingerprint = j.value("ca_fingerprint", "");
  r.dedup_hardlink = j.value("dedup_hardlink", false);
  r.size = j.value("size", "model");
  r.headroom = j.value("headroom", uint64_t(0));
  r.max_entries = j.value("max_entries", uint64_t(2'000'000));
  r.safety_margin = j.value("safety_margin", 1.5);
  r.seccomp = j.value("seccomp", true);
  for (const auto& t : j.value("targets", json::array()))
    r.targets.push_back({t.value("node", ""), t.value("dir", ""), {}, false});
  r.via = j.value("via", "");
  return r;
}

std::string spec_fingerprint(const TemplateRequest& r, std::string_view source_digest) {
  cube::json::Writer w;
  w.begin_object();
  w.field("source_image_digest", source_digest);
  w.field("writable_layer_size", r.writable_layer_size);
  if (!r.ports.empty()) {
    w.key("exposed_ports");
    w.begin_array();
    for (int p : r.ports) w.value(p);
    w.end_array();
  }
  w.field("instance_type", r.instance_type);
  w.field("network_type", r.network_type);
  // The container overrides that change the artifact: extra files (by content), dedup, sizing.
  if (!r.env.empty() || !r.cmd.empty() || !r.add_files.empty() || r.dedup_hardlink || r.size != "model") {
    w.key("container_overrides");
    w.begin_object();
    w.key("env");
    w.begin_array();
    for (const auto& e : r.env) w.value(e);
    w.end_array();
    w.key("cmd");
    w.begin_array();
    for (const auto& c : r.cmd) w.value(c);
    w.end_array();
    w.key("add_files");
    w.begin_array();
    for (const auto& a : r.add_files) w.value(fmt::format("{}:{:o}:{}", a.dest, a.mode, sha256_file(a.src)));
    w.end_array();
    w.field("dedup_hardlink", r.dedup_hardlink);
    w.field("size", fmt::format("{}+{}", r.size, r.headroom));
    w.end_object();
  }
  if (!r.ca_fingerprint.empty()) w.field("cube_egress_ca_fingerprint", r.ca_fingerprint);
  w.end_object();
  return sha256_hex(w.str());
}

}  // namespace cube::rootfs
