// cube::tap fd server — `cube-tap serve`: a Unix stream socket that answers one JSON request per
// connection with a sandbox's TAP fd (fd_request.hpp has the protocol, fd_provider.hpp the tiers).
//
// One thread, epoll: a slow or silent client is cut off after the request timeout with an error
// and never delays another; a request over 4 KiB or not JSON gets 1001. Only peers whose uid or
// gid (SO_PEERCRED) is in the configured lists are served. The socket is created 0660 (its
// directory 0755), a stale one replaced; under systemd socket activation (LISTEN_FDS) the
// inherited socket is used instead.
#pragma once

#include "fd_provider.hpp"
#include "settings.hpp"

#include <atomic>
#include <functional>
#include <string>

namespace cube::tap {

struct ServeStats {
  uint64_t served = 0, refused = 0;
};

class FdServer {
 public:
  FdServer(FdProvider& provider, const Settings& settings);
  ~FdServer();
  // Serves until SIGTERM or SIGINT (which run() blocks and takes through a signalfd). `ready` is
  // called once the socket listens.
  ServeStats run(const std::function<void()>& ready);

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace cube::tap
