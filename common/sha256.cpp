#include "sha256.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"

#include <fmt/format.h>
// The low-level SHA256_* calls, deprecated in OpenSSL 3 in favour of EVP, run the same assembly
// without EVP's first-use initialisation: that loads openssl.cnf and the providers, about 2 ms and
// 80 page faults, which every short command that hashes a few bytes (a policy's chain comment, a
// version stamp) paid at start.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <fcntl.h>
#include <vector>

namespace cube {

namespace {
constexpr size_t k_block = 4 * 1024 * 1024;
}

struct Sha256::State : SHA256_CTX {};

void Sha256::Free::operator()(State* s) const { delete s; }

Sha256::Sha256() : m_state(new State) { SHA256_Init(m_state.get()); }

void Sha256::update(const void* data, size_t size) { SHA256_Update(m_state.get(), data, size); }

std::string Sha256::hex() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, m_state.get());
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = k_hex[md[i] >> 4];
    out[2 * i + 1] = k_hex[md[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string sha256_file(const std::string& path) {
  Fd fd = fs::open_regular(path);
  std::vector<char> buf(k_block);
  Sha256 h;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error(errno, fmt::format("cannot read {}", path));
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  return h.hex();
}

}  // namespace cube
