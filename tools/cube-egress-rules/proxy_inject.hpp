// cube::egress proxy_inject — credentials set on an allowed request, and the headers the proxy
// sets or removes on every request it forwards (doc/cube-egress-rules.md "The proxy").
//
// Contract:
// - strip_injected() removes every header a rule injects from the sandbox's request, whatever
//   the gates decide, so a forged one never reaches the upstream.
// - apply_injects() (only when the gates passed) sets each header to its format with the first
//   "${SECRET}" replaced by the secret, literally ("${SECRET}" when the format is absent or
//   empty; a format without the placeholder is sent as it is). A secret the store lacks is
//   skipped with reason secret_missing_in_policy. The outcome names headers and secret_refs only.
// - scrub() overwrites the values of the injected headers in place once they are written, so the
//   freed memory keeps no secret.
// - set_forwarding(): on https the Host sent upstream is the SNI (else the Host, else the
//   destination address); X-Forwarded-For, X-Real-IP and Forwarded are removed; X-Forwarded-Proto
//   is the scheme.
#pragma once

#include "matcher.hpp"
#include "proxy_inject_secrets.hpp"

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cube::egress {

struct InjectOutcome {
  std::vector<std::string> injected, secret_ids;
  std::string skipped_reason;  // empty when every inject was applied
};

void strip_injected(boost::beast::http::fields& h, const CompiledRule& rule);
InjectOutcome apply_injects(boost::beast::http::fields& h, const CompiledRule& rule, const SecretStore* secrets);
void scrub(boost::beast::http::fields& h, const std::vector<std::string>& headers);
void set_forwarding(boost::beast::http::fields& h, const std::string& scheme, const std::optional<std::string>& sni,
                    uint32_t dst);

}  // namespace cube::egress
