// cube::cluster — where the cluster-level tables live (cube-state(5), "Two backends"): the choice
// and the redaction of its URL. No libpq here, so that every tool may include it; the store itself
// is cluster.hpp.
//
// Contract:
// - choose(): the --cluster flag, else $CUBE_CLUSTER_URL, else `[state] cluster` in the config
//   file; empty (or all unset) means the SQLite state file, exactly as before there was a choice.
//   A value that is not a postgresql:// (or postgres://) URL is Error(usage, exit 2), printed
//   redacted.
// - redacted(): the URL with the password of its user part, and any `password=` query parameter,
//   replaced by ***: the only form a URL is ever printed in (doc/conventions.md, "Secrets").
#pragma once

#include "config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cube::cluster {

inline constexpr std::string_view k_env = "CUBE_CLUSTER_URL";

struct Choice {
  std::string url;                                        // empty: the SQLite state file
  config::Source source = config::Source::default_value;  // flag, config or default (env counts as flag)
};

// `flag` is --cluster's value (empty when not given; cube-sched, cube-versions and cube-rootfs
// declare it).
Choice choose(std::string_view flag, const config::Config& cfg);

bool is_postgresql(std::string_view url);
std::string redacted(std::string_view url);

// Every password a URL carries (its user part's and each password= parameter's), as the URL
// spells it (what libpq echoes when it quotes the URL) and percent-decoded, longest first so that
// cutting them out of a text leaves no piece of one behind; none empty. Error messages from libpq
// are scrubbed of them before they are printed.
std::vector<std::string> secrets_of(std::string_view url);

}  // namespace cube::cluster
