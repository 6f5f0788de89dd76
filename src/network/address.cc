#include "network/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

#include "base/error.h"

namespace berth::network {

std::optional<Ipv4> Ipv4::try_parse(std::string_view text) {
  std::string s(text);
  in_addr a{};
  // inet_pton refuses the shorthand forms ("10.1") that inet_aton would take.
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return Ipv4{ntohl(a.s_addr)};
}

Ipv4 Ipv4::parse(std::string_view text, std::string_view what) {
  auto a = try_parse(text);
  if (!a) throw InvalidArgument("invalid " + std::string(what) + ": " + std::string(text));
  return *a;
}

std::string Ipv4::str() const {
  char buf[INET_ADDRSTRLEN];
  in_addr a{htonl(value)};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

uint32_t Ipv4::network_order() const {
  return htonl(value);
}
Ipv4 Ipv4::from_network_order(uint32_t v) {
  return {ntohl(v)};
}

Ipv4Prefix Ipv4Prefix::parse(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return InvalidArgument("invalid " + std::string(what) + " " + std::string(text) +
                           ": expected an IPv4 CIDR such as 172.20.0.0/16");
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) throw bad();
  auto a = Ipv4::try_parse(text.substr(0, slash));
  if (!a) throw bad();
  auto lt = text.substr(slash + 1);
  int len = -1;
  auto [p, ec] = std::from_chars(lt.data(), lt.data() + lt.size(), len);
  if (ec != std::errc() || p != lt.data() + lt.size() || len < 0 || len > 32) throw bad();
  return {*a, len};
}

std::string Ipv4Prefix::str() const {
  return addr.str() + "/" + std::to_string(len);
}

std::string mac_for(Ipv4 a) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", (a.value >> 24) & 0xff,
                (a.value >> 16) & 0xff, (a.value >> 8) & 0xff, a.value & 0xff);
  return buf;
}

}  // namespace berth::network
