// NetworkManager's insides, shared by its networks.cc and endpoints.cc.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "network/dns_server.h"
#include "network/firewall.h"
#include "network/network.h"
#include "network/ports.h"
#include "network/sandbox_pool.h"
#include "network/sandbox_reaper.h"

namespace berth::network {

// The plumbing of a running container, undone at teardown.
struct LiveSandbox {
  std::string netns;                   // our bound namespace
  std::vector<PortBinding> ports;      // with their host ports
  std::vector<UniqueFd> reservations;  // one bound socket per published port
  std::string port_network;            // the network the ports lead into
};

// What the embedded DNS knows of a container: the names it answers for it, and the container's
// own `--dns` resolvers, to which its other questions go.
struct DnsIdentity {
  std::string name, hostname;
  std::vector<std::string> upstreams;
};

// container id -> network id -> endpoint
using EndpointTable = std::map<std::string, std::map<std::string, Endpoint>>;

struct NetworkManager::State {
  NetworkOptions opts;
  Db& db;
  std::mutex mu;
  std::map<std::string, Network> networks;  // by id
  EndpointTable endpoints;
  std::map<std::string, DnsIdentity> dns_names;  // by container id
  std::map<std::string, LiveSandbox> live;
  int mtu = 1500;
  std::unique_ptr<Firewall> firewall;
  std::unique_ptr<DnsServer> dns;
  // network id -> addresses released while their old links are still being deleted: not
  // handed out again before the reaper is done with them. `drained` tells when it is.
  std::map<std::string, std::set<Ipv4>> draining;
  std::condition_variable drained;
  QuietPeriod quiet{std::chrono::milliseconds(40)};
  SandboxReaper reaper{quiet};
  std::unique_ptr<SandboxPool> pool;  // from restore on

  // What the DNS thread reads, swapped whole under dns_mu so that a lookup never waits for
  // network plumbing: each user-defined network's names and PTR names (by its gateway), and
  // for each container address the gateways of every network that container is on (Docker
  // answers names from all of them).
  struct DnsTables {
    std::map<Ipv4, std::map<std::string, std::vector<Ipv4>>> zones;
    std::map<Ipv4, std::map<Ipv4, std::string>> ptr_names;     // gateway -> address -> name
    std::map<std::pair<Ipv4, Ipv4>, std::vector<Ipv4>> views;  // (gateway, client) -> gateways
    std::map<Ipv4, std::vector<std::string>> upstreams;        // container address -> its --dns
    // (gateway, client) -> the client's link aliases (--link NAME:ALIAS on a user network),
    // which only it resolves: alias -> the target's addresses on that network.
    std::map<std::pair<Ipv4, Ipv4>, std::map<std::string, std::vector<Ipv4>>> link_aliases;
  };
  std::mutex dns_mu;
  DnsTables dns_tables;
  DnsServer::Answer dns_lookup(Ipv4 local, Ipv4 client, const std::string& name);
  DnsServer::Answer dns_reverse_lookup(Ipv4 local, Ipv4 client, Ipv4 address);
  // The gateways of the networks the asker's questions look at, its own first; needs dns_mu
  // and an asker that dns_answer_for did not refuse.
  std::vector<Ipv4> dns_view(Ipv4 local, Ipv4 client) const;
  // An answer with the asker's own resolvers in it, when it has some, or refused when the
  // asker is no container of the network of `local`; needs dns_mu.
  DnsServer::Answer dns_answer_for(Ipv4 local, Ipv4 client) const;

  State(NetworkOptions o, Db& d) : opts(std::move(o)), db(d) {}

  // Both need `mu` held.
  const Network& find(const std::string& ref) const;
  void persist(const Network& n);
  void persist(const Endpoint& e);
  // The live sandbox's namespace and published ports, for a restarted daemon.
  void persist_sandbox(const std::string& container_id);
  void apply_firewall();
  void rebuild_dns();
  // The link aliases of the endpoints on user networks, from the names in `t`'s zones.
  void add_link_aliases(DnsTables& t) const;
  std::string netns_dir() const;
  // Releases the container's addresses and reserved ports; its veths and namespace go to the
  // reaper.
  void unplug(const std::string& container_id);
  // Hands the links and namespace to the reaper, holding `released` (network id, address)
  // back until it is done with them.
  void reap(Leftovers left, std::vector<std::pair<std::string, Ipv4>> released);
  // The addresses `n` must not hand out: in use by other containers, or draining.
  std::set<Ipv4> taken_addresses(const Network& n, const std::string& container_id) const;
  // Waits, `lk` released, until `e`'s address on `n` can be allocated, when only a draining
  // address stands in the way (the one it asked for, or the network's last free ones).
  void await_drain(std::unique_lock<std::mutex>& lk, const Network& n, const Endpoint& e);
};

std::string random_hex_id();

}  // namespace berth::network
