// Links, addresses and routes through rtnetlink (libnl-route-3): the bridge of a network and
// the veth pair that plugs a container into it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "network/address.h"

namespace berth::network {

struct VethSpec {
  std::string bridge;            // host-side bridge the host end is enslaved to
  std::string host_ifname;       // host end, e.g. "vb1a2b3c4d5e6"
  int netns_fd = -1;             // the container's network namespace
  std::string ifname = "eth0";   // name inside the container
  std::string mac;               // "02:42:..." ; empty: the kernel picks one
  Ipv4Prefix address;            // e.g. 10.200.0.2/24
  std::optional<Ipv4> gateway;   // default route inside the container, if any
  std::vector<Ipv4> link_local;  // the endpoint's IPAMConfig.LinkLocalIPs, as /16s
  int mtu = 1500;
};

class Netlink {
 public:
  // A route socket in the calling thread's network namespace.
  Netlink();
  // A route socket inside the namespace `netns_fd` refers to.
  explicit Netlink(int netns_fd);
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;

  // Creates the bridge when missing, gives it `address` (replacing other IPv4 addresses),
  // `mtu`, and sets it up. Idempotent. True when it created the bridge (and then, when it
  // fails after that, it deletes the bridge again): only a bridge berth made is berth's to
  // delete.
  bool ensure_bridge(const std::string& name, const Ipv4Prefix& address, int mtu);
  // Removes a link by name; a missing link is not an error.
  void delete_link(const std::string& name);
  bool link_exists(const std::string& name);
  // A veth pair: host end enslaved to the bridge and up; the peer created directly inside
  // the namespace, named, addressed and up, with its default route. On any failure nothing
  // is left behind. (lo is create_netns's business.)
  void add_veth(const VethSpec& spec);
  // add_veth in two steps, so that the first can be done before a container needs it: the
  // pair, both ends down, the peer named `ifname` inside the namespace...
  void create_veth(const std::string& host_ifname, int netns_fd, const std::string& ifname);
  // ...the host end attached to a bridge, with hairpin on, MTU set, up (a spare can be
  // attached to the likeliest bridge ahead of time)...
  void attach_veth(const std::string& host_ifname, const std::string& bridge, int mtu);
  // ...then the host end attached to the spec's bridge unless it is already, the peer given
  // its MAC, MTU, address and route, both up. A failure leaves the pair for the caller.
  void plug_veth(const VethSpec& spec);
  // plug_veth's second half, on a socket inside the container's namespace (a spare's, made
  // with it): the peer `ifindex` (spec.ifname) given its MAC, MTU, address and default route,
  // and up. Its MAC can change while it is up: a spare's peer waits up, so that the carrier
  // and link events of bringing it up are over before a container needs it.
  void configure_peer(int ifindex, const VethSpec& spec);
  // The ifindex of a link of this socket's namespace; throws when there is none.
  int link_index(const std::string& name);
  void set_up(int ifindex, int mtu, const std::string& name);
  // The MTU of the link that carries the default IPv4 route; 1500 when there is none.
  int uplink_mtu();
  // Every IPv4 route of the main table, as prefixes (to pick subnets that collide with none).
  std::vector<Ipv4Prefix> routes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::network
