#include "fd_request.hpp"

#include "json_writer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cube::tap {

std::optional<FdRequest> parse_request(std::string_view text) {
  if (text.size() > k_max_request) return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto id = j.find("sandboxId");
  auto name = j.find("name");
  if (id == j.end() || !id->is_string()) return std::nullopt;
  if (name != j.end() && !name->is_string() && !name->is_null()) return std::nullopt;
  FdRequest r;
  r.sandbox_id = id->get<std::string>();
  if (name != j.end() && name->is_string()) r.name = name->get<std::string>();
  return r;
}

Completeness request_completeness(std::string_view text) {
  try {
    auto parsed = nlohmann::json::parse(text);
    (void)parsed;
    return Completeness::complete;
  } catch (const nlohmann::json::parse_error& e) {
    // An error past the last byte is the end of input arriving early: more may come.
    return e.byte > text.size() ? Completeness::partial : Completeness::invalid;
  } catch (const nlohmann::json::exception&) {  // 1e999: a number no double holds
    return Completeness::invalid;
  }
}

std::string render_request(const FdRequest& r) {
  json::Writer w;
  w.begin_object();
  w.key("name");
  w.value(r.name);
  w.key("sandboxId");
  w.value(r.sandbox_id);
  w.end_object();
  return w.take();
}

std::string render_success(int ifindex) {
  return fmt::format(R"({{"errCode":"0","errMsg":"Success","ifindex":{}}})", ifindex);
}

std::string render_error(std::string_view code, std::string_view message) {
  json::Writer w;
  w.begin_object();
  w.key("errCode");
  w.value(code);
  w.key("errMsg");
  w.value(message);
  w.end_object();
  return w.take();
}

std::optional<FdReply> parse_reply(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto code = j.find("errCode");
  auto msg = j.find("errMsg");
  if (code == j.end() || !code->is_string() || msg == j.end() || !msg->is_string()) return std::nullopt;
  FdReply r{code->get<std::string>(), msg->get<std::string>(), 0};
  if (auto ifi = j.find("ifindex"); ifi != j.end() && ifi->is_number_integer()) r.ifindex = ifi->get<int>();
  return r;
}

}  // namespace cube::tap
