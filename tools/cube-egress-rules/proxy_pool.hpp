// cube::egress proxy_pool — upstream connections kept open between the requests that use them, so
// a sandbox that opens a connection per request (most HTTP clients with `Connection: close`, every
// short-lived tool) does not also cost a TCP and TLS handshake with the upstream each time.
//
// Contract (doc/cube-egress-rules.md "Kept upstream connections"):
// - A connection is parked under a key naming the sandbox (its id and source address), the
//   original destination and, for TLS, the SNI its certificate was verified against: one sandbox's
//   connection never carries another sandbox's requests, nor a request for another name.
// - take() hands back the most recently parked connection of the key that is still open (a peek
//   finds neither data nor its end), or nothing. A connection parked longer than k_idle_ms is
//   closed. A park that would give its sandbox more than k_max_per_sandbox closes that sandbox's
//   oldest, so no sandbox's connections push out another's while fewer than
//   k_max_parked / k_max_per_sandbox sandboxes share the pool; past k_max_parked in all, the
//   oldest goes. Times are of a clock that never steps (time::steady_ms).
// - Thread-safe. A parked stream is the pool's alone; a taken one its taker's alone, who may run on
//   another strand than the one that made it: nothing of the stream may be pending when it is
//   parked (Session::settle_upstream in proxy_http.cpp says how that is known).
#pragma once

#include "proxy_upstream.hpp"

#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cerrno>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

namespace cube::egress {

// Whether a kept connection is still worth a request: nothing to read (a response nobody asked for,
// a TLS alert or close_notify) and no end from the peer; for TLS, also nothing that OpenSSL holds
// already read off the socket.
inline bool idle_and_open(int fd) {
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
inline bool idle_and_open(boost::beast::tcp_stream& s) { return idle_and_open(s.socket().native_handle()); }
inline bool idle_and_open(TlsStream& s) {
  SSL* ssl = s.native_handle();
  return SSL_pending(ssl) == 0 && BIO_ctrl_pending(SSL_get_rbio(ssl)) == 0 &&
         idle_and_open(boost::beast::get_lowest_layer(s).socket().native_handle());
}

template <class Stream>
class UpstreamPool {
 public:
  static constexpr int64_t k_idle_ms = 10'000;  // well under the usual servers' keep-alive (nginx 75 s)
  static constexpr size_t k_max_parked = 256;
  static constexpr size_t k_max_per_sandbox = 32;

  std::optional<Stream> take(const std::string& key, int64_t now_ms) {
    std::vector<Stream> dead;  // closed outside the lock
    std::lock_guard lock(m_mutex);
    for (auto it = m_parked.end(); it != m_parked.begin();) {
      --it;
      if (it->key != key) continue;
      bool usable = now_ms - it->since_ms < k_idle_ms && idle_and_open(it->stream);
      Stream s = std::move(it->stream);
      it = m_parked.erase(it);
      if (usable) return std::optional<Stream>(std::move(s));
      dead.push_back(std::move(s));
    }
    return std::nullopt;
  }

  // `key` names `sandbox` among other things (proxy_http.cpp's pool_key).
  void park(std::string sandbox, std::string key, Stream stream, int64_t since_ms) {
    std::optional<Stream> evicted;  // closed outside the lock
    std::lock_guard lock(m_mutex);
    auto victim = oldest_of(sandbox);
    if (victim == m_parked.end() && m_parked.size() >= k_max_parked) victim = m_parked.begin();
    if (victim != m_parked.end()) {
      evicted.emplace(std::move(victim->stream));
      m_parked.erase(victim);
    }
    m_parked.push_back(Parked{std::move(sandbox), std::move(key), std::move(stream), since_ms});
  }

  // Closes the connections idle too long; called once a second.
  void sweep(int64_t now_ms) {
    std::vector<Stream> expired;
    std::lock_guard lock(m_mutex);
    for (auto it = m_parked.begin(); it != m_parked.end();) {
      if (now_ms - it->since_ms < k_idle_ms) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->stream));
      it = m_parked.erase(it);
    }
  }

  size_t parked() const {
    std::lock_guard lock(m_mutex);
    return m_parked.size();
  }

 private:
  struct Parked {
    std::string sandbox;
    std::string key;
    Stream stream;
    int64_t since_ms;
  };

  // The sandbox's oldest parked connection when it holds its whole share, else end(). Under m_mutex.
  typename std::list<Parked>::iterator oldest_of(const std::string& sandbox) {
    auto oldest = m_parked.end();
    size_t held = 0;
    for (auto it = m_parked.begin(); it != m_parked.end(); ++it) {
      if (it->sandbox != sandbox) continue;
      if (held++ == 0) oldest = it;
    }
    return held >= k_max_per_sandbox ? oldest : m_parked.end();
  }

  mutable std::mutex m_mutex;
  std::list<Parked> m_parked;  // in the order they were parked (a list: streams cannot be move-assigned)
};

// The pools of a serve run: plain HTTP (port 80) and decrypted TLS connections.
struct UpstreamPools {
  UpstreamPool<boost::beast::tcp_stream> http;
  UpstreamPool<TlsStream> tls;
  void sweep(int64_t now_ms) {
    http.sweep(now_ms);
    tls.sweep(now_ms);
  }
};

}  // namespace cube::egress
