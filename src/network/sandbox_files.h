// The /etc/hosts and /etc/resolv.conf a container sees, written as Docker writes them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "network/address.h"

namespace berth::network {

struct HostsEntry {
  std::string ip;
  std::vector<std::string> names;
};

// Docker's defaults, then `extra` (links, --add-host) in order, then the container's own
// address with its hostname (when it has one).
std::string hosts_file(const std::vector<HostsEntry>& extra, const std::string& own_ip,
                       const std::string& hostname, const std::string& domainname);

struct ResolvConfInput {
  std::string host_resolv_conf;                   // the host's /etc/resolv.conf text
  std::vector<std::string> dns, search, options;  // the container's --dns* (else daemon's)
  std::string embedded_dns;                       // user-defined networks: berth's DNS address
};

// With an embedded DNS, it is the only nameserver (it forwards the rest); otherwise the
// given servers, else the host's, without the host's loopback servers that a container
// cannot reach.
std::string resolv_conf(const ResolvConfInput& in);

}  // namespace berth::network
