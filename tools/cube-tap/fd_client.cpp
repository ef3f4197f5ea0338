#include "fd_client.hpp"

#include "error.hpp"
#include "fd_request.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace cube::tap {
namespace {

Fd connect_to(const std::string& path, int64_t timeout_ms) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw Error(Exit::usage, fmt::format("invalid --socket '{}'", path.substr(0, 80)));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw sys_error(errno, "creating a socket");
  timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>(timeout_ms % 1000 * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    throw Error(err == ENOENT || err == ECONNREFUSED ? Exit::not_found : Exit::failed,
                fmt::format("cannot reach cube-tap serve at {}", path), errno_text(err),
                err == ENOENT || err == ECONNREFUSED ? "is cube-tap serve running?" : errno_hint(err));
  }
  return fd;
}

Exit exit_for(const FdReply& r) {
  if (r.code == k_parse_failed) return Exit::usage;
  if (r.message.find("not found") != std::string::npos) return Exit::not_found;
  if (r.message.find("held by another process") != std::string::npos) return Exit::conflict;
  if (r.message.find("tap name mismatch") != std::string::npos) return Exit::usage;
  return Exit::failed;
}

}  // namespace

ReceivedFd request_fd(const std::string& socket, const std::string& sandbox, const std::string& name,
                      int64_t timeout_ms) {
  Fd sock = connect_to(socket, timeout_ms);
  std::string req = render_request({sandbox, name});
  if (::send(sock.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    throw sys_error(errno, fmt::format("sending the request to {}", socket));
  char buf[1024];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(sock.get(), &msg, MSG_CMSG_CLOEXEC);
  if (n < 0)
    throw Error(Exit::failed, fmt::format("no reply from {}", socket),
                errno == EAGAIN ? fmt::format("none within {} ms", timeout_ms) : errno_text(errno));
  ReceivedFd out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!out.fd)
        out.fd = Fd(fd);
      else
        ::close(fd);  // one fd is the protocol; more are closed, not leaked
    }
  }
  auto reply = parse_reply(std::string_view(buf, static_cast<size_t>(n)));
  if (!reply) throw Error(Exit::failed, fmt::format("unreadable reply from {}", socket));
  if (reply->code != "0") throw Error(exit_for(*reply), fmt::format("cube-tap serve: {}", reply->message));
  if (!out.fd) throw Error(Exit::failed, "cube-tap serve replied without an fd");
  out.ifindex = reply->ifindex;
  return out;
}

void exec_with_fd(ReceivedFd received, const std::vector<std::string>& argv) {
  if (argv.empty()) throw Error(Exit::usage, "--exec needs a command");
  int fd = received.fd.release();
  if (fd != 3) {
    if (::dup2(fd, 3) < 0) throw sys_error(errno, "moving the TAP fd to 3");
    ::close(fd);
  } else {
    ::fcntl(3, F_SETFD, 0);
  }
  ::setenv("CUBE_TAP_FD", "3", 1);
  ::setenv("CUBE_TAP_IFINDEX", std::to_string(received.ifindex).c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  throw sys_error(errno, fmt::format("running {}", argv[0]), errno == ENOENT ? Exit::not_found : Exit::failed);
}

}  // namespace cube::tap
