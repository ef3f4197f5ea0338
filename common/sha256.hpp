// cube::Sha256 — streaming SHA-256 over OpenSSL's own SHA-256 code (which uses the CPU's SHA
// instructions).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cube {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Lowercase hex of the digest; the object must not be updated afterwards.
  std::string hex();

 private:
  struct State;
  struct Free {
    void operator()(State* s) const;
  };
  std::unique_ptr<State, Free> m_state;
};

std::string sha256_hex(std::string_view data);
// Reads the file in 4 MiB blocks; throws Error naming the file on failure, or when it is not a
// regular file (fs::open_regular: a FIFO or a device would never end).
std::string sha256_file(const std::string& path);

}  // namespace cube
