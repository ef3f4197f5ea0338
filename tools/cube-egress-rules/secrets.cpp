#include "secrets.hpp"

#include "error.hpp"
#include "log.hpp"
#include "sha256.hpp"

namespace cube::egress {

std::string secret_ref(std::string_view secret) { return "fp-" + sha256_hex(secret).substr(0, 8); }

std::string_view redacted() { return log::k_redacted; }

void check_secret(std::string_view secret, std::string_view field) {
  if (secret.empty()) throw Error(Exit::usage, fmt::format("{}: empty secret", field));
  if (secret.size() > k_max_secret)
    throw Error(Exit::usage, fmt::format("{}: secret of {} bytes", field, secret.size()),
                fmt::format("the limit is {} bytes", k_max_secret));
  if (secret.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos)
    throw Error(Exit::usage, fmt::format("{}: secret contains NUL, CR or LF", field),
                "it is sent as an HTTP header value");
  if (secret == redacted())
    throw Error(Exit::usage, fmt::format("{}: secret is the redaction marker {}", field, redacted()), "",
                "export with --with-secrets to move secrets between state files");
}

}  // namespace cube::egress
