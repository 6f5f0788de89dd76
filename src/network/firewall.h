// berth's packet filtering and NAT, all in berth's own nftables table (libnftables), applied
// as one transaction so that the kernel never holds a half-made rule set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network/address.h"

namespace berth::network {

struct FirewallNetwork {
  std::string bridge;
  Ipv4Prefix subnet;     // canonical
  bool internal = false; // no traffic in or out of the subnet but between its members
  bool icc = true;       // containers on this bridge may talk to each other
};

struct PortMapping {
  std::string proto = "tcp";  // "tcp" | "udp"
  Ipv4 host_ip;               // 0.0.0.0: every host address, loopback included
  uint16_t host_port = 0;
  Ipv4 container_ip;
  uint16_t container_port = 0;
  std::string bridge;         // the bridge container_ip sits on
};

struct FirewallState {
  std::vector<FirewallNetwork> networks;
  std::vector<PortMapping> ports;
};

class Firewall {
 public:
  // `table` names berth's nftables table (family ip); different daemons use different ones.
  explicit Firewall(std::string table);
  // Makes the kernel's rules exactly `state`: the whole table replaced in one transaction,
  // ip_forward on, route_localnet on each bridge (loopback reaches published ports), and
  // where an iptables FORWARD chain exists (Docker's, with its DROP policy) one accept rule
  // per berth bridge there, so berth's own table alone decides berth's traffic.
  void apply(const FirewallState& state);
  // Deletes the table and the iptables accept rules this table added.
  void remove();
  const std::string& table() const { return table_; }

 private:
  std::string table_;
};

}  // namespace berth::network
