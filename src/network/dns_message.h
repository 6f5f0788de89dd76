// DNS wire format, as much of it as the embedded server needs: reading the one question of a
// query, and writing answers and errors to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "network/address.h"

namespace berth::network::dns {

inline constexpr size_t kHeaderSize = 12;
// The most a UDP answer may hold when the client did not say it takes more (RFC 1035).
inline constexpr size_t kMaxUdpSize = 512;
// A TCP message's length prefix is 16 bits.
inline constexpr size_t kMaxTcpSize = 65535;
// Docker's embedded DNS gives its answers this TTL.
inline constexpr uint32_t kTtl = 600;

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kClassIn = 1;

// Bits of the header's flags word.
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kOpcodeMask = 0x7800;
inline constexpr uint16_t kFlagAa = 0x0400;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kFlagRa = 0x0080;
inline constexpr uint16_t kRcodeMask = 0x000f;

enum class Rcode : uint8_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNotImp = 4, kRefused = 5 };

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;
  // Lowercase and dotted, without the trailing dot; "" for the root. Dots and backslashes
  // inside a label are escaped as in zone files, so such a name never matches a container's.
  std::string name;
  // The question as sent (case kept, so resolvers that randomise case accept the answer),
  // with the name uncompressed: the name, the type and the class.
  std::vector<uint8_t> question;
  uint16_t type = 0;
  uint16_t qclass = 0;
};

// Packets too short to carry a header, and responses, which a server must not answer.
struct Drop {};

// A standard query with one well-formed question; otherwise the error to answer with, or Drop.
// Never reads outside `packet`.
std::variant<Query, Rcode, Drop> parse_query(std::span<const uint8_t> packet);

// An answer to `q` with `rcode` and one A record per address, as many as fit in `max_size`
// (TC says when some did not).
std::vector<uint8_t> reply(const Query& q, Rcode rcode, bool authoritative,
                           std::span<const Ipv4> addresses = {}, size_t max_size = kMaxTcpSize);

// The address a reverse name such as "4.3.2.1.in-addr.arpa" (as Query::name spells it) asks
// about. Anything else, e.g. fewer octets, leading zeros or octets over 255, is not the
// reverse name of an address and gives nullopt, so the question is forwarded as it stands.
std::optional<Ipv4> reverse_address(std::string_view name);

// An answer to `q` with one PTR record naming `target` (dotted, without the trailing dot), or
// nullopt when `target` cannot be a DNS name (an empty label, a label over 63 bytes, or over 255
// in all). With an in-addr.arpa question the answer always fits in kMaxUdpSize.
std::optional<std::vector<uint8_t>> ptr_reply(const Query& q, std::string_view target);

// An error answer to a packet whose question could not be read: header only.
std::vector<uint8_t> error_reply(std::span<const uint8_t> packet, Rcode rcode);

// Reads or rewrites the id of a message at least kHeaderSize long.
uint16_t id_of(std::span<const uint8_t> message);
void set_id(std::span<uint8_t> message, uint16_t id);

// Whether `message` is a response carrying `id`.
bool is_response(std::span<const uint8_t> message, uint16_t id);

}  // namespace berth::network::dns
