// IPv4 addresses and prefixes as berth's networks use them (host byte order inside).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::network {

struct Ipv4 {
  uint32_t value = 0;  // host byte order

  // Throws InvalidArgument naming `what` when `text` is not a dotted quad.
  static Ipv4 parse(std::string_view text, std::string_view what = "IP address");
  static std::optional<Ipv4> try_parse(std::string_view text);
  std::string str() const;
  bool is_unspecified() const { return value == 0; }
  uint32_t network_order() const;
  static Ipv4 from_network_order(uint32_t v);
  auto operator<=>(const Ipv4&) const = default;
};

struct Ipv4Prefix {
  Ipv4 addr;  // may have host bits set (an interface address such as 10.1.0.1/24)
  int len = 32;

  // "a.b.c.d/len"; throws InvalidArgument naming `what`.
  static Ipv4Prefix parse(std::string_view text, std::string_view what = "subnet");
  std::string str() const;
  uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  Ipv4 network() const { return {addr.value & mask()}; }
  Ipv4 broadcast() const { return {network().value | ~mask()}; }
  bool contains(Ipv4 a) const { return (a.value & mask()) == network().value; }
  bool overlaps(const Ipv4Prefix& o) const {
    int l = len < o.len ? len : o.len;
    uint32_t m = l == 0 ? 0 : ~uint32_t{0} << (32 - l);
    return (addr.value & m) == (o.addr.value & m);
  }
  // The same prefix with the host bits cleared.
  Ipv4Prefix canonical() const { return {network(), len}; }
  auto operator<=>(const Ipv4Prefix&) const = default;
};

// Docker's MAC for an address: 02:42 followed by the four bytes of the IPv4 address.
std::string mac_for(Ipv4 a);

}  // namespace berth::network
