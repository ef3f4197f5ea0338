// cube::ids — identifiers that become file names, table keys and TAP names.
//
// Contract (doc/conventions.md "IDs"): sandbox, node and template IDs are path-safe — 1 to 128
// bytes of [A-Za-z0-9_-], so `.`, `/`, `\`, spaces and NUL are all refused. Validation throws
// Error(usage, exit 2) naming the kind of ID and the offending text. (cube-rootfs generates template
// IDs: doc/cube-rootfs.md, "Template IDs".)
#pragma once

#include <string>
#include <string_view>

namespace cube::ids {

inline constexpr size_t k_max_length = 128;

bool is_path_safe(std::string_view id);
// Throws Error(usage) unless is_path_safe; `kind` is "sandbox ID", "node ID", …
void check(std::string_view id, std::string_view kind);

// This node's ID when the config names none: the host name up to its first dot ("localhost" when
// it cannot be read). cube-versions reports under it and cube-rootfs knows its own store by it.
std::string default_node();

// 24 random lowercase hex digits (from /dev/urandom via std::random_device).
std::string random_hex24();

// A template ID as a user may give it on the command line: `tpl-` or `snap-` (case-sensitive) plus
// a non-empty, path-safe rest, after trimming white space. Returns the trimmed ID or throws.
std::string check_template_ref(std::string_view id);

}  // namespace cube::ids
