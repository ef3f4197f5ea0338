// cube::egress proxy_http_redact — what an audit line may show of a request's headers and bodies
// (doc/cube-egress-rules.md "Audit log").
//
// Contract:
// - redact_header(): names compare lower-cased. authorization and proxy-authorization →
//   "<redacted:Scheme>" (the first token, first letter upper-cased, the rest lower-cased; "raw"
//   for a single token, "unknown" when blank); cookie and set-cookie → "<redacted; names=a,b>"
//   (the cookie names only) or "<redacted>" when none parse; x-api-key, x-auth-token, api-key,
//   token → "<redacted>"; any other name containing token, secret, key, password, credential or
//   auth → "<redacted>" (over-broad on purpose: keyboard, monkey). Any other value passes as is.
// - redact_body(): a body cut at `max` bytes. JSON that parses is returned as JSON with the value
//   of every key that redact_header would hide replaced by "<redacted>", at any depth. Text that
//   looks like JSON but does not parse (cut short, broken) is not shown: a string
//   "<unparsed json: N bytes>". Anything else is returned as a JSON string of the text.
//   The result is one JSON value, ready to embed.
#pragma once

#include <string>
#include <string_view>

namespace cube::egress {

// Whether a header or JSON key of this name is hidden whole.
bool sensitive_name(std::string_view name);
std::string redact_header(std::string_view name, std::string_view value);
std::string redact_body(std::string_view body, size_t max);

}  // namespace cube::egress
