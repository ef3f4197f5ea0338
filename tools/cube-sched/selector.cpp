#include "selector.hpp"

#include "error.hpp"
#include "labels.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace cube::sched {
namespace {

constexpr std::array<std::pair<std::string_view, Op>, 6> k_ops = {{
    {"In", Op::in},
    {"NotIn", Op::not_in},
    {"Exists", Op::exists},
    {"DoesNotExist", Op::does_not_exist},
    {"Gt", Op::gt},
    {"Lt", Op::lt},
}};

[[noreturn]] void bad(size_t index, const std::string& what, const std::string& why = {}) {
  throw Error(Exit::usage, fmt::format("node selector: selector[{}]: {}", index, what), why);
}

std::string allowed_keys_text(const std::vector<std::string>& extra) {
  std::vector<std::string> keys;
  for (auto [alias, full] : k_canonical_labels) keys.emplace_back(alias);
  keys.insert(keys.end(), extra.begin(), extra.end());
  return fmt::format("allowed: {} (or the full kubernetes.io names)", fmt::join(keys, ", "));
}

std::string checked_key(const nlohmann::json& item, size_t i, const std::vector<std::string>& extra) {
  auto it = item.find("key");
  if (it == item.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    bad(i, "\"key\" must be a non-empty string");
  const std::string& key = it->get_ref<const std::string&>();
  std::string full(full_label_key(key));
  if (!is_canonical_label(full) && std::find(extra.begin(), extra.end(), key) == extra.end())
    bad(i, fmt::format("node selector key \"{}\" is not allowed", key), allowed_keys_text(extra));
  return full;
}

Op checked_op(const nlohmann::json& item, size_t i) {
  auto it = item.find("operator");
  if (it == item.end() || !it->is_string()) bad(i, "\"operator\" must be a string");
  const std::string& name = it->get_ref<const std::string&>();
  for (auto [n, op] : k_ops)
    if (name == n) return op;
  bad(i, fmt::format("unsupported operator \"{}\"", name), "expected In, NotIn, Exists, DoesNotExist, Gt or Lt");
}

std::vector<std::string> checked_values(const nlohmann::json& item, size_t i, Op op) {
  std::vector<std::string> values;
  auto it = item.find("values");
  if (it != item.end() && !it->is_null()) {
    if (!it->is_array()) bad(i, "\"values\" must be an array of strings");
    size_t n = it->size();
    bool set_op = op == Op::in || op == Op::not_in;
    if (set_op && n > k_max_values)
      bad(i, fmt::format("{} has {} values", op_name(op), n), fmt::format("the limit is {}", k_max_values));
    for (const auto& v : *it) {
      if (!v.is_string()) bad(i, "\"values\" must be an array of strings");
      values.push_back(v.get<std::string>());
    }
  }
  size_t n = values.size();
  if ((op == Op::in || op == Op::not_in) && n == 0)
    bad(i, fmt::format("{} needs 1 to {} values", op_name(op), k_max_values));
  if ((op == Op::exists || op == Op::does_not_exist) && n != 0)
    bad(i, fmt::format("{} takes no values (got {})", op_name(op), n));
  if ((op == Op::gt || op == Op::lt) && n != 1)
    bad(i, fmt::format("{} needs exactly one value (got {})", op_name(op), n));
  return values;
}

Requirement colon_list(std::string_view annotation, const std::string& text, std::string_view key) {
  Requirement r{std::string(key), Op::in, {}, fmt::format("annotation {}", annotation)};
  if (text.size() > k_max_selector_bytes)
    throw Error(Exit::usage, fmt::format("annotation {} is {} bytes", annotation, text.size()),
                fmt::format("the limit is {}", k_max_selector_bytes));
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(':', start), text.size());
    if (end > start) r.values.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (r.values.empty() || r.values.size() > k_max_values)
    throw Error(Exit::usage, fmt::format("annotation {} has {} values", annotation, r.values.size()),
                fmt::format("expected 1 to {}, colon-separated", k_max_values));
  return r;
}

}  // namespace

std::string_view op_name(Op op) {
  for (auto [n, o] : k_ops)
    if (o == op) return n;
  return "?";
}

std::vector<Requirement> parse_selector(std::string_view text, const std::vector<std::string>& extra_keys) {
  if (text.size() > k_max_selector_bytes)
    throw Error(Exit::usage, fmt::format("node selector is {} bytes", text.size()),
                fmt::format("the limit is {}", k_max_selector_bytes));
  static constexpr const char* k_shape = "expected [{\"key\": \"zone\", \"operator\": \"In\", \"values\": [\"a\"]}, …]";
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // NaN, a trailing word, a cut-off array: say where, not that the text is "not an array".
    throw Error(Exit::usage, fmt::format("node selector is not valid JSON: syntax error at byte {}", e.byte), k_shape);
  } catch (const nlohmann::json::exception&) {  // 1e999: a number no double holds
    throw Error(Exit::usage, "node selector is not valid JSON: a number out of range", k_shape);
  }
  if (!doc.is_array())
    throw Error(
        Exit::usage,
        fmt::format("node selector is not a JSON array but {} {}", doc.is_object() ? "an" : "a", doc.type_name()),
        k_shape);
  if (doc.size() > k_max_requirements)
    throw Error(Exit::usage, fmt::format("node selector has {} requirements", doc.size()),
                fmt::format("the limit is {}", k_max_requirements));
  std::vector<Requirement> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& item = doc[i];
    if (!item.is_object()) bad(i, "expected an object {key, operator, values}");
    Requirement r;
    r.key = checked_key(item, i, extra_keys);
    r.op = checked_op(item, i);
    r.values = checked_values(item, i, r.op);
    if ((r.op == Op::gt || r.op == Op::lt) && r.key != k_label_memory_size && r.key != k_label_cpu_cores)
      bad(i, fmt::format("{} on \"{}\", which is not a quantity", op_name(r.op), r.key),
          fmt::format("Gt and Lt compare quantities: use them on {} or {}", k_label_memory_size, k_label_cpu_cores));
    r.origin = fmt::format("selector[{}]", i);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Requirement> requirements_from(const std::map<std::string, std::string>& annotations,
                                           const std::string* selector_flag,
                                           const std::vector<std::string>& extra_keys) {
  std::vector<Requirement> out;
  auto find = [&](std::string_view name) -> const std::string* {
    auto it = annotations.find(std::string(name));
    return it == annotations.end() ? nullptr : &it->second;
  };
  if (const auto* v = find(k_annotation_cluster_label))
    out.push_back(colon_list(k_annotation_cluster_label, *v, k_label_cluster_id));
  if (const auto* v = find(k_annotation_instance_type))
    out.push_back(colon_list(k_annotation_instance_type, *v, k_label_instance_type));
  const std::string* selector = find(k_annotation_selector);
  if (selector && selector_flag)
    throw Error(Exit::usage, "both --selector and the com.nodeaffinity.selector annotation were given", "",
                "give one of them");
  if (selector_flag) selector = selector_flag;
  if (selector) {
    auto reqs = parse_selector(*selector, extra_keys);
    std::move(reqs.begin(), reqs.end(), std::back_inserter(out));
  }
  return out;
}

std::string describe(const Requirement& r) {
  std::string_view key = r.key;
  for (auto [alias, full] : k_canonical_labels)
    if (key == full) key = alias;
  if (r.values.empty()) return fmt::format("{} {}", key, op_name(r.op));
  if (r.op == Op::gt || r.op == Op::lt) return fmt::format("{} {} {}", key, op_name(r.op), r.values.front());
  return fmt::format("{} {} [{}]", key, op_name(r.op), fmt::join(r.values, ", "));
}

}  // namespace cube::sched
