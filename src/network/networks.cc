// Networks: the predefined ones, create, remove, and what they need from the kernel (a
// bridge, berth's firewall table, a DNS listener).
#include <random>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "network/ipam.h"
#include "network/manager_state.h"
#include "network/netlink.h"
#include "network/netns.h"

namespace berth::network {

using nlohmann::json;

namespace {

std::vector<std::string> upstreams_of(const NetworkOptions& o) {
  if (!o.dns.empty()) return o.dns;
  return nameservers_of(read_file_if_exists("/etc/resolv.conf").value_or(""));
}

// One daemon's rules never touch another's: the table is named after the default bridge.
std::string table_for(const std::string& bridge) {
  return bridge == "berth0" ? "berth" : "berth_" + bridge;
}

// What the first of `gateways` whose table in `tables` holds `key` maps it to: the asker's
// networks in turn, its own first, as Docker's resolver looks (an address or name none of
// them knows goes upstream).
template <class Table, class Key>
const typename Table::mapped_type* first_in_view(const std::vector<Ipv4>& gateways,
                                                 const std::map<Ipv4, Table>& tables,
                                                 const Key& key) {
  for (auto gw : gateways) {
    auto table = tables.find(gw);
    if (table == tables.end()) continue;
    auto it = table->second.find(key);
    if (it != table->second.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

std::string random_hex_id() {
  static thread_local std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; i++) {
    uint32_t v = rd();
    for (int k = 0; k < 4; k++) id.push_back(kHex[(v >> (k * 4)) & 0xf]);
  }
  return id;
}

NetworkManager::NetworkManager(NetworkOptions opts, Db& db)
    : s_(std::make_unique<State>(std::move(opts), db)) {
  db.exec(R"(
    CREATE TABLE IF NOT EXISTS networks(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                                        data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS network_endpoints(container_id TEXT NOT NULL,
        network_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY(container_id, network_id));
    CREATE TABLE IF NOT EXISTS sandboxes(container_id TEXT PRIMARY KEY, data TEXT NOT NULL);
  )");
  if (s_->opts.pools.empty()) s_->opts.pools = default_pools();
  Statement nets(db, "SELECT data FROM networks");
  while (nets.step()) {
    auto n = Network::from_json(json::parse(nets.text(0)));
    s_->networks[n.id] = n;
  }
  Statement eps(db, "SELECT data FROM network_endpoints");
  while (eps.step()) {
    auto j = json::parse(eps.text(0));
    auto e = Endpoint::from_json(j);
    s_->dns_names[e.container_id] = {j.value("container_name", ""), j.value("hostname", ""),
                                     j.value("dns", std::vector<std::string>{})};
    s_->endpoints[e.container_id][e.network_id] = std::move(e);
  }
  s_->mtu = s_->opts.mtu > 0 ? s_->opts.mtu : Netlink().uplink_mtu();
  s_->firewall = std::make_unique<Firewall>(table_for(s_->opts.default_bridge));
  s_->dns = std::make_unique<DnsServer>(
      [st = s_.get()](Ipv4 local, Ipv4 client, const std::string& name) {
        return st->dns_lookup(local, client, name);
      },
      [st = s_.get()](Ipv4 local, Ipv4 client, Ipv4 address) {
        return st->dns_reverse_lookup(local, client, address);
      },
      upstreams_of(s_->opts));
}

NetworkManager::~NetworkManager() = default;

const Network& NetworkManager::State::find(const std::string& ref) const {
  if (ref.empty()) throw NotFound("network not found: empty name");
  auto by_id = networks.find(ref);
  if (by_id != networks.end()) return by_id->second;
  for (auto& [id, n] : networks)
    if (n.name == ref) return n;
  const Network* match = nullptr;
  for (auto& [id, n] : networks)
    if (id.rfind(ref, 0) == 0) {
      if (match) throw NotFound("network " + ref + " is ambiguous");
      match = &n;
    }
  if (!match) throw NotFound("network " + ref + " not found");
  return *match;
}

void NetworkManager::State::persist(const Network& n) {
  Statement(db, "INSERT OR REPLACE INTO networks(id, name, data) VALUES(?,?,?)")
      .bind(1, n.id)
      .bind(2, n.name)
      .bind(3, n.to_json().dump())
      .run();
}

void NetworkManager::State::persist(const Endpoint& e) {
  json j = e.to_json();
  auto names = dns_names.find(e.container_id);
  if (names != dns_names.end()) {
    j["container_name"] = names->second.name;
    j["hostname"] = names->second.hostname;
    if (!names->second.upstreams.empty()) j["dns"] = names->second.upstreams;
  }
  Statement(db,
            "INSERT OR REPLACE INTO network_endpoints(container_id, network_id, data) "
            "VALUES(?,?,?)")
      .bind(1, e.container_id)
      .bind(2, e.network_id)
      .bind(3, j.dump())
      .run();
}

void NetworkManager::State::persist_sandbox(const std::string& container_id) {
  auto it = live.find(container_id);
  if (it == live.end()) {
    Statement(db, "DELETE FROM sandboxes WHERE container_id = ?").bind(1, container_id).run();
    return;
  }
  json list = json::array();
  for (auto& p : it->second.ports)
    list.push_back({{"proto", p.proto},
                    {"container_port", p.container_port},
                    {"host_ip", p.host_ip.str()},
                    {"host_port", p.host_port}});
  json j = {{"netns", it->second.netns}, {"network", it->second.port_network}, {"ports", list}};
  Statement(db, "INSERT OR REPLACE INTO sandboxes(container_id, data) VALUES(?,?)")
      .bind(1, container_id)
      .bind(2, j.dump())
      .run();
}

std::string NetworkManager::State::netns_dir() const {
  return path_join(opts.exec_root, "netns");
}

void NetworkManager::State::apply_firewall() {
  FirewallState fw;
  for (auto& [id, n] : networks)
    if (n.is_bridge()) fw.networks.push_back({n.bridge, n.subnet, n.internal, n.icc});
  for (auto& [cid, l] : live) {
    auto net = networks.find(l.port_network);
    if (net == networks.end()) continue;
    auto ep = endpoints[cid].find(l.port_network);
    if (ep == endpoints[cid].end() || !ep->second.ip) continue;
    for (auto& p : l.ports)
      fw.ports.push_back(
          {p.proto, p.host_ip, p.host_port, *ep->second.ip, p.container_port, net->second.bridge});
  }
  firewall->apply(fw);
}

// A link alias names whatever its target's name resolves to on that network, as in Docker.
void NetworkManager::State::add_link_aliases(DnsTables& t) const {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  for (auto& [cid, eps] : endpoints)
    for (auto& [nid, e] : eps) {
      auto net = networks.find(nid);
      if (!e.ip || e.links.empty() || net == networks.end() || !net->second.is_bridge() ||
          net->second.name == "bridge")
        continue;
      auto zone = t.zones.find(net->second.gateway);
      if (zone == t.zones.end()) continue;
      for (auto& link : e.links) {
        auto sep = link.find(':');
        std::string target = link.substr(0, sep);
        std::string alias = sep == std::string::npos ? target : link.substr(sep + 1);
        if (!target.empty() && target[0] == '/') target.erase(0, 1);
        if (auto slash = alias.rfind('/'); slash != std::string::npos) alias.erase(0, slash + 1);
        auto found = zone->second.find(lower(target));
        if (found != zone->second.end())
          t.link_aliases[{net->second.gateway, *e.ip}][lower(alias)] = found->second;
      }
    }
}

void NetworkManager::State::rebuild_dns() {
  DnsTables t;
  for (auto& [cid, eps] : endpoints) {
    auto names = dns_names.find(cid);
    std::vector<std::pair<Ipv4, Ipv4>> places;  // (gateway, address) on user networks
    for (auto& [nid, e] : eps) {
      auto net = networks.find(nid);
      if (!e.ip || net == networks.end() || !net->second.is_bridge() ||
          net->second.name == "bridge")
        continue;
      places.emplace_back(net->second.gateway, *e.ip);
      // Docker's PTR answer: the container's first DNS name, then the network's name.
      std::string first = names != dns_names.end() && !names->second.name.empty()
                              ? names->second.name
                          : e.aliases.empty() ? cid.substr(0, 12)
                                              : e.aliases.front();
      t.ptr_names[net->second.gateway][*e.ip] = first + "." + net->second.name;
      auto& zone = t.zones[net->second.gateway];
      std::set<std::string> keys(e.aliases.begin(), e.aliases.end());
      keys.insert(cid.substr(0, 12));
      if (names != dns_names.end()) {
        if (!names->second.name.empty()) keys.insert(names->second.name);
        if (!names->second.hostname.empty()) keys.insert(names->second.hostname);
      }
      for (auto k : keys) {
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        zone[k].push_back(*e.ip);
      }
    }
    for (auto& [gateway, address] : places) {
      if (names != dns_names.end() && !names->second.upstreams.empty())
        t.upstreams[address] = names->second.upstreams;
      auto& view = t.views[{gateway, address}];
      view.push_back(gateway);
      for (auto& [other, unused] : places)
        if (other != gateway) view.push_back(other);
    }
  }
  add_link_aliases(t);
  std::lock_guard lk(dns_mu);
  dns_tables = std::move(t);
}

DnsServer::Answer NetworkManager::State::dns_lookup(Ipv4 local, Ipv4 client,
                                                    const std::string& name) {
  std::lock_guard lk(dns_mu);
  DnsServer::Answer answer = dns_answer_for(local, client);
  if (answer.refused) return answer;
  std::string key = name;
  for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (auto own = dns_tables.link_aliases.find({local, client});
      own != dns_tables.link_aliases.end()) {
    if (auto it = own->second.find(key); it != own->second.end()) {
      answer.addresses = it->second;
      return answer;
    }
  }
  if (auto* found = first_in_view(dns_view(local, client), dns_tables.zones, name))
    answer.addresses = *found;
  return answer;
}

DnsServer::Answer NetworkManager::State::dns_reverse_lookup(Ipv4 local, Ipv4 client, Ipv4 address) {
  std::lock_guard lk(dns_mu);
  DnsServer::Answer answer = dns_answer_for(local, client);
  if (answer.refused) return answer;
  if (auto* found = first_in_view(dns_view(local, client), dns_tables.ptr_names, address))
    answer.ptr_name = *found;
  return answer;
}

DnsServer::Answer NetworkManager::State::dns_answer_for(Ipv4 local, Ipv4 client) const {
  DnsServer::Answer answer;
  // Every container on a user network has a view of the names from there; nobody else asks.
  answer.refused = dns_tables.views.count({local, client}) == 0;
  if (auto up = dns_tables.upstreams.find(client); up != dns_tables.upstreams.end())
    answer.upstreams = up->second;
  return answer;
}

std::vector<Ipv4> NetworkManager::State::dns_view(Ipv4 local, Ipv4 client) const {
  return dns_tables.views.at({local, client});
}

void NetworkManager::restore(const std::set<std::string>& running) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  mkdir_p(st.netns_dir(), 0711);
  auto predefined = [&](const std::string& name, const std::string& driver) -> Network& {
    for (auto& [id, n] : st.networks)
      if (n.name == name) return n;
    Network n;
    n.id = random_hex_id();
    n.name = name;
    n.driver = driver;
    n.created = now_rfc3339();
    return st.networks[n.id] = n;
  };
  predefined("host", "host");
  predefined("none", "null");
  Network& def = predefined("bridge", "bridge");
  if (def.bridge != st.opts.default_bridge || def.subnet.len == 32 || !st.opts.bip.empty()) {
    Ipv4Prefix subnet;
    Ipv4 gateway;
    if (!st.opts.bip.empty()) {
      auto bip = Ipv4Prefix::parse(st.opts.bip, "bip");
      subnet = bip.canonical();
      gateway = bip.addr == subnet.addr ? Ipv4{subnet.addr.value + 1} : bip.addr;
    } else if (def.subnet.len != 32 && def.bridge == st.opts.default_bridge) {
      subnet = def.subnet;
      gateway = def.gateway;
    } else {
      auto taken = Netlink().routes();
      for (auto& [id, n] : st.networks)
        if (n.is_bridge() && n.id != def.id) taken.push_back(n.subnet);
      subnet = pick_subnet(st.opts.pools, taken);
      gateway = Ipv4{subnet.addr.value + 1};
    }
    def.subnet = subnet;
    def.gateway = gateway;
    def.bridge = st.opts.default_bridge;
  }
  def.icc = st.opts.icc;
  def.mtu = st.mtu;
  def.options = {{"com.docker.network.bridge.default_bridge", "true"},
                 {kEnableIcc, def.icc ? "true" : "false"},
                 {"com.docker.network.bridge.enable_ip_masquerade", "true"},
                 {"com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"},
                 {kBridgeName, def.bridge},
                 {kMtu, std::to_string(def.mtu)}};
  Transaction tx(st.db);
  for (auto& [id, n] : st.networks) st.persist(n);

  Netlink nl;
  for (auto& [id, n] : st.networks) {
    if (!n.is_bridge()) continue;
    nl.ensure_bridge(n.bridge, {n.gateway, n.subnet.len}, n.mtu);
    if (n.name != "bridge") st.dns->listen(n.gateway);
  }
  // What survived berthd is kept; what died with it is cleaned up now.
  std::map<std::string, json> sandboxes;
  Statement sst(st.db, "SELECT container_id, data FROM sandboxes");
  while (sst.step()) sandboxes[sst.text(0)] = json::parse(sst.text(1));
  for (auto& [cid, eps] : st.endpoints) {
    bool alive = running.count(cid) > 0;
    bool plugged = false;
    for (auto& [nid, e] : eps) {
      if (!e.ip) continue;
      if (alive) {
        plugged = true;
        continue;
      }
      if (!e.veth.empty()) nl.delete_link(e.veth);
      e.ip.reset();
      e.mac.clear();
      e.veth.clear();
      st.persist(e);
    }
    auto p = sandboxes.find(cid);
    if (!alive) {
      // Its namespace goes with the sweep below.
      Statement(st.db, "DELETE FROM sandboxes WHERE container_id = ?").bind(1, cid).run();
      continue;
    }
    if (!plugged || p == sandboxes.end()) continue;
    LiveSandbox& l = st.live[cid];
    l.netns = p->second.value("netns", "");
    l.port_network = p->second.value("network", "");
    for (auto& b : p->second.value("ports", json::array())) {
      PortBinding pb{b.at("proto"), b.at("container_port"),
                     Ipv4::parse(b.at("host_ip").get<std::string>()), b.at("host_port")};
      try {
        l.reservations.push_back(reserve_port(pb));
      } catch (const std::exception& e) {
        log::warn("container " + cid +
                  ": published port kept without its reservation: " + e.what());
      }
      l.ports.push_back(pb);
    }
  }
  tx.commit();
  // Namespaces of containers that died with berthd, ones its reaper had not got to yet, and
  // the old pool's spares. (A running container's may be a former spare: the name stays.)
  std::set<std::string> kept;
  for (auto& [cid, l] : st.live) kept.insert(l.netns);
  for (auto& name : list_dir(st.netns_dir())) {
    std::string path = path_join(st.netns_dir(), name);
    if (!kept.count(path)) remove_netns(path);
  }
  st.apply_firewall();
  st.rebuild_dns();
  const Network& default_bridge = st.find("bridge");
  st.pool = std::make_unique<SandboxPool>(st.netns_dir(), 3, default_bridge.bridge,
                                          default_bridge.mtu, st.quiet);
}

Network NetworkManager::create(const json& req) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  auto [n, subnet_given] = decode_network_create(req, random_hex_id(), st.mtu);
  for (auto& [id, other] : st.networks)
    if (other.name == n.name) throw Conflict("network with name " + n.name + " already exists");
  for (auto& [id, other] : st.networks)
    if (other.is_bridge() && other.bridge == n.bridge)
      throw Conflict("bridge name " + n.bridge + " is already used by network " + other.name);
  n.created = now_rfc3339();
  std::vector<Ipv4Prefix> others;
  for (auto& [id, other] : st.networks)
    if (other.is_bridge()) others.push_back(other.subnet);
  if (subnet_given) {
    for (auto& o : others)
      if (o.overlaps(n.subnet))
        throw Forbidden("Pool overlaps with other one on this address space");
  } else {
    auto taken = Netlink().routes();
    taken.insert(taken.end(), others.begin(), others.end());
    n.subnet = pick_subnet(st.opts.pools, taken);
    n.gateway = Ipv4{n.subnet.addr.value + 1};
  }

  Netlink nl;
  n.own_bridge = false;  // until ensure_bridge says it made it: a failure keeps what it found
  try {
    n.own_bridge = nl.ensure_bridge(n.bridge, {n.gateway, n.subnet.len}, n.mtu);
    st.networks[n.id] = n;
    st.apply_firewall();
    st.dns->listen(n.gateway);
    st.persist(n);
  } catch (...) {
    st.networks.erase(n.id);
    st.dns->stop_listening(n.gateway);
    if (n.own_bridge) nl.delete_link(n.bridge);
    try {
      st.apply_firewall();
    } catch (const std::exception& e) {
      log::error("network create rollback: " + std::string(e.what()));
    }
    throw;
  }
  return n;
}

void NetworkManager::remove(const std::string& ref) {
  std::lock_guard lk(s_->mu);
  auto& st = *s_;
  Network n = st.find(ref);
  if (n.predefined()) throw Forbidden(n.name + " is a pre-defined network and cannot be removed");
  for (auto& [cid, eps] : st.endpoints) {
    auto e = eps.find(n.id);
    if (e != eps.end() && e->second.ip)
      throw Forbidden("error while removing network: network " + n.name + " id " + n.id +
                      " has active endpoints");
  }
  Transaction tx(st.db);
  Statement(st.db, "DELETE FROM networks WHERE id = ?").bind(1, n.id).run();
  Statement(st.db, "DELETE FROM network_endpoints WHERE network_id = ?").bind(1, n.id).run();
  tx.commit();
  for (auto& [cid, eps] : st.endpoints) eps.erase(n.id);
  st.networks.erase(n.id);
  st.dns->stop_listening(n.gateway);
  // A bridge the user made and named (-o com.docker.network.bridge.name) stays theirs.
  if (n.own_bridge) Netlink().delete_link(n.bridge);
  st.apply_firewall();
  st.rebuild_dns();
}

Network NetworkManager::get(const std::string& ref) const {
  std::lock_guard lk(s_->mu);
  return s_->find(ref);
}

std::vector<Network> NetworkManager::list() const {
  std::lock_guard lk(s_->mu);
  std::vector<Network> out;
  for (auto& [id, n] : s_->networks) out.push_back(n);
  return out;
}

std::vector<Endpoint> NetworkManager::endpoints(const std::string& network_id) const {
  std::lock_guard lk(s_->mu);
  std::vector<Endpoint> out;
  for (auto& [cid, eps] : s_->endpoints)
    for (auto& [nid, e] : eps)
      if (network_id.empty() || nid == network_id) out.push_back(e);
  return out;
}

std::vector<Endpoint> NetworkManager::endpoints_of(const std::string& container_id) const {
  std::lock_guard lk(s_->mu);
  std::vector<Endpoint> out;
  auto it = s_->endpoints.find(container_id);
  if (it != s_->endpoints.end())
    for (auto& [nid, e] : it->second) out.push_back(e);
  return out;
}

std::string NetworkManager::netns_path(const std::string& container_id) const {
  std::lock_guard lk(s_->mu);
  auto it = s_->live.find(container_id);
  return it == s_->live.end() ? "" : it->second.netns;
}

}  // namespace berth::network
