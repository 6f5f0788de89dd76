// NetworkManager's insides, shared by its networks.cc and endpoints.cc.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/fd.h"
#include "network/dns_server.h"
#include "network/firewall.h"
#include "network/link_reaper.h"
#include "network/network.h"
#include "network/ports.h"
#include "network/sandbox_pool.h"

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
  LinkReaper reaper;
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
  };
  std::mutex dns_mu;
  DnsTables dns_tables;
  DnsServer::Answer dns_lookup(Ipv4 local, Ipv4 client, const std::string& name);
  DnsServer::Answer dns_reverse_lookup(Ipv4 local, Ipv4 client, Ipv4 address);
  // The gateways of the networks the asker's questions look at, its own first; needs dns_mu.
  std::vector<Ipv4> dns_view(Ipv4 local, Ipv4 client) const;

  State(NetworkOptions o, Db& d) : opts(std::move(o)), db(d) {}

  // Both need `mu` held.
  const Network& find(const std::string& ref) const;
  void persist(const Network& n);
  void persist(const Endpoint& e);
  // The live sandbox's namespace and published ports, for a restarted daemon.
  void persist_sandbox(const std::string& container_id);
  void apply_firewall();
  void rebuild_dns();
  std::string netns_dir() const;
  // Removes the container's veths, namespace and reserved ports; releases addresses.
  void unplug(const std::string& container_id);
};

std::string random_hex_id();

}  // namespace berth::network
