#include "request.hpp"

#include "error.hpp"
#include "ids.hpp"
#include "quantity.hpp"
#include "units.hpp"

#include <nlohmann/json.hpp>

namespace cube::sched {
namespace {

std::map<std::string, std::string> annotation_map(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(Exit::usage, fmt::format("invalid --annotation '{}'", item.substr(0, 80)), "expected KEY=VALUE");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::string string_field(const nlohmann::json& v, std::string_view name) {
  if (!v.is_string()) throw Error(Exit::usage, fmt::format("request field \"{}\" must be a string", name));
  return v.get<std::string>();
}

int64_t checked_mem(const std::string& text, std::string_view what) {
  uint64_t mem = units::parse_size(text, what);
  if (mem == 0) throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, text), "expected a positive size");
  return static_cast<int64_t>(mem);
}

}  // namespace

void check_label_value(std::string_view value, std::string_view what) {
  bool ok = value.size() <= 63;
  for (char c : value) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    throw Error(Exit::usage, fmt::format("invalid {} '{}'", what, value.substr(0, 80)),
                "expected at most 63 bytes of letters, digits, '.', '_' and '-'");
}

Request build_request(const RequestText& text, const std::vector<std::string>& extra_keys) {
  Request r;
  r.cpu_m = parse_millicores(text.cpu, "--cpu");
  r.mem = checked_mem(text.mem, "--mem");
  if (!text.instance_type.empty()) check_label_value(text.instance_type, "--instance-type");
  r.instance_type = text.instance_type;
  if (!text.sandbox.empty()) ids::check(text.sandbox, "sandbox ID");
  r.sandbox = text.sandbox;
  r.requirements =
      requirements_from(annotation_map(text.annotations), text.selector ? &*text.selector : nullptr, extra_keys);
  return r;
}

Request parse_request_line(std::string_view line, const std::vector<std::string>& extra_keys,
                           std::string* template_id) {
  if (line.size() > k_max_request_line)
    throw Error(Exit::usage, fmt::format("request line is {} bytes", line.size()),
                fmt::format("the limit is {}", k_max_request_line));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(Exit::usage, fmt::format("request line is not valid JSON: syntax error at byte {}", e.byte));
  } catch (const nlohmann::json::exception&) {  // 1e999: a number no double holds
    throw Error(Exit::usage, "request line is not valid JSON: a number out of range");
  }
  if (!doc.is_object()) throw Error(Exit::usage, "request line is not a JSON object");
  RequestText t;
  std::map<std::string, std::string> annotations;
  for (const auto& [key, v] : doc.items()) {
    if (key == "cpu")
      t.cpu = v.is_number_integer() ? std::to_string(v.get<int64_t>()) : string_field(v, key);
    else if (key == "mem")
      t.mem = v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : string_field(v, key);
    else if (key == "instance_type")
      t.instance_type = string_field(v, key);
    else if (key == "sandbox")
      t.sandbox = string_field(v, key);
    else if (key == "template")
      t.template_id = string_field(v, key);
    else if (key == "selector")
      t.selector = v.is_string() ? v.get<std::string>() : v.dump();
    else if (key == "annotations" && v.is_object())
      for (const auto& [k, a] : v.items()) t.annotations.push_back(k + "=" + string_field(a, "annotations." + k));
    else
      throw Error(Exit::usage, fmt::format("request has an unknown field \"{}\"", key.substr(0, 80)),
                  "known: cpu, mem, instance_type, selector, annotations, sandbox, template");
  }
  if (t.cpu.empty() || t.mem.empty()) throw Error(Exit::usage, "request needs \"cpu\" and \"mem\"");
  if (template_id) *template_id = t.template_id;
  return build_request(t, extra_keys);
}

}  // namespace cube::sched
