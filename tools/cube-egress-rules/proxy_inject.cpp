#include "proxy_inject.hpp"

#include "ipv4.hpp"

#include <openssl/crypto.h>

namespace cube::egress {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view k_placeholder = "${SECRET}";

std::string render(const std::optional<std::string>& format, std::string_view secret) {
  std::string f = format && !format->empty() ? *format : std::string(k_placeholder);
  size_t at = f.find(k_placeholder);
  if (at == std::string::npos) return f;
  std::string out;
  out.reserve(f.size() + secret.size());
  out.append(f, 0, at).append(secret).append(f, at + k_placeholder.size());
  return out;
}

}  // namespace

void strip_injected(http::fields& h, const CompiledRule& rule) {
  for (const auto& in : rule.inject) h.erase(in.header);
}

InjectOutcome apply_injects(http::fields& h, const CompiledRule& rule, const SecretStore* secrets) {
  InjectOutcome out;
  for (const auto& in : rule.inject) {
    auto secret = secrets ? secrets->find(in.secret_ref) : std::nullopt;
    if (in.header.empty() || !secret || secret->empty()) {
      out.skipped_reason = "secret_missing_in_policy";
      continue;
    }
    std::string value = render(in.format, *secret);
    h.set(in.header, value);
    cleanse(value);
    out.injected.push_back(in.header);
    out.secret_ids.push_back(in.secret_ref);
  }
  return out;
}

void scrub(http::fields& h, const std::vector<std::string>& headers) {
  for (const auto& name : headers) {
    auto it = h.find(name);  // set() left one field of the name
    if (it == h.end()) continue;
    auto v = it->value();
    // Beast owns the bytes and gives a const view; they are ours to overwrite before the free.
    OPENSSL_cleanse(const_cast<char*>(v.data()), v.size());
  }
}

void set_forwarding(http::fields& h, const std::string& scheme, const std::optional<std::string>& sni, uint32_t dst) {
  if (scheme == "https") {
    if (sni)
      h.set(http::field::host, *sni);
    else if (h.find(http::field::host) == h.end())
      h.set(http::field::host, ipv4::format(dst));
  }
  h.erase("X-Forwarded-For");
  h.erase("X-Real-IP");
  h.erase(http::field::forwarded);
  h.set("X-Forwarded-Proto", scheme);
}

}  // namespace cube::egress
