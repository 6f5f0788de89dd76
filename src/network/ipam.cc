#include "network/ipam.h"

#include "base/error.h"

namespace berth::network {

std::vector<AddressPool> default_pools() {
  return {{Ipv4Prefix::parse("10.200.0.0/14"), 24}};
}

Ipv4Prefix pick_subnet(const std::vector<AddressPool>& pools,
                       const std::vector<Ipv4Prefix>& taken) {
  for (const auto& pool : pools) {
    if (pool.size < pool.base.len || pool.size > 30) continue;
    Ipv4Prefix base = pool.base.canonical();
    uint64_t count = uint64_t{1} << (pool.size - base.len);
    uint32_t step = pool.size == 0 ? 0 : uint32_t{1} << (32 - pool.size);
    for (uint64_t i = 0; i < count; i++) {
      Ipv4Prefix candidate{{base.addr.value + static_cast<uint32_t>(i) * step}, pool.size};
      bool clash = false;
      for (const auto& t : taken) {
        // The default route overlaps everything and says nothing about local subnets.
        if (t.len == 0) continue;
        if (candidate.overlaps(t)) {
          clash = true;
          break;
        }
      }
      if (!clash) return candidate;
    }
  }
  throw Error(
      "could not find an available, non-overlapping IPv4 address pool among the defaults to "
      "assign to the network");
}

void check_ipam(const Ipv4Prefix& subnet, const Ipv4& gateway,
                const std::optional<Ipv4Prefix>& ip_range) {
  if (subnet.len > 30)
    throw InvalidArgument("invalid subnet " + subnet.str() + ": too small for a network");
  if (subnet.addr != subnet.network())
    throw InvalidArgument("invalid subnet " + subnet.str() + ": it has host bits set");
  if (!subnet.contains(gateway))
    throw InvalidArgument("no matching subnet for gateway " + gateway.str());
  if (gateway == subnet.network() || gateway == subnet.broadcast())
    throw InvalidArgument("invalid gateway " + gateway.str() + ": not a host address of " +
                          subnet.str());
  if (ip_range) {
    if (ip_range->addr != ip_range->network())
      throw InvalidArgument("invalid ip-range " + ip_range->str() + ": it has host bits set");
    if (ip_range->len < subnet.len || !subnet.contains(ip_range->addr))
      throw InvalidArgument("no matching subnet for range " + ip_range->str());
  }
}

Ipv4 allocate_address(const Network& n, const std::set<Ipv4>& used,
                      const std::optional<Ipv4>& requested) {
  auto auxiliary = [&](Ipv4 a) {
    for (auto& [name, held] : n.aux_addresses)
      if (held == a) return true;
    return false;
  };
  auto usable = [&](Ipv4 a) {
    return n.subnet.contains(a) && a != n.subnet.network() && a != n.subnet.broadcast() &&
           a != n.gateway && !auxiliary(a);
  };
  if (requested) {
    if (!n.subnet.contains(*requested))
      throw InvalidArgument("no available IPv4 address on network " + n.name + ": " +
                            requested->str() + " is outside its subnet " + n.subnet.str());
    if (!usable(*requested))
      throw InvalidArgument("invalid address " + requested->str() + " on network " + n.name +
                            ": it is the network's own, gateway, broadcast or an auxiliary "
                            "address");
    if (used.count(*requested))
      throw Conflict("Address already in use: " + requested->str() + " on network " + n.name);
    return *requested;
  }
  Ipv4Prefix range = n.ip_range ? *n.ip_range : n.subnet;
  for (uint32_t v = range.network().value; v <= range.broadcast().value; v++) {
    Ipv4 a{v};
    if (usable(a) && !used.count(a)) return a;
    if (v == UINT32_MAX) break;
  }
  throw Conflict("no available IPv4 addresses on network " + n.name);
}

}  // namespace berth::network
