// Networks and the containers' places on them: Docker's bridge, host, none and user-defined
// bridge networks, their addresses (IPAM), the veth that plugs a container in, published
// ports, the embedded DNS and the files (/etc/hosts, resolv.conf) a container sees.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/sqlite.h"
#include "network/address.h"

namespace berth::network {

struct AddressPool {
  Ipv4Prefix base;
  int size = 24;
};

struct NetworkOptions {
  std::string exec_root;
  std::string default_bridge = "berth0";  // dockerd's -b
  std::string bip;                        // dockerd's --bip: the default bridge's address
  std::vector<AddressPool> pools;         // default-address-pools; empty: berth's own
  std::vector<std::string> dns;           // upstream resolvers; empty: the host's
  std::vector<std::string> dns_search, dns_options;
  int mtu = 0;  // 0: the uplink's
  bool icc = true;
};

struct Network {
  std::string id, name, driver, created, bridge;
  Ipv4Prefix subnet;  // canonical; unset for host and none
  Ipv4 gateway;
  std::optional<Ipv4Prefix> ip_range;
  // IPAM's AuxiliaryAddresses: addresses other hosts on the bridge hold, never handed out.
  std::map<std::string, Ipv4> aux_addresses;
  bool internal = false, attachable = false, icc = true;
  // Whether berth created the bridge (and so deletes it with the network), or found it.
  bool own_bridge = true;
  int mtu = 1500;
  nlohmann::json labels = nlohmann::json::object(), options = nlohmann::json::object();

  bool is_bridge() const { return driver == "bridge"; }
  // bridge, host and none: made by the daemon, never removed.
  bool predefined() const { return name == "bridge" || name == "host" || name == "none"; }
  nlohmann::json to_json() const;
  static Network from_json(const nlohmann::json& j);
};

// Docker's option names of a bridge network.
inline constexpr const char* kBridgeName = "com.docker.network.bridge.name";
inline constexpr const char* kEnableIcc = "com.docker.network.bridge.enable_icc";
inline constexpr const char* kMtu = "com.docker.network.driver.mtu";

// A network create's body checked on its own, in Docker's words: all but what depends on the
// other networks and the host (name and bridge conflicts, overlaps, a subnet from the pools).
// `id` names the default bridge; `default_mtu` is the daemon's.
struct NetworkRequest {
  Network network;
  bool subnet_given = false;  // else subnet and gateway are still to be picked
};
NetworkRequest decode_network_create(const nlohmann::json& request, const std::string& id,
                                     int default_mtu);

// A container's place on one network. The address is held while the container runs.
struct Endpoint {
  std::string container_id, network_id, id;
  std::vector<std::string> aliases, links;
  std::string requested_ip, requested_mac;  // what the user asked for
  std::vector<Ipv4> link_local_ips;         // IPAMConfig.LinkLocalIPs, added to the interface
  // Kept and shown as given: the bridge driver takes no endpoint options (dockerd 20.10's
  // neither).
  std::map<std::string, std::string> driver_opts;
  std::optional<Ipv4> ip;
  std::string mac;
  std::string veth;  // the host end, while plugged in

  nlohmann::json to_json() const;
  static Endpoint from_json(const nlohmann::json& j);
};

// What the network side needs to know of a container.
struct ContainerInfo {
  std::string id, name;
  nlohmann::json config, host_config;
};

// What a starting container gets: the namespace to join and its files' contents.
struct Sandbox {
  std::string netns_path;  // empty: the host's namespace
  std::string hosts, resolv_conf;
};

class Firewall;
class DnsServer;
class Netlink;

class NetworkManager {
 public:
  NetworkManager(NetworkOptions opts, Db& db);
  ~NetworkManager();

  // At daemon start: the predefined networks exist, every bridge is up, DNS listens, and the
  // firewall holds exactly the rules of the containers in `running` (whose endpoints are
  // kept); other containers' addresses are released.
  void restore(const std::set<std::string>& running);

  // Docker's POST /networks/create body; returns the new network.
  Network create(const nlohmann::json& request);
  void remove(const std::string& ref);
  Network get(const std::string& ref) const;
  std::vector<Network> list() const;
  // Endpoints of a network (or all when `network_id` is empty).
  std::vector<Endpoint> endpoints(const std::string& network_id = "") const;
  std::vector<Endpoint> endpoints_of(const std::string& container_id) const;

  // At container create: validates and records the networks it joins (NetworkMode and
  // NetworkingConfig.EndpointsConfig).
  void declare(const ContainerInfo& c, const nlohmann::json& endpoints_config);
  // At start: addresses, namespace, veths, ports, DNS names. On failure nothing is left.
  // (container:NAME joins the other container's namespace: the engine's business.)
  Sandbox setup(const ContainerInfo& c);
  // At exit: everything setup made, addresses released; the declarations stay.
  void teardown(const std::string& container_id);
  // Docker's rename: the embedded DNS answers the new name (and no longer the old one).
  void rename(const std::string& container_id, const std::string& name);
  // At removal: the declarations too.
  void forget(const std::string& container_id);
  // Docker's connect: `running` says whether to plug the container in now. Returns the
  // running container's new resolv.conf when joining the network changes it.
  std::optional<std::string> connect(const ContainerInfo& c, const std::string& network_ref,
                                     const nlohmann::json& endpoint_config, bool running);
  void disconnect(const ContainerInfo& c, const std::string& network_ref, bool running);

  // NetworkSettings.Ports for inspect: {"80/tcp": [{"HostIp","HostPort"}] or null}.
  nlohmann::json published_ports(const std::string& container_id) const;
  std::string netns_path(const std::string& container_id) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace berth::network
