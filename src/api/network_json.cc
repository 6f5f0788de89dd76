// Networks and containers' network settings in the Engine API's JSON shapes.
#include <algorithm>

#include "api/container_json.h"

namespace berth::api {

using nlohmann::json;

namespace {

json endpoint_settings(const network::Endpoint& e, const network::Network& n,
                       const engine::Container& c) {
  json ipam = nullptr;
  if (!e.requested_ip.empty()) ipam["IPv4Address"] = e.requested_ip;
  for (auto a : e.link_local_ips) ipam["LinkLocalIPs"].push_back(a.str());
  json aliases = nullptr;
  json dns_names = nullptr;
  if (n.is_bridge() && n.name != "bridge") {
    aliases = e.aliases;
    dns_names = json::array({c.name, c.id.substr(0, 12)});
    for (auto& a : e.aliases) dns_names.push_back(a);
  }
  bool up = e.ip.has_value();
  return {{"IPAMConfig", ipam},
          {"Links", e.links.empty() ? json(nullptr) : json(e.links)},
          {"Aliases", aliases},
          {"MacAddress", up ? e.mac : e.requested_mac},
          {"DriverOpts", e.driver_opts.empty() ? json(nullptr) : json(e.driver_opts)},
          {"NetworkID", n.id},
          {"EndpointID", up ? e.id : ""},
          {"Gateway", up ? n.gateway.str() : ""},
          {"IPAddress", up ? e.ip->str() : ""},
          {"IPPrefixLen", up ? n.subnet.len : 0},
          {"IPv6Gateway", ""},
          {"GlobalIPv6Address", ""},
          {"GlobalIPv6PrefixLen", 0},
          {"DNSNames", dns_names}};
}

}  // namespace

json container_network_settings(const engine::Container& c,
                                const engine::NetworkService& networks) {
  json nets = json::object();
  json top = json::object();
  for (const char* k :
       {"EndpointID", "Gateway", "IPAddress", "MacAddress", "IPv6Gateway", "GlobalIPv6Address"})
    top[k] = "";
  top["IPPrefixLen"] = 0;
  top["GlobalIPv6PrefixLen"] = 0;
  for (auto& e : networks.endpoints_of(c.id)) {
    network::Network n;
    try {
      n = networks.get(e.network_id);
    } catch (const std::exception&) {
      continue;
    }
    json s = endpoint_settings(e, n, c);
    // Before per-network settings, clients read the default bridge's from the top level.
    if (n.name == "bridge")
      for (auto& [k, v] : top.items()) v = s[k];
    nets[n.name] = std::move(s);
  }
  json ports = json::object();
  if (c.running()) {
    for (auto& key : engine::NetworkService::exposed_port_keys(c.config, c.host_config))
      ports[key] = nullptr;
    json published = networks.published_ports(c.id);
    for (auto& [key, list] : published.items()) ports[key] = list;
  }
  std::string netns = networks.netns_path(c.id);
  json out = {{"Bridge", ""},
              {"SandboxID", netns.empty() ? "" : c.id},
              {"SandboxKey", netns},
              {"HairpinMode", false},
              {"LinkLocalIPv6Address", ""},
              {"LinkLocalIPv6PrefixLen", 0},
              {"Ports", ports},
              {"SecondaryIPAddresses", nullptr},
              {"SecondaryIPv6Addresses", nullptr},
              {"Networks", nets}};
  out.update(top);
  return out;
}

json container_port_summary(const engine::Container& c, const engine::NetworkService& networks) {
  json out = json::array();
  if (!c.running()) return out;
  auto published = networks.published_ports(c.id);
  for (auto& key : engine::NetworkService::exposed_port_keys(c.config, c.host_config)) {
    auto slash = key.find('/');
    int port = std::stoi(key.substr(0, slash));
    std::string proto = key.substr(slash + 1);
    auto it = published.find(key);
    if (it == published.end()) {
      out.push_back({{"PrivatePort", port}, {"Type", proto}});
      continue;
    }
    for (auto& b : *it)
      out.push_back({{"IP", b["HostIp"]},
                     {"PrivatePort", port},
                     {"PublicPort", std::stoi(b["HostPort"].get<std::string>())},
                     {"Type", proto}});
  }
  return out;
}

json network_inspect(const network::Network& n, const std::vector<network::Endpoint>& endpoints,
                     const std::map<std::string, std::string>& names) {
  json config = json::array();
  if (n.is_bridge()) {
    json c = {{"Subnet", n.subnet.str()}, {"Gateway", n.gateway.str()}};
    if (n.ip_range) c["IPRange"] = n.ip_range->str();
    for (auto& [name, a] : n.aux_addresses) c["AuxiliaryAddresses"][name] = a.str();
    config.push_back(c);
  }
  json containers = json::object();
  for (auto& e : endpoints) {
    if (!e.ip && n.is_bridge()) continue;
    auto name = names.find(e.container_id);
    containers[e.container_id] = {
        {"Name", name == names.end() ? "" : name->second},
        {"EndpointID", e.id},
        {"MacAddress", e.mac},
        {"IPv4Address", e.ip ? e.ip->str() + "/" + std::to_string(n.subnet.len) : ""},
        {"IPv6Address", ""}};
  }
  return {{"Name", n.name},
          {"Id", n.id},
          {"Created", n.created},
          {"Scope", "local"},
          {"Driver", n.driver},
          {"EnableIPv6", false},
          {"IPAM", {{"Driver", "default"}, {"Options", json::object()}, {"Config", config}}},
          {"Internal", n.internal},
          {"Attachable", n.attachable},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", n.options},
          {"Labels", n.labels}};
}

}  // namespace berth::api
