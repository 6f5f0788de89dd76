// Published ports: what a container's config asks for, and the host ports berthd holds for
// them (a bound socket per port keeps other programs and containers off it; the traffic
// itself goes by the kernel's DNAT, never through berthd).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/fd.h"
#include "network/address.h"

namespace berth::network {

struct PortBinding {
  std::string proto = "tcp";
  uint16_t container_port = 0;
  Ipv4 host_ip;            // 0.0.0.0: every address
  uint16_t host_port = 0;  // 0: any free port
};

// HostConfig.PortBindings (and, with PublishAllPorts, every Config.ExposedPorts entry);
// throws InvalidArgument naming the bad entry.
std::vector<PortBinding> requested_ports(const nlohmann::json& config,
                                         const nlohmann::json& host_config);

// Binds (without listening) the host port; picks a free one when host_port is 0 and writes
// it back. Throws Conflict with Docker's wording when the port is taken.
UniqueFd reserve_port(PortBinding& b);

// "80/tcp" keys of Config.ExposedPorts and HostConfig.PortBindings, for inspect.
std::vector<std::string> exposed_port_keys(const nlohmann::json& config,
                                           const nlohmann::json& host_config);

}  // namespace berth::network
