// Containers on networks: what they ask for at create, the plumbing at start and exit,
// connect and disconnect, and the files they see.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "network/ipam.h"
#include "network/manager_state.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "network/sandbox_files.h"

namespace berth::network {

using nlohmann::json;

namespace {

std::vector<std::string> string_list(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (auto& v : *it)
    if (v.is_string()) out.push_back(v);
  return out;
}

// Gives the container's endpoint on `n` a free address (or the one it asked for) and its MAC,
// and describes the veth that plugs it in: eth<index> in the namespace `nsfd`.
VethSpec plan_veth(const Network& n, const std::set<Ipv4>& taken, Endpoint& e, int nsfd,
                   size_t index) {
  std::optional<Ipv4> want;
  if (!e.requested_ip.empty()) want = Ipv4::parse(e.requested_ip);
  Ipv4 ip = allocate_address(n, taken, want);
  e.id = random_hex_id();
  e.mac = e.requested_mac.empty() ? mac_for(ip) : e.requested_mac;
  e.ip = ip;
  VethSpec v;
  v.bridge = n.bridge;
  v.host_ifname = "vb" + e.id.substr(0, 11);
  v.netns_fd = nsfd;
  v.ifname = "eth" + std::to_string(index);
  v.mac = e.mac;
  v.address = {ip, n.subnet.len};
  v.mtu = n.mtu;
  v.link_local = e.link_local_ips;
  return v;
}

DnsIdentity dns_identity(const ContainerInfo& c) {
  return {c.name, c.config.value("Hostname", ""), string_list(c.host_config, "Dns")};
}

bool is_mac(const std::string& m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); i++)
    if (i % 3 == 2 ? m[i] != ':' : !std::isxdigit(static_cast<unsigned char>(m[i]))) return false;
  return true;
}

// NetworkMode "default" is the default bridge, whose name is "bridge".
std::string mode_network(const json& host_config) {
  std::string mode = host_config.value("NetworkMode", "");
  return mode.empty() || mode == "default" ? "bridge" : mode;
}

bool shares_namespace(const std::string& mode) {
  return mode.rfind("container:", 0) == 0;
}

}  // namespace

// An endpoint from Docker's EndpointSettings, checked against its network.
// The container's resolv.conf input: its --dns options, else the daemon's, and the embedded
// DNS of the first user-defined network it is on (Docker switches a default-bridge container
// to the embedded server once it joins a user-defined network).
ResolvConfInput resolv_input(const NetworkOptions& opts, const ContainerInfo& c,
                             const std::vector<const Network*>& networks) {
  ResolvConfInput rin;
  rin.host_resolv_conf = read_file_if_exists("/etc/resolv.conf").value_or("");
  rin.dns = string_list(c.host_config, "Dns");
  if (rin.dns.empty()) rin.dns = opts.dns;
  rin.search = string_list(c.host_config, "DnsSearch");
  if (rin.search.empty()) rin.search = opts.dns_search;
  rin.options = string_list(c.host_config, "DnsOptions");
  if (rin.options.empty()) rin.options = opts.dns_options;
  for (auto* n : networks)
    if (n->is_bridge() && n->name != "bridge") {
      rin.embedded_dns = n->gateway.str();
      break;
    }
  return rin;
}

static Endpoint endpoint_from(const ContainerInfo& c, const Network& n, const json& cfg) {
  Endpoint e;
  e.container_id = c.id;
  e.network_id = n.id;
  if (!cfg.is_object()) return e;
  e.aliases = string_list(cfg, "Aliases");
  e.links = string_list(cfg, "Links");
  if (auto ipam = cfg.find("IPAMConfig"); ipam != cfg.end() && ipam->is_object()) {
    e.requested_ip = ipam->value("IPv4Address", "");
    auto link_local = string_list(*ipam, "LinkLocalIPs");
    // dockerd names every address it cannot parse at once, as Go prints a list.
    std::string unparsable;
    for (auto& text : link_local) {
      in6_addr v6;
      if (!Ipv4::try_parse(text) && inet_pton(AF_INET6, text.c_str(), &v6) != 1)
        unparsable += (unparsable.empty() ? "" : " ") + text;
    }
    if (!unparsable.empty())
      throw InvalidArgument("Invalid link-local IP address: [" + unparsable + "]");
    for (auto& text : link_local) {
      auto ip = Ipv4::try_parse(text);
      if (text.find(':') != std::string::npos)
        throw InvalidArgument("link local IP address " + text +
                              ": IPv6 is off in berth's containers, an IPv6 address cannot "
                              "be given to one");
      if (!ip || !Ipv4Prefix::parse("169.254.0.0/16").contains(*ip))
        throw InvalidArgument("invalid link local IP address: " + text);
      e.link_local_ips.push_back(*ip);
    }
  }
  if (auto opts = cfg.find("DriverOpts"); opts != cfg.end() && opts->is_object())
    for (auto& [k, v] : opts->items()) {
      if (!v.is_string())
        throw InvalidArgument("DriverOpts: the value of " + k + " must be a string");
      e.driver_opts[k] = v.get<std::string>();
    }
  e.requested_mac = cfg.value("MacAddress", "");
  if (!e.requested_mac.empty() && !is_mac(e.requested_mac))
    throw InvalidArgument(e.requested_mac + " is not a valid mac address");
  bool user_defined = n.is_bridge() && n.name != "bridge";
  if (!e.requested_ip.empty()) {
    if (!user_defined)
      throw InvalidArgument("user specified IP address is supported on user defined networks only");
    auto ip = Ipv4::parse(e.requested_ip, "IPv4 address");
    if (!n.subnet.contains(ip))
      throw InvalidArgument("Invalid address " + e.requested_ip +
                            ": It does not belong to any of this network's subnets");
  }
  if (!e.aliases.empty() && !user_defined)
    throw InvalidArgument(
        "network-scoped alias is supported only for containers in user defined networks");
  return e;
}

void NetworkManager::declare(const ContainerInfo& c, const json& endpoints_config) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  std::string mode = mode_network(c.host_config);
  json configs = endpoints_config.is_object() ? endpoints_config : json::object();
  if (shares_namespace(mode)) {
    if (!configs.empty())
      throw InvalidArgument(
          "conflicting options: container type network can't be used with "
          "other networks");
    return;
  }
  // Unlike dockerd, whose start fails and leaves the created container behind, a missing
  // network fails the create. A 400, not a 404: the docker CLI takes a 404 from create for a
  // missing image and would try to pull it.
  auto known = std::find_if(st.networks.begin(), st.networks.end(), [&](const auto& n) {
    return n.first == mode || n.second.name == mode;
  });
  if (known == st.networks.end()) throw InvalidArgument("network " + mode + " not found");
  const Network& primary = known->second;
  std::map<std::string, Endpoint> eps;
  json primary_cfg = json::object();
  for (auto& [key, cfg] : configs.items()) {
    const Network* found = nullptr;
    try {
      found = key == "default" ? &primary : &st.find(key);
    } catch (const NotFound& e) {
      throw InvalidArgument(e.what());
    }
    const Network& n = *found;
    if (n.id == primary.id) {
      primary_cfg = cfg;
      continue;
    }
    if (!n.is_bridge() || !primary.is_bridge())
      throw InvalidArgument(
          "container cannot be connected to multiple networks with one of the "
          "networks in private (none) or host mode");
    eps[n.id] = endpoint_from(c, n, cfg);
  }
  if (primary_cfg.is_object() && !primary_cfg.contains("MacAddress") &&
      !c.config.value("MacAddress", "").empty())
    primary_cfg["MacAddress"] = c.config["MacAddress"];
  eps[primary.id] = endpoint_from(c, primary, primary_cfg);
  st.dns_names[c.id] = dns_identity(c);
  Transaction tx(st.db);
  for (auto& [nid, e] : eps) st.persist(e);
  tx.commit();
  st.endpoints[c.id] = std::move(eps);
}

std::set<Ipv4> NetworkManager::State::taken_addresses(const Network& n,
                                                      const std::string& container_id) const {
  std::set<Ipv4> taken;
  for (auto& [cid, other] : endpoints) {
    if (cid == container_id) continue;
    auto it = other.find(n.id);
    if (it != other.end() && it->second.ip) taken.insert(*it->second.ip);
  }
  if (auto d = draining.find(n.id); d != draining.end())
    taken.insert(d->second.begin(), d->second.end());
  return taken;
}

void NetworkManager::State::await_drain(std::unique_lock<std::mutex>& lk, const Network& n,
                                        const Endpoint& e) {
  std::optional<Ipv4> want;
  if (!e.requested_ip.empty()) want = Ipv4::parse(e.requested_ip);
  auto blocked = [&] {
    auto d = draining.find(n.id);
    if (d == draining.end()) return false;
    if (want) return d->second.count(*want) > 0;
    try {
      allocate_address(n, taken_addresses(n, e.container_id), std::nullopt);
      return false;
    } catch (const Conflict&) {
      return true;
    }
  };
  if (!blocked()) return;
  reaper.hurry();
  // The reaper takes milliseconds; the bound is for a kernel that hangs in deleting a link,
  // after which the allocation fails with the usual error.
  drained.wait_for(lk, std::chrono::seconds(10), [&] { return !blocked(); });
}

// The addresses are held back until the links are gone: the old peer would answer ARP for
// them, or a late packet of its would move the bridge's idea of where the MAC is.
void NetworkManager::State::reap(Leftovers left,
                                 std::vector<std::pair<std::string, Ipv4>> released) {
  if (left.links.empty() && left.netns.empty()) return;
  for (auto& [nid, ip] : released) draining[nid].insert(ip);
  left.done = [this, released = std::move(released)] {
    std::lock_guard lk(mu);
    for (auto& [nid, ip] : released) {
      auto d = draining.find(nid);
      if (d == draining.end()) continue;
      d->second.erase(ip);
      if (d->second.empty()) draining.erase(d);
    }
    drained.notify_all();
  };
  reaper.remove(std::move(left));
}

void NetworkManager::State::unplug(const std::string& container_id) {
  Leftovers left;
  std::vector<std::pair<std::string, Ipv4>> released;
  Transaction tx(db);
  auto eps = endpoints.find(container_id);
  if (eps != endpoints.end()) {
    for (auto& [nid, e] : eps->second) {
      if (!e.ip) continue;
      if (!e.veth.empty()) left.links.push_back(e.veth);
      released.emplace_back(nid, *e.ip);
      e.veth.clear();
      e.ip.reset();
      e.mac.clear();
      persist(e);
    }
  }
  auto it = live.find(container_id);
  bool had_ports = it != live.end() && !it->second.ports.empty();
  if (it != live.end()) {
    left.netns = it->second.netns;
    live.erase(it);
  }
  persist_sandbox(container_id);
  tx.commit();
  if (had_ports) apply_firewall();
  reap(std::move(left), std::move(released));
}

Sandbox NetworkManager::setup(const ContainerInfo& c) {
  s_->quiet.touch();
  std::unique_lock lk(s_->mu);
  auto& st = *s_;
  std::string mode = mode_network(c.host_config);
  Sandbox sb;
  if (shares_namespace(mode)) return sb;
  st.dns_names[c.id] = dns_identity(c);
  const Network primary = st.find(mode);
  std::string hostname = c.config.value("Hostname", "");
  std::string domainname = c.config.value("Domainname", "");
  ResolvConfInput rin = resolv_input(st.opts, c, {});

  std::vector<HostsEntry> extra;
  for (auto& h : string_list(c.host_config, "ExtraHosts")) {
    auto sep = h.find(':');
    if (sep == std::string::npos) sep = h.find('=');
    if (sep == std::string::npos || sep == 0)
      throw InvalidArgument("invalid argument \"" + h + "\" for \"--add-host\" flag");
    std::string ip = h.substr(sep + 1);
    if (ip == "host-gateway") ip = st.find("bridge").gateway.str();
    extra.push_back({ip, {h.substr(0, sep)}});
  }

  if (primary.driver == "host") {
    sb.hosts = read_file_if_exists("/etc/hosts").value_or("");
    for (auto& e : extra) sb.hosts += e.ip + "\t" + e.names[0] + "\n";
    sb.resolv_conf = rin.dns.empty() && rin.search.empty() && rin.options.empty()
                         ? rin.host_resolv_conf
                         : resolv_conf(rin);
    return sb;
  }
  if (!primary.is_bridge()) {
    sb.hosts = hosts_file(extra, "", hostname, domainname);
    sb.resolv_conf = resolv_conf(rin);
    return sb;
  }

  // Links on the default bridge: the linked container's address under its name and alias.
  for (auto& link : string_list(c.host_config, "Links")) {
    auto sep = link.find(':');
    std::string target =
        link.substr(link[0] == '/' ? 1 : 0,
                    sep == std::string::npos ? std::string::npos : sep - (link[0] == '/'));
    std::string alias = sep == std::string::npos ? target : link.substr(sep + 1);
    alias = alias.substr(alias.rfind('/') == std::string::npos ? 0 : alias.rfind('/') + 1);
    std::string target_id, target_hostname;
    for (auto& [cid, names] : st.dns_names)
      if (names.name == target) {
        target_id = cid;
        target_hostname = names.hostname;
      }
    const Endpoint* te = nullptr;
    if (!target_id.empty()) {
      auto eps = st.endpoints.find(target_id);
      if (eps != st.endpoints.end()) {
        auto it = eps->second.find(primary.id);
        if (it != eps->second.end() && it->second.ip) te = &it->second;
      }
    }
    if (!te)
      throw InvalidArgument("Cannot link to a non running container: /" + target + " AS /" +
                            c.name + "/" + alias);
    // dockerd's line: the alias, the target's hostname, and its name when that differs.
    std::vector<std::string> names = {alias};
    names.push_back(target_hostname.empty() ? target_id.substr(0, 12) : target_hostname);
    if (alias != target) names.push_back(target);
    extra.insert(extra.begin(), {te->ip->str(), names});
  }

  auto saved = st.endpoints[c.id];
  auto& eps = st.endpoints[c.id];
  if (!eps.count(primary.id)) eps[primary.id] = endpoint_from(c, primary, json::object());
  std::vector<std::string> order = {primary.id};
  for (auto& [nid, e] : eps)
    if (nid != primary.id && st.networks.count(nid) && st.networks[nid].is_bridge())
      order.push_back(nid);

  for (auto& nid : order) {
    // Copies: the lock is let go while waiting.
    const Network n = st.networks.at(nid);
    const Endpoint e = eps[nid];
    st.await_drain(lk, n, e);
  }

  // A spare made ahead of time when there is one (the primary network's veth is in it).
  std::optional<SpareSandbox> spare = st.pool ? st.pool->take() : std::nullopt;
  std::string ns = spare ? spare->netns : path_join(st.netns_dir(), c.id);
  std::optional<Netlink> host_nl;  // opened when needed: a spare on the default bridge does not
  auto nl = [&]() -> Netlink& {
    if (!host_nl) host_nl.emplace();
    return *host_nl;
  };
  std::vector<std::string> veths;
  LiveSandbox l;
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::to_string(std::chrono::duration<double, std::milli>(b - a).count());
  };
  auto t0 = Clock::now(), t_ns = t0, t_veth = t0;
  try {
    if (!spare) {
      remove_netns(ns);
      create_netns(ns);
    }
    l.netns = ns;
    UniqueFd nsfd = open_netns(ns);
    t_ns = Clock::now();
    bool routed = false;
    for (size_t i = 0; i < order.size(); i++) {
      const Network& n = st.networks.at(order[i]);
      Endpoint& e = eps[n.id];
      VethSpec v = plan_veth(n, st.taken_addresses(n, c.id), e, nsfd.get(), i);
      if (!n.internal && !routed) {
        v.gateway = n.gateway;
        routed = true;
      }
      if (i == 0 && spare) {
        v.host_ifname = spare->veth;
        veths.push_back(v.host_ifname);
        if (n.bridge != st.pool->bridge() || n.mtu != st.pool->mtu())
          nl().attach_veth(v.host_ifname, n.bridge, n.mtu);
        spare->inside.configure_peer(spare->peer, v);
      } else {
        nl().add_veth(v);
        veths.push_back(v.host_ifname);
      }
      e.veth = v.host_ifname;
    }
    t_veth = Clock::now();
    if (!primary.internal) {
      for (auto b : requested_ports(c.config, c.host_config)) {
        l.reservations.push_back(reserve_port(b));
        l.ports.push_back(b);
      }
      l.port_network = primary.id;
    }
    bool has_ports = !l.ports.empty();
    st.live[c.id] = std::move(l);
    Transaction tx(st.db);
    for (auto& [nid, e] : eps) st.persist(e);
    st.persist_sandbox(c.id);
    tx.commit();
    if (has_ports) st.apply_firewall();
  } catch (...) {
    for (auto& v : veths) {
      try {
        nl().delete_link(v);
      } catch (const std::exception& e) {
        log::warn(e.what());
      }
    }
    remove_netns(ns);
    bool had_ports = st.live.count(c.id) && !st.live[c.id].ports.empty();
    st.live.erase(c.id);
    eps = saved;
    try {
      Transaction tx(st.db);
      for (auto& [nid, e] : eps) st.persist(e);
      st.persist_sandbox(c.id);
      tx.commit();
      if (had_ports) st.apply_firewall();
    } catch (const std::exception& e) {
      log::error("network setup rollback for " + c.id + ": " + e.what());
    }
    throw;
  }
  st.rebuild_dns();
  log::debug("network setup " + c.id.substr(0, 12) + ": netns " + ms(t0, t_ns) + " ms, veths " +
             ms(t_ns, t_veth) + " ms, ports, records and names " + ms(t_veth, Clock::now()) +
             " ms");
  sb.netns_path = ns;
  sb.hosts = hosts_file(extra, eps[primary.id].ip->str(), hostname, domainname);
  std::vector<const Network*> joined;
  for (auto& nid : order) joined.push_back(&st.networks.at(nid));
  sb.resolv_conf = resolv_conf(resolv_input(st.opts, c, joined));
  return sb;
}

void NetworkManager::teardown(const std::string& container_id) {
  s_->quiet.touch();
  std::lock_guard lk(s_->mu);
  s_->unplug(container_id);
  s_->rebuild_dns();
}

void NetworkManager::rename(const std::string& container_id, const std::string& name) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  auto names = st.dns_names.find(container_id);
  if (names == st.dns_names.end()) return;
  names->second.name = name;
  auto eps = st.endpoints.find(container_id);
  if (eps != st.endpoints.end()) {
    Transaction tx(st.db);
    for (auto& [nid, e] : eps->second) st.persist(e);
    tx.commit();
  }
  st.rebuild_dns();
}

void NetworkManager::forget(const std::string& container_id) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  st.unplug(container_id);
  st.endpoints.erase(container_id);
  st.dns_names.erase(container_id);
  Statement(st.db, "DELETE FROM network_endpoints WHERE container_id = ?")
      .bind(1, container_id)
      .run();
  st.rebuild_dns();
}

std::optional<std::string> NetworkManager::connect(const ContainerInfo& c,
                                                   const std::string& network_ref,
                                                   const json& endpoint_config, bool running) {
  std::unique_lock lk(s_->mu);
  auto& st = *s_;
  const Network n = st.find(network_ref);
  std::string mode = mode_network(c.host_config);
  if (n.driver == "host" || mode == "host")
    throw Forbidden(
        "container cannot be disconnected from host network or connected to host "
        "network");
  if (n.driver == "null" || mode == "none")
    throw Forbidden(
        "container cannot be connected to multiple networks with one of the networks "
        "in private (none) mode");
  if (shares_namespace(mode))
    throw Forbidden(
        "container sharing network namespace with another container or host cannot "
        "be connected to any other network");
  auto& eps = st.endpoints[c.id];
  if (eps.count(n.id))
    throw Forbidden("endpoint with name " + c.name + " already exists in network " + n.name);
  Endpoint e = endpoint_from(c, n, endpoint_config);
  if (running) {
    st.await_drain(lk, n, e);
    auto l = st.live.find(c.id);
    if (l == st.live.end())
      throw Conflict("container " + c.name + " has no network namespace of berth's to plug into");
    size_t index = 0;
    for (auto& [nid, other] : eps) index += other.ip ? 1 : 0;
    UniqueFd nsfd = open_netns(l->second.netns);
    VethSpec v = plan_veth(n, st.taken_addresses(n, c.id), e, nsfd.get(), index);
    Netlink().add_veth(v);
    e.veth = v.host_ifname;
  }
  try {
    st.persist(e);
  } catch (...) {
    if (!e.veth.empty()) Netlink().delete_link(e.veth);
    throw;
  }
  eps[n.id] = e;
  st.rebuild_dns();
  // The first user-defined network of a default-bridge container brings the embedded DNS.
  if (!running || mode_network(c.host_config) != "bridge" || n.name == "bridge" || !n.is_bridge())
    return std::nullopt;
  for (auto& [nid, other] : eps)
    if (nid != n.id && st.networks.count(nid) && st.networks.at(nid).is_bridge() &&
        st.networks.at(nid).name != "bridge")
      return std::nullopt;
  return resolv_conf(resolv_input(st.opts, c, {&n}));
}

void NetworkManager::disconnect(const ContainerInfo& c, const std::string& network_ref,
                                bool running) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  const Network n = st.find(network_ref);
  auto& eps = st.endpoints[c.id];
  auto it = eps.find(n.id);
  if (it == eps.end())
    throw Forbidden("container " + c.id + " is not connected to network " + n.name);
  if (n.driver == "host")
    throw Forbidden(
        "container cannot be disconnected from host network or connected to host "
        "network");
  if (running && it->second.ip && !it->second.veth.empty())
    st.reap({{it->second.veth}, "", nullptr}, {{n.id, *it->second.ip}});
  Statement(st.db, "DELETE FROM network_endpoints WHERE container_id = ? AND network_id = ?")
      .bind(1, c.id)
      .bind(2, n.id)
      .run();
  eps.erase(it);
  auto l = st.live.find(c.id);
  if (l != st.live.end() && l->second.port_network == n.id && !l->second.ports.empty())
    st.apply_firewall();
  st.rebuild_dns();
}

json NetworkManager::published_ports(const std::string& container_id) const {
  std::lock_guard lk(s_->mu);
  json out = json::object();
  auto it = s_->live.find(container_id);
  if (it == s_->live.end()) return out;
  for (auto& p : it->second.ports) {
    auto& list = out[std::to_string(p.container_port) + "/" + p.proto];
    if (!list.is_array()) list = json::array();
    list.push_back({{"HostIp", p.host_ip.str()}, {"HostPort", std::to_string(p.host_port)}});
  }
  return out;
}

}  // namespace berth::network
