// cube::egress::dns — the few parts of a DNS message (RFC 1035) the DNS relay reads: the header, the
// questions and the answer section, with names decompressed. Messages come from the network, so
// everything is bounds-checked and nothing here can loop.
//
// Contract:
// - parse() reads the header, every question and every answer record; the authority and additional
//   sections are not read. Anything malformed (a count past the end, a name or record cut short, a
//   label over 63 bytes, a name over 255, a compression pointer that does not point strictly
//   backwards, which is what makes a loop impossible) gives nullopt, never an exception.
// - Names come out lower-cased, labels joined by '.', without a trailing dot ("" is the root). A
//   label holding a '.' or a byte outside printable ASCII makes the message unparsable: such a name
//   could be read as another one.
// - An A record carries its address (host order); a CNAME its target; other types only their name,
//   type and TTL.
// - a_records() follows the CNAME chain from a name through the answer section (at most
//   k_max_cname_hops) and returns the A records of every name on it, each with the smallest TTL met
//   on the way, so that nothing is remembered longer than any link of the chain.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cube::egress::dns {

inline constexpr size_t k_header_size = 12;
inline constexpr size_t k_max_name = 255;  // wire bytes, RFC 1035 §2.3.4
inline constexpr size_t k_max_cname_hops = 8;
inline constexpr uint16_t k_type_a = 1, k_type_cname = 5, k_class_in = 1;

struct Header {
  uint16_t id = 0, flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  bool response() const { return flags & 0x8000; }
  bool truncated() const { return flags & 0x0200; }
  uint8_t rcode() const { return flags & 0xF; }
};

struct Question {
  std::string name;
  uint16_t type = 0, klass = 0;
};

struct Record {
  std::string name;
  uint16_t type = 0, klass = 0;
  uint32_t ttl = 0;
  uint32_t address = 0;  // A
  std::string target;    // CNAME
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
};

std::optional<Header> parse_header(std::span<const uint8_t> bytes);
std::optional<Message> parse(std::span<const uint8_t> bytes);

struct Address {
  uint32_t address = 0;
  uint32_t ttl = 0;
  bool operator==(const Address&) const = default;
};
std::vector<Address> a_records(const Message& m, std::string_view name);

}  // namespace cube::egress::dns
