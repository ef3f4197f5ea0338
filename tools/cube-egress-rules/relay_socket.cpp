#include "relay_socket.hpp"

#include "error.hpp"
#include "ipv4.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace cube::egress {
namespace {

void set_option(int fd, int level, int name, const sockaddr_in& at, const char* what) {
  int one = 1;
  if (::setsockopt(fd, level, name, &one, sizeof one) != 0)
    throw sys_error(errno, fmt::format("setting {} on the socket for {}", what, text_of(at)));
}

Fd transparent(int type, const sockaddr_in& at) {
  Fd fd(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw sys_error(errno, "creating a socket");
  set_option(fd.get(), SOL_IP, IP_TRANSPARENT, at, "IP_TRANSPARENT");
  set_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, at, "SO_REUSEADDR");
  return fd;
}

void bind_to(int fd, const sockaddr_in& at) {
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
    throw sys_error(errno, fmt::format("binding {}", text_of(at)));
}

}  // namespace

sockaddr_in socket_address(uint32_t address, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(address);
  a.sin_port = htons(port);
  return a;
}

uint32_t address_of(const sockaddr_in& a) { return ntohl(a.sin_addr.s_addr); }

std::string text_of(const sockaddr_in& a) {
  return fmt::format("{}:{}", ipv4::format(address_of(a)), ntohs(a.sin_port));
}

Fd udp_listener(const sockaddr_in& at) {
  Fd fd = transparent(SOCK_DGRAM, at);
  set_option(fd.get(), SOL_IP, IP_RECVORIGDSTADDR, at, "IP_RECVORIGDSTADDR");
  bind_to(fd.get(), at);
  return fd;
}

Fd tcp_listener(const sockaddr_in& at) {
  Fd fd = transparent(SOCK_STREAM, at);
  bind_to(fd.get(), at);
  if (::listen(fd.get(), 128) != 0) throw sys_error(errno, fmt::format("listening on {}", text_of(at)));
  return fd;
}

std::optional<Datagram> receive_redirected(int fd, std::span<uint8_t> buf) {
  for (;;) {
    Datagram d;
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sockaddr_in))];
    msghdr msg{};
    msg.msg_name = &d.source;
    msg.msg_namelen = sizeof d.source;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    bool found = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR) {
        std::memcpy(&d.original, CMSG_DATA(c), sizeof d.original);
        found = true;
      }
    }
    // A truncated datagram is no DNS message the relay could forward whole.
    if (!found || (msg.msg_flags & MSG_TRUNC)) continue;
    d.size = static_cast<size_t>(n);
    return d;
  }
}

Fd connected_udp(const sockaddr_in& to) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fd.reset();
  return fd;
}

Fd connecting_tcp(const sockaddr_in& to) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
    fd.reset();
  return fd;
}

bool send_from(const sockaddr_in& from, const sockaddr_in& to, std::span<const uint8_t> bytes) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  if (!fd || ::setsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0)
    return false;
  return ::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
         static_cast<ssize_t>(bytes.size());
}

}  // namespace cube::egress
