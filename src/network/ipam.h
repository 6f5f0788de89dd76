// Address management: subnets for new networks out of the address pools, and addresses for
// containers out of a network's subnet (or its ip-range).
#pragma once

#include <optional>
#include <set>
#include <vector>

#include "network/address.h"
#include "network/network.h"

namespace berth::network {

// berth's own pool when daemon.json names none: clear of Docker's 172.17.0.0/16 and of the
// 172.18-31 and 192.168 ranges Docker hands out.
std::vector<AddressPool> default_pools();

// The first subnet of the pools that overlaps none of `taken` (host routes and the other
// networks' subnets). Throws when the pools are exhausted.
Ipv4Prefix pick_subnet(const std::vector<AddressPool>& pools, const std::vector<Ipv4Prefix>& taken);

// A free address of the network: `requested` if given (checked: inside the subnet and the
// ip-range, not the network, broadcast or gateway address, not in use), else the lowest free
// one. Throws InvalidArgument / Conflict with Docker's wording.
Ipv4 allocate_address(const Network& n, const std::set<Ipv4>& used,
                      const std::optional<Ipv4>& requested);

// Validates a create request's subnet, gateway and ip-range together, with Docker's wording.
void check_ipam(const Ipv4Prefix& subnet, const Ipv4& gateway,
                const std::optional<Ipv4Prefix>& ip_range);

}  // namespace berth::network
