#include "sha256.hpp"

#include "error.hpp"
#include "fd.hpp"
#include "fs.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <vector>

namespace cube {

namespace {
constexpr size_t k_block = 4 * 1024 * 1024;
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1)
    throw Error(Exit::failed, "cannot start a SHA-256 digest", "OpenSSL EVP initialisation failed");
}

void Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(m_ctx.get(), data, size) != 1) throw Error(Exit::failed, "SHA-256 update failed");
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(m_ctx.get(), md, &len) != 1) throw Error(Exit::failed, "SHA-256 final failed");
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
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
