// cube::tap fd protocol — one JSON request per Unix-socket connection, one reply, the TAP's fd in
// SCM_RIGHTS with a success:
//
//   request  {"sandboxId": "<id>", "name": "<tap or empty>"}           at most 4096 bytes
//   success  {"errCode":"0","errMsg":"Success","ifindex":<n>}          + the fd
//   errors   {"errCode":"1001","errMsg":"Parse json failed"}           malformed or oversized request
//            {"errCode":"1002","errMsg":"<why>"}                       lookup or open failed, or the
//                                                                      peer is not allowed
// The codes and texts are upstream's, so its clients work unchanged.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cube::tap {

inline constexpr size_t k_max_request = 4096;
inline constexpr std::string_view k_parse_failed = "1001";
inline constexpr std::string_view k_lookup_failed = "1002";

struct FdRequest {
  std::string sandbox_id;
  std::string name;
};

// nullopt when `text` is not a JSON object with a string sandboxId (and, if present, a string name).
std::optional<FdRequest> parse_request(std::string_view text);
// Whether `text` holds one whole JSON value (answer it now), may still become one (wait for more),
// or never can (answer 1001 now, without waiting for the rest or for the timeout).
enum class Completeness { complete, partial, invalid };
Completeness request_completeness(std::string_view text);
std::string render_request(const FdRequest& r);

struct FdReply {
  std::string code;
  std::string message;
  int ifindex = 0;
};
std::string render_success(int ifindex);
std::string render_error(std::string_view code, std::string_view message);
// nullopt on a reply that is not such an object.
std::optional<FdReply> parse_reply(std::string_view text);

}  // namespace cube::tap
