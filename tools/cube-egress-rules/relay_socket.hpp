// cube::egress relay_socket — the socket calls of the DNS relay: transparent listeners, the
// original destination of a redirected datagram, and a reply sent from a foreign address.
//
// Contract: every socket is non-blocking and close-on-exec; failures to create or bind throw
// Error(failed) naming the address, with the CAP_NET_ADMIN hint that IP_TRANSPARENT needs.
#pragma once

#include "fd.hpp"

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cube::egress {

sockaddr_in socket_address(uint32_t address, uint16_t port);  // host order in
uint32_t address_of(const sockaddr_in& a);                    // host order out
std::string text_of(const sockaddr_in& a);                    // "a.b.c.d:port"

// An IP_TRANSPARENT UDP socket bound to `at` that reports each datagram's original destination,
// or a listening IP_TRANSPARENT TCP socket.
Fd udp_listener(const sockaddr_in& at);
Fd tcp_listener(const sockaddr_in& at);

struct Datagram {
  size_t size = 0;
  sockaddr_in source{}, original{};
};
// One datagram into `buf`; nullopt when none is waiting (or it came without its original
// destination, which only a datagram that was not redirected lacks).
std::optional<Datagram> receive_redirected(int fd, std::span<uint8_t> buf);

// A UDP socket connected to `to` (the relay's own query), or an empty Fd with errno set.
Fd connected_udp(const sockaddr_in& to);
// A TCP connect to `to` begun; an empty Fd with errno set when it failed at once.
Fd connecting_tcp(const sockaddr_in& to);

// Sends `bytes` to `to` from `from`, an address that is not the node's: a socket bound there,
// which IP_TRANSPARENT permits. False (errno set) when it could not.
bool send_from(const sockaddr_in& from, const sockaddr_in& to, std::span<const uint8_t> bytes);

}  // namespace cube::egress
