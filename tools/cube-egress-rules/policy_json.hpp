// cube::egress policy_json — a Policy written back as camelCase JSON, in one of three forms that
// differ only in what stands for each inject's secret.
#pragma once

#include "json_writer.hpp"
#include "policy.hpp"

#include <string>

namespace cube::egress {

enum class SecretOutput {
  stored,    // "secretRef" only: the state file's policy column (secrets live in egress_secrets)
  redacted,  // "secret": "***REDACTED***" and "secretRef": show, export
  included,  // the secret itself and "secretRef": export --with-secrets only
};

void write_policy(json::Writer& w, const Policy& p, SecretOutput secrets);
std::string policy_json(const Policy& p, SecretOutput secrets);

}  // namespace cube::egress
