#include "cluster_url.hpp"

#include "error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

namespace cube::cluster {
namespace {

constexpr std::string_view k_password_key = "password=";

// The user part of a URL (before the last '@' of its authority), as [begin, end) in `url`.
std::pair<size_t, size_t> userinfo(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {0, 0};
  size_t begin = scheme + 3;
  size_t end = url.find_first_of("/?#", begin);
  std::string_view authority = url.substr(begin, end == std::string_view::npos ? end : end - begin);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {0, 0};
  return {begin, begin + at};
}

// Where the password= values sit: each [begin, end) after a "password=" that starts a parameter
// (after '?', '&', white space or at the start, as in a keyword/value connection string).
std::vector<std::pair<size_t, size_t>> password_params(std::string_view url) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t at = url.find(k_password_key); at != std::string_view::npos; at = url.find(k_password_key, at + 1)) {
    if (at > 0 && url[at - 1] != '?' && url[at - 1] != '&' && url[at - 1] != ' ') continue;
    size_t begin = at + k_password_key.size();
    size_t end = url.find_first_of("& #", begin);
    out.emplace_back(begin, end == std::string_view::npos ? url.size() : end);
  }
  return out;
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      char* end = nullptr;
      long v = std::strtol(hex, &end, 16);
      if (end == hex + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

bool is_postgresql(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

std::string redacted(std::string_view url) {
  std::string out(url);
  // Right to left, so that earlier positions stay valid.
  auto params = password_params(url);
  for (auto it = params.rbegin(); it != params.rend(); ++it) out.replace(it->first, it->second - it->first, "***");
  auto [begin, end] = userinfo(out);
  if (size_t colon = out.find(':', begin); end > begin && colon < end) out.replace(colon + 1, end - colon - 1, "***");
  return out;
}

std::vector<std::string> secrets_of(std::string_view url) {
  std::vector<std::string> out;
  auto add = [&](std::string_view written) {
    for (std::string secret : {std::string(written), percent_decoded(written)})
      if (!secret.empty() && std::find(out.begin(), out.end(), secret) == out.end()) out.push_back(secret);
  };
  auto [begin, end] = userinfo(url);
  if (size_t colon = url.find(':', begin); end > begin && colon < end) add(url.substr(colon + 1, end - colon - 1));
  for (auto [first, last] : password_params(url)) add(url.substr(first, last - first));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

Choice choose(std::string_view flag, const config::Config& cfg) {
  Choice c;
  if (!flag.empty()) {
    c = {std::string(flag), config::Source::flag};
  } else if (const char* env = std::getenv(std::string(k_env).c_str()); env && *env) {
    c = {env, config::Source::flag};
  } else {
    config::Settings settings(cfg, "state");
    c.url = settings.text("cluster", "");
    c.source = settings.entries().back().source;
  }
  if (!c.url.empty() && !is_postgresql(c.url))
    throw Error(Exit::usage, fmt::format("cluster URL '{}' is not a PostgreSQL URL", redacted(c.url)),
                "it must start with postgresql://",
                fmt::format("set [state] cluster, ${} or leave both unset for the state file alone", k_env));
  return c;
}

}  // namespace cube::cluster
