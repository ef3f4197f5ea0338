// cube::sysctl — read and write /proc/sys keys ("net.ipv4.ip_forward"). Under /proc/sys/net the
// values are those of the calling process's network namespace.
#pragma once

#include <string>
#include <string_view>

namespace cube::sysctl {

// The value without its trailing newline; throws Error(failed) naming the key.
std::string read(std::string_view key);
void write(std::string_view key, std::string_view value);

}  // namespace cube::sysctl
