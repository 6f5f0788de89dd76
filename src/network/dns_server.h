// berthd's embedded DNS server: it listens on the gateway address of each user-defined
// network, answers container names, aliases and hostnames on that network and PTR questions for
// its containers' addresses, and forwards every other question to the upstream resolvers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "network/address.h"

namespace berth::network {

class DnsServer {
 public:
  // What a lookup found: the addresses of the matching containers, or for a reverse lookup the
  // name of the container at the address ("<container>.<network>", as Docker answers PTR
  // questions); neither when it is not local (forward the question). And the resolvers the
  // asker's own `--dns` names, which then replace the server's upstreams for it (as Docker's
  // embedded DNS does).
  struct Answer {
    std::vector<Ipv4> addresses;
    std::string ptr_name;
    std::vector<std::string> upstreams;
    // The asker is not a container of the network it asked on: it gets REFUSED and nothing
    // is looked up or forwarded for it (containers of other networks and users of the host
    // must not learn a network's names, nor use berthd as an open resolver).
    bool refused = false;
  };
  // `local` is the address the question came in on (it names the network), `client` the
  // asker's, `name` the question's name, lowercase, without the trailing dot.
  using Lookup = std::function<Answer(Ipv4 local, Ipv4 client, const std::string& name)>;
  // A PTR question for `address`'s in-addr.arpa name; only ptr_name and upstreams count.
  using ReverseLookup = std::function<Answer(Ipv4 local, Ipv4 client, Ipv4 address)>;

  // `upstreams`: "ip" or "ip:port" of resolvers to forward to, tried in order.
  DnsServer(Lookup lookup, ReverseLookup reverse_lookup, std::vector<std::string> upstreams);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Starts answering on addr:port over UDP and TCP (port 53 unless a test says otherwise).
  // Thread-safe; listening twice on one address is a no-op.
  void listen(Ipv4 addr, uint16_t port = 53);
  void stop_listening(Ipv4 addr);
  void set_upstreams(std::vector<std::string> upstreams);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The nameservers of a resolv.conf text, in order.
std::vector<std::string> nameservers_of(const std::string& resolv_conf);

}  // namespace berth::network
