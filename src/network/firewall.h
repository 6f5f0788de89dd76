// berth's packet filtering and NAT, all in berth's own nftables table (libnftables), applied
// as one transaction so that the kernel never holds a half-made rule set.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "network/address.h"

namespace berth::network {

struct FirewallNetwork {
  std::string bridge;
  Ipv4Prefix subnet;      // canonical
  bool internal = false;  // no traffic in or out of the subnet but between its members
  bool icc = true;        // containers on this bridge may talk to each other
};

struct PortMapping {
  std::string proto = "tcp";  // "tcp" | "udp"
  Ipv4 host_ip;               // 0.0.0.0: every host address, loopback included
  uint16_t host_port = 0;
  Ipv4 container_ip;
  uint16_t container_port = 0;
  std::string bridge;  // the bridge container_ip sits on
};

struct FirewallState {
  std::vector<FirewallNetwork> networks;
  std::vector<PortMapping> ports;
};

// Safe to call from several threads: apply() and remove() take turns.
class Firewall {
 public:
  // `table` names berth's nftables table (family ip); different daemons use different ones.
  // Throws InvalidArgument unless it is a plain identifier (letters, digits, '_', '-').
  explicit Firewall(std::string table);
  // Makes the kernel's rules exactly `state`: the whole table replaced in one transaction,
  // ip_forward on, route_localnet on each bridge (loopback reaches published ports), and
  // where an iptables FORWARD chain exists (Docker's, with its DROP policy) one accept rule
  // per berth bridge there, so berth's own table alone decides berth's traffic. Every bridge
  // must exist already. Throws InvalidArgument for a malformed state, Error naming the table
  // when the kernel or iptables refuses.
  void apply(const FirewallState& state);
  // Deletes the table and the iptables accept rules this table added.
  void remove();
  const std::string& table() const { return table_; }

 private:
  // Makes FORWARD hold exactly one "-i BR" and one "-o BR" accept rule per bridge, tagged
  // with this table's comment.
  void sync_iptables(const std::vector<std::string>& bridges);

  std::string table_;
  std::mutex mu_;
  // The bridge set (sorted) FORWARD last got accept rules for: exec'ing iptables costs
  // milliseconds, so apply() skips it while the bridges stay the same.
  std::optional<std::vector<std::string>> iptables_bridges_;
};

}  // namespace berth::network
